/* psgst.h: portsight's GStreamer elements and the buffer metadata they share.
 *
 *  - containerocr: samples frames (every @interval ms of stream time) and runs ocr/ on them in
 *    worker threads; the streaming thread never waits: when every worker is busy the frame is
 *    skipped and counted. Reads are attached to the following buffers as PsReadsMeta and posted
 *    as "containerocr-reads" element messages; reads of one container across frames are tracked
 *    (overlay/ tracker + ocr/ fusion) and each pass is posted once as "containerocr-confirmed".
 *  - portoverlay: draws the scene on BGRx frames: the detections in PsReadsMeta, and whatever
 *    the application put in the PsScene it was given (declarations, vessels, selection).
 *
 * The elements are thin: recognition is ocr/, tracking and drawing are overlay/.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define PS_READS_META_MAX 8

typedef struct {
    char code[12];
    char size_type[5];
    float confidence;
    int bbox[4]; /* x, y, w, h in the sampled frame's pixels */
    gboolean vertical;
} PsGstRead;

/* The latest reads of a camera, on each buffer after they were made. */
typedef struct {
    GstMeta meta;
    char camera[64];
    GstClockTime source_pts; /* PTS of the frame the reads were made on */
    int source_width, source_height; /* its size: boxes are in its pixels (a scaler downstream
                                        keeps the meta; portoverlay scales the boxes) */
    guint n_reads;
    PsGstRead reads[PS_READS_META_MAX];
} PsReadsMeta;

GType ps_reads_meta_api_get_type(void);
const GstMetaInfo *ps_reads_meta_get_info(void);
#define PS_READS_META_API_TYPE (ps_reads_meta_api_get_type())
#define ps_buffer_get_reads_meta(b) \
    ((PsReadsMeta *)gst_buffer_get_meta((b), PS_READS_META_API_TYPE))
PsReadsMeta *ps_buffer_add_reads_meta(GstBuffer *buffer);

/* Registers the elements with the running process (for `portsight`, which does not need
 * GST_PLUGIN_PATH). Idempotent. Returns FALSE when registration failed. */
gboolean psgst_register_static(void);

/* Registers the elements in @plugin (the loadable module's entry point). */
gboolean psgst_plugin_init(GstPlugin *plugin);

G_END_DECLS
