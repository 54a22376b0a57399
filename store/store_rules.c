/* store_rules.c: declarations, decisions and their conditions (schema version 4). */
#include <string.h>

#include "store-private.h"
#include "store-rules.h"

#define SQL_DECL_PUT                                                                       \
    "INSERT INTO declaration (number, status, flow, ts, ts_us, event_seq, event_id, origin," \
    " destination, goods, consignee, vessel, containers)"                                  \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"                     \
    " ON CONFLICT (number) DO UPDATE SET status = excluded.status, flow = excluded.flow,"  \
    " ts = excluded.ts, ts_us = excluded.ts_us, event_seq = excluded.event_seq,"          \
    " event_id = excluded.event_id, origin = excluded.origin,"                             \
    " destination = excluded.destination, goods = excluded.goods,"                         \
    " consignee = excluded.consignee, vessel = excluded.vessel,"                           \
    " containers = excluded.containers"                                                    \
    " WHERE excluded.ts_us > declaration.ts_us OR (excluded.ts_us = declaration.ts_us"     \
    " AND excluded.event_seq > declaration.event_seq)"

gboolean store_rules_decl_put(PsStore *store, const PsDeclRow *d, GError **error)
{
    if (!d->number || !d->status || !d->flow || !d->ts || !d->event_id || !d->containers) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID, "declaration row with a field missing");
        return FALSE;
    }
    sqlite3_stmt *stmt = store__stmt(store, SQL_DECL_PUT, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, d->number, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, d->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, d->flow, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, d->ts, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 5, d->ts_us);
    sqlite3_bind_int64(stmt, 6, d->event_seq);
    sqlite3_bind_text(stmt, 7, d->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 8, d->origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 9, d->destination, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 10, d->goods, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 11, d->consignee, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 12, d->vessel, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 13, d->containers, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store__db(store), "declaration upsert", error);
    return TRUE;
}

#define SQL_DECISION_ADD                                                                   \
    "INSERT INTO decision (decision_id, kind, container, declaration, ts, event_seq, topic,"  \
    " payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
#define SQL_CONDITION_ADD                                                                  \
    "INSERT INTO decision_condition (decision_seq, pos, name, ok, event_id, topic, ts)"    \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"

