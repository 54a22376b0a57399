/* test_node.c: node/: the role table, the node status payload (built, parsed back, and bad
 * payloads from the broker refused with a reason), the directory, verdicts onto a scene. */
#include <string.h>

#include "node.h"
#include "testutil.h"

START_TEST(test_roles_run_only_their_parts)
{
    NodeRole r;
    ck_assert(node_role_parse("cameras", &r) && r == NODE_ROLE_CAMERAS);
    ck_assert(!node_role_parse("camera", &r));
    ck_assert(node_role_runs(NODE_ROLE_ALL, NODE_PART_SUBSCRIBER));
    ck_assert(node_role_runs(NODE_ROLE_ALL, NODE_PART_RULES_ON_READS));
    ck_assert(!node_role_runs(NODE_ROLE_CAMERAS, NODE_PART_SUBSCRIBER));
    ck_assert(!node_role_runs(NODE_ROLE_CAMERAS, NODE_PART_RULES_ON_READS));
    ck_assert(node_role_runs(NODE_ROLE_CAMERAS, NODE_PART_RELAY));
    ck_assert(!node_role_runs(NODE_ROLE_DECISIONS, NODE_PART_VIDEO));
    ck_assert(node_role_runs(NODE_ROLE_DECISIONS, NODE_PART_AIS));
    ck_assert(!node_role_runs(NODE_ROLE_WALL, NODE_PART_RELAY));
    ck_assert(node_role_runs(NODE_ROLE_WALL, NODE_PART_FEED));
}
END_TEST

START_TEST(test_status_payload_parses_back)
{
    g_autoptr(NodeStatus) s = node_status_new("cam-a", NODE_ROLE_CAMERAS, TRUE);
    node_status_add_camera(s, "rail-1", "rtsp://10.0.0.5:8554/cam/rail-1");
    node_status_add_camera(s, "gate-3", NULL);
    g_autofree char *text = node_status_payload(s, "2026-12-01T10:00:00.000Z");
    GError *error = NULL;
    g_autoptr(NodeStatus) back = node_status_parse("cam-a", text, strlen(text), &error);
    ck_assert_no_error(error);
    ck_assert_str_eq(back->node, "cam-a");
    ck_assert_int_eq(back->role, NODE_ROLE_CAMERAS);
    ck_assert(back->online);
    ck_assert_uint_eq(back->cameras->len, 2);
    ck_assert_str_eq(g_array_index(back->cameras, NodeCamera, 0).stream,
                     "rtsp://10.0.0.5:8554/cam/rail-1");
    ck_assert_ptr_null(g_array_index(back->cameras, NodeCamera, 1).stream);
    ck_assert_str_eq(node_status_topic_node("status/node-cam-a"), "cam-a");
    ck_assert_ptr_null(node_status_topic_node("status/camera-a"));
    ck_assert_ptr_null(node_status_topic_node("status/node-a/b"));
}
END_TEST

static const struct {
    const char *payload, *why;
} bad[] = {
    {"online", "not JSON"},
    {"[]", "not a JSON object"},
    {"{\"node\":\"cam-b\",\"role\":\"cameras\",\"state\":\"online\"}", "\"node\""},
    {"{\"node\":\"cam-a\",\"role\":\"camera\",\"state\":\"online\"}", "\"role\""},
    {"{\"node\":\"cam-a\",\"role\":\"cameras\",\"state\":\"up\"}", "\"state\""},
    {"{\"node\":\"cam-a\",\"role\":\"cameras\",\"state\":\"online\",\"cameras\":{}}",
     "not an array"},
    {"{\"node\":\"cam-a\",\"role\":\"cameras\",\"state\":\"online\",\"cameras\":"
     "[{\"name\":\"a b\"}]}",
     "cameras[0].name"},
    {"{\"node\":\"cam-a\",\"role\":\"cameras\",\"state\":\"online\",\"cameras\":"
     "[{\"name\":\"a\",\"stream\":\"file:///etc/passwd\"}]}",
     "cameras[0].stream"},
    {"{\"node\":\"cam-a\",\"role\":\"cameras\",\"state\":\"online\",\"cameras\":"
     "[{\"name\":\"a\",\"stream\":\"rtsp://h/x\\\" ! filesink location=/tmp/x\"}]}",
     "cameras[0].stream"},
};

START_TEST(test_bad_status_is_refused_with_the_reason)
{
    GError *error = NULL;
    NodeStatus *s = node_status_parse("cam-a", bad[_i].payload, strlen(bad[_i].payload), &error);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error->message, bad[_i].why), "row %d: '%s' lacks '%s'", _i,
                  error->message, bad[_i].why);
    g_error_free(error);
}
END_TEST

