/* mp4frames.c: the frames of a recorded wall (see mp4frames.h). */
#include "mp4frames.h"

#include <check.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

guint mp4_foreach_frame(const char *mp4, Mp4FrameFunc func, gpointer data)
{
    g_autofree char *desc = g_strdup_printf(
        "filesrc location=\"%s\" ! qtdemux ! h264parse ! avdec_h264 ! videoconvert ! "
        "video/x-raw,format=I420 ! appsink name=s sync=false",
        mp4);
    GstElement *p = gst_parse_launch(desc, NULL);
    ck_assert_ptr_nonnull(p);
    GstElement *s = gst_bin_get_by_name(GST_BIN(p), "s");
    gst_element_set_state(p, GST_STATE_PLAYING);
    guint frames = 0;
    for (GstSample *sm; (sm = gst_app_sink_try_pull_sample(GST_APP_SINK(s), 10 * GST_SECOND));) {
        frames++;
        GstVideoInfo vi;
        ck_assert(gst_video_info_from_caps(&vi, gst_sample_get_caps(sm)));
        GstVideoFrame f;
        ck_assert(gst_video_frame_map(&f, &vi, gst_sample_get_buffer(sm), GST_MAP_READ));
        Mp4Frame frame = {vi.width,
                          vi.height,
                          GST_VIDEO_FRAME_PLANE_DATA(&f, 0),
                          GST_VIDEO_FRAME_PLANE_DATA(&f, 1),
                          GST_VIDEO_FRAME_PLANE_DATA(&f, 2),
                          GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0),
                          GST_VIDEO_FRAME_PLANE_STRIDE(&f, 1)};
        func(&frame, data);
        gst_video_frame_unmap(&f);
        gst_sample_unref(sm);
    }
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(s);
    gst_object_unref(p);
    return frames;
}
