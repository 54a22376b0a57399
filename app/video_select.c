/* video_select.c: selections (MQTT, the console's clicks), the console's camera list, and the
 * journal's inputs for the wall: declarations' facts and the rules' verdicts. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "iso6346.h"
#include "topics.h"
#include "video-private.h"

/* A vessel's view when it is aimed at: AIS gives the scene no length, so the PTZ zooms as for a
 * box this long (the view about three times as wide). */
#define VESSEL_BOX_M 150.0

/* ---- selection ---- */

/* ROOT/status/selection (retained): what is selected, where, PTZ aimed or why not. */
static void say_selection(AppVideo *v, const char *container, guint32 mmsi, const char *camera,
                          const char *ptz, const char *note)
{
    if (!v->events)
        return;
    g_autofree char *ts = topics_now();
    g_autofree char *topic = topics_status(v->root, "selection");
    g_autofree char *id = g_strdup_printf("selection-%" G_GINT64_FORMAT, g_get_real_time());
    TopicsSelection sel = {id, ts, container, mmsi, camera, ptz, note};
    g_autofree char *payload = topics_selection_payload(&sel);
    v->events(topic, id, payload, v->user_data);
}

/* The length of container @code's box for the PTZ's zoom, from its ISO 6346 size/type (the
 * declared one, else the read's); 0 (a 40 ft box) when unknown. */
static double box_length(AppVideo *v, const char *code)
{
    char size_type[5];
    Iso6346SizeType st;
    if (!overlay_scene_size_type(v->scene, code, size_type) ||
        !iso6346_size_type_lookup(size_type, &st, NULL))
        return 0.0;
    return st.length_mm / 1000.0;
}

gboolean app_video_select(AppVideo *v, const char *camera, const char *container, guint32 mmsi,
                          GError **error)
{
    overlay_scene_select(v->scene, container, mmsi);
    if (!container && !mmsi) {
        say_selection(v, NULL, 0, NULL, NULL, "cleared");
        return TRUE;
    }
    double lat, lon;
    g_autofree char *seen_by = NULL;
    GError *local = NULL;
    if (!overlay_scene_locate(v->scene, container, mmsi, NULL, &lat, &lon, &seen_by, &local)) {
        /* Highlighted wherever it appears; without a PTZ there is nothing more to do. */
        say_selection(v, container, mmsi, NULL, NULL, local->message);
        if (ptz_set_count(v->ptz) == 0) {
            g_error_free(local);
            return TRUE;
        }
        g_propagate_prefixed_error(error, local, "select: ");
        return FALSE;
    }
    if (ptz_set_count(v->ptz) == 0) {
        say_selection(v, container, mmsi, seen_by, NULL, "no PTZ configured");
        return TRUE;
    }
    g_autofree char *aimed = NULL;
    double length = container ? box_length(v, container) : VESSEL_BOX_M;
    if (!ptz_set_aim(v->ptz, camera, lat, lon, length, &aimed, &local) && camera) {
        say_selection(v, container, mmsi, seen_by, NULL, local->message);
        g_propagate_prefixed_error(error, local, "select: ");
        return FALSE;
    }
    g_clear_error(&local);
    say_selection(v, container, mmsi, seen_by, aimed, NULL);
    return TRUE;
}

void app_video_set_replaying(AppVideo *v, gboolean replaying)
{
    v->replaying = replaying;
}

/* A click on @camera's picture: the container under it is selected; the PTZ nearest to the
 * ground point there aims at it (the pixel unprojected through the fixed camera's model). */
gboolean app_video_select_at(AppVideo *v, const char *camera, double x, double y,
                             char **container, guint32 *mmsi, char **aim_json, GError **error)
{
    VideoCam *c = app_video__find_cam(v, camera);
    *container = overlay_scene_pick(v->scene, camera, x, y, 8.0);
    *mmsi = !*container && c ? overlay_scene_pick_vessel(v->scene, camera, c->width, c->height,
                                                         x, y, 8.0)
                             : 0;
    *aim_json = NULL;
    if (*container || *mmsi)
        overlay_scene_select(v->scene, *container, *mmsi);
    double lat, lon, ptz[3];
    if (*mmsi)
        overlay_scene_vessel_position(v->scene, *mmsi, &lat, &lon);
    else if (!c || !c->model || !overlay_camera_unproject(c->model, x, y, &lat, &lon)) {
        g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                    "camera %s has no model (pose or ground_points) placing (%.0f, %.0f) on "
                    "the ground: no PTZ aimed", camera, x, y);
        return FALSE;
    }
    double length = *container ? box_length(v, *container) : *mmsi ? VESSEL_BOX_M : 0.0;
    const char *near = ptz_set_nearest(v->ptz, lat, lon, length, ptz);
    if (!near) {
        g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE,
                    "no camera has a PTZ (ptz_url) to aim at %.6f,%.6f", lat, lon);
        return FALSE;
    }
    g_autofree char *name = g_strescape(near, NULL);
    *aim_json = g_strdup_printf("{\"ptz\":\"%s\",\"lat\":%.7f,\"lon\":%.7f,\"pan\":%.5f,"
                                "\"tilt\":%.5f,\"zoom\":%.5f,\"box_m\":%.2f}",
                                name, lat, lon, ptz[0], ptz[1], ptz[2],
                                length > 0 ? length : PTZ_BOX_40FT_M);
    return ptz_set_aim(v->ptz, near, lat, lon, length, NULL, error) > 0;
}

gboolean app_video_ptz_preset(AppVideo *v, const char *camera, const char *preset,
                              double out[3], GError **error)
{
    return ptz_set_goto_preset(v->ptz, camera, preset, out, error);
}

PtzSet *app_video_ptz(AppVideo *v)
{
    return v->ptz;
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
    const char *rest = topics_rest(v->root, topic);
    gboolean gate = rest && g_str_has_prefix(rest, "gate/");
    if (!customs && !select && !gate)
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
        if (v->replaying)
            return TRUE; /* an old selection is not redone at start-up */
        JsonNode *clear = json_object_get_member(o, "clear");
        if (clear && JSON_NODE_HOLDS_VALUE(clear) &&
            json_node_get_value_type(clear) == G_TYPE_BOOLEAN && json_node_get_boolean(clear))
            return app_video_select(v, NULL, NULL, 0, error);
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
    if (gate) {
        /* The gate system's size/type of the container: what the PTZ zooms for. */
        const char *code = member(o, "container"), *st = member(o, "size_type");
        if (!code || !st || !iso6346_size_type_valid(st))
            return TRUE;
        PsSceneContainer c = {0};
        overlay_scene_get_container(v->scene, code, &c);
        g_free((char *)c.code);
        c.code = g_strdup(code);
        g_free((char *)c.size_type);
        c.size_type = g_strdup(st);
        overlay_scene_put_container(v->scene, &c);
        overlay_container_info_clear(&c);
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
            .size_type = old.size_type,
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
