/* grid.c: the uniform grid that neighbour searches use, the class cache of one frame,
 * and the network on one box (through the cache). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

void ocr__grid_init(Grid *g, int w, int h, int cell)
{
    g->cell = MAX(cell, 8);
    g->nx = (w + g->cell - 1) / g->cell;
    g->ny = (h + g->cell - 1) / g->cell;
    g->cells = g_new0(GArray *, (size_t)g->nx * g->ny);
    g->mark = NULL;
    g->n_mark = 0;
    g->stamp = 0;
}

void ocr__grid_clear(Grid *g)
{
    for (int i = 0; i < g->nx * g->ny; i++)
        if (g->cells[i])
            g_array_free(g->cells[i], TRUE);
    g_free(g->cells);
    g_free(g->mark);
    memset(g, 0, sizeof *g);
}

void ocr__grid_add(Grid *g, int idx, int x, int y, int w, int h)
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
void ocr__grid_query(Grid *g, double x0, double y0, double x1, double y1, GArray *out)
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

ClassCache *ocr__class_cache_new(void)
{
    ClassCache *c = g_new(ClassCache, 1);
    c->index = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    c->probs = g_array_new(FALSE, FALSE, sizeof(float) * OCR__N_OUT);
    return c;
}

void ocr__class_cache_free(ClassCache *c)
{
    g_hash_table_destroy(c->index);
    g_array_free(c->probs, TRUE);
    g_free(c);
}

/* The network's probabilities for the crop of box (@x, @y, @w, @h) in frame pixels. */
void ocr__classify_box(Frame *f, int x, int y, int w, int h, gboolean bright, float *prob)
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
