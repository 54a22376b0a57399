/* candidates.c: the candidate codes of one pass: windows of 11 characters on a line or in a
 * column, an owner row over a serial row (or beside it), an M or W joined from two pieces or
 * read wider in a column, the size/type code; the best read of each place kept. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pipeline.h"

/* How far the serial may start after the owner code on one line, in character heights: on
 * doors whose panels carry the owner code and the serial apart, the seam lies between them. */
#define SERIAL_BESIDE 8.5
/* How far, in character heights, the serial's first digit may stand off the owner code's line
 * (extended along its slope from its first and last letters). Two door panels are painted
 * apart, and the slope of 4 letters is a rough one: on the 700 split-panel frames of the
 * tuning seeds the serial's first digit stands up to 0.6 heights off it (1% over 0.3, by the
 * painted glyphs' boxes), and at 0.3 four of their codes were lost. A size/type row below
 * stands 1.5 heights or more away. */
#define SERIAL_OFF_LINE 0.6
/* How much longer than its characters, at each end, the line reader reads a row of a code
 * read as two rows, in character heights (as the components' lines, CHAIN_LINE_MARGIN). */
#define ROW_MARGIN 1.0
/* The fewest characters a line of the components must hold to be kept for the line reader. */
#define CHAIN_LINE_MIN 8
/* A piece of a wide letter (widen_column_pieces()): under this of its height wide. */
#define WIDE_PIECE 0.75
/* How sure the network must be of an M or W read from pieces. */
#define WIDE_LETTER_SURE 0.8f

void ocr__classify(Frame *f, Comp *c)
{
    if (c->classified)
        return;
    int s = f->scale;
    ocr__classify_box(f, c->x * s, c->y * s, c->w * s, c->h * s, c->bright, c->prob);
    c->classified = 1;
}

/* A check digit whose box touches it is one component: read the inside of the box too and
 * keep whichever looks more like a character. */
static const float *check_digit_prob(Frame *f, Comp *c)
{
    ocr__classify(f, c);
    if (!c->inner_classified) {
        /* The box's line and margin are 0.15-0.35 of the digit height: try a few cuts. */
        static const int cuts[][2] = {{6, 7}, {4, 6}, {5, 5}};
        int s = f->scale;
        c->inner_prob[OCR__JUNK] = 2.0f;
        for (guint k = 0; k < G_N_ELEMENTS(cuts); k++) {
            float prob[OCR__N_OUT];
            int bx = c->w * s / cuts[k][0], by = c->h * s / cuts[k][1];
            ocr__classify_box(f, c->x * s + bx, c->y * s + by, c->w * s - 2 * bx, c->h * s - 2 * by,
                         c->bright, prob);
            if (prob[OCR__JUNK] < c->inner_prob[OCR__JUNK])
                memcpy(c->inner_prob, prob, sizeof prob);
        }
        c->inner_classified = 1;
    }
    return c->inner_prob[OCR__JUNK] < c->prob[OCR__JUNK] ? c->inner_prob : c->prob;
}

/* A code whose serial digit only the check digit gives (lost, or unseen) is kept from
 * LOST_MIN_CONFIDENCE and with every other character read at LOST_CLEAR or more. */
#define LOST_MIN_CONFIDENCE 0.6
#define LOST_CLEAR 0.9

/* The smallest probability the recognizer gave a character of the code read in @r, over the
 * positions @idx holds a component for: a code whose lost digit only the check digit gives is
 * taken only when every other character is clear. */
static double least_clear(const OcrRead *r, const int *idx)
{
    double least = 1;
    for (int i = 0; i < OCR_CODE_LEN; i++) {
        if (idx[i] < 0)
            continue;
        int k = ocr_class_index(r->code[i]);
        least = MIN(least, k >= 0 ? r->probs.p[i][k] : 0);
    }
    return least;
}

/* The confidence factor one character's junk probability @pj contributes at a position that
 * is not the check digit's (see read_sequence()). */
static double junk_factor(double pj)
{
    double l = log(MAX(1.0 - pj, 1e-6));
    return exp(l / OCR_CODE_LEN + (pj > 0.8 ? l : 0));
}

/* In the pass of dark surroundings (binarize.c), a code is read only when the network calls no
 * character junk at DARK_JUNK or more and reads each at DARK_CLEAR or more: that pass's low
 * contrast takes in noise beside the paint. Seed 93202 frame 87: WEYU0891910 at 0.81, a speck
 * before the check digit read as 1 (junk 0.47), over the right WEYU4089190; frame 138:
 * IWGU7498652 at 0.79, a rib beside the S read as I (0.05: a 1 to the network); seed 61000
 * frame 250: TTIU7379696 at 0.89, glare between T and U read as I at 0.42, over FTTU7379696
 * (hence 0.5, which lost one of the 12 tuning frames the pass gained at 0.3). */
#define DARK_JUNK 0.3
#define DARK_CLEAR 0.5

/* Whether the network reads each of the 11 characters @idx of @f at DARK_CLEAR or more as the
 * character @r's code has there. */
static gboolean dark_clear(Frame *f, const int *idx, const OcrRead *r)
{
    Comp *c = (Comp *)f->comps->data;
    for (int i = 0; i < OCR_CODE_LEN; i++) {
        const float *prob =
            i == OCR_CODE_LEN - 1 ? check_digit_prob(f, &c[idx[i]]) : c[idx[i]].prob;
        if (prob[ocr_class_index(r->code[i])] < DARK_CLEAR)
            return FALSE;
    }
    return TRUE;
}

/* A serial digit read under UNSEEN_DIGIT with junk odds of JUNKISH or more counts as junk
 * (read_sequence()). Chosen on the tuning seeds 61000-61020 and 93101-93202 (4,900 frames): a
 * box's edge taken as a serial's first digit read 0.00-0.01 with junk 0.40-0.79, where a
 * right code's faint first digit read 0.06 with junk 0.15; 4 wrong codes fewer (2 of them
 * right instead), no right code lost. */
#define UNSEEN_DIGIT 0.05f
#define JUNKISH 0.3f

/* The assembly folds look-alikes (O and 0, I and 1, S and 5, ...) into the kind a position
 * allows: it mends the few glyphs of a font the network reads as the other kind. A window with
 * more than OTHER_KIND_MAX characters whose most probable reading is of the other kind (a digit
 * where a letter goes, or the reverse) is another marking: on tuning seed 93201 frame 220 the
 * digits 5542 of a weight marking, folded to SSAZ, with a plate's ZY 11842 as serial gave
 * SSAZ2011842 at 0.60 (6 of the other kind). On the tuning seeds 61000-61020 and 93101-93202
 * (4,900 frames) the right codes held at most 3 (13 held 2, 1 held 3: NSCU5141014). */
