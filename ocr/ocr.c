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
    gboolean rescued;          /* in a line rescue_lines() has already mended */
} Comp;

/* A uniform grid over the detection image: each cell lists the components whose box touches
 * it, so neighbour searches look at a few cells instead of every component. */
typedef struct {
    int cell, nx, ny;
    GArray **cells;  /* int indices, nx * ny, NULL when empty */
    guint *mark;     /* per component: the query that last listed it */
    guint n_mark, stamp;
} Grid;

/* Characters already classified in this frame (by an earlier contrast pass): the same box in
 * the same polarity gives the same crop, so its probabilities are reused. */
typedef struct {
    GHashTable *index; /* packed box key -> 1 + row in probs */
    GArray *probs;     /* float[OCR__N_OUT] rows */
} ClassCache;

typedef struct {
    const guint8 *gray; /* full resolution */
    int width, height;
    int scale; /* detection pixels -> frame pixels */
    GArray *comps; /* Comp */
    ClassCache *cache;
    Grid grid;
} Frame;

static void grid_init(Grid *g, int w, int h, int cell)
{
    g->cell = MAX(cell, 8);
    g->nx = (w + g->cell - 1) / g->cell;
    g->ny = (h + g->cell - 1) / g->cell;
    g->cells = g_new0(GArray *, (size_t)g->nx * g->ny);
    g->mark = NULL;
    g->n_mark = 0;
    g->stamp = 0;
}

static void grid_clear(Grid *g)
{
    for (int i = 0; i < g->nx * g->ny; i++)
        if (g->cells[i])
            g_array_free(g->cells[i], TRUE);
    g_free(g->cells);
    g_free(g->mark);
    memset(g, 0, sizeof *g);
}

