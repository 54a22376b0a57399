/* pull.h: declarations pulled from the customs service over HTTP(S) ([declarations] url),
 * with libsoup on the main loop. Each pull is a conditional GET (If-None-Match with the last
 * ETag, If-Modified-Since with the last Last-Modified): 304 changes nothing; 200 hands the body
 * to the caller (who reads it with decl_read() and journals the rows like `db import`);
 * anything else (an error status, a timeout, a refused connection, a body the caller could not
 * read) is retried with exponential backoff (from 1 s, doubling, capped at the interval) and
 * logged once per change of state (failing -> a warning, working again -> a message). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    const char *url;         /* http:// or https:// */
    const char *auth_header; /* "Authorization: Bearer ..." or any "Name: value"; may be NULL */
    double interval;         /* seconds between pulls when all is well */
    double timeout;          /* seconds per request; 0: 30 */
} DeclPullOptions;

/* A 200 answer's body (@len bytes, NUL-terminated; not validated as UTF-8). Return FALSE with
 * @error when it cannot be read (malformed): the pull counts as failed and its validators are
 * not kept, so the next pull fetches it again. */
typedef gboolean (*DeclPullFunc)(const char *body, gsize len, gpointer user_data,
                                 GError **error);

typedef struct DeclPull DeclPull;

/* Starts pulling at once, then every @options->interval. NULL with @error on a bad option. */
DeclPull *decl_pull_new(const DeclPullOptions *options, DeclPullFunc func, gpointer user_data,
                        GError **error);
void decl_pull_free(DeclPull *pull); /* accepts NULL; cancels a request in flight */

/* Counts, for tests and status. */
typedef struct {
    guint requests, ok, not_modified, failed;
    gboolean failing; /* the last pull failed */
} DeclPullStats;

void decl_pull_stats(const DeclPull *pull, DeclPullStats *stats);

G_END_DECLS
