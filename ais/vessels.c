/* vessels.c: the vessel registry, tracks, port calls and high-risk alerts. */
#include "vessels.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "store-ais.h"
#include "store-outbox.h"

G_DEFINE_QUARK(vessels-error-quark, vessels_error)

#define DAY 86400
#define MAX_RISK_CALLS 32 /* per vessel, newest kept */
#define MOVING_KN 1.0     /* below this the course over ground is noise */

typedef struct {
    PsVesselInfo info;
    PsCallState call;
    gint64 last_fix_t;
    gboolean has_track;
    gint64 track_t;
    double track_sog, track_cog;
    gboolean dirty_static, dirty_position;
    GArray *risk_calls; /* PsVesselCall, oldest first; NULL until the first one */
} Vessel;

struct PsVessels {
    PsVesselsConfig config;
    char **high_risk;
    char *topic_root;
    const PsPortList *ports;
    PsStore *store;
    gboolean *risky; /* per port index */
    GHashTable *by_mmsi; /* GUINT_TO_POINTER(mmsi) -> Vessel* */
    GArray *pending;     /* PsAisTrackPoint */
    PsVesselsStats stats;
};

void vessels_config_init(PsVesselsConfig *c)
{
    *c = (PsVesselsConfig){
        .calls = {PORTCALLS_DEFAULT_RADIUS_KM, PORTCALLS_DEFAULT_STOP_KN,
                  PORTCALLS_DEFAULT_GO_KN},
        .track_interval = 300,
        .track_course_deg = 10.0,
        .track_speed_kn = 2.0,
        .track_days = 30,
        .track_buffer = 256,
        .vessel_expiry = 3600,
        .risk_days = 30,
        .high_risk = NULL,
        .topic_root = NULL,
    };
}

static void vessel_free(gpointer p)
{
    Vessel *v = p;
    if (v->risk_calls)
        g_array_unref(v->risk_calls);
    g_free(v);
}

PsVessels *vessels_new(const PsVesselsConfig *config, const PsPortList *ports, PsStore *store,
                       GError **error)
{
    g_return_val_if_fail(config && ports, NULL);
    PsVessels *vs = g_new0(PsVessels, 1);
    vs->config = *config;
    vs->high_risk = g_strdupv((char **)config->high_risk);
    vs->topic_root = g_strdup(config->topic_root ? config->topic_root : "port");
    vs->config.high_risk = (const char *const *)vs->high_risk;
    vs->config.topic_root = vs->topic_root;
    if (vs->config.track_buffer == 0)
        vs->config.track_buffer = 1;
    vs->ports = ports;
    vs->store = store;
    vs->risky = g_new0(gboolean, MAX(portcalls_ports_count(ports), 1));
    vs->by_mmsi = g_hash_table_new_full(NULL, NULL, NULL, vessel_free);
    vs->pending = g_array_new(FALSE, FALSE, sizeof(PsAisTrackPoint));
    for (int i = 0; vs->high_risk && vs->high_risk[i]; i++) {
        const char *entry = g_strstrip(vs->high_risk[i]);
        gboolean found = FALSE;
        for (guint p = 0; p < portcalls_ports_count(ports); p++) {
            const PsPort *port = portcalls_port(ports, p);
            if (g_ascii_strcasecmp(port->name, entry) == 0 ||
                (strlen(entry) == 3 && g_ascii_strcasecmp(port->country, entry) == 0)) {
                vs->risky[p] = TRUE;
                found = TRUE;
            }
        }
        if (!found) {
            g_set_error(error, VESSELS_ERROR, VESSELS_ERROR_CONFIG,
                        "high-risk entry '%s' is neither a country code nor a port of the "
                        "port list",
                        entry);
            vessels_free(vs);
            return NULL;
        }
    }
    return vs;
}

void vessels_free(PsVessels *vs)
{
    if (!vs)
        return;
    g_autoptr(GError) error = NULL;
    if (vs->store && vs->by_mmsi && !vessels_flush(vs, &error))
        g_warning("vessels: final write failed: %s", error->message);
    if (vs->by_mmsi)
        g_hash_table_destroy(vs->by_mmsi);
    if (vs->pending)
        g_array_unref(vs->pending);
    g_free(vs->risky);
    g_strfreev(vs->high_risk);
    g_free(vs->topic_root);
    g_free(vs);
}

