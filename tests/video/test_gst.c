/* test_gst.c: the plugin's elements: gst-launch-1.0 finds and runs them (GST_PLUGIN_PATH, the
 * pipeline of docs/reference.md), containerocr never makes the stream wait, reads travel as
 * PsReadsMeta and portoverlay draws them. */
#include <gst/gst.h>
#include <stdio.h>
#include <gst/video/video.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "padprobe.h"
#include "psgst.h"
#include "testutil.h"

static char *clip(const char *name)
{
    const char *root = g_getenv("PS_SOURCE_ROOT");
    ck_assert_msg(root, "PS_SOURCE_ROOT is not set: run through meson test");
    return g_build_filename(root, "data", "scenario", "video", name, NULL);
}

static char *plugin_env(void)
{
    const char *build = g_getenv("PS_BUILD_ROOT");
    ck_assert_msg(build, "PS_BUILD_ROOT is not set: run through meson test");
    return g_strdup_printf("GST_PLUGIN_PATH=%s/gst", build);
}

#if defined(__SANITIZE_ADDRESS__)
#define PS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PS_ASAN 1
#endif
#endif

#ifdef PS_ASAN
/* The sanitizer runtimes this test is linked with ("" when none is a shared library). */
static char *sanitizer_preload(void)
{
    g_autofree char *maps = NULL;
    GString *pre = g_string_new(NULL);
    if (g_file_get_contents("/proc/self/maps", &maps, NULL, NULL)) {
        const char *libs[] = {"libasan.so", "libubsan.so"};
        for (guint i = 0; i < G_N_ELEMENTS(libs); i++) {
            char *hit = strstr(maps, libs[i]);
            if (!hit)
                continue;
            char *start = hit;
            while (start > maps && start[-1] != ' ')
                start--;
            char *end = strchr(hit, '\n');
            g_autofree char *path = g_strndup(start, end ? (gsize)(end - start) : strlen(start));
            g_string_append_printf(pre, "%s%s", pre->len ? " " : "", path);
        }
    }
    return g_string_free(pre, FALSE);
}
#endif

static int run(char **argv, char **out)
{
    g_free(testutil_need_program(argv[0], "gstreamer1.0-tools"));
    g_autofree char *env_plugin = plugin_env();
    g_auto(GStrv) env = g_get_environ();
    env = g_environ_setenv(env, "GST_PLUGIN_PATH", strchr(env_plugin, '=') + 1, TRUE);
#ifdef PS_ASAN
    /* In the sanitizer build the plugin needs the ASan/UBSan runtimes, which the system's
     * gst-launch-1.0 and gst-inspect-1.0 do not load: preload them. Leak checking is off in
     * that child only: the tools are not ours and keep their registry until exit; our code is
     * leak-checked in this process (test_reads_travel_as_meta_and_are_drawn). */
    g_autofree char *preload = sanitizer_preload();
    if (!*preload)
        return 77;
    env = g_environ_setenv(env, "LD_PRELOAD", preload, TRUE);
    env = g_environ_setenv(env, "ASAN_OPTIONS", "detect_leaks=0", TRUE);
#endif
    int status = 0;
    GError *error = NULL;
    ck_assert_msg(g_spawn_sync(NULL, argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, out, NULL,
                               &status, &error),
                  "%s: %s", argv[0], error ? error->message : "");
    return g_spawn_check_wait_status(status, NULL) ? 0 : 1;
}

START_TEST(test_gst_inspect_lists_both_elements)
{
    g_autofree char *out = NULL;
    char *argv[] = {"gst-inspect-1.0", "portsight", NULL};
    int rc = run(argv, &out);
    if (rc == 77)
        testutil_skip("the sanitizer runtime is linked statically (clang): the system's "
                      "gst-inspect-1.0 cannot load the instrumented plugin");
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strstr(out, "containerocr") && strstr(out, "portoverlay"), "%s", out);
}
END_TEST

/* The line of docs/reference.md, on the shipped gate clip, into PNG files instead of a window.
 * The file plays as fast as it decodes, so on a slow (sanitizer) build OCR may sample only a few
 * frames: one read is enough to confirm here. */
