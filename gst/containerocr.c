/* containerocr.c: the OCR element. The streaming thread only copies a sampled frame's luma (or
 * its pixels, for RGB formats) inside the region of interest into a free worker slot, or counts
 * a skip; recognition, tracking and fusion run in the workers.
 *
 * Which frames are read: one every @interval ms of stream time, stretched (doubling, up to
 * @interval-max) while the tracker has nothing new to learn (every container in view read the
 * same way several times, or nothing in view), and none while the picture has not changed since
 * the last frame read (a block-mean thumbnail of the luma, compared block by block against
 * @motion-threshold): then the last reads stand for the new frame too. */
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>
#ifdef __linux__
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "ocr.h"
#include "overlay.h"
#include "psgst.h"
#include "tracker.h"

GST_DEBUG_CATEGORY_STATIC(containerocr_debug);
#define GST_CAT_DEFAULT containerocr_debug

#define PS_TYPE_CONTAINER_OCR (ps_container_ocr_get_type())
G_DECLARE_FINAL_TYPE(PsContainerOcr, ps_container_ocr, PS, CONTAINER_OCR, GstVideoFilter)

typedef struct {
    guint8 *pixels;
    int width, height, stride;
    int x0, y0; /* where the region of interest starts in the frame */
    int frame_width, frame_height;
    OcrPixelFormat format;
    GstClockTime pts;
} Job;

/* The motion thumbnail: block means of the luma over the region of interest. */
#define THUMB_W 32
#define THUMB_H 18
/* A picture that has not changed is still read now and then (a slow drift under the threshold
 * adds up over time): at least every this much stream time. */
#define STILL_REFRESH (10 * GST_SECOND)
/* The streak of identical reads after which a container in view needs no fast sampling (at
 * least min-frames: what a pass needs to be confirmed). */
#define SETTLED_STREAK 2

struct _PsContainerOcr {
    GstVideoFilter parent;
    /* properties */
    char *camera;
    guint interval_ms;
    guint threads;
    guint min_frames;
    guint gap_ms;
    guint interval_max_ms;
    double motion_threshold;
    double roi[4]; /* x, y, w, h as fractions of the frame */
    /* sampling (streaming thread) */
    float thumb[THUMB_W * THUMB_H], ref_thumb[THUMB_W * THUMB_H];
    gboolean have_ref;
    GstClockTime ref_pts; /* of the last frame given to a worker */
    /* workers */
    GPtrArray *workers; /* GThread, this element's own: see WORKER_NICE */
    GAsyncQueue *jobs;
    GAsyncQueue *idle; /* PsOcr instances not in use */
    GMutex lock;
    GCond done;
    guint busy;
    GstClockTime last_sample;
    guint cur_interval_ms; /* the interval now (under @lock: the workers stretch it) */
    guint64 frames, sampled, skipped, unchanged, read_frames;
    PsGstRead latest[PS_READS_META_MAX];
    guint n_latest;
    GstClockTime latest_pts;
    OcrTracker *tracker;
    OcrFusionOptions fusion;
};

G_DEFINE_TYPE(PsContainerOcr, ps_container_ocr, GST_TYPE_VIDEO_FILTER)

enum {
    PROP_0,
    PROP_CAMERA,
    PROP_INTERVAL,
    PROP_THREADS,
    PROP_MIN_FRAMES,
    PROP_GAP,
    PROP_INTERVAL_MAX,
    PROP_MOTION_THRESHOLD,
    PROP_ROI,
    PROP_FRAMES,
    PROP_SAMPLED,
    PROP_SKIPPED,
    PROP_UNCHANGED,
    PROP_INTERVAL_NOW,
};

/* Planar and semi-planar YUV first: their luma plane is what the recognizer reads, with no
 * conversion (the decoders' own formats: avdec_h264 gives I420, hardware decoders NV12). */
#define CAPS \
    GST_VIDEO_CAPS_MAKE("{ I420, YV12, NV12, NV21, Y42B, Y444, GRAY8, BGRx, BGRA, RGBx, RGBA, RGB }")

