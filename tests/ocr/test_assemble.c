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

/* Probability at @pos moved so that @a gets @pa and @b gets @pb; @pos -1: none. */
typedef struct {
    int pos;
    char a;
    double pa;
    char b;
    double pb;
} Amb;

#define NO_AMB {{-1}, {-1}}

/* A read of @text at @conf with the two ambiguous positions of @amb. */
static void probs_with(const char *text, double conf, const Amb amb[2], OcrCodeProbs *p)
{
    probs_for(text, conf, p);
    for (int k = 0; k < 2; k++)
        if (amb[k].pos >= 0)
            ambiguous(p, amb[k].pos, amb[k].a, amb[k].pa, amb[k].b, amb[k].pb);
}

/* Assembly cases: a read of @text at @conf with up to two ambiguous positions, the code it must
 * assemble to (NULL: some code that passes the check digit) and bounds on its confidence
 * (@above < confidence < @below; 0: no bound). */
static const struct {
    const char *what, *text;
    double conf;
    Amb amb[2];
    const char *want;
    double above, below;
} assembly[] = {
    {"a clean read assembles to itself", "CSQU3054383", 0.9, NO_AMB, "CSQU3054383", 0.85, 0},
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
    /* A window that lost the category letter takes the serial's first digit there: the
     * recognizer read a '1' and gave J little (FHNU1637170 read one character shifted). J is
     * a guess then, as an owner letter would be (0.89 before the category counted). */
    {"a category letter the recognizer hardly saw gets low confidence", "FHNJ6371701", 0.95,
     {{3, '1', 0.90, 'J', 0.05}, {-1}}, "FHNJ6371701", 0, 0.3},
    /* Every character read confidently, but the code fails its check digit: any valid code
     * needs a character the recognizer did not see, so the confidence is low. */
    {"a read whose check digit is wrong gets low confidence", "CSQU3054387", 0.99, NO_AMB, NULL, 0,
     0.3},
};

