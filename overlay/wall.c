/* wall.c: compositor, one encoder, outputs (RTSP server, SRT, HLS, MP4). */
#include "wall.h"

#include <errno.h>
#include <glib/gstdio.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <gst/video/video.h>
#include <string.h>

#include "overlay.h"

G_DEFINE_QUARK(wall-error-quark, wall_error)

#define MAX_WALL_CAMERAS 64

typedef struct {
    char *name;
    GstElement *appsrc; /* the tile's source in the wall pipeline, or NULL when not shown */
    GPtrArray *rtsp_srcs; /* appsrcs of RTSP clients of /cam/NAME (under the wall's lock) */
} Tile;

struct PsWall {
    WallConfig cfg;
    char *rtsp_path, *srt_uri, *hls_dir, *record;
    GPtrArray *tiles; /* (element-type Tile) */
    GstElement *pipeline;
    GstElement *counter;
    GMutex lock;
    GPtrArray *rtsp_srcs; /* appsrcs of RTSP clients of the wall */
    GstRTSPServer *server;
    guint server_source;
    guint64 frames_out;
    gboolean started;
    GstClockTime last_pts; /* of the encoder's input (its streaming thread only) */
    guint pts_dropped;
    PsRenderer *renderer; /* for NO SIGNAL tiles (wall_no_signal()'s thread) */
    GstElement *encout;   /* appsink of the encoded stream */
    WallEncodedFunc encoded_func; /* under lock */
    gpointer encoded_data;
    WallFrameFunc frame_func; /* under lock */
    gpointer frame_data;
};

gboolean wall_layout_parse(const char *text, WallLayout *out, GError **error)
{
    if (g_strcmp0(text, "2x2") == 0)
        *out = WALL_LAYOUT_2X2;
    else if (g_strcmp0(text, "3x3") == 0)
        *out = WALL_LAYOUT_3X3;
    else if (g_strcmp0(text, "1+5") == 0)
        *out = WALL_LAYOUT_1_PLUS_5;
    else {
        g_set_error(error, WALL_ERROR, WALL_ERROR_CONFIG,
                    "wall layout '%s' is not one of 2x2, 3x3, 1+5", text ? text : "");
        return FALSE;
    }
    return TRUE;
}

guint wall_layout_tiles(WallLayout layout)
{
    return layout == WALL_LAYOUT_2X2 ? 4 : layout == WALL_LAYOUT_3X3 ? 9 : 6;
}

gboolean wall_layout_tile(WallLayout layout, int w, int h, guint i, int r[4])
{
    if (i >= wall_layout_tiles(layout))
        return FALSE;
    int n = layout == WALL_LAYOUT_3X3 ? 3 : 2;
    if (layout != WALL_LAYOUT_1_PLUS_5) {
        int col = (int)i % n, row = (int)i / n;
        r[0] = w * col / n;
        r[1] = h * row / n;
        r[2] = w * (col + 1) / n - r[0];
        r[3] = h * (row + 1) / n - r[1];
        return TRUE;
    }
    /* 1 + 5: the large tile top-left (2/3 x 2/3), two small ones down the right, three along
     * the bottom. */
    static const int cells[6][4] = {{0, 0, 2, 2}, {2, 0, 1, 1}, {2, 1, 1, 1},
                                    {0, 2, 1, 1}, {1, 2, 1, 1}, {2, 2, 1, 1}};
    r[0] = w * cells[i][0] / 3;
    r[1] = h * cells[i][1] / 3;
    r[2] = w * (cells[i][0] + cells[i][2]) / 3 - r[0];
    r[3] = h * (cells[i][1] + cells[i][3]) / 3 - r[1];
    return TRUE;
}

void wall_config_init(WallConfig *c)
{
    memset(c, 0, sizeof *c);
    c->layout = WALL_LAYOUT_2X2;
    c->width = 1920;
    c->height = 1080;
    c->fps = 25;
    c->bitrate_kbps = 4000;
    c->rtsp_path = "/wall";
    c->encode_zerolatency = TRUE;
}

static gboolean safe(const char *s)
{
    for (; s && *s; s++)
        if ((guchar)*s < 0x20 || *s == '"' || *s == '\\')
            return FALSE;
    return TRUE;
}

