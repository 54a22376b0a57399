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

/* A big-endian bit reader over an HEVC RBSP (emulation prevention bytes removed). */
typedef struct {
    const guint8 *p;
    gsize n, bit;
    gboolean over; /* read past the end */
} Bits;

static guint32 bits_u(Bits *b, int k)
{
    guint32 v = 0;
    for (int i = 0; i < k; i++, b->bit++) {
        if (b->bit >= 8 * b->n) {
            b->over = TRUE;
            return 0;
        }
        v = v << 1 | ((b->p[b->bit / 8] >> (7 - b->bit % 8)) & 1);
    }
    return v;
}

/* Exp-Golomb ue(v); over 31 leading zeros is no value a picture size takes (over). */
static guint32 bits_ue(Bits *b)
{
    int zeros = 0;
    while (!b->over && bits_u(b, 1) == 0)
        if (++zeros > 31) {
            b->over = TRUE;
            return 0;
        }
    return zeros ? (guint32)((1ull << zeros) - 1 + bits_u(b, zeros)) : 0;
}

/* The picture size an HEVC sequence parameter set gives (@nal, @len bytes, its 2-byte NAL
 * header first; H.265 7.3.2.2: up to pic_width_in_luma_samples and pic_height_in_luma_samples);
 * FALSE when it is cut short. */
static gboolean sps_size(const guint8 *nal, gsize len, guint32 *w, guint32 *h)
{
    guint8 rbsp[256]; /* the size comes within the first 131 bytes (7 sub-layers' profiles) */
    gsize n = 0;
    for (gsize i = 2, zeros = 0; i < len && n < sizeof rbsp; i++) {
        if (zeros >= 2 && nal[i] == 3) { /* emulation prevention */
            zeros = 0;
            continue;
        }
        zeros = nal[i] == 0 ? zeros + 1 : 0;
        rbsp[n++] = nal[i];
    }
    Bits b = {rbsp, n, 0, FALSE};
    bits_u(&b, 4);                   /* sps_video_parameter_set_id */
    int sub_layers = (int)bits_u(&b, 3); /* sps_max_sub_layers_minus1 */
    bits_u(&b, 1);
    b.bit += 96; /* profile_tier_level: the general profile (88 bits) and level (8) */
    gboolean profile[8] = {0}, level[8] = {0};
    for (int i = 0; i < sub_layers; i++) {
        profile[i] = bits_u(&b, 1);
        level[i] = bits_u(&b, 1);
    }
    if (sub_layers > 0)
        b.bit += 2 * (8 - sub_layers);
    for (int i = 0; i < sub_layers; i++)
        b.bit += (profile[i] ? 88 : 0) + (level[i] ? 8 : 0);
    bits_ue(&b); /* sps_seq_parameter_set_id */
    if (bits_ue(&b) == 3) /* chroma_format_idc */
        bits_u(&b, 1);
    *w = bits_ue(&b);
    *h = bits_ue(&b);
    return !b.over;
}

/* Checks one hvcC box's body (@p, @n bytes: an HEVCDecoderConfigurationRecord, ISO/IEC
 * 14496-15 8.3.3) against *@ok: it must hold a sequence parameter set, each of whose picture
 * fits in @max_w x @max_h (or @max_h x @max_w); the largest is kept in *@w, *@h. */
static void check_hvcc(const guint8 *p, gsize n, guint32 max_w, guint32 max_h, guint32 *w,
                       guint32 *h, gboolean *ok)
{
    gboolean sps = FALSE;
    gsize at = 22; /* the record's fixed fields, then numOfArrays */
    int arrays = at < n ? p[at++] : 0;
    for (int a = 0; a < arrays && at + 3 <= n; a++) {
        int nalus = p[at + 1] << 8 | p[at + 2];
        at += 3;
        for (int k = 0; k < nalus && at + 2 <= n; k++) {
            gsize len = (gsize)(p[at] << 8 | p[at + 1]);
            at += 2;
            if (len < 2 || len > n - at) {
                *ok = FALSE;
                return;
            }
            /* the NAL's own type, as the decoder takes it, not the array's label */
            int type = (p[at] >> 1) & 0x3f;
            guint32 sw = 0, sh = 0;
            if (type == 33) { /* SPS_NUT */
                gboolean read = sps_size(p + at, len, &sw, &sh);
                /* either way round: libheif 1.15 writes some turned images' ispe turned */
                if (!read || ((sw > max_w || sh > max_h) && (sw > max_h || sh > max_w)))
                    *ok = FALSE;
                if (read && (gint64)sw * sh > (gint64)*w * *h)
                    *w = sw, *h = sh;
                sps = TRUE;
            }
            at += len;
        }
    }
    if (!sps)
        *ok = FALSE;
}

