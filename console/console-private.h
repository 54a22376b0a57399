/* console-private.h: shared between the files of console/ (and its tests). */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "console.h"

G_BEGIN_DECLS

/* ---- auth.c: users, sessions, tokens, login rate limit ---- */

#define CONSOLE_SESSION_IDLE_S (12 * 3600)
#define CONSOLE_SESSIONS_MAX 4096
#define CONSOLE_LOGIN_FAILURES 5      /* per key within the window */
#define CONSOLE_LOGIN_WINDOW_S 60
#define CONSOLE_RATE_KEYS_MAX 10000

typedef struct ConsoleAuth ConsoleAuth;

typedef struct {
    char *user;
    ConsoleRole role;
    char *csrf; /* the token a state-changing request must echo in X-CSRF-Token */
    gint64 last_us;
} ConsoleSession;

/* @users_path NULL: no users. Errors name the file and group. */
ConsoleAuth *console_auth_new(const char *users_path, GError **error);
void console_auth_free(ConsoleAuth *auth);
guint console_auth_users(ConsoleAuth *auth);

/* Password login (constant work whether or not the user exists). */
gboolean console_auth_password(ConsoleAuth *auth, const char *name, const char *password,
                               ConsoleRole *role);
/* Bearer token: the user's name (borrowed) or NULL. */
const char *console_auth_token(ConsoleAuth *auth, const char *token, ConsoleRole *role);

/* A new session (its id, newly allocated: 256 random bits, hex). Evicts the least recently
 * used one beyond CONSOLE_SESSIONS_MAX. */
char *console_auth_session_new(ConsoleAuth *auth, const char *user, ConsoleRole role,
                               gint64 now_us);
/* The live session @sid (touching it), or NULL when unknown or idle too long. */
const ConsoleSession *console_auth_session(ConsoleAuth *auth, const char *sid, gint64 now_us);
void console_auth_session_end(ConsoleAuth *auth, const char *sid);

/* Login rate limit: FALSE when @key (an address or a user name) failed
 * CONSOLE_LOGIN_FAILURES times within the window; *@retry_s: seconds until it may try. */
gboolean console_auth_rate_ok(ConsoleAuth *auth, const char *key, gint64 now_us, int *retry_s);
void console_auth_rate_fail(ConsoleAuth *auth, const char *key, gint64 now_us);

/* Random bytes as hex (2 * @n characters), from getrandom(2). */
char *console_random_hex(gsize n);
/* Constant-time comparison of two NUL-terminated strings. */
gboolean console_equal(const char *a, const char *b);

typedef struct ConsoleMedia ConsoleMedia;

/* ---- server.c / api.c ---- */

struct PsConsole {
    ConsoleConfig cfg;           /* strings copied below */
    char *listen, *tls_cert, *tls_key, *users, *www_dir, *topic_root;
    char **destinations;
    SoupServer *server;
    guint port;
    gboolean https;
    ConsoleAuth *auth;
    ConsoleMedia *media;
    GResource *resource;
    GPtrArray *live;             /* SoupWebsocketConnection* of /api/live */
    guint notify_source;
    guint poll_source; /* the live lists look for news every second */
    /* incremental counters for /metrics */
    gint64 journal_seq, dead_seq, decision_seq;
    GHashTable *inputs_by_topic, *dead_by_reason, *decisions_by_kind; /* char* -> gint64* */
    gint64 live_decision_seq, live_dead_seq; /* what the live lists have pushed */
    gint64 live_journal_seq; /* vessel-risk alerts: the journal read up to here */
    guint64 requests, denied;
};

/* Who made a request (set by the gate on the message). */
typedef struct {
    char *user;
    ConsoleRole role;
    gboolean cookie; /* authenticated by session cookie (CSRF applies) */
} ConsoleWho;

const ConsoleWho *console_who(SoupServerMessage *msg);

/* Replies with JSON text (taken) / an error object {"error": ...}. */
void console_reply_json(SoupServerMessage *msg, guint status, char *json);
void console_reply_error(SoupServerMessage *msg, guint status, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* The request body parsed as a JSON object (NULL, with a 400 reply sent, when it is not). */
JsonObject *console_body_object(SoupServerMessage *msg, JsonParser *parser);

/* api.c: returns TRUE when it handled the path. */
gboolean console_api_dispatch(PsConsole *c, SoupServerMessage *msg, const char *method,
                              const char *path, GHashTable *query);
void console_api_live(PsConsole *c, SoupWebsocketConnection *ws);
void console_api_push(PsConsole *c);
void console_api_start(PsConsole *c);
void console_api_free(PsConsole *c);

/* ---- media.c: the wall's and each camera's video for browsers ---- */

/* The streams: "wall" (the composed wall) and each of the wall's cameras by name. */
ConsoleMedia *console_media_new(gpointer wall);
void console_media_free(ConsoleMedia *media);
/* TRUE when @stream is "wall" or one of the wall's cameras; else FALSE with
 * CONSOLE_ERROR_NOT_FOUND naming it and the streams there are. */
gboolean console_media_has_stream(ConsoleMedia *media, const char *stream, GError **error);
/* A WebSocket viewer of @stream (NULL: the wall) as fragmented MP4 (first message: the MIME
 * type, then the init segment); an unknown stream closes the socket with the reason. */
void console_media_add_mse(ConsoleMedia *media, const char *stream,
                           SoupWebsocketConnection *ws);
/* WHEP: an SDP offer for @stream (NULL: the wall) in; @func is called once in the main context
 * with the SDP answer and the resource id, or with an error text. FALSE (and @func is not
 * called) when the stream is unknown (CONSOLE_ERROR_NOT_FOUND, the message naming it) or the
 * offer is not usable. */
typedef void (*ConsoleWhepFunc)(const char *answer, const char *resource, const char *error,
                                gpointer data);
gboolean console_media_whep(ConsoleMedia *media, const char *stream, const char *offer,
                            ConsoleWhepFunc func, gpointer data, GError **error);
gboolean console_media_whep_delete(ConsoleMedia *media, const char *resource);
/* Viewers now, by kind. */
void console_media_viewers(ConsoleMedia *media, guint *mse, guint *webrtc);

G_END_DECLS
