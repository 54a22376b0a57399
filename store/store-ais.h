/* store-ais.h: the vessel side's tables (ais/vessels.c and `portsight vessel calls`).
 *
 *  - ais_vessel: the latest static/voyage data and position of each MMSI;
 *  - ais_track: downsampled track points, expired after a configured age;
 *  - ais_call: port calls with arrival and departure (departure NULL while the call is open).
 *
 * Times are seconds since the Unix epoch (the AIS messages' own time). Strings are borrowed.
 * Like the rest of the store, these functions are for the thread that owns the PsStore. */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* One vessel's latest data. NULL strings and 0 numbers leave the stored value unchanged
 * (a type 24 part A carries the name only). */
typedef struct {
    guint mmsi;
    const char *name;
    const char *callsign;
    const char *destination;
    const char *eta;  /* "MM-DDTHH:MMZ" as AIS gives it (no year), NULL when unknown */
    guint imo;
    guint ship_type;
    guint length_m, beam_m;
    double draught_m;
    gint64 last_seen; /* 0: unchanged */
    gboolean has_position;
    double lat, lon, sog, cog; /* sog/cog NaN when not available */
} PsAisVesselRow;

/* Inserts or updates the row of @v->mmsi. */
gboolean store_ais_put_vessel(PsStore *store, const PsAisVesselRow *v, GError **error);

/* The stored name of @mmsi (newly allocated), or NULL in *@name when it has none. */
gboolean store_ais_vessel_name(PsStore *store, guint mmsi, char **name, GError **error);

/* The MMSIs whose stored name is @name, compared case-insensitively (ASCII), appended to
 * @mmsis (element-type guint) in ascending order. */
gboolean store_ais_find_by_name(PsStore *store, const char *name, GArray *mmsis,
                                GError **error);

/* The MMSIs whose stored name starts with @prefix (ASCII case-insensitive, LIKE), by name,
 * at most @limit, appended to @mmsis. */
gboolean store_ais_find_by_prefix(PsStore *store, const char *prefix, guint limit,
                                  GArray *mmsis, GError **error);

typedef struct {
    guint mmsi;
    gint64 t;
    double lat, lon;
    double sog, cog; /* NaN when not available */
} PsAisTrackPoint;

/* Adds track points (one transaction for all of them). A point at the same (mmsi, t) as a
 * stored one replaces it. */
gboolean store_ais_add_track(PsStore *store, const PsAisTrackPoint *points, gsize n,
                             GError **error);

/* Deletes track points older than @before; *@deleted (may be NULL) gets how many. */
gboolean store_ais_expire_track(PsStore *store, gint64 before, gint64 *deleted, GError **error);

/* Appends the track of @mmsi with t >= @since, oldest first, to @out (PsAisTrackPoint). */
gboolean store_ais_track(PsStore *store, guint mmsi, gint64 since, GArray *out, GError **error);

typedef struct {
    guint mmsi;
    const char *port;
    const char *country;
    gint64 arrival;
    gint64 departure; /* 0 while the call is open */
} PsAisCallRow;

/* Records a call, keyed by (mmsi, port, arrival): a second put with the same key updates its
 * departure. Returns *@created (may be NULL) TRUE when the row is new. */
gboolean store_ais_put_call(PsStore *store, const PsAisCallRow *call, gboolean *created,
                            GError **error);

/* Calls @func for each call of @mmsi that overlaps [@since, @until] (arrival <= @until and
 * departure >= @since or open), in arrival order. Strings in the row are valid only during the
 * callback. Return FALSE from @func to stop early. */
typedef gboolean (*PsAisCallFunc)(const PsAisCallRow *call, gpointer user_data);
gboolean store_ais_calls(PsStore *store, guint mmsi, gint64 since, gint64 until,
                         PsAisCallFunc func, gpointer user_data, GError **error);

G_END_DECLS
