/* demo_ais.c: the demo's AIS step: replays data/scenario/ais/ningbo.nmea (synthetic traffic
 * around Beilun and Daxie) through feed, decoder, registry and store, and reports the vessels,
 * their port calls and the high-risk flags it found. */
#include <math.h>
#include <stdio.h>

#include "daemon-ais.h"
#include "demo.h"
#include "store-ais.h"

/* The demo's high-risk list (in a deployment: [ais] high_risk_ports). */
static const char *const demo_high_risk[] = {"BANDAR ABBAS", NULL};

static void on_done(gpointer user_data)
{
    g_main_loop_quit(user_data);
}

static char *fmt_time(gint64 t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M") : g_strdup("?");
}

typedef struct {
    AppDemo *demo;
    PsVessels *vessels;
    gint64 clock;
    guint calls;
    guint flagged;
} Report;

static gboolean print_call(const PsAisCallRow *row, gpointer user_data)
{
    Report *r = user_data;
    g_autofree char *a = fmt_time(row->arrival);
    g_autofree char *d = row->departure ? fmt_time(row->departure) : g_strdup("(in port)");
    double hours = row->departure ? (row->departure - row->arrival) / 3600.0 : NAN;
    if (isnan(hours))
        printf("      call: %-13s %s  %s -> %s\n", row->port, row->country, a, d);
    else
        printf("      call: %-13s %s  %s -> %s UTC (%.1f h)\n", row->port, row->country, a, d,
               hours);
    r->calls++;
    return TRUE;
}

static void print_vessel(const PsVesselInfo *v, gpointer user_data)
{
    Report *r = user_data;
    g_autofree char *seen = fmt_time(v->last_seen);
    printf("  %09u  %-13s %-34s last %s UTC at %.4f N %.4f E, %.1f kn\n", v->mmsi,
           v->name[0] ? v->name : "(no name)", ais_ship_type_text(v->ship_type), seen, v->lat,
           v->lon, isnan(v->sog) ? 0.0 : v->sog);
    g_autoptr(GError) error = NULL;
    if (!store_ais_calls(r->demo->store, v->mmsi, 0, G_MAXINT64, print_call, r, &error))
        printf("      (calls unreadable: %s)\n", error->message);
    g_autoptr(GArray) risky = g_array_new(FALSE, FALSE, sizeof(PsVesselCall));
    if (vessels_risk_flag(r->vessels, v->mmsi, r->clock, risky)) {
        r->flagged++;
        for (guint i = 0; i < risky->len; i++) {
            const PsVesselCall *c = &g_array_index(risky, PsVesselCall, i);
            g_autofree char *a = fmt_time(c->arrival);
            printf("      HIGH RISK: called at %s (%s) on %s UTC, within the last 30 days\n",
                   c->port->name, c->port->country, a);
        }
    }
}

gboolean app_demo_ais(AppDemo *demo, GError **error)
{
    g_autofree char *sample = g_build_filename(demo->scenario_dir, "ais", "ningbo.nmea", NULL);
    if (!g_file_test(sample, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s: missing", sample);
        return FALSE;
    }
    PsVesselsConfig vc;
    vessels_config_init(&vc);
    vc.high_risk = demo_high_risk;
    vc.vessel_expiry = 7 * 86400; /* keep every vessel of the sample for the report */
    vc.track_days = 0;            /* the sample is older than the default 30 days, partly */
    AppAis *ais = app_ais_new(&vc, NULL, demo->store, error);
    if (!ais)
        return FALSE;
    printf("AIS: replaying %s (synthetic, see its README.md) as fast as possible\n", sample);
    printf("     port radius %.0f km, stop under %.1f kn, under way over %.1f kn; high-risk: %s\n",
           vc.calls.radius_km, vc.calls.stop_kn, vc.calls.go_kn, demo_high_risk[0]);
    fflush(stdout);
    g_autofree char *url = g_filename_to_uri(sample, NULL, error);
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    gboolean ok = url && app_ais_start_feed(ais, url, NULL, on_done, loop, error);
    if (ok)
        g_main_loop_run(loop);
    g_main_loop_unref(loop);
    if (!ok || !vessels_flush(app_ais_vessels(ais), error)) {
        app_ais_free(ais);
        return FALSE;
    }
    AppAisStats st;
    app_ais_get_stats(ais, &st);
    PsVesselsStats vs;
    vessels_get_stats(app_ais_vessels(ais), &vs);
    printf("     %" G_GUINT64_FORMAT " lines, %" G_GUINT64_FORMAT " messages decoded, %"
           G_GUINT64_FORMAT " sentence(s) rejected; %" G_GUINT64_FORMAT " position reports, %" G_GUINT64_FORMAT
           " track points kept\n",
           st.lines, st.messages, st.rejected, vs.fixes, vs.track_points);
    printf("\nVessels (%u):\n", vessels_count(app_ais_vessels(ais)));
    Report r = {demo, app_ais_vessels(ais), st.clock, 0, 0};
    vessels_foreach(app_ais_vessels(ais), print_vessel, &r);
    printf("\n%u port call(s); %u vessel(s) flagged high-risk; %" G_GUINT64_FORMAT
           " vessel-risk alert(s) journaled (port/alert/vessel-risk/{mmsi})\n",
           r.calls, r.flagged, vs.alerts);
    app_ais_free(ais);
    g_autofree char *db = g_build_filename(demo->out_dir, "portsight.db", NULL);
    g_ptr_array_add(demo->outputs,
                    g_strdup_printf("vessels, tracks, port calls: tables ais_vessel, ais_track, "
                                    "ais_call in %s (try: portsight vessel calls \"GULF PEARL\" "
                                    "--db %s --until 2026-11-26T00:00:00Z)",
                                    db, db));
    return TRUE;
}
