/* rules.c: container state, the release policy and decisions.
 *
 * State is kept per container: the earliest arrival on a train's manifest, the earliest
 * sighting in the yard (OCR read or rail gate-in), the latest radiation alarm and clear, the
 * latest seal "sealed" and "opened"/"tampered"; and per declaration its latest status. "Earliest"
 * and "latest" compare (ts, journal seq), so the state after a set of events does not depend on
 * the order they came in. After each input the containers it touches are evaluated:
 *
 *   verdict NONE    no rail-sea declaration lists it, or it has not arrived or not been seen,
 *                   or the declaration is pending with nothing open: nothing to say yet;
 *   verdict HOLD    a customs held/inspect, a radiation alarm with no later clear, or a seal
 *                   opened/tampered with no later sealed;
 *   verdict RELEASE the declaration's latest status is released and nothing is open.
 *
 * A decision is published when the verdict differs from the last one published for the
 * container and declaration: a release at most once (its id is stable), a hold whenever the set
 * of reasons changes (also after a release). The decision and its outbox row are written in the
 * transaction that journals the input. rules_new() replays the journal through the same code
 * without writing, which rebuilds the same state and publication history.
 *
 * Memory is bounded by retirement (retain.c): a container done or not named for a while leaves
 * memory and is rebuilt from its journal rows when it is named again. */
#include <string.h>

#include "rules-state.h"
#include "topics.h"
#include "store-outbox.h"
#include "store-rules.h"

#define RULES_DEAD_LETTER_MAX (1024 * 1024)

const double rules_latency_bounds[RULES_LATENCY_BUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                            0.25,  0.5,   1,    5,     30,   300};

/* ---- state ---- */

static void latency_add(RulesLatency *l, gint64 us)
{
    double s = MAX(us, 0) / 1e6;
    for (guint i = 0; i < RULES_LATENCY_BUCKETS; i++)
        if (s <= rules_latency_bounds[i])
            l->le[i]++;
    l->count++;
    l->sum += s;
}

void rules_decision_latency(PsRules *rules, RulesLatency *out)
{
    *out = rules->latency;
}

static int ev_cmp_key(gint64 ts_a, gint64 seq_a, gint64 ts_b, gint64 seq_b)
{
    if (ts_a != ts_b)
        return ts_a < ts_b ? -1 : 1;
    return seq_a < seq_b ? -1 : seq_a > seq_b;
}

void rules__ev_clear(Ev *e)
{
    g_free(e->id);
    g_free(e->topic);
    g_free(e->ts);
    memset(e, 0, sizeof(*e));
}

static void ev_set(Ev *e, const Cur *cur)
{
    rules__ev_clear(e);
    e->ts_us = cur->in->ts_us;
    e->seq = cur->seq;
    e->id = g_strdup(cur->in->id);
    e->topic = g_strdup(cur->topic);
    e->ts = g_strdup(cur->in->ts);
}

/* Keeps the later (or, with @earliest, the earlier) of *@e and the current event. */
static gboolean ev_keep(Ev *e, const Cur *cur, gboolean earliest)
{
    if (e->id) {
        int c = ev_cmp_key(cur->in->ts_us, cur->seq, e->ts_us, e->seq);
        if (earliest ? c >= 0 : c <= 0)
            return FALSE;
    }
    ev_set(e, cur);
    return TRUE;
}

/* TRUE when @a is later than @b (an absent @b is earlier than anything). */
static gboolean ev_after(const Ev *a, const Ev *b)
{
    return a->id && (!b->id || ev_cmp_key(a->ts_us, a->seq, b->ts_us, b->seq) > 0);
}

void rules__pub_free(gpointer p)
{
    Pub *pub = p;
    g_free(pub->last_reasons);
    g_free(pub);
}

void rules__container_free(gpointer p)
{
    Container *c = p;
    g_free(c->number);
    for (guint i = 0; i < c->n_decls; i++)
        g_free(c->decls[i]);
    rules__ev_clear(&c->arrival);
    g_free(c->train);
    g_free(c->yard);
    rules__ev_clear(&c->seen);
    rules__ev_clear(&c->rad_alarm);
    rules__ev_clear(&c->rad_clear);
    rules__ev_clear(&c->seal_ok);
    rules__ev_clear(&c->seal_bad);
    rules__ev_clear(&c->officer_hold);
    rules__ev_clear(&c->officer_release);
    g_free(c->officer_reason);
    rules__ev_clear(&c->out);
    g_hash_table_destroy(c->pubs);
    g_free(c);
}

void rules__decl_free(gpointer p)
{
    Decl *d = p;
    g_free(d->number);
    rules__ev_clear(&d->ev);
    g_ptr_array_unref(d->containers);
    if (d->vessel)
        json_node_unref(d->vessel);
    g_free(d);
}

static Container *container_get(PsRules *r, const char *number)
{
    Container *c = g_hash_table_lookup(r->containers, number);
    if (c)
        return c;
    c = g_new0(Container, 1);
    c->number = g_strdup(number);
    c->pubs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, rules__pub_free);
    c->touch.link.data = c;
    g_hash_table_insert(r->containers, c->number, c);
    return c;
}

static void container_add_decl(Container *c, const char *number)
{
    for (guint i = 0; i < c->n_decls; i++)
        if (strcmp(c->decls[i], number) == 0)
            return;
    if (c->n_decls == RULES_MAX_DECLS_PER_CONTAINER) {
        /* Bounded: the oldest mention goes (deterministically, so replay agrees). */
        g_free(c->decls[0]);
        memmove(c->decls, c->decls + 1, sizeof(char *) * (c->n_decls - 1));
        c->n_decls--;
    }
    c->decls[c->n_decls++] = g_strdup(number);
}

static gboolean decl_lists(const Decl *d, const char *container)
{
    for (guint i = 0; i < d->containers->len; i++)
        if (strcmp(g_ptr_array_index(d->containers, i), container) == 0)
            return TRUE;
    return FALSE;
}

