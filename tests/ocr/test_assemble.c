/* test_assemble.c: check-digit-constrained code assembly and multi-read fusion. */
#include <string.h>

#include "ocr.h"
#include "testutil.h"

/* Probabilities that put @conf on each character of @text and spread the rest evenly. */
static void probs_for(const char *text, double conf, OcrCodeProbs *out)
{
    for (int i = 0; i < OCR_CODE_LEN; i++) {
        for (int k = 0; k < OCR_N_CLASSES; k++)
            out->p[i][k] = (float)((1.0 - conf) / (OCR_N_CLASSES - 1));
        out->p[i][ocr_class_index(text[i])] = (float)conf;
    }
}

/* Moves probability at @pos so that @a gets @pa and @b gets @pb. */
static void ambiguous(OcrCodeProbs *p, int pos, char a, double pa, char b, double pb)
{
    for (int k = 0; k < OCR_N_CLASSES; k++)
        p->p[pos][k] = (float)((1.0 - pa - pb) / (OCR_N_CLASSES - 2));
    p->p[pos][ocr_class_index(a)] = (float)pa;
    p->p[pos][ocr_class_index(b)] = (float)pb;
}

static OcrRead read_of(const OcrCodeProbs *p)
{
    OcrRead r;
    memset(&r, 0, sizeof r);
    r.probs = *p;
    r.confidence = ocr_assemble(&r.probs, r.code);
    return r;
}

/* Assembly cases: a read of @text at @conf with up to two ambiguous positions (@pos: @a at @pa,
 * @b at @pb), the code it must assemble to (NULL: some code that passes the check digit) and
 * bounds on its confidence (@above < confidence < @below; 0: no bound). */
static const struct {
    const char *what, *text;
    double conf;
    struct {
        int pos;
        char a;
        double pa;
        char b;
        double pb;
    } amb[2];
    const char *want;
    double above, below;
} assembly[] = {
    {"a clean read assembles to itself", "CSQU3054383", 0.9, {{-1}, {-1}}, "CSQU3054383", 0.85,
     0},
    /* The recognizer prefers '8' at serial position 3 (CSQU3084383 fails the check digit); the
     * valid CSQU3054383 has '5' as the second choice there. */
    {"an ambiguous character resolves to the valid code", "CSQU3054383", 0.95,
     {{6, '8', 0.55, '5', 0.40}, {-1}}, "CSQU3054383", 0.5, 0},
    /* '0' read in the owner code and 'O' in the serial: the layout forces O and 0. */
    {"letter and digit confusions follow the layout", "TGHU0737320", 0.95,
     {{1, '6', 0.6, 'G', 0.35}, {4, 'O', 0.6, '0', 0.35}}, "TGHU0737320", 0, 0},
    /* A font whose O is its 0: the recognizer says '0' at the first two letters and gives O a
     * little; D and Q (the other letters a 0 may be) get nothing. The 0's mass goes to O, not
     * to O, D and Q alike (which would leave a third of it to each). */
    {"a zero in the owner code is the letter the recognizer leans to", "OODU9023790", 0.95,
     {{0, '0', 0.90, 'O', 0.06}, {1, '0', 0.92, 'O', 0.05}}, "OODU9023790", 0.7, 0},
    /* The recognizer reads N at the second letter and gives S little; the check digit wants the
     * value of S (or I: letters 11 apart weigh alike), so the code assembled is right, but its
     * S was a guess between the two: the confidence must say so (0.43 before the guess
     * counted). */
    {"an owner letter the check digit had to guess gets low confidence", "CSQU3054383", 0.95,
     {{1, 'N', 0.90, 'S', 0.05}, {-1}}, "CSQU3054383", 0, 0.2},
    /* Every character read confidently, but the code fails its check digit: any valid code
     * needs a character the recognizer did not see, so the confidence is low. */
    {"a read whose check digit is wrong gets low confidence", "CSQU3054387", 0.99, {{-1}, {-1}},
     NULL, 0, 0.3},
};

