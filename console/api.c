/* api.c: the JSON API over the engine's modules, /healthz, /metrics and the live lists. */
#include <math.h>
#include <string.h>

#include "ais.h"
#include "console-private.h"
#include "explain.h"
#include "iso6346.h"
#include "overlay.h"
#include "store-ais.h"
#include "store-outbox.h"
#include "store-rules.h"
#include "vessel_calls.h"
#include "wall.h"

#define MAX_DAYS 3650
#define LIST_MAX 500
#define LIVE_MAX 64
#define NAME_MATCHES_MAX 20

typedef JsonBuilder B;

static void add_str(B *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void add_int(B *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

static void add_double(B *b, const char *name, double value)
{
    json_builder_set_member_name(b, name);
    if (isfinite(value))
        json_builder_add_double_value(b, value);
    else
        json_builder_add_null_value(b);
}

/* Adds JSON @text (NULL or unparsable: null) as member @name. */
static void add_json(B *b, const char *name, const char *text)
{
    json_builder_set_member_name(b, name);
    g_autoptr(JsonParser) p = json_parser_new();
    if (text && json_parser_load_from_data(p, text, -1, NULL) && json_parser_get_root(p))
        json_builder_add_value(b, json_node_copy(json_parser_get_root(p)));
    else
        json_builder_add_null_value(b);
}

static char *finish(B *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

static PsRules *rules_of(PsConsole *c)
{
    return c->cfg.rules ? *c->cfg.rules : NULL;
}

static PsVessels *vessels_of(PsConsole *c)
{
    return c->cfg.vessels ? *c->cfg.vessels : NULL;
}

/* "outbox": {DESTINATION: undelivered rows, ...} for every configured destination. */
static void add_outbox_backlog(B *b, PsConsole *c)
{
    json_builder_set_member_name(b, "outbox");
    json_builder_begin_object(b);
    for (char **d = c->destinations; d && *d; d++) {
        PsOutboxStats st = {0};
        if (store_outbox_stats(c->cfg.store, *d, &st, NULL))
            add_int(b, *d, st.pending);
    }
    json_builder_end_object(b);
}

/* ---- decisions ---- */

static gboolean on_decision(const PsDecisionRow *row, gpointer data)
{
    rules_decision_to_json(data, row);
    return TRUE;
}

/* ---- vessels ---- */

static void add_risk(PsConsole *c, B *b, guint mmsi, gint64 now)
{
    PsVessels *vs = vessels_of(c);
    json_builder_set_member_name(b, "high_risk");
    if (!vs) {
        json_builder_add_null_value(b);
        return;
    }
    g_autoptr(GArray) calls = g_array_new(FALSE, FALSE, sizeof(PsVesselCall));
    gboolean flag = vessels_risk_flag(vs, mmsi, now, calls);
    json_builder_add_boolean_value(b, flag);
    json_builder_set_member_name(b, "risk_calls");
    json_builder_begin_array(b);
    for (guint i = 0; i < calls->len; i++) {
        const PsVesselCall *vc = &g_array_index(calls, PsVesselCall, i);
        json_builder_begin_object(b);
        add_str(b, "port", vc->port->name);
        add_str(b, "country", vc->port->country);
        g_autofree char *a = vessel_calls_rfc3339(vc->arrival);
        add_str(b, "arrived", a);
        g_autofree char *d = vc->departure ? vessel_calls_rfc3339(vc->departure) : NULL;
        add_str(b, "departed", d);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void add_position(PsConsole *c, B *b, guint mmsi)
{
    PsVessels *vs = vessels_of(c);
    PsVesselInfo info;
    json_builder_set_member_name(b, "position");
    if (!vs || !vessels_get(vs, mmsi, &info) || !info.has_position) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    add_double(b, "lat", info.lat);
    add_double(b, "lon", info.lon);
    add_double(b, "sog", info.sog);
    add_double(b, "cog", info.cog);
    g_autofree char *seen = vessel_calls_rfc3339(info.last_seen);
    add_str(b, "at", seen);
    add_str(b, "state", info.visiting ? (info.in_call ? "in port" : "approaching port")
                        : isfinite(info.sog) && info.sog < 0.5 ? "stopped"
                                                                : "under way");
    add_str(b, "port", info.visiting ? info.visiting->name : NULL);
    json_builder_end_object(b);
}

typedef struct {
    PsConsole *console;
    gint64 now;
} VesselExtra;

static void add_risk_and_position(JsonBuilder *b, guint mmsi, gpointer data)
{
    const VesselExtra *x = data;
    add_risk(x->console, b, mmsi, x->now);
    add_position(x->console, b, mmsi);
}

static void vessel_calls(PsConsole *c, SoupServerMessage *msg, GHashTable *query)
{
    const char *name = query ? g_hash_table_lookup(query, "name") : NULL;
    const char *days_text = query ? g_hash_table_lookup(query, "days") : NULL;
    const char *until_text = query ? g_hash_table_lookup(query, "until") : NULL;
    g_autofree char *q = g_strstrip(g_strdup(name ? name : ""));
    if (!*q || strlen(q) > 64 || !g_utf8_validate(q, -1, NULL)) {
        console_reply_error(msg, SOUP_STATUS_BAD_REQUEST,
                            "name: give a vessel name (prefix) or an MMSI, up to 64 characters");
        return;
    }
    gint64 days = 30;
    if (days_text) {
        char *end = NULL;
        days = g_ascii_strtoll(days_text, &end, 10);
        if (end == days_text || *end || days < 1 || days > MAX_DAYS) {
            console_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "days: expected 1..%d", MAX_DAYS);
            return;
        }
    }
    gint64 until = g_get_real_time() / G_USEC_PER_SEC;
    if (until_text) {
        g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(until_text, NULL);
        if (!dt) {
            console_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "until: expected RFC 3339");
            return;
        }
        until = g_date_time_to_unix(dt);
    }
    PsVesselCallsQuery vq = {q, TRUE, NAME_MATCHES_MAX, (int)days, until};
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(GError) error = NULL;
    VesselExtra x = {c, until};
    if (!vessel_calls_build(c->cfg.store, &vq, add_risk_and_position, &x, b, NULL, &error)) {
        console_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "store: %s", error->message);
        return;
    }
    console_reply_json(msg, SOUP_STATUS_OK, finish(b));
}

/* The [lat, lon, t] points of @pts up to @until, at most 2000: a long track is thinned evenly (a
 * polyline on a phone). */
static void add_track_points(B *b, GArray *pts, gint64 until)
{
    guint step = pts->len > 2000 ? (pts->len + 1999) / 2000 : 1;
    for (guint i = 0; i < pts->len; i += step) {
        const PsAisTrackPoint *p = &g_array_index(pts, PsAisTrackPoint, i);
        if (p->t > until)
            break;
        json_builder_begin_array(b);
        json_builder_add_double_value(b, p->lat);
        json_builder_add_double_value(b, p->lon);
        json_builder_add_int_value(b, p->t);
        json_builder_end_array(b);
    }
}

static void vessel_track(PsConsole *c, SoupServerMessage *msg, GHashTable *query)
{
    const char *m = query ? g_hash_table_lookup(query, "mmsi") : NULL;
    const char *days_text = query ? g_hash_table_lookup(query, "days") : NULL;
    guint mmsi;
    gint64 days = days_text ? g_ascii_strtoll(days_text, NULL, 10) : 30;
    if (!m || !vessel_calls_parse_mmsi(m, &mmsi) || days < 1 || days > MAX_DAYS) {
        console_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "expected ?mmsi=9 digits&days=N");
        return;
    }
    const char *until_text = query ? g_hash_table_lookup(query, "until") : NULL;
    gint64 until = g_get_real_time() / G_USEC_PER_SEC;
    g_autoptr(GDateTime) dt = until_text ? g_date_time_new_from_iso8601(until_text, NULL) : NULL;
    if (dt)
        until = g_date_time_to_unix(dt);
    g_autoptr(GArray) pts = g_array_new(FALSE, FALSE, sizeof(PsAisTrackPoint));
    g_autoptr(GError) error = NULL;
    if (!store_ais_track(c->cfg.store, mmsi, until - days * VESSEL_CALLS_DAY, pts, &error)) {
        console_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "store: %s", error->message);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_int(b, "mmsi", mmsi);
    json_builder_set_member_name(b, "track");
    json_builder_begin_array(b);
    add_track_points(b, pts, until);
    json_builder_end_array(b);
    json_builder_end_object(b);
    console_reply_json(msg, SOUP_STATUS_OK, finish(b));
}

/* One vessel for the wall's detail panel: what the scene draws (name, type, position, track)
 * and what AIS and the store know (position and state, the track of the last @days, the ports
 * of call of the last @days with the high-risk flag and why). */
static void vessel_detail(PsConsole *c, SoupServerMessage *msg, const char *mmsi_text,
                          GHashTable *query)
{
    guint mmsi;
    const char *days_text = query ? g_hash_table_lookup(query, "days") : NULL;
    const char *until_text = query ? g_hash_table_lookup(query, "until") : NULL;
    gint64 days = days_text ? g_ascii_strtoll(days_text, NULL, 10) : 30;
    g_autoptr(GDateTime) dt = until_text ? g_date_time_new_from_iso8601(until_text, NULL) : NULL;
    if (!vessel_calls_parse_mmsi(mmsi_text, &mmsi) || mmsi == 0 || days < 1 || days > MAX_DAYS ||
        (until_text && !dt)) {
        console_reply_error(msg, SOUP_STATUS_BAD_REQUEST,
                            "expected /api/vessels/MMSI (1-9 digits)?days=1..%d&until=RFC3339",
                            MAX_DAYS);
        return;
    }
    gint64 until = dt ? g_date_time_to_unix(dt) : g_get_real_time() / G_USEC_PER_SEC;
    PsSceneVessel sv = {0};
    gboolean in_scene = c->cfg.engine.scene &&
                        overlay_scene_get_vessel(c->cfg.engine.scene, mmsi, &sv);
    PsVessels *vs = vessels_of(c);
    PsVesselInfo info = {0};
    gboolean in_memory = vs && vessels_get(vs, mmsi, &info);
    g_autoptr(GError) error = NULL;
    g_autofree char *stored_name = NULL;
    g_autoptr(GArray) pts = g_array_new(FALSE, FALSE, sizeof(PsAisTrackPoint));
    if (!store_ais_vessel_name(c->cfg.store, mmsi, &stored_name, &error) ||
        !store_ais_track(c->cfg.store, mmsi, until - days * VESSEL_CALLS_DAY, pts, &error)) {
        overlay_vessel_clear(&sv);
        console_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "store: %s", error->message);
        return;
    }
    if (!in_scene && !in_memory && !stored_name && pts->len == 0) {
        console_reply_error(msg, SOUP_STATUS_NOT_FOUND, "vessel %u: not on the wall, not in AIS",
                            mmsi);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_int(b, "mmsi", mmsi);
    add_str(b, "name", in_memory && info.name[0] ? info.name
                       : stored_name                ? stored_name
                       : in_scene                   ? sv.name
                                                    : NULL);
    add_str(b, "type", in_memory && info.ship_type ? ais_ship_type_text(info.ship_type)
                       : in_scene && sv.type && *sv.type ? sv.type
                                                          : NULL);
    json_builder_set_member_name(b, "on_wall");
    json_builder_add_boolean_value(b, in_scene);
    if (in_memory && info.has_position) {
        add_position(c, b, mmsi);
    } else if (in_scene) {
        json_builder_set_member_name(b, "position");
        json_builder_begin_object(b);
        add_double(b, "lat", sv.lat);
        add_double(b, "lon", sv.lon);
        add_double(b, "sog", sv.sog_kn);
        add_double(b, "cog", sv.cog_deg);
        add_str(b, "at", NULL);
        add_str(b, "state", isfinite(sv.sog_kn) && sv.sog_kn < 0.5 ? "stopped" : "under way");
        add_str(b, "port", NULL);
        json_builder_end_object(b);
    } else if (pts->len && g_array_index(pts, PsAisTrackPoint, 0).t <= until) {
        /* Not in memory (an AIS feed not running here): the last fix the store has. */
        const PsAisTrackPoint *last = &g_array_index(pts, PsAisTrackPoint, 0);
        for (guint i = 1; i < pts->len && g_array_index(pts, PsAisTrackPoint, i).t <= until; i++)
            last = &g_array_index(pts, PsAisTrackPoint, i);
        json_builder_set_member_name(b, "position");
        json_builder_begin_object(b);
        add_double(b, "lat", last->lat);
        add_double(b, "lon", last->lon);
        add_double(b, "sog", NAN);
        add_double(b, "cog", NAN);
        g_autofree char *at = vessel_calls_rfc3339(last->t);
        add_str(b, "at", at);
        add_str(b, "state", NULL);
        add_str(b, "port", NULL);
        json_builder_end_object(b);
    } else {
        add_str(b, "position", NULL);
    }
    /* The track: the store's for the period, else what the wall draws. */
    add_int(b, "days", days);
    g_autofree char *u = vessel_calls_rfc3339(until);
    add_str(b, "until", u);
    json_builder_set_member_name(b, "track");
    json_builder_begin_array(b);
    add_track_points(b, pts, until);
    for (gsize i = 0; pts->len == 0 && i < sv.track_len; i++) {
        json_builder_begin_array(b);
        json_builder_add_double_value(b, sv.track[i][0]);
        json_builder_add_double_value(b, sv.track[i][1]);
        json_builder_end_array(b);
    }
    json_builder_end_array(b);
    overlay_vessel_clear(&sv);
    if (!vessel_calls_add(c->cfg.store, mmsi, until - days * VESSEL_CALLS_DAY, until, b, &error)) {
        console_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "store: %s", error->message);
        return;
    }
    add_risk(c, b, mmsi, until);
    json_builder_end_object(b);
    console_reply_json(msg, SOUP_STATUS_OK, finish(b));
}

