/* aisfeed.c: TCP, UDP and file AIS feeds on the GLib main loop. */
#include "aisfeed.h"

#include <gio/gio.h>
#include <string.h>

G_DEFINE_QUARK(aisfeed-error-quark, aisfeed_error)

#define READ_CHUNK 8192
#define FILE_LINES_PER_TURN 512 /* lines a file feed hands over per main-loop turn */
#define UDP_MAX 65536

typedef enum { FEED_TCP, FEED_UDP, FEED_FILE } FeedKind;

struct PsAisFeed {
    FeedKind kind;
    char *url, *host, *path;
    guint16 port;
    PsAisFeedOptions opt;
    PsAisLineFunc line_func;
    PsAisDoneFunc done_func;
    gpointer user_data;
    PsAisFeedStats stats;
    GCancellable *cancel;

    /* The line being assembled: at most max_line bytes, then the rest of it is skipped. */
    char *line;
    gsize line_len;
    gboolean skipping;

    /* TCP */
    GSocketClient *client;
    GSocketConnection *conn;
    guint8 *rbuf;
    guint retry_source;
    guint backoff_ms;

    /* UDP */
    GSocket *socket;
    GSource *udp_source;

    /* File */
    GInputStream *file;
    guint file_source;
    gboolean file_eof;
    GQueue pending;          /* char* lines read but not yet due */
    gint64 base_tag, base_mono;
};

/* ---- lines ---- */

gint64 aisfeed_tag_time(const char *line, gsize len)
{
    if (len < 2 || line[0] != '\\')
        return -1;
    const char *end = memchr(line + 1, '\\', len - 1);
    if (!end)
        return -1;
    const char *p = line + 1;
    while (p < end) {
        const char *comma = memchr(p, ',', end - p);
        const char *field_end = comma ? comma : end;
        const char *star = memchr(p, '*', field_end - p);
        if (star)
            field_end = star;
        if (field_end - p > 2 && p[0] == 'c' && p[1] == ':') {
            gint64 v = 0;
            const char *q = p + 2;
            for (; q < field_end && g_ascii_isdigit(*q) && v < G_MAXINT64 / 10 - 10; q++)
                v = v * 10 + (*q - '0');
            if (q != field_end)
                return -1;
            /* Some stations send milliseconds. */
            return v > 100000000000LL ? v / 1000 : v;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return -1;
}

static void emit_line(PsAisFeed *f)
{
    gsize n = f->line_len;
    while (n > 0 && (f->line[n - 1] == '\r' || f->line[n - 1] == '\n'))
        n--;
    f->line[n] = '\0';
    if (n > 0) {
        f->stats.lines++;
        f->line_func(f->line, n, f->user_data);
    }
}

/* Feeds bytes; calls @sink for each complete line. A line over the cap is dropped whole. */
static void take_bytes(PsAisFeed *f, const char *data, gsize len, void (*sink)(PsAisFeed *))
{
    f->stats.bytes += len;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        gsize n = nl ? (gsize)(nl - data) : len;
        if (!f->skipping) {
            if (f->line_len + n > f->opt.max_line) {
                f->skipping = TRUE;
                f->stats.overlong++;
                g_warning("AIS feed %s: dropped a line longer than %" G_GSIZE_FORMAT " bytes",
                          f->url, f->opt.max_line);
            } else {
                memcpy(f->line + f->line_len, data, n);
                f->line_len += n;
            }
        }
        if (!nl)
            break;
        if (!f->skipping)
            sink(f);
        f->line_len = 0;
        f->skipping = FALSE;
        data = nl + 1;
        len -= n + 1;
    }
}

/* The end of a datagram or of a file ends its last line too. */
static void end_of_input(PsAisFeed *f, void (*sink)(PsAisFeed *))
{
    if (!f->skipping && f->line_len > 0)
        sink(f);
    f->line_len = 0;
    f->skipping = FALSE;
}

/* ---- TCP ---- */

static void tcp_connect(PsAisFeed *f);

static gboolean tcp_retry(gpointer user_data)
{
    PsAisFeed *f = user_data;
    f->retry_source = 0;
    tcp_connect(f);
    return G_SOURCE_REMOVE;
}

static void tcp_schedule_retry(PsAisFeed *f, const char *why)
{
    f->stats.failures++;
    g_clear_object(&f->conn);
    end_of_input(f, emit_line);
    g_warning("AIS feed %s: %s; reconnecting in %u ms", f->url, why, f->backoff_ms);
    f->retry_source = g_timeout_add(f->backoff_ms, tcp_retry, f);
    f->backoff_ms = MIN(f->backoff_ms * 2, f->opt.backoff_max_ms);
}

static void tcp_read(PsAisFeed *f);

static void on_tcp_read(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GError *error = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);
    if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_error_free(error);
        return; /* the feed is gone */
    }
    PsAisFeed *f = user_data;
    if (n <= 0) {
        g_autofree char *why =
            n == 0 ? g_strdup("connection closed by the server")
                   : g_strdup_printf("read failed: %s", error->message);
        g_clear_error(&error);
        tcp_schedule_retry(f, why);
        return;
    }
    take_bytes(f, (const char *)f->rbuf, n, emit_line);
    tcp_read(f);
}

