/* test_engine.c: the portsight daemon against a real Mosquitto: order independence through the
 * broker, engine status and its will, TLS with client certificates and an ACL. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "harness.h"
#include "mqtt-subscriber.h"

static EngineRig rig;

/* The order tests send no radiation scan: they run the policy that does not require one. */
static void setup(void)
{
    rig_setup(&rig, "ps-test", "[rules]\nrequire_radiation_clear = false\n");
}

static void teardown(void)
{
    rig_teardown(&rig);
}

/* ---- order independence ---- */

static char *event(guint kind, const char *tag, guint i, const char *status)
{
    g_autofree char *c = ev_container(i);
    switch (kind) {
    case 0:
        return g_strdup_printf("{\"id\":\"%s-cus-%u\",\"ts\":\"2026-11-26T10:00:01Z\","
                               "\"declaration\":\"D-%s-%u\",\"status\":\"%s\","
                               "\"flow\":\"rail-sea\",\"containers\":[\"%s\"]}",
                               tag, i, tag, i, status, c);
    case 1:
        return g_strdup_printf("{\"id\":\"%s-arr-%u\",\"ts\":\"2026-11-26T10:00:02Z\","
                               "\"yard\":\"y1\",\"train\":\"T%u\",\"wagons\":[{\"wagon\":\"W1\","
                               "\"containers\":[\"%s\"]}]}",
                               tag, i, i, c);
    case 2:
        return g_strdup_printf("{\"id\":\"%s-ocr-%u\",\"ts\":\"2026-11-26T10:00:03Z\","
                               "\"camera\":\"cam1\",\"container\":\"%s\",\"confidence\":0.9}",
                               tag, i, c);
    default:
        return g_strdup_printf("{\"id\":\"%s-seal-%u\",\"ts\":\"2026-11-26T10:00:00Z\","
                               "\"seal\":\"S%u\",\"container\":\"%s\",\"state\":\"sealed\"}",
                               tag, i, i, c);
    }
}

static char *event_topic(guint kind, guint i)
{
    const char *fixed[] = {"port/customs/status", "port/rail/y1/arrival", "port/ocr/cam1"};
    return kind < 3 ? g_strdup(fixed[kind]) : g_strdup_printf("port/seal/S%u", i);
}

START_TEST(test_every_arrival_order_through_the_broker_gives_the_same_single_decision)
{
    rig_start_engine_and_clients(&rig, FALSE);

    /* 4 events, 24 orders, once with the declaration released and once held: container i
     * gets permutation i % 24. */
    const char *statuses[] = {"released", "held"};
    int perm[4] = {0, 1, 2, 3};
    guint n = 0;
    for (guint s = 0; s < 2; s++) {
        for (guint k = 0; k < 24; k++, n++) {
            for (guint e = 0; e < 4; e++) {
                g_autofree char *topic = event_topic(perm[e], n);
                g_autofree char *payload = event(perm[e], "ord", n, statuses[s]);
                test_client_publish_async(rig.pub, topic, payload);
            }
            testutil_next_permutation(perm, 4);
        }
        perm[0] = 0, perm[1] = 1, perm[2] = 2, perm[3] = 3;
    }
    test_client_flush(rig.pub);
    gint64 got = db_wait(rig.db_path, "SELECT count(*) FROM journal WHERE event_id LIKE 'ord-%'",
                         4 * 48, 60);
    if (got != 4 * 48)
        rig_dump_logs(&rig, 3000);
    ck_assert_int_eq(got, 4 * 48);
    if (!test_client_wait(rig.obs, "port/", 48, 30))
        rig_dump_logs(&rig, 3000);
    g_usleep(500 * 1000); /* a second decision, if there were one, would be out by now */

    GPtrArray *m = test_client_lock(rig.obs);
    ck_assert_int_eq(m->len, 48);
    for (guint i = 0; i < 48; i++) {
        g_autofree char *c = ev_container(i);
        g_autofree char *want = g_strdup_printf("port/%s/%s", i < 24 ? "release" : "hold", c);
        guint seen = 0;
        for (guint j = 0; j < m->len; j++) {
            TestMessage *msg = m->pdata[j];
            if (strstr(msg->topic, c)) {
                ck_assert_str_eq(msg->topic, want);
                ck_assert_ptr_nonnull(strstr(msg->payload, "\"declaration\""));
                seen++;
            }
        }
        ck_assert_msg(seen == 1, "container %s (order %u): %u decisions", c, i % 24, seen);
    }
    test_client_unlock(rig.obs);
    ck_assert_int_eq(db_scalar(rig.db_path, "SELECT count(*) FROM outbox"), 48);
    ck_assert_int_eq(engine_stop(rig.engine), 0);
}
END_TEST

