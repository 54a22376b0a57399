/* test_relay.c: the outbox (store_outbox.c), Standard Webhooks signing, and the relay against a
 * real Mosquitto and a loopback HTTP endpoint. */
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "httpstub.h"
#include "relay.h"
#include "store-outbox.h"
#include "store-private.h"

static Broker *broker;

static void teardown(void)
{
    g_clear_pointer(&broker, broker_free);
    testutil_tmp_teardown();
}

static PsStore *open_store(void)
{
    GError *error = NULL;
    PsStore *s = store_open(testutil_tmp_db, &error);
    ck_assert_no_error(error);
    return s;
}

static gint64 q(PsStore *s, const char *sql)
{
    return testutil_sql_int(store__db(s), sql);
}

static void add(PsStore *s, const char *topic, const char *id, const char *payload)
{
    GError *error = NULL;
    ck_assert(store_outbox_add(s, topic, id, payload, &error));
    ck_assert_no_error(error);
}

/* Runs the default main context until @done(@data) or @timeout_s. */
static gboolean spin_until(gboolean (*done)(gpointer), gpointer data, double timeout_s)
{
    gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
    while (!done(data)) {
        if (g_get_monotonic_time() > end)
            return FALSE;
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    return TRUE;
}

/* ---- outbox ---- */

START_TEST(test_outbox_message_id_is_unique_and_fans_out_to_active_destinations)
{
    PsStore *s = open_store();
    GError *error = NULL;
    gboolean disabled = TRUE;
    ck_assert(store_outbox_register(s, "webhook a", "http://a", &disabled, NULL, &error));
    ck_assert(!disabled);
    add(s, "port/release/C1", "release:C1:D1", "{\"id\":\"release:C1:D1\"}");
    add(s, "port/release/C1", "release:C1:D1", "{\"other\":1}"); /* same id: ignored */
    PsOutboxStats st;
    ck_assert(store_outbox_stats(s, "mqtt", &st, &error));
    ck_assert_int_eq(st.messages, 1);
    ck_assert_int_eq(st.pending, 1);
    ck_assert(store_outbox_stats(s, "webhook a", &st, &error));
    ck_assert_int_eq(st.pending, 1);
    ck_assert_int_eq(q(s, "SELECT count(*) FROM outbox WHERE payload = '{\"other\":1}'"), 0);

    /* A destination that is no longer configured gets nothing new. */
    ck_assert(store_outbox_retire_others(s, NULL, &error));
    add(s, "port/hold/C2", "hold:C2:D2:1", "{}");
    ck_assert(store_outbox_stats(s, "webhook a", &st, &error));
    ck_assert_int_eq(st.pending, 1);
    ck_assert(store_outbox_stats(s, "mqtt", &st, &error));
    ck_assert_int_eq(st.pending, 2);

    /* Missing arguments are errors, not rows. */
    ck_assert(!store_outbox_add(s, "port/x", NULL, "{}", &error));
    ck_assert_int_eq(error->code, STORE_ERROR_INVALID);
    g_clear_error(&error);
    store_close(s);
}
END_TEST

START_TEST(test_outbox_delivery_is_marked_not_deleted_and_failures_are_counted)
{
    PsStore *s = open_store();
    GError *error = NULL;
    add(s, "port/release/C1", "m1", "{}");
    add(s, "port/release/C2", "m2", "{}");
    g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func((GDestroyNotify)store_outbox_item_free);
    ck_assert(store_outbox_due(s, "mqtt", g_get_real_time(), 0, 10, due, &error));
    ck_assert_int_eq(due->len, 2);
    PsOutboxItem *first = due->pdata[0];
    ck_assert_str_eq(first->msg_id, "m1");
    gint64 later = g_get_real_time() + 60 * G_USEC_PER_SEC;
    ck_assert(store_outbox_mark_failed(s, "mqtt", first->seq, later, "HTTP 500", &error));
    ck_assert(store_outbox_mark_delivered(s, "mqtt", ((PsOutboxItem *)due->pdata[1])->seq, 7,
                                          &error));
    /* Marking again keeps the first time. */
    ck_assert(store_outbox_mark_delivered(s, "mqtt", ((PsOutboxItem *)due->pdata[1])->seq, 9,
                                          &error));
    ck_assert_int_eq(q(s, "SELECT delivered_at FROM outbox_delivery WHERE seq = 2"), 7);
    g_ptr_array_set_size(due, 0);
    ck_assert(store_outbox_due(s, "mqtt", g_get_real_time(), 0, 10, due, &error));
    ck_assert_int_eq(due->len, 0); /* m1 waits for its next attempt, m2 is delivered */
    gint64 when = 0;
    ck_assert(store_outbox_next_due(s, "mqtt", &when, &error));
    ck_assert_int_eq(when, later);
    PsOutboxStats st;
    ck_assert(store_outbox_stats(s, "mqtt", &st, &error));
    ck_assert_int_eq(st.delivered, 1);
    ck_assert_int_eq(st.pending, 1);
    ck_assert_int_eq(st.failed_attempts, 1);
    ck_assert_int_eq(q(s, "SELECT count(*) FROM outbox"), 2);
    /* The outbox is append-only, like the journal. */
    ck_assert(!store__exec(store__db(s), "DELETE FROM outbox", &error));
    g_clear_error(&error);
    store_close(s);
}
END_TEST

START_TEST(test_outbox_disabled_endpoint_keeps_queueing_and_stays_disabled_until_its_url_changes)
{
    GError *error = NULL;
    PsStore *s = open_store();
    ck_assert(store_outbox_register(s, "webhook a", "http://a", NULL, NULL, &error));
    ck_assert(store_outbox_disable(s, "webhook a", "HTTP 410", &error));
    add(s, "port/release/C1", "m1", "{}");
    store_close(s);

    s = open_store();
    gboolean disabled = FALSE;
    g_autofree char *reason = NULL;
    ck_assert(store_outbox_register(s, "webhook a", "http://a", &disabled, &reason, &error));
    ck_assert(disabled);
    ck_assert_str_eq(reason, "HTTP 410");
    PsOutboxStats st;
    ck_assert(store_outbox_stats(s, "webhook a", &st, &error));
    ck_assert_int_eq(st.pending, 1); /* queued for it while disabled, not lost */
    ck_assert(store_outbox_register(s, "webhook a", "http://b", &disabled, NULL, &error));
    ck_assert(!disabled);
    add(s, "port/release/C2", "m2", "{}");
    ck_assert(store_outbox_stats(s, "webhook a", &st, &error));
    ck_assert_int_eq(st.pending, 2);
    store_close(s);
}
END_TEST

/* ---- signing ---- */

START_TEST(test_webhook_signature_matches_the_standard_webhooks_test_vector)
{
    /* The example of the Standard Webhooks specification (also checked with openssl dgst). */
    GError *error = NULL;
    g_autoptr(GBytes) key = relay_webhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &error);
    ck_assert_no_error(error);
    const char *body = "{\"test\": 2432232314}";
    g_autofree char *sig = relay_webhook_signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                                   "1614265330", body, strlen(body));
    ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* Without the prefix, the same key. */
    g_autoptr(GBytes) bare = relay_webhook_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &error);
    ck_assert(g_bytes_equal(key, bare));
}
END_TEST

