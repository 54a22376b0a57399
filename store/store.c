/* store.c: opening, migrating, journaling. */
#include "store-private.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>

G_DEFINE_QUARK(store-error-quark, store_error)

/* The write lock of connections opened with store_open_shared(): SQLite lets one writer at a
 * time into a file and makes the others sleep in its busy handler (1 ms, 2 ms, 5 ms, ...); a
 * mutex hands the turn over at once instead. */
typedef struct {
    GMutex mutex;
    gint refs;      /* atomic */
    gint wal_pages; /* atomic: the WAL's size after the last commit on any of the connections */
} WriteLock;

/* Shared connections leave the WAL to grow to this many pages before the first connection
 * checkpoints it (SQLite's automatic checkpoint is at 1000 pages too). */
#define SHARED_CHECKPOINT_PAGES 1000

struct PsStore {
    sqlite3 *db;
    char *path;
    GHashTable *stmts; /* SQL text pointer (a static string) -> sqlite3_stmt* */
    guint txn_depth;
    gboolean sync_full;
    gint64 dead_letter_max; /* bytes of dead letters kept; 0: no limit */
    WriteLock *wlock; /* shared with the connections of store_open_shared(), or NULL */
    gboolean checkpointer; /* with @wlock: this connection checkpoints, outside the lock */
    gboolean outbox_added; /* the open transaction added outbox rows */
    GFunc outbox_notify;   /* called after a commit that added outbox rows */
    gpointer outbox_notify_data;
    gboolean archive; /* the journal archive is attached as "archive" */
};

gboolean store__has_archive(PsStore *store)
{
    return store->archive;
}

void store__outbox_added(PsStore *store)
{
    store->outbox_added = TRUE;
}

void store_set_outbox_notify(PsStore *store, GFunc func, gpointer user_data)
{
    store->outbox_notify = func;
    store->outbox_notify_data = user_data;
}

gboolean store_data_version(PsStore *store, gint64 *version, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, "PRAGMA data_version", error);
    if (!stmt)
        return FALSE;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW || store__fail(store->db, "PRAGMA data_version", error);
}

gboolean store__fail(sqlite3 *db, const char *what, GError **error)
{
    int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
    g_set_error(error, STORE_ERROR, STORE_ERROR_IO, "%s: %s (sqlite %d)", what,
                db ? sqlite3_errmsg(db) : "no database", code);
    return FALSE;
}

gboolean store__exec(sqlite3 *db, const char *sql, GError **error)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_IO, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return FALSE;
    }
    return TRUE;
}

sqlite3 *store__db(PsStore *store)
{
    return store->db;
}

sqlite3_stmt *store__stmt(PsStore *store, const char *sql, GError **error)
{
    sqlite3_stmt *stmt = g_hash_table_lookup(store->stmts, sql);
    if (stmt) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return stmt;
    }
    if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) !=
        SQLITE_OK) {
        store__fail(store->db, "prepare", error);
        return NULL;
    }
    g_hash_table_insert(store->stmts, (gpointer)sql, stmt);
    return stmt;
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
}

int store_schema_version(void)
{
    return store__migrations[store__n_migrations - 1].version;
}

gboolean store__migrate(sqlite3 *db, int target, GError **error)
{
    int have = user_version(db);
    if (have < 0)
        return store__fail(db, "reading the schema version", error);
    if (have > store_schema_version()) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_SCHEMA,
                    "schema version %d is newer than this portsight knows (%d): upgrade portsight",
                    have, store_schema_version());
        return FALSE;
    }
    for (gsize i = 0; i < store__n_migrations; i++) {
        const StoreMigration *m = &store__migrations[i];
        if (m->version <= have)
            continue;
        if (target > 0 && m->version > target)
            break;
        g_autofree char *set = g_strdup_printf("PRAGMA user_version = %d", m->version);
        GError *local = NULL;
        if (!store__exec(db, "BEGIN IMMEDIATE", &local) || !store__exec(db, m->sql, &local) ||
            !store__exec(db, set, &local) || !store__exec(db, "COMMIT", &local)) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            g_set_error(error, STORE_ERROR, STORE_ERROR_SCHEMA, "migration %d (%s) failed: %s",
                        m->version, m->name, local->message);
            g_error_free(local);
            return FALSE;
        }
        g_debug("store: migrated to schema %d (%s)", m->version, m->name);
    }
    return TRUE;
}