static char *describe(PsWall *wall)
{
    const WallConfig *c = &wall->cfg;
    GString *d = g_string_new(NULL);
    /* A black live background keeps the wall ticking at its frame rate whatever the cameras
     * do; camera tiles lie on top of it. */
    g_string_append_printf(d, "compositor name=mix background=black force-live=true "
                              "ignore-inactive-pads=true latency=%" G_GUINT64_FORMAT " ",
                           (guint64)(GST_SECOND / c->fps));
    g_string_append(d, "sink_0::zorder=0 ");
    guint shown = MIN(wall->tiles->len, wall_layout_tiles(c->layout));
    for (guint i = 0; i < shown; i++) {
        int r[4];
        wall_layout_tile(c->layout, c->width, c->height, i, r);
        g_string_append_printf(d, "sink_%u::xpos=%d sink_%u::ypos=%d sink_%u::width=%d "
                                  "sink_%u::height=%d sink_%u::zorder=1 ",
                               i + 1, r[0], i + 1, r[1], i + 1, r[2], i + 1, r[3], i + 1);
    }
    g_string_append_printf(
        d, "! video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1,colorimetry=bt709,"
           "chroma-site=mpeg2 ! identity name=count "
           "! x264enc speed-preset=ultrafast %s bitrate=%d key-int-max=%d ! "
           "video/x-h264,profile=constrained-baseline,stream-format=byte-stream ! "
           "h264parse config-interval=-1 ! tee name=t ",
        c->width, c->height, c->fps, c->encode_zerolatency ? "tune=zerolatency" : "",
        c->bitrate_kbps, c->fps * 2);
    g_string_append_printf(d, "videotestsrc is-live=true pattern=black ! "
                              "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! "
                              "mix.sink_0 ",
                           c->width, c->height, c->fps);
    /* A tile that is behind (the compositor late under load) drops its oldest frame, not the
     * newest: what it shows stays the latest picture, and frames do not queue up latency. */
    for (guint i = 0; i < shown; i++)
        g_string_append_printf(d, "appsrc name=tile%u is-live=true format=time do-timestamp=true "
                                  "min-latency=0 max-buffers=2 leaky-type=downstream ! "
                                  "videoconvert ! mix.sink_%u ",
                               i, i + 1);
    /* The tee carries byte-stream (what MPEG-TS, HLS and RTP want); the MP4 branch converts
     * to avc with its own parser (one format for all branches: with mp4mux and mpegtsmux on
     * the same tee, caps would not negotiate at all). */
    if (wall->record && (c->record_segment_s || c->record_segment_bytes)) {
        /* Cut at key frames (every 2 s) past the caps; each segment a whole MP4 named by
         * on_segment_location(). */
        g_string_append_printf(d, "t. ! queue name=recq ! h264parse ! splitmuxsink name=recsplit "
                                  "muxer-factory=mp4mux max-size-time=%" G_GUINT64_FORMAT
                                  " max-size-bytes=%" G_GUINT64_FORMAT " ",
                               (guint64)c->record_segment_s * GST_SECOND,
                               c->record_segment_bytes);
    } else if (wall->record) {
        g_string_append_printf(d, "t. ! queue name=recq ! h264parse ! mp4mux ! "
                                  "filesink location=\"%s\" ",
                               wall->record);
    }
    if (wall->srt_uri) {
        /* SRT live mode carries at most 1316 bytes (7 TS packets) per message: a larger
         * buffer (every key frame) would be lost, and a viewer never gets SPS/PPS. */
        g_string_append_printf(d, "t. ! queue leaky=downstream ! mpegtsmux alignment=7 ! "
                                  "srtsink uri=\"%s\" wait-for-connection=false sync=false ",
                               wall->srt_uri);
    }
    if (wall->hls_dir) {
        g_string_append_printf(d, "t. ! queue ! hlssink2 location=\"%s/segment%%05d.ts\" "
                                  "playlist-location=\"%s/wall.m3u8\" target-duration=2 "
                                  "max-files=10 ",
                               wall->hls_dir, wall->hls_dir);
    }
    if (c->rtsp_port > 0) {
        g_string_append(d, "t. ! queue leaky=downstream max-size-buffers=30 ! "
                           "appsink name=rtspout sync=false max-buffers=30 drop=true ");
    }
    /* The encoded stream for in-process viewers (wall_set_encoded_func()): dropped when
     * nobody takes it, never holding the others up. */
    g_string_append(d, "t. ! queue leaky=downstream max-size-buffers=60 ! "
                       "appsink name=encout sync=false async=false max-buffers=60 drop=true ");
    return g_string_free(d, FALSE);
}

