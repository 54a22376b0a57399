/* overlay-private.h: shared between the files of overlay/ only. */
#pragma once

#include "overlay.h"

typedef struct {
    char *camera;
    char code[12];
    char size_type[5];
    double bbox[4];
    double confidence;
    gint64 seen_us;   /* when the frame that was read was shown (its stream time) */
    double vel[2];    /* bbox motion in px per second, from the last two reads; 0 when unknown */
} OverlayDetection;

typedef struct {
    guint32 mmsi;
    char *name, *type;
    double lat, lon, sog_kn, cog_deg;
    double (*track)[2];
    gsize track_len;
} OverlayVessel;

typedef struct {
    OverlayDetection det; /* camera is NULL in a snapshot */
    PsSceneContainer info; /* owned strings */
    gboolean has_info;
    gboolean selected;
} OverlaySnapItem;

/* A consistent copy of what one camera's frame shows, taken under the scene's lock so that
 * drawing happens without it. */
typedef struct {
    GArray *items;     /* (element-type OverlaySnapItem) */
    GPtrArray *vessels; /* (element-type OverlayVessel) owned copies */
    char *selected_code;
    PsSceneContainer selected_info;
    gboolean selected_has_info;
    guint32 selected_mmsi;
} OverlaySnapshot;

void overlay__snapshot_take(PsScene *scene, const char *camera, gint64 now_us,
                            OverlaySnapshot *snap);
void overlay__snapshot_clear(OverlaySnapshot *snap);
