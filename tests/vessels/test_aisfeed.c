/* test_aisfeed.c: AIS feeds: file replay (fast and paced), UDP, TCP with reconnect. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stddef.h>
#include <string.h>

#include "aisfeed.h"
#include "testutil.h"

typedef struct {
    GPtrArray *lines;
    GMainLoop *loop;
    guint want; /* quit the loop after this many lines (0: on done) */
    gboolean done;
} Sink;

static void on_line(const char *line, gsize len, gpointer user_data)
{
    Sink *s = user_data;
    ck_assert_uint_eq(strlen(line), len);
    g_ptr_array_add(s->lines, g_strdup(line));
    if (s->want && s->lines->len == s->want)
        g_main_loop_quit(s->loop);
}

static void on_done(gpointer user_data)
{
    Sink *s = user_data;
    s->done = TRUE;
    g_main_loop_quit(s->loop);
}

static gboolean on_timeout(gpointer user_data)
{
    ck_abort_msg("timed out waiting for the feed");
    return G_SOURCE_REMOVE;
}

static void sink_init(Sink *s, guint want)
{
    s->lines = g_ptr_array_new_with_free_func(g_free);
    s->loop = g_main_loop_new(NULL, FALSE);
    s->want = want;
    s->done = FALSE;
}

static void sink_run(Sink *s)
{
    guint t = g_timeout_add_seconds(20, on_timeout, NULL);
    g_main_loop_run(s->loop);
    g_source_remove(t);
}

static void sink_clear(Sink *s)
{
    g_ptr_array_unref(s->lines);
    g_main_loop_unref(s->loop);
}

static const struct {
    const char *line;
    gint64 time;
} tags[] = {
    {"\\s:2573535,c:1671533231*08\\!BSVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*5C", 1671533231},
    {"\\c:1671533231000,s:r1*3A\\!AIVDM,1,1,,A,x,0*00", 1671533231},
    {"\\g:1-2-73874,n:157036,s:r003669945,c:1241544035*4A\\!AIVDM", 1241544035},
    {"\\s:r1*00\\!AIVDM,1,1,,A,x,0*00", -1},
    {"\\c:12x4*00\\!AIVDM", -1},
    {"!AIVDM,1,1,,A,x,0*00", -1},
    {"\\c:1234", -1}, /* no closing backslash */
};

/* One expected counter of a feed's stats: exactly @value, or at least @value when @at_least. */
typedef struct {
    const char *name;
    size_t offset;
    guint64 value;
    gboolean at_least;
} StatRow;

#define STAT_IS(f, v) {#f, offsetof(PsAisFeedStats, f), (v), FALSE}
#define STAT_AT_LEAST(f, v) {#f, offsetof(PsAisFeedStats, f), (v), TRUE}

static void assert_stats(PsAisFeed *feed, const StatRow *rows, size_t n)
{
    PsAisFeedStats st;
    aisfeed_get_stats(feed, &st);
    for (size_t i = 0; i < n; i++) {
        guint64 v;
        memcpy(&v, (const char *)&st + rows[i].offset, sizeof v);
        if (rows[i].at_least)
            ck_assert_msg(v >= rows[i].value, "%s is %" G_GUINT64_FORMAT ", expected at least %"
                          G_GUINT64_FORMAT, rows[i].name, v, rows[i].value);
        else
            ck_assert_msg(v == rows[i].value, "%s is %" G_GUINT64_FORMAT ", expected %"
                          G_GUINT64_FORMAT, rows[i].name, v, rows[i].value);
    }
}

START_TEST(test_tag_block_time)
{
    ck_assert_int_eq(aisfeed_tag_time(tags[_i].line, strlen(tags[_i].line)), tags[_i].time);
}
END_TEST

