/* test_wall_outputs.c: the wall's HLS and SRT outputs, each next to the MP4 recording on the
 * same encoder: HLS writes a playlist and segments that decode; an SRT client (caller, loopback)
 * receives frames that decode; the MP4 is complete. */
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <stdio.h>
#include <string.h>

#include "camsupport.h"
#include "padprobe.h"
#include "testutil.h"
#include "wall.h"

#define W 320
#define H 180

/* A live test camera whose frames go to the wall's tile "cam". */
typedef struct {
    GstElement *pipeline;
    PsWall *wall;
} Feed;

static GstFlowReturn on_sample(GstAppSink *sink, gpointer data)
{
    Feed *f = data;
    GstSample *s = gst_app_sink_pull_sample(sink);
    if (!s)
        return GST_FLOW_EOS;
    wall_push(f->wall, "cam", s);
    gst_sample_unref(s);
    return GST_FLOW_OK;
}

static void feed_start(Feed *f, PsWall *wall)
{
    f->wall = wall;
    f->pipeline = gst_parse_launch("videotestsrc is-live=true pattern=ball ! "
                                   "video/x-raw,format=BGRx,width=160,height=90,framerate=25/1 ! "
                                   "appsink name=s sync=false",
                                   NULL);
    ck_assert(f->pipeline);
    GstElement *s = gst_bin_get_by_name(GST_BIN(f->pipeline), "s");
    GstAppSinkCallbacks cbs = {.new_sample = on_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(s), &cbs, f, NULL);
    gst_object_unref(s);
    gst_element_set_state(f->pipeline, GST_STATE_PLAYING);
}

static void feed_stop(Feed *f)
{
    gst_element_set_state(f->pipeline, GST_STATE_NULL);
    gst_object_unref(f->pipeline);
}

/* A small wall with no RTSP server, at a low bit rate. */
static void small_wall_config(WallConfig *c)
{
    wall_config_init(c);
    c->width = W;
    c->height = H;
    c->rtsp_port = 0;
    c->bitrate_kbps = 500;
}

static PsWall *wall_with(const char *record, const char *hls_dir, const char *srt_uri)
{
    WallConfig c;
    small_wall_config(&c);
    c.record = record;
    c.hls_dir = hls_dir;
    c.srt_uri = srt_uri;
    const char *cams[] = {"cam", NULL};
    GError *error = NULL;
    PsWall *w = wall_new(&c, cams, &error);
    ck_assert_no_error(error);
    ck_assert(wall_start(w, &error));
    ck_assert_no_error(error);
    return w;
}

/* No error on @pipeline's bus so far; @what names it in the failure. */
static void assert_no_bus_error(GstElement *pipeline, const char *what)
{
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    GError *e = NULL;
    if (m)
        gst_message_parse_error(m, &e, NULL);
    ck_assert_msg(!m, "%s: %s", what, e ? e->message : "");
    gst_object_unref(bus);
}

/* No error on the wall's bus so far (the outputs negotiated and keep running). */
static void assert_wall_healthy(PsWall *w)
{
    assert_no_bus_error(wall_pipeline(w), "wall error");
}

typedef struct {
    gint frames;
    gint width, height;
} Decoded;

static GstPadProbeReturn on_decoded(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    Decoded *d = data;
    if (g_atomic_int_add(&d->frames, 1) == 0) {
        GstCaps *caps = gst_pad_get_current_caps(pad);
        GstStructure *s = caps ? gst_caps_get_structure(caps, 0) : NULL;
        if (s) {
            gst_structure_get_int(s, "width", &d->width);
            gst_structure_get_int(s, "height", &d->height);
        }
        if (caps)
            gst_caps_unref(caps);
    }
    return GST_PAD_PROBE_OK;
}

/* Builds @launch (ending in "fakesink name=out"), counts the frames reaching out. */
static GstElement *decoder(const char *launch, Decoded *d)
{
    GError *error = NULL;
    GstElement *p = gst_parse_launch(launch, &error);
    ck_assert_no_error(error);
    padprobe_buffers(p, "out", "sink", on_decoded, d);
    return p;
}

/* Plays @launch to its end; returns whether it reached EOS without an error. */
static gboolean decode_to_end(const char *launch, Decoded *d)
{
    GstElement *p = decoder(launch, d);
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(p);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND,
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    gboolean ok = m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
    if (m)
        gst_message_unref(m);
    gst_object_unref(bus);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
    return ok;
}

