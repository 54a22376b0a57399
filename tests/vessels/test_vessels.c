/* test_vessels.c: the vessel registry with a store: tracks, expiry, calls, risk alerts. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "store-ais.h"
#include "testutil.h"
#include "vessels.h"

static const char ports_csv[] = "iso3,name,lat,lon\n"
                                "CHN,BEILUN,29.935722,121.851389\n"
                                "CHN,DAXIE,29.894070,121.970020\n"
                                "IRN,BANDAR ABBAS,27.150000,56.216667\n"
                                "IRN,BUSHEHR,28.983333,50.833333\n";

#define T0 1764000000 /* 2025-11-24T16:00:00Z */
#define DAY 86400

/* Each test's registry: the default configuration, which a test may change before start(). */
static struct {
    PsVesselsConfig config;
    PsPortList *ports;
    PsStore *store;
    PsVessels *vs;
} f;

static void setup(void)
{
    g_autoptr(GError) error = NULL;
    vessels_config_init(&f.config);
    f.ports = portcalls_ports_new_from_data("t", ports_csv, strlen(ports_csv), &error);
    ck_assert_no_error(error);
    f.store = store_open(":memory:", &error);
    ck_assert_no_error(error);
}

static void teardown(void)
{
    vessels_free(f.vs);
    f.vs = NULL;
    store_close(f.store);
    portcalls_ports_free(f.ports);
}

/* The registry with f.config. */
static void start(void)
{
    g_autoptr(GError) error = NULL;
    f.vs = vessels_new(&f.config, f.ports, f.store, &error);
    ck_assert_no_error(error);
}

static void fix(guint mmsi, gint64 t, double lat, double lon, double sog, double cog)
{
    g_autoptr(GError) error = NULL;
    PsVesselFix x = {mmsi, t, lat, lon, sog, cog, -1, -1};
    ck_assert(vessels_update_position(f.vs, &x, &error));
    ck_assert_no_error(error);
}

static void name(guint mmsi, gint64 t, const char *vessel_name)
{
    g_autoptr(GError) error = NULL;
    PsVesselStatic s = {.mmsi = mmsi, .t = t, .fields = VESSEL_NAME};
    g_strlcpy(s.name, vessel_name, sizeof s.name);
    ck_assert(vessels_update_static(f.vs, &s, &error));
    ck_assert_no_error(error);
}

/* A stop of @hours at @port (lat, lon) starting at @t, with approach and departure legs.
 * Returns the time after the last fix. */
static gint64 call_at(guint mmsi, gint64 t, double lat, double lon, int hours)
{
    for (int i = 10; i > 0; i--, t += 120) /* in at 12 kn from 10 * 0.7 km */
        fix(mmsi, t, lat + i * 0.0067, lon, 12, 180);
    for (int i = 0; i <= hours * 6; i++) /* berthed */
        fix(mmsi, t + i * 600, lat, lon, 0.0, 0);
    t += hours * 3600 + 120; /* under way 2 minutes after the last fix at the berth */
    for (int i = 1; i <= 12; i++, t += 120) /* out */
        fix(mmsi, t, lat + i * 0.0067, lon, 12, 0);
    return t;
}

static gboolean collect_call(const PsAisCallRow *row, gpointer user_data)
{
    g_ptr_array_add(user_data, g_strdup_printf("%s/%s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
                                               row->port, row->country, row->arrival,
                                               row->departure));
    return TRUE;
}

/* One expected counter of the registry's stats. */
typedef struct {
    const char *name;
    size_t offset;
    guint64 value;
} StatRow;

#define STAT(field, v) {#field, offsetof(PsVesselsStats, field), (v)}

static void assert_stats(const StatRow *rows, size_t n)
{
    PsVesselsStats st;
    vessels_get_stats(f.vs, &st);
    for (size_t i = 0; i < n; i++) {
        guint64 v;
        memcpy(&v, (const char *)&st + rows[i].offset, sizeof v);
        ck_assert_msg(v == rows[i].value,
                      "%s is %" G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT, rows[i].name,
                      v, rows[i].value);
    }
}

