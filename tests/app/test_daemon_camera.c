/* test_daemon_camera.c: the engine's whole join in `portsight run`: a camera reads a container
 * number off the video, and the rules release the container at once because its declaration
 * and train were already in. No broker: the daemon runs with a file camera only. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "rules.h"
#include "store.h"
#include "testutil.h"

static const char customs[] =
    "{\"id\":\"cus-t1\",\"ts\":\"2026-11-26T08:00:00Z\",\"declaration\":\"DEC-T-1\","
    "\"status\":\"released\",\"containers\":[\"PSTU2001016\"],\"flow\":\"rail-sea\","
    "\"origin\":\"Chongqing\",\"destination\":\"Hamburg\",\"goods\":\"machine parts\","
    "\"consignee\":\"Test GmbH\",\"vessel\":{\"name\":\"PS TEST\",\"imo\":9700005,"
    "\"mmsi\":413000001,\"voyage\":\"026W\"}}";
static const char arrival[] =
    "{\"id\":\"rail-t1\",\"ts\":\"2026-11-26T08:05:00Z\",\"yard\":\"Y1\",\"train\":\"T-42\","
    "\"wagons\":[{\"wagon\":\"W1\",\"containers\":[\"PSTU2001016\"]}]}";

static const char radiation[] =
    "{\"id\":\"rad-t1\",\"ts\":\"2026-11-26T08:06:00Z\",\"portal\":\"RP1\","
    "\"container\":\"PSTU2001016\",\"result\":\"clear\"}";

START_TEST(test_a_camera_read_releases_a_container_whose_papers_are_in)
{
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *db = g_build_filename(dir, "p.db", NULL);
    GError *error = NULL;

    /* The declaration and the train arrive first (as they would over MQTT). */
    PsStore *store = store_open(db, &error);
    ck_assert_no_error(error);
    PsRules *rules = rules_new(store, "port", &error);
    ck_assert_no_error(error);
    RulesIngestResult r = {0};
    ck_assert(rules_ingest(rules, "port/customs/status", customs, -1, &r, &error));
    ck_assert_int_eq(r.outcome, RULES_ACCEPTED);
    rules_ingest_result_clear(&r);
    ck_assert(rules_ingest(rules, "port/rail/Y1/arrival", arrival, -1, &r, &error));
    ck_assert_int_eq(r.outcome, RULES_ACCEPTED);
    ck_assert_int_eq(r.decisions, 0); /* not seen in the yard yet */
    rules_ingest_result_clear(&r);
    ck_assert(rules_ingest(rules, "port/radiation/RP1", radiation, -1, &r, &error));
    ck_assert_int_eq(r.outcome, RULES_ACCEPTED);
    ck_assert_int_eq(r.decisions, 0);
    rules_ingest_result_clear(&r);
    rules_free(rules);
    store_close(store);

    /* The engine with one file camera on the shipped rail clip (PSTU2001016 on a wagon). */
    g_autofree char *clip = g_build_filename(g_getenv("PS_SOURCE_ROOT"), "data", "scenario",
                                             "video", "rail-1.mp4", NULL);
    g_autofree char *conf = g_build_filename(dir, "p.conf", NULL);
    g_autofree char *text =
        g_strdup_printf("[store]\npath = %s\nsync = normal\n[camera rail]\nuri = file://%s\n",
                        db, clip);
    ck_assert(g_file_set_contents(conf, text, -1, NULL));
    const char *argv[] = {g_getenv("PORTSIGHT"), "run", "-c", conf, NULL};
    GPid pid;
    ck_assert(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                            &pid, &error));

    const char *released = "SELECT count(*) FROM outbox WHERE topic = 'port/release/PSTU2001016'";
    gint64 deadline = g_get_monotonic_time() + 90 * G_USEC_PER_SEC;
    while (testutil_db_scalar(db, released) < 1 && g_get_monotonic_time() < deadline)
        g_usleep(250 * 1000);
    gint64 n_released = testutil_db_scalar(db, released);
    kill(pid, SIGTERM);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "engine status %d", status);

    ck_assert_msg(n_released == 1, "no release for PSTU2001016 within 90 s (%" G_GINT64_FORMAT
                  " rows)", n_released);
    /* The read that settled it is the camera's own, journaled with source "ocr" and also queued
     * for publishing on port/ocr/rail. */
    ck_assert_int_ge(testutil_db_scalar(db, "SELECT count(*) FROM journal WHERE source = 'ocr'"
                                            " AND topic = 'port/ocr/rail'"
                                            " AND payload LIKE '%PSTU2001016%'"),
                     1);
    ck_assert_int_ge(
        testutil_db_scalar(db, "SELECT count(*) FROM outbox WHERE topic = 'port/ocr/rail'"), 1);
    /* Exactly one release, and its conditions name the settling events. */
    ck_assert_int_eq(
        testutil_db_scalar(db, "SELECT count(*) FROM outbox WHERE topic LIKE 'port/release/%'"),
        1);
    ck_assert_int_eq(testutil_db_scalar(db, "SELECT count(*) FROM outbox WHERE topic = "
                                            "'port/release/PSTU2001016' AND payload LIKE "
                                            "'%cus-t1%' AND payload LIKE '%rail-t1%'"
                                            " AND payload LIKE '%T-42%'"),
                     1);
    testutil_rmtree(dir);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_a_camera_read_releases_a_container_whose_papers_are_in},
};

TESTUTIL_MAIN("daemon-camera", "join", 150, TESTUTIL_TESTS(tests))
