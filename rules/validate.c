/* validate.c: the contract of every MQTT input, checked field by field (pure: no I/O, no
 * globals). Each failure names the field, e.g. "wagons[2].containers[0]: check digit is 3,
 * expected 7". Extra fields are accepted: the contract may grow. */
#include <string.h>

#include "iso6346.h"
#include "rules-private.h"
#include "topics.h"

G_DEFINE_QUARK(rules-error-quark, rules_error)

static gboolean invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean invalid(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, RULES_ERROR, RULES_ERROR_INVALID, msg);
    return FALSE;
}

void rules__input_clear(RulesInput *in)
{
    if (in->root)
        json_node_unref(in->root);
    if (in->containers)
        g_ptr_array_unref(in->containers);
    memset(in, 0, sizeof(*in));
}

/* ---- RFC 3339 ---- */

static gboolean digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (!g_ascii_isdigit(s[i]))
            return FALSE;
    return TRUE;
}

gboolean rules__parse_ts(const char *ts, gint64 *us)
{
    /* The shape first: GLib accepts more of ISO 8601 (week dates, no seconds) than RFC 3339. */
    gsize n = strlen(ts);
    if (n < 20 || n > 35 || !digits(ts, 4) || ts[4] != '-' || !digits(ts + 5, 2) ||
        ts[7] != '-' || !digits(ts + 8, 2) || (ts[10] != 'T' && ts[10] != 't') ||
        !digits(ts + 11, 2) || ts[13] != ':' || !digits(ts + 14, 2) || ts[16] != ':' ||
        !digits(ts + 17, 2))
        return FALSE;
    const char *p = ts + 19;
    if (*p == '.') {
        p++;
        if (!g_ascii_isdigit(*p))
            return FALSE;
        while (g_ascii_isdigit(*p))
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2)) {
        p += 6;
    } else {
        return FALSE;
    }
    if (*p != '\0')
        return FALSE;
    GDateTime *dt = g_date_time_new_from_iso8601(ts, NULL);
    if (!dt)
        return FALSE;
    *us = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
    g_date_time_unref(dt);
    return TRUE;
}

/* ---- JSON shape ---- */

/* Nesting depth of @s outside strings, so that a deep "[[[[..." never reaches the recursive
 * parser. Returns FALSE when it exceeds RULES_MAX_DEPTH. */
static gboolean depth_ok(const char *s, gsize len)
{
    int depth = 0;
    gboolean in_string = FALSE;
    for (gsize i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = FALSE;
        } else if (c == '"') {
            in_string = TRUE;
        } else if (c == '[' || c == '{') {
            if (++depth > RULES_MAX_DEPTH)
                return FALSE;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return TRUE;
}

static const char *node_type_name(JsonNode *n)
{
    switch (json_node_get_node_type(n)) {
    case JSON_NODE_OBJECT:
        return "an object";
    case JSON_NODE_ARRAY:
        return "an array";
    case JSON_NODE_NULL:
        return "null";
    case JSON_NODE_VALUE:
        break;
    }
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_STRING)
        return "a string";
    if (t == G_TYPE_BOOLEAN)
        return "a boolean";
    return "a number";
}

/* @path names the field in messages ("vessel.name", "wagons[3].wagon"). */
static gboolean want_string(JsonObject *o, const char *path, const char *name, gboolean required,
                            gsize max, const char **out, GError **error)
{
    *out = NULL;
    JsonNode *n = json_object_get_member(o, name);
    if (!n)
        return required ? invalid(error, "%s: missing", path) : TRUE;
    if (JSON_NODE_HOLDS_NULL(n) && !required)
        return TRUE;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return invalid(error, "%s: expected a string, got %s", path, node_type_name(n));
    const char *s = json_node_get_string(n);
    gsize len = strlen(s);
    if (len == 0) /* an empty optional field is absent ("plate":"" from a rail gate) */
        return required ? invalid(error, "%s: empty", path) : TRUE;
    if (len > max)
        return invalid(error, "%s: %" G_GSIZE_FORMAT " bytes, longer than %" G_GSIZE_FORMAT,
                       path, len, max);
    *out = s;
    return TRUE;
}

