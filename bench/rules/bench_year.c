/* bench_year.c: a year of containers through the rules, in simulated time.
 *
 * bench-year [CONTAINERS [DB]]: CONTAINERS (default 2,000,000) boxes spread evenly over 2025,
 * five inputs each (customs status released rail-sea, arrival on a train, rail gate-in,
 * radiation scan, gate-out), each input CONTAINERS / 2,000 boxes (about 4.4 hours) after the
 * one before, so about 5,000 boxes are in play at once. One in ten has a radiation alarm (held, never done:
 * retired after retain_days); the others are released and go out (done: retired at once). The
 * inputs go the daemon's way: journaled in batches of 1,000 (rules_journal), then evaluated
 * (rules_catch_up), with journal retention at 60 days. Prints RSS at 0.5 M, 1 M and 2 M
 * containers (with the ratio to the first), the inputs refused (dead letters, must be 0), and
 * the start-up time afterwards (rules_open: snapshot plus the journal after it) after a clean
 * stop and after a stop without the final snapshot, each also as a ratio to opening the store
 * in the same run. The store is a file (sync normal), DB or a temporary one. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iso6346.h"
#include "rules.h"
#include "store-rules.h"

#define BATCH 1000 /* inputs per journal transaction */
#define YEAR_S (365LL * 24 * 3600)
#define START 1735689600LL /* 2025-01-01T00:00:00Z */

static long rss_kb(void)
{
    g_autofree char *status = NULL;
    if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
        return -1;
    const char *p = strstr(status, "VmRSS:");
    return p ? atol(p + 6) : -1;
}

static double now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

static char *load(void)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents("/proc/loadavg", &text, NULL, NULL))
        return g_strdup("?");
    char **f = g_strsplit(text, " ", 4);
    char *out = g_strdup_printf("%s %s %s", f[0], f[1], f[2]);
    g_strfreev(f);
    return out;
}

static void box(int i, char out[12])
{
    char first10[11];
    g_snprintf(first10, sizeof first10, "PSYU%06d", i % 1000000);
    /* Two million boxes need more than six digits: the owner code's last letter changes. */
    first10[3] = "UJZ"[i / 1000000];
    g_snprintf(out, 12, "%s%d", first10, iso6346_check_digit(first10));
}

static gint64 LAG = 1000; /* boxes between two inputs about the same box */

/* Input @k (0..4) about box @i, at the box's slot time plus @k lags. */
static void input(int i, int k, gint64 n, char **topic, char **payload)
{
    char c[12];
    box(i, c);
    gint64 sec = START + (gint64)((double)(i + (gint64)k * LAG) * YEAR_S / n);
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(sec);
    g_autofree char *ts = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
    switch (k) {
    case 0:
        *topic = g_strdup("port/customs/status");
        *payload = g_strdup_printf(
            "{\"id\":\"c%d\",\"ts\":\"%s\",\"declaration\":\"D%d\",\"status\":\"released\","
            "\"flow\":\"rail-sea\",\"containers\":[\"%s\"],\"vessel\":{\"name\":\"PS YEAR\","
            "\"imo\":9700005,\"mmsi\":413000001,\"voyage\":\"025W\"}}",
            i, ts, i, c);
        break;
    case 1:
        *topic = g_strdup("port/rail/Y1/arrival");
        *payload = g_strdup_printf("{\"id\":\"a%d\",\"ts\":\"%s\",\"yard\":\"Y1\",\"train\":"
                                   "\"T%d\",\"wagons\":[{\"wagon\":\"W1\",\"containers\":[\"%s\"]}]}",
                                   i, ts, i / 80, c);
        break;
    case 2:
        *topic = g_strdup("port/gate/RG1");
        *payload = g_strdup_printf("{\"id\":\"g%d\",\"ts\":\"%s\",\"gate\":\"RG1\",\"direction\":"
                                   "\"in\",\"mode\":\"rail\",\"container\":\"%s\"}",
                                   i, ts, c);
        break;
    case 3:
        *topic = g_strdup("port/radiation/RP1");
        *payload = g_strdup_printf("{\"id\":\"r%d\",\"ts\":\"%s\",\"portal\":\"RP1\",\"container\":"
                                   "\"%s\",\"result\":\"%s\"}",
                                   i, ts, c, i % 10 == 0 ? "alarm" : "clear");
        break;
    default:
        *topic = g_strdup("port/gate/Q1");
        *payload = g_strdup_printf("{\"id\":\"o%d\",\"ts\":\"%s\",\"gate\":\"Q1\",\"direction\":"
                                   "\"out\",\"mode\":\"truck\",\"container\":\"%s\"}",
                                   i, ts, c);
        break;
    }
}

