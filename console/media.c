/* media.c: live video for browsers: the wall's encoded H.264 without transcoding, and each
 * camera's own annotated stream (its frames as the wall receives them, encoded once per camera
 * while somebody watches it). Each viewer has its own small pipeline fed from its stream's
 * encoder (appsrc): for Media Source Extensions it muxes fragmented MP4 (one fragment per
 * frame) sent over the viewer's WebSocket; for WebRTC it packetizes RTP into a webrtcbin
 * answering the browser's WHEP offer. A viewer starts at a key frame (the encoder is asked for
 * one). */
#define GST_USE_UNSTABLE_API
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>
#include <stdlib.h>
#include <string.h>

#include "console-private.h"
#include "wall.h"

#define MAX_VIEWERS 32

typedef enum { VIEW_MSE, VIEW_WEBRTC } ViewKind;

/* What viewers watch: the wall, or one camera's own stream. */
typedef struct {
    char *name;         /* "wall" or the camera's */
    ConsoleMedia *media;
    GPtrArray *viewers; /* Viewer*, under the media's lock */
    /* A camera's: its annotated frames encoded while it has viewers (main context only). */
    GstElement *encoder;
    GstElement *raw;    /* the encoder's appsrc while it runs (under the media's lock) */
} Stream;

typedef struct {
    gint refs;
    ConsoleMedia *media;
    Stream *stream; /* borrowed: streams live as long as the media */
    ViewKind kind;
    char *id;
    GstElement *pipeline;
    GstElement *src;
    gboolean keyed;   /* a key frame went in: deltas may follow */
    gboolean closed;  /* main context only */
    SoupWebsocketConnection *ws; /* MSE */
    GstElement *webrtc;
    GMainContext *context;
    guint64 bytes_queued; /* MSE: sent but maybe not yet written (approximate) */
} Viewer;

struct ConsoleMedia {
    PsWall *wall;
    GMutex lock;
    Stream *wall_stream;
    GHashTable *cameras; /* name -> Stream*, fixed after console_media_new() */
    guint viewers;       /* of all streams, under lock */
};

static Viewer *viewer_ref(Viewer *v)
{
    g_atomic_int_inc(&v->refs);
    return v;
}

static void viewer_unref(Viewer *v)
{
    if (!g_atomic_int_dec_and_test(&v->refs))
        return;
    if (v->pipeline) {
        gst_element_set_state(v->pipeline, GST_STATE_NULL);
        gst_object_unref(v->pipeline);
    }
    if (v->src)
        gst_object_unref(v->src);
    if (v->webrtc)
        gst_object_unref(v->webrtc);
    g_clear_object(&v->ws);
    if (v->context)
        g_main_context_unref(v->context);
    g_free(v->id);
    g_free(v);
}

/* The encoder's streaming thread (the wall's, or a camera's): hands the access unit to every
 * viewer of @data (a Stream). */
static void on_encoded(GstSample *sample, gpointer data)
{
    Stream *st = data;
    ConsoleMedia *m = st->media;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    gboolean key = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    g_mutex_lock(&m->lock);
    for (guint i = 0; i < st->viewers->len; i++) {
        Viewer *v = g_ptr_array_index(st->viewers, i);
        if (!v->keyed && !key)
            continue;
        v->keyed = TRUE;
        GstCaps *cur = gst_app_src_get_caps(GST_APP_SRC(v->src));
        if (!cur)
            gst_app_src_set_caps(GST_APP_SRC(v->src), gst_sample_get_caps(sample));
        else
            gst_caps_unref(cur);
        GstBuffer *copy = gst_buffer_copy(buf);
        GST_BUFFER_PTS(copy) = GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE; /* do-timestamp */
        gst_app_src_push_buffer(GST_APP_SRC(v->src), copy);
    }
    g_mutex_unlock(&m->lock);
}

static GstFlowReturn on_camera_encoded(GstAppSink *sink, gpointer data)
{
    GstSample *s = gst_app_sink_pull_sample(sink);
    if (!s)
        return GST_FLOW_EOS;
    on_encoded(s, data);
    gst_sample_unref(s);
    return GST_FLOW_OK;
}