static void assert_mp4_complete(const char *mp4)
{
    Decoded d = {0};
    g_autofree char *launch = g_strdup_printf(
        "filesrc location=\"%s\" ! qtdemux ! h264parse ! avdec_h264 ! fakesink name=out", mp4);
    ck_assert_msg(decode_to_end(launch, &d), "%s does not play to its end", mp4);
    ck_assert_int_gt(d.frames, 25);
    ck_assert_int_eq(d.width, W);
    ck_assert_int_eq(d.height, H);
}

/* The segment names a playlist lists (lines that are not tags), or an empty array. */
static GPtrArray *playlist_segments(const char *playlist)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(playlist, &text, NULL, NULL))
        return names;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (lines[i][0] && lines[i][0] != '#')
            g_ptr_array_add(names, g_strdup(lines[i]));
    }
    return names;
}

/* A wall that cannot start says which output and which path. */
START_TEST(test_a_wall_that_cannot_record_names_the_output_and_the_path)
{
    WallConfig c;
    small_wall_config(&c);
    c.record = "/nonexistent/folder/wall.mp4";
    const char *cams[] = {"cam", NULL};
    GError *error = NULL;
    PsWall *w = wall_new(&c, cams, &error);
    ck_assert_no_error(error);
    ck_assert(!wall_start(w, &error));
    ck_assert_msg(error && strstr(error->message, "/nonexistent/folder/wall.mp4") &&
                      strstr(error->message, "cannot write into /nonexistent/folder"),
                  "%s", error ? error->message : "no error");
    g_error_free(error);
    wall_free(w);
}
END_TEST

START_TEST(test_hls_writes_a_playlist_and_segments_that_decode)
{
    g_autofree char *mp4 = testutil_tmp_path("wall.mp4");
    g_autofree char *hls = testutil_tmp_path("hls");
    g_autofree char *playlist = g_build_filename(hls, "wall.m3u8", NULL);
    ck_assert_int_eq(g_mkdir(hls, 0755), 0);
    PsWall *w = wall_with(mp4, hls, NULL);
    Feed f = {0};
    feed_start(&f, w);

    /* segments are cut at key frames (every 2 s): the playlist lists one within a few seconds
     * while the wall runs */
    GPtrArray *live = NULL;
    for (int i = 0; i < 150; i++) {
        g_clear_pointer(&live, g_ptr_array_unref);
        live = playlist_segments(playlist);
        if (live->len >= 1)
            break;
        g_usleep(100 * 1000);
    }
    ck_assert_msg(live->len >= 1, "no segment listed in %s while the wall ran", playlist);
    g_ptr_array_unref(live);
    g_usleep(2500 * 1000);
    assert_wall_healthy(w);
    guint64 frames = wall_frames_out(w);
    wall_stop(w, 10.0);
    feed_stop(&f);
    wall_free(w);
    ck_assert_uint_gt(frames, 50);

    g_autofree char *text = NULL;
    ck_assert(g_file_get_contents(playlist, &text, NULL, NULL));
    ck_assert_msg(g_str_has_prefix(text, "#EXTM3U") && strstr(text, "#EXTINF:"), "%s", text);
    GPtrArray *segs = playlist_segments(playlist);
    ck_assert_uint_ge(segs->len, 2);
    for (guint i = 0; i < segs->len; i++) {
        g_autofree char *path = g_build_filename(hls, g_ptr_array_index(segs, i), NULL);
        ck_assert_msg(g_file_test(path, G_FILE_TEST_IS_REGULAR), "%s is listed, not written",
                      path);
    }
    /* the first segment is a whole MPEG-TS with H.264 that decodes to the wall's size */
    g_autofree char *first = g_build_filename(hls, g_ptr_array_index(segs, 0), NULL);
    Decoded d = {0};
    g_autofree char *launch = g_strdup_printf("filesrc location=\"%s\" ! tsdemux ! h264parse ! "
                                              "avdec_h264 ! fakesink name=out",
                                              first);
    ck_assert_msg(decode_to_end(launch, &d), "%s does not decode", first);
    ck_assert_int_ge(d.frames, 25); /* about 2 s at 25 fps */
    ck_assert_int_eq(d.width, W);
    ck_assert_int_eq(d.height, H);
    g_ptr_array_unref(segs);

    assert_mp4_complete(mp4); /* HLS and MP4 from the same encoder */
}
END_TEST

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* With a segment cap the recording is cut into whole MP4s named by the time each started,
 * never at the record path itself, and only the newest record_keep stay. */
