/* ptz.c: ONVIF AbsoluteMove over libcurl. */
#include "ptz.h"

#include <curl/curl.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK(ptz-error-quark, ptz_error)

#define MAX_ANSWER (64 * 1024)

double ptz_zoom_for_box(double hfov_wide_deg, double hfov_tele_deg, double slant_m,
                        double length_m)
{
    const double deg = G_PI / 180;
    if (!(hfov_wide_deg > hfov_tele_deg && hfov_tele_deg > 0 && hfov_wide_deg < 180) ||
        !(slant_m > 0) || !(length_m > 0))
        return 0.0;
    double wide = tan(hfov_wide_deg / 2 * deg), tele = tan(hfov_tele_deg / 2 * deg);
    /* The view 3 * length wide at slant_m: tan(hfov / 2) = 1.5 * length / slant. */
    double want = 1.5 * length_m / slant_m;
    double mag = CLAMP(wide / want, 1.0, wide / tele);
    return CLAMP((mag - 1.0) / (wide / tele - 1.0), 0.0, 1.0);
}

void ptz_aim(const PtzMount *m, double lat, double lon, double *pan, double *tilt, double *zoom)
{
    ptz_aim_box(m, lat, lon, PTZ_BOX_40FT_M, pan, tilt, zoom);
}

void ptz_aim_box(const PtzMount *m, double lat, double lon, double length_m, double *pan,
                 double *tilt, double *zoom)
{
    const double R = 6371008.8, deg = G_PI / 180;
    double dn = (lat - m->lat) * deg * R;
    double de = (lon - m->lon) * deg * R * cos(m->lat * deg);
    double dist = hypot(de, dn);
    double bearing = atan2(de, dn) / deg; /* clockwise from north */
    double rel = fmod(bearing - m->heading_deg + 540.0, 360.0) - 180.0; /* -180..180 */
    double range = m->pan_range_deg > 0 ? m->pan_range_deg : 180.0;
    *pan = CLAMP(rel / range, -1.0, 1.0);
    double down = atan2(m->height_m, MAX(dist, 0.01)) / deg; /* below the horizon */
    double trange = m->tilt_range_deg > 0 ? m->tilt_range_deg : 90.0;
    *tilt = CLAMP(-down / trange, -1.0, 1.0);
    if (m->hfov_wide_deg > 0 && m->hfov_tele_deg > 0)
        *zoom = ptz_zoom_for_box(m->hfov_wide_deg, m->hfov_tele_deg, hypot(dist, m->height_m),
                                 length_m);
    else
        *zoom = m->zoom_distance_m > 0 ? CLAMP(dist / m->zoom_distance_m, 0.0, 1.0) : 0.0;
}

static char *xml_escape(const char *s)
{
    return g_markup_escape_text(s ? s : "", -1);
}

