/* demo_video.c: the demo's video step: the shipped clips through cameras, OCR, overlay and
 * the wall into an MP4, with one frame of it as a PNG. */
#include <cairo.h>
#include <gst/app/gstappsink.h>
#include <stdio.h>
#include <string.h>

#include "demo-serve.h"
#include "topics.h"
#include "video.h"

typedef struct {
    AppDemo *demo;
    GMainLoop *loop;
    AppVideo *video;
    guint confirmed;
    const char *select;
} VideoDemo;

static void on_event(const char *topic, const char *id, const char *payload, gpointer data)
{
    VideoDemo *vd = data;
    if (topics_input(topics_rest(NULL, topic), NULL) != TOPICS_IN_OCR)
        return;
    PsEvent ev = {"ocr", topic, id, NULL, 0, payload, -1};
    GError *error = NULL;
    if (!store_append(vd->demo->store, &ev, NULL, &error)) {
        g_warning("%s: %s", topic, error->message);
        g_error_free(error);
    }
    vd->confirmed++;
    printf("  %s %s\n", topic, payload);
    fflush(stdout);
}

static gboolean on_select(gpointer data)
{
    VideoDemo *vd = data;
    GError *error = NULL;
    printf("  operator selects %s (port/cmd/select): highlight and detail panel\n", vd->select);
    if (!app_video_select(vd->video, NULL, vd->select, 0, &error)) {
        /* No PTZ camera in the demo: the highlight is what counts. */
        g_debug("select: %s", error->message);
        g_error_free(error);
    }
    return G_SOURCE_REMOVE;
}

static gboolean on_end(gpointer data)
{
    g_main_loop_quit(((VideoDemo *)data)->loop);
    return G_SOURCE_REMOVE;
}

/* Writes the frame of @mp4 at @at seconds to @png. */
static gboolean snapshot(const char *mp4, double at, const char *png, GError **error)
{
    g_autofree char *desc = g_strdup_printf("filesrc location=\"%s\" ! decodebin ! videoconvert "
                                            "! video/x-raw,format=BGRx ! appsink name=s",
                                            mp4);
    GstElement *p = gst_parse_launch(desc, error);
    if (!p)
        return FALSE;
    gboolean ok = FALSE;
    GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "s");
    gst_element_set_state(p, GST_STATE_PAUSED);
    gint64 duration = 0;
    /* On a loaded machine the wall may have encoded fewer seconds than the demo ran: stay
     * inside the file. */
    if (gst_element_get_state(p, NULL, NULL, 10 * GST_SECOND) == GST_STATE_CHANGE_SUCCESS &&
        gst_element_query_duration(p, GST_FORMAT_TIME, &duration) && duration > 0)
        at = MIN(at, MAX(0.0, (double)duration / GST_SECOND - 0.5));
    if (gst_element_get_state(p, NULL, NULL, 10 * GST_SECOND) == GST_STATE_CHANGE_SUCCESS &&
        gst_element_seek_simple(p, GST_FORMAT_TIME,
                                GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                                (gint64)(at * GST_SECOND)) &&
        gst_element_get_state(p, NULL, NULL, 10 * GST_SECOND) == GST_STATE_CHANGE_SUCCESS) {
        GstSample *s = gst_app_sink_try_pull_preroll(GST_APP_SINK(sink), 5 * GST_SECOND);
        GstStructure *st = s ? gst_caps_get_structure(gst_sample_get_caps(s), 0) : NULL;
        int w = 0, h = 0;
        GstMapInfo map;
        if (st && gst_structure_get_int(st, "width", &w) &&
            gst_structure_get_int(st, "height", &h) &&
            gst_buffer_map(gst_sample_get_buffer(s), &map, GST_MAP_READ)) {
            cairo_surface_t *surf = cairo_image_surface_create_for_data(
                map.data, CAIRO_FORMAT_RGB24, w, h, (int)(map.size / (gsize)h));
            ok = cairo_surface_write_to_png(surf, png) == CAIRO_STATUS_SUCCESS;
            cairo_surface_destroy(surf);
            gst_buffer_unmap(gst_sample_get_buffer(s), &map);
        }
        if (s)
            gst_sample_unref(s);
    }
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(sink);
    gst_object_unref(p);
    if (!ok)
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot take a frame of %s at "
                    "%.1f s into %s", mp4, at, png);
    return ok;
}

