/* test_portcalls.c: the port list, its grid index and the port-call state machine. */
#include <math.h>
#include <string.h>

#include "portcalls.h"
#include "testutil.h"

/* Coordinates from data/ports/ports.csv. */
static const char ports_csv[] = "iso3,name,lat,lon\n"
                                "CHN,NINGBO,29.883333,121.550000\n"
                                "CHN,ZHEN HAI,29.950000,121.700000\n"
                                "CHN,BEILUN,29.935722,121.851389\n"
                                "CHN,DAXIE,29.894070,121.970020\n"
                                "CHN,ZHOUSHAN,30.000000,122.100000\n";

#define T0 1764000000 /* 2025-11-24T16:00:00Z */

static PsPortList *ningbo_ports(void)
{
    g_autoptr(GError) error = NULL;
    PsPortList *pl = portcalls_ports_new_from_data("test", ports_csv, strlen(ports_csv), &error);
    ck_assert_no_error(error);
    return pl;
}

/* A point @east_km east and @north_km north of @port. */
static void offset(const PsPort *port, double east_km, double north_km, double *lat,
                   double *lon)
{
    *lat = port->lat + north_km / 111.195;
    *lon = port->lon + east_km / (111.195 * cos(port->lat * G_PI / 180.0));
}

/* One leg of a synthetic track: fixes every @step seconds for @duration seconds, moving in a
 * straight line from (@e0, @n0) to (@e1, @n1) km around the port, reporting @sog knots. */
typedef struct {
    int duration, step;
    double e0, n0, e1, n1;
    double sog;
} Leg;

static const PsCallParams defaults = {PORTCALLS_DEFAULT_RADIUS_KM, PORTCALLS_DEFAULT_STOP_KN,
                                      PORTCALLS_DEFAULT_GO_KN};

/* One vessel's track around one port of ningbo_ports(), from T0. */
typedef struct {
    PsPortList *pl;
    const PsPort *port;
    const PsCallParams *pp;
    PsCallState st;
    GArray *events; /* PsCallEvent */
    gint64 t;
} Run;

static void run_begin(Run *run, const char *port, const PsCallParams *pp)
{
    run->pl = ningbo_ports();
    run->port = portcalls_find(run->pl, port);
    ck_assert_ptr_nonnull(run->port);
    run->pp = pp ? pp : &defaults;
    portcalls_state_init(&run->st);
    run->events = g_array_new(FALSE, FALSE, sizeof(PsCallEvent));
    run->t = T0;
}

static void run_end(Run *run)
{
    g_array_unref(run->events);
    portcalls_ports_free(run->pl);
}

static void drive(Run *run, const Leg *legs, guint n)
{
    const PsPort *port = run->port;
    for (guint i = 0; i < n; i++) {
        const Leg *l = &legs[i];
        for (int s = 0; s < l->duration; s += l->step) {
            double f = l->duration ? (double)s / l->duration : 0;
            double lat, lon;
            offset(port, l->e0 + f * (l->e1 - l->e0), l->n0 + f * (l->n1 - l->n0), &lat, &lon);
            PsCallEvent ev[2];
            guint k = portcalls_update(run->pl, run->pp, &run->st, run->t, lat, lon, l->sog, ev);
            g_array_append_vals(run->events, ev, k);
            run->t += l->step;
        }
    }
}

START_TEST(test_approach_stop_six_hours_leave_gives_one_call_with_its_times)
{
    Run run;
    run_begin(&run, "beilun", NULL);
    /* 12 kn = 22.2 km/h: from 30 km north-east in, slowing down, berthed 6 h, then out. */
    const Leg in[] = {
        {5400, 60, 20, 22, 1, 2, 12.0},  /* 90 min at 12 kn */
        {1200, 60, 1, 2, 0.2, 0.3, 4.0}, /* slow approach */
        {600, 60, 0.2, 0.3, 0.2, 0.3, 0.3}, /* creeping alongside: not yet a stop */
    };
    drive(&run, in, G_N_ELEMENTS(in));
    gint64 berthed = run.t;
    const Leg stay[] = {{6 * 3600, 180, 0.2, 0.3, 0.2, 0.3, 0.1}};
    drive(&run, stay, 1);
    gint64 unberthed = run.t;
    ck_assert_int_eq(unberthed - berthed, 6 * 3600);
    const Leg out[] = {
        {900, 60, 0.2, 0.3, 2, 2, 3.0},
        {5400, 60, 2, 2, 22, 20, 12.0},
    };
    drive(&run, out, G_N_ELEMENTS(out));

    ck_assert_int_eq(run.events->len, 2);
    const PsCallEvent *a = &g_array_index(run.events, PsCallEvent, 0);
    const PsCallEvent *d = &g_array_index(run.events, PsCallEvent, 1);
    ck_assert_int_eq(a->kind, PS_CALL_ARRIVED);
    ck_assert_str_eq(a->port->name, "BEILUN");
    ck_assert_int_eq(a->arrival, berthed);
    ck_assert_int_eq(d->kind, PS_CALL_DEPARTED);
    ck_assert_str_eq(d->port->name, "BEILUN");
    ck_assert_int_eq(d->arrival, berthed);
    ck_assert_int_eq(d->departure, unberthed);
    ck_assert_int_eq(run.st.port, -1);
    run_end(&run);
}
END_TEST

