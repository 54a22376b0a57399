/* store_outbox.c: the outbox and its per-destination delivery state (schema version 5). */
#include <string.h>

#include "store-outbox.h"
#include "store-private.h"

void store_outbox_item_free(PsOutboxItem *item)
{
    if (!item)
        return;
    g_free(item->msg_id);
    g_free(item->topic);
    g_free(item->payload);
    g_free(item);
}

#define SQL_OUTBOX_INSERT                                                                  \
    "INSERT OR IGNORE INTO outbox (msg_id, topic, payload, created_at) VALUES (?1, ?2, ?3, ?4)"
/* A destination disabled by its endpoint (410) keeps queueing: what is decided meanwhile is
 * delivered, in order, once it is enabled again. */
#define SQL_DESTINATIONS "SELECT name, topics FROM outbox_destination WHERE active"
#define SQL_DELIVERY_INSERT "INSERT INTO outbox_delivery (seq, destination) VALUES (?1, ?2)"

/* MQTT topic filter matching: '+' one level, '#' (last) the rest, including none. */
static gboolean filter_matches(const char *filter, const char *topic)
{
    while (*filter) {
        if (filter[0] == '#' && !filter[1])
            return TRUE;
        if (filter[0] == '+' && (!filter[1] || filter[1] == '/')) {
            while (*topic && *topic != '/')
                topic++;
            filter++;
        } else {
            if (*filter != *topic)
                return FALSE;
            /* "a/#" also matches "a" */
            if (*filter == '/' && !topic[1] && filter[1] == '#' && !filter[2])
                return TRUE;
            filter++;
            topic++;
        }
        if (!*filter)
            return !*topic;
        if (!*topic)
            return *filter == '/' && filter[1] == '#' && !filter[2];
    }
    return !*topic;
}

gboolean store_outbox_topic_matches(const char *filters, const char *topic)
{
    if (!filters)
        return TRUE;
    g_auto(GStrv) list = g_strsplit(filters, ",", -1);
    for (guint i = 0; list[i]; i++)
        if (*g_strstrip(list[i]) && filter_matches(list[i], topic))
            return TRUE;
    return FALSE;
}

typedef struct {
    const char *topic, *msg_id, *payload;
} AddArgs;

static gboolean add_txn(PsStore *store, gpointer user_data, GError **error)
{
    AddArgs *a = user_data;
    sqlite3 *db = store__db(store);
    sqlite3_stmt *stmt = store__stmt(store, SQL_OUTBOX_INSERT, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, a->msg_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, a->topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, a->payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, g_get_real_time());
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(db, "outbox insert", error);
    if (sqlite3_changes(db) == 0)
        return TRUE; /* this msg_id is already in the outbox: nothing more to send */
    gint64 seq = sqlite3_last_insert_rowid(db);
    store__outbox_added(store);
    stmt = store__stmt(store, SQL_DESTINATIONS, error);
    if (!stmt)
        return FALSE;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        if (store_outbox_topic_matches((const char *)sqlite3_column_text(stmt, 1), a->topic))
            g_ptr_array_add(names, g_strdup((const char *)sqlite3_column_text(stmt, 0)));
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return store__fail(db, "outbox destinations", error);
    for (guint i = 0; i < names->len; i++) {
        stmt = store__stmt(store, SQL_DELIVERY_INSERT, error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_int64(stmt, 1, seq);
        sqlite3_bind_text(stmt, 2, g_ptr_array_index(names, i), -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc != SQLITE_DONE)
            return store__fail(db, "outbox delivery insert", error);
    }
    return TRUE;
}

gboolean store_outbox_add(PsStore *store, const char *topic, const char *msg_id,
                          const char *payload, GError **error)
{
    const char *missing = !topic || !*topic ? "topic" : !msg_id || !*msg_id ? "msg_id"
                          : !payload ? "payload" : NULL;
    if (missing) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID, "outbox message without %s",
                    missing);
        return FALSE;
    }
    AddArgs a = {topic, msg_id, payload};
    return store_transaction(store, add_txn, &a, error);
}