START_TEST(test_assembly)
{
    OcrCodeProbs p;
    probs_for(assembly[_i].text, assembly[_i].conf, &p);
    for (int k = 0; k < 2; k++)
        if (assembly[_i].amb[k].pos >= 0)
            ambiguous(&p, assembly[_i].amb[k].pos, assembly[_i].amb[k].a, assembly[_i].amb[k].pa,
                      assembly[_i].amb[k].b, assembly[_i].amb[k].pb);
    char code[12];
    double c = ocr_assemble(&p, code);
    if (assembly[_i].want) {
        ck_assert_msg(strcmp(code, assembly[_i].want) == 0, "%s: %s", assembly[_i].what, code);
    } else {
        ck_assert_int_eq(strlen(code), 11);
        ck_assert_msg(iso6346_validate(code, NULL), "%s: %s", assembly[_i].what, code);
    }
    ck_assert_msg(c <= 1.0 && c > assembly[_i].above, "%s: confidence %f", assembly[_i].what, c);
    if (assembly[_i].below > 0)
        ck_assert_msg(c < assembly[_i].below, "%s: confidence %f", assembly[_i].what, c);
}
END_TEST

START_TEST(test_size_type_assembly_picks_a_valid_code)
{
    float p[4][OCR_N_CLASSES];
    const char *st = "22G1";
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < OCR_N_CLASSES; k++)
            p[i][k] = 0.1f / 35;
        p[i][ocr_class_index(st[i])] = 0.9f;
    }
    /* '6' looks like 'G' but "2261" is not a size/type code. */
    p[2][ocr_class_index('6')] = 0.6f;
    p[2][ocr_class_index('G')] = 0.3f;
    char out[5];
    double c = ocr_assemble_size_type(p, out);
    ck_assert_str_eq(out, "22G1");
    ck_assert_double_gt(c, 0.4);
}
END_TEST

START_TEST(test_fusion_three_weak_agreeing_reads_beat_one_confident_wrong_read)
{
    OcrFusion *f = ocr_fusion_new(NULL);
    /* Three weak reads of MSKU3866036: the last two digits are only 45% sure each time, the
     * rest of their probability spread over the other classes. */
    for (int i = 0; i < 3; i++) {
        OcrCodeProbs p;
        probs_for("MSKU3866036", 0.9, &p);
        ambiguous(&p, 9, '3', 0.45, '8', 0.55 / 35);
        ambiguous(&p, 10, '6', 0.45, '3', 0.55 / 35);
        OcrRead r = read_of(&p);
        ck_assert_str_eq(r.code, "MSKU3866036");
        ocr_fusion_add(f, &r);
    }
    /* One confident read of the valid but wrong MSKU3866083. */
    OcrCodeProbs q;
    probs_for("MSKU3866083", 0.97, &q);
    OcrRead wrong = read_of(&q);
    ck_assert_str_eq(wrong.code, "MSKU3866083");
    ck_assert_double_gt(wrong.confidence, 0.9);
    ocr_fusion_add(f, &wrong);

    OcrReads out;
    ocr_fusion_result(f, FALSE, &out);
    ck_assert_int_ge(out.n_reads, 1);
    ck_assert_str_eq(out.reads[0].code, "MSKU3866036");
    ocr_fusion_free(f);
}
END_TEST

START_TEST(test_fusion_one_blurred_frame_is_not_confirmed)
{
    OcrFusion *f = ocr_fusion_new(NULL);
    OcrCodeProbs p;
    probs_for("CSQU3054383", 0.35, &p);
    OcrRead r = read_of(&p);
    ocr_fusion_add(f, &r);
    OcrReads out;
    ocr_fusion_result(f, TRUE, &out);
    ck_assert_int_eq(out.n_reads, 0);
    ocr_fusion_result(f, FALSE, &out);
    ck_assert_int_eq(out.n_reads, 1);
    /* More agreeing evidence confirms it. */
    for (int i = 0; i < 3; i++)
        ocr_fusion_add(f, &r);
    ocr_fusion_result(f, TRUE, &out);
    ck_assert_int_eq(out.n_reads, 1);
    ck_assert_str_eq(out.reads[0].code, "CSQU3054383");
    ocr_fusion_free(f);
}
END_TEST

