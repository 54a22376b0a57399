/* camera.c: one pipeline per camera, a watchdog on buffer arrival, teardown off the main loop
 * and rebuild with backoff. */
#include "camera.h"

#include <gst/app/gstappsink.h>
#include <string.h>

G_DEFINE_QUARK(camera-error-quark, camera_error)

#define TICK_MS 100
#define MAX_CAMERAS 64

typedef struct Camera Camera;

/* One pipeline of a camera; callbacks of an old pipeline see a stale generation and do
 * nothing. */
typedef struct {
    Camera *cam;
    guint gen;
} Run;

struct Camera {
    CameraSet *set;
    char *name, *uri, *filter;
    CameraConfig cfg; /* strings point at the fields above */
    gboolean live;
    GstElement *pipeline;
    GSource *bus_source;
    CameraState state;
    guint failures, restarts;
    gint64 started_us, retry_at_us;
    guint64 frames_at_start;
    GMutex lock; /* guards the fields below, written from streaming threads */
    guint gen;
    guint64 frames;
    gint64 last_frame_us;
};

struct CameraSet {
    GMainContext *context;
    CameraHealthFunc health;
    CameraFrameFunc frame;
    CameraSetupFunc setup;
    CameraMessageFunc message;
    gpointer user_data;
    GPtrArray *cameras; /* (element-type Camera) */
    GSource *tick;
    GThreadPool *reaper;
    GMutex reap_lock;
    GCond reap_cond;
    guint reaping;
};

const char *camera_state_name(CameraState s)
{
    switch (s) {
    case CAMERA_STATE_STOPPED:
        return "stopped";
    case CAMERA_STATE_STARTING:
        return "starting";
    case CAMERA_STATE_ONLINE:
        return "online";
    case CAMERA_STATE_BACKOFF:
        return "backoff";
    }
    return "?";
}

/* ---- URIs ---- */

static gboolean safe_text(const char *s)
{
    for (; *s; s++)
        if ((guchar)*s < 0x20 || *s == '"' || *s == '\\' || *s == 0x7f)
            return FALSE;
    return TRUE;
}

char *camera_source_description(const char *uri, GError **error)
{
    if (!uri || !*uri || strlen(uri) > 2048 || !safe_text(uri)) {
        g_set_error(error, CAMERA_ERROR, CAMERA_ERROR_URI,
                    "camera uri is empty, too long or has quotes/control characters");
        return NULL;
    }
    const char *scheme = g_uri_peek_scheme(uri);
    if (!scheme)
        goto bad;
    if (g_str_equal(scheme, "testsrc")) {
        const char *pattern = uri + strlen("testsrc://");
        if (!*pattern)
            pattern = "smpte";
        for (const char *p = pattern; *p; p++)
            if (!g_ascii_isalnum(*p) && *p != '-')
                goto bad;
        return g_strdup_printf("videotestsrc is-live=true pattern=%s ! capsfilter "
                               "caps=video/x-raw,width=640,height=360,framerate=25/1",
                               pattern);
    }
    if (g_str_equal(scheme, "v4l2")) {
        const char *dev = uri + strlen("v4l2://");
        if (!g_str_has_prefix(dev, "/dev/"))
            goto bad;
        return g_strdup_printf("v4l2src device=\"%s\" ! decodebin", dev);
    }
    if (g_str_equal(scheme, "rtsp") || g_str_equal(scheme, "rtsps") ||
        g_str_equal(scheme, "file") || g_str_equal(scheme, "http") ||
        g_str_equal(scheme, "https")) {
        g_autoptr(GUri) parsed = g_uri_parse(uri, G_URI_FLAGS_ENCODED, NULL);
        if (!parsed || (!g_str_equal(scheme, "file") && !g_uri_get_host(parsed)))
            goto bad;
        return g_strdup_printf("uridecodebin uri=\"%s\"", uri);
    }
bad:
    g_set_error(error, CAMERA_ERROR, CAMERA_ERROR_URI,
                "camera uri '%s' is not one of rtsp://HOST/..., file:///PATH, http(s)://HOST/..., "
                "v4l2:///dev/videoN, testsrc://PATTERN",
                uri);
    return NULL;
}

/* ---- pipelines ---- */

static gint64 now_us(void)
{
    return g_get_monotonic_time();
}

static void report(Camera *cam, CameraState state, const char *reason)
{
    cam->state = state;
    g_mutex_lock(&cam->lock);
    guint64 frames = cam->frames;
    g_mutex_unlock(&cam->lock);
    g_info("camera %s: %s (%s)", cam->name, camera_state_name(state), reason);
    if (cam->set->health) {
        CameraHealth h = {cam->name, state, reason, frames, cam->restarts};
        cam->set->health(&h, cam->set->user_data);
    }
}

