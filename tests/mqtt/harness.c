/* harness.c: see harness.h. */
#include "harness.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iso6346.h"

/* ---- processes ---- */

static void kill_and_reap(GPid pid, int first_signal, double grace_s, int *status)
{
    kill(pid, first_signal);
    gint64 deadline = g_get_monotonic_time() + (gint64)(grace_s * G_USEC_PER_SEC);
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            break;
        if (g_get_monotonic_time() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        g_usleep(10 * 1000);
    }
    if (status)
        *status = st;
}

static int free_port(void)
{
    g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                        G_SOCKET_PROTOCOL_TCP, NULL);
    ck_assert_ptr_nonnull(s);
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
    GError *error = NULL;
    ck_assert_msg(g_socket_bind(s, any, FALSE, &error), "bind: %s", error ? error->message : "");
    g_autoptr(GSocketAddress) bound = g_socket_get_local_address(s, &error);
    ck_assert_ptr_nonnull(bound);
    return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

static gboolean port_accepts(int port)
{
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_socket_client_set_timeout(client, 1);
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect_to_host(client, "127.0.0.1", port, NULL, NULL);
    return conn != NULL;
}

/* ---- broker ---- */

struct Broker {
    char *dir;
    char *conf;
    char *url;
    int port, port2;
    GPid pid;
};

/* Starts @argv with its stdout and stderr appended to @log; the new process (a reference). */
static GSubprocess *spawn_logged(const char *const *argv, const char *log)
{
    GError *error = NULL;
    int fd = g_open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    ck_assert_int_ge(fd, 0);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_take_stdout_fd(l, fd);
    g_subprocess_launcher_take_stderr_fd(l, dup(fd));
    GSubprocess *p = g_subprocess_launcher_spawnv(l, argv, &error);
    ck_assert_msg(p != NULL, "cannot start %s: %s", argv[0], error ? error->message : "");
    return p;
}

static GPid pid_of(GSubprocess *p)
{
    return (GPid)g_ascii_strtoll(g_subprocess_get_identifier(p), NULL, 10);
}

static void broker_spawn(Broker *b)
{
    g_free(testutil_need_program("mosquitto", "mosquitto"));
    g_autofree char *log = g_build_filename(b->dir, "mosquitto.out", NULL);
    const char *argv[] = {"mosquitto", "-c", b->conf, NULL};
    g_autoptr(GSubprocess) p = spawn_logged(argv, log);
    b->pid = pid_of(p);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!port_accepts(b->port)) {
        int st;
        if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
            g_autofree char *out = NULL;
            g_file_get_contents(log, &out, NULL, NULL);
            b->pid = 0;
            ck_abort_msg("mosquitto exited at start: %s", out ? out : "");
        }
        ck_assert_msg(g_get_monotonic_time() < deadline, "mosquitto does not accept on %d",
                      b->port);
        g_usleep(20 * 1000);
    }
}

Broker *broker_start_config(const char *dir, const char *conf_text)
{
    Broker *b = g_new0(Broker, 1);
    b->dir = g_strdup(dir);
    b->port = free_port();
    b->port2 = free_port();
    while (b->port2 == b->port)
        b->port2 = free_port();
    b->url = g_strdup_printf("tcp://127.0.0.1:%d", b->port);
    b->conf = g_build_filename(dir, "mosquitto.conf", NULL);
    GString *c = g_string_new(conf_text);
    g_autofree char *p1 = g_strdup_printf("%d", b->port);
    g_autofree char *p2 = g_strdup_printf("%d", b->port2);
    g_string_replace(c, "@PORT2@", p2, 0);
    g_string_replace(c, "@PORT@", p1, 0);
    g_string_replace(c, "@DIR@", dir, 0);
    g_string_replace(c, "@USER@", g_get_user_name(), 0);
    GError *error = NULL;
    ck_assert_msg(g_file_set_contents(b->conf, c->str, -1, &error), "%s",
                  error ? error->message : "");
    g_string_free(c, TRUE);
    broker_spawn(b);
    return b;
}

