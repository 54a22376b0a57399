/* testutil.h: helpers shared by the Check tests. */
#pragma once

#include <check.h>
#include <glib.h>

/* A fresh temporary folder for one test, removed with everything in it by testutil_rmtree(). */
char *testutil_tmpdir(void);
void testutil_rmtree(const char *path);

/* For a checked fixture: testutil_tmp_setup() makes a fresh temporary folder (testutil_tmp_dir)
 * and names a database file in it that does not exist yet (testutil_tmp_db, "t.db");
 * testutil_tmp_teardown() removes the folder with everything in it. */
extern char *testutil_tmp_dir, *testutil_tmp_db;
void testutil_tmp_setup(void);
void testutil_tmp_teardown(void);
/* The path of @name in testutil_tmp_dir (nothing is made there). */
char *testutil_tmp_path(const char *name);

/* The reference data that is not in the repository ($PS_SHARED_DATA, which meson test sets to
 * ../shared/data beside the source tree), or NULL when it is absent: the test then calls
 * testutil_skip(). */
const char *testutil_shared_data(void);

/* Ends the running test as skipped: prints "SKIP: why" and exits 77. testutil_run() counts it as
 * skipped, not failed, and the program exits 77 (meson's SKIP) when nothing failed; without
 * fork (CK_FORK=no) the program itself exits 77 here. */
G_NORETURN void testutil_skip(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* The program @name on PATH, or testutil_skip() naming the Debian package that has it. */
char *testutil_need_program(const char *name, const char *package);

/* Runs the portsight binary with @argv (NULL-terminated, without the program name). Returns
 * its exit code; *out and *err (when non-NULL) receive stdout and stderr. */
int testutil_portsight(const char *const *argv, char **out, char **err);

/* Rearranges @a (@n values) into the next permutation in lexicographic order; returns FALSE
 * (and leaves @a as it was) after the last one. From the sorted order it visits all n! orders. */
gboolean testutil_next_permutation(int *a, int n);

/* A message of the tests (a publish, an event fed to the rules): its @topic and @payload, both
 * owned; testutil_msg_clear() frees them. */
typedef struct {
    char *topic;
    char *payload;
} TestutilMsg;

void testutil_msg_clear(TestutilMsg *m);

/* Runs @suite and returns the process exit code for main(). */
int testutil_run(Suite *suite);

/* One row of a suite's table of tests: @test (written &test_name, so that the table can be
 * static) runs once, or, when @rows > 0, once per row of its own table with _i = 0 .. @rows - 1
 * (tcase_add_loop_test). */
typedef struct {
    const TTest *const *test;
    int rows;
} TestutilTest;

/* One case of a suite: its @n_tests @tests (TESTUTIL_TESTS(table) gives both), their timeout (0
 * keeps Check's default), a fixture around each test in the test's own process (@setup,
 * @teardown: checked) and one around the whole case in the runner (@once_setup, @once_teardown:
 * unchecked); a NULL one is skipped. */
typedef struct {
    const char *name;
    double timeout_s;
    const TestutilTest *tests;
    guint n_tests;
    SFun setup, teardown;
    SFun once_setup, once_teardown;
} TestutilCase;

#define TESTUTIL_TESTS(table) (table), G_N_ELEMENTS(table)

/* Runs suite @suite with the @n @cases, in order; returns testutil_run()'s code for main(). */
int testutil_run_cases(const char *suite, const TestutilCase *cases, guint n);

/* The main() of a suite of one case, the TestutilCase's fields given after @suite;
 * TESTUTIL_MAIN_WITH first calls @init(&argc, &argv) (gst_init, say). */
#define TESTUTIL_MAIN(suite, ...)                                                                  \
    int main(void)                                                                                 \
    {                                                                                              \
        const TestutilCase tcase_ = {__VA_ARGS__};                                                 \
        return testutil_run_cases((suite), &tcase_, 1);                                            \
    }
#define TESTUTIL_MAIN_WITH(init, suite, ...)                                                       \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        init(&argc, &argv);                                                                        \
        const TestutilCase tcase_ = {__VA_ARGS__};                                                 \
        return testutil_run_cases((suite), &tcase_, 1);                                            \
    }

/* The first column of the first row of @sql on the open connection @db; fails the test when
 * @sql does not prepare or gives no row. */
struct sqlite3;
gint64 testutil_sql_int(struct sqlite3 *db, const char *sql);

/* The first column of the first row of @sql on the SQLite database @path opened read-only (it
 * waits up to 2 s for a writer's lock), or -1 when it cannot be read. */
gint64 testutil_db_scalar(const char *path, const char *sql);

/* One expected string member of a JSON object: @member holds the string @expected. */
typedef struct {
    const char *member;
    const char *expected;
} TestutilMember;

/* Fails the test at the first of the @n @rows whose member of @o is missing, not a string or
 * another string, naming the member and the caller's line. */
typedef struct _JsonObject JsonObject;
#define testutil_assert_members(o, rows, n)                                                        \
    testutil_assert_members_at(__FILE__, __LINE__, (o), (rows), (n))
void testutil_assert_members_at(const char *file, int line, JsonObject *o,
                                const TestutilMember *rows, guint n);

#define ck_assert_no_error(err)                                                            \
    ck_assert_msg((err) == NULL, "unexpected error: %s", (err) ? (err)->message : "")