/* ---- containers ---- */

static const char *status_name(PsContainerStatus s)
{
    return s == PS_STATUS_RELEASED ? "released" : s == PS_STATUS_HELD ? "held" : "pending";
}

static void container(PsConsole *c, SoupServerMessage *msg, const char *code_in)
{
    g_autofree char *code = g_ascii_strup(code_in, -1);
    g_autoptr(GError) error = NULL;
    if (!iso6346_validate(code, &error)) {
        console_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "'%s' is not an ISO 6346 number: %s",
                            code, error->message);
        return;
    }
    PsRules *rules = rules_of(c);
    g_autofree char *now = rules ? rules_describe(rules, code) : NULL;
    PsSceneContainer facts = {0};
    gboolean has_facts = c->cfg.engine.scene &&
                         overlay_scene_get_container(c->cfg.engine.scene, code, &facts);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_str(b, "container", code);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *st = now && json_parser_load_from_data(p, now, -1, NULL)
                         ? json_node_get_object(json_parser_get_root(p))
                         : NULL;
    const char *decl = st ? json_object_get_string_member_with_default(st, "declaration", NULL)
                          : NULL;
    add_str(b, "declaration", decl ? decl : has_facts ? facts.declaration : NULL);
    /* The verdict: the rules' latest decision, else what the declaration says. */
    json_builder_set_member_name(b, "decisions");
    json_builder_begin_array(b);
    if (!store_rules_decisions_foreach(c->cfg.store, code, on_decision, b, &error)) {
        console_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "store: %s", error->message);
        overlay_container_info_clear(&facts);
        return;
    }
    json_builder_end_array(b);
    add_json(b, "now", now);
    JsonArray *open = st && json_object_has_member(st, "open")
                          ? json_object_get_array_member(st, "open")
                          : NULL;
    JsonArray *waits = st && json_object_has_member(st, "waiting_for")
                           ? json_object_get_array_member(st, "waiting_for")
                           : NULL;
    const char *verdict = open && json_array_get_length(open) ? "hold"
                          : st && waits && json_array_get_length(waits) == 0 ? "release"
                          : st ? "waiting"
                          : has_facts ? status_name(facts.status)
                                      : "unknown";
    add_str(b, "verdict", verdict);
    json_builder_set_member_name(b, "waits_for");
    json_builder_begin_array(b);
    for (guint i = 0; waits && i < json_array_get_length(waits); i++)
        json_builder_add_string_value(b, json_array_get_string_element(waits, i));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "facts");
    if (has_facts) {
        json_builder_begin_object(b);
        add_str(b, "declaration", facts.declaration);
        add_str(b, "origin", facts.origin);
        add_str(b, "destination", facts.destination);
        add_str(b, "goods", facts.goods);
        add_str(b, "consignee", facts.consignee);
        add_str(b, "vessel", facts.vessel);
        add_str(b, "status", status_name(facts.status));
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    /* The vessel it is booked on, with its AIS position when the registry has it. */
    json_builder_set_member_name(b, "vessel");
    g_autoptr(GArray) mmsis = g_array_new(FALSE, FALSE, sizeof(guint));
    if (has_facts && facts.vessel &&
        store_ais_find_by_name(c->cfg.store, facts.vessel, mmsis, NULL) && mmsis->len) {
        guint m = g_array_index(mmsis, guint, 0);
        json_builder_begin_object(b);
        add_int(b, "mmsi", m);
        add_str(b, "name", facts.vessel);
        add_position(c, b, m);
        add_risk(c, b, m, g_get_real_time() / G_USEC_PER_SEC);
        json_builder_end_object(b);
    } else if (has_facts && facts.vessel) {
        json_builder_begin_object(b);
        add_str(b, "name", facts.vessel);
        json_builder_set_member_name(b, "position");
        json_builder_add_null_value(b);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_end_object(b);
    overlay_container_info_clear(&facts);
    if (!now && !has_facts) {
        console_reply_error(msg, SOUP_STATUS_NOT_FOUND, "%s: no input has named it", code);
        return;
    }
    console_reply_json(msg, SOUP_STATUS_OK, finish(b));
}

/* ---- lists ---- */

static gint64 query_seq(GHashTable *query, const char *name)
{
    const char *v = query ? g_hash_table_lookup(query, name) : NULL;
    return v ? MAX(0, g_ascii_strtoll(v, NULL, 10)) : 0;
}

static void decisions(PsConsole *c, SoupServerMessage *msg, GHashTable *query)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(GError) error = NULL;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "decisions");
    json_builder_begin_array(b);
    if (!store_rules_decisions_after(c->cfg.store, query_seq(query, "since"), LIST_MAX,
                                     on_decision, b, &error)) {
        console_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "store: %s", error->message);
        return;
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    console_reply_json(msg, SOUP_STATUS_OK, finish(b));
}