static void finalize_stmt(gpointer stmt)
{
    sqlite3_finalize(stmt);
}

/* What one dead letter counts against [store] dead_letter_max_mb: its bytes plus a row's
 * overhead. The same in SQL and in C (dead_row_bytes). */
#define DEAD_ROW_OVERHEAD 64
#define DEAD_ROW_BYTES                                                                     \
    "length(CAST(payload AS BLOB)) + length(CAST(reason AS BLOB)) + "                       \
    "coalesce(length(CAST(topic AS BLOB)), 0) + coalesce(length(CAST(event_id AS BLOB)), 0) + 64"

/* The store holds declarations and decisions: only the service reads it. A new database is
 * created 0600 (SQLite gives its -wal and -shm the database's mode); an existing one, or a -wal
 * or -shm, that every local user may read loses the others' permissions, with a warning. */
static void restrict_mode(const char *path)
{
    if (strcmp(path, ":memory:") == 0 || path[0] == '\0' || g_str_has_prefix(path, "file:"))
        return;
    int fd = g_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return;
    }
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (guint i = 0; i < G_N_ELEMENTS(suffix); i++) {
        g_autofree char *p = g_strconcat(path, suffix[i], NULL);
        GStatBuf st;
        if (g_stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0007)) {
            if (g_chmod(p, st.st_mode & 0770) == 0)
                g_warning("store: %s was readable by every local user: now mode %04o", p,
                          (unsigned)(st.st_mode & 0770));
            else
                g_warning("store: %s is readable by every local user and cannot be changed: %s",
                          p, g_strerror(errno));
        }
    }
}

PsStore *store_open(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    restrict_mode(path);
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "%s: %s", path,
                    db ? sqlite3_errmsg(db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    /* WAL lets the publisher and the CLI read while the engine writes. synchronous=FULL makes
     * each commit durable across power loss: an acknowledged event is never lost. */
    GError *local = NULL;
    if (!store__exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                         "PRAGMA foreign_keys = ON;",
                     &local)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "%s: not a usable database: %s", path,
                    local->message);
        g_error_free(local);
        goto fail;
    }
    if (!store__migrate(db, 0, &local)) {
        g_set_error(error, STORE_ERROR, local->code, "%s: %s", path, local->message);
        g_error_free(local);
        goto fail;
    }
    /* The dead letters' size and how many the cap dropped (counted once for an older store). */
    if (!store__exec(db, "INSERT OR IGNORE INTO counters (name, value) SELECT 'dead_letter_bytes',"
                         " coalesce(sum(" DEAD_ROW_BYTES "), 0) FROM dead_letter;"
                         "INSERT OR IGNORE INTO counters VALUES ('dead_letters_dropped', 0);",
                     &local)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "%s: %s", path, local->message);
        g_error_free(local);
        goto fail;
    }

    PsStore *store = g_new0(PsStore, 1);
    store->db = db;
    store->path = g_strdup(path);
    store->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, finalize_stmt);
    store->sync_full = TRUE;
    return store;

fail:
    sqlite3_close(db);
    return NULL;
}