START_TEST(test_webhook_secret_that_is_not_base64_is_refused)
{
    const char *bad[] = {"", "whsec_", "not base64!", "abc", "whsec_ab=c", "ab==cd=="};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *error = NULL;
        GBytes *key = relay_webhook_key(bad[i], &error);
        ck_assert_msg(key == NULL, "'%s' accepted", bad[i]);
        ck_assert_int_eq(error->code, RELAY_ERROR_CONFIG);
        g_error_free(error);
    }
}
END_TEST

/* ---- relay to MQTT ---- */

typedef struct {
    const char *db;
    const char *sql;
    gint64 want;
} DbCond;

static gboolean db_reached(gpointer data)
{
    DbCond *c = data;
    return db_scalar(c->db, c->sql) >= c->want;
}

/* A relay of @s's outbox to the broker, as client "relay-test" under "port". */
static PsRelay *mqtt_relay(PsStore *s, int keepalive)
{
    PsMqttOptions mo = {.url = broker_url(broker), .client_id = "relay-test", .topic_root = "port",
                        .keepalive = keepalive, .reconnect_max = 1};
    PsRelayOptions ro = {.mqtt = &mo};
    GError *error = NULL;
    PsRelay *relay = relay_new(s, &ro, &error);
    ck_assert_no_error(error);
    return relay;
}

