/* det.c: inference of the text-region detector trained by tools/train_detector.py (weights in
 * the generated det_weights.c, layer sizes in the generated det_shapes.h): the frame shrunk by
 * an integer factor and standardized, conv 3x3 stride 2, conv 3x3 stride 2, conv 3x3, conv 3x3
 * dilation 2, conv 3x3 dilation 4 (ReLU after each), conv 1x1, sigmoid: the probability that
 * each 4 x 4 cell of the shrunk frame is inside a code character.
 *
 * The convolutions are ocr__conv() (conv.c): channel-last, the weights re-ordered once to
 * [tap][input][output]. Thread-safe: the re-ordered weights are written once under
 * g_once, the work buffers belong to the call. */
#include <math.h>

#include "det_shapes.h"
#include "ocr-private.h"

#define C1 OCR__DET_C1
#define C2 OCR__DET_C2

/* What this code assumes of the network the training script describes. */
_Static_assert(C1 % 4 == 0 && C2 % 4 == 0, "channel counts must be multiples of 4");
_Static_assert(C1 <= OCR__CONV_MAX_C && C2 <= OCR__CONV_MAX_C,
               "ocr__conv() keeps at most OCR__CONV_MAX_C accumulators");
_Static_assert(OCR__DET_D1_STRIDE == 2 && OCR__DET_D2_STRIDE == 2 && OCR__DET_D3_STRIDE == 1 &&
                   OCR__DET_D4_STRIDE == 1 && OCR__DET_D5_STRIDE == 1,
               "two stride-2 layers then stride 1: the output is a quarter of the input");
_Static_assert(OCR__DET_STRIDE == 4, "the input is padded to a multiple of 4");

static float d1_t[9 * 1 * C1], d2_t[9 * C1 * C2], d3_t[9 * C2 * C2], d4_t[9 * C2 * C2],
    d5_t[9 * C2 * C2];


static void init_weights(void)
{
    static gsize done = 0;
    if (!g_once_init_enter(&done))
        return;
    ocr__conv_reorder(ocr__det_d1_w, 1, C1, 9, d1_t);
    ocr__conv_reorder(ocr__det_d2_w, C1, C2, 9, d2_t);
    ocr__conv_reorder(ocr__det_d3_w, C2, C2, 9, d3_t);
    ocr__conv_reorder(ocr__det_d4_w, C2, C2, 9, d4_t);
    ocr__conv_reorder(ocr__det_d5_w, C2, C2, 9, d5_t);
    g_once_init_leave(&done, 1);
}

/* conv 3x3, padding = dilation (the size kept but for the stride), ReLU. */
static void conv(const float *in, int h, int w, int cin, const float *wt, const float *b,
                 int cout, int stride, int dil, float *out)
{
    const OcrConvShape s = {3, 3, stride, dil, dil, dil, dil};
    ocr__conv(in, h, w, cin, wt, b, cout, &s, out, NULL, NULL);
}

int ocr__det_factor(int width, int height)
{
    return MAX(1, (MAX(width, height) + OCR__DET_LONG_SIDE / 2) / OCR__DET_LONG_SIDE);
}

float *ocr__det_heatmap(const guint8 *gray, int width, int height, int stride, int k,
                        OcrScratch *scratch, int *out_w, int *out_h)
{
    *out_w = *out_h = 0;
    int iw = width / MAX(k, 1), ih = height / MAX(k, 1);
    if (k < 1 || iw < 4 || ih < 4)
        return NULL;
    init_weights();
    const int pw = (iw + 3) / 4 * 4, ph = (ih + 3) / 4 * 4, kk = k * k;
    /* k x k means, rounded to integers, then standardized over the unpadded part. */
    float *x = ocr__scratch_take(scratch, sizeof(float) * pw * ph);
    double sum = 0, sq = 0;
    for (int y = 0; y < ih; y++)
        for (int xx = 0; xx < iw; xx++) {
            int s = 0;
            for (int dy = 0; dy < k; dy++) {
                const guint8 *r = gray + (size_t)(y * k + dy) * stride + (size_t)xx * k;
                for (int dx = 0; dx < k; dx++)
                    s += r[dx];
            }
            float g = (float)((s + kk / 2) / kk);
            x[(size_t)y * pw + xx] = g;
            sum += g;
        }
    double mean = sum / ((double)iw * ih);
    for (int y = 0; y < ih; y++)
        for (int xx = 0; xx < iw; xx++) {
            double d = x[(size_t)y * pw + xx] - mean;
            sq += d * d;
        }
    double sd = MAX(sqrt(sq / ((double)iw * ih)), 4.0);
    for (int y = 0; y < ph; y++)
        for (int xx = 0; xx < pw; xx++) {
            int sy = MIN(y, ih - 1), sx = MIN(xx, iw - 1);
            if (y < ih && xx < iw)
                x[(size_t)y * pw + xx] = (float)((x[(size_t)y * pw + xx] - mean) / sd);
            else /* the edge repeated: its value is standardized already (rows and columns
                    before it come first) */
                x[(size_t)y * pw + xx] = x[(size_t)sy * pw + sx];
        }
    const int h2 = ph / 2, w2 = pw / 2, h4 = ph / 4, w4 = pw / 4;
    float *a1 = ocr__scratch_take(scratch, sizeof(float) * h2 * w2 * C1);
    float *a2 = ocr__scratch_take(scratch, sizeof(float) * h4 * w4 * C2);
    float *a3 = ocr__scratch_take(scratch, sizeof(float) * h4 * w4 * C2);
    conv(x, ph, pw, 1, d1_t, ocr__det_d1_b, C1, 2, 1, a1);
    conv(a1, h2, w2, C1, d2_t, ocr__det_d2_b, C2, 2, 1, a2);
    conv(a2, h4, w4, C2, d3_t, ocr__det_d3_b, C2, 1, 1, a3);
    conv(a3, h4, w4, C2, d4_t, ocr__det_d4_b, C2, 1, 2, a2);
    conv(a2, h4, w4, C2, d5_t, ocr__det_d5_b, C2, 1, 4, a3);
    float *heat = g_new(float, (size_t)h4 * w4);
    for (size_t i = 0; i < (size_t)h4 * w4; i++) {
        float z = ocr__det_head_b[0];
        for (int c = 0; c < C2; c++)
            z += ocr__det_head_w[c] * a3[i * C2 + c];
        heat[i] = 1.0f / (1.0f + expf(-z));
    }
    ocr__scratch_give(scratch, x);
    ocr__scratch_give(scratch, a1);
    ocr__scratch_give(scratch, a2);
    ocr__scratch_give(scratch, a3);
    *out_w = w4;
    *out_h = h4;
    return heat;
}
