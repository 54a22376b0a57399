/* test_daemon_ais.c: the [ais] component of `portsight run`: feed -> decoder -> registry ->
 * store, and its configuration errors. */
#include <gio/gio.h>
#include <signal.h>
#include <string.h>

#include "store-ais.h"
#include "store.h"
#include "testutil.h"

static gboolean count_call(const PsAisCallRow *row, gpointer user_data)
{
    (*(guint *)user_data)++;
    return TRUE;
}

/* The calls of @mmsi in the daemon's store, read through a second connection (WAL). */
static guint calls_of(const char *db, guint mmsi)
{
    g_autoptr(GError) error = NULL;
    PsStore *s = store_open(db, &error);
    if (!s)
        return 0;
    guint n = 0;
    store_ais_calls(s, mmsi, 0, G_MAXINT64, count_call, &n, NULL);
    store_close(s);
    return n;
}

START_TEST(test_run_with_a_file_feed_stores_calls_and_stops_on_sigterm)
{
    g_autofree char *conf = testutil_tmp_path("p.conf");
    g_autofree char *db = testutil_tmp_path("p.db");
    g_autofree char *log = testutil_tmp_path("stderr.log");
    g_autofree char *sample = g_build_filename(g_getenv("PS_SOURCE_ROOT"), "data", "scenario",
                                               "ais", "ningbo.nmea", NULL);
    g_autofree char *text = g_strdup_printf("[store]\npath = %s\n\n[ais]\nfeed = file://%s\n"
                                            "high_risk_ports = bandar abbas; XYZ_NOT_USED_BELOW\n",
                                            db, sample);
    /* First a bad entry: the daemon refuses to start, naming it. */
    ck_assert(g_file_set_contents(conf, text, -1, NULL));
    g_autofree char *err = NULL;
    ck_assert_int_eq(testutil_portsight((const char *[]){"run", "-c", conf, NULL}, NULL, &err),
                     2);
    ck_assert_msg(strstr(err, "'XYZ_NOT_USED_BELOW' is neither a country code nor a port"),
                  "%s", err);
    g_free(text);
    text = g_strdup_printf("[store]\npath = %s\n\n[ais]\nfeed = file://%s\n"
                           "high_risk_ports = bandar abbas\ntrack_days = 0\n",
                           db, sample);
    ck_assert(g_file_set_contents(conf, text, -1, NULL));

    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_stderr_file_path(l, log);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p =
        g_subprocess_launcher_spawn(l, &error, g_getenv("PORTSIGHT"), "run", "-c", conf, NULL);
    ck_assert_no_error(error);
    /* The file replays in well under a second; tracks and vessels are written every second. */
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (calls_of(db, 412000505) < 1 && g_get_monotonic_time() < deadline)
        g_usleep(100000);
    ck_assert_uint_eq(calls_of(db, 636000404), 2);
    ck_assert_uint_eq(calls_of(db, 413000101), 1);
    ck_assert_uint_eq(calls_of(db, 257000303), 0);
    g_subprocess_send_signal(p, SIGTERM);
    ck_assert(g_subprocess_wait(p, NULL, &error));
    ck_assert_msg(g_subprocess_get_if_exited(p) && g_subprocess_get_exit_status(p) == 0,
                  "daemon did not exit 0");

    /* After the stop, the vessels' static data and the alert are in the store. */
    PsStore *s = store_open(db, &error);
    ck_assert_no_error(error);
    g_autofree char *name = NULL;
    ck_assert(store_ais_vessel_name(s, 477000202, &name, &error));
    ck_assert_str_eq(name, "JADE HORIZON");
    PsStoreStats st;
    ck_assert(store_stats(s, &st, &error));
    ck_assert_int_eq(st.journal, 1); /* the vessel-risk alert of GULF PEARL */
    store_close(s);
    g_autofree char *stderr_text = NULL;
    ck_assert(g_file_get_contents(log, &stderr_text, NULL, NULL));
    ck_assert_msg(strstr(stderr_text, "checksum"), "the damaged sentence is reported: %s",
                  stderr_text);
}
END_TEST

/* [ais] settings that must stop the daemon with one line naming them. */
static const struct {
    const char *ais;
    const char *message;
} bad[] = {
    {"feed = http://example.org/ais\n", "[ais] feed: 'http://example.org/ais': the feed must be"},
    {"feed = udp://:5000\nstop_speed_kn = 1\ngo_speed_kn = 0.5\n",
     "[ais] go_speed_kn (0.5) is below stop_speed_kn (1)"},
    {"feed = file:///nonexistent/ais.nmea\n", "[ais] feed: /nonexistent/ais.nmea: "},
    {"feed = udp://:5000\nport_radius_km = 0\n", ":5: [ais] port_radius_km: 0 is outside"},
    {"port_radius_km = 3\n", ":3: [ais] feed: required key is missing"},
};

START_TEST(test_bad_ais_settings_stop_the_daemon_with_one_line)
{
    g_autofree char *conf = testutil_tmp_path("p.conf");
    g_autofree char *db = testutil_tmp_path("p.db");
    g_autofree char *text = g_strdup_printf("[store]\npath = %s\n[ais]\n%s", db, bad[_i].ais);
    ck_assert(g_file_set_contents(conf, text, -1, NULL));
    g_autofree char *err = NULL;
    ck_assert_int_eq(testutil_portsight((const char *[]){"run", "-c", conf, NULL}, NULL, &err),
                     2);
    ck_assert_msg(strstr(err, bad[_i].message), "got %s", err);
    /* One line says what is wrong; the start's own notes (what was started before the feed was
     * read) may come before it. */
    g_auto(GStrv) lines = g_strsplit(err, "\n", -1);
    int errors = 0;
    for (int i = 0; lines[i]; i++)
        errors += *lines[i] && !strstr(lines[i], " note: ");
    ck_assert_msg(errors == 1, "not one line: %s", err);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_run_with_a_file_feed_stores_calls_and_stops_on_sigterm},
    {&test_bad_ais_settings_stop_the_daemon_with_one_line, G_N_ELEMENTS(bad)},
};

TESTUTIL_MAIN("daemon-ais", "core", 60, TESTUTIL_TESTS(tests), testutil_tmp_setup,
              testutil_tmp_teardown)
