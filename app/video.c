/* video.c: cameras -> containerocr -> portoverlay -> wall, wired from the configuration. */
#include "video.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "camera.h"
#include "psgst.h"
#include "ptz.h"
#include "wall.h"

typedef struct {
    char *name;
    char *uri;
    char *title;
    PsCameraModel *model; /* in the pixels portoverlay draws on, or NULL */
    gboolean has_pose;
    PsPinholePose pose;
    PtzDevice ptz; /* ptz.url NULL: none */
    PtzMount mount;
    char *ptz_url, *ptz_profile, *ptz_user, *ptz_password;
} VideoCam;

typedef struct {
    PtzDevice dev; /* owned strings */
    char *name;
    double pan, tilt, zoom;
} PtzJob;

struct AppVideo {
    AppConfig *config;
    AppVideoEventFunc events;
    gpointer user_data;
    PsScene *scene;
    CameraSet *cameras;
    PsWall *wall;
    GPtrArray *cams; /* (element-type VideoCam) */
    GThreadPool *ptz_pool;
};

static void cam_free(gpointer p)
{
    VideoCam *c = p;
    g_free(c->name);
    g_free(c->uri);
    g_free(c->title);
    overlay_camera_free(c->model);
    g_free(c->ptz_url);
    g_free(c->ptz_profile);
    g_free(c->ptz_user);
    g_free(c->ptz_password);
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

static char *now_rfc3339(void)
{
    GDateTime *t = g_date_time_new_now_utc();
    char *s = g_date_time_format(t, "%Y-%m-%dT%H:%M:%S.%fZ");
    g_date_time_unref(t);
    /* %f gives microseconds; keep milliseconds */
    char *dot = strrchr(s, '.');
    if (dot && strlen(dot) > 5) {
        dot[4] = 'Z';
        dot[5] = '\0';
    }
    return s;
}

static void emit(AppVideo *v, const char *topic, const char *id, JsonBuilder *b)
{
    JsonNode *root = json_builder_get_root(b);
    g_autofree char *payload = json_to_string(root, FALSE);
    json_node_unref(root);
    if (v->events)
        v->events(topic, id, payload, v->user_data);
}

/* ---- camera callbacks ---- */

static void on_health(const CameraHealth *h, gpointer data)
{
    AppVideo *v = data;
    /* A camera that is down shows NO SIGNAL (with why) on its tile until its next frame. */
    if (v->wall && h->state == CAMERA_STATE_BACKOFF) {
        VideoCam *c = find_cam(v, h->camera);
        wall_no_signal(v->wall, h->camera, c ? c->title : NULL, h->reason);
    }
    g_autofree char *ts = now_rfc3339();
    g_autofree char *topic = g_strdup_printf("port/status/camera-%s", h->camera);
    g_autofree char *id = g_strdup_printf("status-%s-%" G_GINT64_FORMAT, h->camera,
                                          g_get_real_time());
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, id);
    json_builder_set_member_name(b, "ts");
    json_builder_add_string_value(b, ts);
    json_builder_set_member_name(b, "camera");
    json_builder_add_string_value(b, h->camera);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, camera_state_name(h->state));
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, h->reason);
    json_builder_set_member_name(b, "frames");
    json_builder_add_int_value(b, (gint64)h->frames);
    json_builder_set_member_name(b, "restarts");
    json_builder_add_int_value(b, h->restarts);
    json_builder_end_object(b);
    emit(v, topic, id, b);
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
    g_autofree char *ts = now_rfc3339();
    g_autofree char *topic = g_strdup_printf("port/ocr/%s", camera);
    g_autofree char *id = g_strdup_printf("ocr-%s-%s-%" G_GINT64_FORMAT, camera, code,
                                          g_get_real_time() / 1000);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, id);
    json_builder_set_member_name(b, "ts");
    json_builder_add_string_value(b, ts);
    json_builder_set_member_name(b, "camera");
    json_builder_add_string_value(b, camera);
    json_builder_set_member_name(b, "container");
    json_builder_add_string_value(b, code);
    json_builder_set_member_name(b, "size_type");
    json_builder_add_string_value(b, st ? st : "");
    json_builder_set_member_name(b, "confidence");
    json_builder_add_double_value(b, round(conf * 1000) / 1000);
    json_builder_set_member_name(b, "bbox");
    json_builder_begin_array(b);
    json_builder_add_int_value(b, x);
    json_builder_add_int_value(b, y);
    json_builder_add_int_value(b, w);
    json_builder_add_int_value(b, h);
    json_builder_end_array(b);
    json_builder_end_object(b);
    emit(v, topic, id, b);
}

/* ---- configuration ---- */

static gboolean parse_pose(const char *text, PsPinholePose *pose, const char *group,
                           GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    double vals[6];
    guint n = g_strv_length(parts);
    for (guint i = 0; i < n && i < 6; i++) {
        char *end = NULL;
        vals[i] = g_ascii_strtod(g_strstrip(parts[i]), &end);
        if (end == parts[i] || *end || !isfinite(vals[i]))
            n = 0;
    }
    if (n != 6) {
        g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                    "[%s] pose: '%s' is not lat,lon,height_m,heading,tilt,hfov", group, text);
        return FALSE;
    }
    pose->lat = vals[0];
    pose->lon = vals[1];
    pose->height_m = vals[2];
    pose->heading_deg = vals[3];
    pose->tilt_deg = vals[4];
    pose->hfov_deg = vals[5];
    return TRUE;
}

