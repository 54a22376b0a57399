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
 * one request at a time per endpoint on a worker thread. 2xx is delivered; 410 disables the
 * endpoint persistently (until its URL changes); anything else (other status, timeout,
 * connection error) is retried with exponential backoff and jitter, from the outbox, so also
 * across restarts.
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
} PsWebhookOptions;

typedef struct {
    const PsMqttOptions *mqtt; /* NULL: no MQTT delivery and no status */
    const PsWebhookOptions *webhooks;
    guint n_webhooks;
    double retry_base; /* first pause after a failed webhook attempt, seconds; 0: 1 */
} PsRelayOptions;

typedef struct PsRelay PsRelay;

/* Registers the destinations in the store and starts delivering what is pending. Returns NULL
 * with @error on a bad option (a secret that is not base64, for example). */
PsRelay *relay_new(PsStore *store, const PsRelayOptions *options, GError **error);

/* The outbox has new rows: deliver them soon. Main thread; cheap to call often. */
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

G_END_DECLS
