/* overlay.h: the AR side of the video wall.
 *
 *  - PsCameraModel: where a latitude/longitude (and height) lands in a camera's image, from a
 *    pinhole pose (position, height, heading, tilt, horizontal field of view) or from a ground
 *    homography fitted to >= 4 ground control points.
 *  - PsScene: what is to be drawn, as plain values the application fills (container detections
 *    per camera, container facts from declarations and rules, vessels from AIS, the operator's
 *    selection). Thread-safe: the daemon writes it, streaming threads read it.
 *  - PsRenderer: draws a scene on one camera's BGRx frames with cairo and pango.
 *  - PsTracker: associates the container reads of one camera across frames and emits one
 *    confirmed container per pass.
 *
 * Nothing here depends on ais/ or rules/: the application copies what it knows into the scene.
 * Library functions return gboolean and fill GError ** in the OVERLAY_ERROR domain.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OVERLAY_ERROR (overlay_error_quark())
GQuark overlay_error_quark(void);

typedef enum {
    OVERLAY_ERROR_INVALID, /* a bad argument: out of range, too few or degenerate points */
    OVERLAY_ERROR_RENDER,  /* cairo could not draw on the frame */
} OverlayError;

/* ---- camera model ---- */

typedef struct PsCameraModel PsCameraModel;

/* A pinhole camera on the ground plane. Angles in degrees: @heading clockwise from true north,
 * @tilt downwards from the horizon (0 looks at the horizon, 90 straight down), @hfov the
 * horizontal field of view. Pixels are square; the principal point is the image centre. */
typedef struct {
    double lat, lon;  /* WGS84 degrees */
    double height_m;  /* above the ground plane (sea level at a berth) */
    double heading_deg;
    double tilt_deg;
    double hfov_deg;  /* (0, 170) */
    int width, height; /* image size in pixels */
} PsPinholePose;

/* One ground control point: a place on the ground and the pixel it appears at. */
typedef struct {
    double lat, lon;
    double x, y;
} PsGroundPoint;

PsCameraModel *overlay_camera_new_pinhole(const PsPinholePose *pose, GError **error);

/* Fits the ground-plane-to-image homography to @n >= 4 points (least squares when n > 4).
 * Fails when fewer than 4 are given or when they are degenerate (all on one line, repeated). */
PsCameraModel *overlay_camera_new_homography(const PsGroundPoint *points, gsize n, int width,
                                             int height, GError **error);

void overlay_camera_free(PsCameraModel *model); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PsCameraModel, overlay_camera_free)

/* Projects a point @alt_m above the ground plane (homography models ignore @alt_m) into pixel
 * coordinates. Returns FALSE (leaving @x, @y unset) when the point is behind the camera or
 * closer than 1 m in front of it; a point in front but outside the frame returns TRUE with
 * coordinates outside 0..width / 0..height. */
gboolean overlay_camera_project(const PsCameraModel *model, double lat, double lon, double alt_m,
                                double *x, double *y);

/* The ground point (altitude 0) seen at pixel (@x, @y): the inverse of the projection on the
 * ground plane. Returns FALSE when that pixel looks above the horizon. */
gboolean overlay_camera_unproject(const PsCameraModel *model, double x, double y, double *lat,
                                  double *lon);

/* ---- camera configuration text ---- */

/* "lat,lon,height_m,heading,tilt,hfov" into @pose (its width and height are left alone). FALSE
 * with @error ("pose: '...' is not lat,lon,height_m,heading,tilt,hfov") otherwise. */
gboolean overlay_parse_pose(const char *text, PsPinholePose *pose, GError **error);

/* "lat,lon,x,y; lat,lon,x,y; ..." (at most 64 points) measured on a @size ("WIDTHxHEIGHT")
 * picture, scaled to a @width x @height one. Returns the points (free with g_free) and their
 * count in *@n, or NULL with @error naming the key (ground_points or ground_points_size) and
 * the bad text. */
PsGroundPoint *overlay_parse_ground_points(const char *text, const char *size, int width,
                                           int height, gsize *n, GError **error);

/* "x,y,w,h": fractions of the picture, the region inside it. FALSE with @error otherwise. */
gboolean overlay_parse_roi(const char *text, double roi[4], GError **error);

/* ---- scene ---- */

typedef enum {
    PS_STATUS_PENDING = 0, /* unknown or waiting: amber */
    PS_STATUS_RELEASED,    /* green */
    PS_STATUS_HELD,        /* held or inspect: red */
} PsContainerStatus;

