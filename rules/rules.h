/* rules.h: the release policy. Validates MQTT inputs, keeps container state, decides releases
 * and holds, and writes them with their outbox rows in the same store transaction.
 *
 * Decisions are a deterministic function of the journal: rules_new() replays it, so a restart
 * (or a replay into a fresh store) reaches the same decisions. "Later" and "latest" are by the
 * event's ts (RFC 3339), journal order breaking ties, so the order of arrival does not change
 * what is decided.
 *
 * A PsRules is used from one thread (the one that owns its PsStore).
 */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

#define RULES_ERROR (rules_error_quark())
GQuark rules_error_quark(void);

typedef enum {
    RULES_ERROR_INVALID, /* an input that breaks the contract (the message names the field) */
} RulesError;

/* The largest payload accepted (bytes). */
#define RULES_MAX_PAYLOAD (256 * 1024)

typedef struct PsRules PsRules;

/* The release policy ([rules] in the configuration). A rail-sea container is released when its
 * declaration's latest status is released, it is on an arrived train and seen in the yard, no
 * hold is open (customs held/inspect, a radiation alarm not cleared by a later clear, a seal
 * opened/tampered after its last sealed) and:
 *  - require_radiation_clear (default TRUE): a radiation `clear` for the container has been
 *    seen ("no alarm" alone is not enough; a later alarm still holds);
 *  - require_seal (default FALSE): a `sealed` reading after the last opened/tampered has been
 *    seen.
 * What is still missing shows in rules_describe()'s "waiting_for" ("radiation scan", "seal
 * reading"). */
typedef struct {
    gboolean require_radiation_clear;
    gboolean require_seal;
} PsRulesPolicy;

/* The defaults: require_radiation_clear TRUE, require_seal FALSE. */
void rules_policy_init(PsRulesPolicy *policy);

/* How much the rules keep in memory, and how a restart finds it again ([rules] retain_days,
 * [store] journal_keep_days). A container is retired from memory when it is done (released,
 * the release published, and gone out of a gate) or when no input has named it for
 * @retain_days of input time (the rules' clock: the latest `ts` evaluated, each at most a day
 * ahead of the time it was journaled). A retired container is rebuilt from its journal rows
 * when an input names it again (the same decisions as if it had stayed), and by
 * rules_describe() / rules_verdict(). Nothing is ever refused for lack of room. A declaration
 * is retired when no live container is on it and it was not named for @retain_days. */
typedef struct {
    guint retain_days;       /* default 30; 0: never by age */
    guint max_live;          /* past this many containers in memory the least recently named is
                              * retired early (not refused); default 1,000,000; 0: no limit */
    guint snapshot_every;    /* journal rows evaluated between snapshots of the live state
                              * (written in the evaluating transaction); default 50,000; 0:
                              * only rules_snapshot() */
    guint journal_keep_days; /* rules_prune_journal(): rows older than this (input time) whose
                              * containers are retired go; 0 (default): keep forever */
    gboolean no_snapshot;    /* neither read nor write the snapshot: replay the whole journal */
} PsRulesRetention;

/* The defaults above. */
void rules_retention_init(PsRulesRetention *retention);

/* Loads container state by replaying the journal up to the last seq evaluated (deterministic;
 * see rules_catch_up() for the rest) under @policy (NULL: the defaults). The policy is part of
 * what decides: replaying a journal under another policy may decide otherwise. topic_root e.g.
 * "port". Borrows @store, which must outlive the returned handle. */
PsRules *rules_new_full(PsStore *store, const char *topic_root, const PsRulesPolicy *policy,
                        GError **error);

/* rules_new_full() with @retention (NULL: the defaults). The state is the snapshot (the last one
 * written, when it was written under the same policy and topic root) plus a replay of the
 * journal after it; without a usable snapshot, a replay of the whole journal. */
PsRules *rules_open(PsStore *store, const char *topic_root, const PsRulesPolicy *policy,
                    const PsRulesRetention *retention, GError **error);

