/* bench_video.c: N 1080p25 H.264 file cameras through the full video path, in real time.
 *
 *   bench-video [--max N] [--seconds S] [--sample-tool PATH] [--clips DIR]
 *
 * 1. CPU per camera-frame of each stage, from runs of N_REF cameras (default 2) that add one
 *    stage at a time, all paced in real time like live cameras (process CPU time from getrusage
 *    over the measured window: every thread of the process, the OCR workers included, divided
 *    by the frames delivered), in the order of the production path (ingest/camera, app/video.c):
 *      decode          uridecodebin (avdec_h264, I420) ! fakesink
 *      + ocr sampling  ! containerocr (on the I420 luma; every 500 ms of stream time, adaptive,
 *                        1 worker per camera)
 *      + scale         ! videoscale to the wall tile (I420)
 *      + convert       ! videoconvert ! BGRx (at the tile's size)
 *      + overlay       ! portoverlay (scene with declarations)
 *      + wall          camera set (appsink) -> wall appsrc -> compositor -> x264enc ultrafast
 *    and, as the reference the OCR + overlay target is measured against, decode + a conversion
 *    of the full 1080p frame to BGRx; the ratio of the whole path to decode only.
 *    --interval MS changes the OCR sampling interval; --fixed turns the adaptive sampling off
 *    (every due frame is read: no motion gate, no stretching of the interval).
 * 2. The largest N in 1..max for which the full path keeps real time: every camera delivers and
 *    the wall encodes at least 95% of the frames it should over the window.
 * 3. Latency of the full path from a decoded frame entering the camera pipeline to the composed
 *    frame holding it leaving the encoder (p50/p95), from our own timestamps.
 * Clips are rendered once by ps-video-sample (rail scenes with container codes, 1920x1080) into
 * DIR (default $TMPDIR/ps-bench-video).
 */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "camera.h"
#include "overlay.h"
#include "psgst.h"
#include "wall.h"

#define FPS 25
static double seconds = 8.0;
static int interval_ms = 500; /* the [camera] default */
static gboolean fixed_sampling;
static const char *clips_dir;
static const char *sample_tool = PS_VIDEO_SAMPLE;

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static const char *codes[] = {"PSTU2001016,PSTU2001021", "PSTU2001063,PSTU2001119",
                              "PSTU2001042,PSTU2001058", "PSTU2001079,PSTU2001090",
                              "PSTU2002007,PSTU2001016", "PSTU2001021,PSTU2001063"};

static char *clip_path(guint i)
{
    g_autofree char *name = g_strdup_printf("cam%u-1080p.mp4", i % (guint)G_N_ELEMENTS(codes));
    return g_build_filename(clips_dir, name, NULL);
}

