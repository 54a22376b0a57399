/* portcalls.c: port list, grid index, port-call state machine. */
#include "portcalls.h"

#include <errno.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK(portcalls-error-quark, portcalls_error)

#define EARTH_RADIUS_KM 6371.0088
#define KM_PER_DEG_LAT 111.195 /* EARTH_RADIUS_KM * pi / 180 */
#define GRID_LAT 180
#define GRID_LON 360
#define MAX_SEARCH_KM 500.0
#define MAX_PORTS 1000000
#define MAX_LINE 512

struct PsPortList {
    GArray *ports;     /* PsPort */
    GStringChunk *text; /* names and countries */
    /* Compressed grid: the ports of cell c are cell_ports[cell_start[c] .. cell_start[c+1]). */
    guint *cell_start; /* GRID_LAT * GRID_LON + 1 */
    guint *cell_ports;
};

double portcalls_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    double p1 = lat1 * G_PI / 180.0, p2 = lat2 * G_PI / 180.0;
    double dp = p2 - p1, dl = (lon2 - lon1) * G_PI / 180.0;
    double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2.0 * EARTH_RADIUS_KM * asin(sqrt(MIN(1.0, a)));
}

static int cell_lat(double lat)
{
    return CLAMP((int)floor(lat + 90.0), 0, GRID_LAT - 1);
}

static int cell_lon(double lon)
{
    int c = (int)floor(lon + 180.0);
    return ((c % GRID_LON) + GRID_LON) % GRID_LON;
}

static void build_grid(PsPortList *pl)
{
    guint ncells = GRID_LAT * GRID_LON;
    pl->cell_start = g_new0(guint, ncells + 1);
    pl->cell_ports = g_new(guint, MAX(pl->ports->len, 1));
    for (guint i = 0; i < pl->ports->len; i++) {
        const PsPort *p = &g_array_index(pl->ports, PsPort, i);
        pl->cell_start[cell_lat(p->lat) * GRID_LON + cell_lon(p->lon) + 1]++;
    }
    for (guint c = 0; c < ncells; c++)
        pl->cell_start[c + 1] += pl->cell_start[c];
    guint *fill = g_memdup2(pl->cell_start, sizeof(guint) * ncells);
    for (guint i = 0; i < pl->ports->len; i++) {
        const PsPort *p = &g_array_index(pl->ports, PsPort, i);
        guint c = cell_lat(p->lat) * GRID_LON + cell_lon(p->lon);
        pl->cell_ports[fill[c]++] = i;
    }
    g_free(fill);
}

static gboolean parse_coord(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = g_ascii_strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(v) || v < lo || v > hi)
        return FALSE;
    *out = v;
    return TRUE;
}

