/* mqtt-subscriber.h: the engine's MQTT input. Subscribes (QoS 1) to every input topic under the
 * topic root and hands each message to an ingest function on the GLib main loop.
 *
 * The guarantee: a message is acknowledged to the broker only after the ingest function has
 * returned TRUE for it, i.e. after it is journaled (or dead-lettered) and committed. Paho calls
 * messageArrived on its receive thread and, with its message queue empty, sends the PUBACK only
 * when that callback returns 1 (checked against Paho 1.3.12 with a broker log). The callback
 * therefore waits until the main loop has committed the message, and never returns 0 (Paho
 * would queue the message and acknowledge it at once). Kill the engine at any point: what the
 * broker considers delivered is in the journal, and the rest is redelivered by the broker on
 * reconnect (persistent session, clean_session = false), where the journal's (source, id) key
 * drops what was already there. Paho's own file persistence (@persist_dir) is a second line for
 * messages Paho queued while the callback could not take them.
 *
 * The price: one message in flight per connection, so each event is one round trip to the main
 * loop. Hence lanes: options->lanes connections ("CLIENT_ID-L0".."-Ln") share the input topics
 * through the shared subscription "$share/CLIENT_ID/...", so the broker hands each lane its own
 * messages, and the main loop commits the messages of all waiting lanes in one transaction
 * (group commit). Events of one container may then be ingested in another order than they
 * were published, which the rules do not depend on.
 *
 * Paho holds a process-wide lock while messageArrived runs, and that callback here waits for the
 * main loop: so no Paho function may be called from the main loop while a subscriber runs (the
 * relay has its own thread for that; mqtt_subscriber_free disconnects from a helper thread). */
#pragma once

#include <glib.h>

#include "mqtt-options.h"
#include "store.h"

G_BEGIN_DECLS

typedef struct PsMqttSubscriber PsMqttSubscriber;

/* Ingests one message inside the subscriber's transaction (store_transaction joins it).
 * Returns FALSE only on a store error: the message is then not acknowledged and is offered
 * again after a pause. @payload is not NUL-terminated. */
typedef gboolean (*PsMqttIngestFunc)(const char *topic, const char *payload, gsize len,
                                     gpointer user_data, GError **error);

/* The input topics under @root ("port"): NULL-terminated, free with g_strfreev. */
char **mqtt_subscriber_topics(const char *root);

/* Connects (in the background: a broker that is down is retried, not an error) and subscribes.
 * @store is used for transactions around @func; @persist_dir (may be NULL) holds Paho's
 * persistence. Fails only on bad options. Must be called on the thread that runs the default
 * main context. */
PsMqttSubscriber *mqtt_subscriber_new(const PsMqttOptions *options, const char *persist_dir,
                                      PsStore *store, PsMqttIngestFunc func, gpointer user_data,
                                      GError **error);

/* Called on the main loop after a batch transaction failed and was rolled back (its messages
 * stay unacknowledged and come again), so that whoever keeps state in memory beside the store
 * (the rules) can reload it from the store. */
void mqtt_subscriber_set_rollback(PsMqttSubscriber *sub, GFunc func, gpointer user_data);

/* Disconnects after ingesting what was already handed over. Accepts NULL. */
void mqtt_subscriber_free(PsMqttSubscriber *sub);

/* Messages ingested and connections made so far (for tests and status). */
guint64 mqtt_subscriber_received(PsMqttSubscriber *sub);
gboolean mqtt_subscriber_connected(PsMqttSubscriber *sub);

G_END_DECLS