/* Tracks that must give no call at all. */
static const struct {
    const char *name;
    Leg legs[3];
} no_call[] = {
    /* Straight past Beilun 0.5 km off at 12 kn. */
    {"passes by at 12 kn", {{7200, 60, -25, 0.5, 25, 0.5, 12.0}}},
    /* Slow but never under the stop speed. */
    {"creeps at 0.3 kn", {{3600, 60, -3, 0, 0, 0, 8.0}, {3 * 3600, 120, 0, 0, 0.5, 0, 0.3}}},
    /* Stops 8 km off (outside R = 5 km): at anchor outside the port, not a call. */
    {"anchors outside the radius",
     {{3600, 60, -20, 8, 0, 8, 10.0}, {4 * 3600, 300, 0, 8, 0, 8, 0.0}}},
};

START_TEST(test_tracks_that_are_not_calls)
{
    Run run;
    run_begin(&run, "BEILUN", NULL);
    guint n = 0;
    while (n < 3 && no_call[_i].legs[n].duration)
        n++;
    drive(&run, no_call[_i].legs, n);
    ck_assert_msg(run.events->len == 0, "%s: %u events", no_call[_i].name, run.events->len);
    run_end(&run);
}
END_TEST

START_TEST(test_two_stops_in_one_visit_are_one_call_from_first_stop_to_last_departure)
{
    Run run;
    run_begin(&run, "DAXIE", NULL);
    const Leg in[] = {{3600, 60, 0, -20, 0, -0.5, 10.0}};
    drive(&run, in, 1);
    gint64 first = run.t;
    const Leg shift[] = {
        {3600, 300, 0, -0.5, 0, -0.5, 0.0},   /* at anchor */
        {1200, 60, 0, -0.5, 0.3, 0, 3.0},     /* shifts to the berth */
        {2 * 3600, 300, 0.3, 0, 0.3, 0, 0.0}, /* berthed */
    };
    drive(&run, shift, 3);
    gint64 last_end = run.t;
    const Leg out[] = {{3600, 60, 0.3, 0, 0.3, 20, 10.0}};
    drive(&run, out, 1);
    ck_assert_int_eq(run.events->len, 2);
    const PsCallEvent *d = &g_array_index(run.events, PsCallEvent, 1);
    ck_assert_int_eq(d->kind, PS_CALL_DEPARTED);
    ck_assert_int_eq(d->arrival, first);
    ck_assert_int_eq(d->departure, last_end);
    run_end(&run);
}
END_TEST

START_TEST(test_speed_between_stop_and_go_does_not_end_a_stop)
{
    Run run;
    run_begin(&run, "BEILUN", NULL);
    const Leg legs[] = {
        {1800, 60, 0, 0, 0, 0, 0.1}, {1800, 60, 0, 0, 0, 0, 0.4}, /* 0.4 kn: still stopped */
    };
    drive(&run, legs, 2);
    gint64 go = run.t;
    const Leg out[] = {{3600, 60, 0, 0, 20, 0, 0.6}};
    drive(&run, out, 1);
    ck_assert_int_eq(run.events->len, 2);
    ck_assert_int_eq(g_array_index(run.events, PsCallEvent, 0).arrival, T0);
    ck_assert_int_eq(g_array_index(run.events, PsCallEvent, 1).departure, go);
    run_end(&run);
}
END_TEST

START_TEST(test_leaving_while_stopped_departs_at_the_last_fix_inside)
{
    /* A data gap: stopped at Beilun, next heard 30 km away. */
    g_autoptr(PsPortList) pl = ningbo_ports();
    const PsPort *beilun = portcalls_find(pl, "BEILUN");
    PsCallState st;
    portcalls_state_init(&st);
    PsCallEvent ev[2];
    ck_assert_uint_eq(portcalls_update(pl, &defaults, &st, T0, beilun->lat, beilun->lon, 0, ev),
                      1);
    ck_assert_uint_eq(
        portcalls_update(pl, &defaults, &st, T0 + 600, beilun->lat, beilun->lon, 0, ev), 0);
    /* Older than the last fix: ignored, state unchanged. */
    ck_assert_uint_eq(portcalls_update(pl, &defaults, &st, T0 + 1, 0, 0, 12, ev), 0);
    ck_assert_int_eq(st.last_t, T0 + 600);
    ck_assert_uint_eq(portcalls_update(pl, &defaults, &st, T0 + 7200, beilun->lat + 0.3,
                                       beilun->lon, 12, ev),
                      1);
    ck_assert_int_eq(ev[0].kind, PS_CALL_DEPARTED);
    ck_assert_int_eq(ev[0].departure, T0 + 600);
}
END_TEST

