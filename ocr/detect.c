/* detect.c: the regions the learned text-region detector (det.c) proposes, each read by the
 * thresholding stages: cells of the heat map at or above the threshold are joined into blobs
 * (8-connected); blobs along one line (up to 6 blob thicknesses apart, as an owner code and
 * serial on two door panels) or in neighbouring rows are grouped; each group's box, with a
 * character height around it, is cut out of the frame, scaled so its characters are about 36 px
 * high (a blob's thickness is the height of a line of characters, or the width of a column),
 * its contrast stretched when it is faint, and read as a frame of its own. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "iso6346.h"
#include "pipeline.h"

#define MAX_BLOBS 256
#define MAX_REGIONS 4
/* A region is read only when its strongest cell is at least this sure (weaker ones are mostly
 * other markings, and each region read costs about a whole-frame pass). */
#define MIN_PEAK 0.7f
/* The character height a region is scaled to, and the largest side of a scaled region (the
 * thresholding reader halves frames wider than 1200 px). */
#define TARGET_CHAR_H 36.0
/* The rows a blob is taken to hold when its regions are read again (ocr__read_frame): chosen
 * on the tuning seeds 61000 and 61010 (2 and 2.5 gave fewer right codes there, no fewer
 * wrong ones). */
#define ROWS_MERGED 3.0
/* The pixels of those enlarged regions, in whole frames: chosen on the same seeds (one frame's
 * worth lost one of 4 codes it gained on seed 61010; two kept them all). */
#define ENLARGED_FRAMES 2.0
#define MAX_REGION_SIDE 1200

typedef struct {
    int x0, y0, x1, y1; /* cells, inclusive */
    int n;
    float peak;
    int group;
} Blob;

typedef struct {
    int x0, y0, x1, y1; /* frame pixels, exclusive end */
    double char_h;      /* estimated, frame pixels */
    float peak;
} Region;

static int find(Blob *b, int i)
{
    while (b[i].group != i)
        i = b[i].group = b[b[i].group].group;
    return i;
}

/* The blobs of @heat (@hw x @hh) at or above @thr, at most MAX_BLOBS; @label (may be NULL)
 * gets each cell's blob, -1 for none. */
static int blobs_of(const float *heat, int hw, int hh, float thr, Blob *blobs, int *label)
{
    if (label)
        for (int i = 0; i < hw * hh; i++)
            label[i] = -1;
    guint8 *seen = g_malloc0((size_t)hw * hh);
    int *stack = g_new(int, (size_t)hw * hh);
    int n = 0;
    for (int start = 0; start < hw * hh && n < MAX_BLOBS; start++) {
        if (seen[start] || heat[start] < thr)
            continue;
        Blob b = {start % hw, start / hw, start % hw, start / hw, 0, 0, n};
        int top = 0;
        stack[top++] = start;
        seen[start] = 1;
        while (top > 0) {
            int i = stack[--top], x = i % hw, y = i / hw;
            if (label)
                label[i] = n;
            b.n++;
            b.peak = MAX(b.peak, heat[i]);
            b.x0 = MIN(b.x0, x);
            b.x1 = MAX(b.x1, x);
            b.y0 = MIN(b.y0, y);
            b.y1 = MAX(b.y1, y);
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = x + dx, ny = y + dy;
                    if (nx < 0 || ny < 0 || nx >= hw || ny >= hh)
                        continue;
                    int j = ny * hw + nx;
                    if (!seen[j] && heat[j] >= thr) {
                        seen[j] = 1;
                        stack[top++] = j;
                    }
                }
        }
        if (b.n >= 2)
            blobs[n++] = b;
        else if (label)
            label[start] = -1;
    }
    g_free(stack);
    g_free(seen);
    return n;
}

/* A blob's box grown by the distance within which its neighbours belong to its group. */
static void reach(const Blob *b, double *x0, double *y0, double *x1, double *y1)
{
    int bw = b->x1 - b->x0 + 1, bh = b->y1 - b->y0 + 1;
    double t = MAX(1, MIN(bw, bh));
    gboolean wide = bw >= bh;
    *x0 = b->x0 - (wide ? 6 * t : 2 * t);
    *x1 = b->x1 + (wide ? 6 * t : 2 * t);
    *y0 = b->y0 - (wide ? 1.2 * t : 3 * t);
    *y1 = b->y1 + (wide ? 1.2 * t : 3 * t);
}

static int compare_regions(const void *a, const void *b)
{
    const Region *x = a, *y = b;
    return (x->peak < y->peak) - (x->peak > y->peak);
}

/* The regions of the heat map, strongest first; returns how many (at most MAX_REGIONS). */
static int regions_of(const float *heat, int hw, int hh, int cell, int width, int height,
                      float thr, Region *out)
{
    Blob *b = g_new(Blob, MAX_BLOBS);
    int n = blobs_of(heat, hw, hh, thr, b, NULL);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double a[4], c[4];
            reach(&b[i], &a[0], &a[1], &a[2], &a[3]);
            reach(&b[j], &c[0], &c[1], &c[2], &c[3]);
            gboolean near_i = b[j].x0 <= a[2] && b[j].x1 >= a[0] && b[j].y0 <= a[3] &&
                              b[j].y1 >= a[1];
            gboolean near_j = b[i].x0 <= c[2] && b[i].x1 >= c[0] && b[i].y0 <= c[3] &&
                              b[i].y1 >= c[1];
            if (near_i || near_j)
                b[find(b, j)].group = find(b, i);
        }
    Region *all = g_new(Region, MAX_BLOBS);
    int n_all = 0;
    for (int i = 0; i < n; i++) {
        if (find(b, i) != i)
            continue;
        Region r = {G_MAXINT, G_MAXINT, 0, 0, 0, 0};
        float best = -1;
        for (int j = 0; j < n; j++) {
            if (find(b, j) != i)
                continue;
            r.x0 = MIN(r.x0, b[j].x0 * cell);
            r.y0 = MIN(r.y0, b[j].y0 * cell);
            r.x1 = MAX(r.x1, (b[j].x1 + 1) * cell);
            r.y1 = MAX(r.y1, (b[j].y1 + 1) * cell);
            r.peak = MAX(r.peak, b[j].peak);
            if (b[j].n > best) { /* the largest blob gives the character height */
                best = (float)b[j].n;
                int bw = b[j].x1 - b[j].x0 + 1, bh = b[j].y1 - b[j].y0 + 1;
                r.char_h = bw >= bh ? bh * cell : bw * cell * 1.4;
            }
        }
        int pad = (int)r.char_h;
        r.x0 = MAX(0, r.x0 - pad);
        r.y0 = MAX(0, r.y0 - pad);
        r.x1 = MIN(width, r.x1 + pad);
        r.y1 = MIN(height, r.y1 + pad);
        all[n_all++] = r;
    }
    qsort(all, n_all, sizeof(Region), compare_regions);
    while (n_all > 0 && all[n_all - 1].peak < MIN_PEAK)
        n_all--;
    n_all = MIN(n_all, MAX_REGIONS);
    memcpy(out, all, sizeof(Region) * n_all);
    g_free(all);
    g_free(b);
    return n_all;
}

static int compare_lines(const void *a, const void *b)
{
    const OcrLine *x = a, *y = b;
    return (x->peak < y->peak) - (x->peak > y->peak);
}

int ocr__det_lines(const float *heat, int hw, int hh, int cell, float thr, OcrLine *out, int max)
{
    if (!heat || hw < 1 || hh < 1 || max < 1)
        return 0;
    Blob *b = g_new(Blob, MAX_BLOBS);
    int *label = g_new(int, (size_t)hw * hh);
    int n = blobs_of(heat, hw, hh, thr, b, label);
    /* Wide blobs only (a column of characters is read by the components); those on one line,
     * of a like thickness, up to 8 thicknesses apart, joined. */
    for (int i = 0; i < n; i++)
        b[i].group = i;
    for (int i = 0; i < n; i++) {
        int wi = b[i].x1 - b[i].x0 + 1, ti = b[i].y1 - b[i].y0 + 1;
        if (2 * wi < 3 * ti)
            continue;
        for (int j = i + 1; j < n; j++) {
            int wj = b[j].x1 - b[j].x0 + 1, tj = b[j].y1 - b[j].y0 + 1;
            if (2 * wj < 3 * tj || 5 * tj < 3 * ti || 3 * tj > 5 * ti)
                continue;
            double ci = (b[i].y0 + b[i].y1) / 2.0, cj = (b[j].y0 + b[j].y1) / 2.0;
            int gap = MAX(b[i].x0, b[j].x0) - MIN(b[i].x1, b[j].x1) - 1;
            if (fabs(ci - cj) <= 0.6 * MAX(ti, tj) && gap <= 8 * MAX(ti, tj))
                b[find(b, j)].group = find(b, i);
        }
    }
    int n_out = 0;
    OcrLine *all = g_new(OcrLine, MAX_BLOBS);
    int *count = g_new0(int, hw);
    for (int g = 0; g < n; g++) {
        int wg = b[g].x1 - b[g].x0 + 1, tg = b[g].y1 - b[g].y0 + 1;
        if (find(b, g) != g || 2 * wg < 3 * tg)
            continue;
        /* Weighted least squares through the centres of the group's cells (within the box of
         * its blobs). */
        int bx0 = hw, by0 = hh, bx1 = -1, by1 = -1;
        for (int j = 0; j < n; j++)
            if (find(b, j) == g) {
                bx0 = MIN(bx0, b[j].x0);
                by0 = MIN(by0, b[j].y0);
                bx1 = MAX(bx1, b[j].x1);
                by1 = MAX(by1, b[j].y1);
            }
        double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        int xmin = hw, xmax = -1;
        float peak = 0;
        memset(count, 0, sizeof(int) * hw);
        for (int y = by0; y <= by1; y++)
            for (int x = bx0; x <= bx1; x++) {
                int l = label[(size_t)y * hw + x];
                if (l < 0 || find(b, l) != g)
                    continue;
                double wt = heat[(size_t)y * hw + x];
                double cx = (x + 0.5) * cell, cy = (y + 0.5) * cell;
                sw += wt;
                sx += wt * cx;
                sy += wt * cy;
                sxx += wt * cx * cx;
                sxy += wt * cx * cy;
                xmin = MIN(xmin, x);
                xmax = MAX(xmax, x);
                count[x]++;
                peak = MAX(peak, heat[(size_t)y * hw + x]);
            }
        if (sw <= 0 || xmax < xmin)
            continue;
        double mx = sx / sw, my = sy / sw, var = sxx / sw - mx * mx;
        double slope = var > 1e-9 ? (sxy / sw - mx * my) / var : 0;
        slope = CLAMP(slope, -0.5, 0.5);
        /* The thickness: the median of the columns' cell counts, across the line. */
        int hist[64] = {0}, cols = 0;
        for (int x = xmin; x <= xmax; x++)
            if (count[x] > 0) {
                hist[MIN(count[x], 63)]++;
                cols++;
            }
        int med = 1;
        for (int acc = 0, k = 1; k < 64; k++) {
            acc += hist[k];
            if (2 * acc >= cols) {
                med = k;
                break;
            }
        }
        /* The ends 1.5 character heights further out: the map often stops short of a boxed
         * check digit or of a first character it is less sure of. */
        OcrLine *l = &all[n_out++];
        l->char_h = med * cell / sqrt(1 + slope * slope);
        double ext = 1.5 * l->char_h / sqrt(1 + slope * slope);
        l->x0 = xmin * cell - ext;
        l->x1 = (xmax + 1.0) * cell + ext;
        l->y0 = my + slope * (l->x0 - mx);
        l->y1 = my + slope * (l->x1 - mx);
        l->peak = peak;
    }
    qsort(all, n_out, sizeof(OcrLine), compare_lines);
    n_out = MIN(n_out, max);
    memcpy(out, all, sizeof(OcrLine) * n_out);
    g_free(count);
    g_free(all);
    g_free(label);
    g_free(b);
    return n_out;
}