gboolean store_set_journal_archive(PsStore *store, const char *path, GError **error)
{
    if (store->archive) {
        g_hash_table_remove_all(store->stmts); /* statements may name the archive */
        if (!store__exec(store->db, "DETACH DATABASE archive", error))
            return FALSE;
        store->archive = FALSE;
    }
    if (!path)
        return TRUE;
    restrict_mode(path);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(store->db, "ATTACH DATABASE ?1 AS archive", -1, &stmt, NULL) !=
        SQLITE_OK)
        return store__fail(store->db, "journal archive", error);
    sqlite3_bind_text(stmt, 1, path, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "journal archive %s: %s", path,
                    sqlite3_errmsg(store->db));
        return FALSE;
    }
    GError *local = NULL;
    if (!store__exec(store->db,
                     "CREATE TABLE IF NOT EXISTS archive.journal ("
                     "  seq INTEGER PRIMARY KEY, source TEXT NOT NULL, topic TEXT NOT NULL,"
                     "  event_id TEXT NOT NULL, ts TEXT, received_at INTEGER NOT NULL,"
                     "  payload TEXT NOT NULL)",
                     &local)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "journal archive %s: %s", path,
                    local->message);
        g_error_free(local);
        sqlite3_exec(store->db, "DETACH DATABASE archive", NULL, NULL, NULL);
        return FALSE;
    }
    store->archive = TRUE;
    return TRUE;
}

gboolean store_set_sync(PsStore *store, gboolean full, GError **error)
{
    if (!store__exec(store->db, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                     error))
        return FALSE;
    store->sync_full = full;
    return TRUE;
}

static int on_wal_commit(void *data, sqlite3 *db, const char *name, int pages)
{
    WriteLock *lock = data;
    g_atomic_int_set(&lock->wal_pages, pages);
    return SQLITE_OK;
}

/* After a transaction, outside the write lock. */
static void maybe_checkpoint(PsStore *store)
{
    if (!store->checkpointer || g_atomic_int_get(&store->wlock->wal_pages) < SHARED_CHECKPOINT_PAGES)
        return;
    g_atomic_int_set(&store->wlock->wal_pages, 0);
    int rc = sqlite3_wal_checkpoint_v2(store->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        g_warning("store: checkpoint of %s: %s", store->path, sqlite3_errmsg(store->db));
}

PsStore *store_open_shared(PsStore *store, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    if (strcmp(store->path, ":memory:") == 0 || store->path[0] == '\0') {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
                    "an in-memory store cannot be opened a second time (use a file)");
        return NULL;
    }
    PsStore *other = store_open(store->path, error);
    if (!other)
        return NULL;
    if (!store_set_sync(other, store->sync_full, error)) {
        store_close(other);
        return NULL;
    }
    other->dead_letter_max = store->dead_letter_max;
    /* Checkpoints (a copy of the WAL into the file, with an fsync) leave the commits: SQLite
     * would run them inside the COMMIT of whichever connection crosses the threshold, that is
     * with the write lock held and, for the subscriber, on the acknowledgement path. Here the
     * first connection runs them after its transactions, outside the lock (a passive
     * checkpoint lets the other connection write meanwhile). */
    if (!store->wlock) {
        store->wlock = g_new0(WriteLock, 1);
        g_mutex_init(&store->wlock->mutex);
        store->wlock->refs = 1;
        store->checkpointer = TRUE;
        sqlite3_wal_autocheckpoint(store->db, 0);
        sqlite3_wal_hook(store->db, on_wal_commit, store->wlock);
    }
    g_atomic_int_inc(&store->wlock->refs);
    other->wlock = store->wlock;
    sqlite3_wal_autocheckpoint(other->db, 0);
    sqlite3_wal_hook(other->db, on_wal_commit, other->wlock);
    return other;
}

void store_close(PsStore *store)
{
    if (!store)
        return;
    /* The last connection to close checkpoints; the others would wait for it. */
    gboolean last = TRUE;
    if (store->wlock && !g_atomic_int_dec_and_test(&store->wlock->refs)) {
        last = FALSE;
    } else if (store->wlock) {
        g_mutex_clear(&store->wlock->mutex);
        g_free(store->wlock);
    }
    g_hash_table_destroy(store->stmts);
    if (last)
        sqlite3_wal_checkpoint_v2(store->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (sqlite3_close(store->db) != SQLITE_OK)
        g_warning("store: closing %s: %s", store->path, sqlite3_errmsg(store->db));
    g_free(store->path);
    g_free(store);
}

static gboolean valid_event(const PsEvent *e, GError **error)
{
    const char *missing = !e->source ? "source" : !e->topic ? "topic" : !e->id ? "id"
                        : !e->payload ? "payload" : NULL;
    if (missing) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID, "event without %s", missing);
        return FALSE;
    }
    return TRUE;
}