char *ptz_absolute_move_body(const PtzDevice *dev, double pan, double tilt, double zoom,
                             const char *nonce, const char *created)
{
    GString *b = g_string_new(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
        "xmlns:tptz=\"http://www.onvif.org/ver20/ptz/wsdl\" "
        "xmlns:tt=\"http://www.onvif.org/ver10/schema\">");
    if (dev->username && *dev->username) {
        /* WS-Security UsernameToken, PasswordDigest = Base64(SHA1(nonce + created + password)) */
        guint8 raw[16];
        if (nonce) {
            gsize n = 0;
            guchar *d = g_base64_decode(nonce, &n);
            memset(raw, 0, sizeof raw);
            memcpy(raw, d, MIN(n, sizeof raw));
            g_free(d);
        } else {
            for (guint i = 0; i < sizeof raw; i++)
                raw[i] = (guint8)g_random_int_range(0, 256);
        }
        g_autofree char *nonce64 = g_base64_encode(raw, sizeof raw);
        g_autofree char *now = NULL;
        if (!created) {
            GDateTime *t = g_date_time_new_now_utc();
            now = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
            g_date_time_unref(t);
            created = now;
        }
        GChecksum *sha = g_checksum_new(G_CHECKSUM_SHA1);
        g_checksum_update(sha, raw, sizeof raw);
        g_checksum_update(sha, (const guchar *)created, strlen(created));
        g_checksum_update(sha, (const guchar *)(dev->password ? dev->password : ""),
                          strlen(dev->password ? dev->password : ""));
        guint8 digest[20];
        gsize dlen = sizeof digest;
        g_checksum_get_digest(sha, digest, &dlen);
        g_checksum_free(sha);
        g_autofree char *digest64 = g_base64_encode(digest, dlen);
        g_autofree char *user = xml_escape(dev->username);
        g_string_append_printf(
            b,
            "<s:Header><wsse:Security s:mustUnderstand=\"1\" "
            "xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/"
            "oasis-200401-wss-wssecurity-secext-1.0.xsd\" "
            "xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/"
            "oasis-200401-wss-wssecurity-utility-1.0.xsd\"><wsse:UsernameToken>"
            "<wsse:Username>%s</wsse:Username><wsse:Password Type=\"http://docs.oasis-open.org/"
            "wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest\">%s"
            "</wsse:Password><wsse:Nonce EncodingType=\"http://docs.oasis-open.org/wss/2004/01/"
            "oasis-200401-wss-soap-message-security-1.0#Base64Binary\">%s</wsse:Nonce>"
            "<wsu:Created>%s</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>",
            user, digest64, nonce64, created);
    }
    g_autofree char *profile = xml_escape(dev->profile);
    char x[G_ASCII_DTOSTR_BUF_SIZE], y[G_ASCII_DTOSTR_BUF_SIZE], z[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(x, sizeof x, "%.4f", CLAMP(pan, -1.0, 1.0));
    g_ascii_formatd(y, sizeof y, "%.4f", CLAMP(tilt, -1.0, 1.0));
    g_ascii_formatd(z, sizeof z, "%.4f", CLAMP(zoom, 0.0, 1.0));
    g_string_append_printf(b,
                           "<s:Body><tptz:AbsoluteMove><tptz:ProfileToken>%s</tptz:ProfileToken>"
                           "<tptz:Position><tt:PanTilt x=\"%s\" y=\"%s\"/><tt:Zoom x=\"%s\"/>"
                           "</tptz:Position></tptz:AbsoluteMove></s:Body></s:Envelope>",
                           profile, x, y, z);
    return g_string_free(b, FALSE);
}

static size_t on_data(char *ptr, size_t size, size_t n, void *data)
{
    GString *answer = data;
    size_t len = size * n;
    if (answer->len + len > MAX_ANSWER)
        return 0; /* capped: a PTZ answer is small */
    g_string_append_len(answer, ptr, (gssize)len);
    return len;
}

gboolean ptz_absolute_move(const PtzDevice *dev, double pan, double tilt, double zoom,
                           GError **error)
{
    if (!dev->url || !(g_str_has_prefix(dev->url, "http://") ||
                       g_str_has_prefix(dev->url, "https://")) ||
        !dev->profile || !*dev->profile || !isfinite(pan) || !isfinite(tilt) ||
        !isfinite(zoom)) {
        g_set_error(error, PTZ_ERROR, PTZ_ERROR_INVALID,
                    "PTZ: needs an http(s) service URL, a profile token and finite positions");
        return FALSE;
    }
    g_autofree char *body = ptz_absolute_move_body(dev, pan, tilt, zoom, NULL, NULL);
    CURL *curl = curl_easy_init();
    if (!curl) {
        g_set_error(error, PTZ_ERROR, PTZ_ERROR_HTTP, "PTZ: libcurl would not start");
        return FALSE;
    }
    GString *answer = g_string_new(NULL);
    struct curl_slist *headers = curl_slist_append(
        NULL, "Content-Type: application/soap+xml; charset=utf-8; "
              "action=\"http://www.onvif.org/ver20/ptz/wsdl/AbsoluteMove\"");
    char errbuf[CURL_ERROR_SIZE] = "";
    long timeout_ms = (long)((dev->timeout_s > 0 ? dev->timeout_s : 5.0) * 1000);
    curl_easy_setopt(curl, CURLOPT_URL, dev->url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    gboolean ok = FALSE;
    if (rc != CURLE_OK)
        g_set_error(error, PTZ_ERROR, PTZ_ERROR_HTTP, "PTZ %s: %s", dev->url,
                    errbuf[0] ? errbuf : curl_easy_strerror(rc));
    else if (strstr(answer->str, ":Fault>") || strstr(answer->str, "<Fault>"))
        g_set_error(error, PTZ_ERROR, PTZ_ERROR_FAULT, "PTZ %s: the device refused the move "
                    "(SOAP fault, HTTP %ld)", dev->url, status);
    else if (status < 200 || status > 299)
        g_set_error(error, PTZ_ERROR, PTZ_ERROR_HTTP, "PTZ %s: HTTP %ld", dev->url, status);
    else
        ok = TRUE;
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    g_string_free(answer, TRUE);
    return ok;
}

/* ---- PtzSet ---- */

#define MAX_PRESETS 64

typedef struct {
    char *camera;
    PtzDevice dev; /* owned strings */
    PtzMount mount;
    GArray *presets; /* (element-type PtzPreset) */
} PtzCam;

typedef struct {
    PtzDevice dev; /* owned strings */
    char *camera;
    double pan, tilt, zoom;
} PtzJob;

struct PtzSet {
    GPtrArray *cams; /* (element-type PtzCam) */
    GThreadPool *pool;
};

static void device_copy(PtzDevice *to, const PtzDevice *from)
{
    *to = *from;
    to->url = g_strdup(from->url);
    to->profile = g_strdup(from->profile);
    to->username = g_strdup(from->username);
    to->password = g_strdup(from->password);
}

static void device_clear(PtzDevice *dev)
{
    g_free((char *)dev->url);
    g_free((char *)dev->profile);
    g_free((char *)dev->username);
    g_free((char *)dev->password);
}

static void cam_free(gpointer p)
{
    PtzCam *c = p;
    g_free(c->camera);
    device_clear(&c->dev);
    g_array_unref(c->presets);
    g_free(c);
}

static void run_job(gpointer data, gpointer user_data)
{
    PtzJob *job = data;
    GError *error = NULL;
    if (ptz_absolute_move(&job->dev, job->pan, job->tilt, job->zoom, &error))
        g_info("camera %s: PTZ moved to pan %.3f tilt %.3f zoom %.3f", job->camera, job->pan,
               job->tilt, job->zoom);
    else
        g_warning("camera %s: %s", job->camera, error->message);
    g_clear_error(&error);
    device_clear(&job->dev);
    g_free(job->camera);
    g_free(job);
}

PtzSet *ptz_set_new(void)
{
    PtzSet *set = g_new0(PtzSet, 1);
    set->cams = g_ptr_array_new_with_free_func(cam_free);
    return set;
}

void ptz_set_free(PtzSet *set)
{
    if (!set)
        return;
    if (set->pool)
        g_thread_pool_free(set->pool, FALSE, TRUE);
    g_ptr_array_unref(set->cams);
    g_free(set);
}

void ptz_set_add(PtzSet *set, const char *camera, const PtzDevice *device, const PtzMount *mount)
{
    PtzCam *c = g_new0(PtzCam, 1);
    c->camera = g_strdup(camera);
    device_copy(&c->dev, device);
    c->mount = *mount;
    c->presets = g_array_new(FALSE, TRUE, sizeof(PtzPreset));
    g_ptr_array_add(set->cams, c);
}

guint ptz_set_count(const PtzSet *set)
{
    return set ? set->cams->len : 0;
}

static void queue_move(PtzSet *set, PtzCam *c, const double pos[3])
{
    if (!set->pool)
        set->pool = g_thread_pool_new(run_job, NULL, 2, FALSE, NULL);
    PtzJob *job = g_new0(PtzJob, 1);
    device_copy(&job->dev, &c->dev);
    job->camera = g_strdup(c->camera);
    job->pan = pos[0];
    job->tilt = pos[1];
    job->zoom = pos[2];
    g_thread_pool_push(set->pool, job, NULL);
}

static PtzCam *find_cam(PtzSet *set, const char *camera)
{
    for (guint i = 0; set && camera && i < set->cams->len; i++) {
        PtzCam *c = g_ptr_array_index(set->cams, i);
        if (strcmp(camera, c->camera) == 0)
            return c;
    }
    return NULL;
}

static gboolean parse_preset(const char *entry, PtzPreset *p, GError **error)
{
    const char *colon = strchr(entry, ':');
    gsize n = colon ? (gsize)(colon - entry) : 0;
    if (!colon || n == 0 || n >= sizeof p->name) {
        g_set_error(error, PTZ_ERROR, PTZ_ERROR_INVALID,
                    "expected name:pan,tilt,zoom with a name of 1-32 characters");
        return FALSE;
    }
    for (gsize i = 0; i < n; i++)
        if (!g_ascii_isalnum(entry[i]) && !strchr("._-", entry[i])) {
            g_set_error(error, PTZ_ERROR, PTZ_ERROR_INVALID,
                        "the name may hold only letters, digits, '.', '_' and '-'");
            return FALSE;
        }
    memcpy(p->name, entry, n);
    p->name[n] = '\0';
    g_auto(GStrv) v = g_strsplit(colon + 1, ",", -1);
    static const double lo[3] = {-1, -1, 0};
    static const char *what[3] = {"pan", "tilt", "zoom"};
    if (g_strv_length(v) != 3) {
        g_set_error(error, PTZ_ERROR, PTZ_ERROR_INVALID, "expected three numbers pan,tilt,zoom");
        return FALSE;
    }
    for (guint i = 0; i < 3; i++) {
        g_strstrip(v[i]);
        char *end = NULL;
        double d = g_ascii_strtod(v[i], &end);
        if (!*v[i] || *end || !isfinite(d) || d < lo[i] || d > 1) {
            g_set_error(error, PTZ_ERROR, PTZ_ERROR_INVALID, "%s: expected a number in %g..1",
                        what[i], lo[i]);
            return FALSE;
        }
        p->pos[i] = d;
    }
    return TRUE;
}

gboolean ptz_set_presets(PtzSet *set, const char *camera, const char *text, GError **error)
{
    PtzCam *c = find_cam(set, camera);
    if (!c) {
        g_set_error(error, PTZ_ERROR, PTZ_ERROR_INVALID,
                    "presets: camera '%s' has no PTZ (ptz_url)", camera ? camera : "");
        return FALSE;
    }
    g_autoptr(GArray) list = g_array_new(FALSE, TRUE, sizeof(PtzPreset));
    g_auto(GStrv) entries = g_strsplit(text ? text : "", ";", -1);
    for (guint i = 0; entries[i]; i++) {
        char *e = g_strstrip(entries[i]);
        if (!*e)
            continue;
        PtzPreset p = {0};
        g_autoptr(GError) local = NULL;
        gboolean dup = FALSE;
        if (parse_preset(e, &p, &local))
            for (guint k = 0; k < list->len; k++)
                dup = dup || strcmp(g_array_index(list, PtzPreset, k).name, p.name) == 0;
        if (local || dup || list->len >= MAX_PRESETS) {
            g_autofree char *shown = g_strescape(e, NULL);
            g_set_error(error, PTZ_ERROR, PTZ_ERROR_INVALID, "presets: entry %u ('%.80s'): %s",
                        i + 1, shown,
                        local ? local->message
                              : dup ? "the name is used twice" : "at most 64 presets");
            return FALSE;
        }
        g_array_append_val(list, p);
    }
    g_array_unref(c->presets);
    c->presets = g_steal_pointer(&list);
    return TRUE;
}

gboolean ptz_set_goto_preset(PtzSet *set, const char *camera, const char *preset, double out[3],
                             GError **error)
{
    PtzCam *c = find_cam(set, camera);
    if (!c) {
        g_set_error(error, PTZ_ERROR, PTZ_ERROR_INVALID, "camera '%s' has no PTZ (ptz_url)",
                    camera ? camera : "");
        return FALSE;
    }
    for (guint i = 0; preset && i < c->presets->len; i++) {
        PtzPreset *p = &g_array_index(c->presets, PtzPreset, i);
        if (strcmp(p->name, preset) == 0) {
            queue_move(set, c, p->pos);
            if (out)
                memcpy(out, p->pos, sizeof p->pos);
            return TRUE;
        }
    }
    g_set_error(error, PTZ_ERROR, PTZ_ERROR_INVALID, "camera '%s' has no preset '%s'",
                c->camera, preset ? preset : "");
    return FALSE;
}

gboolean ptz_set_list_presets(PtzSet *set, const char *camera, GArray *out)
{
    PtzCam *c = find_cam(set, camera);
    if (c)
        g_array_append_vals(out, c->presets->data, c->presets->len);
    return c != NULL;
}

guint ptz_set_aim(PtzSet *set, const char *camera, double lat, double lon, double length_m,
                  char **aimed, GError **error)
{
    GString *names = g_string_new(NULL);
    guint n = 0;
    for (guint i = 0; set && i < set->cams->len; i++) {
        PtzCam *c = g_ptr_array_index(set->cams, i);
        if (camera && strcmp(camera, c->camera) != 0)
            continue;
        if (!set->pool)
            set->pool = g_thread_pool_new(run_job, NULL, 2, FALSE, NULL);
        PtzJob *job = g_new0(PtzJob, 1);
        device_copy(&job->dev, &c->dev);
        job->camera = g_strdup(c->camera);
        ptz_aim_box(&c->mount, lat, lon, length_m > 0 ? length_m : PTZ_BOX_40FT_M, &job->pan,
                    &job->tilt, &job->zoom);
        g_thread_pool_push(set->pool, job, NULL);
        g_string_append_printf(names, "%s%s", n ? "," : "", c->camera);
        n++;
    }
    if (camera && !n)
        g_set_error(error, PTZ_ERROR, PTZ_ERROR_INVALID, "camera '%s' has no PTZ (ptz_url)",
                    camera);
    if (aimed)
        *aimed = g_string_free(names, FALSE);
    else
        g_string_free(names, TRUE);
    return n;
}

const char *ptz_set_nearest(PtzSet *set, double lat, double lon, double length_m,
                            double out[3])
{
    PtzCam *best = NULL;
    double best_d = G_MAXDOUBLE;
    for (guint i = 0; set && i < set->cams->len; i++) {
        PtzCam *c = g_ptr_array_index(set->cams, i);
        double dlat = (c->mount.lat - lat) * 111320.0;
        double dlon = (c->mount.lon - lon) * 111320.0 * cos(lat * G_PI / 180.0);
        if (dlat * dlat + dlon * dlon < best_d) {
            best_d = dlat * dlat + dlon * dlon;
            best = c;
        }
    }
    if (best && out)
        ptz_aim_box(&best->mount, lat, lon, length_m > 0 ? length_m : PTZ_BOX_40FT_M, &out[0],
                    &out[1], &out[2]);
    return best ? best->camera : NULL;
}
