/* rules-cli.h: what `portsight explain`, `portsight db import` and the rules demo step share.
 * Private to app/. */
#pragma once

#include <glib.h>

#include "config.h"
#include "rules.h"
#include "store.h"

G_BEGIN_DECLS

/* Opens the store named by --db FILE, else by [store] path of -c FILE, else ./portsight.db.
 * With @must_exist, a missing file is an error (rather than a new empty store). Prints one
 * error line and returns NULL on failure. */
PsStore *app_rules_open_store(const char *cmd, const char *db, const char *config,
                              gboolean must_exist, char **path_out);

/* The topic root of -c FILE ([mqtt] topic_root), or "port". Newly allocated. */
char *app_rules_topic_root(const char *config);

/* The release policy of -c FILE ([rules]), or the defaults without one. */
void app_rules_policy(const char *config, PsRulesPolicy *policy);

/* The release policy of a loaded configuration. */
void app_rules_policy_of(AppConfig *config, PsRulesPolicy *policy);

/* [rules] retain_days, max_live, snapshot_every and [store] journal_keep_days of a loaded
 * configuration (the defaults without one). */
void app_rules_retention_of(AppConfig *config, PsRulesRetention *retention);

G_END_DECLS
