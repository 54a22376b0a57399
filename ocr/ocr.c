/* ocr.c: the frame pipeline: binarize, find character-sized components, group them into lines,
 * rows and columns, classify the characters and assemble ISO 6346 codes. */
#include <leptonica/allheaders.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr-private.h"

#define MAX_SIDE 8192
#define MAX_COMPONENTS 20000
#define MAX_CANDIDATES 4000

struct _PsOcr {
    OcrOptions opts;
};

typedef struct {
    int x, y, w, h; /* detection scale */
    int area;
    gboolean bright;
    int right, left, down, up; /* neighbour links, -1 none */
    int classified;            /* 0 not yet, 1 done */
    float prob[OCR__N_OUT];
    int inner_classified;      /* the same for the inside of a box (a boxed check digit) */
    float inner_prob[OCR__N_OUT];
} Comp;

typedef struct {
    const guint8 *gray; /* full resolution */
    int width, height;
    int scale; /* detection pixels -> frame pixels */
    GArray *comps; /* Comp */
} Frame;

void ocr_options_init(OcrOptions *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->min_char_height = 20;
    opts->max_char_height = 200;
    opts->min_confidence = 0.4;
    opts->vertical = TRUE;
}

PsOcr *ocr_new(const OcrOptions *opts, GError **error)
{
    PsOcr *ocr = g_new0(PsOcr, 1);
    if (opts)
        ocr->opts = *opts;
    else
        ocr_options_init(&ocr->opts);
    if (ocr->opts.min_char_height < 8 || ocr->opts.max_char_height < ocr->opts.min_char_height) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_INVALID,
                    "character heights %d..%d: need 8 <= min <= max",
                    ocr->opts.min_char_height, ocr->opts.max_char_height);
        g_free(ocr);
        return NULL;
    }
    return ocr;
}

void ocr_free(PsOcr *ocr)
{
    g_free(ocr);
}

/* Connected components of @mask (w x h, 1 = set) into @out; 8-connectivity. */
static void components(const guint8 *mask, int w, int h, gboolean bright, int min_h, int max_h,
                       GArray *out)
{
    GArray *raw = g_array_new(FALSE, FALSE, sizeof(Comp));
    guint8 *seen = g_malloc0((size_t)w * h);
    int *stack = g_new(int, (size_t)w * h);
    int found = 0;
    for (int start = 0; start < w * h && found < MAX_COMPONENTS; start++) {
        if (!mask[start] || seen[start])
            continue;
        found++;
        int sp = 0, x0 = w, y0 = h, x1 = -1, y1 = -1, area = 0;
        stack[sp++] = start;
        seen[start] = 1;
        while (sp > 0) {
            int p = stack[--sp];
            int px = p % w, py = p / w;
            area++;
            x0 = MIN(x0, px);
            x1 = MAX(x1, px);
            y0 = MIN(y0, py);
            y1 = MAX(y1, py);
            for (int dy = -1; dy <= 1; dy++) {
                int ny = py + dy;
                if (ny < 0 || ny >= h)
                    continue;
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = px + dx;
                    if (nx < 0 || nx >= w)
                        continue;
                    int q = ny * w + nx;
                    if (mask[q] && !seen[q]) {
                        seen[q] = 1;
                        stack[sp++] = q;
                    }
                }
            }
        }
        int cw = x1 - x0 + 1, ch = y1 - y0 + 1;
        if (ch < 3 || ch > max_h || cw > max_h * 1.3)
            continue;
        if (raw->len >= MAX_COMPONENTS)
            continue;
        Comp c = {x0, y0, cw, ch, area, bright, -1, -1, -1, -1, 0, {0}, 0, {0}};
        g_array_append_val(raw, c);
    }
    g_free(stack);
    g_free(seen);
    /* Strokes broken by rust, ribs or a thin gap: merge pieces stacked in one column (the flag
     * and stem of a '1', the halves of a broken '8'). */
    Comp *r = (Comp *)raw->data;
    for (guint i = 0; i < raw->len; i++) {
        if (r[i].area == 0)
            continue;
        for (guint j = 0; j < raw->len; j++) {
            if (i == j || r[j].area == 0)
                continue;
            int ox = MIN(r[i].x + r[i].w, r[j].x + r[j].w) - MAX(r[i].x, r[j].x);
            int y0 = MIN(r[i].y, r[j].y), y1 = MAX(r[i].y + r[i].h, r[j].y + r[j].h);
            int x0 = MIN(r[i].x, r[j].x), x1 = MAX(r[i].x + r[i].w, r[j].x + r[j].w);
            int gap = MAX(r[i].y, r[j].y) - MIN(r[i].y + r[i].h, r[j].y + r[j].h);
            if (ox < 0.6 * MIN(r[i].w, r[j].w) || gap > 0.12 * (y1 - y0) || y1 - y0 > max_h ||
                x1 - x0 > (y1 - y0) * 1.1 || (r[i].h >= min_h && r[j].h >= min_h))
                continue;
            r[i].x = x0;
            r[i].y = y0;
            r[i].w = x1 - x0;
            r[i].h = y1 - y0;
            r[i].area += r[j].area;
            r[j].area = 0;
            j = (guint)-1; /* the box grew: look again */
        }
    }
    for (guint i = 0; i < raw->len; i++) {
        Comp *c = &r[i];
        if (c->area == 0)
            continue;
        if (c->h < min_h || c->w > c->h * 1.3 || c->w < 2)
            continue;
        double fill = (double)c->area / (c->w * c->h);
        /* Solid bars ('I', '1') fill their box. */
        if (fill < 0.12 || (fill > 0.98 && c->w > c->h / 3) || out->len >= MAX_CANDIDATES)
            continue;
        g_array_append_val(out, *c);
    }
    g_array_free(raw, TRUE);
}