#define OTHER_KIND_MAX 3

/* How many of the 11 positions of @r the network reads most probably as the other kind. */
static int other_kind(const OcrRead *r)
{
    int n = 0;
    for (int i = 0; i < OCR_CODE_LEN; i++) {
        int top = 0;
        for (int k = 1; k < OCR_N_CLASSES; k++)
            if (r->probs.p[i][k] > r->probs.p[i][top])
                top = k;
        n += i < 4 ? top < 10 : top >= 10;
    }
    return n;
}

/* Whether the network, reading @prob at serial position @pos, sees no digit where the check
 * digit chose digit @k: under UNSEEN_DIGIT for it, and in part junk (JUNKISH or more), or most
 * probably a letter that is no look-alike of it (its odds under UNSEEN_DIGIT with its
 * look-alikes' counted: an O is a 0). The letter: on tuning seed 93201 frame 144 the serial
 * box's edge beside the owner box's, read as a letter (0 at 0.00, junk 0.29), was made a 0:
 * CMCJ0400366 at 0.47, the serial's last digit taken for the check digit (CMCJ4003665
 * painted). On the tuning seeds 61000-61020 and 93101-93202 (4,900 frames) it read that frame
 * right and no other otherwise. */
static gboolean digit_unseen(const float *prob, int pos, int k)
{
    if (prob[k] >= UNSEEN_DIGIT)
        return FALSE;
    if (prob[OCR__JUNK] >= JUNKISH)
        return TRUE;
    int top = 0;
    for (int j = 1; j < OCR_N_CLASSES; j++)
        if (prob[j] > prob[top])
            top = j;
    double q[OCR_N_CLASSES];
    ocr__fold(prob, pos, q);
    return top >= 10 && q[k] < UNSEEN_DIGIT;
}

/* The best code over the 11 components @idx; returns its read in @r (confidence 0 if none).
 * Stops early, with confidence 0, once the junk odds of the characters read so far already keep
 * the read under the minimum confidence; *@killer is then the position of a character that
 * alone does so wherever it is in a window before the check digit (else -1). */
static void read_sequence(PsOcr *ocr, Frame *f, const int *idx, OcrOrientation orient,
                          OcrRead *r, int *killer)
{
    memset(r, 0, sizeof *r);
    if (killer)
        *killer = -1;
    Comp *c = (Comp *)f->comps->data;
    double not_junk = 0, clear_junk = 0;
    int x0 = G_MAXINT, y0 = G_MAXINT, x1 = 0, y1 = 0;
    double min_conf = ocr->opts.min_confidence;
    for (int i = 0; i < OCR_CODE_LEN; i++) {
        if (idx[i] < 0) { /* a serial digit the line lost: any digit */
            if (f->dark)
                return; /* no code: the noise of that pass's low contrast is a digit's match */
            for (int j = 0; j < OCR_N_CLASSES; j++)
                r->probs.p[i][j] = j < 10 ? 0.1f : 0.0f;
            continue;
        }
        Comp *k = &c[idx[i]];
        ocr__classify(f, k);
        const float *prob = i == OCR_CODE_LEN - 1 ? check_digit_prob(f, k) : k->prob;
        float pj = prob[OCR__JUNK];
        if (f->dark && pj > DARK_JUNK)
            return;
        not_junk += log(MAX(1.0 - pj, 1e-6));
        if (pj > 0.8f && i != OCR_CODE_LEN - 1) /* the boxed check digit is often unclear */
            clear_junk += log(MAX(1.0 - pj, 1e-6));
        if (min_conf > 0 && exp(not_junk / OCR_CODE_LEN + clear_junk) < min_conf) {
            if (killer && i != OCR_CODE_LEN - 1 && junk_factor(pj) < min_conf)
                *killer = i;
            r->confidence = 0;
            r->code[0] = '\0';
            return;
        }
        for (int j = 0; j < OCR_N_CLASSES; j++)
            r->probs.p[i][j] = prob[j] / MAX(1.0f - pj, 1e-6f);
        x0 = MIN(x0, k->x);
        y0 = MIN(y0, k->y);
        x1 = MAX(x1, k->x + k->w);
        y1 = MAX(y1, k->y + k->h);
    }
    /* The mean not-junk odds, and each position the network calls junk counts in full: a
     * neighbouring mark taken into the code must not pass. */
    r->confidence = ocr_assemble(&r->probs, r->code) * exp(not_junk / OCR_CODE_LEN) *
                    exp(clear_junk);
    if (r->code[0] && other_kind(r) > OTHER_KIND_MAX) {
        r->confidence = 0;
        r->code[0] = '\0';
        return;
    }
    if (f->dark && r->code[0] && !dark_clear(f, idx, r)) {
        r->confidence = 0;
        r->code[0] = '\0';
        return;
    }
    /* A serial digit the network sees as no digit at all (digit_unseen(): in part junk, or a
     * letter) is a box's edge or a mark beside the serial that the check digit made a digit
     * of: its junk odds count in full, as a clear junk's.
     * The check digit gave that digit and checks nothing else: as with a lost digit, the code
     * is kept only when sure and every other character clear. */
    int unseen[OCR_CODE_LEN];
    memcpy(unseen, idx, sizeof unseen);
    gboolean any_unseen = FALSE;
    for (int i = 4; r->code[0] && i < OCR_CODE_LEN - 1; i++) {
        if (idx[i] < 0)
            continue;
        const float *prob = c[idx[i]].prob;
        if (digit_unseen(prob, i, ocr_class_index(r->code[i]))) {
            r->confidence *= 1.0 - prob[OCR__JUNK];
            unseen[i] = -1;
            any_unseen = TRUE;
        }
    }
    if (any_unseen && ocr->opts.unseen_digits &&
        (r->confidence < LOST_MIN_CONFIDENCE || least_clear(r, unseen) < LOST_CLEAR)) {
        r->confidence = 0;
        r->code[0] = '\0';
        return;
    }
    if (ocr->opts.debug && r->confidence > 0.01) {
        GString *d = g_string_new(NULL);
        for (int i = 0; i < OCR_CODE_LEN; i++) {
            if (idx[i] < 0) {
                g_string_append_printf(d, " %c:lost", r->code[i]);
                continue;
            }
            Comp *k = &c[idx[i]];
            const float *prob = i == OCR_CODE_LEN - 1 ? check_digit_prob(f, k) : k->prob;
            int ci = ocr_class_index(r->code[i]);
            g_string_append_printf(d, " %c:%.2f/j%.2f", r->code[i], ci >= 0 ? prob[ci] : 0,
                                   prob[OCR__JUNK]);
        }
        g_printerr("  seq%s\n", d->str);
        g_string_free(d, TRUE);
    }
    if (ocr->opts.owners && !iso6346_owners_contains(ocr->opts.owners, r->code))
        r->confidence *= 0.5;
    int s = f->scale;
    r->bbox[0] = x0 * s;
    r->bbox[1] = y0 * s;
    r->bbox[2] = (x1 - x0) * s;
    r->bbox[3] = (y1 - y0) * s;
    r->orientation = orient;
}

