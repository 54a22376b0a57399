/* photo.c: encoded images decoded for reading (ocr_read_file(), ocr_read_memory()): JPEG, PNG,
 * TIFF, BMP, GIF, WebP and PNM through Leptonica, HEIF photos (an iPhone's HEIC) through
 * libheif; each as 8-bit gray, turned as the photo says it is seen (a JPEG's EXIF orientation
 * through libexif, a HEIF image's irot and imir boxes), a photo over OCR_MAX_PIXELS or with a
 * side over OCR__MAX_SIDE at a half, a quarter or an eighth of its size. Sizes are checked
 * from the header before anything is decoded, and a HEIF file's coded pictures against the
 * size it declares. Nothing here reads codes; fuzz/ocr's fuzz-photo runs these alone. */
#include <leptonica/allheaders.h>
#include <libexif/exif-data.h>
#include <libheif/heif.h>
#include <string.h>

#include "pipeline.h"

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

/* Refuses an image whose header says more than OCR_MAX_PIXELS, or a side over OCR__MAX_SIDE,
 * before anything is decoded (a 389 KB PNG can declare 20000 x 20000 and take gigabytes to
 * decode); for a JPEG or HEIF photo (@photo), more than OCR_MAX_PHOTO_PIXELS, or a side over
 * OCR__MAX_SIDE at an eighth of its size. @w, @h from the header; @what names the image.
 * Returns the factor the image is to be read at: 1, or for a photo over either limit the least
 * of 2, 4 and 8 that brings it under both (a 48 megapixel photo, a panorama 16000 px wide);
 * 0 when refused. */
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
    for (;;) {
        gint64 rw = (w + r - 1) / r, rh = (h + r - 1) / r; /* as libjpeg's scaling rounds */
        if (rw * rh <= OCR_MAX_PIXELS && rw <= OCR__MAX_SIDE && rh <= OCR__MAX_SIDE)
            return r;
        if (!photo || r == 8)
            break;
        r *= 2;
    }
    g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE,
                "%s: %d x %d pixels: a side is over the limit of %d pixels%s: not decoded", what,
                w, h, OCR__MAX_SIDE, photo ? " at an eighth of its size" : "");
    return 0;
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

/* The primary image of the HEIF file read into @ctx from @data (@len bytes) as 8-bit gray (its
 * luma), turned and mirrored as its own boxes say (irot, imir: a HEIF photo's orientation; its
 * EXIF copy is not read), at the fraction of its size check_size() gives (*@r); NULL with
 * @error naming @name when it cannot be. */
static PIX *heif_gray(struct heif_context *ctx, const guint8 *data, gsize len, const char *name,
                      int *r, GError **error)
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
        /* the size coded (ispe; the size seen is cropped or turned from it) within the limits,
         * and what the parameter sets say within it; the factor comes from the size decoded */
        int iw = heif_image_handle_get_ispe_width(handle),
            ih = heif_image_handle_get_ispe_height(handle);
        if (!check_size(name, iw, ih, TRUE, error) || !ocr__heif_fits(data, len, iw, ih, name, error))
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
        /* read at the factor the size decoded needs (it may not be the size declared) */
        if (w > 0 && h > 0 && !(*r = check_size(name, w, h, TRUE, error)))
            goto done;
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

/* @pix (taken), decoded at 1/@r of its size, as 8-bit gray turned as EXIF orientation
 * @orientation says; NULL with @error naming @name when it is too large or cannot be. */
static PIX *gray_of(PIX *pix, int orientation, const char *name, GError **error)
{
    int w = pixGetWidth(pix), h = pixGetHeight(pix);
    if (w > OCR__MAX_SIDE || h > OCR__MAX_SIDE) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: %dx%d is larger than %d", name, w, h,
                    OCR__MAX_SIDE);
        pixDestroy(&pix);
        return NULL;
    }
    PIX *g8 = pixGetDepth(pix) == 32 ? pixConvertRGBToLuminance(pix) : pixConvertTo8(pix, 0);
    pixDestroy(&pix);
    if (g8)
        g8 = oriented(g8, orientation);
    if (!g8)
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot convert to gray", name);
    return g8;
}

/* The HEIF photo in @data (@len bytes) as gray; @name names it in errors. */
static PIX *decode_heif(const guint8 *data, gsize len, const char *name, int *factor,
                        GError **error)
{
    PIX *pix = NULL;
    struct heif_context *ctx = heif_context_alloc();
    struct heif_error err = heif_context_read_from_memory_without_copy(ctx, data, len, NULL);
    if (err.code != heif_error_Ok) {
        char *m = heif_message(err.message);
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot read the HEIF file (%s)", name,
                    m);
        g_free(m);
    } else {
        pix = heif_gray(ctx, data, len, name, factor, error);
    }
    heif_context_free(ctx);
    return pix ? gray_of(pix, 1, name, error) : NULL;
}

/* The image in @data (@size bytes) decoded as ocr__decode_memory() says; @name names it in
 * errors (its file, or "image in memory"). */
static PIX *decode(const guint8 *data, gsize size, const char *name, int *factor, GError **error)
{
    setMsgSeverity(L_SEVERITY_NONE);
    *factor = 1;
    if (data && is_heif(data, size))
        return decode_heif(data, size, name, factor, error);
    l_int32 format, w = 0, h = 0, bps, spp, iscmap;
    if (!data || size == 0 ||
        pixReadHeaderMem(data, size, &format, &w, &h, &bps, &spp, &iscmap) != 0) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot read the image header (not "
                    "JPEG, PNG, TIFF, BMP, GIF, WebP, PNM, HEIF)", name);
        return NULL;
    }
    gboolean jpeg = format == IFF_JFIF_JPEG;
    int r = check_size(name, w, h, jpeg, error);
    if (!r)
        return NULL;
    PIX *pix = r > 1 ? pixReadMemJpeg(data, size, 0, r, NULL, L_JPEG_READ_LUMINANCE)
                     : pixReadMem(data, size);
    if (!pix) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE,
                    "%s: cannot decode the image (%" G_GSIZE_FORMAT " bytes)", name, size);
        return NULL;
    }
    *factor = r;
    /* A photo's EXIF orientation: phones store the sensor's rows and say how they stand. */
    int orientation = jpeg && size <= G_MAXUINT
                          ? exif_orientation(exif_data_new_from_data(data, (unsigned int)size))
                          : 1;
    return gray_of(pix, orientation, name, error);
}

PIX *ocr__decode_file(const char *path, int *factor, GError **error)
{
    *factor = 1;
    if (g_file_test(path, G_FILE_TEST_EXISTS) && !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: not a regular file", path);
        return NULL;
    }
    GError *e = NULL;
    GMappedFile *mf = g_mapped_file_new(path, FALSE, &e); /* mapped, not copied */
    if (!mf) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: cannot read the image (%s)", path,
                    e->message);
        g_error_free(e);
        return NULL;
    }
    PIX *pix = decode((const guint8 *)g_mapped_file_get_contents(mf),
                      g_mapped_file_get_length(mf), path, factor, error);
    g_mapped_file_unref(mf);
    return pix;
}

PIX *ocr__decode_memory(const guint8 *data, gsize size, int *factor, GError **error)
{
    return decode(data, size, "image in memory", factor, error);
}
