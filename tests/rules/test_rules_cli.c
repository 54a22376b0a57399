/* test_rules_cli.c: `portsight demo` (rules step), `portsight explain` and
 * `portsight db import`, run as users run them. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "demo.h"
#include "rules.h"
#include "store.h"
#include "testutil.h"

static char *tmp;
static char *demo_db;
static char *demo_out, *demo_err;
static int demo_rc;

/* Once for the suite (unchecked fixture): the rules demo step in process, under the
 * sanitizers, into tmp/portsight.db; tests that write to that store work on a copy. */
static void suite_setup(void)
{
    tmp = testutil_tmpdir();
    demo_db = g_build_filename(tmp, "portsight.db", NULL);
    GError *error = NULL;
    const char *root = g_getenv("PS_SOURCE_ROOT");
    g_autofree char *scenario = g_build_filename(root ? root : ".", "data", "scenario", NULL);
    AppDemo demo = {tmp, scenario, store_open(demo_db, &error),
                    g_ptr_array_new_with_free_func(g_free)};
    if (!demo.store || !app_demo_rules(&demo, &error)) {
        demo_rc = 1;
        demo_err = g_strdup(error ? error->message : "?");
        g_clear_error(&error);
    }
    store_close(demo.store);
    g_ptr_array_unref(demo.outputs);
}

static void suite_teardown(void)
{
    testutil_rmtree(tmp);
    g_clear_pointer(&tmp, g_free);
    g_clear_pointer(&demo_db, g_free);
    g_clear_pointer(&demo_out, g_free);
    g_clear_pointer(&demo_err, g_free);
}

static char *copy_db(const char *name)
{
    ck_assert_msg(demo_rc == 0, "demo step failed: %s", demo_err);
    g_autofree char *data = NULL;
    gsize len;
    ck_assert(g_file_get_contents(demo_db, &data, &len, NULL));
    char *copy = g_build_filename(tmp, name, NULL);
    ck_assert(g_file_set_contents(copy, data, (gssize)len, NULL));
    return copy;
}

static int count_lines(const char *s, const char *prefix)
{
    int n = 0;
    g_auto(GStrv) lines = g_strsplit(s, "\n", -1);
    for (int i = 0; lines[i]; i++)
        n += *lines[i] && g_str_has_prefix(lines[i], prefix);
    return n;
}

START_TEST(test_demo_prints_releases_and_holds_and_writes_them)
{
    ck_assert_msg(demo_rc == 0, "demo step failed: %s", demo_err);
    /* The whole `portsight demo` as users run it, into its own folder. Its other steps make
     * one-time allocations in GLib/GStreamer that tests/lsan.supp suppresses, but LSan's fast
     * unwinder stops inside GLib and the suppressions cannot match: unwind fully (sanitizer
     * builds only; ignored otherwise). */
    g_setenv("ASAN_OPTIONS", "fast_unwind_on_malloc=0", TRUE);
    g_autofree char *dir = g_build_filename(tmp, "demo", NULL);
    g_autofree char *out = NULL, *err = NULL;
    const char *argv[] = {"demo", "--out", dir, NULL};
    int rc = testutil_portsight(argv, &out, &err);
    ck_assert_msg(rc == 0, "demo exit %d: %s", rc, err);
    ck_assert_msg(strstr(out, "49 MQTT inputs"), "%s", out);
    ck_assert(strstr(out, "42 accepted, 1 duplicate, 6 rejected"));
    ck_assert(strstr(out, "releases (6):"));
    ck_assert(strstr(out, "holds (4):"));
    ck_assert(strstr(out, "PSTU2001063  declaration DEC-26-0003  at 2026-11-26T08:12:30Z  "
                          "reasons: radiation alarm"));
    ck_assert(strstr(out, "reasons: seal tampered"));
    ck_assert(strstr(out, "reasons: customs inspect"));
    ck_assert(strstr(out, "check digit is 8, expected 7"));
    /* Each rejected input is listed with its topic and reason; the log has one line per topic
     * and minute (the second bad seal message on port/seal/ES-3 is counted, not logged). */
    ck_assert(strstr(out, "  port/seal/ES-3: state: missing\n"));
    int rejected = 0;
    for (const char *p = err; (p = strstr(p, "warning: dead letter from mqtt on port/")); p++)
        rejected++;
    ck_assert_int_eq(rejected, 5);
    ck_assert(strstr(err, "dead letter from mqtt on port/gate/RG1, id gate-bad-1: container: "));

    g_autofree char *path = g_build_filename(dir, "decisions.jsonl", NULL);
    ck_assert(strstr(out, path));
    g_autofree char *text = NULL;
    ck_assert(g_file_get_contents(path, &text, NULL, NULL));
    ck_assert_int_eq(count_lines(text, "{\"topic\":\"port/release/"), 6);
    ck_assert_int_eq(count_lines(text, "{\"topic\":\"port/hold/"), 4);
    /* The late re-seal of container 9: held, then released. */
    const char *hold9 = strstr(text, "\"hold:PSTU2001090:DEC-26-0006:1\"");
    const char *release9 = strstr(text, "\"release:PSTU2001090:DEC-26-0006\"");
    ck_assert(hold9 && release9 && hold9 < release9);
}
END_TEST

