/* bench_store.c: journal append throughput.
 *
 * Appends N events (default 100,000) through store_append_batch() in one transaction, then the
 * same rows through a bare prepared INSERT in one transaction on a second file: the reference,
 * what SQLite itself costs. Prints events/s of CPU and wall time for both and their ratio, then
 * reopens the store and checks that all N are there. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "store.h"

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

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    if (n <= 0) {
        fprintf(stderr, "bench-store: N must be a positive number\n");
        return 2;
    }
    g_autofree char *dir = g_dir_make_tmp("bench-store-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "bench.db", NULL);
    g_autofree char *ref_path = g_build_filename(dir, "ref.db", NULL);
    const char *payload = "{\"id\":\"x\",\"ts\":\"2026-11-26T10:00:00Z\",\"seal\":\"S1\","
                          "\"container\":\"CSQU3054383\",\"state\":\"sealed\",\"battery\":87}";
    PsEvent *events = g_new(PsEvent, n);
    char **ids = g_new(char *, n);
    for (int i = 0; i < n; i++) {
        ids[i] = g_strdup_printf("seal-%08d", i);
        events[i] = (PsEvent){"mqtt", "port/seal/S1", ids[i], "2026-11-26T10:00:00Z", 0, payload,
                              -1};
    }

    GError *error = NULL;
    PsStore *store = store_open(path, &error);
    if (!store) {
        fprintf(stderr, "bench-store: %s\n", error->message);
        return 2;
    }
    double c0 = cpu_now(), w0 = wall_now();
    PsAppendResult r;
    if (!store_append_batch(store, events, n, &r, &error)) {
        fprintf(stderr, "bench-store: %s\n", error->message);
        return 2;
    }
    double cpu = cpu_now() - c0, wall = wall_now() - w0;
    store_close(store);

    /* Reference: the same rows with a bare INSERT into a table with the same indexes and pragmas,
     * in one transaction: the ratio is what the store's API adds. */
    sqlite3 *db;
    sqlite3_open(ref_path, &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE j (seq INTEGER PRIMARY KEY, source TEXT, topic TEXT,"
                     " event_id TEXT, ts TEXT, received_at INTEGER, payload BLOB,"
                     " UNIQUE (source, event_id));"
                     "CREATE INDEX j_topic ON j (topic, seq)",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO j (source, topic, event_id, ts, received_at, payload)"
                           " VALUES (?,?,?,?,?,?)", -1, &st, NULL);
    c0 = cpu_now();
    w0 = wall_now();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int i = 0; i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, "mqtt", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, "port/seal/S1", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, "2026-11-26T10:00:00Z", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, g_get_real_time());
        sqlite3_bind_blob(st, 6, payload, (int)strlen(payload), SQLITE_STATIC);
        sqlite3_step(st);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double ref_cpu = cpu_now() - c0, ref_wall = wall_now() - w0;
    sqlite3_finalize(st);
    sqlite3_close(db);

    store = store_open(path, &error);
    PsStoreStats stats = {0};
    store_stats(store, &stats, &error);
    store_close(store);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("store batch append: %d events, %u appended\n", n, r.appended);
    printf("  portsight store_append_batch: %.0f events/s CPU, %.0f events/s wall\n", n / cpu,
           n / wall);
    printf("  reference bare INSERT:        %.0f events/s CPU, %.0f events/s wall\n", n / ref_cpu,
           n / ref_wall);
    printf("  ratio portsight/reference (CPU): %.2f\n", (n / cpu) / (n / ref_cpu));
    printf("  after reopen: %" G_GINT64_FORMAT " events in the journal\n", stats.journal);
    printf("  peak RSS: %ld KiB\n", ru.ru_maxrss);
    for (int i = 0; i < n; i++)
        g_free(ids[i]);
    g_free(ids);
    g_free(events);
    const char *files[] = {path, ref_path};
    for (int i = 0; i < 2; i++) {
        g_autofree char *wal = g_strconcat(files[i], "-wal", NULL);
        g_autofree char *shm = g_strconcat(files[i], "-shm", NULL);
        g_unlink(files[i]);
        g_unlink(wal);
        g_unlink(shm);
    }
    g_rmdir(dir);
    return stats.journal == n ? 0 : 1;
}
