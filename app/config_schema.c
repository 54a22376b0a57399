/* config_schema.c: every group and key of the configuration (docs/contracts.md and
 * docs/reference.md document them). */
#include "config-schema.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* The schema. Modules add their groups here and document them in the README. */
const CfgKey app_config__schema[] = {
    /* one node among several (docs/deployment.md): what it runs, its name, where its streams
     * are reached (the host in the rtsp:// URLs it announces) */
    {"engine", "role", CFG_ENUM, FALSE, "all", 0, 0, "all|cameras|decisions|wall"},
    {"engine", "name", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"engine", "stream_host", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    /* seconds between two announcements of the node status (also said at each connect) */
    {"engine", "announce", CFG_DOUBLE, FALSE, "30", 1, 3600, NULL},

    {"store", "path", CFG_STRING, TRUE, NULL, 0, 0, NULL},
    {"store", "sync", CFG_ENUM, FALSE, "full", 0, 0, "full|normal"},
    {"store", "dead_letter_max_mb", CFG_INT, FALSE, "256", 0, 1048576, NULL},
    /* journal retention (rules/retain.c): 0 keeps every row */
    {"store", "journal_keep_days", CFG_INT, FALSE, "0", 0, 36500, NULL},
    {"store", "journal_archive", CFG_STRING, FALSE, NULL, 0, 0, NULL},

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
    /* failover: the broker cluster's other nodes, comma-separated URLs (config_role.c) */
    {"mqtt", "failover", CFG_STRING, FALSE, NULL, 0, 0, NULL},

    {"webhook *", "url", CFG_URL, TRUE, NULL, 0, 0, "http|https"},
    {"webhook *", "secret", CFG_STRING, TRUE, NULL, 0, 0, NULL},
    {"webhook *", "timeout", CFG_DOUBLE, FALSE, "10", 0.1, 300, NULL},
    {"webhook *", "retry_max", CFG_DOUBLE, FALSE, "3600", 1, 86400, NULL},
    /* topics: the outputs it takes, comma-separated: release, hold, ocr, status, alert, all */
    {"webhook *", "topics", CFG_STRING, FALSE, "release,hold", 0, 0, NULL},

    /* declarations pulled from the customs service (docs/contracts.md) */
    {"declarations", "url", CFG_URL, TRUE, NULL, 0, 0, "http|https"},
    {"declarations", "auth_header", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"declarations", "interval", CFG_DOUBLE, FALSE, "300", 0.1, 86400, NULL},
    {"declarations", "timeout", CFG_DOUBLE, FALSE, "30", 1, 600, NULL},
    {"declarations", "format", CFG_ENUM, FALSE, "auto", 0, 0, "auto|json|csv"},

    /* the release policy (docs/contracts.md) */
    {"rules", "require_radiation_clear", CFG_BOOL, FALSE, "true", 0, 0, NULL},
    {"rules", "require_seal", CFG_BOOL, FALSE, "false", 0, 0, NULL},
    /* the state kept in memory (rules/retain.c) */
    {"rules", "retain_days", CFG_INT, FALSE, "30", 0, 3650, NULL},
    {"rules", "max_live", CFG_INT, FALSE, "1000000", 0, 100000000, NULL},
    {"rules", "snapshot_every", CFG_INT, FALSE, "50000", 0, 100000000, NULL},

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
    /* the PTZ lens's horizontal field of view, degrees, at zoom 0 and at zoom 1 */
    {"camera *", "ptz_hfov_wide", CFG_DOUBLE, FALSE, "0", 0, 179, NULL},
    {"camera *", "ptz_hfov_tele", CFG_DOUBLE, FALSE, "0", 0, 179, NULL},
    /* presets: name:pan,tilt,zoom; ... (ONVIF generic spaces) */
    {"camera *", "presets", CFG_STRING, FALSE, NULL, 0, 0, NULL},

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
    /* previous recordings kept beside it (a restart never overwrites one) */
    {"wall", "record_keep", CFG_INT, FALSE, "10", 1, 100000, NULL},
    /* segments: cut past this many seconds or megabytes (0 and 0: one file) */
    {"wall", "record_segment", CFG_INT, FALSE, "600", 0, 86400, NULL},
    {"wall", "record_segment_mb", CFG_INT, FALSE, "0", 0, 1048576, NULL},
    /* [http]: the operator console (console/) */
    {"http", "listen", CFG_STRING, FALSE, "127.0.0.1:8080", 0, 0, NULL},
    {"http", "tls_cert", CFG_FILE, FALSE, NULL, 0, 0, NULL},
    {"http", "tls_key", CFG_FILE, FALSE, NULL, 0, 0, NULL},
    {"http", "users", CFG_STRING, FALSE, NULL, 0, 0, NULL},
    {"http", "www_dir", CFG_STRING, FALSE, NULL, 0, 0, NULL},
};

const gsize app_config__n_schema = G_N_ELEMENTS(app_config__schema);

/* ---- the schema ---- */

gboolean app_config__group_matches(const char *pattern, const char *group)
{
    gsize n = strlen(pattern);
    if (n > 2 && pattern[n - 1] == '*') /* "camera *" */
        return strncmp(group, pattern, n - 1) == 0 && group[n - 1] != '\0';
    return strcmp(pattern, group) == 0;
}

const CfgKey *app_config__find_key(const char *group, const char *key)
{
    for (guint i = 0; i < app_config__n_schema; i++)
        if (app_config__group_matches(app_config__schema[i].group, group) &&
            (!key || strcmp(app_config__schema[i].key, key) == 0))
            return &app_config__schema[i];
    return NULL;
}

char *app_config__known_groups(void)
{
    GString *s = g_string_new(NULL);
    const char *last = NULL;
    for (guint i = 0; i < app_config__n_schema; i++) {
        if (last && strcmp(last, app_config__schema[i].group) == 0)
            continue;
        last = app_config__schema[i].group;
        g_string_append_printf(s, "%s[%s]", s->len ? ", " : "", last);
    }
    return g_string_free(s, FALSE);
}

char *app_config__known_keys(const char *group)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < app_config__n_schema; i++)
        if (app_config__group_matches(app_config__schema[i].group, group))
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", app_config__schema[i].key);
    return g_string_free(s, FALSE);
}

