/* daemon.h: what `portsight run` hands to each component it starts. Shared inside app/. */
#pragma once

#include <glib.h>

#include "config.h"
#include "rules.h"
#include "store.h"
#include "vessels.h"

G_BEGIN_DECLS

typedef struct {
    AppConfig *config;
    PsStore *store;
    GMainLoop *loop;
    /* The engine's rules: every component that journals an input does it through them
     * (rules_ingest_from), so decisions follow each input at once. `run` creates them before
     * the components and frees them after; a component that must rebuild them (after a
     * rolled-back batch) replaces the pointer, so read it at each use, never keep a copy. */
    PsRules *rules;
    /* The AIS vessel registry while the AIS component runs, else NULL (borrowed). */
    PsVessels *vessels;
    /* The video (AppVideo*) while the video component runs, else NULL (borrowed). */
    gpointer video;
    /* The nodes heard on the broker (NodeDirectory*, node.h): `run` creates it. */
    gpointer nodes;
} AppDaemon;

/* A component of the daemon. start() is called in table order once the store is open and
 * returns FALSE with @error to abort startup; stop() in reverse order, only for components
 * whose start() succeeded, before the store is closed. @state is the component's own. */
typedef struct {
    const char *name;
    int part; /* the NodePart (node.h): the component runs when the [engine] role runs it */
    gboolean (*start)(AppDaemon *daemon, gpointer *state, GError **error);
    void (*stop)(AppDaemon *daemon, gpointer state);
} AppComponent;

G_END_DECLS
