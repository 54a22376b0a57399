/* test_decl_pull.c: `portsight run` pulls declarations from a customs service: a loopback HTTP
 * server answers 200 (ETag, Last-Modified), checks that the next request is conditional and
 * answers 304, then 500, a timeout, a malformed body, and 200 again. The rows are journaled
 * like `db import` (validated, source "declarations"); the failures are logged once. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "httpstub.h"
#include "testutil.h"

#define BODY1                                                                                  \
    "[{\"id\":\"cus-p1\",\"ts\":\"2026-11-26T08:00:00Z\",\"declaration\":\"DEC-P1\","           \
    "\"status\":\"released\",\"flow\":\"rail-sea\",\"containers\":[\"PSTU2001016\"]},\n"        \
    " {\"id\":\"cus-bad\",\"ts\":\"2026-11-26T08:00:00Z\",\"declaration\":\"DEC-P2\","          \
    "\"status\":\"approved\",\"flow\":\"rail-sea\",\"containers\":[\"PSTU2001016\"]}]"
#define BODY6                                                                                  \
    "[{\"id\":\"cus-p6\",\"ts\":\"2026-11-26T09:00:00Z\",\"declaration\":\"DEC-P6\","           \
    "\"status\":\"held\",\"flow\":\"rail-sea\",\"containers\":[\"PSTU2001021\"]}]"

/* The customs service: 200 with validators, 304, 500, no answer within the 1 s timeout, a
 * malformed body, 200 with new validators, then 304. */
static char *customs_answer(guint n, GHashTable *request, gpointer data)
{
    (void)request;
    (void)data;
    const char *lm = "Last-Modified: Thu, 26 Nov 2026 08:00:00 GMT\r\n";
    switch (n) {
    case 1:
        return g_strdup_printf("HTTP/1.1 200 OK\r\nETag: \"v1\"\r\n%sContent-Type: "
                               "application/json\r\nContent-Length: %zu\r\n"
                               "Connection: close\r\n\r\n%s",
                               lm, strlen(BODY1), BODY1);
    case 3:
        return g_strdup("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    case 4:
        g_usleep(2500 * 1000);
        return NULL;
    case 5:
        return g_strdup("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        "Content-Length: 2\r\nConnection: close\r\n\r\n[{");
    case 6:
        return g_strdup_printf("HTTP/1.1 200 OK\r\nETag: \"v6\"\r\nContent-Length: %zu\r\n"
                               "Connection: close\r\n\r\n%s",
                               strlen(BODY6), BODY6);
    default:
        return g_strdup("HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
    }
}

static guint occurrences(const char *text, const char *needle)
{
    guint n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

START_TEST(test_declarations_are_pulled_conditionally_and_failures_retried_and_logged_once)
{
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *db = g_build_filename(dir, "p.db", NULL);
    Http *s = http_start_responder(customs_answer, NULL);
    GError *error = NULL;

    g_autofree char *conf = g_build_filename(dir, "p.conf", NULL);
    g_autofree char *text = g_strdup_printf(
        "[store]\npath = %s\nsync = normal\n[declarations]\n"
        "url = http://127.0.0.1:%d/declarations\nauth_header = Authorization: Bearer t0ken\n"
        "interval = 0.3\ntimeout = 1\nformat = json\n",
        db, s->port);
    ck_assert(g_file_set_contents(conf, text, -1, NULL));
    g_autofree char *log = g_build_filename(dir, "engine.log", NULL);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_stderr_file_path(l, log);
    const char *argv[] = {g_getenv("PORTSIGHT"), "run", "-c", conf, NULL};
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(l, argv, &error);
    ck_assert_no_error(error);

    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    guint got = 0;
    while ((got = http_count(s)) < 7 && g_get_monotonic_time() < end)
        g_usleep(50 * 1000);
    g_subprocess_send_signal(p, SIGTERM);
    g_subprocess_wait(p, NULL, NULL);
    g_autofree char *logged = NULL;
    g_file_get_contents(log, &logged, NULL, NULL);

    ck_assert_msg(got >= 7, "%u requests in 30 s\n%s", got, logged ? logged : "");
    GHashTable *r1 = s->requests->pdata[0], *r2 = s->requests->pdata[1],
               *r6 = s->requests->pdata[5], *r7 = s->requests->pdata[6];
#define HDR(r, name) ((const char *)g_hash_table_lookup((r), (name)))
    ck_assert_str_eq(HDR(r1, "request-line"), "GET /declarations HTTP/1.1");
    ck_assert_str_eq(HDR(r1, "authorization"), "Bearer t0ken");
    ck_assert_ptr_null(HDR(r1, "if-none-match"));
    /* Conditional after a 200: its ETag and Last-Modified. */
    ck_assert_str_eq(HDR(r2, "if-none-match"), "\"v1\"");
    ck_assert_str_eq(HDR(r2, "if-modified-since"), "Thu, 26 Nov 2026 08:00:00 GMT");
    /* After 500, a timeout and a malformed body, still the last good validators; then v6. */
    ck_assert_str_eq(HDR(r6, "if-none-match"), "\"v1\"");
    ck_assert_str_eq(HDR(r7, "if-none-match"), "\"v6\"");
#undef HDR
    /* Rows journaled like db import: the valid ones, source "declarations"; the bad one not. */
    ck_assert_int_eq(
        testutil_db_scalar(db, "SELECT count(*) FROM journal WHERE source = 'declarations'"), 2);
    ck_assert_int_eq(testutil_db_scalar(
                         db, "SELECT count(*) FROM journal WHERE event_id IN ('cus-p1','cus-p6')"),
                     2);
    ck_assert_msg(strstr(logged, "row 2: status: unknown value 'approved'"), "%s", logged);
    /* Failing is said once for 500, timeout and malformed; working again once. */
    ck_assert_msg(occurrences(logged, "retrying with backoff") == 1, "%s", logged);
    ck_assert_msg(occurrences(logged, "working again") == 1, "%s", logged);

    http_free(s);
    testutil_rmtree(dir);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_declarations_are_pulled_conditionally_and_failures_retried_and_logged_once},
};

TESTUTIL_MAIN("declarations-pull", "pull", 90, TESTUTIL_TESTS(tests))
