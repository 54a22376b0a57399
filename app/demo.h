/* demo.h: `portsight demo` runs a list of steps over the shipped scenario (data/scenario/).
 * Each module adds one step, in its own app/demo_*.c file. Shared inside app/. */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

typedef struct {
    const char *out_dir;      /* where outputs go; exists */
    const char *scenario_dir; /* the shipped scenario (read-only) */
    PsStore *store;           /* the demo's store, in out_dir */
    GPtrArray *outputs;       /* (element-type char*) "what: path" lines printed at the end */
} AppDemo;

/* A step prints what it does on stdout, adds its output files to @demo->outputs, and returns
 * FALSE with @error when it cannot do its part. */
typedef gboolean (*AppDemoStep)(AppDemo *demo, GError **error);

/* Finds the shipped scenario folder: next to the source tree or installed. */
char *app_demo_scenario_dir(void);

/* The steps (app/demo_<module>.c). */
gboolean app_demo_rules(AppDemo *demo, GError **error);
gboolean app_demo_ais(AppDemo *demo, GError **error);
gboolean app_demo_ocr(AppDemo *demo, GError **error);
gboolean app_demo_video(AppDemo *demo, GError **error);

G_END_DECLS
