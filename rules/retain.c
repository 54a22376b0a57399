/* retain.c: what keeps the rules' state bounded for a year of containers.
 *
 * Retirement: a container leaves memory when it is done (released, the release published, and
 * gone out of a gate) or when no input named it for retain_days of input time; past max_live
 * the least recently named goes early. Nothing is refused. When an input names a retired
 * container again, the container is rebuilt from the journal rows that name it (journal_key)
 * and those of the declarations on it, replayed in journal order into a throwaway state, and
 * its publication history from the decision table: the state it would have had had it stayed,
 * so the decisions are the same. rules_describe() and rules_verdict() rebuild the same way.
 *
 * The snapshot: the live state at a journal seq, in the store (rules_snapshot), written in the
 * transaction that evaluates the rows (so its seq is the cursor's, also across a crash), every
 * snapshot_every rows and at a clean stop; only what changed since the last one is written. A
 * start loads it and replays the journal after it.
 *
 * Journal retention: rows older than journal_keep_days of input time whose containers and
 * declaration are all retired are deleted (or archived) in bounded batches. */
#include <string.h>

#include "rules-state.h"
#include "store-rules.h"
#include "topics.h"

#define SNAP_META 0
#define SNAP_CONTAINER 1
#define SNAP_DECL 2
#define SNAP_VERSION 1

#define EV_T "(xxsss)"
#define CONTAINER_T                                                                        \
    "(sasm" EV_T "msmsm" EV_T "m" EV_T "m" EV_T "m" EV_T "m" EV_T "msm" EV_T "m" EV_T        \
    "msm" EV_T "xxa(sbiums))"
#define DECL_T "(s" EV_T "ssasmsxx)"
#define META_T "(uxxxbbs)"

static const char *const decl_status[] = {"released", "held", "inspect", "pending", NULL};
static const char *const decl_flow[] = {"rail-sea", "sea-rail", "road", NULL};
static const char *const seal_bad[] = {"opened", "tampered", NULL};

/* ---- the lists of least recently named ---- */

static void mark(PsRules *r, GHashTable *dirty, const char *number)
{
    if (!r->snap_full && !g_hash_table_contains(dirty, number))
        g_hash_table_add(dirty, g_strdup(number));
}

static void touch(GQueue *q, Touch *t, gint64 clock, gint64 seq)
{
    t->clock = clock;
    t->seq = seq;
    if (t->queued)
        g_queue_unlink(q, &t->link);
    g_queue_push_tail_link(q, &t->link);
    t->queued = TRUE;
}

void rules__touch_container(PsRules *r, Container *c, gint64 seq)
{
    if (r->scratch)
        return;
    touch(&r->lru_c, &c->touch, r->clock, seq);
    mark(r, r->dirty_c, c->number);
}

void rules__touch_decl(PsRules *r, Decl *d, gint64 seq)
{
    if (r->scratch)
        return;
    touch(&r->lru_d, &d->touch, r->clock, seq);
    mark(r, r->dirty_d, d->number);
}

static void forget_decl(PsRules *r, Decl *d)
{
    if (d->touch.queued)
        g_queue_unlink(&r->lru_d, &d->touch.link);
    mark(r, r->dirty_d, d->number);
    g_hash_table_remove(r->decls, d->number);
}

static gboolean decl_in_use(PsRules *r, const Decl *d)
{
    for (guint i = 0; i < d->containers->len; i++)
        if (g_hash_table_contains(r->containers, g_ptr_array_index(d->containers, i)))
            return TRUE;
    return FALSE;
}

void rules__forget(PsRules *r, Container *c)
{
    if (c->touch.queued)
        g_queue_unlink(&r->lru_c, &c->touch.link);
    mark(r, r->dirty_c, c->number);
    r->stats.retired++;
    /* Its declarations go with it when no other live container is on them (an input naming
     * one again rebuilds it from its own rows). */
    char *decls[RULES_MAX_DECLS_PER_CONTAINER];
    guint n = c->n_decls;
    for (guint i = 0; i < n; i++)
        decls[i] = g_strdup(c->decls[i]);
    g_hash_table_remove(r->containers, c->number);
    for (guint i = 0; i < n; i++) {
        Decl *d = g_hash_table_lookup(r->decls, decls[i]);
        if (d && !decl_in_use(r, d))
            forget_decl(r, d);
        g_free(decls[i]);
    }
}