START_TEST(test_relay_publishes_pending_rows_and_marks_them_after_the_puback)
{
    broker = broker_start(testutil_tmp_dir, NULL);
    TestClient *sub = test_client_new(broker_url(broker), "t-sub", FALSE, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(sub);
    test_client_subscribe(sub, "port/#");

    PsStore *s = open_store();
    add(s, "port/release/PSTU0000011", "release:a", "{\"id\":\"release:a\"}");
    add(s, "port/hold/PSTU0000022", "hold:b", "{\"id\":\"hold:b\"}");
    PsRelay *relay = mqtt_relay(s, 10);

    DbCond c = {testutil_tmp_db,
                "SELECT count(*) FROM outbox_delivery WHERE delivered_at IS NOT NULL", 2};
    ck_assert_msg(spin_until(db_reached, &c, 15), "rows not marked delivered");
    ck_assert(test_client_wait(sub, "port/release/PSTU0000011", 1, 10));
    ck_assert(test_client_wait(sub, "port/hold/PSTU0000022", 1, 10));
    ck_assert(test_client_wait(sub, "port/status/engine", 1, 10));

    /* New rows go out after a kick. */
    add(s, "port/release/PSTU0000033", "release:c", "{\"id\":\"release:c\"}");
    relay_kick(relay);
    c.want = 3;
    ck_assert(spin_until(db_reached, &c, 15));
    ck_assert(test_client_wait(sub, "port/release/PSTU0000033", 1, 10));

    /* A late subscriber sees the retained status: online while the relay runs. */
    TestClient *late = test_client_new(broker_url(broker), "t-late", FALSE, NULL, NULL, NULL);
    test_client_subscribe(late, "port/status/#");
    ck_assert(test_client_wait(late, "port/status/engine", 1, 10));
    GPtrArray *m = test_client_lock(late);
    ck_assert_str_eq(((TestMessage *)m->pdata[0])->payload, "online");
    ck_assert(((TestMessage *)m->pdata[0])->retained);
    test_client_unlock(late);
    test_client_free(late);

    /* A clean stop says offline (retained). */
    relay_free(relay);
    late = test_client_new(broker_url(broker), "t-late2", FALSE, NULL, NULL, NULL);
    test_client_subscribe(late, "port/status/#");
    ck_assert(test_client_wait(late, "port/status/engine", 1, 10));
    m = test_client_lock(late);
    ck_assert_str_eq(((TestMessage *)m->pdata[0])->payload, "offline");
    test_client_unlock(late);
    test_client_free(late);
    test_client_free(sub);
    store_close(s);
}
END_TEST

START_TEST(test_relay_marks_nothing_while_the_broker_is_down_and_catches_up_after)
{
    broker = broker_start(testutil_tmp_dir, NULL);
    PsStore *s = open_store();
    PsRelay *relay = mqtt_relay(s, 5);
    TestClient *sub = test_client_new(broker_url(broker), "t-sub", TRUE, NULL, NULL, NULL);
    test_client_subscribe(sub, "port/release/#");
    broker_stop(broker);
    for (int i = 0; i < 50; i++) {
        g_autofree char *topic = g_strdup_printf("port/release/C%d", i);
        g_autofree char *id = g_strdup_printf("release:%d", i);
        add(s, topic, id, "{}");
    }
    relay_kick(relay);
    gint64 end = g_get_monotonic_time() + G_USEC_PER_SEC;
    while (g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    ck_assert_int_eq(db_scalar(testutil_tmp_db, "SELECT count(*) FROM outbox_delivery"
                                        " WHERE delivered_at IS NOT NULL"), 0);
    broker_restart(broker);
    DbCond c = {testutil_tmp_db,
                "SELECT count(*) FROM outbox_delivery WHERE delivered_at IS NOT NULL", 50};
    ck_assert_msg(spin_until(db_reached, &c, 30), "not all delivered after the restart");
    if (!test_client_wait(sub, "port/release/", 50, 15)) {
        g_autofree char *logp = testutil_tmp_path("mosquitto.log");
        g_autofree char *log = NULL;
        g_file_get_contents(logp, &log, NULL, NULL);
        fprintf(stderr, "DEBUG got %u\n%s\n", test_client_count(sub, "port/release/"), log);
        ck_abort();
    }
    relay_free(relay);
    test_client_free(sub);
    store_close(s);
}
END_TEST

/* A broker that keeps the relay's first connection (answers CONNECT and PINGREQ) but
 * acknowledges none of its publishes, and acknowledges everything on later connections. */
typedef struct {
    GSocketListener *listener;
    GCancellable *stop;
    int port;
    gint connections, muted, acked; /* atomic */
} MuteBroker;

typedef struct {
    MuteBroker *b;
    GSocketConnection *conn;
    int index;
} MuteConn;

static gboolean read_all(GInputStream *in, guint8 *buf, gsize n)
{
    gsize got = 0;
    return n == 0 || (g_input_stream_read_all(in, buf, n, &got, NULL, NULL) && got == n);
}

static gpointer mute_conn_thread(gpointer data)
{
    MuteConn *mc = data;
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(mc->conn));
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(mc->conn));
    guint8 head, body[65536];
    while (read_all(in, &head, 1)) {
        gsize len = 0;
        guint8 b = 0x80;
        for (int shift = 0; shift < 28 && (b & 0x80); shift += 7) {
            if (!read_all(in, &b, 1))
                goto done;
            len |= (gsize)(b & 0x7f) << shift;
        }
        if (len > sizeof body || !read_all(in, body, len))
            break;
        guint8 reply[4];
        gsize reply_len = 0;
        switch (head & 0xf0) {
        case 0x10: /* CONNECT: CONNACK, accepted */
            reply_len = 4, reply[0] = 0x20, reply[1] = 2, reply[2] = 0, reply[3] = 0;
            break;
        case 0x30: /* PUBLISH */
            if (((head >> 1) & 3) == 1 && len >= 2) {
                gsize topic_len = (gsize)body[0] << 8 | body[1];
                if (len < 2 + topic_len + 2)
                    break;
                if (mc->index == 0) {
                    g_atomic_int_inc(&mc->b->muted);
                    break;
                }
                g_atomic_int_inc(&mc->b->acked);
                reply_len = 4, reply[0] = 0x40, reply[1] = 2;
                reply[2] = body[2 + topic_len], reply[3] = body[3 + topic_len];
            }
            break;
        case 0xc0: /* PINGREQ */
            reply_len = 2, reply[0] = 0xd0, reply[1] = 0;
            break;
        case 0xe0: /* DISCONNECT */
            goto done;
        }
        if (reply_len && !g_output_stream_write_all(out, reply, reply_len, NULL, NULL, NULL))
            break;
    }
done:
    g_io_stream_close(G_IO_STREAM(mc->conn), NULL, NULL);
    g_object_unref(mc->conn);
    g_free(mc);
    return NULL;
}

