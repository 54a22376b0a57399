/* store.h: the SQLite store: the append-only event journal, the dead-letter table and the
 * tables the other modules keep their state in.
 *
 * One PsStore wraps one SQLite connection in WAL mode. It is not thread-safe: use it from one
 * thread (the daemon's main loop), or open a second PsStore on the same file for another thread
 * (WAL lets readers and one writer work side by side).
 *
 * Errors: functions returning gboolean fill @error in the STORE_ERROR domain on failure.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define STORE_ERROR (store_error_quark())
GQuark store_error_quark(void);

typedef enum {
    STORE_ERROR_OPEN,      /* the file cannot be opened or is not a database */
    STORE_ERROR_SCHEMA,    /* written by a newer portsight, or a migration failed */
    STORE_ERROR_IO,        /* a statement failed (disk full, locked, corrupt) */
    STORE_ERROR_INVALID,   /* the caller passed a bad argument (missing field) */
} StoreError;

typedef struct PsStore PsStore;

/* One input event. Every string is borrowed for the duration of the call.
 * @source names the feed (e.g. "mqtt", "ais", "camera"); (@source, @id) is the idempotency key.
 * @ts is the event's own time, RFC 3339 UTC, or NULL when the feed gives none.
 * @received_at is microseconds since the Unix epoch; 0 means "now". */
typedef struct {
    const char *source;
    const char *topic;
    const char *id;
    const char *ts;
    gint64 received_at;
    const char *payload;
    gssize payload_len; /* -1: @payload is NUL-terminated */
} PsEvent;

/* What happened to the events handed to one append call. */
typedef struct {
    guint appended;
    guint duplicates;
    gint64 first_seq; /* journal sequence number of the first appended event, 0 if none */
    gint64 last_seq;
} PsAppendResult;

/* Counters kept in the store, so they survive restarts. */
typedef struct {
    gint64 journal;      /* rows in the journal */
    gint64 duplicates;   /* appends ignored because (source, id) was already journaled */
    gint64 dead_letters; /* rows in the dead-letter table */
    gint64 dead_letters_dropped; /* the oldest dropped over the cap (store_set_dead_letter_max) */
    gint64 dead_letter_bytes;    /* what the rows count against that cap */
} PsStoreStats;

/* Opens (creating if needed) the store at @path and migrates it to the current schema.
 * ":memory:" gives a private in-memory store for tests.
 * Returns NULL and fills @error when the file cannot be opened, is not a SQLite database, or
 * was written by a newer schema version than this build knows. */
PsStore *store_open(const char *path, GError **error);

/* How commits reach the disk: @full TRUE (the default after store_open) makes every commit
 * survive power loss; FALSE (SQLite synchronous=NORMAL in WAL mode) is faster and survives a
 * process crash but may lose the last commits on power loss. The [store] sync setting. */
gboolean store_set_sync(PsStore *store, gboolean full, GError **error);

/* Opens a second connection to @store's file (same sync setting) for another thread. The
 * connections share one write lock: store_transaction() on either waits on a mutex for the
 * other's transaction instead of in SQLite's sleeping busy handler. Writes made outside
 * store_transaction() still work (SQLite's busy timeout) but do not queue on the lock. Fails
 * for an in-memory store (a second connection would be another database). Close each with
 * store_close(); either may be closed first. */
PsStore *store_open_shared(PsStore *store, GError **error);

/* Checkpoints the WAL and closes. Accepts NULL. */
void store_close(PsStore *store);

/* The schema version this build writes (PRAGMA user_version after store_open). */
int store_schema_version(void);

/* Appends one event. A repeated (source, id) is not written again: *@duplicate is set to TRUE
 * (when non-NULL) and the duplicate counter goes up. Returns FALSE only on error. */
gboolean store_append(PsStore *store, const PsEvent *event, gboolean *duplicate, GError **error);

/* Appends @n events in one transaction: all are journaled (or found to be duplicates), or on
 * error none is and the store is unchanged. @result may be NULL. */
gboolean store_append_batch(PsStore *store, const PsEvent *events, gsize n,
                            PsAppendResult *result, GError **error);