static GstFlowReturn on_sample(GstAppSink *sink, gpointer data)
{
    Run *run = data;
    Camera *cam = run->cam;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (!sample)
        return GST_FLOW_EOS;
    g_mutex_lock(&cam->lock);
    gboolean current = run->gen == cam->gen;
    if (current) {
        cam->frames++;
        cam->last_frame_us = now_us();
    }
    g_mutex_unlock(&cam->lock);
    if (current && cam->set->frame)
        cam->set->frame(cam->name, sample, cam->set->user_data);
    gst_sample_unref(sample);
    return GST_FLOW_OK;
}

static void on_pad_added(GstElement *src, GstPad *pad, gpointer data)
{
    GstElement *sinkbin = data;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (!caps)
        caps = gst_pad_query_caps(pad, NULL);
    const char *media = gst_structure_get_name(gst_caps_get_structure(caps, 0));
    gboolean video = g_str_has_prefix(media, "video/x-raw");
    gst_caps_unref(caps);
    GstPad *sinkpad = gst_element_get_static_pad(sinkbin, "sink");
    GstElement *bin = GST_ELEMENT(gst_element_get_parent(src)); /* the source bin */
    if (video && !gst_pad_is_linked(sinkpad)) {
        GstPad *ghost = gst_ghost_pad_new(NULL, pad);
        gst_pad_set_active(ghost, TRUE);
        gst_element_add_pad(bin, ghost);
        gst_pad_link(ghost, sinkpad);
    } else { /* audio or a second video stream: swallow it */
        GstElement *fake = gst_element_factory_make("fakesink", NULL);
        g_object_set(fake, "sync", FALSE, "async", FALSE, NULL);
        gst_bin_add(GST_BIN(bin), fake);
        gst_element_sync_state_with_parent(fake);
        GstPad *fp = gst_element_get_static_pad(fake, "sink");
        gst_pad_link(pad, fp);
        gst_object_unref(fp);
    }
    gst_object_unref(bin);
    gst_object_unref(sinkpad);
}

static void on_source_setup(GstElement *uridecodebin, GstElement *source, gpointer data)
{
    Camera *cam = data;
    GObjectClass *klass = G_OBJECT_GET_CLASS(source);
    if (g_object_class_find_property(klass, "latency"))
        g_object_set(source, "latency", (guint)(cam->cfg.latency_ms), NULL);
    if (cam->cfg.rtsp_tcp && g_object_class_find_property(klass, "protocols"))
        g_object_set(source, "protocols", 4 /* GST_RTSP_LOWER_TRANS_TCP */, NULL);
    if (g_object_class_find_property(klass, "teardown-timeout"))
        g_object_set(source, "teardown-timeout", (guint64)100 * GST_MSECOND, NULL);
}

static char *sink_description(const Camera *cam)
{
    /* A file camera is paced here, at its frame rate, before any work is done on a frame (as
     * a live camera delivers it), not at the appsink: that would count the wait for a frame's
     * time as processing latency, and a late frame would hold up the next one. */
    GString *s = g_string_new(cam->live ? "" : "clocksync ! ");
    /* The decoder's format goes on to the filter (containerocr reads the luma plane of
     * I420/NV12 as it is, a scaler is cheapest before the conversion to BGRx): the conversion
     * to BGRx is done once, at the end, at the size the filter leaves (a wall tile). No scaler
     * unless a size is asked for: a scaler here would let a smaller size wanted downstream reach
     * the camera's full-size frames before the filter sees them. */
    g_string_append(s, "videoconvert");
    if (cam->cfg.width > 0 && cam->cfg.height > 0)
        g_string_append_printf(s, " ! videoscale ! video/x-raw,width=%d,height=%d",
                               cam->cfg.width, cam->cfg.height);
    if (cam->filter)
        g_string_append_printf(s, " ! %s", cam->filter);
    g_string_append(s, " ! videoconvert ! video/x-raw,format=BGRx ! appsink name=camsink");
    return g_string_free(s, FALSE);
}

static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer data);

static void run_free(gpointer p)
{
    g_free(p);
}

