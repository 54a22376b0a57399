/* test_wall_record.c: a restart never overwrites the wall's recording: the previous one is kept
 * under a timestamped name, and only the newest record_keep of those stay. */
#include <glib/gstdio.h>
#include <string.h>
#include <utime.h>

#include "testutil.h"
#include "wall.h"

static guint kept_count(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint n = 0;
    for (const char *name; (name = g_dir_read_name(d));)
        n += g_str_has_prefix(name, "wall-2") && g_str_has_suffix(name, ".mp4");
    return n;
}

START_TEST(test_previous_recording_is_kept_timestamped_and_retention_applies)
{
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *rec = g_build_filename(dir, "wall.mp4", NULL);
    GError *error = NULL;
    ck_assert(wall_record_keep(rec, 3, &error)); /* nothing there yet: nothing to do */
    ck_assert_uint_eq(kept_count(dir), 0);
    for (int i = 0; i < 5; i++) {
        g_autofree char *data = g_strdup_printf("recording %d", i);
        ck_assert(g_file_set_contents(rec, data, -1, NULL));
        struct utimbuf t = {1796300000 + i * 60, 1796300000 + i * 60};
        ck_assert_int_eq(utime(rec, &t), 0);
        ck_assert(wall_record_keep(rec, 3, &error));
        ck_assert_no_error(error);
        ck_assert(!g_file_test(rec, G_FILE_TEST_EXISTS)); /* moved aside, not overwritten */
    }
    ck_assert_uint_eq(kept_count(dir), 3);
    /* The newest three, by their time: recordings 2, 3 and 4. */
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(1796300000 + 4 * 60);
    g_autofree char *stamp = g_date_time_format(t, "%Y%m%dT%H%M%SZ");
    g_autofree char *newest = g_strdup_printf("%s/wall-%s.mp4", dir, stamp);
    g_autofree char *text = NULL;
    ck_assert_msg(g_file_get_contents(newest, &text, NULL, NULL), "no %s", newest);
    ck_assert_str_eq(text, "recording 4");
    g_autoptr(GDateTime) t0 = g_date_time_new_from_unix_utc(1796300000);
    g_autofree char *stamp0 = g_date_time_format(t0, "%Y%m%dT%H%M%SZ");
    g_autofree char *oldest = g_strdup_printf("%s/wall-%s.mp4", dir, stamp0);
    ck_assert(!g_file_test(oldest, G_FILE_TEST_EXISTS));
    testutil_rmtree(dir);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_previous_recording_is_kept_timestamped_and_retention_applies},
};

TESTUTIL_MAIN("wall-record", "record", 0, TESTUTIL_TESTS(tests))
