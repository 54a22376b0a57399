/* rescue.c: rescue of broken lines. A character the binarization lost (it straddles a
 * shadow's edge, touches a rib or its neighbour, is faint) breaks a line or column of the code into pieces
 * too short for a window of 11, or leaves a gap the links jumped. A line that already holds
 * several characters tells where the missing ones must be: its pitch, its top and bottom. At
 * each such place the frame is binarized again by Otsu's threshold of that window alone, and
 * the character is classified from the ink found there; only places the network reads as a
 * character join the line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

#define RESCUE_MAX_LEN 14 /* a code and a mark or two either side */

typedef struct {
    gboolean vertical;
    gboolean bright;
    double pitch;          /* frame pixels between character centres along the line */
    double w, h;           /* median character width and height */
    double wmax;           /* widest character */
    /* Across-line position as a function of the along-line one: for lines, the top and the
     * bottom edge (y = a + b * x); for columns, the centre (x = a + b * y). */
    double a0, b0, a1, b1;
} LineModel;

static double along(const Comp *c, gboolean vertical, int s)
{
    return vertical ? (c->y + c->h / 2.0) * s : (c->x + c->w / 2.0) * s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Least-squares line y = a + b x through @n points (b = 0 when the xs do not spread). */
static void fit(const double *x, const double *y, int n, double *a, double *b)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
    }
    double d = n * sxx - sx * sx;
    *b = fabs(d) > 1e-9 * (1 + sxx) ? (n * sxy - sx * sy) / d : 0;
    *b = CLAMP(*b, -0.3, 0.3); /* codes are within a few degrees of level */
    *a = (sy - *b * sx) / n;
}

static gboolean line_model(const Frame *f, const int *seq, int n, gboolean vertical,
                           LineModel *m)
{
    const Comp *c = (const Comp *)f->comps->data;
    int s = f->scale;
    double pos[RESCUE_MAX_LEN], t0[RESCUE_MAX_LEN], t1[RESCUE_MAX_LEN], ws[RESCUE_MAX_LEN],
        hs[RESCUE_MAX_LEN], d[RESCUE_MAX_LEN];
    memset(m, 0, sizeof *m);
    m->vertical = vertical;
    m->bright = c[seq[0]].bright;
    for (int i = 0; i < n; i++) {
        const Comp *k = &c[seq[i]];
        pos[i] = along(k, vertical, s);
        t0[i] = vertical ? (k->x + k->w / 2.0) * s : (double)k->y * s;
        t1[i] = (double)(k->y + k->h) * s;
        ws[i] = (double)k->w * s;
        hs[i] = (double)k->h * s;
        m->wmax = MAX(m->wmax, ws[i]);
        if (i > 0)
            d[i - 1] = pos[i] - pos[i - 1];
    }
    fit(pos, t0, n, &m->a0, &m->b0);
    fit(pos, t1, n, &m->a1, &m->b1);
    m->w = median_of(ws, n);
    m->h = median_of(hs, n);
    /* The smaller half of the steps: a step over a lost character is twice as long. */
    qsort(d, n - 1, sizeof(double), cmp_double);
    m->pitch = d[(n - 2) / 2];
    return m->pitch > 0.3 * m->h && m->pitch < 2.5 * m->h;
}

/* Otsu's threshold of the frame window [x0, x1) x [y0, y1); FALSE when the window is too flat
 * to hold a character. */
static gboolean otsu(const Frame *f, int x0, int y0, int x1, int y1, int *t)
{
    guint hist[256] = {0};
    for (int y = y0; y < y1; y++) {
        const guint8 *row = f->gray + (size_t)y * f->width;
        for (int x = x0; x < x1; x++)
            hist[row[x]]++;
    }
    double total = (double)(x1 - x0) * (y1 - y0), sum = 0;
    for (int i = 0; i < 256; i++)
        sum += (double)i * hist[i];
    double wb = 0, sb = 0, best = -1, spread = 0;
    for (int i = 0; i < 255; i++) {
        wb += hist[i];
        sb += (double)i * hist[i];
        double wf = total - wb;
        if (wb == 0 || wf == 0)
            continue;
        double mb = sb / wb, mf = (sum - sb) / wf;
        double between = wb * wf * (mf - mb) * (mf - mb);
        if (between > best) {
            best = between;
            *t = i;
            spread = mf - mb;
        }
    }
    return best > 0 && spread >= 16;
}