/* The size/type code from 4 components. */
static double read_size_type(Frame *f, const int *idx, char out[5])
{
    Comp *c = (Comp *)f->comps->data;
    float p[4][OCR_N_CLASSES];
    for (int i = 0; i < 4; i++) {
        ocr__classify(f, &c[idx[i]]);
        for (int j = 0; j < OCR_N_CLASSES; j++)
            p[i][j] = c[idx[i]].prob[j];
    }
    return ocr_assemble_size_type(p, out);
}
double ocr__box_overlap(const int a[4], const int b[4])
{
    int ix = MIN(a[0] + a[2], b[0] + b[2]) - MAX(a[0], b[0]);
    int iy = MIN(a[1] + a[3], b[1] + b[3]) - MAX(a[1], b[1]);
    double smaller = MIN((double)a[2] * a[3], (double)b[2] * b[3]);
    return ix > 0 && iy > 0 && smaller > 0 ? (double)ix * iy / smaller : 0;
}

/* The scale of the image being read to the frame's (ocr->weak_scale: a detector's region is
 * read enlarged or shrunk; the whole frame at 1), and a place @x, @y of that image in frame
 * pixels (weak_x0 + x / weak_scale). */
static double image_scale(const PsOcr *ocr)
{
    return ocr->weak_scale > 0 ? ocr->weak_scale : 1.0;
}

static double frame_x(const PsOcr *ocr, double x)
{
    return ocr->weak_x0 + x / image_scale(ocr);
}

static double frame_y(const PsOcr *ocr, double y)
{
    return ocr->weak_y0 + y / image_scale(ocr);
}

void ocr__keep_weak(PsOcr *ocr, const OcrRead *r)
{
    OcrRead w = *r;
    double u = image_scale(ocr);
    w.bbox[0] = (int)frame_x(ocr, r->bbox[0]);
    w.bbox[1] = (int)frame_y(ocr, r->bbox[1]);
    w.bbox[2] = (int)(r->bbox[2] / u + 0.5);
    w.bbox[3] = (int)(r->bbox[3] / u + 0.5);
    int n = ocr->n_weaks;
    for (int i = 0; i < n; i++)
        if (strcmp(ocr->weaks[i].code, w.code) == 0) {
            if (w.confidence <= ocr->weaks[i].confidence)
                return;
            memmove(&ocr->weaks[i], &ocr->weaks[i + 1], (n - i - 1) * sizeof w);
            memmove(&ocr->weak_places[i], &ocr->weak_places[i + 1],
                    (n - i - 1) * sizeof ocr->weak_places[0]);
            n--;
            break;
        }
    int at = n;
    while (at > 0 && ocr->weaks[at - 1].confidence < w.confidence)
        at--;
    if (at >= OCR__MAX_WEAKS)
        return;
    n = MIN(n, OCR__MAX_WEAKS - 1);
    memmove(&ocr->weaks[at + 1], &ocr->weaks[at], (n - at) * sizeof w);
    memmove(&ocr->weak_places[at + 1], &ocr->weak_places[at],
            (n - at) * sizeof ocr->weak_places[0]);
    ocr->weaks[at] = w;
    OcrWeakPlace *p = &ocr->weak_places[at];
    p->two_rows = ocr->adding_rows != NULL;
    for (int k = 0; ocr->adding_rows && k < 2; k++) {
        OcrLine l = ocr->adding_rows[k];
        l.x0 = frame_x(ocr, l.x0);
        l.y0 = frame_y(ocr, l.y0);
        l.x1 = frame_x(ocr, l.x1);
        l.y1 = frame_y(ocr, l.y1);
        l.char_h /= u;
        p->rows[k] = l;
    }
    p->in_column = ocr->adding_column != NULL;
    for (int k = 0; ocr->adding_column && k < OCR_CODE_LEN; k++) {
        const double *b = ocr->adding_column[k];
        double *o = p->column[k];
        o[0] = frame_x(ocr, b[0]);
        o[1] = frame_y(ocr, b[1]);
        o[2] = frame_x(ocr, b[2]);
        o[3] = frame_y(ocr, b[3]);
    }
    ocr->n_weaks = n + 1;
}

void ocr__add_read(PsOcr *ocr, OcrReads *out, const OcrRead *r)
{
    if (ocr->opts.debug && r->code[0])
        g_printerr("  read %s %.3f\n", r->code, r->confidence);
    if (!r->code[0])
        return;
    if (r->confidence < ocr->opts.min_confidence) {
        if (ocr->keep_weaks)
            ocr__keep_weak(ocr, r);
        return;
    }
    for (int i = 0; i < out->n_reads; i++) {
        OcrRead *o = &out->reads[i];
        /* Same code, or another code from the same place: keep the more confident. */
        if (strcmp(o->code, r->code) == 0 || ocr__box_overlap(o->bbox, r->bbox) > 0.3) {
            if (r->confidence > o->confidence)
                *o = *r;
            return;
        }
    }
    if (out->n_reads < OCR_MAX_READS) {
        out->reads[out->n_reads++] = *r;
        return;
    }
    /* Full: replace the weakest. */
    int w = 0;
    for (int i = 1; i < out->n_reads; i++)
        if (out->reads[i].confidence < out->reads[w].confidence)
            w = i;
    if (out->reads[w].confidence < r->confidence)
        out->reads[w] = *r;
}