static gboolean make_clips(guint n)
{
    g_mkdir_with_parents(clips_dir, 0755);
    for (guint i = 0; i < MIN(n, G_N_ELEMENTS(codes)); i++) {
        g_autofree char *path = clip_path(i);
        if (g_file_test(path, G_FILE_TEST_EXISTS))
            continue;
        fprintf(stderr, "rendering %s\n", path);
        char *argv[] = {(char *)sample_tool, "rail", path, "--width", "1920", "--height", "1080",
                        "--seconds", "12", "--codes", (char *)codes[i], NULL};
        int status;
        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                          NULL) ||
            !g_spawn_check_wait_status(status, NULL)) {
            fprintf(stderr, "bench-video: %s failed\n", sample_tool);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- stage runs: N independent pipelines ---- */

typedef enum { ST_DECODE, ST_OCR, ST_SCALE, ST_CONVERT, ST_OVERLAY, N_SIMPLE, ST_REF } Stage;
static const char *stage_names[] = {"decode (avdec_h264)", "+ OCR sampling (containerocr, luma)",
                                    "+ scale to the wall tile", "+ convert to BGRx (tile size)",
                                    "+ overlay (portoverlay)", "+ wall compose + encode",
                                    "reference: decode + convert 1080p to BGRx"};

static char *ocr_element(const char *camera)
{
    return g_strdup_printf("containerocr name=ocr camera=%s interval=%d%s", camera, interval_ms,
                           fixed_sampling ? " interval-max=0 motion-threshold=0" : "");
}

/* OCR counters summed over the runs' containerocr elements. */
static guint64 ocr_sampled, ocr_unchanged, ocr_skipped, ocr_frames;

static void add_ocr_counters(GstElement *ocr)
{
    guint64 f = 0, s = 0, u = 0, k = 0;
    g_object_get(ocr, "frames", &f, "sampled", &s, "unchanged", &u, "skipped", &k, NULL);
    ocr_frames += f;
    ocr_sampled += s;
    ocr_unchanged += u;
    ocr_skipped += k;
}

static PsScene *scene;

static void fill_scene(void)
{
    scene = overlay_scene_new(1500 * 1000);
    const char *all[] = {"PSTU2001016", "PSTU2001021", "PSTU2001063", "PSTU2001119",
                         "PSTU2001042", "PSTU2001058", "PSTU2001079", "PSTU2001090",
                         "PSTU2002007"};
    for (guint i = 0; i < G_N_ELEMENTS(all); i++) {
        PsSceneContainer c = {all[i], "DEC-26-0001", "重庆 Chongqing", "汉堡 Hamburg",
                              "机械零件 machine parts", "Demo GmbH", "PS DEMO STAR",
                              (PsContainerStatus)(i % 3)};
        overlay_scene_put_container(scene, &c);
    }
}

static guint64 counted[16];

static GstPadProbeReturn count_frame(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    g_atomic_pointer_add((gsize *)&counted[GPOINTER_TO_UINT(data)], 1);
    return GST_PAD_PROBE_OK;
}

static void run_main(double secs)
{
    gint64 end = g_get_monotonic_time() + (gint64)(secs * 1e6);
    while (g_get_monotonic_time() < end) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        g_usleep(2000);
    }
}

/* Returns CPU ms per camera-frame and fills *@frames_ratio (frames delivered / expected). */
static double run_simple(Stage stage, guint n, int tile_w, int tile_h, double *frames_ratio)
{
    GstElement *pipes[16];
    for (guint i = 0; i < n; i++) {
        g_autofree char *path = clip_path(i);
        g_autofree char *uri = g_filename_to_uri(path, NULL, NULL);
        GString *d = g_string_new(NULL);
        g_string_append_printf(d, "uridecodebin uri=%s ", uri);
        if (stage == ST_REF)
            g_string_append(d, "! videoconvert ! video/x-raw,format=BGRx ");
        if (stage >= ST_OCR && stage != ST_REF) {
            g_autofree char *cam = g_strdup_printf("cam%u", i);
            g_autofree char *ocr = ocr_element(cam);
            g_string_append_printf(d, "! %s ", ocr);
        }
        if (stage >= ST_SCALE && stage != ST_REF)
            g_string_append_printf(d, "! videoscale ! video/x-raw,width=%d,height=%d ",
                                   tile_w, tile_h);
        if (stage >= ST_CONVERT && stage != ST_REF)
            g_string_append(d, "! videoconvert ! video/x-raw,format=BGRx ");
        if (stage >= ST_OVERLAY && stage != ST_REF)
            g_string_append_printf(d, "! portoverlay name=ov camera=cam%u title=cam%u ", i, i);
        g_string_append(d, "! fakesink name=sink sync=true");
        GError *error = NULL;
        pipes[i] = gst_parse_launch(d->str, &error);
        g_string_free(d, TRUE);
        if (!pipes[i]) {
            fprintf(stderr, "bench-video: %s\n", error->message);
            exit(1);
        }
        if (stage >= ST_OVERLAY && stage != ST_REF) {
            GstElement *ov = gst_bin_get_by_name(GST_BIN(pipes[i]), "ov");
            g_object_set(ov, "scene", scene, NULL);
            gst_object_unref(ov);
        }
        GstElement *sink = gst_bin_get_by_name(GST_BIN(pipes[i]), "sink");
        GstPad *pad = gst_element_get_static_pad(sink, "sink");
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, count_frame, GUINT_TO_POINTER(i), NULL);
        gst_object_unref(pad);
        gst_object_unref(sink);
        counted[i] = 0;
    }
    for (guint i = 0; i < n; i++)
        gst_element_set_state(pipes[i], GST_STATE_PLAYING);
    run_main(1.0); /* warm up */
    guint64 f0 = 0;
    for (guint i = 0; i < n; i++)
        f0 += g_atomic_pointer_get((gsize *)&counted[i]);
    double c0 = cpu_now();
    run_main(seconds);
    double c1 = cpu_now();
    guint64 f1 = 0;
    for (guint i = 0; i < n; i++)
        f1 += g_atomic_pointer_get((gsize *)&counted[i]);
    for (guint i = 0; i < n; i++) {
        GstElement *ocr = gst_bin_get_by_name(GST_BIN(pipes[i]), "ocr");
        if (ocr) {
            add_ocr_counters(ocr);
            gst_object_unref(ocr);
        }
        gst_element_set_state(pipes[i], GST_STATE_NULL);
        gst_object_unref(pipes[i]);
    }
    *frames_ratio = (double)(f1 - f0) / (n * seconds * FPS);
    return f1 > f0 ? (c1 - c0) * 1000.0 / (double)(f1 - f0) : NAN;
}

