/* main.c: the portsight command: global options and subcommand dispatch. */
#include "app.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "ps-config.h"

static const AppCommand commands[] = {
    {"run", "-c FILE", "the daemon: cameras, MQTT, AIS, rules, publisher, video wall",
     app_cmd_run},
    {"demo", "[--out DIR]", "the whole system on the shipped sample scenario, no services",
     app_cmd_demo},
    {"ais", "decode [-u] [FILE...]", "decode NMEA AIVDM/AIVDO to gpsd-style JSON", app_cmd_ais},
    {"ocr", "[--fuse] IMAGE...", "read ISO 6346 container numbers from images", app_cmd_ocr},
    {"vessel", "calls NAME [--days N]", "the ports a vessel stopped at", app_cmd_vessel},
    {"explain", "CONTAINER", "every decision about a container, with its reasons",
     app_cmd_explain},
    {"db", "import FILE", "import customs declarations from CSV or JSON", app_cmd_db},
    {"webhook", "enable NAME", "resume a webhook its endpoint disabled (410)", app_cmd_webhook},
    {"user", "add NAME --role ROLE", "add a console user (prints its API token)", app_cmd_user},
};

void app_error(const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (where)
        fprintf(stderr, "portsight: %s: %s\n", where, msg);
    else
        fprintf(stderr, "portsight: %s\n", msg);
}

gboolean app_parse_options(int *argc, char ***argv, const char *params, const char *summary,
                           const GOptionEntry *entries, int *exit_code)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(params);
    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        app_error(NULL, "%s: %s (see portsight %s --help)", (*argv)[0], error->message,
                  (*argv)[0]);
        *exit_code = APP_EXIT_USAGE;
        return FALSE;
    }
    *exit_code = APP_EXIT_OK;
    return TRUE;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: portsight [--version] [--log-level LEVEL] COMMAND [ARGS...]\n\n"
                 "Port logistics monitoring and AR overlay engine.\n\nCommands:\n");
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
        g_autofree char *syn = g_strdup_printf("%s %s", commands[i].name, commands[i].args);
        fprintf(out, "  %-28s %s\n", syn, commands[i].summary);
    }
    fprintf(out, "\nOptions:\n"
                 "  --log-level LEVEL            error, warning (default), info or debug\n"
                 "  --version                    print the version and exit\n"
                 "\n`portsight COMMAND --help` describes each command.\n");
}

/* Removes the global options from anywhere in argv (they may follow the subcommand). */
static gboolean take_globals(int *argc, char **argv, AppLogLevel *level, gboolean *version)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(a, "--version") == 0 && out == 1) {
            *version = TRUE;
        } else if (g_str_has_prefix(a, "--log-level")) {
            const char *v = a[11] == '=' ? a + 12 : a[11] == '\0' && i + 1 < *argc ? argv[++i]
                                                                                   : NULL;
            if (!v || !app_log_level_parse(v, level)) {
                app_error(NULL, "--log-level: expected error, warning, info or debug, got '%s'",
                          v ? v : "");
                return FALSE;
            }
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
    return TRUE;
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    AppLogLevel level = APP_LOG_WARNING;
    const char *env = g_getenv("PORTSIGHT_LOG_LEVEL");
    if (env && !app_log_level_parse(env, &level))
        app_error(NULL, "PORTSIGHT_LOG_LEVEL: ignoring unknown level '%s'", env);
    gboolean version = FALSE;
    if (!take_globals(&argc, argv, &level, &version))
        return APP_EXIT_USAGE;
    app_log_init(level);

    if (version) {
        printf("portsight %s\n", PS_VERSION);
        return APP_EXIT_OK;
    }
    if (argc < 2) {
        usage(stderr);
        return APP_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return APP_EXIT_OK;
    }
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    app_error(NULL, "unknown command '%s' (see portsight --help)", argv[1]);
    return APP_EXIT_USAGE;
}
