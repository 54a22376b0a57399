/* relay.c: outbox -> MQTT (Paho async, QoS 1, delivery tokens) and webhooks (libcurl on one
 * worker thread per endpoint). Paho and the workers report back through one queue that wakes
 * the main loop, where every store update happens. */
#define G_LOG_DOMAIN "publish"

#include "relay.h"

#include <curl/curl.h>
#include <string.h>

#include "store-outbox.h"
#include "topics.h"

G_DEFINE_QUARK(relay-error-quark, relay_error)

#define MQTT_MAX_INFLIGHT 512 /* messages published and not yet acknowledged */
#define FETCH_BATCH 256
#define MARK_BATCH 512   /* acknowledged messages marked delivered in one transaction */
#define MARK_DELAY_MS 5  /* ... or this long after the first of them */
/* How often the relay looks for commits of other connections and processes while idle. */
#define RELAY_WATCH_MS 200
#define MAX_RESPONSE_KEPT 256 /* bytes of a webhook's response body kept for last_error */

typedef enum { RESULT_MQTT_OK, RESULT_MQTT_FAILED, RESULT_MQTT_UP, RESULT_MQTT_DOWN,
               RESULT_MQTT_GONE, RESULT_HTTP } ResultKind;

/* A report from Paho's or a worker's thread to the main loop. */
typedef struct {
    ResultKind kind;
    gint64 seq;      /* RESULT_MQTT_GONE: the generation that asked for the new client */
    guint webhook;   /* RESULT_HTTP: index into relay->webhooks */
    long status;     /* RESULT_HTTP: HTTP status, 0 when there was none */
    char *detail;    /* error text */
    gpointer token;  /* RESULT_MQTT_OK / _FAILED: the Token of the publish */
} Result;

typedef struct Webhook Webhook;

struct PsRelay {
    PsStore *store;
    GAsyncQueue *results; /* Result*, from any thread */
    GSource *source;      /* made ready when results arrive */
    guint kick_id;
    guint watch_id;       /* the timer that notices other connections' commits */
    guint announce_id;    /* the timer that says the status again (status_every) */
    gint64 data_version;  /* the store's PRAGMA data_version at the last look */
    double retry_base;

    /* MQTT. Paho holds a lock of its own, shared by every client in the process, while it runs
     * a messageArrived callback; the subscriber's callback waits for the main loop. So the
     * main loop never calls Paho once the clients run: the relay's publishes, its status and
     * its disconnect are made by its own thread (mqtt_thread), fed by mqtt_cmds. */
    MQTTAsync client;
    GThread *mqtt_thread;
    GAsyncQueue *mqtt_cmds; /* MqttCmd* */
    char *uri;
    char *status_topic;
    char *status_online, *status_offline; /* what it says there, and its will */
    char *root; /* the topic root */
    gboolean mqtt_up;     /* main thread's view */
    gint64 down_since;    /* monotonic time the connection was last seen down (0: up) */
    gint64 nudge_us;      /* after this long down, a new Paho client connects */
    gint64 ack_wait_since; /* monotonic time of the last acknowledgement or, when none came
                              since, of the first publish still waiting (0: none waits) */
    gint64 ack_timeout_us; /* connected, but nothing acknowledged for this long: connect anew */
    PsMqttOptions mq;     /* the MQTT options, strings owned by mq_strings */
    GPtrArray *mq_strings;
    gint64 cursor;        /* highest seq handed to Paho since the last (re)connect */
    GHashTable *tokens;   /* Token* handed to Paho and not yet reported back (owned) */
    guint generation;     /* goes up when the relay starts again from the oldest row */
    guint inflight;       /* tokens of the current generation */
    gint stop_acked;      /* atomic: the final "offline" was acknowledged */
    gboolean stopping;
    GArray *acked;  /* gint64 seqs acknowledged by the broker, not yet marked in the store */
    guint mark_id;  /* the timer that marks them */

    Webhook **webhooks;
    guint n_webhooks;
};

struct Webhook {
    PsRelay *relay;
    guint index;
    char *dest; /* "webhook NAME" */
    char *url;
    GBytes *key;
    long timeout_ms;
    double retry_max;
    gboolean disabled;
    gboolean busy; /* a request is with the worker */
    gboolean failing;      /* the last attempt failed */
    gint64 last_warning;   /* monotonic µs of the last failure warning */
    guint quiet_failures;  /* failures not warned about since */
    guint timer_id;
    GThread *thread;
    GAsyncQueue *jobs; /* PsOutboxItem*, or the stop marker */
    gint stopping;     /* atomic: abort the transfer in progress */
};

static PsOutboxItem stop_marker;

static void result_free(Result *r)
{
    g_free(r->detail);
    g_free(r);
}

static void post_result(PsRelay *relay, ResultKind kind, gint64 seq, guint webhook, long status,
                        char *detail, gpointer token)
{
    Result *r = g_new0(Result, 1);
    *r = (Result){kind, seq, webhook, status, detail, token};
    g_async_queue_push(relay->results, r);
    g_source_set_ready_time(relay->source, 0);
}

/* ---- Standard Webhooks ---- */