static gboolean on_dead(const PsDeadLetterRow *row, gpointer data)
{
    B *b = data;
    json_builder_begin_object(b);
    add_int(b, "seq", row->seq);
    add_str(b, "source", row->source);
    /* Topic and id came from the network: only valid UTF-8 goes out, the rest as null. */
    add_str(b, "topic", row->topic && g_utf8_validate(row->topic, -1, NULL) ? row->topic : NULL);
    add_str(b, "id", row->id && g_utf8_validate(row->id, -1, NULL) ? row->id : NULL);
    add_str(b, "reason", g_utf8_validate(row->reason, -1, NULL) ? row->reason : "?");
    g_autofree char *at = vessel_calls_rfc3339(row->received_at / G_USEC_PER_SEC);
    add_str(b, "received_at", at);
    add_int(b, "bytes", (gint64)row->payload_len);
    json_builder_end_object(b);
    return TRUE;
}

static void deadletters(PsConsole *c, SoupServerMessage *msg, GHashTable *query)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(GError) error = NULL;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "dead_letters");
    json_builder_begin_array(b);
    if (!store_dead_letters_foreach(c->cfg.store, query_seq(query, "since"), LIST_MAX, on_dead,
                                    b, &error)) {
        console_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "store: %s", error->message);
        return;
    }
    json_builder_end_array(b);
    add_outbox_backlog(b, c);
    json_builder_end_object(b);
    console_reply_json(msg, SOUP_STATUS_OK, finish(b));
}

/* ---- actions ---- */

