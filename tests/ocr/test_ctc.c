/* test_ctc.c: the C inference of each line reader (ocr/ctc.c, weights ocr/ctc_weights.c and
 * ocr/ctc_wide_weights.c) gives what the training script's PyTorch network gives on the same
 * strips, standardization included; its best path reads them; and the strip of a line is cut
 * where the line says. The fixtures tests/ocr/ctc_reference.txt and ctc_wide_reference.txt are
 * written by tools/train_ctc.py with the weights it exports, so a change to the export, to the
 * layers or to the inference that alters the output fails here; PyTorch is not needed to run
 * the test. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ocr-private.h"
#include "reference.h"
#include "testutil.h"

#define TOLERANCE 1e-4

/* The most probable of the 37 outputs. */
static int argmax37(const float *p)
{
    int best = 0;
    for (int k = 1; k < OCR__N_OUT; k++)
        if (p[k] > p[best])
            best = k;
    return best;
}

typedef struct {
    int w, t;
    char label[48];
    guint8 *strip;
    float *probs;
} Reference;

/* The networks and their fixtures (the rows of test_c_line_reader_matches_the_training_script). */
static const struct {
    OcrCtcNet net;
    const char *fixture;
} networks[] = {
    {OCR__CTC_FIRST, "ctc_reference.txt"},
    {OCR__CTC_WIDE, "ctc_wide_reference.txt"},
};

static GArray *load_references(const char *fixture)
{
    ReferenceFile f;
    reference_open(&f, fixture);
    GArray *refs = g_array_new(FALSE, TRUE, sizeof(Reference));
    for (const char *line; (line = reference_record(&f));) {
        Reference r = {0};
        ck_assert_msg(sscanf(line, "strip %d %47s", &r.w, r.label) == 2 && r.w >= 16 &&
                          r.w <= OCR__LINE_MAX_W,
                      "%s:%d: no 'strip W LABEL'", f.path, f.i + 1);
        if (strcmp(r.label, "-") == 0)
            r.label[0] = '\0';
        r.strip = g_malloc((size_t)r.w * OCR__LINE_H);
        reference_hex_rows(&f, r.w, OCR__LINE_H, r.strip);
        line = f.lines[f.i];
        ck_assert_msg(line && sscanf(line, "probs %d", &r.t) == 1 && r.t > 0 && r.t <= r.w,
                      "%s:%d: no 'probs T'", f.path, f.i + 1);
        r.probs = g_new(float, (size_t)r.t * OCR__N_OUT);
        for (int y = 0; y < r.t; y++) {
            const char *row = f.lines[f.i + 1 + y];
            ck_assert_msg(row != NULL, "%s: ends in the probabilities", f.path);
            reference_numbers(&f, f.i + 1 + y, row, OCR__N_OUT, r.probs + (size_t)y * OCR__N_OUT);
        }
        f.i += 1 + r.t;
        g_array_append_val(refs, r);
    }
    reference_close(&f);
    return refs;
}

START_TEST(test_c_line_reader_matches_the_training_script)
{
    GArray *refs = load_references(networks[_i].fixture);
    ck_assert_uint_ge(refs->len, 3);
    double worst = 0;
    int read_right = 0;
    /* Working buffers kept from the strips before, each filled with other bytes when taken. */
    OcrScratch kept = {.poison = TRUE};
    for (guint i = 0; i < refs->len; i++) {
        Reference *r = &g_array_index(refs, Reference, i);
        int t = 0;
        float *p = ocr__ctc_probs(networks[_i].net, r->strip, r->w, NULL, &t);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(t, r->t);
        /* The AVX2 code gives the SSE2 code's floats, bit for bit. */
        ocr__avx2_allowed = FALSE;
        int t_plain = 0;
        float *plain = ocr__ctc_probs(networks[_i].net, r->strip, r->w, NULL, &t_plain);
        ocr__avx2_allowed = TRUE;
        ck_assert_int_eq(t_plain, t);
        ck_assert_msg(memcmp(p, plain, sizeof(float) * t * OCR__N_OUT) == 0,
                      "strip %u: the AVX2 and SSE2 codes give other probabilities", i);
        g_free(plain);
        /* What the working buffers held changes nothing. */
        int t_kept = 0;
        float *from_kept = ocr__ctc_probs(networks[_i].net, r->strip, r->w, &kept, &t_kept);
        ck_assert_int_eq(t_kept, t);
        ck_assert_msg(memcmp(p, from_kept, sizeof(float) * t * OCR__N_OUT) == 0,
                      "strip %u: other probabilities with working buffers kept from other "
                      "strips", i);
        g_free(from_kept);
        for (int j = 0; j < t * OCR__N_OUT; j++) {
            double d = fabs((double)p[j] - r->probs[j]);
            ck_assert_msg(d <= TOLERANCE, "strip %u column %d output %d: C %.6f, training "
                          "script %.6f", i, j / OCR__N_OUT, j % OCR__N_OUT, p[j], r->probs[j]);
            worst = MAX(worst, d);
        }
        OcrLineChar chars[64];
        int n = ocr__ctc_decode(p, t, chars, 64);
        char s[65];
        for (int k = 0; k < n; k++)
            s[k] = ocr_class_char(argmax37(chars[k].p));
        s[n] = '\0';
        read_right += strcmp(s, r->label) == 0;
        g_free(p);
        g_free(r->strip);
        g_free(r->probs);
    }
    printf("%s: %u strips: largest probability difference %.2g, %d read as labelled; %s\n",
           networks[_i].fixture, refs->len, worst, read_right,
           ocr__avx2() ? "the AVX2 code gave the SSE2 code's floats"
                       : "no AVX2 on this processor: the SSE2 code only");
    /* The fixture is not degenerate: the trained network reads most of its strips. */
    ck_assert_int_ge(read_right, (int)refs->len - 1);
    ocr__scratch_clear(&kept);
    g_array_free(refs, TRUE);
}
END_TEST

