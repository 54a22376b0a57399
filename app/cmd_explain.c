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

static const char *str(JsonObject *o, const char *member)
{
    return json_object_get_string_member_with_default(o, member, NULL);
}

/* One decision of rules_explain() as text. */
static void print_decision(JsonObject *d)
{
    JsonNode *pn = json_object_get_member(d, "payload");
    JsonObject *payload = pn && JSON_NODE_HOLDS_OBJECT(pn) ? json_node_get_object(pn) : NULL;
    printf("\n%s %s at %s\n", str(d, "kind"), str(d, "id"), str(d, "ts"));
    printf("  declaration %s", str(d, "declaration"));
    if (payload && json_object_has_member(payload, "train"))
        printf(", train %s", str(payload, "train"));
    printf("; published on %s\n", str(d, "topic"));
    if (str(d, "decided_on"))
        printf("  decided when %s arrived (%s)\n", str(d, "decided_on"),
               str(d, "decided_on_topic"));
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
    JsonArray *conds = json_object_get_array_member(d, "conditions");
    for (guint i = 0; i < json_array_get_length(conds); i++) {
        JsonObject *c = json_array_get_object_element(conds, i);
        gboolean ok = json_object_get_boolean_member(c, "ok");
        const char *topic = str(c, "event_topic"), *ts = str(c, "event_ts");
        if (str(c, "event"))
            printf("    %-4s %-21s %-16s %-24s %s\n", ok ? "ok" : "FAIL", str(c, "name"),
                   str(c, "event"), topic ? topic : "", ts ? ts : "");
        else
            printf("    %-4s %-21s (no event)\n", ok ? "ok" : "FAIL", str(c, "name"));
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
static void print_now(JsonObject *o)
{
    if (!o) {
        printf("\nnow: no input has named this container\n");
        return;
    }
    const char *decl = str(o, "declaration");
    printf("\nnow: ");
    if (decl)
        printf("declaration %s (%s, %s)", decl, str(o, "flow"), str(o, "status"));
    else
        printf("no declaration");
    const char *evs[] = {"arrived", "seen", "radiation", "seal"};
    for (guint i = 0; i < G_N_ELEMENTS(evs); i++) {
        const char *id = str(o, evs[i]);
        printf("; %s %s", evs[i], id ? id : "-");
    }
    printf("\n");
    print_list(o, "waiting_for", "a release waits for");
    print_list(o, "open", "open holds");
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
    g_autoptr(JsonNode) root = rules_explain(rules, store, container, &error);
    rules_free(rules);
    store_close(store);
    if (!root) {
        app_error(path, "%s", error->message);
        return APP_EXIT_USAGE;
    }
    if (json) {
        g_autofree char *text = json_to_string(root, TRUE);
        printf("%s\n", text);
        return APP_EXIT_OK;
    }
    JsonObject *o = json_node_get_object(root);
    JsonArray *decisions = json_object_get_array_member(o, "decisions");
    guint n = json_array_get_length(decisions);
    if (n > 0)
        printf("%s: %u decision%s in %s\n", container, n, n == 1 ? "" : "s", path);
    for (guint i = 0; i < n; i++)
        print_decision(json_array_get_object_element(decisions, i));
    if (n == 0)
        printf("%s: no decisions in %s\n", container, path);
    JsonNode *now = json_object_get_member(o, "now");
    print_now(now && JSON_NODE_HOLDS_OBJECT(now) ? json_node_get_object(now) : NULL);
    /* Events journaled (acknowledged) after the rules' cursor have not been evaluated yet: the
     * engine evaluates them as it runs, or at its next start after a crash. Said, not hidden. */
    gint64 pending = json_object_get_int_member(o, "not_evaluated");
    if (pending > 0)
        printf("not evaluated yet: %" G_GINT64_FORMAT " journaled event(s) after the rules' "
               "cursor (the engine evaluates them when it runs); decisions and state above stop "
               "before them\n",
               pending);
    return APP_EXIT_OK;
}