static void select_target(PsConsole *c, SoupServerMessage *msg)
{
    const ConsoleEngine *e = &c->cfg.engine;
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = console_body_object(msg, p);
    if (!o)
        return;
    const ConsoleWho *who = console_who(msg);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    if (json_object_get_boolean_member_with_default(o, "clear", FALSE)) {
        if (e->select && !e->select(e->data, NULL, NULL, 0, &error)) {
            console_reply_error(msg, SOUP_STATUS_CONFLICT, "%s", error->message);
            return;
        }
        g_info("console: %s cleared the selection", who->user);
        add_str(b, "selected", NULL);
    } else if (json_object_has_member(o, "x") || json_object_has_member(o, "tile")) {
        /* A click: wall pixel (x, y), or (camera, x, y) in that camera's picture. */
        double x = json_object_get_double_member_with_default(o, "x", NAN);
        double y = json_object_get_double_member_with_default(o, "y", NAN);
        const char *camera = json_object_get_string_member_with_default(o, "camera", NULL);
        double cx = x, cy = y;
        if (!isfinite(x) || !isfinite(y) || x < 0 || y < 0 || x > 16384 || y > 16384) {
            console_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "x, y: expected pixels");
            return;
        }
        if (!camera && e->wall)
            camera = wall_locate(e->wall, x, y, &cx, &cy);
        if (!camera || !e->select_at) {
            console_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no camera at (%.0f, %.0f)", x, y);
            return;
        }
        g_autofree char *code = NULL, *aim = NULL;
        guint32 mmsi = 0;
        gboolean ok = e->select_at(e->data, camera, cx, cy, &code, &mmsi, &aim, &error);
        g_info("console: %s clicked %s at (%.0f, %.0f): %s%s%s", who->user, camera, cx, cy,
               code ? code : mmsi ? "a vessel" : "nothing", ok ? "" : "; ",
               ok ? "" : error->message);
        add_str(b, "camera", camera);
        add_double(b, "x", cx);
        add_double(b, "y", cy);
        add_str(b, "selected", code);
        json_builder_set_member_name(b, "vessel");
        if (mmsi)
            json_builder_add_int_value(b, mmsi);
        else
            json_builder_add_null_value(b);
        add_json(b, "aim", aim);
        add_str(b, "warning", ok ? NULL : error->message);
    } else {
        const char *code = json_object_get_string_member_with_default(o, "container", NULL);
        gint64 mmsi = json_object_get_int_member_with_default(o, "mmsi", 0);
        const char *camera = json_object_get_string_member_with_default(o, "camera", NULL);
        g_autofree char *up = code ? g_ascii_strup(code, -1) : NULL;
        if ((!up && (mmsi <= 0 || mmsi > 999999999)) ||
            (up && !iso6346_validate(up, &error))) {
            console_reply_error(msg, SOUP_STATUS_BAD_REQUEST,
                                "expected {\"container\": ISO 6346}, {\"mmsi\": N}, "
                                "{\"camera\", \"x\", \"y\"} or {\"clear\": true}%s%s",
                                error ? ": " : "", error ? error->message : "");
            return;
        }
        gboolean ok = !e->select || e->select(e->data, camera, up, (guint32)mmsi, &error);
        g_info("console: %s selected %s%s%s", who->user, up ? up : "vessel",
               ok ? "" : ": ", ok ? "" : error->message);
        add_str(b, "selected", up);
        add_str(b, "warning", ok ? NULL : error->message);
    }
    json_builder_end_object(b);
    console_reply_json(msg, SOUP_STATUS_OK, finish(b));
    console_api_push(c);
}

static gboolean plain_name(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return FALSE;
    for (; *s; s++)
        if ((guchar)*s < 0x20 || *s == 0x7f || *s == '\\' || *s == '\'' || *s == '"')
            return FALSE;
    return TRUE;
}

/* An operator sends a PTZ to one of its presets ([camera NAME] presets). */
static void ptz_preset(PsConsole *c, SoupServerMessage *msg)
{
    const ConsoleEngine *e = &c->cfg.engine;
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = console_body_object(msg, p);
    if (!o)
        return;
    const ConsoleWho *who = console_who(msg);
    const char *camera = json_object_get_string_member_with_default(o, "camera", NULL);
    const char *preset = json_object_get_string_member_with_default(o, "preset", NULL);
    if (!plain_name(camera) || !plain_name(preset)) {
        console_reply_error(msg, SOUP_STATUS_BAD_REQUEST,
                            "expected {\"camera\": NAME, \"preset\": NAME} (1-64 printable "
                            "characters without quotes or backslashes)");
        return;
    }
    if (!e->ptz_preset) {
        console_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no PTZ cameras here");
        return;
    }
    g_autoptr(GError) error = NULL;
    double pos[3] = {0};
    if (!e->ptz_preset(e->data, camera, preset, pos, &error)) {
        g_info("console: %s: PTZ preset refused: %s", who->user, error->message);
        console_reply_error(msg, SOUP_STATUS_NOT_FOUND, "%s", error->message);
        return;
    }
    g_info("console: %s sent camera %s to preset %s (pan %.3f tilt %.3f zoom %.3f)", who->user,
           camera, preset, pos[0], pos[1], pos[2]);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_str(b, "camera", camera);
    add_str(b, "preset", preset);
    add_double(b, "pan", pos[0]);
    add_double(b, "tilt", pos[1]);
    add_double(b, "zoom", pos[2]);
    json_builder_end_object(b);
    console_reply_json(msg, SOUP_STATUS_OK, finish(b));
}

/* Officers' hold and override: a journaled input on ROOT/cmd/override, with the officer's
 * identity, that the rules apply like any other (and explain shows). */
static void officer_action(PsConsole *c, SoupServerMessage *msg, const char *action)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = console_body_object(msg, p);
    if (!o)
        return;
    const ConsoleWho *who = console_who(msg);
    const char *code = json_object_get_string_member_with_default(o, "container", NULL);
    const char *reason = json_object_get_string_member_with_default(o, "reason", NULL);
    PsRules *rules = rules_of(c);
    if (!code || !reason || !*reason || strlen(reason) > 512) {
        console_reply_error(msg, SOUP_STATUS_BAD_REQUEST,
                            "expected {\"container\": ISO 6346, \"reason\": text}");
        return;
    }
    if (!rules) {
        console_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "the rules are not running");
        return;
    }
    g_autofree char *up = g_ascii_strup(code, -1);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *ts = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ");
    g_autofree char *rand = console_random_hex(8);
    g_autofree char *id = g_strdup_printf("console-%s-%s", action, rand);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_str(b, "id", id);
    add_str(b, "ts", ts);
    add_str(b, "container", up);
    add_str(b, "action", action);
    add_str(b, "reason", reason);
    add_str(b, "officer", who->user);
    json_builder_end_object(b);
    g_autofree char *payload = finish(b);
    g_autofree char *topic = g_strdup_printf("%s/cmd/override", c->topic_root);
    RulesIngestResult r = {0};
    g_autoptr(GError) error = NULL;
    if (!rules_ingest_from(rules, "console", topic, payload, -1, &r, &error)) {
        console_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "store: %s", error->message);
        return;
    }
    if (r.outcome == RULES_REJECTED) {
        console_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "%s", r.reason);
        rules_ingest_result_clear(&r);
        return;
    }
    if (c->cfg.engine.journaled)
        c->cfg.engine.journaled(c->cfg.engine.data, topic, payload);
    g_info("console: officer %s: %s %s (%s): journaled as %s, %u decision(s)", who->user,
           action, up, reason, id, r.decisions);
    g_autoptr(JsonBuilder) rb = json_builder_new();
    json_builder_begin_object(rb);
    add_str(rb, "id", id);
    add_int(rb, "seq", r.seq);
    add_int(rb, "decisions", r.decisions);
    json_builder_end_object(rb);
    rules_ingest_result_clear(&r);
    console_reply_json(msg, SOUP_STATUS_OK, finish(rb));
    console_api_push(c);
}

