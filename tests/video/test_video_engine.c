/* test_video_engine.c: the video wiring from a configuration: cameras on a 1+5 wall recorded to
 * MP4, health events, declarations and port/cmd/select from the journal (highlight and an ONVIF
 * PTZ move to a loopback endpoint), and the RTSP outputs. */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "camsupport.h"
#include "padprobe.h"
#include "testutil.h"
#include "video.h"

typedef struct {
    GString *topics;
    guint late_status; /* status events of the camera "late" */
} Events;

static void on_event(const char *topic, const char *id, const char *payload, gpointer data)
{
    Events *ev = data;
    if (strstr(payload, "\"state\":\"online\""))
        g_string_append_printf(ev->topics, "%s online;", topic);
    if (strstr(payload, "\"state\":\"offline\""))
        g_string_append_printf(ev->topics, "%s offline;", topic);
    if (g_str_has_suffix(topic, "/status/camera-late"))
        ev->late_status++;
}

/* Runs the main context until every one of @needles (NULL-terminated) is in the events received
 * and @v's wall has composed more than @frames frames, or @timeout_s passes: the tests wait for
 * what they check, not for a time. Returns whether all of it came. */
static gboolean wait_events(Events *ev, AppVideo *v, guint64 frames, double timeout_s,
                            const char *const *needles)
{
    gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
    for (;;) {
        gboolean all = !v || app_video_wall_frames(v) > frames;
        for (guint i = 0; all && needles[i]; i++)
            all = strstr(ev->topics->str, needles[i]) != NULL;
        if (all)
            return TRUE;
        if (g_get_monotonic_time() >= end)
            return FALSE;
        camsupport_run_for(NULL, 0.05);
    }
}

static AppVideo *video_from(const char *text, Events *ev, AppConfig **cfg)
{
    GError *error = NULL;
    *cfg = app_config_load_data("t.conf", text, strlen(text), &error);
    ck_assert_no_error(error);
    AppVideo *v = app_video_new(*cfg, on_event, ev, &error);
    ck_assert_no_error(error);
    return v;
}

