/* json.c: AisMessage as gpsd-style JSON (gpsd_json(5) names), hand-written into the caller's
 * GString so that the hot path formats without allocating. Unscaled output carries the raw
 * field values of `gpsdecode -u -j`; scaled output converts them like gpsd's scaled JSON. */
#include "ais-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- text tables (gpsd's wording) ---- */

const char *ais_nav_status_text(guint s)
{
    static const char *const t[] = {
        "Under way using engine", "At anchor", "Not under command", "Restricted maneuverability",
        "Constrained by her draught", "Moored", "Aground", "Engaged in fishing",
        "Under way sailing", "Reserved for HSC", "Reserved for WIG",
        "Power-driven vessel towing astern",
        "Power-driven vessel pushing ahead or towing alongside", "Reserved",
        "AIS-SART is active", "Not defined"};
    return s < G_N_ELEMENTS(t) ? t[s] : "";
}

const char *ais_epfd_text(guint e)
{
    static const char *const t[] = {"Undefined", "GPS", "GLONASS", "Combined GPS/GLONASS",
                                    "Loran-C", "Chayka", "Integrated navigation system",
                                    "Surveyed", "Galileo"};
    if (e < G_N_ELEMENTS(t))
        return t[e];
    return e < 16 ? "INVALID EPFD" : "";
}

const char *ais_ship_type_text(guint st)
{
    static const char *const low[] = {
        [0] = "Not available",
        [20] = "Wing in ground (WIG), all ships of this type",
        [21] = "Wing in ground (WIG), Hazardous category A",
        [22] = "Wing in ground (WIG), Hazardous category B",
        [23] = "Wing in ground (WIG), Hazardous category C",
        [24] = "Wing in ground (WIG), Hazardous category D",
        [30] = "Fishing", [31] = "Towing",
        [32] = "Towing: length exceeds 200m or breadth exceeds 25m",
        [33] = "Dredging or underwater ops", [34] = "Diving ops", [35] = "Military ops",
        [36] = "Sailing", [37] = "Pleasure Craft",
        [40] = "High speed craft (HSC), all ships of this type",
        [41] = "High speed craft (HSC), Hazardous category A",
        [42] = "High speed craft (HSC), Hazardous category B",
        [43] = "High speed craft (HSC), Hazardous category C",
        [44] = "High speed craft (HSC), Hazardous category D",
        [49] = "High speed craft (HSC), No additional information",
        [50] = "Pilot Vessel", [51] = "Search and Rescue vessel", [52] = "Tug",
        [53] = "Port Tender", [54] = "Anti-pollution equipment", [55] = "Law Enforcement",
        [56] = "Spare - Local Vessel", [57] = "Spare - Local Vessel",
        [58] = "Medical Transport",
        [59] = "Noncombatant ship according to RR Resolution No. 18",
    };
    static const char *const group[] = {"Passenger", "Cargo", "Tanker", "Other Type"};
    static const char *const sub[] = {"all ships of this type", "Hazardous category A",
                                      "Hazardous category B", "Hazardous category C",
                                      "Hazardous category D", "Reserved for future use",
                                      "Reserved for future use", "Reserved for future use",
                                      "Reserved for future use", "No additional information"};
    static char composed[4][10][64];
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        for (guint g = 0; g < 4; g++)
            for (guint s = 0; s < 10; s++)
                g_snprintf(composed[g][s], sizeof composed[g][s], "%s - %s", group[g], sub[s]);
        g_once_init_leave(&once, 1);
    }
    if (st >= 60 && st < 100)
        return composed[st / 10 - 6][st % 10];
    if (st < G_N_ELEMENTS(low) && low[st])
        return low[st];
    if (st < 20)
        return "Reserved for future use";
    if (st < 30)
        return "Wing in ground (WIG), Reserved for future use";
    if (st < 40)
        return "Reserved for future use";
    if (st < 50)
        return "High speed craft (HSC), Reserved for future use";
    return "Reserved for future use";
}

static const char *aid_type_text(guint a)
{
    static const char *const t[] = {
        "Unspecified", "Reference point", "RACON", "Fixed offshore structure",
        "Spare, Reserved for future use.", "Light, without sectors", "Light, with sectors",
        "Leading Light Front", "Leading Light Rear", "Beacon, Cardinal N", "Beacon, Cardinal E",
        "Beacon, Cardinal S", "Beacon, Cardinal W", "Beacon, Port hand",
        "Beacon, Starboard hand", "Beacon, Preferred Channel port hand",
        "Beacon, Preferred Channel starboard hand", "Beacon, Isolated danger",
        "Beacon, Safe water", "Beacon, Special mark", "Cardinal Mark N", "Cardinal Mark E",
        "Cardinal Mark S", "Cardinal Mark W", "Port hand Mark", "Starboard hand Mark",
        "Preferred Channel Port hand", "Preferred Channel Starboard hand", "Isolated danger",
        "Safe Water", "Special Mark", "Light Vessel / LANBY / Rigs"};
    return a < G_N_ELEMENTS(t) ? t[a] : "";
}

static const char *station_type_text(guint s)
{
    static const char *const t[] = {"All types of mobiles", "Reserved for future use",
                                    "All types of Class B mobile stations",
                                    "SAR airborne mobile station",
                                    "Aid to Navigation station",
                                    "Class B shipborne mobile station (IEC62287 only)",
                                    "Regional use and inland waterways",
                                    "Regional use and inland waterways",
                                    "Regional use and inland waterways",
                                    "Regional use and inland waterways"};
    return s < G_N_ELEMENTS(t) ? t[s] : "Reserved for future use";
}

/* ---- writers ---- */

/* Writes straight into the GString's buffer: @len is the length written so far; the GString's
 * own length is set once at the end (ais_message_to_json). */
typedef struct {
    GString *s;
    gsize len;
    gboolean scaled;
} Out;

#define INLINE static inline __attribute__((always_inline))

static void grow(Out *o, gsize n)
{
    g_string_set_size(o->s, o->len + n + 4096);
}

INLINE void raw(Out *o, const char *text, gsize n)
{
    if (G_UNLIKELY(o->len + n >= o->s->allocated_len))
        grow(o, n);
    memcpy(o->s->str + o->len, text, n);
    o->len += n;
}
#define LIT(o, text) raw((o), "" text, sizeof(text) - 1)

INLINE void put_u64(Out *o, guint64 v)
{
    char buf[24];
    char *p = buf + sizeof buf;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    raw(o, p, (gsize)(buf + sizeof buf - p));
}

static void put_i(Out *o, gint64 v)
{
    if (v < 0) {
        LIT(o, "-");
        put_u64(o, (guint64)(-(v + 1)) + 1);
    } else {
        put_u64(o, (guint64)v);
    }
}