/* Box frames (the check digit's box) contain another component: they are not characters. */
static void drop_frames(GArray *comps)
{
    guint n = comps->len;
    gboolean *frame = g_new0(gboolean, n);
    for (guint i = 0; i < n; i++) {
        Comp *a = &g_array_index(comps, Comp, i);
        for (guint j = 0; j < n && !frame[i]; j++) {
            Comp *b = &g_array_index(comps, Comp, j);
            if (i == j || a->bright != b->bright || b->w * b->h * 2 > a->w * a->h)
                continue;
            int cx = b->x + b->w / 2, cy = b->y + b->h / 2;
            if (cx > a->x && cx < a->x + a->w && cy > a->y && cy < a->y + a->h &&
                b->h > a->h / 2)
                frame[i] = TRUE;
        }
    }
    guint k = 0;
    for (guint i = 0; i < n; i++)
        if (!frame[i])
            g_array_index(comps, Comp, k++) = g_array_index(comps, Comp, i);
    g_array_set_size(comps, k);
    g_free(frame);
}

static gboolean similar_height(const Comp *a, const Comp *b)
{
    return MAX(a->h, b->h) <= 1.4 * MIN(a->h, b->h);
}

/* Links each component to its best right and lower neighbour, kept only when mutual. */
static void link_neighbours(GArray *comps, gboolean vertical)
{
    guint n = comps->len;
    Comp *c = (Comp *)comps->data;
    for (guint i = 0; i < n; i++) {
        double best_r = 1e9, best_d = 1e9;
        for (guint j = 0; j < n; j++) {
            /* The boxed check digit comes last and may be up to 1.7 times as tall. */
            gboolean box_after = c[j].h > c[i].h && c[j].h <= 1.7 * c[i].h;
            if (i == j || c[i].bright != c[j].bright ||
                !(similar_height(&c[i], &c[j]) || box_after))
                continue;
            double h = MAX(c[i].h, c[j].h);
            /* Right neighbour on the same line. */
            double gap = c[j].x - (c[i].x + c[i].w);
            double dcy = fabs((c[j].y + c[j].h / 2.0) - (c[i].y + c[i].h / 2.0));
            if (c[j].x > c[i].x + c[i].w * 0.5 && gap > -0.15 * h && gap < 1.6 * h &&
                dcy < 0.35 * h && gap < best_r) {
                best_r = gap;
                c[i].right = (int)j;
            }
            if (!vertical)
                continue;
            /* Lower neighbour in the same column. */
            double vgap = c[j].y - (c[i].y + c[i].h);
            double dcx = fabs((c[j].x + c[j].w / 2.0) - (c[i].x + c[i].w / 2.0));
            if (c[j].y > c[i].y + c[i].h * 0.5 && vgap > -0.1 * h && vgap < 1.3 * h &&
                dcx < 0.4 * h && vgap < best_d) {
                best_d = vgap;
                c[i].down = (int)j;
            }
        }
    }
    for (guint i = 0; i < n; i++) {
        if (c[i].right >= 0) {
            Comp *r = &c[c[i].right];
            if (r->left < 0 || c[r->left].x < c[i].x)
                r->left = (int)i;
        }
        if (c[i].down >= 0) {
            Comp *d = &c[c[i].down];
            if (d->up < 0 || c[d->up].y < c[i].y)
                d->up = (int)i;
        }
    }
    /* Drop links that are not mutual. */
    for (guint i = 0; i < n; i++) {
        if (c[i].right >= 0 && c[c[i].right].left != (int)i)
            c[i].right = -1;
        if (c[i].down >= 0 && c[c[i].down].up != (int)i)
            c[i].down = -1;
    }
}