void rules__sweep(PsRules *r, gint64 seq)
{
    gint64 keep = (gint64)r->ret.retain_days * G_TIME_SPAN_DAY;
    GList *l;
    while ((l = r->lru_c.head)) {
        Container *c = l->data;
        gboolean old = r->ret.retain_days && c->touch.clock < r->clock - keep;
        gboolean over = r->ret.max_live && g_hash_table_size(r->containers) > r->ret.max_live;
        if (!old && !over)
            break;
        rules__forget(r, c);
    }
    /* A declaration stays while a live container is on it (the policy reads it). */
    while (r->ret.retain_days && (l = r->lru_d.head)) {
        Decl *d = l->data;
        if (d->touch.clock >= r->clock - keep)
            break;
        if (decl_in_use(r, d))
            rules__touch_decl(r, d, seq);
        else
            forget_decl(r, d);
    }
}

/* ---- rebuilding from the journal ---- */

typedef struct {
    PsRules *r;
    GHashTable *decls; /* declaration numbers met (owned) */
    gboolean failed;
    GError *error;
} RowArgs;

static gboolean collect_decls(const PsJournalRow *row, gpointer user_data)
{
    RowArgs *a = user_data;
    const char *rest = topics_rest(a->r->root, row->topic);
    RulesInput in;
    if (!rest || !rules__parse(rest, row->payload, row->payload_len, &in, NULL))
        return TRUE;
    if (in.kind == RULES_IN_CUSTOMS)
        g_hash_table_add(a->decls, g_strdup(in.declaration));
    rules__input_clear(&in);
    return TRUE;
}

static gboolean replay_row(const PsJournalRow *row, gpointer user_data)
{
    RowArgs *a = user_data;
    guint decisions = 0, outbox = 0;
    if (!rules__eval_row(a->r, row, &decisions, &outbox, &a->error)) {
        a->failed = TRUE;
        return FALSE;
    }
    return TRUE;
}

static int cmp_seq(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

/* A throwaway state with the journal rows @seqs (sorted here, repeats dropped) replayed. */
static PsRules *replay_into_scratch(PsRules *r, GArray *seqs, GError **error)
{
    g_array_sort(seqs, cmp_seq);
    guint n = 0;
    for (guint i = 0; i < seqs->len; i++)
        if (n == 0 || g_array_index(seqs, gint64, i) != g_array_index(seqs, gint64, n - 1))
            g_array_index(seqs, gint64, n++) = g_array_index(seqs, gint64, i);
    PsRules *s = rules__alloc(r->store, r->root, &r->policy, &r->ret);
    s->scratch = TRUE;
    s->replaying = TRUE;
    RowArgs a = {s, NULL, FALSE, NULL};
    if (!store_journal_rows(r->store, (const gint64 *)(void *)seqs->data, n, replay_row, &a,
                            error) ||
        a.failed) {
        if (a.failed)
            g_propagate_error(error, a.error);
        rules_free(s);
        return NULL;
    }
    return s;
}

PsRules *rules__rebuild(PsRules *r, const char *container, gint64 below, GError **error)
{
    g_autoptr(GArray) seqs = g_array_new(FALSE, FALSE, sizeof(gint64));
    if (!store_journal_key_seqs(r->store, container, below, seqs, error) || seqs->len == 0)
        return NULL;
    /* The declarations that listed it: their whole history decides which applies now. */
    g_autoptr(GHashTable) decls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    RowArgs a = {r, decls, FALSE, NULL};
    if (!store_journal_rows(r->store, (const gint64 *)(void *)seqs->data, seqs->len,
                            collect_decls, &a, error))
        return NULL;
    GHashTableIter it;
    gpointer number;
    g_hash_table_iter_init(&it, decls);
    while (g_hash_table_iter_next(&it, &number, NULL)) {
        g_autofree char *key = g_strconcat("decl ", (const char *)number, NULL);
        if (!store_journal_key_seqs(r->store, key, below, seqs, error))
            return NULL;
    }
    return replay_into_scratch(r, seqs, error);
}

typedef struct {
    Container *c;
    gint64 below;
} PubArgs;

/* The publication history of a rebuilt container: what the decision table says was published
 * before the input being applied (the same as the state it had when it retired). */
static gboolean load_pub(const PsDecisionRow *row, gpointer user_data)
{
    PubArgs *a = user_data;
    if (row->event_seq >= a->below)
        return TRUE;
    Pub *pub = g_hash_table_lookup(a->c->pubs, row->declaration);
    if (!pub) {
        pub = g_new0(Pub, 1);
        g_hash_table_insert(a->c->pubs, g_strdup(row->declaration), pub);
    }
    if (strcmp(row->kind, "release") == 0) {
        pub->released = TRUE;
        pub->last = 1;
        return TRUE;
    }
    pub->holds++;
    pub->last = 2;
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GPtrArray) reasons = g_ptr_array_new();
    if (json_parser_load_from_data(p, row->payload, -1, NULL) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        JsonObject *o = json_node_get_object(json_parser_get_root(p));
        JsonArray *list = json_object_has_member(o, "reasons")
                              ? json_object_get_array_member(o, "reasons")
                              : NULL;
        for (guint i = 0; list && i < json_array_get_length(list); i++)
            g_ptr_array_add(reasons, (gpointer)json_array_get_string_element(list, i));
    }
    g_ptr_array_add(reasons, NULL);
    g_free(pub->last_reasons);
    pub->last_reasons = g_strjoinv(", ", (char **)reasons->pdata);
    return TRUE;
}

