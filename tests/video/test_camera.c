/* test_camera.c: geographic points land where geometry says they must. */
#include <math.h>

#include "overlay.h"
#include "testutil.h"

/* Metres per degree on the WGS84 ellipsoid at the equator (textbook figures, independent of the
 * code under test): longitude a*pi/180, latitude a*(1-e^2)*pi/180. */
#define M_PER_DEG_LON 111319.4908
#define M_PER_DEG_LAT 110574.2727

static const struct {
    const char *what;
    PsPinholePose pose;
    double east_m, north_m, alt_m;
    gboolean visible;
    double x, y;
} cases[] = {
    {"point on the optical axis lands on the centre",
     {0, 0, 30, 90, 5.710593137499643 /* atan(30/300) */, 60, 1920, 1080}, 300, 0, 0, TRUE,
     960, 540},
    {"point at half the field of view lands on the right edge",
     {0, 0, 10, 0, 0, 60, 1920, 1080}, 577.3502692, 1000, 10, TRUE, 1920, 540},
    {"point at half the vertical extent lands on the top edge",
     {0, 0, 10, 0, 0, 60, 1920, 1080}, 0, 1000, 10 + 1000 * 540 / 1662.7687752661223, TRUE, 960,
     0},
    {"west-looking camera has north on its right",
     {0, 0, 10, 270, 0, 60, 1920, 1080}, -1000, 100, 10, TRUE, 960 + 166.27687752661223, 540},
    {"looking down 45 degrees, ground point below the axis is lower in the image",
     /* y = 500 + 500 tan(45 deg - atan(0.5)) = 500 + 500 (1 - 0.5) / (1 + 0.5) */
     {0, 0, 100, 0, 45, 90, 1000, 1000}, 0, 50, 0, TRUE, 500, 500 + 500.0 / 3},
    {"point behind the camera is not visible", {0, 0, 30, 90, 5, 60, 1920, 1080}, -300, 0, 0,
     FALSE, 0, 0},
};

START_TEST(test_pinhole_projects_known_points)
{
    PsCameraModel *m = overlay_camera_new_pinhole(&cases[_i].pose, NULL);
    ck_assert_ptr_nonnull(m);
    double x = -1, y = -1;
    gboolean ok = overlay_camera_project(m, cases[_i].north_m / M_PER_DEG_LAT,
                                         cases[_i].east_m / M_PER_DEG_LON, cases[_i].alt_m, &x, &y);
    ck_assert_msg(ok == cases[_i].visible, "%s: visible %d", cases[_i].what, ok);
    if (ok)
        ck_assert_msg(fabs(x - cases[_i].x) < 0.5 && fabs(y - cases[_i].y) < 0.5,
                      "%s: got %.2f,%.2f expected %.2f,%.2f", cases[_i].what, x, y, cases[_i].x,
                      cases[_i].y);
    overlay_camera_free(m);
}
END_TEST

START_TEST(test_pinhole_rejects_bad_poses)
{
    const PsPinholePose bad[] = {
        {95, 0, 10, 0, 0, 60, 1920, 1080},  /* latitude */
        {0, 0, 10, 0, 0, 0, 1920, 1080},    /* field of view */
        {0, 0, 10, 0, 0, 180, 1920, 1080},  /* field of view */
        {0, 0, 10, 0, 120, 60, 1920, 1080}, /* tilt */
        {0, 0, 10, 0, 0, 60, 0, 1080},      /* size */
        {0, 0, NAN, 0, 0, 60, 1920, 1080},  /* height */
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *error = NULL;
        ck_assert_ptr_null(overlay_camera_new_pinhole(&bad[i], &error));
        ck_assert_msg(error && error->code == OVERLAY_ERROR_INVALID, "pose %u accepted", i);
        g_error_free(error);
    }
}
END_TEST

/* A homography fitted to ground points seen by a pinhole camera must reproduce that camera on
 * other ground points: a ground plane maps to the image by a homography exactly. */
START_TEST(test_homography_matches_the_pinhole_it_was_fitted_to)
{
    PsPinholePose pose = {31.35, 121.60, 40, 120, 12, 70, 1920, 1080};
    g_autoptr(PsCameraModel) pin = overlay_camera_new_pinhole(&pose, NULL);
    const double fit[][2] = {{150, -80}, {300, 40}, {200, 120}, {500, -300}, {400, 200},
                             {250, -10}};
    PsGroundPoint gcp[G_N_ELEMENTS(fit)];
    double mlat = 110861.0, mlon = 95000.0; /* any offsets will do: both models see the same */
    for (guint i = 0; i < G_N_ELEMENTS(fit); i++) {
        /* fit[i] is (along, across) the heading in metres. */
        double th = pose.heading_deg * G_PI / 180;
        double e = fit[i][0] * sin(th) + fit[i][1] * cos(th);
        double n = fit[i][0] * cos(th) - fit[i][1] * sin(th);
        gcp[i].lat = pose.lat + n / mlat;
        gcp[i].lon = pose.lon + e / mlon;
        ck_assert(overlay_camera_project(pin, gcp[i].lat, gcp[i].lon, 0, &gcp[i].x, &gcp[i].y));
    }
    for (gsize n = 4; n <= G_N_ELEMENTS(fit); n += 2) {
        GError *error = NULL;
        g_autoptr(PsCameraModel) h = overlay_camera_new_homography(gcp, n, 1920, 1080, &error);
        ck_assert_no_error(error);
        for (int k = 0; k < 20; k++) {
            double lat = pose.lat + (k % 5 - 2) * 0.0008 + 0.0002;
            double lon = pose.lon + 0.0015 + (k / 5) * 0.0007;
            double px, py, hx, hy;
            if (!overlay_camera_project(pin, lat, lon, 0, &px, &py))
                continue;
            ck_assert(overlay_camera_project(h, lat, lon, 0, &hx, &hy));
            ck_assert_msg(fabs(px - hx) < 0.5 && fabs(py - hy) < 0.5,
                          "n=%zu point %d: pinhole %.2f,%.2f homography %.2f,%.2f", n, k, px, py,
                          hx, hy);
        }
    }
}
END_TEST

