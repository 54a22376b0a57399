/* test_release_path.c: the arrival -> release path at a terminal, with a real Mosquitto: every
 * topic under a non-default topic root, a file camera's read releasing a container whose papers
 * are in, the release on the broker within a second of the read, a webhook that receives the
 * decisions only; and a decision made by another process (`portsight db import`) published
 * within a second with no other input. */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "httpstub.h"

#define ROOT "t9/port"
#define CODE "PSTU2001016" /* on a wagon of the shipped rail-1.mp4 */

static char *tmp;
static char *db_path;
static Broker *broker;
static Engine *engine;
static TestClient *obs, *pub;
static Http *http;

static void setup(void)
{
    tmp = testutil_tmpdir();
    db_path = g_build_filename(tmp, "engine.db", NULL);
}

static void teardown(void)
{
    g_clear_pointer(&obs, test_client_free);
    g_clear_pointer(&pub, test_client_free);
    g_clear_pointer(&engine, engine_free);
    g_clear_pointer(&broker, broker_free);
    g_clear_pointer(&http, http_free);
    if (g_getenv("PS_KEEP_TMP"))
        fprintf(stderr, "kept %s\n", tmp);
    else
        testutil_rmtree(tmp);
    g_clear_pointer(&tmp, g_free);
    g_clear_pointer(&db_path, g_free);
}

/* The webhook receiver (answering 200), the broker, an observer subscribed to everything under
 * ROOT and a publisher (all stopped by teardown). */
static void start_services(void)
{
    static int ok[] = {200};
    http = http_start(ok, 1);
    broker = broker_start(tmp, NULL);
    obs = test_client_new(broker_url(broker), "t9-obs", FALSE, NULL, NULL, NULL);
    pub = test_client_new(broker_url(broker), "t9-pub", FALSE, NULL, NULL, NULL);
    ck_assert(obs && pub);
    test_client_subscribe(obs, ROOT "/#");
}

static char *config(const char *camera_clip)
{
    GString *c = g_string_new(NULL);
    g_string_append_printf(c,
                           "[store]\npath = %s\nsync = normal\n\n[mqtt]\nurl = %s\n"
                           "client_id = ps-t9\ntopic_root = " ROOT "\nkeepalive = 5\n"
                           "reconnect_max = 1\n\n[webhook gate]\nurl = http://127.0.0.1:%d/hook\n"
                           "secret = c2VjcmV0\n",
                           db_path, broker_url(broker), http->port);
    if (camera_clip)
        g_string_append_printf(c, "\n[camera rail]\nuri = file://%s\n", camera_clip);
    return g_string_free(c, FALSE);
}

/* Polls until a message whose topic starts with @prefix has arrived; its arrival time (real
 * clock, within ~2 ms) in *@at_us and its payload (newly allocated). NULL on timeout. */
static char *wait_message(const char *prefix, double timeout_s, gint64 *at_us)
{
    gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
    while (g_get_monotonic_time() < end) {
        GPtrArray *m = test_client_lock(obs);
        for (guint i = 0; i < m->len; i++) {
            TestMessage *tm = m->pdata[i];
            if (g_str_has_prefix(tm->topic, prefix)) {
                char *p = g_strdup(tm->payload);
                test_client_unlock(obs);
                *at_us = g_get_real_time();
                return p;
            }
        }
        test_client_unlock(obs);
        g_usleep(2000);
    }
    return NULL;
}

static gint64 ts_us(const char *payload, const char *member)
{
    g_autoptr(JsonParser) p = json_parser_new();
    ck_assert(json_parser_load_from_data(p, payload, -1, NULL));
    const char *ts = json_object_get_string_member(json_node_get_object(json_parser_get_root(p)),
                                                   member);
    g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(ts, NULL);
    ck_assert_msg(t != NULL, "%s: '%s' is not RFC 3339", member, ts);
    return g_date_time_to_unix(t) * G_USEC_PER_SEC + g_date_time_get_microsecond(t);
}

static const char customs[] =
    "{\"id\":\"t9-cus\",\"ts\":\"2026-11-26T08:00:00Z\",\"declaration\":\"DEC-T9\","
    "\"status\":\"released\",\"flow\":\"rail-sea\",\"containers\":[\"" CODE "\"],"
    "\"vessel\":{\"name\":\"PS TEST\",\"imo\":9700005}}";
static const char arrival[] =
    "{\"id\":\"t9-arr\",\"ts\":\"2026-11-26T08:05:00Z\",\"yard\":\"Y1\",\"train\":\"T-9\","
    "\"wagons\":[{\"wagon\":\"W1\",\"containers\":[\"" CODE "\"]}]}";
static const char radiation[] =
    "{\"id\":\"t9-rad\",\"ts\":\"2026-11-26T08:06:00Z\",\"portal\":\"RP1\",\"container\":\"" CODE
    "\",\"result\":\"clear\"}";
