/* bench_rules.c: events/s through rules_ingest() (validate -> journal -> rules -> decisions ->
 * outbox, one transaction per event) against a reference: store_append() of the same events,
 * one transaction each, i.e. what journaling alone costs. Both on a file store (WAL,
 * synchronous=FULL: each commit is durable) and in memory (the CPU cost alone). Then the
 * daemon's MQTT path split in its two halves (run_split), with sync full and normal.
 *
 * bench-rules [CONTAINERS]: 5 events per container (declaration, arrival, rail gate-in, seal,
 * radiation); one in ten has a radiation alarm (a hold), the rest are released. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iso6346.h"
#include "rules.h"
#include "store-rules.h"

typedef struct {
    char *topic, *id, *ts, *payload;
} Ev;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    return g_get_monotonic_time() / 1e6;
}

static void add(GArray *evs, const char *topic, char *id, int sec, char *payload)
{
    Ev e = {g_strdup(topic), id, g_strdup_printf("2026-11-26T%02d:%02d:%02dZ", sec / 3600 % 24,
                                                 sec / 60 % 60, sec % 60),
            payload};
    g_array_append_val(evs, e);
}

static GArray *make_events(int n)
{
    GArray *evs = g_array_new(FALSE, FALSE, sizeof(Ev));
    for (int i = 0; i < n; i++) {
        char first10[11];
        g_snprintf(first10, sizeof(first10), "PSBU%06d", i);
        char c[12];
        g_snprintf(c, sizeof(c), "%s%d", first10, iso6346_check_digit(first10));
        int t = i * 5;
#define TS(k) (t + (k)) / 3600 % 24, (t + (k)) / 60 % 60, (t + (k)) % 60
        add(evs, "port/customs/status", g_strdup_printf("c-%d", i), t,
            g_strdup_printf("{\"id\":\"c-%d\",\"ts\":\"2026-11-26T%02d:%02d:%02dZ\","
                            "\"declaration\":\"D-%d\",\"status\":\"released\",\"flow\":\"rail-sea\","
                            "\"containers\":[\"%s\"],\"origin\":\"Chongqing\",\"destination\":"
                            "\"Hamburg\",\"goods\":\"parts\",\"consignee\":\"ACME\",\"vessel\":"
                            "{\"name\":\"PS DEMO STAR\",\"imo\":9700005,\"mmsi\":413000001,"
                            "\"voyage\":\"026W\"}}",
                            i, TS(0), i, c));
        add(evs, "port/rail/Y1/arrival", g_strdup_printf("a-%d", i), t + 1,
            g_strdup_printf("{\"id\":\"a-%d\",\"ts\":\"2026-11-26T%02d:%02d:%02dZ\",\"yard\":\"Y1\","
                            "\"train\":\"T-%d\",\"wagons\":[{\"wagon\":\"W1\",\"containers\":"
                            "[\"%s\"]}]}",
                            i, TS(1), i / 40, c));
        add(evs, "port/seal/ES-1", g_strdup_printf("s-%d", i), t + 2,
            g_strdup_printf("{\"id\":\"s-%d\",\"ts\":\"2026-11-26T%02d:%02d:%02dZ\",\"seal\":"
                            "\"ES-1\",\"container\":\"%s\",\"state\":\"sealed\",\"battery\":80}",
                            i, TS(2), c));
        add(evs, "port/radiation/RP1", g_strdup_printf("r-%d", i), t + 3,
            g_strdup_printf("{\"id\":\"r-%d\",\"ts\":\"2026-11-26T%02d:%02d:%02dZ\",\"portal\":"
                            "\"RP1\",\"container\":\"%s\",\"result\":\"%s\",\"ratio\":1.1}",
                            i, TS(3), c, i % 10 == 0 ? "alarm" : "clear"));
        add(evs, "port/gate/RG1", g_strdup_printf("g-%d", i), t + 4,
            g_strdup_printf("{\"id\":\"g-%d\",\"ts\":\"2026-11-26T%02d:%02d:%02dZ\",\"gate\":"
                            "\"RG1\",\"direction\":\"in\",\"mode\":\"rail\",\"container\":\"%s\"}",
                            i, TS(4), c));
#undef TS
    }
    return evs;
}

typedef struct {
    double cpu, wall;
} Took;

static gboolean run_rules(const char *path, GArray *evs, Took *took, gint64 *decisions)
{
    GError *error = NULL;
    PsStore *s = store_open(path, &error);
    PsRules *r = s ? rules_new(s, "port", &error) : NULL;
    if (!r) {
        fprintf(stderr, "bench-rules: %s\n", error->message);
        return FALSE;
    }
    double c0 = cpu_now(), w0 = wall_now();
    for (guint i = 0; i < evs->len; i++) {
        Ev *e = &g_array_index(evs, Ev, i);
        RulesIngestResult res;
        if (!rules_ingest(r, e->topic, e->payload, -1, &res, &error) ||
            res.outcome != RULES_ACCEPTED) {
            fprintf(stderr, "bench-rules: event %u: %s\n", i,
                    error ? error->message : res.reason);
            return FALSE;
        }
    }
    took->cpu = cpu_now() - c0;
    took->wall = wall_now() - w0;
    store_rules_decision_count(s, decisions, NULL);
    rules_free(r);
    store_close(s);
    return TRUE;
}

static gboolean run_reference(const char *path, GArray *evs, Took *took)
{
    GError *error = NULL;
    PsStore *s = store_open(path, &error);
    if (!s) {
        fprintf(stderr, "bench-rules: %s\n", error->message);
        return FALSE;
    }
    double c0 = cpu_now(), w0 = wall_now();
    for (guint i = 0; i < evs->len; i++) {
        Ev *e = &g_array_index(evs, Ev, i);
        PsEvent pe = {"mqtt", e->topic, e->id, e->ts, 0, e->payload, -1};
        if (!store_append(s, &pe, NULL, &error)) {
            fprintf(stderr, "bench-rules: %s\n", error->message);
            return FALSE;
        }
    }
    took->cpu = cpu_now() - c0;
    took->wall = wall_now() - w0;
    store_close(s);
    return TRUE;
}

/* The daemon's MQTT path on a file store: rules_journal() of each event on a second
 * connection, one transaction each (what the broker's acknowledgement waits for), then the
 * rules evaluating the journal in batches of 4096 (rules_catch_up), timed apart. */