/* Moves what @s holds of declaration @number into @r, unless @r has it. */
static void adopt_decl(PsRules *r, PsRules *s, const char *number, gint64 seq)
{
    if (g_hash_table_contains(r->decls, number))
        return;
    Decl *d = g_hash_table_lookup(s->decls, number);
    if (!d)
        return;
    g_hash_table_steal(s->decls, number);
    g_hash_table_insert(r->decls, d->number, d);
    rules__touch_decl(r, d, seq);
}

static gboolean revive_container(PsRules *r, const char *number, gint64 below, GError **error)
{
    if (g_hash_table_contains(r->containers, number))
        return TRUE;
    GError *local = NULL;
    g_autoptr(PsRules) s = rules__rebuild(r, number, below, &local);
    if (local) {
        g_propagate_error(error, local);
        return FALSE;
    }
    Container *c = s ? g_hash_table_lookup(s->containers, number) : NULL;
    if (!c)
        return TRUE; /* never named before: a new container */
    g_hash_table_steal(s->containers, number);
    g_hash_table_remove_all(c->pubs);
    PubArgs pa = {c, below};
    if (!store_rules_decisions_foreach(r->store, number, load_pub, &pa, error)) {
        rules__container_free(c);
        return FALSE;
    }
    g_hash_table_insert(r->containers, c->number, c);
    rules__touch_container(r, c, below);
    for (guint i = 0; i < c->n_decls; i++)
        adopt_decl(r, s, c->decls[i], below);
    r->stats.revived++;
    return TRUE;
}

static gboolean revive_decl(PsRules *r, const char *number, gint64 below, GError **error)
{
    if (g_hash_table_contains(r->decls, number))
        return TRUE;
    g_autofree char *key = g_strconcat("decl ", number, NULL);
    g_autoptr(GArray) seqs = g_array_new(FALSE, FALSE, sizeof(gint64));
    if (!store_journal_key_seqs(r->store, key, below, seqs, error))
        return FALSE;
    if (seqs->len == 0)
        return TRUE;
    g_autoptr(PsRules) s = replay_into_scratch(r, seqs, error);
    if (!s)
        return FALSE;
    adopt_decl(r, s, number, below);
    return TRUE;
}

gboolean rules__revive_named(PsRules *r, const Cur *cur, GError **error)
{
    const RulesInput *in = cur->in;
    if (in->kind == RULES_IN_SELECT)
        return TRUE;
    if (in->kind == RULES_IN_CUSTOMS) {
        if (!revive_decl(r, in->declaration, cur->seq, error))
            return FALSE;
        /* A new status re-evaluates the containers of the one before. */
        Decl *d = g_hash_table_lookup(r->decls, in->declaration);
        for (guint i = 0; d && i < d->containers->len; i++)
            if (!revive_container(r, g_ptr_array_index(d->containers, i), cur->seq, error))
                return FALSE;
    }
    if (in->container && !revive_container(r, in->container, cur->seq, error))
        return FALSE;
    for (guint i = 0; in->containers && i < in->containers->len; i++)
        if (!revive_container(r, g_ptr_array_index(in->containers, i), cur->seq, error))
            return FALSE;
    return TRUE;
}

