/* rules_cli.c: the store and topic root of `portsight explain` and `portsight db import`. */
#include "rules-cli.h"

#include "app.h"
#include "config.h"

PsStore *app_rules_open_store(const char *cmd, const char *db, const char *config,
                              gboolean must_exist, char **path_out)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    if (db) {
        path = g_strdup(db);
    } else if (config) {
        g_autoptr(AppConfig) cfg = app_config_load(config, &error);
        if (!cfg) {
            app_error(NULL, "%s", error->message);
            return NULL;
        }
        const char *p = app_config_string(cfg, "store", "path");
        if (!p) {
            app_error(config, "%s: no [store] path in the configuration", cmd);
            return NULL;
        }
        path = g_strdup(p);
    } else {
        path = g_strdup("portsight.db");
    }
    if (must_exist && !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        app_error(path, "no such store (use --db FILE or -c FILE)");
        return NULL;
    }
    PsStore *store = store_open(path, &error);
    if (!store) {
        app_error(NULL, "%s", error->message);
        return NULL;
    }
    if (path_out)
        *path_out = g_steal_pointer(&path);
    return store;
}

char *app_rules_topic_root(const char *config)
{
    if (!config)
        return g_strdup("port");
    g_autoptr(AppConfig) cfg = app_config_load(config, NULL);
    const char *root = cfg && app_config_has_group(cfg, "mqtt")
                           ? app_config_string(cfg, "mqtt", "topic_root")
                           : NULL;
    return g_strdup(root ? root : "port");
}

void app_rules_policy_of(AppConfig *config, PsRulesPolicy *policy)
{
    rules_policy_init(policy);
    if (!config)
        return;
    policy->require_radiation_clear = app_config_bool(config, "rules", "require_radiation_clear");
    policy->require_seal = app_config_bool(config, "rules", "require_seal");
}

void app_rules_policy(const char *config, PsRulesPolicy *policy)
{
    g_autoptr(AppConfig) cfg = config ? app_config_load(config, NULL) : NULL;
    app_rules_policy_of(cfg, policy);
}

void app_rules_retention_of(AppConfig *config, PsRulesRetention *retention)
{
    rules_retention_init(retention);
    if (!config)
        return;
    retention->retain_days = (guint)app_config_int(config, "rules", "retain_days");
    retention->max_live = (guint)app_config_int(config, "rules", "max_live");
    retention->snapshot_every = (guint)app_config_int(config, "rules", "snapshot_every");
    retention->journal_keep_days = (guint)app_config_int(config, "store", "journal_keep_days");
}
