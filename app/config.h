/* config.h: the daemon's GKeyFile configuration, validated against a schema of known groups
 * and keys (app/config.c). Shared between the files of app/. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define APP_CONFIG_ERROR (app_config_error_quark())
GQuark app_config_error_quark(void);

typedef enum {
    APP_CONFIG_ERROR_IO,      /* the file cannot be read */
    APP_CONFIG_ERROR_SYNTAX,  /* not a key file */
    APP_CONFIG_ERROR_UNKNOWN, /* a group or key the schema does not know */
    APP_CONFIG_ERROR_VALUE,   /* a value of the wrong type or out of range, or missing */
} AppConfigError;

typedef struct AppConfig AppConfig;

/* Loads and validates @path. On failure returns NULL with one error whose message starts with
 * "FILE:LINE: " (or "FILE: " when no line applies) and names the group and key. */
AppConfig *app_config_load(const char *path, GError **error);

/* Same from text already in memory; @name stands for the file in messages. */
AppConfig *app_config_load_data(const char *name, const char *data, gsize len, GError **error);

void app_config_free(AppConfig *config); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AppConfig, app_config_free)

/* Values after validation, or the schema's default when the key is absent (NULL / 0 / FALSE
 * when it has none). Asking for a key the schema does not define is a programming error. */
const char *app_config_string(AppConfig *config, const char *group, const char *key);
gint64 app_config_int(AppConfig *config, const char *group, const char *key);
double app_config_double(AppConfig *config, const char *group, const char *key);
gboolean app_config_bool(AppConfig *config, const char *group, const char *key);
gboolean app_config_has_group(AppConfig *config, const char *group);

/* Where @group's @key (NULL: the group) is written, for errors found after loading:
 * "FILE:LINE: [group] key" (the group's line when the key is not written there; no line when
 * neither is). Newly allocated. */
char *app_config_where(AppConfig *config, const char *group, const char *key);
/* The same place without the names: "FILE:LINE" (or "FILE"). Newly allocated. */
char *app_config_at(AppConfig *config, const char *group, const char *key);

/* The groups named "@kind NAME" (e.g. kind "camera": "[camera gate-1]"), in file order.
 * Returns a NULL-terminated array of full group names; free with g_strfreev(). */
char **app_config_instances(AppConfig *config, const char *kind);

G_END_DECLS
