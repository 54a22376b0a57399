/* datadir.c: where the portsight command finds its shipped data (the port list, the demo
 * scenario). Never in the source tree: the binary knows only its install layout. */
#include "app.h"
#include "ps-config.h"

/* The data folder of the binary's own install: PS_DATADIR_FROM_BINDIR is DATADIR/portsight
 * relative to BINDIR ("../share/portsight"), so an installed tree copied or unpacked elsewhere
 * (DESTDIR) finds its own data; in the build tree, build/share/portsight is made for the binary
 * in build/app. Empty when BINDIR or DATADIR is outside the prefix. */
static char *relocated_datadir(void)
{
    if (!*PS_DATADIR_FROM_BINDIR)
        return NULL;
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (!exe)
        return NULL;
    g_autofree char *bindir = g_path_get_dirname(exe);
    return g_canonicalize_filename(PS_DATADIR_FROM_BINDIR, bindir);
}

char *app_datadir_find(const char *relpath, GFileTest test)
{
    g_autofree char *relocated = relocated_datadir();
    const char *candidates[] = {g_getenv("PORTSIGHT_DATADIR"), relocated, PS_DATADIR};
    for (guint i = 0; i < G_N_ELEMENTS(candidates); i++) {
        if (!candidates[i] || !*candidates[i])
            continue;
        char *path = g_build_filename(candidates[i], relpath, NULL);
        if (g_file_test(path, test))
            return path;
        g_free(path);
    }
    return NULL;
}
