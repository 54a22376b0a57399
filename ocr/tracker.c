/* tracker.c: one camera's container reads associated across frames into passes; a finished
 * pass is fused into one confirmed container (see tracker.h). */
#include "tracker.h"

#include <string.h>

#define MAX_PASSES 64      /* open passes per camera; the stalest is closed beyond this */
#define MAX_PASS_READS 64  /* reads kept per pass: the most confident ones */

typedef struct {
    GArray *reads; /* (element-type OcrRead) */
    double bbox[4]; /* the last read's */
    char code[12];  /* the last read's */
    guint frames;
    gint64 first_us, last_us;
    gboolean matched; /* during one feed (and until the next one) */
    guint streak;     /* reads in a row, up to the last feed, with the same code */
} Pass;

struct OcrTracker {
    gint64 gap_us;
    guint min_frames;
    OcrFusionOptions fusion;
    GPtrArray *passes; /* (element-type Pass) */
    gint64 last_feed_us;
    gboolean fed, last_feed_opened; /* the last feed started a pass */
};

static void pass_free(gpointer p)
{
    Pass *pass = p;
    g_array_unref(pass->reads);
    g_free(pass);
}

OcrTracker *ocr_tracker_new(gint64 gap_us, guint min_frames, const OcrFusionOptions *fusion)
{
    OcrTracker *t = g_new0(OcrTracker, 1);
    t->gap_us = gap_us > 0 ? gap_us : G_USEC_PER_SEC;
    t->min_frames = MAX(1, min_frames);
    if (fusion)
        t->fusion = *fusion;
    else
        ocr_fusion_options_init(&t->fusion);
    t->passes = g_ptr_array_new_with_free_func(pass_free);
    return t;
}

void ocr_tracker_free(OcrTracker *t)
{
    if (!t)
        return;
    g_ptr_array_unref(t->passes);
    g_free(t);
}

guint ocr_tracker_open_passes(const OcrTracker *t)
{
    return t->passes->len;
}

static double iou(const double a[4], const double b[4])
{
    double x0 = MAX(a[0], b[0]), y0 = MAX(a[1], b[1]);
    double x1 = MIN(a[0] + a[2], b[0] + b[2]), y1 = MIN(a[1] + a[3], b[1] + b[3]);
    if (x1 <= x0 || y1 <= y0)
        return 0.0;
    double inter = (x1 - x0) * (y1 - y0);
    double uni = a[2] * a[3] + b[2] * b[3] - inter;
    return uni > 0 ? inter / uni : 0.0;
}

static int code_distance(const char *a, const char *b)
{
    gsize la = strlen(a), lb = strlen(b);
    if (la != lb)
        return 99;
    int d = 0;
    for (gsize i = 0; i < la; i++)
        d += a[i] != b[i];
    return d;
}

/* The reads of a pass fused into one confirmed code (@out), or FALSE. */
static gboolean fuse(const OcrTracker *t, const OcrRead *reads, guint n, OcrRead *out)
{
    OcrFusion *f = ocr_fusion_new(&t->fusion);
    for (guint i = 0; i < n; i++)
        ocr_fusion_add(f, &reads[i]);
    OcrReads res;
    ocr_fusion_result(f, TRUE, &res);
    if (res.n_reads == 0 && n > 0) {
        OcrReads all;
        ocr_fusion_result(f, FALSE, &all);
        g_debug("tracker: a pass of %u reads (first %s %.2f) did not fuse into a confirmed code "
                "(best %s %.3f)", n, reads[0].code, reads[0].confidence,
                all.n_reads ? all.reads[0].code : "-", all.n_reads ? all.reads[0].confidence : 0.0);
    }
    ocr_fusion_free(f);
    if (res.n_reads == 0)
        return FALSE;
    *out = res.reads[0];
    return TRUE;
}

static void close_pass(OcrTracker *t, guint index, GArray *confirmed)
{
    Pass *p = g_ptr_array_index(t->passes, index);
    OcrConfirmed c;
    memset(&c, 0, sizeof c);
    gboolean ok = p->frames >= t->min_frames &&
                  fuse(t, (const OcrRead *)p->reads->data, p->reads->len, &c.read);
    if (ok && confirmed) {
        c.frames = p->frames;
        c.first_us = p->first_us;
        c.last_us = p->last_us;
        g_array_append_val(confirmed, c);
    }
    g_ptr_array_remove_index(t->passes, index);
}