/* Keeps a rejected input with the reason it was rejected. @id and @topic may be NULL (an input
 * too broken to have one). @payload is stored as given, bytes and all. Logs a warning, at most
 * one line per topic per minute (the next one says how many were not logged). Over the cap of
 * store_set_dead_letter_max(), the oldest dead letters are dropped (down to 90% of it) and
 * counted (PsStoreStats.dead_letters_dropped): anyone who can publish cannot fill the disk. */
gboolean store_dead_letter(PsStore *store, const char *source, const char *topic, const char *id,
                           const char *payload, gssize payload_len, const char *reason,
                           GError **error);

/* The [store] dead_letter_max_mb cap, in bytes (payload, reason, topic and id, plus 64 per row);
 * 0 (the default after store_open) keeps every dead letter. store_open_shared() copies it. */
void store_set_dead_letter_max(PsStore *store, gint64 max_bytes);

/* Journal rows deleted by retention ([store] journal_keep_days, see store-rules.h) are kept in
 * the SQLite file @path (table journal, same columns), created 0600 when missing; NULL (the
 * default): they are deleted. Call outside a transaction. The [store] journal_archive setting. */
gboolean store_set_journal_archive(PsStore *store, const char *path, GError **error);

gboolean store_stats(PsStore *store, PsStoreStats *stats, GError **error);

/* One dead letter as read back; strings and payload valid only during the callback. */
typedef struct {
    gint64 seq;
    const char *source;
    const char *topic;  /* may be NULL */
    const char *id;     /* may be NULL */
    const char *reason;
    gint64 received_at; /* microseconds since the Unix epoch */
    const void *payload;
    gsize payload_len;
} PsDeadLetterRow;

/* Return FALSE from the callback to stop early (not an error). */
typedef gboolean (*PsDeadLetterFunc)(const PsDeadLetterRow *row, gpointer user_data);

/* Calls @func for the dead letters with seq > @after_seq, oldest first, at most @limit. */
gboolean store_dead_letters_foreach(PsStore *store, gint64 after_seq, guint limit,
                                    PsDeadLetterFunc func, gpointer user_data, GError **error);

/* One journaled event as read back. Strings are owned by the store and valid only during the
 * callback. */
typedef struct {
    gint64 seq;
    const char *source;
    const char *topic;
    const char *id;
    const char *ts; /* may be NULL */
    gint64 received_at;
    const char *payload;
    gsize payload_len;
} PsJournalRow;

/* Return FALSE from the callback to stop early (that is not an error). */
typedef gboolean (*PsJournalFunc)(const PsJournalRow *row, gpointer user_data);

/* Calls @func for each journal row with seq > @after_seq, in journal order. */
gboolean store_journal_foreach(PsStore *store, gint64 after_seq, PsJournalFunc func,
                               gpointer user_data, GError **error);

/* Runs @func inside one transaction (BEGIN IMMEDIATE ... COMMIT); when @func returns FALSE or
 * fails, everything it wrote is rolled back. This is how a module writes its state change and
 * its outbox row atomically. Nested calls join the outer transaction. */
typedef gboolean (*PsStoreTxnFunc)(PsStore *store, gpointer user_data, GError **error);
gboolean store_transaction(PsStore *store, PsStoreTxnFunc func, gpointer user_data,
                           GError **error);

/* @func(@store, @user_data) is called on the committing thread after each transaction of this
 * connection that added outbox rows (store_outbox_add) has committed: how the relay hears of
 * every producer in the process at once. NULL unsets it. */
void store_set_outbox_notify(PsStore *store, GFunc func, gpointer user_data);

/* SQLite's PRAGMA data_version of this connection: it changes when another connection (another
 * process: `portsight db import`, or the subscriber's own connection) has committed. */
gboolean store_data_version(PsStore *store, gint64 *version, GError **error);

/* Like store_transaction(), for writes that are derived from data already committed durably
 * (the rules' decisions from the journal, the relay's delivery marks): with sync = full it does
 * not wait for the disk (SQLite synchronous=NORMAL for this commit only). A power cut may then
 * lose it, but only together with everything committed after the last durable commit, and what
 * derived it is evaluated again from the durable data after the restart, with the same result.
 * Nested calls join the outer transaction and its durability. */
gboolean store_transaction_derived(PsStore *store, PsStoreTxnFunc func, gpointer user_data,
                                   GError **error);

G_END_DECLS