static void post_confirmed(PsContainerOcr *self, const OcrConfirmed *c)
{
    GstStructure *s = gst_structure_new(
        "containerocr-confirmed", "camera", G_TYPE_STRING, self->camera ? self->camera : "",
        "container", G_TYPE_STRING, c->read.code, "size-type", G_TYPE_STRING, c->read.size_type,
        "confidence", G_TYPE_DOUBLE, c->read.confidence, "x", G_TYPE_INT, (int)c->read.bbox[0],
        "y", G_TYPE_INT, (int)c->read.bbox[1], "width", G_TYPE_INT, (int)c->read.bbox[2],
        "height", G_TYPE_INT, (int)c->read.bbox[3], "frames", G_TYPE_UINT, c->frames,
        "first-pts", G_TYPE_UINT64, (guint64)c->first_us * 1000, "last-pts", G_TYPE_UINT64,
        (guint64)c->last_us * 1000, NULL);
    GST_INFO_OBJECT(self, "confirmed %s (%u frames, %.2f)", c->read.code, c->frames,
                    c->read.confidence);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static void post_confirmed_array(PsContainerOcr *self, GArray *confirmed)
{
    for (guint i = 0; i < confirmed->len; i++)
        post_confirmed(self, &g_array_index(confirmed, OcrConfirmed, i));
}

/* ---- workers ---- */

/* The workers run below the streaming threads (5 nice steps more than the thread that starts
 * them, up to 19, on Linux, where a thread has its own nice value; a step down, never up, so
 * no privilege is needed): recognition is best effort and can wait for a free core, a frame on
 * its way to the wall should not. On a machine with idle cores this changes nothing.
 *
 * The workers are this element's own threads, started in start() and joined in stop(), never
 * a GThreadPool's: GLib 2.74 hands a freed pool's threads, exclusive or not, to the shared
 * pools (GStreamer's streaming tasks among them), and a niced thread there would run streaming
 * at nice 5 and, where the process may not lower a nice value again (an unprivileged service
 * user, a user namespace), make GLib fail on "Failed to set scheduler settings" when it starts
 * the next shared thread from it. */
#define WORKER_NICE 5

static void lower_priority(void)
{
#ifdef __linux__
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, tid); /* inherited from the thread that started it */
    if ((nice == -1 && errno != 0) ||
        setpriority(PRIO_PROCESS, tid, MIN(nice + WORKER_NICE, 19)) != 0)
        GST_DEBUG("cannot lower the OCR worker's priority: %s", g_strerror(errno));
#endif
}

