/* test_decl_pull.c: `portsight run` pulls declarations from a customs service: a loopback HTTP
 * server answers 200 (ETag, Last-Modified), checks that the next request is conditional and
 * answers 304, then 500, a timeout, a malformed body, and 200 again. The rows are journaled
 * like `db import` (validated, source "declarations"); the failures are logged once. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

#define BODY1                                                                                  \
    "[{\"id\":\"cus-p1\",\"ts\":\"2026-11-26T08:00:00Z\",\"declaration\":\"DEC-P1\","           \
    "\"status\":\"released\",\"flow\":\"rail-sea\",\"containers\":[\"PSTU2001016\"]},\n"        \
    " {\"id\":\"cus-bad\",\"ts\":\"2026-11-26T08:00:00Z\",\"declaration\":\"DEC-P2\","          \
    "\"status\":\"approved\",\"flow\":\"rail-sea\",\"containers\":[\"PSTU2001016\"]}]"
#define BODY6                                                                                  \
    "[{\"id\":\"cus-p6\",\"ts\":\"2026-11-26T09:00:00Z\",\"declaration\":\"DEC-P6\","           \
    "\"status\":\"held\",\"flow\":\"rail-sea\",\"containers\":[\"PSTU2001021\"]}]"

typedef struct {
    GSocketListener *listener;
    int port;
    GThread *thread;
    gint stop;
    GMutex lock;
    GPtrArray *requests; /* the head of each request (text) */
} Server;

static char *read_head(GSocketConnection *conn)
{
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
    GString *head = g_string_new(NULL);
    char ch;
    while (!g_str_has_suffix(head->str, "\r\n\r\n") && head->len < 16384 &&
           g_input_stream_read(in, &ch, 1, NULL, NULL) == 1)
        g_string_append_c(head, ch);
    return g_string_free(head, FALSE);
}