/* The declaration that applies to @c: of those whose latest status lists it, the latest. */
static Decl *container_decl(PsRules *r, const Container *c)
{
    Decl *best = NULL;
    for (guint i = 0; i < c->n_decls; i++) {
        Decl *d = g_hash_table_lookup(r->decls, c->decls[i]);
        if (!d || !decl_lists(d, c->number))
            continue;
        if (!best || ev_cmp_key(d->ev.ts_us, d->ev.seq, best->ev.ts_us, best->ev.seq) > 0)
            best = d;
    }
    return best;
}

/* ---- the policy ---- */

typedef enum { VERDICT_NONE, VERDICT_RELEASE, VERDICT_HOLD } Verdict;

#define N_CONDITIONS 7 /* the seventh, no_officer_hold, only once an officer acted */

typedef struct {
    const char *name;
    gboolean ok;
    const Ev *ev; /* may be NULL */
} Cond;

typedef struct {
    Verdict verdict;
    Decl *decl;
    Cond conds[N_CONDITIONS];
    guint n_conds;
    const char *reasons[5];
    guint n_reasons;
} Evaluation;

static void evaluate(PsRules *r, const Container *c, Evaluation *e)
{
    memset(e, 0, sizeof(*e));
    Decl *d = container_decl(r, c);
    if (!d || strcmp(d->flow, "rail-sea") != 0 || !c->arrival.id || !c->seen.id)
        return;
    e->decl = d;
    gboolean released = strcmp(d->status, "released") == 0;
    gboolean customs_hold = strcmp(d->status, "held") == 0 || strcmp(d->status, "inspect") == 0;
    /* An alarm stays open until a clear later than it; a broken seal until a later "sealed". */
    gboolean rad_open = ev_after(&c->rad_alarm, &c->rad_clear);
    gboolean seal_open = ev_after(&c->seal_bad, &c->seal_ok);
    const Ev *rad_ev = rad_open ? &c->rad_alarm : c->rad_clear.id ? &c->rad_clear
                                                : c->rad_alarm.id ? &c->rad_alarm : NULL;
    const Ev *seal_ev = seal_open ? &c->seal_bad : c->seal_ok.id ? &c->seal_ok
                                                 : c->seal_bad.id ? &c->seal_bad : NULL;
    e->conds[0] = (Cond){"declaration_released", released, &d->ev};
    e->conds[1] = (Cond){"on_arrived_train", TRUE, &c->arrival};
    e->conds[2] = (Cond){"seen_in_yard", TRUE, &c->seen};
    e->conds[3] = (Cond){"no_customs_hold", !customs_hold, &d->ev};
    /* The policy: a clear scan, a sealed reading, each when required (see rules.h). */
    gboolean rad_ok = !rad_open && (!r->policy.require_radiation_clear || c->rad_clear.id);
    gboolean seal_ok = !seal_open && (!r->policy.require_seal || c->seal_ok.id);
    e->conds[4] = (Cond){"no_radiation_alarm", rad_ok, rad_ev};
    e->conds[5] = (Cond){"seal_intact", seal_ok, seal_ev};
    e->n_conds = 6;
    /* An officer's action (ROOT/cmd/override): a hold stays open until a later override;
     * an override-release releases despite the holds open before it. */
    gboolean officer_open = ev_after(&c->officer_hold, &c->officer_release);
    gboolean officer_override = ev_after(&c->officer_release, &c->officer_hold);
    if (c->officer_hold.id || c->officer_release.id)
        e->conds[e->n_conds++] =
            (Cond){"no_officer_hold", !officer_open,
                   officer_open ? &c->officer_hold : &c->officer_release};
    if (officer_override) {
        e->verdict = VERDICT_RELEASE;
        return;
    }
    if (officer_open)
        e->reasons[e->n_reasons++] = c->officer_reason;
    if (customs_hold)
        e->reasons[e->n_reasons++] = strcmp(d->status, "held") == 0 ? "customs held"
                                                                    : "customs inspect";
    if (rad_open)
        e->reasons[e->n_reasons++] = "radiation alarm";
    if (seal_open)
        e->reasons[e->n_reasons++] = strcmp(c->seal_bad_state, "opened") == 0 ? "seal opened"
                                                                               : "seal tampered";
    e->verdict = e->n_reasons                        ? VERDICT_HOLD
                 : released && rad_ok && seal_ok ? VERDICT_RELEASE
                                                 : VERDICT_NONE;
}

/* The decision's own time: the latest of the events that settled its conditions. */
static const Ev *decision_ev(const Evaluation *e)
{
    const Ev *best = NULL;
    for (guint i = 0; i < e->n_conds; i++) {
        const Ev *ev = e->conds[i].ev;
        if (ev && ev->id && (!best || ev_after(ev, best)))
            best = ev;
    }
    return best;
}

