/* test_track.c: reads across frames become one confirmed container per pass. */
#include <string.h>

#include "overlay.h"
#include "testutil.h"

#define MS 1000

static PsRead rd(const char *code, double x, double conf)
{
    PsRead r = {0};
    g_strlcpy(r.code, code, sizeof r.code);
    g_strlcpy(r.size_type, "22G1", sizeof r.size_type);
    r.confidence = conf;
    r.bbox[0] = x;
    r.bbox[1] = 100;
    r.bbox[2] = 200;
    r.bbox[3] = 80;
    return r;
}

START_TEST(test_moving_container_with_a_misread_is_confirmed_once)
{
    g_autoptr(PsTracker) t = overlay_tracker_new(500 * MS, 3, NULL, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(PsConfirmed));
    for (int f = 0; f < 10; f++) {
        /* frame 4 misreads one character; the box drifts 15 px per frame */
        PsRead r = rd(f == 4 ? "CSQU3054388" : "CSQU3054383", 100 + 15 * f, 0.8);
        overlay_tracker_feed(t, &r, 1, f * 40 * MS, out);
    }
    ck_assert_uint_eq(out->len, 0);
    ck_assert_uint_eq(overlay_tracker_open_passes(t), 1);
    overlay_tracker_feed(t, NULL, 0, 2000 * MS, out); /* the gap ends the pass */
    ck_assert_uint_eq(out->len, 1);
    PsConfirmed *c = &g_array_index(out, PsConfirmed, 0);
    ck_assert_str_eq(c->read.code, "CSQU3054383");
    ck_assert_str_eq(c->read.size_type, "22G1");
    ck_assert_uint_eq(c->frames, 10);
    ck_assert_int_eq(c->first_us, 0);
    ck_assert_int_eq(c->last_us, 360 * MS);
    ck_assert(c->read.confidence > 0.6 && c->read.confidence <= 0.8);
    overlay_tracker_feed(t, NULL, 0, 3000 * MS, out);
    ck_assert_uint_eq(out->len, 1); /* emitted once */
}
END_TEST

START_TEST(test_two_containers_in_one_frame_are_two_passes)
{
    g_autoptr(PsTracker) t = overlay_tracker_new(500 * MS, 2, NULL, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(PsConfirmed));
    for (int f = 0; f < 5; f++) {
        PsRead r[2] = {rd("CSQU3054383", 100, 0.9), rd("MSKU1234565", 900, 0.7)};
        overlay_tracker_feed(t, r, 2, f * 40 * MS, out);
    }
    overlay_tracker_flush(t, out);
    ck_assert_uint_eq(out->len, 2);
    const char *a = g_array_index(out, PsConfirmed, 0).read.code;
    const char *b = g_array_index(out, PsConfirmed, 1).read.code;
    ck_assert((strcmp(a, "CSQU3054383") == 0 && strcmp(b, "MSKU1234565") == 0) ||
              (strcmp(b, "CSQU3054383") == 0 && strcmp(a, "MSKU1234565") == 0));
    ck_assert_uint_eq(g_array_index(out, PsConfirmed, 0).frames, 5);
}
END_TEST

START_TEST(test_too_short_pass_is_not_confirmed)
{
    g_autoptr(PsTracker) t = overlay_tracker_new(500 * MS, 3, NULL, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(PsConfirmed));
    PsRead r = rd("CSQU3054383", 100, 0.9);
    overlay_tracker_feed(t, &r, 1, 0, out);
    overlay_tracker_feed(t, &r, 1, 40 * MS, out);
    overlay_tracker_feed(t, NULL, 0, 1000 * MS, out);
    ck_assert_uint_eq(out->len, 0);
    ck_assert_uint_eq(overlay_tracker_open_passes(t), 0);
}
END_TEST

START_TEST(test_same_container_after_a_gap_is_a_new_pass)
{
    g_autoptr(PsTracker) t = overlay_tracker_new(300 * MS, 1, NULL, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(PsConfirmed));
    PsRead r = rd("CSQU3054383", 100, 0.9);
    overlay_tracker_feed(t, &r, 1, 0, out);
    overlay_tracker_feed(t, &r, 1, 1000 * MS, out);
    ck_assert_uint_eq(out->len, 1);
    overlay_tracker_flush(t, out);
    ck_assert_uint_eq(out->len, 2);
}
END_TEST

typedef struct {
    guint calls, reads;
} FuseSeen;

/* Settled (nothing new to learn, containerocr may sample less often) after two identical reads
 * of everything in view; unsettled again by a new container, a changed code, or a container
 * missed in the middle of the picture; not by one missed at the border (it left). */