/* Whether a read of @out already covers @r (more than a third of the read's box inside). */
static gboolean already_read(const OcrReads *out, const Region *r)
{
    for (int i = 0; i < out->n_reads; i++) {
        const int *bb = out->reads[i].bbox;
        int ix = MIN(bb[0] + bb[2], r->x1) - MAX(bb[0], r->x0);
        int iy = MIN(bb[1] + bb[3], r->y1) - MAX(bb[1], r->y0);
        if (ix > 0 && iy > 0 && 3.0 * ix * iy > (double)bb[2] * bb[3])
            return TRUE;
    }
    return FALSE;
}

/* Cuts @r out of @gray scaled by @u (bilinear), its contrast stretched to about 200 grey levels
 * (at most x4) when the 1st to 99th percentiles span less. */
static guint8 *cut(const guint8 *gray, int width, int height, const Region *r, double u, int cw,
                   int ch)
{
    guint8 *c = g_malloc((size_t)cw * ch);
    guint hist[256] = {0};
    for (int y = 0; y < ch; y++) {
        double sy = r->y0 + (y + 0.5) / u - 0.5;
        int y0 = CLAMP((int)sy, 0, height - 1), y1 = MIN(y0 + 1, height - 1);
        double fy = CLAMP(sy - y0, 0, 1);
        for (int x = 0; x < cw; x++) {
            double sx = r->x0 + (x + 0.5) / u - 0.5;
            int x0 = CLAMP((int)sx, 0, width - 1), x1 = MIN(x0 + 1, width - 1);
            double fx = CLAMP(sx - x0, 0, 1);
            const guint8 *a = gray + (size_t)y0 * width, *b = gray + (size_t)y1 * width;
            double v = (1 - fy) * ((1 - fx) * a[x0] + fx * a[x1]) +
                       fy * ((1 - fx) * b[x0] + fx * b[x1]);
            c[(size_t)y * cw + x] = (guint8)(v + 0.5);
            hist[c[(size_t)y * cw + x]]++;
        }
    }
    guint total = (guint)cw * ch, acc = 0;
    int lo = 0, hi = 255;
    for (int v = 0; v < 256; v++) {
        acc += hist[v];
        if (acc * 100u < total)
            lo = v + 1;
        if (acc * 100u < total * 99u)
            hi = v + 1;
    }
    int span = hi - lo;
    if (span > 0 && span < 200) {
        double gain = MIN(4.0, 200.0 / span), mid = (lo + hi) / 2.0;
        for (size_t i = 0; i < total; i++) {
            double v = (c[i] - mid) * gain + 128;
            c[i] = (guint8)CLAMP(v + 0.5, 0, 255);
        }
    }
    return c;
}

static int compare_reads(const void *a, const void *b)
{
    const OcrRead *x = a, *y = b;
    return (x->confidence < y->confidence) - (x->confidence > y->confidence);
}

/* The most characters read on one line. */
#define MAX_LINE_CHARS 48
/* The widest strip read (columns, about 32 character heights): a code with its owner and
 * serial on two door panels takes about 420; longer lines are other markings, and a strip's
 * reading costs in proportion to its width. */
#define MAX_STRIP_W 640

/* Whether class @k is of the kind code position @i wants: a letter in the owner code and
 * category, a digit in the serial and check digit. */
static gboolean kind_fits(int k, int i)
{
    return i < 4 ? k >= 10 && k < OCR_N_CLASSES : k < 10;
}

/* What the line reader read on one line. */
typedef struct {
    OcrLine l;
    int src; /* its index in the lines read */
    int n;
    OcrLineChar chars[MAX_LINE_CHARS];
} LineRead;

/* The box (frame pixels x0, y0, x1, y1) of characters @a to @b of @r: from the first one's
 * columns to the last one's, 0.6 character heights each side of the line. */
static void window_box(const LineRead *r, int a, int b, double box[4])
{
    const OcrLine *l = &r->l;
    double len = hypot(l->x1 - l->x0, l->y1 - l->y0);
    double ux = len > 0 ? (l->x1 - l->x0) / len : 1, uy = len > 0 ? (l->y1 - l->y0) / len : 0;
    double step = 1.6 * l->char_h / OCR__LINE_H, h = l->char_h;
    double a0 = -0.35 * h + 4 * r->chars[a].t * step - 0.3 * h;
    double a1 = -0.35 * h + (4 * r->chars[b].t + 4) * step + 0.3 * h;
    box[0] = box[1] = 1e9;
    box[2] = box[3] = -1e9;
    for (int e = 0; e < 2; e++)
        for (int side = -1; side <= 1; side += 2) {
            double al = e ? a1 : a0;
            double x = l->x0 + al * ux - side * 0.6 * h * uy;
            double y = l->y0 + al * uy + side * 0.6 * h * ux;
            box[0] = MIN(box[0], x);
            box[1] = MIN(box[1], y);
            box[2] = MAX(box[2], x);
            box[3] = MAX(box[3], y);
        }
}

/* The component of @chain at the place of character @ch of @r (the nearest whose centre is
 * within half a character height of the character's), or -1. */