/* ---- risk calls ---- */

static const PsPort *port_by_name_country(const PsPortList *ports, const char *name,
                                          const char *country)
{
    for (guint p = 0; p < portcalls_ports_count(ports); p++) {
        const PsPort *port = portcalls_port(ports, p);
        if (strcmp(port->name, name) == 0 && strcmp(port->country, country) == 0)
            return port;
    }
    return NULL;
}

typedef struct {
    PsVessels *vs;
    GArray *out;
} LoadArgs;

static gboolean load_risk_call(const PsAisCallRow *row, gpointer user_data)
{
    LoadArgs *a = user_data;
    const PsPort *port = port_by_name_country(a->vs->ports, row->port, row->country);
    if (port && a->vs->risky[port->index]) {
        PsVesselCall c = {port, row->arrival, row->departure};
        g_array_append_val(a->out, c);
    }
    return TRUE;
}

/* The high-risk calls of @mmsi kept in the store that end on or after @since. */
static GArray *stored_risk_calls(PsVessels *vs, guint mmsi, gint64 since)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(PsVesselCall));
    if (!vs->store)
        return out;
    LoadArgs a = {vs, out};
    g_autoptr(GError) error = NULL;
    if (!store_ais_calls(vs->store, mmsi, since, G_MAXINT64, load_risk_call, &a, &error))
        g_warning("vessels: reading the calls of %u: %s", mmsi, error->message);
    return out;
}

static gboolean call_in_window(const PsVesselCall *c, gint64 since, gint64 now)
{
    return c->arrival <= now && (c->departure == 0 || c->departure >= since);
}

gboolean vessels_risk_flag(PsVessels *vs, guint mmsi, gint64 now, GArray *calls)
{
    gint64 since = now - (gint64)vs->config.risk_days * DAY;
    Vessel *v = g_hash_table_lookup(vs->by_mmsi, GUINT_TO_POINTER(mmsi));
    g_autoptr(GArray) stored = NULL;
    GArray *list = v ? v->risk_calls : (stored = stored_risk_calls(vs, mmsi, since));
    gboolean flag = FALSE;
    for (guint i = 0; list && i < list->len; i++) {
        const PsVesselCall *c = &g_array_index(list, PsVesselCall, i);
        if (!call_in_window(c, since, now))
            continue;
        flag = TRUE;
        if (calls)
            g_array_append_val(calls, *c);
    }
    return flag;
}

/* ---- vessels ---- */

static Vessel *vessel_get(PsVessels *vs, guint mmsi, gint64 t)
{
    Vessel *v = g_hash_table_lookup(vs->by_mmsi, GUINT_TO_POINTER(mmsi));
    if (v)
        return v;
    v = g_new0(Vessel, 1);
    v->info.mmsi = mmsi;
    v->info.sog = v->info.cog = NAN;
    v->info.heading = v->info.nav_status = -1;
    portcalls_state_init(&v->call);
    if (vs->store) {
        g_autoptr(GArray) calls =
            stored_risk_calls(vs, mmsi, t - (gint64)vs->config.risk_days * DAY);
        if (calls->len > 0)
            v->risk_calls = g_array_ref(calls);
    }
    g_hash_table_insert(vs->by_mmsi, GUINT_TO_POINTER(mmsi), v);
    return v;
}

static void format_time(gint64 t, char buf[32])
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    g_autofree char *s = dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : NULL;
    g_strlcpy(buf, s ? s : "", 32);
}