Broker *broker_start(const char *dir, const char *extra)
{
    GString *c = g_string_new(NULL);
    if (extra && g_str_has_prefix(extra, "listener"))
        g_string_append(c, extra);
    else
        g_string_append_printf(c, "listener @PORT@ 127.0.0.1\nallow_anonymous true\n%s",
                               extra ? extra : "");
    g_string_append(c,
                    /* As root, mosquitto would switch to its own user, which cannot write into
                     * our folder. */
                    "\nuser @USER@\npersistence true\npersistence_location @DIR@/\n"
                    "autosave_interval 1\n"
                    "max_queued_messages 1000000\nmax_inflight_messages 100\n"
                    "log_dest file @DIR@/mosquitto.log\nlog_type error\nlog_type warning\n"
                    "log_type notice\nlog_type information\n");
    Broker *b = broker_start_config(dir, c->str);
    g_string_free(c, TRUE);
    return b;
}

static void broker_signal(Broker *b, int sig)
{
    if (b->pid > 0)
        kill_and_reap(b->pid, sig, 5, NULL);
    b->pid = 0;
}

void broker_kill(Broker *b)
{
    broker_signal(b, SIGKILL);
}

void broker_start_again(Broker *b)
{
    broker_spawn(b);
}

int broker_port(Broker *b)
{
    return b->port;
}

int broker_port2(Broker *b)
{
    return b->port2;
}

const char *broker_url(Broker *b)
{
    return b->url;
}

void broker_stop(Broker *b)
{
    broker_signal(b, SIGTERM);
}

void broker_restart(Broker *b)
{
    broker_stop(b);
    broker_spawn(b);
}

void broker_free(Broker *b)
{
    if (!b)
        return;
    broker_stop(b);
    g_free(b->dir);
    g_free(b->conf);
    g_free(b->url);
    g_free(b);
}

/* ---- Paho test client ---- */

typedef struct {
    TestClient *c;
    gint done; /* 1 ok, -1 failed */
} Waiter;

struct TestClient {
    Waiter connect_waiter;
    MQTTAsync client;
    GMutex lock;
    GCond cond;
    GPtrArray *messages; /* TestMessage* */
    gint connected;
    gint pending;      /* async publishes not yet acknowledged */
    GPtrArray *failed; /* Pending* whose publish failed, to publish again */
    MQTTAsync_connectOptions co;
    MQTTAsync_SSLOptions ssl;
    char *id;      /* its client id, for the log */
    gint was_lost; /* lost the broker and not yet back */
};


static void message_free(TestMessage *m)
{
    g_free(m->topic);
    g_free(m->payload);
    g_free(m);
}