static char *write_file(const char *dir, const char *text)
{
    char *path = g_build_filename(dir, "feed.nmea", NULL);
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

START_TEST(test_file_replay_splits_lines_and_drops_overlong_ones)
{
    g_autofree char *dir = testutil_tmpdir();
    GString *text = g_string_new("!AIVDM,first\r\n\n!AIVDM,second\n");
    g_string_append_c(text, '!');
    for (int i = 0; i < 200; i++)
        g_string_append(text, "0123456789"); /* 2001 bytes: over the cap */
    g_string_append(text, "\n!AIVDM,third\n!AIVDM,no newline at the end");
    g_autofree char *path = write_file(dir, text->str);
    g_string_free(text, TRUE);
    g_autofree char *url = g_strconcat("file://", path, NULL);
    Sink s;
    sink_init(&s, 0);
    PsAisFeedOptions opt = {.max_line = 100};
    g_autoptr(GError) error = NULL;
    PsAisFeed *feed = aisfeed_new(url, &opt, on_line, on_done, &s, &error);
    ck_assert_no_error(error);
    ck_assert(aisfeed_start(feed, &error));
    sink_run(&s);
    ck_assert(s.done);
    ck_assert_uint_eq(s.lines->len, 4);
    ck_assert_str_eq(g_ptr_array_index(s.lines, 0), "!AIVDM,first");
    ck_assert_str_eq(g_ptr_array_index(s.lines, 1), "!AIVDM,second");
    ck_assert_str_eq(g_ptr_array_index(s.lines, 2), "!AIVDM,third");
    ck_assert_str_eq(g_ptr_array_index(s.lines, 3), "!AIVDM,no newline at the end");
    static const StatRow stats[] = {STAT_IS(overlong, 1), STAT_IS(lines, 4)};
    assert_stats(feed, stats, G_N_ELEMENTS(stats));
    aisfeed_free(feed);
    sink_clear(&s);
    testutil_rmtree(dir);
}
END_TEST

START_TEST(test_file_replay_at_recorded_pace)
{
    g_autofree char *dir = testutil_tmpdir();
    /* 3 s of recording at speed 10: about 0.3 s. */
    g_autofree char *path = write_file(dir, "\\c:1000*00\\!AIVDM,a\n"
                                            "!AIVDM,untagged\n"
                                            "\\c:1001*00\\!AIVDM,b\n"
                                            "\\c:1003*00\\!AIVDM,c\n");
    g_autofree char *url = g_strconcat("file://", path, NULL);
    Sink s;
    sink_init(&s, 0);
    PsAisFeedOptions opt = {.recorded_pace = TRUE, .speed = 10};
    g_autoptr(GError) error = NULL;
    PsAisFeed *feed = aisfeed_new(url, &opt, on_line, on_done, &s, &error);
    ck_assert(aisfeed_start(feed, &error));
    gint64 t0 = g_get_monotonic_time();
    sink_run(&s);
    gint64 elapsed = g_get_monotonic_time() - t0;
    ck_assert_uint_eq(s.lines->len, 4);
    ck_assert_str_eq(g_ptr_array_index(s.lines, 3), "\\c:1003*00\\!AIVDM,c");
    ck_assert_msg(elapsed >= 290000, "replayed 3 s at 10x in %" G_GINT64_FORMAT " us", elapsed);
    aisfeed_free(feed);
    sink_clear(&s);
    testutil_rmtree(dir);
}
END_TEST

START_TEST(test_udp_datagrams_end_lines)
{
    Sink s;
    sink_init(&s, 3);
    g_autoptr(GError) error = NULL;
    PsAisFeed *feed = aisfeed_new("udp://127.0.0.1:0", NULL, on_line, NULL, &s, &error);
    ck_assert_no_error(error);
    ck_assert(aisfeed_start(feed, &error));
    guint16 port = aisfeed_local_port(feed);
    ck_assert_uint_gt(port, 0);
    g_autoptr(GSocket) tx =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) to = g_inet_socket_address_new(lo, port);
    const char *d1 = "!AIVDM,one\r\n!AIVDM,two\r\n", *d2 = "!AIVDM,three";
    ck_assert_int_eq(g_socket_send_to(tx, to, d1, strlen(d1), NULL, &error), strlen(d1));
    ck_assert_int_eq(g_socket_send_to(tx, to, d2, strlen(d2), NULL, &error), strlen(d2));
    sink_run(&s);
    ck_assert_str_eq(g_ptr_array_index(s.lines, 0), "!AIVDM,one");
    ck_assert_str_eq(g_ptr_array_index(s.lines, 2), "!AIVDM,three");
    static const StatRow stats[] = {STAT_IS(datagrams, 2)};
    assert_stats(feed, stats, G_N_ELEMENTS(stats));
    aisfeed_free(feed);
    sink_clear(&s);
}
END_TEST

