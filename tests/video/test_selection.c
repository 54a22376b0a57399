/* test_selection.c: ROOT/cmd/select without a PTZ: highlight, no warning, what was done said on
 * ROOT/status/selection; "clear": true clears; old selections are not redone at start-up. With
 * PTZs at known poses, the AbsoluteMove a loopback ONVIF endpoint receives for a 20 ft and a
 * 40 ft container: the angles, and a zoom for each box's own length. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../video/camsupport.h"
#include "rules.h"
#include "testutil.h"
#include "video.h"

typedef struct {
    guint n;
    char *last; /* the last ROOT/status/selection payload */
    char *topic;
} Said;

static void on_event(const char *topic, const char *id, const char *payload, gpointer data)
{
    Said *s = data;
    if (!g_str_has_suffix(topic, "/status/selection"))
        return;
    s->n++;
    g_free(s->last);
    g_free(s->topic);
    s->last = g_strdup(payload);
    s->topic = g_strdup(topic);
}

static guint warnings;

static GLogWriterOutput count_warnings(GLogLevelFlags level, const GLogField *fields,
                                       gsize n_fields, gpointer user_data)
{
    if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL))
        warnings++;
    return g_log_writer_default(level, fields, n_fields, user_data);
}

START_TEST(test_select_without_ptz_says_what_it_did_clears_and_is_not_replayed)
{
    g_log_set_writer_func(count_warnings, NULL, NULL);
    GError *error = NULL;
    const char *conf = "[store]\npath = :memory:\n[mqtt]\nurl = tcp://127.0.0.1:1\n"
                       "topic_root = t9/port\n";
    g_autoptr(AppConfig) cfg = app_config_load_data("test", conf, strlen(conf), &error);
    ck_assert_no_error(error);
    Said said = {0};
    AppVideo *v = app_video_new(cfg, on_event, &said, &error);
    ck_assert_no_error(error);
    PsScene *scene = app_video_scene(v);
    const double box[4] = {100, 100, 200, 80};
    overlay_scene_put_detection(scene, "rail", "PSTU2001016", "22G1", box, 0.9, 0);

    /* Old selections (journal rows from before the start) are not redone. */
    const char *sel = "{\"id\":\"s1\",\"ts\":\"2026-11-26T08:00:00Z\",\"container\":\"PSTU2001016\"}";
    app_video_set_replaying(v, TRUE);
    ck_assert(app_video_apply(v, "t9/port/cmd/select", sel, strlen(sel), &error));
    ck_assert_uint_eq(said.n, 0);
    app_video_set_replaying(v, FALSE);

    /* A live one: highlighted; no PTZ anywhere, so no warning; said under the topic root. */
    ck_assert(app_video_apply(v, "t9/port/cmd/select", sel, strlen(sel), &error));
    ck_assert_no_error(error);
    ck_assert_uint_eq(said.n, 1);
    ck_assert_str_eq(said.topic, "t9/port/status/selection");
    ck_assert_msg(strstr(said.last, "\"selected\":true") &&
                      strstr(said.last, "\"container\":\"PSTU2001016\"") &&
                      strstr(said.last, "\"ptz\":null"),
                  "%s", said.last);
    ck_assert_uint_eq(warnings, 0);

    /* "clear": true is a valid input and clears it. */
    const char *clear = "{\"id\":\"s2\",\"ts\":\"2026-11-26T08:00:01Z\",\"clear\":true}";
    ck_assert(rules_validate("cmd/select", clear, -1, &error));
    ck_assert_no_error(error);
    ck_assert(app_video_apply(v, "t9/port/cmd/select", clear, strlen(clear), &error));
    ck_assert_uint_eq(said.n, 2);
    ck_assert_msg(strstr(said.last, "\"selected\":false") && strstr(said.last, "cleared"), "%s",
                  said.last);
    ck_assert_uint_eq(warnings, 0);

    app_video_free(v);
    g_free(said.last);
    g_free(said.topic);
}
END_TEST


/* ---- zoom by size/type, against a loopback ONVIF endpoint ---- */

