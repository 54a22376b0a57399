/* test_cnn.c: the C inference of the character network (ocr/cnn.c, weights ocr/cnn_weights.c)
 * gives what the training script's PyTorch network gives on the same crops. The fixture
 * tests/ocr/cnn_reference.txt is written by tools/train_ocr.py with the weights it exports, so
 * a change to the export, to the layer layout or to the inference that alters the output fails
 * here; PyTorch is not needed to run the test. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ocr-private.h"
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
    const char *root = g_getenv("PS_SOURCE_ROOT");
    ck_assert_ptr_nonnull(root);
    char *path = g_build_filename(root, "tests", "ocr", "cnn_reference.txt", NULL);
    char *text = NULL;
    GError *error = NULL;
    ck_assert_msg(g_file_get_contents(path, &text, NULL, &error), "%s", error ? error->message : "");
    char **lines = g_strsplit(text, "\n", -1);
    GArray *refs = g_array_new(FALSE, TRUE, sizeof(Reference));
    int i = 0;
    while (lines[i]) {
        if (lines[i][0] == '#' || lines[i][0] == '\0') {
            i++;
            continue;
        }
        Reference r = {0};
        ck_assert_msg(sscanf(lines[i], "crop %d", &r.label) == 1, "%s:%d: no 'crop LABEL'", path,
                      i + 1);
        for (int y = 0; y < OCR__CROP; y++) {
            const char *row = lines[i + 1 + y];
            ck_assert_msg(row && strlen(row) == 2 * OCR__CROP, "%s:%d: not %d hex bytes", path,
                          i + 2 + y, OCR__CROP);
            for (int x = 0; x < OCR__CROP; x++) {
                int hi = g_ascii_xdigit_value(row[2 * x]), lo = g_ascii_xdigit_value(row[2 * x + 1]);
                ck_assert_msg(hi >= 0 && lo >= 0, "%s:%d: not hex", path, i + 2 + y);
                r.crop[y * OCR__CROP + x] = (float)(hi * 16 + lo) / 255.0f;
            }
        }
        i += 1 + OCR__CROP;
        ck_assert_msg(lines[i] && g_str_has_prefix(lines[i], "prob "), "%s:%d: no 'prob'", path,
                      i + 1);
        char **v = g_strsplit(lines[i] + 5, " ", -1);
        ck_assert_msg(g_strv_length(v) == OCR__N_OUT, "%s:%d: %u probabilities, not %d", path,
                      i + 1, g_strv_length(v), OCR__N_OUT);
        for (int k = 0; k < OCR__N_OUT; k++)
            r.prob[k] = (float)g_ascii_strtod(v[k], NULL);
        g_strfreev(v);
        i++;
        g_array_append_val(refs, r);
    }
    g_strfreev(lines);
    g_free(text);
    g_free(path);
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

int main(void)
{
    const TestutilTest tests[] = {
        {test_c_inference_matches_the_training_script},
        {NULL},
    };
    const TestutilCase tcases[] = {
        {"core", 0, tests},
    };
    return testutil_run_cases("ocr-cnn", tcases, G_N_ELEMENTS(tcases));
}
