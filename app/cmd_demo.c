/* cmd_demo.c: `portsight demo [--out DIR]`, the whole system on the shipped scenario. */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "app.h"
#include "demo-serve.h"

typedef struct {
    const char *name;
    AppDemoStep run;
} DemoStep;

/* The steps, in order. Each module appends its own. */
static const DemoStep steps[] = {
    {"rules: releases and holds (MQTT inputs played in process)", app_demo_rules},
    {"ais: vessels and port calls around Ningbo-Zhoushan (synthetic AIS sample)", app_demo_ais},
    {"ocr: container codes on synthetic gate frames, fused across them", app_demo_ocr},
    {"video: cameras, OCR, AR overlay and the video wall (synthetic clips)", app_demo_video},
    {NULL, NULL},
};

char *app_demo_scenario_dir(void)
{
    return app_datadir_find("scenario", G_FILE_TEST_IS_DIR);
}

int app_cmd_demo(int argc, char **argv)
{
    g_autofree char *out = NULL, *listen = NULL, *users = NULL, *ptz = NULL;
    gboolean serve = FALSE;
    const GOptionEntry entries[] = {
        {"serve", 0, 0, G_OPTION_ARG_NONE, &serve,
         "then loop the scenario behind the operator console", NULL},
        {"listen", 0, 0, G_OPTION_ARG_STRING, &listen,
         "with --serve: HOST:PORT (default 127.0.0.1:8080)", "ADDR"},
        {"users", 0, 0, G_OPTION_ARG_FILENAME, &users,
         "with --serve: the users file (default: new demo users)", "FILE"},
        {"ptz", 0, 0, G_OPTION_ARG_STRING, &ptz,
         "with --serve: an ONVIF PTZ service URL to aim at clicks", "URL"},
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "output folder (default: ./portsight-demo)",
         "DIR"},
        {NULL},
    };
    int code;
    if (!app_parse_options(&argc, &argv, "",
                           "Plays the shipped sample scenario through the whole engine, with no "
                           "broker or camera,\nand says where its outputs are.",
                           entries, &code))
        return code;
    if (argc > 1) {
        app_error(NULL, "demo: unexpected argument '%s'", argv[1]);
        return APP_EXIT_USAGE;
    }
    if (!out)
        out = g_strdup("portsight-demo");
    if (g_mkdir_with_parents(out, 0755) != 0) {
        app_error(out, "cannot create the output folder: %s", g_strerror(errno));
        return APP_EXIT_USAGE;
    }
    g_autofree char *scenario = app_demo_scenario_dir();
    if (!scenario) {
        app_error(NULL, "demo: the shipped scenario (data/scenario) is not installed; set "
                        "PORTSIGHT_DATADIR to the folder that holds it");
        return APP_EXIT_USAGE;
    }

    /* A demo starts from nothing: the previous run's store would make every event a
     * duplicate. */
    g_autofree char *db = g_build_filename(out, "portsight.db", NULL);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *f = g_strconcat(db, suffixes[i], NULL);
        if (g_unlink(f) != 0 && errno != ENOENT) {
            app_error(f, "cannot remove the previous demo's store: %s", g_strerror(errno));
            return APP_EXIT_USAGE;
        }
    }
    g_autoptr(GError) error = NULL;
    AppDemo demo = {out, scenario, NULL, g_ptr_array_new_with_free_func(g_free)};
    demo.store = store_open(db, &error);
    if (!demo.store) {
        app_error(NULL, "%s", error->message);
        g_ptr_array_unref(demo.outputs);
        return APP_EXIT_USAGE;
    }
    printf("portsight demo: scenario %s\n", scenario);
    printf("store: created %s (SQLite, WAL, schema version %d)\n", db, store_schema_version());
    g_ptr_array_add(demo.outputs, g_strdup_printf("event journal and state: %s", db));

    int exit_code = APP_EXIT_OK;
    for (guint i = 0; i < G_N_ELEMENTS(steps) && steps[i].run; i++) {
        if (serve && steps[i].run == app_demo_video)
            continue; /* the console shows the video live instead */
        printf("\n== %s ==\n", steps[i].name);
        fflush(stdout);
        if (!steps[i].run(&demo, &error)) {
            app_error(NULL, "demo: %s: %s", steps[i].name, error->message);
            exit_code = APP_EXIT_USAGE;
            break;
        }
    }
    PsStoreStats stats = {0};
    if (store_stats(demo.store, &stats, &error))
        printf("\njournal: %" G_GINT64_FORMAT " events, %" G_GINT64_FORMAT
               " duplicates ignored, %" G_GINT64_FORMAT " dead letters\n",
               stats.journal, stats.duplicates, stats.dead_letters);
    if (serve && exit_code == APP_EXIT_OK)
        exit_code = app_demo_serve(&demo, listen, users, ptz);
    store_close(demo.store);

    printf("\nOutputs in %s:\n", out);
    for (guint i = 0; i < demo.outputs->len; i++)
        printf("  %s\n", (char *)g_ptr_array_index(demo.outputs, i));
    g_ptr_array_unref(demo.outputs);
    return exit_code;
}