/* What the declaration and the rules say about a container. Strings are copied. @status is the
 * rules' verdict (released, held, or pending), not the customs status alone; @reason says why
 * it is held ("seal tampered") or what a release still waits for ("radiation scan"). */
typedef struct {
    const char *code; /* ISO 6346, no spaces */
    const char *declaration;
    const char *origin;
    const char *destination;
    const char *goods;
    const char *consignee;
    const char *vessel;
    PsContainerStatus status;
    const char *reason; /* may be NULL */
    const char *size_type; /* ISO 6346 size/type declared for it (a gate event), or NULL */
} PsSceneContainer;

/* A vessel as AIS knows it. @track is @track_len (lat, lon) pairs, oldest first; copied (at
 * most PS_SCENE_TRACK_MAX points, the newest kept). */
#define PS_SCENE_TRACK_MAX 256
typedef struct {
    guint32 mmsi;
    const char *name;
    const char *type; /* "cargo", "tanker", ... */
    double lat, lon;
    double sog_kn, cog_deg;
    const double (*track)[2];
    gsize track_len;
} PsSceneVessel;

typedef struct PsScene PsScene;

/* @ttl_us: how long a detection stays on screen after it was last seen. */
PsScene *overlay_scene_new(gint64 ttl_us);
void overlay_scene_free(PsScene *scene); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PsScene, overlay_scene_free)

/* A container seen by @camera at @bbox (x, y, w, h in that camera's frame pixels) at time
 * @now_us of that camera's clock (its stream time, or the monotonic clock: one clock per
 * camera). Replaces the previous detection of @code on @camera; two detections of it between
 * 20 ms and 1.5 s apart give its velocity, and frames drawn after @now_us show the box carried
 * forward along it (for at most 1 s), so that a box keeps up with a container on a moving train
 * between reads. Pass the time of the frame that was read, not of the frame being drawn. */
void overlay_scene_put_detection(PsScene *scene, const char *camera, const char *code,
                                 const char *size_type, const double bbox[4], double confidence,
                                 gint64 now_us);
void overlay_scene_put_container(PsScene *scene, const PsSceneContainer *info);
/* Sets the verdict of container @code (its @status and @reason, NULL for none), keeping its
 * other facts; a container the scene does not know yet is added with the verdict only. */
void overlay_scene_set_verdict(PsScene *scene, const char *code, PsContainerStatus status,
                               const char *reason);
void overlay_scene_put_vessel(PsScene *scene, const PsSceneVessel *vessel);
void overlay_scene_remove_vessel(PsScene *scene, guint32 mmsi);

/* Selects a container (@code non-NULL) or a vessel (@mmsi non-zero); both NULL/0 clears it.
 * The selection is highlighted wherever it appears and gets a detail panel on the frames of
 * the cameras that show it. */
void overlay_scene_select(PsScene *scene, const char *code, guint32 mmsi);

/* Where vessel @mmsi is; FALSE when the scene does not know it. */
gboolean overlay_scene_vessel_position(PsScene *scene, guint32 mmsi, double *lat, double *lon);

/* The latest detection of @code (on @camera, or on any camera when NULL): the camera's name
 * (newly allocated, in *@camera_out when non-NULL) and the box. FALSE when there is none. */
gboolean overlay_scene_find_detection(PsScene *scene, const char *code, const char *camera,
                                      char **camera_out, double bbox[4]);

/* The container whose box (carried forward along its velocity to the camera's latest read)
 * holds pixel (@x, @y) of @camera's frame, or lies within @margin pixels of it (the nearest
 * wins); newly allocated, or NULL when there is none. */
char *overlay_scene_pick(PsScene *scene, const char *camera, double x, double y, double margin);

/* The live boxes of @camera (carried forward like overlay_scene_pick()'s), appended to @out
 * (element-type PsSceneBox). */
typedef struct {
    char code[16];
    double bbox[4]; /* x, y, w, h in the camera's frame pixels */
} PsSceneBox;
void overlay_scene_list(PsScene *scene, const char *camera, GArray *out);

/* How many detections (on @camera, or on all cameras when NULL) are live at @now_us. */
guint overlay_scene_count_detections(PsScene *scene, const char *camera, gint64 now_us);

/* The ISO 6346 size/type code of container @code into @out: the declared one (PsSceneContainer's
 * @size_type) when set, else the latest read's that has one. FALSE (@out "") when neither. */
gboolean overlay_scene_size_type(PsScene *scene, const char *code, char out[5]);

