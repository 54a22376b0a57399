/* daemon-video.h: the video component of `portsight run` (a row of cmd_run.c's table). */
#pragma once

#include "daemon.h"

G_BEGIN_DECLS

/* Cameras, OCR, overlay and wall from the [camera NAME] and [wall] groups. Confirmed containers
 * are journaled (source "ocr", topic port/ocr/CAMERA: the engine's own reads, as rules.h has
 * them) and queued in the outbox, with camera health (port/status/camera-NAME); declarations
 * and port/cmd/select are followed in the journal. Does nothing without [camera ...] groups. */
gboolean app_video_start_component(AppDaemon *daemon, gpointer *state, GError **error);
void app_video_stop_component(AppDaemon *daemon, gpointer state);

G_END_DECLS