static int tc_arrived(void *ctx, char *topic, int len, MQTTAsync_message *msg)
{
    TestClient *c = ctx;
    TestMessage *m = g_new0(TestMessage, 1);
    m->topic = len > 0 ? g_strndup(topic, len) : g_strdup(topic);
    m->payload = g_strndup(msg->payload, msg->payloadlen);
    m->retained = msg->retained;
    m->received_us = g_get_real_time();
    g_mutex_lock(&c->lock);
    g_ptr_array_add(c->messages, m);
    g_cond_broadcast(&c->cond);
    g_mutex_unlock(&c->lock);
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

/* A failed run's log says when a test client lost the broker and came back: a clean session
 * comes back without its subscriptions. */
static void tc_connected(void *ctx, char *cause)
{
    TestClient *c = ctx;
    if (g_atomic_int_compare_and_exchange(&c->was_lost, 1, 0))
        g_printerr("harness: %s %s: %s\n", c->id,
                   c->co.cleansession ? "reconnected with a clean session (its subscriptions "
                                        "are gone)"
                                      : "reconnected to its session",
                   cause ? cause : "");
    g_atomic_int_set(&c->connected, 1);
}

static void tc_lost(void *ctx, char *cause)
{
    TestClient *c = ctx;
    g_printerr("harness: %s lost the broker: %s\n", c->id, cause ? cause : "(no cause)");
    g_atomic_int_set(&c->was_lost, 1);
    g_atomic_int_set(&c->connected, 0);
}

static void w_ok(void *ctx, MQTTAsync_successData *r)
{
    Waiter *w = ctx;
    g_mutex_lock(&w->c->lock);
    w->done = 1;
    g_cond_broadcast(&w->c->cond);
    g_mutex_unlock(&w->c->lock);
}

static void w_fail(void *ctx, MQTTAsync_failureData *r)
{
    Waiter *w = ctx;
    if (r)
        g_printerr("harness: MQTT request failed: code %d %s\n", r->code,
                   r->message ? r->message : "");
    g_mutex_lock(&w->c->lock);
    w->done = -1;
    g_cond_broadcast(&w->c->cond);
    g_mutex_unlock(&w->c->lock);
}

static int wait_done(TestClient *c, Waiter *w, double timeout_s)
{
    gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
    g_mutex_lock(&c->lock);
    while (w->done == 0)
        if (!g_cond_wait_until(&c->cond, &c->lock, end))
            break;
    int d = w->done;
    g_mutex_unlock(&c->lock);
    return d;
}

static const char *login_user, *login_password; /* for the next client_new_once() */

static TestClient *client_new_once(const char *url, const char *client_id, gboolean persistent,
                                   const char *cafile, const char *certfile, const char *keyfile)
{
    TestClient *c = g_new0(TestClient, 1);
    g_mutex_init(&c->lock);
    g_cond_init(&c->cond);
    c->messages = g_ptr_array_new_with_free_func((GDestroyNotify)message_free);
    c->failed = g_ptr_array_new();
    c->id = g_strdup(client_id);
    MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
    cro.MQTTVersion = MQTTVERSION_3_1_1;
    cro.sendWhileDisconnected = 1;
    cro.maxBufferedMessages = 1000000;
    ck_assert_int_eq(MQTTAsync_createWithOptions(&c->client, url, client_id,
                                                 MQTTCLIENT_PERSISTENCE_NONE, NULL, &cro),
                     MQTTASYNC_SUCCESS);
    MQTTAsync_setCallbacks(c->client, c, tc_lost, tc_arrived, NULL);
    MQTTAsync_setConnected(c->client, c, tc_connected);
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    c->co = co;
    c->co.cleansession = !persistent;
    c->co.keepAliveInterval = 10;
    c->co.automaticReconnect = 1;
    c->co.minRetryInterval = 1;
    c->co.maxRetryInterval = 2;
    c->co.MQTTVersion = MQTTVERSION_3_1_1;
    c->co.username = login_user;
    c->co.password = login_password;
    if (g_str_has_prefix(url, "ssl://")) {
        MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
        c->ssl = ssl;
        c->ssl.trustStore = cafile;
        c->ssl.keyStore = certfile;
        c->ssl.privateKey = keyfile;
        c->ssl.verify = 1;
        c->co.ssl = &c->ssl;
    }
    /* The waiter lives in the client: Paho may call these again on reconnects. */
    c->connect_waiter = (Waiter){c, 0};
    c->co.onSuccess = w_ok;
    c->co.onFailure = w_fail;
    c->co.context = &c->connect_waiter;
    int rc = MQTTAsync_connect(c->client, &c->co);
    int done = rc == MQTTASYNC_SUCCESS ? wait_done(c, &c->connect_waiter, 10) : -2;
    if (done != 1) {
        g_printerr("harness: %s cannot connect to %s (rc %d, %s)\n", client_id, url, rc,
                   done == 0 ? "timeout" : "failed");
        test_client_free(c);
        return NULL;
    }
    g_atomic_int_set(&c->connected, 1);
    return c;
}

TestClient *test_client_new_login(const char *url, const char *client_id, gboolean persistent,
                                  const char *cafile, const char *username, const char *password)
{
    login_user = username;
    login_password = password;
    TestClient *c = test_client_new(url, client_id, persistent, cafile, NULL, NULL);
    login_user = login_password = NULL;
    return c;
}

TestClient *test_client_new(const char *url, const char *client_id, gboolean persistent,
                            const char *cafile, const char *certfile, const char *keyfile)
{
    /* Paho sometimes fails a connect right after another client's failed TLS handshake in the
     * same process ("socket error"): try again before calling it a failure. */
    for (int attempt = 0; attempt < 3; attempt++) {
        TestClient *c = client_new_once(url, client_id, persistent, cafile, certfile, keyfile);
        if (c)
            return c;
        g_usleep(200 * 1000);
    }
    return NULL;
}

void test_client_subscribe(TestClient *c, const char *filter)
{
    Waiter w = {c, 0};
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = w_ok;
    ro.onFailure = w_fail;
    ro.context = &w;
    ck_assert_int_eq(MQTTAsync_subscribe(c->client, filter, 1, &ro), MQTTASYNC_SUCCESS);
    ck_assert_msg(wait_done(c, &w, 10) == 1, "subscribe %s failed", filter);
}

void test_client_publish(TestClient *c, const char *topic, const char *payload)
{
    gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < end) {
        Waiter w = {c, 0};
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        ro.onSuccess = w_ok;
        ro.onFailure = w_fail;
        ro.context = &w;
        int rc = MQTTAsync_send(c->client, topic, (int)strlen(payload), payload, 1, 0, &ro);
        if (rc == MQTTASYNC_SUCCESS && wait_done(c, &w, 10) == 1)
            return;
        if (rc == MQTTASYNC_SUCCESS && w.done == 0) {
            /* Still pending: the callback may come later and must find w alive. */
            while (wait_done(c, &w, 1) == 0)
                ;
            if (w.done == 1)
                return;
        }
        g_usleep(100 * 1000);
    }
    ck_abort_msg("publishing to %s failed for 60 s", topic);
}

