/* store_ais.c: SQL of the vessel side (schema version 3 in migrations.c). */
#include "store-ais.h"

#include <math.h>

#include "store-private.h"

static void bind_text_or_null(sqlite3_stmt *stmt, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, i);
}

static void bind_uint_or_null(sqlite3_stmt *stmt, int i, guint v)
{
    if (v)
        sqlite3_bind_int64(stmt, i, v);
    else
        sqlite3_bind_null(stmt, i);
}

static void bind_double_or_null(sqlite3_stmt *stmt, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(stmt, i, v);
    else
        sqlite3_bind_null(stmt, i);
}

static double column_double_or_nan(sqlite3_stmt *stmt, int i)
{
    return sqlite3_column_type(stmt, i) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt, i);
}

#define SQL_PUT_VESSEL                                                                     \
    "INSERT INTO ais_vessel (mmsi, name, callsign, destination, eta, imo, ship_type,"      \
    " length_m, beam_m, draught_m, last_seen, lat, lon, sog, cog)"                         \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"           \
    " ON CONFLICT (mmsi) DO UPDATE SET"                                                    \
    "  name = coalesce(excluded.name, name),"                                              \
    "  callsign = coalesce(excluded.callsign, callsign),"                                  \
    "  destination = coalesce(excluded.destination, destination),"                        \
    "  eta = coalesce(excluded.eta, eta),"                                                 \
    "  imo = coalesce(excluded.imo, imo),"                                                 \
    "  ship_type = coalesce(excluded.ship_type, ship_type),"                               \
    "  length_m = coalesce(excluded.length_m, length_m),"                                  \
    "  beam_m = coalesce(excluded.beam_m, beam_m),"                                        \
    "  draught_m = coalesce(excluded.draught_m, draught_m),"                               \
    "  last_seen = max(coalesce(excluded.last_seen, 0), coalesce(last_seen, 0)),"          \
    "  lat = CASE WHEN ?16 THEN excluded.lat ELSE lat END,"                                \
    "  lon = CASE WHEN ?16 THEN excluded.lon ELSE lon END,"                                \
    "  sog = CASE WHEN ?16 THEN excluded.sog ELSE sog END,"                                \
    "  cog = CASE WHEN ?16 THEN excluded.cog ELSE cog END"

gboolean store_ais_put_vessel(PsStore *store, const PsAisVesselRow *v, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, SQL_PUT_VESSEL, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, v->mmsi);
    bind_text_or_null(stmt, 2, v->name);
    bind_text_or_null(stmt, 3, v->callsign);
    bind_text_or_null(stmt, 4, v->destination);
    bind_text_or_null(stmt, 5, v->eta);
    bind_uint_or_null(stmt, 6, v->imo);
    bind_uint_or_null(stmt, 7, v->ship_type);
    bind_uint_or_null(stmt, 8, v->length_m);
    bind_uint_or_null(stmt, 9, v->beam_m);
    bind_double_or_null(stmt, 10, v->draught_m > 0 ? v->draught_m : NAN);
    if (v->last_seen)
        sqlite3_bind_int64(stmt, 11, v->last_seen);
    if (v->has_position) {
        sqlite3_bind_double(stmt, 12, v->lat);
        sqlite3_bind_double(stmt, 13, v->lon);
        bind_double_or_null(stmt, 14, v->sog);
        bind_double_or_null(stmt, 15, v->cog);
    }
    sqlite3_bind_int(stmt, 16, v->has_position ? 1 : 0);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store__db(store), "vessel upsert", error);
    return TRUE;
}

gboolean store_ais_vessel_name(PsStore *store, guint mmsi, char **name, GError **error)
{
    sqlite3_stmt *stmt =
        store__stmt(store, "SELECT name FROM ais_vessel WHERE mmsi = ?1", error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, mmsi);
    int rc = sqlite3_step(stmt);
    *name = NULL;
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        *name = g_strdup((const char *)sqlite3_column_text(stmt, 0));
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store__db(store), "vessel name", error);
    sqlite3_reset(stmt);
    return TRUE;
}

gboolean store_ais_find_by_name(PsStore *store, const char *name, GArray *mmsis,
                                GError **error)
{
    sqlite3_stmt *stmt = store__stmt(
        store, "SELECT mmsi FROM ais_vessel WHERE name = ?1 COLLATE NOCASE ORDER BY mmsi",
        error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        guint m = (guint)sqlite3_column_int64(stmt, 0);
        g_array_append_val(mmsis, m);
    }
    if (rc != SQLITE_DONE)
        return store__fail(store__db(store), "vessel lookup", error);
    return TRUE;
}

gboolean store_ais_find_by_prefix(PsStore *store, const char *prefix, guint limit,
                                  GArray *mmsis, GError **error)
{
    /* LIKE with the wildcards of @prefix escaped: a prefix, ASCII case-insensitive. */
    GString *pattern = g_string_new(NULL);
    for (const char *p = prefix; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            g_string_append_c(pattern, '\\');
        g_string_append_c(pattern, *p);
    }
    g_string_append_c(pattern, '%');
    sqlite3_stmt *stmt = store__stmt(
        store,
        "SELECT mmsi FROM ais_vessel WHERE name LIKE ?1 ESCAPE '\\' ORDER BY name, mmsi LIMIT ?2",
        error);
    if (!stmt) {
        g_string_free(pattern, TRUE);
        return FALSE;
    }
    sqlite3_bind_text(stmt, 1, pattern->str, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, limit);
    g_string_free(pattern, TRUE);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        guint m = (guint)sqlite3_column_int64(stmt, 0);
        g_array_append_val(mmsis, m);
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return store__fail(store__db(store), "vessel lookup", error);
    return TRUE;
}