/* Finds a 4-character line or column for the size/type near the code read @r. */
static void find_size_type(Frame *f, const int *code_idx, OcrOrientation orient, OcrRead *r)
{
    Comp *c = (Comp *)f->comps->data;
    guint n = f->comps->len;
    const Comp *first = &c[code_idx[0]], *last = &c[code_idx[10]];
    double h = first->h;
    double best = 0.5;
    for (guint i = 0; i < n; i++) {
        gboolean is_start = orient == OCR_VERTICAL ? c[i].up < 0 : c[i].left < 0;
        if (!is_start || c[i].bright != first->bright)
            continue;
        int chain[OCR__MAX_CHAIN];
        int len = ocr__chain_of(c, (int)i, orient == OCR_VERTICAL, chain, OCR__MAX_CHAIN);
        if (len < 4 || len > 6)
            continue; /* 4, or 4 linked to a mark or two after it */
        gboolean near;
        if (orient == OCR_VERTICAL)
            near = c[i].x > first->x + first->w && c[i].x < first->x + first->w + 5 * h &&
                   fabs((double)c[i].y - first->y) < 2 * h;
        else
            near = c[i].y > last->y + last->h * 0.5 && c[i].y < last->y + 3.5 * h &&
                   c[i].x > first->x - 2 * h && c[i].x < last->x + last->w;
        if (!near)
            continue;
        char st[5];
        double conf = read_size_type(f, chain, st);
        if (conf > best) {
            best = conf;
            memcpy(r->size_type, st, 5);
        }
    }
}

/* A code on one line is spaced as owner, serial, check digit: the widest gaps are after the
 * 4th character and before the 11th. A window whose widest gap is elsewhere is shifted (it
 * starts or ends in a neighbouring word). */
static gboolean spacing_fits(const Comp *c, const int *idx)
{
    double other = 0, h = 0;
    for (int i = 0; i < OCR_CODE_LEN; i++)
        h = MAX(h, c[idx[i]].h);
    for (int i = 0; i + 1 < OCR_CODE_LEN; i++) {
        double gap = c[idx[i + 1]].x - (c[idx[i]].x + c[idx[i]].w);
        if (i != 3 && i != 9)
            other = MAX(other, gap);
    }
    double g3 = c[idx[4]].x - (c[idx[3]].x + c[idx[3]].w);
    return !(other > 0.5 * h && other > 1.3 * g3);
}

/* The serial and check digit of a code whose owner code is apart on the same line: the widest
 * gap of the 7 is before the check digit. A window whose widest gap is inside it is shifted (it
 * ends in a size/type code painted to the right). Not for a serial on a row of its own, which
 * is often painted in two groups of three. */
static gboolean serial_spacing_fits(const Comp *c, const int *ser)
{
    double other = 0, h = 0;
    for (int i = 0; i < 7; i++)
        h = MAX(h, c[ser[i]].h);
    for (int i = 0; i + 1 < 6; i++)
        other = MAX(other, c[ser[i + 1]].x - (c[ser[i]].x + c[ser[i]].w));
    double g5 = c[ser[6]].x - (c[ser[5]].x + c[ser[5]].w);
    return !(other > 0.5 * h && other > 1.3 * g5);
}

/* The median of the 5 values @v. */
static double median_of_5(const double v[5])
{
    double s[5];
    memcpy(s, v, sizeof s);
    for (int i = 1; i < 5; i++) /* insertion sort of five */
        for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
            double t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    return s[2];
}

gboolean ocr__crowded_steps(const double step[5])
{
    double median = median_of_5(step);
    for (int i = 0; i < 5; i++)
        if (step[i] < OCR__CROWDED * median)
            return TRUE;
    return FALSE;
}

/* The centre-to-centre distance of components @a and @b along the line. */
static double pitch_of(const Comp *a, const Comp *b)
{
    return (b->x + b->w / 2.0) - (a->x + a->w / 2.0);
}

/* A serial's 6 digits are painted at one pitch, but a door bar or a panel seam may cross it: one
 * step over 1.55 times the median is either that or a digit the binarization lost. Only when
 * more characters follow the check digit on the line (@more_after: a size/type code painted
 * beside it) can the window then have taken its check digit from them: it is refused. */
static gboolean serial_pitch_fits(const Comp *c, const int *ser, gboolean more_after)
{
    if (!more_after)
        return TRUE;
    double p[5];
    for (int i = 0; i < 5; i++)
        p[i] = pitch_of(&c[ser[i]], &c[ser[i + 1]]);
    double median = median_of_5(p);
    for (int i = 0; i < 5; i++)
        if (p[i] > 1.55 * median)
            return FALSE;
    return TRUE;
}

/* Whether the component @prev, linked before a serial window @ser, is a digit at the serial's
 * pitch: the serial then starts earlier and the window is shifted. */
static gboolean digit_before(Frame *f, int prev, const int *ser)
{
    Comp *c = (Comp *)f->comps->data;
    if (prev < 0)
        return FALSE;
    double step = pitch_of(&c[prev], &c[ser[0]]);
    double pitch = MAX(pitch_of(&c[ser[0]], &c[ser[1]]), pitch_of(&c[ser[1]], &c[ser[2]]));
    if (step > 1.3 * pitch)
        return FALSE;
    ocr__classify(f, &c[prev]);
    int k = ocr__argmax_of(c[prev].prob);
    return k < 10 && c[prev].prob[k] > 0.5f;
}

/* The position along the line (@down: the column) of component @k's centre. */
static double centre_along(const Comp *k, gboolean down)
{
    return down ? k->y + k->h / 2.0 : k->x + k->w / 2.0;
}

/* Whether two neighbours of a serial's 6 digits @ser (components along the line, or down the
 * column) stand closer than its pitch allows (ocr__crowded_steps()). */
static gboolean crowded_serial(const Comp *c, const int *ser, gboolean down)
{
    double step[5];
    for (int i = 0; i < 5; i++)
        step[i] = centre_along(&c[ser[i + 1]], down) - centre_along(&c[ser[i]], down);
    return ocr__crowded_steps(step);
}

/* A window @w of 10 (owner code, 5 serial digits, check digit) whose serial holds, between two
 * of its digits, one step of two pitches and otherwise an even pitch: the code position
 * (5-8) of the digit the line lost there, else -1. */
