/* cmd_db.c: `portsight db import FILE`: customs declarations from CSV or JSON, each row
 * journaled as a customs status event (source "import") and run through the rules, as if it
 * had come over MQTT. */
#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "rules-cli.h"
#include "rules.h"

#define DB_MAX_FILE (256 * 1024 * 1024) /* bytes read from one import file */
#define DB_MAX_FIELDS 64                /* CSV columns */

/* The columns of a CSV import; JSON rows use the customs event's own field names. */
static const char *const csv_columns[] = {
    "id", "ts", "declaration", "status", "flow", "containers", "origin", "destination", "goods",
    "consignee", "vessel_name", "vessel_imo", "vessel_mmsi", "vessel_voyage", NULL,
};

typedef struct {
    const char *file;
    char *default_ts; /* for rows without ts: the file's modification time */
    PsRules *rules;
    char *topic;
    gboolean strict;
    guint rows, imported, duplicates, bad, decisions;
} Import;

/* Fills in id and ts when a row has none, validates, and ingests. Reports a bad row as
 * FILE:LINE: reason. Returns FALSE only on a store error. */
static gboolean import_object(Import *im, JsonObject *o, int line, GError **error)
{
    im->rows++;
    g_autofree char *where = g_strdup_printf("%s:%d", im->file, line);
    if (!json_object_has_member(o, "ts"))
        json_object_set_string_member(o, "ts", im->default_ts);
    if (!json_object_has_member(o, "id")) {
        /* Derived from what identifies a status change, so a re-import is a duplicate. */
        JsonNode *d = json_object_get_member(o, "declaration");
        JsonNode *s = json_object_get_member(o, "status");
        JsonNode *t = json_object_get_member(o, "ts");
        if (d && s && t && JSON_NODE_HOLDS_VALUE(d) && JSON_NODE_HOLDS_VALUE(s) &&
            JSON_NODE_HOLDS_VALUE(t) && json_node_get_value_type(d) == G_TYPE_STRING &&
            json_node_get_value_type(s) == G_TYPE_STRING &&
            json_node_get_value_type(t) == G_TYPE_STRING) {
            g_autofree char *id = g_strdup_printf("import:%s:%s:%s", json_node_get_string(d),
                                                  json_node_get_string(s),
                                                  json_node_get_string(t));
            json_object_set_string_member(o, "id", id);
        }
    }
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);
    g_autofree char *payload = json_to_string(node, FALSE);
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

/* ---- JSON: an array of objects, or one object per line ---- */

typedef struct {
    GArray *lines; /* line where each array element ends */
} ArrayLines;

static void on_array_element(JsonParser *parser, JsonArray *array, int index, gpointer user_data)
{
    ArrayLines *al = user_data;
    /* Only the top-level array: nested ones (containers) are parsed before their parent. */
    int line = (int)json_parser_get_current_line(parser);
    if (index >= 0 && (guint)index == al->lines->len)
        g_array_append_val(al->lines, line);
    else if (index >= 0 && (guint)index < al->lines->len)
        g_array_index(al->lines, int, index) = line;
}

static gboolean import_json_array(Import *im, const char *text, gsize len, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    ArrayLines al = {g_array_new(FALSE, TRUE, sizeof(int))};
    g_signal_connect(parser, "array-element", G_CALLBACK(on_array_element), &al);
    g_autoptr(GError) perr = NULL;
    gboolean ok = TRUE;
    if (!json_parser_load_from_data(parser, text, (gssize)len, &perr)) {
        /* json-glib's message starts with "<data>:LINE:COL:": keep the position. */
        const char *msg = g_str_has_prefix(perr->message, "<data>:") ? perr->message + 7
                                                                      : perr->message;
        g_autofree char *where = g_strdup_printf("%s:%s", im->file, msg);
        app_error(NULL, "%s", where);
        im->bad++;
        g_array_unref(al.lines);
        return TRUE;
    }
    JsonArray *a = json_node_get_array(json_parser_get_root(parser));
    for (guint i = 0; ok && i < json_array_get_length(a); i++) {
        JsonNode *n = json_array_get_element(a, i);
        /* Nested arrays fire the signal too, with their own indexes; the element's own line
         * is the last one recorded for index i, which is where the element ends. */
        int line = i < al.lines->len ? g_array_index(al.lines, int, i) : 0;
        if (!JSON_NODE_HOLDS_OBJECT(n)) {
            g_autofree char *where = g_strdup_printf("%s:%d", im->file, line);
            app_error(where, "element %u: expected an object", i);
            im->rows++;
            im->bad++;
            continue;
        }
        ok = import_object(im, json_node_get_object(n), line, error);
    }
    g_array_unref(al.lines);
    return ok;
}

