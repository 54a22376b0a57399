/* decl.c: customs declarations from CSV or JSON text (see decl.h). */
#include "decl.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define DECL_MAX_FIELDS 64 /* CSV columns */

/* The columns of a CSV import; JSON rows use the customs event's own field names. */
static const char *const csv_columns[] = {
    "id", "ts", "declaration", "status", "flow", "containers", "origin", "destination", "goods",
    "consignee", "vessel_name", "vessel_imo", "vessel_mmsi", "vessel_voyage", NULL,
};

/* Fills in id and ts when a row has none and hands it to the sink. */
static gboolean emit_object(const DeclSink *sink, JsonObject *o, int line, GError **error)
{
    if (!json_object_has_member(o, "ts"))
        json_object_set_string_member(o, "ts", sink->default_ts);
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
    return sink->row(payload, line, sink->user_data, error);
}

static void bad(const DeclSink *sink, DeclBad kind, int line, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static void bad(const DeclSink *sink, DeclBad kind, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    sink->bad(kind, line, reason, sink->user_data);
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

static gboolean read_json_array(const DeclSink *sink, const char *text, gsize len,
                                GError **error)
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
        bad(sink, DECL_BAD_TEXT, 0, "%s", msg);
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
            bad(sink, DECL_BAD_ROW, line, "element %u: expected an object", i);
            continue;
        }
        ok = emit_object(sink, json_node_get_object(n), line, error);
    }
    g_array_unref(al.lines);
    return ok;
}

static gboolean read_json_lines(const DeclSink *sink, const char *text, GError **error)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        const char *s = lines[i] + strspn(lines[i], " \t\r");
        if (*s == '\0')
            continue;
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) perr = NULL;
        if (!json_parser_load_from_data(parser, s, -1, &perr)) {
            bad(sink, DECL_BAD_ROW, i + 1, "not JSON: %s", perr->message);
            continue;
        }
        JsonNode *root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
            bad(sink, DECL_BAD_ROW, i + 1, "expected a JSON object");
            continue;
        }
        if (!emit_object(sink, json_node_get_object(root), i + 1, error))
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
        if (fields->len > DECL_MAX_FIELDS && !*problem)
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

static gboolean read_csv(const DeclSink *sink, const char *text, gboolean *unusable,
                         GError **error)
{
    const char *p = text;
    int line = 1;
    const char *problem;
    GPtrArray *header = csv_record(&p, &line, &problem);
    if (!header) {
        bad(sink, DECL_BAD_FILE, 0, "empty file");
        *unusable = TRUE;
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
            g_autofree char *known = g_strjoinv(", ", (char **)csv_columns);
            bad(sink, DECL_BAD_FILE, 1, "unknown column '%s' (known: %s)", name, known);
            g_ptr_array_unref(header);
            *unusable = TRUE;
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
        if (problem || rec->len != n_columns) {
            if (problem)
                bad(sink, DECL_BAD_ROW, start, "%s", problem);
            else
                bad(sink, DECL_BAD_ROW, start, "%u fields, the header has %u", rec->len,
                    n_columns);
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
        ok = emit_object(sink, o, start, error);
        json_object_unref(o);
        g_ptr_array_unref(rec);
        if (!ok)
            break;
    }
    return ok;
}

DeclFormat decl_format(DeclFormat format, const char *name, const char *text)
{
    if (format != DECL_FORMAT_AUTO)
        return format;
    const char *first = text + strspn(text, " \t\r\n");
    if (name && (g_str_has_suffix(name, ".json") || g_str_has_suffix(name, ".jsonl") ||
                 g_str_has_suffix(name, ".ndjson")))
        return DECL_FORMAT_JSON;
    if (name && g_str_has_suffix(name, ".csv"))
        return DECL_FORMAT_CSV;
    return *first == '[' || *first == '{' ? DECL_FORMAT_JSON : DECL_FORMAT_CSV;
}

gboolean decl_read(const char *text, gsize len, DeclFormat format, const DeclSink *sink,
                   gboolean *unusable, GError **error)
{
    gboolean dummy = FALSE;
    if (!unusable)
        unusable = &dummy;
    *unusable = FALSE;
    const char *first = text + strspn(text, " \t\r\n");
    if (format == DECL_FORMAT_JSON && *first == '[')
        return read_json_array(sink, text, len, error);
    if (format == DECL_FORMAT_JSON)
        return read_json_lines(sink, text, error);
    return read_csv(sink, text, unusable, error);
}
