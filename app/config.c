/* config.c: GKeyFile loading with a schema, so that every mistake names its place. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

G_DEFINE_QUARK(app-config-error-quark, app_config_error)

typedef enum { CFG_STRING, CFG_INT, CFG_DOUBLE, CFG_BOOL, CFG_ENUM, CFG_URL, CFG_FILE } CfgType;

typedef struct {
    const char *group; /* "store"; or "camera *" for every "[camera NAME]" group */
    const char *key;
    CfgType type;
    gboolean required; /* required when its group is present */
    const char *def;   /* default, as text; NULL for none */
    double min, max;   /* for CFG_INT and CFG_DOUBLE (ignored when min == max) */
    const char *choices; /* for CFG_ENUM: "a|b|c"; for CFG_URL: allowed schemes "tcp|ssl" */
} CfgKey;

/* The schema. Modules add their groups here and document them in the README. */
static const CfgKey schema[] = {
    {"store", "path", CFG_STRING, TRUE, NULL, 0, 0, NULL},
    {"store", "sync", CFG_ENUM, FALSE, "full", 0, 0, "full|normal"},
    {"store", "dead_letter_max_mb", CFG_INT, FALSE, "256", 0, 1048576, NULL},

    {"mqtt", "url", CFG_URL, TRUE, NULL, 0, 0, "tcp|ssl|mqtt|mqtts|ws|wss"},
    {"mqtt", "client_id", CFG_STRING, FALSE, "portsight-1", 0, 0, NULL},
    {"mqtt", "username", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"mqtt", "password", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"mqtt", "cafile", CFG_FILE, FALSE, NULL, 0, 0, NULL},
    {"mqtt", "certfile", CFG_FILE, FALSE, NULL, 0, 0, NULL},
    {"mqtt", "keyfile", CFG_FILE, FALSE, NULL, 0, 0, NULL},
    {"mqtt", "topic_root", CFG_STRING, FALSE, "port", 0, 0, NULL},
    {"mqtt", "clean_session", CFG_BOOL, FALSE, "false", 0, 0, NULL},
    {"mqtt", "keepalive", CFG_INT, FALSE, "30", 1, 3600, NULL},
    {"mqtt", "reconnect_max", CFG_INT, FALSE, "10", 1, 3600, NULL},
    {"mqtt", "lanes", CFG_INT, FALSE, "1", 1, 64, NULL},

    {"webhook *", "url", CFG_URL, TRUE, NULL, 0, 0, "http|https"},
    {"webhook *", "secret", CFG_STRING, TRUE, NULL, 0, 0, NULL},
    {"webhook *", "timeout", CFG_DOUBLE, FALSE, "10", 0.1, 300, NULL},
    {"webhook *", "retry_max", CFG_DOUBLE, FALSE, "3600", 1, 86400, NULL},
    /* topics: the outputs it takes, comma-separated: release, hold, ocr, status, alert, all */
    {"webhook *", "topics", CFG_STRING, FALSE, "release,hold", 0, 0, NULL},

    /* the release policy (docs/contracts.md) */
    {"rules", "require_radiation_clear", CFG_BOOL, FALSE, "true", 0, 0, NULL},
    {"rules", "require_seal", CFG_BOOL, FALSE, "false", 0, 0, NULL},

    {"ais", "feed", CFG_STRING, TRUE, NULL, 0, 0, NULL}, /* tcp://, udp://, file:// (cmd_run) */
    {"ais", "replay", CFG_ENUM, FALSE, "fast", 0, 0, "fast|recorded"},
    {"ais", "replay_speed", CFG_DOUBLE, FALSE, "1", 0.01, 10000, NULL},
    {"ais", "max_line", CFG_INT, FALSE, "1024", 82, 65536, NULL},
    {"ais", "ports", CFG_FILE, FALSE, NULL, 0, 0, NULL},
    {"ais", "port_radius_km", CFG_DOUBLE, FALSE, "5", 0.1, 100, NULL},
    {"ais", "stop_speed_kn", CFG_DOUBLE, FALSE, "0.2", 0, 5, NULL},
    {"ais", "go_speed_kn", CFG_DOUBLE, FALSE, "0.5", 0, 10, NULL},
    {"ais", "track_interval", CFG_INT, FALSE, "300", 1, 86400, NULL},
    {"ais", "track_course_deg", CFG_DOUBLE, FALSE, "10", 1, 180, NULL},
    {"ais", "track_speed_kn", CFG_DOUBLE, FALSE, "2", 0.1, 50, NULL},
    {"ais", "track_days", CFG_INT, FALSE, "30", 0, 3650, NULL},
    {"ais", "vessel_expiry", CFG_INT, FALSE, "3600", 60, 2592000, NULL},
    {"ais", "high_risk_ports", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"ais", "risk_days", CFG_INT, FALSE, "30", 1, 3650, NULL},

    /* video (README "Cameras" and "Video wall") */
    /* uri: rtsp:// file:// http(s):// v4l2:///dev/videoN testsrc://PATTERN */
    {"camera *", "uri", CFG_STRING, TRUE, NULL, 0, 0, NULL},
    {"camera *", "title", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"camera *", "watchdog", CFG_DOUBLE, FALSE, "3", 0.5, 600, NULL},
    {"camera *", "backoff_max", CFG_DOUBLE, FALSE, "3", 0.5, 3600, NULL},
    {"camera *", "latency_ms", CFG_INT, FALSE, "200", 0, 10000, NULL},
    {"camera *", "rtsp_tcp", CFG_BOOL, FALSE, "false", 0, 0, NULL},
    {"camera *", "width", CFG_INT, FALSE, "0", 0, 7680, NULL},
    {"camera *", "height", CFG_INT, FALSE, "0", 0, 4320, NULL},
    {"camera *", "ocr", CFG_BOOL, FALSE, "true", 0, 0, NULL},
    {"camera *", "ocr_interval_ms", CFG_INT, FALSE, "500", 0, 60000, NULL},
    {"camera *", "ocr_threads", CFG_INT, FALSE, "1", 1, 16, NULL},
    /* pose: lat,lon,height_m,heading,tilt,hfov */
    {"camera *", "pose", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    /* ground_points: lat,lon,x,y; ... (>= 4) in pixels of a ground_points_size picture */
    {"camera *", "ground_points", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"camera *", "ground_points_size", CFG_STRING, FALSE, "1920x1080", 0, 0, NULL},
    /* ocr_roi: x,y,w,h as fractions of the picture */
    {"camera *", "ocr_roi", CFG_STRING, FALSE, "0,0,1,1", 0, 0, NULL},
    {"camera *", "ocr_interval_max_ms", CFG_INT, FALSE, "1000", 0, 60000, NULL},
    {"camera *", "ocr_motion_threshold", CFG_DOUBLE, FALSE, "2", 0, 255, NULL},
    {"camera *", "ptz_url", CFG_URL, FALSE, NULL, 0, 0, "http|https"},
    {"camera *", "ptz_profile", CFG_STRING, FALSE, "profile_1", 0, 0, NULL},
    {"camera *", "ptz_user", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"camera *", "ptz_password", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"camera *", "ptz_pan_range", CFG_DOUBLE, FALSE, "180", 1, 360, NULL},
    {"camera *", "ptz_tilt_range", CFG_DOUBLE, FALSE, "90", 1, 180, NULL},
    {"camera *", "ptz_zoom_distance", CFG_DOUBLE, FALSE, "0", 0, 100000, NULL},

    {"wall", "layout", CFG_ENUM, FALSE, "2x2", 0, 0, "2x2|3x3|1+5"},
    {"wall", "cameras", CFG_STRING, FALSE, NULL, 0, 0, NULL}, /* tile order, comma separated */
    {"wall", "width", CFG_INT, FALSE, "1920", 64, 7680, NULL},
    {"wall", "height", CFG_INT, FALSE, "1080", 64, 4320, NULL},
    {"wall", "fps", CFG_INT, FALSE, "25", 1, 60, NULL},
    {"wall", "bitrate_kbps", CFG_INT, FALSE, "4000", 100, 100000, NULL},
    {"wall", "rtsp_port", CFG_INT, FALSE, "8554", 0, 65535, NULL}, /* 0: no RTSP server */
    {"wall", "rtsp_path", CFG_STRING, FALSE, "/wall", 0, 0, NULL},
    {"wall", "rtsp_per_camera", CFG_BOOL, FALSE, "true", 0, 0, NULL},
    {"wall", "srt", CFG_STRING, FALSE, NULL, 0, 0, NULL}, /* srt://:7001 */
    {"wall", "hls_dir", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"wall", "record", CFG_STRING, FALSE, NULL, 0, 0, NULL}, /* an MP4 file */
    /* [http]: the operator console (console/) */
    {"http", "listen", CFG_STRING, FALSE, "127.0.0.1:8080", 0, 0, NULL},
    {"http", "tls_cert", CFG_FILE, FALSE, NULL, 0, 0, NULL},
    {"http", "tls_key", CFG_FILE, FALSE, NULL, 0, 0, NULL},
    {"http", "users", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"http", "www_dir", CFG_STRING, FALSE, NULL, 0, 0, NULL},
};

struct AppConfig {
    char *name;
    GKeyFile *kf;
};

/* ---- finding the line a group or key is on ---- */

typedef struct {
    char **lines;
    const char *name;
} Source;

static gboolean is_header(const char *s, const char *group)
{
    s += strspn(s, " \t");
    if (*s != '[')
        return FALSE;
    gsize n = strlen(group);
    return strncmp(s + 1, group, n) == 0 && s[1 + n] == ']';
}

/* Returns the 1-based line of [@group] (@key NULL) or of "@key =" inside it; 0 if not found. */
static int locate(const Source *src, const char *group, const char *key)
{
    gboolean inside = FALSE;
    for (int i = 0; src->lines[i]; i++) {
        const char *s = src->lines[i] + strspn(src->lines[i], " \t");
        if (*s == '[') {
            inside = is_header(s, group);
            if (inside && !key)
                return i + 1;
            continue;
        }
        if (inside && key) {
            gsize n = strlen(key);
            if (strncmp(s, key, n) == 0 && (s[n] == '=' || s[n] == ' ' || s[n] == '\t' ||
                                             s[n] == '['))
                return i + 1;
        }
    }
    return 0;
}

static gboolean fail_at(GError **error, int code, const Source *src, int line, const char *fmt,
                        ...) G_GNUC_PRINTF(5, 6);

static gboolean fail_at(GError **error, int code, const Source *src, int line, const char *fmt,
                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (line > 0)
        g_set_error(error, APP_CONFIG_ERROR, code, "%s:%d: %s", src->name, line, msg);
    else
        g_set_error(error, APP_CONFIG_ERROR, code, "%s: %s", src->name, msg);
    return FALSE;
}

/* GKeyFile's parse errors do not say where: find the first line it cannot have liked. */
static int first_bad_line(const Source *src)
{
    for (int i = 0; src->lines[i]; i++) {
        const char *s = src->lines[i] + strspn(src->lines[i], " \t");
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            if (!strchr(s, ']'))
                return i + 1;
            continue;
        }
        if (!strchr(s, '=') || *s == '=')
            return i + 1;
    }
    return 0;
}

