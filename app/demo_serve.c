/* demo_serve.c: `portsight demo --serve`: after the steps, the scenario's clips loop through
 * cameras, OCR, overlay and wall behind the console (no broker, no camera), on the demo's
 * store, until SIGINT/SIGTERM. */
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "daemon-ais.h"
#include "daemon-console.h"
#include "demo-serve.h"
#include "video.h"

/* The demo's high-risk list, as its AIS step has it. */
static const char *const serve_high_risk[] = {"BANDAR ABBAS", NULL};

static void on_event(const char *topic, const char *id, const char *payload, gpointer data)
{
    AppDaemon *d = data;
    if (!g_str_has_prefix(topic, "port/ocr/"))
        return;
    RulesIngestResult r = {0};
    GError *error = NULL;
    if (!rules_ingest_from(d->rules, "ocr", topic, payload, -1, &r, &error)) {
        g_warning("%s: %s", topic, error->message);
        g_error_free(error);
    }
    rules_ingest_result_clear(&r);
    app_console_show_verdicts(d, topic, payload);
}

static gboolean on_signal(gpointer data)
{
    g_main_loop_quit(((AppDaemon *)data)->loop);
    return G_SOURCE_CONTINUE;
}

/* Users for a newcomer: one per role, random passwords printed once. */
static char *demo_users(const char *out_dir, GError **error)
{
    char *path = g_build_filename(out_dir, "users.ini", NULL);
    const char *roles[] = {"viewer", "operator", "officer"};
    printf("console users (written to %s):\n", path);
    for (guint i = 0; i < G_N_ELEMENTS(roles); i++) {
        ConsoleRole role;
        console_role_parse(roles[i], &role);
        g_autofree char *password = console_random_hex(6);
        g_autofree char *token = console_user_add(path, roles[i], role, password, error);
        if (!token) {
            g_free(path);
            return NULL;
        }
        printf("  %-8s password %s  (API token %s)\n", roles[i], password, token);
    }
    return path;
}

int app_demo_serve(AppDemo *demo, const char *listen, const char *users, const char *ptz_url)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_build_filename(demo->scenario_dir, "video", NULL);
    g_autofree char *ini = g_build_filename(dir, "scene.ini", NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, ini, G_KEY_FILE_NONE, &error)) {
        app_error(ini, "%s", error->message);
        return APP_EXIT_USAGE;
    }
    /* A PTZ for the click-to-aim: at the berth, its own pose, no picture of its own. */
    g_autofree char *extra =
        ptz_url ? g_strdup_printf("[camera ptz-1]\nuri = testsrc://black\nocr = false\n"
                                  "pose = 30.6195,122.0712,25,100,5,40\nptz_url = %s\n"
                                  "ptz_zoom_distance = 300\n"
                                  "presets = gate:0.25,-0.1,0.5; quay:-0.5,-0.2,0\n",
                                  ptz_url)
                : NULL;
    GString *order = g_string_new(NULL);
    AppDaemon d = {0};
    d.config = app_demo_video_config(dir, kf, extra, order, &error);
    g_string_free(order, TRUE);
    if (!d.config) {
        app_error(NULL, "demo --serve: %s", error->message);
        return APP_EXIT_USAGE;
    }
    g_autofree char *users_path = users ? g_strdup(users) : demo_users(demo->out_dir, &error);
    g_autofree char *ports_path = app_ais_ports_path();
    g_autoptr(PsPortList) ports = ports_path ? portcalls_ports_load(ports_path, &error) : NULL;
    PsVesselsConfig vc;
    vessels_config_init(&vc);
    vc.high_risk = serve_high_risk;
    d.store = demo->store;
    d.loop = g_main_loop_new(NULL, FALSE);
    d.rules = users_path && ports ? rules_new(d.store, "port", &error) : NULL;
    d.vessels = d.rules ? vessels_new(&vc, ports, d.store, &error) : NULL;
    AppVideo *video = d.vessels ? app_video_new(d.config, on_event, &d, &error) : NULL;
    PsConsole *console = NULL;
    int code = APP_EXIT_USAGE;
    if (video) {
        app_demo_fill_scene(kf, app_video_scene(video), NULL);
        d.video = video;
        /* The wall draws the rules' verdicts (from the demo's journal), not scene.ini's. */
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        for (guint i = 0; groups[i]; i++) {
            RulesVerdict v = {0};
            if (g_str_has_prefix(groups[i], "container ") &&
                rules_verdict(d.rules, groups[i] + strlen("container "), &v))
                app_video_show_verdict(app_video_scene(video), groups[i] + strlen("container "),
                                       &v);
            rules_verdict_clear(&v);
        }
        if (app_video_start(video, &error))
            console = app_console_new(&d, listen, users_path, &error);
    }
    if (console) {
        printf("\nconsole: http://%s/ (the scenario loops; Ctrl-C stops)\n",
               listen ? listen : "127.0.0.1:8080");
        fflush(stdout);
        guint s1 = g_unix_signal_add(SIGINT, on_signal, &d);
        guint s2 = g_unix_signal_add(SIGTERM, on_signal, &d);
        g_main_loop_run(d.loop);
        g_source_remove(s1);
        g_source_remove(s2);
        code = APP_EXIT_OK;
    } else {
        app_error(NULL, "demo --serve: %s", error ? error->message : "cannot start");
    }
    console_free(console);
    if (video) {
        app_video_stop(video);
        app_video_free(video);
    }
    vessels_free(d.vessels);
    rules_free(d.rules);
    g_main_loop_unref(d.loop);
    app_config_free(d.config);
    return code;
}