static gboolean run_split(const char *path, gboolean full, GArray *evs, Took *journal,
                          Took *eval, gint64 *decisions)
{
    GError *error = NULL;
    PsStore *s = store_open(path, &error);
    PsStore *w = s && store_set_sync(s, full, &error) ? store_open_shared(s, &error) : NULL;
    PsRules *r = w ? rules_new(s, "port", &error) : NULL;
    if (!r) {
        fprintf(stderr, "bench-rules: %s\n", error->message);
        return FALSE;
    }
    double c0 = cpu_now(), w0 = wall_now();
    for (guint i = 0; i < evs->len; i++) {
        Ev *e = &g_array_index(evs, Ev, i);
        RulesIngestResult res;
        if (!rules_journal(w, "port", "mqtt", e->topic, e->payload, -1, &res, &error) ||
            res.outcome != RULES_ACCEPTED) {
            fprintf(stderr, "bench-rules: event %u: %s\n", i,
                    error ? error->message : res.reason);
            return FALSE;
        }
    }
    journal->cpu = cpu_now() - c0;
    journal->wall = wall_now() - w0;
    c0 = cpu_now();
    w0 = wall_now();
    guint n = 0;
    do {
        if (!rules_catch_up(r, 4096, &n, &error)) {
            fprintf(stderr, "bench-rules: %s\n", error->message);
            return FALSE;
        }
    } while (n == 4096);
    eval->cpu = cpu_now() - c0;
    eval->wall = wall_now() - w0;
    store_rules_decision_count(s, decisions, NULL);
    rules_free(r);
    store_close(w);
    store_close(s);
    return TRUE;
}