/* ---- the full path: camera set -> wall ---- */

typedef struct {
    GMutex lock;
    gint64 last_ingest[16]; /* per tile, monotonic us of the newest frame queued */
    gboolean fresh[16];
    GQueue *pending;        /* per composed frame, in order: GArray of ingest times (x264enc
                               shifts its output PTS by 1000 h, so frames are matched in order:
                               zerolatency neither reorders nor drops) */
    GArray *latencies;      /* ms */
    GArray *lat_cam, *lat_tile, *lat_mix; /* ms from ingest to: the camera's appsink, the
                                             compositor's tile pad, the encoder's input */
    PsWall *wall;
} Full;

static Full full;
static GPtrArray *full_ocrs; /* containerocr elements of the full-path run */

static void add_latency(GArray *to, GstBuffer *buf, gint64 now);
static gint dbg_ingest, dbg_tile, dbg_tile_meta, dbg_mix, dbg_enc;
static GQuark ingest_quark;
static GstCaps *ingest_caps;

/* The frame enters: decoded, at the camera pipeline's converter. */
static GstPadProbeReturn mark_ingest(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    g_atomic_int_inc(&dbg_ingest);
    buf = gst_buffer_make_writable(buf);
    gst_buffer_add_reference_timestamp_meta(buf, ingest_caps,
                                            (GstClockTime)g_get_monotonic_time() * 1000,
                                            GST_CLOCK_TIME_NONE);
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    return GST_PAD_PROBE_OK;
}

static void on_setup(const char *camera, GstElement *pipeline, gpointer data)
{
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(pipeline));
    GValue v = G_VALUE_INIT;
    while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
        GstElement *e = g_value_get_object(&v);
        GstElementFactory *f = gst_element_get_factory(e);
        const char *fname = f ? GST_OBJECT_NAME(f) : "";
        if (strcmp(fname, "portoverlay") == 0)
            g_object_set(e, "scene", scene, NULL);
        /* A file camera's chain starts with the clocksync that paces it (ingest/camera): a
         * frame enters when it leaves it, as a live camera's frame would arrive. */
        if (strcmp(fname, "clocksync") == 0) {
            GstPad *pad = gst_element_get_static_pad(e, "src");
            gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, mark_ingest, NULL, NULL);
            gst_object_unref(pad);
        }
        if (strcmp(fname, "containerocr") == 0) {
            g_mutex_lock(&full.lock);
            g_ptr_array_add(full_ocrs, gst_object_ref(e));
            g_mutex_unlock(&full.lock);
        }
        g_value_reset(&v);
    }
    g_value_unset(&v);
    gst_iterator_free(it);
}