/* ---- the snapshot ---- */

static GVariant *ev_v(const Ev *e)
{
    GVariant *inner = e->id ? g_variant_new(EV_T, e->ts_us, e->seq, e->id, e->topic ? e->topic : "",
                                            e->ts ? e->ts : "")
                            : NULL;
    return g_variant_new_maybe(G_VARIANT_TYPE(EV_T), inner);
}

static GVariant *ms_v(const char *s)
{
    return g_variant_new_maybe(G_VARIANT_TYPE_STRING, s ? g_variant_new_string(s) : NULL);
}

static GVariant *container_v(const Container *c)
{
    GVariantBuilder decls, pubs;
    g_variant_builder_init(&decls, G_VARIANT_TYPE_STRING_ARRAY);
    for (guint i = 0; i < c->n_decls; i++)
        g_variant_builder_add(&decls, "s", c->decls[i]);
    g_variant_builder_init(&pubs, G_VARIANT_TYPE("a(sbiums)"));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, c->pubs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const Pub *p = v;
        g_variant_builder_add_value(&pubs, g_variant_new("(sbiu@ms)", (const char *)k, p->released,
                                                         p->last, p->holds,
                                                         ms_v(p->last_reasons)));
    }
    GVariant *fields[] = {
        g_variant_new_string(c->number), g_variant_builder_end(&decls), ev_v(&c->arrival),
        ms_v(c->train), ms_v(c->yard), ev_v(&c->seen), ev_v(&c->rad_alarm),
        ev_v(&c->rad_clear), ev_v(&c->seal_ok), ev_v(&c->seal_bad), ms_v(c->seal_bad_state),
        ev_v(&c->officer_hold), ev_v(&c->officer_release), ms_v(c->officer_reason),
        ev_v(&c->out), g_variant_new_int64(c->touch.clock), g_variant_new_int64(c->touch.seq),
        g_variant_builder_end(&pubs),
    };
    return g_variant_ref_sink(g_variant_new_tuple(fields, G_N_ELEMENTS(fields)));
}

static GVariant *decl_v(const Decl *d)
{
    GVariantBuilder list;
    g_variant_builder_init(&list, G_VARIANT_TYPE_STRING_ARRAY);
    for (guint i = 0; i < d->containers->len; i++)
        g_variant_builder_add(&list, "s", (const char *)g_ptr_array_index(d->containers, i));
    g_autofree char *vessel = d->vessel ? json_to_string(d->vessel, FALSE) : NULL;
    /* A declaration's status event is always set (it is what created it). */
    GVariant *fields[] = {
        g_variant_new_string(d->number),
        g_variant_new(EV_T, d->ev.ts_us, d->ev.seq, d->ev.id ? d->ev.id : "",
                      d->ev.topic ? d->ev.topic : "", d->ev.ts ? d->ev.ts : ""),
        g_variant_new_string(d->status), g_variant_new_string(d->flow),
        g_variant_builder_end(&list), ms_v(vessel), g_variant_new_int64(d->touch.clock),
        g_variant_new_int64(d->touch.seq),
    };
    return g_variant_ref_sink(g_variant_new_tuple(fields, G_N_ELEMENTS(fields)));
}

static gboolean put(PsStore *store, int kind, const char *key, GVariant *v, GError **error)
{
    gboolean ok = store_rules_snapshot_put(store, kind, key, g_variant_get_data(v),
                                           g_variant_get_size(v), error);
    g_variant_unref(v);
    return ok;
}

static gboolean write_dirty(PsRules *r, GHashTable *dirty, GHashTable *live, int kind,
                            GError **error)
{
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, dirty);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        gpointer v = g_hash_table_lookup(live, key);
        gboolean ok = !v ? store_rules_snapshot_delete(r->store, kind, key, error)
                      : put(r->store, kind, key,
                            kind == SNAP_CONTAINER ? container_v(v) : decl_v(v), error);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