static void tile_free(gpointer p)
{
    Tile *t = p;
    g_free(t->name);
    if (t->appsrc)
        gst_object_unref(t->appsrc);
    g_ptr_array_unref(t->rtsp_srcs);
    g_free(t);
}

static GstFlowReturn on_encoded(GstAppSink *sink, gpointer data)
{
    PsWall *w = data;
    GstSample *s = gst_app_sink_pull_sample(sink);
    if (!s)
        return GST_FLOW_EOS;
    g_mutex_lock(&w->lock);
    WallEncodedFunc func = w->encoded_func;
    gpointer fdata = w->encoded_data;
    if (func)
        func(s, fdata);
    g_mutex_unlock(&w->lock);
    gst_sample_unref(s);
    return GST_FLOW_OK;
}

static gchar *on_segment_location(GstElement *split, guint id, gpointer data)
{
    (void)split;
    (void)id;
    PsWall *w = data;
    char *name = wall_record_segment_name(w->record, g_get_real_time() / G_USEC_PER_SEC,
                                          w->cfg.record_keep);
    g_info("wall: recording to %s", name);
    return name;
}

PsWall *wall_new(const WallConfig *cfg, const char *const *cameras, GError **error)
{
    if (cfg->width < 64 || cfg->height < 64 || cfg->width > 7680 || cfg->height > 4320 ||
        cfg->width % 2 || cfg->height % 2 || cfg->fps < 1 || cfg->fps > 60 ||
        cfg->bitrate_kbps < 100 || cfg->bitrate_kbps > 100000 || cfg->rtsp_port < 0 ||
        cfg->rtsp_port > 65535) {
        g_set_error(error, WALL_ERROR, WALL_ERROR_CONFIG,
                    "wall %dx%d at %d fps, %d kb/s, RTSP port %d: out of range", cfg->width,
                    cfg->height, cfg->fps, cfg->bitrate_kbps, cfg->rtsp_port);
        return NULL;
    }
    if (!safe(cfg->srt_uri) || !safe(cfg->hls_dir) || !safe(cfg->record) ||
        !safe(cfg->rtsp_path) || (cfg->srt_uri && !g_str_has_prefix(cfg->srt_uri, "srt://")) ||
        (cfg->rtsp_path && cfg->rtsp_path[0] != '/')) {
        g_set_error(error, WALL_ERROR, WALL_ERROR_CONFIG,
                    "wall outputs: paths and URIs must not hold quotes or control characters; "
                    "srt must be srt://HOST:PORT, rtsp_path must start with /");
        return NULL;
    }
    PsWall *w = g_new0(PsWall, 1);
    w->cfg = *cfg;
    w->rtsp_path = g_strdup(cfg->rtsp_path ? cfg->rtsp_path : "/wall");
    w->srt_uri = g_strdup(cfg->srt_uri);
    w->hls_dir = g_strdup(cfg->hls_dir);
    w->record = g_strdup(cfg->record);
    w->cfg.rtsp_path = w->rtsp_path;
    w->cfg.srt_uri = w->srt_uri;
    w->cfg.hls_dir = w->hls_dir;
    w->cfg.record = w->record;
    g_mutex_init(&w->lock);
    w->rtsp_srcs = g_ptr_array_new_with_free_func(gst_object_unref);
    w->tiles = g_ptr_array_new_with_free_func(tile_free);
    for (guint i = 0; cameras && cameras[i] && i < MAX_WALL_CAMERAS; i++) {
        Tile *t = g_new0(Tile, 1);
        t->name = g_strdup(cameras[i]);
        t->rtsp_srcs = g_ptr_array_new_with_free_func(gst_object_unref);
        g_ptr_array_add(w->tiles, t);
    }
    g_autofree char *desc = describe(w);
    GError *local = NULL;
    w->pipeline = gst_parse_launch(desc, &local);
    if (!w->pipeline || local) {
        g_set_error(error, WALL_ERROR, WALL_ERROR_PIPELINE, "wall pipeline: %s",
                    local ? local->message : "cannot build");
        g_clear_error(&local);
        wall_free(w);
        return NULL;
    }
    for (guint i = 0; i < w->tiles->len; i++) {
        g_autofree char *name = g_strdup_printf("tile%u", i);
        ((Tile *)g_ptr_array_index(w->tiles, i))->appsrc =
            gst_bin_get_by_name(GST_BIN(w->pipeline), name);
    }
    GstElement *split = gst_bin_get_by_name(GST_BIN(w->pipeline), "recsplit");
    if (split) {
        g_signal_connect(split, "format-location", G_CALLBACK(on_segment_location), w);
        gst_object_unref(split);
    }
    w->counter = gst_bin_get_by_name(GST_BIN(w->pipeline), "count");
    w->encout = gst_bin_get_by_name(GST_BIN(w->pipeline), "encout");
    GstAppSinkCallbacks cb = {.new_sample = on_encoded};
    gst_app_sink_set_callbacks(GST_APP_SINK(w->encout), &cb, w, NULL);
    return w;
}

