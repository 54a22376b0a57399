/* mqtt_subscriber.c: Paho async subscriber; each message is journaled on the subscriber's own
 * connection and acknowledged once committed (see mqtt-subscriber.h for the guarantee). */
#define G_LOG_DOMAIN "mqtt"

#include "mqtt-subscriber.h"

#include <MQTTAsync.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>
#include <unistd.h>

#include "topics.h"

/* Inputs larger than this are dead-lettered (their first MAX_KEPT bytes) without parsing. */
#define MAX_PAYLOAD (1024 * 1024)
#define MAX_KEPT (64 * 1024)
/* How long a message whose ingest failed (store error) waits before it is offered again. */
#define RETRY_PAUSE_US (1000 * 1000)
/* How long after a commit the main loop is woken. 0: at once; what is committed while it
 * evaluates is taken in one batch at its next wake-up (a 1 ms delay made bigger batches but
 * added 1-2 ms to every decision's latency and no measurable throughput). */
#define WAKE_DELAY_US 0

typedef struct PsMqttSubscriber PsMqttSubscriber;

/* One connection. With several, each subscribes through the shared subscription
 * "$share/CLIENT_ID/..." so the broker splits the messages among them. */
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
    char *cafile;
    int *qos;
    int n_topics;
    PsStore *store; /* our own connection (store_open_shared), used on Paho's thread only */
    PsMqttIngestFunc func;
    gpointer user_data;
    GFunc committed;
    gpointer committed_data;
    GSource *source; /* made ready from Paho's thread after a commit: wakes the main loop */
    gint wake_armed; /* atomic: @source has a ready time set and has not dispatched yet */
    gint closing;    /* atomic */
    gsize received;  /* atomic */
#ifdef PS_TEST_ACK_BEFORE_JOURNAL
    GAsyncQueue *backlog; /* Message copies acknowledged already, journaled by @worker */
    GThread *worker;
#endif
};

char **mqtt_subscriber_topics(const char *root)
{
    return topics_subscriptions(root);
}

/* ---- main loop side ---- */

static gboolean source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
    g_source_set_ready_time(source, -1);
    return callback(user_data);
}

static GSourceFuncs wake_funcs = {NULL, NULL, source_dispatch, NULL, NULL, NULL};

static gboolean on_wake(gpointer user_data)
{
    PsMqttSubscriber *sub = user_data;
    g_atomic_int_set(&sub->wake_armed, 0);
    if (sub->committed)
        sub->committed(NULL, sub->committed_data);
    return G_SOURCE_CONTINUE;
}

/* ---- Paho's thread ---- */

typedef struct {
    PsMqttSubscriber *sub;
    const char *topic;
    const char *payload;
    gsize len;
} Message;

static gboolean dead_letter_txn(PsStore *store, gpointer user_data, GError **error)
{
    Message *m = user_data;
    g_autofree char *reason =
        g_strdup_printf("payload of %" G_GSIZE_FORMAT " bytes is over the %d-byte limit "
                        "(first %d bytes kept)", m->len, MAX_PAYLOAD, MAX_KEPT);
    return store_dead_letter(store, "mqtt", m->topic, NULL, m->payload, MAX_KEPT, reason, error);
}

static gboolean ingest(Message *m, GError **error)
{
    PsMqttSubscriber *sub = m->sub;
    if (m->len > MAX_PAYLOAD)
        return store_transaction(sub->store, dead_letter_txn, m, error);
    return sub->func(sub->store, m->topic, m->payload, m->len, sub->user_data, error);
}

#ifdef PS_TEST_ACK_BEFORE_JOURNAL
/* The deliberately broken build (meson -Dtest_ack_before_journal=true): each message is
 * acknowledged as it arrives and journaled afterwards by a worker thread, so a crash in between
 * loses it. Only for showing that the crash tests catch that. */
static void note_journaled(PsMqttSubscriber *sub);

