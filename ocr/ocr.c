/* ocr.c: the public API of the recognizer: options, frames in every pixel format, encoded
 * images from files or memory (Leptonica; HEIF photos through libheif). The stages are in the
 * files pipeline.h lists. */
#include <leptonica/allheaders.h>
#include <libexif/exif-data.h>
#include <libheif/heif.h>
#include <stdio.h>
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

/* The orientation (1-8) that the EXIF data @ed (taken) gives a photo: how its stored rows and
 * columns stand in the picture as seen (a phone held upright stores its rows as the picture's
 * right-hand side: 6). 1 (as stored) when it gives none, or a value outside 1-8. */
static int exif_orientation(ExifData *ed)
{
    if (!ed)
        return 1;
    int o = 1;
    ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (e && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->data && e->size >= 2)
        o = exif_get_short(e->data, exif_data_get_byte_order(ed));
    exif_data_unref(ed);
    return o >= 1 && o <= 8 ? o : 1;
}

/* @pix (taken) turned as EXIF orientation @o says the picture is seen (CIPA DC-008, tag 0x0112:
 * where the stored 0th row and 0th column stand); NULL when Leptonica fails. */
static PIX *oriented(PIX *pix, int o)
{
    PIX *r = pix;
    switch (o) {
    case 2: /* 0th row at the top, 0th column on the right: mirrored */
        pixFlipLR(pix, pix);
        break;
    case 3: /* bottom, right: upside down */
        pixRotate180(pix, pix);
        break;
    case 4: /* bottom, left */
        pixFlipTB(pix, pix);
        break;
    case 5: /* left, top: transposed */
    case 7: /* right, bottom */
        r = pixRotate90(pix, 1);
        if (r && o == 5)
            pixFlipLR(r, r);
        else if (r)
            pixFlipTB(r, r);
        break;
    case 6: /* right, top: turned a quarter clockwise to be seen */
    case 8: /* left, bottom: a quarter counter-clockwise */
        r = pixRotate90(pix, o == 6 ? 1 : -1);
        break;
    default:
        break;
    }
    if (r != pix)
        pixDestroy(&pix);
    return r;
}

/* The boxes of @out, read on an image decoded at 1/@r of its size, in the file's pixels. */
static void boxes_at_full_size(OcrReads *out, int r)
{
    for (int i = 0; r > 1 && i < out->n_reads; i++)
        for (int k = 0; k < 4; k++)
            out->reads[i].bbox[k] *= r;
}

/* Reads the codes in a decoded Leptonica image, first turned as EXIF orientation @orientation
 * says it is seen, the image decoded at 1/@r of its size (boxes given at full size); @name
 * names it in errors. Takes @pix. */
static gboolean read_pix(PsOcr *ocr, PIX *pix, int orientation, int r, const char *name,
                         OcrReads *out, GError **error)
{
    int w = pixGetWidth(pix), h = pixGetHeight(pix);
    if (w > OCR__MAX_SIDE || h > OCR__MAX_SIDE) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: %dx%d is larger than %d", name, w, h,
                    OCR__MAX_SIDE);
        pixDestroy(&pix);
        return FALSE;
    }
    PIX *g8 = pixGetDepth(pix) == 32 ? pixConvertRGBToLuminance(pix) : pixConvertTo8(pix, 0);
    pixDestroy(&pix);
    if (g8)
        g8 = oriented(g8, orientation);
    if (!g8) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot convert to gray", name);
        return FALSE;
    }
    w = pixGetWidth(g8);
    h = pixGetHeight(g8);
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
    boxes_at_full_size(out, r);
    return TRUE;
}

/* Refuses an image whose header says more than OCR_MAX_PIXELS before anything is decoded (a
 * 389 KB PNG can declare 20000 x 20000 and take gigabytes to decode), or, for a JPEG or HEIF
 * photo (@photo), more than OCR_MAX_PHOTO_PIXELS. @w, @h from the header. Returns the factor
 * the image is to be read at (1; for a photo over OCR_MAX_PIXELS 2, 4 or 8), 0 when refused. */
