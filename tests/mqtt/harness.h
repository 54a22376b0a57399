/* harness.h: a real Mosquitto on a free loopback port, Paho test clients, and the portsight
 * daemon as a child process, for the broker tests. Every start has a stop that also works from
 * a test's teardown after a failed assertion. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "testutil.h"

/* ---- broker ---- */

typedef struct Broker Broker;

/* Starts mosquitto on 127.0.0.1 at a free port, with persistence in @dir and @extra appended to
 * the generated configuration (listener lines are written by the harness unless @extra starts
 * with "listener": then @extra is the whole listener setup, with @PORT@ and @PORT2@ standing for
 * two free ports). Waits until it accepts connections (fails the test after 10 s). */
Broker *broker_start(const char *dir, const char *extra);
/* Starts mosquitto with @conf_text as the whole configuration, nothing added: @PORT@ and
 * @PORT2@ stand for two free ports, @DIR@ for @dir, @USER@ for the user running the test. */
Broker *broker_start_config(const char *dir, const char *conf_text);
/* SIGKILL (no save on the way out), and starting it again on the same port(s). */
void broker_kill(Broker *b);
void broker_start_again(Broker *b);
int broker_port(Broker *b);
/* Two free ports are taken; the second is for configurations with a second listener. */
int broker_port2(Broker *b);
const char *broker_url(Broker *b); /* tcp://127.0.0.1:PORT */
/* Stops it (SIGTERM, then SIGKILL after 5 s) and starts it again on the same port(s). */
void broker_stop(Broker *b);
void broker_restart(Broker *b);
/* Stops it if running and frees. Accepts NULL. */
void broker_free(Broker *b);

/* ---- Paho test client ---- */

typedef struct TestClient TestClient;

typedef struct {
    char *topic;
    char *payload;
    gboolean retained;
    gint64 received_us; /* g_get_real_time() when it arrived */
} TestMessage;

/* Connects (waiting up to 10 s; NULL when it cannot) with a persistent session when @persistent.
 * TLS when @url is ssl://: @cafile, @certfile and @keyfile may be NULL. */
TestClient *test_client_new(const char *url, const char *client_id, gboolean persistent,
                            const char *cafile, const char *certfile, const char *keyfile);
/* The same with a username and password (TLS when @url is ssl://, with @cafile). */
TestClient *test_client_new_login(const char *url, const char *client_id, gboolean persistent,
                                  const char *cafile, const char *username, const char *password);
/* Subscribes with QoS 1 and waits for the SUBACK. */
void test_client_subscribe(TestClient *c, const char *filter);
/* Publishes with QoS 1 and waits for the PUBACK, retrying through reconnects for up to 60 s. */
void test_client_publish(TestClient *c, const char *topic, const char *payload);
/* Publishes with QoS 1 without waiting; test_client_flush() waits for all of them. */
void test_client_publish_async(TestClient *c, const char *topic, const char *payload);
void test_client_flush(TestClient *c);
/* The messages received so far (TestMessage*, owned by the client): lock while reading. */
GPtrArray *test_client_lock(TestClient *c);
void test_client_unlock(TestClient *c);
guint test_client_count(TestClient *c, const char *topic_prefix);
/* Waits until at least @n messages whose topic starts with @prefix have arrived. */
gboolean test_client_wait(TestClient *c, const char *prefix, guint n, double timeout_s);
gboolean test_client_connected(TestClient *c);
void test_client_free(TestClient *c); /* accepts NULL */

/* ---- the portsight daemon ---- */

typedef struct Engine Engine;

/* Writes @config_text to DIR/engine.conf and runs `portsight --log-level info run -c` it, stderr
 * to DIR/engine.log. */
Engine *engine_start(const char *dir, const char *config_text);
/* SIGTERM and wait for the exit code (fails the test after 20 s). */
int engine_stop(Engine *e);
/* SIGKILL and reap. */
void engine_kill(Engine *e);
gboolean engine_alive(Engine *e);
void engine_free(Engine *e); /* kills it if it still runs; accepts NULL */
/* Its process id while it runs, else 0. */
GPid engine_pid(Engine *e);