static gpointer backlog_worker(gpointer data)
{
    PsMqttSubscriber *sub = data;
    for (;;) {
        Message *m = g_async_queue_pop(sub->backlog);
        if (!m->topic) {
            g_free(m);
            return NULL;
        }
        GError *error = NULL;
        while (!ingest(m, &error)) {
            g_clear_error(&error);
            g_usleep(RETRY_PAUSE_US);
        }
        note_journaled(sub);
        g_free((char *)m->topic);
        g_free((char *)m->payload);
        g_free(m);
    }
}

static int on_message(void *context, char *topic, int topic_len, MQTTAsync_message *msg)
{
    PsMqttSubscriber *sub = ((Lane *)context)->sub;
    Message *m = g_new0(Message, 1);
    m->sub = sub;
    m->topic = topic_len > 0 ? g_strndup(topic, topic_len) : g_strdup(topic);
    m->len = msg->payloadlen > 0 ? (gsize)msg->payloadlen : 0;
    m->payload = g_memdup2(msg->payload ? msg->payload : "", m->len + 1);
    g_async_queue_push(sub->backlog, m);
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}
#else
static void note_journaled(PsMqttSubscriber *sub);

/* Sleeps @us, or less when the subscriber starts closing. */
static void pause_unless_closing(PsMqttSubscriber *sub, gint64 us)
{
    gint64 end = g_get_monotonic_time() + us;
    while (!g_atomic_int_get(&sub->closing) && g_get_monotonic_time() < end)
        g_usleep(20 * 1000);
}

/* Journals the message on our own connection and returns 1 (Paho then sends the PUBACK) once
 * that is committed. A store error keeps the message unacknowledged: it is tried again after a
 * pause, for as long as it takes (Paho's other work waits meanwhile, as it would for a broker
 * that cannot take messages).
 *
 * Closing with a store error: this must not return at all. From Paho 1.3.10 on, a QoS 1
 * PUBACK goes out when it returns, whatever it returns (0 only makes Paho queue the message,
 * acknowledged, in its own file persistence, which fails on the same full disk, together with
 * every PUBLISH still buffered), and while it runs it holds Paho's lock, so the connection
 * cannot be closed first either. The process therefore ends here, as in a crash, with
 * MQTT_SUBSCRIBER_EXIT_UNJOURNALED: everything committed stays committed, and the broker
 * delivers this message and every later one again in the next session. */
static int on_message(void *context, char *topic, int topic_len, MQTTAsync_message *msg)
{
    PsMqttSubscriber *sub = ((Lane *)context)->sub;
    g_autofree char *name = topic_len > 0 ? g_strndup(topic, topic_len) : g_strdup(topic);
    Message m = {sub, name, msg->payload ? msg->payload : "",
                 msg->payloadlen > 0 ? (gsize)msg->payloadlen : 0};
    for (;;) {
        GError *error = NULL;
        if (ingest(&m, &error))
            break;
        g_warning("journaling an MQTT message on %s failed, not acknowledged, retrying: %s",
                  name, error ? error->message : "unknown error");
        g_clear_error(&error);
        if (g_atomic_int_get(&sub->closing)) {
            g_warning("stopping while the store cannot journal an MQTT message (on %s): "
                      "exiting at once without acknowledging it; the broker delivers it and "
                      "what follows it again at the next start", name);
            _exit(MQTT_SUBSCRIBER_EXIT_UNJOURNALED);
        }
        pause_unless_closing(sub, RETRY_PAUSE_US);
    }
    note_journaled(sub);
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}
#endif