#define SQL_DEST_GET "SELECT url, disabled_at, disabled_reason FROM outbox_destination WHERE name = ?1"
#define SQL_DEST_INSERT "INSERT INTO outbox_destination (name, url, active) VALUES (?1, ?2, 1)"
#define SQL_DEST_ENABLE                                                                    \
    "UPDATE outbox_destination SET url = ?2, active = 1, disabled_at = NULL,"              \
    " disabled_reason = NULL WHERE name = ?1"
#define SQL_DEST_ACTIVATE "UPDATE outbox_destination SET active = 1 WHERE name = ?1"

typedef struct {
    const char *name, *url;
    gboolean disabled;
    char *reason;
} RegisterArgs;

static gboolean register_txn(PsStore *store, gpointer user_data, GError **error)
{
    RegisterArgs *a = user_data;
    sqlite3 *db = store__db(store);
    sqlite3_stmt *stmt = store__stmt(store, SQL_DEST_GET, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, a->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(stmt);
        stmt = store__stmt(store, SQL_DEST_INSERT, error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_text(stmt, 1, a->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, a->url, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            return store__fail(db, "outbox destination insert", error);
        return TRUE;
    }
    if (rc != SQLITE_ROW)
        return store__fail(db, "outbox destination read", error);
    const char *old_url = (const char *)sqlite3_column_text(stmt, 0);
    gboolean was_disabled = sqlite3_column_type(stmt, 1) != SQLITE_NULL;
    gboolean url_changed = g_strcmp0(old_url, a->url) != 0;
    if (was_disabled && !url_changed) {
        a->disabled = TRUE;
        a->reason = g_strdup((const char *)sqlite3_column_text(stmt, 2));
    }
    sqlite3_reset(stmt);
    if (url_changed) {
        stmt = store__stmt(store, SQL_DEST_ENABLE, error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_text(stmt, 1, a->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, a->url, -1, SQLITE_STATIC);
    } else {
        stmt = store__stmt(store, SQL_DEST_ACTIVATE, error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_text(stmt, 1, a->name, -1, SQLITE_STATIC);
    }
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(db, "outbox destination update", error);
    return TRUE;
}

gboolean store_outbox_register(PsStore *store, const char *name, const char *url,
                               gboolean *disabled, char **reason, GError **error)
{
    g_return_val_if_fail(name != NULL, FALSE);
    RegisterArgs a = {name, url, FALSE, NULL};
    gboolean ok = store_transaction(store, register_txn, &a, error);
    if (disabled)
        *disabled = ok && a.disabled;
    if (reason)
        *reason = ok ? g_steal_pointer(&a.reason) : NULL;
    g_free(a.reason);
    return ok;
}

gboolean store_outbox_retire_others(PsStore *store, const char *const *names, GError **error)
{
    /* Not cached: the statement text depends on how many names there are. */
    GString *sql = g_string_new("UPDATE outbox_destination SET active = 0 WHERE name <> 'mqtt'");
    guint n = names ? g_strv_length((char **)names) : 0;
    for (guint i = 0; i < n; i++)
        g_string_append_printf(sql, " AND name <> ?%u", i + 1);
    sqlite3 *db = store__db(store);
    sqlite3_stmt *stmt = NULL;
    gboolean ok = sqlite3_prepare_v2(db, sql->str, -1, &stmt, NULL) == SQLITE_OK;
    for (guint i = 0; ok && i < n; i++)
        sqlite3_bind_text(stmt, i + 1, names[i], -1, SQLITE_STATIC);
    ok = ok && sqlite3_step(stmt) == SQLITE_DONE;
    if (!ok)
        store__fail(db, "outbox destination retire", error);
    sqlite3_finalize(stmt);
    g_string_free(sql, TRUE);
    return ok;
}

#define SQL_DUE                                                                            \
    "SELECT o.seq, o.msg_id, o.topic, o.payload, o.created_at, d.attempts"                 \
    " FROM outbox_delivery d JOIN outbox o ON o.seq = d.seq"                               \
    " WHERE d.destination = ?1 AND d.delivered_at IS NULL AND d.next_attempt_at <= ?2"     \
    " AND d.seq > ?4 ORDER BY d.next_attempt_at, d.seq LIMIT ?3"

gboolean store_outbox_due(PsStore *store, const char *destination, gint64 now, gint64 after_seq,
                          guint limit, GPtrArray *out, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_DUE, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, destination, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int64(stmt, 3, limit);
    sqlite3_bind_int64(stmt, 4, after_seq);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        PsOutboxItem *item = g_new0(PsOutboxItem, 1);
        item->seq = sqlite3_column_int64(stmt, 0);
        item->msg_id = g_strdup((const char *)sqlite3_column_text(stmt, 1));
        item->topic = g_strdup((const char *)sqlite3_column_text(stmt, 2));
        item->payload = g_strdup((const char *)sqlite3_column_text(stmt, 3));
        item->created_at = sqlite3_column_int64(stmt, 4);
        item->attempts = sqlite3_column_int(stmt, 5);
        if (!item->payload)
            item->payload = g_strdup("");
        g_ptr_array_add(out, item);
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return store__fail(store__db(store), "outbox read", error);
    return TRUE;
}

#define SQL_OLDEST                                                                         \
    "SELECT o.seq, o.msg_id, o.topic, o.payload, o.created_at, d.attempts, d.next_attempt_at" \
    " FROM outbox_delivery d JOIN outbox o ON o.seq = d.seq"                               \
    " WHERE d.destination = ?1 AND d.delivered_at IS NULL ORDER BY d.seq LIMIT 1"

gboolean store_outbox_oldest(PsStore *store, const char *destination, PsOutboxItem **item,
                             GError **error)
{
    *item = NULL;
    sqlite3_stmt *stmt = store__stmt(store, SQL_OLDEST, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, destination, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        PsOutboxItem *it = g_new0(PsOutboxItem, 1);
        it->seq = sqlite3_column_int64(stmt, 0);
        it->msg_id = g_strdup((const char *)sqlite3_column_text(stmt, 1));
        it->topic = g_strdup((const char *)sqlite3_column_text(stmt, 2));
        it->payload = g_strdup((const char *)sqlite3_column_text(stmt, 3));
        it->created_at = sqlite3_column_int64(stmt, 4);
        it->attempts = sqlite3_column_int(stmt, 5);
        it->next_attempt_at = sqlite3_column_int64(stmt, 6);
        if (!it->payload)
            it->payload = g_strdup("");
        *item = it;
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store__db(store), "outbox read", error);
    return TRUE;
}

#define SQL_NEXT_DUE                                                                       \
    "SELECT min(next_attempt_at) FROM outbox_delivery"                                     \
    " WHERE destination = ?1 AND delivered_at IS NULL"

gboolean store_outbox_next_due(PsStore *store, const char *destination, gint64 *when,
                               GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_NEXT_DUE, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, destination, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return store__fail(store__db(store), "outbox read", error);
    *when = sqlite3_column_type(stmt, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return TRUE;
}

#define SQL_ATTEMPTS "SELECT attempts FROM outbox_delivery WHERE destination = ?1 AND seq = ?2"

gboolean store_outbox_attempts(PsStore *store, const char *destination, gint64 seq, int *attempts,
                               GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_ATTEMPTS, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, destination, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, seq);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store__db(store), "outbox read", error);
    *attempts = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
    sqlite3_reset(stmt);
    return TRUE;
}

#define SQL_DELIVERED                                                                      \
    "UPDATE outbox_delivery SET delivered_at = ?3"                                         \
    " WHERE destination = ?1 AND seq = ?2 AND delivered_at IS NULL"
#define SQL_FAILED                                                                         \
    "UPDATE outbox_delivery SET attempts = attempts + 1, next_attempt_at = ?3,"            \
    " last_error = ?4 WHERE destination = ?1 AND seq = ?2 AND delivered_at IS NULL"

static gboolean update_delivery(PsStore *store, const char *sql, const char *destination,
                                gint64 seq, gint64 when, const char *reason, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, sql, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, destination, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, seq);
    sqlite3_bind_int64(stmt, 3, when);
    if (reason)
        sqlite3_bind_text(stmt, 4, reason, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store__db(store), "outbox delivery update", error);
    return TRUE;
}

gboolean store_outbox_mark_delivered(PsStore *store, const char *destination, gint64 seq,
                                     gint64 when, GError **error)
{
    return update_delivery(store, SQL_DELIVERED, destination, seq, when, NULL, error);
}

gboolean store_outbox_mark_failed(PsStore *store, const char *destination, gint64 seq,
                                  gint64 next_attempt_at, const char *reason, GError **error)
{
    return update_delivery(store, SQL_FAILED, destination, seq, next_attempt_at,
                           reason ? reason : "failed", error);
}

#define SQL_DISABLE                                                                        \
    "UPDATE outbox_destination SET disabled_at = ?2, disabled_reason = ?3 WHERE name = ?1"

gboolean store_outbox_disable(PsStore *store, const char *destination, const char *reason,
                              GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_DISABLE, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, destination, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, g_get_real_time());
    sqlite3_bind_text(stmt, 3, reason ? reason : "disabled", -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store__db(store), "outbox destination disable", error);
    return TRUE;
}

#define SQL_ENABLE                                                                         \
    "UPDATE outbox_destination SET disabled_at = NULL, disabled_reason = NULL WHERE name = ?1"

gboolean store_outbox_enable(PsStore *store, const char *destination, gboolean *found,
                             GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_ENABLE, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, destination, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return store__fail(store__db(store), "outbox destination enable", error);
    if (found)
        *found = sqlite3_changes(store__db(store)) > 0;
    return TRUE;
}

#define SQL_TOPICS "UPDATE outbox_destination SET topics = ?2 WHERE name = ?1"

gboolean store_outbox_set_topics(PsStore *store, const char *destination, const char *filters,
                                 GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_TOPICS, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, destination, -1, SQLITE_STATIC);
    if (filters)
        sqlite3_bind_text(stmt, 2, filters, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 2);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return store__fail(store__db(store), "outbox destination topics", error);
    return TRUE;
}