/* ---- RTSP ---- */

typedef struct {
    PsWall *wall;
    Tile *tile; /* NULL: the wall itself */
} MountCtx;

static void on_unprepared(GstRTSPMedia *media, gpointer data)
{
    GstElement *src = data;
    MountCtx *m = g_object_get_data(G_OBJECT(src), "ps-mount");
    g_mutex_lock(&m->wall->lock);
    g_ptr_array_remove(m->tile ? m->tile->rtsp_srcs : m->wall->rtsp_srcs, src);
    g_mutex_unlock(&m->wall->lock);
}

static void on_media_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media, gpointer data)
{
    MountCtx *m = data;
    GstElement *bin = gst_rtsp_media_get_element(media);
    GstElement *src = gst_bin_get_by_name_recurse_up(GST_BIN(bin), "src");
    gst_object_unref(bin);
    if (!src)
        return;
    g_object_set_data(G_OBJECT(src), "ps-mount", m);
    g_mutex_lock(&m->wall->lock);
    g_ptr_array_add(m->tile ? m->tile->rtsp_srcs : m->wall->rtsp_srcs, gst_object_ref(src));
    g_mutex_unlock(&m->wall->lock);
    g_signal_connect_object(media, "unprepared", G_CALLBACK(on_unprepared), src, 0);
    gst_object_unref(src);
}

static void push_copies(GPtrArray *srcs, GstBuffer *buf, GstCaps *caps)
{
    for (guint i = 0; i < srcs->len; i++) {
        GstElement *src = g_ptr_array_index(srcs, i);
        GstBuffer *copy = gst_buffer_copy(buf);
        GST_BUFFER_PTS(copy) = GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE; /* do-timestamp */
        if (caps) {
            GstCaps *cur = gst_app_src_get_caps(GST_APP_SRC(src));
            if (!cur || !gst_caps_is_equal(cur, caps))
                gst_app_src_set_caps(GST_APP_SRC(src), caps);
            if (cur)
                gst_caps_unref(cur);
        }
        gst_app_src_push_buffer(GST_APP_SRC(src), copy);
    }
}

static GstFlowReturn on_rtsp_sample(GstAppSink *sink, gpointer data)
{
    PsWall *w = data;
    GstSample *s = gst_app_sink_pull_sample(sink);
    if (!s)
        return GST_FLOW_EOS;
    g_mutex_lock(&w->lock);
    push_copies(w->rtsp_srcs, gst_sample_get_buffer(s), gst_sample_get_caps(s));
    g_mutex_unlock(&w->lock);
    gst_sample_unref(s);
    return GST_FLOW_OK;
}