/* ,"key": (inlined, so the length of a literal key is known at compile time) */
INLINE void key(Out *o, const char *k)
{
    gsize n = strlen(k);
    if (G_UNLIKELY(o->len + n + 4 >= o->s->allocated_len))
        grow(o, n + 4);
    char *p = o->s->str + o->len;
    p[0] = ',';
    p[1] = '"';
    memcpy(p + 2, k, n);
    p[n + 2] = '"';
    p[n + 3] = ':';
    o->len += n + 4;
}

INLINE void ku(Out *o, const char *k, guint64 v)
{
    key(o, k);
    put_u64(o, v);
}

INLINE void ki(Out *o, const char *k, gint64 v)
{
    key(o, k);
    put_i(o, v);
}

INLINE void kb(Out *o, const char *k, gboolean v)
{
    key(o, k);
    if (v)
        LIT(o, "true");
    else
        LIT(o, "false");
}

static void put_str(Out *o, const char *v)
{
    LIT(o, "\"");
    const char *run = v;
    for (const char *p = v;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        raw(o, run, (gsize)(p - run));
        if (c == '\0')
            break;
        run = p + 1;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            raw(o, e, 2);
        } else {
            char e[8];
            g_snprintf(e, sizeof e, "\\u%04x", c);
            raw(o, e, 6);
        }
    }
    LIT(o, "\"");
}

INLINE void ks(Out *o, const char *k, const char *v)
{
    key(o, k);
    put_str(o, v);
}

static void kf(Out *o, const char *k, int prec, double v)
{
    char buf[64];
    key(o, k);
    int n = g_snprintf(buf, sizeof buf, "%.*f", prec, v);
    raw(o, buf, (gsize)MIN(n, (int)sizeof buf - 1));
}

/* A raw value, or when scaled, raw / @div with @prec decimals. */
static void kscale(Out *o, const char *k, gint64 v, double div, int prec)
{
    if (o->scaled)
        kf(o, k, prec, (double)v / div);
    else
        ki(o, k, v);
}

static void kdate(Out *o, const char *k, guint mo, guint d, guint h, guint mi)
{
    char buf[40];
    g_snprintf(buf, sizeof buf, "%02u-%02uT%02u:%02uZ", mo, d, h, mi);
    ks(o, k, buf);
}

static void ktext(Out *o, const char *k, const AisMessage *m, guint start, guint count)
{
    char buf[170];
    ais__text(m, start, count, buf, sizeof buf, TRUE);
    ks(o, k, buf);
}

/* "data":"BITS:hex" of @nbits bits from bit @start. Bits at or past @window read as 0 (gpsd
 * copies whole bytes, then shifts); @mask_tail clears the bits after @nbits in the last byte. */
static void kdata(Out *o, const AisMessage *m, guint start, guint nbits, guint window,
                  gboolean mask_tail)
{
    static const char hex[] = "0123456789abcdef";
    key(o, "data");
    LIT(o, "\"");
    put_u64(o, nbits);
    LIT(o, ":");
    guint nbytes = (nbits + 7) / 8;
    char buf[2 * (AIS_MAX_BITS / 8) + 2];
    for (guint i = 0; i < nbytes; i++) {
        guint b = 0;
        for (guint j = 0; j < 8; j++) {
            guint pos = start + 8 * i + j;
            guint bit = pos < window ? ais__ubits(m, pos, 1) : 0;
            if (mask_tail && 8 * i + j >= nbits)
                bit = 0;
            b = (b << 1) | bit;
        }
        buf[2 * i] = hex[b >> 4];
        buf[2 * i + 1] = hex[b & 15];
    }
    raw(o, buf, 2 * nbytes);
    LIT(o, "\"");
}

/* Positions in 1/10000 minute (types 1-4, 9, 11, 18, 19, 21): degrees with 6 decimals. */
static void klonlat(Out *o, gint lon, gint lat)
{
    kscale(o, "lon", lon, 600000.0, 6);
    kscale(o, "lat", lat, 600000.0, 6);
}

static void kspeed10(Out *o, const char *k, guint v)
{
    if (o->scaled && v == 1023)
        ks(o, k, "nan");
    else
        kscale(o, k, v, 10.0, 1);
}

static void kcourse10(Out *o, guint v)
{
    if (o->scaled && v == 3600)
        ks(o, "course", "nan");
    else
        kscale(o, "course", v, 10.0, 1);
}

static void kturn(Out *o, gint turn)
{
    if (!o->scaled) {
        ki(o, "turn", turn);
        return;
    }
    if (turn == -128)
        ks(o, "turn", "nan");
    else if (turn == 127)
        ks(o, "turn", "fastright");
    else if (turn == -127)
        ks(o, "turn", "fastleft");
    else {
        /* ROT = 4.733 * sqrt(rate) in the message; the sign gives the direction. */
        double r = turn / 4.733;
        kf(o, "turn", 0, turn < 0 ? -r * r : r * r);
    }
}

static void kdims(Out *o, guint bow, guint stern, guint port, guint starboard)
{
    ku(o, "to_bow", bow);
    ku(o, "to_stern", stern);
    ku(o, "to_port", port);
    ku(o, "to_starboard", starboard);
}

/* ---- binary applications (types 6 and 8) ---- */

#define U(s, w) ais__ubits(m, (s), (w))
#define S(s, w) ais__sbits(m, (s), (w))

static void tidals(Out *o, const AisMessage *m, gboolean imo236)
{
    ku(o, "month", U(88, 4));
    ku(o, "day", U(92, 5));
    key(o, "tidals");
    LIT(o, "[");
    guint size = imo236 ? 93 : 88;
    for (guint u = 0; 97 + size * u <= m->bitlen; u++) {
        guint a = 97 + size * u;
        gint lat, lon;
        guint from_hour, from_min, to_hour, to_min, cdir, cspeed;
        if (imo236) {
            lat = S(a, 27);
            lon = S(a + 27, 28);
            from_hour = U(a + 55, 5);
            from_min = U(a + 60, 6);
            to_hour = U(a + 66, 5);
            to_min = U(a + 71, 6);
            cdir = U(a + 77, 9);
            cspeed = U(a + 86, 7);
        } else {
            lon = S(a, 25);
            lat = S(a + 25, 24);
            from_hour = U(a + 49, 5);
            from_min = U(a + 54, 6);
            to_hour = U(a + 60, 5);
            to_min = U(a + 65, 6);
            cdir = U(a + 71, 9);
            cspeed = U(a + 80, 8);
        }
        if (u > 0)
            LIT(o, ",");
        /* The element's first key has no comma in front. */
        LIT(o, "{\"lon\":");
        if (o->scaled) {
            char buf[32];
            int n = g_snprintf(buf, sizeof buf, "%.4f", lon / 60000.0);
            raw(o, buf, (gsize)MIN(n, (int)sizeof buf - 1));
        } else {
            put_i(o, lon);
        }
        kscale(o, "lat", lat, 60000.0, 4);
        ku(o, "from_hour", from_hour);
        ku(o, "from_min", from_min);
        ku(o, "to_hour", to_hour);
        ku(o, "to_min", to_min);
        ku(o, "cdir", cdir);
        kscale(o, "cspeed", cspeed, 10.0, 1);
        LIT(o, "}");
    }
    LIT(o, "]");
}

