/* test_daemon_wall.c: AIS vessels reach the video wall in `portsight run`: the daemon replays
 * the shipped AIS sample into its vessel registry, copies the vessels into the wall's scene,
 * and a camera whose pose looks at one of them draws its marker and label on the wall, which
 * is recorded to MP4 and decoded here. The camera shows black (testsrc://black), so the
 * vessel overlay's cyan is the only colour the picture can have. */
#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <signal.h>
#include <string.h>

#include "mp4frames.h"
#include "testutil.h"

/* Cyan pixels (the vessel marker, track and label bar: RGB 0.20, 0.85, 1.0) in the top-left
 * 2x2 tile of the frames of @mp4: the most in any frame (the last frames are the wall after the
 * camera has stopped), and the frames decoded. */
static guint count_cyan(const Mp4Frame *f)
{
    const guint8 *Y = f->y, *U = f->u, *V = f->v;
    int ys = f->y_stride, cs = f->c_stride;
    guint cyan = 0;
    for (int y = 0; y < f->height / 2; y++)
        for (int x = 0; x < f->width / 2; x++)
            cyan += Y[y * ys + x] > 100 && U[(y / 2) * cs + x / 2] > 150 &&
                    V[(y / 2) * cs + x / 2] < 110;
    return cyan;
}

static void keep_most_cyan(const Mp4Frame *frame, gpointer data)
{
    guint *most = data;
    *most = MAX(*most, count_cyan(frame));
}

static guint most_cyan(const char *mp4, guint *frames)
{
    guint most = 0;
    *frames = mp4_foreach_frame(mp4, keep_most_cyan, &most);
    return most;
}

/* Runs `portsight run` for 6 s after its video started, with the camera and the wall (and the AIS replay when @with_ais);
 * returns the most cyan pixels in the camera's tile on a frame of the recorded wall. */
static guint run_daemon(gboolean with_ais)
{
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *db = g_build_filename(dir, "p.db", NULL);
    g_autofree char *mp4 = g_build_filename(dir, "wall.mp4", NULL);
    g_autofree char *nmea = g_build_filename(g_getenv("PS_SOURCE_ROOT"), "data", "scenario",
                                             "ais", "ningbo.nmea", NULL);
    g_autofree char *ais = with_ais ? g_strdup_printf("[ais]\nfeed = file://%s\n", nmea)
                                    : g_strdup("");
    /* The sample's last report of 257000303 puts it at 30.019345 N 121.900668 E: the camera
     * stands 0.01 degrees (960 m) west of it, 35 m up, looking east. */
    g_autofree char *conf_path = g_build_filename(dir, "p.conf", NULL);
    g_autofree char *conf = g_strdup_printf(
        "[store]\npath = %s\n%s"
        "[camera sea]\nuri = testsrc://black\nocr = false\n"
        "pose = 30.019345,121.890668,35,90,3,60\n"
        "[wall]\nlayout = 2x2\nwidth = 1280\nheight = 720\nrtsp_port = 0\nrecord = %s\n"
        "record_segment = 0\n",
        db, ais, mp4);
    ck_assert(g_file_set_contents(conf_path, conf, -1, NULL));
    g_autofree char *log = g_build_filename(dir, "engine.log", NULL);
    const char *argv[] = {g_getenv("PORTSIGHT"), "run", "-c", conf_path, NULL};
    GError *error = NULL;
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_stderr_file_path(l, log);
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(l, argv, &error);
    ck_assert_no_error(error);
    /* 6 s of the wall once the video has started (a slow start under load or a sanitizer takes
     * what it takes, up to 90 s). */
    gint64 deadline = g_get_monotonic_time() + 90 * G_USEC_PER_SEC;
    g_autofree char *text = NULL;
    while (g_get_monotonic_time() < deadline) {
        g_clear_pointer(&text, g_free);
        if (g_file_get_contents(log, &text, NULL, NULL) && strstr(text, "video started"))
            break;
        g_usleep(100 * 1000);
    }
    ck_assert_msg(text && strstr(text, "video started"), "the video did not start:\n%s",
                  text ? text : "");
    g_usleep(6 * G_USEC_PER_SEC);
    g_subprocess_send_signal(p, SIGTERM);
    ck_assert(g_subprocess_wait(p, NULL, NULL));
    ck_assert_msg(g_subprocess_get_if_exited(p) && g_subprocess_get_exit_status(p) == 0,
                  "engine status %d", g_subprocess_get_status(p));
    guint frames = 0;
    guint cyan = most_cyan(mp4, &frames);
    ck_assert_msg(frames > 25, "wall.mp4: %u frames", frames);
    testutil_rmtree(dir);
    return cyan;
}

START_TEST(test_ais_vessels_are_drawn_on_the_wall_by_the_daemon)
{
    guint without = run_daemon(FALSE);
    ck_assert_msg(without == 0, "cyan on a black camera with no AIS feed: %u pixels", without);
    guint with = run_daemon(TRUE);
    ck_assert_msg(with > 30, "no vessel on the wall: at most %u cyan pixels in the camera's tile",
                  with);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_ais_vessels_are_drawn_on_the_wall_by_the_daemon},
};

TESTUTIL_MAIN_WITH(gst_init, "daemon-wall", "vessels", 150, TESTUTIL_TESTS(tests))