/* ---- the schema ---- */

static gboolean group_matches(const char *pattern, const char *group)
{
    gsize n = strlen(pattern);
    if (n > 2 && pattern[n - 1] == '*') /* "camera *" */
        return strncmp(group, pattern, n - 1) == 0 && group[n - 1] != '\0';
    return strcmp(pattern, group) == 0;
}

static const CfgKey *find_key(const char *group, const char *key)
{
    for (guint i = 0; i < G_N_ELEMENTS(schema); i++)
        if (group_matches(schema[i].group, group) && (!key || strcmp(schema[i].key, key) == 0))
            return &schema[i];
    return NULL;
}

static char *known_groups(void)
{
    GString *s = g_string_new(NULL);
    const char *last = NULL;
    for (guint i = 0; i < G_N_ELEMENTS(schema); i++) {
        if (last && strcmp(last, schema[i].group) == 0)
            continue;
        last = schema[i].group;
        g_string_append_printf(s, "%s[%s]", s->len ? ", " : "", last);
    }
    return g_string_free(s, FALSE);
}

static char *known_keys(const char *group)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(schema); i++)
        if (group_matches(schema[i].group, group))
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", schema[i].key);
    return g_string_free(s, FALSE);
}

static gboolean check_value(const CfgKey *k, const char *group, const char *value,
                            const Source *src, int line, GError **error)
{
    char *end = NULL;
    switch (k->type) {
    case CFG_STRING:
        if (*value == '\0')
            return fail_at(error, APP_CONFIG_ERROR_VALUE, src, line, "[%s] %s: empty value",
                           group, k->key);
        return TRUE;
    case CFG_INT: {
        errno = 0;
        gint64 v = g_ascii_strtoll(value, &end, 10);
        if (end == value || *end != '\0' || errno)
            return fail_at(error, APP_CONFIG_ERROR_VALUE, src, line,
                           "[%s] %s: '%s' is not a whole number", group, k->key, value);
        if (k->min != k->max && (v < k->min || v > k->max))
            return fail_at(error, APP_CONFIG_ERROR_VALUE, src, line,
                           "[%s] %s: %" G_GINT64_FORMAT " is outside %.0f..%.0f", group, k->key,
                           v, k->min, k->max);
        return TRUE;
    }
    case CFG_DOUBLE: {
        errno = 0;
        double v = g_ascii_strtod(value, &end);
        if (end == value || *end != '\0' || errno || !isfinite(v))
            return fail_at(error, APP_CONFIG_ERROR_VALUE, src, line,
                           "[%s] %s: '%s' is not a number", group, k->key, value);
        if (k->min != k->max && (v < k->min || v > k->max))
            return fail_at(error, APP_CONFIG_ERROR_VALUE, src, line,
                           "[%s] %s: %g is outside %g..%g", group, k->key, v, k->min, k->max);
        return TRUE;
    }
    case CFG_BOOL:
        if (strcmp(value, "true") && strcmp(value, "false"))
            return fail_at(error, APP_CONFIG_ERROR_VALUE, src, line,
                           "[%s] %s: '%s' is not true or false", group, k->key, value);
        return TRUE;
    case CFG_ENUM:
    case CFG_URL: {
        g_auto(GStrv) choices = g_strsplit(k->choices, "|", -1);
        const char *scheme = NULL;
        const char *what = value;
        if (k->type == CFG_URL) {
            scheme = g_uri_peek_scheme(value);
            what = scheme;
            g_autoptr(GUri) uri = scheme ? g_uri_parse(value, G_URI_FLAGS_NONE, NULL) : NULL;
            if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri))
                return fail_at(error, APP_CONFIG_ERROR_VALUE, src, line,
                               "[%s] %s: '%s' is not a URL like %s://host:port", group, k->key,
                               value, choices[0]);
        }
        if (what && g_strv_contains((const char *const *)choices, what))
            return TRUE;
        g_autofree char *list = g_strjoinv(", ", choices);
        return fail_at(error, APP_CONFIG_ERROR_VALUE, src, line, "[%s] %s: '%s' is not one of %s%s",
                       group, k->key, value, list, k->type == CFG_URL ? " (URL scheme)" : "");
    }
    case CFG_FILE:
        if (!g_file_test(value, G_FILE_TEST_IS_REGULAR))
            return fail_at(error, APP_CONFIG_ERROR_VALUE, src, line,
                           "[%s] %s: no such file '%s'", group, k->key, value);
        return TRUE;
    }
    return TRUE;
}

