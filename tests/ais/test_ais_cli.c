/* test_ais_cli.c: `portsight ais decode` as users and scripts see it: JSON lines out, one
 * stderr line per bad sentence naming file and line, stdin when no file is given. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

/* Line 1 comment, 2 good type 1, 3 bad checksum, 4-5 a two-part type 5, 6 short payload,
 * 7 another NMEA sentence, 8 type 24 A, 9 type 24 B. */
static const char input[] =
    "# test input\n"
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n"
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B\n"
    "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C\n"
    "!AIVDM,2,2,1,A,88888888880,2*25\n"
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g2,0*50\n"
    "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D\n"
    "!AIVDM,1,1,,A,H42O55i18tMET00000000000000,2*6D\n"
    "!AIVDM,1,1,,A,H42O55lti4hhhilD3nink000?050,0*40\n";

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static char *write_input(const char *dir)
{
    char *path = g_build_filename(dir, "in.nmea", NULL);
    ck_assert(g_file_set_contents(path, input, -1, NULL));
    return path;
}

START_TEST(test_decode_file_json_lines_and_error_lines)
{
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *path = write_input(dir);
    g_autofree char *out = NULL, *err = NULL;
    ck_assert_int_eq(
        testutil_portsight((const char *[]){"ais", "decode", "-u", path, NULL}, &out, &err), 0);
    ck_assert_int_eq(count_lines(out), 4);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    static const int types[] = {1, 5, 24, 24};
    for (int i = 0; i < 4; i++) {
        JsonNode *n = json_from_string(lines[i], NULL);
        ck_assert_msg(n != NULL, "not JSON: %s", lines[i]);
        JsonObject *o = json_node_get_object(n);
        ck_assert_str_eq(json_object_get_string_member(o, "class"), "AIS");
        ck_assert_int_eq(json_object_get_int_member(o, "type"), types[i]);
        ck_assert(!json_object_get_boolean_member(o, "scaled"));
        if (i == 2)
            ck_assert_str_eq(json_object_get_string_member(o, "part"), "A");
        if (i == 3)
            ck_assert_str_eq(json_object_get_string_member(o, "part"), "B");
        json_node_unref(n);
    }
    g_autofree char *want =
        g_strdup_printf("portsight: %s:3: checksum mismatch (says 4B, computed 4A)\n"
                        "portsight: %s:6: type 1 message of 144 bits is shorter than 163\n",
                        path, path);
    ck_assert_str_eq(err, want);
    testutil_rmtree(dir);
}
END_TEST

START_TEST(test_decode_stdin_scaled_and_strict)
{
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *path = write_input(dir);
    const char *exe = g_getenv("PORTSIGHT");
    const char *argv[] = {"/bin/sh", "-c", "exec \"$0\" ais decode --strict < \"$1\"",
                          exe,       path, NULL};
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                           &status, NULL));
    ck_assert(g_spawn_check_wait_status(status, NULL) == FALSE);
    ck_assert_int_eq(WEXITSTATUS(status), 1); /* --strict and bad sentences */
    ck_assert_int_eq(count_lines(out), 4);
    ck_assert(g_str_has_prefix(err, "portsight: stdin:3: checksum mismatch"));
    JsonNode *n = json_from_string(strtok(out, "\n"), NULL);
    JsonObject *o = json_node_get_object(n);
    ck_assert(json_object_get_boolean_member(o, "scaled"));
    ck_assert_double_eq_tol(json_object_get_double_member(o, "lat"), 48.381633, 1e-6);
    ck_assert_double_eq_tol(json_object_get_double_member(o, "speed"), 12.3, 1e-9);
    json_node_unref(n);
    testutil_rmtree(dir);
}
END_TEST

START_TEST(test_missing_file_is_exit_2)
{
    g_autofree char *err = NULL;
    ck_assert_int_eq(
        testutil_portsight((const char *[]){"ais", "decode", "/nonexistent/x.nmea", NULL}, NULL,
                           &err),
        2);
    ck_assert_str_eq(err,
                     "portsight: /nonexistent/x.nmea: cannot read: No such file or directory\n");
    ck_assert_int_eq(testutil_portsight((const char *[]){"ais", "frob", NULL}, NULL, NULL), 2);
}
END_TEST

START_TEST(test_over_long_line_is_reported_and_skipped)
{
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *path = g_build_filename(dir, "long.nmea", NULL);
    GString *text = g_string_new("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n");
    /* Line 2 fits the read buffer, line 3 does not: both are skipped with one error each. */
    for (int i = 0; i < 20000; i++)
        g_string_append_c(text, 'x');
    g_string_append_c(text, '\n');
    for (int i = 0; i < 100000; i++)
        g_string_append_c(text, 'y');
    /* The last line has no newline: it is decoded all the same. */
    g_string_append(text, "\n!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A");
    ck_assert(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
    g_string_free(text, TRUE);
    g_autofree char *out = NULL, *err = NULL;
    ck_assert_int_eq(testutil_portsight((const char *[]){"ais", "decode", "-u", path, NULL},
                                        &out, &err),
                     0);
    ck_assert_int_eq(count_lines(out), 2);
    g_autofree char *want =
        g_strdup_printf("portsight: %s:2: line longer than 16384 bytes, skipped\n"
                        "portsight: %s:3: line longer than 16384 bytes, skipped\n",
                        path, path);
    ck_assert_str_eq(err, want);
    testutil_rmtree(dir);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_decode_file_json_lines_and_error_lines},
    {&test_decode_stdin_scaled_and_strict},
    {&test_missing_file_is_exit_2},
    {&test_over_long_line_is_reported_and_skipped},
};

TESTUTIL_MAIN("ais-cli", "cli", 0, TESTUTIL_TESTS(tests))