/* A camera's thread, under the wall's lock: its annotated frame into its stream's encoder
 * when somebody watches it (the encoder's source drops frames rather than wait). */
static void on_frame(const char *camera, GstSample *sample, gpointer data)
{
    ConsoleMedia *m = data;
    Stream *st = g_hash_table_lookup(m->cameras, camera);
    if (!st)
        return;
    g_mutex_lock(&m->lock);
    if (st->raw) {
        GstCaps *caps = gst_sample_get_caps(sample);
        GstCaps *cur = gst_app_src_get_caps(GST_APP_SRC(st->raw));
        if (caps && (!cur || !gst_caps_is_equal(cur, caps)))
            gst_app_src_set_caps(GST_APP_SRC(st->raw), caps);
        if (cur)
            gst_caps_unref(cur);
        GstBuffer *b = gst_buffer_copy(gst_sample_get_buffer(sample));
        GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = GST_BUFFER_DURATION(b) = GST_CLOCK_TIME_NONE;
        gst_app_src_push_buffer(GST_APP_SRC(st->raw), b);
    }
    g_mutex_unlock(&m->lock);
}

static Stream *stream_new(ConsoleMedia *m, const char *name)
{
    Stream *st = g_new0(Stream, 1);
    st->name = g_strdup(name);
    st->media = m;
    st->viewers = g_ptr_array_new();
    return st;
}

static void stream_free(gpointer p)
{
    Stream *st = p;
    g_ptr_array_unref(st->viewers);
    g_free(st->name);
    g_free(st);
}

ConsoleMedia *console_media_new(gpointer wall)
{
    ConsoleMedia *m = g_new0(ConsoleMedia, 1);
    m->wall = wall;
    g_mutex_init(&m->lock);
    m->wall_stream = stream_new(m, "wall");
    m->cameras = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, stream_free);
    for (guint i = 0; i < wall_camera_count(m->wall); i++) {
        Stream *st = stream_new(m, wall_camera(m->wall, i));
        g_hash_table_replace(m->cameras, st->name, st);
    }
    wall_set_frame_func(m->wall, on_frame, m);
    return m;
}

/* A camera's encoder, from its first viewer to its last (main context). Zero latency, a key
 * frame at least every 2 s (a viewer that joins asks for one at once). */
static gboolean camera_start(Stream *st, GError **error)
{
    st->encoder = gst_parse_launch(
        "appsrc name=raw is-live=true format=time do-timestamp=true min-latency=0 "
        "max-buffers=2 leaky-type=downstream ! videoconvert ! video/x-raw,format=I420 ! "
        "x264enc tune=zerolatency speed-preset=ultrafast bitrate=2000 key-int-max=50 ! "
        "video/x-h264,profile=constrained-baseline,stream-format=byte-stream ! "
        "h264parse config-interval=-1 ! "
        "appsink name=enc sync=false async=false max-buffers=60 drop=true",
        error);
    if (!st->encoder)
        return FALSE;
    GstElement *enc = gst_bin_get_by_name(GST_BIN(st->encoder), "enc");
    GstAppSinkCallbacks cb = {.new_sample = on_camera_encoded};
    gst_app_sink_set_callbacks(GST_APP_SINK(enc), &cb, st, NULL);
    gst_object_unref(enc);
    if (gst_element_set_state(st->encoder, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_CONFIG,
                    "camera %s: its stream's encoder would not start", st->name);
        gst_object_unref(st->encoder);
        st->encoder = NULL;
        return FALSE;
    }
    GstElement *raw = gst_bin_get_by_name(GST_BIN(st->encoder), "raw");
    g_mutex_lock(&st->media->lock);
    st->raw = raw;
    g_mutex_unlock(&st->media->lock);
    g_info("console: camera %s: its own stream is encoded for viewers", st->name);
    return TRUE;
}

