/* mqtt_subscriber.c: Paho async subscriber; messages cross to the main loop and are acknowledged
 * only once committed (see mqtt-subscriber.h for the guarantee). */
#define G_LOG_DOMAIN "mqtt"

#include "mqtt-subscriber.h"

#include <MQTTAsync.h>
#include <gio/gio.h>
#include <string.h>

/* Inputs larger than this are dead-lettered (their first MAX_KEPT bytes) without parsing. */
#define MAX_PAYLOAD (1024 * 1024)
#define MAX_KEPT (64 * 1024)
/* How long a message whose ingest failed (store error) waits before it is offered again. */
#define RETRY_PAUSE_US (1000 * 1000)

/* One message on its way from Paho's receive thread to the main loop. Lives on the stack of
 * the Paho callback, which waits until @done. */
typedef struct {
    const char *topic;
    const char *payload;
    gsize len;
    gboolean done;
    gboolean ok;
} Handoff;

typedef struct PsMqttSubscriber PsMqttSubscriber;

/* One connection. With several, each subscribes through the shared subscription
 * "$share/CLIENT_ID/..." so the broker splits the messages among them, and the main loop
 * commits what the lanes hand over at the same time in one transaction. */
typedef struct {
    PsMqttSubscriber *sub;
    MQTTAsync client;
    char *client_id;
    char **topics;
    gint connected;       /* atomic */
    gint disconnect_done; /* atomic */
} Lane;

struct PsMqttSubscriber {
    Lane *lanes;
    int n_lanes;
    char *uri;
    int *qos;
    int n_topics;
    PsStore *store;
    PsMqttIngestFunc func;
    gpointer user_data;
    GFunc rollback;
    gpointer rollback_data;

    GMutex lock; /* guards pending, closing and every Handoff's done/ok */
    GCond cond;
    GQueue pending;
    gboolean closing;
    gboolean stopped; /* the main loop takes no more messages */
    GSource *source; /* made ready from Paho's threads to wake the main loop */

    guint64 received;     /* main thread */
};

char **mqtt_subscriber_topics(const char *root)
{
    static const char *const inputs[] = {
        "customs/status", "rail/+/arrival", "gate/+", "seal/+", "radiation/+", "ocr/+",
        "cmd/select",
    };
    char **topics = g_new0(char *, G_N_ELEMENTS(inputs) + 1);
    for (guint i = 0; i < G_N_ELEMENTS(inputs); i++)
        topics[i] = g_strdup_printf("%s/%s", root, inputs[i]);
    return topics;
}

/* ---- main loop side ---- */

typedef struct {
    PsMqttSubscriber *sub;
    GPtrArray *batch;
} BatchArgs;

static gboolean ingest_one(PsMqttSubscriber *sub, Handoff *h, GError **error)
{
    if (h->len > MAX_PAYLOAD) {
        g_autofree char *reason =
            g_strdup_printf("payload of %" G_GSIZE_FORMAT " bytes is over the %d-byte limit "
                            "(first %d bytes kept)", h->len, MAX_PAYLOAD, MAX_KEPT);
        g_warning("%s: %s", h->topic, reason);
        return store_dead_letter(sub->store, "mqtt", h->topic, NULL, h->payload, MAX_KEPT,
                                 reason, error);
    }
    return sub->func(h->topic, h->payload, h->len, sub->user_data, error);
}

static gboolean batch_txn(PsStore *store, gpointer user_data, GError **error)
{
    BatchArgs *a = user_data;
    for (guint i = 0; i < a->batch->len; i++)
        if (!ingest_one(a->sub, a->batch->pdata[i], error))
            return FALSE;
    return TRUE;
}

/* Ingests everything handed over so far in one transaction and releases the waiting Paho
 * callbacks. Returns how many messages it took. */
static guint drain(PsMqttSubscriber *sub)
{
    g_autoptr(GPtrArray) batch = g_ptr_array_new();
    g_mutex_lock(&sub->lock);
    Handoff *h;
    while ((h = g_queue_pop_head(&sub->pending)))
        g_ptr_array_add(batch, h);
    g_mutex_unlock(&sub->lock);
    if (batch->len == 0)
        return 0;

    GError *error = NULL;
    BatchArgs a = {sub, batch};
    gboolean ok = store_transaction(sub->store, batch_txn, &a, &error);
    if (!ok) {
        g_warning("ingesting %u MQTT message(s) failed, not acknowledged, retrying: %s",
                  batch->len, error ? error->message : "unknown error");
        g_clear_error(&error);
        if (sub->rollback)
            sub->rollback(NULL, sub->rollback_data);
    } else {
        sub->received += batch->len;
    }
    g_mutex_lock(&sub->lock);
    for (guint i = 0; i < batch->len; i++) {
        Handoff *done = batch->pdata[i];
        done->ok = ok;
        done->done = TRUE;
    }
    g_cond_broadcast(&sub->cond);
    g_mutex_unlock(&sub->lock);
    return batch->len;
}

static gboolean source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
    g_source_set_ready_time(source, -1);
    return callback(user_data);
}

