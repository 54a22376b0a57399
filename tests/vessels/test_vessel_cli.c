/* test_vessel_cli.c: `portsight vessel calls NAME [--days N]` on a store the test fills. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "store-ais.h"
#include "store.h"
#include "testutil.h"

#define DAY 86400
#define UNTIL 1795694400 /* 2026-11-26T12:00:00Z */

static char *dir, *db;

static void put_call(PsStore *store, guint mmsi, const char *port, const char *country,
                     gint64 arrival, gint64 departure)
{
    g_autoptr(GError) error = NULL;
    PsAisCallRow c = {mmsi, port, country, arrival, departure};
    ck_assert(store_ais_put_call(store, &c, NULL, &error));
    ck_assert_no_error(error);
}

static void setup(void)
{
    dir = testutil_tmpdir();
    db = g_build_filename(dir, "p.db", NULL);
    g_autoptr(GError) error = NULL;
    PsStore *store = store_open(db, &error);
    ck_assert_no_error(error);
    PsAisVesselRow v = {.mmsi = 413000001, .name = "ZHE HAI 1", .last_seen = UNTIL};
    ck_assert(store_ais_put_vessel(store, &v, &error));
    PsAisVesselRow w = {.mmsi = 477000002, .name = "OCEAN PEARL", .last_seen = UNTIL};
    ck_assert(store_ais_put_vessel(store, &w, &error));
    put_call(store, 413000001, "BANDAR ABBAS", "IRN", UNTIL - 45 * DAY, UNTIL - 44 * DAY);
    put_call(store, 413000001, "SINGAPORE", "SGP", UNTIL - 20 * DAY, UNTIL - 19 * DAY);
    put_call(store, 413000001, "BEILUN", "CHN", UNTIL - 3 * DAY, UNTIL - 3 * DAY + 6 * 3600);
    put_call(store, 413000001, "DAXIE", "CHN", UNTIL - 3600, 0); /* still there */
    /* For the default window (now): a call yesterday. */
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    put_call(store, 477000002, "BEILUN", "CHN", now - DAY, now - DAY + 7200);
    store_close(store);
}

static void teardown(void)
{
    testutil_rmtree(dir);
    g_free(dir);
    g_free(db);
}

static int lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static int run(const char *const *args, char **out, char **err)
{
    const char *argv[16] = {"vessel", "calls"};
    int n = 2;
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return testutil_portsight(argv, out, err);
}

/* run() with the arguments of a table row (@n at most, or up to a NULL) and --db. */
static int run_row(const char *const *row, guint n, char **out, char **err)
{
    const char *args[16] = {0};
    guint k = 0;
    for (; k < n && row[k]; k++)
        args[k] = row[k];
    args[k++] = "--db";
    args[k++] = db;
    args[k] = NULL;
    return run(args, out, err);
}

/* (arguments after "vessel calls", number of calls shown, ports in order) */
static const struct {
    const char *args[6];
    int calls;
    const char *ports[4];
} windows[] = {
    {{"zhe hai 1", "--until", "2026-11-26T12:00:00Z"}, 3, {"SINGAPORE", "BEILUN", "DAXIE"}},
    {{"Zhe Hai 1", "--until", "2026-11-26T12:00:00Z"}, 3, {"SINGAPORE", "BEILUN", "DAXIE"}},
    {{"413000001", "--until", "2026-11-26T12:00:00Z"}, 3, {"SINGAPORE", "BEILUN", "DAXIE"}},
    {{"ZHE", "HAI", "1", "--until", "2026-11-26T12:00:00Z"}, 3, {"SINGAPORE", "BEILUN", "DAXIE"}},
    {{"ZHE HAI 1", "--days", "7", "--until", "2026-11-26T12:00:00Z"}, 2, {"BEILUN", "DAXIE"}},
    {{"ZHE HAI 1", "--days", "60", "--until", "2026-11-26T12:00:00Z"},
     4, {"BANDAR ABBAS", "SINGAPORE", "BEILUN", "DAXIE"}},
    {{"ocean pearl"}, 1, {"BEILUN"}},
};

START_TEST(test_calls_in_the_window_by_name_or_mmsi)
{
    g_autofree char *out = NULL, *err = NULL;
    ck_assert_int_eq(run_row(windows[_i].args, G_N_ELEMENTS(windows[_i].args), &out, &err), 0);
    ck_assert_str_eq(err, "");
    /* The header line, the column line, one line per call. */
    ck_assert_int_eq(lines(out), 2 + windows[_i].calls);
    const char *p = out;
    for (int i = 0; i < windows[_i].calls; i++) {
        p = strstr(p, windows[_i].ports[i]);
        ck_assert_msg(p != NULL, "row %d (%s) missing or out of order in:\n%s", i,
                      windows[_i].ports[i], out);
    }
    g_autofree char *head = g_strdup_printf("port call%s in the last",
                                            windows[_i].calls == 1 ? "" : "s");
    ck_assert(strstr(out, head));
}
END_TEST