START_TEST(test_too_many_cameras_are_refused)
{
    GString *p = g_string_new("{\"node\":\"n\",\"role\":\"cameras\",\"state\":\"online\","
                              "\"cameras\":[");
    for (int i = 0; i <= NODE_MAX_CAMERAS; i++)
        g_string_append_printf(p, "%s{\"name\":\"c%d\"}", i ? "," : "", i);
    g_string_append(p, "]}");
    GError *error = NULL;
    ck_assert_ptr_null(node_status_parse("n", p->str, p->len, &error));
    ck_assert_ptr_nonnull(strstr(error->message, "at most"));
    g_error_free(error);
    g_string_free(p, TRUE);
}
END_TEST

START_TEST(test_directory_knows_cameras_and_their_node_state)
{
    NodeDirectory *d = node_directory_new();
    NodeStatus *s = node_status_new("cam-a", NODE_ROLE_CAMERAS, TRUE);
    node_status_add_camera(s, "rail-1", "rtsp://h:1/cam/rail-1");
    ck_assert(node_directory_update(d, s));
    s = node_status_new("cam-a", NODE_ROLE_CAMERAS, TRUE);
    node_status_add_camera(s, "rail-1", "rtsp://h:1/cam/rail-1");
    ck_assert(!node_directory_update(d, s)); /* the same again: no change */
    g_autofree char *stream = NULL;
    gboolean online = FALSE;
    ck_assert(node_directory_camera(d, "rail-1", &stream, &online));
    ck_assert_str_eq(stream, "rtsp://h:1/cam/rail-1");
    ck_assert(online);
    s = node_status_new("cam-a", NODE_ROLE_CAMERAS, FALSE);
    node_status_add_camera(s, "rail-1", "rtsp://h:1/cam/rail-1");
    ck_assert(node_directory_update(d, s)); /* its will */
    ck_assert(node_directory_camera(d, "rail-1", NULL, &online));
    ck_assert(!online);
    guint nodes, up, cams;
    node_directory_counts(d, &nodes, &up, &cams);
    ck_assert_uint_eq(nodes, 1);
    ck_assert_uint_eq(up, 0);
    ck_assert(!node_directory_camera(d, "rail-9", NULL, NULL));
    node_directory_free(d);
}
END_TEST

START_TEST(test_verdicts_from_the_broker_colour_the_scene)
{
    g_autoptr(PsScene) scene = overlay_scene_new(1000000);
    const char *rel = "{\"id\":\"release:PSTU2001016:D1\",\"container\":\"PSTU2001016\"}";
    const char *hold = "{\"id\":\"h\",\"container\":\"PSTU2001021\",\"reasons\":[\"seal "
                       "tampered\",\"radiation alarm\"]}";
    ck_assert(node_verdict_apply(scene, "release/PSTU2001016", rel, strlen(rel)));
    ck_assert(node_verdict_apply(scene, "hold/PSTU2001021", hold, strlen(hold)));
    /* A payload about another container than its topic's is not applied. */
    ck_assert(!node_verdict_apply(scene, "release/PSTU2001063", rel, strlen(rel)));
    ck_assert(!node_verdict_apply(scene, "ocr/rail-1", rel, strlen(rel)));
    PsSceneContainer c;
    ck_assert(overlay_scene_get_container(scene, "PSTU2001016", &c));
    ck_assert_int_eq(c.status, PS_STATUS_RELEASED);
    overlay_container_info_clear(&c);
    ck_assert(overlay_scene_get_container(scene, "PSTU2001021", &c));
    ck_assert_int_eq(c.status, PS_STATUS_HELD);
    ck_assert_str_eq(c.reason, "seal tampered, radiation alarm");
    overlay_container_info_clear(&c);
    ck_assert(!overlay_scene_get_container(scene, "PSTU2001063", &c));
}
END_TEST

static const TestutilTest tests[] = {
    {&test_roles_run_only_their_parts},
    {&test_status_payload_parses_back},
    {&test_bad_status_is_refused_with_the_reason, G_N_ELEMENTS(bad)},
    {&test_too_many_cameras_are_refused},
    {&test_directory_knows_cameras_and_their_node_state},
    {&test_verdicts_from_the_broker_colour_the_scene},
};

TESTUTIL_MAIN("node", "node", 0, TESTUTIL_TESTS(tests))
