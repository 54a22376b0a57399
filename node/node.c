/* node.c: roles, the node status payload, the directory of nodes, verdicts from the broker
 * (see node.h). */
#include "node.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "topics.h"

#define MAX_PAYLOAD (64 * 1024)
#define MAX_NODES 1024
#define MAX_NAME 64
#define MAX_REASON 512

G_DEFINE_QUARK(node-error-quark, node_error)

/* ---- roles ---- */

static const char *const role_names[] = {"all", "cameras", "decisions", "wall"};

/* Which role runs which part: one row per part, one column per role (all, cameras, decisions,
 * wall). A camera node subscribes only to learn the verdicts it draws; a wall node only to learn
 * the verdicts and which cameras exist. */
static const gboolean runs[][4] = {
    [NODE_PART_RELAY] = {TRUE, TRUE, TRUE, FALSE},
    [NODE_PART_SUBSCRIBER] = {TRUE, FALSE, TRUE, FALSE},
    [NODE_PART_FEED] = {FALSE, TRUE, FALSE, TRUE},
    [NODE_PART_AIS] = {TRUE, FALSE, TRUE, FALSE},
    [NODE_PART_DECLARATIONS] = {TRUE, FALSE, TRUE, FALSE},
    [NODE_PART_VIDEO] = {TRUE, TRUE, FALSE, TRUE},
    [NODE_PART_RULES_ON_READS] = {TRUE, FALSE, FALSE, FALSE},
    [NODE_PART_CONSOLE] = {TRUE, TRUE, TRUE, TRUE},
};

gboolean node_role_parse(const char *text, NodeRole *role)
{
    for (guint i = 0; text && i < G_N_ELEMENTS(role_names); i++)
        if (strcmp(text, role_names[i]) == 0) {
            *role = (NodeRole)i;
            return TRUE;
        }
    return FALSE;
}

const char *node_role_name(NodeRole role)
{
    return (guint)role < G_N_ELEMENTS(role_names) ? role_names[role] : "all";
}

gboolean node_role_runs(NodeRole role, NodePart part)
{
    if ((guint)part >= G_N_ELEMENTS(runs) || (guint)role >= G_N_ELEMENTS(role_names))
        return FALSE;
    return runs[part][role];
}

gboolean node_name_valid(const char *name)
{
    gsize n = name ? strlen(name) : 0;
    if (n == 0 || n > MAX_NAME)
        return FALSE;
    for (gsize i = 0; i < n; i++)
        if (!g_ascii_isalnum(name[i]) && name[i] != '-' && name[i] != '_')
            return FALSE;
    return TRUE;
}

/* ---- status ---- */

static void camera_clear(gpointer p)
{
    NodeCamera *c = p;
    g_free(c->name);
    g_free(c->stream);
}

NodeStatus *node_status_new(const char *node, NodeRole role, gboolean online)
{
    NodeStatus *s = g_new0(NodeStatus, 1);
    s->node = g_strdup(node);
    s->role = role;
    s->online = online;
    s->cameras = g_array_new(FALSE, TRUE, sizeof(NodeCamera));
    g_array_set_clear_func(s->cameras, camera_clear);
    return s;
}

void node_status_add_camera(NodeStatus *s, const char *camera, const char *stream)
{
    NodeCamera c = {g_strdup(camera), g_strdup(stream)};
    g_array_append_val(s->cameras, c);
}

void node_status_free(NodeStatus *s)
{
    if (!s)
        return;
    g_free(s->node);
    g_free(s->ts);
    g_array_unref(s->cameras);
    g_free(s);
}

char *node_status_payload(const NodeStatus *s, const char *ts)
{
    g_autofree char *now = ts ? NULL : topics_now();
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "node");
    json_builder_add_string_value(b, s->node);
    json_builder_set_member_name(b, "role");
    json_builder_add_string_value(b, node_role_name(s->role));
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, s->online ? "online" : "offline");
    json_builder_set_member_name(b, "ts");
    json_builder_add_string_value(b, ts ? ts : now);
    json_builder_set_member_name(b, "cameras");
    json_builder_begin_array(b);
    for (guint i = 0; i < s->cameras->len; i++) {
        const NodeCamera *c = &g_array_index(s->cameras, NodeCamera, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, c->name);
        if (c->stream) {
            json_builder_set_member_name(b, "stream");
            json_builder_add_string_value(b, c->stream);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) g = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(g, root);
    return json_generator_to_data(g, NULL);
}