static void mount(PsWall *w, GstRTSPMountPoints *mounts, const char *path, const char *launch,
                  Tile *tile)
{
    GstRTSPMediaFactory *f = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_launch(f, launch);
    gst_rtsp_media_factory_set_shared(f, TRUE);
    MountCtx *m = g_new0(MountCtx, 1);
    m->wall = w;
    m->tile = tile;
    g_signal_connect_data(f, "media-configure", G_CALLBACK(on_media_configure), m,
                          (GClosureNotify)(void (*)(void))g_free, 0);
    gst_rtsp_mount_points_add_factory(mounts, path, f);
}

static gboolean start_rtsp(PsWall *w, GError **error)
{
    w->server = gst_rtsp_server_new();
    g_autofree char *service = g_strdup_printf("%d", w->cfg.rtsp_port);
    gst_rtsp_server_set_service(w->server, service);
    GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(w->server);
    mount(w, mounts, w->rtsp_path,
          "( appsrc name=src is-live=true format=time do-timestamp=true min-latency=0 ! "
          "h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )",
          NULL);
    if (w->cfg.rtsp_per_camera)
        for (guint i = 0; i < w->tiles->len; i++) {
            Tile *t = g_ptr_array_index(w->tiles, i);
            g_autofree char *path = g_strdup_printf("/cam/%s", t->name);
            mount(w, mounts, path,
                  "( appsrc name=src is-live=true format=time do-timestamp=true min-latency=0 "
                  "max-buffers=2 leaky-type=downstream ! videoconvert ! "
                  "x264enc tune=zerolatency speed-preset=ultrafast bitrate=2000 key-int-max=50 ! "
                  "rtph264pay name=pay0 pt=96 config-interval=-1 )",
                  t);
        }
    g_object_unref(mounts);
    w->server_source = gst_rtsp_server_attach(w->server, NULL);
    if (!w->server_source) {
        g_set_error(error, WALL_ERROR, WALL_ERROR_PIPELINE,
                    "wall: the RTSP server cannot listen on port %d", w->cfg.rtsp_port);
        return FALSE;
    }
    GstElement *sink = gst_bin_get_by_name(GST_BIN(w->pipeline), "rtspout");
    GstAppSinkCallbacks cbs = {.new_sample = on_rtsp_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, w, NULL);
    gst_object_unref(sink);
    return TRUE;
}

static GstPadProbeReturn count_out(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    PsWall *w = data;
    g_mutex_lock(&w->lock);
    w->frames_out++;
    g_mutex_unlock(&w->lock);
    return GST_PAD_PROBE_OK;
}

/* The encoder's input must have strictly increasing PTS: h264parse (like every parser with
 * PTS interpolation off) takes a PTS from upstream only when it changes, so a second frame
 * with the same PTS leaves it without one, and mp4mux then stops the whole wall with "Buffer
 * has no PTS". Under load the compositor sends its first frame (PTS 0) on its latency timeout
 * before the background source has started, and sends PTS 0 again with the background's first
 * frame (also when its output caps changed in between: they are pinned in full in describe()).
 * This guard drops a frame that repeats or goes back in time (it carries nothing new) and
 * counts it. */
