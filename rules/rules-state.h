/* rules-state.h: the rules' state, shared between rules.c (the policy and its evaluation) and
 * retain.c (retirement, revival from the journal, the snapshot, journal retention). Private to
 * rules/ (the rules__ tier). */
#pragma once

#include "rules-private.h"

#define RULES_MAX_DECLS_PER_CONTAINER 16

/* A reference to the event that set a piece of state. Strings owned. */
typedef struct {
    gint64 ts_us;
    gint64 seq;
    char *id; /* NULL: no such event */
    char *topic;
    char *ts;
} Ev;

/* Where a container or declaration sits in its least-recently-named list: the input time
 * (the rules' clock) and the journal seq of the last input that named it. */
typedef struct {
    gint64 clock;
    gint64 seq;
    GList link; /* in PsRules.lru_c or lru_d; link.data is the Container or Decl */
    gboolean queued;
} Touch;

typedef struct {
    char *number;
    Ev ev;              /* the latest status event */
    const char *status; /* static strings from the validator */
    const char *flow;
    GPtrArray *containers; /* char*, owned */
    JsonNode *vessel;      /* owned copy, or NULL */
    Touch touch;
} Decl;

typedef struct {
    gboolean released;
    int last; /* 0 nothing published, 1 release, 2 hold */
    char *last_reasons;
    guint holds;
} Pub;

typedef struct {
    char *number;
    char *decls[RULES_MAX_DECLS_PER_CONTAINER]; /* declarations that listed it, owned */
    guint n_decls;
    Ev arrival;
    char *train, *yard;
    Ev seen;
    Ev rad_alarm, rad_clear;
    Ev seal_ok, seal_bad;
    const char *seal_bad_state;
    Ev officer_hold, officer_release; /* the latest of each action on ROOT/cmd/override */
    char *officer_reason;             /* "REASON (by NAME)" of the latest officer hold */
    Ev out;                           /* the latest gate-out */
    GHashTable *pubs; /* declaration number -> Pub* */
    Touch touch;
} Container;

struct PsRules {
    PsStore *store;
    char *root;
    PsRulesPolicy policy;
    PsRulesRetention ret;
    GHashTable *decls;      /* number -> Decl* */
    GHashTable *containers; /* number -> Container* */
    GQueue lru_c, lru_d;    /* least recently named first */
    gint64 clock;           /* input time: the latest ts evaluated (µs) */
    GFunc notify;
    gpointer notify_data;
    gboolean replaying;
    gboolean scratch; /* a throwaway state rebuilt for one container: no revival, no retiring */
    guint replay_decisions;
    gint64 cursor; /* the last journal seq applied to the state */
    RulesLatency latency;
    /* The snapshot (retain.c): the seq it was written (or loaded) at, the decisions stored at
     * that seq, and what changed since (number -> NULL; not kept while @snap_full). */
    gint64 snap_seq;
    gboolean snap_full; /* the next snapshot rewrites everything */
    GHashTable *dirty_c, *dirty_d;
    gint64 decisions; /* decisions stored, as of @cursor */
    gint64 prune_pos; /* journal retention scans on after this seq */
    RulesStats stats;
};

/* The event being applied. */
typedef struct {
    gint64 seq;
    const char *topic;
    const RulesInput *in;
    gint64 received_at; /* its journal time (µs since the epoch) */
} Cur;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PsRules, rules_free)

/* rules.c */
void rules__container_free(gpointer c);
void rules__decl_free(gpointer d);
void rules__pub_free(gpointer p);
void rules__ev_clear(Ev *e);
PsRules *rules__alloc(PsStore *store, const char *root, const PsRulesPolicy *policy,
                      const PsRulesRetention *retention);
/* Applies one journal row to @r's state, writing decisions unless replaying. */
gboolean rules__eval_row(PsRules *r, const PsJournalRow *row, guint *decisions, guint *outbox,
                         GError **error);
/* TRUE when @c has been released (that release published) and has gone out of the gate. */
gboolean rules__done(PsRules *r, const Container *c);
const char *rules__choice(const char *value, const char *const *choices);

/* retain.c */
/* Makes sure the containers and declaration @cur names are in memory: those retired are rebuilt
 * from the journal rows before @cur (and their decisions). */
gboolean rules__revive_named(PsRules *r, const Cur *cur, GError **error);
/* After an input: @c (and @d) were named by it: moved to the end of their lists, marked for
 * the next snapshot. */
void rules__touch_container(PsRules *r, Container *c, gint64 seq);
void rules__touch_decl(PsRules *r, Decl *d, gint64 seq);
void rules__forget(PsRules *r, Container *c); /* retires @c (freed) */
/* Retires what is done or has not been named for retain_days, and past max_live the least
 * recently named. */
void rules__sweep(PsRules *r, gint64 seq);
/* A throwaway state holding @container rebuilt from the journal rows before @below, or NULL
 * (with *@error unset) when no such row names it. */
PsRules *rules__rebuild(PsRules *r, const char *container, gint64 below, GError **error);
/* Inside a write transaction, after the state reached r->cursor: writes the snapshot when
 * snapshot_every rows have been evaluated since the last one. */
gboolean rules__maybe_snapshot(PsRules *r, GError **error);
gboolean rules__snapshot_write(PsRules *r, GError **error);
/* Loads the snapshot, if there is a usable one at or below @upto: *@loaded TRUE, r->cursor its
 * seq. */
gboolean rules__snapshot_load(PsRules *r, gint64 upto, gboolean *loaded, gint64 *decisions,
                              GError **error);