/* A free TCP port on 127.0.0.1, and whether something accepts connections on one. */
int harness_free_port(void);
gboolean harness_port_accepts(int port);

/* ---- the store, read from outside ---- */

/* One integer from @sql on the database at @path (a second connection; WAL lets it read
 * while the engine writes). -1 when the database cannot be read yet. */
gint64 db_scalar(const char *path, const char *sql);
/* Waits until db_scalar(@path, @sql) >= @want; returns the last value. */
gint64 db_wait(const char *path, const char *sql, gint64 want, double timeout_s);

/* Prints the tail (@max_bytes) of the log at @path to stderr, for a failing test's log; when
 * the log is longer, first its last 40 lines above info (warnings, notes, errors; NATS's [WRN]
 * and [ERR]) from before the tail. */
void harness_dump_file(const char *path, gsize max_bytes);
/* The same with the lines that contain @skip (may be NULL) left out (a server's retries of a
 * killed peer, which would fill the tail). */
void harness_dump_file_skipping(const char *path, gsize max_bytes, const char *skip);
/* harness_dump_file() on engine.log and mosquitto.log in @dir. */
void harness_dump_logs(const char *dir, gsize max_bytes);

/* Waits up to @timeout_s (at least one look) for a line of @dir/engine.log that contains @a
 * and @b (@b may be NULL). */
gboolean harness_wait_log(const char *dir, const char *a, const char *b, double timeout_s);

/* Publishes a probe (port/cmd/select) through @c until the engine has journaled it in
 * @db_path: then the engine is connected and subscribed. Aborts the test after 30 s, with the
 * logs in @log_dir. */
void harness_wait_engine_ready(TestClient *c, const char *db_path, const char *log_dir);
/* The same for an engine whose topic root is @root (its probe goes to @root/cmd/select). */
void harness_wait_engine_ready_on(TestClient *c, const char *root, const char *db_path,
                                  const char *log_dir);

/* ---- the daemon tests' set-up ---- */

/* What a broker test of the daemon starts, in one place, so that the checked fixture's teardown
 * stops all of it, also after a failed assertion. */
typedef struct {
    char *tmp;           /* the test's temporary folder (kept when PS_KEEP_TMP is set) */
    char *db_path;       /* TMP/engine.db, the engine's store */
    const char *client_id;
    const char *conf_tail; /* appended to every engine configuration */
    Broker *broker;
    Engine *engine;
    TestClient *obs, *pub; /* an observer of decisions and a publisher, when started */
} EngineRig;

/* A fresh temporary folder; the engine will connect as @client_id, with @conf_tail (NULL for
 * none) at the end of its configuration (both static strings). */
void rig_setup(EngineRig *r, const char *client_id, const char *conf_tail);
/* Stops and frees whatever was started and removes the folder (accepts a half-set-up rig). */
void rig_teardown(EngineRig *r);
/* The engine's configuration: its store, the broker at @url, keepalive 5 s, reconnects at most
 * 1 s apart, then @extra (NULL for none) and the rig's tail. */
char *rig_engine_config(EngineRig *r, const char *url, const char *extra);
/* A broker, the engine on it, an observer subscribed to every release and hold, and a
 * publisher (both with persistent sessions when @persistent), once the engine is subscribed. */
void rig_start_engine_and_clients(EngineRig *r, gboolean persistent);
/* harness_wait_engine_ready() and harness_dump_logs() for the rig's store and folder. */
void rig_wait_engine_ready(EngineRig *r, TestClient *c);
void rig_dump_logs(EngineRig *r, gsize max_bytes);

/* ---- events ---- */

/* The ISO 6346 container number number @i (a fixed owner code, valid check digit). */
char *ev_container(guint i);
/* An e-seal event (port/seal/{seal}) with id @id from seal @seal_id on container number @i, in
 * @state ("sealed", "tampered", ...). */
char *ev_seal(const char *id, const char *seal_id, guint i, const char *state);
/* The three events that release a rail-sea container (customs released, train arrival, OCR
 * sighting), topics and payloads. @tag makes the ids unique per test run. Free with g_strfreev. */
void ev_release_set(const char *tag, guint i, char ***topics, char ***payloads);