#define R_EARTH 6371008.8
#define DEG (G_PI / 180)

/* The fixed camera that sees the containers and the PTZ that aims at them (lat, lon, height,
 * heading, tilt, hfov); the PTZ's lens from 60 to 3 degrees, pan range 180, tilt range 90. */
static const PsPinholePose fixed_pose = {30.6200, 122.0700, 10, 90, 20, 60, 1280, 720};
static const double ptz_at[4] = {30.6195, 122.0712, 25, 100}; /* lat, lon, height, heading */

/* Ground point @east, @north metres from the fixed camera. */
static void ground(double east, double north, double *lat, double *lon)
{
    *lat = fixed_pose.lat + north / R_EARTH / DEG;
    *lon = fixed_pose.lon + east / (R_EARTH * cos(fixed_pose.lat * DEG)) / DEG;
}

/* What the PTZ should do, written here from the geometry: pan (degrees clockwise of its
 * heading), tilt (degrees, negative down) and the zoom that makes @length_m a third of the
 * view (tan(hfov / 2) = 1.5 L / slant; magnification onto 0..1). */
static void expect(double lat, double lon, double length_m, double *pan, double *tilt,
                   double *zoom)
{
    double dn = (lat - ptz_at[0]) * DEG * R_EARTH;
    double de = (lon - ptz_at[1]) * DEG * R_EARTH * cos(ptz_at[0] * DEG);
    double bearing = atan2(de, dn) / DEG;
    *pan = fmod(bearing - ptz_at[3] + 540, 360) - 180;
    *tilt = -atan2(ptz_at[2], hypot(de, dn)) / DEG;
    double slant = sqrt(de * de + dn * dn + ptz_at[2] * ptz_at[2]);
    double wide = tan(30 * DEG), tele = tan(1.5 * DEG);
    double mag = CLAMP(wide / (1.5 * length_m / slant), 1, wide / tele);
    *zoom = (mag - 1) / (wide / tele - 1);
}

static double attr(const char *req, const char *tag, const char *name)
{
    const char *t = strstr(req, tag);
    g_autofree char *key = g_strdup_printf("%s=\"", name);
    const char *a = t ? strstr(t, key) : NULL;
    ck_assert_msg(a, "no %s %s in %s", tag, name, req);
    return g_ascii_strtod(a + strlen(key), NULL);
}

