/* test_render.c: containers, vessels and the selection appear on the frame, CJK included. */
#include <math.h>
#include <string.h>

#include "overlay.h"
#include "testutil.h"

#define W 1280
#define H 720
#define NOW (10 * G_USEC_PER_SEC)

static guint8 *frame;

static void setup(void)
{
    frame = g_malloc0(W * H * 4);
}

static void teardown(void)
{
    g_free(frame);
}

static void pixel(int x, int y, int *r, int *g, int *b)
{
    const guint8 *p = frame + (gsize)y * W * 4 + (gsize)x * 4; /* BGRx in memory */
    *b = p[0];
    *g = p[1];
    *r = p[2];
}

static guint lit(int x0, int y0, int x1, int y1)
{
    guint n = 0;
    for (int y = MAX(0, y0); y < MIN(H, y1); y++)
        for (int x = MAX(0, x0); x < MIN(W, x1); x++) {
            int r, g, b;
            pixel(x, y, &r, &g, &b);
            n += r + g + b > 60;
        }
    return n;
}

static const double box[4] = {400, 360, 300, 200};

static PsScene *scene_with(PsContainerStatus status)
{
    PsScene *s = overlay_scene_new(2 * G_USEC_PER_SEC);
    overlay_scene_put_detection(s, "quay-1", "CSQU3054383", "22G1", box, 0.93, NOW);
    PsSceneContainer info = {"CSQU3054383", "310120260001234567", "上海", "汉堡 Hamburg",
                            "电子产品 (electronics)", "上海远洋贸易有限公司", "COSCO TAURUS",
                            status};
    overlay_scene_put_container(s, &info);
    return s;
}

static const struct {
    PsContainerStatus status;
    int r, g, b; /* which channel must dominate on the box's edge */
} colours[] = {
    {PS_STATUS_RELEASED, 0, 1, 0},
    {PS_STATUS_HELD, 1, 0, 0},
    {PS_STATUS_PENDING, 1, 1, 0},
};

/* Draws camera @camera's view of @s (through @model, may be NULL) at @now into the frame;
 * returns the renderer's counts for it. */
static PsRenderStats render(PsRenderer *r, PsScene *s, const char *camera, PsCameraModel *model,
                            gint64 now)
{
    GError *error = NULL;
    ck_assert(overlay_render(r, s, camera, model, NULL, frame, W, H, W * 4, now, &error));
    ck_assert_no_error(error);
    PsRenderStats st;
    overlay_renderer_stats(r, &st);
    return st;
}

START_TEST(test_container_box_and_label_in_status_colour_with_cjk)
{
    g_autoptr(PsScene) s = scene_with(colours[_i].status);
    g_autoptr(PsRenderer) r = overlay_renderer_new(NULL);
    PsRenderStats st = render(r, s, "quay-1", NULL, NOW);
    ck_assert_uint_eq(st.containers, 1);
    ck_assert_msg(st.unknown_glyphs == 0, "%u characters had no glyph (CJK font missing?)",
                  st.unknown_glyphs);
    int cr, cg, cb;
    pixel((int)box[0], (int)(box[1] + box[3] / 2), &cr, &cg, &cb);
    ck_assert_msg((cr > 150) == colours[_i].r && (cg > 150) == colours[_i].g && cb < 120,
                  "edge pixel %d,%d,%d for status %d", cr, cg, cb, colours[_i].status);
    /* the inside of the box stays untouched, the label above it is drawn */
    ck_assert_uint_eq(lit((int)box[0] + 10, (int)box[1] + 10, (int)(box[0] + box[2]) - 10,
                          (int)(box[1] + box[3]) - 10), 0);
    ck_assert_uint_gt(lit((int)box[0], (int)box[1] - 120, (int)(box[0] + box[2]), (int)box[1]),
                      500);
}
END_TEST

START_TEST(test_other_cameras_and_stale_detections_are_not_drawn)
{
    g_autoptr(PsScene) s = scene_with(PS_STATUS_RELEASED);
    g_autoptr(PsRenderer) r = overlay_renderer_new(NULL);
    PsRenderStats st = render(r, s, "gate-2", NULL, NOW);
    ck_assert_uint_eq(st.containers, 0);
    st = render(r, s, "quay-1", NULL, NOW + 3 * G_USEC_PER_SEC);
    ck_assert_uint_eq(st.containers, 0);
    ck_assert_uint_eq(lit(0, 0, W, H), 0);
    ck_assert_uint_eq(overlay_scene_count_detections(s, NULL, NOW), 1);
}
END_TEST