START_TEST(test_calls_are_stored_with_arrival_and_departure)
{
    start();
    name(413000001, T0, "ZHE HAI 1");
    call_at(413000001, T0, 29.935722, 121.851389, 6);
    g_autoptr(GError) error = NULL;
    ck_assert(vessels_flush(f.vs, &error));
    g_autoptr(GPtrArray) calls = g_ptr_array_new_with_free_func(g_free);
    ck_assert(store_ais_calls(f.store, 413000001, 0, G_MAXINT64, collect_call, calls, &error));
    ck_assert_uint_eq(calls->len, 1);
    /* Berthed from the 11th fix (T0 + 10 * 120) for 6 h, under way 120 s after that. */
    g_autofree char *want =
        g_strdup_printf("BEILUN/CHN %d %d", T0 + 1200, T0 + 1200 + 6 * 3600 + 120);
    ck_assert_str_eq(g_ptr_array_index(calls, 0), want);
    static const StatRow stats[] = {STAT(calls_opened, 1), STAT(calls_closed, 1), STAT(alerts, 0)};
    assert_stats(stats, G_N_ELEMENTS(stats));
    g_autoptr(GArray) mmsis = g_array_new(FALSE, FALSE, sizeof(guint));
    ck_assert(store_ais_find_by_name(f.store, "zhe hai 1", mmsis, &error));
    ck_assert_uint_eq(mmsis->len, 1);
    ck_assert_uint_eq(g_array_index(mmsis, guint, 0), 413000001);
}
END_TEST

START_TEST(test_track_is_downsampled_by_interval_course_and_speed)
{
    f.config.track_interval = 300;
    f.config.track_course_deg = 10;
    f.config.track_speed_kn = 2;
    start();
    guint m = 412000002;
    gint64 t = T0;
    /* 30 minutes at steady 12 kn, 090, a fix every 10 s: a point at 0 and every 300 s. */
    for (int i = 0; i < 180; i++, t += 10)
        fix(m, t, 10.0, 100.0 + i * 0.0005, 12.0, 90.0);
    /* A turn to 105 (15 degrees): a point at once. */
    fix(m, t, 10.0, 100.1, 12.0, 105.0);
    t += 10;
    /* A 5-degree change and a 1-kn change: no point. */
    fix(m, t, 10.0, 100.1, 11.0, 100.0);
    t += 10;
    /* Slowing by 2.5 kn: a point. */
    fix(m, t, 10.0, 100.1, 9.5, 100.0);
    t += 10;
    /* Stopped, heading swinging: course changes below 1 kn do not add points. */
    fix(m, t, 10.0, 100.1, 0.0, 100.0); /* speed change 9.5 kn: a point */
    t += 10;
    for (int i = 0; i < 20; i++, t += 10)
        fix(m, t, 10.0, 100.1, 0.1, (i * 47) % 360);
    g_autoptr(GError) error = NULL;
    ck_assert(vessels_flush(f.vs, &error));
    g_autoptr(GArray) track = g_array_new(FALSE, FALSE, sizeof(PsAisTrackPoint));
    ck_assert(store_ais_track(f.store, m, 0, track, &error));
    /* 0, 300, ..., 1500 (6 points), the turn, the slow-down, the stop. */
    ck_assert_uint_eq(track->len, 9);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(g_array_index(track, PsAisTrackPoint, i).t, T0 + i * 300);
    ck_assert_int_eq(g_array_index(track, PsAisTrackPoint, 6).t, T0 + 1800);
    ck_assert_double_eq(g_array_index(track, PsAisTrackPoint, 6).cog, 105.0);
    ck_assert_double_eq(g_array_index(track, PsAisTrackPoint, 7).sog, 9.5);
    ck_assert_double_eq(g_array_index(track, PsAisTrackPoint, 8).sog, 0.0);
    static const StatRow stats[] = {STAT(track_points, 9), STAT(fixes, 204)};
    assert_stats(stats, G_N_ELEMENTS(stats));
}
END_TEST

START_TEST(test_older_reports_are_ignored)
{
    start();
    fix(1, T0 + 100, 10, 10, 5, 90);
    fix(1, T0 + 50, 20, 20, 5, 90);
    PsVesselInfo info;
    ck_assert(vessels_get(f.vs, 1, &info));
    ck_assert_double_eq(info.lat, 10);
    ck_assert_int_eq(info.last_seen, T0 + 100);
    static const StatRow stats[] = {STAT(stale, 1)};
    assert_stats(stats, G_N_ELEMENTS(stats));
}
END_TEST

