/* track.c: one camera's container reads associated across frames into passes; a finished pass
 * is fused into one confirmed container. */
#include <string.h>

#include "overlay.h"

#define MAX_PASSES 64      /* open passes per camera; the stalest is closed beyond this */
#define MAX_PASS_READS 64  /* reads kept per pass: the most confident ones */

typedef struct {
    GArray *reads; /* (element-type PsRead) */
    double bbox[4]; /* the last read's */
    char code[12];  /* the last read's */
    guint frames;
    gint64 first_us, last_us;
    gboolean matched; /* during one feed (and until the next one) */
    guint streak;     /* reads in a row, up to the last feed, with the same code */
} Pass;

struct PsTracker {
    gint64 gap_us;
    guint min_frames;
    PsFuseFunc fuse;
    gpointer fuse_data;
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

PsTracker *overlay_tracker_new(gint64 gap_us, guint min_frames, PsFuseFunc fuse,
                               gpointer fuse_data)
{
    PsTracker *t = g_new0(PsTracker, 1);
    t->gap_us = gap_us > 0 ? gap_us : G_USEC_PER_SEC;
    t->min_frames = MAX(1, min_frames);
    t->fuse = fuse;
    t->fuse_data = fuse_data;
    t->passes = g_ptr_array_new_with_free_func(pass_free);
    return t;
}

void overlay_tracker_free(PsTracker *t)
{
    if (!t)
        return;
    g_ptr_array_unref(t->passes);
    g_free(t);
}

guint overlay_tracker_open_passes(const PsTracker *t)
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

/* The default fusion: the whole code with the largest summed confidence; its size/type is the
 * most confident non-empty one read with it, its box the last one. */
static gboolean vote(const PsRead *reads, gsize n, PsRead *out)
{
    double best = -1;
    gsize besti = 0;
    for (gsize i = 0; i < n; i++) {
        double sum = 0;
        for (gsize j = 0; j < n; j++)
            if (strcmp(reads[i].code, reads[j].code) == 0)
                sum += reads[j].confidence;
        if (sum > best) {
            best = sum;
            besti = i;
        }
    }
    if (n == 0 || strlen(reads[besti].code) != 11)
        return FALSE;
    double total = 0, st_conf = -1;
    guint agree = 0;
    *out = reads[besti];
    for (gsize j = 0; j < n; j++) {
        total += reads[j].confidence;
        if (strcmp(reads[j].code, out->code) != 0)
            continue;
        agree++;
        memcpy(out->bbox, reads[j].bbox, sizeof out->bbox);
        if (reads[j].size_type[0] && reads[j].confidence > st_conf) {
            st_conf = reads[j].confidence;
            memcpy(out->size_type, reads[j].size_type, sizeof out->size_type);
        }
    }
    /* The winners' mean confidence, scaled by their share of the pass's total. */
    out->confidence = total > 0 ? (best / agree) * (best / total) : 0.0;
    return TRUE;
}

static void close_pass(PsTracker *t, guint index, GArray *confirmed)
{
    Pass *p = g_ptr_array_index(t->passes, index);
    PsConfirmed c = {0};
    gboolean ok = FALSE;
    if (p->frames >= t->min_frames) {
        const PsRead *reads = (const PsRead *)p->reads->data;
        ok = t->fuse ? t->fuse(reads, p->reads->len, &c.read, t->fuse_data)
                     : vote(reads, p->reads->len, &c.read);
    }
    if (ok && confirmed) {
        c.frames = p->frames;
        c.first_us = p->first_us;
        c.last_us = p->last_us;
        g_array_append_val(confirmed, c);
    }
    g_ptr_array_remove_index(t->passes, index);
}

static void pass_add(Pass *p, const PsRead *r, gint64 now_us)
{
    if (p->reads->len < MAX_PASS_READS) {
        g_array_append_val(p->reads, *r);
    } else { /* replace the least confident read, when this one is better */
        guint lo = 0;
        for (guint i = 1; i < p->reads->len; i++)
            if (g_array_index(p->reads, PsRead, i).confidence <
                g_array_index(p->reads, PsRead, lo).confidence)
                lo = i;
        if (r->confidence > g_array_index(p->reads, PsRead, lo).confidence)
            g_array_index(p->reads, PsRead, lo) = *r;
    }
    memcpy(p->bbox, r->bbox, sizeof p->bbox);
    p->streak = strcmp(p->code, r->code) == 0 ? p->streak + 1 : 1;
    g_strlcpy(p->code, r->code, sizeof p->code);
    p->frames++;
    p->last_us = now_us;
    p->matched = TRUE;
}

void overlay_tracker_feed(PsTracker *t, const PsRead *reads, gsize n, gint64 now_us,
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
        const PsRead *r = &reads[i];
        Pass *best = NULL;
        double best_score = 0;
        for (guint j = 0; j < t->passes->len; j++) {
            Pass *p = g_ptr_array_index(t->passes, j);
            if (p->matched)
                continue;
            double ov = iou(p->bbox, r->bbox);
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
            best->reads = g_array_new(FALSE, FALSE, sizeof(PsRead));
            best->first_us = now_us;
            g_ptr_array_add(t->passes, best);
            t->last_feed_opened = TRUE;
        }
        pass_add(best, r, now_us);
    }
}

void overlay_tracker_touch(PsTracker *t, gint64 now_us)
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

gboolean overlay_tracker_settled(const PsTracker *t, guint streak, double width,
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

void overlay_tracker_flush(PsTracker *t, GArray *confirmed)
{
    while (t->passes->len > 0)
        close_pass(t, 0, confirmed);
}