static GstPadProbeReturn monotonic_pts(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    PsWall *w = data;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    GstClockTime pts = GST_BUFFER_PTS(buf);
    if (GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(w->last_pts) &&
        pts <= w->last_pts) {
        w->pts_dropped++;
        return GST_PAD_PROBE_DROP;
    }
    if (GST_CLOCK_TIME_IS_VALID(pts))
        w->last_pts = pts;
    return GST_PAD_PROBE_OK;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory, STEM and .EXT of a recording path. */
typedef struct {
    char *dir, *stem;
    const char *ext;
    char *base;
} RecordName;

static void record_name(const char *path, RecordName *n)
{
    n->dir = g_path_get_dirname(path);
    n->base = g_path_get_basename(path);
    const char *dot = strrchr(n->base, '.');
    n->stem = dot ? g_strndup(n->base, (gsize)(dot - n->base)) : g_strdup(n->base);
    n->ext = dot ? dot : "";
}

static void record_name_clear(RecordName *n)
{
    g_free(n->dir);
    g_free(n->stem);
    g_free(n->base);
}

/* A free name STEM-<t, UTC>EXT (-2, -3... on a clash). */
static char *record_free_name(const RecordName *n, gint64 t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    g_autofree char *stamp = g_date_time_format(dt, "%Y%m%dT%H%M%SZ");
    char *to = NULL;
    for (int k = 1; !to || g_file_test(to, G_FILE_TEST_EXISTS); k++) {
        g_free(to);
        to = k == 1 ? g_strdup_printf("%s/%s-%s%s", n->dir, n->stem, stamp, n->ext)
                    : g_strdup_printf("%s/%s-%s-%d%s", n->dir, n->stem, stamp, k, n->ext);
    }
    return to;
}

/* Retention: of STEM-<timestamp>[-N]EXT, only the newest @keep stay (names sort by time). */
static void record_retain(const RecordName *n, guint keep)
{
    g_autoptr(GDir) d = g_dir_open(n->dir, 0, NULL);
    g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *prefix = g_strdup_printf("%s-", n->stem);
    for (const char *name; d && (name = g_dir_read_name(d));)
        if (g_str_has_prefix(name, prefix) && g_str_has_suffix(name, n->ext) &&
            g_ascii_isdigit(name[strlen(prefix)]))
            g_ptr_array_add(kept, g_strdup(name));
    g_ptr_array_sort(kept, by_name);
    for (guint i = 0; kept->len > keep && i < kept->len - keep; i++) {
        g_autofree char *old = g_build_filename(n->dir, g_ptr_array_index(kept, i), NULL);
        if (g_unlink(old) == 0)
            g_info("wall: recording %s removed (record_keep)", old);
    }
}

gboolean wall_record_keep(const char *path, guint keep, GError **error)
{
    GStatBuf st;
    if (!path || g_stat(path, &st) != 0 || st.st_size == 0)
        return TRUE;
    RecordName n;
    record_name(path, &n);
    g_autofree char *to = record_free_name(&n, st.st_mtime);
    if (g_rename(path, to) != 0) {
        int e = errno;
        g_set_error(error, WALL_ERROR, WALL_ERROR_CONFIG,
                    "record: cannot keep the previous recording %s as %s: %s", path, to,
                    g_strerror(e));
        record_name_clear(&n);
        return FALSE;
    }
    g_info("wall: the previous recording is kept as %s", to);
    record_retain(&n, keep ? keep : 10);
    record_name_clear(&n);
    return TRUE;
}

char *wall_record_segment_name(const char *path, gint64 t, guint keep)
{
    RecordName n;
    record_name(path, &n);
    record_retain(&n, (keep ? keep : 10) - 1);
    char *to = record_free_name(&n, t);
    record_name_clear(&n);
    return to;
}

gboolean wall_start(PsWall *w, GError **error)
{
    if (w->started)
        return TRUE;
    if (w->record) {
        /* Segments open their files later: a folder that cannot be written is said now. */
        g_autofree char *dir = g_path_get_dirname(w->record);
        if (g_access(dir, W_OK) != 0) {
            int e = errno;
            g_set_error(error, WALL_ERROR, WALL_ERROR_CONFIG,
                        "wall: record %s: cannot write into %s: %s", w->record, dir,
                        g_strerror(e));
            return FALSE;
        }
        if (!wall_record_keep(w->record, w->cfg.record_keep, error))
            return FALSE;
    }
    if (w->cfg.rtsp_port > 0 && !start_rtsp(w, error))
        return FALSE;
    GstPad *pad = gst_element_get_static_pad(w->counter, "src");
    w->last_pts = GST_CLOCK_TIME_NONE;
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, monotonic_pts, w, NULL);
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, count_out, w, NULL);
    gst_object_unref(pad);
    if (gst_element_set_state(w->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        /* Say which output failed and why (GStreamer's message names the file or port). */
        GstBus *bus = gst_element_get_bus(w->pipeline);
        GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
        GError *gerr = NULL;
        if (m)
            gst_message_parse_error(m, &gerr, NULL);
        g_set_error(error, WALL_ERROR, WALL_ERROR_PIPELINE,
                    "wall: the pipeline would not start: %s%s%s (record %s, hls_dir %s, srt %s)",
                    m ? GST_OBJECT_NAME(GST_MESSAGE_SRC(m)) : "", m ? ": " : "",
                    gerr ? gerr->message : "no error message", w->record ? w->record : "-",
                    w->cfg.hls_dir ? w->cfg.hls_dir : "-", w->cfg.srt_uri ? w->cfg.srt_uri : "-");
        g_clear_error(&gerr);
        if (m)
            gst_message_unref(m);
        gst_object_unref(bus);
        return FALSE;
    }
    w->started = TRUE;
    return TRUE;
}