static gboolean write_all(PsRules *r, GHashTable *live, int kind, GError **error)
{
    GHashTableIter it;
    gpointer key, v;
    g_hash_table_iter_init(&it, live);
    while (g_hash_table_iter_next(&it, &key, &v))
        if (!put(r->store, kind, key, kind == SNAP_CONTAINER ? container_v(v) : decl_v(v),
                 error))
            return FALSE;
    return TRUE;
}

static gboolean read_meta(const char *key, const void *data, gsize len, gpointer user_data)
{
    GVariant **meta = user_data;
    if (strcmp(key, "meta") == 0 && !*meta) {
        g_autoptr(GBytes) bytes = g_bytes_new(data, len);
        *meta = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(META_T), bytes, FALSE));
    }
    return TRUE;
}

static gboolean stored_meta(PsRules *r, GVariant **meta, GError **error)
{
    *meta = NULL;
    return store_rules_snapshot_foreach(r->store, SNAP_META, read_meta, meta, error);
}

gboolean rules__snapshot_write(PsRules *r, GError **error)
{
    GVariant *meta = NULL;
    if (!stored_meta(r, &meta, error))
        return FALSE;
    gint64 stored_seq = -1;
    if (meta) {
        g_variant_get_child(meta, 1, "x", &stored_seq);
        g_variant_unref(meta);
    }
    /* Only what changed since the snapshot in the store, when it is the one this state
     * started from or wrote last; otherwise everything. */
    gboolean full = r->snap_full || stored_seq != r->snap_seq;
    gboolean ok = full ? store_rules_snapshot_clear(r->store, error) &&
                             write_all(r, r->containers, SNAP_CONTAINER, error) &&
                             write_all(r, r->decls, SNAP_DECL, error)
                       : write_dirty(r, r->dirty_c, r->containers, SNAP_CONTAINER, error) &&
                             write_dirty(r, r->dirty_d, r->decls, SNAP_DECL, error);
    if (!ok)
        return FALSE;
    GVariant *m = g_variant_ref_sink(g_variant_new(META_T, (guint32)SNAP_VERSION, r->cursor,
                                                   r->decisions, r->clock,
                                                   r->policy.require_radiation_clear,
                                                   r->policy.require_seal, r->root));
    if (!put(r->store, SNAP_META, "meta", m, error))
        return FALSE;
    r->snap_seq = r->cursor;
    r->snap_full = FALSE;
    g_hash_table_remove_all(r->dirty_c);
    g_hash_table_remove_all(r->dirty_d);
    r->stats.snapshot_seq = r->cursor;
    return TRUE;
}

gboolean rules__maybe_snapshot(PsRules *r, GError **error)
{
    if (r->scratch || r->ret.no_snapshot || r->ret.snapshot_every == 0 ||
        r->cursor - r->snap_seq < (gint64)r->ret.snapshot_every)
        return TRUE;
    return rules__snapshot_write(r, error);
}

/* Reading back: every string is checked, an unknown enum value makes the snapshot unusable. */

static gboolean ev_from(GVariant *m, Ev *e)
{
    g_autoptr(GVariant) inner = g_variant_get_maybe(m);
    g_variant_unref(m);
    if (!inner)
        return TRUE;
    const char *id, *topic, *ts;
    g_variant_get(inner, "(xx&s&s&s)", &e->ts_us, &e->seq, &id, &topic, &ts);
    e->id = g_strdup(id);
    e->topic = g_strdup(topic);
    e->ts = g_strdup(ts);
    return TRUE;
}

static char *ms_from(GVariant *m)
{
    g_autoptr(GVariant) inner = g_variant_get_maybe(m);
    g_variant_unref(m);
    return inner ? g_variant_dup_string(inner, NULL) : NULL;
}

