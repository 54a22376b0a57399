/* test_det.c: the C inference of the text-region detector (ocr/det.c, weights
 * ocr/det_weights.c) gives what the training script's PyTorch network gives on the same
 * pixels, shrinking and standardization included. The fixture tests/ocr/det_reference.txt is
 * written by tools/train_detector.py with the weights it exports, so a change to the export, to
 * the layers or to the inference that alters the output fails here; PyTorch is not needed to
 * run the test. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ocr-private.h"
#include "reference.h"
#include "testutil.h"

/* Largest difference allowed between a C and a PyTorch probability (float32 sums in another
 * order differ by far less). */
#define TOLERANCE 1e-4

typedef struct {
    int w, h, k;
    guint8 *gray;
    int hw, hh;
    float *heat;
} Reference;

/* Parses the fixture; fails the test naming the line that is not as expected. */
static GArray *load_references(void)
{
    ReferenceFile f;
    reference_open(&f, "det_reference.txt");
    GArray *refs = g_array_new(FALSE, TRUE, sizeof(Reference));
    for (const char *line; (line = reference_record(&f));) {
        Reference r = {0};
        ck_assert_msg(sscanf(line, "frame %d %d %d", &r.w, &r.h, &r.k) == 3 && r.w > 0 &&
                          r.w <= 1024 && r.h > 0 && r.h <= 1024 && r.k >= 1 && r.k <= 8,
                      "%s:%d: no 'frame W H K'", f.path, f.i + 1);
        r.gray = g_malloc((size_t)r.w * r.h);
        reference_hex_rows(&f, r.w, r.h, r.gray);
        line = f.lines[f.i];
        ck_assert_msg(line && sscanf(line, "heat %d %d", &r.hw, &r.hh) == 2 && r.hw > 0 &&
                          r.hw <= 1024 && r.hh > 0 && r.hh <= 1024,
                      "%s:%d: no 'heat W H'", f.path, f.i + 1);
        r.heat = g_new(float, (size_t)r.hw * r.hh);
        for (int y = 0; y < r.hh; y++) {
            const char *row = f.lines[f.i + 1 + y];
            ck_assert_msg(row != NULL, "%s: ends in a heat map", f.path);
            reference_numbers(&f, f.i + 1 + y, row, r.hw, r.heat + (size_t)y * r.hw);
        }
        f.i += 1 + r.hh;
        g_array_append_val(refs, r);
    }
    reference_close(&f);
    return refs;
}

START_TEST(test_c_detector_matches_the_training_script)
{
    GArray *refs = load_references();
    ck_assert_uint_ge(refs->len, 3);
    double worst = 0, top = 0;
    /* Working buffers kept from the pieces before, each filled with other bytes when taken. */
    OcrScratch kept = {.poison = TRUE};
    for (guint i = 0; i < refs->len; i++) {
        Reference *r = &g_array_index(refs, Reference, i);
        int hw = 0, hh = 0;
        float *heat = ocr__det_heatmap(r->gray, r->w, r->h, r->w, r->k, NULL, &hw, &hh);
        ck_assert_ptr_nonnull(heat);
        ck_assert_msg(hw == r->hw && hh == r->hh, "piece %u: C map %dx%d, training script %dx%d",
                      i, hw, hh, r->hw, r->hh);
        /* The AVX2 code gives the SSE2 code's floats, bit for bit. */
        ocr__avx2_allowed = FALSE;
        int pw = 0, ph = 0;
        float *plain = ocr__det_heatmap(r->gray, r->w, r->h, r->w, r->k, NULL, &pw, &ph);
        ocr__avx2_allowed = TRUE;
        ck_assert(pw == hw && ph == hh);
        ck_assert_msg(memcmp(heat, plain, sizeof(float) * hw * hh) == 0,
                      "piece %u: the AVX2 and SSE2 codes give other maps", i);
        g_free(plain);
        /* What the working buffers held changes nothing. */
        int kw = 0, kh = 0;
        float *from_kept = ocr__det_heatmap(r->gray, r->w, r->h, r->w, r->k, &kept, &kw, &kh);
        ck_assert(kw == hw && kh == hh);
        ck_assert_msg(memcmp(heat, from_kept, sizeof(float) * hw * hh) == 0,
                      "piece %u: other maps with working buffers kept from other pieces", i);
        g_free(from_kept);
        for (int j = 0; j < hw * hh; j++) {
            double d = fabs((double)heat[j] - r->heat[j]);
            ck_assert_msg(d <= TOLERANCE, "piece %u cell %d,%d: C %.6f, training script %.6f", i,
                          j % hw, j / hw, heat[j], r->heat[j]);
            worst = MAX(worst, d);
            top = MAX(top, r->heat[j]);
        }
        g_free(heat);
        g_free(r->gray);
        g_free(r->heat);
    }
    printf("%u pieces: largest probability difference %.2g; %s\n", refs->len, worst,
           ocr__avx2() ? "the AVX2 code gave the SSE2 code's floats"
                       : "no AVX2 on this processor: the SSE2 code only");
    /* The fixture is not degenerate: the piece over the code has cells the network is sure of. */
    ck_assert_double_ge(top, 0.5);
    ocr__scratch_clear(&kept);
    g_array_free(refs, TRUE);
}
END_TEST

/* The shrink factor brings the longer side to about 480 pixels. */
START_TEST(test_detector_factor)
{
    ck_assert_int_eq(ocr__det_factor(1920, 1080), 4);
    ck_assert_int_eq(ocr__det_factor(960, 540), 2);
    ck_assert_int_eq(ocr__det_factor(600, 800), 2);
    ck_assert_int_eq(ocr__det_factor(320, 240), 1);
    int w = -1, h = -1;
    guint8 tiny[9] = {0};
    ck_assert_ptr_null(ocr__det_heatmap(tiny, 3, 3, 3, 1, NULL, &w, &h));
    ck_assert_int_eq(w, 0);
    ck_assert_int_eq(h, 0);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_c_detector_matches_the_training_script},
    {&test_detector_factor},
};

TESTUTIL_MAIN("ocr-det", "core", 0, TESTUTIL_TESTS(tests))