static gboolean want_enum(JsonObject *o, const char *name, const char *const *choices,
                          gboolean required, const char **out, GError **error)
{
    if (!want_string(o, name, name, required, RULES_MAX_STRING, out, error))
        return FALSE;
    if (!*out)
        return TRUE;
    for (int i = 0; choices[i]; i++)
        if (strcmp(*out, choices[i]) == 0) {
            *out = choices[i]; /* static: outlives the payload */
            return TRUE;
        }
    g_autofree char *list = g_strjoinv("|", (char **)choices);
    return invalid(error, "%s: unknown value '%s' (expected %s)", name, *out, list);
}

static gboolean check_container(const char *path, const char *code, GError **error)
{
    GError *local = NULL;
    if (iso6346_validate(code, &local))
        return TRUE;
    invalid(error, "%s: '%s' is not an ISO 6346 container number: %s", path, code,
            local->message);
    g_error_free(local);
    return FALSE;
}

static gboolean want_container(JsonObject *o, const char *name, gboolean required,
                               const char **out, GError **error)
{
    return want_string(o, name, name, required, RULES_MAX_STRING, out, error) &&
           (!*out || check_container(name, *out, error));
}

static gboolean want_number(JsonObject *o, const char *name, gboolean required, double min,
                            double max, GError **error)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n)
        return required ? invalid(error, "%s: missing", name) : TRUE;
    if (JSON_NODE_HOLDS_NULL(n) && !required)
        return TRUE;
    GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
    if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
        return invalid(error, "%s: expected a number, got %s", name, node_type_name(n));
    double v = t == G_TYPE_INT64 ? (double)json_node_get_int(n) : json_node_get_double(n);
    if (v < min || v > max)
        return invalid(error, "%s: %g is outside %g..%g", name, v, min, max);
    return TRUE;
}

static gboolean want_array(JsonObject *o, const char *name, gboolean required, guint max,
                           JsonArray **out, GError **error)
{
    *out = NULL;
    JsonNode *n = json_object_get_member(o, name);
    if (!n)
        return required ? invalid(error, "%s: missing", name) : TRUE;
    if (!JSON_NODE_HOLDS_ARRAY(n))
        return invalid(error, "%s: expected an array, got %s", name, node_type_name(n));
    JsonArray *a = json_node_get_array(n);
    if (json_array_get_length(a) > max)
        return invalid(error, "%s: %u entries, more than %u", name, json_array_get_length(a), max);
    *out = a;
    return TRUE;
}

/* Appends the container numbers of array @a (field @path) to @out. */
static gboolean container_list(JsonArray *a, const char *path, GPtrArray *out, GError **error)
{
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *n = json_array_get_element(a, i);
        g_autofree char *where = g_strdup_printf("%s[%u]", path, i);
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
            return invalid(error, "%s: expected a string, got %s", where, node_type_name(n));
        const char *code = json_node_get_string(n);
        if (!check_container(where, code, error))
            return FALSE;
        g_ptr_array_add(out, (gpointer)code);
    }
    return TRUE;
}

/* The topic's last-but-one level must agree with the payload's field of the same name. */
static gboolean matches_topic(const char *name, const char *value, const char *level,
                              GError **error)
{
    if (strcmp(value, level) == 0)
        return TRUE;
    return invalid(error, "%s: '%s' does not match the topic's '%s'", name, value, level);
}

static const char *const customs_status[] = {"released", "held", "inspect", "pending", NULL};
static const char *const customs_flow[] = {"rail-sea", "sea-rail", "road", NULL};
static const char *const gate_direction[] = {"in", "out", NULL};
static const char *const gate_mode[] = {"truck", "rail", NULL};
static const char *const seal_state[] = {"sealed", "opened", "tampered", NULL};
static const char *const override_action[] = {"hold", "release", NULL};
static const char *const rad_result[] = {"clear", "alarm", "fault", NULL};
static const char *const rad_category[] = {"gamma", "neutron", NULL};

