/* test_cnn.c: the C inference of the character network (ocr/cnn.c, weights ocr/cnn_weights.c)
 * gives what the training script's PyTorch network gives on the same crops, and the crop it
 * reads (ocr/charcrop.c) is what its plain definition gives. The fixture
 * tests/ocr/cnn_reference.txt is written by tools/train_ocr.py with the weights it exports, so
 * a change to the export, to the layer layout or to the inference that alters the output fails
 * here; PyTorch is not needed to run the test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr-private.h"
#include "reference.h"
#include "testutil.h"

/* Largest difference allowed between a C and a PyTorch probability (float32 sums in another
 * order differ by far less). */
#define TOLERANCE 1e-4

typedef struct {
    int label;
    float crop[OCR__CROP * OCR__CROP];
    float prob[OCR__N_OUT];
} Reference;

/* Parses the fixture; fails the test naming the line that is not as expected. */
static GArray *load_references(void)
{
    ReferenceFile f;
    reference_open(&f, "cnn_reference.txt");
    GArray *refs = g_array_new(FALSE, TRUE, sizeof(Reference));
    for (const char *line; (line = reference_record(&f));) {
        Reference r = {0};
        ck_assert_msg(sscanf(line, "crop %d", &r.label) == 1, "%s:%d: no 'crop LABEL'", f.path,
                      f.i + 1);
        guint8 crop[OCR__CROP * OCR__CROP];
        reference_hex_rows(&f, OCR__CROP, OCR__CROP, crop);
        for (int k = 0; k < OCR__CROP * OCR__CROP; k++)
            r.crop[k] = (float)crop[k] / 255.0f;
        line = f.lines[f.i];
        ck_assert_msg(line && g_str_has_prefix(line, "prob "), "%s:%d: no 'prob'", f.path, f.i + 1);
        reference_numbers(&f, f.i, line + 5, OCR__N_OUT, r.prob);
        f.i++;
        g_array_append_val(refs, r);
    }
    reference_close(&f);
    return refs;
}

static int argmax(const float *p)
{
    int best = 0;
    for (int k = 1; k < OCR__N_OUT; k++)
        if (p[k] > p[best])
            best = k;
    return best;
}

START_TEST(test_c_inference_matches_the_training_script)
{
    GArray *refs = load_references();
    ck_assert_uint_ge(refs->len, 4);
    double worst = 0;
    int right = 0;
    for (guint i = 0; i < refs->len; i++) {
        const Reference *r = &g_array_index(refs, Reference, i);
        float prob[OCR__N_OUT], plain[OCR__N_OUT];
        ocr__cnn_classify(r->crop, prob);
        /* The AVX2 code gives the SSE2 code's floats, bit for bit. */
        ocr__avx2_allowed = FALSE;
        ocr__cnn_classify(r->crop, plain);
        ocr__avx2_allowed = TRUE;
        ck_assert_msg(memcmp(prob, plain, sizeof prob) == 0,
                      "crop %u: the AVX2 and SSE2 codes give other probabilities", i);
        for (int k = 0; k < OCR__N_OUT; k++) {
            double d = fabs((double)prob[k] - r->prob[k]);
            ck_assert_msg(d <= TOLERANCE, "crop %u class %d: C %.6f, training script %.6f", i, k,
                          prob[k], r->prob[k]);
            worst = MAX(worst, d);
        }
        ck_assert_int_eq(argmax(prob), argmax(r->prob));
        right += argmax(prob) == r->label;
    }
    printf("%u crops: largest probability difference %.2g; %d read as labelled; %s\n", refs->len,
           worst, right,
           ocr__avx2() ? "the AVX2 code gave the SSE2 code's floats"
                       : "no AVX2 on this processor: the SSE2 code only");
    /* The fixture is not degenerate: the network reads most of its crops right. */
    ck_assert_int_ge(right, (int)refs->len / 2);
    g_array_free(refs, TRUE);
}
END_TEST

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The crop as its definition says, written plainly: each output pixel the mean of sub x sub
 * bilinear samples inside the image (-1 when none), then (v - 5th percentile) / (95th - 5th,
 * at least 8), a pixel without samples taking the median, inverted for dark text, clamped. */
