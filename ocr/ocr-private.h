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

/* 3x3 convolution weights from PyTorch's [out][in][3][3] to the [tap][in][out] order the
 * networks here read them in (@t holds 9 * @cin * @cout floats). */
void ocr__conv_reorder(const float *w, int cin, int cout, float *t);

/* The integer factor the text-region detector shrinks a @width x @height frame by (to about
 * OCR__DET_LONG_SIDE pixels on the longer side). */
int ocr__det_factor(int width, int height);

/* Runs the text-region detector (det.c) on the gray frame shrunk by @k: returns the probability
 * of each 4 x 4 cell of the shrunk frame being inside a code character, *@out_h rows of *@out_w
 * (g_free() it), or NULL when the shrunk frame is under 4 x 4 pixels. */
float *ocr__det_heatmap(const guint8 *gray, int width, int height, int stride, int k,
                        int *out_w, int *out_h);