#define SQL_INSERT_JOURNAL                                                                 \
    "INSERT OR IGNORE INTO journal (source, topic, event_id, ts, received_at, payload)"    \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
#define SQL_ADD_DUPLICATES "UPDATE counters SET value = value + ?1 WHERE name = 'duplicates'"

/* Appends inside the caller's transaction. */
static gboolean append_one(PsStore *store, const PsEvent *e, PsAppendResult *r, GError **error)
{
    if (!valid_event(e, error))
        return FALSE;
    sqlite3_stmt *stmt = store__stmt(store, SQL_INSERT_JOURNAL, error);
    if (!stmt)
        return FALSE;
    gint64 received = e->received_at ? e->received_at : g_get_real_time();
    sqlite3_bind_text(stmt, 1, e->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, e->topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, e->id, -1, SQLITE_STATIC);
    if (e->ts)
        sqlite3_bind_text(stmt, 4, e->ts, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 5, received);
    gsize len = e->payload_len < 0 ? strlen(e->payload) : (gsize)e->payload_len;
    sqlite3_bind_text64(stmt, 6, e->payload, len, SQLITE_STATIC, SQLITE_UTF8);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store->db, "journal insert", error);
    if (sqlite3_changes(store->db) == 0) {
        r->duplicates++;
        return TRUE;
    }
    gint64 seq = sqlite3_last_insert_rowid(store->db);
    if (r->appended++ == 0)
        r->first_seq = seq;
    r->last_seq = seq;
    return TRUE;
}

static gboolean count_duplicates(PsStore *store, guint n, GError **error)
{
    if (n == 0)
        return TRUE;
    sqlite3_stmt *stmt = store__stmt(store, SQL_ADD_DUPLICATES, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, n);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store->db, "counting duplicates", error);
    return TRUE;
}

typedef struct {
    const PsEvent *events;
    gsize n;
    PsAppendResult result;
} BatchArgs;

static gboolean append_batch_txn(PsStore *store, gpointer user_data, GError **error)
{
    BatchArgs *a = user_data;
    for (gsize i = 0; i < a->n; i++) {
        if (!append_one(store, &a->events[i], &a->result, error)) {
            g_prefix_error(error, "event %" G_GSIZE_FORMAT ": ", i);
            return FALSE;
        }
    }
    return count_duplicates(store, a->result.duplicates, error);
}

gboolean store_append_batch(PsStore *store, const PsEvent *events, gsize n,
                            PsAppendResult *result, GError **error)
{
    BatchArgs a = {events, n, {0}};
    gboolean ok = store_transaction(store, append_batch_txn, &a, error);
    if (result)
        *result = ok ? a.result : (PsAppendResult){0};
    return ok;
}

gboolean store_append(PsStore *store, const PsEvent *event, gboolean *duplicate, GError **error)
{
    PsAppendResult r;
    if (!store_append_batch(store, event, 1, &r, error))
        return FALSE;
    if (duplicate)
        *duplicate = r.duplicates > 0;
    return TRUE;
}

#define SQL_INSERT_DEAD                                                                    \
    "INSERT INTO dead_letter (source, topic, event_id, reason, received_at, payload)"      \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
#define SQL_DEAD_BYTES_ADD "UPDATE counters SET value = value + ?1 WHERE name = 'dead_letter_bytes'"
#define SQL_DEAD_BYTES "SELECT value FROM counters WHERE name = 'dead_letter_bytes'"
#define SQL_DEAD_OLDEST "SELECT seq, " DEAD_ROW_BYTES " FROM dead_letter ORDER BY seq"
#define SQL_DEAD_DROP "DELETE FROM dead_letter WHERE seq <= ?1"
#define SQL_DEAD_DROPPED_ADD                                                               \
    "UPDATE counters SET value = value + ?1 WHERE name = 'dead_letters_dropped'"

