/* vessel_calls.h: the ports a vessel stopped at, from the store: the one query and the one
 * JSON shape behind `portsight vessel calls --json` and the console's GET /api/vessels/calls
 * (docs/contracts.md). */
#pragma once

#include <json-glib/json-glib.h>

#include "store.h"

G_BEGIN_DECLS

#define VESSEL_CALLS_DAY 86400

typedef struct {
    const char *query; /* a vessel name or an MMSI, as the user typed it (stripped) */
    gboolean prefix;   /* names match as prefixes (at most @max_vessels), else whole names */
    guint max_vessels;
    int days;          /* the window: the @days before @until (seconds since the epoch) */
    gint64 until;
} PsVesselCallsQuery;

/* Adds members to each vessel's object, after its calls (the console's risk and position). */
typedef void (*PsVesselCallsExtra)(JsonBuilder *b, guint mmsi, gpointer data);

/* TRUE when @s is an MMSI: 1 to 9 digits (feeds drop leading zeros). */
gboolean vessel_calls_parse_mmsi(const char *s, guint *mmsi);

/* "2026-11-26T12:00:00Z" for @t (seconds since the epoch, UTC). */
char *vessel_calls_rfc3339(gint64 t);

/* Adds the member "calls": [{port, country, arrived, departed}] of @mmsi's calls overlapping
 * [@since, @until], in arrival order, to the object @b is building. FALSE with @error when the
 * store cannot be read. */
gboolean vessel_calls_add(PsStore *store, guint mmsi, gint64 since, gint64 until, JsonBuilder *b,
                          GError **error);

/* The answer to @q as one JSON object, {query, days, since, until, vessels[{mmsi, name,
 * calls[{port, country, arrived, departed}], ...@extra}]}, built into @b; *@n_vessels (may
 * be NULL) how many vessels matched. FALSE with @error when the store cannot be read. */
gboolean vessel_calls_build(PsStore *store, const PsVesselCallsQuery *q,
                            PsVesselCallsExtra extra, gpointer extra_data, JsonBuilder *b,
                            guint *n_vessels, GError **error);

G_END_DECLS
