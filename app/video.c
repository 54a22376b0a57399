/* video.c: cameras -> containerocr -> portoverlay -> wall, wired from the configuration. */
#include "video.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "camera.h"
#include "psgst.h"
#include "ptz.h"
#include "topics.h"
#include "wall.h"

typedef struct {
    char *name;
    char *uri;
    char *title;
    PsCameraModel *model; /* in the pixels portoverlay draws on, or NULL */
    const char *state;     /* camera_state_name() of its last health change */
    guint64 rate_frames;   /* frames and time at the last fps estimate */
    gint64 rate_at;
    double fps;
    int published; /* the status last published: -1 none, 0 offline, 1 online */
} VideoCam;

struct AppVideo {
    AppConfig *config;
    AppVideoEventFunc events;
    gpointer user_data;
    PsScene *scene;
    CameraSet *cameras;
    PsWall *wall;
    GPtrArray *cams; /* (element-type VideoCam) */
    PtzSet *ptz;
    const char *root; /* the topic root */
};

static void cam_free(gpointer p)
{
    VideoCam *c = p;
    g_free(c->name);
    g_free(c->uri);
    g_free(c->title);
    overlay_camera_free(c->model);
    g_free(c);
}

static VideoCam *find_cam(AppVideo *v, const char *name)
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
    VideoCam *hc = find_cam(v, h->camera);
    if (hc)
        hc->state = camera_state_name(h->state);
    /* A camera that is down shows NO SIGNAL (with why) on its tile until its next frame. */
    if (v->wall && h->state == CAMERA_STATE_BACKOFF) {
        VideoCam *c = find_cam(v, h->camera);
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
    VideoCam *c = find_cam(v, camera);
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
    if (!groups[0])
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
    }
    /* Tile order: [wall] cameras, else the order of the file. */
    const char *listed = with_wall ? app_config_string(config, "wall", "cameras") : NULL;
    if (listed) {
        order = g_strsplit(listed, ",", -1);
        for (char **o = order; *o; o++) {
            g_strstrip(*o);
            g_autofree char *group = g_strdup_printf("camera %s", *o);
            if (!app_config_has_group(config, group)) {
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
        const char *g = groups[i];
        VideoCam *c = g_new0(VideoCam, 1);
        g_ptr_array_add(v->cams, c);
        c->name = g_strdup(g + strlen("camera "));
        c->published = -1;
        c->uri = g_strdup(app_config_string(config, g, "uri"));
        const char *title = app_config_string(config, g, "title");
        c->title = g_strdup(title ? title : c->name);
        /* The size portoverlay draws at: the tile's, or 1280x720 off the wall. */
        int draw[4] = {0, 0, 1280, 720};
        for (guint k = 0; with_wall && order[k]; k++)
            if (strcmp(order[k], c->name) == 0)
                wall_layout_tile(wc.layout, wc.width, wc.height, k, draw);
        const char *pose = app_config_string(config, g, "pose");
        PsPinholePose pp = {0};
        if (pose) {
            if (!overlay_parse_pose(pose, &pp, error)) {
                g_prefix_error(error, "[%s] ", g);
                goto fail;
            }
            pp.width = draw[2];
            pp.height = draw[3];
            c->model = overlay_camera_new_pinhole(&pp, error);
            if (!c->model) {
                g_prefix_error(error, "[%s] pose: ", g);
                goto fail;
            }
        }
        const char *gp = app_config_string(config, g, "ground_points");
        if (gp) {
            if (pose) {
                g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                            "[%s] pose and ground_points: give one camera model, not both", g);
                goto fail;
            }
            gsize n = 0;
            g_autofree PsGroundPoint *pts = overlay_parse_ground_points(
                gp, app_config_string(config, g, "ground_points_size"), draw[2], draw[3], &n,
                error);
            if (!pts) {
                g_prefix_error(error, "[%s] ", g);
                goto fail;
            }
            c->model = overlay_camera_new_homography(pts, n, draw[2], draw[3], error);
            if (!c->model) {
                g_prefix_error(error, "[%s] ground_points: ", g);
                goto fail;
            }
        }
        overlay_scene_set_camera_model(v->scene, c->name, c->model);
        const char *ptz_url = app_config_string(config, g, "ptz_url");
        if (ptz_url) {
            if (!pose) {
                g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                            "[%s] ptz_url needs the camera's pose (where the PTZ stands)", g);
                goto fail;
            }
            PtzDevice dev = {ptz_url, app_config_string(config, g, "ptz_profile"),
                             app_config_string(config, g, "ptz_user"),
                             app_config_string(config, g, "ptz_password"), 5};
            PtzMount mount = {pp.lat,
                              pp.lon,
                              pp.height_m,
                              pp.heading_deg,
                              app_config_double(config, g, "ptz_pan_range"),
                              app_config_double(config, g, "ptz_tilt_range"),
                              app_config_double(config, g, "ptz_zoom_distance")};
            ptz_set_add(v->ptz, c->name, &dev, &mount);
        }
        const char *roi = app_config_string(config, g, "ocr_roi");
        double roiv[4];
        if (!overlay_parse_roi(roi, roiv, error)) {
            g_prefix_error(error, "[%s] ", g);
            goto fail;
        }
        GString *filter = g_string_new(NULL);
        if (app_config_bool(config, g, "ocr"))
            g_string_append_printf(
                filter,
                "containerocr camera=\"%s\" interval=%d interval-max=%d threads=%d "
                "motion-threshold=%g roi=\"%s\" ! ",
                c->name, (int)app_config_int(config, g, "ocr_interval_ms"),
                (int)app_config_int(config, g, "ocr_interval_max_ms"),
                (int)app_config_int(config, g, "ocr_threads"),
                app_config_double(config, g, "ocr_motion_threshold"), roi);
        g_string_append_printf(filter,
                               "videoscale ! video/x-raw,width=%d,height=%d,pixel-aspect-ratio=1/1 "
                               "! videoconvert ! portoverlay camera=\"%s\" title=\"%s\"",
                               draw[2], draw[3], c->name, c->title);
        g_autofree char *filter_text = g_string_free(filter, FALSE);
        CameraConfig cc = {
            .name = c->name,
            .uri = c->uri,
            .watchdog_s = app_config_double(config, g, "watchdog"),
            .backoff_max_s = app_config_double(config, g, "backoff_max"),
            .width = (int)app_config_int(config, g, "width"),
            .height = (int)app_config_int(config, g, "height"),
            .latency_ms = (int)app_config_int(config, g, "latency_ms"),
            .rtsp_tcp = app_config_bool(config, g, "rtsp_tcp"),
            .filter = filter_text,
        };
        if (!camera_set_add(v->cameras, &cc, error)) {
            g_prefix_error(error, "[%s] ", g);
            goto fail;
        }
    }
    if (with_wall) {
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
    if (v->wall && !wall_start(v->wall, error))
        return FALSE;
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
    VideoCam *c = find_cam(v, camera);
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

/* ---- selection ---- */

gboolean app_video_select(AppVideo *v, const char *camera, const char *container, guint32 mmsi,
                          GError **error)
{
    overlay_scene_select(v->scene, container, mmsi);
    if (!container && !mmsi)
        return TRUE; /* cleared */
    double lat, lon;
    if (!overlay_scene_locate(v->scene, container, mmsi, NULL, &lat, &lon, NULL, error)) {
        g_prefix_error(error, "select: ");
        return FALSE;
    }
    if (!ptz_set_aim(v->ptz, camera, lat, lon, NULL, error) && camera) {
        g_prefix_error(error, "select: ");
        return FALSE;
    }
    return TRUE;
}

/* A click on @camera's picture: the container under it is selected; the PTZ nearest to the
 * ground point there aims at it (the pixel unprojected through the fixed camera's model). */
gboolean app_video_select_at(AppVideo *v, const char *camera, double x, double y,
                             char **container, char **aim_json, GError **error)
{
    *container = overlay_scene_pick(v->scene, camera, x, y, 8.0);
    *aim_json = NULL;
    if (*container)
        overlay_scene_select(v->scene, *container, 0);
    VideoCam *c = find_cam(v, camera);
    double lat, lon, ptz[3];
    if (!c || !c->model || !overlay_camera_unproject(c->model, x, y, &lat, &lon)) {
        g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                    "camera %s has no model (pose or ground_points) placing (%.0f, %.0f) on "
                    "the ground: no PTZ aimed", camera, x, y);
        return FALSE;
    }
    const char *near = ptz_set_nearest(v->ptz, lat, lon, ptz);
    if (!near) {
        g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                    "no camera has a PTZ (ptz_url) to aim at %.6f,%.6f", lat, lon);
        return FALSE;
    }
    g_autofree char *name = g_strescape(near, NULL);
    *aim_json = g_strdup_printf("{\"ptz\":\"%s\",\"lat\":%.7f,\"lon\":%.7f,\"pan\":%.5f,"
                                "\"tilt\":%.5f,\"zoom\":%.5f}",
                                name, lat, lon, ptz[0], ptz[1], ptz[2]);
    return ptz_set_aim(v->ptz, near, lat, lon, NULL, error) > 0;
}

