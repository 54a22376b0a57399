/* httpstub.h: a loopback HTTP/1.1 server for tests (webhook endpoints, declaration feeds):
 * answers each request with the next status of a list (the last repeats), with a status set at
 * any time, or with what a responder function writes, and keeps every request. */
#pragma once

#include <gio/gio.h>

/* Writes the whole response to the @n-th request (1-based; @request as kept in requests) and
 * returns it, or returns NULL to close without answering. */
typedef char *(*HttpRespond)(guint n, GHashTable *request, gpointer data);

typedef struct {
    GSocketListener *listener;
    int port;
    GThread *thread;
    gint stop;
    GMutex lock;
    int *statuses; /* answered in turn; the last one repeats */
    gint status;   /* atomic: when not 0, answered instead of @statuses */
    guint n_statuses, next;
    HttpRespond respond; /* when set, answers instead of the statuses */
    gpointer respond_data;
    GPtrArray *requests; /* GHashTable* of lowercase header -> value, plus "body", "request-line",
                          * "head" (request line and headers as received) and "received-us"
                          * (real time) */
} Http;

/* Listens on 127.0.0.1 at a free port. @statuses is borrowed (static). */
Http *http_start(int *statuses, guint n);
/* Listens on 127.0.0.1 at a free port and answers through @respond. */
Http *http_start_responder(HttpRespond respond, gpointer data);
/* Stops and frees (also after a failed assertion, from a teardown). */
void http_free(Http *s);
/* Requests received so far. */
guint http_count(Http *s);
/* Request @i (from 0) as it was received: request line, headers and body. Waits up to
 * @timeout_s for it, then fails the test. */
char *http_request_text(Http *s, guint i, double timeout_s);