void wall_push(PsWall *w, const char *camera, GstSample *sample)
{
    for (guint i = 0; i < w->tiles->len; i++) {
        Tile *t = g_ptr_array_index(w->tiles, i);
        if (strcmp(t->name, camera) != 0)
            continue;
        if (t->appsrc && w->started) {
            /* A new buffer struct over the same memory: do-timestamp stamps it with the
             * wall's clock. */
            GstBuffer *b = gst_buffer_copy(gst_sample_get_buffer(sample));
            GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = GST_CLOCK_TIME_NONE;
            GST_BUFFER_DURATION(b) = GST_CLOCK_TIME_NONE;
            GstCaps *caps = gst_sample_get_caps(sample);
            GstCaps *cur = gst_app_src_get_caps(GST_APP_SRC(t->appsrc));
            if (caps && (!cur || !gst_caps_is_equal(cur, caps)))
                gst_app_src_set_caps(GST_APP_SRC(t->appsrc), caps);
            if (cur)
                gst_caps_unref(cur);
            gst_app_src_push_buffer(GST_APP_SRC(t->appsrc), b);
        }
        g_mutex_lock(&w->lock);
        if (t->rtsp_srcs->len)
            push_copies(t->rtsp_srcs, gst_sample_get_buffer(sample), gst_sample_get_caps(sample));
        if (w->frame_func)
            w->frame_func(t->name, sample, w->frame_data);
        g_mutex_unlock(&w->lock);
        return;
    }
}

void wall_no_signal(PsWall *w, const char *camera, const char *title, const char *reason)
{
    guint index = 0;
    for (; index < w->tiles->len; index++)
        if (strcmp(((Tile *)g_ptr_array_index(w->tiles, index))->name, camera) == 0)
            break;
    if (index >= w->tiles->len)
        return;
    int r[4] = {0, 0, 640, 360}; /* a camera beyond the layout: only its own stream */
    wall_layout_tile(w->cfg.layout, w->cfg.width, w->cfg.height, index, r);
    int width = r[2] & ~1, height = r[3] & ~1;
    if (!w->renderer)
        w->renderer = overlay_renderer_new(NULL);
    GstBuffer *buf = gst_buffer_new_allocate(NULL, (gsize)width * height * 4, NULL);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    GError *error = NULL;
    gboolean ok = overlay_render_no_signal(w->renderer, title ? title : camera, reason, map.data,
                                           width, height, width * 4, &error);
    gst_buffer_unmap(buf, &map);
    if (!ok) {
        g_warning("wall: NO SIGNAL for %s: %s", camera, error->message);
        g_error_free(error);
        gst_buffer_unref(buf);
        return;
    }
    GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "BGRx", "width",
                                        G_TYPE_INT, width, "height", G_TYPE_INT, height,
                                        "framerate", GST_TYPE_FRACTION, w->cfg.fps, 1,
                                        "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
    GstSample *sample = gst_sample_new(buf, caps, NULL, NULL);
    wall_push(w, camera, sample);
    gst_sample_unref(sample);
    gst_caps_unref(caps);
    gst_buffer_unref(buf);
}

