/* assemble.c: check-digit-constrained code assembly and multi-read fusion (pure, no I/O). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ocr-private.h"

G_DEFINE_QUARK(ocr-error-quark, ocr_error)

int ocr_class_index(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return 10 + (c - 'A');
    return -1;
}

char ocr_class_char(int index)
{
    if (index >= 0 && index < 10)
        return (char)('0' + index);
    if (index >= 10 && index < OCR_N_CLASSES)
        return (char)('A' + index - 10);
    return '?';
}

static gboolean allowed(int pos, int k)
{
    if (pos < 3)
        return k >= 10;
    if (pos == 3)
        return k == ocr_class_index('U') || k == ocr_class_index('J') || k == ocr_class_index('Z');
    return k < 10;
}

/* Letters and digits that look alike in container fonts. At a position that allows only one
 * kind, the mass the recognizer gave the look-alike of the other kind counts for its twin. */
static const char lookalikes[][2] = {
    {'O', '0'}, {'D', '0'}, {'Q', '0'}, {'I', '1'}, {'Z', '2'}, {'S', '5'},
    {'G', '6'}, {'B', '8'}, {'T', '7'}, {'A', '4'},
};

/* The probabilities of position @pos restricted to the classes allowed there, look-alikes
 * folded in. The mass still outside is renormalized away, but only down to a tenth: a position
 * clearly of the wrong kind is evidence that this is not a code. */
#define SEEN_LETTER 0.2 /* the odds under which an owner letter counts as guessed */
#define TWIN_FLOOR 1e-3 /* the letter odds below which twins of one digit count alike */

static void restricted(const float *p, int pos, double *out, double *folded)
{
    double q[OCR_N_CLASSES];
    for (int k = 0; k < OCR_N_CLASSES; k++)
        q[k] = p[k] > 0 ? p[k] : 0;
    /* A digit with several letter twins (0: O, D, Q) shares its mass among them as the
     * recognizer's own letter odds say: a plain 0 is no evidence for D over O. */
    double twins[OCR_N_CLASSES] = {0};
    for (size_t i = 0; i < G_N_ELEMENTS(lookalikes); i++) {
        int letter = ocr_class_index(lookalikes[i][0]), digit = ocr_class_index(lookalikes[i][1]);
        if (pos < 4 && allowed(pos, letter))
            twins[digit] += q[letter] + TWIN_FLOOR;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(lookalikes); i++) {
        int letter = ocr_class_index(lookalikes[i][0]), digit = ocr_class_index(lookalikes[i][1]);
        if (pos >= 4 && !allowed(pos, letter))
            q[digit] += p[letter] > 0 ? p[letter] : 0;
        else if (pos < 4 && !allowed(pos, digit) && allowed(pos, letter))
            q[letter] += (p[digit] > 0 ? p[digit] : 0) * (p[letter] > 0 ? p[letter] + TWIN_FLOOR
                                                                       : TWIN_FLOOR) /
                         twins[digit];
    }
    double sum = 0;
    for (int k = 0; k < OCR_N_CLASSES; k++)
        if (allowed(pos, k))
            sum += q[k];
    memcpy(folded, q, sizeof q);
    double norm = sum > 0.1 ? sum : 0.1;
    for (int k = 0; k < OCR_N_CLASSES; k++)
        out[k] = allowed(pos, k) && q[k] > 0 ? q[k] / norm : 0;
}

void ocr__fold(const float *p, int pos, double *q)
{
    double out[OCR_N_CLASSES];
    restricted(p, pos, out, q);
}

gboolean ocr__allowed(int pos, int k)
{
    return allowed(pos, k);
}