GBytes *relay_webhook_key(const char *secret, GError **error)
{
    const char *b64 = g_str_has_prefix(secret, "whsec_") ? secret + 6 : secret;
    gsize n = strlen(b64);
    gboolean ok = n > 0 && n % 4 == 0;
    for (gsize i = 0; ok && i < n; i++) {
        char c = b64[i];
        gboolean pad = c == '=' && i >= n - 2 && (i == n - 1 || b64[n - 1] == '=');
        ok = g_ascii_isalnum(c) || c == '+' || c == '/' || pad;
    }
    if (!ok) {
        g_set_error(error, RELAY_ERROR, RELAY_ERROR_CONFIG,
                    "secret is not base64 (optionally prefixed whsec_)");
        return NULL;
    }
    gsize len = 0;
    guchar *key = g_base64_decode(b64, &len);
    if (len == 0) {
        g_free(key);
        g_set_error(error, RELAY_ERROR, RELAY_ERROR_CONFIG, "secret is empty");
        return NULL;
    }
    return g_bytes_new_take(key, len);
}

char *relay_webhook_signature(GBytes *key, const char *id, const char *timestamp,
                              const char *body, gsize body_len)
{
    gsize klen = 0;
    const guchar *k = g_bytes_get_data(key, &klen);
    GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA256, k, klen);
    g_hmac_update(hmac, (const guchar *)id, -1);
    g_hmac_update(hmac, (const guchar *)".", 1);
    g_hmac_update(hmac, (const guchar *)timestamp, -1);
    g_hmac_update(hmac, (const guchar *)".", 1);
    g_hmac_update(hmac, (const guchar *)body, body_len);
    guint8 digest[32];
    gsize dlen = sizeof digest;
    g_hmac_get_digest(hmac, digest, &dlen);
    g_hmac_unref(hmac);
    g_autofree char *b64 = g_base64_encode(digest, dlen);
    return g_strconcat("v1,", b64, NULL);
}

/* ---- webhook worker thread ---- */

typedef struct {
    GString *body;
} Response;

static size_t on_body(char *data, size_t size, size_t n, void *user_data)
{
    Response *r = user_data;
    gsize len = size * n;
    if (r->body->len < MAX_RESPONSE_KEPT)
        g_string_append_len(r->body, data, MIN(len, MAX_RESPONSE_KEPT - r->body->len));
    return len;
}

static int on_progress(void *user_data, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    Webhook *w = user_data;
    return g_atomic_int_get(&w->stopping) ? 1 : 0; /* non-zero aborts the transfer */
}

