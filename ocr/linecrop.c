/* linecrop.c: the strip of a line of characters the line reader reads, shared with the
 * generator (tools/ocr-synth lines cuts its training strips with it, so both see the same
 * pixels). */
#include <math.h>

#include "ocr-private.h"

/* Bilinear sample, coordinates clamped to the image (its edge repeats). */
static double sample(const guint8 *gray, int width, int height, int stride, double fx, double fy)
{
    fx = CLAMP(fx, 0, width - 1);
    fy = CLAMP(fy, 0, height - 1);
    int x0 = (int)fx, y0 = (int)fy;
    int x1 = MIN(x0 + 1, width - 1), y1 = MIN(y0 + 1, height - 1);
    double ax = fx - x0, ay = fy - y0;
    const guint8 *r0 = gray + (size_t)y0 * stride, *r1 = gray + (size_t)y1 * stride;
    double top = r0[x0] * (1 - ax) + r0[x1] * ax;
    double bot = r1[x0] * (1 - ax) + r1[x1] * ax;
    return top * (1 - ay) + bot * ay;
}

guint8 *ocr__line_crop(const guint8 *gray, int width, int height, int stride, const OcrLine *l,
                       int *out_w)
{
    *out_w = 0;
    double dx = l->x1 - l->x0, dy = l->y1 - l->y0, len = sqrt(dx * dx + dy * dy);
    double h = l->char_h;
    if (!(h >= 2) || !(h < 1e5) || !(len < 1e6) || width < 1 || height < 1)
        return NULL;
    double ux = len > 0 ? dx / len : 1, uy = len > 0 ? dy / len : 0;
    double nx = -uy, ny = ux;
    double step = 1.6 * h / OCR__LINE_H; /* frame pixels per strip pixel */
    double raw = (len + 0.7 * h) / step;
    if (raw < 16 || raw > OCR__LINE_MAX_W)
        return NULL;
    int w = ((int)ceil(raw) + 3) / 4 * 4;
    if (w > OCR__LINE_MAX_W)
        return NULL;
    int ss = CLAMP((int)ceil(step), 1, 4); /* samples per pixel each way when shrinking */
    guint8 *out = g_malloc((size_t)w * OCR__LINE_H);
    for (int oy = 0; oy < OCR__LINE_H; oy++)
        for (int ox = 0; ox < w; ox++) {
            double acc = 0;
            for (int sy = 0; sy < ss; sy++)
                for (int sx = 0; sx < ss; sx++) {
                    double a = -0.35 * h + (ox + (sx + 0.5) / ss) * step;
                    double d = -0.8 * h + (oy + (sy + 0.5) / ss) * step;
                    acc += sample(gray, width, height, stride, l->x0 + a * ux + d * nx - 0.5,
                                  l->y0 + a * uy + d * ny - 0.5);
                }
            out[(size_t)oy * w + ox] = (guint8)(acc / (ss * ss) + 0.5);
        }
    *out_w = w;
    return out;
}
