/* conv.c: the convolution the detector (det.c) and the line reader (ctc.c) run, and the
 * re-ordering of PyTorch's weights it reads.
 *
 * Activations are channel-last; the weights are re-ordered once to [tap][input][output], so the
 * innermost loop runs over the output channels of one pixel: vectors of 8 floats in the AVX2
 * code, where the processor has it and the read allows it (OcrOptions.avx2), else of 4. Each
 * output channel's products are added in the same order in both, without fused multiply-adds,
 * so both give the same floats (tests/ocr checks it bit for bit). A zero input (ReLU leaves
 * many) is skipped: adding its products changes nothing. */
#include <string.h>

#include "ocr-private.h"

void ocr__conv_reorder(const float *w, int cin, int cout, int taps, float *t)
{
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (int k = 0; k < taps; k++)
                t[((size_t)k * cin + c) * cout + o] = w[((size_t)o * cin + c) * taps + k];
}

typedef float v4sf __attribute__((vector_size(16)));
typedef float v8sf __attribute__((vector_size(32)));

/* The convolution with output channels in vectors of type VT, of L floats: each output
 * channel's products are added in the same order whatever L, so both widths give the same
 * floats. */
#define CONV_BODY(VT, L)                                                                          \
    do {                                                                                          \
        const int nv = cout / (L);                                                                \
        for (int oy = 0; oy < ho; oy++)                                                           \
            for (int ox = 0; ox < wo; ox++) {                                                     \
                VT acc[OCR__CONV_MAX_C / (L)];                                                    \
                for (int j = 0; j < nv; j++)                                                      \
                    memcpy(&acc[j], b + (L) * j, sizeof(VT));                                     \
                for (int ky = 0; ky < s->kh; ky++) {                                              \
                    int iy = oy * s->stride + ky * s->dil_y - s->pad_y;                           \
                    if (iy < 0 || iy >= h)                                                        \
                        continue;                                                                 \
                    for (int kx = 0; kx < s->kw; kx++) {                                          \
                        int ix = ox * s->stride + kx * s->dil_x - s->pad_x;                       \
                        if (ix < 0 || ix >= w)                                                    \
                            continue;                                                             \
                        const float *p = in + ((size_t)iy * w + ix) * cin;                        \
                        const float *wk = wt + (size_t)(ky * s->kw + kx) * cin * cout;            \
                        OCR__ADD_PIXEL(VT, L, TRUE, acc, p, wk, cin, cout, nv);                   \
                    }                                                                             \
                }                                                                                 \
                float *d = out + ((size_t)oy * wo + ox) * cout;                                   \
                for (int j = 0; j < nv; j++)                                                      \
                    for (int e = 0; e < (L); e++)                                                 \
                        d[(L) * j + e] = acc[j][e] > 0 ? acc[j][e] : 0;                           \
            }                                                                                     \
    } while (0)

/* Whether this thread's reads may use AVX2 (OcrOptions.avx2, set by each read). */
_Thread_local gboolean ocr__avx2_allowed = TRUE;

gboolean ocr__avx2(void)
{
#if OCR__X86
    static gsize have = 0; /* 1 + whether the processor runs AVX2 */
    if (g_once_init_enter(&have)) {
        __builtin_cpu_init();
        g_once_init_leave(&have, 1 + (__builtin_cpu_supports("avx2") != 0));
    }
    return ocr__avx2_allowed && have == 2;
#else
    return FALSE;
#endif
}

static inline __attribute__((always_inline)) void
conv_body(gboolean wide, const float *in, int h, int w, int cin, const float *wt, const float *b,
          int cout, const OcrConvShape *s, float *out, int ho, int wo)
{
    if (wide && cout % 8 == 0)
        CONV_BODY(v8sf, 8);
    else
        CONV_BODY(v4sf, 4);
}

/* Vectors of 8 floats, one AVX2 register each. */
OCR__AVX2_CODE static void
conv_avx2(const float *in, int h, int w, int cin, const float *wt, const float *b, int cout,
          const OcrConvShape *s, float *out, int ho, int wo)
{
    conv_body(TRUE, in, h, w, cin, wt, b, cout, s, out, ho, wo);
}

/* Vectors of 4 floats: SSE2 has no wider ones (GCC would split wider ones slowly). */
static void conv_sse2(const float *in, int h, int w, int cin, const float *wt, const float *b,
                      int cout, const OcrConvShape *s, float *out, int ho, int wo)
{
    conv_body(FALSE, in, h, w, cin, wt, b, cout, s, out, ho, wo);
}

void ocr__conv(const float *in, int h, int w, int cin, const float *wt, const float *b, int cout,
               const OcrConvShape *s, float *out, int *out_h, int *out_w)
{
    g_assert(cout % 4 == 0 && cout <= OCR__CONV_MAX_C);
    const int ho = (h + 2 * s->pad_y - s->dil_y * (s->kh - 1) - 1) / s->stride + 1;
    const int wo = (w + 2 * s->pad_x - s->dil_x * (s->kw - 1) - 1) / s->stride + 1;
    if (ocr__avx2())
        conv_avx2(in, h, w, cin, wt, b, cout, s, out, ho, wo);
    else
        conv_sse2(in, h, w, cin, wt, b, cout, s, out, ho, wo);
    if (out_h)
        *out_h = ho;
    if (out_w)
        *out_w = wo;
}