/* Parses "lat,lon,x,y; lat,lon,x,y; ..." (at least 4) and "WIDTHxHEIGHT" into points scaled
 * to a @width x @height picture. Returns the points (free with g_free) and their count. */
static PsGroundPoint *parse_ground_points(const char *text, const char *size, int width,
                                          int height, gsize *n, const char *group,
                                          GError **error)
{
    int sw = 0, sh = 0;
    char tail = 0;
    if (!size || sscanf(size, "%dx%d%c", &sw, &sh, &tail) != 2 || sw < 1 || sh < 1 ||
        sw > 16384 || sh > 16384) {
        g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                    "[%s] ground_points_size: '%s' is not WIDTHxHEIGHT", group, size ? size : "");
        return NULL;
    }
    g_auto(GStrv) items = g_strsplit(text, ";", -1);
    GArray *pts = g_array_new(FALSE, FALSE, sizeof(PsGroundPoint));
    for (guint i = 0; items[i]; i++) {
        if (!*g_strstrip(items[i]))
            continue;
        g_auto(GStrv) parts = g_strsplit(items[i], ",", -1);
        double v[4];
        gboolean ok = g_strv_length(parts) == 4;
        for (int k = 0; ok && k < 4; k++) {
            char *end = NULL;
            v[k] = g_ascii_strtod(g_strstrip(parts[k]), &end);
            ok = end != parts[k] && !*end && isfinite(v[k]);
        }
        ok = ok && fabs(v[0]) <= 90 && fabs(v[1]) <= 180;
        if (!ok || pts->len >= 64) {
            g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                        "[%s] ground_points: '%s' is not lat,lon,x,y (at most 64 points, "
                        "separated by ';')", group, items[i]);
            g_array_unref(pts);
            return NULL;
        }
        PsGroundPoint p = {v[0], v[1], v[2] * width / sw, v[3] * height / sh};
        g_array_append_val(pts, p);
    }
    *n = pts->len;
    return (PsGroundPoint *)g_array_free(pts, FALSE);
}

/* "x,y,w,h", fractions of the picture with the region inside it (containerocr's roi). */
static gboolean parse_roi(const char *text, double v[4])
{
    g_auto(GStrv) parts = g_strsplit(text ? text : "", ",", -1);
    if (g_strv_length(parts) != 4)
        return FALSE;
    for (int i = 0; i < 4; i++) {
        char *end = NULL;
        v[i] = g_ascii_strtod(g_strstrip(parts[i]), &end);
        if (end == parts[i] || *end || !(v[i] >= 0 && v[i] <= 1))
            return FALSE;
    }
    return v[2] > 0 && v[3] > 0 && v[0] + v[2] <= 1 + 1e-9 && v[1] + v[3] <= 1 + 1e-9;
}

static void ptz_job(gpointer data, gpointer user_data)
{
    PtzJob *job = data;
    GError *error = NULL;
    if (ptz_absolute_move(&job->dev, job->pan, job->tilt, job->zoom, &error))
        g_info("camera %s: PTZ moved to pan %.3f tilt %.3f zoom %.3f", job->name, job->pan,
               job->tilt, job->zoom);
    else
        g_warning("camera %s: %s", job->name, error->message);
    g_clear_error(&error);
    g_free((char *)job->dev.url);
    g_free((char *)job->dev.profile);
    g_free((char *)job->dev.username);
    g_free((char *)job->dev.password);
    g_free(job->name);
    g_free(job);
}