/* Builds the pipeline for @cam; returns NULL with @error. */
static GstElement *build(Camera *cam, guint gen, GError **error)
{
    g_autofree char *srcdesc = camera_source_description(cam->uri, error);
    if (!srcdesc)
        return NULL;
    g_autofree char *sinkdesc = sink_description(cam);
    GError *local = NULL;
    g_autofree char *pname = g_strdup_printf("camera-%s", cam->name);
    GstElement *pipeline = gst_pipeline_new(pname);
    GstElement *src = gst_parse_bin_from_description(srcdesc, FALSE, &local);
    GstElement *sinkbin = src ? gst_parse_bin_from_description(sinkdesc, TRUE, &local) : NULL;
    if (!sinkbin) {
        g_set_error(error, CAMERA_ERROR, CAMERA_ERROR_PIPELINE, "camera %s: %s", cam->name,
                    local ? local->message : "cannot build the pipeline");
        g_clear_error(&local);
        if (src)
            gst_object_unref(gst_object_ref_sink(src));
        gst_object_unref(pipeline);
        return NULL;
    }
    gst_bin_add_many(GST_BIN(pipeline), src, sinkbin, NULL);

    /* The last element of the source bin either has a static src pad (videotestsrc chain) or
     * exposes pads later (uridecodebin, decodebin). */
    GstElement *last = NULL;
    GstIterator *it = gst_bin_iterate_sorted(GST_BIN(src));
    GValue v = G_VALUE_INIT;
    if (gst_iterator_next(it, &v) == GST_ITERATOR_OK) { /* sorted: sinks first */
        last = g_value_dup_object(&v);
        g_value_reset(&v);
    }
    gst_iterator_free(it);
    GstPad *lastpad = last ? gst_element_get_static_pad(last, "src") : NULL;
    if (lastpad) {
        GstPad *ghost = gst_ghost_pad_new("src", lastpad);
        gst_element_add_pad(src, ghost);
        gst_element_link(src, sinkbin);
        gst_object_unref(lastpad);
    } else if (last) {
        g_signal_connect_object(last, "pad-added", G_CALLBACK(on_pad_added), sinkbin, 0);
        if (g_object_class_find_property(G_OBJECT_GET_CLASS(last), "uri"))
            g_signal_connect(last, "source-setup", G_CALLBACK(on_source_setup), cam);
    }
    if (last)
        gst_object_unref(last);

    GstElement *appsink = gst_bin_get_by_name(GST_BIN(sinkbin), "camsink");
    Run *run = g_new0(Run, 1);
    run->cam = cam;
    run->gen = gen;
    GstAppSinkCallbacks cbs = {.new_sample = on_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &cbs, run, run_free);
    g_object_set(appsink, "sync", FALSE, "max-buffers", 2, "drop", TRUE, NULL);
    gst_object_unref(appsink);

    Run *busrun = g_new0(Run, 1);
    busrun->cam = cam;
    busrun->gen = gen;
    GstBus *bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline));
    cam->bus_source = gst_bus_create_watch(bus);
    g_source_set_callback(cam->bus_source, (GSourceFunc)(void (*)(void))on_bus, busrun,
                          run_free);
    g_source_attach(cam->bus_source, cam->set->context);
    gst_object_unref(bus);
    return pipeline;
}

static void reap(gpointer data, gpointer user_data)
{
    CameraSet *set = user_data;
    GstElement *pipeline = data;
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    g_mutex_lock(&set->reap_lock);
    set->reaping--;
    g_cond_broadcast(&set->reap_cond);
    g_mutex_unlock(&set->reap_lock);
}

/* Hands the pipeline to the reaper: a frozen server can hold a teardown for seconds. */
static void teardown(Camera *cam)
{
    g_mutex_lock(&cam->lock);
    cam->gen++;
    g_mutex_unlock(&cam->lock);
    if (cam->bus_source) {
        g_source_destroy(cam->bus_source);
        g_source_unref(cam->bus_source);
        cam->bus_source = NULL;
    }
    if (cam->pipeline) {
        g_mutex_lock(&cam->set->reap_lock);
        cam->set->reaping++;
        g_mutex_unlock(&cam->set->reap_lock);
        g_thread_pool_push(cam->set->reaper, g_steal_pointer(&cam->pipeline), NULL);
    }
}