gboolean store_rules_decision_add(PsStore *store, const PsDecisionRow *d, GError **error)
{
    if (!d->decision_id || !d->kind || !d->container || !d->declaration || !d->ts || !d->topic ||
        !d->payload) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID, "decision row with a field missing");
        return FALSE;
    }
    sqlite3 *db = store__db(store);
    sqlite3_stmt *stmt = store__stmt(store, SQL_DECISION_ADD, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, d->decision_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, d->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, d->container, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, d->declaration, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, d->ts, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, d->event_seq);
    sqlite3_bind_text(stmt, 7, d->topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 8, d->payload, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(db, "decision insert", error);
    gint64 seq = sqlite3_last_insert_rowid(db);
    for (guint i = 0; i < d->n_conditions; i++) {
        const PsConditionRow *c = &d->conditions[i];
        stmt = store__stmt(store, SQL_CONDITION_ADD, error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_int64(stmt, 1, seq);
        sqlite3_bind_int(stmt, 2, (int)i);
        sqlite3_bind_text(stmt, 3, c->name, -1, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 4, c->ok ? 1 : 0);
        sqlite3_bind_text(stmt, 5, c->event_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 6, c->topic, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 7, c->ts, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            return store__fail(db, "decision condition insert", error);
    }
    return TRUE;
}

static const char *chunk_text(GStringChunk *chunk, sqlite3_stmt *stmt, int col)
{
    const char *s = (const char *)sqlite3_column_text(stmt, col);
    return s ? g_string_chunk_insert(chunk, s) : NULL;
}

static gboolean decisions_query(PsStore *store, const char *container, gint64 after_seq,
                                gint64 limit, PsDecisionFunc func, gpointer user_data,
                                GError **error);

gboolean store_rules_decisions_foreach(PsStore *store, const char *container,
                                       PsDecisionFunc func, gpointer user_data, GError **error)
{
    return decisions_query(store, container, 0, -1, func, user_data, error);
}

gboolean store_rules_decisions_after(PsStore *store, gint64 after_seq, guint limit,
                                     PsDecisionFunc func, gpointer user_data, GError **error)
{
    return decisions_query(store, NULL, after_seq, limit, func, user_data, error);
}

static gboolean decisions_query(PsStore *store, const char *container, gint64 after_seq,
                                gint64 limit, PsDecisionFunc func, gpointer user_data,
                                GError **error)
{
    /* Not cached: the callback may use the store itself. */
    sqlite3 *db = store__db(store);
    sqlite3_stmt *dec = NULL, *cond = NULL;
    gboolean ok = FALSE;
    /* Two statements, so that one container's decisions come from its index. */
    const char *sql = container
                          ? "SELECT d.seq, d.decision_id, d.kind, d.container, d.declaration,"
                            " d.ts, d.event_seq, d.topic, d.payload, j.event_id, j.topic"
                            " FROM decision d LEFT JOIN journal j ON j.seq = d.event_seq"
                            " WHERE d.container = ?1 AND d.seq > ?2 ORDER BY d.seq LIMIT ?3"
                          : "SELECT d.seq, d.decision_id, d.kind, d.container, d.declaration,"
                            " d.ts, d.event_seq, d.topic, d.payload, j.event_id, j.topic"
                            " FROM decision d LEFT JOIN journal j ON j.seq = d.event_seq"
                            " WHERE d.seq > ?2 ORDER BY d.seq LIMIT ?3";
    if (sqlite3_prepare_v2(db, sql, -1, &dec, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT name, ok, event_id, topic, ts FROM decision_condition"
                           " WHERE decision_seq = ?1 ORDER BY pos",
                           -1, &cond, NULL) != SQLITE_OK) {
        store__fail(db, "decision read", error);
        goto out;
    }
    sqlite3_bind_text(dec, 1, container, -1, SQLITE_STATIC);
    sqlite3_bind_int64(dec, 2, after_seq);
    sqlite3_bind_int64(dec, 3, limit);
    GArray *conds = g_array_new(FALSE, TRUE, sizeof(PsConditionRow));
    /* Column text lives only until the next step: the conditions' strings are copied here. */
    GStringChunk *strings = g_string_chunk_new(256);
    int rc;
    while ((rc = sqlite3_step(dec)) == SQLITE_ROW) {
        PsDecisionRow row = {
            .seq = sqlite3_column_int64(dec, 0),
            .decision_id = (const char *)sqlite3_column_text(dec, 1),
            .kind = (const char *)sqlite3_column_text(dec, 2),
            .container = (const char *)sqlite3_column_text(dec, 3),
            .declaration = (const char *)sqlite3_column_text(dec, 4),
            .ts = (const char *)sqlite3_column_text(dec, 5),
            .event_seq = sqlite3_column_int64(dec, 6),
            .topic = (const char *)sqlite3_column_text(dec, 7),
            .payload = (const char *)sqlite3_column_text(dec, 8),
            .trigger_id = (const char *)sqlite3_column_text(dec, 9),
            .trigger_topic = (const char *)sqlite3_column_text(dec, 10),
        };
        g_array_set_size(conds, 0);
        g_string_chunk_clear(strings);
        sqlite3_reset(cond);
        sqlite3_bind_int64(cond, 1, row.seq);
        int crc;
        while ((crc = sqlite3_step(cond)) == SQLITE_ROW) {
            PsConditionRow c = {
                .name = chunk_text(strings, cond, 0),
                .ok = sqlite3_column_int(cond, 1) != 0,
                .event_id = chunk_text(strings, cond, 2),
                .topic = chunk_text(strings, cond, 3),
                .ts = chunk_text(strings, cond, 4),
            };
            g_array_append_val(conds, c);
        }
        if (crc != SQLITE_DONE) {
            rc = crc;
            break;
        }
        row.conditions = (const PsConditionRow *)(void *)conds->data;
        row.n_conditions = conds->len;
        if (!func(&row, user_data)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    g_array_unref(conds);
    g_string_chunk_free(strings);
    ok = rc == SQLITE_DONE || store__fail(db, "decision read", error);
out:
    sqlite3_finalize(dec);
    sqlite3_finalize(cond);
    return ok;
}

gboolean store_rules_decision_count(PsStore *store, gint64 *count, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, "SELECT count(*) FROM decision", error);
    if (!stmt)
        return FALSE;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return store__fail(store__db(store), "decision count", error);
    *count = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return TRUE;
}

#define SQL_EVENT_KNOWN                                                                    \
    "SELECT 1 FROM journal WHERE topic = ?1 AND event_id = ?2 AND source <> ?3 LIMIT 1"

gboolean store_rules_event_known(PsStore *store, const char *topic, const char *event_id,
                                 const char *source, gboolean *found, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_EVENT_KNOWN, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, source, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store__db(store), "journal lookup", error);
    *found = rc == SQLITE_ROW;
    sqlite3_reset(stmt);
    return TRUE;
}

static gboolean int_query(PsStore *store, const char *sql, const char *what, gint64 *out,
                          GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, sql, error);
    if (!stmt)
        return FALSE;
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        store__fail(store__db(store), what, error);
        sqlite3_reset(stmt);
        return FALSE;
    }
    *out = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return TRUE;
}

