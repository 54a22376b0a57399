/* daemon_mqtt.c: the daemon's MQTT subscriber (inputs -> rules) and outbox relay (decisions ->
 * MQTT and webhooks) components. */
#define G_LOG_DOMAIN "mqtt"

#include "daemon-mqtt.h"

#include <string.h>

#include "daemon-node.h"
#include "mqtt-subscriber.h"
#include "relay.h"
#include "rules.h"
#include "topics.h"

/* The relay of this process, so the subscriber's rules can wake it after a commit. */
static PsRelay *the_relay;

void app_mqtt_options(AppConfig *config, PsMqttOptions *o)
{
    *o = (PsMqttOptions){
        .url = app_config_string(config, "mqtt", "url"),
        .client_id = app_config_string(config, "mqtt", "client_id"),
        .username = app_config_string(config, "mqtt", "username"),
        .password = app_config_string(config, "mqtt", "password"),
        .cafile = app_config_string(config, "mqtt", "cafile"),
        .certfile = app_config_string(config, "mqtt", "certfile"),
        .keyfile = app_config_string(config, "mqtt", "keyfile"),
        .topic_root = app_config_string(config, "mqtt", "topic_root"),
        .clean_session = app_config_bool(config, "mqtt", "clean_session"),
        .keepalive = (int)app_config_int(config, "mqtt", "keepalive"),
        .reconnect_max = (int)app_config_int(config, "mqtt", "reconnect_max"),
        .lanes = (int)app_config_int(config, "mqtt", "lanes"),
        .failover = app_config_string(config, "mqtt", "failover"),
    };
}

static void on_outbox(gpointer unused, gpointer user_data)
{
    if (the_relay)
        relay_kick(the_relay);
}

/* ---- relay ---- */

gboolean app_relay_start(AppDaemon *d, gpointer *state, GError **error)
{
    PsMqttOptions mqtt;
    gboolean have_mqtt = app_config_has_group(d->config, "mqtt");
    if (have_mqtt)
        app_mqtt_options(d->config, &mqtt);
    g_auto(GStrv) groups = app_config_instances(d->config, "webhook");
    guint n = g_strv_length(groups);
    g_autofree PsWebhookOptions *hooks = g_new0(PsWebhookOptions, n + 1);
    for (guint i = 0; i < n; i++) {
        hooks[i] = (PsWebhookOptions){
            .name = groups[i] + strlen("webhook "),
            .url = app_config_string(d->config, groups[i], "url"),
            .secret = app_config_string(d->config, groups[i], "secret"),
            .timeout = app_config_double(d->config, groups[i], "timeout"),
            .retry_max = app_config_double(d->config, groups[i], "retry_max"),
            .topics = app_config_string(d->config, groups[i], "topics"),
        };
    }
    /* A node of several announces itself (its role, its cameras) instead of the engine. */
    g_autofree char *online = app_node_status_text(d->config, TRUE);
    g_autofree char *offline = app_node_status_text(d->config, FALSE);
    g_autofree char *component =
        online ? g_strdup_printf("node-%s", app_node_name(d->config)) : NULL;
    PsRelayOptions o = {have_mqtt ? &mqtt : NULL, hooks, n, 0,
                        app_config_string(d->config, "mqtt", "topic_root"), component, online,
                        offline, online ? app_config_double(d->config, "engine", "announce") : 0};
    PsRelay *relay = relay_new(d->store, &o, error);
    if (!relay)
        return FALSE;
    the_relay = relay;
    /* Whoever ingests (MQTT, the cameras' own reads), new outbox rows wake the relay. */
    rules_set_outbox_notify(d->rules, on_outbox, NULL);
    *state = relay;
    return TRUE;
}

void app_relay_stop(AppDaemon *d, gpointer state)
{
    the_relay = NULL;
    relay_free(state);
}

/* ---- subscriber ---- */

/* Journal rows evaluated per rules transaction, and transactions per main-loop dispatch. */
#define CATCH_UP_BATCH 4096
#define CATCH_UP_ROUNDS 4
#define CATCH_UP_RETRY_MS 1000

typedef struct {
    AppDaemon *daemon; /* its rules are the engine's, shared with the other components */
    PsMqttSubscriber *sub;
    char *root;
    gint rejected;     /* atomic: counted on Paho's thread */
    guint retry_id;    /* a catch-up that failed is tried again */
    guint again_id;    /* more rows are waiting */
} Subscriber;

