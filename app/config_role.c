/* config_role.c: what an [engine] role may be given (the parts of the daemon it runs). */
#include <string.h>

#include "config-schema.h"

static gboolean has_instance(GKeyFile *kf, const char *kind, char **first)
{
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    gsize n = strlen(kind);
    for (guint i = 0; groups[i]; i++)
        if (strncmp(groups[i], kind, n) == 0 && (groups[i][n] == ' ' || groups[i][n] == '\0')) {
            *first = g_strdup(groups[i]);
            return TRUE;
        }
    return FALSE;
}

char *app_config__check_role(GKeyFile *kf, const char **group, const char **key)
{
    g_autofree char *failover = g_key_file_get_string(kf, "mqtt", "failover", NULL);
    g_auto(GStrv) urls = failover ? g_strsplit(failover, ",", -1) : NULL;
    for (guint i = 0; urls && urls[i]; i++) {
        const char *u = g_strstrip(urls[i]);
        const char *scheme = g_uri_peek_scheme(u);
        g_autoptr(GUri) uri = scheme ? g_uri_parse(u, G_URI_FLAGS_NONE, NULL) : NULL;
        if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri) ||
            !g_strv_contains((const char *const[]){"tcp", "ssl", "mqtt", "mqtts", "ws", "wss",
                                                   NULL},
                             scheme)) {
            *group = "mqtt";
            *key = "failover";
            return g_strdup_printf("[mqtt] failover: '%s' is not a URL like tcp://host:port", u);
        }
    }
    g_autofree char *role = g_key_file_get_string(kf, "engine", "role", NULL);
    if (role)
        g_strstrip(role);
    *group = "engine";
    *key = role ? "role" : NULL;
    if (!role || strcmp(role, "all") == 0)
        return NULL;
    if (!g_key_file_has_group(kf, "mqtt"))
        return g_strdup_printf("[engine] role = %s needs an [mqtt] group: nodes meet only "
                               "through the broker", role);
    g_autofree char *name = g_key_file_get_string(kf, "engine", "name", NULL);
    if (!name)
        name = g_key_file_get_string(kf, "mqtt", "client_id", NULL);
    const char *n = name ? g_strstrip(name) : "portsight-1";
    gsize len = strlen(n);
    gboolean ok = len > 0 && len <= 64;
    for (gsize i = 0; ok && i < len; i++)
        ok = g_ascii_isalnum(n[i]) || n[i] == '-' || n[i] == '_';
    if (!ok) {
        *key = "name";
        return g_strdup_printf("[engine] name: '%s' (or [mqtt] client_id when it is not set) is "
                               "not a node name: 1-64 of A-Z a-z 0-9 - _", n);
    }
    /* What each role may not be given: the groups of the parts it does not run. */
    static const struct {
        const char *role, *kind, *who;
    } refused[] = {
        {"cameras", "ais", "a decisions node"},   {"cameras", "declarations", "a decisions node"},
        {"cameras", "webhook", "a decisions node"}, {"decisions", "camera", "a cameras node"},
        {"decisions", "wall", "a wall node"},     {"wall", "ais", "a decisions node"},
        {"wall", "declarations", "a decisions node"}, {"wall", "webhook", "a decisions node"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autofree char *first = NULL;
        if (strcmp(role, refused[i].role) == 0 && has_instance(kf, refused[i].kind, &first)) {
            *group = g_intern_string(first);
            *key = NULL;
            return g_strdup_printf("[%s]: [engine] role = %s does not run it (%s does)", first,
                                   role, refused[i].who);
        }
    }
    g_autofree char *cam = NULL;
    if (strcmp(role, "cameras") == 0 && !has_instance(kf, "camera", &cam))
        return g_strdup("[engine] role = cameras needs at least one [camera NAME] group");
    if (strcmp(role, "wall") == 0 && !g_key_file_has_key(kf, "wall", "cameras", NULL))
        return g_strdup("[engine] role = wall needs [wall] cameras (the tiles, in order: the "
                        "cameras the camera nodes announce)");
    return NULL;
}
