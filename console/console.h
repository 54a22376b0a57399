/* console.h: the operator console. An HTTP server on the GLib main loop (libsoup 3) serving
 * the pages (wall, detail panel, vessel page, live lists), a JSON API over the engine's modules
 * (rules, store, ais, overlay), live video of the wall (WebRTC with WHEP-style signalling, and
 * fragmented MP4 over a WebSocket for Media Source Extensions), users with roles and the
 * officers' actions. The HTTP API and its keys are in docs/contracts.md.
 *
 * Everything runs in the thread-default main context of the caller of console_new(), except
 * the wall's encoded samples, which arrive on the wall's streaming thread and are handed over.
 */
#pragma once

#include <glib.h>

#include "rules.h"
#include "store.h"
#include "vessels.h"

G_BEGIN_DECLS

#define CONSOLE_ERROR (console_error_quark())
GQuark console_error_quark(void);

typedef enum {
    CONSOLE_ERROR_CONFIG, /* a bad listen address, TLS files, users file */
    CONSOLE_ERROR_LISTEN, /* the socket cannot be bound */
    CONSOLE_ERROR_USERS,  /* user management: bad name or role, file unwritable */
    CONSOLE_ERROR_NOT_FOUND, /* no such stream (camera) */
} ConsoleError;

typedef enum { CONSOLE_ROLE_VIEWER, CONSOLE_ROLE_OPERATOR, CONSOLE_ROLE_OFFICER } ConsoleRole;

/* Random bytes from getrandom(2) as hex (2 * @n characters, @n <= 64), newly allocated. */
char *console_random_hex(gsize n);

/* Parses "viewer", "operator", "officer". */
gboolean console_role_parse(const char *text, ConsoleRole *role);
const char *console_role_name(ConsoleRole role);

/* Adds (or replaces) user @name in the users file @path (a key file, created mode 0600), with
 * @password salted and hashed by crypt(3) (yescrypt) when non-NULL, and a new random API token
 * of which only the SHA-256 is kept: the token is returned (newly allocated) and cannot be
 * recovered later. Names are 1-64 of [A-Za-z0-9._-]. */
char *console_user_add(const char *path, const char *name, ConsoleRole role,
                       const char *password, GError **error);

/* What the engine offers the console besides its store and rules. Every callback is optional
 * (NULL: the feature answers 503 or is left out) and runs in the console's main context. */
/* A PTZ preset as the camera list shows it. */
typedef struct {
    char name[33];
    double pan, tilt, zoom;
} ConsolePreset;

typedef struct {
    gpointer data;
    /* The overlay scene (borrowed; detections, container facts, selection) and the wall
     * (borrowed PsWall*, for the video and the click geometry), or NULL. */
    gpointer scene;
    gpointer wall;
    /* Highlights @container or vessel @mmsi (both NULL/0: clears) and aims the PTZ cameras
     * (@camera: only that one). */
    gboolean (*select)(gpointer data, const char *camera, const char *container, guint32 mmsi,
                       GError **error);
    /* A click at pixel (@x, @y) of @camera's picture: selects the container under it (newly
     * allocated code in *@container, NULL when none) or else the vessel under it (*@mmsi, 0
     * when none) and aims the nearest PTZ there; fills *@aim (JSON object text, newly
     * allocated, or NULL) with where. */
    gboolean (*select_at)(gpointer data, const char *camera, double x, double y,
                          char **container, guint32 *mmsi, char **aim, GError **error);
    /* An input the console journaled (an officer's action on ROOT/cmd/override), for the
     * wall to show at once. */
    void (*journaled)(gpointer data, const char *topic, const char *payload);
    /* Camera health as a JSON object {"NAME": {"state":..., "fps":...}}, newly allocated. */
    char *(*cameras)(gpointer data);
    /* Sends @camera's PTZ to its preset @preset (AbsoluteMove); out[3] gets its pan, tilt and
     * zoom. FALSE with @error when there is no such camera or preset. */
    gboolean (*ptz_preset)(gpointer data, const char *camera, const char *preset, double out[3],
                           GError **error);
    /* Appends @camera's PTZ presets to @out (element-type ConsolePreset); FALSE when it has
     * no PTZ. */
    gboolean (*ptz_presets)(gpointer data, const char *camera, GArray *out);
} ConsoleEngine;

typedef struct {
    const char *listen;   /* "HOST:PORT" (IPv6 as "[::1]:8080"); NULL: 127.0.0.1:8080 */
    const char *tls_cert; /* PEM files; both or neither */
    const char *tls_key;
    const char *users;    /* users file; NULL: nobody can log in (only /healthz answers) */
    const char *www_dir;  /* serve pages from this folder instead of the compiled-in copy */
    const char *topic_root; /* "port" */
    PsStore *store;
    PsRules **rules; /* read at each use (the engine may replace its rules) */
    PsVessels **vessels; /* AIS registry, read at each use; may point at NULL */
    const char *const *destinations; /* outbox destinations ("mqtt", webhooks), may be NULL */
    ConsoleEngine engine;
} ConsoleConfig;

typedef struct PsConsole PsConsole;

/* Loads the users, binds the socket and starts serving. */
PsConsole *console_new(const ConsoleConfig *config, GError **error);
void console_free(PsConsole *console); /* accepts NULL */

/* The port bound (useful with port 0). */
guint console_port(PsConsole *console);

/* Tells the console that the rules journaled or decided something (new decisions, dead
 * letters): the live lists are pushed to the pages. Cheap; call it after each input. */
void console_notify(PsConsole *console);

G_END_DECLS