static void work(Job *job, PsContainerOcr *self)
{
    PsOcr *ocr = g_async_queue_pop(self->idle);
    OcrReads reads;
    GError *error = NULL;
    gint64 t0 = g_get_monotonic_time();
    gboolean ok = ocr_read(ocr, job->pixels, job->width, job->height, job->stride, job->format,
                           &reads, &error);
    double ms = (g_get_monotonic_time() - t0) / 1e3;
    g_async_queue_push(self->idle, ocr);
    if (!ok) {
        GST_WARNING_OBJECT(self, "ocr: %s", error->message);
        g_error_free(error);
        reads.n_reads = 0;
    }
    GST_DEBUG_OBJECT(self, "frame %dx%d at %" GST_TIME_FORMAT " read in %.0f ms: %d code(s)%s%s",
                     job->width, job->height, GST_TIME_ARGS(job->pts), ms, reads.n_reads,
                     reads.n_reads ? ", the first " : "", reads.n_reads ? reads.reads[0].code : "");
    OcrRead tr[OCR_MAX_READS]; /* boxes in frame pixels */
    GstStructure *msg = gst_structure_new("containerocr-reads", "camera", G_TYPE_STRING,
                                          self->camera ? self->camera : "", "pts", G_TYPE_UINT64,
                                          (guint64)job->pts, NULL);
    GValue codes = G_VALUE_INIT;
    gst_value_array_init(&codes, reads.n_reads);
    for (int i = 0; i < reads.n_reads; i++) {
        const OcrRead *r = &reads.reads[i];
        tr[i] = *r;
        tr[i].bbox[0] += job->x0;
        tr[i].bbox[1] += job->y0;
        GValue v = G_VALUE_INIT;
        g_value_init(&v, G_TYPE_STRING);
        g_value_set_string(&v, r->code);
        gst_value_array_append_and_take_value(&codes, &v);
    }
    gst_structure_take_value(msg, "codes", &codes);

    GArray *confirmed = g_array_new(FALSE, FALSE, sizeof(OcrConfirmed));
    g_mutex_lock(&self->lock);
    self->n_latest = MIN((guint)reads.n_reads, PS_READS_META_MAX);
    for (guint i = 0; i < self->n_latest; i++) {
        PsGstRead *l = &self->latest[i];
        memset(l, 0, sizeof *l);
        g_strlcpy(l->code, tr[i].code, sizeof l->code);
        g_strlcpy(l->size_type, tr[i].size_type, sizeof l->size_type);
        l->confidence = tr[i].confidence;
        for (int k = 0; k < 4; k++)
            l->bbox[k] = tr[i].bbox[k];
        l->vertical = tr[i].orientation == OCR_VERTICAL;
    }
    self->latest_pts = job->pts;
    self->read_frames++;
    ocr_tracker_feed(self->tracker, tr, reads.n_reads, (gint64)(job->pts / 1000), confirmed);
    /* Nothing new to learn: sample less often (never more than a pass's gap allows); anything
     * new: back to the configured interval. */
    if (ocr_tracker_settled(self->tracker, MAX(SETTLED_STREAK, self->min_frames),
                                job->frame_width, job->frame_height))
        self->cur_interval_ms = MIN(MAX(self->cur_interval_ms * 2, self->interval_ms),
                                    MAX(self->interval_max_ms, self->interval_ms));
    else
        self->cur_interval_ms = self->interval_ms;
    self->busy--;
    g_cond_broadcast(&self->done);
    g_mutex_unlock(&self->lock);

    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), msg));
    post_confirmed_array(self, confirmed);
    g_array_unref(confirmed);
    g_free(job->pixels);
    g_free(job);
}

/* Pushed once per worker by stop(), after the jobs in hand: the worker returns. */
static Job quit_job;

static gpointer worker_main(gpointer data)
{
    PsContainerOcr *self = data;
    lower_priority();
    for (;;) {
        Job *job = g_async_queue_pop(self->jobs);
        if (job == &quit_job)
            return NULL;
        work(job, self);
    }
}

static void stop_workers(PsContainerOcr *self)
{
    if (!self->workers)
        return;
    for (guint i = 0; i < self->workers->len; i++)
        g_async_queue_push(self->jobs, &quit_job);
    for (guint i = 0; i < self->workers->len; i++)
        g_thread_join(g_ptr_array_index(self->workers, i)); /* finishes the jobs in hand */
    g_clear_pointer(&self->workers, g_ptr_array_unref);
}

static void wait_idle(PsContainerOcr *self)
{
    g_mutex_lock(&self->lock);
    while (self->busy > 0)
        g_cond_wait(&self->done, &self->lock);
    g_mutex_unlock(&self->lock);
}