static Container *container_from(GVariant *v)
{
    Container *c = g_new0(Container, 1);
    c->pubs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, rules__pub_free);
    c->touch.link.data = c;
    guint i = 0;
    g_variant_get_child(v, i++, "s", &c->number);
    g_autoptr(GVariant) decls = g_variant_get_child_value(v, i++);
    for (gsize k = 0; k < g_variant_n_children(decls) && k < RULES_MAX_DECLS_PER_CONTAINER; k++)
        g_variant_get_child(decls, k, "s", &c->decls[c->n_decls++]);
    ev_from(g_variant_get_child_value(v, i++), &c->arrival);
    c->train = ms_from(g_variant_get_child_value(v, i++));
    c->yard = ms_from(g_variant_get_child_value(v, i++));
    ev_from(g_variant_get_child_value(v, i++), &c->seen);
    ev_from(g_variant_get_child_value(v, i++), &c->rad_alarm);
    ev_from(g_variant_get_child_value(v, i++), &c->rad_clear);
    ev_from(g_variant_get_child_value(v, i++), &c->seal_ok);
    ev_from(g_variant_get_child_value(v, i++), &c->seal_bad);
    g_autofree char *bad = ms_from(g_variant_get_child_value(v, i++));
    c->seal_bad_state = rules__choice(bad, seal_bad);
    ev_from(g_variant_get_child_value(v, i++), &c->officer_hold);
    ev_from(g_variant_get_child_value(v, i++), &c->officer_release);
    c->officer_reason = ms_from(g_variant_get_child_value(v, i++));
    ev_from(g_variant_get_child_value(v, i++), &c->out);
    g_variant_get_child(v, i++, "x", &c->touch.clock);
    g_variant_get_child(v, i++, "x", &c->touch.seq);
    g_autoptr(GVariant) pubs = g_variant_get_child_value(v, i++);
    for (gsize k = 0; k < g_variant_n_children(pubs); k++) {
        Pub *p = g_new0(Pub, 1);
        char *decl;
        GVariant *reasons;
        g_variant_get_child(pubs, k, "(sbiu@ms)", &decl, &p->released, &p->last, &p->holds,
                            &reasons);
        p->last_reasons = ms_from(reasons);
        g_hash_table_insert(c->pubs, decl, p);
    }
    if ((bad && !c->seal_bad_state) || (c->seal_bad.id && !c->seal_bad_state) ||
        c->number[0] == '\0') {
        rules__container_free(c);
        return NULL;
    }
    return c;
}

static Decl *decl_from(GVariant *v)
{
    Decl *d = g_new0(Decl, 1);
    d->containers = g_ptr_array_new_with_free_func(g_free);
    d->touch.link.data = d;
    const char *number, *id, *topic, *ts, *status, *flow;
    g_autoptr(GVariant) list = NULL;
    GVariant *vessel = NULL;
    g_variant_get(v, "(&s(xx&s&s&s)&s&s@as@msxx)", &number, &d->ev.ts_us, &d->ev.seq, &id, &topic,
                  &ts, &status, &flow, &list, &vessel, &d->touch.clock, &d->touch.seq);
    d->number = g_strdup(number);
    d->ev.id = g_strdup(id);
    d->ev.topic = g_strdup(topic);
    d->ev.ts = g_strdup(ts);
    d->status = rules__choice(status, decl_status);
    d->flow = rules__choice(flow, decl_flow);
    for (gsize k = 0; k < g_variant_n_children(list); k++) {
        char *s;
        g_variant_get_child(list, k, "s", &s);
        g_ptr_array_add(d->containers, s);
    }
    g_autofree char *json = ms_from(vessel);
    if (json) {
        g_autoptr(JsonParser) p = json_parser_new();
        if (json_parser_load_from_data(p, json, -1, NULL) && json_parser_get_root(p))
            d->vessel = json_node_copy(json_parser_get_root(p));
    }
    if (!d->status || !d->flow || d->number[0] == '\0' || (json && !d->vessel)) {
        rules__decl_free(d);
        return NULL;
    }
    return d;
}

typedef struct {
    PsRules *r;
    GPtrArray *touches; /* Touch* in load order, sorted by seq afterwards */
    gboolean bad;
} LoadArgs;

