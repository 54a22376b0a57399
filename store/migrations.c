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

/* Version 4: rules/ (store_rules.c). The latest status of each declaration; decisions
 * (append-only, at most one release per container and declaration) and the conditions each
 * checked, with the event that settled it. The journal index on (topic, event_id) lets the
 * rules recognize the engine's own OCR reads when the broker hands them back. */
static const char migration_rules[] =
    "CREATE TABLE declaration ("
    "  number TEXT PRIMARY KEY,"
    "  status TEXT NOT NULL,"
    "  flow TEXT NOT NULL,"
    "  ts TEXT NOT NULL,"
    "  ts_us INTEGER NOT NULL,"
    "  event_seq INTEGER NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  origin TEXT, destination TEXT, goods TEXT, consignee TEXT, vessel TEXT,"
    "  containers TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE decision ("
    "  seq INTEGER PRIMARY KEY,"
    "  decision_id TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('release', 'hold')),"
    "  container TEXT NOT NULL,"
    "  declaration TEXT NOT NULL,"
    "  ts TEXT NOT NULL,"
    "  event_seq INTEGER NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  payload TEXT NOT NULL"
    ");"
    "CREATE INDEX decision_container ON decision (container, seq);"
    "CREATE UNIQUE INDEX decision_release_once ON decision (container, declaration)"
    "  WHERE kind = 'release';"
    "CREATE TRIGGER decision_no_update BEFORE UPDATE ON decision"
    "  BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;"
    "CREATE TRIGGER decision_no_delete BEFORE DELETE ON decision"
    "  BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;"
    "CREATE TABLE decision_condition ("
    "  decision_seq INTEGER NOT NULL REFERENCES decision (seq),"
    "  pos INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  ok INTEGER NOT NULL,"
    "  event_id TEXT, topic TEXT, ts TEXT,"
    "  PRIMARY KEY (decision_seq, pos)"
    ") WITHOUT ROWID;"
    "CREATE INDEX journal_topic_event ON journal (topic, event_id);";

/* Version 5: the outbox (publish/). Messages are append-only; each has one delivery row per
 * destination it is meant for, marked delivered (never deleted) for the audit trail. "mqtt"
 * exists from the start so that every message ever decided has an MQTT delivery row. */
static const char migration_outbox[] =
    "CREATE TABLE outbox ("
    "  seq INTEGER PRIMARY KEY,"
    "  msg_id TEXT NOT NULL UNIQUE,"
    "  topic TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TRIGGER outbox_no_update BEFORE UPDATE ON outbox"
    "  BEGIN SELECT RAISE(ABORT, 'outbox is append-only'); END;"
    "CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox"
    "  BEGIN SELECT RAISE(ABORT, 'outbox is append-only'); END;"
    "CREATE TABLE outbox_destination ("
    "  name TEXT PRIMARY KEY,"
    "  url TEXT,"
    "  active INTEGER NOT NULL DEFAULT 1,"
    "  disabled_at INTEGER,"
    "  disabled_reason TEXT"
    ") WITHOUT ROWID;"
    "INSERT INTO outbox_destination (name) VALUES ('mqtt');"
    "CREATE TABLE outbox_delivery ("
    "  destination TEXT NOT NULL,"
    "  seq INTEGER NOT NULL REFERENCES outbox (seq),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  delivered_at INTEGER,"
    "  PRIMARY KEY (destination, seq)"
    ") WITHOUT ROWID;"
    "CREATE INDEX outbox_pending ON outbox_delivery (destination, next_attempt_at, seq)"
    "  WHERE delivered_at IS NULL;";

/* Version 6: rules/ evaluates the journal behind the journaling (the MQTT subscriber journals
 * on its own connection and acknowledges; the rules follow). 'rules_seq' is the last journal seq
 * the rules have evaluated, written in the transaction that writes the decisions. Databases
 * from before were evaluated in the journaling transaction itself: all of their journal is. */
static const char migration_rules_cursor[] =
    "INSERT INTO counters (name, value) SELECT 'rules_seq', coalesce(max(seq), 0) FROM journal;";

/* Version 7: a destination may take only some topics (webhook `topics`): MQTT-style filters,
 * comma-separated; NULL takes every message. */
static const char migration_outbox_topics[] =
    "ALTER TABLE outbox_destination ADD COLUMN topics TEXT;";