static gboolean start(GstBaseTransform *bt)
{
    PsContainerOcr *self = PS_CONTAINER_OCR(bt);
    guint n = MAX(1, self->threads);
    self->idle = g_async_queue_new_full((GDestroyNotify)ocr_free);
    for (guint i = 0; i < n; i++) {
        GError *error = NULL;
        PsOcr *ocr = ocr_new(NULL, &error);
        if (!ocr) {
            GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("cannot create the recognizer"),
                              ("%s", error ? error->message : "?"));
            g_clear_error(&error);
            g_clear_pointer(&self->idle, g_async_queue_unref);
            return FALSE;
        }
        g_async_queue_push(self->idle, ocr);
    }
    self->jobs = g_async_queue_new();
    self->workers = g_ptr_array_new();
    for (guint i = 0; i < n; i++) {
        GError *error = NULL;
        char name[16];
        g_snprintf(name, sizeof name, "ocr-%u", i);
        GThread *t = g_thread_try_new(name, worker_main, self, &error);
        if (!t) {
            GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("cannot start the OCR workers"),
                              ("worker %u of %u: %s", i + 1, n, error->message));
            g_error_free(error);
            stop_workers(self);
            g_clear_pointer(&self->jobs, g_async_queue_unref);
            g_clear_pointer(&self->idle, g_async_queue_unref);
            return FALSE;
        }
        g_ptr_array_add(self->workers, t);
    }
    ocr_fusion_options_init(&self->fusion);
    self->tracker = ocr_tracker_new((gint64)self->gap_ms * 1000, self->min_frames, &self->fusion);
    self->busy = 0;
    self->last_sample = GST_CLOCK_TIME_NONE;
    self->ref_pts = GST_CLOCK_TIME_NONE;
    self->have_ref = FALSE;
    /* A longer interval than the gap would split every pass; a longer one than the overlay's
     * detection lifetime (1.5 s) would let boxes blink. */
    self->interval_max_ms = MIN(self->interval_max_ms, MAX(self->interval_ms, self->gap_ms * 2 / 3));
    self->cur_interval_ms = self->interval_ms;
    self->frames = self->sampled = self->skipped = self->unchanged = self->read_frames = 0;
    self->n_latest = 0;
    self->latest_pts = GST_CLOCK_TIME_NONE;
    return TRUE;
}

static gboolean stop(GstBaseTransform *bt)
{
    PsContainerOcr *self = PS_CONTAINER_OCR(bt);
    stop_workers(self);
    g_clear_pointer(&self->jobs, g_async_queue_unref);
    g_clear_pointer(&self->idle, g_async_queue_unref);
    g_clear_pointer(&self->tracker, ocr_tracker_free);
    GST_INFO_OBJECT(self, "frames %" G_GUINT64_FORMAT ", sampled %" G_GUINT64_FORMAT
                    ", unchanged %" G_GUINT64_FORMAT ", skipped (workers busy) %" G_GUINT64_FORMAT,
                    self->frames, self->sampled, self->unchanged, self->skipped);
    return TRUE;
}

static gboolean sink_event(GstBaseTransform *bt, GstEvent *event)
{
    PsContainerOcr *self = PS_CONTAINER_OCR(bt);
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->tracker) {
        /* The last passes end with the stream: finish the reads in hand, then confirm. */
        wait_idle(self);
        GArray *confirmed = g_array_new(FALSE, FALSE, sizeof(OcrConfirmed));
        g_mutex_lock(&self->lock);
        ocr_tracker_flush(self->tracker, confirmed);
        g_mutex_unlock(&self->lock);
        post_confirmed_array(self, confirmed);
        g_array_unref(confirmed);
    }
    return GST_BASE_TRANSFORM_CLASS(ps_container_ocr_parent_class)->sink_event(bt, event);
}

/* Bytes per pixel and the recognizer's format for what is copied: the luma plane of a YUV
 * frame (GRAY8), or the packed RGB pixels. */
static OcrPixelFormat pixel_format(const GstVideoFrame *frame, int *bpp)
{
    const GstVideoFormatInfo *fi = frame->info.finfo;
    if (GST_VIDEO_FORMAT_INFO_IS_YUV(fi) || GST_VIDEO_FORMAT_INFO_IS_GRAY(fi)) {
        *bpp = 1;
        return OCR_PIXEL_GRAY8;
    }
    switch (GST_VIDEO_FRAME_FORMAT(frame)) {
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_RGBA:
        *bpp = 4;
        return OCR_PIXEL_RGBX;
    case GST_VIDEO_FORMAT_RGB:
        *bpp = 3;
        return OCR_PIXEL_RGB;
    default:
        *bpp = 4;
        return OCR_PIXEL_BGRX;
    }
}

