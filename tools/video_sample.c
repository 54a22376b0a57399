/* video_sample.c: renders the synthetic camera clips of the demo scenario (and the benchmark's
 * 1080p clips) with cairo and encodes them to H.264 MP4 with GStreamer.
 *
 *   ps-video-sample rail  OUT.mp4 [--width W --height H --seconds S --codes C1,C2,...
 *                                  --speed V --lead S]
 *   ps-video-sample gate  OUT.mp4 [... --codes C1]
 *   ps-video-sample berth OUT.mp4 [...]
 *
 * rail: a train of containers passes the camera left to right (side view, one-line codes with a
 * boxed check digit and the size/type code below); gate: a container door view creeping towards
 * the camera; berth: sea, sky and the quay, with two vessels whose hulls are drawn where the berth
 * camera model (the pose in data/scenario/video/scene.ini) projects their AIS positions.
 */
#include <cairo.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#include "overlay.h"

typedef struct {
    int w, h;
    double seconds;
    double speed; /* rail: the train's speed in picture widths per second */
    double lead;  /* rail: seconds before the train enters the picture */
    char **codes;
} Opts;

static void text_at(cairo_t *cr, const char *font, double px, const char *text, double x,
                    double y)
{
    PangoLayout *l = pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_from_string(font);
    pango_font_description_set_absolute_size(fd, px * PANGO_SCALE);
    pango_layout_set_font_description(l, fd);
    pango_layout_set_text(l, text, -1);
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, l);
    pango_font_description_free(fd);
    g_object_unref(l);
}

static double text_w(cairo_t *cr, const char *font, double px, const char *text)
{
    PangoLayout *l = pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_from_string(font);
    pango_font_description_set_absolute_size(fd, px * PANGO_SCALE);
    pango_layout_set_font_description(l, fd);
    pango_layout_set_text(l, text, -1);
    int w, h;
    pango_layout_get_pixel_size(l, &w, &h);
    pango_font_description_free(fd);
    g_object_unref(l);
    return w;
}

static const double palette[][3] = {
    {0.10, 0.30, 0.62}, {0.62, 0.12, 0.10}, {0.12, 0.45, 0.25}, {0.85, 0.45, 0.10},
    {0.35, 0.35, 0.38},
};

/* A container side (w x h at x, y) with its code (one line, check digit boxed) and size/type. */
static void container_side(cairo_t *cr, double x, double y, double w, double h, const char *code,
                           int colour)
{
    const double *c = palette[colour % G_N_ELEMENTS(palette)];
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill(cr);
    /* corrugation */
    for (double cx = x + 6; cx < x + w - 4; cx += h * 0.07) {
        cairo_set_source_rgba(cr, 0, 0, 0, 0.16);
        cairo_rectangle(cr, cx, y + 4, h * 0.025, h - 8);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, c[0] * 0.6, c[1] * 0.6, c[2] * 0.6);
    cairo_set_line_width(cr, h * 0.04);
    cairo_rectangle(cr, x, y, w, h);
    cairo_stroke(cr);
    /* the code, top right: "PSTU 200101 6" with the check digit boxed */
    const char *font = "DejaVu Sans Bold";
    double px = h * 0.17;
    char owner[5], serial[7], check[2];
    g_strlcpy(owner, code, 5);
    g_strlcpy(serial, code + 4, 7);
    g_strlcpy(check, code + 10, 2);
    double wo = text_w(cr, font, px, owner), ws = text_w(cr, font, px, serial),
           wc = text_w(cr, font, px, check);
    double gap = px * 0.45;
    double total = wo + gap + ws + gap + wc + px * 0.2;
    double tx = x + w - total - h * 0.12, ty = y + h * 0.10;
    cairo_set_source_rgb(cr, 0.97, 0.97, 0.97);
    text_at(cr, font, px, owner, tx, ty);
    text_at(cr, font, px, serial, tx + wo + gap, ty);
    double cx = tx + wo + gap + ws + gap;
    text_at(cr, font, px, check, cx + px * 0.1, ty);
    cairo_set_line_width(cr, px * 0.08);
    cairo_rectangle(cr, cx - px * 0.05, ty + px * 0.12, wc + px * 0.3, px * 1.1);
    cairo_stroke(cr);
    text_at(cr, font, px, "22G1", x + w - text_w(cr, font, px, "22G1") - h * 0.12 - px * 0.2,
            ty + px * 1.5);
}

