/* test_ptz.c: aiming maths and the ONVIF AbsoluteMove request, checked by a loopback HTTP
 * endpoint that parses what it receives. */
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "camsupport.h"
#include "ptz.h"
#include "testutil.h"

#define M_PER_DEG 111195.08 /* the mean-radius sphere ptz_aim uses: 6371008.8 m * pi / 180 */

static const struct {
    double heading, east, north;
    double pan, tilt, zoom;
} aims[] = {
    /* tilt = -(degrees down) / 90; 30 m down over 300 m is atan2(30, 300) = 5.7106 degrees
     * and 30 m over 2000 m 0.8594 degrees: constants, as clang takes no atan2() here */
    {90, 300, 0, 0.0, -5.710593137499642 / 90, 0.3},
    {0, 300, 0, 0.5, -5.710593137499642 / 90, 0.3},
    {0, -300, 0, -0.5, -5.710593137499642 / 90, 0.3},
    {0, 0, 30, 0.0, -0.5, 0.03},                          /* 45 degrees down */
    {0, 0, -2000, 1.0, -0.8593722436446809 / 90, 1.0}, /* behind: pan +-1, zoom max */
};

START_TEST(test_aim_points_the_camera_at_the_target)
{
    PtzMount m = {0, 0, 30, aims[_i].heading, 180, 90, 1000};
    double pan, tilt, zoom;
    ptz_aim(&m, aims[_i].north / M_PER_DEG, aims[_i].east / M_PER_DEG, &pan, &tilt, &zoom);
    ck_assert_msg(fabs(fabs(pan) - fabs(aims[_i].pan)) < 1e-3 && fabs(tilt - aims[_i].tilt) < 1e-3 &&
                      fabs(zoom - aims[_i].zoom) < 1e-3,
                  "case %d: pan %.4f tilt %.4f zoom %.4f", _i, pan, tilt, zoom);
    if (aims[_i].pan != 1.0)
        ck_assert(fabs(pan - aims[_i].pan) < 1e-3);
}
END_TEST

/* Zoom so the box is a third of the view: hfov = 2 atan(1.5 L / d) at the slant distance d,
 * magnification tan(wide / 2) / tan(hfov / 2) clamped to 1 .. tan(wide / 2) / tan(tele / 2),
 * mapped linearly onto 0..1. By hand (tan 30 = 0.577350, tan 1.5 = 0.026186: max 22.0481;
 * tan 22.5 = 0.414214, tan 2.25 = 0.039290: max 10.5424):
 * - 40 ft (12.19 m), 300 m east, PTZ 30 m up: d = 301.496, 1.5 L / d = 0.060648 (hfov 6.94),
 *   magnification 9.5197, zoom 8.5197 / 21.0481 = 0.40478
 * - 20 ft (6.06 m), 100 m north, 30 m up: d = 104.403, 1.5 L / d = 0.087066 (hfov 9.95),
 *   magnification 6.6311, zoom 5.6311 / 21.0481 = 0.26754
 * - 40 ft, 5 m away, 10 m up: hfov 117 > 60, clamped to the widest: zoom 0
 * - 20 ft, 2000 m south: hfov 0.52 < 3, clamped to the narrowest: zoom 1
 * - 45 to 4.5 degree lens, 40 ft, 200 m west 150 m north, 25 m up: d = 251.247,
 *   1.5 L / d = 0.072777 (hfov 8.32), magnification 5.6915, zoom 4.6915 / 9.5424 = 0.49165 */
static const struct {
    double wide, tele, east, north, height, length, zoom;
} boxes[] = {
    {60, 3, 300, 0, 30, PTZ_BOX_40FT_M, 0.40478},
    {60, 3, 0, 100, 30, PTZ_BOX_20FT_M, 0.26754},
    {60, 3, 5, 0, 10, PTZ_BOX_40FT_M, 0.0},
    {60, 3, 0, -2000, 30, PTZ_BOX_20FT_M, 1.0},
    {45, 4.5, -200, 150, 25, PTZ_BOX_40FT_M, 0.49165},
};