START_TEST(test_segmented_recording_keeps_the_newest_whole_timestamped_mp4s)
{
    const char *dir = testutil_tmp_dir;
    g_autofree char *rec = testutil_tmp_path("wall.mp4");
    WallConfig c;
    small_wall_config(&c);
    c.record = rec;
    c.record_segment_s = 2;
    c.record_keep = 2;
    const char *cams[] = {"cam", NULL};
    GError *error = NULL;
    PsWall *w = wall_new(&c, cams, &error);
    ck_assert_no_error(error);
    gint64 started = g_get_real_time() / G_USEC_PER_SEC;
    ck_assert(wall_start(w, &error));
    Feed f = {0};
    feed_start(&f, w);
    /* About 5 segments of 2 s (cut at the key frames, every 2 s). */
    g_usleep(10 * G_USEC_PER_SEC);
    assert_wall_healthy(w);
    wall_stop(w, 10.0);
    feed_stop(&f);
    wall_free(w);

    ck_assert_msg(!g_file_test(rec, G_FILE_TEST_EXISTS), "%s written: not segmented", rec);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func(g_free);
    for (const char *name; (name = g_dir_read_name(d));)
        g_ptr_array_add(segs, g_strdup(name));
    ck_assert_msg(segs->len == 2, "%u files, want the newest 2 segments", segs->len);
    g_ptr_array_sort(segs, by_name);
    for (guint i = 0; i < segs->len; i++) {
        const char *name = g_ptr_array_index(segs, i);
        /* wall-YYYYMMDDTHHMMSSZ.mp4, started after the first segment did (older ones went) */
        int y, mo, da, h, mi, se;
        int n = sscanf(name, "wall-%4d%2d%2dT%2d%2d%2dZ.mp4", &y, &mo, &da, &h, &mi, &se);
        ck_assert_msg(n == 6, "segment name %s", name);
        g_autoptr(GDateTime) t = g_date_time_new_utc(y, mo, da, h, mi, se);
        ck_assert_ptr_nonnull(t);
        ck_assert_msg(g_date_time_to_unix(t) >= started + 2,
                      "%s is from the start (%" G_GINT64_FORMAT "): the oldest were not removed",
                      name, started);
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (i + 1 < segs->len) {
            assert_mp4_complete(path); /* a whole segment: about 2 s */
        } else {
            /* the last one, cut short by the stop, still plays to its end */
            Decoded dd = {0};
            g_autofree char *launch = g_strdup_printf(
                "filesrc location=\"%s\" ! qtdemux ! h264parse ! avdec_h264 ! fakesink name=out",
                path);
            ck_assert_msg(decode_to_end(launch, &dd) && dd.frames >= 1, "%s does not play", path);
        }
    }
}
END_TEST

START_TEST(test_srt_client_receives_frames_that_decode)
{
    g_autofree char *mp4 = testutil_tmp_path("wall.mp4");
    int port = camsupport_free_port();
    g_autofree char *listen = g_strdup_printf("srt://:%d", port);
    PsWall *w = wall_with(mp4, NULL, listen);
    Feed f = {0};
    feed_start(&f, w);

    /* a caller on loopback, as a viewer would connect */
    Decoded d = {0};
    g_autofree char *launch = g_strdup_printf("srtsrc uri=srt://127.0.0.1:%d mode=caller "
                                              "latency=100 ! tsdemux ! h264parse ! avdec_h264 ! "
                                              "fakesink name=out sync=false",
                                              port);
    GstElement *client = decoder(launch, &d);
    gst_element_set_state(client, GST_STATE_PLAYING);
    for (int i = 0; i < 150 && g_atomic_int_get(&d.frames) < 50; i++)
        g_usleep(100 * 1000);
    int got = g_atomic_int_get(&d.frames);
    assert_no_bus_error(client, "SRT client");
    gst_element_set_state(client, GST_STATE_NULL);
    gst_object_unref(client);

    assert_wall_healthy(w);
    wall_stop(w, 10.0);
    feed_stop(&f);
    wall_free(w);
    ck_assert_msg(got >= 50, "the SRT client decoded %d frames in 15 s", got);
    ck_assert_int_eq(d.width, W);
    ck_assert_int_eq(d.height, H);
    assert_mp4_complete(mp4); /* SRT (MPEG-TS) and MP4 from the same encoder */
}
END_TEST

static const TestutilTest tests[] = {
    {&test_a_wall_that_cannot_record_names_the_output_and_the_path},
    {&test_hls_writes_a_playlist_and_segments_that_decode},
    {&test_segmented_recording_keeps_the_newest_whole_timestamped_mp4s},
    {&test_srt_client_receives_frames_that_decode},
};

TESTUTIL_MAIN_WITH(gst_init, "video-wall-outputs", "outputs", 90, TESTUTIL_TESTS(tests),
                   testutil_tmp_setup, testutil_tmp_teardown)