/* Where the vessels are on @camera's frame: each vessel the camera's model (set with
 * overlay_scene_set_camera_model()) projects onto its @width x @height frame, as a square box
 * of PS_SCENE_VESSEL_BOX pixels around the dot the renderer draws at its position, appended
 * to @out (element-type PsSceneVesselBox). Nothing without a model. */
#define PS_SCENE_VESSEL_BOX 24.0
typedef struct {
    guint32 mmsi;
    char name[64];
    double bbox[4]; /* x, y, w, h in the camera's frame pixels */
} PsSceneVesselBox;
void overlay_scene_list_vessels(PsScene *scene, const char *camera, int width, int height,
                                GArray *out);

/* The vessel whose box (overlay_scene_list_vessels()) holds pixel (@x, @y) of @camera's frame,
 * or lies within @margin pixels of it (the nearest wins); 0 when there is none. */
guint32 overlay_scene_pick_vessel(PsScene *scene, const char *camera, int width, int height,
                                  double x, double y, double margin);

/* A copy of what the scene knows of vessel @mmsi (strings and track newly allocated: free with
 * overlay_vessel_clear()). FALSE (@out zeroed) when it does not know it. */
gboolean overlay_scene_get_vessel(PsScene *scene, guint32 mmsi, PsSceneVessel *out);
void overlay_vessel_clear(PsSceneVessel *vessel);

/* Registers the model of @camera (borrowed: it must outlive the scene or be unset with NULL),
 * so that overlay_scene_locate() can place what that camera sees on the ground. */
void overlay_scene_set_camera_model(PsScene *scene, const char *camera,
                                    const PsCameraModel *model);

/* Where the selection target is on the ground: container @code at the bottom centre of its
 * latest box (on @camera, or on any camera when NULL), unprojected through the model of the
 * camera that saw it; or vessel @mmsi at its AIS position. *@seen_by (may be NULL) gets the
 * camera that saw the container (newly allocated; NULL for a vessel). FALSE with @error (the
 * message says why, e.g. "container X is not in view of any camera") when it cannot be placed. */
gboolean overlay_scene_locate(PsScene *scene, const char *code, guint32 mmsi, const char *camera,
                              double *lat, double *lon, char **seen_by, GError **error);

/* Looks up a container's facts; returns FALSE when the scene has none. Strings in @out are
 * newly allocated (free with overlay_container_info_clear()). */
gboolean overlay_scene_get_container(PsScene *scene, const char *code, PsSceneContainer *out);
void overlay_container_info_clear(PsSceneContainer *info);

/* ---- renderer ---- */

typedef struct PsRenderer PsRenderer;

/* @font: a Pango font family list, NULL for "WenQuanYi Micro Hei, DejaVu Sans" (CJK capable). */
PsRenderer *overlay_renderer_new(const char *font);
void overlay_renderer_free(PsRenderer *renderer); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PsRenderer, overlay_renderer_free)

/* Draws what @scene holds for @camera on a BGRx (little-endian xRGB32) frame in place: a box and
 * label per live container detection, each vessel @model can see (name, type, speed, track),
 * the selection's highlight and detail panel, and @title (may be NULL) in the top-left corner.
 * @model may be NULL (no vessels are drawn then). Not thread-safe: one renderer per stream. */
gboolean overlay_render(PsRenderer *renderer, PsScene *scene, const char *camera,
                        const PsCameraModel *model, const char *title, guint8 *pixels, int width,
                        int height, int stride, gint64 now_us, GError **error);

/* Fills a BGRx frame with the "NO SIGNAL" picture of a camera that is down: a dark grey field,
 * "NO SIGNAL" in large letters across the middle, @title (may be NULL) above it and @reason
 * (may be NULL: "no frame for 3.0 s", an error) below. FALSE with @error on a bad frame. */
gboolean overlay_render_no_signal(PsRenderer *renderer, const char *title, const char *reason,
                                  guint8 *pixels, int width, int height, int stride,
                                  GError **error);

/* Statistics of the last overlay_render() call, for tests and benchmarks. */
typedef struct {
    guint containers;     /* container boxes drawn */
    guint vessels;        /* vessels drawn (at least partly on screen) */
    guint unknown_glyphs; /* characters no font could draw (should stay 0, also for CJK) */
    gboolean panel;       /* a detail panel was drawn */
} PsRenderStats;
void overlay_renderer_stats(const PsRenderer *renderer, PsRenderStats *stats);

G_END_DECLS
