/* video.c: cameras -> containerocr -> portoverlay -> wall, wired from the configuration. */
#include "video.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "psgst.h"
#include "topics.h"
#include "video-private.h"
#include "wall.h"

static void cam_free(gpointer p)
{
    VideoCam *c = p;
    g_free(c->name);
    g_free(c->uri);
    g_free(c->title);
    overlay_camera_free(c->model);
    g_free(c);
}

VideoCam *app_video__find_cam(AppVideo *v, const char *name)
{
    for (guint i = 0; i < v->cams->len; i++) {
        VideoCam *c = g_ptr_array_index(v->cams, i);
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

static void emit(AppVideo *v, const char *topic, const char *id, const char *payload)
{
    if (v->events)
        v->events(topic, id, payload, v->user_data);
}

/* ---- camera callbacks ---- */

static void on_health(const CameraHealth *h, gpointer data)
{
    AppVideo *v = data;
    VideoCam *hc = app_video__find_cam(v, h->camera);
    if (hc)
        hc->state = camera_state_name(h->state);
    /* A camera that is down shows NO SIGNAL (with why) on its tile until its next frame. */
    if (v->wall && h->state == CAMERA_STATE_BACKOFF) {
        VideoCam *c = app_video__find_cam(v, h->camera);
        wall_no_signal(v->wall, h->camera, c ? c->title : NULL, h->reason);
    }
    /* Published (and journaled) on change only: online, offline with the reason, back online.
     * A camera that keeps failing, or a file camera that loops, says nothing new. */
    int now = h->state == CAMERA_STATE_ONLINE ? 1 : h->state == CAMERA_STATE_STARTING ? -1 : 0;
    if (now < 0 || (hc && hc->published == now))
        return;
    if (hc)
        hc->published = now;
    g_autofree char *ts = topics_now();
    g_autofree char *topic = topics_camera_status(v->root, h->camera);
    g_autofree char *id = g_strdup_printf("status-%s-%" G_GINT64_FORMAT, h->camera,
                                          g_get_real_time());
    TopicsCameraStatus st = {id,        ts,        h->camera, now ? "online" : "offline",
                             h->reason, h->frames, h->restarts};
    g_autofree char *payload = topics_camera_status_payload(&st);
    emit(v, topic, id, payload);
}

static void on_frame(const char *camera, GstSample *sample, gpointer data)
{
    AppVideo *v = data;
    if (v->wall)
        wall_push(v->wall, camera, sample);
}

static void on_setup(const char *camera, GstElement *pipeline, gpointer data)
{
    AppVideo *v = data;
    VideoCam *c = app_video__find_cam(v, camera);
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(pipeline));
    GValue val = G_VALUE_INIT;
    while (gst_iterator_next(it, &val) == GST_ITERATOR_OK) {
        GstElement *e = g_value_get_object(&val);
        GstElementFactory *f = gst_element_get_factory(e);
        if (f && strcmp(GST_OBJECT_NAME(f), "portoverlay") == 0)
            g_object_set(e, "scene", v->scene, "camera-model", c ? c->model : NULL, NULL);
        g_value_reset(&val);
    }
    gst_iterator_free(it);
}

static void on_message(const char *camera, GstMessage *msg, gpointer data)
{
    AppVideo *v = data;
    const GstStructure *s = gst_message_get_structure(msg);
    if (!s || !gst_structure_has_name(s, "containerocr-confirmed"))
        return;
    const char *code = gst_structure_get_string(s, "container");
    const char *st = gst_structure_get_string(s, "size-type");
    double conf = 0;
    int x = 0, y = 0, w = 0, h = 0;
    gst_structure_get_double(s, "confidence", &conf);
    gst_structure_get_int(s, "x", &x);
    gst_structure_get_int(s, "y", &y);
    gst_structure_get_int(s, "width", &w);
    gst_structure_get_int(s, "height", &h);
    if (!code)
        return;
    g_autofree char *ts = topics_now();
    g_autofree char *topic = topics_ocr(v->root, camera);
    g_autofree char *id = g_strdup_printf("ocr-%s-%s-%" G_GINT64_FORMAT, camera, code,
                                          g_get_real_time() / 1000);
    TopicsOcrRead read = {id, ts, camera, code, st, conf, {x, y, w, h}};
    g_autofree char *payload = topics_ocr_payload(&read);
    emit(v, topic, id, payload);
}

/* ---- configuration ---- */

AppVideo *app_video_new(AppConfig *config, AppVideoEventFunc events, gpointer user_data,
                        GError **error)
{
    AppVideo *v = g_new0(AppVideo, 1);
    v->config = config;
    v->events = events;
    v->user_data = user_data;
    v->scene = overlay_scene_new(1500 * 1000);
    v->cams = g_ptr_array_new_with_free_func(cam_free);
    v->ptz = ptz_set_new();
    v->root = topics_root(app_config_string(config, "mqtt", "topic_root"));
    g_auto(GStrv) groups = app_config_instances(config, "camera");
    g_auto(GStrv) order = NULL;
    /* A wall node's tiles may be other nodes' cameras, added when they announce themselves. */
    gboolean remote = g_strcmp0(app_config_string(config, "engine", "role"), "wall") == 0;
    if (!groups[0] && !remote)
        return v; /* nothing to do */
    if (!gst_init_check(NULL, NULL, error))
        goto fail;
    psgst_register_static();

    WallConfig wc;
    wall_config_init(&wc);
    gboolean with_wall = app_config_has_group(config, "wall");
    if (with_wall) {
        if (!wall_layout_parse(app_config_string(config, "wall", "layout"), &wc.layout, error))
            goto fail;
        wc.width = (int)app_config_int(config, "wall", "width");
        wc.height = (int)app_config_int(config, "wall", "height");
        wc.fps = (int)app_config_int(config, "wall", "fps");
        wc.bitrate_kbps = (int)app_config_int(config, "wall", "bitrate_kbps");
        wc.rtsp_port = (int)app_config_int(config, "wall", "rtsp_port");
        wc.rtsp_path = app_config_string(config, "wall", "rtsp_path");
        wc.rtsp_per_camera = app_config_bool(config, "wall", "rtsp_per_camera");
        wc.srt_uri = app_config_string(config, "wall", "srt");
        wc.hls_dir = app_config_string(config, "wall", "hls_dir");
        wc.record = app_config_string(config, "wall", "record");
        wc.record_keep = (guint)app_config_int(config, "wall", "record_keep");
        wc.record_segment_s = (guint)app_config_int(config, "wall", "record_segment");
        wc.record_segment_bytes =
            (guint64)app_config_int(config, "wall", "record_segment_mb") * 1024 * 1024;
    }
    /* Tile order: [wall] cameras, else the order of the file. */
    const char *listed = with_wall ? app_config_string(config, "wall", "cameras") : NULL;
    if (listed) {
        order = g_strsplit(listed, ",", -1);
        for (char **o = order; *o; o++) {
            g_strstrip(*o);
            g_autofree char *group = g_strdup_printf("camera %s", *o);
            if (!app_config_has_group(config, group) && !remote) {
                g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                            "[wall] cameras: no [camera %s] group", *o);
                goto fail;
            }
        }
    } else {
        order = g_new0(char *, g_strv_length(groups) + 1);
        for (guint i = 0; groups[i]; i++)
            order[i] = g_strdup(groups[i] + strlen("camera "));
    }

    v->cameras = camera_set_new(NULL, on_health, on_frame, v);
    camera_set_hooks(v->cameras, on_setup, on_message);
    for (guint i = 0; groups[i]; i++) {
        /* The size portoverlay draws at: the tile's, or 1280x720 off the wall. */
        int draw[4] = {0, 0, 1280, 720};
        for (guint k = 0; with_wall && order[k]; k++)
            if (strcmp(order[k], groups[i] + strlen("camera ")) == 0)
                wall_layout_tile(wc.layout, wc.width, wc.height, k, draw);
        if (!app_video__add_camera(v, groups[i], draw, error))
            goto fail;
    }
    if (with_wall) {
        v->layout = wc.layout;
        v->wall_size[0] = wc.width;
        v->wall_size[1] = wc.height;
        v->order = g_strdupv(order);
        v->wall = wall_new(&wc, (const char *const *)order, error);
        if (!v->wall) {
            g_prefix_error(error, "[wall] ");
            goto fail;
        }
    }
    return v;

fail:
    app_video_free(v);
    return NULL;
}