START_TEST(test_settled_when_every_container_in_view_read_the_same_twice)
{
    g_autoptr(PsTracker) t = overlay_tracker_new(1500 * MS, 2, NULL, NULL);
    ck_assert(!overlay_tracker_settled(t, 2, 1920, 1080)); /* nothing fed yet */
    overlay_tracker_feed(t, NULL, 0, 0, NULL);
    ck_assert(overlay_tracker_settled(t, 2, 1920, 1080)); /* nothing in view */
    PsRead a = rd("CSQU3054383", 400, 0.9);
    overlay_tracker_feed(t, &a, 1, 500 * MS, NULL);
    ck_assert(!overlay_tracker_settled(t, 2, 1920, 1080)); /* a new pass */
    overlay_tracker_feed(t, &a, 1, 1000 * MS, NULL);
    ck_assert(overlay_tracker_settled(t, 2, 1920, 1080));
    PsRead two[2] = {a, rd("MSCU1234565", 1000, 0.9)};
    overlay_tracker_feed(t, two, 2, 1500 * MS, NULL);
    ck_assert(!overlay_tracker_settled(t, 2, 1920, 1080)); /* one more came in */
    overlay_tracker_feed(t, two, 2, 2000 * MS, NULL);
    ck_assert(overlay_tracker_settled(t, 2, 1920, 1080));
    PsRead changed[2] = {a, rd("MSCU1234566", 1000, 0.9)};
    overlay_tracker_feed(t, changed, 2, 2500 * MS, NULL);
    ck_assert(!overlay_tracker_settled(t, 2, 1920, 1080)); /* a code read differently */
    overlay_tracker_feed(t, two, 2, 3000 * MS, NULL);
    overlay_tracker_feed(t, two, 2, 3500 * MS, NULL);
    ck_assert(overlay_tracker_settled(t, 2, 1920, 1080));
    overlay_tracker_feed(t, &a, 1, 4000 * MS, NULL);
    ck_assert(!overlay_tracker_settled(t, 2, 1920, 1080)); /* missed mid-picture (x 1000) */
    ck_assert(overlay_tracker_settled(t, 2, 0, 0) == FALSE);
    /* the same miss with the box last seen at the right border: it has left */
    g_autoptr(PsTracker) e = overlay_tracker_new(1500 * MS, 2, NULL, NULL);
    PsRead edge[2] = {a, rd("MSCU1234565", 1800, 0.9)};
    overlay_tracker_feed(e, edge, 2, 0, NULL);
    overlay_tracker_feed(e, edge, 2, 500 * MS, NULL);
    overlay_tracker_feed(e, &a, 1, 1000 * MS, NULL);
    ck_assert(overlay_tracker_settled(e, 2, 1920, 1080));
}
END_TEST

/* A frame known to show what the last one did keeps the passes read on it open without adding
 * reads; a pass not read on it still ends after the gap. */
START_TEST(test_touch_keeps_the_passes_of_an_unchanged_picture_open)
{
    g_autoptr(PsTracker) t = overlay_tracker_new(1000 * MS, 2, NULL, NULL);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(PsConfirmed));
    PsRead a = rd("CSQU3054383", 400, 0.9);
    overlay_tracker_feed(t, &a, 1, 0, out);
    overlay_tracker_feed(t, &a, 1, 500 * MS, out);
    for (int k = 1; k <= 10; k++) /* 5 s of an unchanged picture */
        overlay_tracker_touch(t, (500 + 500 * k) * MS);
    overlay_tracker_touch(t, 100 * MS); /* before the last feed: ignored */
    overlay_tracker_feed(t, NULL, 0, 5800 * MS, out); /* within the gap of the last touch */
    ck_assert_uint_eq(out->len, 0);
    ck_assert_uint_eq(overlay_tracker_open_passes(t), 1);
    overlay_tracker_feed(t, NULL, 0, 7000 * MS, out);
    ck_assert_uint_eq(out->len, 1);
    PsConfirmed *c = &g_array_index(out, PsConfirmed, 0);
    ck_assert_uint_eq(c->frames, 2); /* touches add no reads */
    ck_assert_int_eq(c->last_us, 5500 * MS);
}
END_TEST

static gboolean fuse_first(const PsRead *reads, gsize n, PsRead *out, gpointer data)
{
    FuseSeen *seen = data;
    seen->calls++;
    seen->reads += n;
    *out = reads[0];
    return TRUE;
}

START_TEST(test_fusion_function_gets_every_read_of_the_pass)
{
    FuseSeen seen = {0};
    g_autoptr(PsTracker) t = overlay_tracker_new(300 * MS, 1, fuse_first, &seen);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(PsConfirmed));
    for (int f = 0; f < 7; f++) {
        PsRead r = rd(f % 2 ? "CSQU3054383" : "CSQU3O54383", 100 + f, 0.5);
        overlay_tracker_feed(t, &r, 1, f * 40 * MS, out);
    }
    overlay_tracker_flush(t, out);
    ck_assert_uint_eq(seen.calls, 1);
    ck_assert_uint_eq(seen.reads, 7);
    ck_assert_str_eq(g_array_index(out, PsConfirmed, 0).read.code, "CSQU3O54383");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tracker");
    TCase *tc = tcase_create("tracker");
    tcase_add_test(tc, test_moving_container_with_a_misread_is_confirmed_once);
    tcase_add_test(tc, test_two_containers_in_one_frame_are_two_passes);
    tcase_add_test(tc, test_too_short_pass_is_not_confirmed);
    tcase_add_test(tc, test_same_container_after_a_gap_is_a_new_pass);
    tcase_add_test(tc, test_fusion_function_gets_every_read_of_the_pass);
    tcase_add_test(tc, test_settled_when_every_container_in_view_read_the_same_twice);
    tcase_add_test(tc, test_touch_keeps_the_passes_of_an_unchanged_picture_open);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