static int lost_digit_slot(const Comp *c, const int *w, gboolean down)
{
    double step[4], rest[3];
    int wide = 0;
    for (int k = 0; k < 4; k++) {
        step[k] = centre_along(&c[w[5 + k]], down) - centre_along(&c[w[4 + k]], down);
        if (step[k] > step[wide])
            wide = k;
    }
    for (int k = 0, n = 0; k < 4; k++)
        if (k != wide)
            rest[n++] = step[k];
    double lo = MIN(rest[0], MIN(rest[1], rest[2])), hi = MAX(rest[0], MAX(rest[1], rest[2]));
    double pitch = (rest[0] + rest[1] + rest[2]) / 3;
    double size = down ? c[w[4]].h : c[w[4]].h * 0.5;
    if (pitch < size || hi > 1.15 * lo || step[wide] < 1.8 * pitch || step[wide] > 2.2 * pitch)
        return -1;
    /* The check digit stands apart (a space or its box): were it at the serial's pitch, the
     * window could be a serial painted in two groups whose check digit was lost, its last
     * digit then taken for the check digit. */
    double check_step = centre_along(&c[w[9]], down) - centre_along(&c[w[8]], down);
    if (check_step < 1.3 * pitch)
        return -1;
    /* Nor is the serial's first or last digit lost too (the owner code or the check digit a
     * pitch farther than a space): the wide step could then be a door bar across the serial. */
    if (check_step > 2.3 * pitch ||
        centre_along(&c[w[4]], down) - centre_along(&c[w[3]], down) > 2.2 * pitch)
        return -1;
    return 5 + wide;
}

/* Windows of 10 on a line or column that has lost one serial digit (lost_digit_slot()): the
 * check digit then gives it. Kept only at LOST_MIN_CONFIDENCE and with every character read
 * clearly, as the check digit no longer checks the others. */
static void read_lost_digit(PsOcr *ocr, Frame *f, const int *chain, int len, gboolean down,
                            OcrReads *out)
{
    const Comp *c = (const Comp *)f->comps->data;
    for (int s = 0; s + OCR_CODE_LEN - 1 <= len; s++) {
        const int *w = chain + s;
        int slot = lost_digit_slot(c, w, down);
        if (slot < 0)
            continue;
        int idx[OCR_CODE_LEN];
        for (int i = 0, j = 0; i < OCR_CODE_LEN; i++)
            idx[i] = i == slot ? -1 : w[j++];
        OcrRead r;
        read_sequence(ocr, f, idx, down ? OCR_VERTICAL : OCR_HORIZONTAL, &r, NULL);
        if (ocr->opts.debug && r.code[0])
            g_printerr("  lost digit at %d: %s %.3f, least clear %.3f\n", slot, r.code, r.confidence,
                       least_clear(&r, idx));
        if (r.confidence < LOST_MIN_CONFIDENCE || least_clear(&r, idx) < LOST_CLEAR)
            continue;
        find_size_type(f, idx, down ? OCR_VERTICAL : OCR_HORIZONTAL, &r);
        ocr__add_read(ocr, out, &r);
    }
}

/* Whether a piece read as @k may be half of a W: a V, an M or N (one side and the middle),
 * or a stroke the network calls junk. */
static gboolean may_be_half_of_w(int k)
{
    return k == OCR__JUNK || k == ocr_class_index('V') || k == ocr_class_index('M') ||
           k == ocr_class_index('N') || k == ocr_class_index('W');
}

/* The W is the widest letter and its middle apex the thinnest join: blur, a shadow's edge or
 * the cut of a component as wide as two characters leave it as two pieces side by side
 * (read V V, M junk, ...), and the line then holds one character too many. Two linked pieces,
 * each at most 0.9 of their joint height wide and touching or nearly, that the network reads
 * together as a W become that W (the first takes the union's box and the second's link
 * onward; the second leaves the line). An M breaks so too (an M and a stem beside it): with
 * @m_class (>= 0), two pieces together 0.7 of their height wide or more that the network
 * reads as an M or W at WIDE_LETTER_SURE are joined as well. */
static void join_pair_as_w(Frame *f, int i, int s, int w_class, int m_class)
{
    Comp *c = (Comp *)f->comps->data;
    int j = c[i].right;
    Comp *a = &c[i], *b = &c[j];
    int x0 = MIN(a->x, b->x), y0 = MIN(a->y, b->y);
    int x1 = MAX(a->x + a->w, b->x + b->w), y1 = MAX(a->y + a->h, b->y + b->h);
    int uw = x1 - x0, uh = y1 - y0;
    double gap = b->x - (a->x + a->w);
    if (gap > 0.15 * uh || uw < 0.7 * uh || uw > 1.9 * uh || a->w > 0.9 * uh ||
        b->w > 0.9 * uh || fabs((double)a->h - b->h) > 0.3 * uh)
        return;
    ocr__classify(f, a);
    ocr__classify(f, b);
    if (!may_be_half_of_w(ocr__argmax_of(a->prob)) || !may_be_half_of_w(ocr__argmax_of(b->prob)))
        return;
    float prob[OCR__N_OUT];
    ocr__classify_box(f, x0 * s, y0 * s, uw * s, uh * s, a->bright, prob);
    int best = ocr__argmax_of(prob);
    /* As wide as a W, a W at 0.5; narrower (an M's pieces), an M or W only when sure. */
    if (!(best == w_class && uw >= 0.9 * uh && prob[best] >= 0.5f) &&
        !(m_class >= 0 && (best == w_class || best == m_class) &&
          prob[best] >= WIDE_LETTER_SURE))
        return;
    a->x = x0;
    a->y = y0;
    a->w = uw;
    a->h = uh;
    a->area += b->area;
    memcpy(a->prob, prob, sizeof prob);
    a->inner_classified = 0;
    a->right = b->right;
    if (b->right >= 0)
        c[b->right].left = (int)i;
    b->right = -1;
    b->left = -1;
    b->rescued = TRUE; /* no line of its own either */
    ocr__grid_add(&f->grid, i, a->x, a->y, a->w, a->h);
}

/* A piece of a wide letter in a column: the binarization lost the thin strokes of an M or
 * W and the column holds only a part of it (its right half read as a 4, a stem, a V), so the
 * code is read with the letter's twin (M and W are one check value) or not at all. A piece
 * under WIDE_PIECE of its height wide, whose neighbour above or below in @chain (@len) is
 * wider by a fifth, is read again in a box as wide as a letter of its height (1.1) centred
 * on its neighbours; where the network reads that as an M or W at WIDE_LETTER_SURE or more,
 * the piece reads so. */