START_TEST(test_zoom_makes_the_box_a_third_of_the_view)
{
    PtzMount m = {0, 0, boxes[_i].height, 0, 180, 90, 1000, boxes[_i].wide, boxes[_i].tele};
    double pan, tilt, zoom;
    ptz_aim_box(&m, boxes[_i].north / M_PER_DEG, boxes[_i].east / M_PER_DEG, boxes[_i].length,
                &pan, &tilt, &zoom);
    ck_assert_msg(fabs(zoom - boxes[_i].zoom) < 2e-3, "case %d: zoom %.5f, expected %.5f", _i,
                  zoom, boxes[_i].zoom);
    /* ptz_aim is the same for a 40 ft box. */
    double p2, t2, z2;
    ptz_aim(&m, boxes[_i].north / M_PER_DEG, boxes[_i].east / M_PER_DEG, &p2, &t2, &z2);
    if (boxes[_i].length == PTZ_BOX_40FT_M)
        ck_assert(fabs(z2 - zoom) < 1e-9 && p2 == pan && t2 == tilt);
}
END_TEST

START_TEST(test_presets_parse_with_errors_naming_the_entry)
{
    PtzSet *set = ptz_set_new();
    PtzDevice dev = {"http://127.0.0.1:9/onvif/ptz_service", "p", NULL, NULL, 1};
    PtzMount m = {0, 0, 30, 0, 180, 90, 0, 0, 0};
    ptz_set_add(set, "ptz1", &dev, &m);
    static const struct {
        const char *text, *error;
    } bad[] = {
        {"gate:0.2,0.1", "presets: entry 1 ('gate:0.2,0.1'): expected three numbers"},
        {"gate:0.2,0.1,0.3; quay:2,0,0", "presets: entry 2 ('quay:2,0,0'): pan: expected a number in -1..1"},
        {"gate:0,0,-0.1", "presets: entry 1 ('gate:0,0,-0.1'): zoom: expected a number in 0..1"},
        {"a:0,0,0;a:1,1,1", "presets: entry 2 ('a:1,1,1'): the name is used twice"},
        {"g\x01te:0,0,0", "presets: entry 1 ('g\\001te:0,0,0'): the name may hold only"},
        {":0,0,0", "presets: entry 1 (':0,0,0'): expected name:pan,tilt,zoom"},
        {"gate:0,x,0", "tilt: expected a number in -1..1"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *error = NULL;
        ck_assert(!ptz_set_presets(set, "ptz1", bad[i].text, &error));
        ck_assert_msg(error && strstr(error->message, bad[i].error), "%u: %s", i,
                      error ? error->message : "no error");
        g_clear_error(&error);
    }
    GError *error = NULL;
    ck_assert(!ptz_set_presets(set, "nope", "a:0,0,0", &error));
    g_clear_error(&error);
    ck_assert(ptz_set_presets(set, "ptz1", " gate:0.25, -0.1 ,0.5 ;quay:-1,-1,1;", &error));
    ck_assert_no_error(error);
    double pos[3];
    ck_assert(!ptz_set_goto_preset(set, "ptz1", "berth", pos, &error));
    ck_assert_ptr_nonnull(strstr(error->message, "no preset 'berth'"));
    g_clear_error(&error);
    ptz_set_free(set);
}
END_TEST

static char *between(const char *s, const char *a, const char *b)
{
    const char *p = strstr(s, a);
    if (!p)
        return NULL;
    p += strlen(a);
    const char *q = strstr(p, b);
    return q ? g_strndup(p, q - p) : NULL;
}

START_TEST(test_absolute_move_sends_a_valid_signed_soap_request)
{
    static const OnvifAnswer ok = {200, "<ok/>"};
    Http *e = camsupport_onvif_start(&ok);
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d/onvif/ptz_service", e->port);
    PtzDevice dev = {url, "prof_1", "operator", "s3cret&<>", 5};
    GError *error = NULL;
    ck_assert(ptz_absolute_move(&dev, 0.5, -0.25, 0.3, &error));
    ck_assert_no_error(error);
    g_autofree char *req = http_request_text(e, 0, 10); /* as received, headers included */
    ck_assert_msg(g_str_has_prefix(req, "POST /onvif/ptz_service HTTP/1.1\r\n"), "%s", req);
    ck_assert(strcasestr(req, "Content-Type: application/soap+xml"));
    ck_assert(strstr(req, "action=\"http://www.onvif.org/ver20/ptz/wsdl/AbsoluteMove\""));
    ck_assert(strstr(req, "<tptz:ProfileToken>prof_1</tptz:ProfileToken>"));
    ck_assert(strstr(req, "<tt:PanTilt x=\"0.5000\" y=\"-0.2500\"/>"));
    ck_assert(strstr(req, "<tt:Zoom x=\"0.3000\"/>"));
    ck_assert(strstr(req, "<wsse:Username>operator</wsse:Username>"));
    /* the digest is Base64(SHA1(nonce + created + password)) */
    g_autofree char *nonce64 = between(req, "#Base64Binary\">", "</wsse:Nonce>");
    g_autofree char *created = between(req, "<wsu:Created>", "</wsu:Created>");
    g_autofree char *digest = between(req, "#PasswordDigest\">", "</wsse:Password>");
    ck_assert(nonce64 && created && digest);
    gsize n = 0;
    g_autofree guchar *nonce = g_base64_decode(nonce64, &n);
    ck_assert_uint_eq(n, 16);
    GChecksum *sha = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sha, nonce, n);
    g_checksum_update(sha, (const guchar *)created, strlen(created));
    g_checksum_update(sha, (const guchar *)"s3cret&<>", 9);
    guint8 d[20];
    gsize dl = sizeof d;
    g_checksum_get_digest(sha, d, &dl);
    g_checksum_free(sha);
    g_autofree char *expect = g_base64_encode(d, dl);
    ck_assert_str_eq(digest, expect);
    /* the body is what Content-Length says */
    const char *body = strstr(req, "\r\n\r\n") + 4;
    const char *cl = strcasestr(req, "Content-Length:");
    ck_assert(cl && (gsize)atoi(cl + 15) == strlen(body));
    ck_assert_uint_eq(http_count(e), 1);
    http_free(e);
}
END_TEST