gboolean store_rules_cursor_get(PsStore *store, gint64 *seq, GError **error)
{
    return int_query(store, "SELECT value FROM counters WHERE name = 'rules_seq'",
                     "rules cursor read", seq, error);
}

#define SQL_CURSOR_SET "UPDATE counters SET value = ?1 WHERE name = 'rules_seq'"

gboolean store_rules_cursor_set(PsStore *store, gint64 seq, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_CURSOR_SET, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, seq);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store__db(store), "rules cursor update", error);
    return TRUE;
}

gboolean store_journal_last_seq(PsStore *store, gint64 *seq, GError **error)
{
    return int_query(store, "SELECT coalesce(max(seq), 0) FROM journal", "journal read", seq,
                     error);
}

/* ---- schema version 8 ---- */

#define SQL_KEY_ADD "INSERT OR IGNORE INTO journal_key (key, seq) VALUES (?1, ?2)"

gboolean store_journal_keys_add(PsStore *store, gint64 seq, const char *const *keys,
                                GError **error)
{
    for (guint i = 0; keys && keys[i]; i++) {
        sqlite3_stmt *stmt = store__stmt(store, SQL_KEY_ADD, error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_text(stmt, 1, keys[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 2, seq);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            return store__fail(store__db(store), "journal key insert", error);
    }
    return TRUE;
}

#define SQL_KEY_SEQS "SELECT seq FROM journal_key WHERE key = ?1 AND seq < ?2 ORDER BY seq"

gboolean store_journal_key_seqs(PsStore *store, const char *key, gint64 below, GArray *seqs,
                                GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_KEY_SEQS, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, below);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        gint64 seq = sqlite3_column_int64(stmt, 0);
        g_array_append_val(seqs, seq);
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE || store__fail(store__db(store), "journal key read", error);
}

gboolean store_journal_rows(PsStore *store, const gint64 *seqs, guint n, PsJournalFunc func,
                            gpointer user_data, GError **error)
{
    /* Not cached: the callback may use the store (and its cached statements) itself. */
    sqlite3 *db = store__db(store);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT seq, source, topic, event_id, ts, received_at, payload"
                           " FROM journal WHERE seq = ?1",
                           -1, &stmt, NULL) != SQLITE_OK)
        return store__fail(db, "journal read", error);
    gboolean ok = TRUE;
    for (guint i = 0; i < n && ok; i++) {
        sqlite3_reset(stmt);
        sqlite3_bind_int64(stmt, 1, seqs[i]);
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE)
            continue;
        if (rc != SQLITE_ROW) {
            ok = store__fail(db, "journal read", error);
            break;
        }
        PsJournalRow row;
        store__journal_row(stmt, &row);
        if (!func(&row, user_data))
            break;
    }
    sqlite3_finalize(stmt);
    return ok;
}

#define SQL_SNAP_PUT "INSERT OR REPLACE INTO rules_snapshot (kind, key, data) VALUES (?1, ?2, ?3)"
#define SQL_SNAP_DEL "DELETE FROM rules_snapshot WHERE kind = ?1 AND key = ?2"