static void sky_and_ground(cairo_t *cr, int w, int h, double horizon)
{
    cairo_pattern_t *sky = cairo_pattern_create_linear(0, 0, 0, h * horizon);
    cairo_pattern_add_color_stop_rgb(sky, 0, 0.45, 0.62, 0.82);
    cairo_pattern_add_color_stop_rgb(sky, 1, 0.80, 0.86, 0.92);
    cairo_set_source(cr, sky);
    cairo_rectangle(cr, 0, 0, w, h * horizon);
    cairo_fill(cr);
    cairo_pattern_destroy(sky);
}

static void rail_frame(cairo_t *cr, const Opts *o, double t)
{
    int w = o->w, h = o->h;
    sky_and_ground(cr, w, h, 0.42);
    cairo_set_source_rgb(cr, 0.42, 0.42, 0.40);
    cairo_rectangle(cr, 0, h * 0.42, w, h * 0.58);
    cairo_fill(cr);
    /* a gantry crane in the distance */
    cairo_set_source_rgb(cr, 0.85, 0.55, 0.10);
    cairo_set_line_width(cr, h * 0.012);
    cairo_move_to(cr, w * 0.70, h * 0.42);
    cairo_line_to(cr, w * 0.70, h * 0.08);
    cairo_line_to(cr, w * 0.98, h * 0.08);
    cairo_line_to(cr, w * 0.98, h * 0.42);
    cairo_move_to(cr, w * 0.55, h * 0.10);
    cairo_line_to(cr, w * 1.00, h * 0.10);
    cairo_stroke(cr);
    /* rails */
    cairo_set_source_rgb(cr, 0.25, 0.22, 0.20);
    cairo_rectangle(cr, 0, h * 0.86, w, h * 0.02);
    cairo_rectangle(cr, 0, h * 0.92, w, h * 0.02);
    cairo_fill(cr);
    /* the train: wagons with a container each, moving right */
    double cw = w * 0.46, ch = h * 0.34, pitch = cw + w * 0.10;
    double speed = w * o->speed; /* per second */
    double x0 = -cw * 0.6 + speed * (t - o->lead);
    guint n = g_strv_length(o->codes);
    for (guint i = 0; i < n; i++) {
        double x = x0 - i * pitch;
        if (x > w || x + cw < 0)
            continue;
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.16);
        cairo_rectangle(cr, x - w * 0.02, h * 0.80, cw + w * 0.04, h * 0.05);
        cairo_fill(cr);
        for (int k = 0; k < 2; k++) {
            cairo_arc(cr, x + cw * (0.15 + 0.7 * k), h * 0.87, h * 0.03, 0, 2 * G_PI);
            cairo_fill(cr);
        }
        container_side(cr, x, h * 0.80 - ch, cw, ch, o->codes[i], (int)i);
    }
}