const char *node_status_topic_node(const char *rest)
{
    if (!rest || !g_str_has_prefix(rest, "status/node-"))
        return NULL;
    const char *name = rest + strlen("status/node-");
    return *name && !strchr(name, '/') ? name : NULL;
}

/* A string member of @o, or NULL when absent or not a string. */
static const char *member_string(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static gboolean invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static gboolean invalid(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, NODE_ERROR, NODE_ERROR_INVALID, msg);
    return FALSE;
}

/* A stream URL worth handing to a camera pipeline: rtsp://, printable, at most 512 bytes. */
static gboolean stream_valid(const char *s)
{
    if (!g_str_has_prefix(s, "rtsp://") || strlen(s) > 512)
        return FALSE;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '"' || *p == '\\')
            return FALSE;
    return TRUE;
}

static gboolean parse_cameras(NodeStatus *s, JsonNode *node, GError **error)
{
    if (!node)
        return TRUE;
    if (!JSON_NODE_HOLDS_ARRAY(node))
        return invalid(error, "\"cameras\" is not an array");
    JsonArray *a = json_node_get_array(node);
    guint n = json_array_get_length(a);
    if (n > NODE_MAX_CAMERAS)
        return invalid(error, "%u cameras (at most %d)", n, NODE_MAX_CAMERAS);
    for (guint i = 0; i < n; i++) {
        JsonNode *e = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_OBJECT(e))
            return invalid(error, "cameras[%u] is not an object", i);
        JsonObject *o = json_node_get_object(e);
        const char *name = member_string(o, "name");
        const char *stream = member_string(o, "stream");
        if (!node_name_valid(name))
            return invalid(error, "cameras[%u].name is missing or not 1-64 of A-Z a-z 0-9 - _",
                           i);
        if (json_object_has_member(o, "stream") && (!stream || !stream_valid(stream)))
            return invalid(error, "cameras[%u].stream is not an rtsp:// URL", i);
        node_status_add_camera(s, name, stream);
    }
    return TRUE;
}

NodeStatus *node_status_parse(const char *topic_node, const char *payload, gsize len,
                              GError **error)
{
    if (len > MAX_PAYLOAD) {
        invalid(error, "%" G_GSIZE_FORMAT " bytes (at most %d)", len, MAX_PAYLOAD);
        return NULL;
    }
    g_autoptr(JsonParser) p = json_parser_new();
    GError *local = NULL;
    if (!json_parser_load_from_data(p, payload, (gssize)len, &local)) {
        invalid(error, "not JSON: %s", local->message);
        g_error_free(local);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        invalid(error, "not a JSON object");
        return NULL;
    }
    JsonObject *o = json_node_get_object(root);
    const char *node = member_string(o, "node");
    const char *role = member_string(o, "role");
    const char *state = member_string(o, "state");
    NodeRole r;
    if (!node_name_valid(node) || g_strcmp0(node, topic_node) != 0) {
        invalid(error, "\"node\" is missing or not the topic's node-%s", topic_node);
        return NULL;
    }
    if (!node_role_parse(role, &r)) {
        invalid(error, "\"role\" is not all, cameras, decisions or wall");
        return NULL;
    }
    if (g_strcmp0(state, "online") && g_strcmp0(state, "offline")) {
        invalid(error, "\"state\" is not online or offline");
        return NULL;
    }
    g_autoptr(NodeStatus) s = node_status_new(node, r, strcmp(state, "online") == 0);
    const char *ts = member_string(o, "ts");
    s->ts = ts && strlen(ts) <= 40 ? g_strdup(ts) : NULL;
    if (!parse_cameras(s, json_object_get_member(o, "cameras"), error))
        return NULL;
    return g_steal_pointer(&s);
}

/* ---- directory ---- */

struct NodeDirectory {
    GMutex lock;
    GHashTable *nodes; /* name -> NodeStatus */
};

NodeDirectory *node_directory_new(void)
{
    NodeDirectory *d = g_new0(NodeDirectory, 1);
    g_mutex_init(&d->lock);
    d->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                     (GDestroyNotify)node_status_free);
    return d;
}

void node_directory_free(NodeDirectory *d)
{
    if (!d)
        return;
    g_hash_table_destroy(d->nodes);
    g_mutex_clear(&d->lock);
    g_free(d);
}