static gboolean parse_customs(JsonObject *o, RulesInput *in, GError **error)
{
    const char *unused;
    JsonArray *containers;
    if (!want_string(o, "declaration", "declaration", TRUE, RULES_MAX_STRING, &in->declaration,
                     error) ||
        !want_enum(o, "status", customs_status, TRUE, &in->status, error) ||
        !want_enum(o, "flow", customs_flow, TRUE, &in->flow, error) ||
        !want_array(o, "containers", TRUE, RULES_MAX_LIST, &containers, error) ||
        !container_list(containers, "containers", in->containers, error))
        return FALSE;
    const char *texts[] = {"origin", "destination", "goods", "consignee"};
    for (guint i = 0; i < G_N_ELEMENTS(texts); i++)
        if (!want_string(o, texts[i], texts[i], FALSE, RULES_MAX_TEXT, &unused, error))
            return FALSE;
    JsonNode *v = json_object_get_member(o, "vessel");
    if (v && !JSON_NODE_HOLDS_NULL(v)) {
        if (!JSON_NODE_HOLDS_OBJECT(v))
            return invalid(error, "vessel: expected an object, got %s", node_type_name(v));
        JsonObject *vo = json_node_get_object(v);
        if (!want_string(vo, "vessel.name", "name", FALSE, RULES_MAX_STRING, &unused, error) ||
            !want_string(vo, "vessel.voyage", "voyage", FALSE, RULES_MAX_STRING, &unused, error))
            return FALSE;
        /* imo and mmsi: numbers in most feeds, strings in some; both are accepted. */
        const char *ids[] = {"imo", "mmsi"};
        for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
            JsonNode *n = json_object_get_member(vo, ids[i]);
            if (!n || JSON_NODE_HOLDS_NULL(n))
                continue;
            GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
            if (t == G_TYPE_INT64 && json_node_get_int(n) > 0 && json_node_get_int(n) < 1000000000)
                continue;
            if (t == G_TYPE_STRING && strlen(json_node_get_string(n)) <= 16)
                continue;
            return invalid(error, "vessel.%s: expected a positive number of at most 9 digits or "
                                  "a short string, got %s", ids[i], node_type_name(n));
        }
        in->vessel = v;
    }
    return TRUE;
}