PsWall *app_video_wall(AppVideo *v)
{
    return v->wall;
}

char *app_video_cameras_json(AppVideo *v)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    gint64 now = g_get_monotonic_time();
    for (guint i = 0; i < v->cams->len; i++) {
        VideoCam *c = g_ptr_array_index(v->cams, i);
        guint64 frames = v->cameras ? camera_set_frames(v->cameras, c->name) : 0;
        if (!c->rate_at || now - c->rate_at >= G_USEC_PER_SEC / 2) {
            if (c->rate_at)
                c->fps = (double)(frames - c->rate_frames) * G_USEC_PER_SEC /
                         (double)(now - c->rate_at);
            c->rate_frames = frames;
            c->rate_at = now;
        }
        json_builder_set_member_name(b, c->name);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "title");
        json_builder_add_string_value(b, c->title);
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, c->state ? c->state : "starting");
        json_builder_set_member_name(b, "fps");
        json_builder_add_double_value(b, c->fps);
        json_builder_set_member_name(b, "frames");
        json_builder_add_int_value(b, (gint64)frames);
        json_builder_set_member_name(b, "degraded");
        json_builder_add_boolean_value(b, c->state && strcmp(c->state, "online") != 0);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

/* ---- journal inputs ---- */

static const char *member(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

gboolean app_video_apply(AppVideo *v, const char *topic, const char *payload, gsize len,
                         GError **error)
{
    gboolean customs = g_str_has_suffix(topic, "/customs/status");
    gboolean select = g_str_has_suffix(topic, "/cmd/select");
    if (!customs && !select)
        return TRUE;
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, payload, (gssize)len, error))
        return FALSE;
    JsonNode *root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                    "%s: not a JSON object", topic);
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    if (select) {
        const char *container = member(o, "container");
        gint64 mmsi = json_object_has_member(o, "mmsi")
                          ? json_node_get_int(json_object_get_member(o, "mmsi"))
                          : 0;
        GError *local = NULL;
        if (!app_video_select(v, member(o, "camera"), container, (guint32)mmsi, &local)) {
            g_warning("%s: %s", topic, local->message);
            g_error_free(local);
        }
        return TRUE;
    }
    JsonNode *cn = json_object_get_member(o, "containers");
    if (!cn || !JSON_NODE_HOLDS_ARRAY(cn))
        return TRUE;
    JsonArray *list = json_node_get_array(cn);
    const char *vessel = NULL;
    JsonNode *vn = json_object_get_member(o, "vessel");
    if (vn && JSON_NODE_HOLDS_OBJECT(vn))
        vessel = member(json_node_get_object(vn), "name");
    for (guint i = 0; i < json_array_get_length(list) && i < 1000; i++) {
        JsonNode *e = json_array_get_element(list, i);
        if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING)
            continue;
        /* The colour is the rules' verdict (app_video_show_verdict), not the customs status. */
        PsSceneContainer old = {0};
        overlay_scene_get_container(v->scene, json_node_get_string(e), &old);
        PsSceneContainer c = {
            .code = json_node_get_string(e),
            .declaration = member(o, "declaration"),
            .origin = member(o, "origin"),
            .destination = member(o, "destination"),
            .goods = member(o, "goods"),
            .consignee = member(o, "consignee"),
            .vessel = vessel,
            .status = old.status,
            .reason = old.reason,
        };
        overlay_scene_put_container(v->scene, &c);
        overlay_container_info_clear(&old);
    }
    return TRUE;
}

void app_video_show_verdict(PsScene *scene, const char *container, const RulesVerdict *verdict)
{
    PsContainerStatus st = verdict->kind == RULES_VERDICT_RELEASED ? PS_STATUS_RELEASED
                           : verdict->kind == RULES_VERDICT_HELD   ? PS_STATUS_HELD
                                                                   : PS_STATUS_PENDING;
    overlay_scene_set_verdict(scene, container, st,
                              verdict->kind == RULES_VERDICT_RELEASED ? NULL : verdict->why);
}
