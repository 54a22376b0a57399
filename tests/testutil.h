/* testutil.h: helpers shared by the Check tests. */
#pragma once

#include <check.h>
#include <glib.h>

/* A fresh temporary folder for one test, removed with everything in it by testutil_rmtree(). */
char *testutil_tmpdir(void);
void testutil_rmtree(const char *path);

/* The shared reference data folder (../shared/data), or NULL when it is absent: the test then
 * prints why it skips. */
const char *testutil_shared_data(void);

/* Runs the portsight binary with @argv (NULL-terminated, without the program name). Returns
 * its exit code; *out and *err (when non-NULL) receive stdout and stderr. */
int testutil_portsight(const char *const *argv, char **out, char **err);

/* Runs @suite and returns the process exit code for main(). */
int testutil_run(Suite *suite);

#define ck_assert_no_error(err)                                                            \
    ck_assert_msg((err) == NULL, "unexpected error: %s", (err) ? (err)->message : "")
