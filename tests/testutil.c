#include "testutil.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *testutil_tmpdir(void)
{
    GError *error = NULL;
    char *dir = g_dir_make_tmp("portsight-test-XXXXXX", &error);
    ck_assert_msg(dir != NULL, "mkdtemp: %s", error ? error->message : "");
    return dir;
}

void testutil_rmtree(const char *path)
{
    if (!path)
        return;
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir) {
        const char *name;
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                testutil_rmtree(child);
            else
                g_unlink(child);
        }
        g_dir_close(dir);
    }
    g_rmdir(path);
}

char *testutil_tmp_dir, *testutil_tmp_db;

void testutil_tmp_setup(void)
{
    testutil_tmp_dir = testutil_tmpdir();
    testutil_tmp_db = testutil_tmp_path("t.db");
}

char *testutil_tmp_path(const char *name)
{
    return g_build_filename(testutil_tmp_dir, name, NULL);
}

void testutil_tmp_teardown(void)
{
    testutil_rmtree(testutil_tmp_dir);
    g_clear_pointer(&testutil_tmp_dir, g_free);
    g_clear_pointer(&testutil_tmp_db, g_free);
}

const char *testutil_shared_data(void)
{
    const char *dir = g_getenv("PS_SHARED_DATA");
    if (dir && g_file_test(dir, G_FILE_TEST_IS_DIR))
        return dir;
    return NULL;
}

int testutil_portsight(const char *const *argv, char **out, char **err)
{
    const char *exe = g_getenv("PORTSIGHT");
    ck_assert_msg(exe != NULL, "PORTSIGHT is not set: run the tests through meson test");
    GPtrArray *args = g_ptr_array_new();
    g_ptr_array_add(args, (gpointer)exe);
    for (int i = 0; argv[i]; i++)
        g_ptr_array_add(args, (gpointer)argv[i]);
    g_ptr_array_add(args, NULL);
    int status = 0;
    GError *error = NULL;
    gboolean ok = g_spawn_sync(NULL, (char **)args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out,
                               err, &status, &error);
    g_ptr_array_free(args, TRUE);
    ck_assert_msg(ok, "spawn %s: %s", exe, error ? error->message : "");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void testutil_msg_clear(TestutilMsg *m)
{
    g_clear_pointer(&m->topic, g_free);
    g_clear_pointer(&m->payload, g_free);
}

gboolean testutil_next_permutation(int *a, int n)
{
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1])
        i--;
    if (i < 0)
        return FALSE;
    int j = n - 1;
    while (a[j] <= a[i])
        j--;
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--) {
        t = a[l];
        a[l] = a[r];
        a[r] = t;
    }
    return TRUE;
}

#define SKIP_STATUS 77

void testutil_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    printf("SKIP: %s\n", why);
    fflush(stdout);
    /* _exit: no leak check at exit in sanitizer builds (the test's allocations are still live),
     * which would turn the status into a failure. */
    _exit(SKIP_STATUS);
}

char *testutil_need_program(const char *name, const char *package)
{
    char *path = g_find_program_in_path(name);
    if (!path)
        testutil_skip("%s is not installed (Debian package %s)", name, package);
    return path;
}

int testutil_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    /* A test that called testutil_skip() is reported by Check as an error with this message. */
    g_autofree char *skip_msg = g_strdup_printf("Early exit with return value %d", SKIP_STATUS);
    int skipped = 0;
    TestResult **results = srunner_failures(sr);
    for (int i = 0; i < failed; i++)
        if (tr_rtype(results[i]) == CK_ERROR && g_strcmp0(tr_msg(results[i]), skip_msg) == 0)
            skipped++;
    free(results);
    srunner_free(sr);
    if (failed > skipped)
        return EXIT_FAILURE;
    if (skipped > 0) {
        printf("%d test(s) skipped (the lines above say why), the rest passed\n", skipped);
        return SKIP_STATUS;
    }
    return EXIT_SUCCESS;
}

int testutil_run_cases(const char *suite, const TestutilCase *cases, guint n)
{
    Suite *s = suite_create(suite);
    for (guint i = 0; i < n; i++) {
        const TestutilCase *c = &cases[i];
        TCase *tc = tcase_create(c->name);
        if (c->timeout_s > 0)
            tcase_set_timeout(tc, c->timeout_s);
        if (c->setup || c->teardown)
            tcase_add_checked_fixture(tc, c->setup, c->teardown);
        if (c->once_setup || c->once_teardown)
            tcase_add_unchecked_fixture(tc, c->once_setup, c->once_teardown);
        for (const TestutilTest *t = c->tests; t < c->tests + c->n_tests; t++) {
            if (t->rows > 0)
                tcase_add_loop_test(tc, *t->test, 0, t->rows);
            else
                tcase_add_test(tc, *t->test);
        }
        suite_add_tcase(s, tc);
    }
    return testutil_run(s);
}

void testutil_assert_members_at(const char *file, int line, JsonObject *o,
                                const TestutilMember *rows, guint n)
{
    for (guint i = 0; i < n; i++) {
        JsonNode *node = json_object_get_member(o, rows[i].member);
        const char *got = node && JSON_NODE_HOLDS_VALUE(node) ? json_node_get_string(node) : NULL;
        ck_assert_msg(got && strcmp(got, rows[i].expected) == 0,
                      "%s:%d: member %s is \"%s\", expected \"%s\"", file, line,
                      rows[i].member, got ? got : "(none)", rows[i].expected);
    }
}

gint64 testutil_sql_int(struct sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "%s: no row", sql);
    gint64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

gint64 testutil_db_scalar(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    gint64 v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}