static void gate_frame(cairo_t *cr, const Opts *o, double t)
{
    int w = o->w, h = o->h;
    sky_and_ground(cr, w, h, 0.30);
    cairo_set_source_rgb(cr, 0.38, 0.38, 0.37);
    cairo_rectangle(cr, 0, h * 0.30, w, h * 0.70);
    cairo_fill(cr);
    /* gate portal */
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_rectangle(cr, w * 0.05, h * 0.05, w * 0.03, h * 0.9);
    cairo_rectangle(cr, w * 0.92, h * 0.05, w * 0.03, h * 0.9);
    cairo_rectangle(cr, w * 0.05, h * 0.05, w * 0.90, h * 0.04);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_at(cr, "DejaVu Sans Bold", h * 0.03, "GATE 3  闸口", w * 0.42, h * 0.055);
    /* a truck-borne container creeping in: grows 1.0 -> 1.15 */
    double s = 1.0 + 0.15 * t / MAX(1.0, o->seconds);
    double cw = w * 0.50 * s, ch = h * 0.52 * s;
    double x = (w - cw) / 2, y = h * 0.88 - ch;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_rectangle(cr, x + cw * 0.05, h * 0.88, cw * 0.9, h * 0.06);
    cairo_fill(cr);
    container_side(cr, x, y, cw, ch, o->codes[0], 1);
    /* door bars */
    cairo_set_source_rgba(cr, 0, 0, 0, 0.35);
    for (int k = 1; k < 4; k++) {
        cairo_rectangle(cr, x + cw * k / 4.0, y + ch * 0.45, cw * 0.012, ch * 0.52);
        cairo_fill(cr);
    }
}

/* The berth camera of data/scenario/video/scene.ini. */
static const PsPinholePose berth_pose = {30.62000, 122.07000, 35.0, 90.0, 3.0, 60.0, 0, 0};
static const struct {
    double lat, lon, heading, length, beam;
    double r, g, b;
} berth_vessels[] = {
    {30.62110, 122.07620, 0.0, 300, 40, 0.12, 0.20, 0.35}, /* along the quay, bow north */
    {30.61780, 122.08300, 20.0, 180, 28, 0.55, 0.10, 0.10},
};

static void project_poly(cairo_t *cr, const PsCameraModel *m, double lat, double lon,
                         double heading, const double (*pts)[3], int n)
{
    double mlat = 110850.0, mlon = 111320.0 * cos(lat * G_PI / 180);
    double th = heading * G_PI / 180;
    gboolean first = TRUE;
    for (int i = 0; i < n; i++) {
        double along = pts[i][0], across = pts[i][1];
        double e = along * sin(th) + across * cos(th), nn = along * cos(th) - across * sin(th);
        double x, y;
        if (!overlay_camera_project(m, lat + nn / mlat, lon + e / mlon, pts[i][2], &x, &y))
            return;
        if (first)
            cairo_move_to(cr, x, y);
        else
            cairo_line_to(cr, x, y);
        first = FALSE;
    }
    cairo_close_path(cr);
}