gboolean store_rules_snapshot_put(PsStore *store, int kind, const char *key, const void *data,
                                  gsize len, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_SNAP_PUT, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int(stmt, 1, kind);
    sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(stmt, 3, data, len, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store__db(store), "rules snapshot write", error);
    return TRUE;
}

gboolean store_rules_snapshot_delete(PsStore *store, int kind, const char *key, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_SNAP_DEL, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int(stmt, 1, kind);
    sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store__db(store), "rules snapshot write", error);
    return TRUE;
}

gboolean store_rules_snapshot_clear(PsStore *store, GError **error)
{
    return store__exec(store__db(store), "DELETE FROM rules_snapshot", error);
}

gboolean store_rules_snapshot_foreach(PsStore *store, int kind, PsSnapshotFunc func,
                                      gpointer user_data, GError **error)
{
    sqlite3 *db = store__db(store);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, "SELECT key, data FROM rules_snapshot WHERE kind = ?1", -1,
                           &stmt, NULL) != SQLITE_OK)
        return store__fail(db, "rules snapshot read", error);
    sqlite3_bind_int(stmt, 1, kind);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!func((const char *)sqlite3_column_text(stmt, 0), sqlite3_column_blob(stmt, 1),
                  (gsize)sqlite3_column_bytes(stmt, 1), user_data)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    gboolean ok = rc == SQLITE_DONE || store__fail(db, "rules snapshot read", error);
    sqlite3_finalize(stmt);
    return ok;
}

#define SQL_PRUNE_ON "INSERT INTO journal_prune VALUES (1)"
#define SQL_PRUNE_OFF "DELETE FROM journal_prune"
#define SQL_PRUNE_ARCHIVE "INSERT OR IGNORE INTO archive.journal SELECT * FROM main.journal WHERE seq = ?1"
#define SQL_PRUNE_ROW "DELETE FROM journal WHERE seq = ?1"
#define SQL_PRUNE_KEY "DELETE FROM journal_key WHERE key = ?1 AND seq = ?2"
#define SQL_PRUNE_COUNT "UPDATE counters SET value = value + ?1 WHERE name = 'journal_pruned'"

static gboolean step_seq(PsStore *store, const char *sql, gint64 seq, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, sql, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, seq);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store__db(store), "journal retention", error);
    return TRUE;
}

typedef struct {
    const PsPruneRow *rows;
    guint n;
} PruneArgs;

static gboolean prune_txn(PsStore *store, gpointer user_data, GError **error)
{
    PruneArgs *a = user_data;
    if (!step_seq(store, SQL_PRUNE_ON, 0, error))
        return FALSE;
    gint64 deleted = 0;
    for (guint i = 0; i < a->n; i++) {
        const PsPruneRow *r = &a->rows[i];
        if (store__has_archive(store) && !step_seq(store, SQL_PRUNE_ARCHIVE, r->seq, error))
            return FALSE;
        if (!step_seq(store, SQL_PRUNE_ROW, r->seq, error))
            return FALSE;
        deleted += sqlite3_changes(store__db(store));
        for (guint k = 0; r->keys && r->keys[k]; k++) {
            sqlite3_stmt *stmt = store__stmt(store, SQL_PRUNE_KEY, error);
            if (!stmt)
                return FALSE;
            sqlite3_bind_text(stmt, 1, r->keys[k], -1, SQLITE_STATIC);
            sqlite3_bind_int64(stmt, 2, r->seq);
            if (sqlite3_step(stmt) != SQLITE_DONE)
                return store__fail(store__db(store), "journal retention", error);
        }
    }
    return step_seq(store, SQL_PRUNE_OFF, 0, error) &&
           step_seq(store, SQL_PRUNE_COUNT, deleted, error);
}

gboolean store_journal_prune(PsStore *store, const PsPruneRow *rows, guint n, GError **error)
{
    PruneArgs a = {rows, n};
    return n == 0 || store_transaction(store, prune_txn, &a, error);
}

gboolean store_journal_pruned(PsStore *store, gint64 *count, GError **error)
{
    return int_query(store, "SELECT coalesce((SELECT value FROM counters WHERE name ="
                            " 'journal_pruned'), 0)",
                     "journal retention count", count, error);
}