PsPortList *portcalls_ports_new_from_data(const char *name, const char *data, gsize len,
                                          GError **error)
{
    PsPortList *pl = g_new0(PsPortList, 1);
    pl->ports = g_array_new(FALSE, FALSE, sizeof(PsPort));
    pl->text = g_string_chunk_new(4096);
    const char *p = data, *end = data + len;
    int lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', end - p);
        gsize n = (nl ? nl : end) - p;
        lineno++;
        if (n > MAX_LINE) {
            g_set_error(error, PORTCALLS_ERROR, PORTCALLS_ERROR_PARSE,
                        "%s:%d: line longer than %d bytes", name, lineno, MAX_LINE);
            goto fail;
        }
        g_autofree char *line = g_strndup(p, n);
        p = nl ? nl + 1 : end;
        g_strstrip(line);
        if (*line == '\0' || *line == '#' || (lineno == 1 && g_str_has_prefix(line, "iso3")))
            continue;
        g_auto(GStrv) f = g_strsplit(line, ",", -1);
        double lat, lon;
        if (g_strv_length(f) != 4) {
            g_set_error(error, PORTCALLS_ERROR, PORTCALLS_ERROR_PARSE,
                        "%s:%d: expected 4 fields iso3,name,lat,lon, got %u", name, lineno,
                        g_strv_length(f));
            goto fail;
        }
        g_strstrip(f[0]);
        g_strstrip(f[1]);
        /* The World Port Index leaves the country empty for a few territories (Midway,
         * Svalbard): keep those ports with country "". */
        if ((strlen(f[0]) != 3 && *f[0] != '\0') || *f[1] == '\0') {
            g_set_error(error, PORTCALLS_ERROR, PORTCALLS_ERROR_PARSE,
                        "%s:%d: '%s' is not a 3-letter country code or the name is empty", name,
                        lineno, f[0]);
            goto fail;
        }
        if (!parse_coord(g_strstrip(f[2]), -90, 90, &lat) ||
            !parse_coord(g_strstrip(f[3]), -180, 180, &lon)) {
            g_set_error(error, PORTCALLS_ERROR, PORTCALLS_ERROR_PARSE,
                        "%s:%d: bad coordinates '%s,%s'", name, lineno, f[2], f[3]);
            goto fail;
        }
        if (pl->ports->len >= MAX_PORTS) {
            g_set_error(error, PORTCALLS_ERROR, PORTCALLS_ERROR_PARSE,
                        "%s:%d: more than %d ports", name, lineno, MAX_PORTS);
            goto fail;
        }
        g_autofree char *uname = g_ascii_strup(f[1], -1);
        g_autofree char *ucountry = g_ascii_strup(f[0], -1);
        PsPort port = {
            .name = g_string_chunk_insert_const(pl->text, uname),
            .country = g_string_chunk_insert_const(pl->text, ucountry),
            .lat = lat,
            .lon = lon,
            .index = pl->ports->len,
        };
        g_array_append_val(pl->ports, port);
    }
    build_grid(pl);
    return pl;

fail:
    portcalls_ports_free(pl);
    return NULL;
}

PsPortList *portcalls_ports_load(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    GError *local = NULL;
    if (!g_file_get_contents(path, &data, &len, &local)) {
        g_set_error(error, PORTCALLS_ERROR, PORTCALLS_ERROR_IO, "%s", local->message);
        g_error_free(local);
        return NULL;
    }
    return portcalls_ports_new_from_data(path, data, len, error);
}

void portcalls_ports_free(PsPortList *pl)
{
    if (!pl)
        return;
    g_array_unref(pl->ports);
    g_string_chunk_free(pl->text);
    g_free(pl->cell_start);
    g_free(pl->cell_ports);
    g_free(pl);
}

guint portcalls_ports_count(const PsPortList *pl)
{
    return pl->ports->len;
}

const PsPort *portcalls_port(const PsPortList *pl, guint index)
{
    return index < pl->ports->len ? &g_array_index(pl->ports, PsPort, index) : NULL;
}

