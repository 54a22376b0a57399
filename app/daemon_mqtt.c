/* daemon_mqtt.c: the daemon's MQTT subscriber (inputs -> rules) and outbox relay (decisions ->
 * MQTT and webhooks) components. */
#define G_LOG_DOMAIN "mqtt"

#include "daemon-mqtt.h"

#include <string.h>

#include "mqtt-subscriber.h"
#include "relay.h"
#include "rules.h"

/* The relay of this process, so the subscriber's rules can wake it after a commit. */
static PsRelay *the_relay;

static void mqtt_options_from_config(AppConfig *config, PsMqttOptions *o)
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
        mqtt_options_from_config(d->config, &mqtt);
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
        };
    }
    PsRelayOptions o = {have_mqtt ? &mqtt : NULL, hooks, n, 0};
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

typedef struct {
    AppDaemon *daemon; /* its rules are the engine's, shared with the other components */
    PsMqttSubscriber *sub;
    guint64 rejected;
} Subscriber;

static gboolean ingest(const char *topic, const char *payload, gsize len, gpointer user_data,
                       GError **error)
{
    Subscriber *s = user_data;
    RulesIngestResult r = {0};
    if (!rules_ingest(s->daemon->rules, topic, payload, (gssize)len, &r, error))
        return FALSE;
    if (r.outcome == RULES_REJECTED)
        s->rejected++;
    rules_ingest_result_clear(&r);
    return TRUE;
}

/* A batch was rolled back: the rules' memory may be ahead of the store. Reload it from the
 * journal (rules_new replays it); the rolled-back messages come again. */
static void on_rollback(gpointer unused, gpointer user_data)
{
    Subscriber *s = user_data;
    GError *error = NULL;
    AppDaemon *d = s->daemon;
    PsRules *fresh = rules_new(d->store, app_config_string(d->config, "mqtt", "topic_root"),
                               &error);
    if (!fresh) {
        g_critical("reloading the rules after a failed commit: %s", error->message);
        g_error_free(error);
        return; /* keep the old state: better than none */
    }
    rules_set_outbox_notify(fresh, on_outbox, NULL);
    rules_free(d->rules);
    d->rules = fresh;
}

static void subscriber_free(Subscriber *s)
{
    if (!s)
        return;
    mqtt_subscriber_free(s->sub); /* it may still hand messages to the rules until now */
    g_free(s);
}

gboolean app_mqtt_start(AppDaemon *d, gpointer *state, GError **error)
{
    if (!app_config_has_group(d->config, "mqtt")) {
        g_info("no [mqtt] group: no MQTT input");
        return TRUE;
    }
    PsMqttOptions o;
    mqtt_options_from_config(d->config, &o);
    Subscriber *s = g_new0(Subscriber, 1);
    s->daemon = d;
    /* Paho keeps what it could not hand over next to the store (not for a memory store). */
    const char *db = app_config_string(d->config, "store", "path");
    g_autofree char *persist = strcmp(db, ":memory:") ? g_strconcat(db, ".mqtt", NULL) : NULL;
    s->sub = mqtt_subscriber_new(&o, persist, d->store, ingest, s, error);
    if (!s->sub) {
        subscriber_free(s);
        return FALSE;
    }
    mqtt_subscriber_set_rollback(s->sub, on_rollback, s);
    *state = s;
    return TRUE;
}

void app_mqtt_stop(AppDaemon *d, gpointer state)
{
    subscriber_free(state);
}