/* Best path: repeats merge, a blank between two equal characters keeps both, blanks drop. */
START_TEST(test_best_path)
{
    /* columns: A A - A B - - 7 7 */
    const int cls[] = {10, 10, OCR__JUNK, 10, 11, OCR__JUNK, OCR__JUNK, 7, 7};
    const int t = G_N_ELEMENTS(cls);
    float probs[G_N_ELEMENTS(cls)][OCR__N_OUT];
    for (int i = 0; i < t; i++)
        for (int k = 0; k < OCR__N_OUT; k++)
            probs[i][k] = k == cls[i] ? 0.5f + 0.01f * i : 0.5f / (OCR__N_OUT - 1);
    OcrLineChar out[8];
    int n = ocr__ctc_decode(&probs[0][0], t, out, 8);
    ck_assert_int_eq(n, 4);
    const int want[] = {10, 10, 11, 7};
    const int at[] = {1, 3, 4, 8}; /* the surest column of each */
    for (int k = 0; k < n; k++) {
        ck_assert_int_eq(argmax37(out[k].p), want[k]);
        ck_assert_int_eq(out[k].t, at[k]);
    }
    ck_assert_int_eq(ocr__ctc_decode(&probs[0][0], t, out, 2), 2); /* @max is kept */
    int tt = -1;
    guint8 odd[32 * 18] = {0};
    /* not a multiple of 4 */
    ck_assert_ptr_null(ocr__ctc_probs(OCR__CTC_FIRST, odd, 18, NULL, &tt));
    ck_assert_int_eq(tt, 0);
    ck_assert_ptr_null(ocr__ctc_probs((OcrCtcNet)7, odd, 16, NULL, &tt)); /* no such network */
}
END_TEST

/* The strip of a line: 32 rows, the character height 20 of them, from 0.35 heights before the
 * ink to 0.35 after; a dark bar drawn along the centre line lies in the strip's middle rows. */
START_TEST(test_line_crop_geometry)
{
    const int w = 400, h = 200;
    guint8 *img = g_malloc((size_t)w * h);
    memset(img, 220, (size_t)w * h);
    for (int y = 95; y < 105; y++)
        for (int x = 100; x < 300; x++)
            img[(size_t)y * w + x] = 20;
    OcrLine l = {100, 100, 300, 100, 40, 0};
    int sw = 0;
    guint8 *s = ocr__line_crop(img, w, h, w, &l, &sw);
    ck_assert_ptr_nonnull(s);
    /* (200 + 0.7 * 40) / (1.6 * 40 / 32) = 114 columns, rounded up to 116 */
    ck_assert_int_eq(sw, 116);
    /* the bar is 10 px = 5 rows around row 16; 0.35 * 40 px = 7 columns before it */
    ck_assert_int_lt(s[16 * sw + 20], 60);
    ck_assert_int_gt(s[4 * sw + 20], 200);
    ck_assert_int_gt(s[16 * sw + 3], 200);
    ck_assert_int_lt(s[16 * sw + 100], 60);
    ck_assert_int_gt(s[16 * sw + 112], 200);
    g_free(s);
    OcrLine tiny = {10, 10, 12, 10, 1, 0}, huge = {0, 100, 400, 100, 3, 0};
    ck_assert_ptr_null(ocr__line_crop(img, w, h, w, &tiny, &sw));
    ck_assert_ptr_null(ocr__line_crop(img, w, h, w, &huge, &sw)); /* over OCR__LINE_MAX_W */
    ck_assert_int_eq(sw, 0);
    g_free(img);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_c_line_reader_matches_the_training_script, G_N_ELEMENTS(networks)},
    {&test_best_path},
    {&test_line_crop_geometry},
};

TESTUTIL_MAIN("ocr-ctc", "core", 0, TESTUTIL_TESTS(tests))