/* A TCP server that sends @lines[n] on its n-th connection and closes it. */
typedef struct {
    const char *const *lines;
    guint connections;
} Server;

static gboolean on_incoming(GSocketService *service, GSocketConnection *conn, GObject *src,
                            gpointer user_data)
{
    Server *srv = user_data;
    const char *text = srv->lines[MIN(srv->connections, 1)];
    srv->connections++;
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    ck_assert(g_output_stream_write_all(out, text, strlen(text), NULL, NULL, NULL));
    if (srv->connections == 1)
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL); /* the feed must reconnect */
    else
        g_object_set_data_full(G_OBJECT(service), "keep", g_object_ref(conn), g_object_unref);
    return TRUE;
}

START_TEST(test_tcp_reconnects_after_the_server_closes)
{
    g_autoptr(GError) error = NULL;
    GSocketService *service = g_socket_service_new();
    guint16 port = g_socket_listener_add_any_inet_port(G_SOCKET_LISTENER(service), NULL, &error);
    ck_assert_no_error(error);
    const char *const lines[] = {"!AIVDM,one\n!AIVDM,two\n", "!AIVDM,three\n"};
    Server srv = {lines, 0};
    g_signal_connect(service, "incoming", G_CALLBACK(on_incoming), &srv);
    g_socket_service_start(service);

    Sink s;
    sink_init(&s, 3);
    g_autofree char *url = g_strdup_printf("tcp://127.0.0.1:%u", port);
    PsAisFeedOptions opt = {.backoff_min_ms = 20, .backoff_max_ms = 100};
    PsAisFeed *feed = aisfeed_new(url, &opt, on_line, NULL, &s, &error);
    ck_assert_no_error(error);
    ck_assert(aisfeed_start(feed, &error));
    sink_run(&s);
    ck_assert_str_eq(g_ptr_array_index(s.lines, 2), "!AIVDM,three");
    static const StatRow stats[] = {STAT_IS(connects, 2), STAT_AT_LEAST(failures, 1)};
    assert_stats(feed, stats, G_N_ELEMENTS(stats));
    aisfeed_free(feed);
    /* Let the cancelled operations finish before the loop goes. */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_socket_service_stop(service);
    g_socket_listener_close(G_SOCKET_LISTENER(service));
    g_object_unref(service);
    sink_clear(&s);
}
END_TEST

static const struct {
    const char *url;
    const char *message;
} bad_urls[] = {
    {"http://x:1", "'http://x:1': the feed must be"},
    {"tcp://:5000", "'tcp://:5000': tcp needs a host"},
    {"tcp://host", "'tcp://host': tcp needs a host"},
    {"file://host/x.nmea", "'file://host/x.nmea': a file feed is file:///PATH"},
    {"not a url", "'not a url' is not a URL"},
};

START_TEST(test_bad_urls_are_named)
{
    g_autoptr(GError) error = NULL;
    ck_assert_ptr_null(aisfeed_new(bad_urls[_i].url, NULL, on_line, NULL, NULL, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(g_str_has_prefix(error->message, bad_urls[_i].message), "got %s",
                  error->message);
}
END_TEST

START_TEST(test_missing_file_is_an_error)
{
    g_autoptr(GError) error = NULL;
    PsAisFeed *feed = aisfeed_new("file:///nonexistent/x.nmea", NULL, on_line, NULL, NULL,
                                  &error);
    ck_assert_no_error(error);
    ck_assert(!aisfeed_start(feed, &error));
    ck_assert(g_str_has_prefix(error->message, "/nonexistent/x.nmea: "));
    aisfeed_free(feed);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_tag_block_time, G_N_ELEMENTS(tags)},
    {&test_file_replay_splits_lines_and_drops_overlong_ones},
    {&test_file_replay_at_recorded_pace},
    {&test_udp_datagrams_end_lines},
    {&test_tcp_reconnects_after_the_server_closes},
    {&test_bad_urls_are_named, G_N_ELEMENTS(bad_urls)},
    {&test_missing_file_is_an_error},
};

TESTUTIL_MAIN("aisfeed", "core", 30, TESTUTIL_TESTS(tests))
