/* cmd_run.c: `portsight run -c FILE`, the daemon. */
#include <glib-unix.h>

#include "app.h"
#include "daemon.h"
#include "daemon-ais.h"
#include "daemon-decl.h"
#include "daemon-mqtt.h"
#include "daemon-node.h"
#include "daemon-console.h"
#include "daemon-video.h"
#include "rules-cli.h"

/* The daemon's parts, started in this order and stopped in reverse. */
static const AppComponent components[] = {
    {"outbox relay", NODE_PART_RELAY, app_relay_start, app_relay_stop},
    {"mqtt subscriber", NODE_PART_SUBSCRIBER, app_mqtt_start, app_mqtt_stop},
    {"ais feed", NODE_PART_AIS, app_ais_start, app_ais_stop},
    {"declarations", NODE_PART_DECLARATIONS, app_decl_start, app_decl_stop},
    {"video", NODE_PART_VIDEO, app_video_start_component, app_video_stop_component},
    {"verdict feed", NODE_PART_FEED, app_feed_start, app_feed_stop},
    {"console", NODE_PART_CONSOLE, app_console_start, app_console_stop},
    {NULL, 0, NULL, NULL},
};

/* Journal retention ([store] journal_keep_days): a bounded batch every few seconds. */
#define PRUNE_INTERVAL_S 5
#define PRUNE_BATCH 2000

static gboolean on_prune(gpointer user_data)
{
    AppDaemon *d = user_data;
    g_autoptr(GError) error = NULL;
    guint n = 0;
    if (!rules_prune_journal(d->rules, PRUNE_BATCH, &n, &error))
        g_warning("store: journal retention: %s (tried again in %d s)", error->message,
                  PRUNE_INTERVAL_S);
    else if (n > 0)
        g_debug("store: journal retention: %u rows", n);
    return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer user_data)
{
    AppDaemon *d = user_data;
    g_info("signal received: shutting down");
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

int app_cmd_run(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    const GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {NULL},
    };
    int code;
    if (!app_parse_options(&argc, &argv, "", "Runs the engine as configured in FILE.", entries,
                           &code))
        return code;
    if (!config_path || argc > 1) {
        app_error(NULL, "run: usage: portsight run -c FILE");
        return APP_EXIT_USAGE;
    }
    app_log_notes(TRUE); /* what started, each release and hold: one line each */

    g_autoptr(GError) error = NULL;
    AppDaemon d = {0};
    d.config = app_config_load(config_path, &error);
    if (!d.config) {
        app_error(NULL, "%s", error->message);
        return APP_EXIT_USAGE;
    }
    const char *db = app_config_string(d.config, "store", "path");
    d.store = store_open(db, &error);
    if (!d.store) {
        app_error(NULL, "%s", error->message);
        app_config_free(d.config);
        return APP_EXIT_USAGE;
    }
    const char *sync = app_config_string(d.config, "store", "sync");
    if (!store_set_sync(d.store, g_strcmp0(sync, "normal") != 0, &error)) {
        app_error(NULL, "%s: [store] sync: %s", db, error->message);
        store_close(d.store);
        app_config_free(d.config);
        return APP_EXIT_USAGE;
    }
    store_set_dead_letter_max(d.store,
                              app_config_int(d.config, "store", "dead_letter_max_mb") * 1024 * 1024);
    /* The topic root names the rules' topics whether or not MQTT is configured. */
    PsRulesPolicy policy;
    app_rules_policy_of(d.config, &policy);
    PsRulesRetention retention;
    app_rules_retention_of(d.config, &retention);
    const char *archive = app_config_string(d.config, "store", "journal_archive");
    if (archive && !store_set_journal_archive(d.store, archive, &error)) {
        app_error(NULL, "%s: [store] journal_archive: %s", db, error->message);
        store_close(d.store);
        app_config_free(d.config);
        return APP_EXIT_USAGE;
    }
    d.rules = rules_open(d.store, app_config_string(d.config, "mqtt", "topic_root"), &policy,
                         &retention, &error);
    if (!d.rules) {
        app_error(NULL, "%s: rules: %s", db, error->message);
        store_close(d.store);
        app_config_free(d.config);
        return APP_EXIT_USAGE;
    }
    d.loop = g_main_loop_new(NULL, FALSE);
    d.nodes = node_directory_new();
    NodeRole role = app_node_role(d.config);
    if (role != NODE_ROLE_ALL)
        g_message("node %s, role %s", app_node_name(d.config), node_role_name(role));
    guint sigint = g_unix_signal_add(SIGINT, on_signal, &d);
    guint sigterm = g_unix_signal_add(SIGTERM, on_signal, &d);
    guint prune = retention.journal_keep_days
                      ? g_timeout_add_seconds(PRUNE_INTERVAL_S, on_prune, &d)
                      : 0;

    int exit_code = APP_EXIT_OK;
    gpointer states[G_N_ELEMENTS(components)] = {0};
    gboolean ran[G_N_ELEMENTS(components)] = {0};
    gsize started = 0;
    for (; started < G_N_ELEMENTS(components); started++) {
        const AppComponent *c = &components[started];
        if (!c->start || !node_role_runs(role, (NodePart)c->part))
            continue;
        if (!c->start(&d, &states[started], &error)) {
            app_error(NULL, "%s: %s", c->name, error->message);
            exit_code = APP_EXIT_USAGE;
            break;
        }
        ran[started] = TRUE;
        g_message("%s started", c->name);
    }
    if (exit_code == APP_EXIT_OK) {
        g_message("running with store %s (schema %d)", db, store_schema_version());
        g_main_loop_run(d.loop);
    }
    while (started-- > 0)
        if (components[started].stop && ran[started])
            components[started].stop(&d, states[started]);

    g_source_remove(sigint);
    g_source_remove(sigterm);
    if (prune)
        g_source_remove(prune);
    /* A clean stop writes the snapshot: the next start replays nothing. */
    g_autoptr(GError) snap_error = NULL;
    if (!rules_snapshot(d.rules, &snap_error))
        g_warning("rules: snapshot at stop: %s (the next start replays more)",
                  snap_error->message);
    g_main_loop_unref(d.loop);
    node_directory_free(d.nodes);
    rules_free(d.rules);
    store_close(d.store); /* checkpoints the WAL: everything journaled is in the main file */
    app_config_free(d.config);
    g_info("stopped");
    return exit_code;
}
