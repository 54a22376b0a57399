/* vessels_ais.c: decoded AIS messages (ais.h) into the vessel registry. */
#include <string.h>

#include "vessels.h"

static const struct {
    guint ais;
    guint vessel;
} static_fields[] = {
    {AIS_STATIC_NAME, VESSEL_NAME},
    {AIS_STATIC_CALLSIGN, VESSEL_CALLSIGN},
    {AIS_STATIC_IMO, VESSEL_IMO},
    {AIS_STATIC_SHIP_TYPE, VESSEL_SHIP_TYPE},
    {AIS_STATIC_DIMENSIONS, VESSEL_DIMENSIONS},
    {AIS_STATIC_DESTINATION, VESSEL_DESTINATION},
    {AIS_STATIC_ETA, VESSEL_ETA},
    {AIS_STATIC_DRAUGHT, VESSEL_DRAUGHT},
};

gboolean vessels_feed_message(PsVessels *vs, const AisMessage *msg, gint64 t, GError **error)
{
    if (msg->tag.present && msg->tag.time >= 0)
        t = msg->tag.time;
    if (msg->mmsi == 0)
        return TRUE;
    switch (msg->type) {
    case 1: case 2: case 3: case 18: case 19: case 27: {
        AisPosition pos;
        if (ais_message_position(msg, &pos)) {
            PsVesselFix fix = {msg->mmsi, t, pos.lat, pos.lon, pos.sog, pos.cog, pos.heading,
                               pos.nav_status};
            if (!vessels_update_position(vs, &fix, error))
                return FALSE;
        }
        break;
    }
    default:
        break;
    }
    if (msg->type != 5 && msg->type != 19 && msg->type != 24)
        return TRUE;
    AisStatic st;
    if (!ais_message_static(msg, &st))
        return TRUE;
    PsVesselStatic v = {
        .mmsi = msg->mmsi,
        .t = t,
        .imo = st.imo,
        .ship_type = st.ship_type,
        .to_bow = st.to_bow,
        .to_stern = st.to_stern,
        .to_port = st.to_port,
        .to_starboard = st.to_starboard,
        .draught = st.draught,
        .eta_month = st.eta_month,
        .eta_day = st.eta_day,
        .eta_hour = st.eta_hour,
        .eta_minute = st.eta_minute,
    };
    for (guint i = 0; i < G_N_ELEMENTS(static_fields); i++)
        if (st.fields & static_fields[i].ais)
            v.fields |= static_fields[i].vessel;
    g_strlcpy(v.name, st.name, sizeof v.name);
    g_strlcpy(v.callsign, st.callsign, sizeof v.callsign);
    g_strlcpy(v.destination, st.destination, sizeof v.destination);
    return vessels_update_static(vs, &v, error);
}