static const char seal[] =
    "{\"id\":\"t9-seal\",\"ts\":\"2026-11-26T08:06:30Z\",\"seal\":\"ES1\",\"container\":\"" CODE
    "\",\"state\":\"sealed\"}";

/* One event to publish: its topic and payload. */
typedef struct {
    const char *topic;
    const char *payload;
} Event;

/* Publishes the @n @events in order. */
static void publish_all(const Event *events, size_t n)
{
    for (size_t i = 0; i < n; i++)
        test_client_publish(pub, events[i].topic, events[i].payload);
}

START_TEST(test_camera_read_under_a_topic_root_releases_within_a_second_webhook_gets_decisions)
{
    g_autofree char *clip = g_build_filename(g_getenv("PS_SOURCE_ROOT"), "data", "scenario",
                                             "video", "rail-1.mp4", NULL);
    if (!g_file_test(clip, G_FILE_TEST_EXISTS))
        testutil_skip("%s is missing", clip);
    start_services();
    test_client_subscribe(obs, "port/#");

    /* The papers first: declaration (rail-sea, released), train, radiation clear, seal. */
    g_autofree char *conf1 = config(NULL);
    engine = engine_start(tmp, conf1);
    harness_wait_engine_ready_on(pub, ROOT, db_path, tmp);
    static const Event papers[] = {
        {ROOT "/customs/status", customs},
        {ROOT "/rail/Y1/arrival", arrival},
        {ROOT "/radiation/RP1", radiation},
        {ROOT "/seal/ES1", seal},
    };
    publish_all(papers, G_N_ELEMENTS(papers));
    ck_assert_int_eq(db_wait(db_path, "SELECT count(*) FROM journal WHERE event_id LIKE 't9-%'",
                             4, 20),
                     4);
    ck_assert_int_eq(db_scalar(db_path, "SELECT count(*) FROM dead_letter"), 0);
    ck_assert_int_eq(engine_stop(engine), 0);
    g_clear_pointer(&engine, engine_free);
    ck_assert_int_eq(db_scalar(db_path, "SELECT count(*) FROM outbox WHERE topic LIKE '%release%'"),
                     0);

    /* Then the camera: its confirmed read is the last condition. Nothing else is published. */
    g_autofree char *conf2 = config(clip);
    engine = engine_start(tmp, conf2);
    gint64 read_at = 0, released_at = 0;
    g_autofree char *release = wait_message(ROOT "/release/" CODE, 90, &released_at);
    if (!release)
        harness_dump_logs(tmp, 6000);
    ck_assert_msg(release != NULL, "no " ROOT "/release/" CODE " within 90 s");
    g_autofree char *read = wait_message(ROOT "/ocr/rail", 5, &read_at);
    ck_assert_msg(read != NULL, "the camera's read was not published on " ROOT "/ocr/rail");
    ck_assert_msg(strstr(read, CODE) != NULL, "first read: %s", read);
    gint64 read_ts = ts_us(read, "ts");
    double latency_s = (double)(released_at - read_ts) / G_USEC_PER_SEC;
    fprintf(stderr, "release on the broker %.3f s after the camera's read (%s)\n", latency_s,
            read);
    ck_assert_msg(latency_s >= 0 && latency_s < 1.0, "release %.3f s after the read", latency_s);
    /* The read is what released it: the release's "seen" condition is the camera's read. */
    g_autoptr(JsonParser) rp = json_parser_new();
    ck_assert(json_parser_load_from_data(rp, release, -1, NULL));
    g_autoptr(JsonParser) op = json_parser_new();
    ck_assert(json_parser_load_from_data(op, read, -1, NULL));
    const char *read_id =
        json_object_get_string_member(json_node_get_object(json_parser_get_root(op)), "id");
    ck_assert_msg(strstr(release, read_id) != NULL, "release %s does not name read %s", release,
                  read_id);
    /* Camera status under the root too, and nothing under the default root. */
    gint64 at = 0;
    g_autofree char *status = wait_message(ROOT "/status/camera-rail", 5, &at);
    ck_assert_msg(status != NULL, "no " ROOT "/status/camera-rail");
    ck_assert_int_eq(test_client_count(obs, "port/"), 0);
    ck_assert_int_eq(db_scalar(db_path, "SELECT count(*) FROM dead_letter"), 0);

    /* The webhook (default topics) gets exactly the decisions: this one release. */
    gint64 end = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    while (http_count(http) < 1 && g_get_monotonic_time() < end)
        g_usleep(10 * 1000);
    g_usleep(1500 * 1000); /* time for anything else to (wrongly) arrive */
    g_mutex_lock(&http->lock);
    guint posts = http->requests->len;
    const char *body = posts ? g_hash_table_lookup(http->requests->pdata[0], "body") : "";
    gboolean is_release = strstr(body, "\"conditions\"") && strstr(body, CODE);
    g_mutex_unlock(&http->lock);
    ck_assert_msg(posts == 1 && is_release, "webhook got %u POSTs, first: %s", posts, body);
    ck_assert_int_eq(db_scalar(db_path, "SELECT count(*) FROM outbox o JOIN outbox_delivery d"
                                        " ON d.seq = o.seq WHERE d.destination = 'webhook gate'"),
                     1);
    ck_assert_int_eq(engine_stop(engine), 0);
    /* The log says what started and the release in one line each, as notes (shown at the
     * default level, not only at info). */
    g_autofree char *log_path = g_build_filename(tmp, "engine.log", NULL);
    g_autofree char *log = NULL;
    ck_assert(g_file_get_contents(log_path, &log, NULL, NULL));
    ck_assert_msg(strstr(log, "note: video started") &&
                      strstr(log, "note: mqtt subscriber started"),
                  "%s", log);
    g_autofree char *line = g_strdup_printf("note: rules: release %s (declaration DEC-T9)", CODE);
    ck_assert_msg(strstr(log, line), "no '%s' in the log", line);
}
END_TEST

