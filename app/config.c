/* config.c: GKeyFile loading with a schema, so that every mistake names its place. */
#include "config.h"
#include "config-schema.h"

#include <errno.h>
#include <math.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

G_DEFINE_QUARK(app-config-error-quark, app_config_error)


struct AppConfig {
    char *name;
    GKeyFile *kf;
    char **lines; /* the text, to say where a group or key is (app_config_where) */
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

static gboolean validate(AppConfig *cfg, const Source *src, GError **error)
{
    g_auto(GStrv) groups = g_key_file_get_groups(cfg->kf, NULL);
    for (int g = 0; groups[g]; g++) {
        const char *group = groups[g];
        if (!app_config__find_key(group, NULL)) {
            g_autofree char *known = app_config__known_groups();
            return fail_at(error, APP_CONFIG_ERROR_UNKNOWN, src, locate(src, group, NULL),
                           "unknown group [%s] (known: %s)", group, known);
        }
        g_auto(GStrv) keys = g_key_file_get_keys(cfg->kf, group, NULL, NULL);
        for (int i = 0; keys && keys[i]; i++) {
            const CfgKey *k = app_config__find_key(group, keys[i]);
            int line = locate(src, group, keys[i]);
            if (!k) {
                g_autofree char *known = app_config__known_keys(group);
                return fail_at(error, APP_CONFIG_ERROR_UNKNOWN, src, line,
                               "[%s] unknown key '%s' (known: %s)", group, keys[i], known);
            }
            g_autofree char *value = g_key_file_get_string(cfg->kf, group, keys[i], NULL);
            if (!value)
                return fail_at(error, APP_CONFIG_ERROR_VALUE, src, line,
                               "[%s] %s: not valid UTF-8 text", group, keys[i]);
            g_autofree char *why = app_config__check_value(k, group, g_strstrip(value));
            if (why)
                return fail_at(error, APP_CONFIG_ERROR_VALUE, src, line, "%s", why);
        }
        for (guint i = 0; i < app_config__n_schema; i++) {
            const CfgKey *k = &app_config__schema[i];
            if (k->required && app_config__group_matches(k->group, group) &&
                !g_key_file_has_key(cfg->kf, group, k->key, NULL))
                return fail_at(error, APP_CONFIG_ERROR_VALUE, src, locate(src, group, NULL),
                               "[%s] %s: required key is missing", group, k->key);
        }
    }
    if (!g_key_file_has_group(cfg->kf, "store"))
        return fail_at(error, APP_CONFIG_ERROR_VALUE, src, 0,
                       "[store] is missing: it must give the database path");
    const char *wg = NULL, *wk = NULL;
    g_autofree char *why = app_config__check_role(cfg->kf, &wg, &wk);
    if (why)
        return fail_at(error, APP_CONFIG_ERROR_VALUE, src, locate(src, wg, wk), "%s", why);
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
    cfg->lines = src.lines;
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
    g_strfreev(cfg->lines);
    g_free(cfg);
}

/* The line of [@group] @key, else of [@group] (*@key set to NULL then), else 0. */
static int line_of(AppConfig *cfg, const char *group, const char **key)
{
    Source src = {cfg->lines, cfg->name};
    int line = cfg->lines ? locate(&src, group, *key) : 0;
    if (!line && *key) {
        line = cfg->lines ? locate(&src, group, NULL) : 0;
        *key = NULL;
    }
    return line;
}

char *app_config_at(AppConfig *cfg, const char *group, const char *key)
{
    int line = line_of(cfg, group, &key);
    return line ? g_strdup_printf("%s:%d", cfg->name, line) : g_strdup(cfg->name);
}

char *app_config_where(AppConfig *cfg, const char *group, const char *key)
{
    int line = line_of(cfg, group, &key);
    g_autofree char *at = line ? g_strdup_printf("%s:%d", cfg->name, line) : g_strdup(cfg->name);
    return key ? g_strdup_printf("%s: [%s] %s", at, group, key)
               : g_strdup_printf("%s: [%s]", at, group);
}

/* Values were validated at load, so lookups only fall back to the schema's default. Returned
 * strings are interned (g_intern_string): a config is small and read once, and the pointers
 * may then be kept for the life of the process. */
static const char *raw(AppConfig *cfg, const char *group, const char *key, const CfgKey **out)
{
    const CfgKey *k = app_config__find_key(group, key);
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
