/* ocr.c: the public API of the recognizer: options, frames in every pixel format, encoded
 * images from files or memory (decoded by photo.c). The stages are in the files pipeline.h
 * lists. */
#include <leptonica/allheaders.h>
#include <string.h>

#include "pipeline.h"

void ocr_options_init(OcrOptions *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->min_char_height = 10;
    opts->max_char_height = 200;
    opts->min_confidence = 0.4;
    opts->vertical = TRUE;
    opts->debug = g_getenv("PS_OCR_DEBUG") != NULL;
    opts->dump_prefix = g_getenv("PS_OCR_DUMP");
    opts->detector_threshold = 0.5;
    opts->detector_min_confidence = 0.6;
    const char *det = g_getenv("PS_OCR_DETECTOR");
    opts->detector = g_strcmp0(det, "off") == 0    ? OCR_DETECTOR_OFF
                     : g_strcmp0(det, "only") == 0 ? OCR_DETECTOR_ONLY
                                                   : OCR_DETECTOR_UNION;
    opts->line_reader = g_strcmp0(g_getenv("PS_OCR_LINES"), "off") != 0;
    opts->line_check = g_strcmp0(g_getenv("PS_OCR_LINE_CHECK"), "off") != 0;
    opts->enlarge_regions = g_strcmp0(g_getenv("PS_OCR_ENLARGE"), "off") != 0;
    opts->confirm_weak = g_strcmp0(g_getenv("PS_OCR_CONFIRM"), "off") != 0;
    opts->chain_lines = g_strcmp0(g_getenv("PS_OCR_CHAINS"), "off") != 0;
    opts->owner_search = g_strcmp0(g_getenv("PS_OCR_OWNERS"), "off") != 0;
    opts->fuse_weak = g_strcmp0(g_getenv("PS_OCR_FUSE"), "off") != 0;
    opts->wide_pieces = g_strcmp0(g_getenv("PS_OCR_PIECES"), "off") != 0;
    opts->unseen_digits = g_strcmp0(g_getenv("PS_OCR_UNSEEN"), "off") != 0;
    opts->even_serials = g_strcmp0(g_getenv("PS_OCR_EVEN"), "off") != 0;
    opts->weak_rows = g_strcmp0(g_getenv("PS_OCR_ROWS"), "off") != 0;
    opts->weak_columns = g_strcmp0(g_getenv("PS_OCR_COLUMNS"), "off") != 0;
    opts->dark_pass = g_strcmp0(g_getenv("PS_OCR_DARK"), "off") != 0;
    opts->region_chains = g_strcmp0(g_getenv("PS_OCR_REGION_CHAINS"), "off") != 0;
    opts->wide_lines = g_strcmp0(g_getenv("PS_OCR_WIDE"), "off") != 0;
    opts->far_ends = g_strcmp0(g_getenv("PS_OCR_FAR_ENDS"), "off") != 0;
    opts->cross_joins = g_strcmp0(g_getenv("PS_OCR_CROSS"), "off") != 0;
    opts->avx2 = g_strcmp0(g_getenv("PS_OCR_AVX2"), "off") != 0;
    opts->keep_buffers = g_strcmp0(g_getenv("PS_OCR_KEEP_BUFFERS"), "off") != 0;
}

PsOcr *ocr_new(const OcrOptions *opts, GError **error)
{
    PsOcr *ocr = g_new0(PsOcr, 1);
    if (opts)
        ocr->opts = *opts;
    else
        ocr_options_init(&ocr->opts);
    if (ocr->opts.min_char_height < 8 || ocr->opts.max_char_height < ocr->opts.min_char_height) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_INVALID,
                    "character heights %d..%d: need 8 <= min <= max",
                    ocr->opts.min_char_height, ocr->opts.max_char_height);
        g_free(ocr);
        return NULL;
    }
    if (!(ocr->opts.weak_reads >= 0 && ocr->opts.weak_reads <= 1)) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_INVALID, "weak reads from %g: need 0..1",
                    ocr->opts.weak_reads);
        g_free(ocr);
        return NULL;
    }
    if (ocr->opts.detector < OCR_DETECTOR_OFF || ocr->opts.detector > OCR_DETECTOR_ONLY ||
        !(ocr->opts.detector_threshold > 0 && ocr->opts.detector_threshold < 1)) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_INVALID,
                    "detector mode %d, threshold %g: need a mode of OcrDetector and 0 < "
                    "threshold < 1", (int)ocr->opts.detector, ocr->opts.detector_threshold);
        g_free(ocr);
        return NULL;
    }
    return ocr;
}