static char *alert_payload(PsVessels *vs, Vessel *v, const char *id, const char *ts,
                           gint64 now)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, id);
    json_builder_set_member_name(b, "ts");
    json_builder_add_string_value(b, ts);
    json_builder_set_member_name(b, "mmsi");
    json_builder_add_int_value(b, v->info.mmsi);
    json_builder_set_member_name(b, "name");
    if (v->info.name[0])
        json_builder_add_string_value(b, v->info.name);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "ports");
    json_builder_begin_array(b);
    g_autoptr(GArray) calls = g_array_new(FALSE, FALSE, sizeof(PsVesselCall));
    vessels_risk_flag(vs, v->info.mmsi, now, calls);
    for (guint i = 0; i < calls->len; i++) {
        const PsVesselCall *c = &g_array_index(calls, PsVesselCall, i);
        char arrived[32], departed[32];
        format_time(c->arrival, arrived);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "port");
        json_builder_add_string_value(b, c->port->name);
        json_builder_set_member_name(b, "country");
        json_builder_add_string_value(b, c->port->country);
        json_builder_set_member_name(b, "arrived");
        json_builder_add_string_value(b, arrived);
        json_builder_set_member_name(b, "departed");
        if (c->departure) {
            format_time(c->departure, departed);
            json_builder_add_string_value(b, departed);
        } else {
            json_builder_add_null_value(b);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

typedef struct {
    PsVessels *vs;
    Vessel *v;
    const PsCallEvent *ev;
    gboolean alerted;
} CallArgs;

/* One call opening or closing: the call row and, for a new high-risk call, the alert in the
 * journal and the outbox, all in one transaction. */
static gboolean call_txn(PsStore *store, gpointer user_data, GError **error)
{
    CallArgs *a = user_data;
    const PsCallEvent *ev = a->ev;
    PsAisCallRow row = {a->v->info.mmsi, ev->port->name, ev->port->country, ev->arrival,
                        ev->departure};
    gboolean created = FALSE;
    if (!store_ais_put_call(store, &row, &created, error))
        return FALSE;
    if (ev->kind != PS_CALL_ARRIVED || !a->vs->risky[ev->port->index] || !created)
        return TRUE;
    g_autofree char *id = g_strdup_printf("vessel-risk-%u-%s-%s-%" G_GINT64_FORMAT,
                                          a->v->info.mmsi, ev->port->country, ev->port->name,
                                          ev->arrival);
    for (char *p = id; *p; p++)
        if (*p == ' ')
            *p = '_';
    char ts[32];
    format_time(ev->arrival, ts);
    g_autofree char *topic =
        g_strdup_printf("%s/alert/vessel-risk/%u", a->vs->topic_root, a->v->info.mmsi);
    g_autofree char *payload = alert_payload(a->vs, a->v, id, ts, ev->arrival);
    PsEvent e = {.source = "engine", .topic = topic, .id = id, .ts = ts, .payload = payload,
                 .payload_len = -1};
    gboolean duplicate = FALSE;
    if (!store_append(store, &e, &duplicate, error) ||
        !store_outbox_add(store, topic, id, payload, error))
        return FALSE;
    a->alerted = !duplicate;
    return TRUE;
}

static void remember_risk_call(PsVessels *vs, Vessel *v, const PsCallEvent *ev)
{
    if (!vs->risky[ev->port->index])
        return;
    if (!v->risk_calls)
        v->risk_calls = g_array_new(FALSE, FALSE, sizeof(PsVesselCall));
    for (guint i = 0; i < v->risk_calls->len; i++) {
        PsVesselCall *c = &g_array_index(v->risk_calls, PsVesselCall, i);
        if (c->port == ev->port && c->arrival == ev->arrival) {
            c->departure = ev->departure;
            return;
        }
    }
    PsVesselCall c = {ev->port, ev->arrival, ev->departure};
    g_array_append_val(v->risk_calls, c);
    if (v->risk_calls->len > MAX_RISK_CALLS)
        g_array_remove_index(v->risk_calls, 0);
}

static gboolean handle_call(PsVessels *vs, Vessel *v, const PsCallEvent *ev, GError **error)
{
    if (ev->kind == PS_CALL_ARRIVED)
        vs->stats.calls_opened++;
    else
        vs->stats.calls_closed++;
    remember_risk_call(vs, v, ev);
    if (!vs->store)
        return TRUE;
    CallArgs a = {vs, v, ev, FALSE};
    if (!store_transaction(vs->store, call_txn, &a, error))
        return FALSE;
    if (a.alerted) {
        vs->stats.alerts++;
        g_info("vessels: %u (%s) called at high-risk port %s (%s)", v->info.mmsi,
               v->info.name[0] ? v->info.name : "no name", ev->port->name, ev->port->country);
    }
    return TRUE;
}

static double angle_diff(double a, double b)
{
    double d = fmod(fabs(a - b), 360.0);
    return d > 180.0 ? 360.0 - d : d;
}

static gboolean wants_track_point(const PsVessels *vs, const Vessel *v, const PsVesselFix *f)
{
    if (!v->has_track)
        return TRUE;
    if (f->t <= v->track_t)
        return FALSE;
    if (f->t - v->track_t >= (gint64)vs->config.track_interval)
        return TRUE;
    if (isfinite(f->sog) && isfinite(v->track_sog) &&
        fabs(f->sog - v->track_sog) >= vs->config.track_speed_kn)
        return TRUE;
    if (isfinite(f->sog) && isfinite(v->track_sog) && isfinite(f->cog) &&
        isfinite(v->track_cog) && f->sog >= MOVING_KN && v->track_sog >= MOVING_KN &&
        angle_diff(f->cog, v->track_cog) >= vs->config.track_course_deg)
        return TRUE;
    return FALSE;
}

gboolean vessels_update_position(PsVessels *vs, const PsVesselFix *f, GError **error)
{
    if (!isfinite(f->lat) || !isfinite(f->lon) || fabs(f->lat) > 90 || fabs(f->lon) > 180)
        return TRUE;
    Vessel *v = vessel_get(vs, f->mmsi, f->t);
    if (v->last_fix_t && f->t < v->last_fix_t) {
        vs->stats.stale++;
        return TRUE;
    }
    vs->stats.fixes++;
    v->last_fix_t = f->t;
    PsVesselInfo *in = &v->info;
    in->last_seen = MAX(in->last_seen, f->t);
    in->has_position = TRUE;
    in->lat = f->lat;
    in->lon = f->lon;
    in->sog = f->sog;
    in->cog = f->cog;
    in->heading = f->heading;
    if (f->nav_status >= 0)
        in->nav_status = f->nav_status;
    v->dirty_position = TRUE;

    if (wants_track_point(vs, v, f)) {
        PsAisTrackPoint p = {f->mmsi, f->t, f->lat, f->lon, f->sog, f->cog};
        g_array_append_val(vs->pending, p);
        v->has_track = TRUE;
        v->track_t = f->t;
        v->track_sog = f->sog;
        v->track_cog = f->cog;
        vs->stats.track_points++;
    }

    PsCallEvent ev[2];
    guint n = portcalls_update(vs->ports, &vs->config.calls, &v->call, f->t, f->lat, f->lon,
                               f->sog, ev);
    in->visiting = portcalls_port(vs->ports, v->call.port >= 0 ? (guint)v->call.port
                                                                : G_MAXUINT);
    in->in_call = v->call.called;
    for (guint i = 0; i < n; i++)
        if (!handle_call(vs, v, &ev[i], error))
            return FALSE;
    if (vs->store && vs->pending->len >= vs->config.track_buffer)
        return vessels_flush(vs, error);
    if (!vs->store)
        g_array_set_size(vs->pending, 0);
    return TRUE;
}

static void copy_text(char *dst, gsize size, const char *src)
{
    g_strlcpy(dst, src, size);
    /* AIS pads with '@' and spaces; the decoder strips them, but be sure. */
    gsize n = strlen(dst);
    while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '@'))
        dst[--n] = '\0';
}