static void waypoints(Out *o, const AisMessage *m, guint base, guint count)
{
    key(o, "waypoints");
    LIT(o, "[");
    for (guint i = 0; i < count; i++) {
        guint a = base + 55 * i;
        char buf[96];
        if (o->scaled)
            g_snprintf(buf, sizeof buf, "%s{\"lon\":%.4f,\"lat\":%.4f}", i ? "," : "",
                       S(a, 28) / 600000.0, S(a + 28, 27) / 600000.0);
        else
            g_snprintf(buf, sizeof buf, "%s{\"lon\":%d,\"lat\":%d}", i ? "," : "", S(a, 28),
                       S(a + 28, 27));
        raw(o, buf, strlen(buf));
    }
    LIT(o, "]");
}

/* IMO289 text description (6/1/30 addressed, 8/1/29 broadcast): the same fields from @base,
 * the application data's first bit; @len is the message's length in bits. */
static void text_description(Out *o, const AisMessage *m, guint len, guint base)
{
    char buf[170];
    ku(o, "linkage", U(base, 10));
    buf[0] = '\0';
    if (len > base + 10)
        ais__text(m, base + 10, (len - base - 10) / 6, buf, sizeof buf, TRUE);
    ks(o, "text", buf);
}

static void route(Out *o, const AisMessage *m, guint b)
{
    static const char *const rtypes[] = {
        "Undefined", "Mandatory", "Recommended", "Alternative", "Recommended through ice",
        "Ship route plan", "Reserved for future use"};
    guint rtype = U(b + 13, 5);
    ku(o, "linkage", U(b, 10));
    ku(o, "sender", U(b + 10, 3));
    ku(o, "rtype", rtype);
    ks(o, "rtype_text", rtypes[MIN(rtype, G_N_ELEMENTS(rtypes) - 1)]);
    kdate(o, "start", U(b + 18, 4), U(b + 22, 5), U(b + 27, 5), U(b + 32, 6));
    ku(o, "duration", U(b + 38, 18));
    waypoints(o, m, b + 61, U(b + 56, 5));
}

/* Type 6 application fields; FALSE when gpsd would print the raw "data". */
static gboolean type6_app(Out *o, const AisMessage *m)
{
    guint dac = m->bin.dac, fid = m->bin.fid, len = m->bitlen;
    if (dac == 200 && (fid == 21 || fid == 22) && len == (fid == 21 ? 248u : 232u)) {
        /* Inland ETA (21) / RTA (22) at lock, bridge or terminal. */
        static const char *const status[] = {"Operational", "Limited operation",
                                             "Out of order", "N/A"};
        char buf[40];
        ktext(o, "country", m, 88, 2);
        ktext(o, "locode", m, 100, 3);
        ktext(o, "section", m, 118, 5);
        ktext(o, "terminal", m, 148, 5);
        ktext(o, "hectometre", m, 178, 5);
        g_snprintf(buf, sizeof buf, "%u-%uT%u:%u", U(208, 4), U(212, 5), U(217, 5), U(222, 6));
        ks(o, "eta", buf);
        if (fid == 21) {
            ku(o, "tugs", U(228, 3));
            ku(o, "airdraught", U(231, 12));
        } else {
            ku(o, "status", U(228, 2));
            ks(o, "status_text", status[U(228, 2)]);
        }
        return TRUE;
    }
    if (dac == 200 && fid == 55 && len == 168) {
        ku(o, "crew", U(88, 8));
        ku(o, "passengers", U(96, 13));
        ku(o, "personnel", U(109, 8));
        return TRUE;
    }
    if ((dac == 235 || dac == 250) && fid == 10 && len == 136) {
        static const char *const racon[] = {"No RACON installed", "RACON not monitored",
                                            "RACON operational", "RACON ERROR"};
        static const char *const light[] = {"No light or no monitoring", "Light ON",
                                            "Light OFF", "Light ERROR"};
        kb(o, "off_pos", U(131, 1));
        kb(o, "alarm", U(122, 1));
        ku(o, "stat_ext", U(123, 8));
        kscale(o, "ana_int", U(88, 10), 20.0, 2);
        kscale(o, "ana_ext1", U(98, 10), 20.0, 2);
        kscale(o, "ana_ext2", U(108, 10), 20.0, 2);
        ku(o, "racon", U(118, 2));
        ks(o, "racon_text", racon[U(118, 2)]);
        ku(o, "light", U(120, 2));
        ks(o, "light_text", light[U(120, 2)]);
        return TRUE;
    }
    if (dac != 1)
        return FALSE;
    switch (fid) {
    case 12: /* IMO236 dangerous cargo indication */
        ktext(o, "lastport", m, 88, 5);
        kdate(o, "departure", U(118, 4), U(122, 5), U(127, 5), U(132, 6));
        ktext(o, "nextport", m, 138, 5);
        kdate(o, "eta", U(168, 4), U(172, 5), U(177, 5), U(182, 6));
        ktext(o, "dangerous", m, 188, 20);
        ktext(o, "imdcat", m, 308, 4);
        ku(o, "unid", U(332, 13));
        ku(o, "amount", U(345, 10));
        ku(o, "unit", U(355, 2));
        return TRUE;
    case 14: /* IMO236 tidal window */
        tidals(o, m, TRUE);
        return TRUE;
    case 32: /* IMO289 tidal window */
        tidals(o, m, FALSE);
        return TRUE;
    case 15: /* IMO236 extended ship static data; gpsd reads airdraught from bit 56 */
        ku(o, "airdraught", U(56, 11));
        return TRUE;
    case 16: /* number of persons on board: IMO289 (136 data bits) or IMO236 */
        ku(o, "persons", m->bin.data_bits == 136 ? U(88, 13) : U(55, 13));
        return TRUE;
    case 18: /* IMO289 clearance time to enter port */
        ku(o, "linkage", U(88, 10));
        kdate(o, "arrival", U(98, 4), U(102, 5), U(107, 5), U(112, 6));
        ktext(o, "portname", m, 118, 20);
        ktext(o, "destination", m, 238, 5);
        kscale(o, "lon", S(268, 25), 60000.0, 4);
        kscale(o, "lat", S(293, 24), 60000.0, 4);
        return TRUE;
    case 20: { /* IMO289 berthing data */
        static const char *const positions[] = {
            "Undefined", "Port-side to", "Starboard-side to", "Mediterranean (end-on) mooring",
            "Mooring buoy", "Anchorage", "Reserved for future use", "Reserved for future use"};
        static const char *const services[] = {
            "agent", "fuel", "chandler", "stevedore", "electrical", "water", "customs",
            "cartage", "crane", "lift", "medical", "navrepair", "provisions", "shiprepair",
            "surveyor", "steam", "tugs", "solidwaste", "liquidwaste", "hazardouswaste",
            "ballast", "additional", "regional1", "regional2", "future1", "future2"};
        char buf[48];
        ku(o, "linkage", U(88, 10));
        ku(o, "berth_length", U(98, 9));
        ku(o, "position", U(115, 3));
        ks(o, "position_text", positions[U(115, 3)]);
        g_snprintf(buf, sizeof buf, "%u-%uT%u:%u", U(118, 4), U(122, 5), U(127, 5), U(132, 6));
        ks(o, "arrival", buf);
        ku(o, "availability", U(138, 1));
        for (guint i = 0; i < G_N_ELEMENTS(services); i++)
            ku(o, services[i], U(139 + 2 * i, 2));
        ktext(o, "berth_name", m, 191, 20);
        kscale(o, "berth_lon", S(311, 25), 60000.0, 3);
        kscale(o, "berth_lat", S(336, 24), 60000.0, 3);
        kscale(o, "berth_depth", U(107, 8), 10.0, 1);
        return TRUE;
    }
    case 25: /* IMO289 dangerous cargo indication */
        ku(o, "unit", U(88, 2));
        ku(o, "amount", U(90, 10));
        key(o, "cargos");
        LIT(o, "[");
        for (guint u = 0; 100 + u * 17 < len; u++) {
            char buf[64];
            g_snprintf(buf, sizeof buf, "%s{\"code\":%u,\"subtype\":%u}", u ? "," : "",
                       U(100 + u * 17, 4), U(104 + u * 17, 13));
            raw(o, buf, strlen(buf));
        }
        LIT(o, "]");
        return TRUE;
    case 28: /* IMO289 route information, addressed */
        route(o, m, 88);
        return TRUE;
    case 30: /* IMO289 text description, addressed */
        text_description(o, m, len, 88);
        return TRUE;
    default:
        return FALSE;
    }
}