START_TEST(test_assembly)
{
    OcrCodeProbs p;
    probs_with(assembly[_i].text, assembly[_i].conf, assembly[_i].amb, &p);
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

enum { DONE, ADD, RESULT, RESET };

/* One step of a fusion case. ADD: @times reads of @text at @conf with @amb (and @size_type), each
 * assembling to @text (with a confidence above @above); RESULT: the fusion's result, @confirmed
 * only or not, is @n_reads reads (or more, with @more), the first ones of @codes, the first read
 * of @size_type (NULL: not checked) and a confidence above @above (and below @below, when not
 * 0); RESET: forgets its reads. */
typedef struct {
    int kind, times;
    const char *text;
    double conf;
    Amb amb[2];
    const char *size_type;
    double above, below;
    gboolean confirmed, more;
    int n_reads;
    const char *codes[2];
} FusionStep;

static const struct {
    const char *what;
    FusionStep steps[9];
} fusions[] = {
    /* Three weak reads of MSKU3866036 (the last two digits only 45% sure each time, the rest of
     * their probability spread over the other classes) and one confident read of the valid but
     * wrong MSKU3866083. */
    {"three weak agreeing reads beat one confident wrong read",
     {
         {ADD, 3, "MSKU3866036", 0.9,
          {{9, '3', 0.45, '8', 0.55 / 35}, {10, '6', 0.45, '3', 0.55 / 35}}},
         {ADD, 1, "MSKU3866083", 0.97, NO_AMB, .above = 0.9},
         {RESULT, .confirmed = FALSE, .n_reads = 1, .more = TRUE, .codes = {"MSKU3866036"}},
     }},
    {"one blurred frame is not confirmed, more agreeing evidence confirms it",
     {
         {ADD, 1, "CSQU3054383", 0.35, NO_AMB},
         {RESULT, .confirmed = TRUE, .n_reads = 0},
         {RESULT, .confirmed = FALSE, .n_reads = 1},
         {ADD, 3, "CSQU3054383", 0.35, NO_AMB},
         {RESULT, .confirmed = TRUE, .n_reads = 1, .codes = {"CSQU3054383"}},
     }},
    /* A gate transaction of generated frames (never-used seed 99972, transaction 84): one
     * view read DUTU0670185 at 0.98, the other a window a letter off, JTUJ0670185 at 0.84,
     * which passes its check digit too; 4 owner letters apart, they made two groups. */
    {"two owner codes of one serial and check digit are one container",
     {
         {ADD, 1, "DUTU0670185", 0.98, NO_AMB},
         {ADD, 1, "JTUJ0670185", 0.8, NO_AMB},
         {RESULT, .confirmed = TRUE, .n_reads = 1, .codes = {"DUTU0670185"}, .above = 0.8},
         {RESULT, .confirmed = FALSE, .n_reads = 1, .codes = {"DUTU0670185"}},
     }},
    /* Never-used seed 99991, transaction 109: LTLU9834820 painted, one view read it at 0.970
     * and the other LTLU8348207 at 0.971 (a serial window a place on). One of the two is
     * wrong, and nothing says which: neither is confirmed. */
    {"two readings of one container equally sure confirm neither",
     {
         {ADD, 1, "LTLU8348207", 0.97, NO_AMB},
         {ADD, 1, "LTLU9834820", 0.97, NO_AMB},
         {RESULT, .confirmed = TRUE, .n_reads = 0},
         {RESULT, .confirmed = FALSE, .n_reads = 1, .below = 0.8},
     }},
    /* The same seed, transaction 429: YQCU6103762 at 0.98, and the other view's window that
     * took a mark before the serial and left out the check digit, YQCU7610376 at 0.80. */
    {"a serial moved a place is one container",
     {
         {ADD, 1, "YQCU6103762", 0.98, NO_AMB},
         {ADD, 1, "YQCU7610376", 0.9, NO_AMB},
         {RESULT, .confirmed = TRUE, .n_reads = 1, .codes = {"YQCU6103762"}},
     }},
    {"two containers are kept apart",
     {
         {ADD, 1, "BEAU2656931", 0.9, NO_AMB, "22G1"},
         {ADD, 1, "TRHU1700369", 0.9, NO_AMB, "22G1"},
         {ADD, 2, "BEAU2656931", 0.9, NO_AMB, "22G1"},
         {ADD, 1, "TRHU1700369", 0.9, NO_AMB, "22G1"},
         {RESULT, .confirmed = TRUE, .n_reads = 2, .codes = {"BEAU2656931", "TRHU1700369"},
          .size_type = "22G1"},
         {RESET},
         {RESULT, .confirmed = FALSE, .n_reads = 0},
     }},
    /* A recognizer that keeps reading the S of PSTU as '3' (0.7; not a look-alike the assembly
     * folds) and S only at 0.2: each read alone assembles to the code, since a digit cannot
     * stand there; pooling 33 of them must not turn that evidence against the code. */
    {"many reads that keep taking a letter for a digit",
     {
         {ADD, 33, "PSTU2001016", 0.95, {{1, '3', 0.7, 'S', 0.2}, {-1}}},
         {RESULT, .confirmed = TRUE, .n_reads = 1, .codes = {"PSTU2001016"}, .above = 0.9},
     }},
};

START_TEST(test_fusion)
{
    const char *what = fusions[_i].what;
    OcrFusion *f = ocr_fusion_new(NULL);
    for (const FusionStep *st = fusions[_i].steps; st->kind != DONE; st++) {
        if (st->kind == ADD) {
            for (int n = 0; n < st->times; n++) {
                OcrCodeProbs p;
                probs_with(st->text, st->conf, st->amb, &p);
                OcrRead r = read_of(&p);
                ck_assert_msg(strcmp(r.code, st->text) == 0, "%s: %s read as %s", what, st->text,
                              r.code);
                ck_assert_msg(r.confidence > st->above, "%s: %s at %f", what, r.code,
                              r.confidence);
                if (st->size_type)
                    g_strlcpy(r.size_type, st->size_type, sizeof r.size_type);
                ocr_fusion_add(f, &r);
            }
        } else if (st->kind == RESET) {
            ocr_fusion_reset(f);
        } else {
            OcrReads out;
            ocr_fusion_result(f, st->confirmed, &out);
            ck_assert_msg(out.n_reads == st->n_reads || (st->more && out.n_reads > st->n_reads),
                          "%s: step %d: %d reads", what, (int)(st - fusions[_i].steps),
                          out.n_reads);
            for (int k = 0; k < 2 && st->codes[k]; k++)
                ck_assert_msg(strcmp(out.reads[k].code, st->codes[k]) == 0, "%s: read %d is %s",
                              what, k, out.reads[k].code);
            if (st->size_type)
                ck_assert_str_eq(out.reads[0].size_type, st->size_type);
            if (st->above > 0)
                ck_assert_msg(out.reads[0].confidence > st->above, "%s: %f", what,
                              out.reads[0].confidence);
            if (st->below > 0)
                ck_assert_msg(out.reads[0].confidence < st->below, "%s: %f", what,
                              out.reads[0].confidence);
        }
    }
    ocr_fusion_free(f);
    ocr_fusion_free(NULL);
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

static const TestutilTest tests[] = {
    {&test_assembly, G_N_ELEMENTS(assembly)},
    {&test_size_type_assembly_picks_a_valid_code},
    {&test_fusion, G_N_ELEMENTS(fusions)},
    {&test_class_index_round_trips},
};

TESTUTIL_MAIN("assemble", "core", 0, TESTUTIL_TESTS(tests))
