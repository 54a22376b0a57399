/* test_camera_rtsp.c: an RTSP camera (gst-rtsp-server in a child process) is killed, restarted,
 * frozen (SIGSTOP) and resumed; the engine notices each within the watchdog time + 1 s and is
 * back within 5 s of the camera, while a second camera never stops counting frames. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "camera.h"
#include "camsupport.h"
#include "testutil.h"

#define WATCHDOG_S 3.0

static const char *self;

static void check_other(CameraSet *set, guint64 *last, const char *phase)
{
    guint64 now = camera_set_frames(set, "other");
    ck_assert_msg(now > *last + 5, "%s: the second camera stalled (%" G_GUINT64_FORMAT
                  " -> %" G_GUINT64_FORMAT ")", phase, *last, now);
    *last = now;
}

START_TEST(test_rtsp_camera_survives_kill_and_freeze)
{
    GMainContext *ctx = g_main_context_new();
    int port = camsupport_free_port();
    GPid server = camsupport_spawn_server(self, port);
    g_autofree char *uri = g_strdup_printf("rtsp://127.0.0.1:%d/cam", port);
    CameraSet *set = camera_set_new(ctx, NULL, NULL, NULL);
    CameraConfig rtsp = {.name = "rtsp", .uri = uri, .watchdog_s = WATCHDOG_S, .latency_ms = 100,
                         .rtsp_tcp = TRUE};
    CameraConfig other = {.name = "other", .uri = "testsrc://ball", .width = 160, .height = 90};
    ck_assert(camera_set_add(set, &rtsp, NULL));
    ck_assert(camera_set_add(set, &other, NULL));
    camera_set_start(set);
    double t = camsupport_wait_state(ctx, set, "rtsp", CAMERA_STATE_ONLINE, TRUE, 20);
    ck_assert_msg(t >= 0, "the RTSP camera never came online");
    printf("first connect: %.2f s\n", t);
    guint64 other_frames = camera_set_frames(set, "other");
    camsupport_run_for(ctx, 1.0);
    check_other(set, &other_frames, "online");

    /* 1. kill the camera */
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    g_spawn_close_pid(server);
    t = camsupport_wait_state(ctx, set, "rtsp", CAMERA_STATE_ONLINE, FALSE, WATCHDOG_S + 1);
    printf("kill noticed after %.2f s\n", t);
    ck_assert_msg(t >= 0, "kill not noticed within the watchdog + 1 s");
    camsupport_run_for(ctx, 2.0);
    check_other(set, &other_frames, "killed");

    /* 2. restart it on the same port */
    server = camsupport_spawn_server(self, port);
    t = camsupport_wait_state(ctx, set, "rtsp", CAMERA_STATE_ONLINE, TRUE, 5.0);
    printf("reconnect after restart: %.2f s\n", t);
    ck_assert_msg(t >= 0, "no reconnect within 5 s of the restart");
    camsupport_run_for(ctx, 1.0);
    check_other(set, &other_frames, "restarted");

    /* 3. freeze it: the TCP connection stays up, nothing comes */
    kill(server, SIGSTOP);
    t = camsupport_wait_state(ctx, set, "rtsp", CAMERA_STATE_ONLINE, FALSE, WATCHDOG_S + 1);
    printf("freeze noticed after %.2f s\n", t);
    ck_assert_msg(t >= 0, "freeze not noticed within the watchdog + 1 s");
    camsupport_run_for(ctx, 3.0);
    check_other(set, &other_frames, "frozen");

    /* 4. resume it */
    kill(server, SIGCONT);
    t = camsupport_wait_state(ctx, set, "rtsp", CAMERA_STATE_ONLINE, TRUE, 5.0);
    printf("reconnect after resume: %.2f s\n", t);
    ck_assert_msg(t >= 0, "no reconnect within 5 s of the resume");
    camsupport_run_for(ctx, 1.0);
    check_other(set, &other_frames, "resumed");
    ck_assert_int_eq(camera_set_restarts(set, "other"), 0);
    printf("rtsp restarts: %u\n", camera_set_restarts(set, "rtsp"));

    camera_set_free(set);
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    g_spawn_close_pid(server);
    g_main_context_unref(ctx);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_rtsp_camera_survives_kill_and_freeze},
};

static const TestutilCase tcases[] = {
    {"rtsp", 120, TESTUTIL_TESTS(tests)},
};

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--serve") == 0)
        return camsupport_serve(atoi(argv[2]));
    self = argv[0];
    gst_init(&argc, &argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    return testutil_run_cases("camera rtsp", tcases, G_N_ELEMENTS(tcases));
}