START_TEST(test_fusion_keeps_two_containers_apart)
{
    OcrFusion *f = ocr_fusion_new(NULL);
    const char *codes[] = {"BEAU2656931", "TRHU1700369", "BEAU2656931", "BEAU2656931",
                           "TRHU1700369"};
    for (size_t i = 0; i < G_N_ELEMENTS(codes); i++) {
        OcrCodeProbs p;
        probs_for(codes[i], 0.9, &p);
        OcrRead r = read_of(&p);
        g_strlcpy(r.size_type, "22G1", sizeof r.size_type);
        ocr_fusion_add(f, &r);
    }
    OcrReads out;
    ocr_fusion_result(f, TRUE, &out);
    ck_assert_int_eq(out.n_reads, 2);
    ck_assert_str_eq(out.reads[0].code, "BEAU2656931");
    ck_assert_str_eq(out.reads[1].code, "TRHU1700369");
    ck_assert_str_eq(out.reads[0].size_type, "22G1");
    ocr_fusion_reset(f);
    ocr_fusion_result(f, FALSE, &out);
    ck_assert_int_eq(out.n_reads, 0);
    ocr_fusion_free(f);
    ocr_fusion_free(NULL);
}
END_TEST

START_TEST(test_fusion_of_many_reads_that_keep_taking_a_letter_for_a_digit)
{
    /* A recognizer that keeps reading the S of PSTU as '3' (0.7; not a look-alike the assembly
     * folds) and S only at 0.2: each read alone assembles to the code, since a digit cannot
     * stand there; pooling 33 of them must not turn that evidence against the code. */
    OcrFusion *f = ocr_fusion_new(NULL);
    for (int n = 0; n < 33; n++) {
        OcrCodeProbs p;
        probs_for("PSTU2001016", 0.95, &p);
        ambiguous(&p, 1, '3', 0.7, 'S', 0.2);
        OcrRead r = read_of(&p);
        ck_assert_str_eq(r.code, "PSTU2001016");
        ocr_fusion_add(f, &r);
    }
    OcrReads out;
    ocr_fusion_result(f, TRUE, &out);
    ck_assert_int_eq(out.n_reads, 1);
    ck_assert_str_eq(out.reads[0].code, "PSTU2001016");
    ck_assert_double_gt(out.reads[0].confidence, 0.9);
    ocr_fusion_free(f);
}
END_TEST

START_TEST(test_class_index_round_trips)
{
    for (int k = 0; k < OCR_N_CLASSES; k++)
        ck_assert_int_eq(ocr_class_index(ocr_class_char(k)), k);
    ck_assert_int_eq(ocr_class_index('a'), -1);
    ck_assert_int_eq(ocr_class_char(36), '?');
}
END_TEST

int main(void)
{
    const TestutilTest tests[] = {
        {test_assembly, G_N_ELEMENTS(assembly)},
        {test_size_type_assembly_picks_a_valid_code},
        {test_fusion_three_weak_agreeing_reads_beat_one_confident_wrong_read},
        {test_fusion_one_blurred_frame_is_not_confirmed},
        {test_fusion_keeps_two_containers_apart},
        {test_fusion_of_many_reads_that_keep_taking_a_letter_for_a_digit},
        {test_class_index_round_trips},
        {NULL},
    };
    const TestutilCase tcases[] = {
        {"core", 0, tests},
    };
    return testutil_run_cases("assemble", tcases, G_N_ELEMENTS(tcases));
}