static void berth_frame(cairo_t *cr, const Opts *o, const PsCameraModel *m, double t)
{
    int w = o->w, h = o->h;
    double hx, hy; /* the horizon: a point far along the heading at camera height */
    overlay_camera_project(m, berth_pose.lat, berth_pose.lon + 0.5, berth_pose.height_m, &hx,
                           &hy);
    double horizon = CLAMP(hy / h, 0.05, 0.95);
    sky_and_ground(cr, w, h, horizon);
    cairo_pattern_t *sea = cairo_pattern_create_linear(0, h * horizon, 0, h);
    cairo_pattern_add_color_stop_rgb(sea, 0, 0.35, 0.50, 0.62);
    cairo_pattern_add_color_stop_rgb(sea, 1, 0.10, 0.22, 0.35);
    cairo_set_source(cr, sea);
    cairo_rectangle(cr, 0, h * horizon, w, h * (1 - horizon));
    cairo_fill(cr);
    cairo_pattern_destroy(sea);
    /* waves */
    cairo_set_source_rgba(cr, 1, 1, 1, 0.10);
    for (int k = 0; k < 40; k++) {
        double yy = h * horizon + (h * (1 - horizon)) * ((k * 37) % 100) / 100.0;
        double xx = fmod(k * 131.0 + t * 12.0 * (1 + k % 3), w + 80) - 40;
        cairo_rectangle(cr, xx, yy, 20 + (yy - h * horizon) * 0.2, 1.5);
        cairo_fill(cr);
    }
    for (guint v = 0; v < G_N_ELEMENTS(berth_vessels); v++) {
        double L = berth_vessels[v].length / 2, B = berth_vessels[v].beam / 2;
        /* the side facing the camera (west: across < 0 for a ship heading north), the deck,
         * container stacks and the deckhouse */
        const double side[][3] = {{-L, -B, 0}, {L * 0.85, -B, 0}, {L, 0, 0}, {L, 0, 20},
                                  {L * 0.85, -B, 20}, {-L, -B, 20}};
        const double deck[][3] = {{-L, -B, 20}, {L * 0.85, -B, 20}, {L, 0, 20}, {L * 0.85, B, 20},
                                  {-L, B, 20}};
        const double house[][3] = {{-L * 0.92, -B * 0.8, 20}, {-L * 0.72, -B * 0.8, 20},
                                   {-L * 0.72, -B * 0.8, 48}, {-L * 0.92, -B * 0.8, 48}};
        double lat = berth_vessels[v].lat, lon = berth_vessels[v].lon,
               hd = berth_vessels[v].heading;
        cairo_set_source_rgb(cr, 0.55, 0.56, 0.58);
        project_poly(cr, m, lat, lon, hd, deck, G_N_ELEMENTS(deck));
        cairo_fill(cr);
        for (int k = 0; k < 8; k++) { /* stacks of containers in four colours */
            double a0 = -L * 0.65 + k * L * 0.17, a1 = a0 + L * 0.15;
            const double stack[][3] = {{a0, -B * 0.9, 20}, {a1, -B * 0.9, 20},
                                       {a1, -B * 0.9, 20 + 2.6 * (3 + k % 3)},
                                       {a0, -B * 0.9, 20 + 2.6 * (3 + k % 3)}};
            const double *c = palette[(k + v) % G_N_ELEMENTS(palette)];
            cairo_set_source_rgb(cr, c[0], c[1], c[2]);
            project_poly(cr, m, lat, lon, hd, stack, G_N_ELEMENTS(stack));
            cairo_fill(cr);
        }
        cairo_set_source_rgb(cr, berth_vessels[v].r, berth_vessels[v].g, berth_vessels[v].b);
        project_poly(cr, m, lat, lon, hd, side, G_N_ELEMENTS(side));
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.92, 0.92, 0.90);
        project_poly(cr, m, lat, lon, hd, house, G_N_ELEMENTS(house));
        cairo_fill(cr);
    }
    /* the quay edge in the foreground */
    cairo_set_source_rgb(cr, 0.45, 0.44, 0.42);
    cairo_rectangle(cr, 0, h * 0.90, w, h * 0.10);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.95, 0.80, 0.10);
    cairo_rectangle(cr, 0, h * 0.90, w, h * 0.008);
    cairo_fill(cr);
}

