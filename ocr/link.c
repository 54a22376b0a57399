/* link.c: components linked to their mutual nearest right and lower neighbours (lines and
 * columns of characters), and the chains along those links. */
#include <math.h>

#include "pipeline.h"

gboolean ocr__similar_height(const Comp *a, const Comp *b)
{
    return MAX(a->h, b->h) <= 1.4 * MIN(a->h, b->h);
}

/* Links each component to its best right and lower neighbour, kept only when mutual. */
void ocr__link_neighbours(Frame *f, gboolean vertical)
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
        ocr__grid_query(&f->grid, vertical ? MIN(c[i].x, cx - 0.4 * hm - 1) : c[i].x,
                   c[i].y + c[i].h / 2.0 - 0.35 * hm - 1,
                   vertical ? MAX(x1, cx + 0.4 * hm + 1) : x1, y1, near);
        for (guint q = 0; q < near->len; q++) {
            guint j = (guint)g_array_index(near, int, q);
            /* The boxed check digit comes last and may be up to 1.7 times as tall. */
            gboolean box_after = c[j].h > c[i].h && c[j].h <= 1.7 * c[i].h;
            if (i == j || c[i].bright != c[j].bright ||
                !(ocr__similar_height(&c[i], &c[j]) || box_after))
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

/* Collects a chain starting at @start following right (or down) links into @chain. */
int ocr__chain_of(Comp *c, int start, gboolean down, int *chain, int max)
{
    int n = 0;
    for (int k = start; k >= 0 && n < max; k = down ? c[k].down : c[k].right)
        chain[n++] = k;
    return n;
}