/* The region of interest in pixels (x, y, w, h; at least 16x16, inside the frame). */
static void roi_pixels(const PsContainerOcr *self, int width, int height, int r[4])
{
    r[0] = CLAMP((int)(self->roi[0] * width), 0, MAX(0, width - 16));
    r[1] = CLAMP((int)(self->roi[1] * height), 0, MAX(0, height - 16));
    r[2] = CLAMP((int)(self->roi[2] * width + 0.5), MIN(16, width - r[0]), width - r[0]);
    r[3] = CLAMP((int)(self->roi[3] * height + 0.5), MIN(16, height - r[1]), height - r[1]);
}

/* Block means of the luma (approximated from G for RGB formats) over @r into self->thumb,
 * from a grid of every 4th pixel of every 4th row. */
static void make_thumb(PsContainerOcr *self, const guint8 *plane, int stride, int bpp,
                       OcrPixelFormat fmt, const int r[4])
{
    int off = bpp == 1 ? 0 : 1; /* G in BGRx, RGBx and RGB */
    (void)fmt;
    for (int by = 0; by < THUMB_H; by++) {
        int y0 = r[1] + r[3] * by / THUMB_H, y1 = r[1] + r[3] * (by + 1) / THUMB_H;
        for (int bx = 0; bx < THUMB_W; bx++) {
            int x0 = r[0] + r[2] * bx / THUMB_W, x1 = r[0] + r[2] * (bx + 1) / THUMB_W;
            guint32 sum = 0, n = 0;
            for (int y = y0; y < y1; y += 4) {
                const guint8 *row = plane + (gsize)y * stride + off;
                for (int x = x0; x < x1; x += 4) {
                    sum += row[(gsize)x * bpp];
                    n++;
                }
            }
            self->thumb[by * THUMB_W + bx] = n ? (float)sum / n : 0.0f;
        }
    }
}

/* TRUE when no block of the thumbnail moved by @motion_threshold or more since the last frame
 * that was read. */
static gboolean unchanged_since_read(const PsContainerOcr *self)
{
    if (!self->have_ref)
        return FALSE;
    for (int i = 0; i < THUMB_W * THUMB_H; i++)
        if (fabsf(self->thumb[i] - self->ref_thumb[i]) >= (float)self->motion_threshold)
            return FALSE;
    return TRUE;
}

