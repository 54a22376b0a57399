/* mqtt-subscriber.h: the engine's MQTT input. Subscribes (QoS 1) to every input topic under the
 * topic root and journals each message on a store connection of its own, on Paho's thread.
 *
 * The guarantee: a message is acknowledged to the broker only after the ingest function has
 * returned TRUE for it and its transaction has committed, i.e. after it is journaled (or
 * dead-lettered). Paho calls messageArrived on its receive thread and, with its message queue
 * empty, sends the PUBACK only when that callback returns 1 (checked against Paho 1.3.12 with a
 * broker log). The callback therefore commits before it returns, and never returns 0 (Paho
 * would queue the message and acknowledge it at once). Stopping while the store cannot take
 * the message in hand (a full or read-only disk), it cannot return either: the process then
 * exits at once with MQTT_SUBSCRIBER_EXIT_UNJOURNALED, unacknowledged, as in a crash.
 * Kill the engine at any point: what the broker considers delivered is in the journal, and the
 * rest is redelivered by the broker on reconnect (persistent session, clean_session = false),
 * where the journal's (source, id) key drops what was already there. Paho's own file
 * persistence (@persist_dir) is a second line for messages Paho queued.
 *
 * Effects come after: the subscriber only journals. Whoever decides (the rules) reads the
 * journal behind it, woken on the main loop after each commit (mqtt_subscriber_set_committed),
 * and records how far it got in its own transactions; so rules are off the acknowledgement
 * path, and what was acknowledged but not yet evaluated when the engine stopped is evaluated
 * at the next start.
 *
 * Paho C runs the messageArrived callbacks of all its clients in the process on one receive
 * thread, one message at a time, holding a process-wide lock: so each message costs one commit
 * (with [store] sync = full, one fsync) on the acknowledgement path, and several connections
 * (lanes) do not run in parallel. options->lanes > 1 still opens that many connections
 * ("CLIENT_ID-L0"..) sharing the input topics through "$share/CLIENT_ID/..." (see the README
 * for what that costs after a broker restart). */
#pragma once

#include <glib.h>

#include "mqtt-options.h"
#include "store.h"

G_BEGIN_DECLS

typedef struct PsMqttSubscriber PsMqttSubscriber;

/* The exit code of a stop that found the store unable to journal a message in hand (EX_TEMPFAIL):
 * nothing unjournaled was acknowledged; the broker delivers it again at the next start. */
#define MQTT_SUBSCRIBER_EXIT_UNJOURNALED 75

/* Journals one message with @store (the subscriber's own connection), in transactions of its
 * own (store_transaction: they queue on the write lock shared with the main connection), and
 * returns once they are committed. Runs on Paho's receive thread: it must not touch anything of
 * the main loop's. Returns FALSE only on a store error: the message is then not acknowledged
 * and is offered again after a pause. @payload is not NUL-terminated. */
typedef gboolean (*PsMqttIngestFunc)(PsStore *store, const char *topic, const char *payload,
                                     gsize len, gpointer user_data, GError **error);

/* The oldest Paho C whose QoS 1 acknowledgement follows the messageArrived callback. */
#define MQTT_SUBSCRIBER_PAHO_MIN "1.3.10"

/* Whether Paho version string @version ("1.3.12") is MQTT_SUBSCRIBER_PAHO_MIN or later; FALSE
 * with @error naming it otherwise (also for a string that is no version). @version NULL: the
 * library this process runs with (MQTTAsync_getVersionInfo()). mqtt_subscriber_new() refuses
 * to start with an older one. */
gboolean mqtt_subscriber_check_paho(const char *version, GError **error);

/* The subscriptions under @root ("port"): everything under it (topics_subscriptions), so that
 * the ingest function sees unknown topics too. NULL-terminated, free with g_strfreev. */
char **mqtt_subscriber_topics(const char *root);

/* Connects (in the background: a broker that is down is retried, not an error) and subscribes.
 * Opens its own connection to @store's file (store_open_shared) for @func; @persist_dir (may
 * be NULL) holds Paho's persistence. Fails on bad options and on a store that cannot be opened
 * twice (in memory). Must be called on the thread that runs the default main context. */
PsMqttSubscriber *mqtt_subscriber_new(const PsMqttOptions *options, const char *persist_dir,
                                      PsStore *store, PsMqttIngestFunc func, gpointer user_data,
                                      GError **error);

/* @func(NULL, @user_data) is called on the main loop soon after messages were committed (once
 * for several when they come quickly). */
void mqtt_subscriber_set_committed(PsMqttSubscriber *sub, GFunc func, gpointer user_data);

/* Disconnects (a message being journaled is finished first) and closes its connection.
 * Accepts NULL. */
void mqtt_subscriber_free(PsMqttSubscriber *sub);

/* Messages journaled so far, and whether a connection is up (for tests and status). */
guint64 mqtt_subscriber_received(PsMqttSubscriber *sub);
gboolean mqtt_subscriber_connected(PsMqttSubscriber *sub);

G_END_DECLS
