/* test_camera_ingest.c: camera pipelines start, count frames, fail and come back on their own. */
#include <glib/gstdio.h>
#include <string.h>

#include "camera.h"
#include "camsupport.h"
#include "testutil.h"

typedef struct {
    GString *log; /* "name:state;" per health change */
} Seen;

static void on_health(const CameraHealth *h, gpointer data)
{
    Seen *seen = data;
    g_string_append_printf(seen->log, "%s:%s;", h->camera, camera_state_name(h->state));
}

static const struct {
    const char *uri;
    const char *expect; /* NULL: accepted; else a substring of the source description */
    gboolean ok;
} uris[] = {
    {"testsrc://ball", "pattern=ball", TRUE},
    {"testsrc://", "pattern=smpte", TRUE},
    {"rtsp://10.0.0.5:554/stream1", "uridecodebin uri=\"rtsp://10.0.0.5:554/stream1\"", TRUE},
    {"file:///var/video/quay.mp4", "uridecodebin", TRUE},
    {"http://cam.local/live.ts", "uridecodebin", TRUE},
    {"v4l2:///dev/video0", "v4l2src device=\"/dev/video0\"", TRUE},
    {"v4l2://video0", NULL, FALSE},
    {"ftp://x/y", NULL, FALSE},
    {"rtsp://host/\"; rm -rf", NULL, FALSE},
    {"testsrc://ball ! filesink location=/tmp/x", NULL, FALSE},
    {"", NULL, FALSE},
    {"no-scheme", NULL, FALSE},
};

START_TEST(test_uri_maps_to_a_source_or_a_clear_error)
{
    GError *error = NULL;
    g_autofree char *d = camera_source_description(uris[_i].uri, &error);
    if (uris[_i].ok) {
        ck_assert_no_error(error);
        ck_assert_msg(strstr(d, uris[_i].expect), "%s -> %s", uris[_i].uri, d);
    } else {
        ck_assert_msg(d == NULL, "%s accepted as %s", uris[_i].uri, d);
        ck_assert(error && error->code == CAMERA_ERROR_URI);
        g_error_free(error);
    }
}
END_TEST

START_TEST(test_test_source_comes_online_and_counts_frames)
{
    GMainContext *ctx = g_main_context_new();
    Seen seen = {g_string_new(NULL)};
    CameraSet *set = camera_set_new(ctx, on_health, NULL, &seen);
    CameraConfig c = {.name = "yard", .uri = "testsrc://ball", .width = 320, .height = 180};
    GError *error = NULL;
    ck_assert(camera_set_add(set, &c, &error));
    ck_assert_no_error(error);
    ck_assert(!camera_set_add(set, &c, &error)); /* same name twice */
    ck_assert(error && strstr(error->message, "used twice"));
    g_clear_error(&error);
    camera_set_start(set);
    ck_assert(camsupport_wait_state(ctx, set, "yard", CAMERA_STATE_ONLINE, TRUE, 10) >= 0);
    guint64 f0 = camera_set_frames(set, "yard");
    camsupport_run_for(ctx, 0.5);
    ck_assert_uint_gt(camera_set_frames(set, "yard"), f0 + 5);
    camera_set_free(set);
    ck_assert_str_eq(seen.log->str, "yard:starting;yard:online;yard:stopped;");
    g_string_free(seen.log, TRUE);
    g_main_context_unref(ctx);
}
END_TEST

START_TEST(test_bad_filter_is_refused_when_added)
{
    CameraSet *set = camera_set_new(NULL, NULL, NULL, NULL);
    CameraConfig c = {.name = "a", .uri = "testsrc://", .filter = "nosuchelement ! identity"};
    GError *error = NULL;
    ck_assert(!camera_set_add(set, &c, &error));
    ck_assert(error && strstr(error->message, "camera a: filter"));
    g_error_free(error);
    camera_set_free(set);
}
END_TEST

/* A file camera at its end of stream and a camera that cannot open are rebuilt with backoff,
 * and neither disturbs a third camera. */
START_TEST(test_ended_and_broken_cameras_are_rebuilt_without_disturbing_others)
{
    g_autofree char *path = testutil_tmp_path("clip.mp4");
    g_autofree char *desc = g_strdup_printf(
        "videotestsrc num-buffers=12 ! video/x-raw,width=160,height=90,framerate=25/1 ! "
        "x264enc speed-preset=ultrafast ! mp4mux ! filesink location=%s", path);
    GstElement *p = gst_parse_launch(desc, NULL);
    ck_assert_ptr_nonnull(p);
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstMessage *m = gst_bus_timed_pop_filtered(gst_element_get_bus(p), 20 * GST_SECOND,
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    ck_assert(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS);
    gst_message_unref(m);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);

    GMainContext *ctx = g_main_context_new();
    CameraSet *set = camera_set_new(ctx, NULL, NULL, NULL);
    g_autofree char *uri = g_filename_to_uri(path, NULL, NULL);
    CameraConfig file = {.name = "file", .uri = uri, .backoff_min_s = 0.2};
    CameraConfig broken = {.name = "broken", .uri = "file:///nonexistent/none.mp4",
                           .backoff_min_s = 0.2, .backoff_max_s = 0.4};
    CameraConfig good = {.name = "good", .uri = "testsrc://snow", .width = 160, .height = 90};
    ck_assert(camera_set_add(set, &file, NULL));
    ck_assert(camera_set_add(set, &broken, NULL));
    ck_assert(camera_set_add(set, &good, NULL));
    camera_set_start(set);
    ck_assert(camsupport_wait_state(ctx, set, "good", CAMERA_STATE_ONLINE, TRUE, 10) >= 0);
    guint64 g0 = camera_set_frames(set, "good");
    camsupport_run_for(ctx, 2.5);
    ck_assert_uint_ge(camera_set_restarts(set, "file"), 1);   /* 12 frames = 0.48 s a play */
    ck_assert_uint_ge(camera_set_frames(set, "file"), 24);    /* played again */
    ck_assert_uint_ge(camera_set_restarts(set, "broken"), 3);
    ck_assert_uint_eq(camera_set_frames(set, "broken"), 0);
    ck_assert_uint_gt(camera_set_frames(set, "good"), g0 + 40); /* ~62 expected in 2.5 s */
    ck_assert_int_eq(camera_set_restarts(set, "good"), 0);
    camera_set_free(set);
    g_main_context_unref(ctx);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_uri_maps_to_a_source_or_a_clear_error, G_N_ELEMENTS(uris)},
    {&test_test_source_comes_online_and_counts_frames},
    {&test_bad_filter_is_refused_when_added},
    {&test_ended_and_broken_cameras_are_rebuilt_without_disturbing_others},
};

TESTUTIL_MAIN_WITH(gst_init, "camera ingest", "ingest", 60, TESTUTIL_TESTS(tests),
                   testutil_tmp_setup, testutil_tmp_teardown)