static void plain_crop(const guint8 *gray, int width, int height, int x, int y, int w, int h,
                       gboolean bright, float *out)
{
    const int n = OCR__CROP;
    w = MAX(w, 1);
    h = MAX(h, 1);
    float scale = 24.0f / h;
    if (w * scale > n - 2)
        scale = (n - 2.0f) / w;
    float cx = x + w / 2.0f, cy = y + h / 2.0f, step = 1.0f / scale;
    int sub = step > 1.5f ? MIN((int)ceilf(step), 4) : 1;
    float sorted[OCR__CROP * OCR__CROP];
    int n_in = 0;
    for (int oy = 0; oy < n; oy++)
        for (int ox = 0; ox < n; ox++) {
            float acc = 0;
            int cnt = 0;
            for (int sy = 0; sy < sub; sy++)
                for (int sx = 0; sx < sub; sx++) {
                    float fx = cx + (ox - n / 2.0f + (sx + 0.5f) / sub) * step - 0.5f;
                    float fy = cy + (oy - n / 2.0f + (sy + 0.5f) / sub) * step - 0.5f;
                    if (fx < 0 || fy < 0 || fx > width - 1 || fy > height - 1)
                        continue;
                    int x0 = (int)fx, y0 = (int)fy;
                    int x1 = MIN(x0 + 1, width - 1), y1 = MIN(y0 + 1, height - 1);
                    float ax = fx - x0, ay = fy - y0;
                    const guint8 *r0 = gray + (size_t)y0 * width, *r1 = gray + (size_t)y1 * width;
                    float top = r0[x0] * (1 - ax) + r0[x1] * ax;
                    float bot = r1[x0] * (1 - ax) + r1[x1] * ax;
                    acc += top * (1 - ay) + bot * ay;
                    cnt++;
                }
            out[oy * n + ox] = cnt ? acc / cnt : -1.0f;
            if (cnt)
                sorted[n_in++] = out[oy * n + ox];
        }
    if (n_in == 0) {
        memset(out, 0, sizeof(float) * n * n);
        return;
    }
    qsort(sorted, n_in, sizeof(float), compare_floats);
    float lo = sorted[n_in * 5 / 100], hi = sorted[(n_in - 1) * 95 / 100];
    float med = sorted[n_in / 2], range = MAX(hi - lo, 8.0f);
    for (int i = 0; i < n * n; i++) {
        float v = ((out[i] < 0 ? med : out[i]) - lo) / range;
        out[i] = CLAMP(bright ? v : 1.0f - v, 0.0f, 1.0f);
    }
}

/* ocr__char_crop (which selects its percentiles without sorting, and computes each axis's
 * sample positions once) gives exactly the plain crop: boxes of every size, partly outside the
 * image, on noise and on flat grey. */
START_TEST(test_char_crop_is_the_plain_crop)
{
    const int width = 320, height = 200;
    guint8 *gray = g_malloc((size_t)width * height);
    GRand *rng = g_rand_new_with_seed(7);
    for (int i = 0; i < width * height; i++)
        gray[i] = i % width < 280 ? (guint8)g_rand_int_range(rng, 0, 256) : 90;
    int checked = 0;
    for (int t = 0; t < 500; t++) {
        int w = g_rand_int_range(rng, 1, 160), h = g_rand_int_range(rng, 1, 160);
        int x = g_rand_int_range(rng, -80, width), y = g_rand_int_range(rng, -80, height);
        gboolean bright = g_rand_boolean(rng);
        float want[OCR__CROP * OCR__CROP], got[OCR__CROP * OCR__CROP];
        plain_crop(gray, width, height, x, y, w, h, bright, want);
        ocr__char_crop(gray, width, height, width, x, y, w, h, bright, got);
        for (int k = 0; k < OCR__CROP * OCR__CROP; k++)
            ck_assert_msg(got[k] == want[k], "box %d,%d %dx%d pixel %d: %.9g, plainly %.9g", x,
                          y, w, h, k, got[k], want[k]);
        checked++;
    }
    ck_assert_int_eq(checked, 500);
    g_rand_free(rng);
    g_free(gray);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_c_inference_matches_the_training_script},
    {&test_char_crop_is_the_plain_crop},
};

TESTUTIL_MAIN("ocr-cnn", "core", 0, TESTUTIL_TESTS(tests))
