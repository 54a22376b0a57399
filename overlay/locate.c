/* locate.c: camera configuration text (pose, ground points, OCR region) and placing a
 * selection on the ground. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "overlay.h"

gboolean overlay_parse_pose(const char *text, PsPinholePose *pose, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text ? text : "", ",", -1);
    double vals[6];
    guint n = g_strv_length(parts);
    for (guint i = 0; i < n && i < 6; i++) {
        char *end = NULL;
        vals[i] = g_ascii_strtod(g_strstrip(parts[i]), &end);
        if (end == parts[i] || *end || !isfinite(vals[i]))
            n = 0;
    }
    if (n != 6) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                    "pose: '%s' is not lat,lon,height_m,heading,tilt,hfov", text ? text : "");
        return FALSE;
    }
    pose->lat = vals[0];
    pose->lon = vals[1];
    pose->height_m = vals[2];
    pose->heading_deg = vals[3];
    pose->tilt_deg = vals[4];
    pose->hfov_deg = vals[5];
    return TRUE;
}

PsGroundPoint *overlay_parse_ground_points(const char *text, const char *size, int width,
                                           int height, gsize *n, GError **error)
{
    int sw = 0, sh = 0;
    char tail = 0;
    if (!size || sscanf(size, "%dx%d%c", &sw, &sh, &tail) != 2 || sw < 1 || sh < 1 ||
        sw > 16384 || sh > 16384) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                    "ground_points_size: '%s' is not WIDTHxHEIGHT", size ? size : "");
        return NULL;
    }
    g_auto(GStrv) items = g_strsplit(text ? text : "", ";", -1);
    GArray *pts = g_array_new(FALSE, FALSE, sizeof(PsGroundPoint));
    for (guint i = 0; items[i]; i++) {
        if (!*g_strstrip(items[i]))
            continue;
        g_auto(GStrv) parts = g_strsplit(items[i], ",", -1);
        double v[4];
        gboolean ok = g_strv_length(parts) == 4;
        for (int k = 0; ok && k < 4; k++) {
            char *end = NULL;
            v[k] = g_ascii_strtod(g_strstrip(parts[k]), &end);
            ok = end != parts[k] && !*end && isfinite(v[k]);
        }
        ok = ok && fabs(v[0]) <= 90 && fabs(v[1]) <= 180;
        if (!ok || pts->len >= 64) {
            g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                        "ground_points: '%s' is not lat,lon,x,y (at most 64 points, "
                        "separated by ';')",
                        items[i]);
            g_array_unref(pts);
            return NULL;
        }
        PsGroundPoint p = {v[0], v[1], v[2] * width / sw, v[3] * height / sh};
        g_array_append_val(pts, p);
    }
    *n = pts->len;
    return (PsGroundPoint *)g_array_free(pts, FALSE);
}

gboolean overlay_parse_roi(const char *text, double v[4], GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text ? text : "", ",", -1);
    gboolean ok = g_strv_length(parts) == 4;
    for (int i = 0; ok && i < 4; i++) {
        char *end = NULL;
        v[i] = g_ascii_strtod(g_strstrip(parts[i]), &end);
        ok = end != parts[i] && !*end && v[i] >= 0 && v[i] <= 1;
    }
    ok = ok && v[2] > 0 && v[3] > 0 && v[0] + v[2] <= 1 + 1e-9 && v[1] + v[3] <= 1 + 1e-9;
    if (!ok)
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                    "ocr_roi: '%s' is not x,y,w,h (fractions of the picture, inside it)",
                    text ? text : "");
    return ok;
}
