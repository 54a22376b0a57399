/* test_deploy_broker.c: the shipped broker configuration, deploy/mosquitto/ itself (its ports,
 * paths and log destination templated, nothing else changed): inputs queued for a stopped
 * engine survive a broker SIGKILL, and each device may publish only on its own topic. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static EngineRig rig;
static char *certs;

static void setup(void)
{
    rig_setup(&rig, "portsight", NULL);
    certs = g_build_filename(rig.tmp, "etc", NULL);
}

static void teardown(void)
{
    rig_teardown(&rig);
    g_clear_pointer(&certs, g_free);
}

static char *source_file(const char *name)
{
    const char *root = g_getenv("PS_SOURCE_ROOT");
    ck_assert_ptr_nonnull(root);
    return g_build_filename(root, "deploy", "mosquitto", name, NULL);
}

static void replace_once(GString *s, const char *what, const char *with)
{
    ck_assert_msg(g_string_replace(s, what, with, 0) >= 1,
                  "deploy/mosquitto/mosquitto.conf no longer has '%s': update this test", what);
}

/* Certificates (CN = the ACL's users), the shipped ACL files, a password file, and the shipped
 * configuration pointing at them. */
static void start_deploy_broker(void)
{
    g_free(testutil_need_program("openssl", "openssl"));
    g_free(testutil_need_program("mosquitto_passwd", "mosquitto"));
    g_autofree char *gen = source_file("gen-certs.sh");
    const char *argv[] = {gen, certs, "localhost", "portsight", "S1", "S2", "P1", NULL};
    int st = 0;
    ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                           NULL, NULL, &st, NULL));
    ck_assert_msg(g_spawn_check_wait_status(st, NULL), "gen-certs.sh failed");
    const char *acls[] = {"acl", "acl-people"};
    for (guint i = 0; i < G_N_ELEMENTS(acls); i++) {
        g_autofree char *src = source_file(acls[i]);
        g_autofree char *dst = g_build_filename(certs, acls[i], NULL);
        g_autofree char *text = NULL;
        ck_assert(g_file_get_contents(src, &text, NULL, NULL));
        ck_assert(g_file_set_contents(dst, text, -1, NULL));
    }
    g_autofree char *passwd = g_build_filename(certs, "passwd", NULL);
    const char *users[][2] = {{"wall", "wall-pw"}, {"S1", "s1-pw"}};
    for (guint i = 0; i < G_N_ELEMENTS(users); i++) {
        const char *pargv[] = {"mosquitto_passwd", "-b", passwd, users[i][0], users[i][1], NULL};
        if (i == 0) {
            g_autofree char *empty = g_strdup("");
            ck_assert(g_file_set_contents(passwd, empty, 0, NULL));
        }
        ck_assert(g_spawn_sync(NULL, (char **)pargv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, NULL, &st, NULL));
        ck_assert_msg(g_spawn_check_wait_status(st, NULL), "mosquitto_passwd failed");
    }
    g_autofree char *conf_path = source_file("mosquitto.conf");
    g_autofree char *text = NULL;
    ck_assert(g_file_get_contents(conf_path, &text, NULL, NULL));
    GString *c = g_string_new(text);
    g_autofree char *etc = g_strconcat(certs, "/", NULL);
    g_autofree char *var = g_strconcat(rig.tmp, "/", NULL);
    replace_once(c, "/etc/mosquitto/portsight/", etc);
    replace_once(c, "/var/lib/mosquitto/", var);
    replace_once(c, "listener 8883\n", "listener @PORT@ 127.0.0.1\n");
    replace_once(c, "listener 8884\n", "listener @PORT2@ 127.0.0.1\n");
    replace_once(c, "log_dest syslog", "log_dest file @DIR@/mosquitto.log");
    /* As root, mosquitto would switch to its own user, which cannot write into our folder. */
    g_string_append(c, "\nuser @USER@\n");
    rig.broker = broker_start_config(rig.tmp, c->str);
    g_string_free(c, TRUE);
}

static char *tls_url(void)
{
    return g_strdup_printf("ssl://localhost:%d", broker_port(rig.broker));
}

static char *people_url(void)
{
    return g_strdup_printf("ssl://localhost:%d", broker_port2(rig.broker));
}

static char *cert(const char *name, const char *ext)
{
    g_autofree char *file = g_strconcat(name, ext, NULL);
    return g_build_filename(certs, file, NULL);
}

static TestClient *device(const char *cn)
{
    g_autofree char *url = tls_url();
    g_autofree char *ca = cert("ca", ".pem");
    g_autofree char *pem = cert(cn, ".pem");
    g_autofree char *key = cert(cn, ".key");
    g_autofree char *id = g_strdup_printf("dev-%s", cn);
    TestClient *c = test_client_new(url, id, TRUE, ca, pem, key);
    ck_assert_msg(c != NULL, "%s cannot connect", cn);
    return c;
}

static char *engine_conf(void)
{
    g_autofree char *url = tls_url();
    g_autofree char *ca = cert("ca", ".pem");
    g_autofree char *pem = cert("portsight", ".pem");
    g_autofree char *key = cert("portsight", ".key");
    g_autofree char *tls = g_strdup_printf("cafile = %s\ncertfile = %s\nkeyfile = %s\n", ca, pem,
                                           key);
    return rig_engine_config(&rig, url, tls);
}