/* The ink box of the character nearest the middle of window [x0, x1) x [y0, y1) (frame
 * pixels) of polarity @bright along the line's direction; FALSE when there is none. */
static gboolean ink_in_window(const Frame *f, int x0, int y0, int x1, int y1, gboolean bright,
                              gboolean vertical, int box[4])
{
    int t = 0;
    if (x1 - x0 < 3 || y1 - y0 < 3 || !otsu(f, x0, y0, x1, y1, &t))
        return FALSE;
    int nx = x1 - x0, ny = y1 - y0;
    int *col = g_new0(int, nx), *row = g_new0(int, ny);
    for (int y = y0; y < y1; y++) {
        const guint8 *r = f->gray + (size_t)y * f->width;
        for (int x = x0; x < x1; x++)
            if (bright ? r[x] > t : r[x] <= t) {
                col[x - x0]++;
                row[y - y0]++;
            }
    }
    /* Along the line: the run of inked columns (rows for a column) nearest the middle,
     * bridging gaps of a few pixels (a broken stroke). */
    int *prof = vertical ? row : col, len = vertical ? ny : nx, across = vertical ? nx : ny;
    int need = MAX(2, across / 16), bridge = MAX(1, across / 20);
    int best0 = -1, best1 = -1;
    double best_d = 1e9;
    for (int i = 0; i < len;) {
        if (prof[i] < need) {
            i++;
            continue;
        }
        int j = i, gap = 0;
        for (int k = i; k < len; k++) {
            if (prof[k] >= need) {
                j = k;
                gap = 0;
            } else if (++gap > bridge)
                break;
        }
        double d = fabs((i + j) / 2.0 - len / 2.0);
        if (d < best_d) {
            best_d = d;
            best0 = i;
            best1 = j;
        }
        i = j + 1;
    }
    gboolean found = best0 >= 0;
    if (found) {
        /* Across the line: the inked extent within that run. */
        int lo = -1, hi = -1;
        for (int q = 0; q < across; q++) {
            int cnt = 0;
            for (int p = best0; p <= best1; p++) {
                int x = vertical ? q : p, y = vertical ? p : q;
                const guint8 v = f->gray[(size_t)(y0 + y) * f->width + x0 + x];
                cnt += bright ? v > t : v <= t;
            }
            if (cnt >= MAX(1, (best1 - best0 + 1) / 12)) {
                if (lo < 0)
                    lo = q;
                hi = q;
            }
        }
        found = lo >= 0;
        if (vertical) {
            box[0] = x0 + lo;
            box[1] = y0 + best0;
            box[2] = hi - lo + 1;
            box[3] = best1 - best0 + 1;
        } else {
            box[0] = x0 + best0;
            box[1] = y0 + lo;
            box[2] = best1 - best0 + 1;
            box[3] = hi - lo + 1;
        }
    }
    g_free(col);
    g_free(row);
    return found;
}

/* Classifies the character expected at along-line position @pos of line @m, between frame
 * coordinates @lim0 and @lim1 along the line (the neighbours' edges). Appends it to the
 * frame's components and returns its index when the network reads a character there, else
 * -1. */