/* ---- health and metrics ---- */

static char *cameras_json(PsConsole *c)
{
    const ConsoleEngine *e = &c->cfg.engine;
    return e->cameras ? e->cameras(e->data) : NULL;
}

static void healthz(PsConsole *c, SoupServerMessage *msg)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    gboolean ok = TRUE;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "components");
    json_builder_begin_object(b);
    PsStoreStats st = {0};
    gboolean store_ok = store_stats(c->cfg.store, &st, NULL);
    ok = ok && store_ok;
    add_str(b, "store", store_ok ? "ok" : "failing");
    PsRules *rules = rules_of(c);
    gint64 last = 0;
    store_journal_last_seq(c->cfg.store, &last, NULL);
    json_builder_set_member_name(b, "rules");
    json_builder_begin_object(b);
    add_str(b, "state", rules ? "ok" : "stopped");
    add_int(b, "not_evaluated", rules ? last - rules_cursor(rules) : 0);
    json_builder_end_object(b);
    ok = ok && rules;
    g_autofree char *cams = cameras_json(c);
    add_json(b, "cameras", cams);
    if (cams && strstr(cams, "\"state\":\"") && !strstr(cams, "\"degraded\":false"))
        ok = ok && !strstr(cams, "\"degraded\":true");
    json_builder_end_object(b);
    add_str(b, "status", ok ? "ok" : "degraded");
    json_builder_end_object(b);
    console_reply_json(msg, ok ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE, finish(b));
}

static void bump(GHashTable *t, const char *key, gint64 n)
{
    gint64 *v = g_hash_table_lookup(t, key);
    if (!v && g_hash_table_size(t) >= 1000)
        key = "other"; /* bounded: labels come from the network */
    v = g_hash_table_lookup(t, key);
    if (!v) {
        v = g_new0(gint64, 1);
        g_hash_table_insert(t, g_strdup(key), v);
    }
    *v += n;
}

static gboolean count_input(const PsJournalRow *row, gpointer data)
{
    PsConsole *c = data;
    /* The topic's kind: the levels after the root without the variable one. */
    const char *t = row->topic ? row->topic : "";
    gsize rl = strlen(c->topic_root);
    if (strncmp(t, c->topic_root, rl) == 0 && t[rl] == '/')
        t += rl + 1;
    g_auto(GStrv) parts = g_strsplit(t, "/", 3);
    g_autofree char *kind = parts[0] && parts[1] &&
                                    (strcmp(parts[0], "customs") == 0 ||
                                     strcmp(parts[0], "cmd") == 0 ||
                                     strcmp(parts[0], "alert") == 0)
                                ? g_strdup_printf("%s/%s", parts[0], parts[1])
                                : g_strdup(parts[0] ? parts[0] : "");
    for (char *k = kind; *k; k++)
        if (!g_ascii_isalnum(*k) && *k != '/' && *k != '-' && *k != '_')
            *k = '_';
    bump(c->inputs_by_topic, kind, 1);
    c->journal_seq = row->seq;
    return TRUE;
}

static gboolean count_dead(const PsDeadLetterRow *row, gpointer data)
{
    PsConsole *c = data;
    /* The reason's first words (before the field's value): a bounded label. */
    g_autofree char *r = g_strndup(row->reason, strcspn(row->reason, ":'\"\n"));
    for (char *k = r; *k; k++)
        if ((guchar)*k < 0x20 || *k == '\\' || (guchar)*k >= 0x80)
            *k = '_';
    bump(c->dead_by_reason, r, 1);
    c->dead_seq = row->seq;
    return TRUE;
}

static gboolean count_decision(const PsDecisionRow *row, gpointer data)
{
    PsConsole *c = data;
    bump(c->decisions_by_kind, row->kind, 1);
    c->decision_seq = row->seq;
    return TRUE;
}

static void metric_table(GString *s, const char *name, const char *help, const char *label,
                         GHashTable *t)
{
    g_string_append_printf(s, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(t), (GCompareFunc)strcmp);
    for (GList *l = keys; l; l = l->next)
        g_string_append_printf(s, "%s{%s=\"%s\"} %" G_GINT64_FORMAT "\n", name, label,
                               (char *)l->data, *(gint64 *)g_hash_table_lookup(t, l->data));
}

