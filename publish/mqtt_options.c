/* mqtt_options.c: [mqtt] settings to Paho connect options. */
#include "mqtt-options.h"

#include <string.h>

char *mqtt_options_server_uri(const char *url)
{
    if (g_str_has_prefix(url, "mqtt://"))
        return g_strconcat("tcp://", url + strlen("mqtt://"), NULL);
    if (g_str_has_prefix(url, "mqtts://"))
        return g_strconcat("ssl://", url + strlen("mqtts://"), NULL);
    return g_strdup(url);
}

gboolean mqtt_options_is_tls(const char *url)
{
    return g_str_has_prefix(url, "ssl://") || g_str_has_prefix(url, "mqtts://") ||
           g_str_has_prefix(url, "wss://");
}

void mqtt_options_fill(const PsMqttOptions *o, MQTTAsync_connectOptions *co,
                       MQTTAsync_SSLOptions *ssl)
{
    co->keepAliveInterval = o->keepalive > 0 ? o->keepalive : 30;
    co->cleansession = o->clean_session;
    co->username = o->username;
    co->password = o->password;
    co->connectTimeout = 10;
    co->MQTTVersion = MQTTVERSION_3_1_1;
    co->automaticReconnect = 1;
    co->minRetryInterval = 1;
    co->maxRetryInterval = o->reconnect_max > 0 ? o->reconnect_max : 10;
    if (mqtt_options_is_tls(o->url)) {
        ssl->trustStore = o->cafile;
        ssl->keyStore = o->certfile;
        ssl->privateKey = o->keyfile;
        ssl->enableServerCertAuth = 1;
        ssl->verify = 1; /* the certificate must name the host we asked for */
        ssl->sslVersion = MQTT_SSL_VERSION_TLS_1_2;
        co->ssl = ssl;
    }
}

const char *mqtt_options_strerror(int rc)
{
    const char *s = MQTTAsync_strerror(rc);
    return s ? s : "unknown Paho error";
}