static gboolean same_cameras(const NodeStatus *a, const NodeStatus *b)
{
    if (a->cameras->len != b->cameras->len)
        return FALSE;
    for (guint i = 0; i < a->cameras->len; i++) {
        const NodeCamera *x = &g_array_index(a->cameras, NodeCamera, i);
        const NodeCamera *y = &g_array_index(b->cameras, NodeCamera, i);
        if (g_strcmp0(x->name, y->name) || g_strcmp0(x->stream, y->stream))
            return FALSE;
    }
    return TRUE;
}

gboolean node_directory_update(NodeDirectory *d, NodeStatus *s)
{
    g_mutex_lock(&d->lock);
    NodeStatus *old = g_hash_table_lookup(d->nodes, s->node);
    gboolean changed = !old || old->online != s->online || old->role != s->role ||
                       !same_cameras(old, s);
    if (!old && g_hash_table_size(d->nodes) >= MAX_NODES) {
        g_mutex_unlock(&d->lock);
        node_status_free(s);
        return FALSE;
    }
    g_hash_table_replace(d->nodes, s->node, s); /* frees the old one, whose key it was */
    g_mutex_unlock(&d->lock);
    return changed;
}

gboolean node_directory_camera(NodeDirectory *d, const char *camera, char **stream,
                               gboolean *online)
{
    gboolean found = FALSE;
    g_mutex_lock(&d->lock);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, d->nodes);
    while (!found && g_hash_table_iter_next(&it, NULL, &v)) {
        NodeStatus *s = v;
        for (guint i = 0; i < s->cameras->len && !found; i++) {
            const NodeCamera *c = &g_array_index(s->cameras, NodeCamera, i);
            if (strcmp(c->name, camera) == 0) {
                found = TRUE;
                if (stream)
                    *stream = g_strdup(c->stream);
                if (online)
                    *online = s->online;
            }
        }
    }
    g_mutex_unlock(&d->lock);
    return found;
}

void node_directory_counts(NodeDirectory *d, guint *nodes, guint *online, guint *cameras)
{
    guint n = 0, on = 0, cams = 0;
    g_mutex_lock(&d->lock);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, d->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        NodeStatus *s = v;
        n++;
        if (s->online) {
            on++;
            cams += s->cameras->len;
        }
    }
    g_mutex_unlock(&d->lock);
    if (nodes)
        *nodes = n;
    if (online)
        *online = on;
    if (cameras)
        *cameras = cams;
}

char *node_directory_json(NodeDirectory *d)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    g_mutex_lock(&d->lock);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, d->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        NodeStatus *s = v;
        json_builder_set_member_name(b, s->node);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "role");
        json_builder_add_string_value(b, node_role_name(s->role));
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, s->online ? "online" : "offline");
        json_builder_set_member_name(b, "cameras");
        json_builder_begin_array(b);
        for (guint i = 0; i < s->cameras->len; i++)
            json_builder_add_string_value(b, g_array_index(s->cameras, NodeCamera, i).name);
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    g_mutex_unlock(&d->lock);
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) g = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(g, root);
    return json_generator_to_data(g, NULL);
}

/* ---- verdicts ---- */

gboolean node_verdict_apply(PsScene *scene, const char *rest, const char *payload, gsize len)
{
    gboolean release = g_str_has_prefix(rest ? rest : "", "release/");
    gboolean hold = g_str_has_prefix(rest ? rest : "", "hold/");
    if ((!release && !hold) || len > MAX_PAYLOAD)
        return FALSE;
    const char *container = strchr(rest, '/') + 1;
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, payload, (gssize)len, NULL))
        return FALSE;
    JsonNode *root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return FALSE;
    JsonObject *o = json_node_get_object(root);
    if (g_strcmp0(member_string(o, "container"), container) != 0 || strlen(container) > 15)
        return FALSE;
    GString *reason = g_string_new(NULL);
    JsonNode *r = json_object_get_member(o, "reasons");
    if (hold && r && JSON_NODE_HOLDS_ARRAY(r)) {
        JsonArray *a = json_node_get_array(r);
        for (guint i = 0; i < json_array_get_length(a) && reason->len < MAX_REASON; i++) {
            JsonNode *e = json_array_get_element(a, i);
            if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
                g_string_append_printf(reason, "%s%s", reason->len ? ", " : "",
                                       json_node_get_string(e));
        }
    }
    overlay_scene_set_verdict(scene, container, release ? PS_STATUS_RELEASED : PS_STATUS_HELD,
                              reason->len ? reason->str : NULL);
    g_string_free(reason, TRUE);
    return TRUE;
}