static void metrics(PsConsole *c, SoupServerMessage *msg)
{
    /* Incremental: each scrape reads only what was added since the previous one. */
    g_autoptr(GError) error = NULL;
    store_journal_foreach(c->cfg.store, c->journal_seq, count_input, c, &error);
    while (!error) {
        gint64 s = c->dead_seq;
        if (!store_dead_letters_foreach(c->cfg.store, s, 10000, count_dead, c, &error) ||
            c->dead_seq == s)
            break;
    }
    while (!error) {
        gint64 s = c->decision_seq;
        if (!store_rules_decisions_after(c->cfg.store, s, 10000, count_decision, c, &error) ||
            c->decision_seq == s)
            break;
    }
    if (error) {
        console_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "store: %s", error->message);
        return;
    }
    GString *s = g_string_new(NULL);
    metric_table(s, "portsight_inputs_total", "Journaled inputs by topic kind.", "topic",
                 c->inputs_by_topic);
    metric_table(s, "portsight_dead_letters_total", "Rejected inputs by reason.", "reason",
                 c->dead_by_reason);
    metric_table(s, "portsight_decisions_total", "Rules decisions by kind.", "kind",
                 c->decisions_by_kind);
    gint64 *ocr = g_hash_table_lookup(c->inputs_by_topic, "ocr");
    g_string_append_printf(s, "# HELP portsight_ocr_reads_total Container codes read by the "
                              "cameras (journaled).\n# TYPE portsight_ocr_reads_total counter\n"
                              "portsight_ocr_reads_total %" G_GINT64_FORMAT "\n",
                           ocr ? *ocr : 0);
    g_string_append(s, "# HELP portsight_outbox_backlog Messages not yet delivered.\n"
                       "# TYPE portsight_outbox_backlog gauge\n");
    for (char **d = c->destinations; d && *d; d++) {
        PsOutboxStats st = {0};
        if (store_outbox_stats(c->cfg.store, *d, &st, NULL))
            g_string_append_printf(s, "portsight_outbox_backlog{destination=\"%s\"} %"
                                      G_GINT64_FORMAT "\n", *d, st.pending);
    }
    g_autofree char *cams = cameras_json(c);
    g_autoptr(JsonParser) p = json_parser_new();
    if (cams && json_parser_load_from_data(p, cams, -1, NULL) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        JsonObject *o = json_node_get_object(json_parser_get_root(p));
        g_string_append(s, "# HELP portsight_camera_fps Frames per second a camera delivers.\n"
                           "# TYPE portsight_camera_fps gauge\n");
        g_autoptr(GList) names = json_object_get_members(o);
        for (GList *l = names; l; l = l->next) {
            JsonObject *cam = json_object_get_object_member(o, l->data);
            g_string_append_printf(s, "portsight_camera_fps{camera=\"%s\"} %.2f\n",
                                   (char *)l->data,
                                   json_object_get_double_member_with_default(cam, "fps", 0));
        }
        g_string_append(s, "# HELP portsight_camera_up 1 when the camera streams.\n"
                           "# TYPE portsight_camera_up gauge\n");
        for (GList *l = names; l; l = l->next) {
            JsonObject *cam = json_object_get_object_member(o, l->data);
            const char *state = json_object_get_string_member_with_default(cam, "state", "");
            g_string_append_printf(s, "portsight_camera_up{camera=\"%s\",state=\"%s\"} %d\n",
                                   (char *)l->data, state, strcmp(state, "online") == 0);
        }
    }
    PsRules *rules = rules_of(c);
    if (rules) {
        RulesLatency l;
        rules_decision_latency(rules, &l);
        const char *n = "portsight_decision_latency_seconds";
        g_string_append_printf(s, "# HELP %s From the journal time of the input that settled a "
                                  "decision to the decision.\n# TYPE %s histogram\n", n, n);
        for (guint i = 0; i < RULES_LATENCY_BUCKETS; i++) {
            char le[G_ASCII_DTOSTR_BUF_SIZE];
            g_ascii_formatd(le, sizeof le, "%g", rules_latency_bounds[i]);
            g_string_append_printf(s, "%s_bucket{le=\"%s\"} %" G_GUINT64_FORMAT "\n", n, le,
                                   l.le[i]);
        }
        char sum[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd(sum, sizeof sum, "%.6f", l.sum);
        g_string_append_printf(s, "%s_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n%s_sum %s\n"
                                  "%s_count %" G_GUINT64_FORMAT "\n",
                               n, l.count, n, sum, n, l.count);
    }
    guint mse = 0, rtc = 0;
    if (c->media)
        console_media_viewers(c->media, &mse, &rtc);
    g_string_append_printf(s, "# HELP portsight_console_viewers Browsers watching the wall.\n"
                              "# TYPE portsight_console_viewers gauge\n"
                              "portsight_console_viewers{transport=\"mse\"} %u\n"
                              "portsight_console_viewers{transport=\"webrtc\"} %u\n"
                              "# HELP portsight_console_requests_total HTTP requests.\n"
                              "# TYPE portsight_console_requests_total counter\n"
                              "portsight_console_requests_total %" G_GUINT64_FORMAT "\n"
                              "# HELP portsight_console_denied_total Requests refused "
                              "(401/403).\n# TYPE portsight_console_denied_total counter\n"
                              "portsight_console_denied_total %" G_GUINT64_FORMAT "\n",
                           mse, rtc, c->requests, c->denied);
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                                 "no-store");
    gsize len = s->len;
    soup_server_message_set_response(msg, "text/plain; version=0.0.4; charset=utf-8",
                                     SOUP_MEMORY_TAKE, g_string_free(s, FALSE), len);
}

/* ---- the wall's layout (for click geometry in the page) ---- */

