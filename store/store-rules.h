/* store-rules.h: the tables of rules/ (schema version 4): the latest status of each customs
 * declaration, the decisions (releases and holds) and, for each decision, the conditions it
 * checked with the event that settled each.
 *
 * Decisions are append-only (SQL triggers refuse UPDATE and DELETE), and the schema itself
 * refuses a second release for one container and declaration. Writes join the caller's
 * transaction (store_transaction()), so a decision and its outbox row are committed together.
 * Like the rest of the store, these functions are for the thread that owns the PsStore. */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* The latest status of one declaration. Strings are borrowed. */
typedef struct {
    const char *number;
    const char *status;
    const char *flow;
    const char *ts;
    gint64 ts_us;      /* @ts as microseconds since the epoch: the ordering key, with @event_seq */
    gint64 event_seq;  /* journal seq of the status event */
    const char *event_id;
    const char *origin, *destination, *goods, *consignee; /* may be NULL */
    const char *vessel;     /* JSON object text, may be NULL */
    const char *containers; /* JSON array text */
} PsDeclRow;

/* Records @decl unless the stored status of that declaration is newer (by ts_us, then
 * event_seq): an older status arriving late does not overwrite a newer one. */
gboolean store_rules_decl_put(PsStore *store, const PsDeclRow *decl, GError **error);

/* One condition a decision checked. Strings are borrowed. @event_id, @topic, @ts are NULL when
 * no event settled it (e.g. no radiation scan at all: nothing open). */
typedef struct {
    const char *name;
    gboolean ok;
    const char *event_id;
    const char *topic;
    const char *ts;
} PsConditionRow;

/* One decision. Strings are borrowed. */
typedef struct {
    gint64 seq;              /* set when read back; ignored when adding */
    const char *decision_id; /* the published id (the consumer's idempotency key) */
    const char *kind;        /* "release" or "hold" */
    const char *container;
    const char *declaration;
    const char *ts;          /* the decision's time: the latest ts among its settling events */
    gint64 event_seq;        /* journal seq of the event whose arrival made the decision */
    const char *topic;       /* where it is published */
    const char *payload;     /* the published JSON */
    const PsConditionRow *conditions;
    guint n_conditions;
    const char *trigger_id;    /* read back: id of the journal event at @event_seq */
    const char *trigger_topic; /* read back: its topic */
} PsDecisionRow;

/* Adds @decision and its conditions. Fails (STORE_ERROR_IO) on a repeated decision id or a
 * second release for the same container and declaration. */
gboolean store_rules_decision_add(PsStore *store, const PsDecisionRow *decision, GError **error);

/* Return FALSE to stop early (not an error). @row and its strings are valid during the call. */
typedef gboolean (*PsDecisionFunc)(const PsDecisionRow *row, gpointer user_data);

/* Calls @func for every decision about @container (all decisions when NULL), oldest first, with
 * its conditions. */
gboolean store_rules_decisions_foreach(PsStore *store, const char *container,
                                       PsDecisionFunc func, gpointer user_data, GError **error);

/* Calls @func for the decisions with seq > @after_seq (any container), oldest first, at most
 * @limit of them, with their conditions (row->seq is the cursor to ask from next). */
gboolean store_rules_decisions_after(PsStore *store, gint64 after_seq, guint limit,
                                     PsDecisionFunc func, gpointer user_data, GError **error);

gboolean store_rules_decision_count(PsStore *store, gint64 *count, GError **error);

/* *@found is TRUE when the journal holds an event with @event_id on @topic from a source other
 * than @source (how the engine recognizes its own OCR reads coming back from the broker). */
gboolean store_rules_event_known(PsStore *store, const char *topic, const char *event_id,
                                 const char *source, gboolean *found, GError **error);

/* The last journal seq the rules have evaluated (schema version 6). Set it in the transaction
 * that writes the decisions of the events up to it, so that they are made exactly once. */
gboolean store_rules_cursor_get(PsStore *store, gint64 *seq, GError **error);
gboolean store_rules_cursor_set(PsStore *store, gint64 seq, GError **error);

/* The highest journal seq, 0 for an empty journal. */
gboolean store_journal_last_seq(PsStore *store, gint64 *seq, GError **error);

/* ---- schema version 8: what bounds the rules' state (rules/ retirement, snapshot, retention) */

/* Records that journal row @seq names each of @keys (NULL-terminated: container codes and
 * "decl NUMBER" for a customs declaration). Repeats are ignored. */
gboolean store_journal_keys_add(PsStore *store, gint64 seq, const char *const *keys,
                                GError **error);

/* Appends to @seqs (a GArray of gint64) the seqs of the journal rows that name @key, below
 * @below, ascending. */
gboolean store_journal_key_seqs(PsStore *store, const char *key, gint64 below, GArray *seqs,
                                GError **error);

/* Calls @func for each journal row whose seq is in @seqs (@n of them, ascending), in that
 * order; seqs with no row (pruned) are skipped. */
gboolean store_journal_rows(PsStore *store, const gint64 *seqs, guint n, PsJournalFunc func,
                            gpointer user_data, GError **error);

/* The rules' snapshot: opaque blobs by (@kind, @key). Writes join the caller's transaction. */
gboolean store_rules_snapshot_put(PsStore *store, int kind, const char *key, const void *data,
                                  gsize len, GError **error);
gboolean store_rules_snapshot_delete(PsStore *store, int kind, const char *key, GError **error);
gboolean store_rules_snapshot_clear(PsStore *store, GError **error);
/* Return FALSE to stop early (not an error). @key and @data are valid during the call. */
typedef gboolean (*PsSnapshotFunc)(const char *key, const void *data, gsize len,
                                   gpointer user_data);
gboolean store_rules_snapshot_foreach(PsStore *store, int kind, PsSnapshotFunc func,
                                      gpointer user_data, GError **error);

/* Journal retention ([store] journal_keep_days): deletes journal rows, each with the keys it
 * was recorded under (store_journal_keys_add), copying each first into the archive when one is
 * set (store_set_journal_archive). Joins the caller's transaction. Counted in the counters
 * table ('journal_pruned'). Only the rules call it, for rows of containers no longer live. */
typedef struct {
    gint64 seq;
    const char *const *keys; /* NULL-terminated, may be NULL */
} PsPruneRow;
gboolean store_journal_prune(PsStore *store, const PsPruneRow *rows, guint n, GError **error);

/* Journal rows deleted by retention so far (0 when none ever was). */
gboolean store_journal_pruned(PsStore *store, gint64 *count, GError **error);

G_END_DECLS
