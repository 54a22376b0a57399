/* cnn.c: inference of the character network trained by tools/train_ocr.py (weights in the
 * generated cnn_weights.c, layer sizes in the generated cnn_shapes.h): 3 x (conv 3x3, ReLU,
 * max pool 2), FC 768-64, ReLU, FC 64-37, softmax.
 *
 * Activations are kept channel-last with a zero border, and the weights re-ordered once to
 * [tap][input channel][output channel], so the innermost loop runs over the output channels
 * of one pixel: contiguous, of a length known at compile time, in vectors of 8 floats in the
 * AVX2 code where the processor has it and the read allows it (OcrOptions.avx2), else of 4,
 * adding each channel's products in the same order without fused multiply-adds (the same
 * floats either way). Every input is added, zero or not: skipping the zeros, scattered over a
 * crop, cost more in mispredicted branches than it saved (the outputs are the same floats:
 * OCR__ADD_PIXEL). Thread-safe: the re-ordered weights are written once under g_once, the work
 * buffers are on the stack. */
#include <math.h>
#include <string.h>

#include "cnn_shapes.h"
#include "ocr-private.h"

#define C1 OCR__CNN_C1
#define C2 OCR__CNN_C2
#define C3 OCR__CNN_C3
#define FC OCR__CNN_FC

/* What this code assumes of the network the training script describes. */
_Static_assert(OCR__CNN_IN == OCR__CROP, "the network reads crops of another size");
_Static_assert(OCR__CNN_OUT == OCR__N_OUT, "the network has another number of classes");
_Static_assert(OCR__CNN_IN == 32, "the buffers below are sized for 32 x 32 crops");
_Static_assert(C1 % 4 == 0 && C2 % 4 == 0 && C3 % 4 == 0 && FC % 4 == 0,
               "channel counts must be multiples of 4 (vectors of 4 floats)");
_Static_assert(C1 <= C3 && C2 <= C3, "conv_block keeps at most C3 accumulators");

static float c1_t[9 * 1 * C1], c2_t[9 * C1 * C2], c3_t[9 * C2 * C3], f1_t[FC * C3 * 16];

static void init_weights(void)
{
    static gsize done = 0;
    if (!g_once_init_enter(&done))
        return;
    ocr__conv_reorder(ocr__cnn_c1_w, 1, C1, 9, c1_t);
    ocr__conv_reorder(ocr__cnn_c2_w, C1, C2, 9, c2_t);
    ocr__conv_reorder(ocr__cnn_c3_w, C2, C3, 9, c3_t);
    /* The first FC layer: [out][channel * 16 + pixel] to [pixel * C3 + channel][out]. */
    for (int o = 0; o < FC; o++)
        for (int c = 0; c < C3; c++)
            for (int p = 0; p < 16; p++)
                f1_t[((size_t)p * C3 + c) * FC + o] =
                    ocr__cnn_f1_w[(size_t)o * C3 * 16 + c * 16 + p];
    g_once_init_leave(&done, 1);
}

/* Four or eight floats, in one SIMD register where the target has them (GCC and clang lower
 * them to narrower vectors or scalars where not). */
typedef float v4sf __attribute__((vector_size(16)));
typedef float v8sf __attribute__((vector_size(32)));

/* conv 3x3 pad 1 + ReLU + max pool 2, the output channels in vectors of type VT of L floats
 * (each channel's products are added in the same order whatever L). @in is (n + 2) x (n + 2)
 * x cin with a zero border; the interior of @out, (n/2 + 2) x (n/2 + 2) x cout, is written (its
 * border must be zero). @cout is a multiple of L; the accumulators of one pixel stay in
 * registers. */