char *app_config__check_value(const CfgKey *k, const char *group, const char *value)
{
    char *end = NULL;
    /* GKeyFile has no inline comments: "true  # note" would be the value. */
    const char *hash = strstr(value, " #");
    if (!hash)
        hash = strstr(value, "\t#");
    if (hash)
        return g_strdup_printf("[%s] %s: '%s' has a comment in it (GKeyFile has no inline "
                               "comments: put '#%s' on a line of its own)",
                               group, k->key, value, hash + 2);
    switch (k->type) {
    case CFG_STRING:
        if (*value == '\0')
            return g_strdup_printf("[%s] %s: empty value",
                           group, k->key);
        return NULL;
    case CFG_INT: {
        errno = 0;
        gint64 v = g_ascii_strtoll(value, &end, 10);
        if (end == value || *end != '\0' || errno)
            return g_strdup_printf("[%s] %s: '%s' is not a whole number", group, k->key, value);
        if (k->min != k->max && (v < k->min || v > k->max))
            return g_strdup_printf("[%s] %s: %" G_GINT64_FORMAT " is outside %.0f..%.0f", group,
                                   k->key,
                           v, k->min, k->max);
        return NULL;
    }
    case CFG_DOUBLE: {
        errno = 0;
        double v = g_ascii_strtod(value, &end);
        if (end == value || *end != '\0' || errno || !isfinite(v))
            return g_strdup_printf("[%s] %s: '%s' is not a number", group, k->key, value);
        if (k->min != k->max && (v < k->min || v > k->max))
            return g_strdup_printf("[%s] %s: %g is outside %g..%g", group, k->key, v, k->min,
                                   k->max);
        return NULL;
    }
    case CFG_BOOL:
        if (strcmp(value, "true") && strcmp(value, "false"))
            return g_strdup_printf("[%s] %s: '%s' is not true or false", group, k->key, value);
        return NULL;
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
                return g_strdup_printf("[%s] %s: '%s' is not a URL like %s://host:port", group,
                                       k->key,
                               value, choices[0]);
        }
        if (what && g_strv_contains((const char *const *)choices, what))
            return NULL;
        g_autofree char *list = g_strjoinv(", ", choices);
        return g_strdup_printf("[%s] %s: '%s' is not one of %s%s",
                       group, k->key, value, list, k->type == CFG_URL ? " (URL scheme)" : "");
    }
    case CFG_FILE:
        if (!g_file_test(value, G_FILE_TEST_IS_REGULAR))
            return g_strdup_printf("[%s] %s: no such file '%s'", group, k->key, value);
        return NULL;
    }
    return NULL;
}

