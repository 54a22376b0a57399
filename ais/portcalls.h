/* portcalls.h: the port list (with a grid index) and port-call detection for one vessel.
 *
 * Pure logic: bytes or fixes in, results out; no clock, no globals, no I/O except
 * portcalls_ports_load() reading its file. Times are seconds since the Unix epoch (the AIS
 * message's own time, so a replay gives the same calls as the live feed did).
 *
 * A visit starts when a vessel comes within radius_km of a port (the nearest one) and ends
 * when it is more than radius_km + 1 km from that port. A visit is a port call when the vessel
 * stopped during it: speed over ground under stop_kn starts a stop, over go_kn ends it
 * (between the two the state does not change). The call's arrival is the time of the fix that
 * started the first stop; its departure is the time of the fix that ended the last stop (or of
 * the last fix inside the visit when the vessel was still stopped when it left).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PORTCALLS_ERROR (portcalls_error_quark())
GQuark portcalls_error_quark(void);

typedef enum {
    PORTCALLS_ERROR_IO,    /* the port list cannot be read */
    PORTCALLS_ERROR_PARSE, /* a line of the port list is malformed */
} PortcallsError;

typedef struct PsPortList PsPortList;

/* One port. Strings are owned by the list. */
typedef struct {
    const char *name;    /* upper case, e.g. "BEILUN" */
    const char *country; /* ISO 3166-1 alpha-3, e.g. "CHN"; "" when the list gives none */
    double lat, lon;     /* degrees */
    guint index;         /* position in the list */
} PsPort;

/* Loads a CSV port list "iso3,name,lat,lon" (an optional header line starting with "iso3").
 * Errors name "FILE:LINE" and what is wrong. */
PsPortList *portcalls_ports_load(const char *path, GError **error);

/* Same from text in memory; @name stands for the file in messages. */
PsPortList *portcalls_ports_new_from_data(const char *name, const char *data, gsize len,
                                          GError **error);

void portcalls_ports_free(PsPortList *ports); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PsPortList, portcalls_ports_free)

guint portcalls_ports_count(const PsPortList *ports);
const PsPort *portcalls_port(const PsPortList *ports, guint index); /* NULL when out of range */

/* The port nearest to (@lat, @lon) within @max_km (at most 500 km), or NULL. Uses a 1-degree
 * grid: only the cells that can hold a port within @max_km are looked at. *@dist_km (when
 * non-NULL) receives the distance to the port returned. */
const PsPort *portcalls_nearest(const PsPortList *ports, double lat, double lon, double max_km,
                                double *dist_km);

/* The same answer by a scan of every port: the reference the tests and benchmark compare the
 * grid with. */
const PsPort *portcalls_nearest_linear(const PsPortList *ports, double lat, double lon,
                                       double max_km, double *dist_km);

/* The first port named @name (ASCII case-insensitive), or NULL. */
const PsPort *portcalls_find(const PsPortList *ports, const char *name);

/* TRUE when some port of the list has country @iso3 (ASCII case-insensitive). */
gboolean portcalls_has_country(const PsPortList *ports, const char *iso3);

/* Great-circle distance in km (haversine, mean Earth radius 6371.0088 km). */
double portcalls_distance_km(double lat1, double lon1, double lat2, double lon2);

/* Detection thresholds. */
typedef struct {
    double radius_km; /* R: a visit starts within R km of a port, ends beyond R + 1 km */
    double stop_kn;   /* speed under which a stop starts */
    double go_kn;     /* speed over which a stop ends */
} PsCallParams;

#define PORTCALLS_DEFAULT_RADIUS_KM 5.0
#define PORTCALLS_DEFAULT_STOP_KN 0.2
#define PORTCALLS_DEFAULT_GO_KN 0.5

/* Per-vessel detector state: plain data, kept by the caller (one per vessel). */
typedef struct {
    int port;           /* index of the port being visited; -1 when outside every port */
    gboolean stopped;   /* in a stop now */
    gboolean called;    /* a stop happened during this visit: it is a port call */
    gint64 arrival;     /* start of the first stop of this visit */
    gint64 departure;   /* end of the last finished stop (0 when none) */
    gint64 last_inside; /* time of the last fix of this visit */
    gint64 last_t;      /* time of the last fix accepted (0 before the first) */
} PsCallState;

void portcalls_state_init(PsCallState *state);

typedef enum {
    PS_CALL_ARRIVED,  /* the first stop of a visit began: a port call opens (departure 0) */
    PS_CALL_DEPARTED, /* the vessel left the visit of a port it had stopped at: the call closes */
} PsCallEventKind;

typedef struct {
    PsCallEventKind kind;
    const PsPort *port;
    gint64 arrival;
    gint64 departure; /* 0 for PS_CALL_ARRIVED */
} PsCallEvent;

/* Feeds one fix of the vessel. @sog_kn is NaN when the speed is not available (the stop state
 * then does not change). Fills up to 2 events in @out (a departure from one port and an arrival
 * at another can come from one fix) and returns how many. A fix older than the last one
 * accepted, or with an invalid position, is ignored (returns 0, @state unchanged). */
guint portcalls_update(const PsPortList *ports, const PsCallParams *params, PsCallState *state,
                       gint64 t, double lat, double lon, double sog_kn, PsCallEvent out[2]);

/* Ends the current visit as if the vessel had left (it fell silent): fills @out with the
 * departure when the visit was a call (departure: the end of the last stop, or the last fix of
 * the visit when it was still stopped) and returns 1, else 0. @state is then outside every
 * port. */
guint portcalls_close(const PsPortList *ports, PsCallState *state, PsCallEvent *out);

G_END_DECLS
