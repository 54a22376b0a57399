/* charcrop.c: the normalized character crop shared by the recognizer and the generator. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ocr-private.h"

/* The @k-th smallest of @v[0..n) (0-based; @v is reordered): Hoare's selection, the values
 * the sorted array would hold at @k, in linear expected time. */
static float kth_smallest(float *v, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

/* The values of ranks @k[0..3) (0-based) of @v[0..n), each in 0..255, into @at: the values
 * are spread into 256 bins by their integer part (a counting sort), and each rank is then
 * selected among the values of its bin only. */
static void three_ranks(const float *v, int n, const int k[3], float at[3])
{
    int start[257] = {0};
    for (int i = 0; i < n; i++)
        start[CLAMP((int)v[i], 0, 255) + 1]++;
    for (int b = 0; b < 256; b++)
        start[b + 1] += start[b];
    int fill[256];
    memcpy(fill, start, sizeof fill);
    float bybin[OCR__CROP * OCR__CROP];
    for (int i = 0; i < n; i++)
        bybin[fill[CLAMP((int)v[i], 0, 255)]++] = v[i];
    for (int r = 0; r < 3; r++) {
        int b = 0;
        while (start[b + 1] <= k[r])
            b++;
        at[r] = kth_smallest(bybin + start[b], start[b + 1] - start[b], k[r] - start[b]);
    }
}

/* A bilinear sample's position along one axis: the two pixels and the weight of the second;
 * not @inside past the image's first or last pixel (such samples are left out). */
typedef struct {
    int i0, i1;
    float a;
    gboolean inside;
} Axis;

static void axis_at(Axis *p, float f, int size)
{
    p->inside = f >= 0 && f <= size - 1;
    p->i0 = p->inside ? (int)f : 0;
    p->i1 = MIN(p->i0 + 1, size - 1);
    p->a = p->inside ? f - p->i0 : 0;
}

void ocr__char_crop(const guint8 *gray, int width, int height, int stride, int x, int y, int w,
                    int h, gboolean bright_text, float *out)
{
    const int n = OCR__CROP;
    if (w < 1)
        w = 1;
    if (h < 1)
        h = 1;
    float scale = 24.0f / h; /* output pixels per input pixel */
    if (w * scale > n - 2)
        scale = (n - 2.0f) / w;
    float cx = x + w / 2.0f, cy = y + h / 2.0f;
    float step = 1.0f / scale; /* input pixels per output pixel */
    /* Average a few sub-samples per output pixel so large characters do not alias. */
    int sub = step > 1.5f ? MIN((int)ceilf(step), 4) : 1;
    /* The sample positions along each axis, computed once (a sample depends on its column and
     * row positions only). */
    Axis ax[OCR__CROP * 4], ay[OCR__CROP * 4];
    for (int o = 0; o < n; o++)
        for (int k = 0; k < sub; k++) {
            axis_at(&ax[o * sub + k], cx + (o - n / 2.0f + (k + 0.5f) / sub) * step - 0.5f,
                    width);
            axis_at(&ay[o * sub + k], cy + (o - n / 2.0f + (k + 0.5f) / sub) * step - 0.5f,
                    height);
        }
    float vals[OCR__CROP * OCR__CROP];
    int n_in = 0;
    for (int oy = 0; oy < n; oy++) {
        for (int ox = 0; ox < n; ox++) {
            float acc = 0;
            int cnt = 0;
            for (int sy = 0; sy < sub; sy++) {
                const Axis *py = &ay[oy * sub + sy];
                if (!py->inside)
                    continue;
                const guint8 *r0 = gray + (size_t)py->i0 * stride;
                const guint8 *r1 = gray + (size_t)py->i1 * stride;
                for (int sx = 0; sx < sub; sx++) {
                    const Axis *px = &ax[ox * sub + sx];
                    if (!px->inside)
                        continue;
                    float top = r0[px->i0] * (1 - px->a) + r0[px->i1] * px->a;
                    float bot = r1[px->i0] * (1 - px->a) + r1[px->i1] * px->a;
                    acc += top * (1 - py->a) + bot * py->a;
                    cnt++;
                }
            }
            out[oy * n + ox] = cnt ? acc / cnt : -1.0f;
            if (cnt)
                vals[n_in++] = out[oy * n + ox];
        }
    }
    if (n_in == 0) {
        memset(out, 0, sizeof(float) * n * n);
        return;
    }
    const int k[3] = {n_in * 5 / 100, (n_in - 1) * 95 / 100, n_in / 2};
    float at[3];
    three_ranks(vals, n_in, k, at);
    float lo = at[0], hi = at[1], med = at[2];
    float range = hi - lo;
    if (range < 8.0f)
        range = 8.0f;
    for (int i = 0; i < n * n; i++) {
        float v = out[i] < 0 ? med : out[i];
        v = (v - lo) / range;
        if (!bright_text)
            v = 1.0f - v;
        out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
}