static void classify(Frame *f, Comp *c)
{
    if (c->classified)
        return;
    float crop[OCR__CROP * OCR__CROP];
    int s = f->scale;
    ocr__char_crop(f->gray, f->width, f->height, f->width, c->x * s, c->y * s, c->w * s,
                   c->h * s, c->bright, crop);
    ocr__cnn_classify(crop, c->prob);
    c->classified = 1;
}

/* A check digit whose box touches it is one component: read the inside of the box too and
 * keep whichever looks more like a character. */
static const float *check_digit_prob(Frame *f, Comp *c)
{
    classify(f, c);
    if (!c->inner_classified) {
        /* The box's line and margin are 0.15-0.35 of the digit height: try a few cuts. */
        static const int cuts[][2] = {{6, 7}, {4, 6}, {5, 5}};
        int s = f->scale;
        c->inner_prob[OCR__JUNK] = 2.0f;
        for (guint k = 0; k < G_N_ELEMENTS(cuts); k++) {
            float crop[OCR__CROP * OCR__CROP], prob[OCR__N_OUT];
            int bx = c->w * s / cuts[k][0], by = c->h * s / cuts[k][1];
            ocr__char_crop(f->gray, f->width, f->height, f->width, c->x * s + bx,
                           c->y * s + by, c->w * s - 2 * bx, c->h * s - 2 * by, c->bright, crop);
            ocr__cnn_classify(crop, prob);
            if (prob[OCR__JUNK] < c->inner_prob[OCR__JUNK])
                memcpy(c->inner_prob, prob, sizeof prob);
        }
        c->inner_classified = 1;
    }
    return c->inner_prob[OCR__JUNK] < c->prob[OCR__JUNK] ? c->inner_prob : c->prob;
}

/* The best code over the 11 components @idx; returns its read in @r (confidence 0 if none). */
static void read_sequence(PsOcr *ocr, Frame *f, const int *idx, OcrOrientation orient,
                          OcrRead *r)
{
    memset(r, 0, sizeof *r);
    Comp *c = (Comp *)f->comps->data;
    double not_junk = 0, clear_junk = 0;
    int x0 = G_MAXINT, y0 = G_MAXINT, x1 = 0, y1 = 0;
    for (int i = 0; i < OCR_CODE_LEN; i++) {
        Comp *k = &c[idx[i]];
        classify(f, k);
        const float *prob = i == OCR_CODE_LEN - 1 ? check_digit_prob(f, k) : k->prob;
        float pj = prob[OCR__JUNK];
        not_junk += log(MAX(1.0 - pj, 1e-6));
        if (pj > 0.8f && i != OCR_CODE_LEN - 1) /* the boxed check digit is often unclear */
            clear_junk += log(MAX(1.0 - pj, 1e-6));
        for (int j = 0; j < OCR_N_CLASSES; j++)
            r->probs.p[i][j] = prob[j] / MAX(1.0f - pj, 1e-6f);
        x0 = MIN(x0, k->x);
        y0 = MIN(y0, k->y);
        x1 = MAX(x1, k->x + k->w);
        y1 = MAX(y1, k->y + k->h);
    }
    /* The mean not-junk odds, and each position the network calls junk counts in full: a
     * neighbouring mark taken into the code must not pass. */
    r->confidence = ocr_assemble(&r->probs, r->code) * exp(not_junk / OCR_CODE_LEN) *
                    exp(clear_junk);
    if (g_getenv("PS_OCR_DEBUG") && r->confidence > 0.01) {
        GString *d = g_string_new(NULL);
        for (int i = 0; i < OCR_CODE_LEN; i++) {
            Comp *k = &c[idx[i]];
            const float *prob = i == OCR_CODE_LEN - 1 ? check_digit_prob(f, k) : k->prob;
            int ci = ocr_class_index(r->code[i]);
            g_string_append_printf(d, " %c:%.2f/j%.2f", r->code[i], ci >= 0 ? prob[ci] : 0,
                                   prob[OCR__JUNK]);
        }
        g_printerr("  seq%s\n", d->str);
        g_string_free(d, TRUE);
    }
    if (ocr->opts.owners && !iso6346_owners_contains(ocr->opts.owners, r->code))
        r->confidence *= 0.5;
    int s = f->scale;
    r->bbox[0] = x0 * s;
    r->bbox[1] = y0 * s;
    r->bbox[2] = (x1 - x0) * s;
    r->bbox[3] = (y1 - y0) * s;
    r->orientation = orient;
}

