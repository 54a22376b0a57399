/* demo_rules.c: the rules step of `portsight demo`: plays the scenario's MQTT inputs
 * (data/scenario/events.jsonl) through the rules in-process, with no broker, prints the
 * releases and holds with their reasons, and writes what was fired to OUT/decisions.jsonl. */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "demo.h"
#include "rules.h"
#include "store-rules.h"

typedef struct {
    GString *jsonl;
    GString *releases, *holds;
    guint n_releases, n_holds;
} Fired;

static gboolean on_decision(const PsDecisionRow *row, gpointer user_data)
{
    Fired *f = user_data;
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, row->payload, -1, NULL))
        return TRUE;
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_string_append_printf(f->jsonl, "{\"topic\":\"%s\",\"payload\":%s}\n", row->topic,
                           row->payload);
    if (strcmp(row->kind, "release") == 0) {
        f->n_releases++;
        g_string_append_printf(f->releases, "  %s  declaration %s  train %s  at %s\n",
                               row->container, row->declaration,
                               json_object_get_string_member(o, "train"), row->ts);
        return TRUE;
    }
    f->n_holds++;
    JsonArray *reasons = json_object_get_array_member(o, "reasons");
    GString *r = g_string_new(NULL);
    for (guint i = 0; reasons && i < json_array_get_length(reasons); i++)
        g_string_append_printf(r, "%s%s", i ? ", " : "", json_array_get_string_element(reasons, i));
    g_string_append_printf(f->holds, "  %s  declaration %s  at %s  reasons: %s\n", row->container,
                           row->declaration, row->ts, r->str);
    g_string_free(r, TRUE);
    return TRUE;
}

/* One scenario line: {"topic": T, "payload": {...}} or "payload_text" (raw text) or
 * "payload_base64" (raw bytes). */
static gboolean scenario_line(const char *line, char **topic, char **payload, gsize *len,
                              GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, line, -1, error))
        return FALSE;
    JsonNode *root = json_parser_get_root(p);
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    if (!o || !json_object_has_member(o, "topic")) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "expected {\"topic\":...}");
        return FALSE;
    }
    *topic = g_strdup(json_object_get_string_member(o, "topic"));
    if (json_object_has_member(o, "payload_base64")) {
        *payload = (char *)g_base64_decode(json_object_get_string_member(o, "payload_base64"),
                                           len);
    } else if (json_object_has_member(o, "payload_text")) {
        *payload = g_strdup(json_object_get_string_member(o, "payload_text"));
        *len = strlen(*payload);
    } else {
        *payload = json_to_string(json_object_get_member(o, "payload"), FALSE);
        *len = strlen(*payload);
    }
    return TRUE;
}

gboolean app_demo_rules(AppDemo *demo, GError **error)
{
    g_autofree char *path = g_build_filename(demo->scenario_dir, "events.jsonl", NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return FALSE;
    PsRules *rules = rules_new(demo->store, "port", error);
    if (!rules)
        return FALSE;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint played = 0, accepted = 0, duplicates = 0, rejected = 0;
    GString *rejects = g_string_new(NULL);
    gboolean ok = TRUE;
    for (int i = 0; ok && lines[i]; i++) {
        if (!*lines[i])
            continue;
        g_autofree char *topic = NULL, *payload = NULL;
        gsize len = 0;
        if (!scenario_line(lines[i], &topic, &payload, &len, error)) {
            g_prefix_error(error, "%s:%d: ", path, i + 1);
            ok = FALSE;
            break;
        }
        RulesIngestResult res;
        if (!rules_ingest(rules, topic, payload, (gssize)len, &res, error)) {
            ok = FALSE;
            break;
        }
        played++;
        if (res.outcome == RULES_ACCEPTED)
            accepted++;
        else if (res.outcome == RULES_DUPLICATE)
            duplicates++;
        else {
            rejected++;
            g_string_append_printf(rejects, "  %s: %s\n", topic, res.reason);
        }
        rules_ingest_result_clear(&res);
    }
    rules_free(rules);
    if (!ok) {
        g_string_free(rejects, TRUE);
        return FALSE;
    }
    printf("played %u MQTT inputs from %s in process (no broker): %u accepted, %u duplicate, "
           "%u rejected to the dead-letter table:\n%s",
           played, path, accepted, duplicates, rejected, rejects->str);
    g_string_free(rejects, TRUE);

    Fired f = {g_string_new(NULL), g_string_new(NULL), g_string_new(NULL), 0, 0};
    ok = store_rules_decisions_foreach(demo->store, NULL, on_decision, &f, error);
    g_autofree char *out = g_build_filename(demo->out_dir, "decisions.jsonl", NULL);
    if (ok)
        ok = g_file_set_contents(out, f.jsonl->str, (gssize)f.jsonl->len, error);
    if (ok) {
        printf("releases (%u):\n%sholds (%u):\n%s", f.n_releases, f.releases->str, f.n_holds,
               f.holds->str);
        printf("explain any of them: portsight explain --db %s/portsight.db CONTAINER\n",
               demo->out_dir);
        printf("release/hold events fired: %s\n", out);
        g_ptr_array_add(demo->outputs,
                        g_strdup_printf("release and hold events (topic + payload): %s", out));
    }
    g_string_free(f.jsonl, TRUE);
    g_string_free(f.releases, TRUE);
    g_string_free(f.holds, TRUE);
    return ok;
}