/* One publish_async in flight: on failure it is kept and published again by the flush. */
typedef struct {
    TestClient *c;
    TestutilMsg msg;
} Pending;

static void pending_free(Pending *p)
{
    testutil_msg_clear(&p->msg);
    g_free(p);
}

static void async_ok(void *ctx, MQTTAsync_successData *r)
{
    Pending *p = ctx;
    TestClient *c = p->c;
    pending_free(p);
    g_mutex_lock(&c->lock);
    c->pending--;
    g_cond_broadcast(&c->cond);
    g_mutex_unlock(&c->lock);
}

static void async_fail(void *ctx, MQTTAsync_failureData *r)
{
    Pending *p = ctx;
    TestClient *c = p->c;
    g_mutex_lock(&c->lock);
    g_ptr_array_add(c->failed, p);
    c->pending--;
    g_cond_broadcast(&c->cond);
    g_mutex_unlock(&c->lock);
}

void test_client_publish_async(TestClient *c, const char *topic, const char *payload)
{
    Pending *p = g_new0(Pending, 1);
    *p = (Pending){c, {g_strdup(topic), g_strdup(payload)}};
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = async_ok;
    ro.onFailure = async_fail;
    ro.context = p;
    g_mutex_lock(&c->lock);
    c->pending++;
    g_mutex_unlock(&c->lock);
    /* Not handed to Paho while it is disconnected: Paho C 1.3.12 queues such a publish, and
     * the sanitizer build once saw one of those read by one of its threads after another had
     * freed it (a heap-use-after-free inside libpaho-mqtt3as, in the broker outage test).
     * test_client_flush() publishes it once the client is connected again. */
    if (!test_client_connected(c)) {
        async_fail(p, NULL);
        return;
    }
    int rc = MQTTAsync_send(c->client, topic, (int)strlen(payload), payload, 1, 0, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        async_fail(p, NULL);
}

void test_client_flush(TestClient *c)
{
    gint64 end = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
    for (;;) {
        g_mutex_lock(&c->lock);
        while (c->pending > 0)
            if (!g_cond_wait_until(&c->cond, &c->lock, end))
                break;
        int left = c->pending;
        GPtrArray *failed = c->failed;
        c->failed = g_ptr_array_new();
        g_mutex_unlock(&c->lock);
        ck_assert_msg(left == 0, "%d publishes not acknowledged after 120 s", left);
        guint n = failed->len;
        for (guint i = 0; i < n; i++) {
            Pending *p = failed->pdata[i];
            test_client_publish(c, p->msg.topic, p->msg.payload); /* waits, retries */
            pending_free(p);
        }
        g_ptr_array_free(failed, TRUE);
        if (n == 0)
            return;
    }
}

GPtrArray *test_client_lock(TestClient *c)
{
    g_mutex_lock(&c->lock);
    return c->messages;
}

void test_client_unlock(TestClient *c)
{
    g_mutex_unlock(&c->lock);
}

static guint count_locked(TestClient *c, const char *prefix)
{
    guint n = 0;
    for (guint i = 0; i < c->messages->len; i++)
        if (g_str_has_prefix(((TestMessage *)c->messages->pdata[i])->topic, prefix))
            n++;
    return n;
}

guint test_client_count(TestClient *c, const char *prefix)
{
    g_mutex_lock(&c->lock);
    guint n = count_locked(c, prefix);
    g_mutex_unlock(&c->lock);
    return n;
}

gboolean test_client_wait(TestClient *c, const char *prefix, guint n, double timeout_s)
{
    gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
    g_mutex_lock(&c->lock);
    gboolean ok;
    while (!(ok = count_locked(c, prefix) >= n))
        if (!g_cond_wait_until(&c->cond, &c->lock, end))
            break;
    ok = count_locked(c, prefix) >= n;
    g_mutex_unlock(&c->lock);
    return ok;
}

gboolean test_client_connected(TestClient *c)
{
    return g_atomic_int_get(&c->connected) && MQTTAsync_isConnected(c->client);
}

void test_client_free(TestClient *c)
{
    if (!c)
        return;
    if (c->client) {
        if (MQTTAsync_isConnected(c->client)) {
            MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
            d.timeout = 1000;
            MQTTAsync_disconnect(c->client, &d);
            g_usleep(20 * 1000);
        }
        MQTTAsync_destroy(&c->client);
    }
    g_ptr_array_unref(c->messages);
    for (guint i = 0; i < c->failed->len; i++)
        pending_free(c->failed->pdata[i]);
    g_ptr_array_free(c->failed, TRUE);
    g_cond_clear(&c->cond);
    g_mutex_clear(&c->lock);
    g_free(c->id);
    g_free(c);
}

/* ---- the daemon ---- */

struct Engine {
    GPid pid;
    GSubprocess *proc; /* GLib reaps it: its exit status is read through it */
};

Engine *engine_start(const char *dir, const char *config_text)
{
    g_autofree char *conf = g_build_filename(dir, "engine.conf", NULL);
    g_autofree char *log = g_build_filename(dir, "engine.log", NULL);
    GError *error = NULL;
    ck_assert(g_file_set_contents(conf, config_text, -1, &error));
    const char *exe = g_getenv("PORTSIGHT");
    ck_assert_msg(exe != NULL, "PORTSIGHT is not set: run the tests through meson test");
    const char *argv[] = {exe, "--log-level", "info", "run", "-c", conf, NULL};
    Engine *e = g_new0(Engine, 1);
    e->proc = spawn_logged(argv, log);
    e->pid = pid_of(e->proc);
    return e;
}

/* Sends @sig, waits up to @grace_s for the exit (then SIGKILL) and returns the exit code
 * (128 + signal for a signal). */
static int engine_signal_and_wait(Engine *e, int sig, double grace_s)
{
    if (e->pid <= 0)
        return -1;
    if (g_subprocess_get_identifier(e->proc))
        kill(e->pid, sig);
    gint64 deadline = g_get_monotonic_time() + (gint64)(grace_s * G_USEC_PER_SEC);
    while (g_subprocess_get_identifier(e->proc)) {
        if (g_get_monotonic_time() > deadline) {
            g_subprocess_force_exit(e->proc);
            deadline = G_MAXINT64;
        }
        g_usleep(10 * 1000);
    }
    g_subprocess_wait(e->proc, NULL, NULL);
    e->pid = 0;
    if (g_subprocess_get_if_exited(e->proc))
        return g_subprocess_get_exit_status(e->proc);
    return 128 + g_subprocess_get_term_sig(e->proc);
}

int engine_stop(Engine *e)
{
    return engine_signal_and_wait(e, SIGTERM, 20);
}

void engine_kill(Engine *e)
{
    engine_signal_and_wait(e, SIGKILL, 5);
}

gboolean engine_alive(Engine *e)
{
    return e->pid > 0 && g_subprocess_get_identifier(e->proc) != NULL;
}

void engine_free(Engine *e)
{
    if (!e)
        return;
    engine_kill(e);
    g_clear_object(&e->proc);
    g_free(e);
}

/* ---- store ---- */

gint64 db_scalar(const char *path, const char *sql)
{
    return testutil_db_scalar(path, sql);
}

gint64 db_wait(const char *path, const char *sql, gint64 want, double timeout_s)
{
    gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
    gint64 v;
    while ((v = db_scalar(path, sql)) < want && g_get_monotonic_time() < end)
        g_usleep(50 * 1000);
    return v;
}

/* ---- events ---- */

char *ev_container(guint i)
{
    char first10[11];
    g_snprintf(first10, sizeof first10, "PSTU%06u", i % 1000000);
    int check = iso6346_check_digit(first10);
    return g_strdup_printf("%s%d", first10, check);
}

char *ev_seal(const char *id, const char *seal_id, guint i, const char *state)
{
    g_autofree char *c = ev_container(i);
    return g_strdup_printf("{\"id\":\"%s\",\"ts\":\"2026-11-26T10:00:00Z\",\"seal\":\"%s\","
                           "\"container\":\"%s\",\"state\":\"%s\"}",
                           id, seal_id, c, state);
}

void ev_release_set(const char *tag, guint i, char ***topics, char ***payloads)
{
    g_autofree char *c = ev_container(i);
    char **t = g_new0(char *, 4);
    char **p = g_new0(char *, 4);
    t[0] = g_strdup("port/customs/status");
    p[0] = g_strdup_printf("{\"id\":\"%s-cus-%u\",\"ts\":\"2026-11-26T10:00:01Z\","
                           "\"declaration\":\"D%s%u\",\"status\":\"released\","
                           "\"flow\":\"rail-sea\",\"containers\":[\"%s\"],"
                           "\"vessel\":{\"name\":\"EVER GIVEN\",\"imo\":9811000}}",
                           tag, i, tag, i, c);
    t[1] = g_strdup("port/rail/y1/arrival");
    p[1] = g_strdup_printf("{\"id\":\"%s-arr-%u\",\"ts\":\"2026-11-26T10:00:02Z\",\"yard\":\"y1\","
                           "\"train\":\"T%u\",\"wagons\":[{\"wagon\":\"W1\",\"containers\":[\"%s\"]}]}",
                           tag, i, i, c);
    t[2] = g_strdup("port/ocr/cam1");
    p[2] = g_strdup_printf("{\"id\":\"%s-ocr-%u\",\"ts\":\"2026-11-26T10:00:03Z\",\"camera\":\"cam1\","
                           "\"container\":\"%s\",\"confidence\":0.97}",
                           tag, i, c);
    *topics = t;
    *payloads = p;
}

/* The last @max lines of @text (cut before @end) that say more than info or debug: in a
 * long log the warnings of the start are what explains the end. */
static void dump_warnings(const char *name, const char *text, const char *end, guint max)
{
    g_autoptr(GPtrArray) hits = g_ptr_array_new_with_free_func(g_free);
    for (const char *l = text; l < end;) {
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        const char *e = nl ? nl : end;
        g_autofree char *line = g_strndup(l, (gsize)(e - l));
        if (strstr(line, " warning") || strstr(line, " critical") || strstr(line, " note") ||
            strstr(line, " error") || strstr(line, "[WRN]") || strstr(line, "[ERR]")) {
            g_ptr_array_add(hits, g_steal_pointer(&line));
            if (hits->len > max)
                g_ptr_array_remove_index(hits, 0);
        }
        l = e + 1;
    }
    if (hits->len == 0)
        return;
    fprintf(stderr, "---- %s: the last %u lines above info before the tail ----\n", name,
            hits->len);
    for (guint i = 0; i < hits->len; i++)
        fprintf(stderr, "%s\n", (char *)hits->pdata[i]);
}

void harness_dump_file_skipping(const char *path, gsize max_bytes, const char *skip)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &text, &len, NULL))
        return;
    if (skip) {
        GString *kept = g_string_sized_new(len);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i]; i++)
            if (*lines[i] && !strstr(lines[i], skip))
                g_string_append_printf(kept, "%s\n", lines[i]);
        g_free(text);
        len = kept->len;
        text = g_string_free(kept, FALSE);
    }
    g_autofree char *name = g_path_get_basename(path);
    const char *tail = len > max_bytes ? text + len - max_bytes : text;
    if (tail > text)
        dump_warnings(name, text, tail, 40);
    fprintf(stderr, "---- %s (last %" G_GSIZE_FORMAT " bytes%s%s) ----\n%s\n", name, max_bytes,
            skip ? ", without lines with " : "", skip ? skip : "", tail);
}