AppVideo *app_video_new(AppConfig *config, AppVideoEventFunc events, gpointer user_data,
                        GError **error)
{
    AppVideo *v = g_new0(AppVideo, 1);
    v->config = config;
    v->events = events;
    v->user_data = user_data;
    v->scene = overlay_scene_new(1500 * 1000);
    v->cams = g_ptr_array_new_with_free_func(cam_free);
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
        c->uri = g_strdup(app_config_string(config, g, "uri"));
        const char *title = app_config_string(config, g, "title");
        c->title = g_strdup(title ? title : c->name);
        /* The size portoverlay draws at: the tile's, or 1280x720 off the wall. */
        int draw[4] = {0, 0, 1280, 720};
        for (guint k = 0; with_wall && order[k]; k++)
            if (strcmp(order[k], c->name) == 0)
                wall_layout_tile(wc.layout, wc.width, wc.height, k, draw);
        const char *pose = app_config_string(config, g, "pose");
        if (pose) {
            if (!parse_pose(pose, &c->pose, g, error))
                goto fail;
            c->pose.width = draw[2];
            c->pose.height = draw[3];
            c->model = overlay_camera_new_pinhole(&c->pose, error);
            if (!c->model) {
                g_prefix_error(error, "[%s] pose: ", g);
                goto fail;
            }
            c->has_pose = TRUE;
        }
        const char *gp = app_config_string(config, g, "ground_points");
        if (gp) {
            if (pose) {
                g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                            "[%s] pose and ground_points: give one camera model, not both", g);
                goto fail;
            }
            gsize n = 0;
            g_autofree PsGroundPoint *pts = parse_ground_points(
                gp, app_config_string(config, g, "ground_points_size"), draw[2], draw[3], &n, g,
                error);
            if (!pts)
                goto fail;
            c->model = overlay_camera_new_homography(pts, n, draw[2], draw[3], error);
            if (!c->model) {
                g_prefix_error(error, "[%s] ground_points: ", g);
                goto fail;
            }
        }
        c->ptz_url = g_strdup(app_config_string(config, g, "ptz_url"));
        if (c->ptz_url) {
            if (!c->has_pose) {
                g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                            "[%s] ptz_url needs the camera's pose (where the PTZ stands)", g);
                goto fail;
            }
            c->ptz_profile = g_strdup(app_config_string(config, g, "ptz_profile"));
            c->ptz_user = g_strdup(app_config_string(config, g, "ptz_user"));
            c->ptz_password = g_strdup(app_config_string(config, g, "ptz_password"));
            c->ptz = (PtzDevice){c->ptz_url, c->ptz_profile, c->ptz_user, c->ptz_password, 5};
            c->mount = (PtzMount){c->pose.lat, c->pose.lon, c->pose.height_m,
                                  c->pose.heading_deg,
                                  app_config_double(config, g, "ptz_pan_range"),
                                  app_config_double(config, g, "ptz_tilt_range"),
                                  app_config_double(config, g, "ptz_zoom_distance")};
        }
        const char *roi = app_config_string(config, g, "ocr_roi");
        double roiv[4];
        if (!parse_roi(roi, roiv)) {
            g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                        "[%s] ocr_roi: '%s' is not x,y,w,h (fractions of the picture, inside it)",
                        g, roi);
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
    v->ptz_pool = g_thread_pool_new(ptz_job, NULL, 2, FALSE, NULL);
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
    if (v->ptz_pool)
        g_thread_pool_free(v->ptz_pool, FALSE, TRUE);
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

static gboolean aim(AppVideo *v, const char *only, double lat, double lon, GError **error)
{
    guint aimed = 0;
    for (guint i = 0; i < v->cams->len; i++) {
        VideoCam *c = g_ptr_array_index(v->cams, i);
        if (!c->ptz_url || (only && strcmp(only, c->name) != 0))
            continue;
        PtzJob *job = g_new0(PtzJob, 1);
        job->dev = c->ptz;
        job->dev.url = g_strdup(c->ptz.url);
        job->dev.profile = g_strdup(c->ptz.profile);
        job->dev.username = g_strdup(c->ptz.username);
        job->dev.password = g_strdup(c->ptz.password);
        job->name = g_strdup(c->name);
        ptz_aim(&c->mount, lat, lon, &job->pan, &job->tilt, &job->zoom);
        g_thread_pool_push(v->ptz_pool, job, NULL);
        aimed++;
    }
    if (only && !aimed) {
        g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                    "select: camera '%s' has no PTZ (ptz_url)", only);
        return FALSE;
    }
    return TRUE;
}

gboolean app_video_select(AppVideo *v, const char *camera, const char *container, guint32 mmsi,
                          GError **error)
{
    overlay_scene_select(v->scene, container, mmsi);
    double lat, lon;
    if (container) {
        g_autofree char *seen_by = NULL;
        double bbox[4];
        if (!overlay_scene_find_detection(v->scene, container, NULL, &seen_by, bbox)) {
            g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                        "select: container %s is not in view of any camera", container);
            return FALSE;
        }
        VideoCam *c = find_cam(v, seen_by);
        /* the bottom centre of the box stands on the ground */
        if (!c || !c->model ||
            !overlay_camera_unproject(c->model, bbox[0] + bbox[2] / 2, bbox[1] + bbox[3], &lat,
                                      &lon)) {
            g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                        "select: camera %s has no pose: cannot place %s on the ground to aim "
                        "a PTZ", seen_by, container);
            return FALSE;
        }
    } else if (mmsi) {
        if (!overlay_scene_vessel_position(v->scene, mmsi, &lat, &lon)) {
            g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                        "select: vessel %u is not known", mmsi);
            return FALSE;
        }
    } else {
        return TRUE; /* cleared */
    }
    return aim(v, camera, lat, lon, error);
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
    const char *status = member(o, "status");
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
        PsSceneContainer c = {
            .code = json_node_get_string(e),
            .declaration = member(o, "declaration"),
            .origin = member(o, "origin"),
            .destination = member(o, "destination"),
            .goods = member(o, "goods"),
            .consignee = member(o, "consignee"),
            .vessel = vessel,
            .status = g_strcmp0(status, "released") == 0 ? PS_STATUS_RELEASED
                      : g_strcmp0(status, "held") == 0 || g_strcmp0(status, "inspect") == 0
                          ? PS_STATUS_HELD
                          : PS_STATUS_PENDING,
        };
        overlay_scene_put_container(v->scene, &c);
    }
    return TRUE;
}