static void widen_column_pieces(Frame *f, const int *chain, int len)
{
    Comp *c = (Comp *)f->comps->data;
    int s = f->scale, m_class = ocr_class_index('M'), w_class = ocr_class_index('W');
    for (int k = 0; k < len; k++) {
        Comp *p = &c[chain[k]];
        if (p->w >= WIDE_PIECE * p->h)
            continue;
        double cx = 0, widest = 0;
        int n = 0;
        for (int m = MAX(k - 1, 0); m <= MIN(k + 1, len - 1); m++) {
            if (m == k)
                continue;
            const Comp *o = &c[chain[m]];
            cx += o->x + o->w / 2.0;
            widest = MAX(widest, o->w);
            n++;
        }
        if (n == 0 || widest < 1.2 * p->w)
            continue;
        cx /= n;
        double bw = 1.1 * p->h;
        int x0 = MAX(0, MIN(p->x, (int)lround(cx - bw / 2)));
        int x1 = MAX(p->x + p->w, (int)lround(cx + bw / 2));
        float prob[OCR__N_OUT];
        ocr__classify(f, p);
        ocr__classify_box(f, x0 * s, p->y * s, (x1 - x0) * s, p->h * s, p->bright, prob);
        int best = ocr__argmax_of(prob);
        if ((best == m_class || best == w_class) && prob[best] >= WIDE_LETTER_SURE)
            memcpy(p->prob, prob, sizeof prob);
    }
}

/* join_pair_as_w() along every line of 4 or more. */
void ocr__join_halves_of_w(Frame *f, gboolean wide_pieces)
{
    Comp *c = (Comp *)f->comps->data;
    int s = f->scale, w_class = ocr_class_index('W');
    int m_class = wide_pieces ? ocr_class_index('M') : -1;
    guint n = f->comps->len;
    for (guint start = 0; start < n; start++) {
        int chain[4];
        /* Only lines that can hold a code (4 or more) are worth the network's time. */
        if (c[start].left >= 0 || ocr__chain_of(c, (int)start, FALSE, chain, 4) < 4)
            continue;
        for (int i = (int)start; i >= 0 && c[i].right >= 0; i = c[i].right)
            join_pair_as_w(f, i, s, w_class, m_class);
    }
}

/* A window whose spacing or pitch says it is shifted (its characters a place off the code's)
 * has its confidence multiplied by SHIFTED. */
#define SHIFTED 0.3

/* ocr__add_read(), except that a @shifted read is not kept as a weak code: the later stages
 * that raise a weak code (confirm_weak(), fuse_weak() in detect.c) read the same place again
 * with the line reader, whose window is as shifted as the components' were, so they confirm
 * its characters and not where the code starts. Seen on never-used seed 97202 frame 466:
 * DROU0830042, judged shifted at 0.078 (a serial digit before it at the serial's pitch: the
 * window had left out the serial's first two digits and taken a size/type's 42), pooled with
 * the same window of the line reader to 0.998. */
static void add_read(PsOcr *ocr, OcrReads *out, const OcrRead *r, gboolean shifted)
{
    gboolean keep = ocr->keep_weaks;
    if (shifted)
        ocr->keep_weaks = FALSE;
    ocr__add_read(ocr, out, r);
    ocr->keep_weaks = keep;
}

/* The heights of the @n components @k of a line, in ascending order, into @hs. */
static void sorted_heights(const Comp *c, const int *k, int n, int *hs)
{
    for (int i = 0; i < n; i++)
        hs[i] = c[k[i]].h;
    for (int i = 1; i < n; i++) /* insertion sort: a line is short */
        for (int j = i; j > 0 && hs[j - 1] > hs[j]; j--) {
            int t = hs[j];
            hs[j] = hs[j - 1];
            hs[j - 1] = t;
        }
}

/* The line through @n components @k of a row (frame pixels at the pass's scale): from the
 * first one's left edge to the last one's right edge, through the centres of the first and of
 * the @m-th (the serial's last digit: a boxed check digit after it stands out of the row), its
 * character height their median, ROW_MARGIN character heights longer at both ends. */
static void rows_of(const Frame *f, const int *k, int m, int n, OcrLine *l)
{
    const Comp *c = (const Comp *)f->comps->data;
    const Comp *a = &c[k[0]], *b = &c[k[m - 1]], *e = &c[k[n - 1]];
    int hs[OCR_CODE_LEN];
    sorted_heights(c, k, m, hs);
    double s = f->scale, h = (hs[(m - 1) / 2] + hs[m / 2]) / 2.0;
    double ax = a->x + a->w / 2.0, ay = a->y + a->h / 2.0;
    double bx = b->x + b->w / 2.0, by = b->y + b->h / 2.0;
    double slope = bx > ax + 1 ? (by - ay) / (bx - ax) : 0;
    double x0 = a->x - ROW_MARGIN * h, x1 = e->x + e->w + ROW_MARGIN * h;
    *l = (OcrLine){0};
    l->x0 = x0 * s;
    l->y0 = (ay + slope * (x0 - ax)) * s;
    l->x1 = x1 * s;
    l->y1 = (ay + slope * (x1 - ax)) * s;
    l->char_h = h * s;
}

/* Reads owner @own (4 components) over serial and check digit @ser (7), or beside them on one
 * line (@apart); @prev is the component linked before the serial's first (-1 none). A window
 * of the serial's row that leaves out a digit before it, or whose pitch breaks while more
 * characters follow, is shifted. */
static void read_two_rows(PsOcr *ocr, Frame *f, const int *own, const int *ser, int prev,
                          gboolean apart, OcrReads *out)
{
    int seq[OCR_CODE_LEN];
    memcpy(seq, own, 4 * sizeof(int));
    memcpy(seq + 4, ser, 7 * sizeof(int));
    OcrRead r;
    read_sequence(ocr, f, seq, OCR_HORIZONTAL, &r, NULL);
    const Comp *c = (const Comp *)f->comps->data;
    gboolean spaced = apart && !serial_spacing_fits(c, ser);
    gboolean broken = r.confidence > 0 &&
                      (!serial_pitch_fits(c, ser, c[ser[6]].right >= 0) ||
                       digit_before(f, prev, ser) ||
                       (ocr->opts.even_serials && crowded_serial(c, ser, FALSE)));
    if (spaced)
        r.confidence *= SHIFTED;
    if (broken)
        r.confidence *= SHIFTED;
    if (r.confidence >= ocr->opts.min_confidence)
        find_size_type(f, seq, OCR_HORIZONTAL, &r);
    OcrLine rows[2];
    if (!apart) {
        rows_of(f, own, 4, 4, &rows[0]);
        rows_of(f, ser, 6, 7, &rows[1]);
        ocr->adding_rows = rows;
    }
    add_read(ocr, out, &r, spaced || broken);
    ocr->adding_rows = NULL;
}