/* A release decided by `portsight db import` (another process) while the daemon runs goes out
 * within a second, though nothing else arrives. */
START_TEST(test_a_decision_made_by_another_process_is_published_within_a_second)
{
    start_services();
    g_autofree char *conf = config(NULL);
    engine = engine_start(tmp, conf);
    harness_wait_engine_ready_on(pub, ROOT, db_path, tmp);
    const char *ocr = "{\"id\":\"t9-ocr\",\"ts\":\"2026-11-26T08:07:00Z\",\"camera\":\"gate9\","
                      "\"container\":\"" CODE "\",\"confidence\":0.9}";
    const Event train_and_ocr[] = {
        {ROOT "/rail/Y1/arrival", arrival},
        {ROOT "/radiation/RP1", radiation},
        {ROOT "/seal/ES1", seal},
        {ROOT "/ocr/gate9", ocr},
    };
    publish_all(train_and_ocr, G_N_ELEMENTS(train_and_ocr));
    ck_assert_int_eq(db_wait(db_path, "SELECT count(*) FROM journal WHERE event_id IN"
                                      " ('t9-arr','t9-rad','t9-seal','t9-ocr')", 4, 20), 4);
    /* Let the engine settle: nothing of ours is pending after this. */
    g_usleep(1500 * 1000);

    g_autofree char *decl = g_build_filename(tmp, "decl.json", NULL);
    ck_assert(g_file_set_contents(decl, customs, -1, NULL));
    g_autofree char *cfg = g_build_filename(tmp, "engine.conf", NULL);
    const char *argv[] = {g_getenv("PORTSIGHT"), "db", "import", "-c", cfg, decl, NULL};
    int status = 0;
    GError *error = NULL;
    ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                           NULL, NULL, &status, &error));
    gint64 imported_at = g_get_real_time();
    ck_assert_msg(g_spawn_check_wait_status(status, NULL), "db import failed");
    ck_assert_int_eq(db_scalar(db_path, "SELECT count(*) FROM outbox WHERE topic = '" ROOT
                                        "/release/" CODE "'"),
                     1);
    gint64 at = 0;
    g_autofree char *release = wait_message(ROOT "/release/" CODE, 5, &at);
    if (!release)
        harness_dump_logs(tmp, 4000);
    ck_assert_msg(release != NULL, "the imported release was not published within 5 s");
    double s = (double)(at - imported_at) / G_USEC_PER_SEC;
    fprintf(stderr, "imported release on the broker %.3f s after the import ended\n", s);
    ck_assert_msg(s < 1.0, "published %.3f s after the import", s);

    /* A topic under the root that is no input is dead-lettered with the reason; the engine's
     * own release, back from the broker, is not. */
    test_client_publish(pub, ROOT "/weather/quay", "{\"id\":\"w1\",\"wind\":12}");
    ck_assert_int_eq(db_wait(db_path, "SELECT count(*) FROM dead_letter WHERE topic = '" ROOT
                                      "/weather/quay' AND reason LIKE '%unknown topic%'",
                             1, 10),
                     1);
    ck_assert_int_eq(db_scalar(db_path, "SELECT count(*) FROM dead_letter"
                                        " WHERE topic LIKE '%/release/%' OR topic LIKE '%/status/%'"),
                     0);
    ck_assert_int_eq(engine_stop(engine), 0);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_camera_read_under_a_topic_root_releases_within_a_second_webhook_gets_decisions},
    {&test_a_decision_made_by_another_process_is_published_within_a_second},
};

TESTUTIL_MAIN("release-path", "broker", 180, TESTUTIL_TESTS(tests), setup, teardown)