static PsContainerStatus status_of(const char *s)
{
    return g_strcmp0(s, "released") == 0                                    ? PS_STATUS_RELEASED
           : g_strcmp0(s, "held") == 0 || g_strcmp0(s, "inspect") == 0 ? PS_STATUS_HELD
                                                                            : PS_STATUS_PENDING;
}

/* Container facts and vessels of scene.ini into the overlay's scene. */
gboolean app_demo_fill_scene(GKeyFile *kf, PsScene *scene, GError **error)
{
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (guint i = 0; groups[i]; i++) {
        const char *g = groups[i];
        if (g_str_has_prefix(g, "container ")) {
            g_autofree char *decl = g_key_file_get_string(kf, g, "declaration", NULL);
            g_autofree char *status = g_key_file_get_string(kf, g, "status", NULL);
            g_autofree char *origin = g_key_file_get_string(kf, g, "origin", NULL);
            g_autofree char *dest = g_key_file_get_string(kf, g, "destination", NULL);
            g_autofree char *goods = g_key_file_get_string(kf, g, "goods", NULL);
            g_autofree char *consignee = g_key_file_get_string(kf, g, "consignee", NULL);
            g_autofree char *vessel = g_key_file_get_string(kf, g, "vessel", NULL);
            PsSceneContainer c = {g + strlen("container "), decl, origin, dest, goods, consignee,
                                  vessel, status_of(status)};
            overlay_scene_put_container(scene, &c);
        } else if (g_str_has_prefix(g, "vessel ")) {
            g_autofree char *name = g_key_file_get_string(kf, g, "name", NULL);
            g_autofree char *type = g_key_file_get_string(kf, g, "type", NULL);
            g_autofree char *track = g_key_file_get_string(kf, g, "track", NULL);
            g_auto(GStrv) points = g_strsplit(track ? track : "", ";", -1);
            GArray *t = g_array_new(FALSE, FALSE, sizeof(double[2]));
            for (guint k = 0; points[k] && k < PS_SCENE_TRACK_MAX; k++) {
                double ll[2];
                if (sscanf(points[k], "%lf,%lf", &ll[0], &ll[1]) == 2)
                    g_array_append_val(t, ll);
            }
            PsSceneVessel v = {
                (guint32)g_ascii_strtoull(g + strlen("vessel "), NULL, 10),
                name,
                type,
                g_key_file_get_double(kf, g, "lat", NULL),
                g_key_file_get_double(kf, g, "lon", NULL),
                g_key_file_get_double(kf, g, "sog", NULL),
                g_key_file_get_double(kf, g, "cog", NULL),
                (const double(*)[2])t->data,
                t->len,
            };
            overlay_scene_put_vessel(scene, &v);
            g_array_unref(t);
        }
    }
    return TRUE;
}

/* The wall draws the rules' verdict (from the rules step's journal), not scene.ini's customs
 * status: a released declaration with a radiation alarm is held, in red. */
static void show_verdicts(AppDemo *demo, GKeyFile *kf, PsScene *scene)
{
    PsRules *rules = demo->store ? rules_new(demo->store, "port", NULL) : NULL;
    if (!rules)
        return;
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (guint i = 0; groups[i]; i++) {
        if (!g_str_has_prefix(groups[i], "container "))
            continue;
        const char *code = groups[i] + strlen("container ");
        RulesVerdict v;
        if (rules_verdict(rules, code, &v)) {
            app_video_show_verdict(scene, code, &v);
            printf("  wall: %s %s%s\n", code,
                   v.kind == RULES_VERDICT_RELEASED ? "released (green)"
                   : v.kind == RULES_VERDICT_HELD   ? "held (red): "
                                                    : "pending (amber), waits for: ",
                   v.why ? v.why : "");
        }
        rules_verdict_clear(&v);
    }
    rules_free(rules);
}