static void grid_add(Grid *g, int idx, int x, int y, int w, int h)
{
    int cx0 = CLAMP(x / g->cell, 0, g->nx - 1), cx1 = CLAMP((x + w - 1) / g->cell, 0, g->nx - 1);
    int cy0 = CLAMP(y / g->cell, 0, g->ny - 1), cy1 = CLAMP((y + h - 1) / g->cell, 0, g->ny - 1);
    for (int cy = cy0; cy <= cy1; cy++)
        for (int cx = cx0; cx <= cx1; cx++) {
            GArray **cellp = &g->cells[cy * g->nx + cx];
            if (!*cellp)
                *cellp = g_array_new(FALSE, FALSE, sizeof(int));
            g_array_append_val(*cellp, idx);
        }
    if ((guint)idx >= g->n_mark) {
        guint n = MAX((guint)idx + 1, g->n_mark * 2);
        g->mark = g_renew(guint, g->mark, n);
        memset(g->mark + g->n_mark, 0, (n - g->n_mark) * sizeof(guint));
        g->n_mark = n;
    }
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The components whose box may touch [x0, x1) x [y0, y1), each once, in ascending order (the
 * order of a scan over all of them, so ties are broken the same way). */
static void grid_query(Grid *g, double x0, double y0, double x1, double y1, GArray *out)
{
    g_array_set_size(out, 0);
    if (++g->stamp == 0) {
        memset(g->mark, 0, g->n_mark * sizeof(guint));
        g->stamp = 1;
    }
    int cx0 = CLAMP((int)floor(x0) / g->cell, 0, g->nx - 1);
    int cx1 = CLAMP((int)ceil(x1) / g->cell, 0, g->nx - 1);
    int cy0 = CLAMP((int)floor(y0) / g->cell, 0, g->ny - 1);
    int cy1 = CLAMP((int)ceil(y1) / g->cell, 0, g->ny - 1);
    for (int cy = cy0; cy <= cy1; cy++)
        for (int cx = cx0; cx <= cx1; cx++) {
            GArray *cell = g->cells[cy * g->nx + cx];
            for (guint k = 0; cell && k < cell->len; k++) {
                int idx = g_array_index(cell, int, k);
                if (g->mark[idx] != g->stamp) {
                    g->mark[idx] = g->stamp;
                    g_array_append_val(out, idx);
                }
            }
        }
    qsort(out->data, out->len, sizeof(int), cmp_int);
}

static ClassCache *class_cache_new(void)
{
    ClassCache *c = g_new(ClassCache, 1);
    c->index = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    c->probs = g_array_new(FALSE, FALSE, sizeof(float) * OCR__N_OUT);
    return c;
}

static void class_cache_free(ClassCache *c)
{
    g_hash_table_destroy(c->index);
    g_array_free(c->probs, TRUE);
    g_free(c);
}

/* The network's probabilities for the crop of box (@x, @y, @w, @h) in frame pixels. */
static void classify_box(Frame *f, int x, int y, int w, int h, gboolean bright, float *prob)
{
    gint64 key = ((gint64)(x & 0x7fff) << 47) | ((gint64)(y & 0x7fff) << 32) |
                 ((gint64)(w & 0x7fff) << 17) | ((gint64)(h & 0x7fff) << 2) | (bright ? 1 : 0);
    gpointer row = g_hash_table_lookup(f->cache->index, &key);
    if (row) {
        memcpy(prob, &g_array_index(f->cache->probs, float, (GPOINTER_TO_SIZE(row) - 1) *
                                                               OCR__N_OUT),
               sizeof(float) * OCR__N_OUT);
        return;
    }
    float crop[OCR__CROP * OCR__CROP];
    ocr__char_crop(f->gray, f->width, f->height, f->width, x, y, w, h, bright, crop);
    ocr__cnn_classify(crop, prob);
    g_array_append_vals(f->cache->probs, prob, 1);
    gint64 *k = g_new(gint64, 1);
    *k = key;
    g_hash_table_insert(f->cache->index, k, GSIZE_TO_POINTER((gsize)f->cache->probs->len));
}

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

/* Appends @c to @out when it is shaped like a character. */
static void keep_char_like(const Comp *c, int min_h, GArray *out)
{
    if (c->h < min_h || c->w > c->h * 1.45 || c->w < 2)
        return;
    double fill = (double)c->area / (c->w * c->h);
    /* Solid bars ('I', '1') fill their box. */
    if (fill < 0.12 || (fill > 0.98 && c->w > c->h / 3) || out->len >= MAX_CANDIDATES)
        return;
    g_array_append_val(out, *c);
}

/* The ink of @mask (width @w) inside x0 <= x < x1, y0 <= y < y1 as a component (area 0 when
 * there is none). */
static Comp ink_box(const guint8 *mask, int w, int x0, int y0, int x1, int y1, gboolean bright)
{
    Comp c = {0, 0, 0, 0, 0, bright, -1, -1, -1, -1, 0, {0}, 0, {0}, FALSE};
    int bx0 = x1, by0 = y1, bx1 = -1, by1 = -1;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            if (mask[(size_t)y * w + x]) {
                c.area++;
                bx0 = MIN(bx0, x);
                bx1 = MAX(bx1, x);
                by0 = MIN(by0, y);
                by1 = MAX(by1, y);
            }
    if (c.area) {
        c.x = bx0;
        c.y = by0;
        c.w = bx1 - bx0 + 1;
        c.h = by1 - by0 + 1;
    }
    return c;
}

/* Cuts @c into 2-4 characters across its width (or its height when @rows) where the columns
 * (rows) hold the least ink of @mask, near the even cuts. Fills @pieces; returns how many. */
static int split_component(const guint8 *mask, int w, const Comp *c, gboolean rows,
                           Comp pieces[4])
{
    int len = rows ? c->h : c->w;
    int k = rows ? 2 : CLAMP((int)lround(c->w / (0.68 * c->h)), 2, 4);
    int *profile = g_new0(int, len);
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++)
            if (mask[(size_t)(c->y + y) * w + c->x + x])
                profile[rows ? y : x]++;
    int cuts[5];
    cuts[0] = 0;
    cuts[k] = len;
    for (int j = 1; j < k; j++) {
        int ideal = j * len / k, reach = MAX(1, len / (k * 4));
        int best = ideal;
        for (int t = MAX(1, ideal - reach); t <= MIN(len - 2, ideal + reach); t++)
            if (profile[t] < profile[best] ||
                (profile[t] == profile[best] && abs(t - ideal) < abs(best - ideal)))
                best = t;
        cuts[j] = MAX(best, cuts[j - 1] + 1);
    }
    g_free(profile);
    int n = 0;
    for (int j = 0; j < k; j++) {
        Comp p = rows ? ink_box(mask, w, c->x, c->y + cuts[j], c->x + c->w, c->y + cuts[j + 1],
                                c->bright)
                      : ink_box(mask, w, c->x + cuts[j], c->y, c->x + cuts[j + 1], c->y + c->h,
                                c->bright);
        if (p.area > 0)
            pieces[n++] = p;
    }
    return n;
}

/* The most probable class of @prob (OCR__N_OUT outputs). */
static int argmax_of(const float *prob)
{
    int best = 0;
    for (int i = 1; i < OCR__N_OUT; i++)
        if (prob[i] > prob[best])
            best = i;
    return best;
}

/* Whether the network reads the component @c as a wide letter (W or M) rather than two
 * characters side by side. */
static gboolean wide_letter(Frame *f, const Comp *c)
{
    float prob[OCR__N_OUT];
    int s = f->scale;
    classify_box(f, c->x * s, c->y * s, c->w * s, c->h * s, c->bright, prob);
    int best = argmax_of(prob);
    return best == ocr_class_index('W') || best == ocr_class_index('M');
}