static void meteo(Out *o, const AisMessage *m, gboolean imo289)
{
    static const char *const trends[] = {"steady", "increasing", "decreasing", "N/A"};
    static const char *const precip[] = {"reserved", "rain", "thunderstorm", "freezing rain",
                                         "mixed/ice", "snow", "reserved", "N/A"};
    static const char *const ice[] = {"no", "yes", "reserved", "N/A"};
    /* IMO289 (FI 31) is IMO236 (FI 11) with an accuracy bit, signed temperatures, a
     * visibility-greater flag and a wider water level: d is the shift of the common tail. */
    guint d = imo289 ? 1 : 0;
    if (imo289) {
        kscale(o, "lon", S(56, 25), 60000.0, 4);
        kscale(o, "lat", S(81, 24), 60000.0, 4);
        kb(o, "accuracy", U(105, 1));
    } else {
        kscale(o, "lat", S(56, 24), 60000.0, 4);
        kscale(o, "lon", S(80, 25), 60000.0, 4);
    }
    char ts[24];
    g_snprintf(ts, sizeof ts, "%02uT%02u:%02uZ", U(105 + d, 5), U(110 + d, 5), U(115 + d, 6));
    ks(o, "timestamp", ts);
    ku(o, "wspeed", U(121 + d, 7));
    ku(o, "wgust", U(128 + d, 7));
    ku(o, "wdir", U(135 + d, 9));
    ku(o, "wgustdir", U(144 + d, 9));
    ku(o, "humidity", U(164 + d, 7));
    guint pt, lt, pr, ic;
    if (imo289) {
        gint airtemp = S(154, 11), dew = S(172, 10);
        kscale(o, "airtemp", airtemp, 10.0, 1);
        kscale(o, "dewpoint", dew, 10.0, 1);
        guint p = U(182, 9);
        if (o->scaled)
            ku(o, "pressure", p + 799);
        else
            ku(o, "pressure", p);
        pt = U(191, 2);
        if (o->scaled)
            ks(o, "pressuretend", trends[pt]);
        else
            ku(o, "pressuretend", pt);
        kb(o, "visgreater", U(193, 1));
        kscale(o, "visibility", U(194, 7), 10.0, 1);
        guint wl = U(201, 12);
        if (o->scaled)
            kf(o, "waterlevel", 1, wl / 100.0 - 10.0);
        else
            ku(o, "waterlevel", wl);
        lt = U(213, 2);
        d = 4;
    } else {
        guint airtemp = U(153, 11), dew = U(171, 10), p = U(181, 9);
        if (o->scaled) {
            kf(o, "airtemp", 1, airtemp / 10.0 - 60.0);
            kf(o, "dewpoint", 1, dew / 10.0 - 20.0);
            ku(o, "pressure", p + 800);
        } else {
            ku(o, "airtemp", airtemp);
            ku(o, "dewpoint", dew);
            ku(o, "pressure", p);
        }
        pt = U(190, 2);
        if (o->scaled)
            ks(o, "pressuretend", trends[pt]);
        else
            ku(o, "pressuretend", pt);
        kscale(o, "visibility", U(192, 8), 10.0, 1);
        guint wl = U(200, 9);
        if (o->scaled)
            kf(o, "waterlevel", 1, wl / 10.0 - 10.0);
        else
            ku(o, "waterlevel", wl);
        lt = U(209, 2);
        d = 0;
    }
    if (o->scaled)
        ks(o, "leveltrend", trends[lt]);
    else
        ku(o, "leveltrend", lt);
    kscale(o, "cspeed", U(211 + d, 8), 10.0, 1);
    ku(o, "cdir", U(219 + d, 9));
    kscale(o, "cspeed2", U(228 + d, 8), 10.0, 1);
    ku(o, "cdir2", U(236 + d, 9));
    ku(o, "cdepth2", U(245 + d, 5));
    kscale(o, "cspeed3", U(250 + d, 8), 10.0, 1);
    ku(o, "cdir3", U(258 + d, 9));
    ku(o, "cdepth3", U(267 + d, 5));
    kscale(o, "waveheight", U(272 + d, 8), 10.0, 1);
    ku(o, "waveperiod", U(280 + d, 6));
    ku(o, "wavedir", U(286 + d, 9));
    kscale(o, "swellheight", U(295 + d, 8), 10.0, 1);
    ku(o, "swellperiod", U(303 + d, 6));
    ku(o, "swelldir", U(309 + d, 9));
    ku(o, "seastate", U(318 + d, 4));
    if (imo289) {
        kscale(o, "watertemp", S(326, 10), 10.0, 1);
    } else if (o->scaled) {
        kf(o, "watertemp", 1, U(322, 10) / 10.0 - 10.0);
    } else {
        ku(o, "watertemp", U(322, 10));
    }
    pr = U(332 + d, 3);
    ic = U(344 + d, 2);
    if (imo289 && o->scaled) {
        ks(o, "preciptype", precip[pr]);
    } else {
        ku(o, "preciptype", pr);
        if (!imo289)
            ks(o, "preciptype_text", precip[pr]);
    }
    kscale(o, "salinity", U(335 + d, 9), 10.0, 1);
    if (imo289 && o->scaled) {
        ks(o, "ice", ice[ic]);
    } else {
        ku(o, "ice", ic);
        if (!imo289)
            ks(o, "ice_text", ice[ic]);
    }
}

