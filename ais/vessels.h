/* vessels.h: the vessel registry. Latest state per MMSI (position, static and voyage data),
 * downsampled tracks and port calls kept in the store, high-risk port flags and alerts.
 *
 * The registry is driven by the messages' own times (seconds since the Unix epoch), never by
 * the wall clock, so replaying a recorded feed gives the same tracks, calls and alerts as the
 * live feed did. It is not thread-safe: use it from the thread that owns its PsStore.
 *
 * What goes to the store (when one is given):
 *  - a track point per vessel at most every track_interval seconds, or sooner when its course
 *    changes by track_course_deg or its speed by track_speed_kn (buffered; written in one
 *    transaction by vessels_flush() or when track_buffer points are pending);
 *  - each port call when it opens (first stop within port_radius_km of a port) and again when
 *    it closes (the vessel is more than port_radius_km + 1 km away);
 *  - for a call at a high-risk port, once per call, a journal event (source "engine") and an
 *    outbox message on "{topic_root}/alert/vessel-risk/{mmsi}" with the contract's fields
 *    id, ts, mmsi, name, ports[{port, country, arrived, departed}] (every high-risk call of the
 *    vessel in the last risk_days).
 * Vessels not heard for vessel_expiry seconds are dropped from memory by vessels_expire(); their
 * rows in the store stay, and a call still open is closed at the vessel's last fix in port. Track points older than track_days are deleted by vessels_expire(). */
#pragma once

#include <glib.h>

#include "ais.h"
#include "portcalls.h"
#include "store.h"

G_BEGIN_DECLS

#define VESSELS_ERROR (vessels_error_quark())
GQuark vessels_error_quark(void);

typedef enum {
    VESSELS_ERROR_CONFIG, /* a bad setting (e.g. a high-risk entry that names no port) */
} VesselsError;

typedef struct PsVessels PsVessels;

typedef struct {
    PsCallParams calls;       /* port_radius_km, stop/go speeds */
    guint track_interval;     /* seconds between track points at steady course and speed */
    double track_course_deg;  /* a course change that adds a point sooner */
    double track_speed_kn;    /* a speed change that adds a point sooner */
    guint track_days;         /* track points older than this are deleted; 0 keeps them */
    guint track_buffer;       /* track points buffered before a write */
    guint vessel_expiry;      /* seconds without a message before a vessel leaves memory */
    guint risk_days;          /* how far back a high-risk call flags a vessel */
    /* High-risk ports: ISO 3166-1 alpha-3 country codes (every port of that country) or port
     * names (ASCII case-insensitive); NULL-terminated, may be NULL. Copied. */
    const char *const *high_risk;
    const char *topic_root;   /* "port" when NULL */
} PsVesselsConfig;

/* Fills @config with the defaults: radius 5 km, stop 0.2 kn, go 0.5 kn, a track point per
 * 300 s or on 10 degrees / 2 kn change, tracks kept 30 days, 256 buffered points, vessels
 * expire after 3600 s, risk window 30 days, no high-risk ports. */
void vessels_config_init(PsVesselsConfig *config);

/* A new registry. @ports is borrowed and must outlive it. @store is borrowed and may be NULL
 * (then nothing is kept beyond memory and no alert is journaled). Fails with
 * VESSELS_ERROR_CONFIG when a high_risk entry is neither a country of @ports nor a port name. */
PsVessels *vessels_new(const PsVesselsConfig *config, const PsPortList *ports, PsStore *store,
                       GError **error);

/* Writes what is buffered (see vessels_flush()) and frees. Accepts NULL. */
void vessels_free(PsVessels *vessels);

/* One position report (types 1/2/3, 18/19, 27). NaN for values not available (lat/lon NaN:
 * the report is ignored), heading and nav_status -1 when not available. */
typedef struct {
    guint mmsi;
    gint64 t;
    double lat, lon;
    double sog, cog;
    int heading;
    int nav_status;
} PsVesselFix;

