/* tracker.h: one camera's reads associated across frames into passes of one container each; a
 * finished pass is fused (ocr_fusion: the per-character evidence of all its reads) into one
 * confirmed container. A read has one shape, OcrRead, from the recognizer to the confirmation. */
#pragma once

#include <glib.h>

#include "ocr.h"

G_BEGIN_DECLS

/* A container confirmed by a finished pass: the fused read, how many frames it was read on and
 * the first/last times (microseconds, the caller's clock). */
typedef struct {
    OcrRead read;
    guint frames;
    gint64 first_us, last_us;
} OcrConfirmed;

typedef struct OcrTracker OcrTracker;

/* A pass ends when its container has not been read for @gap_us; it is confirmed when it was read
 * on at least @min_frames frames and its reads fuse into a confirmed code under @fusion (NULL:
 * the defaults). */
OcrTracker *ocr_tracker_new(gint64 gap_us, guint min_frames, const OcrFusionOptions *fusion);
void ocr_tracker_free(OcrTracker *tracker); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OcrTracker, ocr_tracker_free)

/* Feeds the reads of one frame taken at @now_us (boxes in frame pixels). Passes that ended are
 * fused and appended to @confirmed (element-type OcrConfirmed, may be NULL to drop them). A
 * read joins the pass whose box overlaps it most (IoU >= 0.2) or whose code is the same
 * (anywhere in the frame: a container moving fast between samples); one pass takes at most one
 * read per frame. */
void ocr_tracker_feed(OcrTracker *tracker, const OcrRead *reads, gsize n, gint64 now_us,
                      GArray *confirmed);

/* The frame at @now_us is known to show what the last fed frame showed (nothing moved): the
 * passes read on that frame count as seen at @now_us, without adding reads (a repeated read
 * would count the same evidence twice in the fusion). Times before the last feed are ignored. */
void ocr_tracker_touch(OcrTracker *tracker, gint64 now_us);

/* TRUE when the last feed left nothing new to learn: it opened no pass, and every open pass
 * was read on it with the same code at least @streak times in a row, except passes it did not
 * read whose last box touched the border (within 5%) of the @width x @height picture: those
 * have left it (0 x 0: no picture, no exception). Also TRUE after a feed of an empty frame with
 * no open pass (nothing in view); FALSE before the first feed. */
gboolean ocr_tracker_settled(const OcrTracker *tracker, guint streak, double width,
                             double height);

/* Ends every open pass (end of stream). */
void ocr_tracker_flush(OcrTracker *tracker, GArray *confirmed);

/* Open passes, for tests. */
guint ocr_tracker_open_passes(const OcrTracker *tracker);

G_END_DECLS
