/* test_ais_conformance.c: `portsight ais decode -u` against `gpsdecode -u -j -s` on the shared
 * gpsd and libais captures. Both programs run on each file; their JSON objects are compared
 * semantically (json-glib), every key gpsdecode prints except *_text, device and scaled.
 * Exits 77 (meson's SKIP) with a message when the shared data or gpsdecode is absent. */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static const char *const captures[] = {
    "ais/gpsd/sample.aivdm",
    "ais/gpsd/ais-18-27.log",
    "ais/gpsd/ais-nmea-type6-fid55.log",
    "ais/gpsd/ais-nmea.log",
    "ais/gpsd/ais-raw-messages.log",
    "ais/gpsd/ais_unpack_sixbit.log",
    "ais/gpsd/ait250.log",
    "ais/gpsd/saab-r4.log",
    "ais/libais/typeexamples.nmea",
    "ais/libais/tagblock.nmea",
    "ais/libais/test.aivdm",
};

/* The AIS objects of a JSON-lines text (other classes and non-JSON lines are left out). */
static GPtrArray *ais_objects(const char *text)
{
    GPtrArray *objs = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (lines[i][0] != '{')
            continue;
        JsonNode *node = json_from_string(lines[i], NULL);
        if (!node)
            continue;
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        if (o && g_strcmp0(json_object_get_string_member_with_default(o, "class", ""), "AIS") == 0)
            g_ptr_array_add(objs, node);
        else
            json_node_unref(node);
    }
    return objs;
}

static gint64 member_int(JsonNode *n, const char *k)
{
    return json_object_get_int_member_with_default(json_node_get_object(n), k, -1);
}

/* The keys of @ref that @got lacks or has with another value, or NULL when all agree. */
static char *differences(JsonNode *ref, JsonNode *got)
{
    JsonObject *r = json_node_get_object(ref), *g = json_node_get_object(got);
    GString *diff = NULL;
    GList *members = json_object_get_members(r);
    for (GList *l = members; l; l = l->next) {
        const char *k = l->data;
        if (g_str_has_suffix(k, "_text") || strcmp(k, "device") == 0 || strcmp(k, "scaled") == 0)
            continue;
        JsonNode *gv = json_object_get_member(g, k);
        if (gv && json_node_equal(json_object_get_member(r, k), gv))
            continue;
        if (!diff)
            diff = g_string_new("");
        g_autofree char *rs = json_to_string(json_object_get_member(r, k), FALSE);
        g_autofree char *gs = gv ? json_to_string(gv, FALSE) : g_strdup("(absent)");
        g_string_append_printf(diff, " %s: gpsdecode %s, portsight %s;", k, rs, gs);
    }
    g_list_free(members);
    return diff ? g_string_free(diff, FALSE) : NULL;
}

START_TEST(test_unscaled_output_matches_gpsdecode)
{
    const char *data = testutil_shared_data();
    if (!data)
        testutil_skip("the reference data ($PS_SHARED_DATA, ../shared/data) is absent");
    g_autofree char *gpsdecode = testutil_need_program("gpsdecode", "gpsd-clients");
    g_autofree char *path = g_build_filename(data, captures[_i], NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        testutil_skip("%s is absent", path);

    g_autofree char *ref_out = NULL, *ref_err = NULL;
    const char *sh[] = {"/bin/sh", "-c", "exec \"$0\" -u -j -s < \"$1\"", gpsdecode, path, NULL};
    int status = 0;
    GError *error = NULL;
    ck_assert_msg(g_spawn_sync(NULL, (char **)sh, NULL, G_SPAWN_DEFAULT, NULL, NULL, &ref_out,
                               &ref_err, &status, &error),
                  "gpsdecode: %s", error ? error->message : "");

    g_autofree char *out = NULL, *err = NULL;
    ck_assert_int_eq(testutil_portsight((const char *[]){"ais", "decode", "-u", path, NULL},
                                        &out, &err),
                     0);

    g_autoptr(GPtrArray) ref = ais_objects(ref_out);
    g_autoptr(GPtrArray) got = ais_objects(out);
    /* Pair each gpsdecode object with the next portsight object of the same type and MMSI:
     * portsight may decode a few more (gpsdecode drops a last line without a newline). */
    guint j = 0, matched = 0, missing = 0;
    GString *report = g_string_new("");
    for (guint i = 0; i < ref->len; i++) {
        JsonNode *r = ref->pdata[i];
        guint k;
        for (k = j; k < got->len && k < j + 8; k++)
            if (member_int(got->pdata[k], "type") == member_int(r, "type") &&
                member_int(got->pdata[k], "mmsi") == member_int(r, "mmsi"))
                break;
        if (k >= got->len || k >= j + 8) {
            missing++;
            g_autofree char *text = json_to_string(r, FALSE);
            if (missing <= 3)
                g_string_append_printf(report, "\n  missing: %s", text);
            continue;
        }
        j = k + 1;
        g_autofree char *d = differences(r, got->pdata[k]);
        if (d) {
            if (i - matched - missing < 5)
                g_string_append_printf(report, "\n  message %u (type %" G_GINT64_FORMAT "):%s",
                                       i + 1, member_int(r, "type"), d);
        } else {
            matched++;
        }
    }
    printf("%s: %u of %u gpsdecode messages matched (portsight printed %u)\n", captures[_i],
           matched, ref->len, got->len);
    ck_assert_msg(ref->len > 0, "%s: gpsdecode printed nothing", captures[_i]);
    ck_assert_msg(matched == ref->len, "%s: %u of %u matched:%s", captures[_i], matched,
                  ref->len, report->str);
    g_string_free(report, TRUE);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_unscaled_output_matches_gpsdecode, G_N_ELEMENTS(captures)},
};

TESTUTIL_MAIN("ais-conformance", "gpsdecode", 120, TESTUTIL_TESTS(tests))
