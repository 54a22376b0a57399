/* camera.c: geographic coordinates to image pixels, by a pinhole pose or a ground homography. */
#include <math.h>
#include <string.h>

#include "overlay.h"

G_DEFINE_QUARK(overlay-error-quark, overlay_error)

typedef enum { MODEL_PINHOLE, MODEL_HOMOGRAPHY } ModelKind;

struct PsCameraModel {
    ModelKind kind;
    int width, height;
    double lat0, lon0; /* origin of the local east/north frame */
    /* pinhole */
    double height_m, focal;
    double right[3], down[3], fwd[3];
    /* homography: ground (east, north) metres -> pixels, w > 0 on the visible side */
    double h[9];
};

#define DEG (G_PI / 180.0)

/* WGS84 local radii: metres per radian of latitude (meridional) and of longitude. */
static void local_scale(double lat, double *m_per_rad_lat, double *m_per_rad_lon)
{
    const double a = 6378137.0, e2 = 6.69437999014e-3;
    double s = sin(lat * DEG);
    double w = sqrt(1.0 - e2 * s * s);
    *m_per_rad_lat = a * (1.0 - e2) / (w * w * w);
    *m_per_rad_lon = a / w * cos(lat * DEG);
}

static void to_local(const PsCameraModel *m, double lat, double lon, double *east, double *north)
{
    double mlat, mlon;
    local_scale(m->lat0, &mlat, &mlon);
    double dlon = lon - m->lon0;
    if (dlon > 180.0)
        dlon -= 360.0;
    else if (dlon < -180.0)
        dlon += 360.0;
    *east = dlon * DEG * mlon;
    *north = (lat - m->lat0) * DEG * mlat;
}

static void from_local(const PsCameraModel *m, double east, double north, double *lat,
                       double *lon)
{
    double mlat, mlon;
    local_scale(m->lat0, &mlat, &mlon);
    *lat = m->lat0 + north / mlat / DEG;
    *lon = m->lon0 + east / mlon / DEG;
    if (*lon > 180.0)
        *lon -= 360.0;
    else if (*lon < -180.0)
        *lon += 360.0;
}

static gboolean valid_latlon(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && fabs(lat) <= 89.0 && fabs(lon) <= 180.0;
}

PsCameraModel *overlay_camera_new_pinhole(const PsPinholePose *p, GError **error)
{
    if (!valid_latlon(p->lat, p->lon) || !isfinite(p->height_m) || p->height_m < 0 ||
        p->height_m > 10000) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                    "camera position %g,%g height %g m is not a place on Earth", p->lat, p->lon,
                    p->height_m);
        return NULL;
    }
    if (!(p->hfov_deg > 0.0 && p->hfov_deg < 170.0) || !(p->tilt_deg >= -90.0 &&
                                                          p->tilt_deg <= 90.0) ||
        !isfinite(p->heading_deg)) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                    "camera angles out of range: hfov %g (0..170), tilt %g (-90..90), heading %g",
                    p->hfov_deg, p->tilt_deg, p->heading_deg);
        return NULL;
    }
    if (p->width <= 0 || p->height <= 0 || p->width > 16384 || p->height > 16384) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID, "image size %dx%d is invalid",
                    p->width, p->height);
        return NULL;
    }
    PsCameraModel *m = g_new0(PsCameraModel, 1);
    m->kind = MODEL_PINHOLE;
    m->width = p->width;
    m->height = p->height;
    m->lat0 = p->lat;
    m->lon0 = p->lon;
    m->height_m = p->height_m;
    m->focal = (p->width / 2.0) / tan(p->hfov_deg * DEG / 2.0);
    double th = p->heading_deg * DEG, ti = p->tilt_deg * DEG;
    /* East, north, up. Forward leans down by the tilt; right is horizontal; down = -(r x f). */
    m->fwd[0] = sin(th) * cos(ti);
    m->fwd[1] = cos(th) * cos(ti);
    m->fwd[2] = -sin(ti);
    m->right[0] = cos(th);
    m->right[1] = -sin(th);
    m->right[2] = 0.0;
    double up[3] = {
        m->right[1] * m->fwd[2] - m->right[2] * m->fwd[1],
        m->right[2] * m->fwd[0] - m->right[0] * m->fwd[2],
        m->right[0] * m->fwd[1] - m->right[1] * m->fwd[0],
    };
    for (int i = 0; i < 3; i++)
        m->down[i] = -up[i];
    return m;
}

/* ---- homography by the normalized direct linear transform ---- */

/* Jacobi eigen decomposition of the symmetric 9x9 @a (destroyed); eigenvalues in @w, vectors
 * in the columns of @v. */