static void on_frame(const char *camera, GstSample *sample, gpointer data)
{
    int i = atoi(camera + 3);
    g_atomic_pointer_add((gsize *)&counted[i], 1);
    add_latency(full.lat_cam, gst_sample_get_buffer(sample), g_get_monotonic_time());
    wall_push(full.wall, camera, sample);
}

static GstPadProbeReturn tile_in(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    guint tile = GPOINTER_TO_UINT(data);
    g_atomic_int_inc(&dbg_tile);
    GstReferenceTimestampMeta *m =
        gst_buffer_get_reference_timestamp_meta(GST_PAD_PROBE_INFO_BUFFER(info), ingest_caps);
    if (m) {
        g_atomic_int_inc(&dbg_tile_meta);
        gint64 now = g_get_monotonic_time();
        g_mutex_lock(&full.lock);
        full.last_ingest[tile] = (gint64)(m->timestamp / 1000);
        full.fresh[tile] = TRUE;
        double ms = (now - full.last_ingest[tile]) / 1000.0;
        g_array_append_val(full.lat_tile, ms);
        g_mutex_unlock(&full.lock);
    }
    return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn mix_out(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    GArray *ins = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_atomic_int_inc(&dbg_mix);
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&full.lock);
    for (guint t = 0; t < 16; t++)
        if (full.fresh[t]) {
            g_array_append_val(ins, full.last_ingest[t]);
            full.fresh[t] = FALSE;
            double ms = (now - full.last_ingest[t]) / 1000.0;
            g_array_append_val(full.lat_mix, ms);
        }
    (void)buf;
    g_queue_push_tail(full.pending, ins);
    g_mutex_unlock(&full.lock);
    return GST_PAD_PROBE_OK;
}

static guint64 wall_out;

static GstPadProbeReturn enc_out(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    gint64 now = g_get_monotonic_time();
    g_atomic_int_inc(&dbg_enc);
    g_atomic_pointer_add((gsize *)&wall_out, 1);
    g_mutex_lock(&full.lock);
    (void)buf;
    GArray *ins = g_queue_pop_head(full.pending);
    if (ins) {
        for (guint i = 0; i < ins->len; i++) {
            double ms = (now - g_array_index(ins, gint64, i)) / 1000.0;
            g_array_append_val(full.latencies, ms);
        }
        g_array_unref(ins);
    }
    g_mutex_unlock(&full.lock);
    return GST_PAD_PROBE_OK;
}

static void probe_wall(PsWall *wall, guint tiles)
{
    GstElement *p = wall_pipeline(wall);
    GstElement *mix = gst_bin_get_by_name(GST_BIN(p), "mix");
    for (guint t = 0; t < tiles; t++) {
        g_autofree char *name = g_strdup_printf("sink_%u", t + 1);
        GstPad *pad = gst_element_get_static_pad(mix, name);
        if (pad) {
            gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, tile_in, GUINT_TO_POINTER(t),
                              NULL);
            gst_object_unref(pad);
        }
    }
    gst_object_unref(mix);
    GstIterator *it = gst_bin_iterate_elements(GST_BIN(p));
    GValue v = G_VALUE_INIT;
    while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
        GstElement *e = g_value_get_object(&v);
        GstElementFactory *f = gst_element_get_factory(e);
        if (f && strcmp(GST_OBJECT_NAME(f), "x264enc") == 0) {
            /* Composed frames are matched to encoded ones in order, so they are counted where
             * they enter the encoder: after the wall's guard that drops a repeated PTS (counted
             * at the compositor, a dropped frame would pair every later encoded frame with the
             * composed frame before it, one frame period too early). */
            GstPad *in = gst_element_get_static_pad(e, "sink");
            gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_BUFFER, mix_out, NULL, NULL);
            gst_object_unref(in);
            GstPad *pad = gst_element_get_static_pad(e, "src");
            gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, enc_out, NULL, NULL);
            gst_object_unref(pad);
        }
        g_value_reset(&v);
    }
    g_value_unset(&v);
    gst_iterator_free(it);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void add_latency(GArray *to, GstBuffer *buf, gint64 now)
{
    GstReferenceTimestampMeta *m = gst_buffer_get_reference_timestamp_meta(buf, ingest_caps);
    if (!m)
        return;
    double ms = (now - (gint64)(m->timestamp / 1000)) / 1000.0;
    g_mutex_lock(&full.lock);
    g_array_append_val(to, ms);
    g_mutex_unlock(&full.lock);
}