static void report(const char *what, guint n, const Took *rules, const Took *ref)
{
    printf("%-7s rules_ingest: %9.0f events/s wall, %9.0f events/s CPU\n", what, n / rules->wall,
           n / rules->cpu);
    printf("%-7s store_append: %9.0f events/s wall, %9.0f events/s CPU (reference)\n", what,
           n / ref->wall, n / ref->cpu);
    printf("%-7s ratio rules/reference: %.2f wall, %.2f CPU (1.00 = rules cost nothing more than "
           "journaling)\n",
           what, (n / rules->wall) / (n / ref->wall), (n / rules->cpu) / (n / ref->cpu));
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    if (n <= 0) {
        fprintf(stderr, "bench-rules: CONTAINERS must be a positive number\n");
        return 2;
    }
    g_log_set_writer_func(g_log_writer_default, NULL, NULL);
    GArray *evs = make_events(n);
    g_autofree char *dir = g_dir_make_tmp("bench-rules-XXXXXX", NULL);
    g_autofree char *a = g_build_filename(dir, "rules.db", NULL);
    g_autofree char *b = g_build_filename(dir, "ref.db", NULL);
    Took mem_rules, mem_ref, file_rules, file_ref;
    gint64 decisions = 0, file_decisions = 0;
    if (!run_rules(":memory:", evs, &mem_rules, &decisions) ||
        !run_reference(":memory:", evs, &mem_ref) ||
        !run_rules(a, evs, &file_rules, &file_decisions) || !run_reference(b, evs, &file_ref))
        return 1;
    printf("bench-rules: %u events (%d containers x 5), %" G_GINT64_FORMAT
           " decisions (%d releases expected, %d holds), one transaction per event\n",
           evs->len, n, decisions, n - (n + 9) / 10, (n + 9) / 10);
    report("memory", evs->len, &mem_rules, &mem_ref);
    report("file", evs->len, &file_rules, &file_ref);
    gint64 split_decisions[2] = {0, 0};
    for (int full = 1; full >= 0; full--) {
        g_autofree char *path = g_build_filename(dir, full ? "split-full.db" : "split-normal.db",
                                                 NULL);
        Took j, e;
        if (!run_split(path, full, evs, &j, &e, &split_decisions[full]))
            return 1;
        printf("split   sync=%-6s rules_journal (the acknowledgement path, one transaction each): "
               "%7.0f events/s wall (%.1f us each), %7.0f CPU; rules_catch_up (4096 per "
               "transaction): %7.0f events/s wall (%.1f us each), %7.0f CPU\n",
               full ? "full" : "normal", evs->len / j.wall, j.wall / evs->len * 1e6,
               evs->len / j.cpu, evs->len / e.wall, e.wall / evs->len * 1e6, evs->len / e.cpu);
        const char *suffix[] = {"", "-wal", "-shm"};
        for (guint k = 0; k < G_N_ELEMENTS(suffix); k++) {
            g_autofree char *f = g_strconcat(path, suffix[k], NULL);
            g_unlink(f);
        }
    }
    int rc = decisions == n && file_decisions == n && split_decisions[0] == n &&
                     split_decisions[1] == n
                 ? 0
                 : 1;
    if (rc)
        fprintf(stderr, "bench-rules: expected %d decisions\n", n);
    for (guint i = 0; i < evs->len; i++) {
        Ev *e = &g_array_index(evs, Ev, i);
        g_free(e->topic);
        g_free(e->id);
        g_free(e->ts);
        g_free(e->payload);
    }
    g_array_unref(evs);
    g_unlink(a);
    g_unlink(b);
    g_autofree char *wal = g_strconcat(a, "-wal", NULL);
    g_autofree char *shm = g_strconcat(a, "-shm", NULL);
    g_unlink(wal);
    g_unlink(shm);
    g_rmdir(dir);
    return rc;
}
