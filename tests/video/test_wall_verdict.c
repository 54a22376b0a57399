/* test_wall_verdict.c: the wall draws the rules' verdict, not the customs status. The inputs go
 * through the rules (default policy) and through the video side the way `portsight run` follows
 * the journal (app_video_apply for the declaration's facts, app_video_show_verdict for the
 * colour); then a wall tile's frame is drawn and its pixels read: a container whose declaration
 * is released but whose seal is tampered is red, with the reason; a released one is green; one
 * whose radiation scan is missing is amber, saying what it waits for. */
#include <string.h>

#include "rules.h"
#include "testutil.h"
#include "video.h"

#define W 1280
#define H 720
#define NOW (10 * G_USEC_PER_SEC)

static const char *const codes[] = {"PSTU2001016", "PSTU2001021", "PSTU2001063"};
static const double boxes[][4] = {{80, 400, 300, 120}, {480, 400, 300, 120}, {880, 400, 300, 120}};

static void feed(PsRules *r, AppVideo *v, const char *topic, const char *payload)
{
    RulesIngestResult res;
    GError *error = NULL;
    ck_assert(rules_ingest(r, topic, payload, -1, &res, &error));
    ck_assert_msg(res.outcome == RULES_ACCEPTED, "%s: %s", topic, res.reason);
    rules_ingest_result_clear(&res);
    ck_assert(app_video_apply(v, topic, payload, strlen(payload), &error));
    /* What the daemon does for each journal row: the verdict on every container it names. */
    g_auto(GStrv) named = rules_input_containers(topic + strlen("port/"), payload, -1);
    for (guint i = 0; named[i]; i++) {
        RulesVerdict verdict;
        if (rules_verdict(r, named[i], &verdict))
            app_video_show_verdict(app_video_scene(v), named[i], &verdict);
        rules_verdict_clear(&verdict);
    }
}

static void edge(const guint8 *frame, const double *b, int *r, int *g, int *bl)
{
    const guint8 *p = frame + (gsize)(b[1] + b[3] / 2) * W * 4 + (gsize)b[0] * 4; /* BGRx */
    *bl = p[0];
    *g = p[1];
    *r = p[2];
}

START_TEST(test_wall_draws_released_green_held_red_and_pending_amber)
{
    GError *error = NULL;
    PsStore *store = store_open(":memory:", &error);
    ck_assert_no_error(error);
    PsRules *rules = rules_new(store, "port", &error);
    ck_assert_no_error(error);
    const char *conf = "[store]\npath = :memory:\n";
    g_autoptr(AppConfig) cfg = app_config_load_data("test", conf, strlen(conf), &error);
    ck_assert_no_error(error);
    AppVideo *video = app_video_new(cfg, NULL, NULL, &error);
    ck_assert_no_error(error);

    /* One declaration, released, for all three; all on an arrived train, all seen. */
    feed(rules, video, "port/customs/status",
         "{\"id\":\"c1\",\"ts\":\"2026-11-26T08:00:00Z\",\"declaration\":\"DEC-1\","
         "\"status\":\"released\",\"flow\":\"rail-sea\",\"origin\":\"Chongqing\","
         "\"destination\":\"Hamburg\",\"goods\":\"machine parts\",\"containers\":"
         "[\"PSTU2001016\",\"PSTU2001021\",\"PSTU2001063\"]}");
    feed(rules, video, "port/rail/Y1/arrival",
         "{\"id\":\"a1\",\"ts\":\"2026-11-26T08:01:00Z\",\"yard\":\"Y1\",\"train\":\"T-1\","
         "\"wagons\":[{\"wagon\":\"W1\",\"containers\":[\"PSTU2001016\",\"PSTU2001021\","
         "\"PSTU2001063\"]}]}");
    for (guint i = 0; i < G_N_ELEMENTS(codes); i++) {
        g_autofree char *ocr = g_strdup_printf(
            "{\"id\":\"o%u\",\"ts\":\"2026-11-26T08:02:00Z\",\"camera\":\"rail\","
            "\"container\":\"%s\",\"confidence\":0.9}",
            i, codes[i]);
        feed(rules, video, "port/ocr/rail", ocr);
    }
    /* 016 and 021 scanned clear; 063 not scanned. 021's seal tampered. */
    for (guint i = 0; i < 2; i++) {
        g_autofree char *rad = g_strdup_printf(
            "{\"id\":\"r%u\",\"ts\":\"2026-11-26T08:03:00Z\",\"portal\":\"RP1\","
            "\"container\":\"%s\",\"result\":\"clear\"}",
            i, codes[i]);
        feed(rules, video, "port/radiation/RP1", rad);
    }
    feed(rules, video, "port/seal/ES-2",
         "{\"id\":\"s1\",\"ts\":\"2026-11-26T08:04:00Z\",\"seal\":\"ES-2\","
         "\"container\":\"PSTU2001021\",\"state\":\"tampered\"}");

    PsScene *scene = app_video_scene(video);
    for (guint i = 0; i < G_N_ELEMENTS(codes); i++)
        overlay_scene_put_detection(scene, "rail", codes[i], "22G1", boxes[i], 0.9, NOW);
    PsSceneContainer info;
    ck_assert(overlay_scene_get_container(scene, "PSTU2001021", &info));
    ck_assert_int_eq(info.status, PS_STATUS_HELD);
    ck_assert_str_eq(info.reason, "seal tampered");
    ck_assert_str_eq(info.goods, "machine parts"); /* the declaration's facts are kept */
    overlay_container_info_clear(&info);
    ck_assert(overlay_scene_get_container(scene, "PSTU2001063", &info));
    ck_assert_int_eq(info.status, PS_STATUS_PENDING);
    ck_assert_str_eq(info.reason, "radiation scan");
    overlay_container_info_clear(&info);

    g_autofree guint8 *frame = g_malloc0(W * H * 4);
    g_autoptr(PsRenderer) renderer = overlay_renderer_new(NULL);
    ck_assert(overlay_render(renderer, scene, "rail", NULL, NULL, frame, W, H, W * 4, NOW,
                             &error));
    ck_assert_no_error(error);
    int r, g, b;
    edge(frame, boxes[0], &r, &g, &b);
    ck_assert_msg(g > 150 && r < 100 && b < 120, "released: edge %d,%d,%d, not green", r, g, b);
    edge(frame, boxes[1], &r, &g, &b);
    ck_assert_msg(r > 150 && g < 100 && b < 120, "held (seal tampered, declaration released): "
                  "edge %d,%d,%d, not red", r, g, b);
    edge(frame, boxes[2], &r, &g, &b);
    ck_assert_msg(r > 150 && g > 120 && b < 120, "pending: edge %d,%d,%d, not amber", r, g, b);

    app_video_free(video);
    rules_free(rules);
    store_close(store);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_wall_draws_released_green_held_red_and_pending_amber},
};

TESTUTIL_MAIN("wall-verdict", "verdict", 0, TESTUTIL_TESTS(tests))