/* ---- status ---- */

static const char *last_status(TestClient *c)
{
    GPtrArray *m = test_client_lock(c);
    const char *s = m->len ? ((TestMessage *)m->pdata[m->len - 1])->payload : NULL;
    test_client_unlock(c);
    return s;
}

START_TEST(test_engine_status_is_online_while_running_and_its_will_says_offline_after_sigkill)
{
    rig.broker = broker_start(rig.tmp, NULL);
    g_autofree char *conf = rig_engine_config(&rig, broker_url(rig.broker), NULL);
    rig.engine = engine_start(rig.tmp, conf);
    rig.obs = test_client_new(broker_url(rig.broker), "t-obs", FALSE, NULL, NULL, NULL);
    test_client_subscribe(rig.obs, "port/status/engine");
    ck_assert(test_client_wait(rig.obs, "port/status/engine", 1, 20));
    ck_assert_str_eq(last_status(rig.obs), "online");
    engine_kill(rig.engine); /* no goodbye: the broker publishes the will */
    ck_assert(test_client_wait(rig.obs, "port/status/engine", 2, 20));
    ck_assert_str_eq(last_status(rig.obs), "offline");
    /* Retained: a client arriving now learns it too. */
    TestClient *late = test_client_new(broker_url(rig.broker), "t-late", FALSE, NULL, NULL, NULL);
    test_client_subscribe(late, "port/status/engine");
    ck_assert(test_client_wait(late, "port/status/engine", 1, 10));
    ck_assert_str_eq(last_status(late), "offline");
    test_client_free(late);
}
END_TEST

/* ---- the acknowledgement order ---- */

START_TEST(test_paho_older_than_1_3_10_is_refused)
{
    const char *old[] = {"1.3.9", "1.3.0", "1.2.99", "0.9", "", "x1.3.12", NULL};
    const char *ok[] = {"1.3.10", "1.3.11", "1.3.12", "1.4.0", "2.0", NULL};
    for (int i = 0; old[i]; i++) {
        GError *error = NULL;
        ck_assert_msg(!mqtt_subscriber_check_paho(old[i], &error), "%s accepted", old[i]);
        ck_assert_ptr_nonnull(strstr(error->message, "1.3.10"));
        g_error_free(error);
    }
    for (int i = 0; ok[i]; i++)
        ck_assert_msg(mqtt_subscriber_check_paho(ok[i], NULL), "%s refused", ok[i]);
    /* The library this runs with (the build refuses older ones). */
    GError *error = NULL;
    ck_assert_msg(mqtt_subscriber_check_paho(NULL, &error), "%s", error ? error->message : "");
}
END_TEST

/* The engine acknowledges an input only after journaling it: with the store held locked by
 * another connection, a published input cannot be journaled; the engine is SIGKILLed, the
 * lock released, the engine started again: the broker delivers the input again and it is
 * journaled. A subscriber that acknowledged before journaling (Paho < 1.3.10, or the build
 * -Dtest_ack_before_journal=true) loses it. */
