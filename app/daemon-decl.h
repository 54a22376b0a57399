/* daemon-decl.h: the declarations component of `portsight run` (a row of cmd_run.c's table). */
#pragma once

#include "daemon.h"

G_BEGIN_DECLS

/* [declarations]: pulls the customs service's declarations (nothing without the group). */
gboolean app_decl_start(AppDaemon *daemon, gpointer *state, GError **error);
void app_decl_stop(AppDaemon *daemon, gpointer state);

G_END_DECLS