int main(int argc, char **argv)
{
    Opts o = {960, 540, 8.0, 0.16, 0.0, NULL};
    char *codes = NULL;
    GOptionEntry entries[] = {
        {"width", 0, 0, G_OPTION_ARG_INT, &o.w, "frame width", "W"},
        {"height", 0, 0, G_OPTION_ARG_INT, &o.h, "frame height", "H"},
        {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &o.seconds, "clip length", "S"},
        {"codes", 0, 0, G_OPTION_ARG_STRING, &codes, "container codes, comma separated", "C,..."},
        {"speed", 0, 0, G_OPTION_ARG_DOUBLE, &o.speed,
         "rail: the train's speed in picture widths per second (default 0.16)", "V"},
        {"lead", 0, 0, G_OPTION_ARG_DOUBLE, &o.lead,
         "rail: seconds of empty track before the train (default 0)", "S"},
        {NULL},
    };
    GOptionContext *ctx = g_option_context_new("rail|gate|berth OUT.mp4");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, gst_init_get_option_group());
    GError *error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 3 || o.w < 64 ||
        o.h < 64 || o.w % 2 || o.h % 2 || o.seconds <= 0 || o.seconds > 600 ||
        !(o.speed >= 0.01 && o.speed <= 2) || !(o.lead >= 0 && o.lead <= 600)) {
        fprintf(stderr, "usage: ps-video-sample rail|gate|berth OUT.mp4 [--width W (even)] "
                        "[--height H (even)] [--seconds S (0-600)] [--codes C1,C2] "
                        "[--speed V (0.01-2)] [--lead S (0-600)]\n");
        return 2;
    }
    g_option_context_free(ctx);
    o.codes = g_strsplit(codes ? codes : "PSTU2001016,PSTU2001021", ",", -1);
    for (char **c = o.codes; *c; c++)
        if (strlen(*c) != 11) {
            fprintf(stderr, "ps-video-sample: '%s' is not an 11-character container code\n", *c);
            return 2;
        }
    const char *kind = argv[1];
    if (strcmp(kind, "rail") && strcmp(kind, "gate") && strcmp(kind, "berth")) {
        fprintf(stderr, "ps-video-sample: unknown clip kind '%s'\n", kind);
        return 2;
    }
    PsPinholePose pose = berth_pose;
    pose.width = o.w;
    pose.height = o.h;
    PsCameraModel *model = overlay_camera_new_pinhole(&pose, NULL);

    g_autofree char *desc = g_strdup_printf(
        "appsrc name=src format=time caps=video/x-raw,format=BGRx,width=%d,height=%d,"
        "framerate=25/1 ! videoconvert ! video/x-raw,format=I420 ! x264enc speed-preset=medium "
        "key-int-max=25 pass=quant quantizer=28 ! h264parse ! mp4mux ! filesink location=\"%s\"",
        o.w, o.h, argv[2]);
    GstElement *pipe = gst_parse_launch(desc, &error);
    if (!pipe) {
        fprintf(stderr, "ps-video-sample: %s\n", error->message);
        return 1;
    }
    GstElement *src = gst_bin_get_by_name(GST_BIN(pipe), "src");
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    int frames = (int)lround(o.seconds * 25);
    int stride = cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, o.w);
    for (int f = 0; f < frames; f++) {
        GstBuffer *buf = gst_buffer_new_allocate(NULL, (gsize)stride * o.h, NULL);
        GstMapInfo map;
        gst_buffer_map(buf, &map, GST_MAP_WRITE);
        cairo_surface_t *s = cairo_image_surface_create_for_data(map.data, CAIRO_FORMAT_RGB24,
                                                                 o.w, o.h, stride);
        cairo_t *cr = cairo_create(s);
        double t = f / 25.0;
        if (kind[0] == 'r')
            rail_frame(cr, &o, t);
        else if (kind[0] == 'g')
            gate_frame(cr, &o, t);
        else
            berth_frame(cr, &o, model, t);
        cairo_destroy(cr);
        cairo_surface_flush(s);
        cairo_surface_destroy(s);
        gst_buffer_unmap(buf, &map);
        GST_BUFFER_PTS(buf) = gst_util_uint64_scale(f, GST_SECOND, 25);
        GST_BUFFER_DURATION(buf) = GST_SECOND / 25;
        if (gst_app_src_push_buffer(GST_APP_SRC(src), buf) != GST_FLOW_OK)
            break;
    }
    gst_app_src_end_of_stream(GST_APP_SRC(src));
    GstBus *bus = gst_element_get_bus(pipe);
    GstMessage *msg = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                                 GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    int rc = 0;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError *e = NULL;
        gst_message_parse_error(msg, &e, NULL);
        fprintf(stderr, "ps-video-sample: %s\n", e->message);
        g_error_free(e);
        rc = 1;
    }
    gst_message_unref(msg);
    gst_object_unref(bus);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(src);
    gst_object_unref(pipe);
    overlay_camera_free(model);
    g_strfreev(o.codes);
    g_free(codes);
    return rc;
}