static gpointer mute_accept_thread(gpointer data)
{
    MuteBroker *b = data;
    GSocketConnection *conn;
    while ((conn = g_socket_listener_accept(b->listener, NULL, b->stop, NULL))) {
        MuteConn *mc = g_new0(MuteConn, 1);
        *mc = (MuteConn){b, conn, g_atomic_int_add(&b->connections, 1)};
        g_thread_unref(g_thread_new("mute-conn", mute_conn_thread, mc));
    }
    return NULL;
}

START_TEST(test_relay_connects_again_when_the_broker_acknowledges_nothing)
{
    MuteBroker b = {.listener = g_socket_listener_new(), .stop = g_cancellable_new()};
    GError *error = NULL;
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
    g_autoptr(GSocketAddress) bound = NULL;
    ck_assert(g_socket_listener_add_address(b.listener, any, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error));
    ck_assert_no_error(error);
    b.port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    GThread *acceptor = g_thread_new("mute-accept", mute_accept_thread, &b);

    PsStore *s = open_store();
    for (int i = 0; i < 3; i++) {
        g_autofree char *topic = g_strdup_printf("port/release/C%d", i);
        g_autofree char *id = g_strdup_printf("release:%d", i);
        add(s, topic, id, "{}");
    }
    g_autofree char *url = g_strdup_printf("tcp://127.0.0.1:%d", b.port);
    /* keepalive 2 s: a connection that acknowledges nothing for 10 s is given up. */
    PsMqttOptions mo = {.url = url, .client_id = "relay-mute", .topic_root = "port",
                        .keepalive = 2, .reconnect_max = 1};
    PsRelayOptions ro = {.mqtt = &mo};
    PsRelay *relay = relay_new(s, &ro, &error);
    ck_assert_no_error(error);
    DbCond c = {testutil_tmp_db,
                "SELECT count(*) FROM outbox_delivery WHERE delivered_at IS NOT NULL", 3};
    gboolean delivered = spin_until(db_reached, &c, 40);
    relay_free(relay);
    store_close(s);
    g_cancellable_cancel(b.stop);
    g_thread_join(acceptor);
    g_socket_listener_close(b.listener);
    g_object_unref(b.listener);
    g_object_unref(b.stop);
    printf("mute broker: %d connections, %d publishes unacknowledged, %d acknowledged\n",
           g_atomic_int_get(&b.connections), g_atomic_int_get(&b.muted),
           g_atomic_int_get(&b.acked));
    ck_assert_msg(delivered, "the rows the broker never acknowledged were not sent again");
    ck_assert_int_ge(g_atomic_int_get(&b.muted), 3);
    ck_assert_int_ge(g_atomic_int_get(&b.connections), 2);
    ck_assert_int_ge(g_atomic_int_get(&b.acked), 3);
}
END_TEST

