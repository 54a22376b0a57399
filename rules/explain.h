/* explain.h: a decision as JSON, the one shape `portsight explain --json` prints and the
 * console's API (GET /api/containers/CODE, /api/decisions, the live lists) sends; and the whole
 * explanation of a container that `portsight explain` prints. */
#pragma once

#include <json-glib/json-glib.h>

#include "rules.h"
#include "store-rules.h"

G_BEGIN_DECLS

/* Adds @row to @builder as one object (at the builder's current position: an array element,
 * or after a member name): {"seq", "id", "kind", "container", "declaration", "ts", "topic",
 * "decided_on" (the id of the input whose arrival made it), "decided_on_topic", "conditions":
 * [{"name", "ok", "event", "event_topic", "event_ts"}], "payload" (the published JSON as an
 * object; null when it is not JSON)}. A missing string is null. */
void rules_decision_to_json(JsonBuilder *builder, const PsDecisionRow *row);

/* Everything known about @container, from @rules (opened on @store, which holds the journal and
 * the decisions): {"container", "decisions": [rules_decision_to_json(), oldest first], "now":
 * rules_describe() as an object (null when no input named it), "not_evaluated": how many
 * journaled inputs lie after the rules' cursor (the engine evaluates them when it runs)}. NULL
 * with @error when the store cannot be read. */
JsonNode *rules_explain(PsRules *rules, PsStore *store, const char *container, GError **error);

G_END_DECLS
