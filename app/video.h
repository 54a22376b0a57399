/* video.h: the video side of the engine, wired from the configuration: [camera NAME] groups
 * become camera pipelines (ingest/camera) running containerocr and portoverlay (gst/), their
 * annotated frames go to the wall (overlay/wall), confirmed containers and camera health come
 * out as events, and selections highlight and aim PTZ cameras. Shared inside app/. */
#pragma once

#include <glib.h>
#include <gst/gst.h>

#include "config.h"
#include "overlay.h"
#include "ptz.h"
#include "rules.h"
#include "wall.h"

G_BEGIN_DECLS

typedef struct AppVideo AppVideo;

/* An event for the journal / outbox: topic ("port/ocr/gate-1", "port/status/camera-gate-1"),
 * id and a JSON payload. Called in the main context. */
typedef void (*AppVideoEventFunc)(const char *topic, const char *id, const char *payload,
                                  gpointer user_data);

/* Builds cameras and wall from @config (which must outlive the video). Returns NULL with
 * @error naming the group and key at fault. A config without [camera ...] groups gives a video
 * with nothing to do. */
AppVideo *app_video_new(AppConfig *config, AppVideoEventFunc events, gpointer user_data,
                        GError **error);
gboolean app_video_start(AppVideo *video, GError **error);
/* Stops cameras and wall (the wall's MP4 is finished). */
void app_video_stop(AppVideo *video);
void app_video_free(AppVideo *video); /* accepts NULL */

PsScene *app_video_scene(AppVideo *video); /* borrowed */
guint app_video_cameras(AppVideo *video);
guint64 app_video_wall_frames(AppVideo *video);
/* Where @camera's model (pose or ground_points) puts a ground point, in the pixels its overlay
 * draws on (its wall tile). FALSE without a model or when the point is not in front of it. */
gboolean app_video_camera_project(AppVideo *video, const char *camera, double lat, double lon,
                                  double *x, double *y);
/* The wall's pipeline (borrowed; NULL without a [wall]), for tests. */
GstElement *app_video_wall_pipeline(AppVideo *video);

/* port/cmd/select: highlights @container (or vessel @mmsi; neither: clears the selection) and,
 * when a camera with a PTZ is configured (@camera, or any), aims it at the target. Says what it
 * did on ROOT/status/selection (an event: selected, the camera that sees it, the PTZs aimed or
 * why none). Returns FALSE with @error when a PTZ exists but the target cannot be placed or the
 * PTZ refused; without any PTZ that is no error. The highlight is set in any case. */
gboolean app_video_select(AppVideo *video, const char *camera, const char *container,
                          guint32 mmsi, GError **error);

/* A click at pixel (@x, @y) of @camera's picture: highlights the container under it (its code
 * in *@container, NULL when none) or else the vessel under it (its MMSI in *@mmsi, 0 when
 * none) and aims the PTZ nearest to the ground point there (the vessel's position for a
 * vessel), zoomed for the container's size/type (where, as JSON text in *@aim_json). FALSE
 * with @error when no PTZ could be aimed. */
gboolean app_video_select_at(AppVideo *video, const char *camera, double x, double y,
                             char **container, guint32 *mmsi, char **aim_json, GError **error);
/* The wall (borrowed; NULL without [wall]). */
PsWall *app_video_wall(AppVideo *video);
/* Camera health for the console: {"NAME": {"title", "state", "fps", "frames", "ptz",
 * "degraded"}} (newly allocated). */
char *app_video_cameras_json(AppVideo *video);

/* Applies one journaled input: customs status (container facts for the overlay: declaration,
 * origin, goods...; the colour stays the verdict's), a gate event's size_type (what the PTZ
 * zooms for) and port/cmd/select. Other topics are ignored. Returns FALSE only for a payload it cannot read. */
gboolean app_video_apply(AppVideo *video, const char *topic, const char *payload, gsize len,
                         GError **error);

/* While TRUE, journal rows given to app_video_apply() are history from before the start: their
 * selections are not redone (no re-highlight, no PTZ move, no warnings). */
void app_video_set_replaying(AppVideo *video, gboolean replaying);

/* Draws the rules' verdict on @container: released green, held red with the reasons, pending
 * amber with what the release waits for. */
void app_video_show_verdict(PsScene *scene, const char *container, const RulesVerdict *verdict);

/* The PTZ cameras (borrowed), for their presets. */
PtzSet *app_video_ptz(AppVideo *v);
/* A wall node: shows the annotated stream @uri (rtsp://) of another node's camera @camera on
 * its tile (one of [wall] cameras) without OCR. TRUE without doing anything when @camera is
 * already shown or has no tile here; FALSE with @error when the stream cannot be used. */
gboolean app_video_add_stream(AppVideo *video, const char *camera, const char *uri,
                              GError **error);
/* Shows NO SIGNAL on @camera's tile with @reason until its next frame (unknown: ignored). */
void app_video_no_signal(AppVideo *video, const char *camera, const char *reason);

/* Sends @camera's PTZ to its preset @preset (see ptz_set_goto_preset). */
gboolean app_video_ptz_preset(AppVideo *v, const char *camera, const char *preset,
                              double out[3], GError **error);

G_END_DECLS