static gboolean type8_app(Out *o, const AisMessage *m)
{
    guint dac = m->bin.dac, fid = m->bin.fid, len = m->bitlen;
    if (dac == 200 && fid == 10 && len == 168) {
        static const char *const hazard[] = {"0 blue cones/lights", "1 blue cone/light",
                                             "2 blue cones/lights", "3 blue cones/lights",
                                             "4 B-Flag", "Unknown (default)"};
        static const char *const loaded[] = {"N/A (default)", "Unloaded", "Loaded",
                                             "Do not use"};
        guint hz = U(141, 3);
        if (hz >= G_N_ELEMENTS(hazard))
            return FALSE; /* gpsd's guard against false matches */
        ktext(o, "vin", m, 56, 8);
        ku(o, "length", U(104, 13));
        ku(o, "beam", U(117, 10));
        ku(o, "shiptype", U(127, 14));
        ks(o, "shiptype_text", U(127, 14) == 8010 ? "Motor freighter" : "");
        ku(o, "hazard", hz);
        ks(o, "hazard_text", hazard[hz]);
        ku(o, "draught", U(144, 11));
        ku(o, "loaded", U(155, 2));
        ks(o, "loaded_text", loaded[U(155, 2)]);
        kb(o, "speed_q", U(157, 1));
        kb(o, "course_q", U(158, 1));
        kb(o, "heading_q", U(159, 1));
        return TRUE;
    }
    if (dac == 200 && fid == 23 && len == 256) {
        /* EMMA weather warning. gpsd prints the warning type and intensity as a second "type"
         * and "class" key, which JSON readers cannot tell from the AIS ones: portsight names
         * them emma_type and intensity (a deliberate difference). */
        static const char *const types[] = {"Not available", "Wind", "Rain", "Snow and ice",
                                            "Thunderstorm", "Fog", "Low temperature",
                                            "High temperature", "Flood", "Fire in the forests"};
        static const char *const intensity[] = {"Not available", "Low", "Medium", "Strong"};
        static const char *const wind[] = {"Not available", "North", "North East", "East",
                                           "South East", "South", "South West", "West",
                                           "North West"};
        char buf[48];
        g_snprintf(buf, sizeof buf, "%4u-%02u-%02uT%02u:%02u", U(56, 8) + 2000, U(64, 4),
                   U(68, 5), U(90, 5), U(95, 6));
        ks(o, "start", buf);
        g_snprintf(buf, sizeof buf, "%4u-%02u-%02uT%02u:%02u", U(73, 8) + 2000, U(81, 4),
                   U(85, 5), U(101, 5), U(106, 6));
        ks(o, "end", buf);
        kscale(o, "start_lon", S(112, 28), 600000.0, 6);
        kscale(o, "start_lat", S(140, 27), 600000.0, 6);
        kscale(o, "end_lon", S(167, 28), 600000.0, 6);
        kscale(o, "end_lat", S(195, 27), 600000.0, 6);
        guint t = U(222, 4), in = U(244, 2), w = U(246, 4);
        ku(o, "emma_type", t);
        ks(o, "emma_type_text", t < G_N_ELEMENTS(types) ? types[t] : "INVALID EMMA TYPE");
        ki(o, "min", S(226, 9));
        ki(o, "max", S(235, 9));
        ku(o, "intensity", in);
        ks(o, "intensity_text", intensity[in]);
        ku(o, "wind", w);
        ks(o, "wind_text", w < G_N_ELEMENTS(wind) ? wind[w] : "INVALID EMMA WIND DIRECTION");
        return TRUE;
    }
    if (dac == 200 && fid == 24 && len == 168) { /* inland water levels */
        ktext(o, "country", m, 56, 2);
        key(o, "gauges");
        LIT(o, "[");
        for (guint i = 0; 68 + 25 * i < len; i++) {
            char buf[64];
            g_snprintf(buf, sizeof buf, "%s{\"id\":%u,\"level\":%d}", i ? "," : "",
                       U(68 + 25 * i, 11), S(68 + 25 * i + 11, 14));
            raw(o, buf, strlen(buf));
        }
        LIT(o, "]");
        return TRUE;
    }
    if (dac == 200 && fid == 40 && len == 168) { /* inland signal status */
        static const char *const directions[] = {"Unknown", "Upstream", "Downstream",
                                                 "To left bank", "To right bank"};
        kscale(o, "lon", S(56, 28), 600000.0, 6);
        kscale(o, "lat", S(84, 27), 600000.0, 6);
        ku(o, "form", U(111, 4));
        ku(o, "facing", U(115, 9));
        ku(o, "direction", U(124, 3));
        ks(o, "direction_text", U(124, 3) < G_N_ELEMENTS(directions) ? directions[U(124, 3)]
                                                                       : "INVALID DIRECTION");
        ku(o, "status", U(127, 30));
        return TRUE;
    }
    if (dac != 1)
        return FALSE;
    switch (fid) {
    case 17: { /* IMO289 VTS-generated/synthetic targets */
        static const char *const idtypes[] = {"mmsi", "imo", "callsign", "other"};
        key(o, "targets");
        LIT(o, "[");
        for (guint u = 0; 56 + 122 * u <= len; u++) {
            guint a = 56 + 122 * u;
            guint idtype = U(a, 2);
            char buf[160];
            if (u > 0)
                LIT(o, ",");
            LIT(o, "{\"idtype\":");
            put_u64(o, idtype);
            ks(o, "idtype_text", idtypes[idtype]);
            if (idtype <= 1) {
                /* A 42-bit field of which gpsd keeps the low 32 bits, printed as a string. */
                g_snprintf(buf, sizeof buf, "%u", U(a + 12, 32));
                ks(o, idtypes[idtype], buf);
            } else {
                ais__text(m, a + 2, 7, buf, sizeof buf, TRUE);
                ks(o, idtypes[idtype], buf);
            }
            kscale(o, "lat", S(a + 48, 24), 60000.0, 4);
            kscale(o, "lon", S(a + 72, 25), 60000.0, 4);
            ku(o, "course", U(a + 97, 9));
            ku(o, "second", U(a + 106, 6));
            ku(o, "speed", U(a + 112, 10));
            LIT(o, "}");
        }
        LIT(o, "]");
        return TRUE;
    }
    case 19: /* IMO289 marine traffic signal */
        ku(o, "linkage", U(56, 10));
        ktext(o, "station", m, 66, 20);
        kscale(o, "lon", S(186, 25), 60000.0, 4);
        kscale(o, "lat", S(211, 24), 60000.0, 4);
        ku(o, "status", U(235, 2));
        ku(o, "signal", U(237, 5));
        ku(o, "hour", U(242, 5));
        ku(o, "minute", U(247, 6));
        ku(o, "nextsignal", U(253, 5));
        return TRUE;
    case 11:
        meteo(o, m, FALSE);
        return TRUE;
    case 31:
        meteo(o, m, TRUE);
        return TRUE;
    case 13: { /* IMO236 fairway closed */
        char buf[40];
        ktext(o, "reason", m, 56, 20);
        ktext(o, "closefrom", m, 176, 20);
        ktext(o, "closeto", m, 296, 20);
        ku(o, "radius", U(416, 10));
        ku(o, "extunit", U(426, 2));
        g_snprintf(buf, sizeof buf, "%02u-%02uT%02u:%02u", U(433, 4), U(428, 5), U(437, 5),
                   U(442, 6));
        ks(o, "from", buf);
        g_snprintf(buf, sizeof buf, "%02u-%02uT%02u:%02u", U(453, 4), U(448, 5), U(457, 5),
                   U(462, 6));
        ks(o, "to", buf);
        return TRUE;
    }
    case 15: /* IMO236 extended ship static data */
        ku(o, "airdraught", U(56, 11));
        return TRUE;
    case 16: /* persons on board: only the two known sizes */
        if (m->bin.data_bits == 136)
            ku(o, "persons", U(88, 13));
        else if (m->bin.data_bits == 72)
            ku(o, "persons", U(55, 13));
        else
            return FALSE;
        return TRUE;
    case 27: /* IMO289 route information, broadcast */
        route(o, m, 56);
        return TRUE;
    case 29: /* IMO289 text description, broadcast */
        text_description(o, m, len, 56);
        return TRUE;
    default:
        return FALSE;
    }
}