double ocr_assemble(const OcrCodeProbs *probs, char code[OCR_CODE_LEN + 1])
{
    double q[OCR_CODE_LEN][OCR_N_CLASSES], folded[OCR_CODE_LEN][OCR_N_CLASSES];
    for (int i = 0; i < OCR_CODE_LEN; i++)
        restricted(probs->p[i], i, q[i], folded[i]);

    /* Viterbi (max) and forward (sum) over the check sum modulo 11 of the first 10 positions. */
    double best[11], total[11];
    int back[10][11][2]; /* previous state, class */
    for (int s = 0; s < 11; s++) {
        best[s] = -INFINITY;
        total[s] = 0;
    }
    best[0] = 0;
    total[0] = 1;
    for (int i = 0; i < 10; i++) {
        double nbest[11], ntotal[11];
        for (int s = 0; s < 11; s++) {
            nbest[s] = -INFINITY;
            ntotal[s] = 0;
            back[i][s][0] = back[i][s][1] = -1;
        }
        for (int k = 0; k < OCR_N_CLASSES; k++) {
            if (q[i][k] <= 0)
                continue;
            int w = (iso6346_char_value(ocr_class_char(k)) << i) % 11;
            double lq = log(q[i][k]);
            for (int s = 0; s < 11; s++) {
                int t = (s + w) % 11;
                ntotal[t] += total[s] * q[i][k];
                if (best[s] + lq > nbest[t]) {
                    nbest[t] = best[s] + lq;
                    back[i][t][0] = s;
                    back[i][t][1] = k;
                }
            }
        }
        memcpy(best, nbest, sizeof best);
        memcpy(total, ntotal, sizeof total);
    }
    double best_score = -INFINITY, z = 0;
    int best_state = -1;
    for (int s = 0; s < 11; s++) {
        int d = s % 10; /* remainder 10 gives check digit 0 */
        if (q[10][d] <= 0 || best[s] == -INFINITY)
            continue;
        z += total[s] * q[10][d];
        double sc = best[s] + log(q[10][d]);
        if (sc > best_score) {
            best_score = sc;
            best_state = s;
        }
    }
    if (best_state < 0) {
        code[0] = '\0';
        return 0;
    }
    code[OCR_CODE_LEN] = '\0';
    code[10] = (char)('0' + best_state % 10);
    int s = best_state;
    for (int i = 9; i >= 0; i--) {
        code[i] = ocr_class_char(back[i][s][1]);
        s = back[i][s][0];
    }
    double share = z > 0 ? exp(best_score) / z : 0;
    double geo = exp(best_score / OCR_CODE_LEN);
    /* Every letter shares its value modulo 11 with one or two others (C, M, W): an owner
     * letter the recognizer hardly saw, chosen because the check digit wants its value, is a
     * guess among those, however the odds of the rest renormalize. So is a category letter
     * (U, J or Z) it hardly saw: a window that has lost a character takes the next one there. */
    double guess = 1;
    for (int i = 0; i < 4; i++) {
        double seen = folded[i][ocr_class_index(code[i])];
        if (seen < SEEN_LETTER)
            guess *= seen / SEEN_LETTER;
    }
    return geo * share * guess;
}

double ocr_assemble_size_type(const float p[4][OCR_N_CLASSES], char out[5])
{
    /* Few valid codes: try them all. */
    static const char lengths[] = "1234ABCDEFGHKLMNP";
    static const char heights[] = "0245689CDEFLMNP";
    static const char types[] = "GVBSRHUPTA";
    double best = 0;
    out[0] = '\0';
    for (const char *l = lengths; *l; l++) {
        double pl = p[0][ocr_class_index(*l)];
        if (pl <= best * best * best * best)
            continue;
        for (const char *h = heights; *h; h++) {
            double ph = pl * p[1][ocr_class_index(*h)];
            if (ph <= 0)
                continue;
            for (const char *t = types; *t; t++) {
                double pt = ph * p[2][ocr_class_index(*t)];
                if (pt <= 0)
                    continue;
                for (char d = '0'; d <= '9'; d++) {
                    double pd = pt * p[3][ocr_class_index(d)];
                    double g = pd > 0 ? pow(pd, 0.25) : 0;
                    if (g <= best)
                        continue;
                    char st[5] = {*l, *h, *t, d, '\0'};
                    if (!iso6346_size_type_valid(st))
                        continue;
                    best = g;
                    memcpy(out, st, 5);
                }
            }
        }
    }
    return best;
}

/* Fusion. */
typedef struct {
    double logp[OCR_CODE_LEN][OCR_N_CLASSES];
    int n;
    OcrRead best_read; /* the most confident read of the group */
    GHashTable *size_types; /* "22G1" -> count */
    OcrRead fused;          /* cached result of the last assembly */
} FusionGroup;

struct _OcrFusion {
    OcrFusionOptions opts;
    GPtrArray *groups; /* FusionGroup */
};

#define FUSION_MAX_GROUPS 64

void ocr_fusion_options_init(OcrFusionOptions *opts)
{
    opts->floor = 0.05;
    opts->min_confidence = 0.8;
    opts->min_reads = 1;
    opts->min_read_confidence = 0.0;
}