void harness_dump_file(const char *path, gsize max_bytes)
{
    harness_dump_file_skipping(path, max_bytes, NULL);
}

gboolean harness_wait_log(const char *dir, const char *a, const char *b, double timeout_s)
{
    g_autofree char *path = g_build_filename(dir, "engine.log", NULL);
    gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
    do {
        g_autofree char *log = NULL;
        if (g_file_get_contents(path, &log, NULL, NULL)) {
            g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
            for (guint i = 0; lines[i]; i++)
                if (strstr(lines[i], a) && (!b || strstr(lines[i], b)))
                    return TRUE;
        }
        g_usleep(100 * 1000);
    } while (g_get_monotonic_time() < end);
    return FALSE;
}

void harness_dump_logs(const char *dir, gsize max_bytes)
{
    const char *names[] = {"engine.log", "mosquitto.log"};
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *p = g_build_filename(dir, names[i], NULL);
        harness_dump_file(p, max_bytes);
    }
}

void harness_wait_engine_ready(TestClient *c, const char *db_path, const char *log_dir)
{
    harness_wait_engine_ready_on(c, "port", db_path, log_dir);
}

void harness_wait_engine_ready_on(TestClient *c, const char *root, const char *db_path,
                                  const char *log_dir)
{
    static guint probes;
    g_autofree char *id = g_strdup_printf("probe-%u", ++probes);
    g_autofree char *topic = g_strdup_printf("%s/cmd/select", root);
    g_autofree char *payload = g_strdup_printf(
        "{\"id\":\"%s\",\"ts\":\"2026-11-26T09:00:00Z\",\"container\":\"CSQU3054383\"}", id);
    g_autofree char *sql =
        g_strdup_printf("SELECT count(*) FROM journal WHERE event_id = '%s'", id);
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (db_scalar(db_path, sql) < 1) {
        if (g_get_monotonic_time() > end) {
            harness_dump_logs(log_dir, 4000);
            ck_abort_msg("the engine did not journal a probe on %s within 30 s", topic);
        }
        test_client_publish(c, topic, payload);
        db_wait(db_path, sql, 1, 0.5);
    }
}