#undef U
#undef S

/* ---- messages ---- */

void ais_message_to_json(const AisMessage *m, gboolean scaled, GString *out)
{
    Out o = {out, out->len, scaled};
    Out *op = &o;
    LIT(op, "{\"class\":\"AIS\"");
    ku(op, "type", m->type);
    ku(op, "repeat", m->repeat);
    ku(op, "mmsi", m->mmsi);
    kb(op, "scaled", scaled);
    switch (m->type) {
    case 1:
    case 2:
    case 3: {
        const AisType1 *t = &m->t1;
        ku(op, "status", t->status);
        ks(op, "status_text", ais_nav_status_text(t->status));
        kturn(op, t->turn);
        kspeed10(op, "speed", t->speed);
        kb(op, "accuracy", t->accuracy);
        klonlat(op, t->lon, t->lat);
        kcourse10(op, t->course);
        ku(op, "heading", t->heading);
        ku(op, "second", t->second);
        ku(op, "maneuver", t->maneuver);
        kb(op, "raim", t->raim);
        ku(op, "radio", t->radio);
        break;
    }
    case 4:
    case 11: {
        const AisType4 *t = &m->t4;
        char ts[48];
        g_snprintf(ts, sizeof ts, "%04u-%02u-%02uT%02u:%02u:%02uZ", t->year, t->month, t->day,
                   t->hour, t->minute, t->second);
        ks(op, "timestamp", ts);
        kb(op, "accuracy", t->accuracy);
        klonlat(op, t->lon, t->lat);
        ku(op, "epfd", t->epfd);
        ks(op, "epfd_text", ais_epfd_text(t->epfd));
        kb(op, "raim", t->raim);
        ku(op, "radio", t->radio);
        break;
    }
    case 5: {
        const AisType5 *t = &m->t5;
        ku(op, "imo", t->imo);
        ku(op, "ais_version", t->ais_version);
        ks(op, "callsign", t->callsign);
        ks(op, "shipname", t->shipname);
        ku(op, "shiptype", t->shiptype);
        ks(op, "shiptype_text", ais_ship_type_text(t->shiptype));
        kdims(op, t->to_bow, t->to_stern, t->to_port, t->to_starboard);
        ku(op, "epfd", t->epfd);
        ks(op, "epfd_text", ais_epfd_text(t->epfd));
        kdate(op, "eta", t->month, t->day, t->hour, t->minute);
        kscale(op, "draught", t->draught, 10.0, 1);
        ks(op, "destination", t->destination);
        ku(op, "dte", t->dte);
        break;
    }
    case 6:
        ku(op, "seqno", m->bin.seqno);
        ku(op, "dest_mmsi", m->bin.dest_mmsi);
        kb(op, "retransmit", m->bin.retransmit);
        ku(op, "dac", m->bin.dac);
        ku(op, "fid", m->bin.fid);
        if (!type6_app(op, m))
            kdata(op, m, 88, m->bin.data_bits, 88 + 8 * ((m->bin.data_bits + 7) / 8), FALSE);
        break;
    case 7:
    case 13:
        ku(op, "mmsi1", m->ack.mmsi[0]);
        ku(op, "mmsi2", m->ack.mmsi[1]);
        ku(op, "mmsi3", m->ack.mmsi[2]);
        ku(op, "mmsi4", m->ack.mmsi[3]);
        break;
    case 8:
        ku(op, "dac", m->bin.dac);
        ku(op, "fid", m->bin.fid);
        if (!type8_app(op, m))
            kdata(op, m, 56, m->bin.data_bits, AIS_MAX_BITS, TRUE);
        break;
    case 9: {
        const AisType9 *t = &m->t9;
        ku(op, "alt", t->alt);
        ku(op, "speed", t->speed);
        kb(op, "accuracy", t->accuracy);
        klonlat(op, t->lon, t->lat);
        kcourse10(op, t->course);
        ku(op, "second", t->second);
        ku(op, "regional", t->regional);
        ku(op, "dte", t->dte);
        kb(op, "raim", t->raim);
        ku(op, "radio", t->radio);
        break;
    }
    case 10:
        ku(op, "dest_mmsi", m->dest_mmsi);
        break;
    case 12:
        ku(op, "seqno", m->text.seqno);
        ku(op, "dest_mmsi", m->text.dest_mmsi);
        kb(op, "retransmit", m->text.retransmit);
        ks(op, "text", m->text.text);
        break;
    case 14:
        ks(op, "text", m->text.text);
        break;
    case 15: {
        const AisType15 *t = &m->t15;
        ku(op, "mmsi1", t->mmsi1);
        ku(op, "type1_1", t->type1_1);
        ku(op, "offset1_1", t->offset1_1);
        ku(op, "type1_2", t->type1_2);
        ku(op, "offset1_2", t->offset1_2);
        ku(op, "mmsi2", t->mmsi2);
        ku(op, "type2_1", t->type2_1);
        ku(op, "offset2_1", t->offset2_1);
        break;
    }
    case 16: {
        const AisType16 *t = &m->t16;
        ku(op, "mmsi1", t->mmsi1);
        ku(op, "offset1", t->offset1);
        ku(op, "increment1", t->increment1);
        ku(op, "mmsi2", t->mmsi2);
        ku(op, "offset2", t->offset2);
        ku(op, "increment2", t->increment2);
        break;
    }
    case 17:
        kscale(op, "lon", m->t17.lon, 600.0, 1);
        kscale(op, "lat", m->t17.lat, 600.0, 1);
        kdata(op, m, 80, m->t17.data_bits, 80 + 8 * ((m->t17.data_bits + 7) / 8), FALSE);
        break;
    case 18:
    case 19: {
        const AisClassB *t = &m->cb;
        ku(op, "reserved", t->reserved);
        kspeed10(op, "speed", t->speed);
        kb(op, "accuracy", t->accuracy);
        klonlat(op, t->lon, t->lat);
        kcourse10(op, t->course);
        ku(op, "heading", t->heading);
        ku(op, "second", t->second);
        ku(op, "regional", t->regional);
        if (m->type == 18) {
            kb(op, "cs", t->cs);
            kb(op, "display", t->display);
            kb(op, "dsc", t->dsc);
            kb(op, "band", t->band);
            kb(op, "msg22", t->msg22);
            kb(op, "raim", t->raim);
            ku(op, "radio", t->radio);
        } else {
            ks(op, "shipname", t->shipname);
            ku(op, "shiptype", t->shiptype);
            ks(op, "shiptype_text", ais_ship_type_text(t->shiptype));
            kdims(op, t->to_bow, t->to_stern, t->to_port, t->to_starboard);
            ku(op, "epfd", t->epfd);
            ks(op, "epfd_text", ais_epfd_text(t->epfd));
            kb(op, "raim", t->raim);
            ku(op, "dte", t->dte);
            kb(op, "assigned", t->assigned);
        }
        break;
    }
    case 20: {
        const AisType20 *t = &m->t20;
        static const char *const names[4][4] = {
            {"offset1", "number1", "timeout1", "increment1"},
            {"offset2", "number2", "timeout2", "increment2"},
            {"offset3", "number3", "timeout3", "increment3"},
            {"offset4", "number4", "timeout4", "increment4"}};
        for (guint i = 0; i < 4; i++) {
            ku(op, names[i][0], t->offset[i]);
            ku(op, names[i][1], t->number[i]);
            ku(op, names[i][2], t->timeout[i]);
            ku(op, names[i][3], t->increment[i]);
        }
        break;
    }
    case 21: {
        const AisType21 *t = &m->t21;
        ku(op, "aid_type", t->aid_type);
        ks(op, "aid_type_text", aid_type_text(t->aid_type));
        ks(op, "name", t->name);
        kb(op, "accuracy", t->accuracy);
        klonlat(op, t->lon, t->lat);
        kdims(op, t->to_bow, t->to_stern, t->to_port, t->to_starboard);
        ku(op, "epfd", t->epfd);
        ks(op, "epfd_text", ais_epfd_text(t->epfd));
        ku(op, "second", t->second);
        ku(op, "regional", t->regional);
        kb(op, "off_position", t->off_position);
        kb(op, "raim", t->raim);
        kb(op, "virtual_aid", t->virtual_aid);
        break;
    }
    case 22: {
        const AisType22 *t = &m->t22;
        ku(op, "channel_a", t->channel_a);
        ku(op, "channel_b", t->channel_b);
        ku(op, "txrx", t->txrx);
        kb(op, "power", t->power);
        if (t->addressed) {
            ku(op, "dest1", t->dest1);
            ku(op, "dest2", t->dest2);
        } else {
            /* gpsd quotes these scaled values. */
            char buf[32];
            const char *k[] = {"ne_lon", "ne_lat", "sw_lon", "sw_lat"};
            const gint v[] = {t->ne_lon, t->ne_lat, t->sw_lon, t->sw_lat};
            for (guint i = 0; i < 4; i++) {
                if (scaled) {
                    g_snprintf(buf, sizeof buf, "%.6f", v[i] / 600.0);
                    ks(op, k[i], buf);
                } else {
                    ki(op, k[i], v[i]);
                }
            }
        }
        kb(op, "addressed", t->addressed);
        kb(op, "band_a", t->band_a);
        kb(op, "band_b", t->band_b);
        ku(op, "zonesize", t->zonesize);
        break;
    }
    case 23: {
        const AisType23 *t = &m->t23;
        char buf[32];
        const char *k[] = {"ne_lon", "ne_lat", "sw_lon", "sw_lat"};
        const gint v[] = {t->ne_lon, t->ne_lat, t->sw_lon, t->sw_lat};
        for (guint i = 0; i < 4; i++) {
            if (scaled) {
                g_snprintf(buf, sizeof buf, "%.6f", v[i] / 600.0);
                ks(op, k[i], buf);
            } else {
                ki(op, k[i], v[i]);
            }
        }
        ku(op, "stationtype", t->stationtype);
        ks(op, "stationtype_text", station_type_text(t->stationtype));
        ku(op, "shiptype", t->shiptype);
        ks(op, "shiptype_text", ais_ship_type_text(t->shiptype));
        ku(op, "interval", t->interval);
        ku(op, "quiet", t->quiet);
        break;
    }
    case 24: {
        const AisType24 *t = &m->t24;
        if (t->part == 0) {
            ks(op, "part", "A");
            ks(op, "shipname", t->shipname);
            break;
        }
        ks(op, "part", "B");
        if (t->shipname[0])
            ks(op, "shipname", t->shipname);
        ku(op, "shiptype", t->shiptype);
        ks(op, "shiptype_text", ais_ship_type_text(t->shiptype));
        ks(op, "vendorid", t->vendorid);
        ku(op, "model", t->model);
        ku(op, "serial", t->serial);
        ks(op, "callsign", t->callsign);
        if (m->mmsi / 10000000 == 98)
            ku(op, "mothership_mmsi", t->mothership_mmsi);
        else
            kdims(op, t->to_bow, t->to_stern, t->to_port, t->to_starboard);
        break;
    }
    case 25:
    case 26: {
        const AisType25 *t = &m->t25;
        kb(op, "addressed", t->addressed);
        kb(op, "structured", t->structured);
        ku(op, "dest_mmsi", t->dest_mmsi);
        ku(op, "app_id", t->app_id);
        /* gpsd copies whole bytes from bit 40 (or 56 when structured) before dropping the
         * destination MMSI: bits past that copy read as zero. */
        guint copy_from = 40 + 16 * t->structured;
        guint copy_bits = m->bitlen - copy_from - (m->type == 26 ? 20 : 0);
        guint window = copy_from + 8 * ((copy_bits + 7) / 8);
        kdata(op, m, t->data_offset, t->data_bits, window, FALSE);
        /* gpsd 3.22 prints a radio field for type 26 that it never fills in: 0. Printed the
         * same way for drop-in compatibility; AisType25.radio has the real value. */
        if (m->type == 26)
            ku(op, "radio", 0);
        break;
    }
    case 27: {
        const AisType27 *t = &m->t27;
        ku(op, "status", t->status);
        ks(op, "status_text", ais_nav_status_text(t->status));
        kb(op, "accuracy", t->accuracy);
        kscale(op, "lon", t->lon, 600.0, 4);
        kscale(op, "lat", t->lat, 600.0, 4);
        ku(op, "speed", t->speed);
        ku(op, "course", t->course);
        kb(op, "raim", t->raim);
        kb(op, "gnss", t->gnss);
        break;
    }
    default:
        break;
    }
    LIT(op, "}");
    g_string_set_size(out, o.len);
}