static void group_free(gpointer data)
{
    FusionGroup *g = data;
    g_hash_table_destroy(g->size_types);
    g_free(g);
}

OcrFusion *ocr_fusion_new(const OcrFusionOptions *opts)
{
    OcrFusion *f = g_new0(OcrFusion, 1);
    if (opts)
        f->opts = *opts;
    else
        ocr_fusion_options_init(&f->opts);
    if (f->opts.floor <= 0 || f->opts.floor >= 1)
        f->opts.floor = 0.05;
    f->groups = g_ptr_array_new_with_free_func(group_free);
    return f;
}

void ocr_fusion_free(OcrFusion *fusion)
{
    if (!fusion)
        return;
    g_ptr_array_unref(fusion->groups);
    g_free(fusion);
}

void ocr_fusion_reset(OcrFusion *fusion)
{
    g_ptr_array_set_size(fusion->groups, 0);
}

static int hamming(const char *a, const char *b)
{
    int d = 0;
    for (int i = 0; i < OCR_CODE_LEN; i++)
        d += a[i] != b[i];
    return d;
}

static void group_assemble(FusionGroup *g)
{
    OcrRead *r = &g->fused;
    *r = g->best_read;
    if (g->n == 1)
        return; /* one read is its own evidence: nothing to pool */
    for (int i = 0; i < OCR_CODE_LEN; i++) {
        double m = -INFINITY, sum = 0;
        for (int k = 0; k < OCR_N_CLASSES; k++)
            m = MAX(m, g->logp[i][k]);
        for (int k = 0; k < OCR_N_CLASSES; k++)
            sum += exp(g->logp[i][k] - m);
        for (int k = 0; k < OCR_N_CLASSES; k++)
            r->probs.p[i][k] = (float)(exp(g->logp[i][k] - m) / sum);
    }
    r->confidence = ocr_assemble(&r->probs, r->code);
    /* The size/type seen most often, ties to the most confident read's. */
    GHashTableIter it;
    gpointer key, value;
    guint best = 0;
    g_hash_table_iter_init(&it, g->size_types);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        guint c = GPOINTER_TO_UINT(value);
        if (c > best || (c == best && strcmp(key, g->best_read.size_type) == 0)) {
            best = c;
            g_strlcpy(r->size_type, key, sizeof r->size_type);
        }
    }
}