START_TEST(test_fault_and_refused_connection_are_errors)
{
    static const OnvifAnswer fault = {
        500, "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\">"
             "<s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code>"
             "</s:Fault></s:Body></s:Envelope>"};
    Http *e = camsupport_onvif_start(&fault);
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d/onvif/ptz_service", e->port);
    PtzDevice dev = {url, "prof_1", NULL, NULL, 5};
    GError *error = NULL;
    ck_assert(!ptz_absolute_move(&dev, 0, 0, 0, &error));
    ck_assert(error && error->code == PTZ_ERROR_FAULT);
    g_clear_error(&error);
    http_free(e);
    /* nobody listens there any more */
    ck_assert(!ptz_absolute_move(&dev, 0, 0, 0, &error));
    ck_assert(error && error->code == PTZ_ERROR_HTTP);
    g_clear_error(&error);
    PtzDevice bad = {"ftp://x/", "p", NULL, NULL, 1};
    ck_assert(!ptz_absolute_move(&bad, 0, 0, 0, &error));
    ck_assert(error && error->code == PTZ_ERROR_INVALID);
    g_clear_error(&error);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_aim_points_the_camera_at_the_target, G_N_ELEMENTS(aims)},
    {&test_zoom_makes_the_box_a_third_of_the_view, G_N_ELEMENTS(boxes)},
    {&test_presets_parse_with_errors_naming_the_entry},
    {&test_absolute_move_sends_a_valid_signed_soap_request},
    {&test_fault_and_refused_connection_are_errors},
};

TESTUTIL_MAIN("ptz", "ptz", 30, TESTUTIL_TESTS(tests))