START_TEST(test_wall_records_cameras_and_select_aims_the_ptz)
{
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *mp4 = g_build_filename(dir, "wall.mp4", NULL);
    static const OnvifAnswer ok = {200, "<ok/>"};
    Http *e = camsupport_onvif_start(&ok);
    g_autofree char *conf = g_strdup_printf(
        "[store]\npath = :memory:\n"
        "[camera quay]\nuri = testsrc://ball\nwidth = 640\nheight = 360\nocr = false\n"
        "pose = 30.62,122.07,35,90,10,60\n"
        "ptz_url = http://127.0.0.1:%d/onvif/ptz_service\nptz_profile = tok1\n"
        "ptz_user = op\nptz_password = pw\n"
        "[camera gate]\nuri = testsrc://snow\nwidth = 320\nheight = 180\n"
        "[wall]\nlayout = 1+5\nwidth = 640\nheight = 360\nrtsp_port = 0\n"
        "cameras = gate,quay\nrecord = %s\nrecord_segment = 0\n",
        e->port, mp4);
    Events ev = {g_string_new(NULL)};
    AppConfig *cfg = NULL;
    AppVideo *v = video_from(conf, &ev, &cfg);
    ck_assert_uint_eq(app_video_cameras(v), 2);
    GError *error = NULL;
    ck_assert(app_video_start(v, &error));
    ck_assert_no_error(error);
    ck_assert_msg(wait_events(&ev, v, 20, 30.0,
                              (const char *[]){"port/status/camera-quay online",
                                               "port/status/camera-gate online", NULL}),
                  "after 30 s: %s; %" G_GUINT64_FORMAT " wall frames", ev.topics->str,
                  (guint64)app_video_wall_frames(v));

    /* a declaration from the journal reaches the scene */
    const char *customs = "{\"id\":\"c1\",\"ts\":\"2026-11-26T08:00:00Z\",\"declaration\":"
                          "\"DEC-1\",\"status\":\"held\",\"containers\":[\"CSQU3054383\"],"
                          "\"origin\":\"上海\",\"destination\":\"Hamburg\",\"goods\":\"tea\"}";
    ck_assert(app_video_apply(v, "port/customs/status", customs, strlen(customs), NULL));
    PsSceneContainer info;
    ck_assert(overlay_scene_get_container(app_video_scene(v), "CSQU3054383", &info));
    ck_assert_str_eq(info.declaration, "DEC-1");
    /* Its colour is the rules' verdict, which nothing has given yet (video-wall-verdict). */
    ck_assert_int_eq(info.status, PS_STATUS_PENDING);
    overlay_container_info_clear(&info);

    /* the container seen low in the middle of the quay camera's picture (its small 1+5 tile is
     * 213x120 pixels, where the overlay draws and detections live); select it */
    const double bbox[4] = {86, 90, 40, 20};
    overlay_scene_put_detection(app_video_scene(v), "quay", "CSQU3054383", "22G1", bbox, 0.9, 0);
    const char *select = "{\"id\":\"s1\",\"ts\":\"2026-11-26T08:00:01Z\","
                         "\"container\":\"CSQU3054383\"}";
    ck_assert(app_video_apply(v, "port/cmd/select", select, strlen(select), NULL));
    /* the PTZ request went out (from a worker) */
    g_autofree char *req = http_request_text(e, 0, 30);
    ck_assert(strstr(req, "<tptz:ProfileToken>tok1</tptz:ProfileToken>"));
    ck_assert(strstr(req, "<wsse:Username>op</wsse:Username>"));
    /* the PTZ stands where the quay camera does and looks east: the target is ahead (pan ~0)
     * and below the horizon (tilt < 0) */
    const char *pt = strstr(req, "<tt:PanTilt x=\"");
    ck_assert(pt);
    double pan = g_ascii_strtod(pt + strlen("<tt:PanTilt x=\""), NULL);
    const char *ty = strstr(pt, "y=\"");
    double tilt = g_ascii_strtod(ty + 3, NULL);
    ck_assert_msg(pan > -0.05 && pan < 0.05 && tilt < 0 && tilt > -1, "pan %f tilt %f", pan,
                  tilt);
    ck_assert(!app_video_apply(v, "port/cmd/select", "{not json", 9, &error));
    g_clear_error(&error);

    app_video_stop(v);
    app_video_free(v);
    app_config_free(cfg);
    http_free(e);

    /* the MP4 is complete: it demuxes to the end */
    g_autofree char *desc = g_strdup_printf("filesrc location=%s ! qtdemux ! h264parse ! "
                                            "fakesink name=s", mp4);
    GstElement *p = gst_parse_launch(desc, NULL);
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstMessage *m = gst_bus_timed_pop_filtered(gst_element_get_bus(p), 20 * GST_SECOND,
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    ck_assert_msg(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS, "wall.mp4 is not a valid MP4");
    gst_message_unref(m);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
    g_string_free(ev.topics, TRUE);
    testutil_rmtree(dir);
}
END_TEST

typedef struct {
    guint buffers;
} Got;

static GstPadProbeReturn count(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    g_atomic_int_inc(&((Got *)data)->buffers);
    return GST_PAD_PROBE_OK;
}

/* Plays @url until it has given @want buffers or @timeout_s passed; returns how many it gave.
 * Like a player, it connects again when the server answers with an error or sends nothing for
 * 10 s (a camera the watchdog is rebuilding has no picture to describe yet); @why gets how
 * often it did and why, the last time. */
static guint rtsp_buffers(const char *url, guint want, double timeout_s, GString *why)
{
    g_autofree char *desc = g_strdup_printf("rtspsrc location=%s latency=100 protocols=tcp ! "
                                            "rtph264depay ! h264parse ! fakesink name=s",
                                            url);
    Got got = {0};
    guint again = 0;
    g_autofree char *last = NULL;
    gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
    while ((guint)g_atomic_int_get(&got.buffers) < want && g_get_monotonic_time() < end) {
        if (last) {
            again++;
            camsupport_run_for(NULL, 0.5);
        }
        GstElement *p = gst_parse_launch(desc, NULL);
        padprobe_buffers(p, "s", "sink", count, &got);
        GstBus *bus = gst_element_get_bus(p);
        gst_element_set_state(p, GST_STATE_PLAYING);
        guint before = g_atomic_int_get(&got.buffers);
        gint64 quiet = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        GstMessage *m = NULL;
        while ((guint)g_atomic_int_get(&got.buffers) < want && g_get_monotonic_time() < end) {
            camsupport_run_for(NULL, 0.05);
            if ((m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS)))
                break;
            if ((guint)g_atomic_int_get(&got.buffers) != before) {
                before = g_atomic_int_get(&got.buffers);
                quiet = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
            } else if (g_get_monotonic_time() > quiet) {
                g_free(last);
                last = g_strdup("nothing for 10 s");
                break;
            }
        }
        if (m) {
            GError *e = NULL;
            if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR)
                gst_message_parse_error(m, &e, NULL);
            g_free(last);
            last = g_strdup(e ? e->message : "end of stream");
            g_clear_error(&e);
            gst_message_unref(m);
        }
        gst_element_set_state(p, GST_STATE_NULL);
        gst_object_unref(bus);
        gst_object_unref(p);
    }
    if (last)
        g_string_printf(why, "connected %u more time(s), the last after: %s", again, last);
    return g_atomic_int_get(&got.buffers);
}