/* Whether the pixel at @x,@y is on a released (green) box edge. */
static gboolean edge_at(int x, int y)
{
    int r, g, b;
    pixel(x, y, &r, &g, &b);
    return g > 150 && r < 120 && b < 120; /* released: green */
}

START_TEST(test_box_of_a_moving_container_follows_it_between_reads)
{
    g_autoptr(PsScene) s = scene_with(PS_STATUS_RELEASED); /* read at x=400 at NOW */
    double moved[4] = {box[0] + 50, box[1], box[2], box[3]};  /* 50 px further 0.5 s later */
    overlay_scene_put_detection(s, "quay-1", "CSQU3054383", "22G1", moved, 0.93,
                                NOW + G_USEC_PER_SEC / 2);
    g_autoptr(PsRenderer) r = overlay_renderer_new(NULL);
    int y = (int)(box[1] + box[3] / 2);
    /* 0.5 s after the last read the container has gone on another 50 px: 500, not 450. */
    ck_assert(overlay_render(r, s, "quay-1", NULL, NULL, frame, W, H, W * 4, NOW + G_USEC_PER_SEC,
                             NULL));
    ck_assert_msg(edge_at(500, y), "no box edge at x=500 (extrapolated)");
    ck_assert_msg(!edge_at(450, y), "box still drawn at the last read's x=450");
    /* A container that stopped: the next read in the same place gives no further motion. */
    overlay_scene_put_detection(s, "quay-1", "CSQU3054383", "22G1", moved, 0.93,
                                NOW + G_USEC_PER_SEC);
    memset(frame, 0, W * H * 4);
    ck_assert(overlay_render(r, s, "quay-1", NULL, NULL, frame, W, H, W * 4,
                             NOW + 3 * G_USEC_PER_SEC / 2, NULL));
    ck_assert_msg(edge_at(450, y), "a stopped container's box moved on");
}
END_TEST

START_TEST(test_vessel_is_projected_with_its_track)
{
    PsPinholePose pose = {31.3500, 121.6000, 40, 90, 3, 60, W, H};
    g_autoptr(PsCameraModel) cam = overlay_camera_new_pinhole(&pose, NULL);
    g_autoptr(PsScene) s = overlay_scene_new(0);
    const double track[][2] = {{31.3470, 121.6050}, {31.3480, 121.6080}, {31.3490, 121.6110}};
    PsSceneVessel v = {413000001, "COSCO TAURUS 中远金牛座", "cargo", 31.3500, 121.6150, 11.5, 75,
                      track, G_N_ELEMENTS(track)};
    overlay_scene_put_vessel(s, &v);
    PsSceneVessel behind = {413000002, "BEHIND", "tanker", 31.3500, 121.5900, 3, 270, NULL, 0};
    overlay_scene_put_vessel(s, &behind);
    g_autoptr(PsRenderer) r = overlay_renderer_new(NULL);
    PsRenderStats st = render(r, s, "quay-1", cam, NOW);
    ck_assert_uint_eq(st.vessels, 1);
    ck_assert_uint_eq(st.unknown_glyphs, 0);
    double x, y;
    ck_assert(overlay_camera_project(cam, v.lat, v.lon, 0, &x, &y));
    int cr, cg, cb;
    pixel((int)x, (int)y, &cr, &cg, &cb);
    ck_assert_msg(cb > 200 && cg > 150 && cr < 100, "marker pixel %d,%d,%d", cr, cg, cb);
    /* a track point between the first two fixes is drawn too */
    double x0, y0, x1, y1;
    ck_assert(overlay_camera_project(cam, track[0][0], track[0][1], 0, &x0, &y0));
    ck_assert(overlay_camera_project(cam, track[1][0], track[1][1], 0, &x1, &y1));
    ck_assert_uint_gt(lit((int)((x0 + x1) / 2) - 2, (int)((y0 + y1) / 2) - 2,
                          (int)((x0 + x1) / 2) + 3, (int)((y0 + y1) / 2) + 3), 0);
    ck_assert(!st.panel);
    /* selecting the vessel gives its panel; selecting the one behind the camera does not */
    overlay_scene_select(s, NULL, v.mmsi);
    st = render(r, s, "quay-1", cam, NOW);
    ck_assert(st.panel);
    overlay_scene_select(s, NULL, behind.mmsi);
    st = render(r, s, "quay-1", cam, NOW);
    ck_assert(!st.panel);
}
END_TEST