static gboolean validate(AppConfig *cfg, const Source *src, GError **error)
{
    g_auto(GStrv) groups = g_key_file_get_groups(cfg->kf, NULL);
    for (int g = 0; groups[g]; g++) {
        const char *group = groups[g];
        if (!find_key(group, NULL)) {
            g_autofree char *known = known_groups();
            return fail_at(error, APP_CONFIG_ERROR_UNKNOWN, src, locate(src, group, NULL),
                           "unknown group [%s] (known: %s)", group, known);
        }
        g_auto(GStrv) keys = g_key_file_get_keys(cfg->kf, group, NULL, NULL);
        for (int i = 0; keys && keys[i]; i++) {
            const CfgKey *k = find_key(group, keys[i]);
            int line = locate(src, group, keys[i]);
            if (!k) {
                g_autofree char *known = known_keys(group);
                return fail_at(error, APP_CONFIG_ERROR_UNKNOWN, src, line,
                               "[%s] unknown key '%s' (known: %s)", group, keys[i], known);
            }
            g_autofree char *value = g_key_file_get_string(cfg->kf, group, keys[i], NULL);
            if (!value || !check_value(k, group, g_strstrip(value), src, line, error))
                return value ? FALSE
                             : fail_at(error, APP_CONFIG_ERROR_VALUE, src, line,
                                       "[%s] %s: not valid UTF-8 text", group, keys[i]);
        }
        for (guint i = 0; i < G_N_ELEMENTS(schema); i++) {
            if (schema[i].required && group_matches(schema[i].group, group) &&
                !g_key_file_has_key(cfg->kf, group, schema[i].key, NULL))
                return fail_at(error, APP_CONFIG_ERROR_VALUE, src, locate(src, group, NULL),
                               "[%s] %s: required key is missing", group, schema[i].key);
        }
    }
    if (!g_key_file_has_group(cfg->kf, "store"))
        return fail_at(error, APP_CONFIG_ERROR_VALUE, src, 0,
                       "[store] is missing: it must give the database path");
    return TRUE;
}

