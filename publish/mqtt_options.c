/* mqtt_options.c: [mqtt] settings to Paho connect options. */
#include "mqtt-options.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
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

/* ---- naming the reason of a TLS failure ----
 * Paho reports "TCP/TLS connect failure", and OpenSSL's error queue only "certificate verify
 * failed". So on a failure a probe connects once more with the same CA and host name, without
 * aborting on a bad certificate, and logs OpenSSL's verdict on it: "unable to get local issuer
 * certificate" (unknown CA), "certificate has expired", "hostname mismatch", ... */

typedef struct {
    char *url; /* ssl://HOST:PORT */
    char *cafile;
    gsize last_probe; /* monotonic seconds + 1; a probe at most once a minute per connection */
} TlsTarget;

static gpointer tls_probe(gpointer data)
{
    TlsTarget *t = data;
    const char *hostport = strstr(t->url, "://") ? strstr(t->url, "://") + 3 : t->url;
    g_autofree char *host = g_strdup(hostport);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    g_autofree char *target = colon ? g_strdup(hostport) : g_strconcat(hostport, ":8883", NULL);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    if (t->cafile)
        SSL_CTX_load_verify_locations(ctx, t->cafile, NULL);
    else
        SSL_CTX_set_default_verify_paths(ctx);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* finish, then ask for the verdict */
    BIO *bio = BIO_new_ssl_connect(ctx);
    SSL *ssl = NULL;
    BIO_get_ssl(bio, &ssl);
    BIO_set_conn_hostname(bio, target);
    if (!g_hostname_is_ip_address(host)) {
        SSL_set_tlsext_host_name(ssl, host);
        SSL_set1_host(ssl, host);
    } else {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    }
    if (BIO_do_handshake(bio) <= 0) {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        g_warning("TLS with %s failed: the handshake itself fails (%s)", t->url, buf);
    } else {
        long v = SSL_get_verify_result(ssl);
        if (v != X509_V_OK)
            g_warning("TLS with %s failed: the broker's certificate: %s", t->url,
                      X509_verify_cert_error_string(v));
        else
            g_warning("TLS with %s failed, though its certificate verifies against %s: see the "
                      "broker's log (client certificate refused?)", t->url,
                      t->cafile ? t->cafile : "the system CAs");
    }
    BIO_free_all(bio);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return NULL;
}

static int on_tls_error(const char *str, size_t len, void *data)
{
    TlsTarget *t = data;
    gsize now = (gsize)(g_get_monotonic_time() / G_USEC_PER_SEC) + 1;
    gsize last = (gsize)g_atomic_pointer_get(&t->last_probe);
    if (last && now - last < 60)
        return 0;
    if (!g_atomic_pointer_compare_and_exchange(&t->last_probe, last, now))
        return 0;
    g_autofree char *line = g_strndup(str, len);
    g_warning("TLS with %s failed: %s", t->url, g_strchomp(line));
    /* Not on Paho's thread: the probe may wait on the network. */
    g_thread_unref(g_thread_new("tls-probe", tls_probe, t));
    return 0;
}

static TlsTarget *tls_target(const char *url, const char *cafile);

void mqtt_options_explain_tls_failure(const char *url, const char *cafile)
{
    if (!url || !mqtt_options_is_tls(url))
        return;
    TlsTarget *t = tls_target(url, cafile);
    gsize now = (gsize)(g_get_monotonic_time() / G_USEC_PER_SEC) + 1;
    gsize last = (gsize)g_atomic_pointer_get(&t->last_probe);
    if ((last && now - last < 60) ||
        !g_atomic_pointer_compare_and_exchange(&t->last_probe, last, now))
        return;
    g_thread_unref(g_thread_new("tls-probe", tls_probe, t));
}

/* One TlsTarget per (url, cafile) for the life of the process (Paho keeps the pointer for its
 * reconnections). */
static TlsTarget *tls_target(const char *url, const char *cafile)
{
    static GMutex lock;
    static GHashTable *targets;
    g_autofree char *key = g_strconcat(url, "\n", cafile ? cafile : "", NULL);
    g_mutex_lock(&lock);
    if (!targets)
        targets = g_hash_table_new(g_str_hash, g_str_equal);
    TlsTarget *t = g_hash_table_lookup(targets, key);
    if (!t) {
        t = g_new0(TlsTarget, 1);
        t->url = mqtt_options_server_uri(url);
        t->cafile = g_strdup(cafile);
        g_hash_table_insert(targets, g_steal_pointer(&key), t);
    }
    g_mutex_unlock(&lock);
    return t;
}

char **mqtt_options_server_uris(const PsMqttOptions *o)
{
    if (!o->failover || !*o->failover)
        return NULL;
    g_auto(GStrv) more = g_strsplit(o->failover, ",", -1);
    GPtrArray *uris = g_ptr_array_new();
    g_ptr_array_add(uris, mqtt_options_server_uri(o->url));
    for (guint i = 0; more[i]; i++)
        if (*g_strstrip(more[i]))
            g_ptr_array_add(uris, mqtt_options_server_uri(more[i]));
    g_ptr_array_add(uris, NULL);
    return (char **)g_ptr_array_free(uris, FALSE);
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
        ssl->ssl_error_cb = on_tls_error;
        ssl->ssl_error_context = tls_target(o->url, o->cafile);
        co->ssl = ssl;
    }
}

const char *mqtt_options_strerror(int rc)
{
    const char *s = MQTTAsync_strerror(rc);
    return s ? s : "unknown Paho error";
}
