/* daemon-mqtt.h: the daemon components of app/daemon_mqtt.c (rows of cmd_run.c's table). */
#pragma once

#include "daemon.h"
#include "mqtt-options.h"

G_BEGIN_DECLS

/* The [mqtt] group as connect options (strings borrowed from @config). */
void app_mqtt_options(AppConfig *config, PsMqttOptions *o);

/* The outbox relay: MQTT (with the engine status) and [webhook NAME] endpoints. */
gboolean app_relay_start(AppDaemon *daemon, gpointer *state, GError **error);
void app_relay_stop(AppDaemon *daemon, gpointer state);

/* The MQTT subscriber feeding the rules. Does nothing without an [mqtt] group. */
gboolean app_mqtt_start(AppDaemon *daemon, gpointer *state, GError **error);
void app_mqtt_stop(AppDaemon *daemon, gpointer state);

G_END_DECLS