START_TEST(test_ptz_zooms_for_the_box_length_of_the_size_type)
{
    static const OnvifAnswer ok = {200, "<ok/>"};
    Http *e20 = camsupport_onvif_start(&ok), *e40 = camsupport_onvif_start(&ok);
    g_autofree char *conf = g_strdup_printf(
        "[store]\npath = :memory:\n[mqtt]\nurl = tcp://127.0.0.1:1\n"
        "[camera yard]\nuri = testsrc://black\nocr = false\npose = %.4f,%.4f,%g,%g,%g,%g\n"
        "[camera ptz-a]\nuri = testsrc://black\nocr = false\npose = %.4f,%.4f,%g,%g,5,40\n"
        "ptz_url = http://127.0.0.1:%d/onvif/ptz_service\nptz_profile = p\n"
        "ptz_hfov_wide = 60\nptz_hfov_tele = 3\n"
        "[camera ptz-b]\nuri = testsrc://black\nocr = false\npose = %.4f,%.4f,%g,%g,5,40\n"
        "ptz_url = http://127.0.0.1:%d/onvif/ptz_service\nptz_profile = p\n"
        "ptz_hfov_wide = 60\nptz_hfov_tele = 3\n",
        fixed_pose.lat, fixed_pose.lon, fixed_pose.height_m, fixed_pose.heading_deg,
        fixed_pose.tilt_deg, fixed_pose.hfov_deg, ptz_at[0], ptz_at[1], ptz_at[2], ptz_at[3],
        e20->port, ptz_at[0], ptz_at[1], ptz_at[2], ptz_at[3], e40->port);
    GError *error = NULL;
    g_autoptr(AppConfig) cfg = app_config_load_data("test", conf, strlen(conf), &error);
    ck_assert_no_error(error);
    AppVideo *v = app_video_new(cfg, NULL, NULL, &error);
    ck_assert_no_error(error);
    PsScene *scene = app_video_scene(v);
    /* Two containers read by the yard camera, their boxes standing on known ground points:
     * a 20 ft (22G1, from the read) and a 40 ft (read without a size code, 45G1 from the gate
     * system: a 40 ft high cube). */
    g_autoptr(PsCameraModel) model = overlay_camera_new_pinhole(&fixed_pose, &error);
    ck_assert_no_error(error);
    static const struct {
        const char *code, *read_size, *gate_size;
        double east, north, length_m;
        const char *ptz;
    } boxes[] = {
        {"PSTU2001016", "22G1", NULL, 70, 8, 6.058, "ptz-a"},
        {"PSTU2001021", "", "45G1", 70, -8, 12.192, "ptz-b"},
    };
    double zooms[2];
    for (guint i = 0; i < 2; i++) {
        double lat, lon, x, y;
        ground(boxes[i].east, boxes[i].north, &lat, &lon);
        ck_assert(overlay_camera_project(model, lat, lon, 0, &x, &y));
        ck_assert(x > 0 && x < 1280 && y > 0 && y < 720);
        const double bbox[4] = {x - 60, y - 30, 120, 30};
        overlay_scene_put_detection(scene, "yard", boxes[i].code, boxes[i].read_size, bbox, 0.9,
                                    0);
        if (boxes[i].gate_size) {
            g_autofree char *gate = g_strdup_printf(
                "{\"id\":\"g%u\",\"ts\":\"2026-11-26T08:00:00Z\",\"gate\":\"G1\","
                "\"direction\":\"in\",\"mode\":\"truck\",\"container\":\"%s\","
                "\"size_type\":\"%s\"}",
                i, boxes[i].code, boxes[i].gate_size);
            ck_assert(app_video_apply(v, "port/gate/G1", gate, strlen(gate), &error));
            ck_assert_no_error(error);
        }
        ck_assert(app_video_select(v, boxes[i].ptz, boxes[i].code, 0, &error));
        ck_assert_no_error(error);
        g_autofree char *req = http_request_text(i == 0 ? e20 : e40, 0, 10);
        double pan = attr(req, "<tt:PanTilt", "x") * 180, tilt = attr(req, "<tt:PanTilt", "y") * 90;
        double zoom = attr(req, "<tt:Zoom", "x");
        double want_pan, want_tilt, want_zoom;
        expect(lat, lon, boxes[i].length_m, &want_pan, &want_tilt, &want_zoom);
        ck_assert_msg(fabs(pan - want_pan) < 1 && fabs(tilt - want_tilt) < 1,
                      "%s: pan %.2f tilt %.2f degrees, expected %.2f %.2f", boxes[i].code, pan,
                      tilt, want_pan, want_tilt);
        /* The request carries 4 decimals. */
        ck_assert_msg(fabs(zoom - want_zoom) < 2e-3, "%s (%.2f m): zoom %.4f, expected %.4f",
                      boxes[i].code, boxes[i].length_m, zoom, want_zoom);
        printf("%s (%.3f m): pan %.2f tilt %.2f deg (expected %.2f %.2f), zoom %.4f "
               "(expected %.4f)\n", boxes[i].code, boxes[i].length_m, pan, tilt, want_pan,
               want_tilt, zoom, want_zoom);
        zooms[i] = zoom;
    }
    /* The 20 ft box is zoomed in further than the 40 ft one at about the same distance. */
    ck_assert_msg(zooms[0] > zooms[1] + 0.03, "zoom 20 ft %.4f, 40 ft %.4f", zooms[0], zooms[1]);
    app_video_free(v);
    http_free(e20);
    http_free(e40);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_select_without_ptz_says_what_it_did_clears_and_is_not_replayed},
    {&test_ptz_zooms_for_the_box_length_of_the_size_type},
};

TESTUTIL_MAIN("selection", "select", 0, TESTUTIL_TESTS(tests))