const PsPort *portcalls_find(const PsPortList *pl, const char *name)
{
    for (guint i = 0; i < pl->ports->len; i++) {
        const PsPort *p = &g_array_index(pl->ports, PsPort, i);
        if (g_ascii_strcasecmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

gboolean portcalls_has_country(const PsPortList *pl, const char *iso3)
{
    for (guint i = 0; i < pl->ports->len; i++)
        if (g_ascii_strcasecmp(g_array_index(pl->ports, PsPort, i).country, iso3) == 0)
            return TRUE;
    return FALSE;
}

static gboolean valid_position(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && lat >= -90 && lat <= 90 && lon >= -180 &&
           lon <= 180;
}

/* Keeps the nearer of the best so far and port @i. Ties go to the lower index, so the grid and
 * the linear scan agree. */
static void consider(const PsPortList *pl, guint i, double lat, double lon, double max_km,
                     const PsPort **best, double *best_d)
{
    const PsPort *p = &g_array_index(pl->ports, PsPort, i);
    double d = portcalls_distance_km(lat, lon, p->lat, p->lon);
    if (d > max_km)
        return;
    if (!*best || d < *best_d || (d == *best_d && p->index < (*best)->index)) {
        *best = p;
        *best_d = d;
    }
}

const PsPort *portcalls_nearest_linear(const PsPortList *pl, double lat, double lon,
                                       double max_km, double *dist_km)
{
    const PsPort *best = NULL;
    double best_d = 0;
    if (!valid_position(lat, lon))
        return NULL;
    for (guint i = 0; i < pl->ports->len; i++)
        consider(pl, i, lat, lon, max_km, &best, &best_d);
    if (best && dist_km)
        *dist_km = best_d;
    return best;
}

const PsPort *portcalls_nearest(const PsPortList *pl, double lat, double lon, double max_km,
                                double *dist_km)
{
    const PsPort *best = NULL;
    double best_d = 0;
    if (!valid_position(lat, lon) || !(max_km >= 0))
        return NULL;
    max_km = MIN(max_km, MAX_SEARCH_KM);
    /* A small margin covers rounding at the cell edges. */
    double dlat = max_km / KM_PER_DEG_LAT + 1e-6;
    int lat0 = cell_lat(lat - dlat), lat1 = cell_lat(lat + dlat);
    double maxabs = MIN(90.0, fabs(lat) + dlat);
    double coslat = cos(maxabs * G_PI / 180.0);
    int nlon = GRID_LON;
    int lon0 = 0;
    if (coslat > 1e-3) {
        double dlon = max_km / (KM_PER_DEG_LAT * coslat) + 1e-6;
        if (2 * dlon + 2 < GRID_LON) {
            lon0 = (int)floor(lon - dlon + 180.0);
            nlon = (int)floor(lon + dlon + 180.0) - lon0 + 1;
        }
    }
    for (int la = lat0; la <= lat1; la++) {
        for (int k = 0; k < nlon; k++) {
            int lo = (((lon0 + k) % GRID_LON) + GRID_LON) % GRID_LON;
            guint c = la * GRID_LON + lo;
            for (guint j = pl->cell_start[c]; j < pl->cell_start[c + 1]; j++)
                consider(pl, pl->cell_ports[j], lat, lon, max_km, &best, &best_d);
        }
    }
    if (best && dist_km)
        *dist_km = best_d;
    return best;
}

/* ---- the state machine ---- */

void portcalls_state_init(PsCallState *st)
{
    *st = (PsCallState){.port = -1};
}

/* Ends the current visit; emits the departure when it was a call. */
static guint leave(const PsPortList *pl, PsCallState *st, PsCallEvent *out)
{
    guint n = 0;
    if (st->called) {
        out[n++] = (PsCallEvent){
            .kind = PS_CALL_DEPARTED,
            .port = portcalls_port(pl, st->port),
            .arrival = st->arrival,
            .departure = st->stopped || st->departure == 0 ? st->last_inside : st->departure,
        };
    }
    st->port = -1;
    st->stopped = FALSE;
    st->called = FALSE;
    st->arrival = st->departure = st->last_inside = 0;
    return n;
}

guint portcalls_close(const PsPortList *pl, PsCallState *st, PsCallEvent *out)
{
    if (st->port < 0)
        return 0;
    return leave(pl, st, out);
}

guint portcalls_update(const PsPortList *pl, const PsCallParams *pp, PsCallState *st, gint64 t,
                       double lat, double lon, double sog_kn, PsCallEvent out[2])
{
    if (!valid_position(lat, lon) || (st->last_t != 0 && t < st->last_t))
        return 0;
    st->last_t = t;
    guint n = 0;

    if (st->port >= 0) {
        const PsPort *p = portcalls_port(pl, st->port);
        if (!p || portcalls_distance_km(lat, lon, p->lat, p->lon) > pp->radius_km + 1.0)
            n += leave(pl, st, out);
    }
    if (st->port < 0) {
        const PsPort *p = portcalls_nearest(pl, lat, lon, pp->radius_km, NULL);
        if (!p)
            return n;
        st->port = p->index;
        st->stopped = FALSE;
        st->called = FALSE;
    }
    st->last_inside = t;
    if (isnan(sog_kn))
        return n;
    if (!st->stopped && sog_kn < pp->stop_kn) {
        st->stopped = TRUE;
        if (!st->called) {
            st->called = TRUE;
            st->arrival = t;
            out[n++] = (PsCallEvent){PS_CALL_ARRIVED, portcalls_port(pl, st->port), t, 0};
        }
    } else if (st->stopped && sog_kn > pp->go_kn) {
        st->stopped = FALSE;
        st->departure = t;
    }
    return n;
}
