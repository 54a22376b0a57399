/* ptz.h: aiming a PTZ camera with ONVIF (PTZ service AbsoluteMove, SOAP 1.2 over HTTP with a
 * WS-Security UsernameToken digest), through libcurl. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PTZ_ERROR (ptz_error_quark())
GQuark ptz_error_quark(void);

typedef enum {
    PTZ_ERROR_INVALID, /* a bad argument */
    PTZ_ERROR_HTTP,    /* transport failure or a non-2xx answer */
    PTZ_ERROR_FAULT,   /* the device answered with a SOAP fault */
} PtzError;

typedef struct {
    const char *url;      /* the device's PTZ service: http://HOST/onvif/ptz_service */
    const char *profile;  /* media profile token */
    const char *username; /* optional */
    const char *password; /* optional */
    double timeout_s;     /* 0: 5 s */
} PtzDevice;

/* Where the PTZ stands and how its generic ONVIF space maps to angles. */
typedef struct {
    double lat, lon, height_m;
    double heading_deg;   /* the bearing at pan x = 0 */
    double pan_range_deg; /* x = +1 is this many degrees clockwise of the heading (e.g. 180) */
    double tilt_range_deg; /* y = -1 is this many degrees below the horizon (e.g. 90) */
    double zoom_distance_m; /* zoom 1 at and beyond this distance (0: no zoom) */
    /* The horizontal field of view at the widest (zoom 0) and the narrowest (zoom 1) setting,
     * degrees; when both are set (wide > tele > 0) they decide the zoom instead of
     * @zoom_distance_m. */
    double hfov_wide_deg, hfov_tele_deg;
} PtzMount;

#define PTZ_BOX_40FT_M 12.19
#define PTZ_BOX_20FT_M 6.06
#define PTZ_BOX_45FT_M 13.72

/* Pan/tilt/zoom in the ONVIF generic spaces (x, y in -1..1, zoom 0..1) that aim @mount at a
 * ground point, zoomed for a 40 ft box there. Pure. */
void ptz_aim(const PtzMount *mount, double lat, double lon, double *pan, double *tilt,
             double *zoom);

/* The same for a box @length_m long: with the mount's fields of view, the zoom makes the box
 * one third of the horizontal view at the slant distance (clamped to the lens's range), the
 * magnification tan(wide/2) / tan(hfov/2) mapped linearly onto ONVIF's 0..1 (0 = widest,
 * 1 = the lens's maximum). Pure. */
void ptz_aim_box(const PtzMount *mount, double lat, double lon, double length_m, double *pan,
                 double *tilt, double *zoom);

/* The zoom (0..1) that makes a box @length_m long at @slant_m one third of the horizontal view
 * of a lens from @hfov_wide_deg to @hfov_tele_deg; 0 when the lens is not described. */
double ptz_zoom_for_box(double hfov_wide_deg, double hfov_tele_deg, double slant_m,
                        double length_m);

/* The SOAP envelope of AbsoluteMove (with the UsernameToken when @dev has a username; @nonce
 * and @created, for tests, may be NULL for fresh ones). Newly allocated. */
char *ptz_absolute_move_body(const PtzDevice *dev, double pan, double tilt, double zoom,
                             const char *nonce, const char *created);

/* Sends AbsoluteMove and waits for the answer. */
gboolean ptz_absolute_move(const PtzDevice *dev, double pan, double tilt, double zoom,
                           GError **error);

/* ---- the engine's PTZ cameras ---- */

/* The PTZ cameras of one engine and the worker threads that send their moves (a move waits for
 * the device's answer, so it never runs on the caller's thread). Used from one thread; the
 * console and the MQTT selection both aim through it. */
typedef struct PtzSet PtzSet;

PtzSet *ptz_set_new(void);
void ptz_set_free(PtzSet *set); /* accepts NULL; waits for the moves already queued */

/* Adds the PTZ of @camera (strings copied). */
void ptz_set_add(PtzSet *set, const char *camera, const PtzDevice *device,
                 const PtzMount *mount);

/* How many PTZ cameras there are. */
guint ptz_set_count(const PtzSet *set);

/* Aims every PTZ (or only @camera's, when not NULL) at the ground point @lat, @lon, zoomed
 * for a box @length_m long there (ptz_aim_box(); 0: a 40 ft box): the AbsoluteMove is sent on
 * a worker thread, and its outcome logged (info when moved, warning when the device failed).
 * Returns the number of PTZs aimed; 0 with @error when @camera is given and has no PTZ.
 * *@aimed (may be NULL) gets the names aimed, comma-separated (newly allocated, "" when
 * none). */
guint ptz_set_aim(PtzSet *set, const char *camera, double lat, double lon, double length_m,
                  char **aimed, GError **error);

/* The PTZ camera standing nearest to the ground point @lat, @lon (borrowed name), or NULL
 * when there is none; @out (may be NULL) gets the pan, tilt and zoom that aim it there at a
 * box @length_m long (0: 40 ft). */
const char *ptz_set_nearest(PtzSet *set, double lat, double lon, double length_m,
                            double out[3]);


/* Sets @camera's presets from "name:pan,tilt,zoom; ..." (the `presets` key of the camera's
 * group: names of 1-32 [A-Za-z0-9._-], pan and tilt in -1..1, zoom in 0..1 in ONVIF's generic
 * spaces, at most 64). On a bad text nothing changes and @error says which entry and why,
 * starting with "presets: ". 0 with @error when @camera has no PTZ. */
gboolean ptz_set_presets(PtzSet *set, const char *camera, const char *text, GError **error);

/* One preset: its name and pan, tilt, zoom in ONVIF's generic spaces. */
typedef struct {
    char name[33];
    double pos[3];
} PtzPreset;

/* Appends @camera's presets to @out (element-type PtzPreset), in the configured order. FALSE
 * when @camera has no PTZ. */
gboolean ptz_set_list_presets(PtzSet *set, const char *camera, GArray *out);

/* Sends @camera's PTZ to its preset @preset (AbsoluteMove on a worker thread, as
 * ptz_set_aim); @out (may be NULL) gets its pan, tilt and zoom. FALSE with PTZ_ERROR_INVALID
 * when there is no such camera or preset. */
gboolean ptz_set_goto_preset(PtzSet *set, const char *camera, const char *preset, double out[3],
                             GError **error);

G_END_DECLS