gboolean vessels_update_static(PsVessels *vs, const PsVesselStatic *s, GError **error)
{
    Vessel *v = vessel_get(vs, s->mmsi, s->t);
    PsVesselInfo *in = &v->info;
    vs->stats.statics++;
    in->last_seen = MAX(in->last_seen, s->t);
    if ((s->fields & VESSEL_NAME) && s->name[0])
        copy_text(in->name, sizeof in->name, s->name);
    if ((s->fields & VESSEL_CALLSIGN) && s->callsign[0])
        copy_text(in->callsign, sizeof in->callsign, s->callsign);
    if ((s->fields & VESSEL_DESTINATION) && s->destination[0])
        copy_text(in->destination, sizeof in->destination, s->destination);
    if ((s->fields & VESSEL_IMO) && s->imo)
        in->imo = s->imo;
    if ((s->fields & VESSEL_SHIP_TYPE) && s->ship_type)
        in->ship_type = s->ship_type;
    if ((s->fields & VESSEL_DIMENSIONS) && (s->to_bow + s->to_stern) > 0) {
        in->length_m = s->to_bow + s->to_stern;
        in->beam_m = s->to_port + s->to_starboard;
    }
    if ((s->fields & VESSEL_DRAUGHT) && s->draught > 0)
        in->draught = s->draught;
    if ((s->fields & VESSEL_ETA) && s->eta_month >= 1 && s->eta_month <= 12) {
        in->eta_month = s->eta_month;
        in->eta_day = s->eta_day;
        in->eta_hour = s->eta_hour;
        in->eta_minute = s->eta_minute;
    }
    v->dirty_static = TRUE;
    return TRUE;
}