static int check_size(const char *what, l_int32 w, l_int32 h, gboolean photo, GError **error)
{
    gint64 n = (gint64)w * h, limit = photo ? OCR_MAX_PHOTO_PIXELS : OCR_MAX_PIXELS;
    if (w <= 0 || h <= 0 || n > limit) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE,
                    "%s: %d x %d pixels is over the limit of %d megapixels%s: not decoded", what,
                    w, h, (int)(limit / 1000000), photo ? " for a JPEG or HEIF photo" : "");
        return 0;
    }
    int r = 1;
    while (r < 8 && (gint64)((w + r - 1) / r) * ((h + r - 1) / r) > OCR_MAX_PIXELS)
        r *= 2;
    return r;
}

/* libheif's message @m as one line of printable text (some end in a newline). */
static char *heif_message(const char *m)
{
    char *s = g_strdup(m ? m : "unknown error");
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return g_strstrip(s);
}

/* Whether @data (@len bytes, the start of a file will do) is a HEIF file (an iPhone's HEIC). */
static gboolean is_heif(const guint8 *data, gsize len)
{
    return len >= 12 && heif_check_filetype(data, 12) != heif_filetype_no;
}

/* The primary image of the HEIF file read into @ctx as 8-bit gray (its luma), turned and
 * mirrored as its own boxes say (irot, imir: a HEIF photo's orientation; its EXIF copy is not
 * read), at the fraction of its size check_size() gives (*@r); NULL with @error naming @name
 * when it cannot be. */
static PIX *heif_gray(struct heif_context *ctx, const char *name, int *r, GError **error)
{
    struct heif_image_handle *handle = NULL;
    struct heif_image *img = NULL;
    struct heif_decoding_options *opts = heif_decoding_options_alloc();
    PIX *pix = NULL;
    if (opts)
        opts->convert_hdr_to_8bit = 1;
    heif_context_set_max_decoding_threads(ctx, 0); /* one core per read, as for frames */
    struct heif_error err = heif_context_get_primary_image_handle(ctx, &handle);
    if (err.code == heif_error_Ok) {
        *r = check_size(name, heif_image_handle_get_width(handle),
                        heif_image_handle_get_height(handle), TRUE, error);
        if (!*r)
            goto done;
        err = heif_decode_image(handle, &img, heif_colorspace_YCbCr, heif_chroma_420, opts);
    }
    int stride = 0, w = 0, h = 0;
    const uint8_t *y = NULL;
    /* (libheif asserts, and aborts, when asked the depth of a channel the image lacks) */
    if (err.code == heif_error_Ok && heif_image_has_channel(img, heif_channel_Y) &&
        heif_image_get_bits_per_pixel(img, heif_channel_Y) == 8) {
        y = heif_image_get_plane_readonly(img, heif_channel_Y, &stride);
        w = heif_image_get_width(img, heif_channel_Y);
        h = heif_image_get_height(img, heif_channel_Y);
    }
    if (err.code != heif_error_Ok || !y || w <= 0 || h <= 0 || stride < w) {
        char *m = heif_message(err.code != heif_error_Ok ? err.message : "no 8-bit luma");
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot decode the HEIF image (%s)",
                    name, m);
        g_free(m);
        goto done;
    }
    pix = pixCreate(w, h, 8);
    for (int row = 0; pix && row < h; row++) {
        l_uint32 *line = pixGetData(pix) + (size_t)row * pixGetWpl(pix);
        for (int x = 0; x < w; x++)
            SET_DATA_BYTE(line, x, y[(size_t)row * stride + x]);
    }
    for (int k = 1; pix && k < *r; k *= 2) { /* halved by area, as the JPEG decoder scales */
        PIX *half = pixScaleAreaMap2(pix);
        pixDestroy(&pix);
        pix = half;
    }
    if (!pix)
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: out of memory", name);
done:
    if (img)
        heif_image_release(img);
    if (handle)
        heif_image_handle_release(handle);
    heif_decoding_options_free(opts);
    return pix;
}

