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

START_TEST(test_moving_container_with_a_misread_is_confirmed_once)
{
    g_autoptr(OcrTracker) t = ocr_tracker_new(500 * MS, 3, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(OcrConfirmed));
    for (int f = 0; f < 10; f++) {
        /* frame 4 misreads one character; the box drifts 15 px per frame */
        OcrRead r = rd(f == 4 ? "CSQU3054388" : "CSQU3054383", 100 + 15 * f, 0.8);
        ocr_tracker_feed(t, &r, 1, f * 40 * MS, out);
    }
    ck_assert_uint_eq(out->len, 0);
    ck_assert_uint_eq(ocr_tracker_open_passes(t), 1);
    ocr_tracker_feed(t, NULL, 0, 2000 * MS, out); /* the gap ends the pass */
    ck_assert_uint_eq(out->len, 1);
    OcrConfirmed *c = &g_array_index(out, OcrConfirmed, 0);
    ck_assert_str_eq(c->read.code, "CSQU3054383");
    ck_assert_str_eq(c->read.size_type, "22G1");
    ck_assert_uint_eq(c->frames, 10);
    ck_assert_int_eq(c->first_us, 0);
    ck_assert_int_eq(c->last_us, 360 * MS);
    /* nine reads at 0.8 and one misread pooled: more sure than one read */
    ck_assert_msg(c->read.confidence > 0.8 && c->read.confidence <= 1.0, "%f", c->read.confidence);
    ocr_tracker_feed(t, NULL, 0, 3000 * MS, out);
    ck_assert_uint_eq(out->len, 1); /* emitted once */
}
END_TEST

START_TEST(test_two_containers_in_one_frame_are_two_passes)
{
    g_autoptr(OcrTracker) t = ocr_tracker_new(500 * MS, 2, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(OcrConfirmed));
    for (int f = 0; f < 5; f++) {
        OcrRead r[2] = {rd("CSQU3054383", 100, 0.9), rd("MSKU1234565", 900, 0.7)};
        ocr_tracker_feed(t, r, 2, f * 40 * MS, out);
    }
    ocr_tracker_flush(t, out);
    ck_assert_uint_eq(out->len, 2);
    const char *a = g_array_index(out, OcrConfirmed, 0).read.code;
    const char *b = g_array_index(out, OcrConfirmed, 1).read.code;
    ck_assert((strcmp(a, "CSQU3054383") == 0 && strcmp(b, "MSKU1234565") == 0) ||
              (strcmp(b, "CSQU3054383") == 0 && strcmp(a, "MSKU1234565") == 0));
    ck_assert_uint_eq(g_array_index(out, OcrConfirmed, 0).frames, 5);
}
END_TEST

START_TEST(test_too_short_pass_is_not_confirmed)
{
    g_autoptr(OcrTracker) t = ocr_tracker_new(500 * MS, 3, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(OcrConfirmed));
    OcrRead r = rd("CSQU3054383", 100, 0.9);
    ocr_tracker_feed(t, &r, 1, 0, out);
    ocr_tracker_feed(t, &r, 1, 40 * MS, out);
    ocr_tracker_feed(t, NULL, 0, 1000 * MS, out);
    ck_assert_uint_eq(out->len, 0);
    ck_assert_uint_eq(ocr_tracker_open_passes(t), 0);
}
END_TEST

START_TEST(test_same_container_after_a_gap_is_a_new_pass)
{
    g_autoptr(OcrTracker) t = ocr_tracker_new(300 * MS, 1, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(OcrConfirmed));
    OcrRead r = rd("CSQU3054383", 100, 0.9);
    ocr_tracker_feed(t, &r, 1, 0, out);
    ocr_tracker_feed(t, &r, 1, 1000 * MS, out);
    ck_assert_uint_eq(out->len, 1);
    ocr_tracker_flush(t, out);
    ck_assert_uint_eq(out->len, 2);
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

/* The pass's reads are pooled character by character, not voted on as whole codes: four reads
 * that took the 0 of CSQU3054383 for an O (surer than the others) and three right ones confirm
 * CSQU3054383, a letter having no place among the serial's digits. */
START_TEST(test_a_pass_fuses_the_evidence_of_all_its_reads)
{
    g_autoptr(OcrTracker) t = ocr_tracker_new(300 * MS, 1, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(OcrConfirmed));
    for (int f = 0; f < 7; f++) {
        OcrRead r = rd(f % 2 ? "CSQU3054383" : "CSQU3O54383", 100 + f, f % 2 ? 0.5 : 0.45);
        ocr_tracker_feed(t, &r, 1, f * 40 * MS, out);
    }
    ocr_tracker_flush(t, out);
    ck_assert_uint_eq(out->len, 1);
    ck_assert_str_eq(g_array_index(out, OcrConfirmed, 0).read.code, "CSQU3054383");
    ck_assert_uint_eq(g_array_index(out, OcrConfirmed, 0).frames, 7);
}
END_TEST

int main(void)
{
    const TestutilTest tests[] = {
        {test_moving_container_with_a_misread_is_confirmed_once},
        {test_two_containers_in_one_frame_are_two_passes},
        {test_too_short_pass_is_not_confirmed},
        {test_same_container_after_a_gap_is_a_new_pass},
        {test_a_pass_fuses_the_evidence_of_all_its_reads},
        {test_settled_when_every_container_in_view_read_the_same_twice},
        {test_touch_keeps_the_passes_of_an_unchanged_picture_open},
        {NULL},
    };
    const TestutilCase tcases[] = {
        {"tracker", 0, tests},
    };
    return testutil_run_cases("tracker", tcases, G_N_ELEMENTS(tcases));
}