/* Static and voyage data (types 5, 19, 24). @fields says which members the message carries. */
enum {
    VESSEL_NAME = 1 << 0,
    VESSEL_CALLSIGN = 1 << 1,
    VESSEL_IMO = 1 << 2,
    VESSEL_SHIP_TYPE = 1 << 3,
    VESSEL_DIMENSIONS = 1 << 4,
    VESSEL_DESTINATION = 1 << 5,
    VESSEL_ETA = 1 << 6,
    VESSEL_DRAUGHT = 1 << 7,
};

typedef struct {
    guint mmsi;
    gint64 t;
    guint fields;
    char name[21], callsign[8], destination[21];
    guint imo, ship_type;
    guint to_bow, to_stern, to_port, to_starboard;
    double draught;
    guint eta_month, eta_day, eta_hour, eta_minute;
} PsVesselStatic;

/* Applies a position report: updates the vessel (creating it), the track, the port-call state
 * and, on a call at a high-risk port, journals the alert. A report older than the vessel's last
 * one updates nothing and returns TRUE. Returns FALSE only when the store fails. */
gboolean vessels_update_position(PsVessels *vessels, const PsVesselFix *fix, GError **error);

/* Applies static/voyage data (creating the vessel). Returns FALSE only when the store fails. */
gboolean vessels_update_static(PsVessels *vessels, const PsVesselStatic *st, GError **error);

/* Applies one decoded message (ais_decoder_feed()): position reports of types 1, 2, 3, 18, 19
 * and 27 and static data of types 5, 19 and 24; other types are ignored. The message's time is
 * its tag block's c: time when it has one, else @t (the receive time). Returns FALSE only when
 * the store fails. */
gboolean vessels_feed_message(PsVessels *vessels, const AisMessage *msg, gint64 t,
                              GError **error);

/* Writes the buffered track points and changed vessel rows in one transaction. */
gboolean vessels_flush(PsVessels *vessels, GError **error);

/* Drops the vessels last heard before @now - vessel_expiry from memory, and (with a store and
 * track_days > 0) the track points older than @now - track_days. Returns the vessels dropped. */
guint vessels_expire(PsVessels *vessels, gint64 now, GError **error);

/* A copy of one vessel's state. */
typedef struct {
    guint mmsi;
    char name[21], callsign[8], destination[21];
    guint imo, ship_type;
    guint length_m, beam_m;
    double draught;
    guint eta_month, eta_day, eta_hour, eta_minute; /* eta_month 0: unknown */
    gint64 last_seen;
    gboolean has_position;
    double lat, lon, sog, cog; /* sog/cog NaN when not available */
    int heading, nav_status;
    const PsPort *visiting; /* the port whose radius it is in, or NULL */
    gboolean in_call;       /* it stopped during this visit */
} PsVesselInfo;

/* Fills @info and returns TRUE when @mmsi is in memory. */
gboolean vessels_get(PsVessels *vessels, guint mmsi, PsVesselInfo *info);

/* Calls @func for every vessel in memory, in MMSI order. */
typedef void (*PsVesselFunc)(const PsVesselInfo *info, gpointer user_data);
void vessels_foreach(PsVessels *vessels, PsVesselFunc func, gpointer user_data);

guint vessels_count(PsVessels *vessels);

/* A high-risk call of a vessel. */
typedef struct {
    const PsPort *port;
    gint64 arrival;
    gint64 departure; /* 0 while open */
} PsVesselCall;

/* The overlay's flag: TRUE when @mmsi called at a high-risk port in the @risk_days before
 * @now (a call still open, or one that departed on or after @now - risk_days). With a store,
 * a vessel not in memory is looked up there. @calls (may be NULL) receives the calls
 * (element-type PsVesselCall), oldest first. */
gboolean vessels_risk_flag(PsVessels *vessels, guint mmsi, gint64 now, GArray *calls);

typedef struct {
    guint64 fixes;          /* position reports applied */
    guint64 stale;          /* reports older than the vessel's last one, ignored */
    guint64 statics;        /* static/voyage reports applied */
    guint64 track_points;   /* track points written (or buffered) */
    guint64 calls_opened;
    guint64 calls_closed;
    guint64 alerts;         /* vessel-risk alerts journaled (not counting duplicates) */
    guint64 expired;        /* vessels dropped from memory */
} PsVesselsStats;

void vessels_get_stats(PsVessels *vessels, PsVesselsStats *stats);

G_END_DECLS
