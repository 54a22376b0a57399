/* ocr-private.h: shared inside ocr/ and with tools/ocr-synth (the generator cuts its training
 * crops with the same function the recognizer uses, so both see the same pixels). */
#pragma once

#include <glib.h>

#include "ocr.h"

/* Side of the square character crop the network reads. */
#define OCR__CROP 32
/* Classes of the network: the 36 characters plus "not a character". */
#define OCR__N_OUT (OCR_N_CLASSES + 1)
#define OCR__JUNK OCR_N_CLASSES

/* Cuts the character whose ink box is (@x, @y, @w, @h) out of the @width x @height gray image
 * @gray (row stride @stride) into @out (OCR__CROP x OCR__CROP floats, 0..1, text bright).
 * @bright_text tells the polarity. The ink height maps to 24 of the 32 rows, the width with the
 * same scale, centred; pixels outside the image count as the crop's median. */
void ocr__char_crop(const guint8 *gray, int width, int height, int stride, int x, int y, int w,
                    int h, gboolean bright_text, float *out);

/* Runs the character network on one crop: fills @prob (OCR__N_OUT probabilities). */
void ocr__cnn_classify(const float *crop, float *prob);

/* Convolution weights from PyTorch's [out][in][taps] to the [tap][in][out] order the networks
 * here read them in (@t holds @taps * @cin * @cout floats; conv.c). */
void ocr__conv_reorder(const float *w, int cin, int cout, int taps, float *t);

/* Whether the networks (ocr__conv(), ocr__cnn_classify()) run their AVX2 code: the processor
 * has it and this thread's read allows it (ocr__avx2_allowed, from OcrOptions.avx2). Either
 * code gives the same floats. */
gboolean ocr__avx2(void);
extern _Thread_local gboolean ocr__avx2_allowed;

/* What the AVX2 code is compiled for: AVX2 without FMA (a fused multiply-add rounds otherwise
 * than the SSE2 code). Elsewhere than x86 there is none (ocr__avx2() is FALSE). */
#if defined(__x86_64__) || defined(__i386__)
#define OCR__X86 1
#define OCR__AVX2_CODE __attribute__((target("avx2")))
#else
#define OCR__X86 0
#define OCR__AVX2_CODE
#endif

/* Adds one input pixel's products to the accumulators @acc, @nv vectors of type VT of L floats
 * (the output channels): @p the pixel's @cin channels, @wk its tap's weights, re-ordered by
 * ocr__conv_reorder() ([input][output], @cout outputs). Each output channel's products are
 * added in the input channels' order whatever L (the AVX2 and SSE2 codes give the same floats).
 * With @skip_zeros a zero input is passed over: that pays where most inputs are zero (the ReLU
 * outputs of the line readers), and costs where they are scattered (the character network's
 * branches mispredicted). Adding a zero's products changes a sum only in the sign of a zero,
 * which the ReLU after every convolution makes +0, so the outputs are the same floats. */
#define OCR__ADD_PIXEL(VT, L, skip_zeros, acc, p, wk, cin, cout, nv)                              \
    for (int c_ = 0; c_ < (cin); c_++) {                                                          \
        float v_ = (p)[c_];                                                                       \
        if ((skip_zeros) && v_ == 0.0f)                                                           \
            continue;                                                                             \
        const float *wc_ = (wk) + (size_t)c_ * (cout);                                            \
        _Pragma("GCC unroll 12") for (int j_ = 0; j_ < (nv); j_++)                                \
        {                                                                                         \
            VT wv_;                                                                               \
            memcpy(&wv_, wc_ + (L) * j_, sizeof wv_);                                             \
            (acc)[j_] += wv_ * v_;                                                                \
        }                                                                                         \
    }

/* The most output channels ocr__conv() keeps (a multiple of 4). */
#define OCR__CONV_MAX_C 96

/* A convolution's kernel (@kh x @kw taps), stride (both ways), zero padding and dilation. */
typedef struct {
    int kh, kw, stride, pad_y, pad_x, dil_y, dil_x;
} OcrConvShape;

/* Convolution + ReLU (conv.c), channel-last: @in is @h x @w x @cin, @wt re-ordered by
 * ocr__conv_reorder(), @out gets the output rows and columns PyTorch's Conv2d gives
 * (*@out_h x *@out_w x @cout; either may be NULL). @cout is a multiple of 4 up to
 * OCR__CONV_MAX_C. */
void ocr__conv(const float *in, int h, int w, int cin, const float *wt, const float *b, int cout,
               const OcrConvShape *s, float *out, int *out_h, int *out_w);

/* The integer factor the text-region detector shrinks a @width x @height frame by (to about
 * OCR__DET_LONG_SIDE pixels on the longer side). */
int ocr__det_factor(int width, int height);

/* Working buffers kept for the next frame (scratch.c): those the last frame used, at most
 * OCR__SCRATCH_KEEP buffers of at most OCR__SCRATCH_BYTES together. Zero-initialized is
 * empty. */
#define OCR__SCRATCH_KEEP 16
#define OCR__SCRATCH_BYTES ((size_t)64 << 20)
typedef struct {
    void *buf[OCR__SCRATCH_KEEP];
    size_t size[OCR__SCRATCH_KEEP];
    guint frame_of[OCR__SCRATCH_KEEP]; /* the frame that gave it back */
    guint frame;                       /* frames begun (ocr__scratch_next_frame()) */
    size_t bytes;
    int n;
    gboolean poison; /* tests: every buffer taken is filled with bytes of no meaning first */
} OcrScratch;