/* Writes the snapshot of the live state at the rules' cursor now (the daemon's clean stop). */
gboolean rules_snapshot(PsRules *rules, GError **error);

/* Journal retention (journal_keep_days > 0): looks at up to @max journal rows already
 * evaluated, oldest first from where the last call stopped, and deletes (or archives, see
 * store_set_journal_archive()) in one transaction those older than journal_keep_days of input
 * time whose containers and declaration are all retired (and were before the last snapshot).
 * Rows of live containers, rows after the last snapshot (a restart replays them) and rows that
 * are no rules input stay; without a snapshot nothing goes. *@pruned (may be NULL): rows
 * deleted. */
gboolean rules_prune_journal(PsRules *rules, guint max, guint *pruned, GError **error);

/* Whether @container's state is in memory now (FALSE: retired, or never named). */
gboolean rules_live(PsRules *rules, const char *container);

/* What the state holds, for tests, benchmarks and metrics. */
typedef struct {
    guint live_containers;
    guint live_declarations;
    guint64 retired;    /* containers retired since rules_open() */
    guint64 revived;    /* retired containers rebuilt from the journal since rules_open() */
    gint64 snapshot_seq; /* journal seq of the last snapshot written or loaded, 0: none */
    gint64 replayed;    /* journal rows replayed by the last (re)load */
    gint64 clock_us;    /* input time: the latest ts evaluated */
} RulesStats;
void rules_stats(PsRules *rules, RulesStats *out);

/* rules_new_full() with the default policy. */
PsRules *rules_new(PsStore *store, const char *topic_root, GError **error);
void rules_free(PsRules *rules); /* accepts NULL */

typedef enum { RULES_ACCEPTED, RULES_DUPLICATE, RULES_REJECTED } RulesOutcome;

typedef struct {
    RulesOutcome outcome;
    char *reason;     /* set when REJECTED (owned; freed by rules_ingest_result_clear) */
    guint decisions;  /* new decisions made */
    gint64 seq;       /* ACCEPTED: the input's journal seq */
} RulesIngestResult;

void rules_ingest_result_clear(RulesIngestResult *result);

/* Validates one input (full topic, e.g. "port/seal/S1"; raw payload bytes), and in ONE store
 * transaction: journals it (source "mqtt"), evaluates the rules, writes any decisions and their
 * outbox rows. Invalid input (not JSON, invalid UTF-8, missing required field, wrong type,
 * unknown enum, bad ISO 6346 check digit, payload over 256 KiB, unknown topic) goes to the
 * dead-letter table with the reason (a g_warning line naming topic, id and reason) and
 * result->outcome = RULES_REJECTED. A repeated id: RULES_DUPLICATE. Returns FALSE only on store
 * errors. @len -1: @payload is NUL-terminated. */
gboolean rules_ingest(PsRules *rules, const char *topic, const char *payload, gssize len,
                      RulesIngestResult *result, GError **error);

/* Same as rules_ingest() with another journal source (e.g. "import" for `portsight db import`,
 * "demo" for the demo). */
gboolean rules_ingest_from(PsRules *rules, const char *source, const char *topic,
                           const char *payload, gssize len, RulesIngestResult *result,
                           GError **error);

/* Journaling without evaluating, for another thread with its own connection (the MQTT
 * subscriber, store_open_shared()): validates one input exactly like rules_ingest_from() and
 * journals it (ACCEPTED, result->seq set), recognizes a repeated id or the engine's own OCR
 * read (DUPLICATE), or dead-letters it with the reason (REJECTED), in one transaction on @store
 * (joining the caller's, if any). Needs no PsRules: the rules evaluate the journaled input
 * later, from the journal (rules_catch_up()). Returns FALSE only on store errors. */
gboolean rules_journal(PsStore *store, const char *topic_root, const char *source,
                       const char *topic, const char *payload, gssize len,
                       RulesIngestResult *result, GError **error);