/* On Paho's thread, with the subscriber's own connection: validate and journal (or
 * dead-letter); the rules evaluate it from the journal on the main loop. */
static gboolean ingest(PsStore *store, const char *topic, const char *payload, gsize len,
                       gpointer user_data, GError **error)
{
    Subscriber *s = user_data;
    const char *node = node_status_topic_node(topics_rest(s->root, topic));
    if (node) { /* another node (or this one) announcing itself: remembered, not journaled */
        node_status_free(app_node_heard(s->daemon, node, payload, len));
        return TRUE;
    }
    if (topics_is_output(s->root, topic))
        return TRUE; /* our own releases, holds and status, back from the broker */
    RulesIngestResult r = {0};
    if (!rules_journal(store, s->root, "mqtt", topic, payload, (gssize)len, &r, error))
        return FALSE;
    if (r.outcome == RULES_REJECTED)
        g_atomic_int_inc(&s->rejected);
    rules_ingest_result_clear(&r);
    return TRUE;
}

static void catch_up(Subscriber *s);

static gboolean on_retry(gpointer user_data)
{
    Subscriber *s = user_data;
    s->retry_id = 0;
    catch_up(s);
    return G_SOURCE_REMOVE;
}

static gboolean on_again(gpointer user_data)
{
    Subscriber *s = user_data;
    s->again_id = 0;
    catch_up(s);
    return G_SOURCE_REMOVE;
}

/* Evaluates what the subscriber journaled (main loop). The rules write the decisions, their
 * outbox rows and how far they got in one transaction per batch, and wake the relay. */
static void catch_up(Subscriber *s)
{
    if (s->retry_id)
        return; /* a store error: wait for the pause to end */
    for (int round = 0; round < CATCH_UP_ROUNDS; round++) {
        guint n = 0;
        GError *error = NULL;
        if (!rules_catch_up(s->daemon->rules, CATCH_UP_BATCH, &n, &error)) {
            g_warning("rules: evaluating the journal failed, retrying in %d ms: %s",
                      CATCH_UP_RETRY_MS, error->message);
            g_error_free(error);
            s->retry_id = g_timeout_add(CATCH_UP_RETRY_MS, on_retry, s);
            return;
        }
        if (n < CATCH_UP_BATCH)
            return;
    }
    /* Let the rest of the main loop run between batches. */
    if (!s->again_id)
        s->again_id = g_idle_add(on_again, s);
}

static void on_committed(gpointer unused, gpointer user_data)
{
    catch_up(user_data);
}

static void subscriber_free(Subscriber *s)
{
    if (!s)
        return;
    mqtt_subscriber_free(s->sub);
    if (s->retry_id)
        g_source_remove(s->retry_id);
    if (s->again_id)
        g_source_remove(s->again_id);
    /* What was journaled last is evaluated now, or at the next start. */
    GError *error = NULL;
    if (!rules_catch_up(s->daemon->rules, 0, NULL, &error)) {
        g_warning("rules: evaluating the journal at shutdown: %s (done at the next start)",
                  error->message);
        g_error_free(error);
    }
    g_free(s->root);
    g_free(s);
}

gboolean app_mqtt_start(AppDaemon *d, gpointer *state, GError **error)
{
    Subscriber *s = g_new0(Subscriber, 1);
    s->daemon = d;
    const char *root = app_config_string(d->config, "mqtt", "topic_root");
    s->root = g_strdup(root && *root ? root : "port");
    /* Inputs journaled and acknowledged before a crash but not evaluated yet. */
    catch_up(s);
    if (!app_config_has_group(d->config, "mqtt")) {
        g_info("no [mqtt] group: no MQTT input");
        subscriber_free(s);
        return TRUE;
    }
    PsMqttOptions o;
    app_mqtt_options(d->config, &o);
    /* Paho keeps what it could not hand over next to the store (not for a memory store). */
    const char *db = app_config_string(d->config, "store", "path");
    g_autofree char *persist = strcmp(db, ":memory:") ? g_strconcat(db, ".mqtt", NULL) : NULL;
    s->sub = mqtt_subscriber_new(&o, persist, d->store, ingest, s, error);
    if (!s->sub) {
        subscriber_free(s);
        return FALSE;
    }
    mqtt_subscriber_set_committed(s->sub, on_committed, s);
    *state = s;
    return TRUE;
}

void app_mqtt_stop(AppDaemon *d, gpointer state)
{
    subscriber_free(state);
}
