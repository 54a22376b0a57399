/* test_selection.c: ROOT/cmd/select without a PTZ: highlight, no warning, what was done said on
 * ROOT/status/selection; "clear": true clears; old selections are not redone at start-up. */
#include <string.h>

#include "rules.h"
#include "testutil.h"
#include "video.h"

typedef struct {
    guint n;
    char *last; /* the last ROOT/status/selection payload */
    char *topic;
} Said;

static void on_event(const char *topic, const char *id, const char *payload, gpointer data)
{
    Said *s = data;
    if (!g_str_has_suffix(topic, "/status/selection"))
        return;
    s->n++;
    g_free(s->last);
    g_free(s->topic);
    s->last = g_strdup(payload);
    s->topic = g_strdup(topic);
}

static guint warnings;

static GLogWriterOutput count_warnings(GLogLevelFlags level, const GLogField *fields,
                                       gsize n_fields, gpointer user_data)
{
    if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL))
        warnings++;
    return g_log_writer_default(level, fields, n_fields, user_data);
}

START_TEST(test_select_without_ptz_says_what_it_did_clears_and_is_not_replayed)
{
    g_log_set_writer_func(count_warnings, NULL, NULL);
    GError *error = NULL;
    const char *conf = "[store]\npath = :memory:\n[mqtt]\nurl = tcp://127.0.0.1:1\n"
                       "topic_root = t9/port\n";
    g_autoptr(AppConfig) cfg = app_config_load_data("test", conf, strlen(conf), &error);
    ck_assert_no_error(error);
    Said said = {0};
    AppVideo *v = app_video_new(cfg, on_event, &said, &error);
    ck_assert_no_error(error);
    PsScene *scene = app_video_scene(v);
    const double box[4] = {100, 100, 200, 80};
    overlay_scene_put_detection(scene, "rail", "PSTU2001016", "22G1", box, 0.9, 0);

    /* Old selections (journal rows from before the start) are not redone. */
    const char *sel = "{\"id\":\"s1\",\"ts\":\"2026-11-26T08:00:00Z\",\"container\":\"PSTU2001016\"}";
    app_video_set_replaying(v, TRUE);
    ck_assert(app_video_apply(v, "t9/port/cmd/select", sel, strlen(sel), &error));
    ck_assert_uint_eq(said.n, 0);
    app_video_set_replaying(v, FALSE);

    /* A live one: highlighted; no PTZ anywhere, so no warning; said under the topic root. */
    ck_assert(app_video_apply(v, "t9/port/cmd/select", sel, strlen(sel), &error));
    ck_assert_no_error(error);
    ck_assert_uint_eq(said.n, 1);
    ck_assert_str_eq(said.topic, "t9/port/status/selection");
    ck_assert_msg(strstr(said.last, "\"selected\":true") &&
                      strstr(said.last, "\"container\":\"PSTU2001016\"") &&
                      strstr(said.last, "\"ptz\":null"),
                  "%s", said.last);
    ck_assert_uint_eq(warnings, 0);

    /* "clear": true is a valid input and clears it. */
    const char *clear = "{\"id\":\"s2\",\"ts\":\"2026-11-26T08:00:01Z\",\"clear\":true}";
    ck_assert(rules_validate("cmd/select", clear, -1, &error));
    ck_assert_no_error(error);
    ck_assert(app_video_apply(v, "t9/port/cmd/select", clear, strlen(clear), &error));
    ck_assert_uint_eq(said.n, 2);
    ck_assert_msg(strstr(said.last, "\"selected\":false") && strstr(said.last, "cleared"), "%s",
                  said.last);
    ck_assert_uint_eq(warnings, 0);

    app_video_free(v);
    g_free(said.last);
    g_free(said.topic);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("selection");
    TCase *tc = tcase_create("select");
    tcase_add_test(tc, test_select_without_ptz_says_what_it_did_clears_and_is_not_replayed);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
