/* camera.h: camera sources that never give up.
 *
 * Each camera runs in its own GStreamer pipeline: source (uridecodebin for rtsp://, file://,
 * http://; v4l2src for v4l2:///dev/videoN; videotestsrc for testsrc://PATTERN), decode, an
 * optional filter fragment that gets the decoder's own format (e.g. "containerocr camera=gate-1
 * ! videoscale ! video/x-raw,width=960,height=540 ! videoconvert ! portoverlay"), a conversion
 * to BGRx and an appsink that hands frames to the application. File cameras are paced at their
 * frame rate right after the decoder (clocksync), so that frames enter the chain when they are
 * due, as a live camera's do. A watchdog checks buffer arrival: a camera with
 * no frame for the watchdog time (or no first frame within watchdog + 2 s of starting) is torn
 * down in a background thread (a frozen RTSP server can block a teardown) and rebuilt after an
 * exponential backoff. Errors and end-of-stream are handled the same way. No camera's trouble
 * touches another camera's pipeline.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define CAMERA_ERROR (camera_error_quark())
GQuark camera_error_quark(void);

typedef enum {
    CAMERA_ERROR_URI,       /* an unsupported or malformed camera URI */
    CAMERA_ERROR_CONFIG,    /* a bad setting, a duplicate name */
    CAMERA_ERROR_PIPELINE,  /* the pipeline (or the filter fragment) could not be built */
} CameraError;

typedef enum {
    CAMERA_STATE_STOPPED,
    CAMERA_STATE_STARTING, /* pipeline built, waiting for the first frame */
    CAMERA_STATE_ONLINE,   /* frames arrive */
    CAMERA_STATE_BACKOFF,  /* torn down after a failure, waiting to rebuild */
} CameraState;

const char *camera_state_name(CameraState state);

typedef struct {
    const char *name;        /* unique in its set: "gate-1" */
    const char *uri;         /* rtsp://, file://, http(s)://, v4l2:///dev/video0, testsrc://ball */
    double watchdog_s;       /* no frame for this long: rebuild (0: 3 s) */
    double backoff_min_s;    /* first retry delay (0: 0.5 s), doubling up to */
    double backoff_max_s;    /* (0: 3 s) */
    int width, height;       /* scale to this size (0: keep the camera's) */
    int latency_ms;          /* rtspsrc jitter buffer (0: 200 ms) */
    gboolean rtsp_tcp;       /* RTP over the RTSP TCP connection */
    const char *filter;      /* gst-launch fragment between decode and the conversion to
                                BGRx, or NULL; it gets the decoder's format (I420, NV12...) */
} CameraConfig;

/* What a health callback is told; strings valid during the call. */
typedef struct {
    const char *camera;
    CameraState state;
    const char *reason;   /* why it changed: "first frame", "no frame for 3.0 s", an error */
    guint64 frames;       /* frames delivered since the set started (all pipelines) */
    guint restarts;       /* pipelines rebuilt so far */
} CameraHealth;

/* Called in the set's main context on every state change. */
typedef void (*CameraHealthFunc)(const CameraHealth *health, gpointer user_data);
/* Called on the camera's streaming thread for every frame (BGRx); must not block. */
typedef void (*CameraFrameFunc)(const char *camera, GstSample *sample, gpointer user_data);

/* Called in the set's main context each time a camera's pipeline is built, before it starts:
 * the place to hand elements of the filter fragment what they need (a scene, a camera model). */
typedef void (*CameraSetupFunc)(const char *camera, GstElement *pipeline, gpointer user_data);
/* Called in the set's main context for every element message of a camera's pipeline (e.g.
 * containerocr-confirmed). */
typedef void (*CameraMessageFunc)(const char *camera, GstMessage *message, gpointer user_data);

typedef struct CameraSet CameraSet;

/* The set's timers and bus watches run in @context (NULL: the default main context). Either
 * callback may be NULL. Needs gst_init() first. */
CameraSet *camera_set_new(GMainContext *context, CameraHealthFunc health, CameraFrameFunc frame,
                          gpointer user_data);

/* Sets the optional hooks (before camera_set_start()); both may be NULL. */
void camera_set_hooks(CameraSet *set, CameraSetupFunc setup, CameraMessageFunc message);

/* Adds a camera (copied). Checks the URI and the filter fragment now. Cameras start with
 * camera_set_start() (or at once when the set is already started). */
gboolean camera_set_add(CameraSet *set, const CameraConfig *config, GError **error);

void camera_set_start(CameraSet *set);
/* Stops every pipeline and waits for the teardowns. */
void camera_set_stop(CameraSet *set);
void camera_set_free(CameraSet *set); /* stops first; accepts NULL */

/* Counters and state of one camera (0 / STOPPED when the name is unknown). Thread-safe. */
guint64 camera_set_frames(CameraSet *set, const char *name);
CameraState camera_set_state(CameraSet *set, const char *name);
guint camera_set_restarts(CameraSet *set, const char *name);

/* The source part of a pipeline for @uri, as a gst-launch description (for tests and for
 * `portsight` to explain a config); NULL with @error when the URI is not supported. */
char *camera_source_description(const char *uri, GError **error);

G_END_DECLS
