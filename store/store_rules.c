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
    if (sqlite3_prepare_v2(db,
                           "SELECT d.seq, d.decision_id, d.kind, d.container, d.declaration,"
                           " d.ts, d.event_seq, d.topic, d.payload, j.event_id, j.topic"
                           " FROM decision d LEFT JOIN journal j ON j.seq = d.event_seq"
                           " WHERE (?1 IS NULL OR d.container = ?1) AND d.seq > ?2"
                           " ORDER BY d.seq LIMIT ?3",
                           -1, &dec, NULL) != SQLITE_OK ||
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