#define CONV_BLOCK(VT, L, in, cin, n, wt, b, cout, out)                                           \
    do {                                                                                          \
        const int np = (n) + 2, m = (n) / 2, mp = m + 2, nv = (cout) / (L);                       \
        for (int y = 0; y < m; y++)                                                               \
            for (int x = 0; x < m; x++) {                                                         \
                VT best[C3 / (L)] = {0}; /* set at q == 0; zeroed for -Wmaybe-uninitialized */    \
                for (int q = 0; q < 4; q++) {                                                     \
                    int py = 2 * y + q / 2, px = 2 * x + q % 2;                                   \
                    VT acc[C3 / (L)];                                                             \
                    _Pragma("GCC unroll 12") for (int j = 0; j < nv; j++)                         \
                        memcpy(&acc[j], (b) + (L) * j, sizeof(VT));                               \
                    for (int dy = 0; dy < 3; dy++)                                                \
                        for (int dx = 0; dx < 3; dx++) {                                          \
                            const float *p = (in) + ((size_t)(py + dy) * np + px + dx) * (cin);   \
                            const float *w = (wt) + (size_t)(dy * 3 + dx) * (cin) * (cout);       \
                            OCR__ADD_PIXEL(VT, L, FALSE, acc, p, w, cin, cout, nv);               \
                        }                                                                         \
                    _Pragma("GCC unroll 12") for (int j = 0; j < nv; j++)                         \
                        if (q == 0)                                                               \
                            best[j] = acc[j];                                                     \
                        else                                                                      \
                            for (int e = 0; e < (L); e++)                                         \
                                best[j][e] = MAX(best[j][e], acc[j][e]);                          \
                }                                                                                 \
                float *d = (out) + ((size_t)(y + 1) * mp + x + 1) * (cout);                       \
                for (int j = 0; j < nv; j++)                                                      \
                    for (int e = 0; e < (L); e++)                                                 \
                        d[(L) * j + e] = best[j][e] > 0 ? best[j][e] : 0;                         \
            }                                                                                     \
    } while (0)

/* A layer in vectors of 8 floats when @wide and its channels are a multiple of 8, else of 4. */
#define CONV_LAYER(wide, in, cin, n, wt, b, cout, out)                                            \
    do {                                                                                          \
        if ((wide) && (cout) % 8 == 0)                                                            \
            CONV_BLOCK(v8sf, 8, in, cin, n, wt, b, cout, out);                                    \
        else                                                                                      \
            CONV_BLOCK(v4sf, 4, in, cin, n, wt, b, cout, out);                                    \
    } while (0)

/* The network on one crop; @wide: vectors of 8 floats where the channels allow. */
static inline __attribute__((always_inline)) void classify(gboolean wide, const float *crop,
                                                           float *prob)
{
    float in[34 * 34] = {0}, a1[18 * 18 * C1] = {0}, a2[10 * 10 * C2] = {0},
          a3[6 * 6 * C3] = {0}, h[FC], z[OCR__N_OUT];
    for (int y = 0; y < 32; y++)
        memcpy(in + (y + 1) * 34 + 1, crop + y * 32, sizeof(float) * 32);
    CONV_LAYER(wide, in, 1, 32, c1_t, ocr__cnn_c1_b, C1, a1);
    CONV_LAYER(wide, a1, C1, 16, c2_t, ocr__cnn_c2_b, C2, a2);
    CONV_LAYER(wide, a2, C2, 8, c3_t, ocr__cnn_c3_b, C3, a3);
    float flat[16 * C3]; /* the 4 x 4 interior of a3, pixel-major */
    for (int y = 0; y < 4; y++)
        memcpy(flat + y * 4 * C3, a3 + ((size_t)(y + 1) * 6 + 1) * C3, sizeof(float) * 4 * C3);
    v4sf acc[FC / 4];
    memcpy(acc, ocr__cnn_f1_b, sizeof acc);
    for (int i = 0; i < 16 * C3; i++) {
        float v = flat[i];
        const float *w = f1_t + (size_t)i * FC;
#pragma GCC unroll 16
        for (int j = 0; j < FC / 4; j++) {
            v4sf wv;
            memcpy(&wv, w + 4 * j, sizeof wv);
            acc[j] += wv * v;
        }
    }
    for (int o = 0; o < FC; o++)
        h[o] = acc[o / 4][o % 4] > 0 ? acc[o / 4][o % 4] : 0;
    float mx = -INFINITY;
    for (int o = 0; o < OCR__N_OUT; o++) {
        float s = ocr__cnn_f2_b[o];
        for (int i = 0; i < FC; i++)
            s += ocr__cnn_f2_w[o * FC + i] * h[i];
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

/* Vectors of 8 floats, one AVX2 register each. */
OCR__AVX2_CODE static void classify_avx2(const float *crop, float *prob)
{
    classify(TRUE, crop, prob);
}

/* Vectors of 4 floats: SSE2 has no wider ones (GCC would split wider ones slowly). */
static void classify_sse2(const float *crop, float *prob)
{
    classify(FALSE, crop, prob);
}

void ocr__cnn_classify(const float *crop, float *prob)
{
    init_weights();
    if (ocr__avx2())
        classify_avx2(crop, prob);
    else
        classify_sse2(crop, prob);
}
