/* test_tracker.c: reads across frames become one confirmed container per pass, its reads'
 * evidence fused. */
#include <string.h>

#include "testutil.h"
#include "tracker.h"

#define MS 1000

/* A read of @code at (@x, 100), 200 x 80, each character @conf sure, the rest spread. */
static OcrRead rd(const char *code, int x, double conf)
{
    OcrRead r;
    memset(&r, 0, sizeof r);
    g_strlcpy(r.code, code, sizeof r.code);
    g_strlcpy(r.size_type, "22G1", sizeof r.size_type);
    r.confidence = conf;
    r.bbox[0] = x;
    r.bbox[1] = 100;
    r.bbox[2] = 200;
    r.bbox[3] = 80;
    for (int i = 0; i < OCR_CODE_LEN; i++) {
        for (int k = 0; k < OCR_N_CLASSES; k++)
            r.probs.p[i][k] = (float)((1.0 - conf) / (OCR_N_CLASSES - 1));
        r.probs.p[i][ocr_class_index(code[i])] = (float)conf;
    }
    return r;
}

enum { END, FEED, FLUSH };
#define C "CSQU3054383"

/* One step of a scenario: the reads of the frame at @t_ms fed (FEED), or the tracker flushed
 * (FLUSH); then @confirmed passes have been confirmed in all and @open passes are open. */
typedef struct {
    int kind, t_ms;
    struct {
        const char *code;
        int x;
        double conf;
    } reads[2];
    guint confirmed, open;
} Step;

/* A pass a scenario confirms: its code, frames, first and last read (ANY: not checked), and a
 * fused confidence above @above (at most 1; 0: not checked). */
#define ANY -1
typedef struct {
    const char *code;
    guint frames;
    int first_ms, last_ms;
    double above;
} Pass;

/* Reads across frames, fed to a tracker that ends a pass after @gap_ms without a read and
 * confirms it from @min_frames reads on; the passes confirmed, in any order. */
typedef struct {
    const char *name;
    int gap_ms;
    guint min_frames;
    Step steps[13];
    Pass passes[2];
} Scenario;

static const Scenario scenarios[] = {
    {"a moving container with a misread is confirmed once, more sure than one read", 500, 3,
     {
         /* the box drifts 15 px per frame; frame 4 misreads one character */
         {FEED, 0, {{C, 100, 0.8}}, 0, 1},
         {FEED, 40, {{C, 115, 0.8}}, 0, 1},
         {FEED, 80, {{C, 130, 0.8}}, 0, 1},
         {FEED, 120, {{C, 145, 0.8}}, 0, 1},
         {FEED, 160, {{"CSQU3054388", 160, 0.8}}, 0, 1},
         {FEED, 200, {{C, 175, 0.8}}, 0, 1},
         {FEED, 240, {{C, 190, 0.8}}, 0, 1},
         {FEED, 280, {{C, 205, 0.8}}, 0, 1},
         {FEED, 320, {{C, 220, 0.8}}, 0, 1},
         {FEED, 360, {{C, 235, 0.8}}, 0, 1},
         {FEED, 2000, {}, 1, 0}, /* the gap ends the pass */
         {FEED, 3000, {}, 1, 0}, /* emitted once */
     },
     {{C, 10, 0, 360, 0.8}}},
    {"two containers in one frame are two passes", 500, 2,
     {
         {FEED, 0, {{C, 100, 0.9}, {"MSKU1234565", 900, 0.7}}, 0, 2},
         {FEED, 40, {{C, 100, 0.9}, {"MSKU1234565", 900, 0.7}}, 0, 2},
         {FEED, 80, {{C, 100, 0.9}, {"MSKU1234565", 900, 0.7}}, 0, 2},
         {FEED, 120, {{C, 100, 0.9}, {"MSKU1234565", 900, 0.7}}, 0, 2},
         {FEED, 160, {{C, 100, 0.9}, {"MSKU1234565", 900, 0.7}}, 0, 2},
         {FLUSH, 0, {}, 2, 0},
     },
     {{C, 5, ANY, ANY}, {"MSKU1234565", 5, ANY, ANY}}},
    {"a too short pass is not confirmed", 500, 3,
     {
         {FEED, 0, {{C, 100, 0.9}}, 0, 1},
         {FEED, 40, {{C, 100, 0.9}}, 0, 1},
         {FEED, 1000, {}, 0, 0},
     }},
    {"the same container after a gap is a new pass", 300, 1,
     {
         {FEED, 0, {{C, 100, 0.9}}, 0, 1},
         {FEED, 1000, {{C, 100, 0.9}}, 1, 1},
         {FLUSH, 0, {}, 2, 0},
     },
     {{C, 1, 0, 0}, {C, 1, 1000, 1000}}},
    /* The pass's reads are pooled character by character, not voted on as whole codes: four
     * reads that took the 0 of CSQU3054383 for an O (surer than the others) and three right ones
     * confirm CSQU3054383, a letter having no place among the serial's digits. */
    {"a pass fuses the evidence of all its reads", 300, 1,
     {
         {FEED, 0, {{"CSQU3O54383", 100, 0.45}}, 0, 1},
         {FEED, 40, {{C, 101, 0.5}}, 0, 1},
         {FEED, 80, {{"CSQU3O54383", 102, 0.45}}, 0, 1},
         {FEED, 120, {{C, 103, 0.5}}, 0, 1},
         {FEED, 160, {{"CSQU3O54383", 104, 0.45}}, 0, 1},
         {FEED, 200, {{C, 105, 0.5}}, 0, 1},
         {FEED, 240, {{"CSQU3O54383", 106, 0.45}}, 0, 1},
         {FLUSH, 0, {}, 1, 0},
     },
     {{C, 7, 0, 240}}},
};