/* What `portsight explain --db @db --json @container` prints, parsed by @p. */
static JsonObject *explain_json(JsonParser *p, const char *db, const char *container)
{
    g_autofree char *out = NULL;
    const char *argv[] = {"explain", "--db", db, "--json", container, NULL};
    ck_assert_int_eq(testutil_portsight(argv, &out, NULL), 0);
    ck_assert_msg(json_parser_load_from_data(p, out, -1, NULL), "%s", out);
    return json_node_get_object(json_parser_get_root(p));
}

START_TEST(test_explain_names_the_event_behind_every_condition)
{
    ck_assert_msg(demo_rc == 0, "demo step failed: %s", demo_err);
    g_autofree char *out = NULL, *err = NULL;
    const char *argv[] = {"explain", "--db", demo_db, "PSTU2001090", NULL};
    ck_assert_int_eq(testutil_portsight(argv, &out, &err), 0);
    ck_assert_msg(g_str_has_prefix(out, "PSTU2001090: 2 decisions in "), "%s", out);
    const char *hold = strstr(out, "hold hold:PSTU2001090:DEC-26-0006:1 at 2026-11-26T08:12:45Z");
    const char *release = strstr(out, "release release:PSTU2001090:DEC-26-0006 at "
                                      "2026-11-26T08:13:50Z");
    ck_assert(hold && release && hold < release);
    ck_assert(strstr(hold, "reasons: seal tampered"));
    ck_assert(strstr(hold, "FAIL seal_intact           seal-109         port/seal/ES-9"));
    ck_assert(strstr(release, "decided when seal-209 arrived (port/seal/ES-9)"));
    ck_assert(strstr(release, "ok   seal_intact           seal-209         port/seal/ES-9    "
                              "       2026-11-26T08:13:50Z"));

    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = explain_json(p, demo_db, "pstu2001090");
    ck_assert_str_eq(json_object_get_string_member(o, "container"), "PSTU2001090");
    JsonArray *d = json_object_get_array_member(o, "decisions");
    ck_assert_int_eq(json_array_get_length(d), 2);
    JsonObject *rel = json_array_get_object_element(d, 1);
    static const TestutilMember rel_rows[] = {
        {"kind", "release"},
        {"decided_on", "seal-209"},
    };
    testutil_assert_members(rel, rel_rows, G_N_ELEMENTS(rel_rows));
    JsonObject *seal = json_array_get_object_element(
        json_object_get_array_member(rel, "conditions"), 5);
    static const TestutilMember seal_rows[] = {
        {"name", "seal_intact"},
        {"event", "seal-209"},
        {"event_topic", "port/seal/ES-9"},
        {"event_ts", "2026-11-26T08:13:50Z"},
    };
    testutil_assert_members(seal, seal_rows, G_N_ELEMENTS(seal_rows));
    /* The published payload is there as it was sent. */
    JsonObject *payload = json_object_get_object_member(rel, "payload");
    static const TestutilMember payload_rows[] = {{"train", "T-2611-A"}};
    testutil_assert_members(payload, payload_rows, G_N_ELEMENTS(payload_rows));
    JsonObject *now = json_object_get_object_member(o, "now");
    static const TestutilMember now_rows[] = {
        {"verdict", "release"},
        {"seal", "seal-209"},
    };
    testutil_assert_members(now, now_rows, G_N_ELEMENTS(now_rows));
    ck_assert_int_eq(json_array_get_length(json_object_get_array_member(now, "open")), 0);
}
END_TEST