START_TEST(test_vessels_not_heard_expire_from_memory_but_not_from_the_store)
{
    f.config.vessel_expiry = 600;
    f.config.track_days = 2;
    start();
    name(100, T0, "OLD TIMER");
    fix(100, T0, 10, 10, 5, 90);
    fix(200, T0 + 500, 11, 11, 5, 90);
    fix(300, T0 + 900, 12, 12, 5, 90);
    g_autoptr(GError) error = NULL;
    /* At T0 + 1000 the cutoff is T0 + 400: 100 goes, 200 and 300 stay. */
    ck_assert_uint_eq(vessels_expire(f.vs, T0 + 1000, &error), 1);
    ck_assert_no_error(error);
    PsVesselInfo info;
    ck_assert(!vessels_get(f.vs, 100, &info));
    ck_assert(vessels_get(f.vs, 200, &info));
    ck_assert_uint_eq(vessels_count(f.vs), 2);
    /* Exactly at the cutoff is still alive. */
    ck_assert_uint_eq(vessels_expire(f.vs, T0 + 1100, &error), 0);
    ck_assert_uint_eq(vessels_expire(f.vs, T0 + 1101, &error), 1);
    /* The store keeps the expired vessel's name and track... */
    g_autofree char *stored = NULL;
    ck_assert(store_ais_vessel_name(f.store, 100, &stored, &error));
    ck_assert_str_eq(stored, "OLD TIMER");
    g_autoptr(GArray) track = g_array_new(FALSE, FALSE, sizeof(PsAisTrackPoint));
    ck_assert(store_ais_track(f.store, 100, 0, track, &error));
    ck_assert_uint_eq(track->len, 1);
    /* ...until the track expires after track_days. */
    ck_assert_uint_eq(vessels_expire(f.vs, T0 + 2 * DAY + 1, &error), 1);
    g_array_set_size(track, 0);
    ck_assert(store_ais_track(f.store, 100, 0, track, &error));
    ck_assert_uint_eq(track->len, 0);
    g_array_set_size(track, 0);
    ck_assert(store_ais_track(f.store, 300, 0, track, &error));
    ck_assert_uint_eq(track->len, 1);
    static const StatRow stats[] = {STAT(expired, 3)};
    assert_stats(stats, G_N_ELEMENTS(stats));
}
END_TEST

START_TEST(test_a_vessel_silent_in_port_has_its_call_closed_when_it_expires)
{
    f.config.vessel_expiry = 3600;
    start();
    /* In at 12 kn, stopped at Beilun for an hour, then nothing (transponder off). */
    gint64 t = T0;
    for (int i = 10; i > 0; i--, t += 120)
        fix(5, t, 29.935722 + i * 0.0067, 121.851389, 12, 180);
    gint64 arrival = t;
    for (int i = 0; i <= 6; i++)
        fix(5, arrival + i * 600, 29.935722, 121.851389, 0.0, 0);
    gint64 last = arrival + 3600;
    g_autoptr(GError) error = NULL;
    ck_assert_uint_eq(vessels_expire(f.vs, last + 3600, &error), 0);
    ck_assert_uint_eq(vessels_expire(f.vs, last + 3601, &error), 1);
    ck_assert_no_error(error);
    g_autoptr(GPtrArray) calls = g_ptr_array_new_with_free_func(g_free);
    ck_assert(store_ais_calls(f.store, 5, 0, G_MAXINT64, collect_call, calls, &error));
    ck_assert_uint_eq(calls->len, 1);
    g_autofree char *want = g_strdup_printf("BEILUN/CHN %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
                                            arrival, last);
    ck_assert_str_eq(g_ptr_array_index(calls, 0), want);
}
END_TEST

typedef struct {
    guint n;
    char *last_payload;
    char *last_topic;
} Alerts;

static gboolean collect_alert(const PsJournalRow *row, gpointer user_data)
{
    Alerts *a = user_data;
    if (!g_str_has_prefix(row->topic, "port/alert/vessel-risk/"))
        return TRUE;
    ck_assert_str_eq(row->source, "engine");
    a->n++;
    g_free(a->last_payload);
    g_free(a->last_topic);
    a->last_payload = g_strdup(row->payload);
    a->last_topic = g_strdup(row->topic);
    return TRUE;
}