typedef struct {
    gint64 n, slot, refused;
    guint in_batch;
} Feed;

/* One journal transaction: the inputs of the next slots, BATCH of them at most. */
static gboolean journal_batch(PsStore *store, gpointer user_data, GError **error)
{
    Feed *f = user_data;
    f->in_batch = 0;
    while (f->in_batch < BATCH && f->slot < f->n + 4 * LAG) {
        for (int k = 0; k < 5; k++) {
            gint64 i = f->slot - (gint64)k * LAG;
            if (i < 0 || i >= f->n)
                continue;
            char *topic, *payload;
            input((int)i, k, f->n, &topic, &payload);
            RulesIngestResult r;
            gboolean ok = rules_journal(store, "port", "mqtt", topic, payload, -1, &r, error);
            if (ok && r.outcome == RULES_REJECTED) {
                fprintf(stderr, "refused: %s: %s\n", topic, r.reason);
                f->refused++;
            }
            rules_ingest_result_clear(&r);
            g_free(topic);
            g_free(payload);
            if (!ok)
                return FALSE;
            f->in_batch++;
        }
        f->slot++;
    }
    return TRUE;
}

static GLogWriterOutput quiet(GLogLevelFlags level, const GLogField *fields, gsize n,
                               gpointer user_data)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING) ||
        g_getenv("BENCH_YEAR_VERBOSE"))
        return g_log_writer_default(level, fields, n, user_data);
    return G_LOG_WRITER_HANDLED;
}

static void die(const char *what, GError *error)
{
    fprintf(stderr, "bench-year: %s: %s\n", what, error ? error->message : "failed");
    exit(1);
}

static double open_time(const char *db, PsRulesRetention *ret, gboolean rules_too,
                        RulesStats *st)
{
    GError *error = NULL;
    double t0 = now_s();
    PsStore *s = store_open(db, &error);
    if (!s)
        die("store_open", error);
    PsRules *r = NULL;
    if (rules_too) {
        r = rules_open(s, "port", NULL, ret, &error);
        if (!r)
            die("rules_open", error);
    }
    double t = now_s() - t0;
    if (r && st)
        rules_stats(r, st);
    rules_free(r);
    store_close(s);
    return t;
}