void store_set_dead_letter_max(PsStore *store, gint64 max_bytes)
{
    store->dead_letter_max = MAX(max_bytes, 0);
}

static gboolean add_counter(PsStore *store, const char *sql, gint64 n, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, sql, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, n);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store->db, "counter update", error);
    return TRUE;
}

/* Over the cap: drops the oldest dead letters until they take at most 90% of it (so the next
 * ones do not each delete one). */
static gboolean cap_dead_letters(PsStore *store, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_DEAD_BYTES, error);
    if (!stmt)
        return FALSE;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return store__fail(store->db, "dead-letter size", error);
    gint64 bytes = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    if (bytes <= store->dead_letter_max)
        return TRUE;
    gint64 target = store->dead_letter_max / 10 * 9, freed = 0, last = -1, n = 0;
    if (!(stmt = store__stmt(store, SQL_DEAD_OLDEST, error)))
        return FALSE;
    int rc;
    while (bytes - freed > target && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        last = sqlite3_column_int64(stmt, 0);
        freed += sqlite3_column_int64(stmt, 1);
        n++;
    }
    sqlite3_reset(stmt);
    if (last < 0)
        return TRUE;
    if (!(stmt = store__stmt(store, SQL_DEAD_DROP, error)))
        return FALSE;
    sqlite3_bind_int64(stmt, 1, last);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store->db, "dropping the oldest dead letters", error);
    static gint64 warned_at;
    gint64 now = g_get_monotonic_time();
    if (!warned_at || now - warned_at > 60 * G_USEC_PER_SEC) {
        warned_at = now;
        g_warning("store: dead letters over [store] dead_letter_max_mb (%" G_GINT64_FORMAT
                  " MB): the oldest %" G_GINT64_FORMAT " dropped (counted in "
                  "dead_letters_dropped)", store->dead_letter_max / (1024 * 1024), n);
    }
    return add_counter(store, SQL_DEAD_BYTES_ADD, -freed, error) &&
           add_counter(store, SQL_DEAD_DROPPED_ADD, n, error);
}

/* ---- the dead-letter warning: one line per topic per minute, with a count ---- */

#define LOG_WINDOW_US (60 * G_USEC_PER_SEC)
#define LOG_MAX_TOPICS 1024 /* more topics than this share one line a minute */

typedef struct {
    gint64 window_start;
    guint suppressed;
} TopicLog;

static GMutex log_lock;
static GHashTable *log_topics; /* topic -> TopicLog */

/* Whether a dead letter on @topic gets a log line now; *@suppressed: how many on the same
 * topic were not logged since its last line. */
static gboolean dead_letter_log_due(const char *topic, guint *suppressed)
{
    g_mutex_lock(&log_lock);
    if (!log_topics)
        log_topics = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    gint64 now = g_get_monotonic_time();
    if (g_hash_table_size(log_topics) >= LOG_MAX_TOPICS &&
        !g_hash_table_contains(log_topics, topic)) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, log_topics);
        while (g_hash_table_iter_next(&it, NULL, &v))
            if (now - ((TopicLog *)v)->window_start >= LOG_WINDOW_US &&
                ((TopicLog *)v)->suppressed == 0)
                g_hash_table_iter_remove(&it);
        if (g_hash_table_size(log_topics) >= LOG_MAX_TOPICS)
            topic = "(other topics)";
    }
    TopicLog *t = g_hash_table_lookup(log_topics, topic);
    gboolean due;
    if (!t) {
        t = g_new0(TopicLog, 1);
        t->window_start = now;
        g_hash_table_insert(log_topics, g_strdup(topic), t);
        *suppressed = 0;
        due = TRUE;
    } else if (now - t->window_start >= LOG_WINDOW_US) {
        *suppressed = t->suppressed;
        t->suppressed = 0;
        t->window_start = now;
        due = TRUE;
    } else {
        t->suppressed++;
        due = FALSE;
    }
    g_mutex_unlock(&log_lock);
    return due;
}

