/* bench_vessels.c: port lookups (grid vs a scan of every port) and the registry's throughput
 * (position reports per second, with and without the SQLite store), in one process so the
 * ratios hold on a noisy machine.
 *
 * Usage: bench-vessels [LOOKUPS] [FIXES] [PORTS_CSV] */
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ps-config.h"
#include "vessels.h"

static double now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

static double cpu_s(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

/* Positions near ports (within about 30 km) and at sea, alternately. */
static void positions(const PsPortList *pl, GRand *r, guint n, double *lat, double *lon)
{
    for (guint i = 0; i < n; i++) {
        if (i % 2) {
            const PsPort *p = portcalls_port(pl, g_rand_int_range(r, 0, portcalls_ports_count(pl)));
            lat[i] = CLAMP(p->lat + g_rand_double_range(r, -0.3, 0.3), -89.9, 89.9);
            lon[i] = fmod(p->lon + g_rand_double_range(r, -0.3, 0.3) + 540.0, 360.0) - 180.0;
        } else {
            lat[i] = g_rand_double_range(r, -60, 70);
            lon[i] = g_rand_double_range(r, -180, 180);
        }
    }
}

static double run_fixes(const PsPortList *pl, PsStore *store, guint vessels, guint fixes,
                        PsVesselsStats *stats)
{
    PsVesselsConfig c;
    vessels_config_init(&c);
    const char *risky[] = {"IRN", NULL};
    c.high_risk = risky;
    g_autoptr(GError) error = NULL;
    PsVessels *vs = vessels_new(&c, pl, store, &error);
    g_assert_no_error(error);
    /* Each vessel sails at 12 kn between two ports 60 km apart, stopping at each for 2 h,
     * a report every 10 s: calls open and close, tracks are downsampled. */
    const gint64 t0 = 1795478400;
    double c0 = cpu_s();
    for (guint i = 0; i < fixes; i++) {
        guint v = i % vessels;
        gint64 t = t0 + (gint64)(i / vessels) * 10;
        const PsPort *a = portcalls_port(pl, (v * 7) % portcalls_ports_count(pl));
        double phase = fmod((double)(t - t0) / 3600.0 + v * 0.37, 6.0); /* 6 h cycle */
        double f = phase < 2 ? 0 : phase < 3 ? phase - 2 : phase < 5 ? 1 : 6 - phase;
        double sog = (phase < 2 || (phase >= 3 && phase < 5)) ? 0.0 : 12.0;
        PsVesselFix x = {100000000 + v, t, a->lat + f * 0.54, a->lon, sog,
                         phase < 3 ? 0.0 : 180.0, -1, -1};
        if (!vessels_update_position(vs, &x, &error))
            g_error("%s", error->message);
    }
    if (!vessels_flush(vs, &error))
        g_error("%s", error->message);
    double cpu = cpu_s() - c0;
    vessels_get_stats(vs, stats);
    vessels_free(vs);
    return cpu;
}

int main(int argc, char **argv)
{
    guint lookups = argc > 1 ? (guint)atoi(argv[1]) : 200000;
    guint fixes = argc > 2 ? (guint)atoi(argv[2]) : 500000;
    g_autofree char *path = g_strdup(argc > 3 ? argv[3] : PS_BENCH_PORTS_CSV);
    g_autoptr(GError) error = NULL;
    PsPortList *pl = portcalls_ports_load(path, &error);
    if (!pl) {
        fprintf(stderr, "bench-vessels: %s\n", error->message);
        return 2;
    }
    printf("port list: %u ports (%s)\n", portcalls_ports_count(pl), path);

    /* 1. Nearest port within 5 km: grid vs scan of every port. */
    g_autoptr(GRand) r = g_rand_new_with_seed(42);
    double *lat = g_new(double, lookups), *lon = g_new(double, lookups);
    positions(pl, r, lookups, lat, lon);
    guint linear_n = MAX(1, lookups / 20);
    guint found = 0, mismatches = 0;
    double c0 = cpu_s();
    for (guint i = 0; i < lookups; i++)
        found += portcalls_nearest(pl, lat[i], lon[i], 5.0, NULL) != NULL;
    double grid = cpu_s() - c0;
    c0 = cpu_s();
    for (guint i = 0; i < linear_n; i++)
        mismatches += portcalls_nearest_linear(pl, lat[i], lon[i], 5.0, NULL) !=
                      portcalls_nearest(pl, lat[i], lon[i], 5.0, NULL);
    double linear = cpu_s() - c0;
    double grid_us = grid / lookups * 1e6, linear_us = linear / linear_n * 1e6;
    printf("nearest port within 5 km: grid %.3f us/lookup (%u lookups, %u near a port), "
           "linear scan %.1f us/lookup (%u lookups, grid+scan timed): grid is %.0fx faster; "
           "%u disagreements\n",
           grid_us, lookups, found, linear_us, linear_n, linear_us / grid_us, mismatches);

    /* 2. Registry throughput, memory only vs with the store (WAL, synchronous=FULL). */
    guint vessels = 500;
    PsVesselsStats st_mem, st_db;
    double mem = run_fixes(pl, NULL, vessels, fixes, &st_mem);
    g_autofree char *dir = g_dir_make_tmp("bench-vessels-XXXXXX", NULL);
    g_autofree char *db = g_build_filename(dir, "b.db", NULL);
    PsStore *store = store_open(db, &error);
    g_assert_no_error(error);
    double w0 = now_s();
    double disk = run_fixes(pl, store, vessels, fixes, &st_db);
    double wall = now_s() - w0;
    store_close(store);
    printf("registry, %u vessels, %u position reports: memory only %.0f reports/s CPU; with the "
           "store %.0f reports/s CPU (%.0f wall), %.2f of memory only; %" G_GUINT64_FORMAT
           " track points (1 per %.0f reports), %" G_GUINT64_FORMAT " calls opened, %"
           G_GUINT64_FORMAT " closed\n",
           vessels, fixes, fixes / mem, fixes / disk, fixes / wall, mem / disk,
           st_db.track_points, (double)fixes / MAX(1, st_db.track_points), st_db.calls_opened,
           st_db.calls_closed);
    for (const char *sfx = ""; sfx; sfx = *sfx ? NULL : "-wal") {
        g_autofree char *f = g_strconcat(db, sfx, NULL);
        g_unlink(f);
    }
    g_autofree char *shm = g_strconcat(db, "-shm", NULL);
    g_unlink(shm);
    g_rmdir(dir);
    g_free(lat);
    g_free(lon);
    portcalls_ports_free(pl);
    return mismatches == 0 ? 0 : 1;
}
