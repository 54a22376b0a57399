/* binarize.c: the gray frame halved when wide, its local mean and the means of tall and
 * wide strips, five thresholding passes in both polarities and, when they read no code, one
 * more in dark surroundings; each pass finds components, links them, reads the candidates and
 * mends broken lines. */
#include <leptonica/allheaders.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

/* The pass of dark surroundings (OcrOptions.dark_pass): DARK_T grey levels off the local mean
 * where that mean is under DARK_BG. At night a code's paint stands 10-20 levels off steel that
 * is itself 10-30 (seed 93102 frame 904: the code's box spans 9-30, its paint about 28 on 12),
 * under the lowest contrast of the other passes. Chosen on the tuning seeds: see docs/ocr.md. */
#define DARK_T 7
#define DARK_BG 48
/* A pass's limit on the local mean that is none (the mean is 0-255). */
#define ANY_BG 256

static int compare_reads(const void *a, const void *b)
{
    const OcrRead *x = a, *y = b;
    return (x->confidence < y->confidence) - (x->confidence > y->confidence);
}

/* Binarizes @small against @bg at contrast @t in both polarities, where @bg is under @max_bg,
 * and reads the codes found. */
static void detect_pass(PsOcr *ocr, const guint8 *gray, int width, int height, int scale,
                        const guint8 *small, const guint8 *bg, int w, int h, int t,
                        int max_bg, gboolean split, guint8 *bright, guint8 *dark,
                        ClassCache *cache, OcrReads *out,
                        const char *dump)
{
    for (size_t i = 0; i < (size_t)w * h; i++) {
        bright[i] = small[i] > bg[i] + t;
        dark[i] = small[i] + t < bg[i];
    }
    for (size_t i = 0; max_bg < ANY_BG && i < (size_t)w * h; i++)
        if (bg[i] >= max_bg)
            bright[i] = dark[i] = 0;
    if (dump) {
        PIX *m = pixCreate(w, h, 8);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                pixSetPixel(m, x, y, bright[(size_t)y * w + x] ? 255
                                     : dark[(size_t)y * w + x] ? 0 : 128);
        pixWrite(dump, m, IFF_PNG);
        pixDestroy(&m);
    }
    int min_h = MAX(10, ocr->opts.min_char_height / scale);
    int max_h = ocr->opts.max_char_height / scale;
    Frame f = {gray, width, height, scale, g_array_new(FALSE, FALSE, sizeof(Comp)), cache, {0},
               max_bg < ANY_BG};
    ocr__components(bright, w, h, TRUE, min_h, max_h, split ? &f : NULL, ocr__scratch_of(ocr),
                    f.comps);
    ocr__components(dark, w, h, FALSE, min_h, max_h, split ? &f : NULL, ocr__scratch_of(ocr),
                    f.comps);
    if (split)
        ocr__split_stacked(f.comps, bright, dark, w, h, min_h);
    ocr__drop_frames(f.comps, w, h);
    ocr__grid_init(&f.grid, w, h, 32);
    for (guint i = 0; i < f.comps->len; i++) {
        Comp *c = &g_array_index(f.comps, Comp, i);
        ocr__grid_add(&f.grid, (int)i, c->x, c->y, c->w, c->h);
    }
    ocr__link_neighbours(&f, ocr->opts.vertical);
    ocr__join_halves_of_w(&f, ocr->opts.wide_pieces);
    ocr__find_codes(ocr, &f, out);
    if (ocr__rescue_lines(ocr, &f, out))
        ocr__find_codes(ocr, &f, out);
    ocr__grid_clear(&f.grid);
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
void ocr__read_gray(PsOcr *ocr, const guint8 *gray, int width, int height, OcrReads *out)
{
    memset(out, 0, sizeof *out);
    int scale = width > 1200 ? 2 : 1;
    int w = width / scale, h = height / scale;
    if (w < 16 || h < 16)
        return;
    OcrScratch *scratch = ocr__scratch_of(ocr);
    guint8 *small = ocr__scratch_take(scratch, (size_t)w * h);
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
    guint32 *integral = ocr__scratch_take(scratch, sizeof(guint32) * (w + 1) * (h + 1));
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
    guint8 *mean = ocr__scratch_take(scratch, (size_t)w * h);
    guint8 *vstrip = ocr__scratch_take(scratch, (size_t)w * h);
    guint8 *hstrip = ocr__scratch_take(scratch, (size_t)w * h);
    window_mean(integral, w, h, 15, 15, mean);
    window_mean(integral, w, h, 1, 48, vstrip);
    window_mean(integral, w, h, 48, 1, hstrip);
    ocr__scratch_give(scratch, integral);
    /* Three contrast thresholds against the local mean: faint paint needs the low one,
     * markings touching their neighbours (the check digit's box, rust) separate at the high
     * one; one against each strip mean; last, a lower one where the surroundings are dark
     * (max_bg: the local mean under it). Each pass finds its own candidates; add_read() keeps
     * the best read of each place, and a character box seen by an earlier pass is not
     * classified again. */
    static const struct {
        int bg, t, max_bg;
        gboolean split;
    } passes[] = {{0, 14, ANY_BG, FALSE}, {0, 22, ANY_BG, FALSE}, {0, 30, ANY_BG, FALSE},
                  {1, 22, ANY_BG, TRUE},  {2, 22, ANY_BG, TRUE},  {0, DARK_T, DARK_BG, FALSE}};
    const guint8 *bgs[] = {mean, vstrip, hstrip};
    guint8 *bright = ocr__scratch_take(scratch, (size_t)w * h);
    guint8 *dark = ocr__scratch_take(scratch, (size_t)w * h);
    ClassCache *cache = ocr__class_cache_new();
    const char *dump = ocr->opts.dump_prefix;
    for (guint p = 0; p < G_N_ELEMENTS(passes); p++) {
        /* The pass of dark surroundings (the last) only where the others read no code: its low
         * contrast takes in noise, and a window shifted onto it must not displace a code
         * read. */
        if (passes[p].max_bg < ANY_BG && (!ocr->opts.dark_pass || out->n_reads > 0))
            break;
        char *name = dump ? g_strdup_printf("%s-%u.png", dump, p) : NULL;
        detect_pass(ocr, gray, width, height, scale, small, bgs[passes[p].bg], w, h,
                    passes[p].t, passes[p].max_bg, passes[p].split, bright, dark, cache, out,
                    name);
        g_free(name);
    }
    ocr__class_cache_free(cache);
    ocr__scratch_give(scratch, bright);
    ocr__scratch_give(scratch, dark);
    ocr__scratch_give(scratch, mean);
    ocr__scratch_give(scratch, vstrip);
    ocr__scratch_give(scratch, hstrip);
    ocr__scratch_give(scratch, small);
    qsort(out->reads, out->n_reads, sizeof(OcrRead), compare_reads);
}