/* The size/type code from 4 components. */
static double read_size_type(Frame *f, const int *idx, char out[5])
{
    Comp *c = (Comp *)f->comps->data;
    float p[4][OCR_N_CLASSES];
    for (int i = 0; i < 4; i++) {
        classify(f, &c[idx[i]]);
        for (int j = 0; j < OCR_N_CLASSES; j++)
            p[i][j] = c[idx[i]].prob[j];
    }
    return ocr_assemble_size_type(p, out);
}

/* Collects a chain starting at @start following right (or down) links into @chain. */
static int chain_of(Comp *c, int start, gboolean down, int *chain, int max)
{
    int n = 0;
    for (int k = start; k >= 0 && n < max; k = down ? c[k].down : c[k].right)
        chain[n++] = k;
    return n;
}

#define MAX_CHAIN 64

static void add_read(PsOcr *ocr, OcrReads *out, const OcrRead *r)
{
    if (g_getenv("PS_OCR_DEBUG") && r->code[0])
        g_printerr("  read %s %.3f\n", r->code, r->confidence);
    if (r->confidence < ocr->opts.min_confidence || !r->code[0])
        return;
    for (int i = 0; i < out->n_reads; i++) {
        OcrRead *o = &out->reads[i];
        /* Same code, or another code from the same place: keep the more confident. */
        int ix = MIN(o->bbox[0] + o->bbox[2], r->bbox[0] + r->bbox[2]) -
                 MAX(o->bbox[0], r->bbox[0]);
        int iy = MIN(o->bbox[1] + o->bbox[3], r->bbox[1] + r->bbox[3]) -
                 MAX(o->bbox[1], r->bbox[1]);
        double smaller = MIN(o->bbox[2] * o->bbox[3], r->bbox[2] * r->bbox[3]);
        gboolean overlap = ix > 0 && iy > 0 && (double)ix * iy > 0.3 * smaller;
        if (strcmp(o->code, r->code) == 0 || overlap) {
            if (r->confidence > o->confidence)
                *o = *r;
            return;
        }
    }
    if (out->n_reads < OCR_MAX_READS) {
        out->reads[out->n_reads++] = *r;
        return;
    }
    /* Full: replace the weakest. */
    int w = 0;
    for (int i = 1; i < out->n_reads; i++)
        if (out->reads[i].confidence < out->reads[w].confidence)
            w = i;
    if (out->reads[w].confidence < r->confidence)
        out->reads[w] = *r;
}