typedef struct {
    const PsAisTrackPoint *points;
    gsize n;
} TrackArgs;

static gboolean add_track_txn(PsStore *store, gpointer user_data, GError **error)
{
    TrackArgs *a = user_data;
    for (gsize i = 0; i < a->n; i++) {
        const PsAisTrackPoint *p = &a->points[i];
        sqlite3_stmt *stmt = store__stmt(store,
                                         "INSERT OR REPLACE INTO ais_track"
                                         " (mmsi, t, lat, lon, sog, cog)"
                                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                         error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_int64(stmt, 1, p->mmsi);
        sqlite3_bind_int64(stmt, 2, p->t);
        sqlite3_bind_double(stmt, 3, p->lat);
        sqlite3_bind_double(stmt, 4, p->lon);
        bind_double_or_null(stmt, 5, p->sog);
        bind_double_or_null(stmt, 6, p->cog);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            return store__fail(store__db(store), "track insert", error);
    }
    return TRUE;
}

gboolean store_ais_add_track(PsStore *store, const PsAisTrackPoint *points, gsize n,
                             GError **error)
{
    if (n == 0)
        return TRUE;
    TrackArgs a = {points, n};
    return store_transaction(store, add_track_txn, &a, error);
}

gboolean store_ais_expire_track(PsStore *store, gint64 before, gint64 *deleted, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store, "DELETE FROM ais_track WHERE t < ?1", error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, before);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store__db(store), "track expiry", error);
    if (deleted)
        *deleted = sqlite3_changes(store__db(store));
    return TRUE;
}

gboolean store_ais_track(PsStore *store, guint mmsi, gint64 since, GArray *out, GError **error)
{
    sqlite3_stmt *stmt = store__stmt(store,
                                     "SELECT t, lat, lon, sog, cog FROM ais_track"
                                     " WHERE mmsi = ?1 AND t >= ?2 ORDER BY t",
                                     error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, mmsi);
    sqlite3_bind_int64(stmt, 2, since);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        PsAisTrackPoint p = {
            .mmsi = mmsi,
            .t = sqlite3_column_int64(stmt, 0),
            .lat = sqlite3_column_double(stmt, 1),
            .lon = sqlite3_column_double(stmt, 2),
            .sog = column_double_or_nan(stmt, 3),
            .cog = column_double_or_nan(stmt, 4),
        };
        g_array_append_val(out, p);
    }
    if (rc != SQLITE_DONE)
        return store__fail(store__db(store), "track read", error);
    return TRUE;
}

gboolean store_ais_put_call(PsStore *store, const PsAisCallRow *c, gboolean *created,
                            GError **error)
{
    if (!c->port || !c->country) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID, "port call without port");
        return FALSE;
    }
    sqlite3_stmt *stmt = store__stmt(store,
                                     "SELECT 1 FROM ais_call"
                                     " WHERE mmsi = ?1 AND port = ?2 AND arrival = ?3",
                                     error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, c->mmsi);
    sqlite3_bind_text(stmt, 2, c->port, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, c->arrival);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store__db(store), "port call lookup", error);
    gboolean was_new = rc == SQLITE_DONE;
    sqlite3_reset(stmt);

    stmt = store__stmt(store,
                       "INSERT INTO ais_call (mmsi, port, country, arrival, departure)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)"
                       " ON CONFLICT (mmsi, port, arrival) DO UPDATE SET"
                       " departure = coalesce(excluded.departure, departure)",
                       error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, c->mmsi);
    sqlite3_bind_text(stmt, 2, c->port, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, c->country, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, c->arrival);
    if (c->departure)
        sqlite3_bind_int64(stmt, 5, c->departure);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        return store__fail(store__db(store), "port call upsert", error);
    if (created)
        *created = was_new;
    return TRUE;
}

gboolean store_ais_calls(PsStore *store, guint mmsi, gint64 since, gint64 until,
                         PsAisCallFunc func, gpointer user_data, GError **error)
{
    /* Not cached: the callback may use the store. */
    sqlite3 *db = store__db(store);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT port, country, arrival, departure FROM ais_call"
                           " WHERE mmsi = ?1 AND arrival <= ?3"
                           " AND (departure IS NULL OR departure >= ?2)"
                           " ORDER BY arrival, port",
                           -1, &stmt, NULL) != SQLITE_OK)
        return store__fail(db, "port call read", error);
    sqlite3_bind_int64(stmt, 1, mmsi);
    sqlite3_bind_int64(stmt, 2, since);
    sqlite3_bind_int64(stmt, 3, until);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        PsAisCallRow row = {
            .mmsi = mmsi,
            .port = (const char *)sqlite3_column_text(stmt, 0),
            .country = (const char *)sqlite3_column_text(stmt, 1),
            .arrival = sqlite3_column_int64(stmt, 2),
            .departure = sqlite3_column_type(stmt, 3) == SQLITE_NULL
                             ? 0
                             : sqlite3_column_int64(stmt, 3),
        };
        if (!func(&row, user_data)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    gboolean ok = rc == SQLITE_DONE || store__fail(db, "port call read", error);
    sqlite3_finalize(stmt);
    return ok;
}
