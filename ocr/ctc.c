/* ctc.c: inference of the line readers trained by tools/train_ctc.py (weights in the generated
 * ctc_weights.c and ctc_wide_weights.c, layer sizes in the generated ctc_shapes.h and
 * ctc_wide_shapes.h), and their best-path reading.
 *
 * Both networks have the same layers, of other widths. They read a strip of OCR__LINE_H rows
 * (ocr__line_crop()), standardized: conv 3x3 + max pool 2, twice; conv 3x3 + max pool 2 across
 * only, twice; conv 2x3 (the height closed); conv 1x3 of dilation 2 along the line; conv 1x1
 * to OCR__N_OUT outputs, softmax, for every 4 columns of the strip. Output OCR__JUNK is CTC's
 * blank.
 *
 * The convolutions are ocr__conv() (conv.c): channel-last, the weights re-ordered once to
 * [tap][input][output]. Thread-safe: the re-ordered weights are written once under
 * g_once, the work buffers belong to the call. */
#include <math.h>
#include <string.h>

#include "ctc_shapes.h"
#include "ctc_wide_shapes.h"
#include "pipeline.h"

/* What this code assumes of each network the training script describes (P: OCR__CTC_ or
 * OCR__CTC_WIDE_). */
#define CHECK_SHAPES(P)                                                                           \
    _Static_assert(P##IN_H == OCR__LINE_H, "the network reads strips of another height");        \
    _Static_assert(P##OUT == OCR__N_OUT && P##BLANK == OCR__JUNK,                                 \
                   "the outputs are the 36 characters and the blank in the place of 'not a "      \
                   "character'");                                                                \
    _Static_assert(P##C1 % 4 == 0 && P##C2 % 4 == 0 && P##C3 % 4 == 0 && P##C4 % 4 == 0 &&         \
                       P##C5 % 4 == 0,                                                            \
                   "channel counts must be multiples of 4 (vectors of 4 floats)");                \
    _Static_assert(P##C1 <= OCR__CONV_MAX_C && P##C2 <= OCR__CONV_MAX_C &&                        \
                       P##C3 <= OCR__CONV_MAX_C && P##C4 <= OCR__CONV_MAX_C &&                    \
                       P##C5 <= OCR__CONV_MAX_C,                                                  \
                   "ocr__conv() keeps at most OCR__CONV_MAX_C accumulators")
CHECK_SHAPES(OCR__CTC_);
CHECK_SHAPES(OCR__CTC_WIDE_);
_Static_assert(OCR__LINE_H == 32, "two pools of 2 and two across leave 2 rows for the 2x3 conv");

/* A network: its 5 widths, its weights and biases (conv 1-6, then the head), and its
 * convolutions' weights re-ordered for ocr__conv() (conv 1-6), written once. */
typedef struct {
    int c1, c2, c3, c4, c5;
    const float *w[7], *b[7];
    float *t[6];
    gsize ready;
} Net;

#define NET(P, p)                                                                                 \
    {                                                                                             \
        P##C1, P##C2, P##C3, P##C4, P##C5,                                                        \
            {p##c1_w, p##c2_w, p##c3_w, p##c4_w, p##c5_w, p##c6_w, p##head_w},                    \
            {p##c1_b, p##c2_b, p##c3_b, p##c4_b, p##c5_b, p##c6_b, p##head_b}, {NULL}, 0          \
    }
static Net nets[] = {
    [OCR__CTC_FIRST] = NET(OCR__CTC_, ocr__ctc_),
    [OCR__CTC_WIDE] = NET(OCR__CTC_WIDE_, ocr__ctc_wide_),
};

static const Net *net_of(OcrCtcNet which)
{
    Net *n = &nets[which];
    if (g_once_init_enter(&n->ready)) {
        const int cin[6] = {1, n->c1, n->c2, n->c3, n->c4, n->c5};
        const int cout[6] = {n->c1, n->c2, n->c3, n->c4, n->c5, n->c5};
        const int taps[6] = {9, 9, 9, 9, 6, 3};
        for (int i = 0; i < 6; i++) {
            n->t[i] = g_new(float, (size_t)taps[i] * cin[i] * cout[i]);
            ocr__conv_reorder(n->w[i], cin[i], cout[i], taps[i], n->t[i]);
        }
        g_once_init_leave(&n->ready, 1);
    }
    return n;
}

/* conv @kh x @kw, stride 1, padding @ph / @pw, dilation @dw along the width, ReLU. */
static void conv(const float *in, int h, int w, int cin, const float *wt, const float *b,
                 int cout, int kh, int kw, int ph, int pw, int dw, float *out)
{
    const OcrConvShape s = {kh, kw, 1, ph, pw, 1, dw};
    ocr__conv(in, h, w, cin, wt, b, cout, &s, out, NULL, NULL);
}

/* Max pool of @py x @px (floor), channel-last. */
static void pool(const float *in, int h, int w, int c, int py, int px, float *out)
{
    const int ho = h / py, wo = w / px;
    for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++) {
            float *d = out + ((size_t)oy * wo + ox) * c;
            memcpy(d, in + ((size_t)(oy * py) * w + ox * px) * c, sizeof(float) * c);
            for (int y = 0; y < py; y++)
                for (int x = 0; x < px; x++) {
                    const float *s = in + ((size_t)(oy * py + y) * w + ox * px + x) * c;
                    for (int k = 0; k < c; k++)
                        d[k] = MAX(d[k], s[k]);
                }
        }
}

float *ocr__ctc_probs(OcrCtcNet net, const guint8 *strip, int w, OcrScratch *scratch,
                      int *out_t)
{
    *out_t = 0;
    if (!strip || w < 4 || w % 4 != 0 || w > OCR__LINE_MAX_W || (guint)net >= G_N_ELEMENTS(nets))
        return NULL;
    const Net *n = net_of(net);
    const int c1 = n->c1, c2 = n->c2, c3 = n->c3, c4 = n->c4, c5 = n->c5;
    const int h = OCR__LINE_H, hw = h * w;
    float *x = ocr__scratch_take(scratch, sizeof(float) * hw);
    double sum = 0, sq = 0;
    for (int i = 0; i < hw; i++)
        sum += strip[i];
    double mean = sum / hw;
    for (int i = 0; i < hw; i++)
        sq += (strip[i] - mean) * (strip[i] - mean);
    double sd = MAX(sqrt(sq / hw), 4.0);
    for (int i = 0; i < hw; i++)
        x[i] = (float)((strip[i] - mean) / sd);
    const int w2 = w / 2, w4 = w / 4, t = w4;
    float *a = ocr__scratch_take(scratch, sizeof(float) * hw * c1);
    float *b = ocr__scratch_take(scratch, sizeof(float) * hw * c1 / 4);
    conv(x, h, w, 1, n->t[0], n->b[0], c1, 3, 3, 1, 1, 1, a);
    pool(a, h, w, c1, 2, 2, b); /* 16 x w2 */
    float *a2 = ocr__scratch_take(scratch, sizeof(float) * 16 * w2 * c2);
    conv(b, 16, w2, c1, n->t[1], n->b[1], c2, 3, 3, 1, 1, 1, a2);
    float *b2 =
        ocr__scratch_take(scratch, sizeof(float) * 8 * w4 * MAX(c2, MAX(c3, c4)));
    pool(a2, 16, w2, c2, 2, 2, b2); /* 8 x w4 */
    float *a3 = ocr__scratch_take(scratch, sizeof(float) * 8 * w4 * MAX(c3, c4));
    conv(b2, 8, w4, c2, n->t[2], n->b[2], c3, 3, 3, 1, 1, 1, a3);
    pool(a3, 8, w4, c3, 2, 1, b2); /* 4 x w4 */
    conv(b2, 4, w4, c3, n->t[3], n->b[3], c4, 3, 3, 1, 1, 1, a3);
    pool(a3, 4, w4, c4, 2, 1, b2); /* 2 x w4 */
    float *f5 = ocr__scratch_take(scratch, sizeof(float) * t * c5);
    float *f6 = ocr__scratch_take(scratch, sizeof(float) * t * c5);
    conv(b2, 2, w4, c4, n->t[4], n->b[4], c5, 2, 3, 0, 1, 1, f5); /* 1 x w4 */
    conv(f5, 1, w4, c5, n->t[5], n->b[5], c5, 1, 3, 0, 2, 2, f6);
    float *probs = g_new(float, (size_t)t * OCR__N_OUT);
    for (int i = 0; i < t; i++) {
        float *p = probs + (size_t)i * OCR__N_OUT, mx = -1e30f;
        for (int k = 0; k < OCR__N_OUT; k++) {
            float z = n->b[6][k];
            const float *wk = n->w[6] + (size_t)k * c5;
            for (int c = 0; c < c5; c++)
                z += wk[c] * f6[(size_t)i * c5 + c];
            p[k] = z;
            mx = MAX(mx, z);
        }
        float s = 0;
        for (int k = 0; k < OCR__N_OUT; k++)
            s += p[k] = expf(p[k] - mx);
        for (int k = 0; k < OCR__N_OUT; k++)
            p[k] /= s;
    }
    float *bufs[] = {x, a, b, a2, b2, a3, f5, f6};
    for (size_t i = 0; i < G_N_ELEMENTS(bufs); i++)
        ocr__scratch_give(scratch, bufs[i]);
    *out_t = t;
    return probs;
}

int ocr__ctc_decode(const float *probs, int t, OcrLineChar *out, int max)
{
    int n = 0, prev = OCR__JUNK;
    for (int i = 0; i < t; i++) {
        const float *p = probs + (size_t)i * OCR__N_OUT;
        int k = ocr__argmax_of(p);
        if (k != OCR__JUNK && k == prev && n > 0) {
            /* the same character over more columns: keep its surest one */
            if (p[k] > out[n - 1].p[k]) {
                memcpy(out[n - 1].p, p, sizeof out[n - 1].p);
                out[n - 1].t = i;
            }
        } else if (k != OCR__JUNK) {
            if (n == max)
                return n;
            memcpy(out[n].p, p, sizeof out[n].p);
            out[n].t = i;
            n++;
        }
        prev = k;
    }
    return n;
}