static void pass_add(Pass *p, const OcrRead *r, gint64 now_us)
{
    if (p->reads->len < MAX_PASS_READS) {
        g_array_append_val(p->reads, *r);
    } else { /* replace the least confident read, when this one is better */
        guint lo = 0;
        for (guint i = 1; i < p->reads->len; i++)
            if (g_array_index(p->reads, OcrRead, i).confidence <
                g_array_index(p->reads, OcrRead, lo).confidence)
                lo = i;
        if (r->confidence > g_array_index(p->reads, OcrRead, lo).confidence)
            g_array_index(p->reads, OcrRead, lo) = *r;
    }
    for (int k = 0; k < 4; k++)
        p->bbox[k] = r->bbox[k];
    p->streak = strcmp(p->code, r->code) == 0 ? p->streak + 1 : 1;
    g_strlcpy(p->code, r->code, sizeof p->code);
    p->frames++;
    p->last_us = now_us;
    p->matched = TRUE;
}

void ocr_tracker_feed(OcrTracker *t, const OcrRead *reads, gsize n, gint64 now_us,
                          GArray *confirmed)
{
    /* A pass whose container has not been read for the gap is over, before anything joins. */
    for (guint j = t->passes->len; j-- > 0;) {
        Pass *p = g_ptr_array_index(t->passes, j);
        if (now_us - p->last_us > t->gap_us)
            close_pass(t, j, confirmed);
    }
    for (guint i = 0; i < t->passes->len; i++)
        ((Pass *)g_ptr_array_index(t->passes, i))->matched = FALSE;
    t->fed = TRUE;
    t->last_feed_us = now_us;
    t->last_feed_opened = FALSE;
    for (gsize i = 0; i < n; i++) {
        const OcrRead *r = &reads[i];
        Pass *best = NULL;
        double best_score = 0;
        for (guint j = 0; j < t->passes->len; j++) {
            Pass *p = g_ptr_array_index(t->passes, j);
            if (p->matched)
                continue;
            const double box[4] = {r->bbox[0], r->bbox[1], r->bbox[2], r->bbox[3]};
            double ov = iou(p->bbox, box);
            int d = code_distance(p->code, r->code);
            /* Neighbouring containers of one series differ in two or three characters, so a
             * near code alone does not join: a misread joins by its box. */
            if (ov < 0.2 && d != 0)
                continue;
            double score = ov + (d == 0 ? 1.0 : d <= 2 ? 0.5 : 0.0);
            if (score > best_score) {
                best_score = score;
                best = p;
            }
        }
        if (!best) {
            if (t->passes->len >= MAX_PASSES) { /* close the stalest */
                guint stale = 0;
                for (guint j = 1; j < t->passes->len; j++)
                    if (((Pass *)g_ptr_array_index(t->passes, j))->last_us <
                        ((Pass *)g_ptr_array_index(t->passes, stale))->last_us)
                        stale = j;
                close_pass(t, stale, confirmed);
            }
            best = g_new0(Pass, 1);
            best->reads = g_array_new(FALSE, FALSE, sizeof(OcrRead));
            best->first_us = now_us;
            g_ptr_array_add(t->passes, best);
            t->last_feed_opened = TRUE;
        }
        pass_add(best, r, now_us);
    }
}

void ocr_tracker_touch(OcrTracker *t, gint64 now_us)
{
    if (!t->fed || now_us < t->last_feed_us)
        return;
    for (guint i = 0; i < t->passes->len; i++) {
        Pass *p = g_ptr_array_index(t->passes, i);
        if (p->matched)
            p->last_us = now_us;
    }
    t->last_feed_us = now_us;
}

gboolean ocr_tracker_settled(const OcrTracker *t, guint streak, double width,
                                 double height)
{
    if (!t->fed || t->last_feed_opened)
        return FALSE;
    double mx = width * 0.05, my = height * 0.05;
    for (guint i = 0; i < t->passes->len; i++) {
        const Pass *p = g_ptr_array_index(t->passes, i);
        const double *b = p->bbox;
        gboolean at_edge = width > 0 && height > 0 &&
                           (b[0] < mx || b[1] < my || b[0] + b[2] > width - mx ||
                            b[1] + b[3] > height - my);
        if (!p->matched && at_edge)
            continue; /* last seen at the edge: it has left the picture */
        if (!p->matched || p->streak < streak)
            return FALSE;
    }
    return TRUE;
}

void ocr_tracker_flush(OcrTracker *t, GArray *confirmed)
{
    while (t->passes->len > 0)
        close_pass(t, 0, confirmed);
}