static int rescue_slot(Frame *f, const LineModel *m, double pos, double lim0, double lim1)
{
    int s = f->scale;
    double half = 0.55 * m->pitch;
    double a0 = MAX(pos - half, lim0), a1 = MIN(pos + half, lim1);
    if (a1 - a0 < 0.25 * m->h)
        return -1;
    int X0, Y0, X1, Y1, nominal[4];
    if (m->vertical) {
        double cx = m->a0 + m->b0 * pos, hw = 0.7 * MAX(m->wmax, 0.5 * m->h);
        X0 = (int)floor(cx - hw);
        X1 = (int)ceil(cx + hw);
        Y0 = (int)floor(a0);
        Y1 = (int)ceil(a1);
        nominal[0] = (int)lround(cx - m->w / 2);
        nominal[1] = (int)lround(pos - m->h / 2);
        nominal[2] = (int)lround(m->w);
        nominal[3] = (int)lround(m->h);
    } else {
        double top = m->a0 + m->b0 * pos, bot = m->a1 + m->b1 * pos, pad = 0.12 * m->h;
        X0 = (int)floor(a0);
        X1 = (int)ceil(a1);
        Y0 = (int)floor(top - pad);
        Y1 = (int)ceil(bot + pad);
        nominal[0] = (int)lround(pos - m->w / 2);
        nominal[1] = (int)lround(top);
        nominal[2] = (int)lround(m->w);
        nominal[3] = (int)lround(bot - top);
    }
    if (X0 < 0 || Y0 < 0 || X1 > f->width || Y1 > f->height)
        return -1; /* off the frame */
    int boxes[3][4], n = 0;
    int ink[4];
    if (ink_in_window(f, X0, Y0, X1, Y1, m->bright, m->vertical, ink) &&
        ink[3] >= (m->vertical ? 0.5 : 0.6) * m->h && ink[3] <= 1.4 * m->h &&
        ink[2] <= 1.3 * m->h) {
        memcpy(boxes[n++], ink, sizeof ink);
        /* Its extent along the line with the line's own extent across it. */
        int *b = boxes[n++];
        memcpy(b, m->vertical ? ink : nominal, sizeof ink);
        if (m->vertical) {
            b[1] = nominal[1];
            b[3] = nominal[3];
        } else {
            b[0] = ink[0];
            b[2] = ink[2];
        }
    }
    memcpy(boxes[n++], nominal, sizeof nominal);
    float best[OCR__N_OUT];
    int bi = -1;
    for (int k = 0; k < n; k++) {
        float prob[OCR__N_OUT];
        int *b = boxes[k];
        if (b[2] < 1 || b[3] < 1)
            continue;
        ocr__classify_box(f, b[0], b[1], b[2], b[3], m->bright, prob);
        if (bi < 0 || prob[OCR__JUNK] < best[OCR__JUNK]) {
            memcpy(best, prob, sizeof prob);
            bi = k;
        }
    }
    if (bi < 0 || best[OCR__JUNK] > 0.5f)
        return -1;
    int *b = boxes[bi];
    Comp c = {b[0] / s, b[1] / s, MAX(1, b[2] / s), MAX(1, b[3] / s), b[2] * b[3] / (s * s),
              m->bright, -1, -1, -1, -1, 1, {0}, 0, {0}, TRUE};
    memcpy(c.prob, best, sizeof best);
    g_array_append_val(f->comps, c);
    ocr__grid_add(&f->grid, (int)f->comps->len - 1, c.x, c.y, c.w, c.h);
    return (int)f->comps->len - 1;
}

/* A component of the frame that can continue line @m at along-line distance 0.5-1.9 pitches
 * beyond @end (@dir = +1 after it, -1 before it), ending (starting) a chain of its own; -1
 * when none. */