AppConfig *app_config_load_data(const char *name, const char *data, gsize len, GError **error)
{
    AppConfig *cfg = g_new0(AppConfig, 1);
    cfg->name = g_strdup(name);
    cfg->kf = g_key_file_new();
    g_autofree char *text = g_strndup(data, len);
    Source src = {g_strsplit(text, "\n", -1), name};
    GError *local = NULL;
    if (!g_utf8_validate(data, len, NULL)) {
        fail_at(error, APP_CONFIG_ERROR_SYNTAX, &src, 0, "not UTF-8 text");
        goto fail;
    }
    if (!g_key_file_load_from_data(cfg->kf, data, len, G_KEY_FILE_NONE, &local)) {
        fail_at(error, APP_CONFIG_ERROR_SYNTAX, &src, first_bad_line(&src), "%s",
                local->message);
        g_error_free(local);
        goto fail;
    }
    if (!validate(cfg, &src, error))
        goto fail;
    g_strfreev(src.lines);
    return cfg;

fail:
    g_strfreev(src.lines);
    app_config_free(cfg);
    return NULL;
}

/* Warnings for a configuration that gives its secrets away: a file every local user can read
 * holding a password or secret, and an MQTT password sent over a plain connection. */
static void warn_exposed_secrets(const char *path, AppConfig *cfg)
{
    GStatBuf st;
    gboolean world_readable = path && g_stat(path, &st) == 0 && (st.st_mode & S_IROTH);
    g_auto(GStrv) groups = g_key_file_get_groups(cfg->kf, NULL);
    for (guint i = 0; world_readable && groups[i]; i++) {
        const char *secret = g_key_file_has_key(cfg->kf, groups[i], "password", NULL) ? "password"
                             : g_key_file_has_key(cfg->kf, groups[i], "secret", NULL) ? "secret"
                                                                                      : NULL;
        if (secret) {
            g_warning("%s is readable by every local user and holds [%s] %s: make it readable "
                      "by the service only (chmod 600, or 640 with the service's group)",
                      path, groups[i], secret);
            break;
        }
    }
    if (g_key_file_has_key(cfg->kf, "mqtt", "password", NULL)) {
        const char *url = app_config_string(cfg, "mqtt", "url");
        if (url && (g_str_has_prefix(url, "tcp://") || g_str_has_prefix(url, "mqtt://") ||
                    g_str_has_prefix(url, "ws://")))
            g_warning("%s: [mqtt] password goes over the plain connection %s: anyone on the "
                      "network path can read it; use ssl:// (or mqtts://, wss://)",
                      path, url);
    }
}