/* ---- scaled views for consumers ---- */

static double deg(gint v, double div, gint na)
{
    return v == na ? NAN : v / div;
}

gboolean ais_message_position(const AisMessage *m, AisPosition *pos)
{
    AisPosition p = {.mmsi = m->mmsi, .heading = -1, .nav_status = -1, .second = -1};
    gint lon, lat;
    double ll_div = 600000.0;
    guint second = 60;
    switch (m->type) {
    case 1:
    case 2:
    case 3:
        lon = m->t1.lon, lat = m->t1.lat;
        p.sog = m->t1.speed == 1023 ? NAN : m->t1.speed / 10.0;
        p.cog = m->t1.course >= 3600 ? NAN : m->t1.course / 10.0;
        p.heading = m->t1.heading < 360 ? (int)m->t1.heading : -1;
        p.nav_status = m->t1.status < 15 ? (int)m->t1.status : -1;
        second = m->t1.second;
        break;
    case 4:
    case 11:
        lon = m->t4.lon, lat = m->t4.lat;
        p.sog = p.cog = NAN;
        second = m->t4.second;
        break;
    case 9:
        lon = m->t9.lon, lat = m->t9.lat;
        p.sog = m->t9.speed == 1023 ? NAN : m->t9.speed;
        p.cog = m->t9.course >= 3600 ? NAN : m->t9.course / 10.0;
        second = m->t9.second;
        break;
    case 18:
    case 19:
        lon = m->cb.lon, lat = m->cb.lat;
        p.sog = m->cb.speed == 1023 ? NAN : m->cb.speed / 10.0;
        p.cog = m->cb.course >= 3600 ? NAN : m->cb.course / 10.0;
        p.heading = m->cb.heading < 360 ? (int)m->cb.heading : -1;
        second = m->cb.second;
        break;
    case 21:
        lon = m->t21.lon, lat = m->t21.lat;
        p.sog = p.cog = NAN;
        second = m->t21.second;
        break;
    case 27:
        lon = m->t27.lon, lat = m->t27.lat;
        ll_div = 600.0;
        p.sog = m->t27.speed == 63 ? NAN : m->t27.speed;
        p.cog = m->t27.course >= 360 ? NAN : m->t27.course;
        p.nav_status = m->t27.status < 15 ? (int)m->t27.status : -1;
        break;
    default:
        return FALSE;
    }
    gint lon_na = ll_div == 600.0 ? 181 * 600 : 181 * 600000;
    gint lat_na = ll_div == 600.0 ? 91 * 600 : 91 * 600000;
    p.lon = deg(lon, ll_div, lon_na);
    p.lat = deg(lat, ll_div, lat_na);
    if (fabs(p.lon) > 180.0 || fabs(p.lat) > 90.0)
        p.lon = p.lat = NAN;
    p.second = second < 60 ? (int)second : -1;
    *pos = p;
    return TRUE;
}

