/* mp4frames.h: the frames of a recorded wall, for tests that look at what was drawn. */
#pragma once

#include <gst/gst.h>

/* One decoded frame, I420: luma @y (@y_stride bytes a row) and chroma @u, @v (@c_stride bytes a
 * row, half the width and height), valid during the callback. */
typedef struct {
    int width, height;
    const guint8 *y, *u, *v;
    int y_stride, c_stride;
} Mp4Frame;

/* Called with each frame of the recording, in order. */
typedef void (*Mp4FrameFunc)(const Mp4Frame *frame, gpointer data);

/* Decodes the H.264 MP4 @mp4 to I420 and calls @func for each frame; returns how many frames
 * were decoded (it stops at the end, or after 10 s without a frame). */
guint mp4_foreach_frame(const char *mp4, Mp4FrameFunc func, gpointer data);