static void tcp_read(PsAisFeed *f)
{
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(f->conn));
    g_input_stream_read_async(in, f->rbuf, READ_CHUNK, G_PRIORITY_DEFAULT, f->cancel,
                              on_tcp_read, f);
}

static void on_tcp_connected(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GError *error = NULL;
    GSocketConnection *conn =
        g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(source), res, &error);
    if (!conn && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_error_free(error);
        return;
    }
    PsAisFeed *f = user_data;
    if (!conn) {
        g_autofree char *why = g_strdup_printf("cannot connect: %s", error->message);
        g_error_free(error);
        tcp_schedule_retry(f, why);
        return;
    }
    f->conn = conn;
    f->stats.connects++;
    f->backoff_ms = f->opt.backoff_min_ms;
    g_info("AIS feed %s: connected", f->url);
    tcp_read(f);
}

static void tcp_connect(PsAisFeed *f)
{
    g_socket_client_connect_to_host_async(f->client, f->host, f->port, f->cancel,
                                          on_tcp_connected, f);
}

/* ---- UDP ---- */

static gboolean on_udp(GSocket *socket, GIOCondition cond, gpointer user_data)
{
    PsAisFeed *f = user_data;
    char buf[UDP_MAX];
    /* Drain what is there, a bounded number of datagrams per turn. */
    for (int i = 0; i < 64; i++) {
        GError *error = NULL;
        gssize n = g_socket_receive(socket, buf, sizeof buf, NULL, &error);
        if (n < 0) {
            if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                g_warning("AIS feed %s: %s", f->url, error->message);
            g_error_free(error);
            break;
        }
        f->stats.datagrams++;
        take_bytes(f, buf, n, emit_line);
        end_of_input(f, emit_line);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean udp_start(PsAisFeed *f, GError **error)
{
    const char *host = *f->host ? f->host : "0.0.0.0";
    g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(host);
    if (!addr) {
        g_set_error(error, AISFEED_ERROR, AISFEED_ERROR_URL,
                    "%s: '%s' is not an IP address to listen on", f->url, host);
        return FALSE;
    }
    g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(addr, f->port);
    GError *local = NULL;
    f->socket = g_socket_new(g_inet_address_get_family(addr), G_SOCKET_TYPE_DATAGRAM,
                             G_SOCKET_PROTOCOL_UDP, &local);
    if (!f->socket || !g_socket_bind(f->socket, sa, TRUE, &local)) {
        g_set_error(error, AISFEED_ERROR, AISFEED_ERROR_IO, "%s: cannot listen: %s", f->url,
                    local->message);
        g_error_free(local);
        return FALSE;
    }
    g_socket_set_blocking(f->socket, FALSE);
    f->udp_source = g_socket_create_source(f->socket, G_IO_IN, NULL);
    g_source_set_callback(f->udp_source, (GSourceFunc)(void (*)(void))on_udp, f, NULL);
    g_source_attach(f->udp_source, g_main_context_get_thread_default());
    return TRUE;
}

/* ---- file ---- */

static void queue_line(PsAisFeed *f)
{
    gsize n = f->line_len;
    while (n > 0 && f->line[n - 1] == '\r')
        n--;
    if (n > 0)
        g_queue_push_tail(&f->pending, g_strndup(f->line, n));
}

static gboolean file_pump(gpointer user_data);

/* Hands over the pending lines that are due; returns the delay in ms until the next one is,
 * 0 when the queue is empty or everything could go. */
static guint hand_over_due(PsAisFeed *f)
{
    while (!g_queue_is_empty(&f->pending)) {
        char *line = g_queue_peek_head(&f->pending);
        gsize n = strlen(line);
        if (f->opt.recorded_pace) {
            gint64 tag = aisfeed_tag_time(line, n);
            if (tag >= 0) {
                gint64 now = g_get_monotonic_time();
                if (f->base_tag < 0 || tag < f->base_tag) {
                    f->base_tag = tag;
                    f->base_mono = now;
                }
                gint64 due = f->base_mono +
                             (gint64)((double)(tag - f->base_tag) * G_USEC_PER_SEC / f->opt.speed);
                if (due > now)
                    return (guint)MAX(1, MIN((due - now) / 1000, 3600 * 1000));
            }
        }
        g_queue_pop_head(&f->pending);
        f->stats.lines++;
        f->line_func(line, n, f->user_data);
        g_free(line);
    }
    return 0;
}

static gboolean file_pump(gpointer user_data)
{
    PsAisFeed *f = user_data;
    f->file_source = 0;
    char buf[READ_CHUNK];
    while (!f->file_eof && g_queue_get_length(&f->pending) < FILE_LINES_PER_TURN) {
        GError *error = NULL;
        gssize n = g_input_stream_read(f->file, buf, sizeof buf, NULL, &error);
        if (n < 0) {
            g_warning("AIS feed %s: read failed: %s", f->url, error->message);
            g_error_free(error);
        }
        if (n <= 0) {
            f->file_eof = TRUE;
            end_of_input(f, queue_line);
            break;
        }
        take_bytes(f, buf, n, queue_line);
    }
    guint wait = hand_over_due(f);
    if (wait > 0) {
        f->file_source = g_timeout_add(wait, file_pump, f);
    } else if (!f->file_eof || !g_queue_is_empty(&f->pending)) {
        f->file_source = g_idle_add(file_pump, f);
    } else if (f->done_func) {
        f->done_func(f->user_data); /* may free the feed: nothing after this */
    }
    return G_SOURCE_REMOVE;
}

static gboolean file_start(PsAisFeed *f, GError **error)
{
    g_autoptr(GFile) file = g_file_new_for_path(f->path);
    GError *local = NULL;
    GFileInputStream *in = g_file_read(file, NULL, &local);
    if (!in) {
        g_set_error(error, AISFEED_ERROR, AISFEED_ERROR_IO, "%s: %s", f->path, local->message);
        g_error_free(local);
        return FALSE;
    }
    f->file = G_INPUT_STREAM(in);
    f->base_tag = -1;
    f->file_source = g_idle_add(file_pump, f);
    return TRUE;
}

/* ---- the feed ---- */

static gboolean parse_url(PsAisFeed *f, const char *url, GError **error)
{
    GError *local = NULL;
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NON_DNS, &local);
    if (!uri) {
        g_set_error(error, AISFEED_ERROR, AISFEED_ERROR_URL, "'%s' is not a URL: %s", url,
                    local->message);
        g_error_free(local);
        return FALSE;
    }
    const char *scheme = g_uri_get_scheme(uri);
    const char *host = g_uri_get_host(uri);
    int port = g_uri_get_port(uri);
    if (g_ascii_strcasecmp(scheme, "file") == 0) {
        const char *path = g_uri_get_path(uri);
        if ((host && *host) || !path || !*path) {
            g_set_error(error, AISFEED_ERROR, AISFEED_ERROR_URL,
                        "'%s': a file feed is file:///PATH (absolute, no host)", url);
            return FALSE;
        }
        f->kind = FEED_FILE;
        f->path = g_strdup(path);
        return TRUE;
    }
    gboolean tcp = g_ascii_strcasecmp(scheme, "tcp") == 0;
    gboolean udp = g_ascii_strcasecmp(scheme, "udp") == 0;
    if (!tcp && !udp) {
        g_set_error(error, AISFEED_ERROR, AISFEED_ERROR_URL,
                    "'%s': the feed must be tcp://HOST:PORT, udp://[HOST]:PORT or file:///PATH",
                    url);
        return FALSE;
    }
    if (port < 0 || port > 65535 || (tcp && (port == 0 || !host || !*host))) {
        g_set_error(error, AISFEED_ERROR, AISFEED_ERROR_URL, "'%s': %s needs %s and a port",
                    url, scheme, tcp ? "a host" : "an optional listen address");
        return FALSE;
    }
    f->kind = tcp ? FEED_TCP : FEED_UDP;
    f->host = g_strdup(host ? host : "");
    f->port = (guint16)port;
    return TRUE;
}

PsAisFeed *aisfeed_new(const char *url, const PsAisFeedOptions *options, PsAisLineFunc line,
                       PsAisDoneFunc done, gpointer user_data, GError **error)
{
    g_return_val_if_fail(url && line, NULL);
    PsAisFeed *f = g_new0(PsAisFeed, 1);
    if (options)
        f->opt = *options;
    if (f->opt.max_line == 0)
        f->opt.max_line = 1024;
    if (f->opt.speed <= 0)
        f->opt.speed = 1.0;
    if (f->opt.backoff_min_ms == 0)
        f->opt.backoff_min_ms = 500;
    if (f->opt.backoff_max_ms < f->opt.backoff_min_ms)
        f->opt.backoff_max_ms = MAX(60000, f->opt.backoff_min_ms);
    f->url = g_strdup(url);
    f->line_func = line;
    f->done_func = done;
    f->user_data = user_data;
    f->line = g_malloc(f->opt.max_line + 1);
    f->cancel = g_cancellable_new();
    g_queue_init(&f->pending);
    if (!parse_url(f, url, error)) {
        aisfeed_free(f);
        return NULL;
    }
    return f;
}

gboolean aisfeed_start(PsAisFeed *f, GError **error)
{
    switch (f->kind) {
    case FEED_TCP:
        f->client = g_socket_client_new();
        g_socket_client_set_timeout(f->client, 30);
        f->rbuf = g_malloc(READ_CHUNK);
        f->backoff_ms = f->opt.backoff_min_ms;
        tcp_connect(f);
        return TRUE;
    case FEED_UDP:
        return udp_start(f, error);
    case FEED_FILE:
        return file_start(f, error);
    }
    return FALSE;
}

void aisfeed_free(PsAisFeed *f)
{
    if (!f)
        return;
    g_cancellable_cancel(f->cancel);
    if (f->retry_source)
        g_source_remove(f->retry_source);
    if (f->file_source)
        g_source_remove(f->file_source);
    if (f->udp_source) {
        g_source_destroy(f->udp_source);
        g_source_unref(f->udp_source);
    }
    g_clear_object(&f->conn);
    g_clear_object(&f->client);
    g_clear_object(&f->socket);
    g_clear_object(&f->file);
    g_queue_clear_full(&f->pending, g_free);
    g_clear_object(&f->cancel);
    g_free(f->rbuf);
    g_free(f->line);
    g_free(f->url);
    g_free(f->host);
    g_free(f->path);
    g_free(f);
}

void aisfeed_get_stats(const PsAisFeed *f, PsAisFeedStats *stats)
{
    *stats = f->stats;
}

guint16 aisfeed_local_port(const PsAisFeed *f)
{
    if (f->kind != FEED_UDP || !f->socket)
        return 0;
    g_autoptr(GSocketAddress) sa = g_socket_get_local_address(f->socket, NULL);
    return sa ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(sa)) : 0;
}