/* p50 and p95 of @a (sorted in place); NAN when empty. Call with full.lock held. */
static void percentiles(GArray *a, double *p50, double *p95)
{
    g_array_sort(a, cmp_double);
    guint n = a->len;
    *p50 = n ? g_array_index(a, double, n / 2) : NAN;
    *p95 = n ? g_array_index(a, double, MIN(n - 1, n * 95 / 100)) : NAN;
}

static double parts[3][2]; /* the last full run's p50/p95 to the appsink, tile pad, mix out */

/* Runs the full path with @n cameras; returns CPU ms per camera-frame. */
static double run_full(guint n, WallLayout layout, double *cam_ratio, double *wall_ratio,
                       double *p50, double *p95)
{
    WallConfig wc;
    wall_config_init(&wc);
    wc.layout = layout;
    const char *names[17] = {NULL};
    char *owned[16];
    for (guint i = 0; i < n; i++)
        names[i] = owned[i] = g_strdup_printf("cam%u", i);
    full.wall = wall_new(&wc, names, NULL);
    full.pending = g_queue_new();
    full.latencies = g_array_new(FALSE, FALSE, sizeof(double));
    full.lat_cam = g_array_new(FALSE, FALSE, sizeof(double));
    full.lat_tile = g_array_new(FALSE, FALSE, sizeof(double));
    full.lat_mix = g_array_new(FALSE, FALSE, sizeof(double));
    full_ocrs = g_ptr_array_new_with_free_func(gst_object_unref);
    probe_wall(full.wall, n);
    CameraSet *set = camera_set_new(NULL, NULL, on_frame, NULL);
    camera_set_hooks(set, on_setup, NULL);
    for (guint i = 0; i < n; i++) {
        int r[4];
        wall_layout_tile(layout, wc.width, wc.height, i, r);
        g_autofree char *path = clip_path(i);
        g_autofree char *uri = g_filename_to_uri(path, NULL, NULL);
        /* the filter app/video.c builds for a [camera] */
        g_autofree char *ocr = ocr_element(names[i]);
        g_autofree char *filter = g_strdup_printf(
            "%s ! videoscale ! video/x-raw,width=%d,height=%d,pixel-aspect-ratio=1/1 ! "
            "videoconvert ! portoverlay camera=%s title=%s",
            ocr, r[2], r[3], names[i], names[i]);
        CameraConfig c = {.name = names[i], .uri = uri, .filter = filter, .watchdog_s = 5};
        camera_set_add(set, &c, NULL);
        counted[i] = 0;
    }
    wall_start(full.wall, NULL);
    camera_set_start(set);
    run_main(1.5);
    guint64 f0 = 0, w0 = g_atomic_pointer_get((gsize *)&wall_out);
    guint64 per0[16];
    for (guint i = 0; i < n; i++)
        f0 += per0[i] = g_atomic_pointer_get((gsize *)&counted[i]);
    g_mutex_lock(&full.lock);
    g_array_set_size(full.latencies, 0);
    g_array_set_size(full.lat_cam, 0);
    g_array_set_size(full.lat_tile, 0);
    g_array_set_size(full.lat_mix, 0);
    g_mutex_unlock(&full.lock);
    double c0 = cpu_now();
    run_main(seconds);
    double c1 = cpu_now();
    guint64 f1 = 0, w1 = g_atomic_pointer_get((gsize *)&wall_out);
    double worst = 1e9;
    for (guint i = 0; i < n; i++) {
        guint64 fi = g_atomic_pointer_get((gsize *)&counted[i]);
        f1 += fi;
        worst = MIN(worst, (double)(fi - per0[i]) / (seconds * FPS));
    }
    if (g_getenv("PS_BENCH_DEBUG"))
        fprintf(stderr, "probes: ingest %u tile %u (with meta %u) mix %u enc %u\n", dbg_ingest,
                dbg_tile, dbg_tile_meta, dbg_mix, dbg_enc);
    g_mutex_lock(&full.lock);
    percentiles(full.latencies, p50, p95);
    percentiles(full.lat_cam, &parts[0][0], &parts[0][1]);
    percentiles(full.lat_tile, &parts[1][0], &parts[1][1]);
    percentiles(full.lat_mix, &parts[2][0], &parts[2][1]);
    g_mutex_unlock(&full.lock);
    camera_set_free(set);
    for (guint i = 0; i < full_ocrs->len; i++)
        add_ocr_counters(g_ptr_array_index(full_ocrs, i));
    g_ptr_array_unref(full_ocrs);
    wall_free(full.wall);
    g_queue_free_full(full.pending, (GDestroyNotify)g_array_unref);
    g_array_unref(full.latencies);
    g_array_unref(full.lat_cam);
    g_array_unref(full.lat_tile);
    g_array_unref(full.lat_mix);
    for (guint i = 0; i < n; i++)
        g_free(owned[i]);
    *cam_ratio = worst;
    *wall_ratio = (double)(w1 - w0) / (seconds * FPS);
    return f1 > f0 ? (c1 - c0) * 1000.0 / (double)(f1 - f0) : NAN;
}