START_TEST(test_table_shows_country_arrival_departure_and_in_port)
{
    g_autofree char *out = NULL;
    const char *args[] = {"ZHE HAI 1", "--days", "7", "--until", "2026-11-26T12:00:00Z",
                          "--db", db, NULL};
    ck_assert_int_eq(run(args, &out, NULL), 0);
    ck_assert_msg(strstr(out, "ZHE HAI 1 (MMSI 413000001): 2 port calls in the last 7 days\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "BEILUN  CHN      2026-11-23T12:00:00Z  2026-11-23T18:00:00Z\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "DAXIE   CHN      2026-11-26T11:00:00Z  (in port)\n"), "%s", out);
}
END_TEST

START_TEST(test_json_output)
{
    g_autofree char *out = NULL;
    const char *args[] = {"413000001", "--days", "7", "--until", "2026-11-26T12:00:00Z",
                          "--json", "--db", db, NULL};
    ck_assert_int_eq(run(args, &out, NULL), 0);
    ck_assert_int_eq(lines(out), 1);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    ck_assert(json_parser_load_from_data(parser, out, -1, &error));
    JsonObject *o = json_node_get_object(json_parser_get_root(parser));
    ck_assert_int_eq(json_object_get_int_member(o, "days"), 7);
    ck_assert_str_eq(json_object_get_string_member(o, "since"), "2026-11-19T12:00:00Z");
    JsonArray *vs = json_object_get_array_member(o, "vessels");
    ck_assert_uint_eq(json_array_get_length(vs), 1);
    JsonObject *v = json_array_get_object_element(vs, 0);
    ck_assert_int_eq(json_object_get_int_member(v, "mmsi"), 413000001);
    ck_assert_str_eq(json_object_get_string_member(v, "name"), "ZHE HAI 1");
    JsonArray *calls = json_object_get_array_member(v, "calls");
    ck_assert_uint_eq(json_array_get_length(calls), 2);
    JsonObject *c0 = json_array_get_object_element(calls, 0);
    static const TestutilMember c0_rows[] = {
        {"port", "BEILUN"},
        {"country", "CHN"},
        {"arrived", "2026-11-23T12:00:00Z"},
        {"departed", "2026-11-23T18:00:00Z"},
    };
    testutil_assert_members(c0, c0_rows, G_N_ELEMENTS(c0_rows));
    JsonObject *c1 = json_array_get_object_element(calls, 1);
    ck_assert(json_object_get_null_member(c1, "departed"));
}
END_TEST

START_TEST(test_store_from_the_config_file)
{
    g_autofree char *conf = g_build_filename(dir, "p.conf", NULL);
    g_autofree char *text = g_strdup_printf("[store]\npath = %s\n", db);
    ck_assert(g_file_set_contents(conf, text, -1, NULL));
    g_autofree char *out = NULL;
    const char *args[] = {"OCEAN PEARL", "-c", conf, NULL};
    ck_assert_int_eq(run(args, &out, NULL), 0);
    ck_assert(strstr(out, "OCEAN PEARL (MMSI 477000002): 1 port call in the last 30 days"));
}
END_TEST

/* Errors: one line on stderr and the contract's exit code. */
static const struct {
    const char *args[5];
    int code;
    const char *message;
} errors[] = {
    {{"NO SUCH SHIP", NULL}, 1, "portsight: vessel calls: no vessel named 'NO SUCH SHIP' in "},
    {{"ZHE HAI 1", "--days", "0", NULL}, 2, "portsight: vessel calls: --days 0 is outside"},
    {{"ZHE HAI 1", "--days", "x", NULL}, 2, "portsight: vessel: Cannot parse integer value"},
    {{"ZHE HAI 1", "--until", "yesterday", NULL}, 2, "portsight: vessel calls: --until"},
};

START_TEST(test_errors_are_one_line_with_exit_code)
{
    g_autofree char *err = NULL;
    ck_assert_int_eq(run_row(errors[_i].args, G_N_ELEMENTS(errors[_i].args), NULL, &err),
                     errors[_i].code);
    ck_assert_int_eq(lines(err), 1);
    ck_assert_msg(g_str_has_prefix(err, errors[_i].message), "got %s", err);
}
END_TEST

START_TEST(test_missing_store_and_usage_errors_exit_2)
{
    g_autofree char *err = NULL;
    const char *missing[] = {"vessel", "calls", "X", "--db", "/nonexistent/p.db", NULL};
    ck_assert_int_eq(testutil_portsight(missing, NULL, &err), 2);
    ck_assert_str_eq(err, "portsight: /nonexistent/p.db: no such store (give it with --db FILE "
                          "or -c FILE)\n");
    g_free(g_steal_pointer(&err));
    const char *no_name[] = {"vessel", "calls", NULL};
    ck_assert_int_eq(testutil_portsight(no_name, NULL, &err), 2);
    ck_assert_int_eq(lines(err), 1);
    g_free(g_steal_pointer(&err));
    const char *other[] = {"vessel", "track", "X", NULL};
    ck_assert_int_eq(testutil_portsight(other, NULL, &err), 2);
    ck_assert_int_eq(lines(err), 1);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_calls_in_the_window_by_name_or_mmsi, G_N_ELEMENTS(windows)},
    {&test_table_shows_country_arrival_departure_and_in_port},
    {&test_json_output},
    {&test_store_from_the_config_file},
    {&test_errors_are_one_line_with_exit_code, G_N_ELEMENTS(errors)},
    {&test_missing_store_and_usage_errors_exit_2},
};

TESTUTIL_MAIN("vessel-cli", "core", 60, TESTUTIL_TESTS(tests), setup, teardown)
