/* video_camera.c: one [camera NAME] group into a camera of the engine: its model (pose or
 * ground points), its PTZ, the OCR and overlay filter of its pipeline. */
#include <string.h>

#include "psgst.h"
#include "video-private.h"

gboolean app_video__add_camera(AppVideo *v, const char *g, const int draw[4], GError **error)
{
    AppConfig *config = v->config;
    VideoCam *c = g_new0(VideoCam, 1);
    g_ptr_array_add(v->cams, c);
    c->name = g_strdup(g + strlen("camera "));
    c->published = -1;
    c->width = draw[2];
    c->height = draw[3];
    c->uri = g_strdup(app_config_string(config, g, "uri"));
    const char *title = app_config_string(config, g, "title");
    c->title = g_strdup(title ? title : c->name);
    const char *pose = app_config_string(config, g, "pose");
    PsPinholePose pp = {0};
    if (pose) {
        if (!overlay_parse_pose(pose, &pp, error)) {
            g_prefix_error(error, "[%s] ", g);
            return FALSE;
        }
        pp.width = draw[2];
        pp.height = draw[3];
        c->model = overlay_camera_new_pinhole(&pp, error);
        if (!c->model) {
            g_prefix_error(error, "[%s] pose: ", g);
            return FALSE;
        }
    }
    const char *gp = app_config_string(config, g, "ground_points");
    if (gp) {
        if (pose) {
            g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                        "[%s] pose and ground_points: give one camera model, not both", g);
            return FALSE;
        }
        gsize n = 0;
        g_autofree PsGroundPoint *pts = overlay_parse_ground_points(
            gp, app_config_string(config, g, "ground_points_size"), draw[2], draw[3], &n,
            error);
        if (!pts) {
            g_prefix_error(error, "[%s] ", g);
            return FALSE;
        }
        c->model = overlay_camera_new_homography(pts, n, draw[2], draw[3], error);
        if (!c->model) {
            g_prefix_error(error, "[%s] ground_points: ", g);
            return FALSE;
        }
    }
    overlay_scene_set_camera_model(v->scene, c->name, c->model);
    const char *ptz_url = app_config_string(config, g, "ptz_url");
    if (ptz_url) {
        if (!pose) {
            g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                        "[%s] ptz_url needs the camera's pose (where the PTZ stands)", g);
            return FALSE;
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
                          app_config_double(config, g, "ptz_zoom_distance"),
                          app_config_double(config, g, "ptz_hfov_wide"),
                          app_config_double(config, g, "ptz_hfov_tele")};
        if ((mount.hfov_wide_deg > 0 || mount.hfov_tele_deg > 0) &&
            !(mount.hfov_wide_deg > mount.hfov_tele_deg && mount.hfov_tele_deg > 0)) {
            g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                        "[%s] ptz_hfov_wide (%g) and ptz_hfov_tele (%g): both needed, the wide "
                        "one larger", g, mount.hfov_wide_deg, mount.hfov_tele_deg);
            return FALSE;
        }
        ptz_set_add(v->ptz, c->name, &dev, &mount);
        const char *presets = app_config_string(config, g, "presets");
        g_autoptr(GError) local = NULL;
        if (presets && !ptz_set_presets(v->ptz, c->name, presets, &local)) {
            g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE, "[%s] %s", g,
                        local->message);
            return FALSE;
        }
    } else if (app_config_string(config, g, "presets")) {
        g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                    "[%s] presets needs ptz_url (the PTZ they move)", g);
        return FALSE;
    }
    const char *roi = app_config_string(config, g, "ocr_roi");
    double roiv[4];
    if (!overlay_parse_roi(roi, roiv, error)) {
        g_prefix_error(error, "[%s] ", g);
        return FALSE;
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
        return FALSE;
    }
    return TRUE;
}

gboolean app_video_add_stream(AppVideo *v, const char *camera, const char *uri, GError **error)
{
    guint tile = 0;
    while (v->order && v->order[tile] && strcmp(v->order[tile], camera) != 0)
        tile++;
    if (!v->wall || !v->order || !v->order[tile] || app_video__find_cam(v, camera))
        return TRUE;
    int draw[4] = {0, 0, 1280, 720};
    wall_layout_tile(v->layout, v->wall_size[0], v->wall_size[1], tile, draw);
    g_autofree char *filter = g_strdup_printf(
        "videoscale ! video/x-raw,width=%d,height=%d,pixel-aspect-ratio=1/1 ! videoconvert ! "
        "portoverlay camera=\"%s\" title=\"%s\"", draw[2], draw[3], camera, camera);
    /* Over TCP: a lost packet of an annotated stream would smear its labels. */
    CameraConfig cc = {.name = camera, .uri = uri, .rtsp_tcp = TRUE, .filter = filter};
    VideoCam *c = g_new0(VideoCam, 1);
    c->name = g_strdup(camera);
    c->uri = g_strdup(uri);
    c->title = g_strdup(camera);
    c->published = -1;
    g_ptr_array_add(v->cams, c);
    if (!camera_set_add(v->cameras, &cc, error)) {
        g_ptr_array_remove(v->cams, c);
        return FALSE;
    }
    g_message("wall: camera %s from %s", camera, uri);
    return TRUE;
}

void app_video_no_signal(AppVideo *v, const char *camera, const char *reason)
{
    VideoCam *c = app_video__find_cam(v, camera);
    if (v->wall && c)
        wall_no_signal(v->wall, camera, c->title, reason);
}