void wall_stop(PsWall *w, double timeout_s)
{
    if (!w->started)
        return;
    w->started = FALSE;
    for (guint i = 0; i < w->tiles->len; i++) {
        Tile *t = g_ptr_array_index(w->tiles, i);
        if (t->appsrc)
            gst_app_src_end_of_stream(GST_APP_SRC(t->appsrc));
    }
    /* The background source never ends by itself: EOS into the pipeline ends it all. */
    gst_element_send_event(w->pipeline, gst_event_new_eos());
    GstBus *bus = gst_element_get_bus(w->pipeline);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, (GstClockTime)(timeout_s * GST_SECOND),
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
        GError *e = NULL;
        gst_message_parse_error(m, &e, NULL);
        g_warning("wall: %s", e ? e->message : "error at end of stream");
        g_clear_error(&e);
    } else if (!m) {
        g_warning("wall: outputs did not finish within %.1f s", timeout_s);
    }
    if (m)
        gst_message_unref(m);
    gst_object_unref(bus);
    gst_element_set_state(w->pipeline, GST_STATE_NULL);
    if (w->pts_dropped)
        g_warning("wall: %u composed frame(s) repeated an earlier PTS and were dropped",
                  w->pts_dropped);
}

void wall_free(PsWall *w)
{
    if (!w)
        return;
    wall_stop(w, 5.0);
    if (w->pipeline)
        gst_element_set_state(w->pipeline, GST_STATE_NULL);
    if (w->server_source)
        g_source_remove(w->server_source);
    if (w->server) {
        GstRTSPSessionPool *pool = gst_rtsp_server_get_session_pool(w->server);
        gst_rtsp_session_pool_cleanup(pool);
        g_object_unref(pool);
        g_object_unref(w->server);
    }
    if (w->counter)
        gst_object_unref(w->counter);
    if (w->encout)
        gst_object_unref(w->encout);
    g_ptr_array_unref(w->tiles);
    if (w->pipeline)
        gst_object_unref(w->pipeline);
    g_ptr_array_unref(w->rtsp_srcs);
    overlay_renderer_free(w->renderer);
    g_mutex_clear(&w->lock);
    g_free(w->rtsp_path);
    g_free(w->srt_uri);
    g_free(w->hls_dir);
    g_free(w->record);
    g_free(w);
}

guint64 wall_frames_out(PsWall *w)
{
    g_mutex_lock(&w->lock);
    guint64 n = w->frames_out;
    g_mutex_unlock(&w->lock);
    return n;
}

GstElement *wall_pipeline(PsWall *w)
{
    return w->pipeline;
}

void wall_set_encoded_func(PsWall *w, WallEncodedFunc func, gpointer user_data)
{
    g_mutex_lock(&w->lock);
    w->encoded_func = func;
    w->encoded_data = user_data;
    g_mutex_unlock(&w->lock);
}

void wall_request_keyframe(PsWall *w)
{
    GstPad *pad = gst_element_get_static_pad(w->encout, "sink");
    gst_pad_push_event(pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE,
                                                                        TRUE, 0));
    gst_object_unref(pad);
}

const WallConfig *wall_config(PsWall *w)
{
    return &w->cfg;
}

guint wall_tile_count(PsWall *w)
{
    return MIN(w->tiles->len, wall_layout_tiles(w->cfg.layout));
}

const char *wall_tile_camera(PsWall *w, guint index)
{
    return index < wall_tile_count(w) ? ((Tile *)g_ptr_array_index(w->tiles, index))->name
                                       : NULL;
}

const char *wall_locate(PsWall *w, double x, double y, double *cam_x, double *cam_y)
{
    guint n = wall_tile_count(w);
    for (guint i = 0; i < n; i++) {
        int r[4];
        wall_layout_tile(w->cfg.layout, w->cfg.width, w->cfg.height, i, r);
        if (x >= r[0] && x < r[0] + r[2] && y >= r[1] && y < r[1] + r[3]) {
            *cam_x = x - r[0];
            *cam_y = y - r[1];
            return ((Tile *)g_ptr_array_index(w->tiles, i))->name;
        }
    }
    return NULL;
}

void wall_set_frame_func(PsWall *w, WallFrameFunc func, gpointer user_data)
{
    g_mutex_lock(&w->lock);
    w->frame_func = func;
    w->frame_data = user_data;
    g_mutex_unlock(&w->lock);
}

guint wall_camera_count(PsWall *w)
{
    return w->tiles->len;
}

const char *wall_camera(PsWall *w, guint index)
{
    return index < w->tiles->len ? ((Tile *)g_ptr_array_index(w->tiles, index))->name : NULL;
}