/* Finds a 4-character line or column for the size/type near the code read @r. */
static void find_size_type(Frame *f, const int *code_idx, OcrOrientation orient, OcrRead *r)
{
    Comp *c = (Comp *)f->comps->data;
    guint n = f->comps->len;
    const Comp *first = &c[code_idx[0]], *last = &c[code_idx[10]];
    double h = first->h;
    double best = 0.5;
    for (guint i = 0; i < n; i++) {
        gboolean is_start = orient == OCR_VERTICAL ? c[i].up < 0 : c[i].left < 0;
        if (!is_start || c[i].bright != first->bright)
            continue;
        int chain[MAX_CHAIN];
        int len = chain_of(c, (int)i, orient == OCR_VERTICAL, chain, MAX_CHAIN);
        if (len < 4 || len > 6)
            continue; /* 4, or 4 linked to a mark or two after it */
        gboolean near;
        if (orient == OCR_VERTICAL)
            near = c[i].x > first->x + first->w && c[i].x < first->x + first->w + 5 * h &&
                   fabs((double)c[i].y - first->y) < 2 * h;
        else
            near = c[i].y > last->y + last->h * 0.5 && c[i].y < last->y + 3.5 * h &&
                   c[i].x > first->x - 2 * h && c[i].x < last->x + last->w;
        if (!near)
            continue;
        char st[5];
        double conf = read_size_type(f, chain, st);
        if (conf > best) {
            best = conf;
            memcpy(r->size_type, st, 5);
        }
    }
}

/* A code on one line is spaced as owner, serial, check digit: the widest gaps are after the
 * 4th character and before the 11th. A window whose widest gap is elsewhere is shifted (it
 * starts or ends in a neighbouring word). */
static gboolean spacing_fits(const Comp *c, const int *idx)
{
    double other = 0, h = 0;
    for (int i = 0; i < OCR_CODE_LEN; i++)
        h = MAX(h, c[idx[i]].h);
    for (int i = 0; i + 1 < OCR_CODE_LEN; i++) {
        double gap = c[idx[i + 1]].x - (c[idx[i]].x + c[idx[i]].w);
        if (i != 3 && i != 9)
            other = MAX(other, gap);
    }
    double g3 = c[idx[4]].x - (c[idx[3]].x + c[idx[3]].w);
    return !(other > 0.5 * h && other > 1.3 * g3);
}

static void find_codes(PsOcr *ocr, Frame *f, OcrReads *out)
{
    Comp *c = (Comp *)f->comps->data;
    guint n = f->comps->len;
    int chain[MAX_CHAIN];
    gboolean debug = g_getenv("PS_OCR_DEBUG") != NULL;
    for (int pass = 0; pass < 2; pass++) {
        gboolean down = pass == 1;
        if (down && !ocr->opts.vertical)
            break;
        for (guint i = 0; i < n; i++) {
            if ((down ? c[i].up : c[i].left) >= 0)
                continue;
            int len = chain_of(c, (int)i, down, chain, MAX_CHAIN);
            if (debug && len >= 4) {
                GString *d = g_string_new(NULL);
                for (int k = 0; k < len; k++) {
                    classify(f, &c[chain[k]]);
                    int bk = 0;
                    for (int q = 1; q < OCR__N_OUT; q++)
                        if (c[chain[k]].prob[q] > c[chain[k]].prob[bk])
                            bk = q;
                    g_string_append_c(d, bk == OCR__JUNK ? '#' : ocr_class_char(bk));
                }
                g_printerr("chain %s %s at %d,%d h %d: %s\n", down ? "V" : "H",
                           c[i].bright ? "bright" : "dark", c[i].x * f->scale,
                           c[i].y * f->scale, c[i].h * f->scale, d->str);
                g_string_free(d, TRUE);
            }
            OcrOrientation orient = down ? OCR_VERTICAL : OCR_HORIZONTAL;
            /* One line or column of 11 or more. */
            for (int s = 0; s + OCR_CODE_LEN <= len; s++) {
                OcrRead r;
                read_sequence(ocr, f, chain + s, orient, &r);
                if (!down && !spacing_fits(c, chain + s))
                    r.confidence *= 0.3;
                if (r.confidence >= ocr->opts.min_confidence)
                    find_size_type(f, chain + s, orient, &r);
                add_read(ocr, out, &r);
            }
            if (down || len < 4)
                continue;
            /* Owner (4) on one row, serial and check digit (7) on the next, left-aligned; or
             * owner and serial far apart on one line. */
            for (guint j = 0; j < n; j++) {
                if (c[j].left >= 0 || j == i || c[j].bright != c[i].bright)
                    continue;
                double h = c[i].h;
                gboolean below = c[j].y > c[i].y + 0.8 * h && c[j].y < c[i].y + 2.6 * h &&
                                 fabs((double)c[j].x - c[i].x) < 1.2 * h;
                Comp *end = &c[chain[len - 1]];
                gboolean beside = c[j].x > end->x + end->w && c[j].x < end->x + end->w + 4 * h &&
                                  fabs((c[j].y + c[j].h / 2.0) - (end->y + end->h / 2.0)) < 0.3 * h;
                if (!(below || beside) || !similar_height(&c[i], &c[j]))
                    continue;
                int chain2[MAX_CHAIN];
                int len2 = chain_of(c, (int)j, FALSE, chain2, MAX_CHAIN);
                if (len2 < 7)
                    continue;
                /* Every placement of the 4 and the 7 in their chains: a neighbouring mark on
                 * either row must not shift the code (the not-junk odds pick the right one). */
                for (int s0 = below ? 0 : len - 4; s0 + 4 <= len; s0++) {
                    for (int s2 = 0; s2 + 7 <= len2; s2++) {
                        int seq[OCR_CODE_LEN];
                        for (int k = 0; k < 4; k++)
                            seq[k] = chain[s0 + k];
                        for (int k = 0; k < 7; k++)
                            seq[4 + k] = chain2[s2 + k];
                        OcrRead r;
                        read_sequence(ocr, f, seq, OCR_HORIZONTAL, &r);
                        if (r.confidence >= ocr->opts.min_confidence)
                            find_size_type(f, seq, OCR_HORIZONTAL, &r);
                        add_read(ocr, out, &r);
                    }
                }
            }
        }
    }
}

