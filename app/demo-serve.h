/* demo-serve.h: the video demo's configuration and scene, shared by demo_video.c and
 * demo_serve.c (`portsight demo --serve`). Shared inside app/. */
#pragma once

#include "config.h"
#include "demo.h"
#include "overlay.h"

G_BEGIN_DECLS

/* The video demo's configuration from scene.ini (@kf, in folder @dir): its clips as cameras
 * and a 2x2 wall, @wall_extra appended to [wall] and then the whole text (further groups);
 * the wall's camera order is appended to @order. */
AppConfig *app_demo_video_config(const char *dir, GKeyFile *kf, const char *wall_extra,
                                 GString *order, GError **error);
/* scene.ini's containers and vessels into the overlay's scene. */
gboolean app_demo_fill_scene(GKeyFile *kf, PsScene *scene, GError **error);

/* `portsight demo --serve`: the scenario looping behind the console until a signal. */
int app_demo_serve(AppDemo *demo, const char *listen, const char *users, const char *ptz_url);

G_END_DECLS
