/* topics.c: the contract's topics and the engine's own payloads (see topics.h). */
#include "topics.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* The inputs, in the order the subscriber subscribes. */
static const struct {
    const char *filter; /* under ROOT/ */
    TopicsInput kind;
} inputs[] = {
    {"customs/status", TOPICS_IN_CUSTOMS},   {"rail/+/arrival", TOPICS_IN_ARRIVAL},
    {"gate/+", TOPICS_IN_GATE},              {"seal/+", TOPICS_IN_SEAL},
    {"radiation/+", TOPICS_IN_RADIATION},    {"ocr/+", TOPICS_IN_OCR},
    {"cmd/select", TOPICS_IN_SELECT},        {"cmd/override", TOPICS_IN_OVERRIDE},
};

const char *topics_root(const char *configured)
{
    return configured && *configured ? configured : "port";
}

char **topics_inputs(const char *root)
{
    root = topics_root(root);
    char **topics = g_new0(char *, G_N_ELEMENTS(inputs) + 1);
    for (guint i = 0; i < G_N_ELEMENTS(inputs); i++)
        topics[i] = g_strdup_printf("%s/%s", root, inputs[i].filter);
    return topics;
}

char **topics_subscriptions(const char *root)
{
    char **topics = g_new0(char *, 2);
    topics[0] = g_strdup_printf("%s/#", topics_root(root));
    return topics;
}

gboolean topics_is_output(const char *root, const char *topic)
{
    static const char *const outputs[] = {"release", "hold", "status", "alert", NULL};
    g_autofree char *kind = topics_output_kind(root, topic);
    return kind && g_strv_contains(outputs, kind);
}

const char *topics_rest(const char *root, const char *topic)
{
    root = topics_root(root);
    gsize n = strlen(root);
    if (topic && strncmp(topic, root, n) == 0 && topic[n] == '/')
        return topic + n + 1;
    return NULL;
}

/* Does @rest match @filter level by level ('+' matches one non-empty level)? On a match,
 * *@level gets what '+' matched (or NULL). */
static gboolean match(const char *filter, const char *rest, char **level)
{
    g_auto(GStrv) f = g_strsplit(filter, "/", -1);
    g_auto(GStrv) r = g_strsplit(rest, "/", -1);
    if (g_strv_length(f) != g_strv_length(r))
        return FALSE;
    const char *plus = NULL;
    for (guint i = 0; f[i]; i++) {
        if (!*r[i])
            return FALSE;
        if (strcmp(f[i], "+") == 0)
            plus = r[i];
        else if (strcmp(f[i], r[i]) != 0)
            return FALSE;
    }
    if (level)
        *level = plus ? g_strdup(plus) : NULL;
    return TRUE;
}

TopicsInput topics_input(const char *topic_rest, char **level)
{
    if (level)
        *level = NULL;
    if (!topic_rest)
        return TOPICS_IN_UNKNOWN;
    for (guint i = 0; i < G_N_ELEMENTS(inputs); i++)
        if (match(inputs[i].filter, topic_rest, level))
            return inputs[i].kind;
    return TOPICS_IN_UNKNOWN;
}

char *topics_ocr(const char *root, const char *camera)
{
    return g_strdup_printf("%s/ocr/%s", topics_root(root), camera);
}

char *topics_status(const char *root, const char *component)
{
    return g_strdup_printf("%s/status/%s", topics_root(root), component);
}

char *topics_camera_status(const char *root, const char *camera)
{
    return g_strdup_printf("%s/status/camera-%s", topics_root(root), camera);
}

char *topics_node_status(const char *root, const char *node)
{
    return g_strdup_printf("%s/status/node-%s", topics_root(root), node);
}

char *topics_decision(const char *root, const char *kind, const char *container)
{
    return g_strdup_printf("%s/%s/%s", topics_root(root), kind, container);
}

char *topics_output_kind(const char *root, const char *topic)
{
    const char *rest = topics_rest(root, topic);
    if (!rest)
        return NULL;
    const char *slash = strchr(rest, '/');
    return slash ? g_strndup(rest, (gsize)(slash - rest)) : g_strdup(rest);
}

gboolean topics_output_kind_is(const char *root, const char *topic, const char *kind)
{
    g_autofree char *k = topics_output_kind(root, topic);
    return k && g_strcmp0(k, kind) == 0;
}

char *topics_now(void)
{
    GDateTime *t = g_date_time_new_now_utc();
    char *s = g_date_time_format(t, "%Y-%m-%dT%H:%M:%S.%fZ");
    g_date_time_unref(t);
    /* %f gives microseconds; keep milliseconds */
    char *dot = strrchr(s, '.');
    if (dot && strlen(dot) > 5) {
        dot[4] = 'Z';
        dot[5] = '\0';
    }
    return s;
}

static char *finish(JsonBuilder *b)
{
    json_builder_end_object(b);
    JsonNode *root = json_builder_get_root(b);
    char *text = json_to_string(root, FALSE);
    json_node_unref(root);
    return text;
}

static void add_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

char *topics_ocr_payload(const TopicsOcrRead *r)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_string(b, "id", r->id);
    add_string(b, "ts", r->ts);
    add_string(b, "camera", r->camera);
    add_string(b, "container", r->container);
    add_string(b, "size_type", r->size_type ? r->size_type : "");
    json_builder_set_member_name(b, "confidence");
    json_builder_add_double_value(b, round(r->confidence * 1000) / 1000);
    json_builder_set_member_name(b, "bbox");
    json_builder_begin_array(b);
    for (int i = 0; i < 4; i++)
        json_builder_add_int_value(b, r->bbox[i]);
    json_builder_end_array(b);
    return finish(b);
}

char *topics_camera_status_payload(const TopicsCameraStatus *s)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_string(b, "id", s->id);
    add_string(b, "ts", s->ts);
    add_string(b, "camera", s->camera);
    add_string(b, "state", s->state);
    add_string(b, "reason", s->reason ? s->reason : "");
    json_builder_set_member_name(b, "frames");
    json_builder_add_int_value(b, (gint64)s->frames);
    json_builder_set_member_name(b, "restarts");
    json_builder_add_int_value(b, s->restarts);
    return finish(b);
}

char *topics_selection_payload(const TopicsSelection *s)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_string(b, "id", s->id);
    add_string(b, "ts", s->ts);
    json_builder_set_member_name(b, "selected");
    json_builder_add_boolean_value(b, s->container || s->mmsi);
    add_string(b, "container", s->container);
    json_builder_set_member_name(b, "mmsi");
    if (s->mmsi)
        json_builder_add_int_value(b, s->mmsi);
    else
        json_builder_add_null_value(b);
    add_string(b, "camera", s->camera);
    add_string(b, "ptz", s->ptz);
    add_string(b, "note", s->note);
    return finish(b);
}