/* Walks the boxes of @p (@n bytes) down to meta/iprp/ipco's hvcC boxes, each checked by
 * check_hvcc(); @depth guards the recursion. Returns how many hvcC boxes it found; *@av1 counts
 * the av1C boxes (AVIF's). */
static int walk_boxes(const guint8 *p, gsize n, int depth, guint32 max_w, guint32 max_h,
                      guint32 *w, guint32 *h, gboolean *ok, int *av1)
{
    int found = 0;
    for (gsize at = 0; at + 8 <= n && depth < 4;) {
        guint64 size = (guint64)p[at] << 24 | p[at + 1] << 16 | p[at + 2] << 8 | p[at + 3];
        gsize head = 8;
        if (size == 1 && at + 16 <= n) { /* 64-bit size */
            size = 0;
            for (int i = 0; i < 8; i++)
                size = size << 8 | p[at + 8 + i];
            head = 16;
        } else if (size == 0) { /* to the end */
            size = n - at;
        }
        if (size < head || size > n - at)
            break;
        const guint8 *t = p + at + 4, *body = p + at + head;
        gsize len = size - head;
        if (memcmp(t, "meta", 4) == 0 && len >= 4) /* a full box: version and flags first */
            found += walk_boxes(body + 4, len - 4, depth + 1, max_w, max_h, w, h, ok, av1);
        else if (memcmp(t, "iprp", 4) == 0 || memcmp(t, "ipco", 4) == 0)
            found += walk_boxes(body, len, depth + 1, max_w, max_h, w, h, ok, av1);
        else if (memcmp(t, "hvcC", 4) == 0) {
            check_hvcc(body, len, max_w, max_h, w, h, ok);
            found++;
        } else if (memcmp(t, "av1C", 4) == 0)
            (*av1)++;
        at += size;
    }
    return found;
}

/* Whether every HEVC picture the parameter sets of the HEIF file @data (@len bytes) declare
 * (in its hvcC boxes) fits in its primary image of @iw x @ih (its ispe box: before turning),
 * rounded up to HEVC's largest coding block (64). libheif 1.15 checks the size an image's ispe
 * box declares, not the size its coded picture says, and decodes the picture whole: a file
 * whose ispe box lies would have the decoder allocate for a picture as large as the coded one
 * says. A file with neither an hvcC nor an av1C box fails too. When not, @error says so,
 * naming @name. Not checked: AVIF's coded size, parameter sets inside the image data itself. */
static gboolean hevc_fits(const guint8 *data, gsize len, int iw, int ih, const char *name,
                          GError **error)
{
    guint32 max_w = ((guint32)MAX(iw, 0) + 63u) / 64u * 64u,
            max_h = ((guint32)MAX(ih, 0) + 63u) / 64u * 64u, w = 0, h = 0;
    gboolean ok = TRUE;
    int av1 = 0, hevc = walk_boxes(data, len, 0, max_w, max_h, &w, &h, &ok, &av1);
    if (hevc == 0 && av1 == 0) {
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE,
                    "%s: no HEVC or AV1 decoder configuration (hvcC, av1C) found: not decoded",
                    name);
        return FALSE;
    }
    if (!ok)
        g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE,
                    "%s: a coded HEVC picture (%u x %u) is larger than the image it belongs to "
                    "(%d x %d), or its sequence parameter set is missing or cut: not decoded",
                    name, w, h, iw, ih);
    return ok;
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
        if (!check_size(name, iw, ih, TRUE, error) || !hevc_fits(data, len, iw, ih, name, error))
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