static void wall_layout(PsConsole *c, SoupServerMessage *msg)
{
    PsWall *w = c->cfg.engine.wall;
    if (!w) {
        console_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no wall configured");
        return;
    }
    const WallConfig *wc = wall_config(w);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_int(b, "width", wc->width);
    add_int(b, "height", wc->height);
    add_int(b, "fps", wc->fps);
    json_builder_set_member_name(b, "tiles");
    json_builder_begin_array(b);
    for (guint i = 0; i < wall_tile_count(w); i++) {
        int r[4];
        wall_layout_tile(wc->layout, wc->width, wc->height, i, r);
        json_builder_begin_object(b);
        add_str(b, "camera", wall_tile_camera(w, i));
        add_int(b, "x", r[0]);
        add_int(b, "y", r[1]);
        add_int(b, "w", r[2]);
        add_int(b, "h", r[3]);
        /* What is on the tile now (wall pixels), for the page's hover and for tests. */
        json_builder_set_member_name(b, "detections");
        json_builder_begin_array(b);
        g_autoptr(GArray) boxes = g_array_new(FALSE, FALSE, sizeof(PsSceneBox));
        if (c->cfg.engine.scene)
            overlay_scene_list(c->cfg.engine.scene, wall_tile_camera(w, i), boxes);
        for (guint k = 0; k < boxes->len; k++) {
            const PsSceneBox *bx = &g_array_index(boxes, PsSceneBox, k);
            json_builder_begin_object(b);
            add_str(b, "container", bx->code);
            add_double(b, "x", r[0] + bx->bbox[0]);
            add_double(b, "y", r[1] + bx->bbox[1]);
            add_double(b, "w", bx->bbox[2]);
            add_double(b, "h", bx->bbox[3]);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        /* The vessels drawn on the tile (their dots), likewise. */
        json_builder_set_member_name(b, "vessels");
        json_builder_begin_array(b);
        g_autoptr(GArray) vboxes = g_array_new(FALSE, FALSE, sizeof(PsSceneVesselBox));
        if (c->cfg.engine.scene)
            overlay_scene_list_vessels(c->cfg.engine.scene, wall_tile_camera(w, i), r[2], r[3],
                                       vboxes);
        for (guint k = 0; k < vboxes->len; k++) {
            const PsSceneVesselBox *bx = &g_array_index(vboxes, PsSceneVesselBox, k);
            json_builder_begin_object(b);
            add_int(b, "mmsi", bx->mmsi);
            add_str(b, "name", g_utf8_validate(bx->name, -1, NULL) ? bx->name : NULL);
            add_double(b, "x", r[0] + bx->bbox[0]);
            add_double(b, "y", r[1] + bx->bbox[1]);
            add_double(b, "w", bx->bbox[2]);
            add_double(b, "h", bx->bbox[3]);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    console_reply_json(msg, SOUP_STATUS_OK, finish(b));
}

/* The streams a page can play (the wall, each camera's own) and each camera's PTZ presets. */
static void cameras_list(PsConsole *c, SoupServerMessage *msg)
{
    const ConsoleEngine *e = &c->cfg.engine;
    PsWall *w = e->wall;
    g_autofree char *health = cameras_json(c);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *h = health && json_parser_load_from_data(p, health, -1, NULL) &&
                            JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))
                        ? json_node_get_object(json_parser_get_root(p))
                        : NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "streams");
    json_builder_begin_array(b);
    if (c->media)
        json_builder_add_string_value(b, "wall");
    for (guint i = 0; c->media && w && i < wall_camera_count(w); i++)
        json_builder_add_string_value(b, wall_camera(w, i));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "cameras");
    json_builder_begin_array(b);
    /* The wall's cameras in order, then those off the wall (a PTZ without a picture). */
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; w && i < wall_camera_count(w); i++)
        g_ptr_array_add(names, (gpointer)wall_camera(w, i));
    g_autoptr(GList) members = h ? json_object_get_members(h) : NULL;
    for (GList *l = members; l; l = l->next)
        if (!w || !console_media_has_stream(c->media, l->data, NULL))
            g_ptr_array_add(names, l->data);
    for (guint n = 0; n < names->len; n++) {
        const char *name = g_ptr_array_index(names, n);
        gboolean streamed = c->media && console_media_has_stream(c->media, name, NULL);
        JsonObject *ch = h && json_object_has_member(h, name) &&
                                 JSON_NODE_HOLDS_OBJECT(json_object_get_member(h, name))
                             ? json_object_get_object_member(h, name)
                             : NULL;
        json_builder_begin_object(b);
        add_str(b, "name", name);
        add_str(b, "title", ch ? json_object_get_string_member_with_default(ch, "title", NULL)
                               : NULL);
        add_str(b, "state", ch ? json_object_get_string_member_with_default(ch, "state", NULL)
                               : NULL);
        json_builder_set_member_name(b, "tile");
        gint64 tile = -1;
        for (guint t = 0; w && t < wall_tile_count(w); t++)
            if (strcmp(wall_tile_camera(w, t), name) == 0)
                tile = t;
        if (tile >= 0)
            json_builder_add_int_value(b, tile);
        else
            json_builder_add_null_value(b);
        json_builder_set_member_name(b, "stream");
        json_builder_add_boolean_value(b, streamed);
        g_autoptr(GArray) presets = g_array_new(FALSE, FALSE, sizeof(ConsolePreset));
        gboolean ptz = e->ptz_presets && e->ptz_presets(e->data, name, presets);
        json_builder_set_member_name(b, "ptz");
        json_builder_add_boolean_value(b, ptz);
        json_builder_set_member_name(b, "presets");
        json_builder_begin_array(b);
        for (guint k = 0; k < presets->len; k++) {
            const ConsolePreset *cp = &g_array_index(presets, ConsolePreset, k);
            json_builder_begin_object(b);
            add_str(b, "name", cp->name);
            add_double(b, "pan", cp->pan);
            add_double(b, "tilt", cp->tilt);
            add_double(b, "zoom", cp->zoom);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    console_reply_json(msg, SOUP_STATUS_OK, finish(b));
}

static void whep_done(const char *answer, const char *resource, const char *error,
                      gpointer data)
{
    SoupServerMessage *msg = data;
    if (answer) {
        g_autofree char *loc = g_strdup_printf("/api/whep/%s", resource);
        SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
        soup_message_headers_replace(h, "Location", loc);
        soup_message_headers_replace(h, "Cache-Control", "no-store");
        soup_server_message_set_status(msg, SOUP_STATUS_CREATED, NULL);
        soup_server_message_set_response(msg, "application/sdp", SOUP_MEMORY_COPY, answer,
                                         strlen(answer));
    } else {
        console_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "%s", error);
    }
    soup_server_message_unpause(msg);
    g_object_unref(msg);
}

/* POST /api/whep (the wall) or /api/whep/STREAM ("wall" or a camera's name). */
static void whep(PsConsole *c, SoupServerMessage *msg, const char *stream)
{
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    const char *type = soup_message_headers_get_content_type(
        soup_server_message_get_request_headers(msg), NULL);
    if (!c->media) {
        console_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no wall configured");
        return;
    }
    if (stream && !console_media_has_stream(c->media, stream, NULL)) {
        /* The name came from the URL: named escaped (and cut) in the answer. */
        g_autofree char *shown = g_strescape(stream, NULL);
        if (strlen(shown) > 80)
            shown[80] = '\0';
        GError *unknown = NULL;
        console_media_has_stream(c->media, shown, &unknown);
        console_reply_error(msg, SOUP_STATUS_NOT_FOUND, "%s",
                            unknown ? unknown->message : "no such stream");
        g_clear_error(&unknown);
        return;
    }
    if (g_strcmp0(type, "application/sdp") != 0 || !body || body->length == 0 ||
        body->length > 64 * 1024) {
        console_reply_error(msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                            "POST an SDP offer as application/sdp (at most 64 KiB)");
        return;
    }
    g_autofree char *offer = g_strndup(body->data, body->length);
    g_autoptr(GError) error = NULL;
    /* The answer comes later (webrtcbin negotiates on its own thread): the request waits,
     * the main loop does not. */
    soup_server_message_pause(msg);
    if (!console_media_whep(c->media, stream, offer, whep_done, g_object_ref(msg), &error)) {
        g_object_unref(msg);
        soup_server_message_unpause(msg);
        console_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
    }
}

/* ---- live lists (WebSocket /api/live) ---- */

static void live_closed(SoupWebsocketConnection *ws, gpointer data)
{
    PsConsole *c = data;
    g_ptr_array_remove(c->live, ws);
}