static gboolean load_one(const char *key, const void *data, gsize len, gpointer user_data,
                         gboolean container)
{
    LoadArgs *a = user_data;
    g_autoptr(GBytes) bytes = g_bytes_new(data, len);
    g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_from_bytes(
        G_VARIANT_TYPE(container ? CONTAINER_T : DECL_T), bytes, FALSE));
    if (container) {
        Container *c = container_from(v);
        if (!c || strcmp(c->number, key) != 0) {
            rules__container_free(c);
            a->bad = TRUE;
            return FALSE;
        }
        g_hash_table_replace(a->r->containers, c->number, c);
        g_ptr_array_add(a->touches, &c->touch);
    } else {
        Decl *d = decl_from(v);
        if (!d || strcmp(d->number, key) != 0) {
            rules__decl_free(d);
            a->bad = TRUE;
            return FALSE;
        }
        g_hash_table_replace(a->r->decls, d->number, d);
        g_ptr_array_add(a->touches, &d->touch);
    }
    return TRUE;
}

static gboolean load_container(const char *key, const void *data, gsize len, gpointer ud)
{
    return load_one(key, data, len, ud, TRUE);
}

static gboolean load_decl(const char *key, const void *data, gsize len, gpointer ud)
{
    return load_one(key, data, len, ud, FALSE);
}