AppConfig *app_demo_video_config(const char *dir, GKeyFile *kf, const char *wall_extra,
                                 GString *order, GError **error)
{
    GString *conf = g_string_new("[store]\npath = :memory:\n");
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (guint i = 0; groups[i]; i++) {
        if (!g_str_has_prefix(groups[i], "clip "))
            continue;
        const char *name = groups[i] + strlen("clip ");
        g_autofree char *file = g_key_file_get_string(kf, groups[i], "file", NULL);
        g_autofree char *title = g_key_file_get_string(kf, groups[i], "title", NULL);
        g_autofree char *pose = g_key_file_get_string(kf, groups[i], "pose", NULL);
        g_autofree char *path = g_build_filename(dir, file ? file : "", NULL);
        g_autofree char *abs = g_canonicalize_filename(path, NULL);
        g_autofree char *uri = g_filename_to_uri(abs, NULL, error);
        if (!uri) {
            g_string_free(conf, TRUE);
            return NULL;
        }
        g_string_append_printf(conf, "[camera %s]\nuri = %s\nocr_interval_ms = 200\n", name, uri);
        if (title)
            g_string_append_printf(conf, "title = %s\n", title);
        if (pose)
            g_string_append_printf(conf, "pose = %s\n", pose);
        g_string_append_printf(order, "%s%s", order->len ? "," : "", name);
    }
    g_string_append_printf(conf,
                           "[wall]\nlayout = 2x2\nwidth = 1280\nheight = 720\nrtsp_port = 0\n"
                           "bitrate_kbps = 3000\ncameras = %s\n%s",
                           order->str, wall_extra ? wall_extra : "");
    AppConfig *cfg = app_config_load_data("scene.ini (video demo)", conf->str, conf->len, error);
    g_string_free(conf, TRUE);
    return cfg;
}

gboolean app_demo_video(AppDemo *demo, GError **error)
{
    g_autofree char *dir = g_build_filename(demo->scenario_dir, "video", NULL);
    g_autofree char *ini = g_build_filename(dir, "scene.ini", NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, ini, G_KEY_FILE_NONE, error)) {
        g_prefix_error(error, "%s: ", ini);
        return FALSE;
    }
    double seconds = g_key_file_get_double(kf, "demo", "seconds", NULL);
    double select_at = g_key_file_get_double(kf, "demo", "select_at", NULL);
    double snap_at = g_key_file_get_double(kf, "demo", "snapshot_at", NULL);
    g_autofree char *select = g_key_file_get_string(kf, "demo", "select", NULL);
    if (seconds <= 0 || seconds > 120)
        seconds = 10;

    g_autofree char *mp4 = g_build_filename(demo->out_dir, "wall.mp4", NULL);
    g_autofree char *png = g_build_filename(demo->out_dir, "wall.png", NULL);
    g_autofree char *abs_mp4 = g_canonicalize_filename(mp4, NULL);
    g_autoptr(AppConfig) cfg = NULL;
    GString *order = g_string_new(NULL);
    /* One file, which the demo reads back. */
    g_autofree char *wall = g_strdup_printf("record = %s\nrecord_segment = 0\n", abs_mp4);
    cfg = app_demo_video_config(dir, kf, wall, order, error);
    if (!cfg)
        goto fail;
    VideoDemo vd = {demo, g_main_loop_new(NULL, FALSE), NULL, 0, select};
    vd.video = app_video_new(cfg, on_event, &vd, error);
    if (!vd.video) {
        g_main_loop_unref(vd.loop);
        goto fail;
    }
    app_demo_fill_scene(kf, app_video_scene(vd.video), NULL);
    show_verdicts(demo, kf, app_video_scene(vd.video));
    printf("cameras: %s (synthetic clips, %s), wall 2x2 1280x720 -> %s\n", order->str, dir, mp4);
    printf("playing %.0f s in real time; confirmed containers (port/ocr/CAMERA):\n", seconds);
    fflush(stdout);
    gboolean ok = app_video_start(vd.video, error);
    if (ok) {
        if (select)
            g_timeout_add((guint)(select_at * 1000), on_select, &vd);
        g_timeout_add((guint)(seconds * 1000), on_end, &vd);
        g_main_loop_run(vd.loop);
    }
    app_video_stop(vd.video);
    guint64 frames = app_video_wall_frames(vd.video);
    app_video_free(vd.video);
    g_main_loop_unref(vd.loop);
    if (!ok)
        goto fail;
    printf("wall: %" G_GUINT64_FORMAT " frames encoded; %u containers confirmed and journaled\n",
           frames, vd.confirmed);
    g_ptr_array_add(demo->outputs, g_strdup_printf("annotated video wall (H.264 MP4): %s", mp4));
    if (snapshot(mp4, snap_at > 0 ? snap_at : seconds / 2, png, error))
        g_ptr_array_add(demo->outputs, g_strdup_printf("one frame of the wall (PNG): %s", png));
    else
        goto fail;
    g_string_free(order, TRUE);
    return TRUE;

fail:
    g_string_free(order, TRUE);
    return FALSE;
}