START_TEST(test_reads_across_frames_give_the_confirmed_passes)
{
    const Scenario *s = &scenarios[_i];
    g_autoptr(OcrTracker) t = ocr_tracker_new(s->gap_ms * MS, s->min_frames, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(OcrConfirmed));
    for (const Step *st = s->steps; st->kind != END; st++) {
        if (st->kind == FLUSH) {
            ocr_tracker_flush(t, out);
        } else {
            OcrRead reads[2];
            gsize n = 0;
            for (; n < G_N_ELEMENTS(st->reads) && st->reads[n].code; n++)
                reads[n] = rd(st->reads[n].code, st->reads[n].x, st->reads[n].conf);
            ocr_tracker_feed(t, n ? reads : NULL, n, st->t_ms * MS, out);
        }
        guint step = (guint)(st - s->steps);
        ck_assert_msg(out->len == st->confirmed, "%s: step %u: %u confirmed", s->name, step,
                      out->len);
        ck_assert_msg(ocr_tracker_open_passes(t) == st->open, "%s: step %u: %u open", s->name,
                      step, ocr_tracker_open_passes(t));
    }
    /* Each pass wanted is one confirmed, in any order. */
    guint wanted = 0;
    while (wanted < G_N_ELEMENTS(s->passes) && s->passes[wanted].code)
        wanted++;
    ck_assert_uint_eq(out->len, wanted);
    gboolean taken[G_N_ELEMENTS(s->passes)] = {FALSE};
    for (const Pass *p = s->passes; p < s->passes + wanted; p++) {
        guint k = 0;
        for (; k < out->len; k++) {
            const OcrConfirmed *c = &g_array_index(out, OcrConfirmed, k);
            if (!taken[k] && strcmp(c->read.code, p->code) == 0 && c->frames == p->frames &&
                (p->first_ms == ANY || c->first_us == p->first_ms * MS) &&
                (p->last_ms == ANY || c->last_us == p->last_ms * MS))
                break;
        }
        ck_assert_msg(k < out->len, "%s: no confirmed %s of %u frames from %d to %d ms", s->name,
                      p->code, p->frames, p->first_ms, p->last_ms);
        taken[k] = TRUE;
        const OcrConfirmed *c = &g_array_index(out, OcrConfirmed, k);
        ck_assert_str_eq(c->read.size_type, "22G1");
        if (p->above > 0)
            ck_assert_msg(c->read.confidence > p->above && c->read.confidence <= 1.0, "%s: %f",
                          s->name, c->read.confidence);
    }
}
END_TEST

/* Settled (nothing new to learn, containerocr may sample less often) after two identical reads
 * of everything in view; unsettled again by a new container, a changed code, or a container
 * missed in the middle of the picture; not by one missed at the border (it left). */
