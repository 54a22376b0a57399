/* test_ocr_bomb.c: a decompression bomb (a small PNG or JPEG declaring 20000 x 20000 pixels) is
 * refused from its header, quickly and without decoding it. */
#include <glib/gstdio.h>
#include <leptonica/allheaders.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>

#include "ocr.h"
#include "testutil.h"

static void put_be32(guint8 *p, guint32 v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static void write_chunk(FILE *f, const char *type, const guint8 *data, guint32 len)
{
    guint8 head[8];
    put_be32(head, len);
    memcpy(head + 4, type, 4);
    fwrite(head, 1, 8, f);
    if (len)
        fwrite(data, 1, len, f);
    guint32 crc = crc32(0, (const Bytef *)type, 4);
    if (len)
        crc = crc32(crc, data, len);
    guint8 c[4];
    put_be32(c, crc);
    fwrite(c, 1, 4, f);
}

/* A valid 1-bit grey PNG of @w x @h white pixels: every row compresses to almost nothing. */
static void write_png_bomb(const char *path, guint32 w, guint32 h)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    static const guint8 sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    fwrite(sig, 1, 8, f);
    guint8 ihdr[13] = {0};
    put_be32(ihdr, w);
    put_be32(ihdr + 4, h);
    ihdr[8] = 1; /* bit depth */
    write_chunk(f, "IHDR", ihdr, 13);
    gsize row_len = 1 + (w + 7) / 8;
    guint8 *row = g_malloc(row_len);
    memset(row, 0xff, row_len);
    row[0] = 0; /* filter: none */
    z_stream z = {0};
    ck_assert_int_eq(deflateInit(&z, 9), Z_OK);
    guint8 out[1 << 16];
    for (guint32 y = 0; y <= h; y++) {
        z.next_in = row;
        z.avail_in = y < h ? (uInt)row_len : 0;
        int flush = y < h ? Z_NO_FLUSH : Z_FINISH;
        do {
            z.next_out = out;
            z.avail_out = sizeof out;
            deflate(&z, flush);
            guint32 n = sizeof out - z.avail_out;
            if (n)
                write_chunk(f, "IDAT", out, n);
        } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    g_free(row);
    write_chunk(f, "IEND", NULL, 0);
    fclose(f);
}

static glong peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

START_TEST(test_a_20000_by_20000_png_is_refused_from_its_header)
{
    g_autofree char *tmp = testutil_tmpdir();
    g_autofree char *path = g_build_filename(tmp, "bomb.png", NULL);
    write_png_bomb(path, 20000, 20000);
    GStatBuf sb;
    ck_assert_int_eq(g_stat(path, &sb), 0);
    OcrOptions o;
    ocr_options_init(&o);
    GError *error = NULL;
    PsOcr *ocr = ocr_new(&o, &error);
    ck_assert_no_error(error);
    OcrReads *reads = g_new0(OcrReads, 1);
    glong rss0 = peak_rss_kb();
    gint64 t0 = g_get_monotonic_time();
    gboolean ok = ocr_read_file(ocr, path, reads, &error);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    glong grew_kb = peak_rss_kb() - rss0;
    fprintf(stderr, "bomb: %" G_GINT64_FORMAT " byte PNG of 20000 x 20000: %s in %.4f s, peak "
                    "RSS +%ld KB: %s\n",
            (gint64)sb.st_size, ok ? "read" : "refused", secs, grew_kb,
            error ? error->message : "");
    ck_assert(!ok);
    ck_assert_ptr_nonnull(strstr(error->message, "megapixels"));
    ck_assert_double_lt(secs, 0.1);
    ck_assert_int_lt(grew_kb, 30 * 1024);
    g_clear_error(&error);

    /* The same from memory. */
    g_autofree char *data = NULL;
    gsize len = 0;
    ck_assert(g_file_get_contents(path, &data, &len, NULL));
    t0 = g_get_monotonic_time();
    ok = ocr_read_memory(ocr, (const guint8 *)data, len, reads, &error);
    secs = (g_get_monotonic_time() - t0) / 1e6;
    ck_assert(!ok);
    ck_assert_ptr_nonnull(strstr(error->message, "megapixels"));
    ck_assert_double_lt(secs, 0.1);
    ck_assert_int_lt(peak_rss_kb() - rss0, 30 * 1024);
    g_clear_error(&error);
    g_free(reads);
    ocr_free(ocr);
    testutil_rmtree(tmp);
}
END_TEST

/* A JPEG of a few hundred bytes whose frame header (SOF0) says 20000 x 20000: 400 megapixels,
 * over what even a JPEG decoded at a reduced size may declare (OCR_MAX_PHOTO_PIXELS). */
START_TEST(test_a_jpeg_declaring_20000_by_20000_is_refused_from_its_header)
{
    PIX *pix = pixCreate(64, 64, 8);
    pixSetAll(pix);
    guint8 *jpeg = NULL;
    size_t size = 0;
    ck_assert_int_eq(pixWriteMemJpeg(&jpeg, &size, pix, 75, 0), 0);
    pixDestroy(&pix);
    gboolean patched = FALSE;
    for (size_t i = 2; i + 9 < size && !patched; i++)
        if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc0) {
            jpeg[i + 5] = 20000 >> 8, jpeg[i + 6] = 20000 & 0xff; /* height */
            jpeg[i + 7] = 20000 >> 8, jpeg[i + 8] = 20000 & 0xff; /* width */
            patched = TRUE;
        }
    ck_assert(patched);
    GError *error = NULL;
    PsOcr *ocr = ocr_new(NULL, &error);
    ck_assert_no_error(error);
    OcrReads *reads = g_new0(OcrReads, 1);
    glong rss0 = peak_rss_kb();
    gint64 t0 = g_get_monotonic_time();
    gboolean ok = ocr_read_memory(ocr, jpeg, size, reads, &error);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    ck_assert(!ok);
    ck_assert_msg(strstr(error->message, "20000 x 20000") && strstr(error->message, "megapixels"),
                  "%s", error->message);
    ck_assert_double_lt(secs, 0.1);
    ck_assert_int_lt(peak_rss_kb() - rss0, 30 * 1024);
    g_clear_error(&error);
    g_autofree char *tmp = testutil_tmpdir();
    g_autofree char *path = g_build_filename(tmp, "bomb.jpg", NULL);
    ck_assert(g_file_set_contents(path, (const char *)jpeg, (gssize)size, NULL));
    ck_assert(!ocr_read_file(ocr, path, reads, &error));
    ck_assert_ptr_nonnull(strstr(error->message, "megapixels"));
    g_clear_error(&error);
    testutil_rmtree(tmp);
    lept_free(jpeg);
    g_free(reads);
    ocr_free(ocr);
}
END_TEST

static Suite *bomb_suite(void)
{
    Suite *s = suite_create("ocr-bomb");
    TCase *tc = tcase_create("bomb");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_a_20000_by_20000_png_is_refused_from_its_header);
    tcase_add_test(tc, test_a_jpeg_declaring_20000_by_20000_is_refused_from_its_header);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(bomb_suite());
}