int main(int argc, char **argv)
{
    gint64 n = argc > 1 ? g_ascii_strtoll(argv[1], NULL, 10) : 2000000;
    if (n < 4 || n > 3000000) {
        fprintf(stderr, "usage: bench-year [CONTAINERS (4..3000000) [DB]]\n");
        return 2;
    }
    LAG = MAX(1, n / 2000);
    g_autofree char *dir = NULL;
    g_autofree char *db = NULL;
    if (argc > 2) {
        db = g_strdup(argv[2]);
    } else {
        dir = g_dir_make_tmp("bench-year-XXXXXX", NULL);
        db = g_build_filename(dir, "year.db", NULL);
    }
    /* Two million "rules: release ..." lines would measure the terminal. */
    g_log_set_writer_func(quiet, NULL, NULL);
    GError *error = NULL;
    PsStore *store = store_open(db, &error);
    if (!store || !store_set_sync(store, FALSE, &error))
        die("store", error);
    PsRulesRetention ret;
    rules_retention_init(&ret);
    ret.journal_keep_days = 60;
    /* Not a divisor of the inputs: a stop without the final snapshot leaves a tail to replay
     * (40,000 rows for 2,000,000 containers; at most snapshot_every). */
    ret.snapshot_every = 60000;
    PsRules *rules = rules_open(store, "port", NULL, &ret, &error);
    if (!rules)
        die("rules_open", error);
    g_autofree char *load0 = load();
    printf("bench-year: %" G_GINT64_FORMAT " containers x 5 inputs over 2025 (simulated), "
           "retain_days %u, snapshot_every %u, journal_keep_days %u; load at start %s\n",
           n, ret.retain_days, ret.snapshot_every, ret.journal_keep_days, load0);
    const gint64 marks[] = {n / 4, n / 2, n};
    long rss[3] = {0};
    guint next_mark = 0;
    Feed f = {n, 0, 0, 0};
    gint64 pruned = 0;
    double t0 = now_s();
    while (f.slot < n + 4 * LAG) {
        if (!store_transaction(store, journal_batch, &f, &error))
            die("journal", error);
        if (!rules_catch_up(rules, 0, NULL, &error))
            die("rules_catch_up", error);
        guint p = 0;
        if (!rules_prune_journal(rules, 2 * BATCH, &p, &error))
            die("retention", error);
        pruned += p;
        /* "At 0.5 M containers": once the last input of box 0.5 M is evaluated. */
        while (next_mark < 3 && f.slot - 4 * LAG >= marks[next_mark]) {
            RulesStats st;
            rules_stats(rules, &st);
            rss[next_mark] = rss_kb();
            g_autofree char *l = load();
            printf("%8" G_GINT64_FORMAT " containers: RSS %ld kB (x%.2f of the first), live %u "
                   "containers, %u declarations, retired %" G_GUINT64_FORMAT " (rebuilt %" G_GUINT64_FORMAT "), %.0f s, load %s\n",
                   marks[next_mark], rss[next_mark], (double)rss[next_mark] / rss[0],
                   st.live_containers, st.live_declarations, st.retired, st.revived, now_s() - t0, l);
            fflush(stdout);
            next_mark++;
        }
    }
    double feed_s = now_s() - t0;
    PsStoreStats ss;
    if (!store_stats(store, &ss, &error))
        die("stats", error);
    printf("inputs: %" G_GINT64_FORMAT " in %.0f s (%.0f/s); refused %" G_GINT64_FORMAT
           " (validation) + %" G_GINT64_FORMAT " dead letters; journal rows kept %" G_GINT64_FORMAT
           ", pruned %" G_GINT64_FORMAT "\n",
           n * 5, feed_s, n * 5 / feed_s, f.refused, ss.dead_letters, ss.journal, pruned);
    /* A stop without the final snapshot (as a crash would leave it), then a clean stop. */
    rules_free(rules);
    store_close(store);
    double store_s = open_time(db, &ret, FALSE, NULL);
    RulesStats crash, clean;
    double crash_s = open_time(db, &ret, TRUE, &crash);
    store = store_open(db, NULL);
    rules = rules_open(store, "port", NULL, &ret, NULL);
    if (!rules || !rules_snapshot(rules, &error))
        die("rules_snapshot", error);
    rules_free(rules);
    store_close(store);
    double clean_s = open_time(db, &ret, TRUE, &clean);
    double store2_s = open_time(db, &ret, FALSE, NULL);
    g_autofree char *l = load();
    printf("start-up: store_open %.4f s / %.4f s (reference); rules_open after a stop without "
           "the final snapshot %.2f s (x%.0f of store_open, %" G_GINT64_FORMAT " rows replayed, "
           "%u containers live); after a clean stop %.2f s (x%.0f, %" G_GINT64_FORMAT
           " rows replayed); load %s\n",
           store_s, store2_s, crash_s, crash_s / MAX(store_s, 1e-6), crash.replayed,
           crash.live_containers, clean_s, clean_s / MAX(store2_s, 1e-6), clean.replayed, l);
    gboolean ok = f.refused == 0 && ss.dead_letters == 0;
    if (dir) {
        g_autofree char *wal = g_strconcat(db, "-wal", NULL), *shm = g_strconcat(db, "-shm", NULL);
        g_unlink(db);
        g_unlink(wal);
        g_unlink(shm);
        g_rmdir(dir);
    }
    return ok ? 0 : 1;
}