START_TEST(test_homography_reproduces_its_control_points)
{
    const PsGroundPoint gcp[] = {
        {31.2300, 121.4700, 100, 900}, {31.2300, 121.4720, 1800, 880},
        {31.2315, 121.4720, 1400, 300}, {31.2315, 121.4700, 500, 320},
    };
    g_autoptr(PsCameraModel) h = overlay_camera_new_homography(gcp, 4, 1920, 1080, NULL);
    ck_assert_ptr_nonnull(h);
    for (guint i = 0; i < 4; i++) {
        double x, y;
        ck_assert(overlay_camera_project(h, gcp[i].lat, gcp[i].lon, 0, &x, &y));
        ck_assert_msg(fabs(x - gcp[i].x) < 1e-3 && fabs(y - gcp[i].y) < 1e-3, "gcp %u: %f,%f", i,
                      x, y);
    }
}
END_TEST

START_TEST(test_homography_refuses_degenerate_points)
{
    const PsGroundPoint collinear[] = {
        {31.2300, 121.4700, 100, 900}, {31.2305, 121.4700, 1800, 880},
        {31.2310, 121.4700, 1400, 300}, {31.2315, 121.4700, 500, 320},
    };
    const PsGroundPoint repeated[] = {
        {31.2300, 121.4700, 100, 900}, {31.2300, 121.4700, 100, 900},
        {31.2315, 121.4720, 1400, 300}, {31.2315, 121.4720, 1400, 300},
    };
    GError *error = NULL;
    ck_assert_ptr_null(overlay_camera_new_homography(collinear, 4, 1920, 1080, &error));
    ck_assert(error && strstr(error->message, "degenerate"));
    g_clear_error(&error);
    ck_assert_ptr_null(overlay_camera_new_homography(repeated, 4, 1920, 1080, &error));
    ck_assert(error && strstr(error->message, "degenerate"));
    g_clear_error(&error);
    ck_assert_ptr_null(overlay_camera_new_homography(collinear, 3, 1920, 1080, &error));
    ck_assert(error && strstr(error->message, "4 to 1000"));
    g_clear_error(&error);
}
END_TEST

START_TEST(test_unproject_inverts_project_on_the_ground)
{
    PsPinholePose pose = {31.35, 121.60, 40, 120, 12, 70, 1920, 1080};
    g_autoptr(PsCameraModel) pin = overlay_camera_new_pinhole(&pose, NULL);
    const PsGroundPoint gcp[] = {
        {31.2300, 121.4700, 100, 900}, {31.2300, 121.4720, 1800, 880},
        {31.2315, 121.4720, 1400, 300}, {31.2315, 121.4700, 500, 320},
    };
    g_autoptr(PsCameraModel) hom = overlay_camera_new_homography(gcp, 4, 1920, 1080, NULL);
    const PsCameraModel *models[] = {pin, hom};
    const double pixels[][2] = {{960, 900}, {100, 1000}, {1800, 700}, {700, 500}};
    for (guint m = 0; m < 2; m++)
        for (guint i = 0; i < G_N_ELEMENTS(pixels); i++) {
            double lat, lon, x, y;
            ck_assert(overlay_camera_unproject(models[m], pixels[i][0], pixels[i][1], &lat, &lon));
            ck_assert(overlay_camera_project(models[m], lat, lon, 0, &x, &y));
            ck_assert_msg(fabs(x - pixels[i][0]) < 1e-3 && fabs(y - pixels[i][1]) < 1e-3,
                          "model %u pixel %u: %f,%f", m, i, x, y);
        }
    double lat, lon;
    ck_assert(!overlay_camera_unproject(pin, 960, 0, &lat, &lon)); /* sky */
}
END_TEST

static const TestutilTest tests[] = {
    {&test_pinhole_projects_known_points, G_N_ELEMENTS(cases)},
    {&test_pinhole_rejects_bad_poses},
    {&test_homography_matches_the_pinhole_it_was_fitted_to},
    {&test_homography_reproduces_its_control_points},
    {&test_homography_refuses_degenerate_points},
    {&test_unproject_inverts_project_on_the_ground},
};

TESTUTIL_MAIN("camera model", "projection", 0, TESTUTIL_TESTS(tests))