static int compare_reads(const void *a, const void *b)
{
    const OcrRead *x = a, *y = b;
    return (x->confidence < y->confidence) - (x->confidence > y->confidence);
}

/* Reads codes in a gray frame. */
static void read_gray(PsOcr *ocr, const guint8 *gray, int width, int height, OcrReads *out)
{
    memset(out, 0, sizeof *out);
    int scale = width > 1200 ? 2 : 1;
    int w = width / scale, h = height / scale;
    if (w < 16 || h < 16)
        return;
    guint8 *small = g_malloc((size_t)w * h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int acc = 0;
            for (int dy = 0; dy < scale; dy++)
                for (int dx = 0; dx < scale; dx++)
                    acc += gray[(size_t)(y * scale + dy) * width + x * scale + dx];
            small[(size_t)y * w + x] = (guint8)(acc / (scale * scale));
        }
    /* Local mean over a window about the height of a small character. */
    int rad = 15;
    guint32 *integral = g_new(guint32, (size_t)(w + 1) * (h + 1));
    memset(integral, 0, sizeof(guint32) * (w + 1));
    for (int y = 0; y < h; y++) {
        guint32 row = 0;
        integral[(size_t)(y + 1) * (w + 1)] = 0;
        for (int x = 0; x < w; x++) {
            row += small[(size_t)y * w + x];
            integral[(size_t)(y + 1) * (w + 1) + x + 1] =
                integral[(size_t)y * (w + 1) + x + 1] + row;
        }
    }
    /* The local mean, then three contrast thresholds: faint paint needs the low one, markings
     * touching their neighbours (the check digit's box, rust) separate at the high one. Each
     * pass finds its own candidates; add_read() keeps the best read of each place. */
    guint8 *mean = g_malloc((size_t)w * h);
    for (int y = 0; y < h; y++) {
        int ya = MAX(0, y - rad), yb = MIN(h, y + rad + 1);
        for (int x = 0; x < w; x++) {
            int xa = MAX(0, x - rad), xb = MIN(w, x + rad + 1);
            guint32 sum = integral[(size_t)yb * (w + 1) + xb] -
                          integral[(size_t)ya * (w + 1) + xb] -
                          integral[(size_t)yb * (w + 1) + xa] +
                          integral[(size_t)ya * (w + 1) + xa];
            mean[(size_t)y * w + x] = (guint8)(sum / ((guint32)(yb - ya) * (xb - xa)));
        }
    }
    g_free(integral);
    static const int thresholds[] = {14, 22, 30};
    guint8 *bright = g_malloc((size_t)w * h), *dark = g_malloc((size_t)w * h);
    int min_h = MAX(6, ocr->opts.min_char_height / scale);
    int max_h = ocr->opts.max_char_height / scale;
    for (guint t = 0; t < G_N_ELEMENTS(thresholds); t++) {
        for (size_t i = 0; i < (size_t)w * h; i++) {
            bright[i] = small[i] > mean[i] + thresholds[t];
            dark[i] = small[i] + thresholds[t] < mean[i];
        }
        Frame f = {gray, width, height, scale, g_array_new(FALSE, FALSE, sizeof(Comp))};
        components(bright, w, h, TRUE, min_h, max_h, f.comps);
        components(dark, w, h, FALSE, min_h, max_h, f.comps);
        drop_frames(f.comps);
        link_neighbours(f.comps, ocr->opts.vertical);
        find_codes(ocr, &f, out);
        g_array_free(f.comps, TRUE);
    }
    g_free(bright);
    g_free(dark);
    g_free(mean);
    g_free(small);
    qsort(out->reads, out->n_reads, sizeof(OcrRead), compare_reads);
}