/* Connected components of @mask (w x h, 1 = set) into @out; 8-connectivity. With @split (the
 * frame, for the network), components as wide as two or more characters are cut. */
static void components(const guint8 *mask, int w, int h, gboolean bright, int min_h, int max_h,
                       Frame *split, GArray *out)
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
        Comp c = {x0, y0, cw, ch, area, bright, -1, -1, -1, -1, 0, {0}, 0, {0}, FALSE};
        g_array_append_val(raw, c);
    }
    g_free(stack);
    g_free(seen);
    /* Strokes broken by rust, ribs or a thin gap: merge pieces stacked in one column (the flag
     * and stem of a '1', the halves of a broken '8'). */
    Comp *r = (Comp *)raw->data;
    Grid grid;
    grid_init(&grid, w, h, 16);
    for (guint i = 0; i < raw->len; i++)
        grid_add(&grid, (int)i, r[i].x, r[i].y, r[i].w, r[i].h);
    GArray *near = g_array_new(FALSE, FALSE, sizeof(int));
    double reach = 0.12 * max_h + 2; /* the largest gap that merges */
    for (guint i = 0; i < raw->len; i++) {
        if (r[i].area == 0)
            continue;
        gboolean grew = TRUE;
        while (grew) {
            grew = FALSE;
            grid_query(&grid, r[i].x, r[i].y - reach, r[i].x + r[i].w, r[i].y + r[i].h + reach,
                       near);
            for (guint q = 0; q < near->len; q++) {
                guint j = (guint)g_array_index(near, int, q);
                if (i == j || r[j].area == 0)
                    continue;
                int ox = MIN(r[i].x + r[i].w, r[j].x + r[j].w) - MAX(r[i].x, r[j].x);
                int y0 = MIN(r[i].y, r[j].y), y1 = MAX(r[i].y + r[i].h, r[j].y + r[j].h);
                int x0 = MIN(r[i].x, r[j].x), x1 = MAX(r[i].x + r[i].w, r[j].x + r[j].w);
                int gap = MAX(r[i].y, r[j].y) - MIN(r[i].y + r[i].h, r[j].y + r[j].h);
                if (ox < 0.6 * MIN(r[i].w, r[j].w) || gap > 0.12 * (y1 - y0) ||
                    y1 - y0 > max_h || x1 - x0 > (y1 - y0) * 1.1 ||
                    (r[i].h >= min_h && r[j].h >= min_h))
                    continue;
                r[i].x = x0;
                r[i].y = y0;
                r[i].w = x1 - x0;
                r[i].h = y1 - y0;
                r[i].area += r[j].area;
                r[j].area = 0;
                grid_add(&grid, (int)i, r[i].x, r[i].y, r[i].w, r[i].h);
                grew = TRUE; /* the box grew: look again */
                break;
            }
        }
    }
    g_array_free(near, TRUE);
    grid_clear(&grid);
    for (guint i = 0; i < raw->len; i++) {
        Comp *c = &r[i];
        if (c->area == 0)
            continue;
        /* Characters painted close together (or joined by blur) are one component as wide
         * as two or three: cut it where the columns hold the least ink. Up to 1.45 times the
         * height it may be one wide letter (W, M) and stays whole. */
        if (split && c->h >= min_h && c->w > c->h * 1.45 && c->w <= c->h * 3.2) {
            if (c->w <= c->h * 1.8 && wide_letter(split, c)) {
                if (out->len < MAX_CANDIDATES)
                    g_array_append_val(out, *c);
                continue;
            }
            Comp pieces[4];
            int n = split_component(mask, w, c, FALSE, pieces);
            for (int k = 0; k < n; k++)
                keep_char_like(&pieces[k], min_h, out);
            continue;
        }
        keep_char_like(c, min_h, out);
    }
    g_array_free(raw, TRUE);
}

/* A grid over the first @n components of @comps, indexed by their position in the array. */
static void grid_of_comps(Grid *grid, GArray *comps, guint n, int w, int h)
{
    grid_init(grid, w, h, 32);
    for (guint i = 0; i < n; i++) {
        const Comp *a = &g_array_index(comps, Comp, i);
        grid_add(grid, (int)i, a->x, a->y, a->w, a->h);
    }
}

/* In a column of characters (corner posts), two characters painted close together are one
 * component about twice as tall as the ones above or below it: cut it in two where the rows
 * hold the least ink. */