START_TEST(test_wall_and_each_camera_are_served_over_rtsp)
{
    int port = camsupport_free_port();
    g_autofree char *conf = g_strdup_printf(
        "[store]\npath = :memory:\n"
        "[camera yard]\nuri = testsrc://ball\nwidth = 320\nheight = 180\nocr = false\n"
        "[wall]\nlayout = 2x2\nwidth = 640\nheight = 360\nrtsp_port = %d\n", port);
    Events ev = {g_string_new(NULL)};
    AppConfig *cfg = NULL;
    AppVideo *v = video_from(conf, &ev, &cfg);
    ck_assert(app_video_start(v, NULL));
    ck_assert_msg(wait_events(&ev, v, 0, 30.0, (const char *[]){"camera-yard online", NULL}),
                  "the camera did not come online: %s", ev.topics->str);
    g_autofree char *wall = g_strdup_printf("rtsp://127.0.0.1:%d/wall", port);
    g_autofree char *cam = g_strdup_printf("rtsp://127.0.0.1:%d/cam/yard", port);
    g_autoptr(GString) why = g_string_new(NULL);
    guint n = rtsp_buffers(wall, 10, 30.0, why);
    ck_assert_msg(n >= 10, "wall over RTSP: %u frames in 30 s (%s; events: %s)", n, why->str,
                  ev.topics->str);
    if (why->len)
        g_printerr("wall over RTSP: %s\n", why->str);
    g_string_truncate(why, 0);
    n = rtsp_buffers(cam, 10, 30.0, why);
    ck_assert_msg(n >= 10, "camera over RTSP: %u frames in 30 s (%s; events: %s)", n, why->str,
                  ev.topics->str);
    if (why->len)
        g_printerr("camera over RTSP: %s\n", why->str);
    app_video_stop(v);
    app_video_free(v);
    app_config_free(cfg);
    g_string_free(ev.topics, TRUE);
}
END_TEST

/* What one tile of the composed wall (I420) looks like, from the compositor's output. */
typedef struct {
    GMutex lock;
    int rect[4];          /* the watched tile */
    double grey, red;     /* fractions of its pixels: NO SIGNAL's grey field, its red band */
    double other_luma;    /* mean luma of the other tile (rect[0] - width/2: left of it) */
    guint frames;
} TileLook;

static GstPadProbeReturn look_at_tile(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    TileLook *t = data;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    GstVideoInfo vi;
    gboolean ok = caps && gst_video_info_from_caps(&vi, caps);
    if (caps)
        gst_caps_unref(caps);
    GstVideoFrame f;
    if (!ok || !gst_video_frame_map(&f, &vi, GST_PAD_PROBE_INFO_BUFFER(info), GST_MAP_READ))
        return GST_PAD_PROBE_OK;
    const guint8 *Y = GST_VIDEO_FRAME_PLANE_DATA(&f, 0), *V = GST_VIDEO_FRAME_PLANE_DATA(&f, 2),
                 *U = GST_VIDEO_FRAME_PLANE_DATA(&f, 1);
    int ys = GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0), cs = GST_VIDEO_FRAME_PLANE_STRIDE(&f, 1);
    guint n = 0, grey = 0, red = 0, on = 0;
    double other = 0;
    for (int y = t->rect[1]; y < t->rect[1] + t->rect[3]; y += 2)
        for (int x = t->rect[0]; x < t->rect[0] + t->rect[2]; x += 2) {
            int l = Y[y * ys + x], u = U[(y / 2) * cs + x / 2], v = V[(y / 2) * cs + x / 2];
            n++;
            grey += l > 35 && l < 70 && abs(u - 128) < 12 && abs(v - 128) < 12;
            red += v > 170 && l < 110;
            other += Y[y * ys + x - t->rect[2]];
            on++;
        }
    gst_video_frame_unmap(&f);
    g_mutex_lock(&t->lock);
    t->grey = (double)grey / n;
    t->red = (double)red / n;
    t->other_luma = other / on;
    t->frames++;
    g_mutex_unlock(&t->lock);
    return GST_PAD_PROBE_OK;
}

