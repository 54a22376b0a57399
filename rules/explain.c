/* explain.c: a decision as JSON (explain.h). */
#include "explain.h"

#include "store.h"

static void add_string_or_null(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

void rules_decision_to_json(JsonBuilder *b, const PsDecisionRow *row)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "seq");
    json_builder_add_int_value(b, row->seq);
    add_string_or_null(b, "id", row->decision_id);
    add_string_or_null(b, "kind", row->kind);
    add_string_or_null(b, "container", row->container);
    add_string_or_null(b, "declaration", row->declaration);
    add_string_or_null(b, "ts", row->ts);
    add_string_or_null(b, "topic", row->topic);
    add_string_or_null(b, "decided_on", row->trigger_id);
    add_string_or_null(b, "decided_on_topic", row->trigger_topic);
    json_builder_set_member_name(b, "conditions");
    json_builder_begin_array(b);
    for (guint i = 0; i < row->n_conditions; i++) {
        const PsConditionRow *c = &row->conditions[i];
        json_builder_begin_object(b);
        add_string_or_null(b, "name", c->name);
        json_builder_set_member_name(b, "ok");
        json_builder_add_boolean_value(b, c->ok);
        add_string_or_null(b, "event", c->event_id);
        add_string_or_null(b, "event_topic", c->topic);
        add_string_or_null(b, "event_ts", c->ts);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    /* The payload as it was published (an object), not as a string inside the string. */
    json_builder_set_member_name(b, "payload");
    g_autoptr(JsonParser) p = json_parser_new();
    if (row->payload && json_parser_load_from_data(p, row->payload, -1, NULL) &&
        json_parser_get_root(p))
        json_builder_add_value(b, json_node_copy(json_parser_get_root(p)));
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
}

static gboolean add_decision(const PsDecisionRow *row, gpointer data)
{
    rules_decision_to_json(data, row);
    return TRUE;
}

static gboolean count_row(const PsJournalRow *row, gpointer data)
{
    (void)row;
    (*(gint64 *)data)++;
    return TRUE;
}

JsonNode *rules_explain(PsRules *rules, PsStore *store, const char *container, GError **error)
{
    gint64 pending = 0;
    if (!store_journal_foreach(store, rules_cursor(rules), count_row, &pending, error))
        return NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_string_or_null(b, "container", container);
    json_builder_set_member_name(b, "decisions");
    json_builder_begin_array(b);
    if (!store_rules_decisions_foreach(store, container, add_decision, b, error))
        return NULL;
    json_builder_end_array(b);
    json_builder_set_member_name(b, "now");
    g_autofree char *now = rules_describe(rules, container);
    g_autoptr(JsonParser) p = json_parser_new();
    if (now && json_parser_load_from_data(p, now, -1, NULL) && json_parser_get_root(p))
        json_builder_add_value(b, json_node_copy(json_parser_get_root(p)));
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "not_evaluated");
    json_builder_add_int_value(b, pending);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