static gboolean import_json_lines(Import *im, char **lines, GError **error)
{
    for (int i = 0; lines[i]; i++) {
        const char *s = lines[i] + strspn(lines[i], " \t\r");
        if (*s == '\0')
            continue;
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) perr = NULL;
        g_autofree char *where = g_strdup_printf("%s:%d", im->file, i + 1);
        if (!json_parser_load_from_data(parser, s, -1, &perr)) {
            im->rows++;
            im->bad++;
            app_error(where, "not JSON: %s", perr->message);
            continue;
        }
        JsonNode *root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
            im->rows++;
            im->bad++;
            app_error(where, "expected a JSON object");
            continue;
        }
        if (!import_object(im, json_node_get_object(root), i + 1, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- CSV (RFC 4180: quoted fields may hold commas, quotes as "", and line breaks) ---- */

/* Reads one record starting at *@p; advances *@p and *@line. Returns NULL at the end. */
static GPtrArray *csv_record(const char **p, int *line, const char **problem)
{
    if (**p == '\0')
        return NULL;
    GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
    GString *f = g_string_new(NULL);
    const char *s = *p;
    *problem = NULL;
    for (;;) {
        if (*s == '"') {
            s++;
            for (;;) {
                if (*s == '\0') {
                    *problem = "unterminated quoted field";
                    break;
                }
                if (*s == '"' && s[1] == '"') {
                    g_string_append_c(f, '"');
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    if (*s == '\n')
                        (*line)++;
                    g_string_append_c(f, *s++);
                }
            }
        }
        while (*s && *s != ',' && *s != '\n' && *s != '\r')
            g_string_append_c(f, *s++);
        g_ptr_array_add(fields, g_strdup(g_strstrip(f->str)));
        g_string_truncate(f, 0);
        if (fields->len > DB_MAX_FIELDS && !*problem)
            *problem = "too many fields";
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s == '\r')
            s++;
        if (*s == '\n') {
            s++;
            (*line)++;
        }
        break;
    }
    g_string_free(f, TRUE);
    *p = s;
    return fields;
}

static void set_vessel_id(JsonObject *vessel, const char *name, const char *value)
{
    char *end = NULL;
    gint64 v = g_ascii_strtoll(value, &end, 10);
    if (end && *end == '\0' && end != value)
        json_object_set_int_member(vessel, name, v);
    else
        json_object_set_string_member(vessel, name, value);
}

static gboolean import_csv(Import *im, const char *text, int *exit_code, GError **error)
{
    const char *p = text;
    int line = 1;
    const char *problem;
    GPtrArray *header = csv_record(&p, &line, &problem);
    if (!header) {
        app_error(im->file, "empty file");
        *exit_code = APP_EXIT_USAGE;
        return TRUE;
    }
    int col[G_N_ELEMENTS(csv_columns)];
    for (guint k = 0; k < G_N_ELEMENTS(col); k++)
        col[k] = -1;
    for (guint i = 0; i < header->len; i++) {
        const char *name = g_ptr_array_index(header, i);
        guint k = 0;
        while (csv_columns[k] && strcmp(csv_columns[k], name) != 0)
            k++;
        if (!csv_columns[k]) {
            g_autofree char *where = g_strdup_printf("%s:1", im->file);
            g_autofree char *known = g_strjoinv(", ", (char **)csv_columns);
            app_error(where, "unknown column '%s' (known: %s)", name, known);
            g_ptr_array_unref(header);
            *exit_code = APP_EXIT_USAGE;
            return TRUE;
        }
        col[k] = (int)i;
    }
    guint n_columns = header->len;
    g_ptr_array_unref(header);
    gboolean ok = TRUE;
    for (;;) {
        int start = line;
        GPtrArray *rec = csv_record(&p, &line, &problem);
        if (!rec)
            break;
        if (rec->len == 1 && !*(char *)g_ptr_array_index(rec, 0)) {
            g_ptr_array_unref(rec); /* a blank line */
            continue;
        }
        g_autofree char *where = g_strdup_printf("%s:%d", im->file, start);
        if (problem || rec->len != n_columns) {
            im->rows++;
            im->bad++;
            if (problem)
                app_error(where, "%s", problem);
            else
                app_error(where, "%u fields, the header has %u", rec->len, n_columns);
            g_ptr_array_unref(rec);
            continue;
        }
        JsonObject *o = json_object_new();
        JsonObject *vessel = NULL;
        for (guint k = 0; csv_columns[k]; k++) {
            if (col[k] < 0)
                continue;
            const char *v = g_ptr_array_index(rec, col[k]);
            if (!*v && strcmp(csv_columns[k], "containers") != 0)
                continue; /* an empty cell is an absent field; no containers is [] */
            const char *name = csv_columns[k];
            if (strcmp(name, "containers") == 0) {
                /* Separated by spaces, ';' or '|' (a comma would split the CSV cell). */
                JsonArray *a = json_array_new();
                g_auto(GStrv) parts = g_strsplit_set(v, " ;|", -1);
                for (int j = 0; parts[j]; j++)
                    if (*parts[j])
                        json_array_add_string_element(a, parts[j]);
                json_object_set_array_member(o, name, a);
            } else if (g_str_has_prefix(name, "vessel_")) {
                if (!vessel)
                    vessel = json_object_new();
                const char *vname = name + strlen("vessel_");
                if (strcmp(vname, "imo") == 0 || strcmp(vname, "mmsi") == 0)
                    set_vessel_id(vessel, vname, v);
                else
                    json_object_set_string_member(vessel, vname, v);
            } else {
                json_object_set_string_member(o, name, v);
            }
        }
        if (vessel)
            json_object_set_object_member(o, "vessel", vessel);
        ok = import_object(im, o, start, error);
        json_object_unref(o);
        g_ptr_array_unref(rec);
        if (!ok)
            break;
    }
    return ok;
}

typedef struct {
    Import *im;
    const char *text;
    gsize len;
    gboolean json;
    const char *first;
    int exit_code;
} ImportRun;

static gboolean import_txn(PsStore *store, gpointer user_data, GError **error)
{
    ImportRun *run = user_data;
    if (run->json && *run->first == '[')
        return import_json_array(run->im, run->text, run->len, error);
    if (run->json) {
        g_auto(GStrv) lines = g_strsplit(run->text, "\n", -1);
        return import_json_lines(run->im, lines, error);
    }
    return import_csv(run->im, run->text, &run->exit_code, error);
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
    Import im = {.file = file, .default_ts = mtime_ts(file), .strict = strict};
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
    const char *first = text + strspn(text, " \t\r\n");
    gboolean json = format ? strcmp(format, "json") == 0
                           : g_str_has_suffix(file, ".json") || g_str_has_suffix(file, ".jsonl") ||
                                 g_str_has_suffix(file, ".ndjson") ||
                                 (!g_str_has_suffix(file, ".csv") && (*first == '[' || *first == '{'));
    /* One transaction for the whole file: all rows or, on a store error, none. */
    ImportRun run = {&im, text, len, json, first, APP_EXIT_OK};
    gboolean ok = store_transaction(store, import_txn, &run, &error);
    if (ok)
        exit_code = run.exit_code;
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
    g_free(im.default_ts);
    g_free(im.topic);
    return exit_code;
}