START_TEST(test_risk_alert_is_journaled_once_per_call)
{
    static const char *risky[] = {"IRN", NULL};
    f.config.high_risk = risky;
    f.config.risk_days = 30;
    start();
    guint m = 636000003;
    name(m, T0, "Risky Trader");
    gint64 t = call_at(m, T0, 27.15, 56.216667, 8); /* Bandar Abbas */
    t = call_at(m, t + 3 * DAY, 28.983333, 50.833333, 4); /* Bushehr */
    gint64 ningbo = t + 14 * DAY;
    t = call_at(m, ningbo, 29.935722, 121.851389, 6); /* Beilun: not high-risk */
    g_autoptr(GError) error = NULL;
    static const StatRow stats[] = {STAT(calls_opened, 3), STAT(alerts, 2)};
    assert_stats(stats, G_N_ELEMENTS(stats));
    Alerts a = {0};
    ck_assert(store_journal_foreach(f.store, 0, collect_alert, &a, &error));
    ck_assert_uint_eq(a.n, 2);
    ck_assert_str_eq(a.last_topic, "port/alert/vessel-risk/636000003");
    /* The second alert lists both high-risk calls, the first one closed. */
    ck_assert_msg(strstr(a.last_payload, "\"mmsi\":636000003") &&
                      strstr(a.last_payload, "\"name\":\"Risky Trader\"") &&
                      strstr(a.last_payload, "\"port\":\"BANDAR ABBAS\"") &&
                      strstr(a.last_payload, "\"port\":\"BUSHEHR\"") &&
                      strstr(a.last_payload, "\"country\":\"IRN\"") &&
                      strstr(a.last_payload, "\"departed\":null"),
                  "payload %s", a.last_payload);
    /* The overlay's flag: on while a high-risk call is within risk_days. */
    g_autoptr(GArray) calls = g_array_new(FALSE, FALSE, sizeof(PsVesselCall));
    ck_assert(vessels_risk_flag(f.vs, m, ningbo, calls));
    ck_assert_uint_eq(calls->len, 2);
    ck_assert(!vessels_risk_flag(f.vs, m, t + 31 * DAY, NULL));
    ck_assert(!vessels_risk_flag(f.vs, 413000001, ningbo, NULL));

    /* A fresh registry on the same store (a restart) replaying the same calls: no new alert,
     * and the flag of a vessel not yet in memory comes from the store. */
    vessels_free(f.vs);
    f.vs = vessels_new(&f.config, f.ports, f.store, &error);
    ck_assert_no_error(error);
    ck_assert(vessels_risk_flag(f.vs, m, ningbo, NULL));
    call_at(m, T0, 27.15, 56.216667, 8);
    static const StatRow after_restart[] = {STAT(calls_opened, 1), STAT(alerts, 0)};
    assert_stats(after_restart, G_N_ELEMENTS(after_restart));
    a.n = 0;
    ck_assert(store_journal_foreach(f.store, 0, collect_alert, &a, &error));
    ck_assert_uint_eq(a.n, 2);
    g_free(a.last_payload);
    g_free(a.last_topic);
}
END_TEST

START_TEST(test_unknown_high_risk_entry_is_an_error)
{
    g_autoptr(GError) error = NULL;
    static const char *risky[] = {"bushehr", "Atlantis", NULL};
    f.config.high_risk = risky;
    ck_assert_ptr_null(vessels_new(&f.config, f.ports, NULL, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error->message, "'Atlantis'"), "got %s", error->message);
}
END_TEST

START_TEST(test_static_data_merges_parts)
{
    start();
    g_autoptr(GError) error = NULL;
    PsVesselStatic a = {.mmsi = 7, .t = T0, .fields = VESSEL_NAME, .name = "CLASS B@@@"};
    PsVesselStatic b = {.mmsi = 7, .t = T0 + 5, .fields = VESSEL_CALLSIGN | VESSEL_DIMENSIONS |
                        VESSEL_SHIP_TYPE, .callsign = "BXYZ", .ship_type = 70, .to_bow = 50,
                        .to_stern = 20, .to_port = 5, .to_starboard = 7};
    ck_assert(vessels_update_static(f.vs, &a, &error));
    ck_assert(vessels_update_static(f.vs, &b, &error));
    PsVesselInfo info;
    ck_assert(vessels_get(f.vs, 7, &info));
    ck_assert_str_eq(info.name, "CLASS B");
    ck_assert_str_eq(info.callsign, "BXYZ");
    ck_assert_uint_eq(info.length_m, 70);
    ck_assert_uint_eq(info.beam_m, 12);
    ck_assert_uint_eq(info.ship_type, 70);
    ck_assert(!info.has_position);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_calls_are_stored_with_arrival_and_departure},
    {&test_track_is_downsampled_by_interval_course_and_speed},
    {&test_older_reports_are_ignored},
    {&test_vessels_not_heard_expire_from_memory_but_not_from_the_store},
    {&test_a_vessel_silent_in_port_has_its_call_closed_when_it_expires},
    {&test_risk_alert_is_journaled_once_per_call},
    {&test_unknown_high_risk_entry_is_an_error},
    {&test_static_data_merges_parts},
};

TESTUTIL_MAIN("vessels", "core", 30, TESTUTIL_TESTS(tests), setup, teardown)