static void jacobi9(double a[9][9], double w[9], double v[9][9])
{
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 9; j++)
            v[i][j] = i == j;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0;
        for (int p = 0; p < 9; p++)
            for (int q = p + 1; q < 9; q++)
                off += a[p][q] * a[p][q];
        if (off < 1e-30)
            break;
        for (int p = 0; p < 9; p++) {
            for (int q = p + 1; q < 9; q++) {
                if (fabs(a[p][q]) < 1e-300)
                    continue;
                double theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < 9; k++) {
                    double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 9; k++) {
                    double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 9; k++) {
                    double vkp = v[k][p], vkq = v[k][q];
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
        }
    }
    for (int i = 0; i < 9; i++)
        w[i] = a[i][i];
}

/* Similarity that moves the points' centroid to 0 and their mean distance to sqrt(2). */
static gboolean normalizer(const double (*pts)[2], gsize n, double t[3][3])
{
    double cx = 0, cy = 0, d = 0;
    for (gsize i = 0; i < n; i++) {
        cx += pts[i][0];
        cy += pts[i][1];
    }
    cx /= n;
    cy /= n;
    for (gsize i = 0; i < n; i++)
        d += hypot(pts[i][0] - cx, pts[i][1] - cy);
    d /= n;
    if (!(d > 1e-9))
        return FALSE;
    double s = G_SQRT2 / d;
    double m[3][3] = {{s, 0, -s * cx}, {0, s, -s * cy}, {0, 0, 1}};
    memcpy(t, m, sizeof m);
    return TRUE;
}

static void apply(const double t[3][3], const double p[2], double out[2])
{
    out[0] = t[0][0] * p[0] + t[0][1] * p[1] + t[0][2];
    out[1] = t[1][0] * p[0] + t[1][1] * p[1] + t[1][2];
}

PsCameraModel *overlay_camera_new_homography(const PsGroundPoint *pts, gsize n, int width,
                                             int height, GError **error)
{
    if (n < 4 || n > 1000) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                    "a homography needs 4 to 1000 ground control points, not %" G_GSIZE_FORMAT, n);
        return NULL;
    }
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID, "image size %dx%d is invalid",
                    width, height);
        return NULL;
    }
    for (gsize i = 0; i < n; i++) {
        if (!valid_latlon(pts[i].lat, pts[i].lon) || !isfinite(pts[i].x) ||
            !isfinite(pts[i].y)) {
            g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                        "ground control point %" G_GSIZE_FORMAT " is not a valid place/pixel",
                        i + 1);
            return NULL;
        }
    }
    PsCameraModel *m = g_new0(PsCameraModel, 1);
    m->kind = MODEL_HOMOGRAPHY;
    m->width = width;
    m->height = height;
    for (gsize i = 0; i < n; i++) {
        m->lat0 += pts[i].lat / n;
        m->lon0 += pts[i].lon / n;
    }
    double(*g)[2] = g_malloc_n(n, sizeof *g);
    double(*im)[2] = g_malloc_n(n, sizeof *im);
    for (gsize i = 0; i < n; i++) {
        to_local(m, pts[i].lat, pts[i].lon, &g[i][0], &g[i][1]);
        im[i][0] = pts[i].x;
        im[i][1] = pts[i].y;
    }
    double tg[3][3], ti[3][3];
    double ata[9][9] = {{0}};
    double w[9], v[9][9];
    if (!normalizer((const double(*)[2])g, n, tg) || !normalizer((const double(*)[2])im, n, ti))
        goto degenerate;
    for (gsize i = 0; i < n; i++) {
        double a[2], b[2];
        apply(tg, g[i], a);
        apply(ti, im[i], b);
        double r1[9] = {a[0], a[1], 1, 0, 0, 0, -b[0] * a[0], -b[0] * a[1], -b[0]};
        double r2[9] = {0, 0, 0, a[0], a[1], 1, -b[1] * a[0], -b[1] * a[1], -b[1]};
        for (int j = 0; j < 9; j++)
            for (int k = 0; k < 9; k++)
                ata[j][k] += r1[j] * r1[k] + r2[j] * r2[k];
    }
    jacobi9(ata, w, v);
    int lo = 0;
    for (int i = 1; i < 9; i++)
        if (w[i] < w[lo])
            lo = i;
    double wmax = 0, second = INFINITY;
    for (int i = 0; i < 9; i++) {
        wmax = MAX(wmax, w[i]);
        if (i != lo)
            second = MIN(second, w[i]);
    }
    /* A unique solution needs a one-dimensional null space: the second smallest eigenvalue
     * must stand clear of zero (it is ~0 when three of four points are collinear). */
    if (!(second > 1e-9 * wmax))
        goto degenerate;
    /* H = Ti^-1 * Hn * Tg */
    double hn[3][3], tmp[3][3], tii[3][3] = {{0}};
    for (int i = 0; i < 9; i++)
        hn[i / 3][i % 3] = v[i][lo];
    double s = ti[0][0];
    tii[0][0] = tii[1][1] = 1.0 / s;
    tii[0][2] = -ti[0][2] / s;
    tii[1][2] = -ti[1][2] / s;
    tii[2][2] = 1.0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            tmp[i][j] = 0;
            for (int k = 0; k < 3; k++)
                tmp[i][j] += hn[i][k] * tg[k][j];
        }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            m->h[i * 3 + j] = 0;
            for (int k = 0; k < 3; k++)
                m->h[i * 3 + j] += tii[i][k] * tmp[k][j];
        }
    /* Orient it so that w > 0 where the control points are (the visible side). */
    double wsum = 0;
    for (gsize i = 0; i < n; i++)
        wsum += m->h[6] * g[i][0] + m->h[7] * g[i][1] + m->h[8];
    if (wsum < 0)
        for (int i = 0; i < 9; i++)
            m->h[i] = -m->h[i];
    g_free(g);
    g_free(im);
    return m;

