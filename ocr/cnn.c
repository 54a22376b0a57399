/* cnn.c: inference of the character network trained by tools/train_ocr.py (weights in
 * cnn_weights.h): 3 x (conv 3x3, ReLU, max pool 2), FC 768-64, ReLU, FC 64-37, softmax.
 * Pure and thread-safe: the weights are constant, the work buffers on the stack. */
#include <math.h>
#include <string.h>

#include "cnn_weights.h"
#include "ocr-private.h"

/* conv 3x3 pad 1 + ReLU + max pool 2: @in is cin x n x n, @out cout x n/2 x n/2. */
static void conv_block(const float *in, int cin, int n, const float *w, const float *b, int cout,
                       float *out)
{
    float tmp[48 * 32 * 32]; /* cout x n x n, the largest layer fits */
    for (int o = 0; o < cout; o++) {
        float *t = tmp + (size_t)o * n * n;
        for (int i = 0; i < n * n; i++)
            t[i] = b[o];
        for (int c = 0; c < cin; c++) {
            const float *src = in + (size_t)c * n * n;
            const float *k = w + ((size_t)o * cin + c) * 9;
            for (int dy = -1; dy <= 1; dy++) {
                int y0 = dy < 0 ? 1 : 0, y1 = dy > 0 ? n - 1 : n;
                for (int dx = -1; dx <= 1; dx++) {
                    float kv = k[(dy + 1) * 3 + dx + 1];
                    int x0 = dx < 0 ? 1 : 0, x1 = dx > 0 ? n - 1 : n;
                    for (int y = y0; y < y1; y++) {
                        float *trow = t + y * n;
                        const float *srow = src + (y + dy) * n + dx;
                        for (int x = x0; x < x1; x++)
                            trow[x] += kv * srow[x];
                    }
                }
            }
        }
    }
    int m = n / 2;
    for (int o = 0; o < cout; o++) {
        const float *t = tmp + (size_t)o * n * n;
        float *dst = out + (size_t)o * m * m;
        for (int y = 0; y < m; y++)
            for (int x = 0; x < m; x++) {
                float a = MAX(t[2 * y * n + 2 * x], t[2 * y * n + 2 * x + 1]);
                float c = MAX(t[(2 * y + 1) * n + 2 * x], t[(2 * y + 1) * n + 2 * x + 1]);
                float v = MAX(a, c);
                dst[y * m + x] = v > 0 ? v : 0;
            }
    }
}

void ocr__cnn_classify(const float *crop, float *prob)
{
    float a1[12 * 16 * 16], a2[24 * 8 * 8], a3[48 * 4 * 4], h[64], z[OCR__N_OUT];
    conv_block(crop, 1, 32, c1_w, c1_b, 12, a1);
    conv_block(a1, 12, 16, c2_w, c2_b, 24, a2);
    conv_block(a2, 24, 8, c3_w, c3_b, 48, a3);
    for (int o = 0; o < 64; o++) {
        float s = f1_b[o];
        const float *w = f1_w + (size_t)o * 768;
        for (int i = 0; i < 768; i++)
            s += w[i] * a3[i];
        h[o] = s > 0 ? s : 0;
    }
    float mx = -INFINITY;
    for (int o = 0; o < OCR__N_OUT; o++) {
        float s = f2_b[o];
        for (int i = 0; i < 64; i++)
            s += f2_w[o * 64 + i] * h[i];
        z[o] = s;
        mx = MAX(mx, s);
    }
    float sum = 0;
    for (int o = 0; o < OCR__N_OUT; o++) {
        prob[o] = expf(z[o] - mx);
        sum += prob[o];
    }
    for (int o = 0; o < OCR__N_OUT; o++)
        prob[o] /= sum;
}