/* ---- the daemon tests' set-up ---- */

void rig_setup(EngineRig *r, const char *client_id, const char *conf_tail)
{
    *r = (EngineRig){.client_id = client_id, .conf_tail = conf_tail};
    r->tmp = testutil_tmpdir();
    r->db_path = g_build_filename(r->tmp, "engine.db", NULL);
}

void rig_teardown(EngineRig *r)
{
    g_clear_pointer(&r->obs, test_client_free);
    g_clear_pointer(&r->pub, test_client_free);
    g_clear_pointer(&r->engine, engine_free);
    g_clear_pointer(&r->broker, broker_free);
    if (r->tmp && g_getenv("PS_KEEP_TMP"))
        fprintf(stderr, "kept %s\n", r->tmp);
    else if (r->tmp)
        testutil_rmtree(r->tmp);
    g_clear_pointer(&r->tmp, g_free);
    g_clear_pointer(&r->db_path, g_free);
}

char *rig_engine_config(EngineRig *r, const char *url, const char *extra)
{
    return g_strdup_printf("[store]\npath = %s\n\n[mqtt]\nurl = %s\nclient_id = %s\n"
                           "topic_root = port\nkeepalive = 5\nreconnect_max = 1\n%s%s",
                           r->db_path, url, r->client_id, extra ? extra : "",
                           r->conf_tail ? r->conf_tail : "");
}

void rig_start_engine_and_clients(EngineRig *r, gboolean persistent)
{
    r->broker = broker_start(r->tmp, NULL);
    g_autofree char *conf = rig_engine_config(r, broker_url(r->broker), NULL);
    r->engine = engine_start(r->tmp, conf);
    r->obs = test_client_new(broker_url(r->broker), "t-obs", persistent, NULL, NULL, NULL);
    test_client_subscribe(r->obs, "port/release/#");
    test_client_subscribe(r->obs, "port/hold/#");
    r->pub = test_client_new(broker_url(r->broker), "t-pub", persistent, NULL, NULL, NULL);
    rig_wait_engine_ready(r, r->pub);
}

void rig_wait_engine_ready(EngineRig *r, TestClient *c)
{
    harness_wait_engine_ready(c, r->db_path, r->tmp);
}

void rig_dump_logs(EngineRig *r, gsize max_bytes)
{
    harness_dump_logs(r->tmp, max_bytes);
}

GPid engine_pid(Engine *e)
{
    return e ? e->pid : 0;
}

int harness_free_port(void)
{
    return free_port();
}

gboolean harness_port_accepts(int port)
{
    return port_accepts(port);
}