static void add_conditions(JsonBuilder *b, const Evaluation *e)
{
    json_builder_set_member_name(b, "conditions");
    json_builder_begin_array(b);
    for (guint i = 0; i < e->n_conds; i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, e->conds[i].name);
        json_builder_set_member_name(b, "ok");
        json_builder_add_boolean_value(b, e->conds[i].ok);
        json_builder_set_member_name(b, "event");
        if (e->conds[i].ev && e->conds[i].ev->id)
            json_builder_add_string_value(b, e->conds[i].ev->id);
        else
            json_builder_add_null_value(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static char *build_payload(const Container *c, const Evaluation *e, const char *id,
                           const char *ts)
{
    g_autoptr(JsonBuilder) b = json_builder_new_immutable();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, id);
    json_builder_set_member_name(b, "ts");
    json_builder_add_string_value(b, ts);
    json_builder_set_member_name(b, "container");
    json_builder_add_string_value(b, c->number);
    json_builder_set_member_name(b, "declaration");
    json_builder_add_string_value(b, e->decl->number);
    if (e->verdict == VERDICT_RELEASE) {
        json_builder_set_member_name(b, "train");
        json_builder_add_string_value(b, c->train);
        json_builder_set_member_name(b, "yard");
        json_builder_add_string_value(b, c->yard);
        json_builder_set_member_name(b, "vessel");
        if (e->decl->vessel) {
            json_builder_add_value(b, json_node_copy(e->decl->vessel));
        } else {
            json_builder_begin_object(b);
            json_builder_end_object(b);
        }
    } else {
        json_builder_set_member_name(b, "reasons");
        json_builder_begin_array(b);
        for (guint i = 0; i < e->n_reasons; i++)
            json_builder_add_string_value(b, e->reasons[i]);
        json_builder_end_array(b);
    }
    add_conditions(b, e);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

/* Publishes what the evaluation of @c calls for, if anything (see the top of the file). */
static gboolean decide(PsRules *r, Container *c, const Cur *cur, guint *decisions,
                       guint *outbox, GError **error)
{
    Evaluation e;
    evaluate(r, c, &e);
    if (e.verdict == VERDICT_NONE)
        return TRUE;
    Pub *pub = g_hash_table_lookup(c->pubs, e.decl->number);
    if (!pub) {
        pub = g_new0(Pub, 1);
        g_hash_table_insert(c->pubs, g_strdup(e.decl->number), pub);
    }
    g_autofree char *reasons = g_strjoinv(", ", (char **)(const char *[]){
                                                    e.reasons[0], e.reasons[1], e.reasons[2],
                                                    e.reasons[3], e.reasons[4], NULL});
    if (e.verdict == VERDICT_RELEASE && pub->released)
        return TRUE; /* never twice: the id is the consumer's idempotency key */
    if (e.verdict == VERDICT_HOLD && pub->last == 2 && strcmp(pub->last_reasons, reasons) == 0)
        return TRUE;

    const char *kind = e.verdict == VERDICT_RELEASE ? "release" : "hold";
    g_autofree char *id = e.verdict == VERDICT_RELEASE
                              ? g_strdup_printf("release:%s:%s", c->number, e.decl->number)
                              : g_strdup_printf("hold:%s:%s:%u", c->number, e.decl->number,
                                                pub->holds + 1);
    if (e.verdict == VERDICT_RELEASE) {
        pub->released = TRUE;
        pub->last = 1;
    } else {
        pub->holds++;
        pub->last = 2;
        g_free(pub->last_reasons);
        pub->last_reasons = g_strdup(reasons);
    }
    (*decisions)++;
    if (r->replaying) {
        r->replay_decisions++;
        return TRUE;
    }

    const Ev *when = decision_ev(&e);
    g_autofree char *payload = build_payload(c, &e, id, when->ts);
    g_autofree char *topic = topics_decision(r->root, kind, c->number);
    PsConditionRow rows[N_CONDITIONS];
    for (guint i = 0; i < e.n_conds; i++) {
        const Ev *ev = e.conds[i].ev && e.conds[i].ev->id ? e.conds[i].ev : NULL;
        rows[i] = (PsConditionRow){e.conds[i].name, e.conds[i].ok, ev ? ev->id : NULL,
                                   ev ? ev->topic : NULL, ev ? ev->ts : NULL};
    }
    PsDecisionRow row = {
        .decision_id = id,
        .kind = kind,
        .container = c->number,
        .declaration = e.decl->number,
        .ts = when->ts,
        .event_seq = cur->seq,
        .topic = topic,
        .payload = payload,
        .conditions = rows,
        .n_conditions = e.n_conds,
    };
    if (!store_rules_decision_add(r->store, &row, error) ||
        !store_outbox_add(r->store, topic, id, payload, error))
        return FALSE;
    (*outbox)++;
    r->decisions++;
    latency_add(&r->latency, g_get_real_time() - cur->received_at);
    /* One line per decision (shown by `portsight run` at the default level). */
    g_message("rules: %s %s (declaration %s%s%s)", kind, c->number, e.decl->number,
              e.n_reasons ? ": " : "", reasons);
    return TRUE;
}

gboolean rules__done(PsRules *r, const Container *c)
{
    if (!c->out.id)
        return FALSE;
    Evaluation e;
    evaluate(r, c, &e);
    if (e.verdict != VERDICT_RELEASE)
        return FALSE;
    Pub *pub = g_hash_table_lookup(c->pubs, e.decl->number);
    return pub && pub->released;
}

const char *rules__choice(const char *value, const char *const *choices)
{
    for (guint i = 0; value && choices[i]; i++)
        if (strcmp(value, choices[i]) == 0)
            return choices[i];
    return NULL;
}

static char *containers_json(GPtrArray *list)
{
    g_autoptr(JsonBuilder) b = json_builder_new_immutable();
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(list, i));
    json_builder_end_array(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

static const char *member_string(JsonNode *root, const char *name)
{
    JsonNode *n = json_object_get_member(json_node_get_object(root), name);
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

/* Applies a customs status event; adds the containers to re-evaluate to @touched. */
static gboolean apply_customs(PsRules *r, const Cur *cur, GPtrArray *touched, GError **error)
{
    const RulesInput *in = cur->in;
    Decl *d = g_hash_table_lookup(r->decls, in->declaration);
    if (!d) {
        d = g_new0(Decl, 1);
        d->number = g_strdup(in->declaration);
        d->containers = g_ptr_array_new_with_free_func(g_free);
        d->touch.link.data = d;
        g_hash_table_insert(r->decls, d->number, d);
    }
    rules__touch_decl(r, d, cur->seq);
    if (!ev_keep(&d->ev, cur, FALSE))
        return TRUE; /* an older status arriving late changes nothing */
    for (guint i = 0; i < d->containers->len; i++)
        g_ptr_array_add(touched, g_strdup(g_ptr_array_index(d->containers, i)));
    d->status = in->status;
    d->flow = in->flow;
    g_ptr_array_set_size(d->containers, 0);
    for (guint i = 0; i < in->containers->len; i++) {
        const char *number = g_ptr_array_index(in->containers, i);
        g_ptr_array_add(d->containers, g_strdup(number));
        container_add_decl(container_get(r, number), d->number);
        g_ptr_array_add(touched, g_strdup(number));
    }
    if (d->vessel)
        json_node_unref(d->vessel);
    d->vessel = in->vessel ? json_node_copy(in->vessel) : NULL;
    if (r->replaying)
        return TRUE;
    g_autofree char *list = containers_json(d->containers);
    g_autofree char *vessel = d->vessel ? json_to_string(d->vessel, FALSE) : NULL;
    PsDeclRow row = {
        .number = d->number,
        .status = d->status,
        .flow = d->flow,
        .ts = in->ts,
        .ts_us = in->ts_us,
        .event_seq = cur->seq,
        .event_id = in->id,
        .origin = member_string(in->root, "origin"),
        .destination = member_string(in->root, "destination"),
        .goods = member_string(in->root, "goods"),
        .consignee = member_string(in->root, "consignee"),
        .vessel = vessel,
        .containers = list,
    };
    return store_rules_decl_put(r->store, &row, error);
}

/* The journal keys of an input (store_journal_keys_add): the containers it names and, for a
 * customs status, its declaration. */
static GPtrArray *input_keys(const RulesInput *in)
{
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
    if (in->container)
        g_ptr_array_add(keys, g_strdup(in->container));
    for (guint i = 0; in->containers && i < in->containers->len; i++)
        g_ptr_array_add(keys, g_strdup(g_ptr_array_index(in->containers, i)));
    if (in->kind == RULES_IN_CUSTOMS)
        g_ptr_array_add(keys, g_strconcat("decl ", in->declaration, NULL));
    g_ptr_array_add(keys, NULL);
    return keys;
}

static gboolean apply(PsRules *r, const Cur *cur, guint *decisions, guint *outbox,
                      GError **error)
{
    const RulesInput *in = cur->in;
    /* The rules' clock is input time; a ts more than a day ahead of the time the input was
     * journaled moves it only that far (a wrong clock in one device must not retire all). */
    gint64 ts = cur->received_at > 0 ? MIN(in->ts_us, cur->received_at + G_TIME_SPAN_DAY)
                                     : in->ts_us;
    r->clock = MAX(r->clock, ts);
    if (!r->scratch) {
        if (!r->replaying) {
            g_autoptr(GPtrArray) keys = input_keys(in);
            if (!store_journal_keys_add(r->store, cur->seq, (const char *const *)keys->pdata,
                                        error))
                return FALSE;
        }
        if (!rules__revive_named(r, cur, error))
            return FALSE;
    }
    g_autoptr(GPtrArray) touched = g_ptr_array_new_with_free_func(g_free);
    switch (in->kind) {
    case RULES_IN_CUSTOMS:
        if (!apply_customs(r, cur, touched, error))
            return FALSE;
        break;
    case RULES_IN_ARRIVAL:
        for (guint i = 0; i < in->containers->len; i++) {
            Container *c = container_get(r, g_ptr_array_index(in->containers, i));
            if (ev_keep(&c->arrival, cur, TRUE)) {
                g_free(c->train);
                g_free(c->yard);
                c->train = g_strdup(in->train);
                c->yard = g_strdup(in->yard);
            }
            g_ptr_array_add(touched, g_strdup(c->number));
        }
        break;
    case RULES_IN_GATE:
        if (strcmp(in->value, "out") == 0) {
            /* Gone out: once released too, the container is done (retired from memory). */
            ev_keep(&container_get(r, in->container)->out, cur, FALSE);
            g_ptr_array_add(touched, g_strdup(in->container));
            break;
        }
        if (strcmp(in->mode, "rail") != 0)
            break; /* only a rail gate-in counts as seen in the yard */
        /* fall through */
    case RULES_IN_OCR:
        ev_keep(&container_get(r, in->container)->seen, cur, TRUE);
        g_ptr_array_add(touched, g_strdup(in->container));
        break;
    case RULES_IN_SEAL: {
        Container *c = container_get(r, in->container);
        if (strcmp(in->value, "sealed") == 0)
            ev_keep(&c->seal_ok, cur, FALSE);
        else if (ev_keep(&c->seal_bad, cur, FALSE))
            c->seal_bad_state = in->value;
        g_ptr_array_add(touched, g_strdup(in->container));
        break;
    }
    case RULES_IN_RADIATION: {
        Container *c = container_get(r, in->container);
        if (strcmp(in->value, "alarm") == 0)
            ev_keep(&c->rad_alarm, cur, FALSE);
        else if (strcmp(in->value, "clear") == 0)
            ev_keep(&c->rad_clear, cur, FALSE);
        /* "fault": the portal could not measure; it neither raises nor clears an alarm. */
        g_ptr_array_add(touched, g_strdup(in->container));
        break;
    }
    case RULES_IN_SELECT:
        break; /* the wall's business */
    case RULES_IN_OVERRIDE: {
        Container *c = container_get(r, in->container);
        if (strcmp(in->value, "hold") == 0) {
            if (ev_keep(&c->officer_hold, cur, FALSE)) {
                g_free(c->officer_reason);
                c->officer_reason = g_strdup_printf("officer hold: %s (by %s)", in->reason,
                                                    in->officer);
            }
        } else {
            ev_keep(&c->officer_release, cur, FALSE);
        }
        g_ptr_array_add(touched, g_strdup(in->container));
        break;
    }
    }
    /* Each container once, in first-mention order, so that replay decides in the same order. */
    g_autoptr(GHashTable) done = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < touched->len; i++) {
        const char *number = g_ptr_array_index(touched, i);
        if (!g_hash_table_add(done, (gpointer)number))
            continue;
        Container *c = g_hash_table_lookup(r->containers, number);
        if (c && !decide(r, c, cur, decisions, outbox, error))
            return FALSE;
        if (c)
            rules__touch_container(r, c, cur->seq);
    }
    if (!r->scratch) {
        for (guint i = 0; i < touched->len; i++) {
            Container *c = g_hash_table_lookup(r->containers, g_ptr_array_index(touched, i));
            if (c && rules__done(r, c))
                rules__forget(r, c);
        }
        rules__sweep(r, cur->seq);
    }
    return TRUE;
}

/* ---- describe ---- */

static void add_ev(JsonBuilder *b, const char *name, const Ev *ev)
{
    json_builder_set_member_name(b, name);
    if (ev && ev->id)
        json_builder_add_string_value(b, ev->id);
    else
        json_builder_add_null_value(b);
}

/* What a release of @c (whose declaration is @d, or NULL) still waits for: static strings
 * appended to @out. */
static void waiting_for(PsRules *rules, const Container *c, const Decl *d, GPtrArray *out)
{
    if (!d)
        g_ptr_array_add(out, "a declaration listing the container");
    else if (strcmp(d->flow, "rail-sea") != 0)
        g_ptr_array_add(out, "a rail-sea declaration (the rail-sea release policy does not "
                             "apply to other flows)");
    else if (strcmp(d->status, "released") != 0)
        g_ptr_array_add(out, "declaration status released");
    if (!c->arrival.id)
        g_ptr_array_add(out, "arrival on a train's manifest");
    if (!c->seen.id)
        g_ptr_array_add(out, "seen in the yard (camera read or rail gate-in)");
    if (rules->policy.require_radiation_clear && !c->rad_clear.id)
        g_ptr_array_add(out, "radiation scan");
    if (rules->policy.require_seal && !c->seal_ok.id)
        g_ptr_array_add(out, "seal reading");
}

/* The state that holds @container: @rules when it is live, else a throwaway state rebuilt from
 * its journal rows up to the cursor (*@scratch, to free), or NULL when no input named it. */
static Container *lookup_or_rebuild(PsRules *rules, const char *container, PsRules **scratch)
{
    *scratch = NULL;
    Container *c = container ? g_hash_table_lookup(rules->containers, container) : NULL;
    if (c || !container || rules->scratch)
        return c;
    GError *error = NULL;
    *scratch = rules__rebuild(rules, container, rules->cursor + 1, &error);
    if (error) {
        g_warning("rules: rebuilding %s from the journal: %s", container, error->message);
        g_error_free(error);
    }
    return *scratch ? g_hash_table_lookup((*scratch)->containers, container) : NULL;
}

gboolean rules_verdict(PsRules *rules, const char *container, RulesVerdict *out)
{
    memset(out, 0, sizeof(*out));
    g_autoptr(PsRules) scratch = NULL;
    Container *c = lookup_or_rebuild(rules, container, &scratch);
    if (!c)
        return FALSE;
    if (scratch)
        rules = scratch;
    Decl *d = container_decl(rules, c);
    Evaluation e;
    evaluate(rules, c, &e);
    out->declaration = d ? g_strdup(d->number) : NULL;
    if (e.verdict == VERDICT_RELEASE) {
        out->kind = RULES_VERDICT_RELEASED;
    } else if (e.verdict == VERDICT_HOLD) {
        out->kind = RULES_VERDICT_HELD;
        g_autoptr(GPtrArray) r = g_ptr_array_new();
        for (guint i = 0; i < e.n_reasons; i++)
            g_ptr_array_add(r, (gpointer)e.reasons[i]);
        g_ptr_array_add(r, NULL);
        out->why = g_strjoinv(", ", (char **)r->pdata);
    } else {
        out->kind = RULES_VERDICT_PENDING;
        g_autoptr(GPtrArray) w = g_ptr_array_new();
        waiting_for(rules, c, d, w);
        g_ptr_array_add(w, NULL);
        out->why = g_strjoinv(", ", (char **)w->pdata);
    }
    return TRUE;
}

void rules_verdict_clear(RulesVerdict *v)
{
    g_free(v->why);
    g_free(v->declaration);
    memset(v, 0, sizeof(*v));
}

char **rules_input_containers(const char *topic_rest, const char *payload, gssize len)
{
    RulesInput in;
    gsize n = len < 0 ? strlen(payload ? payload : "") : (gsize)len;
    GPtrArray *out = g_ptr_array_new();
    if (payload && rules__parse(topic_rest, payload, n, &in, NULL)) {
        if (in.container)
            g_ptr_array_add(out, g_strdup(in.container));
        for (guint i = 0; in.containers && i < in.containers->len; i++)
            g_ptr_array_add(out, g_strdup(g_ptr_array_index(in.containers, i)));
        rules__input_clear(&in);
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

char *rules_describe(PsRules *rules, const char *container)
{
    g_autoptr(PsRules) scratch = NULL;
    Container *c = lookup_or_rebuild(rules, container, &scratch);
    if (!c)
        return NULL;
    if (scratch)
        rules = scratch; /* retired: rebuilt from its journal rows */
    Decl *d = container_decl(rules, c);
    Evaluation e;
    evaluate(rules, c, &e);
    g_autoptr(JsonBuilder) b = json_builder_new_immutable();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "container");
    json_builder_add_string_value(b, c->number);
    const char *fields[][2] = {{"declaration", d ? d->number : NULL},
                               {"flow", d ? d->flow : NULL},
                               {"status", d ? d->status : NULL}};
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        json_builder_set_member_name(b, fields[i][0]);
        if (fields[i][1])
            json_builder_add_string_value(b, fields[i][1]);
        else
            json_builder_add_null_value(b);
    }
    add_ev(b, "declaration_event", d ? &d->ev : NULL);
    add_ev(b, "arrived", &c->arrival);
    add_ev(b, "seen", &c->seen);
    gboolean rad_open = ev_after(&c->rad_alarm, &c->rad_clear);
    gboolean seal_open = ev_after(&c->seal_bad, &c->seal_ok);
    add_ev(b, "radiation", rad_open ? &c->rad_alarm : c->rad_clear.id ? &c->rad_clear
                                                                      : &c->rad_alarm);
    add_ev(b, "seal", seal_open ? &c->seal_bad : c->seal_ok.id ? &c->seal_ok : &c->seal_bad);
    json_builder_set_member_name(b, "waiting_for");
    json_builder_begin_array(b);
    g_autoptr(GPtrArray) waits = g_ptr_array_new();
    waiting_for(rules, c, d, waits);
    for (guint i = 0; i < waits->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(waits, i));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "open");
    json_builder_begin_array(b);
    if (d && (strcmp(d->status, "held") == 0 || strcmp(d->status, "inspect") == 0))
        json_builder_add_string_value(b, strcmp(d->status, "held") == 0 ? "customs held"
                                                                          : "customs inspect");
    if (rad_open)
        json_builder_add_string_value(b, "radiation alarm");
    if (seal_open)
        json_builder_add_string_value(b, strcmp(c->seal_bad_state, "opened") == 0
                                             ? "seal opened"
                                             : "seal tampered");
    if (ev_after(&c->officer_hold, &c->officer_release))
        json_builder_add_string_value(b, c->officer_reason);
    json_builder_end_array(b);
    add_ev(b, "officer", ev_after(&c->officer_hold, &c->officer_release) ? &c->officer_hold
                         : c->officer_release.id                           ? &c->officer_release
                                                                           : NULL);
    json_builder_set_member_name(b, "verdict");
    json_builder_add_string_value(b, e.verdict == VERDICT_RELEASE ? "release"
                                     : e.verdict == VERDICT_HOLD  ? "hold"
                                                                  : "none");
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

/* ---- evaluation from the journal ---- */

/* Applies one journal row to the state, and (unless replaying) writes the decisions it makes.
 * Rows that are not rules inputs (other modules' topics) change nothing. */
gboolean rules__eval_row(PsRules *r, const PsJournalRow *row, guint *decisions, guint *outbox,
                         GError **error)
{
    const char *rest = topics_rest(r->root, row->topic);
    if (!rest)
        return TRUE; /* another module's event */
    RulesInput in;
    if (!rules__parse(rest, row->payload, row->payload_len, &in, NULL))
        return TRUE; /* not one of the rules' inputs */
    Cur cur = {row->seq, row->topic, &in, row->received_at};
    gboolean ok = apply(r, &cur, decisions, outbox, error);
    rules__input_clear(&in);
    return ok;
}

typedef struct {
    PsRules *r;
    gint64 upto;   /* stop after this seq (replay); G_MAXINT64 for no bound */
    guint max;     /* stop after this many rows; 0 for no bound */
    guint rows;
    guint decisions, outbox;
    gboolean failed;
    GError *error;
} EvalArgs;

static gboolean eval_cb(const PsJournalRow *row, gpointer user_data)
{
    EvalArgs *a = user_data;
    if (row->seq > a->upto)
        return FALSE;
    if (!rules__eval_row(a->r, row, &a->decisions, &a->outbox, &a->error)) {
        a->failed = TRUE;
        return FALSE;
    }
    a->r->cursor = row->seq;
    a->rows++;
    return a->max == 0 || a->rows < a->max;
}

/* Empties the state. */
static void state_clear(PsRules *r)
{
    g_hash_table_remove_all(r->containers);
    g_hash_table_remove_all(r->decls);
    g_queue_init(&r->lru_c); /* the links are inside the containers, freed with them */
    g_queue_init(&r->lru_d);
    g_hash_table_remove_all(r->dirty_c);
    g_hash_table_remove_all(r->dirty_d);
    r->clock = 0;
    r->cursor = 0;
    r->snap_seq = 0;
    r->snap_full = TRUE;
}

/* Rebuilds the state up to the stored cursor, writing nothing: the snapshot, if a usable one
 * is stored, and a replay of the journal after it. */
static gboolean reload(PsRules *r, GError **error)
{
    gint64 upto = 0;
    if (!store_rules_cursor_get(r->store, &upto, error))
        return FALSE;
    state_clear(r);
    gboolean loaded = FALSE;
    gint64 expected = 0;
    if (!r->ret.no_snapshot && !rules__snapshot_load(r, upto, &loaded, &expected, error)) {
        state_clear(r);
        return FALSE;
    }
    r->replaying = TRUE;
    r->replay_decisions = 0;
    EvalArgs a = {r, upto, 0};
    gboolean ok = store_journal_foreach(r->store, r->cursor, eval_cb, &a, error);
    r->replaying = FALSE;
    if (ok && a.failed) {
        g_propagate_error(error, a.error);
        ok = FALSE;
    }
    if (!ok) {
        state_clear(r);
        return FALSE;
    }
    r->cursor = upto; /* also when the last rows are not rules inputs */
    r->stats.replayed = a.rows;
    gint64 stored = 0, pruned = 0;
    if (!store_rules_decision_count(r->store, &stored, error) ||
        !store_journal_pruned(r->store, &pruned, error))
        return FALSE;
    r->decisions = stored;
    expected += r->replay_decisions;
    /* A replay of a pruned journal misses the decisions of the rows pruned. */
    if (stored != expected && (loaded || pruned == 0))
        g_warning("rules: replaying the journal gives %" G_GINT64_FORMAT " decisions but the "
                  "store holds %" G_GINT64_FORMAT " (was the journal written by another version "
                  "of the policy?)", expected, stored);
    g_debug("rules: %s, replayed the journal to seq %" G_GINT64_FORMAT " (%u rows): %u "
            "containers, %u declarations live", loaded ? "snapshot loaded" : "no snapshot", upto,
            a.rows, g_hash_table_size(r->containers), g_hash_table_size(r->decls));
    return TRUE;
}

/* Inside a write transaction: evaluates (writing decisions) the journal rows after the cursor,
 * at most @max (0: all), and stores the new cursor. When another connection or process has
 * moved the stored cursor, the state is rebuilt first. */
static gboolean catch_up_locked(PsRules *r, guint max, guint *rows, guint *decisions,
                                guint *outbox, GError **error)
{
    gint64 stored = 0;
    if (!store_rules_cursor_get(r->store, &stored, error))
        return FALSE;
    if (stored != r->cursor && !reload(r, error))
        return FALSE;
    gint64 last = 0;
    if (!store_journal_last_seq(r->store, &last, error))
        return FALSE;
    if (last <= r->cursor)
        return TRUE; /* nothing new: no journal scan to prepare */
    EvalArgs a = {r, G_MAXINT64, max};
    gint64 from = r->cursor;
    if (!store_journal_foreach(r->store, from, eval_cb, &a, error))
        return FALSE;
    if (a.failed) {
        g_propagate_error(error, a.error);
        return FALSE;
    }
    if (r->cursor != from && !store_rules_cursor_set(r->store, r->cursor, error))
        return FALSE;
    if (!rules__maybe_snapshot(r, error))
        return FALSE;
    *rows += a.rows;
    *decisions += a.decisions;
    *outbox += a.outbox;
    return TRUE;
}

/* ---- public ---- */

void rules_policy_init(PsRulesPolicy *policy)
{
    *policy = (PsRulesPolicy){.require_radiation_clear = TRUE, .require_seal = FALSE};
}

void rules_retention_init(PsRulesRetention *retention)
{
    *retention = (PsRulesRetention){.retain_days = 30, .max_live = 1000000,
                                    .snapshot_every = 50000, .journal_keep_days = 0};
}

PsRules *rules_new(PsStore *store, const char *topic_root, GError **error)
{
    return rules_open(store, topic_root, NULL, NULL, error);
}

PsRules *rules_new_full(PsStore *store, const char *topic_root, const PsRulesPolicy *policy,
                        GError **error)
{
    return rules_open(store, topic_root, policy, NULL, error);
}

PsRules *rules__alloc(PsStore *store, const char *root, const PsRulesPolicy *policy,
                      const PsRulesRetention *retention)
{
    PsRules *r = g_new0(PsRules, 1);
    r->store = store;
    if (policy)
        r->policy = *policy;
    else
        rules_policy_init(&r->policy);
    if (retention)
        r->ret = *retention;
    else
        rules_retention_init(&r->ret);
    r->root = g_strdup(topics_root(root));
    r->decls = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, rules__decl_free);
    r->containers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, rules__container_free);
    r->dirty_c = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    r->dirty_d = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_queue_init(&r->lru_c);
    g_queue_init(&r->lru_d);
    r->snap_full = TRUE;
    return r;
}

PsRules *rules_open(PsStore *store, const char *topic_root, const PsRulesPolicy *policy,
                    const PsRulesRetention *retention, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    PsRules *r = rules__alloc(store, topic_root, policy, retention);
    if (!reload(r, error)) {
        rules_free(r);
        return NULL;
    }
    return r;
}

void rules_free(PsRules *rules)
{
    if (!rules)
        return;
    g_hash_table_destroy(rules->containers);
    g_hash_table_destroy(rules->decls);
    g_hash_table_destroy(rules->dirty_c);
    g_hash_table_destroy(rules->dirty_d);
    g_free(rules->root);
    g_free(rules);
}

gboolean rules_live(PsRules *rules, const char *container)
{
    return container && g_hash_table_contains(rules->containers, container);
}

void rules_stats(PsRules *rules, RulesStats *out)
{
    *out = rules->stats;
    out->live_containers = g_hash_table_size(rules->containers);
    out->live_declarations = g_hash_table_size(rules->decls);
    out->snapshot_seq = rules->snap_full ? 0 : rules->snap_seq;
    out->clock_us = rules->clock;
}

void rules_ingest_result_clear(RulesIngestResult *result)
{
    if (!result)
        return;
    g_clear_pointer(&result->reason, g_free);
    result->outcome = RULES_ACCEPTED;
    result->decisions = 0;
    result->seq = 0;
}

void rules_set_outbox_notify(PsRules *rules, GFunc func, gpointer user_data)
{
    rules->notify = func;
    rules->notify_data = user_data;
}

gint64 rules_cursor(PsRules *rules)
{
    return rules->cursor;
}

/* A failed write rolled back: the state in memory may be ahead of the store. */
static void reload_after_failure(PsRules *r)
{
    GError *local = NULL;
    if (!reload(r, &local)) {
        g_warning("rules: reloading the state after a failed write: %s", local->message);
        g_error_free(local);
    }
}

typedef struct {
    PsRules *r;
    guint max;
    guint rows, decisions, outbox;
} CatchUpArgs;

static gboolean catch_up_txn(PsStore *store, gpointer user_data, GError **error)
{
    CatchUpArgs *a = user_data;
    return catch_up_locked(a->r, a->max, &a->rows, &a->decisions, &a->outbox, error);
}

gboolean rules_catch_up(PsRules *rules, guint max, guint *evaluated, GError **error)
{
    g_return_val_if_fail(rules != NULL, FALSE);
    CatchUpArgs a = {rules, max};
    if (evaluated)
        *evaluated = 0;
    /* Decisions are a function of the journal: a batch lost to a power cut is evaluated again,
     * the same, from the journal (its cursor is lost with it). */
    if (!store_transaction_derived(rules->store, catch_up_txn, &a, error)) {
        reload_after_failure(rules);
        return FALSE;
    }
    if (evaluated)
        *evaluated = a.rows;
    if (a.outbox > 0 && rules->notify)
        rules->notify(NULL, rules->notify_data);
    return TRUE;
}

typedef struct {
    const char *source, *topic, *payload;
    gsize len;
    const char *reason;
    RulesIngestResult *result;
} RejectArgs;

static gboolean reject_txn(PsStore *store, gpointer user_data, GError **error)
{
    RejectArgs *a = user_data;
    g_autofree char *id = rules__guess_id(a->payload, a->len);
    g_autofree char *safe_topic = g_utf8_make_valid(a->topic, -1);
    /* store_dead_letter() logs it (one line per topic per minute). */
    g_autofree char *kept = a->len > RULES_DEAD_LETTER_MAX
                                ? g_strdup_printf("%s (payload cut to its first %d bytes here)",
                                                  a->reason, RULES_DEAD_LETTER_MAX)
                                : g_strdup(a->reason);
    g_free(a->result->reason);
    a->result->outcome = RULES_REJECTED;
    a->result->reason = g_strdup(a->reason);
    return store_dead_letter(store, a->source, safe_topic, id, a->payload,
                             (gssize)MIN(a->len, (gsize)RULES_DEAD_LETTER_MAX), kept, error);
}

/* Dead-letters an input with @reason (in a transaction of its own, or the caller's). */
static gboolean reject(PsStore *store, const char *source, const char *topic,
                       const char *payload, gsize len, const char *reason,
                       RulesIngestResult *result, GError **error)
{
    RejectArgs a = {source, topic, payload, len, reason, result};
    return store_transaction(store, reject_txn, &a, error);
}

/* Validates, writing nothing. Returns TRUE and fills @in when the input is to be journaled;
 * otherwise @in is cleared and *@reason says why it is rejected, or it is NULL for an input
 * already known (result->outcome DUPLICATE). FALSE only on a store error. */
static gboolean screen(PsStore *store, const char *root, const char *source, const char *topic,
                       const char *payload, gsize n, RulesInput *in, RulesIngestResult *result,
                       gboolean *go, char **reason, GError **error)
{
    *go = FALSE;
    *reason = NULL;
    const char *rest = topics_rest(root, topic);
    if (!rest) {
        *reason = g_strdup_printf("unknown topic (not under '%s/')", root);
        return TRUE;
    }
    GError *invalid = NULL;
    if (!rules__parse(rest, payload, n, in, &invalid)) {
        *reason = g_strdup(invalid->message);
        g_error_free(invalid);
        return TRUE;
    }
    if (in->kind == RULES_IN_OCR) {
        gboolean known = FALSE;
        if (!store_rules_event_known(store, topic, in->id, source, &known, error)) {
            rules__input_clear(in);
            return FALSE;
        }
        if (known) {
            g_debug("rules: OCR read %s on %s is already known (the engine's own): ignored",
                    in->id, topic);
            result->outcome = RULES_DUPLICATE;
            rules__input_clear(in);
            return TRUE;
        }
    }
    *go = TRUE;
    return TRUE;
}

typedef struct {
    const char *source, *topic, *payload;
    gsize len;
    const RulesInput *in;
    RulesIngestResult *result;
} JournalArgs;

static gboolean journal_txn(PsStore *store, gpointer user_data, GError **error)
{
    JournalArgs *a = user_data;
    gint64 now = g_get_real_time();
    PsEvent ev = {a->source, a->topic, a->in->id, a->in->ts, now, a->payload, (gssize)a->len};
    PsAppendResult ar;
    if (!store_append_batch(store, &ev, 1, &ar, error))
        return FALSE;
    if (ar.appended == 0)
        a->result->outcome = RULES_DUPLICATE;
    else
        a->result->seq = ar.first_seq;
    return TRUE;
}

/* What rules_journal() and rules_ingest_from() do first: resets @result, treats NULL @topic and
 * @payload as empty, and screens the input. Sets @go (with @in parsed) when it is to be
 * journaled; otherwise it was a repeat, or is rejected here into the dead letters. Returns FALSE
 * only on a store error. */
static gboolean admit(PsStore *store, const char *root, const char *source, const char **topic,
                      const char **payload, gssize len, gsize *n, RulesInput *in,
                      RulesIngestResult *result, gboolean *go, GError **error)
{
    memset(result, 0, sizeof(*result));
    if (!*topic)
        *topic = "";
    if (!*payload) {
        *payload = "";
        len = 0;
    }
    *n = len < 0 ? strlen(*payload) : (gsize)len;
    *go = FALSE;
    g_autofree char *reason = NULL;
    if (!screen(store, root, source, *topic, *payload, *n, in, result, go, &reason, error))
        return FALSE;
    if (reason) {
        *go = FALSE;
        return reject(store, source, *topic, *payload, *n, reason, result, error);
    }
    return TRUE;
}

gboolean rules_journal(PsStore *store, const char *topic_root, const char *source,
                       const char *topic, const char *payload, gssize len,
                       RulesIngestResult *result, GError **error)
{
    g_return_val_if_fail(store && source && result, FALSE);
    /* Parsing happens before the transaction, which then holds the write lock only for the
     * insert. */
    gsize n;
    RulesInput in;
    gboolean go;
    if (!admit(store, topics_root(topic_root), source, &topic, &payload,
               len, &n, &in, result, &go, error))
        return FALSE;
    if (!go)
        return TRUE;
    JournalArgs a = {source, topic, payload, n, &in, result};
    gboolean ok = store_transaction(store, journal_txn, &a, error);
    rules__input_clear(&in);
    return ok;
}

typedef struct {
    PsRules *r;
    const char *source, *topic, *payload;
    gsize len;
    const RulesInput *in;
    RulesIngestResult *result;
    guint rows, decisions, outbox;
} IngestArgs;

static gboolean ingest_txn(PsStore *store, gpointer user_data, GError **error)
{
    IngestArgs *a = user_data;
    /* Whatever was journaled before (by the MQTT subscriber's connection) is evaluated first,
     * so that decisions follow journal order as they do in a replay. */
    guint earlier = 0;
    if (!catch_up_locked(a->r, 0, &a->rows, &earlier, &a->outbox, error))
        return FALSE;
    gint64 now = g_get_real_time();
    PsEvent ev = {a->source, a->topic, a->in->id, a->in->ts, now, a->payload, (gssize)a->len};
    PsAppendResult ar;
    if (!store_append_batch(store, &ev, 1, &ar, error))
        return FALSE;
    if (ar.appended == 0) {
        a->result->outcome = RULES_DUPLICATE;
        return TRUE;
    }
    a->result->seq = ar.first_seq;
    Cur cur = {ar.first_seq, a->topic, a->in, now};
    if (!apply(a->r, &cur, &a->result->decisions, &a->outbox, error) ||
        !store_rules_cursor_set(store, ar.first_seq, error))
        return FALSE;
    a->r->cursor = ar.first_seq;
    return rules__maybe_snapshot(a->r, error);
}

gboolean rules_ingest_from(PsRules *rules, const char *source, const char *topic,
                           const char *payload, gssize len, RulesIngestResult *result,
                           GError **error)
{
    g_return_val_if_fail(rules && source && result, FALSE);
    gsize n;
    RulesInput in;
    gboolean go;
    if (!admit(rules->store, rules->root, source, &topic, &payload, len, &n, &in, result, &go,
               error))
        return FALSE;
    if (!go)
        return TRUE;
    IngestArgs a = {rules, source, topic, payload, n, &in, result};
    gboolean ok = store_transaction(rules->store, ingest_txn, &a, error);
    rules__input_clear(&in);
    if (!ok) {
        /* The transaction rolled back; the in-memory state may be ahead of it. */
        result->decisions = 0;
        result->seq = 0;
        reload_after_failure(rules);
        return FALSE;
    }
    if (a.outbox > 0 && rules->notify)
        rules->notify(NULL, rules->notify_data);
    return TRUE;
}

gboolean rules_ingest(PsRules *rules, const char *topic, const char *payload, gssize len,
                      RulesIngestResult *result, GError **error)
{
    return rules_ingest_from(rules, "mqtt", topic, payload, len, result, error);
}
