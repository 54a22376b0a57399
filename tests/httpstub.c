/* httpstub.c: a loopback HTTP/1.1 server for tests (see httpstub.h). */
#include "httpstub.h"

#include <check.h>
#include <string.h>


static GHashTable *read_request(GSocketConnection *conn)
{
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
    GString *head = g_string_new(NULL);
    char ch;
    while (!g_str_has_suffix(head->str, "\r\n\r\n") && head->len < 16384) {
        if (g_input_stream_read(in, &ch, 1, NULL, NULL) != 1)
            break;
        g_string_append_c(head, ch);
    }
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(h, g_strdup("head"), g_strdup(head->str));
    g_auto(GStrv) lines = g_strsplit(head->str, "\r\n", -1);
    g_hash_table_insert(h, g_strdup("request-line"), g_strdup(lines[0]));
    for (int i = 1; lines[i] && *lines[i]; i++) {
        char *colon = strchr(lines[i], ':');
        if (!colon)
            continue;
        char *name = g_ascii_strdown(lines[i], colon - lines[i]);
        g_hash_table_insert(h, name, g_strstrip(g_strdup(colon + 1)));
    }
    g_string_free(head, TRUE);
    const char *cl = g_hash_table_lookup(h, "content-length");
    gsize len = cl ? g_ascii_strtoull(cl, NULL, 10) : 0;
    char *body = g_malloc0(len + 1);
    gsize got = 0;
    g_input_stream_read_all(in, body, len, &got, NULL, NULL);
    g_hash_table_insert(h, g_strdup("body"), body);
    return h;
}

static gpointer http_thread(gpointer data)
{
    Http *s = data;
    while (!g_atomic_int_get(&s->stop)) {
        GSocketConnection *conn = g_socket_listener_accept(s->listener, NULL, NULL, NULL);
        if (!conn)
            continue;
        if (g_atomic_int_get(&s->stop)) {
            g_object_unref(conn);
            break;
        }
        GHashTable *req = read_request(conn);
        g_hash_table_insert(req, g_strdup("received-us"),
                            g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time()));
        g_mutex_lock(&s->lock);
        g_ptr_array_add(s->requests, req);
        guint n = s->requests->len;
        int status = g_atomic_int_get(&s->status);
        if (!status && s->n_statuses)
            status = s->statuses[MIN(s->next, s->n_statuses - 1)];
        s->next++;
        g_mutex_unlock(&s->lock);
        g_autofree char *resp =
            s->respond
                ? s->respond(n, req, s->respond_data)
                : g_strdup_printf(
                      "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                      status);
        if (!resp) {
            g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
            g_object_unref(conn);
            continue;
        }
        GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
        g_output_stream_write_all(out, resp, strlen(resp), NULL, NULL, NULL);
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        g_object_unref(conn);
    }
    return NULL;
}

static Http *http_start_full(int *statuses, guint n, HttpRespond respond, gpointer data)
{
    Http *s = g_new0(Http, 1);
    g_mutex_init(&s->lock);
    s->statuses = statuses;
    s->n_statuses = n;
    s->respond = respond;
    s->respond_data = data;
    s->requests = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
    s->listener = g_socket_listener_new();
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
    GSocketAddress *eff = NULL;
    GError *error = NULL;
    ck_assert(g_socket_listener_add_address(s->listener, addr, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL, &eff, &error));
    s->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(eff));
    g_object_unref(eff);
    s->thread = g_thread_new("http", http_thread, s);
    return s;
}

Http *http_start(int *statuses, guint n)
{
    return http_start_full(statuses, n, NULL, NULL);
}

Http *http_start_responder(HttpRespond respond, gpointer data)
{
    return http_start_full(NULL, 0, respond, data);
}

void http_free(Http *s)
{
    g_atomic_int_set(&s->stop, 1);
    /* Wake the accept. */
    g_autoptr(GSocketClient) c = g_socket_client_new();
    GSocketConnection *conn = g_socket_client_connect_to_host(c, "127.0.0.1", s->port, NULL, NULL);
    g_thread_join(s->thread);
    g_clear_object(&conn);
    g_socket_listener_close(s->listener);
    g_object_unref(s->listener);
    g_ptr_array_unref(s->requests);
    g_mutex_clear(&s->lock);
    g_free(s);
}

guint http_count(Http *s)
{
    g_mutex_lock(&s->lock);
    guint n = s->requests->len;
    g_mutex_unlock(&s->lock);
    return n;
}


char *http_request_text(Http *s, guint i, double timeout_s)
{
    gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
    while (http_count(s) <= i && g_get_monotonic_time() < end)
        g_usleep(10000);
    g_mutex_lock(&s->lock);
    GHashTable *req = i < s->requests->len ? s->requests->pdata[i] : NULL;
    char *text = req ? g_strconcat(g_hash_table_lookup(req, "head"),
                                   g_hash_table_lookup(req, "body"), NULL)
                     : NULL;
    g_mutex_unlock(&s->lock);
    ck_assert_msg(text != NULL, "no request %u in %.0f s", i + 1, timeout_s);
    return text;
}