static void split_stacked(GArray *comps, const guint8 *bright, const guint8 *dark, int w, int h,
                          int min_h)
{
    guint n = comps->len;
    Grid grid;
    grid_of_comps(&grid, comps, n, w, h);
    GArray *near = g_array_new(FALSE, FALSE, sizeof(int));
    for (guint i = 0; i < n; i++) {
        Comp x = g_array_index(comps, Comp, i);
        if (x.h < 2 * min_h)
            continue;
        double cx = x.x + x.w / 2.0;
        grid_query(&grid, x.x - x.h / 2.0, x.y - x.h, x.x + x.w + x.h / 2.0, x.y + 2 * x.h, near);
        gboolean stacked = FALSE;
        for (guint q = 0; q < near->len && !stacked; q++) {
            const Comp *b = &g_array_index(comps, Comp, g_array_index(near, int, q));
            if (b == &g_array_index(comps, Comp, i) || b->bright != x.bright ||
                b->h * 1.65 > x.h || b->h * 2.7 < x.h || x.w > 1.3 * b->h)
                continue;
            double gap = b->y > x.y ? b->y - (x.y + x.h) : x.y - (b->y + b->h);
            stacked = fabs(b->x + b->w / 2.0 - cx) < 0.45 * b->h && gap > -0.1 * b->h &&
                      gap < 1.0 * b->h;
        }
        if (!stacked)
            continue;
        Comp pieces[4];
        int np = split_component(x.bright ? bright : dark, w, &x, TRUE, pieces);
        GArray *kept = g_array_new(FALSE, FALSE, sizeof(Comp));
        for (int k = 0; k < np; k++)
            keep_char_like(&pieces[k], min_h, kept);
        if (kept->len == 2) {
            g_array_index(comps, Comp, i) = g_array_index(kept, Comp, 0);
            g_array_append_val(comps, g_array_index(kept, Comp, 1));
        }
        g_array_free(kept, TRUE);
    }
    g_array_free(near, TRUE);
    grid_clear(&grid);
}