degenerate:
    g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                "the ground control points are degenerate (repeated or on one line): they do "
                "not fix a homography");
    g_free(g);
    g_free(im);
    g_free(m);
    return NULL;
}

void overlay_camera_free(PsCameraModel *model)
{
    g_free(model);
}

gboolean overlay_camera_project(const PsCameraModel *m, double lat, double lon, double alt_m,
                                double *x, double *y)
{
    g_return_val_if_fail(m != NULL, FALSE);
    if (!valid_latlon(lat, lon) || !isfinite(alt_m))
        return FALSE;
    double e, n;
    to_local(m, lat, lon, &e, &n);
    if (m->kind == MODEL_PINHOLE) {
        double p[3] = {e, n, alt_m - m->height_m};
        double zc = p[0] * m->fwd[0] + p[1] * m->fwd[1] + p[2] * m->fwd[2];
        if (zc < 1.0)
            return FALSE;
        double xc = p[0] * m->right[0] + p[1] * m->right[1] + p[2] * m->right[2];
        double yc = p[0] * m->down[0] + p[1] * m->down[1] + p[2] * m->down[2];
        *x = m->width / 2.0 + m->focal * xc / zc;
        *y = m->height / 2.0 + m->focal * yc / zc;
        return TRUE;
    }
    const double *h = m->h;
    double w = h[6] * e + h[7] * n + h[8];
    if (!(w > 1e-12))
        return FALSE;
    *x = (h[0] * e + h[1] * n + h[2]) / w;
    *y = (h[3] * e + h[4] * n + h[5]) / w;
    return TRUE;
}

gboolean overlay_camera_unproject(const PsCameraModel *m, double x, double y, double *lat,
                                  double *lon)
{
    g_return_val_if_fail(m != NULL, FALSE);
    if (!isfinite(x) || !isfinite(y))
        return FALSE;
    double e, n;
    if (m->kind == MODEL_PINHOLE) {
        double u = (x - m->width / 2.0) / m->focal, v = (y - m->height / 2.0) / m->focal;
        double d[3];
        for (int i = 0; i < 3; i++)
            d[i] = m->fwd[i] + u * m->right[i] + v * m->down[i];
        if (!(d[2] < -1e-9))
            return FALSE; /* at or above the horizon */
        double t = m->height_m / -d[2];
        e = t * d[0];
        n = t * d[1];
    } else {
        const double *h = m->h;
        /* the inverse by the adjugate */
        double inv[9] = {
            h[4] * h[8] - h[5] * h[7], h[2] * h[7] - h[1] * h[8], h[1] * h[5] - h[2] * h[4],
            h[5] * h[6] - h[3] * h[8], h[0] * h[8] - h[2] * h[6], h[2] * h[3] - h[0] * h[5],
            h[3] * h[7] - h[4] * h[6], h[1] * h[6] - h[0] * h[7], h[0] * h[4] - h[1] * h[3],
        };
        double w = inv[6] * x + inv[7] * y + inv[8];
        if (fabs(w) < 1e-15)
            return FALSE;
        e = (inv[0] * x + inv[1] * y + inv[2]) / w;
        n = (inv[3] * x + inv[4] * y + inv[5]) / w;
        double ww = h[6] * e + h[7] * n + h[8];
        if (!(ww > 1e-12))
            return FALSE; /* maps back behind the horizon */
    }
    from_local(m, e, n, lat, lon);
    return TRUE;
}