/* Three rows where the owner's row holds marks before the owner code, or the serial's row
 * marks before the serial: the serial starts below the owner's first letter, wherever the
 * two chains start. For each window of 4 in @chain, the components of the same
 * polarity and height below its first one start a window of 7 (@len >= 4). */
static void serial_below_window(PsOcr *ocr, Frame *f, const int *chain, int len, GArray *near,
                                OcrReads *out)
{
    for (int s0 = 0; s0 + 4 <= len; s0++) {
        Comp *c = (Comp *)f->comps->data;
        const Comp *o = &c[chain[s0]];
        double h = o->h;
        ocr__grid_query(&f->grid, o->x - 1.2 * h - 1, o->y + 0.8 * h - 1, o->x + 1.2 * h + 1,
                   o->y + 2.6 * h + 1, near);
        for (guint q = 0; q < near->len; q++) {
            int j = g_array_index(near, int, q);
            const Comp *k = &c[j];
            /* A chain starting below the first was tried with every placement already. */
            if ((s0 == 0 && k->left < 0) || k->bright != o->bright || !ocr__similar_height(o, k) ||
                k->y <= o->y + 0.8 * h || k->y >= o->y + 2.6 * h ||
                fabs((double)k->x - o->x) >= 1.2 * h)
                continue;
            int chain2[OCR__MAX_CHAIN];
            if (ocr__chain_of(c, j, FALSE, chain2, OCR__MAX_CHAIN) >= 7)
                read_two_rows(ocr, f, chain + s0, chain2, -1, FALSE, out);
        }
    }
}

/* The fewest characters a line of the components needs to be kept for the line reader
 * (ocr->keep_chain_lines; none: G_MAXINT). A region's line is kept for the owner search
 * (detect.c) as much as for its own codes: the region the detector cut around a serial may
 * leave out its owner code on another door panel (seed 61000 frame 164: EDQU left of the
 * region, 4829082 in it), and the line reader reads a serial only on a line; its 6 digits
 * and check digit make a line of 7, or of 6 where a digit is lost. REGION_CHAIN_MIN was
 * chosen on the tuning seeds 61000-61020 and 93101-93202 (4,900 frames; right / wrong / none
 * 4,703 / 15 / 182 without the regions' lines): from 8, 2 more right; from 7, 7 more; from
 * 6, 9 more; none wrong more or fewer, no right code lost. The whole frame's lines from 7
 * besides gave 3 more and a wrong code at 0.95 (seed 93102 frame 760: the owner search read
 * the P of CPVU, 10 px high, as Z), so the whole frame keeps CHAIN_LINE_MIN. */
#define REGION_CHAIN_MIN 6

static int chain_line_min(const PsOcr *ocr)
{
    switch (ocr->keep_chain_lines) {
    case OCR__CHAINS_OF_FRAME:
        return CHAIN_LINE_MIN;
    case OCR__CHAINS_OF_REGION:
        return REGION_CHAIN_MIN;
    default:
        return G_MAXINT;
    }
}

/* Keeps the horizontal chain @chain of @len components as one of the frame's longest lines
 * (ocr->chain_lines, in frame pixels: frame_x(); one line of each place, the longer kept; a
 * line over twice as tall as another is not of its place, however they overlap: seed 93202
 * frame 808, a line of 9 components 146 px high, of the busy surroundings, took the place of
 * a serial's 14 px high, and the owner search never anchored on the serial. On the tuning
 * seeds 61000-93202: 2 codes more, 1 less, no wrong code more or fewer; at 1.4 times, the
 * linking's ratio, 2 more and 2 less: more places, and the 6 longest lines keep fewer of
 * them). A region's line never takes the place of the whole frame's: a region's components
 * are those of another scale, cut at the region's edge. Without this, 7 right codes of the
 * tuning seeds were lost: seed 93101 frame 641, a region's JQG311 (more components, 19 px
 * high) in place of the line that read JUOJ8783110 (40 px); seed 61010 frame 238, a region's
 * line 36 px high in place of the frame's of 34, along which the owner search read MNUU for
 * MVUU1440440. */
static void keep_chain_line(PsOcr *ocr, const Frame *f, const int *chain, int len)
{
    const Comp *c = (const Comp *)f->comps->data;
    const Comp *a = &c[chain[0]], *b = &c[chain[len - 1]];
    int hs[OCR__MAX_CHAIN];
    sorted_heights(c, chain, len, hs);
    int s = f->scale; /* the components' pixels to the image's; frame_x() on to the frame's */
    double u = image_scale(ocr);
    OcrLine l = {0};
    l.char_h = hs[len / 2] * s / u;
    l.x0 = frame_x(ocr, a->x * s);
    l.y0 = frame_y(ocr, (a->y + a->h / 2.0) * s);
    l.x1 = frame_x(ocr, (b->x + b->w) * s);
    l.y1 = frame_y(ocr, (b->y + b->h / 2.0) * s);
    int slot = -1, shortest = 0;
    for (int i = 0; i < ocr->n_chain_lines && slot < 0; i++) {
        const OcrLine *o = &ocr->chain_lines[i].l;
        double ov = MIN(o->x1, l.x1) - MAX(o->x0, l.x0);
        if (fabs((o->y0 + o->y1) / 2 - (l.y0 + l.y1) / 2) < 0.5 * MAX(o->char_h, l.char_h) &&
            ov > 0.5 * MIN(o->x1 - o->x0, l.x1 - l.x0) &&
            MAX(o->char_h, l.char_h) <= 2 * MIN(o->char_h, l.char_h))
            slot = i; /* the same place */
        else if (ocr->chain_lines[i].len < ocr->chain_lines[shortest].len)
            shortest = i;
    }
    gboolean of_region = ocr->keep_chain_lines == OCR__CHAINS_OF_REGION;
    if (slot < 0 && ocr->n_chain_lines < OCR__MAX_LINES) {
        slot = ocr->n_chain_lines++;
        ocr->chain_lines[slot].len = 0;
        ocr->chain_lines[slot].of_region = of_region;
    } else if (slot < 0) {
        slot = shortest;
    }
    if (ocr->chain_lines[slot].len >= len)
        return; /* the line kept there, or every line kept, is as long */
    if (of_region && !ocr->chain_lines[slot].of_region)
        return; /* the whole frame's line stays */
    OcrChainLine *k = &ocr->chain_lines[slot];
    k->l = l;
    k->len = len;
    k->bright = a->bright;
    for (int i = 0; i < len; i++) {
        const Comp *ci = &c[chain[i]];
        k->box[i][0] = (int)frame_x(ocr, ci->x * s);
        k->box[i][1] = (int)frame_y(ocr, ci->y * s);
        k->box[i][2] = (int)(ci->w * s / u + 0.5);
        k->box[i][3] = (int)(ci->h * s / u + 0.5);
    }
}

