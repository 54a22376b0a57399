/* daemon_console.c: wires the console (console/) to the engine: store, rules, AIS registry,
 * the video's scene, wall, selection and camera health. */
#include "app.h"
#include "daemon-console.h"
#include "topics.h"
#include "video.h"

static gboolean select_cb(gpointer data, const char *camera, const char *container,
                          guint32 mmsi, GError **error)
{
    AppDaemon *d = data;
    return d->video ? app_video_select(d->video, camera, container, mmsi, error) : TRUE;
}

static gboolean select_at_cb(gpointer data, const char *camera, double x, double y,
                             char **container, guint32 *mmsi, char **aim, GError **error)
{
    AppDaemon *d = data;
    *container = *aim = NULL;
    *mmsi = 0;
    return d->video && app_video_select_at(d->video, camera, x, y, container, mmsi, aim, error);
}

void app_console_show_verdicts(AppDaemon *d, const char *topic, const char *payload)
{
    if (!d->video || !d->rules)
        return;
    /* The wall draws the rules' verdict on the containers the input names, at once. */
    const char *rest = topics_rest(app_config_string(d->config, "mqtt", "topic_root"), topic);
    g_auto(GStrv) named = rest ? rules_input_containers(rest, payload, -1) : NULL;
    for (guint i = 0; named && named[i]; i++) {
        RulesVerdict v = {0};
        if (rules_verdict(d->rules, named[i], &v))
            app_video_show_verdict(app_video_scene(d->video), named[i], &v);
        rules_verdict_clear(&v);
    }
}

static void journaled_cb(gpointer data, const char *topic, const char *payload)
{
    app_console_show_verdicts(data, topic, payload);
}

static gboolean ptz_preset_cb(gpointer data, const char *camera, const char *preset,
                              double out[3], GError **error)
{
    AppDaemon *d = data;
    if (!d->video) {
        g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_VALUE, "no cameras configured");
        return FALSE;
    }
    return app_video_ptz_preset(d->video, camera, preset, out, error);
}

static gboolean ptz_presets_cb(gpointer data, const char *camera, GArray *out)
{
    AppDaemon *d = data;
    g_autoptr(GArray) list = g_array_new(FALSE, FALSE, sizeof(PtzPreset));
    if (!d->video || !ptz_set_list_presets(app_video_ptz(d->video), camera, list))
        return FALSE;
    for (guint i = 0; i < list->len; i++) {
        const PtzPreset *p = &g_array_index(list, PtzPreset, i);
        ConsolePreset cp = {"", p->pos[0], p->pos[1], p->pos[2]};
        g_strlcpy(cp.name, p->name, sizeof cp.name);
        g_array_append_val(out, cp);
    }
    return TRUE;
}

static char *cameras_cb(gpointer data)
{
    AppDaemon *d = data;
    return d->video ? app_video_cameras_json(d->video) : NULL;
}

PsConsole *app_console_new(AppDaemon *d, const char *listen, const char *users, GError **error)
{
    g_auto(GStrv) hooks = app_config_instances(d->config, "webhook");
    GPtrArray *dest = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(dest, g_strdup("mqtt"));
    for (guint i = 0; hooks[i]; i++)
        g_ptr_array_add(dest, g_strdup(hooks[i] + strlen("webhook ")));
    g_ptr_array_add(dest, NULL);
    ConsoleConfig cc = {
        .listen = listen ? listen : app_config_string(d->config, "http", "listen"),
        .tls_cert = app_config_string(d->config, "http", "tls_cert"),
        .tls_key = app_config_string(d->config, "http", "tls_key"),
        .users = users ? users : app_config_string(d->config, "http", "users"),
        .www_dir = app_config_string(d->config, "http", "www_dir"),
        .topic_root = app_config_string(d->config, "mqtt", "topic_root"),
        .store = d->store,
        .rules = &d->rules,
        .vessels = &d->vessels,
        .destinations = (const char *const *)dest->pdata,
        .engine = {
            .data = d,
            .scene = d->video ? app_video_scene(d->video) : NULL,
            .wall = d->video ? app_video_wall(d->video) : NULL,
            .select = select_cb,
            .select_at = select_at_cb,
            .cameras = cameras_cb,
            .journaled = journaled_cb,
            .ptz_preset = ptz_preset_cb,
            .ptz_presets = ptz_presets_cb,
        },
    };
    PsConsole *c = console_new(&cc, error);
    g_ptr_array_unref(dest);
    return c;
}

gboolean app_console_start(AppDaemon *d, gpointer *state, GError **error)
{
    if (!app_config_has_group(d->config, "http"))
        return TRUE;
    *state = app_console_new(d, NULL, NULL, error);
    if (!*state) {
        g_autofree char *at = app_config_at(d->config, "http", "listen");
        g_prefix_error(error, "%s: ", at);
    }
    return *state != NULL;
}

void app_console_stop(AppDaemon *d, gpointer state)
{
    console_free(state);
}