START_TEST(test_gst_launch_pipeline_reads_and_draws)
{
    g_autofree char *path = clip("gate-3.mp4");
    g_autofree char *loc = g_strdup_printf("location=%s", path);
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *png = g_build_filename(dir, "frame-%02d.png", NULL);
    g_autofree char *pngloc = g_strdup_printf("location=%s", png);
    g_autofree char *out = NULL;
    char *argv[] = {"gst-launch-1.0", "-m", "filesrc", loc, "!", "decodebin", "!",
                    "videoconvert", "!", "containerocr", "camera=gate-3", "min-frames=1", "!", "portoverlay",
                    "!", "videoconvert", "!", "videorate", "!", "video/x-raw,framerate=1/2",
                    "!", "pngenc", "!", "multifilesink", pngloc, NULL};
    int rc = run(argv, &out);
    if (rc == 77) {
        testutil_rmtree(dir);
        testutil_skip("the sanitizer runtime is linked statically (clang): the system's "
                      "gst-launch-1.0 cannot load the instrumented plugin");
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strstr(out, "containerocr-confirmed") &&
                      strstr(out, "container=(string)PSTU2001084"),
                  "no confirmed read in: %s", out);
    g_autofree char *last = g_build_filename(dir, "frame-04.png", NULL);
    ck_assert(g_file_test(last, G_FILE_TEST_EXISTS));
    testutil_rmtree(dir);
}
END_TEST

typedef struct {
    guint with_meta;
    guint with_reads;
} MetaSeen;

static GstPadProbeReturn count_meta(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    MetaSeen *seen = data;
    PsReadsMeta *m = ps_buffer_get_reads_meta(GST_PAD_PROBE_INFO_BUFFER(info));
    if (m) {
        seen->with_meta++;
        if (m->n_reads > 0 && strcmp(m->reads[0].code, "PSTU2001084") == 0 &&
            strcmp(m->camera, "gate-3") == 0 && m->source_width == 960)
            seen->with_reads++;
    }
    return GST_PAD_PROBE_OK;
}

START_TEST(test_reads_travel_as_meta_and_are_drawn)
{
    psgst_register_static();
    g_autofree char *path = clip("gate-3.mp4");
    g_autofree char *desc = g_strdup_printf(
        "filesrc location=%s ! decodebin ! videoconvert ! containerocr name=ocr camera=gate-3 "
        "min-frames=1 "
        "! identity name=probe ! portoverlay name=ov ! fakesink name=sink sync=true",
        path);
    GstElement *p = gst_parse_launch(desc, NULL);
    ck_assert_ptr_nonnull(p);
    MetaSeen seen = {0};
    padprobe_buffers(p, "probe", "src", count_meta, &seen);
    GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "sink");
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(p);
    gboolean confirmed = FALSE;
    for (;;) {
        GstMessage *m = gst_bus_timed_pop_filtered(
            bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
        ck_assert_msg(m && GST_MESSAGE_TYPE(m) != GST_MESSAGE_ERROR, "pipeline failed");
        GstMessageType t = GST_MESSAGE_TYPE(m);
        const GstStructure *s = gst_message_get_structure(m);
        if (t == GST_MESSAGE_ELEMENT && gst_structure_has_name(s, "containerocr-confirmed"))
            confirmed |= g_strcmp0(gst_structure_get_string(s, "container"), "PSTU2001084") == 0;
        gst_message_unref(m);
        if (t == GST_MESSAGE_EOS)
            break;
    }
    guint64 frames = 0, sampled = 0, skipped = 0, rendered = 0;
    GstElement *ocr = gst_bin_get_by_name(GST_BIN(p), "ocr");
    GstElement *ov = gst_bin_get_by_name(GST_BIN(p), "ov");
    g_object_get(ocr, "frames", &frames, "sampled", &sampled, "skipped", &skipped, NULL);
    g_object_get(ov, "rendered", &rendered, NULL);
    gst_element_set_state(p, GST_STATE_NULL);
    ck_assert(confirmed);
    ck_assert_uint_eq(frames, 250);
    ck_assert_uint_eq(rendered, 250);
    /* Paced in real time, as a camera: unpaced, the decoder would take both cores and the
     * worker (niced) could finish its first read after the last frame had passed. */
    ck_assert_uint_ge(sampled, 2);
    ck_assert_uint_gt(seen.with_reads, 0);
    ck_assert_uint_ge(seen.with_meta, seen.with_reads);
    gst_object_unref(ocr);
    gst_object_unref(ov);
    gst_object_unref(sink);
    gst_object_unref(bus);
    gst_object_unref(p);
}
END_TEST

/* Runs the pipeline @desc to its end (EOS within @timeout seconds, no error) and returns it,
 * still PLAYING. */
static GstElement *play_to_eos(const char *desc, int timeout)
{
    GstElement *p = gst_parse_launch(desc, NULL);
    ck_assert_ptr_nonnull(p);
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(p);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, (GstClockTime)timeout * GST_SECOND,
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    ck_assert_msg(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS, "%s: no end of stream", desc);
    gst_message_unref(m);
    gst_object_unref(bus);
    return p;
}

/* Every frame is due (interval 0) and 1080p frames arrive as fast as videotestsrc makes them:
 * the one worker cannot keep up, and the element skips instead of waiting. */
