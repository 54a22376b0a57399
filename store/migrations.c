/* migrations.c: the schema, one step per version. Never edit a released step: add a new one. */
#include "store-private.h"

/* Version 1: the journal (accepted events: UTF-8 text) and the dead-letter table (rejected
 * inputs exactly as they came: bytes). */
static const char migration_core[] =
    "CREATE TABLE journal ("
    "  seq INTEGER PRIMARY KEY,"
    "  source TEXT NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  ts TEXT,"
    "  received_at INTEGER NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  UNIQUE (source, event_id)"
    ");"
    "CREATE TABLE dead_letter ("
    "  seq INTEGER PRIMARY KEY,"
    "  source TEXT NOT NULL,"
    "  topic TEXT,"
    "  event_id TEXT,"
    "  reason TEXT NOT NULL,"
    "  received_at INTEGER NOT NULL,"
    "  payload BLOB NOT NULL"
    ");";

/* Version 2: the journal becomes append-only at the SQL level, and counters that survive
 * restarts (duplicates are not rows anywhere, so they need one). */
static const char migration_counters[] =
    "CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal"
    "  BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;"
    "CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal"
    "  BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;"
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counters VALUES ('duplicates', 0);"
    "CREATE INDEX journal_topic ON journal (topic, seq);"
    "CREATE INDEX dead_letter_received ON dead_letter (received_at);";

/* Versions 3 and up belong to the modules: keep them in order. */
const StoreMigration store__migrations[] = {
    {1, "core journal and dead letters", migration_core},
    {2, "append-only journal, counters", migration_counters},
};
const gsize store__n_migrations = G_N_ELEMENTS(store__migrations);