gboolean ais_message_static(const AisMessage *m, AisStatic *st)
{
    AisStatic s = {.mmsi = m->mmsi};
    switch (m->type) {
    case 5: {
        const AisType5 *t = &m->t5;
        g_strlcpy(s.name, t->shipname, sizeof s.name);
        g_strlcpy(s.callsign, t->callsign, sizeof s.callsign);
        g_strlcpy(s.destination, t->destination, sizeof s.destination);
        s.imo = t->imo;
        s.ship_type = t->shiptype;
        s.to_bow = t->to_bow, s.to_stern = t->to_stern;
        s.to_port = t->to_port, s.to_starboard = t->to_starboard;
        s.draught = t->draught / 10.0;
        s.eta_month = t->month, s.eta_day = t->day, s.eta_hour = t->hour;
        s.eta_minute = t->minute;
        s.fields = AIS_STATIC_NAME | AIS_STATIC_CALLSIGN | AIS_STATIC_IMO |
                   AIS_STATIC_SHIP_TYPE | AIS_STATIC_DIMENSIONS | AIS_STATIC_DESTINATION |
                   AIS_STATIC_ETA | AIS_STATIC_DRAUGHT;
        break;
    }
    case 19: {
        const AisClassB *t = &m->cb;
        g_strlcpy(s.name, t->shipname, sizeof s.name);
        s.ship_type = t->shiptype;
        s.to_bow = t->to_bow, s.to_stern = t->to_stern;
        s.to_port = t->to_port, s.to_starboard = t->to_starboard;
        s.fields = AIS_STATIC_NAME | AIS_STATIC_SHIP_TYPE | AIS_STATIC_DIMENSIONS;
        break;
    }
    case 24: {
        const AisType24 *t = &m->t24;
        if (t->part == 0) {
            g_strlcpy(s.name, t->shipname, sizeof s.name);
            s.fields = AIS_STATIC_NAME;
            break;
        }
        g_strlcpy(s.callsign, t->callsign, sizeof s.callsign);
        s.ship_type = t->shiptype;
        s.fields = AIS_STATIC_CALLSIGN | AIS_STATIC_SHIP_TYPE;
        if (m->mmsi / 10000000 != 98) {
            s.to_bow = t->to_bow, s.to_stern = t->to_stern;
            s.to_port = t->to_port, s.to_starboard = t->to_starboard;
            s.fields |= AIS_STATIC_DIMENSIONS;
        }
        break;
    }
    default:
        return FALSE;
    }
    *st = s;
    return TRUE;
}