static int cmp_touch(gconstpointer a, gconstpointer b)
{
    const Touch *x = *(Touch *const *)a, *y = *(Touch *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void queue_sorted(GPtrArray *touches, GQueue *q)
{
    g_ptr_array_sort(touches, cmp_touch);
    for (guint i = 0; i < touches->len; i++) {
        Touch *t = g_ptr_array_index(touches, i);
        g_queue_push_tail_link(q, &t->link);
        t->queued = TRUE;
    }
}

gboolean rules__snapshot_load(PsRules *r, gint64 upto, gboolean *loaded, gint64 *decisions,
                              GError **error)
{
    *loaded = FALSE;
    *decisions = 0;
    g_autoptr(GVariant) meta = NULL;
    if (!stored_meta(r, &meta, error))
        return FALSE;
    if (!meta)
        return TRUE;
    guint32 version;
    gint64 seq, decided, clock;
    gboolean rad, seal;
    const char *root;
    g_variant_get(meta, "(uxxxbb&s)", &version, &seq, &decided, &clock, &rad, &seal, &root);
    const char *why = version != SNAP_VERSION     ? "written by another version"
                      : seq > upto                ? "ahead of the rules' cursor"
                      : strcmp(root, r->root) != 0 ? "another topic root"
                      : rad != r->policy.require_radiation_clear || seal != r->policy.require_seal
                          ? "another release policy"
                          : NULL;
    if (why) {
        g_message("rules: the stored snapshot is not used (%s): replaying the whole journal",
                  why);
        return TRUE;
    }
    g_autoptr(GPtrArray) dt = g_ptr_array_new();
    g_autoptr(GPtrArray) ct = g_ptr_array_new();
    LoadArgs ad = {r, dt, FALSE}, ac = {r, ct, FALSE};
    if (!store_rules_snapshot_foreach(r->store, SNAP_DECL, load_decl, &ad, error) ||
        !store_rules_snapshot_foreach(r->store, SNAP_CONTAINER, load_container, &ac, error))
        return FALSE;
    if (ad.bad || ac.bad) {
        g_warning("rules: the stored snapshot has an unreadable entry: replaying the whole "
                  "journal");
        g_hash_table_remove_all(r->containers);
        g_hash_table_remove_all(r->decls);
        return TRUE;
    }
    queue_sorted(dt, &r->lru_d);
    queue_sorted(ct, &r->lru_c);
    r->cursor = seq;
    r->clock = clock;
    r->snap_seq = seq;
    r->snap_full = FALSE;
    r->stats.snapshot_seq = seq;
    *decisions = decided;
    *loaded = TRUE;
    return TRUE;
}

/* ---- public ---- */

static gboolean snapshot_txn(PsStore *store, gpointer user_data, GError **error)
{
    PsRules *r = user_data;
    gint64 stored = 0;
    if (!store_rules_cursor_get(store, &stored, error))
        return FALSE;
    if (stored != r->cursor)
        return TRUE; /* another process evaluated further: its snapshots are the newer */
    return rules__snapshot_write(r, error);
}

gboolean rules_snapshot(PsRules *rules, GError **error)
{
    g_return_val_if_fail(rules != NULL, FALSE);
    if (rules->ret.no_snapshot || (!rules->snap_full && rules->snap_seq == rules->cursor))
        return TRUE;
    return store_transaction_derived(rules->store, snapshot_txn, rules, error);
}

typedef struct {
    PsRules *r;
    guint max, seen;
    gint64 limit_us;
    gboolean wrap;
    GArray *rows; /* PsPruneRow, keys owned (g_strfreev) */
} PruneArgs;

/* Whether a row with @keys must stay: a container or declaration it names is live, or changed
 * since the snapshot (a restart replays the rows after the snapshot, and rebuilds what they
 * name from the rows before: those must be there as they were). */
static gboolean keys_needed(PsRules *r, char **keys)
{
    for (guint i = 0; keys[i]; i++) {
        gboolean decl = g_str_has_prefix(keys[i], "decl ");
        const char *k = decl ? keys[i] + strlen("decl ") : keys[i];
        if (g_hash_table_contains(decl ? r->decls : r->containers, k) ||
            g_hash_table_contains(decl ? r->dirty_d : r->dirty_c, k))
            return TRUE;
    }
    return FALSE;
}

static gboolean prune_scan(const PsJournalRow *row, gpointer user_data)
{
    PruneArgs *a = user_data;
    gint64 ts_us = 0;
    /* Only rows the snapshot covers: a restart replays those after it. */
    if (row->seq > a->r->snap_seq || (row->ts && rules__parse_ts(row->ts, &ts_us) &&
                                      ts_us >= a->limit_us)) {
        a->wrap = TRUE; /* young rows from here on: start again from the oldest next time */
        return FALSE;
    }
    a->r->prune_pos = row->seq;
    const char *rest = topics_rest(a->r->root, row->topic);
    RulesInput in;
    if (rest && row->ts && rules__parse(rest, row->payload, row->payload_len, &in, NULL)) {
        GPtrArray *keys = g_ptr_array_new();
        if (in.container)
            g_ptr_array_add(keys, g_strdup(in.container));
        for (guint i = 0; in.containers && i < in.containers->len; i++)
            g_ptr_array_add(keys, g_strdup(g_ptr_array_index(in.containers, i)));
        if (in.kind == RULES_IN_CUSTOMS)
            g_ptr_array_add(keys, g_strconcat("decl ", in.declaration, NULL));
        g_ptr_array_add(keys, NULL);
        char **k = (char **)g_ptr_array_free(keys, FALSE);
        if (keys_needed(a->r, k)) {
            g_strfreev(k);
        } else {
            PsPruneRow p = {row->seq, (const char *const *)k};
            g_array_append_val(a->rows, p);
        }
        rules__input_clear(&in);
    }
    return ++a->seen < a->max;
}

static gboolean prune_txn(PsStore *store, gpointer user_data, GError **error)
{
    PruneArgs *a = user_data;
    if (!store_journal_foreach(store, a->r->prune_pos, prune_scan, a, error))
        return FALSE;
    return store_journal_prune(store, (const PsPruneRow *)(void *)a->rows->data, a->rows->len,
                               error);
}

gboolean rules_prune_journal(PsRules *rules, guint max, guint *pruned, GError **error)
{
    g_return_val_if_fail(rules != NULL, FALSE);
    if (pruned)
        *pruned = 0;
    /* Without a snapshot a restart replays the whole journal: it must stay whole. */
    if (rules->ret.journal_keep_days == 0 || max == 0 || rules->ret.no_snapshot ||
        rules->snap_full)
        return TRUE;
    PruneArgs a = {rules, max, 0,
                   rules->clock - (gint64)rules->ret.journal_keep_days * G_TIME_SPAN_DAY, FALSE,
                   g_array_new(FALSE, FALSE, sizeof(PsPruneRow))};
    gint64 from = rules->prune_pos;
    gboolean ok = store_transaction(rules->store, prune_txn, &a, error);
    if (ok && pruned)
        *pruned = a.rows->len;
    if (!ok)
        rules->prune_pos = from;
    else if (a.wrap)
        rules->prune_pos = 0;
    for (guint i = 0; i < a.rows->len; i++)
        g_strfreev((char **)g_array_index(a.rows, PsPruneRow, i).keys);
    g_array_unref(a.rows);
    return ok;
}
