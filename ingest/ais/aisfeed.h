/* aisfeed.h: AIS feeds: NMEA lines from a TCP server (reconnecting with backoff), UDP datagrams,
 * or a file replayed as fast as possible or at the pace of its tag-block timestamps.
 *
 * A feed runs on the thread-default GMainContext of the thread that calls aisfeed_start() and
 * calls its line function there, once per line (CR/LF removed, NUL-terminated). Lines longer
 * than max_line bytes are dropped whole and counted; they never grow a buffer beyond the cap.
 * Feeds decode nothing: the caller hands the lines to the AIS decoder. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AISFEED_ERROR (aisfeed_error_quark())
GQuark aisfeed_error_quark(void);

typedef enum {
    AISFEED_ERROR_URL, /* the feed URL is not tcp://HOST:PORT, udp://[HOST]:PORT or file:///PATH */
    AISFEED_ERROR_IO,  /* the socket cannot be bound, the file cannot be opened */
} AisFeedError;

typedef struct PsAisFeed PsAisFeed;

/* One line; @line is valid only during the call. */
typedef void (*PsAisLineFunc)(const char *line, gsize len, gpointer user_data);
/* A file feed reached its end (TCP and UDP feeds never end). */
typedef void (*PsAisDoneFunc)(gpointer user_data);

typedef struct {
    gsize max_line;         /* bytes; 0: 1024 */
    gboolean recorded_pace; /* file feeds: wait between lines as their tag-block c: times say */
    double speed;           /* recorded pace multiplier; 0: 1 */
    guint backoff_min_ms;   /* TCP reconnect: first wait; 0: 500 */
    guint backoff_max_ms;   /* TCP reconnect: the wait doubles up to this; 0: 60000 */
} PsAisFeedOptions;

typedef struct {
    guint64 lines;      /* lines handed to the line function */
    guint64 bytes;      /* bytes read */
    guint64 overlong;   /* lines dropped for being longer than max_line */
    guint64 connects;   /* TCP: connections made */
    guint64 failures;   /* TCP: connection attempts failed or connections lost */
    guint64 datagrams;  /* UDP: datagrams received */
} PsAisFeedStats;

/* Parses @url and prepares the feed; nothing happens until aisfeed_start(). @options may be
 * NULL for the defaults. @done may be NULL. */
PsAisFeed *aisfeed_new(const char *url, const PsAisFeedOptions *options, PsAisLineFunc line,
                       PsAisDoneFunc done, gpointer user_data, GError **error);

/* Binds (UDP), opens (file) or starts connecting (TCP; failures are retried, not errors). */
gboolean aisfeed_start(PsAisFeed *feed, GError **error);

/* Stops everything and frees. Accepts NULL. No callback runs after it returns. */
void aisfeed_free(PsAisFeed *feed);

void aisfeed_get_stats(const PsAisFeed *feed, PsAisFeedStats *stats);

/* The local UDP port a udp:// feed is bound to (useful with port 0); 0 otherwise. */
guint16 aisfeed_local_port(const PsAisFeed *feed);

/* The c: time (Unix seconds) of the NMEA 4.0 tag block at the start of @line, or -1. */
gint64 aisfeed_tag_time(const char *line, gsize len);

G_END_DECLS