static void camera_stop(Stream *st)
{
    g_mutex_lock(&st->media->lock);
    GstElement *raw = g_steal_pointer(&st->raw);
    g_mutex_unlock(&st->media->lock);
    if (raw)
        gst_object_unref(raw);
    if (st->encoder) {
        gst_element_set_state(st->encoder, GST_STATE_NULL);
        gst_object_unref(st->encoder);
        st->encoder = NULL;
        g_info("console: camera %s: no viewer left, its stream's encoder stopped", st->name);
    }
}

static void request_keyframe(Stream *st)
{
    if (st == st->media->wall_stream) {
        wall_request_keyframe(st->media->wall);
        return;
    }
    GstElement *enc = st->encoder ? gst_bin_get_by_name(GST_BIN(st->encoder), "enc") : NULL;
    if (!enc)
        return;
    GstPad *pad = gst_element_get_static_pad(enc, "sink");
    gst_pad_push_event(pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE,
                                                                        TRUE, 0));
    gst_object_unref(pad);
    gst_object_unref(enc);
}

static void remove_viewer(ConsoleMedia *m, Viewer *v)
{
    Stream *st = v->stream;
    g_mutex_lock(&m->lock);
    gboolean had = g_ptr_array_remove(st->viewers, v);
    if (had)
        m->viewers--;
    guint left = st->viewers->len;
    g_mutex_unlock(&m->lock);
    if (had && left == 0) {
        if (st == m->wall_stream)
            wall_set_encoded_func(m->wall, NULL, NULL);
        else
            camera_stop(st);
    }
    if (had) {
        v->closed = TRUE;
        if (v->pipeline)
            gst_element_set_state(v->pipeline, GST_STATE_NULL);
        g_info("console: %s viewer %s of %s left (%u left)",
               v->kind == VIEW_MSE ? "MSE" : "WebRTC", v->id, st->name, left);
        viewer_unref(v);
    }
}

static void drop_viewers(ConsoleMedia *m, Stream *st)
{
    while (st->viewers->len) {
        Viewer *v = g_ptr_array_index(st->viewers, 0);
        if (v->ws)
            g_signal_handlers_disconnect_by_data(v->ws, v);
        remove_viewer(m, v);
    }
}

void console_media_free(ConsoleMedia *m)
{
    if (!m)
        return;
    wall_set_frame_func(m->wall, NULL, NULL);
    wall_set_encoded_func(m->wall, NULL, NULL);
    drop_viewers(m, m->wall_stream);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, m->cameras);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        drop_viewers(m, value);
        camera_stop(value);
    }
    g_hash_table_unref(m->cameras);
    stream_free(m->wall_stream);
    g_mutex_clear(&m->lock);
    g_free(m);
}

void console_media_viewers(ConsoleMedia *m, guint *mse, guint *webrtc)
{
    *mse = *webrtc = 0;
    g_mutex_lock(&m->lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, m->cameras);
    for (Stream *st = m->wall_stream; st;
         st = g_hash_table_iter_next(&it, NULL, &value) ? value : NULL)
        for (guint i = 0; i < st->viewers->len; i++)
            (((Viewer *)g_ptr_array_index(st->viewers, i))->kind == VIEW_MSE ? (*mse)++
                                                                               : (*webrtc)++);
    g_mutex_unlock(&m->lock);
}

static Stream *find_stream(ConsoleMedia *m, const char *name, GError **error)
{
    Stream *st = !name || strcmp(name, "wall") == 0 ? m->wall_stream
                                                     : g_hash_table_lookup(m->cameras, name);
    if (!st) {
        GString *names = g_string_new(NULL);
        for (guint i = 0; i < wall_camera_count(m->wall) && names->len < 512; i++)
            g_string_append_printf(names, "%s%s", i ? ", " : "", wall_camera(m->wall, i));
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_NOT_FOUND,
                    "no camera '%s' (streams: wall%s%s)", name, names->len ? ", " : "",
                    names->str);
        g_string_free(names, TRUE);
    }
    return st;
}

gboolean console_media_has_stream(ConsoleMedia *m, const char *name, GError **error)
{
    return find_stream(m, name, error) != NULL;
}

