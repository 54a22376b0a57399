/* store-private.h: shared only between the files of store/ (the store__ tier). */
#pragma once

#include <sqlite3.h>

#include "store.h"

/* One schema step. @sql runs inside the migration's transaction; steps run in array order and
 * each sets PRAGMA user_version to its @version. */
typedef struct {
    int version;
    const char *name;
    const char *sql;
} StoreMigration;

extern const StoreMigration store__migrations[];
extern const gsize store__n_migrations;

sqlite3 *store__db(PsStore *store);

/* The open transaction added an outbox row: its commit calls the outbox notify. */
void store__outbox_added(PsStore *store);

/* Runs migrations up to and including @target (all of them when @target is 0 or above the
 * newest). Exposed so tests can build a database at an older schema version. */
gboolean store__migrate(sqlite3 *db, int target, GError **error);

/* Prepares @sql once per connection and returns the cached statement, reset and unbound.
 * @sql must be a string with static storage: the cache is keyed by its address. */
sqlite3_stmt *store__stmt(PsStore *store, const char *sql, GError **error);

/* Fills @error from the connection's last error, prefixed with @what. Always returns FALSE. */
gboolean store__fail(sqlite3 *db, const char *what, GError **error);

/* The journal row at @stmt's current step, from the columns seq, source, topic, event_id, ts,
 * received_at, payload in that order (strings valid until the next step). */
void store__journal_row(sqlite3_stmt *stmt, PsJournalRow *row);

gboolean store__exec(sqlite3 *db, const char *sql, GError **error);

/* Whether the journal archive is attached (as schema "archive"). */
gboolean store__has_archive(PsStore *store);