START_TEST(test_selection_draws_the_detail_panel)
{
    g_autoptr(PsScene) s = scene_with(PS_STATUS_HELD);
    g_autoptr(PsRenderer) r = overlay_renderer_new(NULL);
    PsRenderStats st = render(r, s, "quay-1", NULL, NOW);
    ck_assert(!st.panel);
    guint before = lit(W - 400, 0, W, 250);
    overlay_scene_select(s, "CSQU3054383", 0);
    st = render(r, s, "quay-1", NULL, NOW);
    ck_assert(st.panel);
    ck_assert_uint_eq(st.unknown_glyphs, 0);
    ck_assert_uint_gt(lit(W - 400, 0, W, 250), before + 1000);
    /* a camera that does not show the container gets no panel */
    st = render(r, s, "gate-2", NULL, NOW);
    ck_assert(!st.panel);
    overlay_scene_select(s, NULL, 0);
    memset(frame, 0, W * H * 4);
    st = render(r, s, "quay-1", NULL, NOW);
    ck_assert(!st.panel);
}
END_TEST

/* The scene keeps at most 20,000 containers: a new one evicts the one put least recently
 * (it used to be refused), the selected one stays. */
START_TEST(test_scene_evicts_the_least_recently_put_container_past_its_cap)
{
    PsScene *sc = overlay_scene_new(0);
    const guint cap = 20000;
    char code[16];
    for (guint i = 0; i < cap; i++) {
        g_snprintf(code, sizeof code, "TEST%07u", i);
        PsSceneContainer info = {.code = code, .status = PS_STATUS_RELEASED};
        overlay_scene_put_container(sc, &info);
    }
    overlay_scene_select(sc, "TEST0000000", 0);
    /* TEST0000001 is put again: now the most recent. */
    g_snprintf(code, sizeof code, "TEST%07u", 1);
    PsSceneContainer again = {.code = code, .status = PS_STATUS_HELD};
    overlay_scene_put_container(sc, &again);
    for (guint i = cap; i < cap + 3; i++) {
        g_snprintf(code, sizeof code, "TEST%07u", i);
        PsSceneContainer info = {.code = code, .status = PS_STATUS_RELEASED};
        overlay_scene_put_container(sc, &info);
    }
    PsSceneContainer out = {0};
    const char *kept[] = {"TEST0000000", "TEST0000001", "TEST0020000", "TEST0020002"};
    for (guint i = 0; i < G_N_ELEMENTS(kept); i++) {
        ck_assert_msg(overlay_scene_get_container(sc, kept[i], &out), "%s evicted", kept[i]);
        overlay_container_info_clear(&out);
    }
    const char *gone[] = {"TEST0000002", "TEST0000003", "TEST0000004"};
    for (guint i = 0; i < G_N_ELEMENTS(gone); i++)
        ck_assert_msg(!overlay_scene_get_container(sc, gone[i], &out), "%s kept", gone[i]);
    ck_assert(overlay_scene_get_container(sc, "TEST0000005", &out));
    overlay_container_info_clear(&out);
    overlay_scene_free(sc);
}
END_TEST

START_TEST(test_bad_frame_is_an_error)
{
    g_autoptr(PsScene) s = overlay_scene_new(0);
    g_autoptr(PsRenderer) r = overlay_renderer_new(NULL);
    GError *error = NULL;
    ck_assert(!overlay_render(r, s, "x", NULL, NULL, frame, W, H, W * 3, NOW, &error));
    ck_assert(error && strstr(error->message, "stride"));
    g_error_free(error);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_container_box_and_label_in_status_colour_with_cjk, G_N_ELEMENTS(colours)},
    {&test_other_cameras_and_stale_detections_are_not_drawn},
    {&test_box_of_a_moving_container_follows_it_between_reads},
    {&test_vessel_is_projected_with_its_track},
    {&test_selection_draws_the_detail_panel},
    {&test_scene_evicts_the_least_recently_put_container_past_its_cap},
    {&test_bad_frame_is_an_error},
};

TESTUTIL_MAIN("render", "render", 30, TESTUTIL_TESTS(tests), setup, teardown)