void ocr__find_codes(PsOcr *ocr, Frame *f, OcrReads *out)
{
    Comp *c = (Comp *)f->comps->data;
    guint n = f->comps->len;
    int chain[OCR__MAX_CHAIN];
    gboolean debug = ocr->opts.debug;
    GArray *near = g_array_new(FALSE, FALSE, sizeof(int));
    for (int pass = 0; pass < 2; pass++) {
        gboolean down = pass == 1;
        if (down && !ocr->opts.vertical)
            break;
        for (guint i = 0; i < n; i++) {
            if ((down ? c[i].up : c[i].left) >= 0)
                continue;
            int len = ocr__chain_of(c, (int)i, down, chain, OCR__MAX_CHAIN);
            if (debug && len >= 4) {
                GString *d = g_string_new(NULL);
                for (int k = 0; k < len; k++) {
                    ocr__classify(f, &c[chain[k]]);
                    int bk = ocr__argmax_of(c[chain[k]].prob);
                    g_string_append_c(d, bk == OCR__JUNK ? '#' : ocr_class_char(bk));
                }
                g_printerr("chain %s %s at %d,%d h %d: %s\n", down ? "V" : "H",
                           c[i].bright ? "bright" : "dark", c[i].x * f->scale,
                           c[i].y * f->scale, c[i].h * f->scale, d->str);
                g_string_free(d, TRUE);
            }
            OcrOrientation orient = down ? OCR_VERTICAL : OCR_HORIZONTAL;
            if (down && len >= OCR_CODE_LEN && ocr->opts.wide_pieces)
                widen_column_pieces(f, chain, len);
            if (!down && len >= chain_line_min(ocr))
                keep_chain_line(ocr, f, chain, len);
            /* One line or column of 11 or more. */
            for (int s = 0; s + OCR_CODE_LEN <= len; s++) {
                OcrRead r;
                int killer;
                read_sequence(ocr, f, chain + s, orient, &r, &killer);
                if (killer >= 0) {
                    s += killer; /* every window holding that character fails too */
                    continue;
                }
                gboolean shifted =
                    (!down && (!spacing_fits(c, chain + s) ||
                               !serial_pitch_fits(c, chain + s + 4, s + OCR_CODE_LEN < len))) ||
                    (ocr->opts.even_serials && crowded_serial(c, chain + s + 4, down));
                if (shifted)
                    r.confidence *= SHIFTED;
                if (r.confidence >= ocr->opts.min_confidence)
                    find_size_type(f, chain + s, orient, &r);
                double boxes[OCR_CODE_LEN][4];
                if (down) {
                    for (int k = 0; k < OCR_CODE_LEN; k++) {
                        const Comp *b = &c[chain[s + k]];
                        boxes[k][0] = b->x * f->scale;
                        boxes[k][1] = b->y * f->scale;
                        boxes[k][2] = (b->x + b->w) * f->scale;
                        boxes[k][3] = (b->y + b->h) * f->scale;
                    }
                    ocr->adding_column = boxes;
                }
                add_read(ocr, out, &r, shifted);
                ocr->adding_column = NULL;
            }
            if (len >= OCR_CODE_LEN - 1)
                read_lost_digit(ocr, f, chain, len, down, out);
            if (down || len < 4)
                continue;
            /* Owner (4) on one row, serial and check digit (7) on the next, left-aligned; or
             * owner and serial far apart on one line. */
            double hh = c[i].h;
            Comp *last = &c[chain[len - 1]];
            /* The line's slope (rotation, shear) from its first and last characters: a serial
             * far to the right lies on the line, not at the height of its last character. */
            double ex = last->x + last->w / 2.0, ey = last->y + last->h / 2.0;
            double sx = c[i].x + c[i].w / 2.0, sy = c[i].y + c[i].h / 2.0;
            double slope = ex > sx + 1 ? CLAMP((ey - sy) / (ex - sx), -0.25, 0.25) : 0;
            double drift = fabs(slope) * (SERIAL_BESIDE * hh + last->w);
            ocr__grid_query(&f->grid, MIN(c[i].x - 1.2 * hh, last->x + last->w) - 1,
                            MIN(c[i].y + 0.8 * hh, ey - SERIAL_OFF_LINE * hh - drift) - 1,
                            MAX(c[i].x + 1.2 * hh, last->x + last->w + SERIAL_BESIDE * hh) + 1,
                            MAX(c[i].y + 2.6 * hh, ey + SERIAL_OFF_LINE * hh + drift) + 1, near);
            for (guint q = 0; q < near->len; q++) {
                guint j = (guint)g_array_index(near, int, q);
                if (c[j].left >= 0 || j == i || c[j].bright != c[i].bright)
                    continue;
                double h = c[i].h;
                gboolean below = c[j].y > c[i].y + 0.8 * h && c[j].y < c[i].y + 2.6 * h &&
                                 fabs((double)c[j].x - c[i].x) < 1.2 * h;
                double jx = c[j].x + c[j].w / 2.0, jy = c[j].y + c[j].h / 2.0;
                gboolean beside = c[j].x > last->x + last->w &&
                                  c[j].x < last->x + last->w + SERIAL_BESIDE * h &&
                                  fabs(jy - (ey + slope * (jx - ex))) < SERIAL_OFF_LINE * h;
                if (!(below || beside) || !ocr__similar_height(&c[i], &c[j]))
                    continue;
                int chain2[OCR__MAX_CHAIN];
                int len2 = ocr__chain_of(c, (int)j, FALSE, chain2, OCR__MAX_CHAIN);
                if (len2 < 7)
                    continue;
                /* Every placement of the 4 and the 7 in their chains: a neighbouring mark on
                 * either row must not shift the code (the not-junk odds pick the right one). */
                for (int s0 = below ? 0 : len - 4; s0 + 4 <= len; s0++)
                    for (int s2 = 0; s2 + 7 <= len2; s2++)
                        read_two_rows(ocr, f, chain + s0, chain2 + s2, s2 > 0 ? chain2[s2 - 1] : -1,
                                      !below, out);
            }
            serial_below_window(ocr, f, chain, len, near, out);
        }
    }
    g_array_free(near, TRUE);
}
