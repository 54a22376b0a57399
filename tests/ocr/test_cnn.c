/* test_cnn.c: the C inference of the character network (ocr/cnn.c, weights ocr/cnn_weights.c)
 * gives what the training script's PyTorch network gives on the same crops. The fixture
 * tests/ocr/cnn_reference.txt is written by tools/train_ocr.py with the weights it exports, so
 * a change to the export, to the layer layout or to the inference that alters the output fails
 * here; PyTorch is not needed to run the test. */
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
        float prob[OCR__N_OUT];
        ocr__cnn_classify(r->crop, prob);
        for (int k = 0; k < OCR__N_OUT; k++) {
            double d = fabs((double)prob[k] - r->prob[k]);
            ck_assert_msg(d <= TOLERANCE, "crop %u class %d: C %.6f, training script %.6f", i, k,
                          prob[k], r->prob[k]);
            worst = MAX(worst, d);
        }
        ck_assert_int_eq(argmax(prob), argmax(r->prob));
        right += argmax(prob) == r->label;
    }
    printf("%u crops: largest probability difference %.2g; %d read as labelled\n", refs->len,
           worst, right);
    /* The fixture is not degenerate: the network reads most of its crops right. */
    ck_assert_int_ge(right, (int)refs->len / 2);
    g_array_free(refs, TRUE);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_c_inference_matches_the_training_script},
};

TESTUTIL_MAIN("ocr-cnn", "core", 0, TESTUTIL_TESTS(tests))