static void post_one(Webhook *w, CURL *curl, PsOutboxItem *item)
{
    g_autofree char *ts = g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
    gsize len = strlen(item->payload);
    g_autofree char *sig = relay_webhook_signature(w->key, item->msg_id, ts, item->payload, len);
    g_autofree char *h_id = g_strdup_printf("webhook-id: %s", item->msg_id);
    g_autofree char *h_ts = g_strdup_printf("webhook-timestamp: %s", ts);
    g_autofree char *h_sig = g_strdup_printf("webhook-signature: %s", sig);
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, h_id);
    headers = curl_slist_append(headers, h_ts);
    headers = curl_slist_append(headers, h_sig);
    headers = curl_slist_append(headers, "Expect:");

    Response resp = {g_string_new(NULL)};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, w->url);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, item->payload);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, w->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, w->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, w);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "portsight/" "webhook");
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    char *detail = NULL;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299)
            detail = g_strdup_printf("HTTP %ld: %s", status, resp.body->str);
    } else {
        detail = g_strdup_printf("%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    curl_slist_free_all(headers);
    g_string_free(resp.body, TRUE);
    post_result(w->relay, RESULT_HTTP, item->seq, w->index, status, detail, NULL);
}

static gpointer webhook_thread(gpointer data)
{
    Webhook *w = data;
    CURL *curl = curl_easy_init();
    for (;;) {
        PsOutboxItem *item = g_async_queue_pop(w->jobs);
        if (item == &stop_marker)
            break;
        if (curl)
            post_one(w, curl, item);
        else
            post_result(w->relay, RESULT_HTTP, item->seq, w->index, 0,
                        g_strdup("curl_easy_init failed"), NULL);
        store_outbox_item_free(item);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

/* ---- webhook scheduling (main thread) ---- */

static void webhook_pump(Webhook *w);

static gboolean on_webhook_timer(gpointer data)
{
    Webhook *w = data;
    w->timer_id = 0;
    webhook_pump(w);
    return G_SOURCE_REMOVE;
}

/* Hands the oldest undelivered message to the worker when the endpoint is not paused, or
 * sets a timer for the end of the pause: one message at a time, in outbox order. */
static void webhook_pump(Webhook *w)
{
    if (w->disabled || w->busy || w->relay->stopping)
        return;
    PsStore *store = w->relay->store;
    GError *error = NULL;
    PsOutboxItem *item = NULL;
    if (!store_outbox_oldest(store, w->dest, &item, &error)) {
        g_warning("%s: %s", w->dest, error->message);
        g_error_free(error);
        return;
    }
    if (!item)
        return;
    gint64 now = g_get_real_time();
    if (item->next_attempt_at > now) {
        if (w->timer_id)
            g_source_remove(w->timer_id);
        gint64 wait_ms = (item->next_attempt_at - now + 999) / 1000;
        w->timer_id = g_timeout_add((guint)MIN(wait_ms, G_MAXUINT), on_webhook_timer, w);
        store_outbox_item_free(item);
        return;
    }
    w->busy = TRUE;
    g_async_queue_push(w->jobs, item);
}

static double backoff_seconds(PsRelay *relay, Webhook *w, int attempts)
{
    /* Exponential from retry_base, capped, with "equal jitter": half fixed, half random, so
     * that many engines do not retry in step. */
    double d = relay->retry_base * (double)(1u << MIN(attempts, 30));
    d = MIN(d, w->retry_max);
    return d / 2 + g_random_double() * d / 2;
}

#define WARN_EVERY_US (60 * G_USEC_PER_SEC)

/* A failure is a warning when the endpoint starts failing, then at most once a minute. */
static void warn_failure(Webhook *w, const char *detail, int attempts, double pause)
{
    gint64 now = g_get_monotonic_time();
    if (!w->failing || now - w->last_warning >= WARN_EVERY_US) {
        g_warning("%s (%s): delivery failed: %s (attempt %d; %u more failures since the last "
                  "warning); next attempt in %.1f s",
                  w->dest, w->url, detail, attempts, w->quiet_failures, pause);
        w->last_warning = now;
        w->quiet_failures = 0;
    } else {
        w->quiet_failures++;
        g_debug("%s: failed (%s), attempt %d, next in %.1f s", w->dest, detail, attempts, pause);
    }
    w->failing = TRUE;
}

static void webhook_result(PsRelay *relay, Result *r)
{
    Webhook *w = relay->webhooks[r->webhook];
    w->busy = FALSE;
    if (relay->stopping && r->status == 0)
        return; /* aborted by the shutdown: not an attempt */
    GError *error = NULL;
    gint64 now = g_get_real_time();
    if (r->status >= 200 && r->status <= 299) {
        if (!store_outbox_mark_delivered(relay->store, w->dest, r->seq, now, &error))
            goto store_error;
        if (w->failing)
            g_warning("%s (%s): delivering again", w->dest, w->url);
        w->failing = FALSE;
    } else if (r->status == 410) {
        g_warning("%s (%s) answered 410 Gone: endpoint disabled, its messages are kept; "
                  "`portsight webhook enable %s` (or a new url) resumes it",
                  w->dest, w->url, w->dest + strlen("webhook "));
        if (!store_outbox_disable(relay->store, w->dest, r->detail, &error))
            goto store_error;
        w->disabled = TRUE;
        w->failing = FALSE;
    } else {
        /* How many attempts so far decides the pause of the whole endpoint: the message stays
         * first in line, so nothing else is tried before it. */
        int attempts = 0;
        if (!store_outbox_attempts(relay->store, w->dest, r->seq, &attempts, &error))
            goto store_error;
        double pause = backoff_seconds(relay, w, attempts);
        warn_failure(w, r->detail, attempts + 1, pause);
        if (!store_outbox_mark_failed(relay->store, w->dest, r->seq,
                                      now + (gint64)(pause * G_USEC_PER_SEC), r->detail, &error))
            goto store_error;
    }
    webhook_pump(w);
    return;

store_error:
    g_warning("%s: %s", w->dest, error->message);
    g_error_free(error);
}

/* A disabled endpoint enabled by another process (`portsight webhook enable NAME`). */
static void webhook_recheck(Webhook *w)
{
    if (!w->disabled)
        return;
    gboolean disabled = TRUE;
    GError *error = NULL;
    if (!store_outbox_disabled(w->relay->store, w->dest, &disabled, &error)) {
        g_warning("%s: %s", w->dest, error->message);
        g_error_free(error);
        return;
    }
    if (!disabled) {
        g_warning("%s (%s) enabled again: delivering what was queued", w->dest, w->url);
        w->disabled = FALSE;
    }
}

static gboolean topics_valid(const char *name, const char *topics, GError **error)
{
    static const char *const known[] = {"release", "hold", "ocr", "status", "alert", "all"};
    g_auto(GStrv) kinds = g_strsplit(topics ? topics : "", ",", -1);
    for (guint i = 0; kinds[i]; i++) {
        const char *k = g_strstrip(kinds[i]);
        if (*k && !g_strv_contains(known, k)) {
            g_set_error(error, RELAY_ERROR, RELAY_ERROR_CONFIG,
                        "[webhook %s] topics: unknown '%s' (release, hold, ocr, status, alert "
                        "or all, comma-separated)",
                        name, k);
            return FALSE;
        }
    }
    return TRUE;
}

char *relay_webhook_filters(const char *root, const char *topics)
{
    if (!topics)
        topics = "release,hold";
    g_auto(GStrv) kinds = g_strsplit(topics, ",", -1);
    GString *f = g_string_new(NULL);
    for (guint i = 0; kinds[i]; i++) {
        const char *k = g_strstrip(kinds[i]);
        if (!*k)
            continue;
        if (strcmp(k, "all") == 0) {
            g_string_free(f, TRUE);
            return NULL;
        }
        g_string_append_printf(f, "%s%s/%s/#", f->len ? "," : "", topics_root(root), k);
    }
    return g_string_free(f, FALSE);
}

/* ---- MQTT (Paho's threads) ---- */

/* The context of one publish. Owned by relay->tokens; the callbacks only read it, and the
 * main loop frees it when it handles their report. */
typedef struct {
    PsRelay *relay;
    gint64 seq;
    guint generation;
} Token;

static void on_delivered(void *context, MQTTAsync_successData *response)
{
    Token *t = context;
    post_result(t->relay, RESULT_MQTT_OK, t->seq, 0, 0, NULL, t);
}

static void on_delivery_failed(void *context, MQTTAsync_failureData *response)
{
    Token *t = context;
    post_result(t->relay, RESULT_MQTT_FAILED, t->seq, 0, 0,
                g_strdup(response && response->message ? response->message : "failed"), t);
}

static void on_connected(void *context, char *cause)
{
    PsRelay *relay = context;
    post_result(relay, RESULT_MQTT_UP, 0, 0, 0, NULL, NULL);
}

static void on_connection_lost(void *context, char *cause)
{
    PsRelay *relay = context;
    post_result(relay, RESULT_MQTT_DOWN, 0, 0, 0, g_strdup(cause ? cause : "connection lost"),
                NULL);
}

static int on_message(void *context, char *topic, int len, MQTTAsync_message *msg)
{
    /* The relay subscribes to nothing. */
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

static void on_connect_failed(void *context, MQTTAsync_failureData *response)
{
    PsRelay *relay = context;
    g_warning("relay cannot connect to %s: %s; retrying", relay->uri,
              response && response->message ? response->message
                                             : mqtt_options_strerror(response ? response->code : -1));
}

static void on_status_sent(void *context, MQTTAsync_successData *response)
{
    PsRelay *relay = context;
    g_atomic_int_set(&relay->stop_acked, 1);
}

static void on_status_failed(void *context, MQTTAsync_failureData *response)
{
    PsRelay *relay = context;
    g_atomic_int_set(&relay->stop_acked, 1);
}

/* ---- MQTT (the relay's own thread) ---- */

typedef enum { CMD_PUBLISH, CMD_ONLINE, CMD_RECONNECT, CMD_RENEW, CMD_STOP } MqttCmdKind;

static gboolean connect_client(PsRelay *relay, GError **error);

typedef struct {
    MqttCmdKind kind;
    Token *token; /* CMD_PUBLISH */
    char *topic;
    char *payload;
    guint generation; /* CMD_RECONNECT, CMD_RENEW: the relay's when it was asked */
} MqttCmd;

static void cmd_free(MqttCmd *c)
{
    g_free(c->topic);
    g_free(c->payload);
    g_free(c);
}

static gboolean publish_status(PsRelay *relay, const char *status, gboolean final)
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = (void *)status;
    msg.payloadlen = (int)strlen(status);
    msg.qos = 1;
    msg.retained = 1;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (final) {
        ro.onSuccess = on_status_sent;
        ro.onFailure = on_status_failed;
        ro.context = relay;
    }
    int rc = MQTTAsync_sendMessage(relay->client, relay->status_topic, &msg, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        g_warning("publishing %s = %s: %s", relay->status_topic, status, mqtt_options_strerror(rc));
    return rc == MQTTASYNC_SUCCESS;
}

static void stop_client(PsRelay *relay)
{
    if (!relay->client)
        return; /* a new client could not be made (CMD_RECONNECT) */
    if (MQTTAsync_isConnected(relay->client) &&
        publish_status(relay, relay->status_offline, TRUE)) {
        gint64 deadline = g_get_monotonic_time() + G_USEC_PER_SEC;
        while (!g_atomic_int_get(&relay->stop_acked) && g_get_monotonic_time() < deadline)
            g_usleep(1000);
    }
    MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer;
    dopts.timeout = 500;
    MQTTAsync_disconnect(relay->client, &dopts);
    g_usleep(50 * 1000); /* let the DISCONNECT leave before the threads stop */
    MQTTAsync_destroy(&relay->client); /* no callback runs after this */
}

static gpointer mqtt_thread(gpointer data)
{
    PsRelay *relay = data;
    for (;;) {
        MqttCmd *c = g_async_queue_pop(relay->mqtt_cmds);
        if (c->kind == CMD_STOP) {
            cmd_free(c);
            break;
        }
        if (c->kind == CMD_RECONNECT || c->kind == CMD_RENEW) {
            /* Paho 1.3.12 with several server URIs was seen to stop retrying for good after a
             * failed automatic reconnect (a NATS cluster re-electing its leaders after a node
             * died; MQTTAsync_reconnect() did not wake it): a new client starts again. So it
             * does when the broker keeps the connection but acknowledges nothing (CMD_RENEW).
             * Tokens in flight on the old one get no callback; the relay starts again from the
             * oldest undelivered row once connected, as after any reconnect. */
            if (c->kind == CMD_RENEW || !relay->client || !MQTTAsync_isConnected(relay->client)) {
                GError *error = NULL;
                if (relay->client) {
                    MQTTAsync_destroy(&relay->client);
                    /* Its tokens will get no callback: the main loop lets them go. */
                    post_result(relay, RESULT_MQTT_GONE, c->generation, 0, 0, NULL, NULL);
                }
                gboolean ok = connect_client(relay, &error);
                g_warning("relay: %s: connecting with a new client%s%s",
                          c->kind == CMD_RENEW ? "nothing acknowledged"
                                               : "still not connected to the broker",
                          ok ? "" : ": ", ok ? "" : error->message);
                g_clear_error(&error);
            }
        } else if (c->kind == CMD_ONLINE) {
            publish_status(relay, relay->status_online, FALSE);
        } else {
            MQTTAsync_message msg = MQTTAsync_message_initializer;
            msg.payload = c->payload;
            msg.payloadlen = strlen(c->payload);
            msg.qos = 1;
            /* Status (cameras' health, the selection) is retained: always the current one. */
            msg.retained = relay->root && topics_output_kind_is(relay->root, c->topic, "status");
            MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
            ro.onSuccess = on_delivered;
            ro.onFailure = on_delivery_failed;
            ro.context = c->token;
            int rc = MQTTAsync_sendMessage(relay->client, c->topic, &msg, &ro);
            if (rc != MQTTASYNC_SUCCESS) /* no callback will come: report it ourselves */
                post_result(relay, RESULT_MQTT_FAILED, c->token->seq, 0, 0,
                            g_strdup(mqtt_options_strerror(rc)), c->token);
        }
        cmd_free(c);
    }
    stop_client(relay);
    return NULL;
}

/* ---- MQTT (main thread) ---- */

static void mqtt_command(PsRelay *relay, MqttCmdKind kind, Token *token, const char *topic,
                         const char *payload)
{
    MqttCmd *c = g_new0(MqttCmd, 1);
    *c = (MqttCmd){kind, token, g_strdup(topic), g_strdup(payload), relay->generation};
    g_async_queue_push(relay->mqtt_cmds, c);
}

static void mqtt_pump(PsRelay *relay)
{
    if (!relay->mqtt_thread || !relay->mqtt_up || relay->stopping)
        return;
    GError *error = NULL;
    while (relay->inflight < MQTT_MAX_INFLIGHT) {
        g_autoptr(GPtrArray) due =
            g_ptr_array_new_with_free_func((GDestroyNotify)store_outbox_item_free);
        guint room = MQTT_MAX_INFLIGHT - relay->inflight;
        if (!store_outbox_due(relay->store, STORE_OUTBOX_MQTT, G_MAXINT64, relay->cursor,
                              MIN(room, FETCH_BATCH), due, &error)) {
            g_warning("mqtt relay: %s", error->message);
            g_error_free(error);
            return;
        }
        if (due->len == 0)
            return;
        for (guint i = 0; i < due->len; i++) {
            PsOutboxItem *item = due->pdata[i];
            Token *t = g_new(Token, 1);
            *t = (Token){relay, item->seq, relay->generation};
            g_hash_table_add(relay->tokens, t);
            relay->inflight++;
            relay->cursor = item->seq;
            if (!relay->ack_wait_since)
                relay->ack_wait_since = g_get_monotonic_time();
            mqtt_command(relay, CMD_PUBLISH, t, item->topic, item->payload);
        }
    }
}

static gboolean mark_txn(PsStore *store, gpointer user_data, GError **error)
{
    GArray *acked = user_data;
    gint64 now = g_get_real_time();
    for (guint i = 0; i < acked->len; i++)
        if (!store_outbox_mark_delivered(store, STORE_OUTBOX_MQTT, g_array_index(acked, gint64, i),
                                         now, error))
            return FALSE;
    return TRUE;
}

/* Marks what the broker acknowledged, in one transaction. */
static void mark_acked(PsRelay *relay)
{
    if (relay->mark_id) {
        g_source_remove(relay->mark_id);
        relay->mark_id = 0;
    }
    if (relay->acked->len == 0)
        return;
    GError *error = NULL;
    /* A mark lost to a power cut only means the message goes out again, with its id. */
    if (!store_transaction_derived(relay->store, mark_txn, relay->acked, &error)) {
        /* Not marked: they will be sent again (same id), which consumers tolerate. */
        g_warning("mqtt relay: marking %u delivered: %s", relay->acked->len, error->message);
        g_error_free(error);
    }
    g_array_set_size(relay->acked, 0);
}

static gboolean on_mark_timer(gpointer data)
{
    PsRelay *relay = data;
    relay->mark_id = 0;
    mark_acked(relay);
    return G_SOURCE_REMOVE;
}

/* Start again from the oldest undelivered row. What is still in flight may go out twice, with
 * the same id. */
static void start_over(PsRelay *relay)
{
    relay->generation++;
    relay->inflight = 0;
    relay->cursor = 0;
    relay->ack_wait_since = 0;
}

/* g_hash_table_foreach_remove(): whether token @key is of a generation before *@data. */
static gboolean token_older(gpointer key, gpointer value, gpointer data)
{
    const Token *t = key;
    return t->generation < *(const gint64 *)data;
}

static gboolean on_results(gpointer data)
{
    PsRelay *relay = data;
    Result *r;
    gboolean restart = FALSE;
    while ((r = g_async_queue_try_pop(relay->results))) {
        switch (r->kind) {
        case RESULT_MQTT_OK:
        case RESULT_MQTT_FAILED: {
            Token *t = r->token;
            gboolean current = t->generation == relay->generation;
            if (current) {
                relay->inflight--;
                relay->ack_wait_since = relay->inflight ? g_get_monotonic_time() : 0;
            }
            g_hash_table_remove(relay->tokens, t); /* frees it */
            if (r->kind == RESULT_MQTT_OK)
                g_array_append_val(relay->acked, r->seq);
            else if (current)
                restart = TRUE; /* older failures were already followed by a restart */
            break;
        }
        case RESULT_MQTT_UP:
            g_info("relay connected to %s", relay->uri);
            relay->mqtt_up = TRUE;
            relay->down_since = 0;
            mqtt_command(relay, CMD_ONLINE, NULL, NULL, NULL);
            restart = TRUE;
            break;
        case RESULT_MQTT_GONE:
            /* Every report of the destroyed client came before this one: the tokens it held,
             * of the generations before the one that asked for a new client, are gone. */
            g_hash_table_foreach_remove(relay->tokens, token_older, &r->seq);
            break;
        case RESULT_MQTT_DOWN:
            g_warning("relay lost the broker: %s; reconnecting", r->detail);
            relay->mqtt_up = FALSE;
            relay->down_since = g_get_monotonic_time();
            restart = TRUE;
            break;
        case RESULT_HTTP:
            webhook_result(relay, r);
            break;
        }
        result_free(r);
    }
    /* Marks go to the store in batches: at most MARK_DELAY_MS after the acknowledgement. */
    if (relay->acked->len >= MARK_BATCH || (relay->stopping && relay->acked->len > 0))
        mark_acked(relay);
    else if (relay->acked->len > 0 && !relay->mark_id)
        relay->mark_id = g_timeout_add(MARK_DELAY_MS, on_mark_timer, relay);
    if (restart)
        start_over(relay);
    mqtt_pump(relay);
    return G_SOURCE_CONTINUE;
}

static gboolean source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
    g_source_set_ready_time(source, -1);
    return callback(user_data);
}

static GSourceFuncs wake_funcs = {NULL, NULL, source_dispatch, NULL, NULL, NULL};

static gboolean on_kick(gpointer data)
{
    PsRelay *relay = data;
    relay->kick_id = 0;
    mqtt_pump(relay);
    for (guint i = 0; i < relay->n_webhooks; i++) {
        webhook_recheck(relay->webhooks[i]);
        webhook_pump(relay->webhooks[i]);
    }
    return G_SOURCE_REMOVE;
}

void relay_kick(PsRelay *relay)
{
    if (relay && !relay->kick_id)
        relay->kick_id = g_idle_add(on_kick, relay);
}

/* Every commit of this process's store connection that added outbox rows (any producer). */
static void on_outbox_added(gpointer store, gpointer data)
{
    relay_kick(data);
}

/* Another connection committed (`portsight db import` in another process, for one): what it
 * added to the outbox is due now, not when something of ours happens next. */
static gboolean on_watch(gpointer data)
{
    PsRelay *relay = data;
    gint64 now = g_get_monotonic_time();
    if (relay->mqtt_thread && relay->down_since && now - relay->down_since > relay->nudge_us) {
        relay->down_since = now;
        mqtt_command(relay, CMD_RECONNECT, NULL, NULL, NULL);
    }
    /* Connected, publishes waiting, and no acknowledgement for that long: the broker holds the
     * connection but not the messages (MQTT 3.1.1 sends them again only on a new connection). */
    if (relay->mqtt_thread && relay->mqtt_up && relay->ack_wait_since &&
        now - relay->ack_wait_since > relay->ack_timeout_us) {
        g_warning("relay: the broker acknowledged none of %u messages in %.0f s; connecting "
                  "again", relay->inflight, (now - relay->ack_wait_since) / 1e6);
        relay->mqtt_up = FALSE;
        relay->down_since = now;
        start_over(relay);
        mqtt_command(relay, CMD_RENEW, NULL, NULL, NULL);
    }
    gint64 v = 0;
    GError *error = NULL;
    if (!store_data_version(relay->store, &v, &error)) {
        g_debug("outbox: %s", error->message);
        g_error_free(error);
        return G_SOURCE_CONTINUE;
    }
    if (v != relay->data_version) {
        relay->data_version = v;
        relay_kick(relay);
    }
    return G_SOURCE_CONTINUE;
}

/* The status again, while connected: a subscriber that missed it (a broker cluster whose
 * retained messages reach a new subscription late) has it within status_every. */
static gboolean on_announce(gpointer data)
{
    PsRelay *relay = data;
    if (relay->mqtt_up)
        mqtt_command(relay, CMD_ONLINE, NULL, NULL, NULL);
    return G_SOURCE_CONTINUE;
}

/* ---- life cycle ---- */

/* Creates the Paho client and starts connecting with the options kept in @relay (any thread:
 * at start, then the relay's MQTT thread when it starts again). */
static gboolean connect_client(PsRelay *relay, GError **error)
{
    const PsMqttOptions *o = &relay->mq;
    g_autofree char *client_id = g_strdup_printf("%s-relay", o->client_id);
    MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
    cro.MQTTVersion = MQTTVERSION_3_1_1;
    int rc = MQTTAsync_createWithOptions(&relay->client, relay->uri, client_id,
                                         MQTTCLIENT_PERSISTENCE_NONE, NULL, &cro);
    if (rc != MQTTASYNC_SUCCESS) {
        relay->client = NULL;
        g_set_error(error, RELAY_ERROR, RELAY_ERROR_MQTT, "[mqtt] url %s: %s", o->url,
                    mqtt_options_strerror(rc));
        return FALSE;
    }
    MQTTAsync_setCallbacks(relay->client, relay, on_connection_lost, on_message, NULL);
    MQTTAsync_setConnected(relay->client, relay, on_connected);
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    mqtt_options_fill(o, &co, &ssl);
    /* A cluster: the other nodes are tried when this one is away (Paho copies the list). */
    g_auto(GStrv) uris = mqtt_options_server_uris(o);
    if (uris) {
        co.serverURIs = uris;
        co.serverURIcount = (int)g_strv_length(uris);
    }
    /* The outbox is the relay's memory: a fresh session each time, nothing queued in Paho. */
    co.cleansession = 1;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    will.topicName = relay->status_topic;
    will.message = relay->status_offline;
    will.retained = 1;
    will.qos = 1;
    co.will = &will;
    co.onFailure = on_connect_failed;
    co.context = relay;
    rc = MQTTAsync_connect(relay->client, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        g_set_error(error, RELAY_ERROR, RELAY_ERROR_MQTT, "connecting to %s: %s", o->url,
                    mqtt_options_strerror(rc));
        return FALSE;
    }
    return TRUE;
}

/* The relay's own copy of @o (strings included), for connect_client(). */
static void keep_options(PsRelay *relay, const PsMqttOptions *o)
{
    relay->mq = *o;
    relay->mq_strings = g_ptr_array_new_with_free_func(g_free);
    const char **fields[] = {&relay->mq.url,      &relay->mq.client_id, &relay->mq.username,
                             &relay->mq.password, &relay->mq.cafile,    &relay->mq.certfile,
                             &relay->mq.keyfile,  &relay->mq.topic_root, &relay->mq.failover};
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++)
        if (*fields[i]) {
            char *copy = g_strdup(*fields[i]);
            g_ptr_array_add(relay->mq_strings, copy);
            *fields[i] = copy;
        }
}

static gboolean start_mqtt(PsRelay *relay, const PsRelayOptions *ro, GError **error)
{
    const PsMqttOptions *o = ro->mqtt;
    keep_options(relay, o);
    relay->uri = mqtt_options_server_uri(o->url);
    /* Paho's own retries are reconnect_max apart at most: a connection down for three times
     * that (10 s at least) is started again (see CMD_RECONNECT). */
    int every = o->reconnect_max > 0 ? o->reconnect_max : 10;
    relay->nudge_us = (gint64)MAX(10, 3 * every) * G_USEC_PER_SEC;
    /* A live connection answers its keepalive pings; its acknowledgements may wait for a broker
     * cluster's store a few seconds, not three keepalives (10 s at least). */
    int keepalive = o->keepalive > 0 ? o->keepalive : 30;
    relay->ack_timeout_us = (gint64)MAX(10, 3 * keepalive) * G_USEC_PER_SEC;
    relay->down_since = g_get_monotonic_time(); /* until the first connection */
    relay->status_topic =
        topics_status(o->topic_root, ro->status_component ? ro->status_component : "engine");
    relay->status_online = g_strdup(ro->status_online ? ro->status_online : "online");
    relay->status_offline = g_strdup(ro->status_offline ? ro->status_offline : "offline");
    relay->root = g_strdup(topics_root(o->topic_root));
    if (!connect_client(relay, error))
        return FALSE;
    relay->mqtt_thread = g_thread_new("relay-mqtt", mqtt_thread, relay);
    return TRUE;
}

static gboolean start_webhook(PsRelay *relay, guint index, const char *root,
                              const PsWebhookOptions *o, GError **error)
{
    Webhook *w = g_new0(Webhook, 1);
    relay->webhooks[index] = w;
    relay->n_webhooks = index + 1;
    w->relay = relay;
    w->index = index;
    w->dest = g_strdup_printf("webhook %s", o->name);
    w->url = g_strdup(o->url);
    w->timeout_ms = (long)((o->timeout > 0 ? o->timeout : 10.0) * 1000);
    w->retry_max = o->retry_max > 0 ? o->retry_max : 3600;
    w->jobs = g_async_queue_new();
    GError *local = NULL;
    w->key = relay_webhook_key(o->secret ? o->secret : "", &local);
    if (!w->key) {
        g_set_error(error, RELAY_ERROR, RELAY_ERROR_CONFIG, "[webhook %s] secret: %s", o->name,
                    local->message);
        g_error_free(local);
        return FALSE;
    }
    if (o->topics && !topics_valid(o->name, o->topics, error))
        return FALSE;
    g_autofree char *reason = NULL;
    if (!store_outbox_register(relay->store, w->dest, w->url, &w->disabled, &reason, error))
        return FALSE;
    if (w->disabled)
        g_warning("%s (%s) stays disabled: %s; its messages are kept: `portsight webhook enable "
                  "%s` (or a new url) resumes it",
                  w->dest, w->url, reason ? reason : "", o->name);
    g_autofree char *filters = relay_webhook_filters(root, o->topics);
    if (!store_outbox_set_topics(relay->store, w->dest, filters, error))
        return FALSE;
    w->thread = g_thread_new("webhook", webhook_thread, w);
    return TRUE;
}

PsRelay *relay_new(PsStore *store, const PsRelayOptions *o, GError **error)
{
    static gsize curl_once = 0;
    if (g_once_init_enter(&curl_once)) {
        curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread uses curl */
        g_once_init_leave(&curl_once, 1);
    }
    PsRelay *relay = g_new0(PsRelay, 1);
    relay->store = store;
    relay->retry_base = o->retry_base > 0 ? o->retry_base : 1.0;
    relay->results = g_async_queue_new_full((GDestroyNotify)result_free);
    relay->tokens = g_hash_table_new_full(g_direct_hash, g_direct_equal, g_free, NULL);
    relay->acked = g_array_new(FALSE, FALSE, sizeof(gint64));
    relay->mqtt_cmds = g_async_queue_new_full((GDestroyNotify)cmd_free);
    relay->source = g_source_new(&wake_funcs, sizeof(GSource));
    g_source_set_callback(relay->source, on_results, relay, NULL);
    g_source_set_name(relay->source, "outbox relay");
    g_source_attach(relay->source, NULL);
    relay->webhooks = g_new0(Webhook *, o->n_webhooks + 1);
    const char *root = topics_root(o->topic_root ? o->topic_root
                                   : o->mqtt       ? o->mqtt->topic_root
                                                   : NULL);

    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < o->n_webhooks; i++) {
        if (!start_webhook(relay, i, root, &o->webhooks[i], error))
            goto fail;
        g_ptr_array_add(names, g_strdup(relay->webhooks[i]->dest));
    }
    g_ptr_array_add(names, NULL);
    if (!store_outbox_retire_others(store, (const char *const *)names->pdata, error))
        goto fail;
    if (o->mqtt && !start_mqtt(relay, o, error))
        goto fail;
    if (!store_data_version(store, &relay->data_version, error))
        goto fail;
    relay->watch_id = g_timeout_add(RELAY_WATCH_MS, on_watch, relay);
    if (o->mqtt && o->status_every > 0)
        relay->announce_id = g_timeout_add((guint)(o->status_every * 1000), on_announce, relay);
    store_set_outbox_notify(store, on_outbox_added, relay);
    relay_kick(relay);
    return relay;

fail:
    relay_free(relay);
    return NULL;
}

void relay_free(PsRelay *relay)
{
    if (!relay)
        return;
    if (relay->announce_id)
        g_source_remove(relay->announce_id);
    if (relay->watch_id) {
        g_source_remove(relay->watch_id);
        store_set_outbox_notify(relay->store, NULL, NULL);
    }
    if (relay->mqtt_thread) {
        mqtt_command(relay, CMD_STOP, NULL, NULL, NULL);
        g_thread_join(relay->mqtt_thread); /* it says offline, disconnects and destroys */
    } else if (relay->client) {
        MQTTAsync_destroy(&relay->client);
    }
    for (guint i = 0; i < relay->n_webhooks; i++) {
        Webhook *w = relay->webhooks[i];
        if (w->thread) {
            g_atomic_int_set(&w->stopping, 1);
            g_async_queue_push_front(w->jobs, &stop_marker);
            g_thread_join(w->thread);
        }
    }
    /* Deliveries acknowledged while stopping are still worth recording; nothing new starts. */
    relay->stopping = TRUE;
    on_results(relay);
    mark_acked(relay);
    for (guint i = 0; i < relay->n_webhooks; i++) {
        Webhook *w = relay->webhooks[i];
        PsOutboxItem *left;
        while ((left = g_async_queue_try_pop(w->jobs)))
            if (left != &stop_marker)
                store_outbox_item_free(left);
        g_async_queue_unref(w->jobs);
        if (w->timer_id)
            g_source_remove(w->timer_id);
        if (w->key)
            g_bytes_unref(w->key);
        g_free(w->dest);
        g_free(w->url);
        g_free(w);
    }
    g_free(relay->webhooks);
    if (relay->kick_id)
        g_source_remove(relay->kick_id);
    g_source_destroy(relay->source);
    g_source_unref(relay->source);
    g_async_queue_unref(relay->results);
    g_async_queue_unref(relay->mqtt_cmds);
    g_hash_table_destroy(relay->tokens);
    g_array_unref(relay->acked);
    g_free(relay->uri);
    g_free(relay->status_topic);
    if (relay->mq_strings)
        g_ptr_array_unref(relay->mq_strings);
    g_free(relay->status_online);
    g_free(relay->status_offline);
    g_free(relay->root);
    g_free(relay);
}
