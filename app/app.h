/* app.h: the portsight command, shared between the files of app/ only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit codes of the command-line contract. */
enum {
    APP_EXIT_OK = 0,
    APP_EXIT_BAD_INPUT = 1, /* bad input the user asked to be strict about */
    APP_EXIT_USAGE = 2,     /* usage or I/O error */
};

/* A subcommand: argv[0] is its own name ("demo", "ais", ...). Returns an exit code. */
typedef int (*AppCommandFunc)(int argc, char **argv);

typedef struct {
    const char *name;
    const char *args;    /* synopsis after the name, for the usage text */
    const char *summary; /* one line for `portsight --help` */
    AppCommandFunc run;
} AppCommand;

/* One error line on stderr, the contract's format: "portsight: WHERE: what is wrong".
 * @where is "FILE:LINE", "FILE" or NULL. */
void app_error(const char *where, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Parses @entries for a subcommand with GOption. On --help prints it and returns FALSE with
 * *@exit_code 0; on a usage error prints one line and returns FALSE with *@exit_code 2. */
gboolean app_parse_options(int *argc, char ***argv, const char *params, const char *summary,
                           const GOptionEntry *entries, int *exit_code);

/* The subcommands; each lives in its own app/cmd_*.c file. */
int app_cmd_run(int argc, char **argv);
int app_cmd_demo(int argc, char **argv);
int app_cmd_ais(int argc, char **argv);
int app_cmd_ocr(int argc, char **argv);
int app_cmd_vessel(int argc, char **argv);
int app_cmd_explain(int argc, char **argv);
int app_cmd_db(int argc, char **argv);
int app_cmd_webhook(int argc, char **argv);
int app_cmd_user(int argc, char **argv);

/* The shipped file or folder @relpath ("ports/ports.csv", "scenario") that passes @test, looked
 * up in $PORTSIGHT_DATADIR, then in DATADIR/portsight beside the binary (BINDIR/../share/
 * portsight), then in the configured DATADIR/portsight; NULL when none has it. */
char *app_datadir_find(const char *relpath, GFileTest test);

/* Logging: GLib structured logging, one line per message on stderr, filtered by level. */
typedef enum { APP_LOG_ERROR, APP_LOG_WARNING, APP_LOG_INFO, APP_LOG_DEBUG } AppLogLevel;
gboolean app_log_level_parse(const char *name, AppLogLevel *level);
void app_log_init(AppLogLevel level);
/* With @on, g_message() lines show at the default level too, tagged "note": what the daemon
 * started, each release and hold (one line each). */
void app_log_notes(gboolean on);

G_END_DECLS