static void live_send(PsConsole *c, const char *text)
{
    for (guint i = 0; i < c->live->len; i++) {
        SoupWebsocketConnection *ws = g_ptr_array_index(c->live, i);
        if (soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_send_text(ws, text);
    }
}

typedef struct {
    PsConsole *c;
    B *b;
    gboolean full;
    gint64 last_seq;
} LiveCtx;

/* Vessel-risk alerts are journaled inputs (ROOT/alert/vessel-risk/MMSI, source "engine"). */
static gboolean live_alert(const PsJournalRow *row, gpointer data)
{
    LiveCtx *x = data;
    x->last_seq = row->seq;
    g_autofree char *prefix = g_strdup_printf("%s/alert/vessel-risk/", x->c->topic_root);
    if (!row->topic || !g_str_has_prefix(row->topic, prefix))
        return TRUE;
    g_autofree char *text = g_strndup(row->payload, row->payload_len);
    if (g_utf8_validate(text, -1, NULL)) {
        g_autoptr(JsonParser) p = json_parser_new();
        if (json_parser_load_from_data(p, text, -1, NULL))
            json_builder_add_value(x->b, json_node_copy(json_parser_get_root(p)));
    }
    return TRUE;
}

static gboolean live_decision(const PsDecisionRow *row, gpointer data)
{
    LiveCtx *x = data;
    rules_decision_to_json(x->b, row);
    if (!x->full)
        x->c->live_decision_seq = row->seq;
    return TRUE;
}

static gboolean live_dead(const PsDeadLetterRow *row, gpointer data)
{
    LiveCtx *x = data;
    on_dead(row, x->b);
    if (!x->full)
        x->c->live_dead_seq = row->seq;
    return TRUE;
}

/* One message with what is new: decisions, dead letters, camera health, outbox backlog. */
static char *live_update(PsConsole *c, gboolean full)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    LiveCtx x = {c, b, full};
    json_builder_begin_object(b);
    add_str(b, "type", full ? "snapshot" : "update");
    json_builder_set_member_name(b, "decisions");
    json_builder_begin_array(b);
    /* The snapshot (for a new page): about the newest 50; it does not move the cursor of the
     * updates the other pages get. */
    gint64 count = 0;
    PsStoreStats st = {0};
    if (full) {
        store_rules_decision_count(c->cfg.store, &count, NULL);
        store_stats(c->cfg.store, &st, NULL);
    }
    gint64 since = full ? MAX(0, count - 50) : c->live_decision_seq;
    store_rules_decisions_after(c->cfg.store, since, 200, live_decision, &x, NULL);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "dead_letters");
    json_builder_begin_array(b);
    since = full ? MAX(0, st.dead_letters - 50) : c->live_dead_seq;
    store_dead_letters_foreach(c->cfg.store, since, 200, live_dead, &x, NULL);
    json_builder_end_array(b);
    /* Alerts: the snapshot looks back over the last 5,000 journal rows, updates go on from
     * where the previous one stopped (at most 2,000 rows each: bounded work). */
    json_builder_set_member_name(b, "alerts");
    json_builder_begin_array(b);
    gint64 last = 0;
    store_journal_last_seq(c->cfg.store, &last, NULL);
    gint64 from = full ? MAX(0, last - 5000) : MAX(c->live_journal_seq, last - 2000);
    x.last_seq = from;
    store_journal_foreach(c->cfg.store, from, live_alert, &x, NULL);
    if (!full)
        c->live_journal_seq = x.last_seq;
    json_builder_end_array(b);
    g_autofree char *cams = cameras_json(c);
    add_json(b, "cameras", cams);
    add_outbox_backlog(b, c);
    json_builder_end_object(b);
    return finish(b);
}

void console_api_live(PsConsole *c, SoupWebsocketConnection *ws)
{
    if (c->live->len >= LIVE_MAX) {
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
                                        "too many live viewers");
        return;
    }
    g_ptr_array_add(c->live, g_object_ref(ws));
    g_signal_connect(ws, "closed", G_CALLBACK(live_closed), c);
    g_autofree char *snap = live_update(c, TRUE);
    soup_websocket_connection_send_text(ws, snap);
}

static gboolean push_now(gpointer data)
{
    PsConsole *c = data;
    c->notify_source = 0;
    if (c->live->len) {
        g_autofree char *u = live_update(c, FALSE);
        live_send(c, u);
    }
    return G_SOURCE_REMOVE;
}

static gboolean poll_live(gpointer data)
{
    PsConsole *c = data;
    if (c->live->len && !c->notify_source)
        push_now(c);
    return G_SOURCE_CONTINUE;
}

void console_api_start(PsConsole *c)
{
    /* The live lists start from now: what was before is in each page's snapshot. */
    PsStoreStats st = {0};
    store_rules_decision_count(c->cfg.store, &c->live_decision_seq, NULL);
    store_stats(c->cfg.store, &st, NULL);
    c->live_dead_seq = st.dead_letters;
    store_journal_last_seq(c->cfg.store, &c->live_journal_seq, NULL);
    c->poll_source = g_timeout_add_seconds(1, poll_live, c);
}

void console_api_push(PsConsole *c)
{
    /* Coalesced: a burst of inputs gives one message. */
    if (!c->notify_source)
        c->notify_source = g_timeout_add(100, push_now, c);
}

void console_notify(PsConsole *c)
{
    if (c)
        console_api_push(c);
}

void console_api_free(PsConsole *c)
{
    if (c->poll_source)
        g_source_remove(c->poll_source);
    c->poll_source = 0;
    if (c->notify_source)
        g_source_remove(c->notify_source);
    c->notify_source = 0;
    for (guint i = 0; i < c->live->len; i++)
        g_signal_handlers_disconnect_by_data(g_ptr_array_index(c->live, i), c);
    g_ptr_array_set_size(c->live, 0);
}

gboolean console_api_dispatch(PsConsole *c, SoupServerMessage *msg, const char *method,
                              const char *path, GHashTable *query)
{
    gboolean get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (get && strcmp(path, "/healthz") == 0)
        healthz(c, msg);
    else if (get && strcmp(path, "/metrics") == 0)
        metrics(c, msg);
    else if (get && g_str_has_prefix(path, "/api/containers/") && strlen(path) < 64)
        container(c, msg, path + strlen("/api/containers/"));
    else if (get && strcmp(path, "/api/vessels/calls") == 0)
        vessel_calls(c, msg, query);
    else if (get && strcmp(path, "/api/vessels/track") == 0)
        vessel_track(c, msg, query);
    else if (get && g_str_has_prefix(path, "/api/vessels/") && strlen(path) < 32 &&
             g_ascii_isdigit(path[strlen("/api/vessels/")]))
        vessel_detail(c, msg, path + strlen("/api/vessels/"), query);
    else if (get && strcmp(path, "/api/decisions") == 0)
        decisions(c, msg, query);
    else if (get && strcmp(path, "/api/deadletters") == 0)
        deadletters(c, msg, query);
    else if (get && strcmp(path, "/api/wall") == 0)
        wall_layout(c, msg);
    else if (get && strcmp(path, "/api/cameras") == 0)
        cameras_list(c, msg);
    else if (post && strcmp(path, "/api/select") == 0)
        select_target(c, msg);
    else if (post && strcmp(path, "/api/ptz/preset") == 0)
        ptz_preset(c, msg);
    else if (post && strcmp(path, "/api/hold") == 0)
        officer_action(c, msg, "hold");
    else if (post && strcmp(path, "/api/override") == 0)
        officer_action(c, msg, "release");
    else if (post && strcmp(path, "/api/whep") == 0)
        whep(c, msg, NULL);
    else if (post && g_str_has_prefix(path, "/api/whep/"))
        whep(c, msg, path + strlen("/api/whep/"));
    else if (strcmp(method, "DELETE") == 0 && g_str_has_prefix(path, "/api/whep/")) {
        if (c->media && console_media_whep_delete(c->media, path + strlen("/api/whep/")))
            console_reply_json(msg, SOUP_STATUS_OK, g_strdup("{\"ok\":true}"));
        else
            console_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such WHEP session");
    } else
        return FALSE;
    return TRUE;
}