static gboolean parse_arrival(JsonObject *o, const char *yard_level, RulesInput *in,
                              GError **error)
{
    JsonArray *wagons;
    if (!want_string(o, "yard", "yard", TRUE, RULES_MAX_STRING, &in->yard, error) ||
        !matches_topic("yard", in->yard, yard_level, error) ||
        !want_string(o, "train", "train", TRUE, RULES_MAX_STRING, &in->train, error) ||
        !want_array(o, "wagons", TRUE, RULES_MAX_LIST, &wagons, error))
        return FALSE;
    for (guint i = 0; i < json_array_get_length(wagons); i++) {
        JsonNode *n = json_array_get_element(wagons, i);
        g_autofree char *where = g_strdup_printf("wagons[%u]", i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            return invalid(error, "%s: expected an object, got %s", where, node_type_name(n));
        JsonObject *w = json_node_get_object(n);
        g_autofree char *wpath = g_strdup_printf("%s.wagon", where);
        g_autofree char *cpath = g_strdup_printf("%s.containers", where);
        const char *wagon;
        if (!want_string(w, wpath, "wagon", TRUE, RULES_MAX_STRING, &wagon, error))
            return FALSE;
        JsonNode *cn = json_object_get_member(w, "containers");
        if (!cn)
            return invalid(error, "%s: missing", cpath);
        if (!JSON_NODE_HOLDS_ARRAY(cn))
            return invalid(error, "%s: expected an array, got %s", cpath, node_type_name(cn));
        JsonArray *ca = json_node_get_array(cn);
        if (json_array_get_length(ca) > RULES_MAX_PER_WAGON)
            return invalid(error, "%s: %u containers on one wagon, more than %d", cpath,
                           json_array_get_length(ca), RULES_MAX_PER_WAGON);
        if (!container_list(ca, cpath, in->containers, error))
            return FALSE;
    }
    return TRUE;
}

/* Picks the input kind of @topic_rest (topics.h knows the contract's topics). Returns FALSE
 * when the topic is not one of the contract's inputs. *@level gets the variable level (yard,
 * gate, ...). */
static gboolean topic_kind(const char *topic_rest, RulesInputKind *kind, char **level)
{
    static const RulesInputKind kinds[] = {
        [TOPICS_IN_CUSTOMS] = RULES_IN_CUSTOMS, [TOPICS_IN_ARRIVAL] = RULES_IN_ARRIVAL,
        [TOPICS_IN_GATE] = RULES_IN_GATE,       [TOPICS_IN_SEAL] = RULES_IN_SEAL,
        [TOPICS_IN_RADIATION] = RULES_IN_RADIATION, [TOPICS_IN_OCR] = RULES_IN_OCR,
        [TOPICS_IN_SELECT] = RULES_IN_SELECT,   [TOPICS_IN_OVERRIDE] = RULES_IN_OVERRIDE,
    };
    TopicsInput t = topics_input(topic_rest, level);
    if (t == TOPICS_IN_UNKNOWN)
        return FALSE;
    *kind = kinds[t];
    return TRUE;
}

static gboolean parse_object(RulesInputKind kind, const char *level, JsonObject *o,
                             RulesInput *in, GError **error)
{
    const char *s;
    switch (kind) {
    case RULES_IN_CUSTOMS:
        return parse_customs(o, in, error);
    case RULES_IN_ARRIVAL:
        return parse_arrival(o, level, in, error);
    case RULES_IN_GATE:
        return want_string(o, "gate", "gate", TRUE, RULES_MAX_STRING, &s, error) &&
               matches_topic("gate", s, level, error) &&
               want_enum(o, "direction", gate_direction, TRUE, &in->value, error) &&
               want_enum(o, "mode", gate_mode, TRUE, &in->mode, error) &&
               want_container(o, "container", TRUE, &in->container, error) &&
               want_string(o, "size_type", "size_type", FALSE, 4, &s, error) &&
               want_string(o, "plate", "plate", FALSE, RULES_MAX_STRING, &s, error) &&
               want_string(o, "seal", "seal", FALSE, RULES_MAX_STRING, &s, error);
    case RULES_IN_SEAL:
        return want_string(o, "seal", "seal", TRUE, RULES_MAX_STRING, &s, error) &&
               matches_topic("seal", s, level, error) &&
               want_container(o, "container", TRUE, &in->container, error) &&
               want_enum(o, "state", seal_state, TRUE, &in->value, error) &&
               want_number(o, "battery", FALSE, 0, 100, error);
    case RULES_IN_RADIATION:
        return want_string(o, "portal", "portal", TRUE, RULES_MAX_STRING, &s, error) &&
               matches_topic("portal", s, level, error) &&
               want_container(o, "container", TRUE, &in->container, error) &&
               want_enum(o, "result", rad_result, TRUE, &in->value, error) &&
               want_enum(o, "category", rad_category, FALSE, &s, error) &&
               want_number(o, "ratio", FALSE, 0, 1e9, error);
    case RULES_IN_OCR: {
        JsonArray *bbox;
        if (!want_string(o, "camera", "camera", TRUE, RULES_MAX_STRING, &s, error) ||
            !matches_topic("camera", s, level, error) ||
            !want_container(o, "container", TRUE, &in->container, error) ||
            !want_string(o, "size_type", "size_type", FALSE, 4, &s, error) ||
            !want_number(o, "confidence", FALSE, 0, 1, error) ||
            !want_array(o, "bbox", FALSE, 4, &bbox, error))
            return FALSE;
        if (bbox && json_array_get_length(bbox) != 4)
            return invalid(error, "bbox: expected 4 numbers [x, y, w, h], got %u",
                           json_array_get_length(bbox));
        for (guint i = 0; bbox && i < 4; i++) {
            JsonNode *n = json_array_get_element(bbox, i);
            GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
            if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
                return invalid(error, "bbox[%u]: expected a number, got %s", i,
                               node_type_name(n));
        }
        return TRUE;
    }
    case RULES_IN_OVERRIDE:
        return want_container(o, "container", TRUE, &in->container, error) &&
               want_enum(o, "action", override_action, TRUE, &in->value, error) &&
               want_string(o, "reason", "reason", TRUE, 512, &in->reason, error) &&
               want_string(o, "officer", "officer", TRUE, RULES_MAX_STRING, &in->officer,
                           error);
    case RULES_IN_SELECT: {
        JsonNode *mmsi = json_object_get_member(o, "mmsi");
        if (!want_string(o, "camera", "camera", FALSE, RULES_MAX_STRING, &s, error) ||
            !want_container(o, "container", FALSE, &in->container, error))
            return FALSE;
        if (mmsi && !(JSON_NODE_HOLDS_VALUE(mmsi) &&
                      ((json_node_get_value_type(mmsi) == G_TYPE_INT64 &&
                        json_node_get_int(mmsi) > 0 && json_node_get_int(mmsi) < 1000000000) ||
                       (json_node_get_value_type(mmsi) == G_TYPE_STRING &&
                        strlen(json_node_get_string(mmsi)) == 9))))
            return invalid(error, "mmsi: expected a 9-digit MMSI, got %s", node_type_name(mmsi));
        JsonNode *clear = json_object_get_member(o, "clear");
        if (clear && !(JSON_NODE_HOLDS_VALUE(clear) &&
                       json_node_get_value_type(clear) == G_TYPE_BOOLEAN))
            return invalid(error, "clear: expected true or false, got %s", node_type_name(clear));
        if (clear && json_node_get_boolean(clear))
            return TRUE; /* clears the selection */
        if (!in->container && !mmsi)
            return invalid(error, "container or mmsi: missing (one of them is required, or "
                                  "\"clear\": true)");
        return TRUE;
    }
    }
    return invalid(error, "unknown input kind");
}

gboolean rules__parse(const char *topic_rest, const char *payload, gsize len, RulesInput *in,
                      GError **error)
{
    memset(in, 0, sizeof(*in));
    RulesInputKind kind;
    g_autofree char *level = NULL;
    if (!topic_rest || !topic_kind(topic_rest, &kind, &level))
        return invalid(error, "unknown topic '%s'", topic_rest ? topic_rest : "");
    if (len == 0)
        return invalid(error, "empty payload");
    if (len > RULES_MAX_PAYLOAD)
        return invalid(error, "payload of %" G_GSIZE_FORMAT " bytes, over the %d KiB limit", len,
                       RULES_MAX_PAYLOAD / 1024);
    const char *bad = NULL;
    if (!g_utf8_validate_len(payload, len, &bad))
        return invalid(error, "not valid UTF-8 (byte %" G_GSIZE_FORMAT ")",
                       (gsize)(bad - payload));
    if (!depth_ok(payload, len))
        return invalid(error, "not JSON this engine accepts: nested deeper than %d",
                       RULES_MAX_DEPTH);
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    GError *local = NULL;
    if (!json_parser_load_from_data(parser, payload, (gssize)len, &local)) {
        invalid(error, "not JSON: %s", local->message);
        g_error_free(local);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return invalid(error, "not a JSON object (got %s)", root ? node_type_name(root) : "nothing");
    in->kind = kind;
    in->root = json_node_ref(root);
    in->containers = g_ptr_array_new();
    JsonObject *o = json_node_get_object(root);
    if (!want_string(o, "id", "id", TRUE, RULES_MAX_STRING, &in->id, error) ||
        !want_string(o, "ts", "ts", TRUE, 64, &in->ts, error))
        goto fail;
    if (!rules__parse_ts(in->ts, &in->ts_us)) {
        invalid(error, "ts: '%s' is not an RFC 3339 date-time (e.g. 2026-11-26T10:00:00Z)",
                in->ts);
        goto fail;
    }
    if (!parse_object(kind, level, o, in, error))
        goto fail;
    return TRUE;

fail:
    rules__input_clear(in);
    return FALSE;
}

char *rules__guess_id(const char *payload, gsize len)
{
    if (!payload || len == 0 || len > RULES_MAX_PAYLOAD || !g_utf8_validate_len(payload, len, NULL) ||
        !depth_ok(payload, len))
        return NULL;
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    if (!json_parser_load_from_data(parser, payload, (gssize)len, NULL))
        return NULL;
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return NULL;
    JsonNode *id = json_object_get_member(json_node_get_object(root), "id");
    if (!id || !JSON_NODE_HOLDS_VALUE(id) || json_node_get_value_type(id) != G_TYPE_STRING)
        return NULL;
    const char *s = json_node_get_string(id);
    return strlen(s) <= RULES_MAX_STRING ? g_strdup(s) : NULL;
}

gboolean rules_validate(const char *topic_rest, const char *payload, gssize len, GError **error)
{
    RulesInput in;
    gsize n = !payload ? 0 : len < 0 ? strlen(payload) : (gsize)len;
    if (!rules__parse(topic_rest, payload ? payload : "", n, &in, error))
        return FALSE;
    rules__input_clear(&in);
    return TRUE;
}