static int rescue_join(Frame *f, const LineModel *m, int end, int dir, GArray *near)
{
    Comp *c = (Comp *)f->comps->data;
    int s = f->scale;
    double e = along(&c[end], m->vertical, s);
    double lo = e + dir * 0.5 * m->pitch, hi = e + dir * 1.9 * m->pitch;
    double q0 = MIN(lo, hi) / s, q1 = MAX(lo, hi) / s;
    double across = m->vertical ? (m->a0 + m->b0 * e) / s : (c[end].y + c[end].h / 2.0);
    double r = m->h / s;
    if (m->vertical)
        ocr__grid_query(&f->grid, across - r, q0 - r, across + r, q1 + r, near);
    else
        ocr__grid_query(&f->grid, q0 - r, across - r, q1 + r, across + r, near);
    int best = -1;
    double best_d = 1e9;
    for (guint q = 0; q < near->len; q++) {
        int j = g_array_index(near, int, q);
        const Comp *k = &c[j];
        if (j == end || k->rescued || k->bright != m->bright || k->h * s < 0.7 * m->h ||
            k->h * s > 1.8 * m->h)
            continue;
        if ((dir > 0 ? (m->vertical ? k->up : k->left) : (m->vertical ? k->down : k->right)) >= 0)
            continue;
        double p = along(k, m->vertical, s);
        double t = m->vertical ? (k->x + k->w / 2.0) * s - (m->a0 + m->b0 * p)
                               : (k->y + k->h / 2.0) * s -
                                     (m->a0 + m->b0 * p + m->a1 + m->b1 * p) / 2;
        if ((p - lo) * (p - hi) > 0 || fabs(t) > 0.35 * m->h)
            continue;
        if (fabs(p - e) < best_d) {
            best_d = fabs(p - e);
            best = j;
        }
    }
    return best;
}

/* Mends one chain @seq (@n components); returns the new length (the chain in @seq, at most
 * RESCUE_MAX_LEN), or 0 when nothing changed. */
static int rescue_chain(Frame *f, int *seq, int n, gboolean vertical, GArray *near)
{
    LineModel m;
    if (!line_model(f, seq, n, vertical, &m))
        return 0;
    int s = f->scale;
    int out[RESCUE_MAX_LEN * 2], k = 0;
    gboolean changed = FALSE;
    /* Inside: a step of two or three pitches lost one or two characters; a character the
     * network calls junk may have been cut badly. */
    for (int i = 0; i < n && k < RESCUE_MAX_LEN; i++) {
        Comp *c = (Comp *)f->comps->data;
        const Comp *cur = &c[seq[i]];
        double lim0 = i > 0 ? (vertical ? (double)(c[out[k - 1]].y + c[out[k - 1]].h) * s
                                        : (double)(c[out[k - 1]].x + c[out[k - 1]].w) * s)
                            : -1e9;
        double lim1 = vertical ? (double)cur->y * s : (double)cur->x * s;
        if (i > 0) {
            double p0 = along(&c[out[k - 1]], vertical, s), p1 = along(cur, vertical, s);
            int lost = (int)lround((p1 - p0) / m.pitch) - 1;
            lost = MIN(lost, 2);
            for (int j = 1; j <= lost && k < RESCUE_MAX_LEN - 1; j++) {
                int v = rescue_slot(f, &m, p0 + j * (p1 - p0) / (lost + 1), lim0, lim1);
                if (v >= 0) {
                    c = (Comp *)f->comps->data;
                    out[k++] = v;
                    changed = TRUE;
                    lim0 = vertical ? (double)(c[v].y + c[v].h) * s
                                    : (double)(c[v].x + c[v].w) * s;
                }
            }
            c = (Comp *)f->comps->data;
            cur = &c[seq[i]];
        }
        if (cur->prob[OCR__JUNK] > 0.5f) {
            double next = i + 1 < n ? (vertical ? (double)c[seq[i + 1]].y * s
                                                : (double)c[seq[i + 1]].x * s)
                                    : 1e9;
            int v = rescue_slot(f, &m, along(cur, vertical, s), lim0, next);
            if (v >= 0) {
                out[k++] = v;
                changed = TRUE;
                continue;
            }
        }
        out[k++] = seq[i];
    }
    /* The ends: further characters at the pitch, or the start of another chain there (the
     * boxed check digit after its wider gap). */
    for (int dir = 1; dir >= -1; dir -= 2) {
        for (int step = 0; step < OCR_CODE_LEN - 4 && k < RESCUE_MAX_LEN; step++) {
            Comp *c = (Comp *)f->comps->data;
            int end = dir > 0 ? out[k - 1] : out[0];
            int j = rescue_join(f, &m, end, dir, near);
            c = (Comp *)f->comps->data;
            if (j < 0) {
                double e = along(&c[end], vertical, s);
                double edge = dir > 0 ? (vertical ? (double)(c[end].y + c[end].h) * s
                                                  : (double)(c[end].x + c[end].w) * s)
                                      : (vertical ? (double)c[end].y * s : (double)c[end].x * s);
                j = dir > 0 ? rescue_slot(f, &m, e + m.pitch, edge, 1e9)
                            : rescue_slot(f, &m, e - m.pitch, -1e9, edge);
            }
            if (j < 0)
                break;
            changed = TRUE;
            if (dir > 0)
                out[k++] = j;
            else {
                memmove(out + 1, out, sizeof(int) * k);
                out[0] = j;
                k++;
            }
            c = (Comp *)f->comps->data;
            if (!c[j].rescued)
                break; /* a chain of its own follows from there */
        }
    }
    if (!changed)
        return 0;
    memcpy(seq, out, sizeof(int) * k);
    return k;
}

