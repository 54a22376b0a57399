/* test_cli.c: the portsight command as users and scripts see it. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "store.h"
#include "testutil.h"

static int lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(test_version_and_help)
{
    g_autofree char *out = NULL, *err = NULL;
    ck_assert_int_eq(testutil_portsight((const char *[]){"--version", NULL}, &out, &err), 0);
    ck_assert(g_str_has_prefix(out, "portsight "));
    g_free(g_steal_pointer(&out));
    ck_assert_int_eq(testutil_portsight((const char *[]){"--help", NULL}, &out, NULL), 0);
    ck_assert(strstr(out, "demo") && strstr(out, "run") && strstr(out, "explain"));
}
END_TEST

static const char *const subcommands[] = {"run", "demo", "ais", "ocr", "vessel", "explain", "db"};

START_TEST(test_every_subcommand_has_help)
{
    g_autofree char *out = NULL;
    const char *argv[] = {subcommands[_i], "--help", NULL};
    ck_assert_int_eq(testutil_portsight(argv, &out, NULL), 0);
    ck_assert_msg(strstr(out, "Usage:"), "%s --help printed: %s", subcommands[_i], out);
}
END_TEST

START_TEST(test_unknown_command_is_a_usage_error)
{
    g_autofree char *err = NULL;
    ck_assert_int_eq(testutil_portsight((const char *[]){"frobnicate", NULL}, NULL, &err), 2);
    ck_assert_int_eq(lines(err), 1);
    ck_assert(g_str_has_prefix(err, "portsight: unknown command 'frobnicate'"));
}
END_TEST

START_TEST(test_run_with_missing_config_is_one_line_exit_2)
{
    g_autofree char *err = NULL;
    const char *argv[] = {"run", "-c", "/nonexistent/p.conf", NULL};
    ck_assert_int_eq(testutil_portsight(argv, NULL, &err), 2);
    ck_assert_str_eq(err, "portsight: /nonexistent/p.conf: cannot read: No such file or directory\n");
}
END_TEST

START_TEST(test_run_with_unknown_group_names_file_and_line)
{
    g_autofree char *conf = testutil_tmp_path("p.conf");
    ck_assert(g_file_set_contents(conf, "[store]\npath = x.db\n\n[screens]\nlayout = 2x2\n", -1,
                                  NULL));
    g_autofree char *err = NULL;
    ck_assert_int_eq(testutil_portsight((const char *[]){"run", "-c", conf, NULL}, NULL, &err), 2);
    g_autofree char *want = g_strdup_printf("portsight: %s:4: unknown group [screens]", conf);
    ck_assert_msg(g_str_has_prefix(err, want), "got %s", err);
    ck_assert_int_eq(lines(err), 1);
}
END_TEST

/* A wall that cannot start (its recording folder does not exist) stops the start with the
 * file and line of [wall], the output and the path. */
START_TEST(test_run_with_a_wall_that_cannot_record_names_the_config_line)
{
    g_autofree char *conf = testutil_tmp_path("p.conf");
    g_autofree char *clip = g_build_filename(g_getenv("PS_SOURCE_ROOT"), "data", "scenario",
                                             "video", "rail-1.mp4", NULL);
    g_autofree char *text = g_strdup_printf("[store]\npath = %s/p.db\n\n[camera rail]\n"
                                            "uri = file://%s\n\n[wall]\nrtsp_port = 0\n"
                                            "record = %s/missing/wall.mp4\n",
                                            testutil_tmp_dir, clip, testutil_tmp_dir);
    ck_assert(g_file_set_contents(conf, text, -1, NULL));
    g_autofree char *err = NULL;
    int code = testutil_portsight((const char *[]){"run", "-c", conf, NULL}, NULL, &err);
    ck_assert_msg(code != 0, "started: %s", err);
    g_autofree char *want = g_strdup_printf("%s:7: [wall]: wall: record %s/missing/wall.mp4: "
                                            "cannot write into %s/missing",
                                            conf, testutil_tmp_dir, testutil_tmp_dir);
    ck_assert_msg(strstr(err, want), "no '%s' in\n%s", want, err);
}
END_TEST