gboolean store_outbox_disabled(PsStore *store, const char *destination, gboolean *disabled,
                               GError **error)
{
    sqlite3_stmt *stmt = store__stmt(
        store, "SELECT disabled_at IS NOT NULL FROM outbox_destination WHERE name = ?1", error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, destination, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    *disabled = rc == SQLITE_ROW && sqlite3_column_int(stmt, 0);
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store__db(store), "outbox destination read", error);
    return TRUE;
}

#define SQL_STATS_MESSAGES "SELECT count(*) FROM outbox"
#define SQL_STATS_DEST                                                                     \
    "SELECT count(*) FILTER (WHERE delivered_at IS NULL),"                                 \
    " count(*) FILTER (WHERE delivered_at IS NOT NULL), coalesce(sum(attempts), 0)"        \
    " FROM outbox_delivery WHERE destination = ?1"

gboolean store_outbox_stats(PsStore *store, const char *destination, PsOutboxStats *stats,
                            GError **error)
{
    memset(stats, 0, sizeof *stats);
    sqlite3 *db = store__db(store);
    sqlite3_stmt *stmt = store__stmt(store, SQL_STATS_MESSAGES, error);
    if (!stmt)
        return FALSE;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return store__fail(db, "outbox stats", error);
    stats->messages = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    if (!destination)
        return TRUE;
    stmt = store__stmt(store, SQL_STATS_DEST, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, destination, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return store__fail(db, "outbox stats", error);
    stats->pending = sqlite3_column_int64(stmt, 0);
    stats->delivered = sqlite3_column_int64(stmt, 1);
    stats->failed_attempts = sqlite3_column_int64(stmt, 2);
    sqlite3_reset(stmt);
    return TRUE;
}