static gboolean add_viewer(ConsoleMedia *m, Viewer *v)
{
    Stream *st = v->stream;
    g_mutex_lock(&m->lock);
    gboolean ok = m->viewers < MAX_VIEWERS;
    if (ok) {
        g_ptr_array_add(st->viewers, viewer_ref(v));
        m->viewers++;
    }
    gboolean first = ok && st->viewers->len == 1;
    g_mutex_unlock(&m->lock);
    if (first && st == m->wall_stream) {
        wall_set_encoded_func(m->wall, on_encoded, st);
    } else if (first) {
        GError *error = NULL;
        if (!camera_start(st, &error)) {
            g_warning("console: %s", error->message);
            g_error_free(error);
            g_mutex_lock(&m->lock);
            g_ptr_array_remove(st->viewers, v);
            m->viewers--;
            g_mutex_unlock(&m->lock);
            viewer_unref(v);
            return FALSE;
        }
    }
    if (ok)
        request_keyframe(st);
    return ok;
}

static Viewer *viewer_new(ConsoleMedia *m, Stream *st, ViewKind kind, const char *tail,
                          GError **error)
{
    Viewer *v = g_new0(Viewer, 1);
    v->refs = 1;
    v->media = m;
    v->stream = st;
    v->kind = kind;
    v->id = console_random_hex(8);
    v->context = g_main_context_ref_thread_default();
    /* A viewer that falls behind drops whole frames at its source, never holding the wall. */
    g_autofree char *desc = g_strdup_printf(
        "appsrc name=src is-live=true format=time do-timestamp=true max-bytes=4000000 "
        "leaky-type=downstream ! h264parse ! %s",
        tail);
    v->pipeline = gst_parse_launch(desc, error);
    if (!v->pipeline) {
        g_main_context_unref(v->context);
        v->context = NULL;
        viewer_unref(v);
        return NULL;
    }
    v->src = gst_bin_get_by_name(GST_BIN(v->pipeline), "src");
    return v;
}

/* ---- MSE over WebSocket ---- */

typedef struct {
    Viewer *v;
    GBytes *bytes;
} Chunk;

static gboolean send_chunk(gpointer data)
{
    Chunk *ch = data;
    Viewer *v = ch->v;
    if (!v->closed && v->ws &&
        soup_websocket_connection_get_state(v->ws) == SOUP_WEBSOCKET_STATE_OPEN) {
        gsize len = 0;
        gconstpointer d = g_bytes_get_data(ch->bytes, &len);
        soup_websocket_connection_send_binary(v->ws, d, len);
    }
    g_bytes_unref(ch->bytes);
    viewer_unref(v);
    g_free(ch);
    return G_SOURCE_REMOVE;
}

static GstFlowReturn on_fragment(GstAppSink *sink, gpointer data)
{
    Viewer *v = data;
    GstSample *s = gst_app_sink_pull_sample(sink);
    if (!s)
        return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(s);
    GstMapInfo map;
    if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
        Chunk *ch = g_new0(Chunk, 1);
        ch->v = viewer_ref(v);
        ch->bytes = g_bytes_new(map.data, map.size);
        gst_buffer_unmap(buf, &map);
        g_main_context_invoke(v->context, send_chunk, ch);
    }
    gst_sample_unref(s);
    return GST_FLOW_OK;
}

static void on_ws_closed(SoupWebsocketConnection *ws, gpointer data)
{
    Viewer *v = data;
    remove_viewer(v->media, v);
}