static GSourceFuncs wake_funcs = {NULL, NULL, source_dispatch, NULL, NULL, NULL};

static gboolean on_wake(gpointer user_data)
{
    drain(user_data);
    return G_SOURCE_CONTINUE;
}

/* ---- Paho's threads ---- */

static int on_message(void *context, char *topic, int topic_len, MQTTAsync_message *msg)
{
    PsMqttSubscriber *sub = ((Lane *)context)->sub;
    g_autofree char *name = topic_len > 0 ? g_strndup(topic, topic_len) : g_strdup(topic);
    Handoff h = {name, msg->payload ? msg->payload : "", msg->payloadlen > 0 ? msg->payloadlen : 0};
    g_mutex_lock(&sub->lock);
    for (;;) {
        h.done = FALSE;
        g_queue_push_tail(&sub->pending, &h);
        g_source_set_ready_time(sub->source, 0);
        while (!h.done && !sub->stopped)
            g_cond_wait(&sub->cond, &sub->lock);
        if (!h.done)
            g_queue_remove(&sub->pending, &h); /* shutting down: not ingested, not acked */
        if (h.ok || sub->closing)
            break;
        /* A store error: keep the message unacknowledged and offer it again. */
        g_mutex_unlock(&sub->lock);
        g_usleep(RETRY_PAUSE_US);
        g_mutex_lock(&sub->lock);
    }
    gboolean ok = h.ok;
    g_mutex_unlock(&sub->lock);
    if (!ok)
        return 0; /* closing with a store error: Paho keeps it in its persistence */
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

static void on_subscribed(void *context, MQTTAsync_successData *response)
{
    g_info("subscribed to the input topics");
}

static void on_subscribe_failed(void *context, MQTTAsync_failureData *response)
{
    g_warning("subscribing failed: %s", response && response->message ? response->message
                                        : mqtt_options_strerror(response ? response->code : -1));
}

static void on_connected(void *context, char *cause)
{
    Lane *lane = context;
    PsMqttSubscriber *sub = lane->sub;
    g_atomic_int_set(&lane->connected, 1);
    g_info("subscriber %s connected to %s", lane->client_id, sub->uri);
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = on_subscribed;
    ro.onFailure = on_subscribe_failed;
    ro.context = lane;
    /* Always subscribe again: a broker that lost its state has forgotten the session. */
    int rc = MQTTAsync_subscribeMany(lane->client, sub->n_topics, lane->topics, sub->qos, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        g_warning("subscribe: %s", mqtt_options_strerror(rc));
}

static void on_connection_lost(void *context, char *cause)
{
    Lane *lane = context;
    g_atomic_int_set(&lane->connected, 0);
    g_warning("subscriber %s lost the broker%s%s; reconnecting", lane->client_id,
              cause ? ": " : "", cause ? cause : "");
}

static void on_connect_failed(void *context, MQTTAsync_failureData *response)
{
    Lane *lane = context;
    g_warning("subscriber %s cannot connect to %s: %s; retrying", lane->client_id, lane->sub->uri,
              response && response->message ? response->message
                                             : mqtt_options_strerror(response ? response->code : -1));
}

static void on_disconnected(void *context, MQTTAsync_successData *response)
{
    Lane *lane = context;
    g_atomic_int_set(&lane->disconnect_done, 1);
}

static void on_disconnect_failed(void *context, MQTTAsync_failureData *response)
{
    Lane *lane = context;
    g_atomic_int_set(&lane->disconnect_done, 1);
}

/* ---- life cycle ---- */

static gboolean start_lane(PsMqttSubscriber *sub, Lane *lane, const PsMqttOptions *o,
                           const char *persist_dir, GError **error)
{
    MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
    cro.MQTTVersion = MQTTVERSION_3_1_1;
    int rc = MQTTAsync_createWithOptions(&lane->client, sub->uri, lane->client_id,
                                         persist_dir ? MQTTCLIENT_PERSISTENCE_DEFAULT
                                                     : MQTTCLIENT_PERSISTENCE_NONE,
                                         (void *)persist_dir, &cro);
    if (rc != MQTTASYNC_SUCCESS) {
        lane->client = NULL;
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "[mqtt] url %s: %s", o->url,
                    mqtt_options_strerror(rc));
        return FALSE;
    }
    MQTTAsync_setCallbacks(lane->client, lane, on_connection_lost, on_message, NULL);
    MQTTAsync_setConnected(lane->client, lane, on_connected);
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    mqtt_options_fill(o, &co, &ssl);
    co.onFailure = on_connect_failed;
    co.context = lane;
    rc = MQTTAsync_connect(lane->client, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "connecting to %s: %s", o->url,
                    mqtt_options_strerror(rc));
        return FALSE;
    }
    return TRUE;
}