gboolean store_dead_letter(PsStore *store, const char *source, const char *topic, const char *id,
                           const char *payload, gssize payload_len, const char *reason,
                           GError **error)
{
    g_return_val_if_fail(source && reason, FALSE);
    sqlite3_stmt *stmt = store__stmt(store, SQL_INSERT_DEAD, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 5, g_get_real_time());
    gsize len = !payload ? 0 : payload_len < 0 ? strlen(payload) : (gsize)payload_len;
    sqlite3_bind_blob64(stmt, 6, payload ? payload : "", len, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store->db, "dead-letter insert", error);
    gint64 bytes = (gint64)len + (gint64)strlen(reason) + (topic ? (gint64)strlen(topic) : 0) +
                   (id ? (gint64)strlen(id) : 0) + DEAD_ROW_OVERHEAD;
    if (!add_counter(store, SQL_DEAD_BYTES_ADD, bytes, error))
        return FALSE;
    if (store->dead_letter_max > 0 && !cap_dead_letters(store, error))
        return FALSE;
    /* Fields from outside (topic, id, reason quoting the input) go to the log as they are: the
     * log writer escapes control characters. */
    guint suppressed = 0;
    if (dead_letter_log_due(topic ? topic : "(no topic)", &suppressed)) {
        g_autofree char *more =
            suppressed ? g_strdup_printf(" (and %u more on this topic in the last minute, not "
                                         "logged)", suppressed)
                       : NULL;
        g_warning("dead letter from %s on %s, id %s: %s%s", source, topic ? topic : "(none)",
                  id ? id : "(none)", reason, more ? more : "");
    }
    return TRUE;
}

gboolean store_dead_letters_foreach(PsStore *store, gint64 after_seq, guint limit,
                                    PsDeadLetterFunc func, gpointer user_data, GError **error)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(store->db,
                           "SELECT seq, source, topic, event_id, reason, received_at, payload"
                           " FROM dead_letter WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                           -1, &stmt, NULL) != SQLITE_OK)
        return store__fail(store->db, "dead-letter read", error);
    sqlite3_bind_int64(stmt, 1, after_seq);
    sqlite3_bind_int64(stmt, 2, limit);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        PsDeadLetterRow row = {
            .seq = sqlite3_column_int64(stmt, 0),
            .source = (const char *)sqlite3_column_text(stmt, 1),
            .topic = (const char *)sqlite3_column_text(stmt, 2),
            .id = (const char *)sqlite3_column_text(stmt, 3),
            .reason = (const char *)sqlite3_column_text(stmt, 4),
            .received_at = sqlite3_column_int64(stmt, 5),
            .payload = sqlite3_column_blob(stmt, 6),
            .payload_len = (gsize)sqlite3_column_bytes(stmt, 6),
        };
        if (!func(&row, user_data)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    gboolean ok = rc == SQLITE_DONE || store__fail(store->db, "dead-letter read", error);
    sqlite3_finalize(stmt);
    return ok;
}

static gboolean scalar(PsStore *store, const char *sql, gint64 *out, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, sql, error);
    if (!stmt)
        return FALSE;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return store__fail(store->db, sql, error);
    *out = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return TRUE;
}

gboolean store_stats(PsStore *store, PsStoreStats *stats, GError **error)
{
    return scalar(store, "SELECT count(*) FROM journal", &stats->journal, error) &&
           scalar(store, "SELECT value FROM counters WHERE name = 'duplicates'",
                  &stats->duplicates, error) &&
           scalar(store, "SELECT count(*) FROM dead_letter", &stats->dead_letters, error) &&
           scalar(store, "SELECT value FROM counters WHERE name = 'dead_letters_dropped'",
                  &stats->dead_letters_dropped, error) &&
           scalar(store, "SELECT value FROM counters WHERE name = 'dead_letter_bytes'",
                  &stats->dead_letter_bytes, error);
}