AppConfig *app_config_load(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    GError *local = NULL;
    if (!g_file_get_contents(path, &data, &len, &local)) {
        g_set_error(error, APP_CONFIG_ERROR, APP_CONFIG_ERROR_IO, "%s: cannot read: %s", path,
                    g_strerror(local->code == G_FILE_ERROR_NOENT ? ENOENT
                               : local->code == G_FILE_ERROR_ACCES ? EACCES
                               : local->code == G_FILE_ERROR_ISDIR ? EISDIR
                                                                    : EIO));
        g_error_free(local);
        return NULL;
    }
    AppConfig *cfg = app_config_load_data(path, data, len, error);
    if (cfg)
        warn_exposed_secrets(path, cfg);
    return cfg;
}

void app_config_free(AppConfig *cfg)
{
    if (!cfg)
        return;
    g_key_file_free(cfg->kf);
    g_free(cfg->name);
    g_free(cfg);
}

/* Values were validated at load, so lookups only fall back to the schema's default. Returned
 * strings are interned (g_intern_string): a config is small and read once, and the pointers
 * may then be kept for the life of the process. */
static const char *raw(AppConfig *cfg, const char *group, const char *key, const CfgKey **out)
{
    const CfgKey *k = find_key(group, key);
    g_return_val_if_fail(k != NULL, NULL);
    *out = k;
    g_autofree char *v = g_key_file_get_string(cfg->kf, group, key, NULL);
    if (!v)
        return k->def;
    return g_intern_string(g_strstrip(v));
}

