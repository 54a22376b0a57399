/* cmd_explain.c: `portsight explain CONTAINER`: every decision about a container, the
 * conditions each checked and the event that settled each, read from the store. */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "explain.h"
#include "iso6346.h"
#include "rules-cli.h"
#include "rules.h"
#include "store-rules.h"

typedef struct {
    gboolean json;
    guint n;
    JsonBuilder *builder;
} Explain;

static JsonNode *parse_payload(const char *payload)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, payload, -1, NULL) || !json_parser_get_root(p))
        return NULL;
    return json_node_copy(json_parser_get_root(p));
}

static void print_text(const PsDecisionRow *row, JsonObject *payload)
{
    printf("\n%s %s at %s\n", row->kind, row->decision_id, row->ts);
    printf("  declaration %s", row->declaration);
    if (payload && json_object_has_member(payload, "train"))
        printf(", train %s", json_object_get_string_member(payload, "train"));
    printf("; published on %s\n", row->topic);
    if (row->trigger_id)
        printf("  decided when %s arrived (%s)\n", row->trigger_id, row->trigger_topic);
    JsonArray *reasons = payload && json_object_has_member(payload, "reasons")
                             ? json_object_get_array_member(payload, "reasons")
                             : NULL;
    if (reasons) {
        printf("  reasons:");
        for (guint i = 0; i < json_array_get_length(reasons); i++)
            printf("%s %s", i ? "," : "", json_array_get_string_element(reasons, i));
        printf("\n");
    }
    printf("  conditions:\n");
    for (guint i = 0; i < row->n_conditions; i++) {
        const PsConditionRow *c = &row->conditions[i];
        if (c->event_id)
            printf("    %-4s %-21s %-16s %-24s %s\n", c->ok ? "ok" : "FAIL", c->name,
                   c->event_id, c->topic ? c->topic : "", c->ts ? c->ts : "");
        else
            printf("    %-4s %-21s (no event)\n", c->ok ? "ok" : "FAIL", c->name);
    }
}

static void print_list(JsonObject *o, const char *member, const char *label)
{
    JsonArray *a = json_object_get_array_member(o, member);
    printf("  %s:", label);
    for (guint i = 0; a && i < json_array_get_length(a); i++)
        printf("%s %s", i ? "," : "", json_array_get_string_element(a, i));
    printf("%s\n", a && json_array_get_length(a) ? "" : " nothing");
}

/* The "now" part of the text output: what the rules know after replaying the journal. */
static void print_now(const char *now)
{
    if (!now) {
        printf("\nnow: no input has named this container\n");
        return;
    }
    g_autoptr(JsonNode) node = parse_payload(now);
    JsonObject *o = json_node_get_object(node);
    const char *decl = json_object_get_string_member_with_default(o, "declaration", NULL);
    printf("\nnow: ");
    if (decl)
        printf("declaration %s (%s, %s)", decl, json_object_get_string_member(o, "flow"),
               json_object_get_string_member(o, "status"));
    else
        printf("no declaration");
    const char *evs[][2] = {{"arrived", "arrived"}, {"seen", "seen"},
                            {"radiation", "radiation"}, {"seal", "seal"}};
    for (guint i = 0; i < G_N_ELEMENTS(evs); i++) {
        const char *id = json_object_get_string_member_with_default(o, evs[i][0], NULL);
        printf("; %s %s", evs[i][1], id ? id : "-");
    }
    printf("\n");
    print_list(o, "waiting_for", "a release waits for");
    print_list(o, "open", "open holds");
}

static gboolean on_decision(const PsDecisionRow *row, gpointer user_data)
{
    Explain *x = user_data;
    x->n++;
    if (x->json) {
        rules_decision_to_json(x->builder, row);
        return TRUE;
    }
    g_autoptr(JsonNode) payload = parse_payload(row->payload);
    print_text(row, payload && JSON_NODE_HOLDS_OBJECT(payload) ? json_node_get_object(payload)
                                                              : NULL);
    return TRUE;
}

static gboolean count_one(const PsDecisionRow *row, gpointer user_data)
{
    (*(guint *)user_data)++;
    return TRUE;
}