void store__journal_row(sqlite3_stmt *stmt, PsJournalRow *row)
{
    *row = (PsJournalRow){
        .seq = sqlite3_column_int64(stmt, 0),
        .source = (const char *)sqlite3_column_text(stmt, 1),
        .topic = (const char *)sqlite3_column_text(stmt, 2),
        .id = (const char *)sqlite3_column_text(stmt, 3),
        .ts = (const char *)sqlite3_column_text(stmt, 4),
        .received_at = sqlite3_column_int64(stmt, 5),
        .payload = (const char *)sqlite3_column_text(stmt, 6),
        .payload_len = sqlite3_column_bytes(stmt, 6),
    };
    if (!row->payload)
        row->payload = "";
}

gboolean store_journal_foreach(PsStore *store, gint64 after_seq, PsJournalFunc func,
                               gpointer user_data, GError **error)
{
    /* Not cached: the callback may use the store (and its cached statements) itself. */
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(store->db,
                           "SELECT seq, source, topic, event_id, ts, received_at, payload"
                           " FROM journal WHERE seq > ?1 ORDER BY seq",
                           -1, &stmt, NULL) != SQLITE_OK)
        return store__fail(store->db, "journal read", error);
    sqlite3_bind_int64(stmt, 1, after_seq);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        PsJournalRow row;
        store__journal_row(stmt, &row);
        if (!func(&row, user_data)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    gboolean ok = rc == SQLITE_DONE || store__fail(store->db, "journal read", error);
    sqlite3_finalize(stmt);
    return ok;
}

/* BEGIN and COMMIT as cached statements: one transaction per MQTT message makes their parsing
 * worth saving. */
static gboolean run_cached(PsStore *store, const char *sql, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, sql, error);
    if (!stmt)
        return FALSE;
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return store__fail(store->db, sql, error);
    return TRUE;
}

gboolean store_transaction_derived(PsStore *store, PsStoreTxnFunc func, gpointer user_data,
                                   GError **error)
{
    if (!store->sync_full || store->txn_depth > 0)
        return store_transaction(store, func, user_data, error);
    if (!run_cached(store, "PRAGMA synchronous = NORMAL", error))
        return FALSE;
    gboolean ok = store_transaction(store, func, user_data, error);
    GError *local = NULL;
    if (!run_cached(store, "PRAGMA synchronous = FULL", &local)) {
        /* Keep the connection's promise: without FULL it must not commit anything else. */
        g_critical("store: %s: cannot restore synchronous = FULL: %s", store->path,
                   local->message);
        g_error_free(local);
    }
    return ok;
}

gboolean store_transaction(PsStore *store, PsStoreTxnFunc func, gpointer user_data,
                           GError **error)
{
    if (store->txn_depth > 0) {
        store->txn_depth++;
        gboolean ok = func(store, user_data, error);
        store->txn_depth--;
        return ok;
    }
    if (store->wlock)
        g_mutex_lock(&store->wlock->mutex);
    if (!run_cached(store, "BEGIN IMMEDIATE", error)) {
        if (store->wlock)
            g_mutex_unlock(&store->wlock->mutex);
        return FALSE;
    }
    store->txn_depth = 1;
    store->outbox_added = FALSE;
    gboolean ok = func(store, user_data, error);
    store->txn_depth = 0;
    if (ok && run_cached(store, "COMMIT", error)) {
        if (store->wlock) {
            g_mutex_unlock(&store->wlock->mutex);
            maybe_checkpoint(store);
        }
        if (store->outbox_added && store->outbox_notify) {
            store->outbox_added = FALSE;
            store->outbox_notify(store, store->outbox_notify_data);
        }
        return TRUE;
    }
    store->outbox_added = FALSE;
    if (!ok && error && !*error)
        g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID, "transaction aborted");
    sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    if (store->wlock)
        g_mutex_unlock(&store->wlock->mutex);
    return FALSE;
}