void console_media_add_mse(ConsoleMedia *m, const char *stream, SoupWebsocketConnection *ws)
{
    GError *error = NULL;
    Stream *st = find_stream(m, stream, &error);
    if (!st) {
        g_info("console: MSE viewer refused: %s", error->message);
        /* A close reason is at most 123 bytes. */
        g_autofree char *reason = g_strndup(error->message, 120);
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, reason);
        g_error_free(error);
        return;
    }
    /* One fragment per frame: the browser can show a frame as soon as it arrives. */
    Viewer *v = viewer_new(m, st, VIEW_MSE,
                           "video/x-h264,stream-format=avc,alignment=au ! "
                           "mp4mux streamable=true fragment-duration=1 ! "
                           "appsink name=out sync=false max-buffers=200 drop=false",
                           &error);
    if (!v) {
        g_warning("console: MSE viewer: %s", error->message);
        g_error_free(error);
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, "pipeline");
        return;
    }
    v->ws = g_object_ref(ws);
    GstElement *out = gst_bin_get_by_name(GST_BIN(v->pipeline), "out");
    GstAppSinkCallbacks cb = {.new_sample = on_fragment};
    gst_app_sink_set_callbacks(GST_APP_SINK(out), &cb, viewer_ref(v),
                               (GDestroyNotify)viewer_unref);
    gst_object_unref(out);
    soup_websocket_connection_send_text(
        ws, "{\"mime\":\"video/mp4; codecs=\\\"avc1.42E01F\\\"\"}");
    if (gst_element_set_state(v->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE ||
        !add_viewer(m, v)) {
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
                                        "too many viewers");
        gst_element_set_state(v->pipeline, GST_STATE_NULL);
        viewer_unref(v);
        return;
    }
    g_signal_connect(ws, "closed", G_CALLBACK(on_ws_closed), v);
    g_info("console: MSE viewer %s of %s joined", v->id, st->name);
    viewer_unref(v);
}

/* ---- WebRTC (WHEP) ---- */

static gboolean drop_viewer(gpointer data)
{
    Viewer *v = data;
    remove_viewer(v->media, v);
    return G_SOURCE_REMOVE;
}

static void on_connection_state(GstElement *webrtc, GParamSpec *pspec, gpointer data)
{
    GstWebRTCPeerConnectionState state;
    g_object_get(webrtc, "connection-state", &state, NULL);
    if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED ||
        state == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED) {
        Viewer *v = data;
        g_main_context_invoke_full(v->context, G_PRIORITY_DEFAULT, drop_viewer, viewer_ref(v),
                                   (GDestroyNotify)viewer_unref);
    }
}

/* The payload type the offer gives H.264 packetization-mode 1 (constrained) baseline, or -1. */
static int offer_h264_pt(const GstSDPMessage *sdp)
{
    for (guint i = 0; i < gst_sdp_message_medias_len(sdp); i++) {
        const GstSDPMedia *media = gst_sdp_message_get_media(sdp, i);
        if (g_strcmp0(gst_sdp_media_get_media(media), "video") != 0)
            continue;
        int fallback = -1;
        for (guint f = 0; f < gst_sdp_media_formats_len(media); f++) {
            int pt = atoi(gst_sdp_media_get_format(media, f));
            GstCaps *caps = gst_sdp_media_get_caps_from_media(media, pt);
            if (!caps)
                continue;
            GstStructure *st = gst_caps_get_structure(caps, 0);
            const char *enc = gst_structure_get_string(st, "encoding-name");
            const char *mode = gst_structure_get_string(st, "packetization-mode");
            const char *prof = gst_structure_get_string(st, "profile-level-id");
            if (g_strcmp0(enc, "H264") == 0 && g_strcmp0(mode, "1") == 0) {
                if (prof && (g_str_has_prefix(prof, "42e0") || g_str_has_prefix(prof, "4200"))) {
                    gst_caps_unref(caps);
                    return pt;
                }
                if (fallback < 0)
                    fallback = pt;
            }
            gst_caps_unref(caps);
        }
        return fallback;
    }
    return -1;
}

/* One WHEP negotiation in flight: the steps run on webrtcbin's thread (promise callbacks,
 * the gathering notification); the answer is handed to the main context once. */
typedef struct {
    gint refs;   /* the negotiation, each pending promise, the gathering handler */
    Viewer *v;   /* one reference, released with the last of the Whep's */
    ConsoleWhepFunc func;
    gpointer data;
    gint done;   /* atomic: the answer (or the failure) went out */
    char *answer;
    char *error;
    guint timeout;
    gulong gather_handler;
} Whep;

static Whep *whep_ref(Whep *w)
{
    g_atomic_int_inc(&w->refs);
    return w;
}