/* A buffer of @size bytes, not cleared: one kept in @s that fits, or a new one (@s may be
 * NULL). ocr__scratch_give() it back (to the same @s, or NULL to free it). */
void *ocr__scratch_take(OcrScratch *s, size_t size);
void ocr__scratch_give(OcrScratch *s, void *buf);
/* A frame begins: the buffers the last frame did not use are freed (@s may be NULL). */
void ocr__scratch_next_frame(OcrScratch *s);
/* Frees the buffers @s keeps. */
void ocr__scratch_clear(OcrScratch *s);

/* Runs the text-region detector (det.c) on the gray frame shrunk by @k: returns the probability
 * of each 4 x 4 cell of the shrunk frame being inside a code character, *@out_h rows of *@out_w
 * (g_free() it), or NULL when the shrunk frame is under 4 x 4 pixels. Its working buffers come
 * from @scratch (may be NULL). */
float *ocr__det_heatmap(const guint8 *gray, int width, int height, int stride, int k,
                        OcrScratch *scratch, int *out_w, int *out_h);

/* A line of characters the line reader (ctc.c) reads: the ends of its ink on its centre line
 * (frame pixels, left to right) and its character height. */
typedef struct {
    double x0, y0, x1, y1;
    double char_h;
    float peak; /* the detector's strongest cell on it (0 for lines not from the detector) */
} OcrLine;

/* Rows of the strip the line reader reads: the character height maps to 20 of them. */
#define OCR__LINE_H 32
/* The longest strip (columns): a line over about 50 character heights is not one code. */
#define OCR__LINE_MAX_W 1024

/* assemble.c: the character network's probabilities @p at code position @pos with the
 * look-alikes of the other kind folded in (O read at a digit position counts for 0), into @q
 * (OCR_N_CLASSES); whether class @k may stand at @pos. */
void ocr__fold(const float *p, int pos, double *q);
gboolean ocr__allowed(int pos, int k);

/* Cuts the strip of @l out of the gray image: along the line from 0.35 character heights
 * before its ink to 0.35 after it, across from 0.8 above its centre line to 0.8 below, scaled
 * so the characters are 20 of OCR__LINE_H rows high (averaging over each output pixel when
 * shrinking), its width rounded up to a multiple of 4. Pixels outside the image repeat its
 * edge. Returns OCR__LINE_H rows of *@out_w bytes (g_free() it), or NULL when the strip would
 * be under 16 or over OCR__LINE_MAX_W columns. The generator cuts its training strips with it. */
guint8 *ocr__line_crop(const guint8 *gray, int width, int height, int stride, const OcrLine *l,
                       int *out_w);

/* The lines of text in a detector heat map (ocr__det_heatmap(), cells of @cell frame pixels):
 * blobs of cells at or above @thr at least 1.5 times as wide as high, those on one line (up to
 * 8 thicknesses apart, as an owner code and serial on two door panels) joined, each fitted
 * with a straight line whose ends are 1.5 character heights past the blobs'. Strongest first;
 * returns how many (at most @max). */
int ocr__det_lines(const float *heat, int hw, int hh, int cell, float thr, OcrLine *out,
                   int max);

/* The most lines of one frame the line reader reads, and the generator cuts strips of. */
#define OCR__MAX_LINES 6

/* The line reader's networks (ctc.c): the first reads every line; the wide one (wider, trained
 * on 2.2 times the strips) reads them again where the first gave the frame no code. */
typedef enum { OCR__CTC_FIRST, OCR__CTC_WIDE } OcrCtcNet;

/* The line reader (ctc.c): network @net's probabilities for a strip of *@w columns
 * (ocr__line_crop()), OCR__N_OUT per column of 4 strip columns, *@out_t of them, blank last
 * (g_free() it); NULL when @w is not a positive multiple of 4 up to OCR__LINE_MAX_W, or @net
 * no network of OcrCtcNet. Its working buffers come from @scratch (may be NULL). */
float *ocr__ctc_probs(OcrCtcNet net, const guint8 *strip, int w, OcrScratch *scratch,
                      int *out_t);

/* A serial's 6 digits are painted at one pitch (digits are as wide as each other in the fonts
 * of container codes; a 1's ink stands off its cell's centre by a fraction of it): two of them
 * whose centres are closer than OCR__CROWDED times the median of the 5 steps are not both
 * digits of the serial. One is a box's edge or a mark taken for a digit (the window then
 * starts a place early and takes the serial's last digit for the check digit), or a character
 * read twice. On the tuning seeds 61000-61020 and 93101-93202 (4,900 frames) the right codes'
 * smallest step was 0.65 of the median for the character reader and 2 of 3 columns for the
 * line reader; the wrong codes' were 0.33 (YLRU1842218 for YLRU1842183, a 2 read in the gap
 * before the check digit) and 1 of 3 columns (BFDU0989626 for BFDU0996266, an 8 read twice). */
#define OCR__CROWDED 0.5

/* Whether the 5 steps @step between a serial's 6 digits hold one under OCR__CROWDED times
 * their median. */
gboolean ocr__crowded_steps(const double step[5]);

/* A character the line reader read: its probabilities at the column where it is surest. */
typedef struct {
    float p[OCR__N_OUT];
    int t; /* that column (of 4 strip columns) */
} OcrLineChar;

/* Best path through @probs (@t columns): the most probable output of each column, repeats
 * merged, blanks dropped. Returns how many characters (at most @max) went to @out. */
int ocr__ctc_decode(const float *probs, int t, OcrLineChar *out, int max);