static gpointer serve(gpointer data)
{
    Server *s = data;
    for (guint n = 0; !g_atomic_int_get(&s->stop); n++) {
        GSocketConnection *conn = g_socket_listener_accept(s->listener, NULL, NULL, NULL);
        if (!conn || g_atomic_int_get(&s->stop)) {
            g_clear_object(&conn);
            break;
        }
        char *head = read_head(conn);
        g_mutex_lock(&s->lock);
        g_ptr_array_add(s->requests, head);
        guint k = s->requests->len; /* 1-based */
        g_mutex_unlock(&s->lock);
        g_autofree char *resp = NULL;
        const char *lm = "Last-Modified: Thu, 26 Nov 2026 08:00:00 GMT\r\n";
        if (k == 1)
            resp = g_strdup_printf("HTTP/1.1 200 OK\r\nETag: \"v1\"\r\n%sContent-Type: "
                                   "application/json\r\nContent-Length: %zu\r\n"
                                   "Connection: close\r\n\r\n%s",
                                   lm, strlen(BODY1), BODY1);
        else if (k == 2)
            resp = g_strdup("HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
        else if (k == 3)
            resp = g_strdup("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        else if (k == 4)
            g_usleep(2500 * 1000); /* longer than the 1 s timeout: no answer */
        else if (k == 5)
            resp = g_strdup("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            "Content-Length: 2\r\nConnection: close\r\n\r\n[{");
        else if (k == 6)
            resp = g_strdup_printf("HTTP/1.1 200 OK\r\nETag: \"v6\"\r\nContent-Length: %zu\r\n"
                                   "Connection: close\r\n\r\n%s",
                                   strlen(BODY6), BODY6);
        else
            resp = g_strdup("HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
        if (resp) {
            GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
            g_output_stream_write_all(out, resp, strlen(resp), NULL, NULL, NULL);
        }
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        g_object_unref(conn);
    }
    return NULL;
}

static gint64 count(const char *db, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    gint64 n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
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
    Server s = {0};
    g_mutex_init(&s.lock);
    s.requests = g_ptr_array_new_with_free_func(g_free);
    s.listener = g_socket_listener_new();
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
    GSocketAddress *eff = NULL;
    GError *error = NULL;
    ck_assert(g_socket_listener_add_address(s.listener, addr, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL, &eff, &error));
    s.port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(eff));
    g_object_unref(eff);
    s.thread = g_thread_new("customs", serve, &s);

    g_autofree char *conf = g_build_filename(dir, "p.conf", NULL);
    g_autofree char *text = g_strdup_printf(
        "[store]\npath = %s\nsync = normal\n[declarations]\n"
        "url = http://127.0.0.1:%d/declarations\nauth_header = Authorization: Bearer t0ken\n"
        "interval = 0.3\ntimeout = 1\nformat = json\n",
        db, s.port);
    ck_assert(g_file_set_contents(conf, text, -1, NULL));
    g_autofree char *log = g_build_filename(dir, "engine.log", NULL);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_stderr_file_path(l, log);
    const char *argv[] = {g_getenv("PORTSIGHT"), "run", "-c", conf, NULL};
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(l, argv, &error);
    ck_assert_no_error(error);

    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    guint got = 0;
    while (g_get_monotonic_time() < end) {
        g_mutex_lock(&s.lock);
        got = s.requests->len;
        g_mutex_unlock(&s.lock);
        if (got >= 7)
            break;
        g_usleep(50 * 1000);
    }
    g_subprocess_send_signal(p, SIGTERM);
    g_subprocess_wait(p, NULL, NULL);
    g_atomic_int_set(&s.stop, 1);
    g_autoptr(GSocketClient) c = g_socket_client_new();
    GSocketConnection *wake = g_socket_client_connect_to_host(c, "127.0.0.1", s.port, NULL, NULL);
    g_thread_join(s.thread);
    g_clear_object(&wake);
    g_autofree char *logged = NULL;
    g_file_get_contents(log, &logged, NULL, NULL);

    ck_assert_msg(got >= 7, "%u requests in 30 s\n%s", got, logged ? logged : "");
    const char *r1 = g_ptr_array_index(s.requests, 0), *r2 = g_ptr_array_index(s.requests, 1),
               *r6 = g_ptr_array_index(s.requests, 5), *r7 = g_ptr_array_index(s.requests, 6);
    ck_assert_msg(strstr(r1, "GET /declarations ") && strstr(r1, "Authorization: Bearer t0ken") &&
                      !strstr(r1, "If-None-Match"),
                  "%s", r1);
    /* Conditional after a 200: its ETag and Last-Modified. */
    ck_assert_msg(strstr(r2, "If-None-Match: \"v1\"") &&
                      strstr(r2, "If-Modified-Since: Thu, 26 Nov 2026 08:00:00 GMT"),
                  "%s", r2);
    /* After 500, a timeout and a malformed body, still the last good validators; then v6. */
    ck_assert_msg(strstr(r6, "If-None-Match: \"v1\""), "%s", r6);
    ck_assert_msg(strstr(r7, "If-None-Match: \"v6\""), "%s", r7);
    /* Rows journaled like db import: the valid ones, source "declarations"; the bad one not. */
    ck_assert_int_eq(count(db, "SELECT count(*) FROM journal WHERE source = 'declarations'"), 2);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM journal WHERE event_id IN ('cus-p1',"
                               "'cus-p6')"),
                     2);
    ck_assert_msg(strstr(logged, "row 2: status: unknown value 'approved'"), "%s", logged);
    /* Failing is said once for 500, timeout and malformed; working again once. */
    ck_assert_msg(occurrences(logged, "retrying with backoff") == 1, "%s", logged);
    ck_assert_msg(occurrences(logged, "working again") == 1, "%s", logged);

    g_socket_listener_close(s.listener);
    g_object_unref(s.listener);
    g_ptr_array_unref(s.requests);
    g_mutex_clear(&s.lock);
    testutil_rmtree(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("declarations-pull");
    TCase *tc = tcase_create("pull");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_declarations_are_pulled_conditionally_and_failures_retried_and_logged_once);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