/* Mends the chains that look like part of a code but gave no read (see above), linking the
 * characters found into them. Returns whether any chain changed (ocr__find_codes() must look
 * again). */
gboolean ocr__rescue_lines(PsOcr *ocr, Frame *f, const OcrReads *out)
{
    guint n0 = f->comps->len;
    gboolean any = FALSE;
    GArray *near = g_array_new(FALSE, FALSE, sizeof(int));
    for (int pass = 0; pass < 2; pass++) {
        gboolean down = pass == 1;
        if (down && !ocr->opts.vertical)
            break;
        for (guint i = 0; i < n0; i++) {
            Comp *c = (Comp *)f->comps->data;
            if ((down ? c[i].up : c[i].left) >= 0 || c[i].rescued)
                continue;
            int seq[RESCUE_MAX_LEN * 2];
            int len = ocr__chain_of(c, (int)i, down, seq, RESCUE_MAX_LEN);
            if (len < 3 || len >= RESCUE_MAX_LEN)
                continue;
            int good = 0, x0 = G_MAXINT, y0 = G_MAXINT, x1 = 0, y1 = 0;
            for (int k = 0; k < len; k++) {
                Comp *m = &c[seq[k]];
                ocr__classify(f, m);
                good += m->prob[OCR__JUNK] < 0.5f;
                x0 = MIN(x0, m->x * f->scale);
                y0 = MIN(y0, m->y * f->scale);
                x1 = MAX(x1, (m->x + m->w) * f->scale);
                y1 = MAX(y1, (m->y + m->h) * f->scale);
            }
            if (good < 3 || good * 5 < len * 3)
                continue;
            /* A chain inside a code already read needs nothing. */
            gboolean read = FALSE;
            for (int r = 0; r < out->n_reads && !read; r++) {
                const int *b = out->reads[r].bbox;
                int ix = MIN(b[0] + b[2], x1) - MAX(b[0], x0);
                int iy = MIN(b[1] + b[3], y1) - MAX(b[1], y0);
                read = ix > 0 && iy > 0 && (double)ix * iy > 0.5 * (x1 - x0) * (y1 - y0);
            }
            if (read)
                continue;
            int n = rescue_chain(f, seq, len, down, near);
            if (n == 0)
                continue;
            any = TRUE;
            c = (Comp *)f->comps->data;
            for (int k = 0; k < n; k++) {
                Comp *m = &c[seq[k]];
                m->rescued = TRUE;
                int prev = k > 0 ? seq[k - 1] : -1, next = k + 1 < n ? seq[k + 1] : -1;
                /* The first keeps its link back and the last its link onward: a chain joined
                 * at either end goes on. */
                if (down) {
                    if (k > 0)
                        m->up = prev;
                    if (next >= 0)
                        m->down = next;
                } else {
                    if (k > 0)
                        m->left = prev;
                    if (next >= 0)
                        m->right = next;
                }
            }
        }
    }
    g_array_free(near, TRUE);
    return any;
}