PsMqttSubscriber *mqtt_subscriber_new(const PsMqttOptions *o, const char *persist_dir,
                                      PsStore *store, PsMqttIngestFunc func, gpointer user_data,
                                      GError **error)
{
    g_return_val_if_fail(o && o->url && o->client_id && store && func, NULL);
    PsMqttSubscriber *sub = g_new0(PsMqttSubscriber, 1);
    sub->uri = mqtt_options_server_uri(o->url);
    g_auto(GStrv) topics = mqtt_subscriber_topics(o->topic_root ? o->topic_root : "port");
    sub->n_topics = g_strv_length(topics);
    sub->qos = g_new(int, sub->n_topics);
    for (int i = 0; i < sub->n_topics; i++)
        sub->qos[i] = 1;
    sub->store = store;
    sub->func = func;
    sub->user_data = user_data;
    g_mutex_init(&sub->lock);
    g_cond_init(&sub->cond);
    g_queue_init(&sub->pending);
    sub->source = g_source_new(&wake_funcs, sizeof(GSource));
    g_source_set_callback(sub->source, on_wake, sub, NULL);
    g_source_set_name(sub->source, "mqtt subscriber");
    g_source_attach(sub->source, NULL);

    sub->n_lanes = CLAMP(o->lanes, 1, MQTT_MAX_LANES);
    sub->lanes = g_new0(Lane, sub->n_lanes);
    for (int i = 0; i < sub->n_lanes; i++) {
        Lane *lane = &sub->lanes[i];
        lane->sub = sub;
        if (sub->n_lanes == 1) {
            lane->client_id = g_strdup(o->client_id);
            lane->topics = g_strdupv(topics);
        } else {
            lane->client_id = g_strdup_printf("%s-L%d", o->client_id, i);
            lane->topics = g_new0(char *, sub->n_topics + 1);
            for (int t = 0; t < sub->n_topics; t++)
                lane->topics[t] = g_strdup_printf("$share/%s/%s", o->client_id, topics[t]);
        }
    }
    for (int i = 0; i < sub->n_lanes; i++)
        if (!start_lane(sub, &sub->lanes[i], o, persist_dir, error))
            goto fail;
    return sub;

fail:
    mqtt_subscriber_free(sub);
    return NULL;
}

/* Disconnects and destroys the Paho clients. Runs on a thread of its own: Paho's calls take a
 * lock that a waiting messageArrived callback holds, and only the main loop (which drains
 * meanwhile) can release that callback. */
static gpointer closer_thread(gpointer data)
{
    PsMqttSubscriber *sub = data;
    for (int i = 0; i < sub->n_lanes; i++) {
        Lane *lane = &sub->lanes[i];
        MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer;
        dopts.timeout = 1000;
        dopts.onSuccess = on_disconnected;
        dopts.onFailure = on_disconnect_failed;
        dopts.context = lane;
        if (!lane->client || MQTTAsync_disconnect(lane->client, &dopts) != MQTTASYNC_SUCCESS)
            g_atomic_int_set(&lane->disconnect_done, 1);
    }
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    for (int i = 0; i < sub->n_lanes; i++)
        while (!g_atomic_int_get(&sub->lanes[i].disconnect_done) &&
               g_get_monotonic_time() < deadline)
            g_usleep(2000);
    /* Whatever still waits now is not acknowledged; tell it so. */
    g_mutex_lock(&sub->lock);
    sub->stopped = TRUE;
    g_cond_broadcast(&sub->cond);
    g_mutex_unlock(&sub->lock);
    for (int i = 0; i < sub->n_lanes; i++)
        if (sub->lanes[i].client)
            MQTTAsync_destroy(&sub->lanes[i].client);
    return NULL;
}

void mqtt_subscriber_free(PsMqttSubscriber *sub)
{
    if (!sub)
        return;
    g_mutex_lock(&sub->lock);
    sub->closing = TRUE;
    g_mutex_unlock(&sub->lock);
    GThread *closer = g_thread_new("mqtt-closer", closer_thread, sub);
    /* Keep ingesting what Paho hands over until the clients are gone: a waiting callback must
     * be answered, and with a commit. */
    for (;;) {
        if (drain(sub) == 0)
            g_usleep(1000);
        g_mutex_lock(&sub->lock);
        gboolean done = sub->stopped;
        g_mutex_unlock(&sub->lock);
        if (done)
            break;
    }
    g_thread_join(closer);
    drain(sub);
    for (int i = 0; i < sub->n_lanes; i++) {
        g_free(sub->lanes[i].client_id);
        g_strfreev(sub->lanes[i].topics);
    }
    g_free(sub->lanes);
    g_source_destroy(sub->source);
    g_source_unref(sub->source);
    g_cond_clear(&sub->cond);
    g_mutex_clear(&sub->lock);
    g_free(sub->qos);
    g_free(sub->uri);
    g_free(sub);
}

void mqtt_subscriber_set_rollback(PsMqttSubscriber *sub, GFunc func, gpointer user_data)
{
    sub->rollback = func;
    sub->rollback_data = user_data;
}

guint64 mqtt_subscriber_received(PsMqttSubscriber *sub)
{
    return sub->received;
}

gboolean mqtt_subscriber_connected(PsMqttSubscriber *sub)
{
    for (int i = 0; i < sub->n_lanes; i++)
        if (g_atomic_int_get(&sub->lanes[i].connected))
            return TRUE;
    return FALSE;
}