gboolean app_video_start(AppVideo *v, GError **error)
{
    if (v->wall && !wall_start(v->wall, error)) {
        g_autofree char *where = app_config_where(v->config, "wall", NULL);
        g_prefix_error(error, "%s: ", where);
        return FALSE;
    }
    if (v->cameras)
        camera_set_start(v->cameras);
    return TRUE;
}

void app_video_stop(AppVideo *v)
{
    if (v->cameras)
        camera_set_stop(v->cameras);
    if (v->wall)
        wall_stop(v->wall, 10.0);
}

void app_video_free(AppVideo *v)
{
    if (!v)
        return;
    ptz_set_free(v->ptz);
    camera_set_free(v->cameras);
    wall_free(v->wall);
    g_ptr_array_unref(v->cams);
    overlay_scene_free(v->scene);
    g_strfreev(v->order);
    g_free(v);
}

PsScene *app_video_scene(AppVideo *v)
{
    return v->scene;
}

guint app_video_cameras(AppVideo *v)
{
    return v->cams->len;
}

gboolean app_video_camera_project(AppVideo *v, const char *camera, double lat, double lon,
                                  double *x, double *y)
{
    VideoCam *c = app_video__find_cam(v, camera);
    return c && c->model && overlay_camera_project(c->model, lat, lon, 0.0, x, y);
}

GstElement *app_video_wall_pipeline(AppVideo *v)
{
    return v->wall ? wall_pipeline(v->wall) : NULL;
}

guint64 app_video_wall_frames(AppVideo *v)
{
    return v->wall ? wall_frames_out(v->wall) : 0;
}

