/* relay.h: delivers the outbox (store-outbox.h) to MQTT and to webhooks, at least once.
 *
 * MQTT: each message is published with QoS 1 on its own topic and marked delivered only when
 * the broker's PUBACK completes its delivery token. While the broker is away nothing is marked;
 * after a reconnect the relay starts again from the oldest undelivered row. The relay's
 * connection also carries the engine status: `{root}/status/engine` is `online` (retained)
 * while it is connected, and its will sets `offline` (retained) when it is not.
 *
 * Webhooks: POST of the message body with the Standard Webhooks headers (webhook-id = the
 * message id, webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256 of id.ts.body>"),
 * one request at a time per endpoint on a worker thread, strictly in outbox order, only the
 * topics it takes (`topics`, default release and hold). 2xx is delivered; 410 disables the
 * endpoint persistently (until its URL changes or `portsight webhook enable NAME`), and what is
 * decided meanwhile stays queued for it; anything else (other status, timeout, connection
 * error) pauses the whole endpoint with exponential backoff and jitter (an endpoint that is
 * down sees one attempt per pause, not one per message), from the outbox, so also across
 * restarts. Failures are logged at warning when an endpoint starts failing, at most once a
 * minute while it keeps failing, and when it delivers again.
 *
 * All store access happens on the main loop thread. */
#pragma once

#include <glib.h>

#include "mqtt-options.h"
#include "store.h"

G_BEGIN_DECLS

#define RELAY_ERROR (relay_error_quark())
GQuark relay_error_quark(void);

typedef enum {
    RELAY_ERROR_CONFIG, /* a bad secret, URL or option */
    RELAY_ERROR_MQTT,   /* Paho refused the client */
} RelayError;

typedef struct {
    const char *name;   /* the NAME of [webhook NAME] */
    const char *url;    /* http:// or https:// */
    const char *secret; /* base64, optionally prefixed "whsec_" */
    double timeout;     /* seconds per request; 0: 10 */
    double retry_max;   /* longest pause between attempts, seconds; 0: 3600 */
    const char *topics; /* the outputs it takes, comma-separated first levels under the topic
                         * root ("release,hold", "ocr", "status", "alert"); "all": every one;
                         * NULL: "release,hold" */
} PsWebhookOptions;

typedef struct {
    const PsMqttOptions *mqtt; /* NULL: no MQTT delivery and no status */
    const PsWebhookOptions *webhooks;
    guint n_webhooks;
    double retry_base; /* first pause after a failed webhook attempt, seconds; 0: 1 */
    const char *topic_root; /* NULL: the MQTT options' topic root, else "port" */
    /* The status the connection carries: {root}/status/COMPONENT is @status_online (retained)
     * while connected, and the will (and a clean stop) sets @status_offline. NULL: "engine",
     * "online", "offline". A node of several announces itself there (node-NAME, JSON). */
    const char *status_component;
    const char *status_online;
    const char *status_offline;
    double status_every; /* seconds: @status_online is said again this often; 0: on connect only */
} PsRelayOptions;

typedef struct PsRelay PsRelay;

/* Registers the destinations in the store and starts delivering what is pending. Returns NULL
 * with @error on a bad option (a secret that is not base64, for example). */
PsRelay *relay_new(PsStore *store, const PsRelayOptions *options, GError **error);

/* The outbox has new rows, or a destination was enabled: deliver them soon. Main thread; cheap
 * to call often. Every commit of @store that adds outbox rows calls it (store_set_outbox_notify),
 * and commits of other connections and processes are noticed within 200 ms. Accepts NULL. */
void relay_kick(PsRelay *relay);

/* Publishes `offline`, disconnects and stops the workers (undelivered rows stay in the
 * outbox). Accepts NULL. */
void relay_free(PsRelay *relay);

/* ---- Standard Webhooks signing, exposed for tests ---- */

/* The HMAC key of a secret: base64 with an optional "whsec_" prefix. NULL with @error when it
 * is not valid base64 or is empty. */
GBytes *relay_webhook_key(const char *secret, GError **error);

/* "v1,<base64 HMAC-SHA256 of @id.@timestamp.@body>". Free with g_free. */
char *relay_webhook_signature(GBytes *key, const char *id, const char *timestamp,
                              const char *body, gsize body_len);

/* The topic filters (store_outbox_set_topics) of a webhook taking @topics (as
 * PsWebhookOptions) under @root; NULL for every topic. Newly allocated. */
char *relay_webhook_filters(const char *root, const char *topics);

G_END_DECLS