void ocr_free(PsOcr *ocr)
{
    if (!ocr)
        return;
    ocr__scratch_clear(&ocr->scratch);
    g_free(ocr);
}

gboolean ocr_read(PsOcr *ocr, const guint8 *pixels, int width, int height, int stride,
                  OcrPixelFormat fmt, OcrReads *out, GError **error)
{
    memset(out, 0, sizeof *out);
    int bpp = fmt == OCR_PIXEL_GRAY8 ? 1 : fmt == OCR_PIXEL_RGB ? 3 : 4;
    if (!pixels || width <= 0 || height <= 0 || width > OCR__MAX_SIDE || height > OCR__MAX_SIDE ||
        stride < width * bpp || fmt < OCR_PIXEL_GRAY8 || fmt > OCR_PIXEL_RGBX) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_INVALID,
                    "bad frame: %dx%d, stride %d, format %d", width, height, stride, (int)fmt);
        return FALSE;
    }
    guint8 *gray = ocr__scratch_take(ocr__scratch_of(ocr), (size_t)width * height);
    /* One loop per format, so the inner loop has no branch. */
    int ri = fmt == OCR_PIXEL_BGRX ? 2 : 0, bi = fmt == OCR_PIXEL_BGRX ? 0 : 2;
    for (int y = 0; y < height; y++) {
        const guint8 *row = pixels + (size_t)y * stride;
        guint8 *dst = gray + (size_t)y * width;
        if (fmt == OCR_PIXEL_GRAY8) {
            memcpy(dst, row, width);
            continue;
        }
        for (int x = 0; x < width; x++, row += bpp)
            dst[x] = (guint8)((77 * row[ri] + 150 * row[1] + 29 * row[bi]) >> 8);
    }
    ocr__read_frame(ocr, gray, width, height, out);
    ocr__scratch_give(ocr__scratch_of(ocr), gray);
    return TRUE;
}

/* Reads the codes in @g8 (8-bit gray, taken), decoded at 1/@r of its file's size (boxes are
 * given at full size). */
static void read_gray(PsOcr *ocr, PIX *g8, int r, OcrReads *out)
{
    int w = pixGetWidth(g8), h = pixGetHeight(g8);
    guint8 *gray = ocr__scratch_take(ocr__scratch_of(ocr), (size_t)w * h);
    l_uint32 *data = pixGetData(g8);
    int wpl = pixGetWpl(g8);
    for (int y = 0; y < h; y++) {
        l_uint32 *line = data + (size_t)y * wpl;
        for (int x = 0; x < w; x++)
            gray[(size_t)y * w + x] = (guint8)GET_DATA_BYTE(line, x);
    }
    pixDestroy(&g8);
    ocr__read_frame(ocr, gray, w, h, out);
    ocr__scratch_give(ocr__scratch_of(ocr), gray);
    for (int i = 0; r > 1 && i < out->n_reads; i++)
        for (int k = 0; k < 4; k++)
            out->reads[i].bbox[k] *= r;
}

gboolean ocr_read_file(PsOcr *ocr, const char *path, OcrReads *out, GError **error)
{
    memset(out, 0, sizeof *out);
    int r;
    PIX *g8 = ocr__decode_file(path, &r, error);
    if (g8)
        read_gray(ocr, g8, r, out);
    return g8 != NULL;
}

gboolean ocr_read_memory(PsOcr *ocr, const guint8 *data, gsize size, OcrReads *out,
                         GError **error)
{
    memset(out, 0, sizeof *out);
    int r;
    PIX *g8 = ocr__decode_memory(data, size, &r, error);
    if (g8)
        read_gray(ocr, g8, r, out);
    return g8 != NULL;
}