static GstFlowReturn transform_frame_ip(GstVideoFilter *vf, GstVideoFrame *frame)
{
    PsContainerOcr *self = PS_CONTAINER_OCR(vf);
    GstBuffer *buf = frame->buffer;
    GstClockTime pts = GST_BUFFER_PTS(buf);
    self->frames++;
    g_mutex_lock(&self->lock);
    guint interval = self->cur_interval_ms;
    g_mutex_unlock(&self->lock);
    gboolean due = !GST_CLOCK_TIME_IS_VALID(self->last_sample) || !GST_CLOCK_TIME_IS_VALID(pts) ||
                   pts < self->last_sample ||
                   pts - self->last_sample >= (GstClockTime)interval * GST_MSECOND;
    int bpp = 1, r[4];
    OcrPixelFormat fmt = pixel_format(frame, &bpp);
    const guint8 *plane = GST_VIDEO_FRAME_PLANE_DATA(frame, 0);
    int stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0);
    roi_pixels(self, GST_VIDEO_FRAME_WIDTH(frame), GST_VIDEO_FRAME_HEIGHT(frame), r);
    gboolean still = FALSE;
    if (due && self->motion_threshold > 0) {
        make_thumb(self, plane, stride, bpp, fmt, r);
        still = unchanged_since_read(self) && GST_CLOCK_TIME_IS_VALID(pts) &&
                GST_CLOCK_TIME_IS_VALID(self->ref_pts) && pts >= self->ref_pts &&
                pts - self->ref_pts < STILL_REFRESH;
    }
    g_mutex_lock(&self->lock);
    if (due && still) {
        /* The last reads hold for this frame: keep their passes open, and let the overlay
         * refresh their boxes. */
        self->unchanged++;
        self->last_sample = pts;
        ocr_tracker_touch(self->tracker, (gint64)(pts / 1000));
        if (GST_CLOCK_TIME_IS_VALID(self->latest_pts))
            self->latest_pts = pts;
    } else if (due) {
        if (self->busy >= MAX(1, self->threads)) {
            self->skipped++; /* never wait for a worker */
        } else {
            self->busy++;
            self->sampled++;
            self->last_sample = pts;
            if (self->motion_threshold > 0) {
                memcpy(self->ref_thumb, self->thumb, sizeof self->thumb);
                self->have_ref = TRUE;
                self->ref_pts = pts;
            }
            Job *job = g_new0(Job, 1);
            job->x0 = r[0];
            job->y0 = r[1];
            job->frame_width = GST_VIDEO_FRAME_WIDTH(frame);
            job->frame_height = GST_VIDEO_FRAME_HEIGHT(frame);
            job->width = r[2];
            job->height = r[3];
            job->stride = r[2] * bpp;
            job->format = fmt;
            job->pts = GST_CLOCK_TIME_IS_VALID(pts) ? pts : 0;
            job->pixels = g_malloc((gsize)job->stride * job->height);
            for (int y = 0; y < r[3]; y++)
                memcpy(job->pixels + (gsize)y * job->stride,
                       plane + (gsize)(r[1] + y) * stride + (gsize)r[0] * bpp,
                       (gsize)job->stride);
            g_async_queue_push(self->jobs, job);
        }
    }
    guint n = self->n_latest;
    PsGstRead latest[PS_READS_META_MAX];
    memcpy(latest, self->latest, sizeof latest);
    GstClockTime latest_pts = self->latest_pts;
    g_mutex_unlock(&self->lock);
    if (GST_CLOCK_TIME_IS_VALID(latest_pts) && gst_buffer_is_writable(buf)) {
        PsReadsMeta *m = ps_buffer_add_reads_meta(buf);
        g_strlcpy(m->camera, self->camera ? self->camera : "", sizeof m->camera);
        m->source_pts = latest_pts;
        m->source_width = GST_VIDEO_FRAME_WIDTH(frame);
        m->source_height = GST_VIDEO_FRAME_HEIGHT(frame);
        m->n_reads = n;
        memcpy(m->reads, latest, sizeof m->reads);
    }
    return GST_FLOW_OK;
}

/* Parses "x,y,w,h" (fractions of the frame, 0..1) into @out; FALSE when it is not one. */
static gboolean parse_roi(const char *text, double out[4])
{
    if (!text || !*text) {
        out[0] = out[1] = 0;
        out[2] = out[3] = 1;
        return TRUE;
    }
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    if (g_strv_length(parts) != 4)
        return FALSE;
    double v[4];
    for (int i = 0; i < 4; i++) {
        char *end = NULL;
        v[i] = g_ascii_strtod(g_strstrip(parts[i]), &end);
        if (end == parts[i] || *end || !(v[i] >= 0 && v[i] <= 1))
            return FALSE;
    }
    if (v[2] <= 0 || v[3] <= 0 || v[0] + v[2] > 1.0 + 1e-9 || v[1] + v[3] > 1.0 + 1e-9)
        return FALSE;
    memcpy(out, v, sizeof v);
    return TRUE;
}