/* ---- webhooks ---- */

/* An independent check of the headers: HMAC-SHA256 over "id.timestamp.body" with the decoded
 * secret, base64, "v1," in front. */
static void assert_signed(GHashTable *req, const guint8 *key, gsize key_len)
{
    const char *id = g_hash_table_lookup(req, "webhook-id");
    const char *ts = g_hash_table_lookup(req, "webhook-timestamp");
    const char *sig = g_hash_table_lookup(req, "webhook-signature");
    const char *body = g_hash_table_lookup(req, "body");
    ck_assert_ptr_nonnull(id);
    ck_assert_ptr_nonnull(ts);
    ck_assert_ptr_nonnull(sig);
    gint64 t = g_ascii_strtoll(ts, NULL, 10);
    ck_assert_int_lt(ABS(t - g_get_real_time() / G_USEC_PER_SEC), 60);
    g_autofree char *msg = g_strdup_printf("%s.%s.%s", id, ts, body);
    g_autoptr(GHmac) h = g_hmac_new(G_CHECKSUM_SHA256, key, key_len);
    g_hmac_update(h, (const guchar *)msg, -1);
    guint8 d[32];
    gsize dl = 32;
    g_hmac_get_digest(h, d, &dl);
    g_autofree char *b64 = g_base64_encode(d, dl);
    g_autofree char *want = g_strconcat("v1,", b64, NULL);
    ck_assert_str_eq(sig, want);
    ck_assert_str_eq(g_hash_table_lookup(req, "content-type"), "application/json");
    ck_assert(g_str_has_prefix(g_hash_table_lookup(req, "request-line"), "POST /hook "));
}

START_TEST(test_webhook_500_is_retried_with_backoff_then_delivered_with_valid_signatures)
{
    static int statuses[] = {500, 503, 200};
    Http *http = http_start(statuses, G_N_ELEMENTS(statuses));
    PsStore *s = open_store();
    const guint8 key[] = "0123456789abcdef0123456789abcdef";
    g_autofree char *secret64 = g_base64_encode(key, 32);
    g_autofree char *secret = g_strconcat("whsec_", secret64, NULL);
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d/hook", http->port);
    PsWebhookOptions wo = {.name = "gate", .url = url, .secret = secret, .timeout = 5};
    PsRelayOptions ro = {.webhooks = &wo, .n_webhooks = 1, .retry_base = 0.2};
    GError *error = NULL;
    PsRelay *relay = relay_new(s, &ro, &error);
    ck_assert_no_error(error);
    const char *body = "{\"id\":\"release:PSTU1:D1\",\"container\":\"PSTU1\"}";
    add(s, "port/release/PSTU1", "release:PSTU1:D1", body);
    relay_kick(relay);
    DbCond c = {testutil_tmp_db,
                "SELECT count(*) FROM outbox_delivery WHERE destination = 'webhook gate'"
                " AND delivered_at IS NOT NULL", 1};
    ck_assert_msg(spin_until(db_reached, &c, 20), "not delivered after 500, 503, 200");
    ck_assert_int_eq(http_count(http), 3);
    ck_assert_int_eq(db_scalar(testutil_tmp_db, "SELECT attempts FROM outbox_delivery"
                                        " WHERE destination = 'webhook gate'"), 2);
    g_mutex_lock(&http->lock);
    for (guint i = 0; i < http->requests->len; i++) {
        GHashTable *req = http->requests->pdata[i];
        assert_signed(req, key, 32);
        ck_assert_str_eq(g_hash_table_lookup(req, "webhook-id"), "release:PSTU1:D1");
        ck_assert_str_eq(g_hash_table_lookup(req, "body"), body);
    }
    g_mutex_unlock(&http->lock);
    relay_free(relay);
    store_close(s);
    http_free(http);
}
END_TEST