START_TEST(test_explain_says_what_is_journaled_but_not_yet_evaluated)
{
    g_autofree char *db = copy_db("pending.db");
    g_autofree char *out = NULL;
    const char *argv[] = {"explain", "--db", db, "PSTU2001090", NULL};
    ck_assert_int_eq(testutil_portsight(argv, &out, NULL), 0);
    ck_assert_msg(!strstr(out, "not evaluated yet"), "%s", out);
    /* As the MQTT subscriber does: journaled (and acknowledged), the rules not yet run. */
    GError *error = NULL;
    PsStore *store = store_open(db, &error);
    ck_assert_msg(store, "%s", error ? error->message : "");
    RulesIngestResult r;
    ck_assert(rules_journal(store, "port", "mqtt", "port/seal/ES-9",
                            "{\"id\":\"seal-999\",\"ts\":\"2026-11-26T09:00:00Z\","
                            "\"seal\":\"ES-9\",\"container\":\"PSTU2001090\","
                            "\"state\":\"opened\",\"battery\":80}",
                            -1, &r, &error));
    ck_assert_msg(r.seq > 0, "not journaled: %s", r.reason ? r.reason : "");
    rules_ingest_result_clear(&r);
    store_close(store);
    g_free(g_steal_pointer(&out));
    ck_assert_int_eq(testutil_portsight(argv, &out, NULL), 0);
    ck_assert_msg(strstr(out, "not evaluated yet: 1 journaled event(s)"), "%s", out);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = explain_json(p, db, "PSTU2001090");
    ck_assert_int_eq(json_object_get_int_member(o, "not_evaluated"), 1);
}
END_TEST

START_TEST(test_explain_errors_and_a_container_without_decisions)
{
    ck_assert_msg(demo_rc == 0, "demo step failed: %s", demo_err);
    g_autofree char *out = NULL, *err = NULL;
    const char *none[] = {"explain", "--db", demo_db, "PSTU2001037", NULL};
    ck_assert_int_eq(testutil_portsight(none, &out, NULL), 0);
    ck_assert(g_str_has_prefix(out, "PSTU2001037: 1 decision in"));
    g_free(g_steal_pointer(&out));
    const char *quiet[] = {"explain", "--db", demo_db, "PSTU2002007", NULL};
    ck_assert_int_eq(testutil_portsight(quiet, &out, NULL), 0);
    ck_assert_msg(g_str_has_prefix(out, "PSTU2002007: no decisions in "), "%s", out);
    /* What the rules know now says why nothing was decided. */
    ck_assert_msg(strstr(out, "now: declaration DEC-26-0007 (sea-rail, released); arrived "
                              "rail-001; seen gate-010; radiation rad-010; seal -\n"
                              "  a release waits for: a rail-sea declaration"),
                  "%s", out);
    g_free(g_steal_pointer(&out));
    const char *unknown[] = {"explain", "--db", demo_db, "CSQU3054383", NULL};
    ck_assert_int_eq(testutil_portsight(unknown, &out, NULL), 0);
    ck_assert_msg(strstr(out, "now: no input has named this container"), "%s", out);
    g_free(g_steal_pointer(&out));
    const char *held[] = {"explain", "--db", demo_db, "PSTU2001063", NULL};
    ck_assert_int_eq(testutil_portsight(held, &out, NULL), 0);
    ck_assert_msg(strstr(out, "  a release waits for: radiation scan\n  open holds: radiation alarm\n"),
                  "%s", out);
    const char *bad[] = {"explain", "--db", demo_db, "PSTU2001091", NULL};
    ck_assert_int_eq(testutil_portsight(bad, NULL, &err), 2);
    ck_assert(strstr(err, "not an ISO 6346 container number"));
    g_free(g_steal_pointer(&err));
    const char *missing[] = {"explain", "--db", "/nonexistent/x.db", "PSTU2001090", NULL};
    ck_assert_int_eq(testutil_portsight(missing, NULL, &err), 2);
    ck_assert_str_eq(err, "portsight: /nonexistent/x.db: no such store (use --db FILE or -c FILE)\n");
}
END_TEST