static void start_camera(Camera *cam)
{
    GError *error = NULL;
    g_mutex_lock(&cam->lock);
    guint gen = cam->gen;
    cam->frames_at_start = cam->frames;
    g_mutex_unlock(&cam->lock);
    cam->pipeline = build(cam, gen, &error);
    cam->started_us = now_us();
    if (cam->pipeline && cam->set->setup)
        cam->set->setup(cam->name, cam->pipeline, cam->set->user_data);
    if (!cam->pipeline ||
        gst_element_set_state(cam->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        g_autofree char *reason = g_strdup(error ? error->message : "pipeline would not start");
        g_clear_error(&error);
        teardown(cam);
        double delay = MIN(cam->cfg.backoff_max_s,
                           cam->cfg.backoff_min_s * (double)(1u << MIN(cam->failures, 16u)));
        cam->failures++;
        cam->retry_at_us = now_us() + (gint64)(delay * G_USEC_PER_SEC);
        report(cam, CAMERA_STATE_BACKOFF, reason);
        return;
    }
    report(cam, CAMERA_STATE_STARTING, cam->restarts ? "rebuilt" : "started");
}

static void fail(Camera *cam, const char *reason)
{
    teardown(cam);
    double delay = MIN(cam->cfg.backoff_max_s,
                       cam->cfg.backoff_min_s * (double)(1u << MIN(cam->failures, 16u)));
    cam->failures++;
    cam->retry_at_us = now_us() + (gint64)(delay * G_USEC_PER_SEC);
    g_autofree char *why = g_strdup_printf("%s; retry in %.1f s", reason, delay);
    report(cam, CAMERA_STATE_BACKOFF, why);
}

static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
    Run *run = data;
    Camera *cam = run->cam;
    if (run->gen != cam->gen || cam->state == CAMERA_STATE_STOPPED)
        return G_SOURCE_CONTINUE;
    switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR: {
        GError *err = NULL;
        gst_message_parse_error(msg, &err, NULL);
        g_autofree char *reason = g_strdup_printf("error: %s", err ? err->message : "?");
        g_clear_error(&err);
        fail(cam, reason);
        break;
    }
    case GST_MESSAGE_EOS:
        fail(cam, "end of stream");
        break;
    case GST_MESSAGE_ELEMENT:
        if (cam->set->message)
            cam->set->message(cam->name, msg, cam->set->user_data);
        break;
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_tick(gpointer data)
{
    CameraSet *set = data;
    gint64 now = now_us();
    for (guint i = 0; i < set->cameras->len; i++) {
        Camera *cam = g_ptr_array_index(set->cameras, i);
        g_mutex_lock(&cam->lock);
        guint64 frames = cam->frames;
        gint64 last = cam->last_frame_us;
        g_mutex_unlock(&cam->lock);
        gint64 watchdog = (gint64)(cam->cfg.watchdog_s * G_USEC_PER_SEC);
        switch (cam->state) {
        case CAMERA_STATE_STARTING:
            if (frames > cam->frames_at_start) {
                cam->failures = 0;
                report(cam, CAMERA_STATE_ONLINE, "first frame");
            } else if (now - cam->started_us > watchdog + 2 * G_USEC_PER_SEC) {
                g_autofree char *r =
                    g_strdup_printf("no first frame within %.1f s", cam->cfg.watchdog_s + 2);
                fail(cam, r);
            }
            break;
        case CAMERA_STATE_ONLINE:
            if (now - last > watchdog) {
                g_autofree char *r = g_strdup_printf("no frame for %.1f s", cam->cfg.watchdog_s);
                fail(cam, r);
            }
            break;
        case CAMERA_STATE_BACKOFF:
            if (now >= cam->retry_at_us) {
                cam->restarts++;
                start_camera(cam);
            }
            break;
        case CAMERA_STATE_STOPPED:
            break;
        }
    }
    return G_SOURCE_CONTINUE;
}

/* ---- the set ---- */

CameraSet *camera_set_new(GMainContext *context, CameraHealthFunc health, CameraFrameFunc frame,
                          gpointer user_data)
{
    CameraSet *set = g_new0(CameraSet, 1);
    set->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
    set->health = health;
    set->frame = frame;
    set->user_data = user_data;
    set->cameras = g_ptr_array_new();
    set->reaper = g_thread_pool_new(reap, set, MAX_CAMERAS, FALSE, NULL);
    g_mutex_init(&set->reap_lock);
    g_cond_init(&set->reap_cond);
    return set;
}

void camera_set_hooks(CameraSet *set, CameraSetupFunc setup, CameraMessageFunc message)
{
    set->setup = setup;
    set->message = message;
}

static Camera *find(CameraSet *set, const char *name)
{
    for (guint i = 0; i < set->cameras->len; i++) {
        Camera *cam = g_ptr_array_index(set->cameras, i);
        if (g_str_equal(cam->name, name))
            return cam;
    }
    return NULL;
}

gboolean camera_set_add(CameraSet *set, const CameraConfig *cfg, GError **error)
{
    if (!cfg->name || !*cfg->name || !safe_text(cfg->name) || find(set, cfg->name)) {
        g_set_error(error, CAMERA_ERROR, CAMERA_ERROR_CONFIG,
                    "camera name '%s' is empty, invalid or used twice",
                    cfg->name ? cfg->name : "");
        return FALSE;
    }
    if (set->cameras->len >= MAX_CAMERAS) {
        g_set_error(error, CAMERA_ERROR, CAMERA_ERROR_CONFIG, "at most %d cameras", MAX_CAMERAS);
        return FALSE;
    }
    g_autofree char *desc = camera_source_description(cfg->uri, error);
    if (!desc)
        return FALSE;
    if (cfg->filter) {
        GError *local = NULL;
        GstElement *probe = gst_parse_bin_from_description(cfg->filter, TRUE, &local);
        if (!probe) {
            g_set_error(error, CAMERA_ERROR, CAMERA_ERROR_PIPELINE, "camera %s: filter: %s",
                        cfg->name, local->message);
            g_error_free(local);
            return FALSE;
        }
        gst_object_unref(gst_object_ref_sink(probe));
    }
    Camera *cam = g_new0(Camera, 1);
    cam->set = set;
    cam->name = g_strdup(cfg->name);
    cam->uri = g_strdup(cfg->uri);
    cam->filter = g_strdup(cfg->filter);
    cam->cfg = *cfg;
    cam->cfg.name = cam->name;
    cam->cfg.uri = cam->uri;
    cam->cfg.filter = cam->filter;
    if (cam->cfg.watchdog_s <= 0)
        cam->cfg.watchdog_s = 3.0;
    if (cam->cfg.backoff_min_s <= 0)
        cam->cfg.backoff_min_s = 0.5;
    if (cam->cfg.backoff_max_s <= 0)
        cam->cfg.backoff_max_s = 3.0;
    cam->cfg.backoff_max_s = MAX(cam->cfg.backoff_max_s, cam->cfg.backoff_min_s);
    if (cam->cfg.latency_ms <= 0)
        cam->cfg.latency_ms = 200;
    const char *scheme = g_uri_peek_scheme(cfg->uri);
    cam->live = !(g_str_equal(scheme, "file") || g_str_has_prefix(scheme, "http"));
    cam->state = CAMERA_STATE_STOPPED;
    g_mutex_init(&cam->lock);
    g_ptr_array_add(set->cameras, cam);
    if (set->tick)
        start_camera(cam);
    return TRUE;
}

void camera_set_start(CameraSet *set)
{
    if (set->tick)
        return;
    for (guint i = 0; i < set->cameras->len; i++)
        start_camera(g_ptr_array_index(set->cameras, i));
    set->tick = g_timeout_source_new(TICK_MS);
    g_source_set_callback(set->tick, on_tick, set, NULL);
    g_source_attach(set->tick, set->context);
}

void camera_set_stop(CameraSet *set)
{
    if (set->tick) {
        g_source_destroy(set->tick);
        g_source_unref(set->tick);
        set->tick = NULL;
    }
    for (guint i = 0; i < set->cameras->len; i++) {
        Camera *cam = g_ptr_array_index(set->cameras, i);
        if (cam->state == CAMERA_STATE_STOPPED)
            continue;
        teardown(cam);
        report(cam, CAMERA_STATE_STOPPED, "stopped");
    }
    g_mutex_lock(&set->reap_lock);
    while (set->reaping > 0)
        g_cond_wait(&set->reap_cond, &set->reap_lock);
    g_mutex_unlock(&set->reap_lock);
}

void camera_set_free(CameraSet *set)
{
    if (!set)
        return;
    camera_set_stop(set);
    g_thread_pool_free(set->reaper, FALSE, TRUE);
    for (guint i = 0; i < set->cameras->len; i++) {
        Camera *cam = g_ptr_array_index(set->cameras, i);
        g_mutex_clear(&cam->lock);
        g_free(cam->name);
        g_free(cam->uri);
        g_free(cam->filter);
        g_free(cam);
    }
    g_ptr_array_unref(set->cameras);
    g_mutex_clear(&set->reap_lock);
    g_cond_clear(&set->reap_cond);
    g_main_context_unref(set->context);
    g_free(set);
}

guint64 camera_set_frames(CameraSet *set, const char *name)
{
    Camera *cam = find(set, name);
    if (!cam)
        return 0;
    g_mutex_lock(&cam->lock);
    guint64 n = cam->frames;
    g_mutex_unlock(&cam->lock);
    return n;
}

CameraState camera_set_state(CameraSet *set, const char *name)
{
    Camera *cam = find(set, name);
    return cam ? cam->state : CAMERA_STATE_STOPPED;
}

guint camera_set_restarts(CameraSet *set, const char *name)
{
    Camera *cam = find(set, name);
    return cam ? cam->restarts : 0;
}