START_TEST(test_webhook_410_disables_the_endpoint_across_restarts)
{
    static int statuses[] = {410};
    Http *http = http_start(statuses, 1);
    PsStore *s = open_store();
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d/hook", http->port);
    PsWebhookOptions wo = {.name = "gone", .url = url, .secret = "c2VjcmV0", .timeout = 5};
    PsRelayOptions ro = {.webhooks = &wo, .n_webhooks = 1, .retry_base = 0.1};
    GError *error = NULL;
    PsRelay *relay = relay_new(s, &ro, &error);
    ck_assert_no_error(error);
    add(s, "port/release/A", "m1", "{}");
    add(s, "port/release/B", "m2", "{}");
    relay_kick(relay);
    DbCond c = {testutil_tmp_db,
                "SELECT count(*) FROM outbox_destination WHERE name = 'webhook gone'"
                " AND disabled_at IS NOT NULL", 1};
    ck_assert(spin_until(db_reached, &c, 10));
    /* Give it time to (wrongly) send more. */
    gint64 end = g_get_monotonic_time() + 500 * 1000;
    while (g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    ck_assert_int_eq(http_count(http), 1);
    relay_free(relay);

    /* After a restart with the same URL, still disabled: nothing is sent. */
    add(s, "port/release/C", "m3", "{}");
    relay = relay_new(s, &ro, &error);
    ck_assert_no_error(error);
    end = g_get_monotonic_time() + 500 * 1000;
    while (g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    ck_assert_int_eq(http_count(http), 1);
    relay_free(relay);
    /* A and B, and C decided while it was disabled: all kept for it. */
    ck_assert_int_eq(db_scalar(testutil_tmp_db, "SELECT count(*) FROM outbox_delivery WHERE"
                                        " destination = 'webhook gone' AND delivered_at IS NULL"), 3);
    store_close(s);
    http_free(http);
}
END_TEST

static void spin_for(double seconds)
{
    gint64 end = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
    while (g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
}

/* An endpoint that answers 503 for a while, then 410, then is enabled again from another
 * connection (as `portsight webhook enable` does) and answers 200. */
START_TEST(test_webhook_503_pauses_the_endpoint_410_keeps_queueing_enable_delivers_in_order)
{
    static int statuses[] = {503};
    Http *http = http_start(statuses, 1);
    PsStore *s = open_store();
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d/hook", http->port);
    PsWebhookOptions wo = {.name = "gate", .url = url, .secret = "c2VjcmV0", .timeout = 5,
                           .retry_max = 0.4};
    PsRelayOptions ro = {.webhooks = &wo, .n_webhooks = 1, .retry_base = 0.1};
    GError *error = NULL;
    PsRelay *relay = relay_new(s, &ro, &error);
    ck_assert_no_error(error);
    /* 20 decisions, and things the gate did not ask for (default topics: release, hold). */
    for (int i = 0; i < 20; i++) {
        g_autofree char *id = g_strdup_printf("m%02d", i);
        g_autofree char *topic = g_strdup_printf("port/%s/C%d", i % 2 ? "hold" : "release", i);
        add(s, topic, id, "{}");
        g_autofree char *other = g_strdup_printf("x%02d", i);
        add(s, i % 2 ? "port/ocr/cam1" : "port/status/camera-cam1", other, "{}");
    }
    spin_for(2.0);
    /* Down for 2 s: one attempt per backoff step (>= 0.05, 0.1, 0.2, 0.2 ... s), all at the
     * oldest message; per-message backoff tried each of the 20 at once. */
    guint during = http_count(http);
    fprintf(stderr, "%u attempts in 2 s of 503 with 20 messages queued\n", during);
    ck_assert_msg(during >= 3 && during <= 14, "%u attempts in 2 s of 503", during);
    g_mutex_lock(&http->lock);
    for (guint i = 0; i < http->requests->len; i++)
        ck_assert_str_eq(g_hash_table_lookup(http->requests->pdata[i], "webhook-id"), "m00");
    g_mutex_unlock(&http->lock);

    /* 410: disabled; what is decided meanwhile is queued for it. */
    g_atomic_int_set(&http->status, 410);
    DbCond c = {testutil_tmp_db,
                "SELECT count(*) FROM outbox_destination WHERE name = 'webhook gate'"
                " AND disabled_at IS NOT NULL", 1};
    ck_assert(spin_until(db_reached, &c, 10));
    guint at_410 = http_count(http);
    add(s, "port/release/C20", "m20", "{}");
    spin_for(0.5);
    ck_assert_int_eq(http_count(http), at_410);

    /* Enabled from another connection: the running relay notices and delivers all 21, in order,
     * and nothing else. */
    g_atomic_int_set(&http->status, 200);
    PsStore *other = store_open(testutil_tmp_db, &error);
    ck_assert_no_error(error);
    gboolean found = FALSE;
    ck_assert(store_outbox_enable(other, "webhook gate", &found, &error));
    ck_assert(found);
    store_close(other);
    DbCond all = {testutil_tmp_db,
                  "SELECT count(*) FROM outbox_delivery WHERE destination = 'webhook gate'"
                  " AND delivered_at IS NOT NULL", 21};
    ck_assert_msg(spin_until(db_reached, &all, 20), "not all delivered after enable");
    ck_assert_int_eq(db_scalar(testutil_tmp_db, "SELECT count(*) FROM outbox_delivery WHERE"
                                        " destination = 'webhook gate'"), 21);
    g_mutex_lock(&http->lock);
    guint n = http->requests->len;
    ck_assert_uint_eq(n, at_410 + 21);
    for (guint i = at_410; i < n; i++) {
        g_autofree char *want = g_strdup_printf("m%02u", i - at_410);
        ck_assert_str_eq(g_hash_table_lookup(http->requests->pdata[i], "webhook-id"), want);
    }
    g_mutex_unlock(&http->lock);
    relay_free(relay);
    store_close(s);
    http_free(http);
}
END_TEST

static const TestutilTest outbox[] = {
    {&test_outbox_message_id_is_unique_and_fans_out_to_active_destinations},
    {&test_outbox_delivery_is_marked_not_deleted_and_failures_are_counted},
    {&test_outbox_disabled_endpoint_keeps_queueing_and_stays_disabled_until_its_url_changes},
    {&test_webhook_signature_matches_the_standard_webhooks_test_vector},
    {&test_webhook_secret_that_is_not_base64_is_refused},
};

static const TestutilTest delivery[] = {
    {&test_relay_publishes_pending_rows_and_marks_them_after_the_puback},
    {&test_relay_marks_nothing_while_the_broker_is_down_and_catches_up_after},
    {&test_relay_connects_again_when_the_broker_acknowledges_nothing},
    {&test_webhook_500_is_retried_with_backoff_then_delivered_with_valid_signatures},
    {&test_webhook_410_disables_the_endpoint_across_restarts},
    {&test_webhook_503_pauses_the_endpoint_410_keeps_queueing_enable_delivers_in_order},
};

static const TestutilCase tcases[] = {
    {"outbox", 60, TESTUTIL_TESTS(outbox), testutil_tmp_setup, teardown},
    {"delivery", 90, TESTUTIL_TESTS(delivery), testutil_tmp_setup, teardown},
};

int main(void)
{
    return testutil_run_cases("relay", tcases, G_N_ELEMENTS(tcases));
}
