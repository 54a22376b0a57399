/* cmd_db.c: `portsight db import FILE`: customs declarations from CSV or JSON (read by
 * ingest/decl), each row journaled as a customs status event (source "import") and run through
 * the rules, as if it had come over MQTT. */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "decl.h"
#include "rules-cli.h"
#include "rules.h"

#define DB_MAX_FILE (256 * 1024 * 1024) /* bytes read from one import file */

typedef struct {
    const char *file;
    PsRules *rules;
    char *topic;
    guint rows, imported, duplicates, bad, decisions;
} Import;

/* Validates and ingests one row. Reports a bad row as FILE:LINE: reason. Returns FALSE only on
 * a store error. */
static gboolean on_row(const char *payload, int line, gpointer user_data, GError **error)
{
    Import *im = user_data;
    im->rows++;
    g_autofree char *where = g_strdup_printf("%s:%d", im->file, line);
    const char *rest = im->topic + strlen(im->topic) - strlen("customs/status");
    g_autoptr(GError) invalid = NULL;
    if (!rules_validate(rest, payload, -1, &invalid)) {
        app_error(where, "%s", invalid->message);
        im->bad++;
        return TRUE;
    }
    RulesIngestResult res;
    if (!rules_ingest_from(im->rules, "import", im->topic, payload, -1, &res, error)) {
        g_prefix_error(error, "%s: ", where);
        return FALSE;
    }
    if (res.outcome == RULES_DUPLICATE)
        im->duplicates++;
    else if (res.outcome == RULES_ACCEPTED)
        im->imported++;
    else {
        app_error(where, "%s", res.reason);
        im->bad++;
    }
    im->decisions += res.decisions;
    rules_ingest_result_clear(&res);
    return TRUE;
}

static void on_bad(DeclBad kind, int line, const char *reason, gpointer user_data)
{
    Import *im = user_data;
    if (kind == DECL_BAD_TEXT) {
        app_error(NULL, "%s:%s", im->file, reason); /* the reason starts with LINE:COL: */
    } else if (line > 0) {
        g_autofree char *where = g_strdup_printf("%s:%d", im->file, line);
        app_error(where, "%s", reason);
    } else {
        app_error(im->file, "%s", reason);
    }
    if (kind == DECL_BAD_ROW)
        im->rows++;
    if (kind != DECL_BAD_FILE)
        im->bad++;
}

typedef struct {
    Import *im;
    const char *text;
    gsize len;
    DeclFormat format;
    const char *default_ts;
    gboolean unusable;
} ImportRun;

static gboolean import_txn(PsStore *store, gpointer user_data, GError **error)
{
    ImportRun *run = user_data;
    DeclSink sink = {on_row, on_bad, run->im, run->default_ts};
    return decl_read(run->text, run->len, run->format, &sink, &run->unusable, error);
}

static char *mtime_ts(const char *path)
{
    GStatBuf st;
    g_autoptr(GDateTime) dt = g_stat(path, &st) == 0 ? g_date_time_new_from_unix_utc(st.st_mtime)
                                                     : g_date_time_new_now_utc();
    return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

int app_cmd_db(int argc, char **argv)
{
    g_autofree char *db = NULL, *config = NULL, *format = NULL;
    gboolean strict = FALSE;
    const GOptionEntry entries[] = {
        {"db", 0, 0, G_OPTION_ARG_FILENAME, &db, "the store (default: ./portsight.db)", "FILE"},
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config,
         "use the [store] path and [mqtt] topic_root of FILE", "FILE"},
        {"strict", 0, 0, G_OPTION_ARG_NONE, &strict, "exit 1 when any row is bad", NULL},
        {"format", 0, 0, G_OPTION_ARG_STRING, &format,
         "csv or json (default: from the file name, else from its first character)", "FMT"},
        {NULL},
    };
    int code;
    if (!app_parse_options(&argc, &argv, "import FILE",
                           "Imports customs declarations from CSV (a header row naming the "
                           "columns id, ts, declaration,\nstatus, flow, containers, origin, "
                           "destination, goods, consignee, vessel_name, vessel_imo,\n"
                           "vessel_mmsi, vessel_voyage; containers separated by spaces or ';') "
                           "or JSON (an array of\nobjects, or one object per line, with the "
                           "fields of the port/customs/status event).\nEach row is journaled "
                           "as a customs status event (source \"import\"; id from the row, or\n"
                           "derived from declaration, status and ts; ts defaults to the file's "
                           "modification time)\nand goes through the release rules. Bad rows "
                           "are reported as FILE:LINE: reason.",
                           entries, &code))
        return code;
    if (argc != 3 || strcmp(argv[1], "import") != 0) {
        app_error(NULL, "db: usage: portsight db import [--db FILE | -c FILE] [--strict] FILE");
        return APP_EXIT_USAGE;
    }
    const char *file = argv[2];
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
        app_error(NULL, "db: --format: expected csv or json, got '%s'", format);
        return APP_EXIT_USAGE;
    }
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;
    GStatBuf st;
    if (g_stat(file, &st) == 0 && st.st_size > DB_MAX_FILE) {
        app_error(file, "%lld bytes, more than the %d MiB an import may have",
                  (long long)st.st_size, DB_MAX_FILE / (1024 * 1024));
        return APP_EXIT_USAGE;
    }
    if (!g_file_get_contents(file, &text, &len, &error)) {
        app_error(file, "cannot read: %s", g_strerror(errno ? errno : ENOENT));
        return APP_EXIT_USAGE;
    }
    if (!g_utf8_validate_len(text, len, NULL) || strlen(text) != len) {
        app_error(file, "not UTF-8 text");
        return APP_EXIT_USAGE;
    }
    g_autofree char *path = NULL;
    PsStore *store = app_rules_open_store("db import", db, config, FALSE, &path);
    if (!store)
        return APP_EXIT_USAGE;
    g_autofree char *root = app_rules_topic_root(config);
    g_autofree char *default_ts = mtime_ts(file);
    Import im = {.file = file};
    im.topic = g_strdup_printf("%s/customs/status", root);
    PsRulesPolicy policy;
    app_rules_policy(config, &policy);
    im.rules = rules_new_full(store, root, &policy, &error);
    int exit_code = APP_EXIT_OK;
    if (!im.rules) {
        app_error(path, "%s", error->message);
        exit_code = APP_EXIT_USAGE;
        goto out;
    }
    DeclFormat fmt = decl_format(!format                      ? DECL_FORMAT_AUTO
                                 : strcmp(format, "json") == 0 ? DECL_FORMAT_JSON
                                                               : DECL_FORMAT_CSV,
                                 file, text);
    /* One transaction for the whole file: all rows or, on a store error, none. */
    ImportRun run = {&im, text, len, fmt, default_ts, FALSE};
    gboolean ok = store_transaction(store, import_txn, &run, &error);
    if (ok && run.unusable)
        exit_code = APP_EXIT_USAGE;
    if (!ok) {
        app_error(path, "%s", error->message);
        exit_code = APP_EXIT_USAGE;
    } else if (exit_code == APP_EXIT_OK) {
        printf("db import: %s: %u rows: %u imported, %u already known, %u bad; %u new decision%s; "
               "store %s\n",
               file, im.rows, im.imported, im.duplicates, im.bad, im.decisions,
               im.decisions == 1 ? "" : "s", path);
        if (strict && im.bad > 0)
            exit_code = APP_EXIT_BAD_INPUT;
    }
out:
    rules_free(im.rules);
    store_close(store);
    g_free(im.topic);
    return exit_code;
}