const char *app_config_string(AppConfig *cfg, const char *group, const char *key)
{
    const CfgKey *k;
    return raw(cfg, group, key, &k);
}

gint64 app_config_int(AppConfig *cfg, const char *group, const char *key)
{
    const CfgKey *k;
    const char *v = raw(cfg, group, key, &k);
    return v ? g_ascii_strtoll(v, NULL, 10) : 0;
}

double app_config_double(AppConfig *cfg, const char *group, const char *key)
{
    const CfgKey *k;
    const char *v = raw(cfg, group, key, &k);
    return v ? g_ascii_strtod(v, NULL) : 0.0;
}

gboolean app_config_bool(AppConfig *cfg, const char *group, const char *key)
{
    const CfgKey *k;
    const char *v = raw(cfg, group, key, &k);
    return v && strcmp(v, "true") == 0;
}

gboolean app_config_has_group(AppConfig *cfg, const char *group)
{
    return g_key_file_has_group(cfg->kf, group);
}

char **app_config_instances(AppConfig *cfg, const char *kind)
{
    g_auto(GStrv) groups = g_key_file_get_groups(cfg->kf, NULL);
    GPtrArray *out = g_ptr_array_new();
    gsize n = strlen(kind);
    for (int i = 0; groups[i]; i++)
        if (strncmp(groups[i], kind, n) == 0 && groups[i][n] == ' ' && groups[i][n + 1])
            g_ptr_array_add(out, g_strdup(groups[i]));
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}