/* The engine up and subscribed (a wall operator's probe on cmd/select is journaled). */
static TestClient *start_engine_and_wall(void)
{
    g_autofree char *conf = engine_conf();
    rig.engine = engine_start(rig.tmp, conf);
    g_autofree char *url = people_url();
    g_autofree char *ca = cert("ca", ".pem");
    TestClient *wall = test_client_new_login(url, "t-wall", TRUE, ca, "wall", "wall-pw");
    ck_assert_ptr_nonnull(wall);
    rig_wait_engine_ready(&rig, wall);
    return wall;
}

static char *seal(const char *seal_id, const char *tag, guint i)
{
    g_autofree char *id = g_strdup_printf("%s-%u", tag, i);
    return ev_seal(id, seal_id, i, "tampered");
}

START_TEST(test_inputs_queued_for_a_stopped_engine_survive_a_broker_sigkill)
{
    const guint n = 100;
    start_deploy_broker();
    /* The engine's persistent session exists (it subscribed once), then it is stopped. */
    TestClient *wall = start_engine_and_wall();
    test_client_free(wall);
    ck_assert_int_eq(engine_stop(rig.engine), 0);
    g_clear_pointer(&rig.engine, engine_free);
    TestClient *s1 = device("S1");
    for (guint i = 0; i < n; i++) {
        g_autofree char *p = seal("S1", "kept", i);
        test_client_publish(s1, "port/seal/S1", p); /* acknowledged by the broker */
    }
    test_client_free(s1);
    broker_kill(rig.broker);
    broker_start_again(rig.broker);
    g_autofree char *conf = engine_conf();
    rig.engine = engine_start(rig.tmp, conf);
    gint64 got = db_wait(rig.db_path, "SELECT count(*) FROM journal WHERE event_id LIKE 'kept-%'",
                         n, 30);
    fprintf(stderr, "deploy broker: %" G_GINT64_FORMAT " of %u acknowledged inputs reached the "
                    "journal after a broker SIGKILL\n", got, n);
    if (got != n)
        rig_dump_logs(&rig, 3000);
    ck_assert_int_eq(got, n);
    ck_assert_int_eq(engine_stop(rig.engine), 0);
}
END_TEST

START_TEST(test_each_device_publishes_only_on_its_own_topic)
{
    start_deploy_broker();
    TestClient *wall = start_engine_and_wall();
    TestClient *s1 = device("S1"), *p1 = device("P1");
    g_autofree char *own = seal("S1", "own", 1);
    test_client_publish(s1, "port/seal/S1", own);
    /* S1's gateway clearing S2's tamper, a portal writing a seal, a password user named S1. */
    g_autofree char *other = seal("S2", "other", 2);
    test_client_publish(s1, "port/seal/S2", other);
    g_autofree char *portal = seal("P1", "portal", 3);
    test_client_publish(p1, "port/seal/P1x", portal);
    g_autofree char *purl = people_url();
    g_autofree char *ca = cert("ca", ".pem");
    TestClient *pw = test_client_new_login(purl, "t-s1-password", FALSE, ca, "S1", "s1-pw");
    ck_assert_ptr_nonnull(pw);
    g_autofree char *fake = seal("S1", "password", 4);
    test_client_publish(pw, "port/seal/S1", fake);
    g_autofree char *c5 = ev_container(5);
    g_autofree char *rad = g_strdup_printf(
        "{\"id\":\"rad-5\",\"ts\":\"2026-11-26T10:00:00Z\",\"portal\":\"P1\",\"container\":\"%s\","
        "\"result\":\"clear\"}", c5);
    test_client_publish(p1, "port/radiation/P1", rad);
    /* Ordered after the others: once it is in, they would have been too. */
    g_autofree char *last = seal("S1", "own", 6);
    test_client_publish(s1, "port/seal/S1", last);
    ck_assert_int_eq(db_wait(rig.db_path, "SELECT count(*) FROM journal WHERE event_id = 'own-6'",
                             1, 20), 1);
    g_usleep(300 * 1000);
    ck_assert_int_eq(db_scalar(rig.db_path, "SELECT count(*) FROM journal WHERE event_id = 'own-1'"), 1);
    gint64 rad_in = db_scalar(rig.db_path, "SELECT count(*) + (SELECT count(*) FROM dead_letter"
                                           " WHERE topic = 'port/radiation/P1') FROM journal"
                                           " WHERE topic = 'port/radiation/P1'");
    ck_assert_int_eq(rad_in, 1); /* arrived (journaled, or dead-lettered if its fields differ) */
    const char *refused = "SELECT count(*) FROM journal WHERE event_id IN ('other-2',"
                          " 'portal-3', 'password-4')";
    ck_assert_int_eq(db_scalar(rig.db_path, refused), 0);
    ck_assert_int_eq(db_scalar(rig.db_path, "SELECT count(*) FROM dead_letter WHERE event_id IN"
                                            " ('other-2', 'portal-3', 'password-4')"), 0);
    test_client_free(s1);
    test_client_free(p1);
    test_client_free(pw);
    test_client_free(wall);
    ck_assert_int_eq(engine_stop(rig.engine), 0);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_inputs_queued_for_a_stopped_engine_survive_a_broker_sigkill},
    {&test_each_device_publishes_only_on_its_own_topic},
};

TESTUTIL_MAIN("mqtt-deploy", "deploy", 120, TESTUTIL_TESTS(tests), setup, teardown)