START_TEST(test_input_unjournaled_behind_a_locked_store_is_redelivered_after_sigkill)
{
    rig_start_engine_and_clients(&rig, TRUE);
    g_autofree char *conf = rig_engine_config(&rig, broker_url(rig.broker), NULL); /* restart */

    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(rig.db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    g_autofree char *c = ev_container(7);
    g_autofree char *payload =
        g_strdup_printf("{\"id\":\"locked-seal-1\",\"ts\":\"2026-11-26T10:00:00Z\","
                        "\"seal\":\"S7\",\"container\":\"%s\",\"state\":\"tampered\"}", c);
    test_client_publish(rig.pub, "port/seal/S7", payload); /* the broker has it */
    /* The engine has it in hand and cannot write it (its busy timeout is 5 s). */
    g_usleep(2 * G_USEC_PER_SEC);
    const char *sql = "SELECT count(*) FROM journal WHERE event_id = 'locked-seal-1'";
    engine_kill(rig.engine);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    ck_assert_int_eq(db_scalar(rig.db_path, sql), 0);
    g_clear_pointer(&rig.engine, engine_free);
    rig.engine = engine_start(rig.tmp, conf);
    gint64 got = db_wait(rig.db_path, sql, 1, 30);
    if (got != 1)
        rig_dump_logs(&rig, 3000);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(engine_stop(rig.engine), 0);
}
END_TEST

/* An id with a newline in a rejected input cannot forge a log line. */
START_TEST(test_an_id_with_a_newline_cannot_forge_a_log_line)
{
    rig_start_engine_and_clients(&rig, TRUE);
    const char *forged = "portsight: 10:00:00.000 info rules: release approved by customs";
    g_autofree char *payload = g_strdup_printf(
        "{\"id\":\"x\\n%s\\r\\u001b[2K\",\"ts\":\"2026-11-26T10:00:00Z\",\"seal\":\"S1\"}",
        forged);
    test_client_publish(rig.pub, "port/seal/S1", payload);
    ck_assert_int_eq(
        db_wait(rig.db_path, "SELECT count(*) FROM dead_letter WHERE event_id LIKE 'x%'", 1, 20),
        1);
    ck_assert_int_eq(engine_stop(rig.engine), 0);
    g_autofree char *log_path = g_build_filename(rig.tmp, "engine.log", NULL);
    g_autofree char *log = NULL;
    ck_assert(g_file_get_contents(log_path, &log, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
    guint escaped = 0;
    for (guint i = 0; lines[i]; i++) {
        ck_assert_msg(!g_str_has_prefix(lines[i], forged), "forged log line: %s", lines[i]);
        ck_assert_msg(!strchr(lines[i], '\r') && !strchr(lines[i], 0x1b), "raw control: %s",
                      lines[i]);
        if (strstr(lines[i], "id x\\nportsight: 10:00:00.000 info rules: release approved"))
            escaped++;
    }
    ck_assert_int_eq(escaped, 1);
}
END_TEST

/* ---- TLS and ACL ---- */

static void gen_certs(const char *dir, const char *host)
{
    const char *root = g_getenv("PS_SOURCE_ROOT");
    ck_assert_ptr_nonnull(root);
    g_autofree char *script = g_build_filename(root, "deploy", "mosquitto", "gen-certs.sh", NULL);
    const char *argv[] = {script, dir, host, "portsight", NULL};
    int st = 0;
    GError *error = NULL;
    ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                           NULL, NULL, &st, &error));
    ck_assert_msg(g_spawn_check_wait_status(st, NULL), "gen-certs.sh failed");
}

/* Waits until the engine's log has a line with both @a and @b. */
static gboolean log_has(const char *a, const char *b, double timeout_s)
{
    return harness_wait_log(rig.tmp, a, b, timeout_s);
}

/* The rig's broker with a TLS listener that presents @certs/@name.pem (and .key), signed by the
 * CA in @certs. */
static void start_tls_broker(const char *certs, const char *name)
{
    g_autofree char *extra = g_strdup_printf(
        "listener @PORT@\ncafile %s/ca.pem\ncertfile %s/%s.pem\nkeyfile %s/%s.key\n"
        "allow_anonymous true\n", certs, certs, name, certs, name);
    rig.broker = broker_start(rig.tmp, extra);
}

/* The rig's engine against the broker's TLS listener at @host, trusting the CA in @ca_dir. */
static void start_tls_engine(const char *host, const char *ca_dir)
{
    g_autofree char *url = g_strdup_printf("ssl://%s:%d", host, broker_port(rig.broker));
    g_autofree char *tls = g_strdup_printf("cafile = %s/ca.pem\n", ca_dir);
    g_autofree char *conf = rig_engine_config(&rig, url, tls);
    rig.engine = engine_start(rig.tmp, conf);
}

/* A TLS failure names its reason, not only Paho's "TCP/TLS connect failure". */
START_TEST(test_tls_failures_name_the_reason)
{
    g_free(testutil_need_program("openssl", "openssl"));
    g_autofree char *certs = g_build_filename(rig.tmp, "certs", NULL);
    g_autofree char *other = g_build_filename(rig.tmp, "other-ca", NULL);
    gen_certs(certs, "gate.example");
    gen_certs(other, "localhost");
    start_tls_broker(certs, "server");
    start_tls_engine("127.0.0.1", other); /* a CA that did not sign the broker's certificate */
    /* OpenSSL's words for a chain its CA file cannot complete. */
    gboolean unknown_ca = log_has("TLS with ssl://127.0.0.1", "certificate in certificate chain", 20) ||
                          log_has("TLS with ssl://127.0.0.1", "unable to get local issuer", 0);
    engine_stop(rig.engine);
    g_clear_pointer(&rig.engine, engine_free);
    /* The right CA, but the broker's certificate names gate.example, localhost and 127.0.0.1,
     * not 127.0.0.2 (a loopback address too). */
    start_tls_engine("127.0.0.2", certs);
    gboolean wrong_host = log_has("TLS with ssl://127.0.0.2", "IP address mismatch", 20);
    if (!unknown_ca || !wrong_host)
        rig_dump_logs(&rig, 3000);
    ck_assert(unknown_ca);
    ck_assert(wrong_host);
}
END_TEST

/* Signs an expired certificate for the broker (127.0.0.1, localhost) with the CA in @dir:
 * dir/expired.pem, dir/expired.key. OpenSSL 3.0 takes -days -1 (valid from now to a day ago);
 * later ones also -not_before/-not_after. FALSE when neither gives an expired certificate. */
static gboolean sign_expired(const char *dir)
{
    g_autofree char *key = g_build_filename(dir, "expired.key", NULL);
    g_autofree char *csr = g_build_filename(dir, "expired.csr", NULL);
    g_autofree char *pem = g_build_filename(dir, "expired.pem", NULL);
    g_autofree char *ext = g_build_filename(dir, "expired.ext", NULL);
    g_autofree char *ca = g_build_filename(dir, "ca.pem", NULL);
    g_autofree char *cakey = g_build_filename(dir, "ca.key", NULL);
    ck_assert(g_file_set_contents(ext, "basicConstraints = CA:FALSE\n"
                                       "extendedKeyUsage = serverAuth\n"
                                       "subjectAltName = DNS:localhost, IP:127.0.0.1\n",
                                  -1, NULL));
    const char *req[] = {"openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj",
                         "/CN=localhost", "-keyout", key, "-out", csr, NULL};
    const char *by_days[] = {"openssl", "x509", "-req", "-sha256", "-days", "-1", "-in", csr,
                             "-CA", ca, "-CAkey", cakey, "-CAcreateserial", "-extfile", ext,
                             "-out", pem, NULL};
    const char *by_dates[] = {"openssl", "x509", "-req", "-sha256", "-not_before",
                              "20200101000000Z", "-not_after", "20200102000000Z", "-in", csr,
                              "-CA", ca, "-CAkey", cakey, "-CAcreateserial", "-extfile", ext,
                              "-out", pem, NULL};
    const char *expired[] = {"openssl", "x509", "-in", pem, "-noout", "-checkend", "0", NULL};
    const char *const *signs[] = {by_days, by_dates};
    for (guint i = 0; i < G_N_ELEMENTS(signs); i++) {
        int st = 0;
        if (!g_spawn_sync(NULL, (char **)req, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                              G_SPAWN_STDERR_TO_DEV_NULL,
                          NULL, NULL, NULL, NULL, &st, NULL) ||
            !g_spawn_check_wait_status(st, NULL))
            return FALSE;
        if (!g_spawn_sync(NULL, (char **)signs[i], NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                              G_SPAWN_STDERR_TO_DEV_NULL,
                          NULL, NULL, NULL, NULL, &st, NULL) ||
            !g_spawn_check_wait_status(st, NULL))
            continue;
        /* -checkend 0 exits 1 for a certificate that has expired. */
        if (g_spawn_sync(NULL, (char **)expired, NULL,
                         G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                             G_SPAWN_STDERR_TO_DEV_NULL,
                         NULL, NULL, NULL, NULL, &st, NULL) &&
            WIFEXITED(st) && WEXITSTATUS(st) == 1)
            return TRUE;
    }
    return FALSE;
}

/* An expired broker certificate: the engine says so ("certificate has expired"), not only
 * "TCP/TLS connect failure". */
START_TEST(test_tls_failure_against_an_expired_certificate_names_the_reason)
{
    g_free(testutil_need_program("openssl", "openssl"));
    g_autofree char *certs = g_build_filename(rig.tmp, "certs", NULL);
    gen_certs(certs, "localhost");
    if (!sign_expired(certs))
        testutil_skip("this openssl signs no expired certificate (-days -1, -not_after)");
    start_tls_broker(certs, "expired");
    start_tls_engine("127.0.0.1", certs);
    gboolean expired = log_has("TLS with ssl://127.0.0.1", "expired", 20);
    if (!expired)
        rig_dump_logs(&rig, 3000);
    ck_assert_msg(expired, "no log line names the expired certificate");
}
END_TEST

START_TEST(test_tls_engine_connects_with_its_certificate_and_anonymous_clients_cannot_inject)
{
    g_free(testutil_need_program("openssl", "openssl"));
    g_autofree char *certs = g_build_filename(rig.tmp, "certs", NULL);
    const char *root = g_getenv("PS_SOURCE_ROOT");
    ck_assert_ptr_nonnull(root);
    g_autofree char *script = g_build_filename(root, "deploy", "mosquitto", "gen-certs.sh", NULL);
    const char *argv[] = {script, certs, "localhost", "portsight", "gate-1", NULL};
    int st = 0;
    GError *error = NULL;
    ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                           NULL, NULL, &st, &error));
    ck_assert_msg(g_spawn_check_wait_status(st, NULL), "gen-certs.sh failed");
    g_autofree char *ca = g_build_filename(certs, "ca.pem", NULL);
    g_autofree char *acl = g_build_filename(rig.tmp, "acl", NULL);
    /* The ACL of deploy/mosquitto/acl, with the test's users. */
    ck_assert(g_file_set_contents(acl,
                                  "# anonymous (plain listener): read decisions and status only\n"
                                  "topic read port/release/#\ntopic read port/hold/#\n"
                                  "topic read port/status/#\n\n"
                                  "user portsight\ntopic read port/#\n"
                                  "topic write port/release/#\ntopic write port/hold/#\n"
                                  "topic write port/status/#\ntopic write port/ocr/#\n"
                                  "topic write port/alert/#\n\n"
                                  "user gate-1\ntopic write port/#\n",
                                  -1, NULL));
    g_autofree char *extra = g_strdup_printf(
        "listener @PORT@ 127.0.0.1\ncafile %s/ca.pem\ncertfile %s/server.pem\n"
        "keyfile %s/server.key\nrequire_certificate true\nuse_identity_as_username true\n"
        "allow_anonymous false\n\n"
        "listener @PORT2@ 127.0.0.1\nallow_anonymous true\n\n"
        "acl_file %s\n", /* per_listener_settings is false: one ACL for both listeners */
        certs, certs, certs, acl);
    rig.broker = broker_start(rig.tmp, extra);
    g_autofree char *tls_url = g_strdup_printf("ssl://127.0.0.1:%d", broker_port(rig.broker));
    g_autofree char *plain_url = g_strdup_printf("tcp://127.0.0.1:%d", broker_port2(rig.broker));

    g_autofree char *ecert = g_build_filename(certs, "portsight.pem", NULL);
    g_autofree char *ekey = g_build_filename(certs, "portsight.key", NULL);
    g_autofree char *tls = g_strdup_printf("cafile = %s\ncertfile = %s\nkeyfile = %s\n", ca,
                                           ecert, ekey);
    g_autofree char *conf = rig_engine_config(&rig, tls_url, tls);
    rig.engine = engine_start(rig.tmp, conf);

    /* The engine is online over TLS: the anonymous reader sees its status. */
    rig.obs = test_client_new(plain_url, "t-obs", FALSE, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(rig.obs);
    test_client_subscribe(rig.obs, "port/status/engine");
    test_client_subscribe(rig.obs, "port/release/#");
    if (!test_client_wait(rig.obs, "port/status/engine", 1, 20))
        rig_dump_logs(&rig, 3000);
    ck_assert_str_eq(last_status(rig.obs), "online");

    /* Anonymous on the plain listener: the broker drops what it publishes to inputs. */
    TestClient *anon = test_client_new(plain_url, "t-anon", FALSE, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(anon);
    for (guint k = 0; k < 3; k++) {
        g_autofree char *topic = event_topic(k, 7);
        g_autofree char *payload = event(k, "anon", 7, "released");
        test_client_publish(anon, topic, payload);
    }
    test_client_free(anon);

    /* The gate, with its certificate, may: the same container is then released. */
    g_autofree char *gcert = g_build_filename(certs, "gate-1.pem", NULL);
    g_autofree char *gkey = g_build_filename(certs, "gate-1.key", NULL);
    rig.pub = test_client_new(tls_url, "gate-1", FALSE, ca, gcert, gkey);
    ck_assert_ptr_nonnull(rig.pub);
    rig_wait_engine_ready(&rig, rig.pub);
    for (guint k = 0; k < 3; k++) {
        g_autofree char *topic = event_topic(k, 7);
        g_autofree char *payload = event(k, "gate", 7, "released");
        test_client_publish(rig.pub, topic, payload);
    }
    ck_assert(test_client_wait(rig.obs, "port/release/", 1, 20));
    ck_assert_int_eq(
        db_scalar(rig.db_path, "SELECT count(*) FROM journal WHERE event_id LIKE 'gate-%'"), 3);
    ck_assert_int_eq(
        db_scalar(rig.db_path, "SELECT count(*) FROM journal WHERE event_id LIKE 'anon-%'"), 0);

    /* Without a client certificate, no TLS connection at all. */
    TestClient *nocert = test_client_new(tls_url, "t-nocert", FALSE, ca, NULL, NULL);
    ck_assert_msg(nocert == NULL, "a client without a certificate connected");

    ck_assert_int_eq(engine_stop(rig.engine), 0);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_every_arrival_order_through_the_broker_gives_the_same_single_decision},
    {&test_engine_status_is_online_while_running_and_its_will_says_offline_after_sigkill},
    {&test_tls_engine_connects_with_its_certificate_and_anonymous_clients_cannot_inject},
    {&test_paho_older_than_1_3_10_is_refused},
    {&test_tls_failures_name_the_reason},
    {&test_tls_failure_against_an_expired_certificate_names_the_reason},
    {&test_an_id_with_a_newline_cannot_forge_a_log_line},
    {&test_input_unjournaled_behind_a_locked_store_is_redelivered_after_sigkill},
};

TESTUTIL_MAIN("mqtt-engine", "engine", 120, TESTUTIL_TESTS(tests), setup, teardown)
