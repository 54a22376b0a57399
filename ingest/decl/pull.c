/* pull.c: conditional GETs of the customs service's declarations (see pull.h). */
#define G_LOG_DOMAIN "declarations"

#include "pull.h"

#include <libsoup/soup.h>
#include <string.h>

#define MAX_BODY (64 * 1024 * 1024)

struct DeclPull {
    SoupSession *session;
    GCancellable *cancel;
    char *url;
    char *auth_name, *auth_value;
    guint interval_ms;
    guint timer;
    char *etag, *last_modified;
    guint backoff_ms; /* 0: not failing */
    DeclPullFunc func;
    gpointer user_data;
    DeclPullStats stats;
};

static void schedule(DeclPull *p, guint ms);

static void failed(DeclPull *p, const char *why)
{
    p->stats.failed++;
    if (!p->stats.failing)
        g_warning("%s: %s (retrying with backoff; logged again when it works)", p->url, why);
    p->stats.failing = TRUE;
    p->backoff_ms = p->backoff_ms ? MIN(p->backoff_ms * 2, p->interval_ms) : 1000;
    schedule(p, MIN(p->backoff_ms, p->interval_ms));
}

static void worked(DeclPull *p)
{
    if (p->stats.failing)
        g_message("%s: working again", p->url);
    p->stats.failing = FALSE;
    p->backoff_ms = 0;
    schedule(p, p->interval_ms);
}

static void on_body(GObject *source, GAsyncResult *res, gpointer data)
{
    DeclPull *p = data;
    GError *error = NULL;
    GBytes *body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_error_free(error);
        return; /* freed */
    }
    SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
    if (!body) {
        failed(p, error->message);
        g_error_free(error);
        return;
    }
    guint status = soup_message_get_status(msg);
    if (status == SOUP_STATUS_NOT_MODIFIED) {
        p->stats.not_modified++;
        g_bytes_unref(body);
        worked(p);
        return;
    }
    if (status != SOUP_STATUS_OK) {
        g_autofree char *why = g_strdup_printf("HTTP %u %s", status,
                                               soup_message_get_reason_phrase(msg));
        g_bytes_unref(body);
        failed(p, why);
        return;
    }
    gsize len = 0;
    const char *data_ptr = g_bytes_get_data(body, &len);
    if (len > MAX_BODY) {
        g_bytes_unref(body);
        failed(p, "answer larger than 64 MiB");
        return;
    }
    g_autofree char *text = g_strndup(data_ptr ? data_ptr : "", len);
    g_bytes_unref(body);
    if (!p->func(text, len, p->user_data, &error)) {
        g_autofree char *why = g_strdup_printf("the answer could not be read: %s",
                                               error->message);
        g_error_free(error);
        failed(p, why);
        return;
    }
    SoupMessageHeaders *h = soup_message_get_response_headers(msg);
    g_free(p->etag);
    g_free(p->last_modified);
    p->etag = g_strdup(soup_message_headers_get_one(h, "ETag"));
    p->last_modified = g_strdup(soup_message_headers_get_one(h, "Last-Modified"));
    p->stats.ok++;
    worked(p);
}

static gboolean on_timer(gpointer data)
{
    DeclPull *p = data;
    p->timer = 0;
    SoupMessage *msg = soup_message_new(SOUP_METHOD_GET, p->url);
    SoupMessageHeaders *h = soup_message_get_request_headers(msg);
    if (p->etag)
        soup_message_headers_replace(h, "If-None-Match", p->etag);
    if (p->last_modified)
        soup_message_headers_replace(h, "If-Modified-Since", p->last_modified);
    if (p->auth_name)
        soup_message_headers_replace(h, p->auth_name, p->auth_value);
    soup_message_headers_replace(h, "Accept", "application/json, text/csv");
    p->stats.requests++;
    soup_session_send_and_read_async(p->session, msg, G_PRIORITY_DEFAULT, p->cancel, on_body, p);
    g_object_unref(msg);
    return G_SOURCE_REMOVE;
}

static void schedule(DeclPull *p, guint ms)
{
    if (p->timer)
        g_source_remove(p->timer);
    p->timer = g_timeout_add(ms, on_timer, p);
}

DeclPull *decl_pull_new(const DeclPullOptions *o, DeclPullFunc func, gpointer user_data,
                        GError **error)
{
    g_autoptr(GUri) uri = o->url ? g_uri_parse(o->url, G_URI_FLAGS_NONE, error) : NULL;
    if (!uri)
        return NULL;
    const char *scheme = g_uri_get_scheme(uri);
    if (g_ascii_strcasecmp(scheme, "http") && g_ascii_strcasecmp(scheme, "https")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "url: '%s' is not http:// or https://", o->url);
        return NULL;
    }
    DeclPull *p = g_new0(DeclPull, 1);
    if (o->auth_header) {
        const char *colon = strchr(o->auth_header, ':');
        if (!colon || colon == o->auth_header) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "auth_header: expected 'Name: value'");
            g_free(p);
            return NULL;
        }
        p->auth_name = g_strstrip(g_strndup(o->auth_header, (gsize)(colon - o->auth_header)));
        p->auth_value = g_strstrip(g_strdup(colon + 1));
    }
    p->url = g_strdup(o->url);
    p->interval_ms = (guint)(MAX(o->interval, 0.05) * 1000);
    p->session = soup_session_new_with_options(
        "timeout", (guint)MAX(1.0, o->timeout > 0 ? o->timeout : 30.0), "user-agent",
        "portsight/declarations", NULL);
    p->cancel = g_cancellable_new();
    p->func = func;
    p->user_data = user_data;
    schedule(p, 0);
    return p;
}

void decl_pull_free(DeclPull *p)
{
    if (!p)
        return;
    if (p->timer)
        g_source_remove(p->timer);
    g_cancellable_cancel(p->cancel);
    /* The cancelled request's callback runs from the main loop after this: let it. */
    g_main_context_iteration(NULL, FALSE);
    g_object_unref(p->cancel);
    g_object_unref(p->session);
    g_free(p->url);
    g_free(p->auth_name);
    g_free(p->auth_value);
    g_free(p->etag);
    g_free(p->last_modified);
    g_free(p);
}

void decl_pull_stats(const DeclPull *p, DeclPullStats *stats)
{
    *stats = p->stats;
}
