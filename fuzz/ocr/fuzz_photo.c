/* fuzz_photo.c: libFuzzer target for ocr/photo.c alone: the input is an encoded image (JPEG with
 * or without EXIF data, PNG, TIFF, BMP, GIF, WebP, PNM, HEIF) decoded as the reader decodes a
 * photo, without reading it. fuzz-ocr reads every image through the whole reader, a few inputs
 * a second on a photo; this one reaches the decoders (Leptonica's, libexif, libheif and
 * libde265) many times faster. Its first byte is skipped, as fuzz-ocr skips the 0xc0 that marks
 * an encoded image, so the two share their seeds. What it decodes must hold the size limits: at most
 * OCR_MAX_PIXELS, each side at most OCR__MAX_SIDE, 8 bits deep; it aborts otherwise. */
#include <leptonica/allheaders.h>
#include <stdint.h>
#include <stdlib.h>

#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int factor = 0;
    GError *error = NULL;
    PIX *g8 = ocr__decode_memory(data + 1, size - 1, &factor, &error);
    if (!g8) {
        if (!error || !error->message)
            abort(); /* a failure always says why */
        for (const char *p = error->message; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                abort(); /* messages go to the log as one line */
        g_clear_error(&error);
        return 0;
    }
    gint64 w = pixGetWidth(g8), h = pixGetHeight(g8);
    if (error || pixGetDepth(g8) != 8 || w <= 0 || h <= 0 || w > OCR__MAX_SIDE ||
        h > OCR__MAX_SIDE || w * h > OCR_MAX_PIXELS ||
        (factor != 1 && factor != 2 && factor != 4 && factor != 8))
        abort();
    pixDestroy(&g8);
    return 0;
}