int main(int argc, char **argv)
{
    int max = 6, nref = 2;
    g_autofree char *dir = NULL;
    GOptionEntry entries[] = {
        {"max", 0, 0, G_OPTION_ARG_INT, &max, "most cameras to try (1-9)", "N"},
        {"ref", 0, 0, G_OPTION_ARG_INT, &nref, "cameras in the per-stage runs", "N"},
        {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "measured window per run", "S"},
        {"interval", 0, 0, G_OPTION_ARG_INT, &interval_ms, "OCR sampling interval (ms)", "MS"},
        {"fixed", 0, 0, G_OPTION_ARG_NONE, &fixed_sampling,
         "read every due frame (no motion gate, no adaptive interval)", NULL},
        {"clips", 0, 0, G_OPTION_ARG_FILENAME, &dir, "where the 1080p clips are kept", "DIR"},
        {"sample-tool", 0, 0, G_OPTION_ARG_FILENAME, &sample_tool, "ps-video-sample", "PATH"},
        {NULL},
    };
    GOptionContext *ctx = g_option_context_new(NULL);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, gst_init_get_option_group());
    if (!g_option_context_parse(ctx, &argc, &argv, NULL) || max < 1 || max > 9 || nref < 1 ||
        nref > 9 || seconds < 2 || interval_ms < 0) {
        fprintf(stderr, "usage: bench-video [--max N] [--ref N] [--seconds S] [--interval MS] [--clips DIR]\n");
        return 2;
    }
    g_option_context_free(ctx);
    clips_dir = dir ? dir : g_build_filename(g_get_tmp_dir(), "ps-bench-video", NULL);
    psgst_register_static();
    ingest_caps = gst_caps_new_empty_simple("timestamp/x-portsight-ingest");
    ingest_quark = g_quark_from_static_string("ingest");
    g_mutex_init(&full.lock);
    if (!make_clips((guint)MAX(max, nref)))
        return 1;
    fill_scene();

    g_autofree char *load0 = NULL;
    g_file_get_contents("/proc/loadavg", &load0, NULL, NULL);
    printf("bench-video: 1080p25 H.264 file cameras, real-time paced, %.0f s windows, OCR every "
           "%d ms (%s), %d cores; load average at the start: %s",
           seconds, interval_ms, fixed_sampling ? "fixed" : "adaptive: up to 1000 ms, motion gate",
           (int)g_get_num_processors(), load0 ? load0 : "?\n");
    printf("\nCPU per camera-frame by stage (%d cameras; ms of process CPU, all threads, per "
           "frame):\n", nref);
    double ms[ST_REF + 1], ratio;
    ms[ST_REF] = run_simple(ST_REF, (guint)nref, 960, 540, &ratio);
    printf("  %-42s %7.2f ms total (frames %.0f%%)\n", stage_names[ST_REF], ms[ST_REF],
           ratio * 100);
    for (int s = 0; s < N_SIMPLE; s++) {
        ocr_sampled = ocr_unchanged = ocr_skipped = ocr_frames = 0;
        ms[s] = run_simple((Stage)s, (guint)nref, 960, 540, &ratio);
        printf("  %-42s %7.2f ms total, %+6.2f ms for the stage (frames %.0f%%)", stage_names[s],
               ms[s], s ? ms[s] - ms[s - 1] : ms[s], ratio * 100);
        if (s == ST_OCR)
            printf("; of %" G_GUINT64_FORMAT " frames read %" G_GUINT64_FORMAT
                   ", unchanged %" G_GUINT64_FORMAT ", skipped (busy) %" G_GUINT64_FORMAT,
                   ocr_frames, ocr_sampled, ocr_unchanged, ocr_skipped);
        printf("\n");
        fflush(stdout);
    }
    double cam_ratio, wall_ratio, p50, p95;
    ms[N_SIMPLE] = run_full((guint)nref, WALL_LAYOUT_2X2, &cam_ratio, &wall_ratio, &p50, &p95);
    printf("  %-42s %7.2f ms total, %+6.2f ms for the stage (frames %.0f%%, wall %.0f%%)\n",
           stage_names[N_SIMPLE], ms[N_SIMPLE], ms[N_SIMPLE] - ms[ST_OVERLAY], cam_ratio * 100,
           wall_ratio * 100);
    double extra = (ms[ST_OCR] - ms[ST_DECODE]) + (ms[ST_OVERLAY] - ms[ST_CONVERT]);
    printf("  whole path / decode only: %.2fx\n", ms[N_SIMPLE] / ms[ST_DECODE]);
    printf("  OCR sampling + overlay (the two stages, %.2f ms) on top of decode + convert 1080p "
           "(the reference, %.2f ms): %+.0f%%\n",
           extra, ms[ST_REF], extra / ms[ST_REF] * 100);
    printf("  the camera path up to the wall (decode .. overlay) / the reference: %.2fx\n",
           ms[ST_OVERLAY] / ms[ST_REF]);

    printf("\nFull path (decode -> OCR sampling -> tracking -> overlay -> wall compose -> "
           "encode), N cameras:\n");
    int best = 0;
    for (int n = 1; n <= max; n++) {
        WallLayout layout = n <= 4 ? WALL_LAYOUT_2X2 : n <= 6 ? WALL_LAYOUT_1_PLUS_5
                                                              : WALL_LAYOUT_3X3;
        double cpu = run_full((guint)n, layout, &cam_ratio, &wall_ratio, &p50, &p95);
        gboolean rt = cam_ratio >= 0.95 && wall_ratio >= 0.95;
        printf("  N=%d: %6.2f ms CPU per camera-frame, slowest camera %3.0f%% of real time, "
               "wall %3.0f%%, latency p50 %.0f ms p95 %.0f ms  %s\n"
               "       (p50/p95 from the frame entering to: camera done %.0f/%.0f, in the "
               "compositor %.0f/%.0f, into the encoder %.0f/%.0f ms)\n",
               n, cpu, cam_ratio * 100, wall_ratio * 100, p50, p95,
               rt ? "real time" : "FALLS BEHIND", parts[0][0], parts[0][1], parts[1][0],
               parts[1][1], parts[2][0], parts[2][1]);
        fflush(stdout);
        if (rt)
            best = n;
        else
            break;
    }
    g_autofree char *load = NULL;
    g_file_get_contents("/proc/loadavg", &load, NULL, NULL);
    printf("\nlargest N sustained in real time: %d   (load average at the end: %s)", best,
           load ? load : "?\n");
    overlay_scene_free(scene);
    gst_caps_unref(ingest_caps);
    return 0;
}
