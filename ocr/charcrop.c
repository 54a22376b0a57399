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

/* Bilinear sample with clamping to the image; -1 outside. */
static float sample(const guint8 *gray, int width, int height, int stride, float fx, float fy)
{
    if (fx < 0 || fy < 0 || fx > width - 1 || fy > height - 1)
        return -1.0f;
    int x0 = (int)fx, y0 = (int)fy;
    int x1 = MIN(x0 + 1, width - 1), y1 = MIN(y0 + 1, height - 1);
    float ax = fx - x0, ay = fy - y0;
    const guint8 *r0 = gray + (size_t)y0 * stride, *r1 = gray + (size_t)y1 * stride;
    float top = r0[x0] * (1 - ax) + r0[x1] * ax;
    float bot = r1[x0] * (1 - ax) + r1[x1] * ax;
    return top * (1 - ay) + bot * ay;
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
    float vals[OCR__CROP * OCR__CROP];
    int n_in = 0;
    for (int oy = 0; oy < n; oy++) {
        for (int ox = 0; ox < n; ox++) {
            float acc = 0;
            int cnt = 0;
            for (int sy = 0; sy < sub; sy++) {
                for (int sx = 0; sx < sub; sx++) {
                    float fx = cx + (ox - n / 2.0f + (sx + 0.5f) / sub) * step - 0.5f;
                    float fy = cy + (oy - n / 2.0f + (sy + 0.5f) / sub) * step - 0.5f;
                    float v = sample(gray, width, height, stride, fx, fy);
                    if (v >= 0) {
                        acc += v;
                        cnt++;
                    }
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
    float lo = kth_smallest(vals, n_in, n_in * 5 / 100);
    float hi = kth_smallest(vals, n_in, (n_in - 1) * 95 / 100);
    float med = kth_smallest(vals, n_in, n_in / 2);
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
