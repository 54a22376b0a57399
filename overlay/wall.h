/* wall.h: the video wall. Annotated camera frames (pushed from the camera pipelines) are composed
 * into one picture in a layout preset, encoded once (H.264) and sent to the configured outputs:
 * an RTSP server (gst-rtsp-server; each camera's annotated stream can also be served alone),
 * SRT (MPEG-TS), HLS and an MP4 file. The wall runs in its own pipeline: a camera that stops
 * leaves its tile as it was (its last frame) until the application says it is down
 * (wall_no_signal()).
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define WALL_ERROR (wall_error_quark())
GQuark wall_error_quark(void);

typedef enum {
    WALL_ERROR_CONFIG,   /* bad layout, size or output */
    WALL_ERROR_PIPELINE, /* the pipeline could not be built or started */
} WallError;

typedef enum {
    WALL_LAYOUT_2X2,
    WALL_LAYOUT_3X3,
    WALL_LAYOUT_1_PLUS_5, /* one large tile (2/3 x 2/3) and five small ones around it */
} WallLayout;

/* Parses "2x2", "3x3", "1+5". */
gboolean wall_layout_parse(const char *text, WallLayout *out, GError **error);
/* How many tiles a layout has. */
guint wall_layout_tiles(WallLayout layout);
/* Tile @index of a @width x @height wall: x, y, w, h. FALSE when @index is out of range. */
gboolean wall_layout_tile(WallLayout layout, int width, int height, guint index, int rect[4]);

typedef struct {
    WallLayout layout;
    int width, height;    /* of the composed wall; even */
    int fps;              /* output frame rate */
    int bitrate_kbps;     /* x264 */
    int rtsp_port;        /* 0: no RTSP server */
    const char *rtsp_path; /* "/wall" */
    gboolean rtsp_per_camera; /* also /cam/NAME for each camera's annotated stream alone */
    const char *srt_uri;  /* "srt://:7001" or NULL */
    const char *hls_dir;  /* folder for segments and wall.m3u8, or NULL */
    const char *record;   /* MP4 file, or NULL; a previous recording there is kept aside */
    guint record_keep;    /* previous recordings kept (wall_record_keep); 0: 10 */
    /* Segments: with a cap (either), the recording is cut at a key frame past @record_segment_s
     * seconds or @record_segment_bytes bytes into files STEM-YYYYMMDDTHHMMSSZ.EXT beside
     * @record (the time each starts, UTC), of which the newest @record_keep stay; 0 and 0: one
     * file at @record. */
    guint record_segment_s;
    guint64 record_segment_bytes;
    gboolean encode_zerolatency; /* x264 tune=zerolatency (live) */
} WallConfig;

void wall_config_init(WallConfig *config); /* 2x2, 1920x1080, 25 fps, 4000 kb/s, no outputs */

typedef struct PsWall PsWall;

/* A wall for @cameras (NULL-terminated names, in tile order; cameras beyond the layout's tiles
 * are not shown but can still be served alone). */
PsWall *wall_new(const WallConfig *config, const char *const *cameras, GError **error);

/* Before a recording to @path starts: a previous recording there (a restart) is renamed to
 * STEM-YYYYMMDDTHHMMSSZ.EXT (its modification time, UTC; -2, -3... on a clash) instead of being
 * overwritten, and of those renamed ones only the newest @keep stay. FALSE with @error when the
 * rename fails (the recording must then not start). */
gboolean wall_record_keep(const char *path, guint keep, GError **error);

/* The name of a new segment of the recording @path starting at @t (seconds since the epoch):
 * STEM-YYYYMMDDTHHMMSSZ.EXT, or -2, -3... when that exists; before it is returned, the oldest
 * segments beyond @keep - 1 are removed so that with it @keep remain (0: 10). */
char *wall_record_segment_name(const char *path, gint64 t, guint keep);

/* Starts the pipeline (and the RTSP server in the thread-default main context). A previous
 * recording at the record path is kept aside first (wall_record_keep). */
gboolean wall_start(PsWall *wall, GError **error);

/* Hands a camera's annotated frame to the wall (any thread; never blocks: a tile that is
 * behind drops frames). Unknown cameras are ignored. */
void wall_push(PsWall *wall, const char *camera, GstSample *sample);

/* Shows "NO SIGNAL" on @camera's tile (and its own stream) until its next frame: for a camera
 * that is down, instead of its last frame frozen. @title and @reason may be NULL. Call from one
 * thread at a time (the camera health callback's). Unknown cameras are ignored. */
void wall_no_signal(PsWall *wall, const char *camera, const char *title, const char *reason);

/* Sends end-of-stream and waits up to @timeout_s for the outputs to finish (the MP4 index is
 * written), then stops. */
void wall_stop(PsWall *wall, double timeout_s);
void wall_free(PsWall *wall); /* stops first; accepts NULL */

/* Frames the wall has encoded so far. */
guint64 wall_frames_out(PsWall *wall);

/* The encoded wall (H.264 byte-stream, one access unit per sample, SPS/PPS before each key
 * frame) for in-process viewers: @func is called on the wall's streaming thread for every
 * sample while set (NULL stops it); it must not block and must not call back into the wall
 * except wall_request_keyframe(). */
typedef void (*WallEncodedFunc)(GstSample *sample, gpointer user_data);
void wall_set_encoded_func(PsWall *wall, WallEncodedFunc func, gpointer user_data);
/* Asks the encoder for a key frame now (a new viewer starts without waiting a whole GOP). */
void wall_request_keyframe(PsWall *wall);

/* Every camera's annotated frame as the wall receives it (wall_push(), the NO SIGNAL frames
 * too), for in-process viewers of one camera's own stream: @func is called on the pushing
 * thread for every frame while set (NULL stops it); it must not block and must not call back
 * into the wall. */
typedef void (*WallFrameFunc)(const char *camera, GstSample *sample, gpointer user_data);
void wall_set_frame_func(PsWall *wall, WallFrameFunc func, gpointer user_data);

/* All the wall's cameras (shown on a tile or not), in order: how many, and each name (NULL when
 * out of range). */
guint wall_camera_count(PsWall *wall);
const char *wall_camera(PsWall *wall, guint index);

/* The configuration the wall runs with (borrowed). */
const WallConfig *wall_config(PsWall *wall);
/* Tiles shown and the camera on each (NULL when out of range). */
guint wall_tile_count(PsWall *wall);
const char *wall_tile_camera(PsWall *wall, guint index);
/* The camera whose tile holds wall pixel (@x, @y), and the point in that camera's overlay
 * pixels (its frame is scaled to the tile); NULL when no tile is there. */
const char *wall_locate(PsWall *wall, double x, double y, double *cam_x, double *cam_y);

/* The wall's pipeline (for tests and tracers; borrowed). */
GstElement *wall_pipeline(PsWall *wall);

G_END_DECLS