static const char csv[] =
    "id,ts,declaration,status,flow,containers,origin,destination,goods,consignee,vessel_name,"
    "vessel_imo,vessel_mmsi,vessel_voyage\n"
    ",2026-11-26T09:00:00Z,DEC-26-0101,released,rail-sea,PSTU2002007,Xi'an,Rotterdam,"
    "\"bearings, steel\",Demo BV,PS DEMO STAR,9700005,413000001,026W\n"
    "x-2,2026-11-26T09:00:00Z,DEC-26-0102,approved,rail-sea,PSTU2001016,,,,,,,,\n"
    "x-3,2026-11-26T09:00:00Z,DEC-26-0103,released,rail-sea,PSTU2001017,,,,,,,,\n"
    "x-4,2026-11-26T09:00:00Z,DEC-26-0104,released\n"
    "x-5,2026-11-26T09:00:00Z,DEC-26-0105,pending,road,PSTU2001016;PSTU2001021,,,"
    "\"a \"\"quoted\"\"\nmulti-line\",,,,,\n"
    "x-6,,DEC-26-0106,pending,road,,,,,,,,,\n";

START_TEST(test_db_import_csv_reports_bad_rows_and_decides)
{
    g_autofree char *db = copy_db("csv.db");
    g_autofree char *file = g_build_filename(tmp, "decl.csv", NULL);
    ck_assert(g_file_set_contents(file, csv, -1, NULL));
    g_autofree char *out = NULL, *err = NULL;
    const char *argv[] = {"db", "import", "--db", db, file, NULL};
    ck_assert_int_eq(testutil_portsight(argv, &out, &err), 0);
    g_autofree char *summary = g_strdup_printf(
        "db import: %s: 6 rows: 3 imported, 0 already known, 3 bad; 1 new decision; store %s\n",
        file, db);
    ck_assert_str_eq(out, summary);
    g_autofree char *e1 = g_strdup_printf("portsight: %s:3: status: unknown value 'approved'", file);
    g_autofree char *e2 = g_strdup_printf(
        "portsight: %s:4: containers[0]: 'PSTU2001017' is not an ISO 6346 container number: "
        "check digit is 7, expected 6\n", file);
    g_autofree char *e3 = g_strdup_printf("portsight: %s:5: 4 fields, the header has 14\n", file);
    ck_assert_msg(strstr(err, e1) && strstr(err, e2) && strstr(err, e3), "%s", err);
    g_autofree char *prefix = g_strdup_printf("portsight: %s:", file);
    ck_assert_int_eq(count_lines(err, prefix), 3);

    /* The released rail-sea declaration for a container already in the yard released it. */
    g_free(g_steal_pointer(&out));
    const char *ex[] = {"explain", "--db", db, "PSTU2002007", NULL};
    ck_assert_int_eq(testutil_portsight(ex, &out, NULL), 0);
    ck_assert_msg(strstr(out, "release release:PSTU2002007:DEC-26-0101"), "%s", out);
    ck_assert(strstr(out, "decided when import:DEC-26-0101:released:2026-11-26T09:00:00Z"));

    /* Again, strict: the good rows are known, the bad ones make it exit 1. */
    g_free(g_steal_pointer(&out));
    g_free(g_steal_pointer(&err));
    const char *strict[] = {"db", "import", "--strict", "--db", db, file, NULL};
    ck_assert_int_eq(testutil_portsight(strict, &out, &err), 1);
    ck_assert(strstr(out, "6 rows: 0 imported, 3 already known, 3 bad; 0 new decisions"));
}
END_TEST

