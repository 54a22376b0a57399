/* daemon-console.h: the console component of `portsight run` (a row of cmd_run.c's table) and
 * of `portsight demo --serve`. */
#pragma once

#include "console.h"
#include "daemon.h"

G_BEGIN_DECLS

/* Starts the console when the configuration has an [http] group. */
gboolean app_console_start(AppDaemon *daemon, gpointer *state, GError **error);
void app_console_stop(AppDaemon *daemon, gpointer state);

/* The console for @daemon with @listen/@users overriding [http] (NULL: from the file). */
PsConsole *app_console_new(AppDaemon *daemon, const char *listen, const char *users,
                           GError **error);

/* Draws on the wall the rules' verdict on the containers an input (just journaled) names. */
void app_console_show_verdicts(AppDaemon *daemon, const char *topic, const char *payload);

G_END_DECLS