/* Reads the HEIF photo read into @ctx (taken); @name names it in errors. */
static gboolean read_heif(PsOcr *ocr, struct heif_context *ctx, struct heif_error err,
                          const char *name, OcrReads *out, GError **error)
{
    int r = 1;
    PIX *pix = NULL;
    if (err.code != heif_error_Ok) {
        char *m = heif_message(err.message);
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot read the HEIF file (%s)", name,
                    m);
        g_free(m);
    } else {
        pix = heif_gray(ctx, name, &r, error);
    }
    heif_context_free(ctx);
    return pix && read_pix(ocr, pix, 1, r, name, out, error);
}

/* Whether the file at @path starts as a HEIF file does. */
static gboolean file_is_heif(const char *path)
{
    guint8 head[12];
    FILE *f = fopen(path, "rb");
    gsize n = f ? fread(head, 1, sizeof head, f) : 0;
    if (f)
        fclose(f);
    return is_heif(head, n);
}

gboolean ocr_read_file(PsOcr *ocr, const char *path, OcrReads *out, GError **error)
{
    memset(out, 0, sizeof *out);
    setMsgSeverity(L_SEVERITY_NONE);
    l_int32 format, w = 0, h = 0, bps, spp, iscmap;
    if (file_is_heif(path)) {
        struct heif_context *ctx = heif_context_alloc();
        return read_heif(ocr, ctx, heif_context_read_from_file(ctx, path, NULL), path, out,
                         error);
    }
    if (pixReadHeader(path, &format, &w, &h, &bps, &spp, &iscmap) != 0) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot read the image header (missing, "
                    "or not JPEG, PNG, TIFF, BMP, GIF, WebP, PNM, HEIF)", path);
        return FALSE;
    }
    gboolean jpeg = format == IFF_JFIF_JPEG;
    int r = check_size(path, w, h, jpeg, error);
    if (!r)
        return FALSE;
    PIX *pix = r > 1 ? pixReadJpeg(path, 0, r, NULL, L_JPEG_READ_LUMINANCE) : pixRead(path);
    if (!pix) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot read the image (missing, or not "
                    "JPEG, PNG, TIFF, BMP, GIF, WebP, PNM, HEIF)", path);
        return FALSE;
    }
    /* A photo's EXIF orientation: phones store the sensor's rows and say how they stand. */
    int orientation = jpeg ? exif_orientation(exif_data_new_from_file(path)) : 1;
    return read_pix(ocr, pix, orientation, r, path, out, error);
}

gboolean ocr_read_memory(PsOcr *ocr, const guint8 *data, gsize size, OcrReads *out,
                         GError **error)
{
    memset(out, 0, sizeof *out);
    setMsgSeverity(L_SEVERITY_NONE);
    if (data && is_heif(data, size)) {
        struct heif_context *ctx = heif_context_alloc();
        return read_heif(ocr, ctx,
                         heif_context_read_from_memory_without_copy(ctx, data, size, NULL),
                         "image in memory", out, error);
    }
    l_int32 format, w = 0, h = 0, bps, spp, iscmap;
    gboolean header = data && size > 0 &&
                      pixReadHeaderMem(data, size, &format, &w, &h, &bps, &spp, &iscmap) == 0;
    gboolean jpeg = header && format == IFF_JFIF_JPEG;
    int r = 1;
    if (header && !(r = check_size("image in memory", w, h, jpeg, error)))
        return FALSE;
    PIX *pix = !data || size == 0 ? NULL
               : r > 1            ? pixReadMemJpeg(data, size, 0, r, NULL, L_JPEG_READ_LUMINANCE)
                                  : pixReadMem(data, size);
    if (!pix) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "image in memory (%" G_GSIZE_FORMAT
                    " bytes): cannot decode it", size);
        return FALSE;
    }
    int orientation = jpeg && size <= G_MAXUINT
                          ? exif_orientation(exif_data_new_from_data(data, (unsigned int)size))
                          : 1;
    return read_pix(ocr, pix, orientation, r, "image in memory", out, error);
}
