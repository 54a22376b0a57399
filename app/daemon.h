/* daemon.h: what `portsight run` hands to each component it starts. Shared inside app/. */
#pragma once

#include <glib.h>

#include "config.h"
#include "store.h"

G_BEGIN_DECLS

typedef struct {
    AppConfig *config;
    PsStore *store;
    GMainLoop *loop;
} AppDaemon;

/* A component of the daemon. start() is called in table order once the store is open and
 * returns FALSE with @error to abort startup; stop() in reverse order, only for components
 * whose start() succeeded, before the store is closed. @state is the component's own. */
typedef struct {
    const char *name;
    gboolean (*start)(AppDaemon *daemon, gpointer *state, GError **error);
    void (*stop)(AppDaemon *daemon, gpointer state);
} AppComponent;

G_END_DECLS
