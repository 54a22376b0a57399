/* daemon-ais.h: the AIS chain (feed -> decoder -> vessel registry -> store), shared by the
 * daemon component (app/daemon_ais.c) and the demo step (app/demo_ais.c). Inside app/ only. */
#pragma once

#include "aisfeed.h"
#include "daemon.h"
#include "vessels.h"

G_BEGIN_DECLS

typedef struct AppAis AppAis;

typedef struct {
    guint64 lines;    /* lines from the feed */
    guint64 messages; /* AIS messages decoded */
    guint64 rejected; /* sentences the decoder rejected */
    gint64 clock;     /* the latest message time seen (Unix seconds), 0 before the first */
} AppAisStats;

/* The shipped port list (data/ports/ports.csv next to the sources or installed), or NULL. */
char *app_ais_ports_path(void);

/* Loads the port list (@ports_path NULL: the shipped one) and makes the decoder and registry.
 * @store is borrowed. */
AppAis *app_ais_new(const PsVesselsConfig *config, const char *ports_path, PsStore *store,
                    GError **error);

/* Starts the feed at @url on the thread-default main context. @done (may be NULL) is called at
 * the end of a file feed. */
gboolean app_ais_start_feed(AppAis *ais, const char *url, const PsAisFeedOptions *options,
                            PsAisDoneFunc done, gpointer user_data, GError **error);

/* Hands one NMEA line to the chain (what the feed does for each line). */
void app_ais_line(const char *line, gsize len, gpointer ais);

PsVessels *app_ais_vessels(AppAis *ais);
void app_ais_get_stats(AppAis *ais, AppAisStats *stats);

/* Stops the feed, writes what is buffered and frees. Accepts NULL. */
void app_ais_free(AppAis *ais);

/* The daemon component: does nothing without an [ais] group. */
gboolean app_ais_start(AppDaemon *daemon, gpointer *state, GError **error);
void app_ais_stop(AppDaemon *daemon, gpointer state);

G_END_DECLS