/* Version 8: bounded state for a year of containers (rules/ retirement, snapshot, journal
 * retention). journal_key: the journal rows that name each container (its ISO 6346 code) and
 * each customs declaration ('decl ' || number), so the rules rebuild a retired container from
 * its own rows; filled when the rules evaluate a row, and here for the rows already journaled.
 * rules_snapshot: the live rules state at a journal seq (kind 0 the header, 1 containers, 2
 * declarations), so a start replays only the journal after it. The journal stays append-only
 * except for retention ([store] journal_keep_days), which deletes inside a transaction that
 * holds a row in journal_prune. */
static const char migration_retention[] =
    "CREATE TABLE journal_key ("
    "  key TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  PRIMARY KEY (key, seq)"
    ") WITHOUT ROWID;"
    "CREATE TABLE rules_snapshot ("
    "  kind INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  data BLOB NOT NULL,"
    "  PRIMARY KEY (kind, key)"
    ") WITHOUT ROWID;"
    "CREATE TABLE journal_prune (active INTEGER);"
    "DROP TRIGGER journal_no_delete;"
    "CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal"
    "  WHEN NOT EXISTS (SELECT 1 FROM journal_prune)"
    "  BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;"
    "INSERT INTO counters VALUES ('journal_pruned', 0);"
    "INSERT OR IGNORE INTO journal_key (key, seq)"
    "  SELECT json_extract(payload, '$.container'), seq FROM journal"
    "  WHERE json_valid(payload) AND json_type(payload, '$.container') = 'text';"
    "INSERT OR IGNORE INTO journal_key (key, seq)"
    "  SELECT c.value, j.seq FROM journal j,"
    "   json_each(CASE WHEN json_valid(j.payload) THEN j.payload ELSE '{}' END, '$.containers') c"
    "  WHERE c.type = 'text';"
    "INSERT OR IGNORE INTO journal_key (key, seq)"
    "  SELECT c.value, j.seq FROM journal j,"
    "   json_each(CASE WHEN json_valid(j.payload) THEN j.payload ELSE '{}' END, '$.wagons') w,"
    "   json_each(CASE WHEN w.type = 'object' THEN w.value ELSE '{}' END, '$.containers') c"
    "  WHERE c.type = 'text';"
    "INSERT OR IGNORE INTO journal_key (key, seq)"
    "  SELECT 'decl ' || json_extract(payload, '$.declaration'), seq FROM journal"
    "  WHERE json_valid(payload) AND json_type(payload, '$.declaration') = 'text';";

/* Version 3: the vessel side (ais/vessels.c, store/store_ais.c). Times are Unix seconds. */
static const char migration_ais[] =
    "CREATE TABLE ais_vessel ("
    "  mmsi INTEGER PRIMARY KEY,"
    "  name TEXT,"
    "  callsign TEXT,"
    "  destination TEXT,"
    "  eta TEXT,"
    "  imo INTEGER,"
    "  ship_type INTEGER,"
    "  length_m INTEGER,"
    "  beam_m INTEGER,"
    "  draught_m REAL,"
    "  last_seen INTEGER,"
    "  lat REAL, lon REAL, sog REAL, cog REAL"
    ");"
    "CREATE INDEX ais_vessel_name ON ais_vessel (name COLLATE NOCASE);"
    "CREATE TABLE ais_track ("
    "  mmsi INTEGER NOT NULL,"
    "  t INTEGER NOT NULL,"
    "  lat REAL NOT NULL,"
    "  lon REAL NOT NULL,"
    "  sog REAL,"
    "  cog REAL,"
    "  PRIMARY KEY (mmsi, t)"
    ") WITHOUT ROWID;"
    "CREATE INDEX ais_track_t ON ais_track (t);"
    "CREATE TABLE ais_call ("
    "  id INTEGER PRIMARY KEY,"
    "  mmsi INTEGER NOT NULL,"
    "  port TEXT NOT NULL,"
    "  country TEXT NOT NULL,"
    "  arrival INTEGER NOT NULL,"
    "  departure INTEGER,"
    "  UNIQUE (mmsi, port, arrival)"
    ");"
    "CREATE INDEX ais_call_mmsi ON ais_call (mmsi, arrival);";

/* Versions 3 and up belong to the modules: keep them in order. */
const StoreMigration store__migrations[] = {
    {1, "core journal and dead letters", migration_core},
    {2, "append-only journal, counters", migration_counters},
    {3, "vessels, tracks, port calls", migration_ais},
    {4, "rules: declarations, decisions, conditions", migration_rules},
    {5, "outbox and deliveries", migration_outbox},
    {6, "rules cursor: the journal seq evaluated so far", migration_rules_cursor},
    {7, "outbox destinations: topic filters", migration_outbox_topics},
    {8, "journal keys, rules snapshot, journal retention", migration_retention},
};
const gsize store__n_migrations = G_N_ELEMENTS(store__migrations);
