/* components.c: connected components of character size in a binarized frame; wide
 * components cut into characters (unless the network reads a W or M), characters stacked in a
 * column cut apart, the check digit's box frame dropped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

/* Appends @c to @out when it is shaped like a character. */
static void keep_char_like(const Comp *c, int min_h, GArray *out)
{
    if (c->h < min_h || c->w > c->h * 1.45 || c->w < 2)
        return;
    double fill = (double)c->area / (c->w * c->h);
    /* Solid bars ('I', '1') fill their box. */
    if (fill < 0.12 || (fill > 0.98 && c->w > c->h / 3) || out->len >= OCR__MAX_CANDIDATES)
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
int ocr__argmax_of(const float *prob)
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
    ocr__classify_box(f, c->x * s, c->y * s, c->w * s, c->h * s, c->bright, prob);
    int best = ocr__argmax_of(prob);
    return best == ocr_class_index('W') || best == ocr_class_index('M');
}

/* Connected components of @mask (w x h, 1 = set) into @out; 8-connectivity. With @split (the
 * frame, for the network), components as wide as two or more characters are cut. */
void ocr__components(const guint8 *mask, int w, int h, gboolean bright, int min_h, int max_h,
                     Frame *split, OcrScratch *scratch, GArray *out)
{
    GArray *raw = g_array_new(FALSE, FALSE, sizeof(Comp));
    guint8 *seen = ocr__scratch_take(scratch, (size_t)w * h);
    memset(seen, 0, (size_t)w * h);
    int *stack = ocr__scratch_take(scratch, sizeof(int) * w * h);
    int found = 0;
    for (int start = 0; start < w * h && found < OCR__MAX_COMPONENTS; start++) {
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
        if (raw->len >= OCR__MAX_COMPONENTS)
            continue;
        Comp c = {x0, y0, cw, ch, area, bright, -1, -1, -1, -1, 0, {0}, 0, {0}, FALSE};
        g_array_append_val(raw, c);
    }
    ocr__scratch_give(scratch, stack);
    ocr__scratch_give(scratch, seen);
    /* Strokes broken by rust, ribs or a thin gap: merge pieces stacked in one column (the flag
     * and stem of a '1', the halves of a broken '8'). */
    Comp *r = (Comp *)raw->data;
    Grid grid;
    ocr__grid_init(&grid, w, h, 16);
    for (guint i = 0; i < raw->len; i++)
        ocr__grid_add(&grid, (int)i, r[i].x, r[i].y, r[i].w, r[i].h);
    GArray *near = g_array_new(FALSE, FALSE, sizeof(int));
    double reach = 0.12 * max_h + 2; /* the largest gap that merges */
    for (guint i = 0; i < raw->len; i++) {
        if (r[i].area == 0)
            continue;
        gboolean grew = TRUE;
        while (grew) {
            grew = FALSE;
            ocr__grid_query(&grid, r[i].x, r[i].y - reach, r[i].x + r[i].w, r[i].y + r[i].h + reach,
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
                ocr__grid_add(&grid, (int)i, r[i].x, r[i].y, r[i].w, r[i].h);
                grew = TRUE; /* the box grew: look again */
                break;
            }
        }
    }
    g_array_free(near, TRUE);
    ocr__grid_clear(&grid);
    for (guint i = 0; i < raw->len; i++) {
        Comp *c = &r[i];
        if (c->area == 0)
            continue;
        /* Characters painted close together (or joined by blur) are one component as wide
         * as two or three: cut it where the columns hold the least ink. Up to 1.45 times the
         * height it may be one wide letter (W, M) and stays whole. */
        if (split && c->h >= min_h && c->w > c->h * 1.45 && c->w <= c->h * 3.2) {
            if (c->w <= c->h * 1.8 && wide_letter(split, c)) {
                if (out->len < OCR__MAX_CANDIDATES)
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
    ocr__grid_init(grid, w, h, 32);
    for (guint i = 0; i < n; i++) {
        const Comp *a = &g_array_index(comps, Comp, i);
        ocr__grid_add(grid, (int)i, a->x, a->y, a->w, a->h);
    }
}

/* In a column of characters (corner posts), two characters painted close together are one
 * component about twice as tall as the ones above or below it: cut it in two where the rows
 * hold the least ink. */
void ocr__split_stacked(GArray *comps, const guint8 *bright, const guint8 *dark, int w, int h,
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
        ocr__grid_query(&grid, x.x - x.h / 2.0, x.y - x.h, x.x + x.w + x.h / 2.0, x.y + 2 * x.h, near);
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
    ocr__grid_clear(&grid);
}

/* Box frames (the check digit's box) contain another component: they are not characters. */
void ocr__drop_frames(GArray *comps, int w, int h)
{
    guint n = comps->len;
    gboolean *frame = g_new0(gboolean, n);
    Grid grid;
    grid_of_comps(&grid, comps, n, w, h);
    GArray *near = g_array_new(FALSE, FALSE, sizeof(int));
    for (guint i = 0; i < n; i++) {
        Comp *a = &g_array_index(comps, Comp, i);
        ocr__grid_query(&grid, a->x, a->y, a->x + a->w, a->y + a->h, near);
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
    ocr__grid_clear(&grid);
    guint k = 0;
    for (guint i = 0; i < n; i++)
        if (!frame[i])
            g_array_index(comps, Comp, k++) = g_array_index(comps, Comp, i);
    g_array_set_size(comps, k);
    g_free(frame);
}