START_TEST(test_configurable_radius_and_speeds)
{
    /* Anchored 8 km off: a call with R = 10 km, none with the default R = 5 km (above). */
    PsCallParams wide = {10.0, 1.0, 2.0};
    Run run;
    run_begin(&run, "BEILUN", &wide);
    const Leg legs[] = {{3600, 300, 0, 8, 0, 8, 0.8}, {3600, 60, 0, 8, 0, 30, 10.0}};
    drive(&run, legs, 2);
    ck_assert_int_eq(run.events->len, 2);
    ck_assert_int_eq(g_array_index(run.events, PsCallEvent, 1).departure, T0 + 3600);
    run_end(&run);
}
END_TEST

START_TEST(test_grid_matches_linear_scan_on_the_shipped_port_list)
{
    const char *root = g_getenv("PS_SOURCE_ROOT");
    ck_assert_ptr_nonnull(root);
    g_autofree char *path = g_build_filename(root, "data", "ports", "ports.csv", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PsPortList) pl = portcalls_ports_load(path, &error);
    ck_assert_no_error(error);
    ck_assert_uint_eq(portcalls_ports_count(pl), 3671);
    ck_assert_str_eq(portcalls_nearest(pl, 29.94, 121.85, 5, NULL)->name, "BEILUN");
    ck_assert_str_eq(portcalls_nearest(pl, 29.90, 121.96, 5, NULL)->name, "DAXIE");
    ck_assert_ptr_null(portcalls_nearest(pl, 0, -30, 50, NULL)); /* mid-Atlantic */
    g_autoptr(GRand) rand = g_rand_new_with_seed(3);
    const double radii[] = {1, 5, 20, 100, 400};
    guint found = 0;
    for (int i = 0; i < 4000; i++) {
        /* Half near a random port, half anywhere (including near the poles and 180). */
        double lat, lon;
        if (i % 2) {
            const PsPort *p = portcalls_port(pl, g_rand_int_range(rand, 0, 3671));
            lat = CLAMP(p->lat + g_rand_double_range(rand, -0.5, 0.5), -90, 90);
            lon = p->lon + g_rand_double_range(rand, -0.5, 0.5);
            lon = lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon;
        } else {
            lat = g_rand_double_range(rand, -90, 90);
            lon = g_rand_double_range(rand, -180, 180);
        }
        double r = radii[i % G_N_ELEMENTS(radii)];
        double dg = -1, dl = -1;
        const PsPort *g = portcalls_nearest(pl, lat, lon, r, &dg);
        const PsPort *l = portcalls_nearest_linear(pl, lat, lon, r, &dl);
        ck_assert_msg(g == l, "%f,%f r=%g: grid %s, linear %s", lat, lon, r,
                      g ? g->name : "-", l ? l->name : "-");
        found += g != NULL;
    }
    ck_assert_uint_gt(found, 1000); /* 1081 with this seed: most comparisons are of a port found */
}
END_TEST

static const struct {
    const char *csv;
    const char *message;
} bad_lists[] = {
    {"CHN,BEILUN,29.9\n", "t:1: expected 4 fields"},
    {"iso3,name,lat,lon\nCHN,A,1,2\nCHN,B,95,2\n", "t:3: bad coordinates"},
    {"CHN,A,1,east\n", "t:1: bad coordinates"},
    {"CHINA,A,1,2\n", "t:1: 'CHINA' is not a 3-letter country code"},
};

START_TEST(test_bad_port_list_lines_are_named)
{
    g_autoptr(GError) error = NULL;
    PsPortList *pl = portcalls_ports_new_from_data("t", bad_lists[_i].csv,
                                                   strlen(bad_lists[_i].csv), &error);
    ck_assert_ptr_null(pl);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(g_str_has_prefix(error->message, bad_lists[_i].message), "got %s",
                  error->message);
}
END_TEST

START_TEST(test_distance_is_haversine)
{
    /* One degree of latitude on the mean sphere. */
    ck_assert_double_eq_tol(portcalls_distance_km(0, 0, 1, 0), 111.195, 0.001);
    ck_assert_double_eq_tol(portcalls_distance_km(0, 179.5, 0, -179.5), 111.195, 0.001);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_approach_stop_six_hours_leave_gives_one_call_with_its_times},
    {&test_tracks_that_are_not_calls, G_N_ELEMENTS(no_call)},
    {&test_two_stops_in_one_visit_are_one_call_from_first_stop_to_last_departure},
    {&test_speed_between_stop_and_go_does_not_end_a_stop},
    {&test_leaving_while_stopped_departs_at_the_last_fix_inside},
    {&test_configurable_radius_and_speeds},
    {&test_grid_matches_linear_scan_on_the_shipped_port_list},
    {&test_bad_port_list_lines_are_named, G_N_ELEMENTS(bad_lists)},
    {&test_distance_is_haversine},
};

TESTUTIL_MAIN("portcalls", "core", 0, TESTUTIL_TESTS(tests))