static gboolean tile_shows_no_signal(TileLook *t)
{
    g_mutex_lock(&t->lock);
    gboolean yes = t->grey > 0.4 && t->red > 0.05;
    g_mutex_unlock(&t->lock);
    return yes;
}

static double wait_look(TileLook *t, gboolean want, double timeout_s)
{
    gint64 t0 = g_get_monotonic_time();
    while (g_get_monotonic_time() - t0 < timeout_s * G_USEC_PER_SEC) {
        if (tile_shows_no_signal(t) == want)
            return (g_get_monotonic_time() - t0) / 1e6;
        camsupport_run_for(NULL, 0.1);
    }
    return -1;
}

/* A camera that is down shows NO SIGNAL on its tile (not its last frame frozen, not black)
 * while the watchdog rebuilds it, the camera next to it keeps going, and its own picture comes
 * back when it does. */
START_TEST(test_dead_camera_tile_shows_no_signal_until_it_returns)
{
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *late = g_build_filename(dir, "late.mp4", NULL);
    g_autofree char *late_uri = g_filename_to_uri(late, NULL, NULL);
    g_autofree char *conf = g_strdup_printf(
        "[store]\npath = :memory:\n"
        "[camera live]\nuri = testsrc://white\nocr = false\n"
        "[camera late]\nuri = %s\nocr = false\nwatchdog = 1\nbackoff_max = 1\n"
        "[wall]\nlayout = 2x2\nwidth = 640\nheight = 360\nrtsp_port = 0\ncameras = live,late\n",
        late_uri);
    Events ev = {g_string_new(NULL)};
    AppConfig *cfg = NULL;
    AppVideo *v = video_from(conf, &ev, &cfg);
    TileLook look = {.rect = {320, 0, 320, 180}};
    g_mutex_init(&look.lock);
    padprobe_buffers(app_video_wall_pipeline(v), "mix", "src", look_at_tile, &look);
    ck_assert(app_video_start(v, NULL));

    /* the file is not there: the camera fails, backs off, and its tile says so */
    double t = wait_look(&look, TRUE, 30.0);
    ck_assert_msg(t >= 0, "no NO SIGNAL on the dead camera's tile (grey %.2f, red %.2f)",
                  look.grey, look.red);
    /* the live camera's tile (white) goes on beside it, once its first frame is in */
    double luma = 0;
    for (gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
         g_get_monotonic_time() < end; camsupport_run_for(NULL, 0.05)) {
        g_mutex_lock(&look.lock);
        luma = look.other_luma;
        g_mutex_unlock(&look.lock);
        if (luma > 180)
            break;
    }
    ck_assert_msg(luma > 180, "the live camera's tile: luma %.0f", luma);
    ck_assert(tile_shows_no_signal(&look));
    camsupport_run_for(NULL, 1.5); /* stays while the camera is down */
    ck_assert(tile_shows_no_signal(&look));
    /* Rebuilt every second while down, but its status changed once: offline, with why. */
    ck_assert_msg(ev.late_status == 1 && strstr(ev.topics->str, "camera-late offline"),
                  "%u status events while down: %s", ev.late_status, ev.topics->str);

    /* the camera comes back: its picture replaces NO SIGNAL */
    g_autofree char *clip = g_build_filename(g_getenv("PS_SOURCE_ROOT"), "data", "scenario", "video",
                                             "gate-3.mp4", NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    ck_assert(g_file_get_contents(clip, &bytes, &len, NULL));
    g_autofree char *part = g_strdup_printf("%s.part", late);
    ck_assert(g_file_set_contents(part, bytes, (gssize)len, NULL));
    ck_assert_int_eq(g_rename(part, late), 0);
    t = wait_look(&look, FALSE, 30.0);
    ck_assert_msg(t >= 0, "the camera is back but its tile still shows NO SIGNAL");
    /* The frame reaches the wall from the camera's streaming thread; its online event comes
     * through the main loop, maybe later: wait for it. */
    ck_assert_msg(wait_events(&ev, NULL, 0, 30.0,
                              (const char *[]){"port/status/camera-late online", NULL}),
                  "the camera is back but no online event: %s", ev.topics->str);
    ck_assert_uint_eq(ev.late_status, 2); /* offline, then online */

    app_video_stop(v);
    app_video_free(v);
    app_config_free(cfg);
    g_mutex_clear(&look.lock);
    g_string_free(ev.topics, TRUE);
    testutil_rmtree(dir);
}
END_TEST

/* A camera model from ground control points in the config: a north-up picture of a 0.01 x
 * 0.01 degree patch, corner to corner, in 1920x1080 pixels; the camera's tile on a 1280x720
 * 2x2 wall is 640x360, where its overlay draws and ground points are projected. */
START_TEST(test_ground_points_in_config_give_the_camera_a_homography)
{
    const char *conf =
        "[store]\npath = :memory:\n"
        "[camera berth]\nuri = testsrc://ball\nocr = false\n"
        "ground_points = 30.610,122.000,0,0; 30.610,122.010,1920,0; "
        "30.600,122.010,1920,1080; 30.600,122.000,0,1080\n"
        "[wall]\nlayout = 2x2\nwidth = 1280\nheight = 720\nrtsp_port = 0\n";
    Events ev = {g_string_new(NULL)};
    AppConfig *cfg = NULL;
    AppVideo *v = video_from(conf, &ev, &cfg);
    static const double cases[][4] = {
        {30.605, 122.005, 320, 180},  /* the middle */
        {30.6075, 122.0025, 160, 90}, /* a quarter in from the top-left */
        {30.600, 122.010, 640, 360},  /* a control point: the bottom-right corner */
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        double x = -1, y = -1;
        ck_assert(app_video_camera_project(v, "berth", cases[i][0], cases[i][1], &x, &y));
        ck_assert_msg(fabs(x - cases[i][2]) < 1.5 && fabs(y - cases[i][3]) < 1.5,
                      "case %u: %.2f,%.2f, want %.0f,%.0f", i, x, y, cases[i][2], cases[i][3]);
    }
    app_video_free(v);
    app_config_free(cfg);
    g_string_free(ev.topics, TRUE);
}
END_TEST

START_TEST(test_bad_video_config_names_the_group)
{
    static const struct {
        const char *text, *error;
    } bad[] = {
        {"[store]\npath=x\n[camera a]\nuri = ftp://x/y\n", "[camera a]"},
        {"[store]\npath=x\n[camera a]\nuri = testsrc://\npose = 1,2,3\n", "[camera a] pose"},
        {"[store]\npath=x\n[camera a]\nuri = testsrc://\nptz_url = http://h/p\n",
         "ptz_url needs the camera's pose"},
        {"[store]\npath=x\n[camera a]\nuri = testsrc://\n[wall]\ncameras = a,b\n",
         "[wall] cameras: no [camera b]"},
        {"[store]\npath=x\n[camera a]\nuri = testsrc://\n[wall]\nsrt = udp://x\n", "[wall]"},
        {"[store]\npath=x\n[camera a]\nuri = testsrc://\n"
         "ground_points = 30.6,122,0,0; 30.6,122.01,100,0; 30.61,122.01,100,100\n",
         "[camera a] ground_points"},
        {"[store]\npath=x\n[camera a]\nuri = testsrc://\nground_points = 1,2,3\n",
         "[camera a] ground_points: '1,2,3'"},
        {"[store]\npath=x\n[camera a]\nuri = testsrc://\npose = 30.62,122.07,35,90,3,60\n"
         "ground_points = 30.6,122,0,0; 30.6,122.01,100,0; 30.61,122.01,100,100; "
         "30.61,122,0,100\n",
         "give one camera model"},
        {"[store]\npath=x\n[camera a]\nuri = testsrc://\nocr_roi = 0.5,0,0.6,1\n",
         "[camera a] ocr_roi"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *error = NULL;
        AppConfig *cfg = app_config_load_data("t.conf", bad[i].text, strlen(bad[i].text), &error);
        ck_assert_no_error(error);
        AppVideo *v = app_video_new(cfg, NULL, NULL, &error);
        ck_assert_msg(!v && error && strstr(error->message, bad[i].error), "case %u: %s", i,
                      error ? error->message : "accepted");
        g_error_free(error);
        app_config_free(cfg);
    }
}
END_TEST

static const TestutilTest tests[] = {
    {&test_wall_records_cameras_and_select_aims_the_ptz},
    {&test_wall_and_each_camera_are_served_over_rtsp},
    {&test_dead_camera_tile_shows_no_signal_until_it_returns},
    {&test_ground_points_in_config_give_the_camera_a_homography},
    {&test_bad_video_config_names_the_group},
};

TESTUTIL_MAIN_WITH(gst_init, "video engine", "engine", 90, TESTUTIL_TESTS(tests))
