/* bench_events.c: events through the whole engine, MQTT -> journal -> rules -> outbox -> MQTT.
 *
 *   bench-events [N_CONTAINERS [N_LATENCY [LANES]]]      (defaults 2000, 200, 1)
 *
 * BENCH_SYNC=full or =normal runs only that setting; BENCH_KEEP keeps the run's folder.
 *
 * Starts Mosquitto on a free loopback port and `portsight run` ($PORTSIGHT, or the build's
 * app/portsight) as separate processes, once with [store] sync = full and once with normal:
 *
 *  - throughput: N containers x 3 events (customs released, train arrival, OCR sighting)
 *    published as fast as the broker takes them; events/s from the first publish to the last
 *    release received, and to the last event journaled. Reference: the same number of messages
 *    passed by the broker from one client to another (no engine), in the same run.
 *  - latency: for N_LATENCY containers one at a time, the first two events, then the clock
 *    starts when the third (the last condition) is published and stops when its release
 *    arrives; p50 and p99. Reference: a bare publish -> receive through the broker. */
#include <MQTTAsync.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iso6346.h"

static double now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "bench-events: %s\n", what);
    exit(2);
}

/* ---- processes ---- */

static int free_port(void)
{
    GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                              NULL);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *a = g_inet_socket_address_new(lo, 0);
    if (!g_socket_bind(s, a, FALSE, NULL))
        die("bind");
    GSocketAddress *b = g_socket_get_local_address(s, NULL);
    int port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(b));
    g_object_unref(b);
    g_object_unref(a);
    g_object_unref(lo);
    g_object_unref(s);
    return port;
}

static GPid spawn(const char *const *argv, const char *log)
{
    int fd = g_open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    GSubprocessLauncher *l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_take_stdout_fd(l, fd);
    g_subprocess_launcher_take_stderr_fd(l, dup(fd));
    GError *error = NULL;
    GSubprocess *p = g_subprocess_launcher_spawnv(l, argv, &error);
    if (!p)
        die(error->message);
    GPid pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(p), NULL, 10);
    g_object_unref(p);
    g_object_unref(l);
    return pid;
}

