/* config-schema.h: the configuration's schema (every group and key, its type, default and
 * range), shared by app/config*.c only. */
#pragma once

#include <glib.h>

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

extern const CfgKey app_config__schema[];
extern const gsize app_config__n_schema;

/* Whether @group ("camera gate-1") is an instance of @pattern ("camera *") or equal to it. */
gboolean app_config__group_matches(const char *pattern, const char *group);
/* The schema's key @key of @group (any key of it when @key is NULL), or NULL. */
const CfgKey *app_config__find_key(const char *group, const char *key);
/* The known groups / the known keys of @group, for error messages. Newly allocated. */
char *app_config__known_groups(void);
char *app_config__known_keys(const char *group);
/* Why @value is not a valid value of @k in @group ("[group] key: ..."), or NULL when it is.
 * Newly allocated. */
char *app_config__check_value(const CfgKey *k, const char *group, const char *value);
/* Why the [engine] role cannot run with the rest of the file ("[engine] role = cameras needs
 * ..."), or NULL; *@group and *@key (key may be NULL) say where to point. Newly allocated. */
char *app_config__check_role(GKeyFile *kf, const char **group, const char **key);