static void whep_unref(gpointer data)
{
    Whep *w = data;
    if (!g_atomic_int_dec_and_test(&w->refs))
        return;
    viewer_unref(w->v);
    g_free(w);
}

static void whep_unref_closure(gpointer data, GClosure *closure)
{
    whep_unref(data);
}

static gboolean whep_deliver(gpointer data)
{
    Whep *w = data;
    Viewer *v = w->v;
    if (w->timeout)
        g_source_remove(w->timeout);
    w->timeout = 0;
    if (w->answer && !add_viewer(v->media, v)) {
        g_clear_pointer(&w->answer, g_free);
        w->error = g_strdup("too many viewers");
    }
    if (w->answer) {
        g_info("console: WebRTC viewer %s of %s joined", v->id, v->stream->name);
    } else {
        g_warning("console: WebRTC viewer %s: %s", v->id, w->error);
        gst_element_set_state(v->pipeline, GST_STATE_NULL);
    }
    w->func(w->answer, w->answer ? v->id : NULL, w->error, w->data);
    g_clear_pointer(&w->answer, g_free);
    g_clear_pointer(&w->error, g_free);
    if (w->gather_handler)
        g_signal_handler_disconnect(v->webrtc, w->gather_handler); /* drops its reference */
    w->gather_handler = 0;
    whep_unref(w); /* the negotiation's own */
    return G_SOURCE_REMOVE;
}

/* Any thread: hands the outcome (@answer or @error, both may be NULL) over, the first time. */
static void whep_finish(Whep *w, char *answer, const char *error)
{
    if (!g_atomic_int_compare_and_exchange(&w->done, 0, 1)) {
        g_free(answer);
        return;
    }
    w->answer = answer;
    w->error = answer ? NULL : g_strdup(error ? error : "WebRTC negotiation failed");
    g_main_context_invoke(w->v->context, whep_deliver, w);
}

static gboolean whep_timeout(gpointer data)
{
    Whep *w = data;
    w->timeout = 0;
    whep_finish(w, NULL, "WebRTC negotiation timed out");
    return G_SOURCE_REMOVE;
}

static void whep_answer_now(Whep *w)
{
    GstWebRTCSessionDescription *local = NULL;
    g_object_get(w->v->webrtc, "local-description", &local, NULL);
    if (!local)
        return;
    whep_finish(w, gst_sdp_message_as_text(local->sdp), NULL);
    gst_webrtc_session_description_free(local);
}

/* webrtcbin (1.22) does not always report the gathering complete: the answer goes out with the
 * candidates gathered by then (on loopback, at once). */
static gboolean gather_deadline(gpointer data)
{
    Whep *w = data;
    if (!g_atomic_int_get(&w->done))
        whep_answer_now(w);
    return G_SOURCE_REMOVE;
}

static void whep_answer_if_gathered(Whep *w)
{
    GstWebRTCICEGatheringState state;
    g_object_get(w->v->webrtc, "ice-gathering-state", &state, NULL);
    if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
        whep_answer_now(w);
}

static void on_gathering(GstElement *webrtc, GParamSpec *pspec, gpointer data)
{
    Whep *w = data;
    if (!g_atomic_int_get(&w->done))
        whep_answer_if_gathered(w);
}

static void on_local_set(GstPromise *p, gpointer data)
{
    Whep *w = data;
    gst_promise_unref(p);
    whep_answer_if_gathered(w); /* non-trickle: the answer carries the candidates */
    GSource *src = g_timeout_source_new(500);
    g_source_set_callback(src, gather_deadline, whep_ref(w), whep_unref);
    g_source_attach(src, w->v->context);
    g_source_unref(src);
}

static void on_answer(GstPromise *p, gpointer data)
{
    Whep *w = data;
    const GstStructure *reply = gst_promise_get_reply(p);
    GstWebRTCSessionDescription *answer = NULL;
    if (reply)
        gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
    gst_promise_unref(p);
    if (!answer) {
        whep_finish(w, NULL, "webrtcbin could not answer the offer");
        return;
    }
    g_signal_emit_by_name(w->v->webrtc, "set-local-description", answer,
                          gst_promise_new_with_change_func(on_local_set, whep_ref(w),
                                                           whep_unref));
    gst_webrtc_session_description_free(answer);
}