gboolean ocr_read(PsOcr *ocr, const guint8 *pixels, int width, int height, int stride,
                  OcrPixelFormat fmt, OcrReads *out, GError **error)
{
    memset(out, 0, sizeof *out);
    int bpp = fmt == OCR_PIXEL_GRAY8 ? 1 : fmt == OCR_PIXEL_RGB ? 3 : 4;
    if (!pixels || width <= 0 || height <= 0 || width > MAX_SIDE || height > MAX_SIDE ||
        stride < width * bpp || fmt < OCR_PIXEL_GRAY8 || fmt > OCR_PIXEL_RGBX) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_INVALID,
                    "bad frame: %dx%d, stride %d, format %d", width, height, stride, (int)fmt);
        return FALSE;
    }
    guint8 *gray = g_malloc((size_t)width * height);
    for (int y = 0; y < height; y++) {
        const guint8 *row = pixels + (size_t)y * stride;
        guint8 *dst = gray + (size_t)y * width;
        for (int x = 0; x < width; x++) {
            const guint8 *p = row + (size_t)x * bpp;
            int r, g, b;
            switch (fmt) {
            case OCR_PIXEL_GRAY8:
                dst[x] = p[0];
                continue;
            case OCR_PIXEL_BGRX:
                b = p[0], g = p[1], r = p[2];
                break;
            default:
                r = p[0], g = p[1], b = p[2];
                break;
            }
            dst[x] = (guint8)((77 * r + 150 * g + 29 * b) >> 8);
        }
    }
    read_gray(ocr, gray, width, height, out);
    g_free(gray);
    return TRUE;
}

gboolean ocr_read_file(PsOcr *ocr, const char *path, OcrReads *out, GError **error)
{
    memset(out, 0, sizeof *out);
    setMsgSeverity(L_SEVERITY_NONE);
    PIX *pix = pixRead(path);
    if (!pix) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot read the image (missing, or not "
                    "JPEG, PNG, TIFF, BMP, GIF, WebP, PNM)", path);
        return FALSE;
    }
    int w = pixGetWidth(pix), h = pixGetHeight(pix);
    if (w > MAX_SIDE || h > MAX_SIDE) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: %dx%d is larger than %d", path, w, h,
                    MAX_SIDE);
        pixDestroy(&pix);
        return FALSE;
    }
    PIX *g8 = pixGetDepth(pix) == 32 ? pixConvertRGBToLuminance(pix) : pixConvertTo8(pix, 0);
    pixDestroy(&pix);
    if (!g8) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot convert to gray", path);
        return FALSE;
    }
    guint8 *gray = g_malloc((size_t)w * h);
    l_uint32 *data = pixGetData(g8);
    int wpl = pixGetWpl(g8);
    for (int y = 0; y < h; y++) {
        l_uint32 *line = data + (size_t)y * wpl;
        for (int x = 0; x < w; x++)
            gray[(size_t)y * w + x] = (guint8)GET_DATA_BYTE(line, x);
    }
    pixDestroy(&g8);
    read_gray(ocr, gray, w, h, out);
    g_free(gray);
    return TRUE;
}
