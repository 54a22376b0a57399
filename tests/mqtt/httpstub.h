/* httpstub.h: a loopback HTTP/1.1 server for tests (webhook endpoints): answers each request
 * with the next status of a list (the last repeats), or with a status set at any time, and
 * keeps every request. */
#pragma once

#include <gio/gio.h>

typedef struct {
    GSocketListener *listener;
    int port;
    GThread *thread;
    gint stop;
    GMutex lock;
    int *statuses; /* answered in turn; the last one repeats */
    gint status;   /* atomic: when not 0, answered instead of @statuses */
    guint n_statuses, next;
    GPtrArray *requests; /* GHashTable* of lowercase header -> value, plus "body", "request-line"
                          * and "received-us" (real time) */
} Http;

/* Listens on 127.0.0.1 at a free port. @statuses is borrowed (static). */
Http *http_start(int *statuses, guint n);
/* Stops and frees (also after a failed assertion, from a teardown). */
void http_free(Http *s);
/* Requests received so far. */
guint http_count(Http *s);