static void note_journaled(PsMqttSubscriber *sub)
{
    g_atomic_pointer_add(&sub->received, 1);
    /* Only the first commit after a wake-up arms it again: the main loop takes all that came
     * until it runs in one transaction. */
    if (g_atomic_int_compare_and_exchange(&sub->wake_armed, 0, 1))
        g_source_set_ready_time(sub->source, g_get_monotonic_time() + WAKE_DELAY_US);
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
    mqtt_options_explain_tls_failure(lane->sub->uri, lane->sub->cafile);
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

gboolean mqtt_subscriber_check_paho(const char *version, GError **error)
{
    if (!version) {
        for (MQTTAsync_nameValue *v = MQTTAsync_getVersionInfo(); v && v->name; v++)
            if (strcmp(v->name, "Version") == 0)
                version = v->value;
    }
    guint64 part[3] = {0, 0, 0};
    const char *p = version;
    int n = 0;
    while (p && n < 3 && g_ascii_isdigit(*p)) {
        char *end = NULL;
        part[n++] = g_ascii_strtoull(p, &end, 10);
        p = *end == '.' ? end + 1 : NULL;
    }
    guint64 want[3] = {1, 3, 10};
    gboolean ok = n >= 2;
    for (int i = 0; ok && i < 3; i++) {
        if (part[i] != want[i]) {
            ok = part[i] > want[i];
            break;
        }
    }
    if (!ok)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "the Paho MQTT C library in use is %s; portsight needs " MQTT_SUBSCRIBER_PAHO_MIN
                    " or later (older ones acknowledge a message before it is journaled)",
                    version ? version : "of unknown version");
    return ok;
}

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
    /* A cluster: the other nodes are tried when this one is away (Paho copies the list). */
    g_auto(GStrv) uris = mqtt_options_server_uris(o);
    if (uris) {
        co.serverURIs = uris;
        co.serverURIcount = (int)g_strv_length(uris);
    }
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
    if (!mqtt_subscriber_check_paho(NULL, error))
        return NULL;
    PsStore *own = store_open_shared(store, error);
    if (!own)
        return NULL;
    PsMqttSubscriber *sub = g_new0(PsMqttSubscriber, 1);
    sub->store = own;
    sub->uri = mqtt_options_server_uri(o->url);
    sub->cafile = g_strdup(o->cafile);
    g_auto(GStrv) topics = mqtt_subscriber_topics(o->topic_root);
    sub->n_topics = g_strv_length(topics);
    sub->qos = g_new(int, sub->n_topics);
    for (int i = 0; i < sub->n_topics; i++)
        sub->qos[i] = 1;
    sub->func = func;
    sub->user_data = user_data;
    sub->source = g_source_new(&wake_funcs, sizeof(GSource));
    g_source_set_callback(sub->source, on_wake, sub, NULL);
    g_source_set_name(sub->source, "mqtt subscriber");
    g_source_attach(sub->source, NULL);

#ifdef PS_TEST_ACK_BEFORE_JOURNAL
    g_warning("TEST BUILD: MQTT inputs are acknowledged before they are journaled");
    sub->backlog = g_async_queue_new();
    sub->worker = g_thread_new("ack-before-journal", backlog_worker, sub);
#endif
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

void mqtt_subscriber_free(PsMqttSubscriber *sub)
{
    if (!sub)
        return;
    g_atomic_int_set(&sub->closing, 1);
    /* A callback in progress finishes its commit (it waits for no one on this thread). */
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
    for (int i = 0; i < sub->n_lanes; i++) {
        if (sub->lanes[i].client)
            MQTTAsync_destroy(&sub->lanes[i].client); /* no callback runs after this */
        g_free(sub->lanes[i].client_id);
        g_strfreev(sub->lanes[i].topics);
    }
    g_free(sub->lanes);
#ifdef PS_TEST_ACK_BEFORE_JOURNAL
    g_async_queue_push(sub->backlog, g_new0(Message, 1)); /* no topic: stop */
    g_thread_join(sub->worker);
    g_async_queue_unref(sub->backlog);
#endif
    g_source_destroy(sub->source);
    g_source_unref(sub->source);
    store_close(sub->store);
    g_free(sub->qos);
    g_free(sub->uri);
    g_free(sub->cafile);
    g_free(sub);
}

void mqtt_subscriber_set_committed(PsMqttSubscriber *sub, GFunc func, gpointer user_data)
{
    sub->committed = func;
    sub->committed_data = user_data;
}

guint64 mqtt_subscriber_received(PsMqttSubscriber *sub)
{
    return (guint64)g_atomic_pointer_get(&sub->received);
}

gboolean mqtt_subscriber_connected(PsMqttSubscriber *sub)
{
    for (int i = 0; i < sub->n_lanes; i++)
        if (g_atomic_int_get(&sub->lanes[i].connected))
            return TRUE;
    return FALSE;
}