/* A console whose port is taken stops the start with the file and line of [http] listen. */
START_TEST(test_run_with_a_taken_console_port_names_the_config_line)
{
    g_autofree char *conf = testutil_tmp_path("p.conf");
    g_autoptr(GSocketListener) taken = g_socket_listener_new();
    guint16 port = g_socket_listener_add_any_inet_port(taken, NULL, NULL);
    ck_assert_uint_gt(port, 0);
    g_autofree char *text = g_strdup_printf("[store]\npath = %s/p.db\n\n[http]\n"
                                            "listen = 0.0.0.0:%u\n",
                                            testutil_tmp_dir, port);
    ck_assert(g_file_set_contents(conf, text, -1, NULL));
    g_autofree char *err = NULL;
    int code = testutil_portsight((const char *[]){"run", "-c", conf, NULL}, NULL, &err);
    ck_assert_msg(code != 0, "started: %s", err);
    g_autofree char *want = g_strdup_printf("%s:5: [http] listen 0.0.0.0:%u", conf, port);
    ck_assert_msg(strstr(err, want), "no '%s' in\n%s", want, err);
}
END_TEST

START_TEST(test_run_stops_cleanly_on_sigterm_with_the_journal_flushed)
{
    g_autofree char *conf = testutil_tmp_path("p.conf");
    g_autofree char *db = testutil_tmp_path("p.db");
    g_autofree char *text = g_strdup_printf("[store]\npath = %s\n", db);
    ck_assert(g_file_set_contents(conf, text, -1, NULL));
    const char *argv[] = {g_getenv("PORTSIGHT"), "--log-level", "info", "run", "-c", conf, NULL};
    GPid pid;
    int err_fd;
    GError *error = NULL;
    ck_assert(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                       NULL, &pid, NULL, NULL, &err_fd, &error));
    /* Wait for the "running" log line: the loop is up and the store open. */
    GString *log = g_string_new(NULL);
    char buf[512];
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (!strstr(log->str, "running") && g_get_monotonic_time() < deadline) {
        ssize_t n = read(err_fd, buf, sizeof buf);
        if (n <= 0)
            break;
        g_string_append_len(log, buf, n);
    }
    ck_assert_msg(strstr(log->str, "running"), "no 'running' line: %s", log->str);
    kill(pid, SIGTERM);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    g_string_free(log, TRUE);
    close(err_fd);
    /* The WAL was checkpointed into the database on the way out. */
    g_autofree char *wal = g_strconcat(db, "-wal", NULL);
    GStatBuf st;
    ck_assert(g_stat(wal, &st) != 0 || st.st_size == 0);
    PsStore *s = store_open(db, &error);
    ck_assert_no_error(error);
    store_close(s);
}
END_TEST

START_TEST(test_demo_exits_0_and_says_where_its_outputs_are)
{
    g_autofree char *out_dir = testutil_tmp_path("demo");
    g_autofree char *out = NULL, *err = NULL;
    const char *argv[] = {"demo", "--out", out_dir, NULL};
    int code = testutil_portsight(argv, &out, &err);
    ck_assert_msg(code == 0, "exit %d, stderr: %s", code, err);
    g_autofree char *db = g_build_filename(out_dir, "portsight.db", NULL);
    ck_assert(g_file_test(db, G_FILE_TEST_IS_REGULAR));
    ck_assert_msg(strstr(out, db), "stdout does not name %s: %s", db, out);
    /* A second run starts afresh rather than failing or piling up. */
    g_free(g_steal_pointer(&out));
    ck_assert_int_eq(testutil_portsight(argv, &out, NULL), 0);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_version_and_help},
    {&test_every_subcommand_has_help, G_N_ELEMENTS(subcommands)},
    {&test_unknown_command_is_a_usage_error},
    {&test_run_with_missing_config_is_one_line_exit_2},
    {&test_run_with_unknown_group_names_file_and_line},
    {&test_run_with_a_wall_that_cannot_record_names_the_config_line},
    {&test_run_with_a_taken_console_port_names_the_config_line},
    {&test_run_stops_cleanly_on_sigterm_with_the_journal_flushed},
    {&test_demo_exits_0_and_says_where_its_outputs_are},
};

TESTUTIL_MAIN("cli", "cli", 60, TESTUTIL_TESTS(tests), testutil_tmp_setup, testutil_tmp_teardown)