/* Box frames (the check digit's box) contain another component: they are not characters. */
static void drop_frames(GArray *comps, int w, int h)
{
    guint n = comps->len;
    gboolean *frame = g_new0(gboolean, n);
    Grid grid;
    grid_of_comps(&grid, comps, n, w, h);
    GArray *near = g_array_new(FALSE, FALSE, sizeof(int));
    for (guint i = 0; i < n; i++) {
        Comp *a = &g_array_index(comps, Comp, i);
        grid_query(&grid, a->x, a->y, a->x + a->w, a->y + a->h, near);
        for (guint q = 0; q < near->len && !frame[i]; q++) {
            guint j = (guint)g_array_index(near, int, q);
            Comp *b = &g_array_index(comps, Comp, j);
            if (i == j || a->bright != b->bright || b->w * b->h * 2 > a->w * a->h)
                continue;
            int cx = b->x + b->w / 2, cy = b->y + b->h / 2;
            if (cx > a->x && cx < a->x + a->w && cy > a->y && cy < a->y + a->h &&
                b->h > a->h / 2)
                frame[i] = TRUE;
        }
    }
    g_array_free(near, TRUE);
    grid_clear(&grid);
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
static void link_neighbours(Frame *f, gboolean vertical)
{
    GArray *comps = f->comps;
    guint n = comps->len;
    Comp *c = (Comp *)comps->data;
    GArray *near = g_array_new(FALSE, FALSE, sizeof(int));
    for (guint i = 0; i < n; i++) {
        double best_r = 1e9, best_d = 1e9;
        /* Every neighbour that can qualify below: at most 1.7 times as tall, within 1.6 of
         * that height to the right or 1.3 below. */
        double hm = 1.7 * c[i].h + 1;
        double x1 = c[i].x + c[i].w + 1.6 * hm + 1, y1 = c[i].y + c[i].h + 1.3 * hm + 1;
        if (!vertical)
            y1 = c[i].y + c[i].h / 2.0 + 0.35 * hm + 1;
        double cx = c[i].x + c[i].w / 2.0;
        grid_query(&f->grid, vertical ? MIN(c[i].x, cx - 0.4 * hm - 1) : c[i].x,
                   c[i].y + c[i].h / 2.0 - 0.35 * hm - 1,
                   vertical ? MAX(x1, cx + 0.4 * hm + 1) : x1, y1, near);
        for (guint q = 0; q < near->len; q++) {
            guint j = (guint)g_array_index(near, int, q);
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
    g_array_free(near, TRUE);
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
    int s = f->scale;
    classify_box(f, c->x * s, c->y * s, c->w * s, c->h * s, c->bright, c->prob);
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
            float prob[OCR__N_OUT];
            int bx = c->w * s / cuts[k][0], by = c->h * s / cuts[k][1];
            classify_box(f, c->x * s + bx, c->y * s + by, c->w * s - 2 * bx, c->h * s - 2 * by,
                         c->bright, prob);
            if (prob[OCR__JUNK] < c->inner_prob[OCR__JUNK])
                memcpy(c->inner_prob, prob, sizeof prob);
        }
        c->inner_classified = 1;
    }
    return c->inner_prob[OCR__JUNK] < c->prob[OCR__JUNK] ? c->inner_prob : c->prob;
}

/* The best code over the 11 components @idx; returns its read in @r (confidence 0 if none). */
/* The confidence factor one character's junk probability @pj contributes at a position that
 * is not the check digit's (see read_sequence()). */
static double junk_factor(double pj)
{
    double l = log(MAX(1.0 - pj, 1e-6));
    return exp(l / OCR_CODE_LEN + (pj > 0.8 ? l : 0));
}

/* The best code over the 11 components @idx; returns its read in @r (confidence 0 if none).
 * Stops early, with confidence 0, once the junk odds of the characters read so far already keep
 * the read under the minimum confidence; *@killer is then the position of a character that
 * alone does so wherever it is in a window before the check digit (else -1). */
static void read_sequence(PsOcr *ocr, Frame *f, const int *idx, OcrOrientation orient,
                          OcrRead *r, int *killer)
{
    memset(r, 0, sizeof *r);
    if (killer)
        *killer = -1;
    Comp *c = (Comp *)f->comps->data;
    double not_junk = 0, clear_junk = 0;
    int x0 = G_MAXINT, y0 = G_MAXINT, x1 = 0, y1 = 0;
    double min_conf = ocr->opts.min_confidence;
    for (int i = 0; i < OCR_CODE_LEN; i++) {
        Comp *k = &c[idx[i]];
        classify(f, k);
        const float *prob = i == OCR_CODE_LEN - 1 ? check_digit_prob(f, k) : k->prob;
        float pj = prob[OCR__JUNK];
        not_junk += log(MAX(1.0 - pj, 1e-6));
        if (pj > 0.8f && i != OCR_CODE_LEN - 1) /* the boxed check digit is often unclear */
            clear_junk += log(MAX(1.0 - pj, 1e-6));
        if (min_conf > 0 && exp(not_junk / OCR_CODE_LEN + clear_junk) < min_conf) {
            if (killer && i != OCR_CODE_LEN - 1 && junk_factor(pj) < min_conf)
                *killer = i;
            r->confidence = 0;
            r->code[0] = '\0';
            return;
        }
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

/* Whether a piece read as @k may be half of a W: a V, an M or N (one side and the middle),
 * or a stroke the network calls junk. */
static gboolean may_be_half_of_w(int k)
{
    return k == OCR__JUNK || k == ocr_class_index('V') || k == ocr_class_index('M') ||
           k == ocr_class_index('N') || k == ocr_class_index('W');
}

/* The W is the widest letter and its middle apex the thinnest join: blur, a shadow's edge or
 * the cut of a component as wide as two characters leave it as two pieces side by side
 * (read V V, M junk, ...), and the line then holds one character too many. Two linked pieces,
 * each at most 0.9 of their joint height wide and touching or nearly, that the network reads
 * together as a W become that W (the first takes the union's box and the second's link
 * onward; the second leaves the line). */
static void join_pair_as_w(Frame *f, int i, int s, int w_class)
{
    Comp *c = (Comp *)f->comps->data;
    int j = c[i].right;
    Comp *a = &c[i], *b = &c[j];
    int x0 = MIN(a->x, b->x), y0 = MIN(a->y, b->y);
    int x1 = MAX(a->x + a->w, b->x + b->w), y1 = MAX(a->y + a->h, b->y + b->h);
    int uw = x1 - x0, uh = y1 - y0;
    double gap = b->x - (a->x + a->w);
    if (gap > 0.15 * uh || uw < 0.9 * uh || uw > 1.9 * uh || a->w > 0.9 * uh ||
        b->w > 0.9 * uh || fabs((double)a->h - b->h) > 0.3 * uh)
        return;
    classify(f, a);
    classify(f, b);
    if (!may_be_half_of_w(argmax_of(a->prob)) || !may_be_half_of_w(argmax_of(b->prob)))
        return;
    float prob[OCR__N_OUT];
    classify_box(f, x0 * s, y0 * s, uw * s, uh * s, a->bright, prob);
    if (argmax_of(prob) != w_class || prob[w_class] < 0.5f)
        return;
    a->x = x0;
    a->y = y0;
    a->w = uw;
    a->h = uh;
    a->area += b->area;
    memcpy(a->prob, prob, sizeof prob);
    a->inner_classified = 0;
    a->right = b->right;
    if (b->right >= 0)
        c[b->right].left = (int)i;
    b->right = -1;
    b->left = -1;
    b->rescued = TRUE; /* no line of its own either */
    grid_add(&f->grid, i, a->x, a->y, a->w, a->h);
}

/* join_pair_as_w() along every line of 4 or more. */
static void join_halves_of_w(Frame *f)
{
    Comp *c = (Comp *)f->comps->data;
    int s = f->scale, w_class = ocr_class_index('W');
    guint n = f->comps->len;
    for (guint start = 0; start < n; start++) {
        int chain[4];
        /* Only lines that can hold a code (4 or more) are worth the network's time. */
        if (c[start].left >= 0 || chain_of(c, (int)start, FALSE, chain, 4) < 4)
            continue;
        for (int i = (int)start; i >= 0 && c[i].right >= 0; i = c[i].right)
            join_pair_as_w(f, i, s, w_class);
    }
}

/* Reads owner @own (4 components) over serial and check digit @ser (7). */
static void read_two_rows(PsOcr *ocr, Frame *f, const int *own, const int *ser, OcrReads *out)
{
    int seq[OCR_CODE_LEN];
    memcpy(seq, own, 4 * sizeof(int));
    memcpy(seq + 4, ser, 7 * sizeof(int));
    OcrRead r;
    read_sequence(ocr, f, seq, OCR_HORIZONTAL, &r, NULL);
    if (r.confidence >= ocr->opts.min_confidence)
        find_size_type(f, seq, OCR_HORIZONTAL, &r);
    add_read(ocr, out, &r);
}

/* Three rows where the owner's row holds marks before the owner code, or the serial's row
 * marks before the serial: the serial starts below the owner's first letter, wherever the
 * two chains start. For each window of 4 in @chain, the components of the same
 * polarity and height below its first one start a window of 7 (@len >= 4). */
static void serial_below_window(PsOcr *ocr, Frame *f, const int *chain, int len, GArray *near,
                                OcrReads *out)
{
    for (int s0 = 0; s0 + 4 <= len; s0++) {
        Comp *c = (Comp *)f->comps->data;
        const Comp *o = &c[chain[s0]];
        double h = o->h;
        grid_query(&f->grid, o->x - 1.2 * h - 1, o->y + 0.8 * h - 1, o->x + 1.2 * h + 1,
                   o->y + 2.6 * h + 1, near);
        for (guint q = 0; q < near->len; q++) {
            int j = g_array_index(near, int, q);
            const Comp *k = &c[j];
            /* A chain starting below the first was tried with every placement already. */
            if ((s0 == 0 && k->left < 0) || k->bright != o->bright || !similar_height(o, k) ||
                k->y <= o->y + 0.8 * h || k->y >= o->y + 2.6 * h ||
                fabs((double)k->x - o->x) >= 1.2 * h)
                continue;
            int chain2[MAX_CHAIN];
            if (chain_of(c, j, FALSE, chain2, MAX_CHAIN) >= 7)
                read_two_rows(ocr, f, chain + s0, chain2, out);
        }
    }
}

static void find_codes(PsOcr *ocr, Frame *f, OcrReads *out)
{
    Comp *c = (Comp *)f->comps->data;
    guint n = f->comps->len;
    int chain[MAX_CHAIN];
    gboolean debug = g_getenv("PS_OCR_DEBUG") != NULL;
    GArray *near = g_array_new(FALSE, FALSE, sizeof(int));
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
                    int bk = argmax_of(c[chain[k]].prob);
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
                int killer;
                read_sequence(ocr, f, chain + s, orient, &r, &killer);
                if (killer >= 0) {
                    s += killer; /* every window holding that character fails too */
                    continue;
                }
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
            double hh = c[i].h;
            Comp *last = &c[chain[len - 1]];
            grid_query(&f->grid, MIN(c[i].x - 1.2 * hh, last->x + last->w) - 1,
                       MIN(c[i].y + 0.8 * hh, last->y + last->h / 2.0 - 0.3 * hh) - 1,
                       MAX(c[i].x + 1.2 * hh, last->x + last->w + 4 * hh) + 1,
                       MAX(c[i].y + 2.6 * hh, last->y + last->h / 2.0 + 0.3 * hh) + 1, near);
            for (guint q = 0; q < near->len; q++) {
                guint j = (guint)g_array_index(near, int, q);
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
                for (int s0 = below ? 0 : len - 4; s0 + 4 <= len; s0++)
                    for (int s2 = 0; s2 + 7 <= len2; s2++)
                        read_two_rows(ocr, f, chain + s0, chain2 + s2, out);
            }
            serial_below_window(ocr, f, chain, len, near, out);
        }
    }
    g_array_free(near, TRUE);
}

/* Rescue of broken lines. A character the binarization lost (it straddles a shadow's edge,
 * touches a rib or its neighbour, is faint) breaks a line or column of the code into pieces
 * too short for a window of 11, or leaves a gap the links jumped. A line that already holds
 * several characters tells where the missing ones must be: its pitch, its top and bottom. At
 * each such place the frame is binarized again by Otsu's threshold of that window alone, and
 * the character is classified from the ink found there; only places the network reads as a
 * character join the line. */

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
        classify_box(f, b[0], b[1], b[2], b[3], m->bright, prob);
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
    grid_add(&f->grid, (int)f->comps->len - 1, c.x, c.y, c.w, c.h);
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
        grid_query(&f->grid, across - r, q0 - r, across + r, q1 + r, near);
    else
        grid_query(&f->grid, q0 - r, across - r, q1 + r, across + r, near);
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
 * characters found into them. Returns whether any chain changed (find_codes() must look
 * again). */
static gboolean rescue_lines(PsOcr *ocr, Frame *f, const OcrReads *out)
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
            int len = chain_of(c, (int)i, down, seq, RESCUE_MAX_LEN);
            if (len < 3 || len >= RESCUE_MAX_LEN)
                continue;
            int good = 0, x0 = G_MAXINT, y0 = G_MAXINT, x1 = 0, y1 = 0;
            for (int k = 0; k < len; k++) {
                Comp *m = &c[seq[k]];
                classify(f, m);
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

static int compare_reads(const void *a, const void *b)
{
    const OcrRead *x = a, *y = b;
    return (x->confidence < y->confidence) - (x->confidence > y->confidence);
}

/* Binarizes @small against @bg at contrast @t in both polarities and reads the codes found. */
static void detect_pass(PsOcr *ocr, const guint8 *gray, int width, int height, int scale,
                        const guint8 *small, const guint8 *bg, int w, int h, int t,
                        gboolean split, guint8 *bright, guint8 *dark,
                        ClassCache *cache, OcrReads *out,
                        const char *dump)
{
    for (size_t i = 0; i < (size_t)w * h; i++) {
        bright[i] = small[i] > bg[i] + t;
        dark[i] = small[i] + t < bg[i];
    }
    if (dump) {
        PIX *m = pixCreate(w, h, 8);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                pixSetPixel(m, x, y, bright[(size_t)y * w + x] ? 255
                                     : dark[(size_t)y * w + x] ? 0 : 128);
        pixWrite(dump, m, IFF_PNG);
        pixDestroy(&m);
    }
    int min_h = MAX(6, ocr->opts.min_char_height / scale);
    int max_h = ocr->opts.max_char_height / scale;
    Frame f = {gray, width, height, scale, g_array_new(FALSE, FALSE, sizeof(Comp)), cache, {0}};
    components(bright, w, h, TRUE, min_h, max_h, split ? &f : NULL, f.comps);
    components(dark, w, h, FALSE, min_h, max_h, split ? &f : NULL, f.comps);
    if (split)
        split_stacked(f.comps, bright, dark, w, h, min_h);
    drop_frames(f.comps, w, h);
    grid_init(&f.grid, w, h, 32);
    for (guint i = 0; i < f.comps->len; i++) {
        Comp *c = &g_array_index(f.comps, Comp, i);
        grid_add(&f.grid, (int)i, c->x, c->y, c->w, c->h);
    }
    link_neighbours(&f, ocr->opts.vertical);
    join_halves_of_w(&f);
    find_codes(ocr, &f, out);
    if (rescue_lines(ocr, &f, out))
        find_codes(ocr, &f, out);
    grid_clear(&f.grid);
    g_array_free(f.comps, TRUE);
}

/* Mean of @img over a (2 @rx + 1) x (2 @ry + 1) window around each pixel (clipped at the
 * edges), from the integral image @ii ((w + 1) x (h + 1)). */
static void window_mean(const guint32 *ii, int w, int h, int rx, int ry, guint8 *out)
{
    /* Division by the window's area as a multiplication by its rounded-up reciprocal: exact
     * here, since sum * area < 2^32. */
    int max_area = (2 * rx + 1) * (2 * ry + 1);
    guint64 *recip = g_new(guint64, max_area + 1);
    recip[0] = 0;
    for (int a = 1; a <= max_area; a++)
        recip[a] = (((guint64)1 << 32) + a - 1) / a;
    for (int y = 0; y < h; y++) {
        int ya = MAX(0, y - ry), yb = MIN(h, y + ry + 1);
        const guint32 *ra = ii + (size_t)ya * (w + 1), *rb = ii + (size_t)yb * (w + 1);
        for (int x = 0; x < w; x++) {
            int xa = MAX(0, x - rx), xb = MIN(w, x + rx + 1);
            guint32 sum = rb[xb] - ra[xb] - rb[xa] + ra[xa];
            out[(size_t)y * w + x] = (guint8)((sum * recip[(yb - ya) * (xb - xa)]) >> 32);
        }
    }
    g_free(recip);
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
    if (scale == 2) {
        for (int y = 0; y < h; y++) {
            const guint8 *r0 = gray + (size_t)(2 * y) * width, *r1 = r0 + width;
            guint8 *d = small + (size_t)y * w;
            for (int x = 0; x < w; x++)
                d[x] = (guint8)((r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]) >> 2);
        }
    } else {
        for (int y = 0; y < h; y++)
            memcpy(small + (size_t)y * w, gray + (size_t)y * width, w);
    }
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
    /* Backgrounds: the local mean over a window about the height of a small character; and
     * means over tall narrow and wide flat strips, which follow the brightness of vertical
     * or horizontal corrugation ribs (a square window averages a rib's bright and dark faces,
     * and the dark face then joins dark characters into one blob). */
    guint8 *mean = g_malloc((size_t)w * h), *vstrip = g_malloc((size_t)w * h);
    guint8 *hstrip = g_malloc((size_t)w * h);
    window_mean(integral, w, h, 15, 15, mean);
    window_mean(integral, w, h, 1, 48, vstrip);
    window_mean(integral, w, h, 48, 1, hstrip);
    g_free(integral);
    /* Three contrast thresholds against the local mean: faint paint needs the low one,
     * markings touching their neighbours (the check digit's box, rust) separate at the high
     * one; one against each strip mean. Each pass finds its own candidates; add_read() keeps
     * the best read of each place, and a character box seen by an earlier pass is not
     * classified again. */
    static const struct {
        int bg, t;
        gboolean split;
    } passes[] = {{0, 14, FALSE}, {0, 22, FALSE}, {0, 30, FALSE},
                  {1, 22, TRUE},  {2, 22, TRUE}};
    const guint8 *bgs[] = {mean, vstrip, hstrip};
    guint8 *bright = g_malloc((size_t)w * h), *dark = g_malloc((size_t)w * h);
    ClassCache *cache = class_cache_new();
    const char *dump = g_getenv("PS_OCR_DUMP");
    for (guint p = 0; p < G_N_ELEMENTS(passes); p++) {
        char *name = dump ? g_strdup_printf("%s-%u.png", dump, p) : NULL;
        detect_pass(ocr, gray, width, height, scale, small, bgs[passes[p].bg], w, h,
                    passes[p].t, passes[p].split, bright, dark, cache, out,
                    name);
        g_free(name);
    }
    class_cache_free(cache);
    g_free(bright);
    g_free(dark);
    g_free(mean);
    g_free(vstrip);
    g_free(hstrip);
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
    /* One loop per format, so the inner loop has no branch. */
    int ri = fmt == OCR_PIXEL_BGRX ? 2 : 0, bi = fmt == OCR_PIXEL_BGRX ? 0 : 2;
    for (int y = 0; y < height; y++) {
        const guint8 *row = pixels + (size_t)y * stride;
        guint8 *dst = gray + (size_t)y * width;
        if (fmt == OCR_PIXEL_GRAY8) {
            memcpy(dst, row, width);
            continue;
        }
        for (int x = 0; x < width; x++, row += bpp)
            dst[x] = (guint8)((77 * row[ri] + 150 * row[1] + 29 * row[bi]) >> 8);
    }
    read_gray(ocr, gray, width, height, out);
    g_free(gray);
    return TRUE;
}

/* Reads the codes in a decoded Leptonica image; @name names it in errors. Takes @pix. */
static gboolean read_pix(PsOcr *ocr, PIX *pix, const char *name, OcrReads *out, GError **error)
{
    int w = pixGetWidth(pix), h = pixGetHeight(pix);
    if (w > MAX_SIDE || h > MAX_SIDE) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: %dx%d is larger than %d", name, w, h,
                    MAX_SIDE);
        pixDestroy(&pix);
        return FALSE;
    }
    PIX *g8 = pixGetDepth(pix) == 32 ? pixConvertRGBToLuminance(pix) : pixConvertTo8(pix, 0);
    pixDestroy(&pix);
    if (!g8) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot convert to gray", name);
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
    return read_pix(ocr, pix, path, out, error);
}

gboolean ocr_read_memory(PsOcr *ocr, const guint8 *data, gsize size, OcrReads *out,
                         GError **error)
{
    memset(out, 0, sizeof *out);
    setMsgSeverity(L_SEVERITY_NONE);
    PIX *pix = data && size > 0 ? pixReadMem(data, size) : NULL;
    if (!pix) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "image in memory (%" G_GSIZE_FORMAT
                    " bytes): cannot decode it", size);
        return FALSE;
    }
    return read_pix(ocr, pix, "image in memory", out, error);
}
