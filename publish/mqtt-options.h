/* mqtt-options.h: how portsight connects to its broker, shared by the subscriber (ingest/mqtt)
 * and the relay (publish/): the [mqtt] configuration turned into Paho connect options. */
#pragma once

#include <MQTTAsync.h>
#include <glib.h>

G_BEGIN_DECLS

/* Every string is borrowed; NULL for "not configured". */
typedef struct {
    const char *url;        /* tcp://, ssl://, mqtt://, mqtts://, ws://, wss:// */
    const char *client_id;
    const char *username;
    const char *password;
    const char *cafile;     /* TLS: trust these CAs (else the system's) */
    const char *certfile;   /* TLS client certificate ... */
    const char *keyfile;    /* ... and its key */
    const char *topic_root; /* "port" */
    gboolean clean_session;
    int keepalive;          /* seconds */
    int reconnect_max;      /* seconds between reconnect attempts at most */
    int lanes;              /* subscriber connections (shared subscription when > 1); 0: 1 */
    const char *failover;   /* more nodes of the broker's cluster, comma-separated URLs, tried
                               in turn after @url (connect and reconnect), or NULL */
} PsMqttOptions;

#define MQTT_MAX_LANES 64

/* The URI Paho understands for @url (mqtt:// is tcp://, mqtts:// is ssl://). Free with g_free. */
char *mqtt_options_server_uri(const char *url);

/* @url then the [mqtt] failover URLs, as Paho URIs, for MQTTAsync_connectOptions.serverURIs
 * (Paho copies them at connect); NULL when there is no failover. Free with g_strfreev. */
char **mqtt_options_server_uris(const PsMqttOptions *o);

/* Whether @url asks for TLS. */
gboolean mqtt_options_is_tls(const char *url);

/* Fills @co (initialised by the caller with MQTTAsync_connectOptions_initializer) and @ssl from
 * @o: credentials, keepalive, clean session, automatic reconnect from 1 s up to reconnect_max,
 * and TLS (server certificate and host name checked) when the URL asks for it. @co points into
 * @o and @ssl afterwards: keep them alive until the connect call returns. */
/* After a failed connection to a TLS @url (ssl://, mqtts://, wss://; others are ignored): logs
 * why, from a probe handshake in the background with @cafile (NULL: the system CAs), at most
 * once a minute per (url, cafile): an unknown CA, an expired certificate, a host name the
 * certificate does not name. Paho itself only says "TCP/TLS connect failure". */
void mqtt_options_explain_tls_failure(const char *url, const char *cafile);

void mqtt_options_fill(const PsMqttOptions *o, MQTTAsync_connectOptions *co,
                       MQTTAsync_SSLOptions *ssl);

/* A Paho return code as text, for messages. */
const char *mqtt_options_strerror(int rc);

G_END_DECLS