void ocr_fusion_add(OcrFusion *fusion, const OcrRead *read)
{
    if (read->confidence < fusion->opts.min_read_confidence)
        return;
    /* The read's own best code: its assembled code, else the raw best characters. */
    char code[OCR_CODE_LEN + 1];
    if (strlen(read->code) == OCR_CODE_LEN) {
        memcpy(code, read->code, sizeof code);
    } else {
        for (int i = 0; i < OCR_CODE_LEN; i++) {
            int bk = 0;
            for (int k = 1; k < OCR_N_CLASSES; k++)
                if (read->probs.p[i][k] > read->probs.p[i][bk])
                    bk = k;
            code[i] = ocr_class_char(bk);
        }
        code[OCR_CODE_LEN] = '\0';
    }
    FusionGroup *g = NULL;
    int best_d = 4;
    for (guint i = 0; i < fusion->groups->len; i++) {
        FusionGroup *c = g_ptr_array_index(fusion->groups, i);
        int d = hamming(code, c->fused.code[0] ? c->fused.code : c->best_read.code);
        if (d < best_d) {
            best_d = d;
            g = c;
        }
    }
    if (!g) {
        if (fusion->groups->len >= FUSION_MAX_GROUPS)
            return; /* capped: a gate sees a few containers, not 64 */
        g = g_new0(FusionGroup, 1);
        g->size_types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g->best_read = *read;
        memcpy(g->best_read.code, code, sizeof code);
        g_ptr_array_add(fusion->groups, g);
    } else if (read->confidence > g->best_read.confidence) {
        g->best_read = *read;
        memcpy(g->best_read.code, code, sizeof code);
    }
    /* Pool what each position can be: a letter the recognizer keeps taking for its digit
     * look-alike (S read as 5) counts for the letter at a letter position, instead of being
     * outvoted a little more by every frame pooled. */
    for (int i = 0; i < OCR_CODE_LEN; i++) {
        double q[OCR_N_CLASSES], folded[OCR_N_CLASSES];
        restricted(read->probs.p[i], i, q, folded);
        for (int k = 0; k < OCR_N_CLASSES; k++)
            g->logp[i][k] += log((1.0 - fusion->opts.floor) * q[k] +
                                 fusion->opts.floor / OCR_N_CLASSES);
    }
    g->n++;
    if (read->size_type[0]) {
        gpointer old = g_hash_table_lookup(g->size_types, read->size_type);
        g_hash_table_insert(g->size_types, g_strdup(read->size_type),
                            GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
    }
    group_assemble(g);
}

void ocr_fusion_add_reads(OcrFusion *fusion, const OcrReads *reads)
{
    for (int i = 0; i < reads->n_reads && i < OCR_MAX_READS; i++)
        ocr_fusion_add(fusion, &reads->reads[i]);
}

/* Whether the serial and check digit of @b are those of @a moved @s places along, the owner
 * code the same. */
static gboolean serial_moved(const char *a, const char *b, int s)
{
    if (strncmp(a, b, 4) != 0)
        return FALSE;
    for (int j = 4; j + s < OCR_CODE_LEN; j++)
        if (a[j + s] != b[j])
            return FALSE;
    return TRUE;
}

/* Whether two codes fused apart are one container (the same code, or read two ways:
 * ocr_fusion_result()). */
static gboolean one_container(const char *a, const char *b)
{
    if (strcmp(a + 4, b + 4) == 0)
        return TRUE;
    for (int s = 1; s <= 2; s++)
        if (serial_moved(a, b, s) || serial_moved(b, a, s))
            return TRUE;
    return FALSE;
}

static int compare_reads(const void *a, const void *b)
{
    const OcrRead *x = a, *y = b;
    return (x->confidence < y->confidence) - (x->confidence > y->confidence);
}

typedef struct {
    OcrRead fused;
    int n; /* reads pooled */
} Fused;

static int compare_fused(const void *a, const void *b)
{
    return compare_reads(&((const Fused *)a)->fused, &((const Fused *)b)->fused);
}

void ocr_fusion_result(const OcrFusion *fusion, gboolean confirmed_only, OcrReads *out)
{
    out->n_reads = 0;
    Fused *all = g_new(Fused, MAX(fusion->groups->len, 1));
    guint n = 0;
    for (guint i = 0; i < fusion->groups->len; i++) {
        FusionGroup *g = g_ptr_array_index(fusion->groups, i);
        if (g->fused.code[0])
            all[n++] = (Fused){g->fused, g->n};
    }
    qsort(all, n, sizeof *all, compare_fused);
    /* Two groups can converge on one code: keep the first (most confident). Two codes can be
     * one container read two ways, further apart than reads are grouped by: one serial and
     * check digit under two owner codes (DUTU0670185 read in one view as JTUJ0670185, a window
     * a letter off), or one owner code with the serial moved a place or two (YQCU6103762 read
     * as YQCU7610376, a mark before the serial taken, the check digit left out). Two
     * containers so alike in one transaction or track are a chance of about one in a million,
     * so at most one of the two is right: the first is kept, at the odds that it is the right
     * one of the two (each read right with its confidence, apart), c1 (1 - c2) / (1 - c1 c2).
     * Two views that read LTLU9834820 at 0.970 and LTLU8348207 at 0.971 (never-used seed
     * 99991, transaction 109) confirm neither; DUTU0670185 at 0.98 against JTUJ0670185 at
     * 0.84 stays at 0.89. Only then is a code confirmed or not. */
    for (guint i = 0; i < n && out->n_reads < OCR_MAX_READS; i++) {
        gboolean dup = FALSE;
        for (guint j = 0; j < i && !dup; j++)
            dup = one_container(all[j].fused.code, all[i].fused.code);
        if (dup)
            continue;
        OcrRead r = all[i].fused;
        double rival = 0;
        for (guint j = i + 1; j < n; j++)
            if (strcmp(all[j].fused.code, r.code) != 0 &&
                one_container(all[j].fused.code, r.code))
                rival = MAX(rival, all[j].fused.confidence);
        if (rival > 0) {
            double c = r.confidence, den = 1 - c * rival;
            r.confidence = den > 1e-12 ? c * (1 - rival) / den : 0;
        }
        if (confirmed_only && (r.confidence < fusion->opts.min_confidence ||
                               all[i].n < fusion->opts.min_reads))
            continue;
        out->reads[out->n_reads++] = r;
    }
    g_free(all);
}