static void stop(GPid pid)
{
    kill(pid, SIGTERM);
    int st;
    for (int i = 0; i < 2000 && waitpid(pid, &st, WNOHANG) == 0; i++)
        g_usleep(10000);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

static gint64 db_count(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    gint64 v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 1000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

/* ---- a Paho client that records when each topic first arrived ---- */

typedef struct {
    MQTTAsync c;
    GMutex lock;
    GCond cond;
    GHashTable *arrived; /* topic -> double* time */
    guint count;
    gint ok, fail;
} Client;

static int on_msg(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
    Client *c = ctx;
    double t = now_s();
    g_mutex_lock(&c->lock);
    char *name = len > 0 ? g_strndup(topic, len) : g_strdup(topic);
    if (!g_hash_table_contains(c->arrived, name)) {
        double *v = g_new(double, 1);
        *v = t;
        g_hash_table_insert(c->arrived, name, v);
        c->count++;
    } else {
        g_free(name);
    }
    g_cond_broadcast(&c->cond);
    g_mutex_unlock(&c->lock);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void on_ok(void *ctx, MQTTAsync_successData *r)
{
    g_atomic_int_inc(&((Client *)ctx)->ok);
}

static void on_fail(void *ctx, MQTTAsync_failureData *r)
{
    g_atomic_int_inc(&((Client *)ctx)->fail);
}

static Client *client_new(const char *url, const char *id)
{
    Client *c = g_new0(Client, 1);
    g_mutex_init(&c->lock);
    g_cond_init(&c->cond);
    c->arrived = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (MQTTAsync_create(&c->c, url, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTASYNC_SUCCESS)
        die("MQTTAsync_create");
    MQTTAsync_setCallbacks(c->c, c, NULL, on_msg, NULL);
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.onSuccess = on_ok;
    co.onFailure = on_fail;
    co.context = c;
    MQTTAsync_connect(c->c, &co);
    for (int i = 0; i < 1000 && !g_atomic_int_get(&c->ok); i++) {
        if (g_atomic_int_get(&c->fail))
            die("cannot connect to the broker");
        g_usleep(10000);
    }
    c->ok = 0;
    return c;
}

static void client_subscribe(Client *c, const char *filter)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = on_ok;
    ro.context = c;
    g_atomic_int_set(&c->ok, 0);
    MQTTAsync_subscribe(c->c, filter, 1, &ro);
    for (int i = 0; i < 1000 && !g_atomic_int_get(&c->ok); i++)
        g_usleep(10000);
}

static void client_publish(Client *c, const char *topic, const char *payload)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    while (MQTTAsync_send(c->c, topic, (int)strlen(payload), payload, 1, 0, &ro) !=
           MQTTASYNC_SUCCESS)
        g_usleep(1000); /* the client's buffer is full: wait for acknowledgements */
}

static double client_wait_topic(Client *c, const char *topic, double timeout)
{
    gint64 end = g_get_monotonic_time() + (gint64)(timeout * G_USEC_PER_SEC);
    g_mutex_lock(&c->lock);
    double *t;
    while (!(t = g_hash_table_lookup(c->arrived, topic)))
        if (!g_cond_wait_until(&c->cond, &c->lock, end))
            break;
    double v = t ? *t : -1;
    g_mutex_unlock(&c->lock);
    return v;
}

static gboolean client_wait_count(Client *c, guint n, double timeout)
{
    gint64 end = g_get_monotonic_time() + (gint64)(timeout * G_USEC_PER_SEC);
    g_mutex_lock(&c->lock);
    while (c->count < n)
        if (!g_cond_wait_until(&c->cond, &c->lock, end))
            break;
    gboolean ok = c->count >= n;
    g_mutex_unlock(&c->lock);
    return ok;
}

static double client_latest(Client *c)
{
    double latest = 0;
    g_mutex_lock(&c->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, c->arrived);
    while (g_hash_table_iter_next(&it, &k, &v))
        latest = MAX(latest, *(double *)v);
    g_mutex_unlock(&c->lock);
    return latest;
}

static void client_free(Client *c)
{
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(c->c, &d);
    g_usleep(20000);
    MQTTAsync_destroy(&c->c);
    g_hash_table_destroy(c->arrived);
    g_free(c);
}

/* ---- events ---- */

static char *container(guint i)
{
    char first[11];
    g_snprintf(first, sizeof first, "BNCU%06u", i % 1000000);
    return g_strdup_printf("%s%d", first, iso6346_check_digit(first));
}

static void event(guint kind, const char *tag, guint i, char **topic, char **payload)
{
    g_autofree char *c = container(i);
    switch (kind) {
    case 0:
        *topic = g_strdup("port/customs/status");
        *payload = g_strdup_printf("{\"id\":\"%s-c-%u\",\"ts\":\"2026-11-26T10:00:01Z\","
                                   "\"declaration\":\"D%s%u\",\"status\":\"released\",\"flow\":"
                                   "\"rail-sea\",\"containers\":[\"%s\"]}",
                                   tag, i, tag, i, c);
        break;
    case 1:
        *topic = g_strdup("port/rail/y1/arrival");
        *payload = g_strdup_printf("{\"id\":\"%s-a-%u\",\"ts\":\"2026-11-26T10:00:02Z\",\"yard\":"
                                   "\"y1\",\"train\":\"T%u\",\"wagons\":[{\"wagon\":\"W1\","
                                   "\"containers\":[\"%s\"]}]}",
                                   tag, i, i, c);
        break;
    default:
        *topic = g_strdup("port/ocr/cam1");
        *payload = g_strdup_printf("{\"id\":\"%s-o-%u\",\"ts\":\"2026-11-26T10:00:03Z\","
                                   "\"camera\":\"cam1\",\"container\":\"%s\"}",
                                   tag, i, c);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- one run ---- */

static void run(const char *portsight, const char *sync, guint n, guint m, guint lanes)
{
    g_autofree char *dir = g_dir_make_tmp("bench-events-XXXXXX", NULL);
    int port = free_port();
    g_autofree char *url = g_strdup_printf("tcp://127.0.0.1:%d", port);
    g_autofree char *mconf = g_build_filename(dir, "mosquitto.conf", NULL);
    g_autofree char *mtext = g_strdup_printf(
        "listener %d 127.0.0.1\nallow_anonymous true\nuser %s\npersistence false\n"
        "max_queued_messages 10000000\nmax_inflight_messages 1000\n",
        port, g_get_user_name());
    g_file_set_contents(mconf, mtext, -1, NULL);
    g_autofree char *mlog = g_build_filename(dir, "mosquitto.log", NULL);
    const char *margv[] = {"mosquitto", "-c", mconf, NULL};
    GPid broker = spawn(margv, mlog);
    g_usleep(300 * 1000);

    /* Reference: the broker alone passes 3N messages from one client to another. */
    Client *ref_sub = client_new(url, "bench-ref-sub");
    client_subscribe(ref_sub, "ref/#");
    Client *ref_pub = client_new(url, "bench-ref-pub");
    double r0 = now_s();
    for (guint i = 0; i < 3 * n; i++) {
        g_autofree char *t = g_strdup_printf("ref/%u", i);
        client_publish(ref_pub, t, "{\"id\":\"x\",\"ts\":\"2026-11-26T10:00:01Z\"}");
    }
    client_wait_count(ref_sub, 3 * n, 120);
    double ref_rate = 3 * n / (client_latest(ref_sub) - r0);
    GArray *ref_lat = g_array_new(FALSE, FALSE, sizeof(double));
    for (guint i = 0; i < m; i++) {
        g_autofree char *t = g_strdup_printf("ref/lat/%u", i);
        double t0 = now_s();
        client_publish(ref_pub, t, "{}");
        double t1 = client_wait_topic(ref_sub, t, 10);
        double d = (t1 - t0) * 1000;
        g_array_append_val(ref_lat, d);
    }
    client_free(ref_pub);
    client_free(ref_sub);

    g_autofree char *db = g_build_filename(dir, "engine.db", NULL);
    g_autofree char *econf = g_build_filename(dir, "engine.conf", NULL);
    g_autofree char *etext = g_strdup_printf(
        "[store]\npath = %s\nsync = %s\n\n[mqtt]\nurl = %s\nclient_id = bench\nlanes = %u\n"
        "[rules]\nrequire_radiation_clear = false\n", db,
        sync, url, lanes);
    g_file_set_contents(econf, etext, -1, NULL);
    g_autofree char *elog = g_build_filename(dir, "engine.log", NULL);
    const char *eargv[] = {portsight, "run", "-c", econf, NULL};
    GPid engine = spawn(eargv, elog);

    Client *sub = client_new(url, "bench-sub");
    client_subscribe(sub, "port/release/#");
    Client *pub = client_new(url, "bench-pub");
    /* Ready when a probe is journaled. */
    for (int i = 0; db_count(db, "SELECT count(*) FROM journal WHERE event_id = 'probe'") < 1; i++) {
        if (i > 300)
            die("the engine does not journal (see its log)");
        client_publish(pub, "port/cmd/select",
                       "{\"id\":\"probe\",\"ts\":\"2026-11-26T09:00:00Z\",\"container\":"
                       "\"CSQU3054383\"}");
        g_usleep(100 * 1000);
    }

    /* Throughput. */
    double t0 = now_s();
    for (guint i = 0; i < n; i++)
        for (guint k = 0; k < 3; k++) {
            g_autofree char *topic = NULL, *payload = NULL;
            event(k, "t", i, &topic, &payload);
            client_publish(pub, topic, payload);
        }
    double published = now_s();
    double journaled = 0;
    /* A range of the (source, event_id) index, polled every 20 ms: the bench's reads should
     * take little from the engine on a 2-core machine. */
    while (db_count(db, "SELECT count(*) FROM journal WHERE source = 'mqtt'"
                        " AND event_id >= 't-' AND event_id < 't.'") < 3 * n) {
        if (now_s() - t0 > 600)
            die("events not journaled within 600 s");
        g_usleep(20000);
    }
    journaled = now_s();
    if (!client_wait_count(sub, n, 120))
        die("not every release arrived");
    double released = client_latest(sub);

    /* Latency. */
    GArray *lat = g_array_new(FALSE, FALSE, sizeof(double));
    for (guint i = 0; i < m; i++) {
        guint c = 500000 + i;
        for (guint k = 0; k < 2; k++) {
            g_autofree char *topic = NULL, *payload = NULL;
            event(k, "l", c, &topic, &payload);
            client_publish(pub, topic, payload);
        }
        g_autofree char *cn = container(c);
        g_autofree char *arr = g_strdup_printf("l-a-%u", c);
        g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM journal WHERE event_id = '%s'",
                                               arr);
        while (db_count(db, sql) < 1)
            g_usleep(1000);
        g_autofree char *topic = NULL, *payload = NULL;
        event(2, "l", c, &topic, &payload);
        g_autofree char *rtopic = g_strdup_printf("port/release/%s", cn);
        double s0 = now_s();
        client_publish(pub, topic, payload);
        double s1 = client_wait_topic(sub, rtopic, 10);
        if (s1 < 0)
            die("a release did not arrive within 10 s");
        double d = (s1 - s0) * 1000;
        g_array_append_val(lat, d);
    }
    client_free(pub);
    client_free(sub);
    stop(engine);
    stop(broker);

    g_array_sort(lat, cmp_double);
    g_array_sort(ref_lat, cmp_double);
    double p50 = g_array_index(lat, double, lat->len / 2);
    double p99 = g_array_index(lat, double, MIN(lat->len - 1, lat->len * 99 / 100));
    double rp50 = g_array_index(ref_lat, double, ref_lat->len / 2);
    double rp99 = g_array_index(ref_lat, double, MIN(ref_lat->len - 1, ref_lat->len * 99 / 100));
    double rate_journal = 3 * n / (journaled - t0);
    double rate_release = 3 * n / (released - t0);
    printf("lanes=%u sync=%-6s %u events (%u containers): journaled at %.0f events/s, all %u releases "
           "received at %.0f events/s (publisher done after %.2f s); broker alone %.0f msg/s "
           "(engine/broker %.3f)\n",
           lanes, sync, 3 * n, n, rate_journal, n, rate_release, published - t0, ref_rate,
           rate_release / ref_rate);
    printf("lanes=%u sync=%-6s latency last event -> release, %u containers: p50 %.2f ms, p99 %.2f ms "
           "(broker alone publish -> receive: p50 %.2f ms, p99 %.2f ms)\n",
           lanes, sync, m, p50, p99, rp50, rp99);
    fflush(stdout);
    g_array_free(lat, TRUE);
    g_array_free(ref_lat, TRUE);
    if (!g_getenv("BENCH_KEEP")) {
        const char *names[] = {"engine.db", "engine.db-wal", "engine.db-shm", "engine.conf",
                               "engine.log", "mosquitto.conf", "mosquitto.log"};
        for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
            g_autofree char *p = g_build_filename(dir, names[i], NULL);
            g_unlink(p);
        }
        g_autofree char *persist = g_build_filename(dir, "engine.db.mqtt", NULL);
        g_rmdir(persist);
        g_rmdir(dir);
    } else {
        printf("kept %s\n", dir);
    }
}

int main(int argc, char **argv)
{
    guint n = argc > 1 ? (guint)atoi(argv[1]) : 2000;
    guint m = argc > 2 ? (guint)atoi(argv[2]) : 200;
    if (n == 0 || m == 0)
        die("usage: bench-events [N_CONTAINERS [N_LATENCY [LANES]]]");
    const char *portsight = g_getenv("PORTSIGHT");
    if (!portsight)
        portsight = PORTSIGHT_BUILT;
    guint lanes = argc > 3 ? (guint)atoi(argv[3]) : 1;
    /* BENCH_SYNC=full or normal runs only that one. */
    const char *only = g_getenv("BENCH_SYNC");
    if (!only || strcmp(only, "normal") != 0)
        run(portsight, "full", n, m, lanes);
    if (!only || strcmp(only, "full") != 0)
        run(portsight, "normal", n, m, lanes);
    return 0;
}