START_TEST(test_settled_when_every_container_in_view_read_the_same_twice)
{
    g_autoptr(OcrTracker) t = ocr_tracker_new(1500 * MS, 2, NULL);
    ck_assert(!ocr_tracker_settled(t, 2, 1920, 1080)); /* nothing fed yet */
    ocr_tracker_feed(t, NULL, 0, 0, NULL);
    ck_assert(ocr_tracker_settled(t, 2, 1920, 1080)); /* nothing in view */
    OcrRead a = rd("CSQU3054383", 400, 0.9);
    ocr_tracker_feed(t, &a, 1, 500 * MS, NULL);
    ck_assert(!ocr_tracker_settled(t, 2, 1920, 1080)); /* a new pass */
    ocr_tracker_feed(t, &a, 1, 1000 * MS, NULL);
    ck_assert(ocr_tracker_settled(t, 2, 1920, 1080));
    OcrRead two[2] = {a, rd("MSCU1234565", 1000, 0.9)};
    ocr_tracker_feed(t, two, 2, 1500 * MS, NULL);
    ck_assert(!ocr_tracker_settled(t, 2, 1920, 1080)); /* one more came in */
    ocr_tracker_feed(t, two, 2, 2000 * MS, NULL);
    ck_assert(ocr_tracker_settled(t, 2, 1920, 1080));
    OcrRead changed[2] = {a, rd("MSCU1234566", 1000, 0.9)};
    ocr_tracker_feed(t, changed, 2, 2500 * MS, NULL);
    ck_assert(!ocr_tracker_settled(t, 2, 1920, 1080)); /* a code read differently */
    ocr_tracker_feed(t, two, 2, 3000 * MS, NULL);
    ocr_tracker_feed(t, two, 2, 3500 * MS, NULL);
    ck_assert(ocr_tracker_settled(t, 2, 1920, 1080));
    ocr_tracker_feed(t, &a, 1, 4000 * MS, NULL);
    ck_assert(!ocr_tracker_settled(t, 2, 1920, 1080)); /* missed mid-picture (x 1000) */
    ck_assert(ocr_tracker_settled(t, 2, 0, 0) == FALSE);
    /* the same miss with the box last seen at the right border: it has left */
    g_autoptr(OcrTracker) e = ocr_tracker_new(1500 * MS, 2, NULL);
    OcrRead edge[2] = {a, rd("MSCU1234565", 1800, 0.9)};
    ocr_tracker_feed(e, edge, 2, 0, NULL);
    ocr_tracker_feed(e, edge, 2, 500 * MS, NULL);
    ocr_tracker_feed(e, &a, 1, 1000 * MS, NULL);
    ck_assert(ocr_tracker_settled(e, 2, 1920, 1080));
}
END_TEST

/* A frame known to show what the last one did keeps the passes read on it open without adding
 * reads; a pass not read on it still ends after the gap. */
START_TEST(test_touch_keeps_the_passes_of_an_unchanged_picture_open)
{
    g_autoptr(OcrTracker) t = ocr_tracker_new(1000 * MS, 2, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(OcrConfirmed));
    OcrRead a = rd("CSQU3054383", 400, 0.9);
    ocr_tracker_feed(t, &a, 1, 0, out);
    ocr_tracker_feed(t, &a, 1, 500 * MS, out);
    for (int k = 1; k <= 10; k++) /* 5 s of an unchanged picture */
        ocr_tracker_touch(t, (500 + 500 * k) * MS);
    ocr_tracker_touch(t, 100 * MS); /* before the last feed: ignored */
    ocr_tracker_feed(t, NULL, 0, 5800 * MS, out); /* within the gap of the last touch */
    ck_assert_uint_eq(out->len, 0);
    ck_assert_uint_eq(ocr_tracker_open_passes(t), 1);
    ocr_tracker_feed(t, NULL, 0, 7000 * MS, out);
    ck_assert_uint_eq(out->len, 1);
    OcrConfirmed *c = &g_array_index(out, OcrConfirmed, 0);
    ck_assert_uint_eq(c->frames, 2); /* touches add no reads */
    ck_assert_int_eq(c->last_us, 5500 * MS);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_reads_across_frames_give_the_confirmed_passes, G_N_ELEMENTS(scenarios)},
    {&test_settled_when_every_container_in_view_read_the_same_twice},
    {&test_touch_keeps_the_passes_of_an_unchanged_picture_open},
};

TESTUTIL_MAIN("tracker", "tracker", 0, TESTUTIL_TESTS(tests))