START_TEST(test_db_import_json_array_and_lines)
{
    g_autofree char *db = copy_db("json.db");
    g_autofree char *lines = g_build_filename(tmp, "decl.jsonl", NULL);
    ck_assert(g_file_set_contents(
        lines,
        "{\"id\":\"j-1\",\"ts\":\"2026-11-26T09:00:00Z\",\"declaration\":\"DEC-J-1\","
        "\"status\":\"held\",\"flow\":\"rail-sea\",\"containers\":[\"PSTU2001016\"]}\n"
        "\n"
        "{\"id\":\"j-2\",\"declaration\":\"DEC-J-2\",\"status\":\"pending\"}\n"
        "not json\n",
        -1, NULL));
    g_autofree char *out = NULL, *err = NULL;
    const char *argv[] = {"db", "import", "--strict", "--db", db, lines, NULL};
    ck_assert_int_eq(testutil_portsight(argv, &out, &err), 1);
    ck_assert_msg(strstr(out, "3 rows: 1 imported, 0 already known, 2 bad; 1 new decision"), "%s",
                  out);
    g_autofree char *e3 = g_strdup_printf("portsight: %s:3: flow: missing\n", lines);
    g_autofree char *e4 = g_strdup_printf("portsight: %s:4: not JSON", lines);
    ck_assert_msg(strstr(err, e3) && strstr(err, e4), "%s", err);
    /* A later held status on another declaration for a released container: a hold. */
    g_free(g_steal_pointer(&out));
    const char *ex[] = {"explain", "--db", db, "PSTU2001016", NULL};
    ck_assert_int_eq(testutil_portsight(ex, &out, NULL), 0);
    ck_assert_msg(strstr(out, "hold hold:PSTU2001016:DEC-J-1:1"), "%s", out);
    ck_assert(strstr(out, "reasons: customs held"));

    g_autofree char *array = g_build_filename(tmp, "decl.json", NULL);
    ck_assert(g_file_set_contents(
        array,
        "[\n"
        "  {\"declaration\":\"DEC-A-1\",\"ts\":\"2026-11-26T09:30:00Z\",\"status\":\"pending\","
        "\"flow\":\"road\",\"containers\":[]},\n"
        "  {\"declaration\":\"DEC-A-2\",\"ts\":\"2026-11-26T09:30:00Z\",\"status\":\"pending\","
        "\"flow\":\"road\",\"containers\":[\"PSTU2001010\"]}\n"
        "]\n",
        -1, NULL));
    g_free(g_steal_pointer(&out));
    g_free(g_steal_pointer(&err));
    const char *aargv[] = {"db", "import", "--db", db, array, NULL};
    ck_assert_int_eq(testutil_portsight(aargv, &out, &err), 0);
    ck_assert_msg(strstr(out, "2 rows: 1 imported, 0 already known, 1 bad"), "%s", out);
    g_autofree char *e = g_strdup_printf("portsight: %s:3: containers[0]: 'PSTU2001010'", array);
    ck_assert_msg(strstr(err, e), "%s", err);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_demo_prints_releases_and_holds_and_writes_them},
    {&test_explain_names_the_event_behind_every_condition},
    {&test_explain_errors_and_a_container_without_decisions},
    {&test_explain_says_what_is_journaled_but_not_yet_evaluated},
    {&test_db_import_csv_reports_bad_rows_and_decides},
    {&test_db_import_json_array_and_lines},
};

TESTUTIL_MAIN("rules-cli", "cli", 60, TESTUTIL_TESTS(tests), .once_setup = suite_setup,
              .once_teardown = suite_teardown)