static gboolean count_row(const PsJournalRow *row, gpointer user_data)
{
    (*(guint *)user_data)++;
    return TRUE;
}

int app_cmd_explain(int argc, char **argv)
{
    g_autofree char *db = NULL, *config = NULL;
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        {"db", 0, 0, G_OPTION_ARG_FILENAME, &db, "the store (default: ./portsight.db)", "FILE"},
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config, "use the [store] path of FILE",
         "FILE"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON object instead of text", NULL},
        {NULL},
    };
    int code;
    if (!app_parse_options(&argc, &argv, "CONTAINER",
                           "Every release and hold decided about CONTAINER, with the conditions "
                           "checked and the\nevent (id, topic, time) that settled each.",
                           entries, &code))
        return code;
    if (argc != 2) {
        app_error(NULL, "explain: usage: portsight explain [--db FILE | -c FILE] [--json] "
                        "CONTAINER");
        return APP_EXIT_USAGE;
    }
    g_autofree char *container = g_ascii_strup(argv[1], -1);
    g_autoptr(GError) error = NULL;
    if (!iso6346_validate(container, &error)) {
        app_error(NULL, "explain: '%s' is not an ISO 6346 container number: %s", argv[1],
                  error->message);
        return APP_EXIT_USAGE;
    }
    g_autofree char *path = NULL;
    PsStore *store = app_rules_open_store("explain", db, config, TRUE, &path);
    if (!store)
        return APP_EXIT_USAGE;
    Explain x = {json, 0, NULL};
    if (json) {
        x.builder = json_builder_new();
        json_builder_begin_object(x.builder);
        json_builder_set_member_name(x.builder, "container");
        json_builder_add_string_value(x.builder, container);
        json_builder_set_member_name(x.builder, "decisions");
        json_builder_begin_array(x.builder);
    }
    /* The current state, from a replay of the journal: what a release still waits for. */
    g_autofree char *topic_root = app_rules_topic_root(config);
    PsRulesPolicy policy;
    app_rules_policy(config, &policy);
    PsRules *rules = rules_new_full(store, topic_root, &policy, &error);
    if (!rules) {
        app_error(path, "%s", error->message);
        store_close(store);
        return APP_EXIT_USAGE;
    }
    g_autofree char *now = rules_describe(rules, container);
    /* Events journaled (acknowledged) after the rules' cursor have not been evaluated yet: the
     * engine evaluates them as it runs, or at its next start after a crash. Said, not hidden. */
    guint pending = 0;
    gboolean ok = store_journal_foreach(store, rules_cursor(rules), count_row, &pending, &error);
    rules_free(rules);
    if (ok && !json) {
        guint n = 0;
        ok = store_rules_decisions_foreach(store, container, count_one, &n, &error);
        if (ok && n > 0)
            printf("%s: %u decision%s in %s\n", container, n, n == 1 ? "" : "s", path);
    }
    if (ok)
        ok = store_rules_decisions_foreach(store, container, on_decision, &x, &error);
    store_close(store);
    if (!ok) {
        app_error(path, "%s", error->message);
        g_clear_object(&x.builder);
        return APP_EXIT_USAGE;
    }
    if (json) {
        json_builder_end_array(x.builder);
        json_builder_set_member_name(x.builder, "now");
        JsonNode *state = now ? parse_payload(now) : NULL;
        if (state)
            json_builder_add_value(x.builder, state);
        else
            json_builder_add_null_value(x.builder);
        json_builder_set_member_name(x.builder, "not_evaluated");
        json_builder_add_int_value(x.builder, pending);
        json_builder_end_object(x.builder);
        g_autoptr(JsonNode) root = json_builder_get_root(x.builder);
        g_autofree char *text = json_to_string(root, TRUE);
        printf("%s\n", text);
        g_object_unref(x.builder);
    } else {
        if (x.n == 0)
            printf("%s: no decisions in %s\n", container, path);
        print_now(now);
        if (pending > 0)
            printf("not evaluated yet: %u journaled event(s) after the rules' cursor (the engine "
                   "evaluates them when it runs); decisions and state above stop before them\n",
                   pending);
    }
    return APP_EXIT_OK;
}
