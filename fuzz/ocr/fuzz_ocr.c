/* fuzz_ocr.c: libFuzzer target for ocr/. The first byte chooses the input: below 0xc0 it is a raw
 * frame (width and height from the next bytes, 1-160 each, a pixel format and a row padding;
 * the rest of the input is the pixels, repeated to fill the frame) read with ocr_read(); from
 * 0xc0 on the rest is an encoded image (JPEG, PNG, ...) read with ocr_read_memory(). Every
 * read is then added to a fusion and the fused result taken. */
#include <stdint.h>
#include <string.h>

#include "ocr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static PsOcr *ocr;
    if (!ocr) {
        OcrOptions opts;
        ocr_options_init(&opts);
        opts.min_char_height = 8;   /* small frames still have character-sized blobs */
        opts.weak_reads = 0.2; /* weak reads reach the fusion, as under --fuse */
        ocr = ocr_new(&opts, NULL);
    }
    if (size < 1)
        return 0;
    OcrReads *reads = g_new0(OcrReads, 1);
    GError *error = NULL;
    gboolean ok;
    if (data[0] >= 0xc0) {
        ok = ocr_read_memory(ocr, data + 1, size - 1, reads, &error);
    } else {
        if (size < 7) {
            g_free(reads);
            return 0;
        }
        int w = 1 + ((data[1] << 8 | data[2]) % 160), h = 1 + ((data[3] << 8 | data[4]) % 160);
        OcrPixelFormat fmt = (OcrPixelFormat)(data[5] % 5); /* 4 is invalid on purpose */
        int bpp = fmt == OCR_PIXEL_GRAY8 ? 1 : fmt == OCR_PIXEL_RGB ? 3 : 4;
        int stride = w * bpp + data[6] % 8;
        gsize n = (gsize)stride * h;
        guint8 *pixels = g_malloc(n);
        const uint8_t *src = data + 7;
        gsize m = size - 7;
        for (gsize i = 0; i < n; i++)
            pixels[i] = m ? src[i % m] : 0;
        ok = ocr_read(ocr, pixels, w, h, stride, fmt, reads, &error);
        g_free(pixels);
    }
    if (!ok) {
        g_clear_error(&error);
    } else {
        OcrFusion *fu = ocr_fusion_new(NULL);
        ocr_fusion_add_reads(fu, reads);
        ocr_fusion_add_reads(fu, reads);
        OcrReads *fused = g_new0(OcrReads, 1);
        ocr_fusion_result(fu, FALSE, fused);
        g_free(fused);
        ocr_fusion_free(fu);
    }
    g_free(reads);
    return 0;
}
