/* conv.c: the convolution the detector (det.c) and the line reader (ctc.c) run, and the
 * re-ordering of PyTorch's weights it reads.
 *
 * Activations are channel-last; the weights are re-ordered once to [tap][input][output], so the
 * innermost loop runs over the output channels of one pixel (vectors of 4 floats). A zero input
 * (ReLU leaves many) is skipped: adding its products changes nothing. */
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

void ocr__conv(const float *in, int h, int w, int cin, const float *wt, const float *b, int cout,
               const OcrConvShape *s, float *out, int *out_h, int *out_w)
{
    g_assert(cout % 4 == 0 && cout <= OCR__CONV_MAX_C);
    const int ho = (h + 2 * s->pad_y - s->dil_y * (s->kh - 1) - 1) / s->stride + 1;
    const int wo = (w + 2 * s->pad_x - s->dil_x * (s->kw - 1) - 1) / s->stride + 1;
    const int nv = cout / 4;
    for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++) {
            v4sf acc[OCR__CONV_MAX_C / 4];
            for (int j = 0; j < nv; j++)
                memcpy(&acc[j], b + 4 * j, sizeof(v4sf));
            for (int ky = 0; ky < s->kh; ky++) {
                int iy = oy * s->stride + ky * s->dil_y - s->pad_y;
                if (iy < 0 || iy >= h)
                    continue;
                for (int kx = 0; kx < s->kw; kx++) {
                    int ix = ox * s->stride + kx * s->dil_x - s->pad_x;
                    if (ix < 0 || ix >= w)
                        continue;
                    const float *p = in + ((size_t)iy * w + ix) * cin;
                    const float *wk = wt + (size_t)(ky * s->kw + kx) * cin * cout;
                    for (int c = 0; c < cin; c++) {
                        float v = p[c];
                        if (v == 0.0f)
                            continue;
                        const float *wc = wk + (size_t)c * cout;
                        for (int j = 0; j < nv; j++) {
                            v4sf wv;
                            memcpy(&wv, wc + 4 * j, sizeof wv);
                            acc[j] += wv * v;
                        }
                    }
                }
            }
            float *d = out + ((size_t)oy * wo + ox) * cout;
            for (int j = 0; j < nv; j++)
                for (int e = 0; e < 4; e++)
                    d[4 * j + e] = acc[j][e] > 0 ? acc[j][e] : 0;
        }
    if (out_h)
        *out_h = ho;
    if (out_w)
        *out_w = wo;
}