static void set_property(GObject *obj, guint id, const GValue *v, GParamSpec *ps)
{
    PsContainerOcr *self = PS_CONTAINER_OCR(obj);
    GST_OBJECT_LOCK(self);
    switch (id) {
    case PROP_CAMERA:
        g_free(self->camera);
        self->camera = g_value_dup_string(v);
        break;
    case PROP_INTERVAL:
        self->interval_ms = g_value_get_uint(v);
        break;
    case PROP_THREADS:
        self->threads = g_value_get_uint(v);
        break;
    case PROP_MIN_FRAMES:
        self->min_frames = g_value_get_uint(v);
        break;
    case PROP_GAP:
        self->gap_ms = g_value_get_uint(v);
        break;
    case PROP_INTERVAL_MAX:
        self->interval_max_ms = g_value_get_uint(v);
        break;
    case PROP_MOTION_THRESHOLD:
        self->motion_threshold = g_value_get_double(v);
        break;
    case PROP_ROI:
        if (!parse_roi(g_value_get_string(v), self->roi))
            g_warning("containerocr: roi '%s' is not x,y,w,h (fractions of the frame, inside "
                      "it); keeping the previous one", g_value_get_string(v));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, ps);
    }
    GST_OBJECT_UNLOCK(self);
}

static void get_property(GObject *obj, guint id, GValue *v, GParamSpec *ps)
{
    PsContainerOcr *self = PS_CONTAINER_OCR(obj);
    g_mutex_lock(&self->lock);
    switch (id) {
    case PROP_CAMERA:
        g_value_set_string(v, self->camera);
        break;
    case PROP_INTERVAL:
        g_value_set_uint(v, self->interval_ms);
        break;
    case PROP_THREADS:
        g_value_set_uint(v, self->threads);
        break;
    case PROP_MIN_FRAMES:
        g_value_set_uint(v, self->min_frames);
        break;
    case PROP_GAP:
        g_value_set_uint(v, self->gap_ms);
        break;
    case PROP_INTERVAL_MAX:
        g_value_set_uint(v, self->interval_max_ms);
        break;
    case PROP_MOTION_THRESHOLD:
        g_value_set_double(v, self->motion_threshold);
        break;
    case PROP_ROI: {
        char b[4][G_ASCII_DTOSTR_BUF_SIZE];
        for (int i = 0; i < 4; i++)
            g_ascii_formatd(b[i], sizeof b[i], "%.4g", self->roi[i]);
        g_value_take_string(v, g_strdup_printf("%s,%s,%s,%s", b[0], b[1], b[2], b[3]));
        break;
    }
    case PROP_UNCHANGED:
        g_value_set_uint64(v, self->unchanged);
        break;
    case PROP_INTERVAL_NOW:
        g_value_set_uint(v, self->cur_interval_ms);
        break;
    case PROP_FRAMES:
        g_value_set_uint64(v, self->frames);
        break;
    case PROP_SAMPLED:
        g_value_set_uint64(v, self->sampled);
        break;
    case PROP_SKIPPED:
        g_value_set_uint64(v, self->skipped);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, ps);
    }
    g_mutex_unlock(&self->lock);
}

static void finalize(GObject *obj)
{
    PsContainerOcr *self = PS_CONTAINER_OCR(obj);
    g_free(self->camera);
    g_mutex_clear(&self->lock);
    g_cond_clear(&self->done);
    G_OBJECT_CLASS(ps_container_ocr_parent_class)->finalize(obj);
}