START_TEST(test_containerocr_skips_instead_of_blocking)
{
    psgst_register_static();
    GstElement *p = play_to_eos(
        "videotestsrc num-buffers=120 pattern=smpte ! video/x-raw,format=BGRx,width=1920,"
        "height=1080 ! containerocr name=ocr interval=0 motion-threshold=0 threads=1 ! "
        "fakesink sync=false",
        120);
    guint64 frames = 0, sampled = 0, skipped = 0;
    GstElement *ocr = gst_bin_get_by_name(GST_BIN(p), "ocr");
    g_object_get(ocr, "frames", &frames, "sampled", &sampled, "skipped", &skipped, NULL);
    gst_element_set_state(p, GST_STATE_NULL);
    ck_assert_uint_eq(frames, 120);
    ck_assert_uint_eq(sampled + skipped, 120);
    ck_assert_msg(skipped > 0, "sampled %" G_GUINT64_FORMAT ", skipped 0", sampled);
    gst_object_unref(ocr);
    gst_object_unref(p);
}
END_TEST

/* How many threads of this process whose name starts with @prefix (any, when NULL) have (when
 * @equal) or have not the nice value @nice; *@name gets the first one's name. */
static int count_threads(const char *prefix, int nice, gboolean equal, char *name, size_t size)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/task", 0, NULL);
    ck_assert_msg(dir != NULL, "cannot list /proc/self/task");
    int n = 0;
    const char *tid;
    while ((tid = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("/proc/self/task/%s/stat", tid);
        g_autofree char *stat = NULL;
        if (!g_file_get_contents(path, &stat, NULL, NULL))
            continue; /* the thread has just ended */
        /* pid (comm) state ppid ...: nice is the 19th field, the 17th after the comm. */
        char *open = strchr(stat, '('), *close = strrchr(stat, ')');
        if (!open || !close)
            continue;
        g_auto(GStrv) f = g_strsplit(close + 2, " ", 0);
        if (g_strv_length(f) < 17)
            continue;
        g_autofree char *comm = g_strndup(open + 1, close - open - 1);
        if ((prefix && !g_str_has_prefix(comm, prefix)) || (atoi(f[16]) == nice) != equal)
            continue;
        if (n++ == 0)
            g_snprintf(name, size, "%s", comm);
    }
    return n;
}

/* The workers run 5 nice steps below the thread that started them, and once the element has
 * stopped none of them is left running anything else: GLib hands a freed GThreadPool's
 * threads to the shared pools, where a niced one would run streaming tasks below the others
 * and, in a process that may not raise a nice value again, make GLib fail as it starts the next
 * shared thread from it. */
START_TEST(test_containerocr_leaves_no_niced_thread)
{
    psgst_register_static();
    /* GLib keeps at most 2 unused threads by default and ends the others: keep more, as a
     * busy process would have, so that a worker handed back would still be there. */
    g_thread_pool_set_max_unused_threads(16);
    int own = getpriority(PRIO_PROCESS, 0); /* this thread's (Linux) */
    for (int round = 0; round < 2; round++) {
        GstElement *p = play_to_eos(
            "videotestsrc num-buffers=40 pattern=smpte ! video/x-raw,format=GRAY8,width=640,"
            "height=360,framerate=25/1 ! containerocr name=ocr interval=0 motion-threshold=0 "
            "threads=2 ! fakesink sync=true",
            60);
        guint64 sampled = 0;
        GstElement *ocr = gst_bin_get_by_name(GST_BIN(p), "ocr");
        g_object_get(ocr, "sampled", &sampled, NULL);
        ck_assert_uint_ge(sampled, 2);
        char name[64] = "";
        /* The workers lower their priority as they start. */
        int niced = count_threads("ocr-", MIN(own + 5, 19), TRUE, name, sizeof name);
        ck_assert_msg(niced == 2, "round %d: %d OCR workers at nice %d", round + 1, niced,
                      MIN(own + 5, 19));
        gst_element_set_state(p, GST_STATE_NULL);
        gst_object_unref(ocr);
        gst_object_unref(p);
        /* A joined thread may linger in /proc for an instant; a pool keeps its threads for
         * seconds. */
        int left = 0;
        for (int tries = 0; tries < 20; tries++) {
            if ((left = count_threads(NULL, own, FALSE, name, sizeof name)) == 0)
                break;
            g_usleep(50000);
        }
        ck_assert_msg(left == 0, "round %d: thread \"%s\" (and %d more) left at another nice "
                      "value after the element stopped", round + 1, name, left - 1);
    }
}
END_TEST

static const TestutilTest tests[] = {
    {&test_gst_inspect_lists_both_elements},
    {&test_gst_launch_pipeline_reads_and_draws},
    {&test_reads_travel_as_meta_and_are_drawn},
    {&test_containerocr_skips_instead_of_blocking},
    {&test_containerocr_leaves_no_niced_thread},
};

TESTUTIL_MAIN_WITH(gst_init, "gst elements", "elements", 120, TESTUTIL_TESTS(tests))