static void on_remote_set(GstPromise *p, gpointer data)
{
    Whep *w = data;
    gst_promise_unref(p);
    g_signal_emit_by_name(w->v->webrtc, "create-answer", NULL,
                          gst_promise_new_with_change_func(on_answer, whep_ref(w), whep_unref));
}

gboolean console_media_whep(ConsoleMedia *m, const char *stream, const char *offer_text,
                            ConsoleWhepFunc func, gpointer data, GError **error)
{
    Stream *st = find_stream(m, stream, error);
    if (!st)
        return FALSE;
    GstSDPMessage *sdp = NULL;
    if (gst_sdp_message_new_from_text(offer_text, &sdp) != GST_SDP_OK) {
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_CONFIG, "the offer is not SDP");
        return FALSE;
    }
    int pt = offer_h264_pt(sdp);
    if (pt < 0) {
        gst_sdp_message_free(sdp);
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_CONFIG,
                    "the offer has no H.264 (packetization-mode=1) video");
        return FALSE;
    }
    g_autofree char *tail = g_strdup_printf(
        "rtph264pay config-interval=-1 pt=%d aggregate-mode=zero-latency ! "
        "application/x-rtp,media=video,encoding-name=H264,payload=%d,clock-rate=90000 ! "
        "webrtcbin name=webrtc bundle-policy=max-bundle latency=0",
        pt, pt);
    Viewer *v = viewer_new(m, st, VIEW_WEBRTC, tail, error);
    if (!v) {
        gst_sdp_message_free(sdp);
        return FALSE;
    }
    v->webrtc = gst_bin_get_by_name(GST_BIN(v->pipeline), "webrtc");
    if (gst_element_set_state(v->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_CONFIG, "webrtcbin would not start");
        gst_sdp_message_free(sdp);
        viewer_unref(v);
        return FALSE;
    }
    Whep *w = g_new0(Whep, 1);
    w->refs = 1;
    w->v = v; /* the viewer's first reference */
    w->func = func;
    w->data = data;
    w->gather_handler = g_signal_connect_data(v->webrtc, "notify::ice-gathering-state",
                                              G_CALLBACK(on_gathering), whep_ref(w),
                                              whep_unref_closure, 0);
    g_signal_connect(v->webrtc, "notify::connection-state", G_CALLBACK(on_connection_state), v);
    GstWebRTCRTPTransceiver *trans = NULL;
    g_signal_emit_by_name(v->webrtc, "get-transceiver", 0, &trans);
    if (trans) {
        g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
        gst_object_unref(trans);
    }
    w->timeout = g_timeout_add_seconds(10, whep_timeout, w);
    GstWebRTCSessionDescription *offer =
        gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
    g_signal_emit_by_name(v->webrtc, "set-remote-description", offer,
                          gst_promise_new_with_change_func(on_remote_set, whep_ref(w),
                                                           whep_unref));
    gst_webrtc_session_description_free(offer);
    return TRUE;
}

static Viewer *find_webrtc(Stream *st, const char *resource)
{
    for (guint i = 0; i < st->viewers->len; i++) {
        Viewer *v = g_ptr_array_index(st->viewers, i);
        if (v->kind == VIEW_WEBRTC && strcmp(v->id, resource) == 0)
            return viewer_ref(v);
    }
    return NULL;
}

gboolean console_media_whep_delete(ConsoleMedia *m, const char *resource)
{
    g_mutex_lock(&m->lock);
    Viewer *found = find_webrtc(m->wall_stream, resource);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, m->cameras);
    while (!found && g_hash_table_iter_next(&it, NULL, &value))
        found = find_webrtc(value, resource);
    g_mutex_unlock(&m->lock);
    if (!found)
        return FALSE;
    remove_viewer(m, found);
    viewer_unref(found);
    return TRUE;
}