static gboolean flush_txn(PsStore *store, gpointer user_data, GError **error)
{
    PsVessels *vs = user_data;
    if (!store_ais_add_track(store, (const PsAisTrackPoint *)vs->pending->data,
                             vs->pending->len, error))
        return FALSE;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, vs->by_mmsi);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Vessel *v = value;
        if (!v->dirty_static && !v->dirty_position)
            continue;
        const PsVesselInfo *in = &v->info;
        char eta[32] = "";
        if (in->eta_month)
            g_snprintf(eta, sizeof eta, "%02u-%02uT%02u:%02uZ", in->eta_month, in->eta_day,
                       in->eta_hour, in->eta_minute);
        PsAisVesselRow row = {
            .mmsi = in->mmsi,
            .name = in->name,
            .callsign = in->callsign,
            .destination = in->destination,
            .eta = eta,
            .imo = in->imo,
            .ship_type = in->ship_type,
            .length_m = in->length_m,
            .beam_m = in->beam_m,
            .draught_m = in->draught,
            .last_seen = in->last_seen,
            .has_position = in->has_position,
            .lat = in->lat,
            .lon = in->lon,
            .sog = in->sog,
            .cog = in->cog,
        };
        if (!store_ais_put_vessel(store, &row, error))
            return FALSE;
    }
    return TRUE;
}

gboolean vessels_flush(PsVessels *vs, GError **error)
{
    if (!vs->store) {
        g_array_set_size(vs->pending, 0);
        return TRUE;
    }
    if (!store_transaction(vs->store, flush_txn, vs, error))
        return FALSE;
    g_array_set_size(vs->pending, 0);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, vs->by_mmsi);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Vessel *v = value;
        v->dirty_static = v->dirty_position = FALSE;
    }
    return TRUE;
}

guint vessels_expire(PsVessels *vs, gint64 now, GError **error)
{
    if (vs->store && !vessels_flush(vs, error))
        return 0;
    gint64 cutoff = now - (gint64)vs->config.vessel_expiry;
    guint n = 0;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, vs->by_mmsi);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Vessel *v = value;
        if (v->info.last_seen >= cutoff)
            continue;
        /* A vessel that falls silent in port (transponder off at the berth) must not keep
         * its call open for ever: it departed, as far as we know, at its last fix there. */
        PsCallEvent ev;
        if (portcalls_close(vs->ports, &v->call, &ev) && !handle_call(vs, v, &ev, error))
            return n;
        g_hash_table_iter_remove(&it);
        n++;
    }
    vs->stats.expired += n;
    gint64 deleted = 0;
    if (vs->store && vs->config.track_days > 0 &&
        !store_ais_expire_track(vs->store, now - (gint64)vs->config.track_days * DAY, &deleted,
                                error))
        return n;
    if (deleted > 0)
        g_debug("vessels: %" G_GINT64_FORMAT " track points expired", deleted);
    return n;
}

gboolean vessels_get(PsVessels *vs, guint mmsi, PsVesselInfo *info)
{
    Vessel *v = g_hash_table_lookup(vs->by_mmsi, GUINT_TO_POINTER(mmsi));
    if (!v)
        return FALSE;
    *info = v->info;
    return TRUE;
}

static gint compare_mmsi(gconstpointer a, gconstpointer b)
{
    guint x = GPOINTER_TO_UINT(*(gpointer *)a), y = GPOINTER_TO_UINT(*(gpointer *)b);
    return x < y ? -1 : x > y;
}

void vessels_foreach(PsVessels *vs, PsVesselFunc func, gpointer user_data)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_sized_new(g_hash_table_size(vs->by_mmsi));
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, vs->by_mmsi);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(keys, key);
    g_ptr_array_sort(keys, compare_mmsi);
    for (guint i = 0; i < keys->len; i++) {
        Vessel *v = g_hash_table_lookup(vs->by_mmsi, g_ptr_array_index(keys, i));
        func(&v->info, user_data);
    }
}

guint vessels_count(PsVessels *vs)
{
    return g_hash_table_size(vs->by_mmsi);
}

void vessels_get_stats(PsVessels *vs, PsVesselsStats *stats)
{
    *stats = vs->stats;
}