static int component_at(const OcrChainLine *chain, const LineRead *r, int ch)
{
    double b[4];
    window_box(r, ch, ch, b);
    double cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
    int best = -1;
    double best_d = 0.5 * r->l.char_h;
    for (int i = 0; i < chain->len; i++) {
        const int *cb = chain->box[i];
        double d = hypot(cb[0] + cb[2] / 2.0 - cx, cb[1] + cb[3] / 2.0 - cy);
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
    return best;
}

/* Whether the character network, on the components of @chain, reads another character than
 * @code holds at positions @pos0 to @pos0 + @n - 1 (read as characters @a to @a + @n - 1 of
 * @r): a component at the character's place (centres within half a character height) whose
 * most probable character allowed there, look-alikes folded (O at a digit counts for 0), is
 * another, read at VETO_SEEN or more. Under that the network reads no character there (the
 * assembly's floor for an owner letter seen, SEEN_LETTER): a box's edge, a blob of two
 * characters, a character cut by a rib. On the tuning seeds 93101-93202 (4,000 frames) the
 * veto had left 12 codes of the line reader out: 11 right, 6 of them for a character read
 * under 0.2 (an 8 read 0.002 against a 0 at 0.003), and 1 wrong, for a 5 read at 0.92. */
#define VETO_SEEN 0.2

/* The confidence at which a code of the line reader stands alone (see second_opinion()). */
#define SURE_READ 0.95

/* The components' lines are read past their ends (read_chain_strips()): a character of a
 * window there, at no component's place, is one the character network cannot check, and the
 * code is then kept only from SURE_READ. On the never-used seed 98101 (frame 256) the strip
 * past a serial's end gave HWFU2394368 at 0.92 (HWRU2394365 painted, the boxed 5 read as an 8
 * the check digit let pass). */
static gboolean beyond_components(const OcrChainLine *chain, const LineRead *r, int a, int n)
{
    for (int j = 0; j < n; j++)
        if (component_at(chain, r, a + j) < 0)
            return TRUE;
    return FALSE;
}

static gboolean vetoed(const guint8 *gray, int width, int height, const OcrChainLine *chain,
                       const LineRead *r, int a, int n, int pos0, const char *code)
{
    for (int j = 0; j < n; j++) {
        int best = component_at(chain, r, a + j);
        if (best < 0)
            continue;
        const int *cb = chain->box[best];
        float crop[OCR__CROP * OCR__CROP], prob[OCR__N_OUT];
        ocr__char_crop(gray, width, height, width, cb[0], cb[1], cb[2], cb[3], chain->bright,
                       crop);
        ocr__cnn_classify(crop, prob);
        double q[OCR_N_CLASSES];
        int pos = pos0 + j, want = ocr_class_index(code[pos]), top = want;
        ocr__fold(prob, pos, q);
        for (int k = 0; k < OCR_N_CLASSES; k++)
            if (ocr__allowed(pos, k) && q[k] > q[top])
                top = k;
        if (top != want && q[top] >= VETO_SEEN)
            return TRUE;
    }
    return FALSE;
}

/* The 11 characters @c as code probabilities (@probs: each character's odds over the 36
 * characters, blank left out); returns the geometric mean of their not-blank odds, or -1 when
 * more than one is of the other kind (a digit where a letter goes, or the reverse). */
static double window_probs(const OcrLineChar *const c[OCR_CODE_LEN], OcrCodeProbs *probs)
{
    int off = 0;
    for (int j = 0; j < OCR_CODE_LEN; j++)
        off += !kind_fits(ocr__argmax_of(c[j]->p), j);
    if (off > 1)
        return -1;
    double not_blank = 0;
    for (int j = 0; j < OCR_CODE_LEN; j++) {
        double sum = 0;
        for (int k = 0; k < OCR_N_CLASSES; k++)
            sum += c[j]->p[k];
        for (int k = 0; k < OCR_N_CLASSES; k++)
            probs->p[j][k] = (float)(c[j]->p[k] / MAX(sum, 1e-9));
        not_blank += log(MAX(sum, 1e-9));
    }
    return exp(not_blank / OCR_CODE_LEN);
}

/* Whether two neighbours of the serial of window @c, read on one line, stand closer than its
 * pitch allows (ocr__crowded_steps(); the steps are the columns where the line reader is
 * surest of each, 4 strip columns apart: about 3 for a serial's pitch). */
static gboolean crowded_window(const OcrLineChar *const c[OCR_CODE_LEN])
{
    double step[5];
    for (int i = 0; i < 5; i++)
        step[i] = c[5 + i]->t - c[4 + i]->t;
    return ocr__crowded_steps(step);
}

/* Assembles the 11 characters @c (of the kinds a code has, at most one of another kind: a
 * look-alike the assembly folds) under the check digit; the confidence is the assembly's times
 * the geometric mean of the characters' not-blank probability. Fills @rd with the code and
 * @box when it is at @min or above; FALSE when not. */
static gboolean try_code(PsOcr *ocr, const OcrLineChar *const c[OCR_CODE_LEN],
                         const double box[4], double min, int width, int height, OcrRead *out)
{
    OcrRead rd;
    memset(&rd, 0, sizeof rd);
    double not_blank = window_probs(c, &rd.probs);
    if (not_blank < 0 || (ocr->opts.even_serials && crowded_window(c)))
        return FALSE;
    double conf = ocr_assemble(&rd.probs, rd.code) * not_blank;
    if (conf < min || !rd.code[0])
        return FALSE;
    rd.confidence = conf;
    rd.orientation = OCR_HORIZONTAL;
    double x0 = CLAMP(box[0], 0, width - 1), y0 = CLAMP(box[1], 0, height - 1);
    double x1 = CLAMP(box[2], x0 + 1, width), y1 = CLAMP(box[3], y0 + 1, height);
    rd.bbox[0] = (int)x0;
    rd.bbox[1] = (int)y0;
    rd.bbox[2] = (int)(x1 - x0 + 0.5);
    rd.bbox[3] = (int)(y1 - y0 + 0.5);
    if (ocr->opts.debug)
        g_printerr("line read %s %.3f\n", rd.code, conf);
    *out = rd;
    return TRUE;
}

/* Whether a serial at @sb (7 characters) continues an owner code at @ob (4) of a line of
 * character height @ho (@hs): a like height, and the serial on the row below, starting near
 * where the owner code starts (three rows; a tank's two rows), or on the same line after it,
 * further than the detector joins blobs (two door panels far apart). */
static gboolean owner_then_serial(const double ob[4], double ho, const double sb[4], double hs)
{
    if (ho > 1.6 * hs || hs > 1.6 * ho)
        return FALSE;
    double h = MAX(ho, hs);
    double dy = (sb[1] + sb[3]) / 2 - (ob[1] + ob[3]) / 2;
    gboolean below = dy >= 0.8 * h && dy <= 3.0 * h && fabs(sb[0] - ob[0]) <= 2.0 * h;
    gboolean after = fabs(dy) <= 0.6 * h && sb[0] >= ob[2] - 0.5 * h && sb[0] - ob[2] <= 14 * h;
    return below || after;
}

/* An owner code and a serial read on two lines are joined only at this confidence or above:
 * nothing measures the step between them, and on the tuning seeds (61000 and 61010, 600
 * frames) the joins gave one right code at 0.999 and one wrong at 0.654 (a serial's check
 * digit changed to fit an owner code read from another line). */
#define MIN_JOINED_CONFIDENCE 0.8

/* Whether line @l passes through box @bb (x, y, w, h). */
static gboolean line_touches(const OcrLine *l, const int bb[4])
{
    double h = l->char_h;
    return MIN(l->x0, l->x1) - h < bb[0] + bb[2] && MAX(l->x0, l->x1) + h > bb[0] &&
           MIN(l->y0, l->y1) - h < bb[1] + bb[3] && MAX(l->y0, l->y1) + h > bb[1];
}

/* The lines of the heat map (at most OCR__MAX_LINES, into @lines); returns how many. */
static int heat_lines(const PsOcr *ocr, const float *heat, int hw, int hh, int cell,
                      OcrLine *lines)
{
    return ocr__det_lines(heat, hw, hh, cell, (float)ocr->opts.detector_threshold, lines,
                          OCR__MAX_LINES);
}

/* Reads the @n lines @found with the line network (only those through @near, when not NULL;
 * their character heights times @hscale) into @reads (OCR__MAX_LINES); returns how many were
 * read. */
static int read_strips(PsOcr *ocr, const guint8 *gray, int width, int height,
                       const OcrLine *found, int n, const int *near, double hscale,
                       LineRead *reads)
{
    int nr = 0;
    for (int i = 0; i < n; i++) {
        OcrLine scaled = found[i];
        scaled.char_h *= hscale;
        const OcrLine *l = &scaled;
        if (hypot(l->x1 - l->x0, l->y1 - l->y0) + 0.7 * l->char_h >
            MAX_STRIP_W * 1.6 * l->char_h / OCR__LINE_H)
            continue;
        if (near && !line_touches(l, near))
            continue;
        int sw = 0, t = 0;
        guint8 *strip = ocr__line_crop(gray, width, height, width, l, &sw);
        if (strip && ocr->opts.dump_prefix) {
            char *name = g_strdup_printf("%s-line-%.0f-%.0f-x%.2f.pgm", ocr->opts.dump_prefix,
                                         l->x0, l->y0, hscale);
            char *head = g_strdup_printf("P5\n%d %d\n255\n", sw, OCR__LINE_H);
            GString *pgm = g_string_new(head);
            g_string_append_len(pgm, (const char *)strip, (gssize)sw * OCR__LINE_H);
            g_file_set_contents(name, pgm->str, (gssize)pgm->len, NULL);
            g_string_free(pgm, TRUE);
            g_free(head);
            g_free(name);
        }
        float *probs =
            strip ? ocr__ctc_probs(ocr->ctc_net, strip, sw, ocr__scratch_of(ocr), &t) : NULL;
        g_free(strip);
        if (!probs)
            continue;
        LineRead *r = &reads[nr++];
        r->l = *l;
        r->src = i;
        r->n = ocr__ctc_decode(probs, t, r->chars, MAX_LINE_CHARS);
        g_free(probs);
        if (ocr->opts.debug) {
            char s[MAX_LINE_CHARS + 1];
            for (int k = 0; k < r->n; k++)
                s[k] = ocr_class_char(ocr__argmax_of(r->chars[k].p));
            s[r->n] = '\0';
            g_printerr("line %.0f,%.0f - %.0f,%.0f (char %.0f px): '%s'\n", l->x0, l->y0, l->x1,
                       l->y1, l->char_h, s);
        }
    }
    return nr;
}

/* A code's 11 characters as the line reader read them: 11 consecutive on line @r0 from @a0
 * (@joined FALSE), or 4 on line @r0 from @a0 with 7 on line @r1 from @a1 that continue them
 * (owner_then_serial()); @box covers them (frame pixels x0, y0, x1, y1). */
typedef struct {
    const OcrLineChar *c[OCR_CODE_LEN];
    double box[4];
    gboolean joined;
    int r0, a0, r1, a1;
} Window;

static void each_joined_window(const LineRead *reads, int nr, int first,
                               void (*fn)(const Window *w, gpointer user), gpointer user);

/* Calls @fn with every window (Window) of the @nr lines @reads. */
static void each_window(const LineRead *reads, int nr,
                        void (*fn)(const Window *w, gpointer user), gpointer user)
{
    Window w = {0};
    for (int i = 0; i < nr; i++) {
        const LineRead *r = &reads[i];
        for (int s0 = 0; s0 + OCR_CODE_LEN <= r->n; s0++) {
            for (int j = 0; j < OCR_CODE_LEN; j++)
                w.c[j] = &r->chars[s0 + j];
            window_box(r, s0, s0 + OCR_CODE_LEN - 1, w.box);
            w.r0 = i;
            w.a0 = s0;
            fn(&w, user);
        }
    }
    each_joined_window(reads, nr, 0, fn, user);
}

/* Calls @fn with every window of an owner code on one of the @nr lines @reads and a serial on
 * another that continues it (owner_then_serial()); when @first > 0, only of an owner code on
 * one of the first @first lines and a serial on one of the others, or the reverse. */
static void each_joined_window(const LineRead *reads, int nr, int first,
                               void (*fn)(const Window *w, gpointer user), gpointer user)
{
    Window w = {0};
    w.joined = TRUE;
    double ob[4], sb[4];
    for (int i = 0; i < nr; i++)
        for (int o = 0; o + 4 <= reads[i].n; o++) {
            window_box(&reads[i], o, o + 3, ob);
            for (int j = 0; j < nr; j++) {
                if (j == i || (first > 0 && (i < first) == (j < first)))
                    continue;
                for (int s0 = 0; s0 + 7 <= reads[j].n; s0++) {
                    window_box(&reads[j], s0, s0 + 6, sb);
                    if (!owner_then_serial(ob, reads[i].l.char_h, sb, reads[j].l.char_h))
                        continue;
                    for (int k = 0; k < 4; k++)
                        w.c[k] = &reads[i].chars[o + k];
                    for (int k = 0; k < 7; k++)
                        w.c[4 + k] = &reads[j].chars[s0 + k];
                    w.box[0] = MIN(ob[0], sb[0]);
                    w.box[1] = MIN(ob[1], sb[1]);
                    w.box[2] = MAX(ob[2], sb[2]);
                    w.box[3] = MAX(ob[3], sb[3]);
                    w.r0 = i;
                    w.a0 = o;
                    w.r1 = j;
                    w.a1 = s0;
                    fn(&w, user);
                }
            }
        }
}

typedef struct {
    PsOcr *ocr;
    const guint8 *gray;
    int width, height;
    const LineRead *reads;
    const OcrChainLine *chains;
    double min;
    OcrReads *out;
} CodesOf;

static void code_of_window(const Window *w, gpointer user)
{
    const CodesOf *co = user;
    const LineRead *a = &co->reads[w->r0], *b = &co->reads[w->r1];
    OcrRead rd;
    double min = w->joined ? MAX(co->min, MIN_JOINED_CONFIDENCE) : co->min;
    if (!try_code(co->ocr, w->c, w->box, min, co->width, co->height, &rd))
        return;
    if (co->chains &&
        (w->joined ? vetoed(co->gray, co->width, co->height, &co->chains[a->src], a, w->a0, 4,
                            0, rd.code) ||
                         vetoed(co->gray, co->width, co->height, &co->chains[b->src], b, w->a1,
                                7, 4, rd.code)
                   : vetoed(co->gray, co->width, co->height, &co->chains[a->src], a, w->a0,
                            OCR_CODE_LEN, 0, rd.code)))
        return;
    if (co->chains && rd.confidence < SURE_READ &&
        (w->joined ? beyond_components(&co->chains[a->src], a, w->a0, 4) ||
                         beyond_components(&co->chains[b->src], b, w->a1, 7)
                   : beyond_components(&co->chains[a->src], a, w->a0, OCR_CODE_LEN)))
        return;
    ocr__add_read(co->ocr, co->out, &rd);
}

/* The codes of the @nr lines @reads: every 11 consecutive characters read on one line (kept at
 * @min), and every 4 read on one line with 7 read on another that continues them
 * (owner_then_serial(); kept at MIN_JOINED_CONFIDENCE and @min), go to try_code(). With
 * @chains (the lines the components made, which @reads read), a code the character network
 * reads otherwise on them is left out (vetoed()). */
static void codes_of(PsOcr *ocr, const guint8 *gray, int width, int height,
                     const LineRead *reads, int nr, const OcrChainLine *chains, double min,
                     OcrReads *out)
{
    CodesOf co = {ocr, gray, width, height, reads, chains, min, out};
    each_window(reads, nr, code_of_window, &co);
}

/* Reads the @n lines @found (heat_lines()) with the line network (only those through @near,
 * when not NULL; their character heights times @hscale), their codes into @out (codes_of(),
 * kept at @min). */
static void read_lines(PsOcr *ocr, const guint8 *gray, int width, int height,
                       const OcrLine *found, int n, const int *near, double min, double hscale,
                       OcrReads *out)
{
    LineRead *reads = g_new0(LineRead, OCR__MAX_LINES);
    int nr = read_strips(ocr, gray, width, height, found, n, near, hscale, reads);
    codes_of(ocr, gray, width, height, reads, nr, NULL, min, out);
    g_free(reads);
}

/* The components' lines (ocr->chain_lines) read once with the line network: into @reads, the
 * first time (*@nr < 0), for the weak code's confirmation and then for their own codes. Each
 * line is read CHAIN_LINE_MARGIN character heights longer at its start and @end_margin at its
 * end (CHAIN_LINE_MARGIN but for FAR_END_MARGIN's reading): it ends where the
 * components do, and a boxed check digit joined to its box, or a first letter joined to a
 * mark, is no component of it (seed 93102 frame 245: DKDZ731225 and the boxed 1 after it).
 * Chosen on the tuning seeds 61000-61020 and 93101-93202 (4,900 frames): 4 frames without a
 * code gave the right one and one right code became none, no wrong code more or fewer (1.0
 * at the end only: 3 and 1; 2.0 at the end: 4 and 2; 2.0 at both ends: 6 and 3). */
#define CHAIN_LINE_MARGIN 1.0

/* The components' lines again where nothing else gave a code (line_stages()), read this many
 * character heights past their end: characters standing further off than CHAIN_LINE_MARGIN
 * reaches. Chosen on the 151 frames of the tuning seeds 61000-61020 and
 * 93101-93202 that gave no code: 2.0, 2.5 and 3.0 each gave the same 2 right codes and none
 * wrong (TQBU8682812 on a roof, BZPU6763504 on a tank, both seed 93201 at 1080p). */
#define FAR_END_MARGIN 2.0

static void read_chain_strips(PsOcr *ocr, const guint8 *gray, int width, int height,
                              double end_margin, LineRead *reads, int *nr)
{
    if (*nr >= 0)
        return;
    OcrLine cl[OCR__MAX_LINES];
    for (int i = 0; i < ocr->n_chain_lines; i++) {
        OcrLine *l = &cl[i];
        *l = ocr->chain_lines[i].l;
        double dx = l->x1 - l->x0, dy = l->y1 - l->y0, len = hypot(dx, dy);
        if (len > 0) {
            double ux = dx / len * l->char_h, uy = dy / len * l->char_h;
            l->x0 -= ux * CHAIN_LINE_MARGIN;
            l->y0 -= uy * CHAIN_LINE_MARGIN;
            l->x1 += ux * end_margin;
            l->y1 += uy * end_margin;
        }
    }
    *nr = read_strips(ocr, gray, width, height, cl, ocr->n_chain_lines, NULL, 1.0, reads);
}

/* Whether codes @a and @b differ only in owner letters of one value modulo 11 (C, M and W; A,
 * K and U; ...), which the check digit cannot tell apart. */
static gboolean twins_only(const char *a, const char *b)
{
    for (int i = 0; i < OCR_CODE_LEN; i++)
        if (a[i] != b[i] &&
            (i > 2 || iso6346_char_value(a[i]) % 11 != iso6346_char_value(b[i]) % 11))
            return FALSE;
    return TRUE;
}

/* Whether codes @a and @b hold at some owner letter two letters of one value modulo 11. */
static gboolean twin_letters(const char *a, const char *b)
{
    for (int i = 0; i < 3; i++)
        if (a[i] != b[i] && iso6346_char_value(a[i]) % 11 == iso6346_char_value(b[i]) % 11)
            return TRUE;
    return FALSE;
}

/* A read of the thresholding stages under SURE_READ is read again by the line reader, an
 * independent network that sees whole lines (the characters in their context, a check digit
 * with its box): where it reads another code at the same place, the code more confident by
 * MARGIN or more is kept (the line reader's only from LINE_SURE, below), and neither when they
 * are closer. Not where the two differ only in
 * letters of one check value (M and W): that is the glyph alone, which the character network
 * judges. On the tuning seeds (61000 and 61010, 600 frames) the line reader read another code
 * at 6 of the 525 codes the frame gave under 0.95: 4 of the frame's 5 wrong codes, two of them
 * M read as W, which it read right at 0.95-1.0 against 0.44-0.71, and 2 right codes read at
 * 0.955 and 0.97, which it read wrong at 0.98 and 1.0 (hence SURE_READ). The M/W rule came
 * from the real photos of `ocr-dev2`, where the line reader read two right codes' M as W.
 *
 * The line reader's code replaces the frame's only where it reads it at LINE_SURE or more; a
 * surer reading under that leaves neither. Chosen on the tuning seeds 61000-61020 and
 * 93101-93202 (4,900 frames): of the 9 codes the line reader's reading replaced, the 7 it read
 * at 1.0 were right (the frame's codes wrong), the 2 it read at 0.80 and 0.94 wrong (the frame's
 * codes right, at 0.43-0.46). */
#define MARGIN 0.1
#define SECOND_OPINION_MIN 0.4
#define LINE_SURE 0.97

/* What the line reader reads at the place of the frame's code @b: the most confident reading
 * of @b's code (same), and of another code that is not @b's twin (other). */
typedef struct {
    PsOcr *ocr;
    int width, height;
    const OcrRead *b;
    double same;
    OcrRead other;
} Opinion;

static void opinion_window(const Window *w, gpointer user)
{
    Opinion *op = user;
    OcrRead rd;
    double min = MAX(SECOND_OPINION_MIN, op->ocr->opts.min_confidence);
    if (w->joined)
        min = MAX(min, MIN_JOINED_CONFIDENCE);
    if (!try_code(op->ocr, w->c, w->box, min, op->width, op->height, &rd) ||
        ocr__box_overlap(rd.bbox, op->b->bbox) < 0.3)
        return;
    if (strcmp(rd.code, op->b->code) == 0)
        op->same = MAX(op->same, rd.confidence);
    else if (!twins_only(rd.code, op->b->code) && rd.confidence > op->other.confidence)
        op->other = rd;
}

/* Returns TRUE when the line reader read another code there: the frame is settled. Where it
 * reads the frame's own code there too, as surely as the other less MARGIN, the other is
 * another window of the same line (ODPU2523952 and DPUZ5239522, both at 1.0, on seed 93102
 * frame 700: a window that took the serial's first digit for the category letter and a
 * digit of the size/type for the check digit) and the frame's reading decides. */
static gboolean second_opinion(PsOcr *ocr, const guint8 *gray, int width, int height,
                               OcrReads *out)
{
    int best = 0;
    for (int i = 1; i < out->n_reads; i++)
        if (out->reads[i].confidence > out->reads[best].confidence)
            best = i;
    OcrRead *b = &out->reads[best];
    if (b->confidence >= SURE_READ)
        return FALSE;
    int k = ocr__det_factor(width, height), hw = 0, hh = 0;
    float *heat =
        ocr__det_heatmap(gray, width, height, width, k, ocr__scratch_of(ocr), &hw, &hh);
    if (!heat)
        return FALSE;
    OcrLine lines[OCR__MAX_LINES];
    int n_lines = heat_lines(ocr, heat, hw, hh, 4 * k, lines);
    g_free(heat);
    LineRead *reads = g_new0(LineRead, OCR__MAX_LINES);
    int nr = read_strips(ocr, gray, width, height, lines, n_lines, b->bbox, 1.0, reads);
    Opinion op = {.ocr = ocr, .width = width, .height = height, .b = b};
    each_window(reads, nr, opinion_window, &op);
    g_free(reads);
    const OcrRead *other = op.other.code[0] ? &op.other : NULL;
    if (other && ocr->opts.debug)
        g_printerr("second opinion: %s %.3f against %s %.3f (read too at %.3f)\n", other->code,
                   other->confidence, b->code, b->confidence, op.same);
    if (other && op.same >= other->confidence - MARGIN)
        other = NULL;
    if (other && other->confidence >= b->confidence + MARGIN && other->confidence >= LINE_SURE) {
        char size_type[5];
        memcpy(size_type, b->size_type, sizeof size_type);
        *b = *other;
        memcpy(b->size_type, size_type, sizeof size_type);
    } else if (other && other->confidence > b->confidence - MARGIN) { /* or not sure enough */
        out->reads[best] = out->reads[--out->n_reads];
    }
    gboolean settled = other != NULL;
    qsort(out->reads, out->n_reads, sizeof(OcrRead), compare_reads);
    return settled;
}

/* The line through the box of code @w when it stands on one line (horizontal, at least 5
 * character heights long): into @l, TRUE. */
static gboolean line_of_code(const OcrRead *w, OcrLine *l)
{
    if (w->orientation != OCR_HORIZONTAL || w->bbox[2] < 5 * w->bbox[3])
        return FALSE;
    *l = (OcrLine){0};
    l->x0 = w->bbox[0];
    l->x1 = w->bbox[0] + w->bbox[2];
    l->y0 = l->y1 = w->bbox[1] + w->bbox[3] / 2.0;
    l->char_h = w->bbox[3];
    return TRUE;
}

/* Nothing gave a code: the most confident code the whole frame's read gave under
 * opts.min_confidence (@w), when it is a line (at least 5 times as wide as high), is read
 * by the line reader along its own box, its height the box's (then 0.85 of it: a check digit's
 * box makes the box taller than the characters), and last along the lines the components made
 * (@chain_reads, read_chain_strips(): they place a strip by the characters themselves). Where
 * that independent network reads the same 11 characters at detector_min_confidence or more,
 * the floor at which its reads stand alone, the code is kept at the line reader's confidence.
 * On real photos the character network is often unsure of whole codes it reads right
 * (`ocr-dev2`: 10 of the 27 photos without a code had the right one at 0.1-0.33, and no wrong
 * one over 0.26); the strip cut from the code's own box is better placed than the detector's
 * lines, which start or end a character or two off. */
static void confirm_weak(PsOcr *ocr, const guint8 *gray, int width, int height,
                         const OcrRead *w, LineRead *chain_reads, int *n_chain_reads,
                         OcrReads *out)
{
    /* The box is as high as the characters, or as a check digit's box around one, which
     * stands out of the line by a few pixels each way. */
    static const double box_heights[] = {1.0, 0.85};
    OcrLine l;
    if (!w->code[0] || !line_of_code(w, &l))
        return;
    OcrReads *alt = g_new0(OcrReads, 1);
    for (guint i = 0; i <= G_N_ELEMENTS(box_heights) && out->n_reads == 0; i++) {
        alt->n_reads = 0;
        if (i < G_N_ELEMENTS(box_heights)) {
            read_lines(ocr, gray, width, height, &l, 1, NULL, ocr->opts.detector_min_confidence,
                       box_heights[i], alt);
        } else {
            read_chain_strips(ocr, gray, width, height, CHAIN_LINE_MARGIN, chain_reads,
                              n_chain_reads);
            codes_of(ocr, gray, width, height, chain_reads, *n_chain_reads, NULL,
                     ocr->opts.detector_min_confidence, alt);
        }
        for (int k = 0; k < alt->n_reads; k++)
            if (strcmp(alt->reads[k].code, w->code) == 0) {
                if (ocr->opts.debug)
                    g_printerr("%s at %.3f confirmed by the line reader at %.3f\n", w->code,
                               w->confidence, alt->reads[k].confidence);
                OcrRead rd = *w;
                rd.confidence = alt->reads[k].confidence;
                ocr__add_read(ocr, out, &rd);
                break;
            }
    }
    g_free(alt);
}

/* A serial the line reader read alone (a run of exactly 7 digits, the first of a line)
 * anchors its owner code where the detector's map did not find it: the line reader reads,
 * along the serial's line, the OWNER_BEFORE character heights before it (an owner code on
 * another door panel, or in its own box) and, at
 * OWNER_ROWS character heights above it, parallel strips from a character height and a half
 * before the serial to its end (three rows; two rows on a roof or a tank). Each 4 characters
 * read there with the serial go to try_code(), kept from OWNER_MIN unless the character
 * network read another owner code for that serial there (owner_disputed()). On the 219
 * frames of the tuning seeds 93101-93202 that gave no code, with the codes of any run of 7
 * digits kept from MIN_JOINED_CONFIDENCE: 39 right codes (36 of them at 0.95 or more) and 3
 * wrong, at 0.97 (a serial read with a digit too many, in a run of 10 with the size/type's),
 * 0.92 and 0.91 (a serial digit misread, the check digit passing). Every owner strip and
 * window is one more chance for a check digit to pass by chance, hence a run of exactly 7 (1
 * right code fewer) and the floor of a sure read; with both and the dispute, 34 right, none
 * wrong. */
static const double OWNER_ROWS[] = {1.2, 1.5, 1.8};
#define OWNER_BEFORE 14.0
#define OWNER_MIN SURE_READ

/* Moves the start of @o (whose end is inside) to where it enters the @width x @height frame. */
static void clip_start(OcrLine *o, int width, int height)
{
    double f = 0; /* of the way from the start to the end */
    double dx = o->x1 - o->x0, dy = o->y1 - o->y0;
    if (o->x0 < 0 && dx > 0)
        f = MAX(f, -o->x0 / dx);
    if (o->x0 > width - 1 && dx < 0)
        f = MAX(f, (width - 1 - o->x0) / dx);
    if (o->y0 < 0 && dy > 0)
        f = MAX(f, -o->y0 / dy);
    if (o->y0 > height - 1 && dy < 0)
        f = MAX(f, (height - 1 - o->y0) / dy);
    o->x0 += MIN(f, 1.0) * dx;
    o->y0 += MIN(f, 1.0) * dy;
}

/* The first run of 7 digits @r read, or -1. */
static int serial_of(const LineRead *r)
{
    for (int a = 0; a + 7 <= r->n; a++) {
        int digits = 0;
        for (int j = 0; j < 7; j++)
            digits += kind_fits(ocr__argmax_of(r->chars[a + j].p), 4);
        gboolean before = a > 0 && kind_fits(ocr__argmax_of(r->chars[a - 1].p), 4);
        gboolean after = a + 7 < r->n && kind_fits(ocr__argmax_of(r->chars[a + 7].p), 4);
        if (digits == 7 && !before && !after)
            return a;
    }
    return -1;
}

/* Whether owner code @a, two or more of its letters differing from @b's, holds two
 * neighbouring letters of owner code @b one place before or after where @b has them: @a's
 * window then started a character off (a mark before the owner code taken in, a letter left
 * out), and its letters stand for @b's, not against them. */
static gboolean owner_shifted(const char *a, const char *b)
{
    int differ = 0;
    for (int i = 0; i < 4; i++)
        differ += a[i] != b[i];
    if (differ < 2) /* one letter misread, whatever else repeats */
        return FALSE;
    for (int i = 0; i + 2 <= 4; i++)
        for (int d = -1; d <= 1; d += 2) {
            int j = i + d;
            if (j >= 0 && j + 2 <= 4 && a[i] == b[j] && a[i + 1] == b[j + 1])
                return TRUE;
        }
    return FALSE;
}

/* Whether the character network read another owner code for @rd's serial at its place: a
 * code under the minimum (ocr->weaks) with the same serial and check digit and another owner
 * code, its box overlapping @rd's by 30% of the smaller. The line reader misreads owner
 * letters of real paint that the check digit cannot catch (the components' lines veto came
 * from two such codes of `ocr-dev2`, MHKU6911651 for MRKU6911651 and ICLU2128940 for
 * TCLU2128940, and without this the owner search gave both again, at 1.0 and 0.99, where the
 * character network had read MRKU and TCLU under the minimum). */
static gboolean owner_disputed(const PsOcr *ocr, const OcrRead *rd)
{
    for (int i = 0; i < ocr->n_weaks; i++) {
        const OcrRead *w = &ocr->weaks[i];
        if (strcmp(w->code + 4, rd->code + 4) == 0 && strncmp(w->code, rd->code, 4) != 0 &&
            !owner_shifted(w->code, rd->code) && ocr__box_overlap(w->bbox, rd->bbox) >= 0.3) {
            if (ocr->opts.debug)
                g_printerr("owner disputed: %s against %s %.3f\n", rd->code, w->code, w->confidence);
            return TRUE;
        }
    }
    return FALSE;
}

static void owner_for_serial(PsOcr *ocr, const guint8 *gray, int width, int height,
                             const LineRead *r, int s0, double min, OcrReads *out)
{
    const OcrLine *l = &r->l;
    double len = hypot(l->x1 - l->x0, l->y1 - l->y0), h = l->char_h;
    double ux = len > 0 ? (l->x1 - l->x0) / len : 1, uy = len > 0 ? (l->y1 - l->y0) / len : 0;
    double step = 1.6 * h / OCR__LINE_H;
    /* Where the serial starts and ends along the line (as window_box()). */
    double start = -0.35 * h + 4 * r->chars[s0].t * step - 0.3 * h;
    double end = -0.35 * h + (4 * r->chars[s0 + 6].t + 4) * step + 0.3 * h;
    OcrLine ol[1 + G_N_ELEMENTS(OWNER_ROWS)];
    OcrLine o = *l;
    o.peak = 0;
    o.x0 = l->x0 + (start - OWNER_BEFORE * h) * ux;
    o.y0 = l->y0 + (start - OWNER_BEFORE * h) * uy;
    o.x1 = l->x0 + start * ux;
    o.y1 = l->y0 + start * uy;
    clip_start(&o, width, height);
    ol[0] = o;
    for (guint k = 0; k < G_N_ELEMENTS(OWNER_ROWS); k++) {
        double dx = OWNER_ROWS[k] * h * uy, dy = -OWNER_ROWS[k] * h * ux; /* up */
        o.x0 = l->x0 + (start - 1.5 * h) * ux + dx;
        o.y0 = l->y0 + (start - 1.5 * h) * uy + dy;
        o.x1 = l->x0 + end * ux + dx;
        o.y1 = l->y0 + end * uy + dy;
        ol[1 + k] = o;
    }
    LineRead *owners = g_new0(LineRead, G_N_ELEMENTS(ol));
    int n = read_strips(ocr, gray, width, height, ol, G_N_ELEMENTS(ol), NULL, 1.0, owners);
    const OcrLineChar *c[OCR_CODE_LEN];
    double ob[4], sb[4], box[4];
    OcrRead rd;
    window_box(r, s0, s0 + 6, sb);
    for (int k = 0; k < 7; k++)
        c[4 + k] = &r->chars[s0 + k];
    for (int i = 0; i < n; i++)
        for (int a = 0; a + 4 <= owners[i].n; a++) {
            for (int k = 0; k < 4; k++)
                c[k] = &owners[i].chars[a + k];
            window_box(&owners[i], a, a + 3, ob);
            box[0] = MIN(ob[0], sb[0]);
            box[1] = MIN(ob[1], sb[1]);
            box[2] = MAX(ob[2], sb[2]);
            box[3] = MAX(ob[3], sb[3]);
            if (try_code(ocr, c, box, min, width, height, &rd) && !owner_disputed(ocr, &rd))
                ocr__add_read(ocr, out, &rd);
        }
    g_free(owners);
}

/* The serials of the @nr lines @reads (serial_of()) with the owner codes found for them. */
static void owners_for_serials(PsOcr *ocr, const guint8 *gray, int width, int height,
                               const LineRead *reads, int nr, OcrReads *out)
{
    for (int i = 0; i < nr; i++) {
        int s0 = serial_of(&reads[i]);
        if (s0 >= 0)
            owner_for_serial(ocr, gray, width, height, &reads[i], s0, OWNER_MIN, out);
    }
}

/* The last stage: the OCR__MAX_WEAKS surest codes the whole frame and the detector's regions
 * gave under the minimum (ocr->weaks), any layout, each pooled character by character with
 * each window of 11 characters the line reader read at its place (its box and the window's
 * overlapping by FUSED_OVERLAP of the smaller), as OcrFusion pools two views of one container
 * (log-linear, each read mixed with 5% of a uniform distribution, codes differing in at most 3
 * characters). The two networks share nothing, and each is often unsure of another character:
 * the character network of a letter on a rib, the line reader of a character its strip cut.
 * Where the pooled code holds at an owner letter the twin of the weak code's (M for W, H for
 * R: one check value), the line reader has outvoted the character network on a glyph the
 * check digit cannot tell, which the character network judges (as in the line check): the
 * pooled code is not kept (`ocr-dev2`: MRKU6911651 pooled into MHKU6911651 at 0.97).
 * Like try_code(), a window or a weak code with more than one character of the other kind
 * (`MAX GROSS 30480` read as XGROSS30480: S at two digits) is not pooled, and the pooled
 * confidence is multiplied by the window's not-blank odds. A pooled code is kept from
 * FUSED_MIN, the confidence at which a frame's code stands without the line check: on the
 * tuning seeds 93101-93202 (4,000 frames) the pooled codes at 0.90 or more were 9 right and 1
 * wrong (at 0.903: a 5 the line reader read 6, the check digit 0 passing either way); at 0.95 or
 * more, 7 right. */
#define FUSED_MIN SURE_READ
#define FUSED_OVERLAP 0.5

typedef struct {
    PsOcr *ocr;
    int width, height;
    const OcrRead *weak;
    gboolean anywhere; /* the windows are of an image made of the weak code's own characters */
    OcrRead best;
} FuseWeak;

/* A code read down a column laid on one line for the line reader, which reads lines: in the
 * image made, each character's box copied side by side, COLUMN_GAPS character heights apart
 * (one image each: the line reader's reading of such a line changes with the gap), COLUMN_PAD
 * wider each way, on the gray around it in the frame. */
static const double COLUMN_GAPS[] = {0.15, 0.35};
#define COLUMN_PAD 0.1

/* The median of the pixels on the border of [x0, x1] x [y0, y1] (clipped to the frame). */
static guint8 ring_median(const guint8 *gray, int width, int height, int x0, int y0, int x1,
                          int y1)
{
    guint hist[256] = {0}, n = 0;
    x0 = CLAMP(x0, 0, width - 1);
    x1 = CLAMP(x1, 0, width - 1);
    y0 = CLAMP(y0, 0, height - 1);
    y1 = CLAMP(y1, 0, height - 1);
    for (int x = x0; x <= x1; x++) {
        hist[gray[(size_t)y0 * width + x]]++;
        hist[gray[(size_t)y1 * width + x]]++;
        n += 2;
    }
    for (int y = y0 + 1; y < y1; y++) {
        hist[gray[(size_t)y * width + x0]]++;
        hist[gray[(size_t)y * width + x1]]++;
        n += 2;
    }
    guint acc = 0;
    for (int v = 0; v < 256; v++)
        if ((acc += hist[v]) * 2 >= n)
            return (guint8)v;
    return 128;
}

/* The image (g_free() it; @w x @h) of the 11 characters of a column whose boxes (x0, y0, x1,
 * y1, frame pixels) are @boxes, laid side by side on their own line @gap_h character heights
 * apart (each box COLUMN_PAD wider each way), each on its surroundings' median gray, centred on
 * the middle row; the line through them in @l. NULL when the characters are under 4 pixels
 * high. */
static guint8 *column_as_line(const guint8 *gray, int width, int height,
                              const double boxes[OCR_CODE_LEN][4], double gap_h, int *w, int *h,
                              OcrLine *l)
{
    double hs[OCR_CODE_LEN];
    for (int k = 0; k < OCR_CODE_LEN; k++)
        hs[k] = boxes[k][3] - boxes[k][1];
    for (int i = 1; i < OCR_CODE_LEN; i++)
        for (int j = i; j > 0 && hs[j - 1] > hs[j]; j--) {
            double t = hs[j];
            hs[j] = hs[j - 1];
            hs[j - 1] = t;
        }
    double ch = hs[OCR_CODE_LEN / 2];
    if (ch < 4)
        return NULL;
    int pad = (int)ceil(COLUMN_PAD * ch), gap = (int)ceil(gap_h * ch);
    int end = (int)ceil(2 * ch), ih = (int)ceil(3 * ch) + 2 * pad;
    int sx0[OCR_CODE_LEN], sy0[OCR_CODE_LEN], sx1[OCR_CODE_LEN], sy1[OCR_CODE_LEN];
    int iw = 2 * end;
    for (int k = 0; k < OCR_CODE_LEN; k++) {
        sx0[k] = CLAMP((int)floor(boxes[k][0]) - pad, 0, width - 1);
        sx1[k] = CLAMP((int)ceil(boxes[k][2]) + pad, sx0[k], width - 1);
        sy0[k] = CLAMP((int)floor(boxes[k][1]) - pad, 0, height - 1);
        sy1[k] = CLAMP((int)ceil(boxes[k][3]) + pad, sy0[k], height - 1);
        sy1[k] = MIN(sy1[k], sy0[k] + ih - 1);
        iw += sx1[k] - sx0[k] + 1 + (k ? gap : 0);
    }
    guint8 *img = g_malloc((size_t)iw * ih);
    int x = end;
    for (int k = 0; k < OCR_CODE_LEN; k++) {
        int cw = sx1[k] - sx0[k] + 1, rows = sy1[k] - sy0[k] + 1;
        guint8 bg = ring_median(gray, width, height, sx0[k] - 1, sy0[k] - 1, sx1[k] + 1,
                                sy1[k] + 1);
        int f0 = k == 0 ? 0 : x - gap / 2;
        int f1 = k == OCR_CODE_LEN - 1 ? iw : x + cw + (gap + 1) / 2;
        for (int y = 0; y < ih; y++)
            memset(img + (size_t)y * iw + f0, bg, (size_t)(f1 - f0));
        int dy = ih / 2 - rows / 2;
        for (int y = 0; y < rows; y++)
            memcpy(img + (size_t)(dy + y) * iw + x, gray + (size_t)(sy0[k] + y) * width + sx0[k],
                   (size_t)cw);
        x += cw + gap;
    }
    *l = (OcrLine){0};
    l->x0 = end + pad - CHAIN_LINE_MARGIN * ch; /* read past the ends, as a components' line */
    l->x1 = x - gap - pad + CHAIN_LINE_MARGIN * ch;
    l->y0 = l->y1 = ih / 2.0;
    l->char_h = ch;
    *w = iw;
    *h = ih;
    return img;
}

static void fuse_window(const Window *w, gpointer user)
{
    FuseWeak *fw = user;
    const OcrRead *weak = fw->weak;
    OcrRead lr;
    memset(&lr, 0, sizeof lr);
    double x0 = CLAMP(w->box[0], 0, fw->width - 1), y0 = CLAMP(w->box[1], 0, fw->height - 1);
    lr.bbox[0] = (int)x0;
    lr.bbox[1] = (int)y0;
    lr.bbox[2] = (int)(CLAMP(w->box[2], x0 + 1, fw->width) - x0 + 0.5);
    lr.bbox[3] = (int)(CLAMP(w->box[3], y0 + 1, fw->height) - y0 + 0.5);
    if (!fw->anywhere && ocr__box_overlap(lr.bbox, weak->bbox) < FUSED_OVERLAP)
        return;
    lr.confidence = window_probs(w->c, &lr.probs);
    if (lr.confidence < 0 || (fw->ocr->opts.even_serials && crowded_window(w->c)))
        return;
    OcrFusionOptions fo;
    ocr_fusion_options_init(&fo);
    fo.min_reads = 2;
    fo.min_confidence = 0;
    OcrFusion *f = ocr_fusion_new(&fo);
    ocr_fusion_add(f, weak);
    ocr_fusion_add(f, &lr);
    OcrReads *res = g_new(OcrReads, 1);
    ocr_fusion_result(f, TRUE, res);
    for (int i = 0; i < res->n_reads; i++) {
        OcrRead rd = res->reads[i];
        if (twin_letters(rd.code, weak->code))
            continue;
        rd.confidence *= lr.confidence;
        if (fw->ocr->opts.debug)
            g_printerr("fused %s %.3f (weak %s %.3f)\n", rd.code, rd.confidence, weak->code,
                       weak->confidence);
        if (rd.confidence > fw->best.confidence) {
            rd.orientation = weak->orientation;
            memcpy(rd.bbox, weak->bbox, sizeof rd.bbox);
            fw->best = rd;
        }
    }
    g_free(res);
    ocr_fusion_free(f);
}

/* @reads (room for OCR__MAX_LINES more than @nr) are the lines the line reader read. */
static void fuse_weak(PsOcr *ocr, const guint8 *gray, int width, int height, LineRead *reads,
                      int nr, OcrReads *out)
{
    FuseWeak fw = {.ocr = ocr, .width = width, .height = height};
    for (int i = 0; i < ocr->n_weaks; i++) {
        const OcrRead *w = &ocr->weaks[i];
        int off = 0;
        for (int j = 0; j < OCR_CODE_LEN; j++) {
            int bk = 0;
            for (int k = 1; k < OCR_N_CLASSES; k++)
                if (w->probs.p[j][k] > w->probs.p[j][bk])
                    bk = k;
            off += !kind_fits(bk, j);
        }
        if (off > 1)
            continue;
        if (ocr->opts.debug)
            g_printerr("fusing %s %.3f at %d,%d %dx%d\n", w->code, w->confidence, w->bbox[0],
                       w->bbox[1], w->bbox[2], w->bbox[3]);
        int n = nr;
        OcrLine l;
        if (line_of_code(w, &l))
            n += read_strips(ocr, gray, width, height, &l, 1, NULL, 1.0, reads + n);
        const OcrWeakPlace *p = &ocr->weak_places[i];
        if (ocr->opts.weak_rows && p->two_rows)
            n += read_strips(ocr, gray, width, height, p->rows, 2, NULL, 1.0, reads + n);
        fw.weak = w;
        for (guint g = 0; ocr->opts.weak_columns && p->in_column && g < G_N_ELEMENTS(COLUMN_GAPS);
             g++) {
            OcrLine cl;
            int cw, chh;
            guint8 *col = column_as_line(gray, width, height, p->column, COLUMN_GAPS[g], &cw,
                                         &chh, &cl);
            if (!col)
                break;
            int m = read_strips(ocr, col, cw, chh, &cl, 1, NULL, 1.0, reads + n);
            g_free(col);
            fw.anywhere = TRUE;
            each_window(reads + n, m, fuse_window, &fw);
            fw.anywhere = FALSE;
        }
        each_window(reads, n, fuse_window, &fw);
    }
    if (fw.best.code[0] && fw.best.confidence >= FUSED_MIN) {
        if (ocr->opts.debug)
            g_printerr("pooled with the line reader: %s at %.3f\n", fw.best.code,
                       fw.best.confidence);
        ocr__add_read(ocr, out, &fw.best);
    }
}

/* The scale that brings @r's characters to TARGET_CHAR_H when its blob holds @rows rows
 * (within 0.4-3, the scaled region at most MAX_REGION_SIDE). */
static double region_scale(const Region *r, double rows)
{
    double u = CLAMP(TARGET_CHAR_H * rows / MAX(r->char_h, 1), 0.4, 3.0);
    return MIN(u, (double)MAX_REGION_SIDE / MAX(r->x1 - r->x0, r->y1 - r->y0));
}

/* Reads region @r of the frame scaled by @u (unless a read of @out covers it) with the
 * thresholding stages, into @out the codes at or above the detector's minimum; @sub is
 * scratch. */
static void read_region(PsOcr *ocr, const guint8 *gray, int width, int height, const Region *r,
                        double u, OcrReads *sub, OcrReads *out)
{
    if (already_read(out, r))
        return;
    int rw = r->x1 - r->x0, rh = r->y1 - r->y0;
    int cw = (int)(rw * u), ch = (int)(rh * u);
    if (cw < 16 || ch < 16)
        return;
    guint8 *c = cut(gray, width, height, r, u, cw, ch);
    ocr->weak_x0 = r->x0;
    ocr->weak_y0 = r->y0;
    ocr->weak_scale = u;
    ocr->keep_weaks = TRUE;
    ocr->keep_chain_lines = ocr->opts.region_chains ? OCR__CHAINS_OF_REGION : OCR__CHAINS_NONE;
    ocr__read_gray(ocr, c, cw, ch, sub);
    ocr->keep_weaks = FALSE;
    ocr->keep_chain_lines = OCR__CHAINS_NONE;
    g_free(c);
    if (ocr->opts.debug)
        g_printerr("detector region %d,%d %dx%d (char %.0f px, peak %.2f, x%.2f): %d reads\n",
                   r->x0, r->y0, rw, rh, r->char_h, r->peak, u, sub->n_reads);
    for (int j = 0; j < sub->n_reads; j++) {
        OcrRead rd = sub->reads[j];
        if (rd.confidence < ocr->opts.detector_min_confidence) {
            ocr__keep_weak(ocr, &rd); /* under the region's floor: weak */
            continue;
        }
        rd.bbox[0] = r->x0 + (int)(rd.bbox[0] / u);
        rd.bbox[1] = r->y0 + (int)(rd.bbox[1] / u);
        rd.bbox[2] = (int)(rd.bbox[2] / u + 0.5);
        rd.bbox[3] = (int)(rd.bbox[3] / u + 0.5);
        ocr__add_read(ocr, out, &rd);
    }
}

/* The components' lines' reads (read_chain_strips(), into @chain_reads, *@n_chain_reads of
 * them) appended once to @line_reads (*@n_line_reads), for the stages that read both sets;
 * *@in says whether they are in. Nothing when @chain_reads is NULL. */
static void append_chain_reads(PsOcr *ocr, const guint8 *gray, int width, int height,
                               LineRead *chain_reads, int *n_chain_reads, gboolean *in,
                               LineRead *line_reads, int *n_line_reads)
{
    if (!chain_reads || *in)
        return;
    read_chain_strips(ocr, gray, width, height, CHAIN_LINE_MARGIN, chain_reads, n_chain_reads);
    memcpy(line_reads + *n_line_reads, chain_reads, *n_chain_reads * sizeof *chain_reads);
    *n_line_reads += *n_chain_reads;
    *in = TRUE;
}

/* The line reader's stages, with network ocr->ctc_net, each only while @out has no code: the
 * detector's @n_lines @lines; the @n @regions again, enlarged (not when @regions is NULL);
 * the lines at other character heights; the line reader on the box of @frame_weak, the whole
 * frame's surest code under the minimum; the components' lines; the owner search; the weak
 * codes pooled. @sub is read_region()'s. */
static void line_stages(PsOcr *ocr, const guint8 *gray, int width, int height,
                        const OcrLine *lines, int n_lines, const Region *regions, int n,
                        OcrReads *sub, const OcrRead *frame_weak, OcrReads *out)
{
    /* What the line reader read there, kept for the owner search and the pooling, which add
     * the components' lines (LineRead.src then indexes either lines or ocr->chain_lines:
     * not for vetoed()). */
    LineRead *line_reads = g_new0(LineRead, 3 * OCR__MAX_LINES);
    int n_line_reads = 0;
    if (n_lines > 0) {
        n_line_reads = read_strips(ocr, gray, width, height, lines, n_lines, NULL, 1.0,
                                   line_reads);
        codes_of(ocr, gray, width, height, line_reads, n_line_reads, NULL,
                 ocr->opts.detector_min_confidence, out);
    }
    const int n_det_reads = n_line_reads; /* the detector's lines, before the components' */
    /* At most ENLARGED_FRAMES times the pixels the whole frame was read at (halved when wider
     * than 1200 px): a frame without a code (most frames of a live camera) costs at most that
     * much more; the strongest regions come first. */
    double budget = ENLARGED_FRAMES * width * height / (width > 1200 ? 4.0 : 1.0);
    for (int i = 0; regions && i < n && out->n_reads == 0 && ocr->opts.enlarge_regions; i++) {
        const Region *r = &regions[i];
        double u = region_scale(r, ROWS_MERGED);
        double area = (r->x1 - r->x0) * u * (r->y1 - r->y0) * u;
        if (u < 1.3 * region_scale(r, 1) || area > budget)
            continue;
        budget -= area;
        read_region(ocr, gray, width, height, r, u, sub, out);
    }
    /* A line's character height is a whole number of cells (the median of its columns'
     * counts): characters of 2.7 cells were cut as 2 (XSWU3377572 read XSWU5375724 at 16 px
     * for 22). Still nothing: the lines again, cut a third taller, then a fifth shorter, their
     * codes kept only from MIN_JOINED_CONFIDENCE (more readings, more windows whose check
     * digit passes by chance). The heights were chosen on the tuning seeds 61000, 61010 and
     * 61020 (900 frames: 5 more right at 0.93-1.0, none wrong; 1.6 and 0.65 besides gave one
     * more). The floor and the place after the enlarged regions came from seeds 93101-93202
     * (4000 frames): before them, one wrong code at 0.64 where there was none, and one at
     * 0.99 where the enlarged regions read the right code. */
    static const double retry_heights[] = {1.3, 0.8};
    for (guint i = 0; i < G_N_ELEMENTS(retry_heights) && n_lines > 0 && out->n_reads == 0; i++)
        read_lines(ocr, gray, width, height, lines, n_lines, NULL,
                   MAX(ocr->opts.detector_min_confidence, MIN_JOINED_CONFIDENCE),
                   retry_heights[i], out);
    /* Still nothing: the line reader on the box of the surest code under the minimum. */
    LineRead *chain_reads = NULL;
    int n_chain_reads = -1; /* the components' lines, read once for the stages below */
    gboolean chain_reads_in = FALSE; /* and appended to line_reads */
    if (out->n_reads == 0 && ocr->opts.line_reader &&
        (ocr->opts.confirm_weak || ocr->opts.chain_lines || ocr->opts.owner_search ||
         ocr->opts.fuse_weak))
        chain_reads = g_new0(LineRead, OCR__MAX_LINES);
    if (out->n_reads == 0 && ocr->opts.line_reader && ocr->opts.confirm_weak)
        confirm_weak(ocr, gray, width, height, frame_weak, chain_reads, &n_chain_reads, out);
    /* Still nothing: the line reader on the longest lines the components made, which place
     * and size a strip better than the detector's map where it merged rows or stopped short;
     * the codes kept from MIN_JOINED_CONFIDENCE, as the retries above, and only where the
     * character network, reading each component alone, prefers no other character. */
    if (out->n_reads == 0 && ocr->opts.line_reader && ocr->opts.chain_lines) {
        read_chain_strips(ocr, gray, width, height, CHAIN_LINE_MARGIN, chain_reads,
                          &n_chain_reads);
        codes_of(ocr, gray, width, height, chain_reads, n_chain_reads, ocr->chain_lines,
                 MAX(ocr->opts.detector_min_confidence, MIN_JOINED_CONFIDENCE), out);
    }
    /* Still nothing: the owner codes of the serials the line reader read alone. */
    if (out->n_reads == 0 && ocr->opts.line_reader && ocr->opts.owner_search) {
        append_chain_reads(ocr, gray, width, height, chain_reads, &n_chain_reads,
                           &chain_reads_in, line_reads, &n_line_reads);
        owners_for_serials(ocr, gray, width, height, line_reads, n_line_reads, out);
    }
    if (out->n_reads == 0 && ocr->opts.line_reader && ocr->opts.fuse_weak) {
        append_chain_reads(ocr, gray, width, height, chain_reads, &n_chain_reads,
                           &chain_reads_in, line_reads, &n_line_reads);
        fuse_weak(ocr, gray, width, height, line_reads, n_line_reads, out);
    }
    /* Still nothing: an owner code read on one of the detector's lines joined with a serial
     * read on one of the components' lines, or the reverse. Each set's own joins were tried
     * with its codes; an owner code on one door panel and the serial on the other are sometimes
     * read only across them: the detector's map holds the owner code's line, the components
     * the serial's (seed 93102 frame 101, AZGU and 6615160 7 character heights apart). Kept
     * from SURE_READ, as the owner search's joins: every pair of lines is one more chance for
     * a check digit to pass by chance. From MIN_JOINED_CONFIDENCE, as the joins within a set,
     * the 151 tuning frames without a code gave 2 right codes more (0.86, 0.88) and none
     * wrong, but never-used seed 99952 gave a wrong one at 0.87 (HVMJ3081624 for HWMJ3809162,
     * a serial window shifted, where the wide network read the right code). The components'
     * veto is not applied, as to the detector's lines. */
    if (out->n_reads == 0 && ocr->opts.line_reader && ocr->opts.chain_lines &&
        ocr->opts.cross_joins && chain_reads && n_det_reads > 0) {
        append_chain_reads(ocr, gray, width, height, chain_reads, &n_chain_reads,
                           &chain_reads_in, line_reads, &n_line_reads);
        CodesOf co = {ocr, gray, width, height, line_reads, NULL, SURE_READ, out};
        each_joined_window(line_reads, n_line_reads, n_det_reads, code_of_window, &co);
    }
    /* Still nothing: the components' lines again, read FAR_END_MARGIN character heights past
     * their end, for a boxed check digit standing further off than CHAIN_LINE_MARGIN reaches
     * (a tank's box beyond the shell's edge, a serial's end under glare). A character read
     * there is at no component's place: such a code is kept only from SURE_READ. */
    if (out->n_reads == 0 && ocr->opts.line_reader && ocr->opts.chain_lines &&
        ocr->opts.far_ends && ocr->n_chain_lines > 0) {
        int n_far = -1; /* after the reads above: line_reads holds 3 * OCR__MAX_LINES */
        LineRead *far = line_reads + n_line_reads;
        read_chain_strips(ocr, gray, width, height, FAR_END_MARGIN, far, &n_far);
        codes_of(ocr, gray, width, height, far, n_far, ocr->chain_lines,
                 MAX(ocr->opts.detector_min_confidence, MIN_JOINED_CONFIDENCE), out);
    }
    g_free(line_reads);
    g_free(chain_reads);
}

static void read_frame(PsOcr *ocr, const guint8 *gray, int width, int height, OcrReads *out)
{
    ocr->n_chain_lines = 0;
    ocr->n_weaks = 0;
    ocr->weak_x0 = ocr->weak_y0 = 0;
    ocr->weak_scale = 1;
    ocr->keep_chain_lines = OCR__CHAINS_OF_FRAME;
    ocr->keep_weaks = TRUE;
    ocr->ctc_net = OCR__CTC_FIRST;
    if (ocr->opts.detector != OCR_DETECTOR_ONLY)
        ocr__read_gray(ocr, gray, width, height, out);
    ocr->keep_chain_lines = OCR__CHAINS_NONE;
    ocr->keep_weaks = FALSE;
    /* The whole frame's surest code under the minimum (the detector's regions add theirs to
     * ocr->weaks later), for confirm_weak(). */
    OcrRead frame_weak = {0};
    if (ocr->n_weaks > 0 && ocr->weaks[0].confidence > 0)
        frame_weak = ocr->weaks[0];
    /* A read the line reader contradicts is settled there: the detector's regions would only
     * read the same place again. */
    if (ocr->opts.line_check && ocr->opts.line_reader && ocr->opts.detector != OCR_DETECTOR_OFF &&
        out->n_reads > 0 && second_opinion(ocr, gray, width, height, out))
        return;
    /* union: the detector only when the whole frame gave no code. On generated frames (seeds
     * 52301, 52302) and the real photos, reading the uncovered regions of frames that had a
     * code changed no frame's best code, and cost the detector and those reads. */
    if (ocr->opts.detector == OCR_DETECTOR_OFF ||
        (ocr->opts.detector == OCR_DETECTOR_UNION && out->n_reads > 0))
        return;
    int k = ocr__det_factor(width, height), hw = 0, hh = 0;
    float *heat =
        ocr__det_heatmap(gray, width, height, width, k, ocr__scratch_of(ocr), &hw, &hh);
    if (!heat)
        return;
    Region regions[MAX_REGIONS];
    int n = regions_of(heat, hw, hh, 4 * k, width, height, (float)ocr->opts.detector_threshold,
                       regions);
    /* Each region at the scale its blob's thickness gives; then the line reader, for what the
     * thresholding stages could not cut into characters; then, when still nothing, each region
     * again as if its blob held ROWS_MERGED rows. A blob's thickness is a line's character
     * height only when the line stands alone: rows closer than a cell or two of the map (an
     * owner code above its serial, a size/type right below the code) make one blob as thick
     * as all of them, and characters of 10-15 px were then read at that size. The line reader
     * comes first because enlarging a region whose thickness was right can shift a window.
     * Last, the lines again at other character heights. */
    OcrReads *sub = g_new(OcrReads, 1);
    for (int i = 0; i < n; i++)
        read_region(ocr, gray, width, height, &regions[i], region_scale(&regions[i], 1), sub,
                    out);
    OcrLine lines[OCR__MAX_LINES];
    int n_lines = ocr->opts.line_reader && out->n_reads == 0
                      ? heat_lines(ocr, heat, hw, hh, 4 * k, lines)
                      : 0;
    line_stages(ocr, gray, width, height, lines, n_lines, regions, n, sub, &frame_weak, out);
    /* Still nothing: the line reader's stages again with the wide network (not the enlarged
     * regions: the character network reads them), its codes kept from MIN_JOINED_CONFIDENCE
     * (a second reading of every line, more windows whose check digit passes by chance). */
    if (out->n_reads == 0 && ocr->opts.line_reader && ocr->opts.wide_lines) {
        const double min = ocr->opts.min_confidence;
        ocr->opts.min_confidence = MAX(min, MIN_JOINED_CONFIDENCE);
        ocr->ctc_net = OCR__CTC_WIDE;
        line_stages(ocr, gray, width, height, lines, n_lines, NULL, 0, sub, &frame_weak, out);
        ocr->ctc_net = OCR__CTC_FIRST;
        ocr->opts.min_confidence = min;
    }
    g_free(sub);
    g_free(heat);
    qsort(out->reads, out->n_reads, sizeof(OcrRead), compare_reads);
}

/* The weak codes kept while reading (ocr->weaks) from opts.weak_reads, after the codes: one per
 * code and place. */
static void add_weak_reads(PsOcr *ocr, OcrReads *out)
{
    for (int i = 0; i < ocr->n_weaks && out->n_reads < OCR_MAX_READS; i++) {
        const OcrRead *w = &ocr->weaks[i];
        if (!w->code[0] || w->confidence < ocr->opts.weak_reads)
            continue;
        gboolean known = FALSE;
        for (int k = 0; k < out->n_reads; k++)
            known |= strcmp(out->reads[k].code, w->code) == 0 ||
                     ocr__box_overlap(out->reads[k].bbox, w->bbox) > 0.3;
        if (!known)
            out->reads[out->n_reads++] = *w;
    }
}

void ocr__read_frame(PsOcr *ocr, const guint8 *gray, int width, int height, OcrReads *out)
{
    memset(out, 0, sizeof *out);
    ocr__avx2_allowed = ocr->opts.avx2;
    ocr__scratch_next_frame(ocr__scratch_of(ocr));
    read_frame(ocr, gray, width, height, out);
    if (ocr->opts.weak_reads > 0)
        add_weak_reads(ocr, out);
}