static void ps_container_ocr_class_init(PsContainerOcrClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GstElementClass *ec = GST_ELEMENT_CLASS(klass);
    GstBaseTransformClass *bc = GST_BASE_TRANSFORM_CLASS(klass);
    GstVideoFilterClass *vc = GST_VIDEO_FILTER_CLASS(klass);
    oc->set_property = set_property;
    oc->get_property = get_property;
    oc->finalize = finalize;
    GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;
    GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
    g_object_class_install_property(
        oc, PROP_CAMERA, g_param_spec_string("camera", "Camera", "camera name put in the reads",
                                             NULL, rw));
    g_object_class_install_property(
        oc, PROP_INTERVAL,
        g_param_spec_uint("interval", "Interval", "sample a frame every this many ms of stream "
                          "time (0: every frame)", 0, 60000, 500, rw));
    g_object_class_install_property(
        oc, PROP_THREADS, g_param_spec_uint("threads", "Threads", "OCR worker threads", 1, 16,
                                            1, rw));
    g_object_class_install_property(
        oc, PROP_MIN_FRAMES,
        g_param_spec_uint("min-frames", "Min frames", "reads needed to confirm a container", 1,
                          100, 2, rw));
    g_object_class_install_property(
        oc, PROP_GAP, g_param_spec_uint("gap", "Gap", "a pass ends after this many ms unread", 1,
                                        600000, 1500, rw));
    g_object_class_install_property(
        oc, PROP_INTERVAL_MAX,
        g_param_spec_uint("interval-max", "Longest interval",
                          "while every container in view has been read the same way several "
                          "times, or nothing is in view, the interval doubles up to this many "
                          "ms (at most 2/3 of gap; not above interval: fixed interval)",
                          0, 60000, 1000, rw));
    g_object_class_install_property(
        oc, PROP_MOTION_THRESHOLD,
        g_param_spec_double("motion-threshold", "Motion threshold",
                            "a due frame is read only when some block of its luma thumbnail "
                            "(32x18 block means) moved by this much (0-255 levels) since the "
                            "last frame read; 0: read every due frame",
                            0, 255, 2.0, rw));
    g_object_class_install_property(
        oc, PROP_ROI,
        g_param_spec_string("roi", "Region of interest",
                            "x,y,w,h as fractions of the frame: only this part is read "
                            "(reads are in frame pixels)", "0,0,1,1", rw));
    g_object_class_install_property(
        oc, PROP_UNCHANGED,
        g_param_spec_uint64("unchanged", "Unchanged",
                            "due frames not read because the picture had not changed", 0,
                            G_MAXUINT64, 0, ro));
    g_object_class_install_property(
        oc, PROP_INTERVAL_NOW,
        g_param_spec_uint("interval-now", "Interval now", "the sampling interval in use (ms)", 0,
                          60000, 500, ro));
    g_object_class_install_property(
        oc, PROP_FRAMES, g_param_spec_uint64("frames", "Frames", "frames seen", 0, G_MAXUINT64,
                                             0, ro));
    g_object_class_install_property(
        oc, PROP_SAMPLED, g_param_spec_uint64("sampled", "Sampled", "frames given to OCR", 0,
                                              G_MAXUINT64, 0, ro));
    g_object_class_install_property(
        oc, PROP_SKIPPED,
        g_param_spec_uint64("skipped", "Skipped", "frames due for OCR but skipped because every "
                            "worker was busy", 0, G_MAXUINT64, 0, ro));
    gst_element_class_set_static_metadata(
        ec, "Container number OCR", "Filter/Analyzer/Video",
        "Reads ISO 6346 container numbers on sampled frames in worker threads, attaches them as "
        "PsReadsMeta and posts containerocr-reads / containerocr-confirmed messages",
        "portsight");
    GstCaps *caps = gst_caps_from_string(CAPS);
    gst_element_class_add_pad_template(ec, gst_pad_template_new("sink", GST_PAD_SINK,
                                                                GST_PAD_ALWAYS, caps));
    gst_element_class_add_pad_template(ec, gst_pad_template_new("src", GST_PAD_SRC,
                                                                GST_PAD_ALWAYS, caps));
    gst_caps_unref(caps);
    bc->start = start;
    bc->stop = stop;
    bc->sink_event = sink_event;
    vc->transform_frame_ip = transform_frame_ip;
    GST_DEBUG_CATEGORY_INIT(containerocr_debug, "containerocr", 0, "container number OCR");
}

static void ps_container_ocr_init(PsContainerOcr *self)
{
    self->interval_ms = 500;
    self->threads = 1;
    self->min_frames = 2;
    self->gap_ms = 1500;
    self->interval_max_ms = 1000;
    self->motion_threshold = 2.0;
    self->roi[2] = self->roi[3] = 1.0;
    self->cur_interval_ms = self->interval_ms;
    g_mutex_init(&self->lock);
    g_cond_init(&self->done);
}

GType psgst__container_ocr_type(void);
GType psgst__container_ocr_type(void)
{
    return PS_TYPE_CONTAINER_OCR;
}