/* Evaluates the journal rows the rules have not evaluated yet, in journal order (those
 * rules_journal() added, or a crash left between journaling and evaluating), at most @max
 * (0: all) in one transaction that writes their decisions and outbox rows and stores the seq
 * reached (store_rules_cursor_get), so each is evaluated exactly once. rules_new() replays the
 * journal only up to that stored seq; rules_ingest_from() catches up before its own input.
 * *@evaluated (may be NULL): journal rows gone through (fewer than @max: none is left). On a
 * store error nothing is recorded, the state is rebuilt from the store and the next call
 * evaluates the same rows again. */
gboolean rules_catch_up(PsRules *rules, guint max, guint *evaluated, GError **error);

/* The last journal seq evaluated. */
gint64 rules_cursor(PsRules *rules);

/* Decision latency: from the journal time (received_at) of the input that made a decision to the
 * moment the decision was written, for the decisions made since rules_new() (not the replayed
 * ones). Cumulative counts per upper bound, Prometheus style. */
#define RULES_LATENCY_BUCKETS 12
extern const double rules_latency_bounds[RULES_LATENCY_BUCKETS]; /* seconds, ascending */
typedef struct {
    guint64 le[RULES_LATENCY_BUCKETS]; /* decisions with latency <= rules_latency_bounds[i] */
    guint64 count;
    double sum; /* seconds */
} RulesLatency;
void rules_decision_latency(PsRules *rules, RulesLatency *out);

/* Called (on the calling thread) after a transaction that added outbox rows has committed.
 * @func receives (NULL, @user_data). */
void rules_set_outbox_notify(PsRules *rules, GFunc func, gpointer user_data);

/* OCR reads (port/ocr/{camera}) count as "seen in the yard". The engine's own reads are
 * ingested by their producer with rules_ingest_from() (source "ocr") and published on the same
 * topic; when one comes back from the broker with the same id, it is recognized (any OCR read
 * whose id is already known, from any source) and reported as RULES_DUPLICATE without being
 * journaled again. */

/* What the rules know about @container now, as a JSON object (newly allocated text), or NULL
 * when no input ever named it: {"container", "declaration", "flow", "status" (null when no
 * declaration lists it), "arrived", "seen", "radiation", "seal" (the event ids behind each, or
 * null), "waiting_for": [what a release still needs], "open": [hold reasons open now]}. */
char *rules_describe(PsRules *rules, const char *container);

/* The verdict on a container now, as the wall draws it. */
typedef enum {
    RULES_VERDICT_PENDING,  /* a release still waits for something (@why says what) */
    RULES_VERDICT_RELEASED, /* every condition holds */
    RULES_VERDICT_HELD,     /* a hold is open (@why: the reasons, e.g. "seal tampered") */
} RulesVerdictKind;

typedef struct {
    RulesVerdictKind kind;
    char *why;         /* held: the reasons; pending: what it waits for, ", "-separated; owned */
    char *declaration; /* the declaration that applies, or NULL; owned */
} RulesVerdict;

/* Fills @out (clear it with rules_verdict_clear) and returns TRUE, or FALSE when no input ever
 * named @container (@out is then cleared). */
gboolean rules_verdict(PsRules *rules, const char *container, RulesVerdict *out);
void rules_verdict_clear(RulesVerdict *verdict);

/* The containers one valid input names (the container of a gate, seal, radiation or OCR input,
 * a declaration's containers, a train's manifest), NULL-terminated (free with g_strfreev);
 * empty for an invalid input or one that names none. @topic_rest as rules_validate(). */
char **rules_input_containers(const char *topic_rest, const char *payload, gssize len);

/* The pure validation of one input, without a store: @topic_rest is the topic without the root
 * and its slash (e.g. "seal/S1"). Returns FALSE with a RULES_ERROR_INVALID error whose message
 * names the field (e.g. "state: unknown value 'broken' (expected sealed|opened|tampered)").
 * Safe on any bytes (fuzzed). */
gboolean rules_validate(const char *topic_rest, const char *payload, gssize len, GError **error);

G_END_DECLS
