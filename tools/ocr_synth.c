/* ocr_synth.c: renders synthetic container faces with ISO 6346 codes, with ground truth.
 *
 *   ocr-synth chars  --seed S --count N --out FILE   training crops for the character network:
 *       N records of 1 label byte (0-35 = 0-9A-Z, 36 = not a character) + 32x32 gray bytes, cut
 *       with ocr__char_crop(), the recognizer's own function.
 *   ocr-synth frames --seed S --count N --out DIR [--width W --height H] [--views V]
 *       N JPEG frames DIR/synth-NNNN.jpg (layouts in turn) and DIR/labels.csv in the layout of
 *       ../shared/data/ocr-dev/labels.csv (file,code,size_type,layout,view,notes,bbox x1 y1 x2 y2),
 *       and DIR/boxes.csv, the ink box of every character painted (the detector's training
 *       labels): file,kind,char,x0,y0,x1,y1 in frame pixels, kind `code` (the 11 characters of
 *       the code), `size_type`, `box` (the frame around a check digit or a part of the code,
 *       char `-`) or `other` (distractor markings, which must not be read as a code).
 *       With --views V, each container is painted in V frames in turn (other scenes, layouts
 *       and conditions, the same code and size/type), named as the real photos' gate
 *       transactions: 1-<container>-OCR-<view>-1.jpg, which bench-ocr fuses. With --alike too,
 *       the views of a container also share its paint and font, its first view's rain, night or
 *       infrared light, and its JPEG quality (one gate's cameras at one moment; glare, motion
 *       blur and the rest stay each view's own).
 *   ocr-synth lines --seed S --count N --out FILE [--width W --height H]
 *       training strips for the line reader (ocr/ctc.c), from N frames rendered as `frames`
 *       renders them: of each, the rows of the code and of the size/type with jittered ends, and
 *       the lines the detector finds in it (ocr__det_lines()), cut with ocr__line_crop(), the
 *       reader's own function. Records: the label's length (1 byte), the label (the characters
 *       the strip shows, in order), the width (2 bytes, little-endian), 32 rows of bytes.
 *
 * Scenes: painted steel in a random colour with corrugation, the code in one of seven layouts
 * (one line with a boxed check digit, three rows, a vertical column, owner and serial on
 * different door panels, owner/serial/check digit in separate boxes, a roof from above, a tank
 * container), the size/type code below or to the right, other markings as distractors, in half
 * of the scenes a busy surrounding (truck parts, fences, cranes, number plates, weight
 * markings), rotation/shear/foreshortening, light gradient, shadow, glare, rust and dirt, blur
 * and noise; night, infrared, glare, rain and motion blur; in frames a quarter of the JPEGs
 * heavily compressed. Fonts come from Debian packages (fonts-dejavu-core, fonts-dejavu-extra,
 * fonts-liberation, fonts-freefont-ttf); missing ones fall back through fontconfig.
 */
#include <cairo.h>
#include <leptonica/allheaders.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#include "iso6346.h"
#include "ocr-private.h"

static const char *fonts[] = {
    "Liberation Sans Narrow Bold", "Liberation Sans Bold", "DejaVu Sans Condensed Bold",
    "DejaVu Sans Bold", "FreeSans Bold", "DejaVu Sans Condensed", "Liberation Sans",
    "FreeSans", "DejaVu Sans Mono Bold", "Liberation Sans Narrow",
};

static const char *size_types[] = {"22G1", "42G1", "45G1", "45R1", "L5G1", "22U1", "22T1",
                                   "42U1", "22G0", "45G0", "20G1", "25G1", "42P1", "22R1"};

/* The layouts of the code block. The first three are the door and corner-post layouts of
 * ../shared/data/ocr-dev; the others are seen at other terminals: owner code and serial on
 * different door panels (a seam between them, 2.5-8 character heights apart), owner / serial /
 * check digit each in its own painted box, a roof seen from above (one line or two rows across
 * dense corrugation), a tank container (the code on the shell or a plate inside the frame's
 * beams). */
typedef enum {
    LAYOUT_LINE,
    LAYOUT_ROWS,
    LAYOUT_VERTICAL,
    LAYOUT_PANELS,
    LAYOUT_BOXES,
    LAYOUT_ROOF,
    LAYOUT_TANK,
    N_LAYOUTS
} Layout;
static const char *layout_names[] = {"horizontal_1line", "multi_line", "vertical",
                                     "split_panels",     "separate_boxes", "roof", "tank"};
/* Width and height of each layout's block in character heights (placement, frame fit). */
static const double layout_size[][2] = {{10, 4.5}, {10, 4.5}, {4, 15},
                                        {20, 4.5}, {14, 4.5}, {10, 4.5}, {10, 4.5}};

typedef struct {
    int label; /* class index, or -1 for a box frame */
    double x0, y0, x1, y1; /* ink box in image pixels */
} Glyph;

typedef struct {
    GRand *rng;
    cairo_t *cr;
    GArray *glyphs; /* Glyph */
    double r, g, b; /* text colour */
    double bg[3];   /* paint colour around the code */
    const char *font;
    double char_h;
} Scene;

static double urand(GRand *rng, double lo, double hi)
{
    return g_rand_double_range(rng, lo, hi);
}

/* Draws @c at (@x, @y) (top-left of the cap height) in user space; records its ink box in
 * device space. Returns the advance. */
static double draw_char(Scene *s, char c, double x, double y, gboolean record)
{
    PangoLayout *layout = pango_cairo_create_layout(s->cr);
    PangoFontDescription *fd = pango_font_description_from_string(s->font);
    pango_font_description_set_absolute_size(fd, s->char_h / 0.73 * PANGO_SCALE);
    pango_layout_set_font_description(layout, fd);
    char text[2] = {c, '\0'};
    pango_layout_set_text(layout, text, 1);
    PangoRectangle ink, logical;
    pango_layout_get_pixel_extents(layout, &ink, &logical);
    int baseline = pango_layout_get_baseline(layout) / PANGO_SCALE;
    /* Place the baseline at y + char_h. */
    double ox = x, oy = y + s->char_h - baseline;
    cairo_move_to(s->cr, ox, oy);
    cairo_set_source_rgb(s->cr, s->r, s->g, s->b);
    pango_cairo_show_layout(s->cr, layout);
    if (record && ink.width > 0 && ink.height > 0) {
        double xs[4] = {ox + ink.x, ox + ink.x + ink.width, ox + ink.x, ox + ink.x + ink.width};
        double ys[4] = {oy + ink.y, oy + ink.y, oy + ink.y + ink.height, oy + ink.y + ink.height};
        Glyph gl = {ocr_class_index(c), 1e9, 1e9, -1e9, -1e9};
        for (int i = 0; i < 4; i++) {
            cairo_user_to_device(s->cr, &xs[i], &ys[i]);
            gl.x0 = MIN(gl.x0, xs[i]);
            gl.y0 = MIN(gl.y0, ys[i]);
            gl.x1 = MAX(gl.x1, xs[i]);
            gl.y1 = MAX(gl.y1, ys[i]);
        }
        g_array_append_val(s->glyphs, gl);
    }
    double adv = logical.width;
    pango_font_description_free(fd);
    g_object_unref(layout);
    return adv;
}

/* The vertical ink range of @c drawn at y = 0 by draw_char(), in user space. */
static void char_ink_y(Scene *s, char c, double *top, double *bottom)
{
    PangoLayout *layout = pango_cairo_create_layout(s->cr);
    PangoFontDescription *fd = pango_font_description_from_string(s->font);
    pango_font_description_set_absolute_size(fd, s->char_h / 0.73 * PANGO_SCALE);
    pango_layout_set_font_description(layout, fd);
    char text[2] = {c, '\0'};
    pango_layout_set_text(layout, text, 1);
    PangoRectangle ink;
    pango_layout_get_pixel_extents(layout, &ink, NULL);
    double oy = s->char_h - pango_layout_get_baseline(layout) / PANGO_SCALE;
    *top = oy + ink.y;
    *bottom = oy + ink.y + ink.height;
    pango_font_description_free(fd);
    g_object_unref(layout);
}

static double text_width(Scene *s, const char *text, double spacing)
{
    PangoLayout *layout = pango_cairo_create_layout(s->cr);
    PangoFontDescription *fd = pango_font_description_from_string(s->font);
    pango_font_description_set_absolute_size(fd, s->char_h / 0.73 * PANGO_SCALE);
    pango_layout_set_font_description(layout, fd);
    double w = 0;
    for (const char *p = text; *p; p++) {
        char t[2] = {*p, '\0'};
        pango_layout_set_text(layout, t, 1);
        PangoRectangle logical;
        pango_layout_get_pixel_extents(layout, NULL, &logical);
        w += logical.width + spacing;
    }
    pango_font_description_free(fd);
    g_object_unref(layout);
    return w;
}

static double draw_string(Scene *s, const char *text, double x, double y, double spacing,
                          gboolean record)
{
    for (const char *p = text; *p; p++)
        x += (*p == ' ' ? s->char_h * 0.5 : draw_char(s, *p, x, y, record)) + spacing;
    return x;
}

static void draw_box(Scene *s, double x, double y, double w, double h)
{
    cairo_set_line_width(s->cr, s->char_h * urand(s->rng, 0.04, 0.09));
    cairo_rectangle(s->cr, x, y, w, h);
    cairo_set_source_rgb(s->cr, s->r, s->g, s->b);
    cairo_stroke(s->cr);
    double xs[2] = {x, x + w}, ys[2] = {y, y + h};
    Glyph gl = {-1, 1e9, 1e9, -1e9, -1e9};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double px = xs[i], py = ys[j];
            cairo_user_to_device(s->cr, &px, &py);
            gl.x0 = MIN(gl.x0, px);
            gl.y0 = MIN(gl.y0, py);
            gl.x1 = MAX(gl.x1, px);
            gl.y1 = MAX(gl.y1, py);
        }
    g_array_append_val(s->glyphs, gl);
}

/* A boxed check digit at (x, y); returns the advance. */
static double draw_boxed(Scene *s, char c, double x, double y)
{
    double pad = s->char_h * urand(s->rng, 0.12, 0.25);
    double adv = draw_char(s, c, x + pad, y, TRUE);
    draw_box(s, x, y - pad, adv + 2 * pad, s->char_h + 2 * pad);
    return adv + 2 * pad;
}

static void random_code(GRand *rng, char code[12])
{
    for (int i = 0; i < 3; i++)
        code[i] = (char)('A' + g_rand_int_range(rng, 0, 26));
    double u = g_rand_double(rng);
    code[3] = u < 0.9 ? 'U' : u < 0.95 ? 'J' : 'Z';
    for (int i = 4; i < 10; i++)
        code[i] = (char)('0' + g_rand_int_range(rng, 0, 10));
    code[10] = (char)('0' + iso6346_check_digit(code));
    code[11] = '\0';
}

static void random_word(GRand *rng, char *out, int n, gboolean digits)
{
    for (int i = 0; i < n; i++)
        out[i] = digits && g_rand_boolean(rng) ? (char)('0' + g_rand_int_range(rng, 0, 10))
                                               : (char)('A' + g_rand_int_range(rng, 0, 26));
    out[n] = '\0';
}

/* The size/type code of a one-line layout: below the owner code, below the serial (from
 * @serial_x), or to the right of the check digit (which ends at @end_x). */
static void draw_size_type(Scene *s, const char *st, double sp, double end_x, double owner_w,
                           double serial_x)
{
    double h = s->char_h, u = g_rand_double(s->rng);
    if (u < 0.25)
        draw_string(s, st, end_x + h * urand(s->rng, 0.8, 2.0), 0, sp, TRUE);
    else if (u < 0.6)
        draw_string(s, st, serial_x > 0 ? serial_x : owner_w + h * 0.6,
                    h * urand(s->rng, 1.5, 2.2), sp, TRUE);
    else
        draw_string(s, st, 0, h * urand(s->rng, 1.5, 2.2), sp, TRUE);
}

/* Paints the code in @layout with its top-left at (0, 0) of the current user space. */
static void draw_code(Scene *s, Layout layout, const char *code, const char *st)
{
    char owner[5], serial[7];
    memcpy(owner, code, 4);
    owner[4] = '\0';
    memcpy(serial, code + 4, 6);
    serial[6] = '\0';
    double h = s->char_h, sp = h * urand(s->rng, 0.02, 0.25);
    if (layout == LAYOUT_LINE || layout == LAYOUT_PANELS) {
        double x = draw_string(s, owner, 0, 0, sp, TRUE);
        if (layout == LAYOUT_PANELS) {
            /* The door seam: the panels' edges and a locking bar between owner and serial. */
            double gap = h * urand(s->rng, 2.5, 8.0), bar = h * urand(s->rng, 0.2, 0.6);
            double bx = x + (gap - bar) * urand(s->rng, 0.3, 0.7);
            cairo_rectangle(s->cr, bx, -h * urand(s->rng, 1, 3), bar, h * urand(s->rng, 5, 8));
            double k = urand(s->rng, 0.3, 0.7);
            cairo_set_source_rgb(s->cr, s->bg[0] * k, s->bg[1] * k, s->bg[2] * k);
            cairo_fill(s->cr);
            x += gap;
        } else {
            x += h * urand(s->rng, 0.3, 1.0);
        }
        x = draw_string(s, serial, x, 0, sp, TRUE);
        x += h * urand(s->rng, 0.25, 0.6);
        x += draw_boxed(s, code[10], x, 0);
        draw_size_type(s, st, sp, x, text_width(s, owner, sp), layout == LAYOUT_PANELS ? x -
                       text_width(s, serial, sp) - h : 0);
    } else if (layout == LAYOUT_BOXES) {
        /* Owner, serial and check digit each in a box of its own, on one line. */
        double pad = h * urand(s->rng, 0.15, 0.35), x = 0;
        for (int part = 0; part < 2; part++) {
            const char *t = part == 0 ? owner : serial;
            double w = draw_string(s, t, x + pad, 0, sp, TRUE) - sp - x - pad;
            draw_box(s, x, -pad, w + 2 * pad, h + 2 * pad);
            x += w + 2 * pad + h * urand(s->rng, 0.3, 1.0);
        }
        x += draw_boxed(s, code[10], x, 0);
        draw_size_type(s, st, sp, x, text_width(s, owner, sp), 0);
    } else if (layout == LAYOUT_ROOF || layout == LAYOUT_TANK) {
        draw_code(s, g_rand_boolean(s->rng) ? LAYOUT_LINE : LAYOUT_ROWS, code, st);
    } else if (layout == LAYOUT_ROWS) {
        double pitch = h * urand(s->rng, 1.35, 1.8);
        draw_string(s, owner, 0, 0, sp, TRUE);
        double x = draw_string(s, serial, 0, pitch, sp, TRUE);
        draw_boxed(s, code[10], x + h * urand(s->rng, 0.25, 0.6), pitch);
        draw_string(s, st, 0, 2 * pitch, sp, TRUE);
    } else {
        double pitch = h * urand(s->rng, 1.1, 1.45);
        double colw = text_width(s, "W", 0);
        /* One character per row at a fixed pitch; a row moves down when the ink above it (the
         * tail of a Q, a J's descender) would otherwise touch it: stencilled columns are not
         * overprinted. */
        double shift = 0, prev_bottom = -1e9, top, bottom;
        for (int i = 0; i < 10; i++) {
            char t[2] = {code[i], '\0'};
            double w = text_width(s, t, 0);
            char_ink_y(s, code[i], &top, &bottom);
            double y = i * pitch + shift;
            if (y + top < prev_bottom + 0.06 * h) {
                shift += prev_bottom + 0.06 * h - (y + top);
                y = i * pitch + shift;
            }
            draw_char(s, code[i], (colw - w) / 2, y, TRUE);
            prev_bottom = y + bottom;
        }
        char t[2] = {code[10], '\0'};
        double w = text_width(s, t, 0);
        double yb = 10 * pitch + shift + h * 0.3; /* the box's pad is at most 0.25 h */
        if (yb - 0.25 * h < prev_bottom + 0.06 * h)
            yb = prev_bottom + 0.31 * h;
        draw_boxed(s, code[10], (colw - w) / 2 - h * 0.18, yb);
        double sx = colw + h * urand(s->rng, 1.0, 3.0);
        for (int i = 0; i < 4; i++) {
            char u[2] = {st[i], '\0'};
            draw_char(s, st[i], sx + (colw - text_width(s, u, 0)) / 2, i * pitch, TRUE);
        }
    }
}

/* Luma of an ARGB32 surface into a gray buffer. */
static guint8 *surface_gray(cairo_surface_t *surf, int w, int h)
{
    guint8 *gray = g_malloc((size_t)w * h);
    const guint8 *data = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const guint32 px = *(const guint32 *)(data + (size_t)y * stride + 4 * x);
            int r = (px >> 16) & 255, g = (px >> 8) & 255, b = px & 255;
            gray[(size_t)y * w + x] = (guint8)((77 * r + 150 * g + 29 * b) >> 8);
        }
    return gray;
}

/* Box blur of radius @r, one pass horizontally and vertically, on the ARGB surface. */
static void blur_surface(cairo_surface_t *surf, int w, int h, int r)
{
    if (r < 1)
        return;
    guint8 *data = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    int n = MAX(w, h);
    int *acc = g_new(int, (size_t)(n + 1) * 4);
    guint8 *line = g_malloc((size_t)n * 4);
    for (int pass = 0; pass < 2; pass++) {
        int len = pass == 0 ? w : h, count = pass == 0 ? h : w;
        for (int l = 0; l < count; l++) {
            for (int i = 0; i < len; i++) {
                guint8 *p = pass == 0 ? data + (size_t)l * stride + 4 * i
                                      : data + (size_t)i * stride + 4 * l;
                memcpy(line + 4 * i, p, 4);
            }
            for (int c = 0; c < 4; c++) {
                acc[c] = 0;
                for (int i = 0; i < len; i++)
                    acc[(i + 1) * 4 + c] = acc[i * 4 + c] + line[4 * i + c];
            }
            for (int i = 0; i < len; i++) {
                int a = MAX(0, i - r), b = MIN(len - 1, i + r);
                guint8 *p = pass == 0 ? data + (size_t)l * stride + 4 * i
                                      : data + (size_t)i * stride + 4 * l;
                for (int c = 0; c < 4; c++)
                    p[c] = (guint8)((acc[(b + 1) * 4 + c] - acc[a * 4 + c]) / (b - a + 1));
            }
        }
    }
    g_free(acc);
    g_free(line);
}

/* Corrugation, light gradient, shadow and noise, applied to the pixels. */
static void post_effects(GRand *rng, cairo_surface_t *surf, int w, int h, double char_h,
                         gboolean roof)
{
    cairo_surface_flush(surf);
    guint8 *data = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    double period = char_h * urand(rng, 0.4, 2.0), amp = urand(rng, 0.0, 0.3);
    gboolean vertical_ribs = g_rand_double(rng) < 0.7;
    if (roof) { /* dense ribs across the code, seen from above */
        period = char_h * urand(rng, 0.3, 0.8);
        amp = urand(rng, 0.1, 0.35);
        vertical_ribs = TRUE;
    }
    double phase = urand(rng, 0, 6.3);
    double gx = urand(rng, -0.5, 0.5) / w, gy = urand(rng, -0.5, 0.5) / h;
    double base = urand(rng, 0.6, 1.3);
    /* A shadow edge: a line through the picture, darker on one side. */
    double sa = urand(rng, 0, 6.3), sd = urand(rng, -0.5, 0.5) * w;
    double shadow = g_rand_double(rng) < 0.35 ? urand(rng, 0.35, 0.8) : 1.0;
    double noise = urand(rng, 0, 10);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            guint8 *p = data + (size_t)y * stride + 4 * x;
            double t = vertical_ribs ? x : y;
            double f = base * (1 + amp * sin(2 * G_PI * t / period + phase)) *
                       (1 + gx * (x - w / 2.0) + gy * (y - h / 2.0));
            if ((x - w / 2.0) * cos(sa) + (y - h / 2.0) * sin(sa) > sd)
                f *= shadow;
            double nz = noise > 0 ? g_rand_double_range(rng, -noise, noise) * 1.7 : 0;
            for (int c = 0; c < 3; c++) {
                double v = p[c] * f + nz;
                p[c] = (guint8)CLAMP(v, 0, 255);
            }
        }
    }
    cairo_surface_mark_dirty(surf);
}

static void pick_colours(GRand *rng, double bg[3], double fg[3])
{
    static const double palette[][3] = {
        {0.10, 0.25, 0.55}, {0.55, 0.12, 0.10}, {0.45, 0.45, 0.47}, {0.85, 0.85, 0.82},
        {0.12, 0.40, 0.20}, {0.45, 0.28, 0.15}, {0.85, 0.45, 0.10}, {0.20, 0.20, 0.22},
        {0.60, 0.65, 0.70}, {0.15, 0.45, 0.60}, {0.70, 0.20, 0.15}, {0.90, 0.90, 0.90},
    };
    const double *p = palette[g_rand_int_range(rng, 0, G_N_ELEMENTS(palette))];
    for (int i = 0; i < 3; i++)
        bg[i] = CLAMP(p[i] + urand(rng, -0.08, 0.08), 0, 1);
    double lum = 0.3 * bg[0] + 0.59 * bg[1] + 0.11 * bg[2];
    if (lum < 0.5) {
        double v = urand(rng, 0.8, 1.0);
        fg[0] = fg[1] = fg[2] = v;
        if (g_rand_double(rng) < 0.1)
            fg[2] = 0.1; /* yellow */
    } else {
        double v = urand(rng, 0.0, 0.2);
        fg[0] = fg[1] = fg[2] = v;
    }
}

static void draw_dirt(GRand *rng, cairo_t *cr, int w, int h, double char_h, int n)
{
    for (int i = 0; i < n; i++) {
        double x = urand(rng, 0, w), y = urand(rng, 0, h);
        double rx = char_h * urand(rng, 0.05, 1.0), ry = rx * urand(rng, 0.3, 2.0);
        cairo_save(cr);
        cairo_translate(cr, x, y);
        cairo_scale(cr, rx, ry);
        cairo_arc(cr, 0, 0, 1, 0, 2 * G_PI);
        cairo_restore(cr);
        if (g_rand_boolean(rng))
            cairo_set_source_rgba(cr, urand(rng, 0.3, 0.6), urand(rng, 0.15, 0.3), 0.05,
                                  urand(rng, 0.1, 0.5));
        else
            cairo_set_source_rgba(cr, 1, 1, 1, urand(rng, 0.05, 0.4)); /* glare */
        cairo_fill(cr);
    }
}

/* What conditions() put on a scene, for the labels' notes: bit k is named cond_names[k]. */
enum {
    COND_GLARE = 1 << 0,
    COND_RAIN = 1 << 1,
    COND_NIGHT = 1 << 2,
    COND_INFRARED = 1 << 3,
    COND_MOTION = 1 << 4,
    COND_BUSY = 1 << 5,
};
static const char *const cond_names[] = {"glare", "rain", "night", "infrared", "motion", "busy"};
_Static_assert(1 << (G_N_ELEMENTS(cond_names) - 1) == COND_BUSY, "a name for each condition");

/* Light and weather of other sites, each with its own odds: night (dim, noisy, one lamp), an
 * infrared camera (monochrome, bright centre, dark edges), glare, rain streaks and motion blur
 * along the direction of travel. Returns the COND_ flags of what it did. */
/* Paints glare, rain, night or infrared light and motion blur, each at its rate; or, with
 * @shared >= 0, the rain, night and infrared of @shared (COND_ flags: another camera's view of
 * the same moment) and the others at their rates. The random stream is the same either way
 * up to the effects painted. Returns the COND_ flags painted. */
static unsigned conditions(GRand *rng, cairo_surface_t *surf, int w, int h, double char_h,
                           int shared)
{
    unsigned done = 0;
    cairo_t *cr = cairo_create(surf);
    if (g_rand_double(rng) < 0.2) { /* glare: a bright patch, sometimes over the code */
        done |= COND_GLARE;
        double gx = urand(rng, 0, w), gy = urand(rng, 0, h), r = char_h * urand(rng, 1, 5);
        cairo_pattern_t *pat = cairo_pattern_create_radial(gx, gy, 0, gx, gy, r);
        cairo_pattern_add_color_stop_rgba(pat, 0, 1, 1, 0.95, urand(rng, 0.4, 0.75));
        cairo_pattern_add_color_stop_rgba(pat, 1, 1, 1, 0.95, 0);
        cairo_set_source(cr, pat);
        cairo_paint(cr);
        cairo_pattern_destroy(pat);
    }
    double rain = g_rand_double(rng);
    if (shared >= 0)
        rain = shared & COND_RAIN ? 0 : 1;
    if (rain < 0.12) { /* rain */
        done |= COND_RAIN;
        int n = g_rand_int_range(rng, 200, 900);
        double ang = urand(rng, -0.4, 0.4);
        cairo_set_line_width(cr, MAX(1.0, char_h * 0.03));
        for (int i = 0; i < n; i++) {
            double x = urand(rng, 0, w), y = urand(rng, 0, h), l = char_h * urand(rng, 0.4, 2);
            cairo_move_to(cr, x, y);
            cairo_line_to(cr, x + l * sin(ang), y + l * cos(ang));
            cairo_set_source_rgba(cr, 0.85, 0.88, 0.9, urand(rng, 0.1, 0.35));
            cairo_stroke(cr);
        }
    }
    cairo_destroy(cr);
    cairo_surface_flush(surf);
    guint8 *data = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    double u = g_rand_double(rng);
    if (shared >= 0)
        u = shared & COND_INFRARED ? 0.05 : shared & COND_NIGHT ? 0.2 : 1;
    if (u < 0.25) { /* night (0.15) or infrared (0.10) */
        gboolean ir = u < 0.10;
        done |= ir ? COND_INFRARED : COND_NIGHT;
        double lx = urand(rng, 0, w), ly = urand(rng, 0, h), lr = MAX(w, h) * urand(rng, 0.3, 1);
        double dim = urand(rng, 0.15, 0.4), noise = urand(rng, 4, 14);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                guint8 *p = data + (size_t)y * stride + 4 * x;
                double d2 = ((x - lx) * (x - lx) + (y - ly) * (y - ly)) / (lr * lr);
                double f = ir ? 1.3 * exp(-0.8 * d2) : dim * (0.6 + 1.2 * exp(-d2));
                double nz = g_rand_double_range(rng, -noise, noise);
                if (ir) {
                    double v = (77 * p[2] + 150 * p[1] + 29 * p[0]) / 256.0 * f + nz;
                    p[0] = p[1] = p[2] = (guint8)CLAMP(v, 0, 255);
                } else {
                    for (int c = 0; c < 3; c++)
                        p[c] = (guint8)CLAMP(p[c] * f * (c == 0 ? 0.8 : 1.0) + nz, 0, 255);
                }
            }
    }
    if (g_rand_double(rng) < 0.15) { /* motion blur, horizontal, 2 r + 1 pixels long */
        done |= COND_MOTION;
        int r = MAX(1, (int)(char_h * urand(rng, 0.03, 0.12)));
        guint8 *line = g_malloc((size_t)w * 4);
        for (int y = 0; y < h; y++) {
            guint8 *row = data + (size_t)y * stride;
            memcpy(line, row, (size_t)w * 4);
            for (int c = 0; c < 3; c++) {
                int acc = 0, n = 0;
                for (int x = -r; x < w; x++) {
                    if (x + r < w)
                        acc += line[4 * (x + r) + c], n++;
                    if (x - r - 1 >= 0)
                        acc -= line[4 * (x - r - 1) + c], n--;
                    if (x >= 0)
                        row[4 * x + c] = (guint8)(acc / n);
                }
            }
        }
        g_free(line);
    }
    cairo_surface_mark_dirty(surf);
    return done;
}

/* Whether the box [x0, x1) x [y0, y1) keeps @margin away from the code block @blk. */
static gboolean clear_of(const double blk[4], double margin, double x0, double y0, double x1,
                         double y1)
{
    return x0 >= blk[2] + margin || x1 <= blk[0] - margin || y0 >= blk[3] + margin ||
           y1 <= blk[1] - margin;
}

/* A busy scene around the code: truck parts, a fence, a crane's lattice, number plates and the
 * weight markings of a door, none of them over the code block @blk. Plates and markings are
 * recorded as distractor glyphs. */
static void draw_clutter(Scene *s, GArray *distractors, int w, int h, const double blk[4])
{
    static const char *markings[] = {"MAX GROSS 30480 KG", "TARE 2200 KG", "NET 28280 KG",
                                     "CU.CAP. 33.2 CU.M", "MAX.GR 67200 LB", "PAYLOAD 28200"};
    cairo_t *cr = s->cr;
    double ch = s->char_h, margin = ch * 0.5;
    int n = g_rand_int_range(s->rng, 2, 7);
    for (int i = 0; i < n; i++) {
        int kind = g_rand_int_range(s->rng, 0, 5);
        for (int t = 0; t < 20; t++) {
            double x = urand(s->rng, -0.05, 0.95) * w, y = urand(s->rng, -0.05, 0.95) * h;
            double bw = ch * (kind == 0 ? 4 : kind == 1 ? urand(s->rng, 4, 9)
                                        : kind == 4 ? 12 : urand(s->rng, 3, 8));
            double bh = ch * (kind == 0 ? 1.3 : kind == 4 ? 1 : urand(s->rng, 2, 6));
            if (!clear_of(blk, margin, x, y, x + bw, y + bh))
                continue;
            if (kind == 0) { /* a number plate */
                gboolean yellow = g_rand_boolean(s->rng);
                cairo_rectangle(cr, x, y, bw, bh);
                cairo_set_source_rgb(cr, 0.95, yellow ? 0.8 : 0.95, yellow ? 0.1 : 0.95);
                cairo_fill(cr);
                Scene d = *s;
                d.glyphs = distractors;
                d.char_h = ch * 0.75;
                d.r = d.g = d.b = 0.05;
                char plate[10];
                random_word(s->rng, plate, 2, FALSE);
                plate[2] = ' ';
                random_word(s->rng, plate + 3, 5, TRUE);
                for (int k = 3; k < 8; k++)
                    plate[k] = (char)('0' + g_rand_int_range(s->rng, 0, 10));
                draw_string(&d, plate, x + ch * 0.15, y + ch * 0.27, ch * 0.05, TRUE);
            } else if (kind == 1) { /* truck: cab or chassis and wheels */
                double k = urand(s->rng, 0.05, 0.5);
                cairo_rectangle(cr, x, y, bw, bh * 0.7);
                cairo_set_source_rgb(cr, k, k * urand(s->rng, 0.8, 1.2), k);
                cairo_fill(cr);
                for (int wh = 0; wh < 2; wh++) {
                    cairo_arc(cr, x + bw * (0.2 + 0.6 * wh), y + bh * 0.8, bh * 0.2, 0,
                              2 * G_PI);
                    cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
                    cairo_fill(cr);
                }
            } else if (kind == 2) { /* fence: a grid of wires */
                double step = ch * urand(s->rng, 0.3, 0.9);
                cairo_set_line_width(cr, MAX(1, ch * 0.04));
                cairo_set_source_rgba(cr, 0.6, 0.6, 0.6, 0.8);
                for (double gx = x; gx < x + bw; gx += step) {
                    cairo_move_to(cr, gx, y);
                    cairo_line_to(cr, gx + step, y + bh);
                }
                for (double gx = x; gx < x + bw; gx += step) {
                    cairo_move_to(cr, gx + step, y);
                    cairo_line_to(cr, gx, y + bh);
                }
                cairo_stroke(cr);
            } else if (kind == 3) { /* crane or gantry: thick beams with a lattice */
                cairo_set_source_rgb(cr, urand(s->rng, 0.7, 0.95), urand(s->rng, 0.5, 0.8), 0.1);
                cairo_set_line_width(cr, ch * urand(s->rng, 0.2, 0.5));
                cairo_move_to(cr, x, y);
                cairo_line_to(cr, x + bw, y);
                cairo_move_to(cr, x, y + bh);
                cairo_line_to(cr, x + bw, y + bh);
                for (double gx = x; gx < x + bw; gx += bh)
                    cairo_move_to(cr, gx, y), cairo_line_to(cr, gx + bh, y + bh);
                cairo_stroke(cr);
            } else { /* a weight marking */
                Scene d = *s;
                d.glyphs = distractors;
                d.char_h = ch * urand(s->rng, 0.4, 0.8);
                draw_string(&d, markings[g_rand_int_range(s->rng, 0, G_N_ELEMENTS(markings))],
                            x, y, d.char_h * 0.1, TRUE);
            }
            break;
        }
    }
}

/* The frame of a tank container around the code block at (@x, @y), @bw x @bh: a cylinder's
 * shading inside thick beams. The code is painted on the shell; returns the shell colour. */
static void draw_tank(Scene *s, double x, double y, double bw, double bh, double shell[3])
{
    cairo_t *cr = s->cr;
    double ch = s->char_h, m = ch * urand(s->rng, 1.0, 3.0), beam = ch * urand(s->rng, 0.6, 1.4);
    double x0 = x - m, y0 = y - m * 1.5, w = bw + 2 * m, h = bh + 3 * m;
    double v = urand(s->rng, 0.7, 0.95);
    for (int i = 0; i < 3; i++)
        shell[i] = CLAMP(v + urand(s->rng, -0.05, 0.05), 0, 1);
    cairo_pattern_t *pat = cairo_pattern_create_linear(0, y0, 0, y0 + h);
    cairo_pattern_add_color_stop_rgb(pat, 0, shell[0] * 0.5, shell[1] * 0.5, shell[2] * 0.5);
    cairo_pattern_add_color_stop_rgb(pat, 0.45, shell[0], shell[1], shell[2]);
    cairo_pattern_add_color_stop_rgb(pat, 1, shell[0] * 0.4, shell[1] * 0.4, shell[2] * 0.4);
    cairo_save(cr);
    cairo_translate(cr, x0 + w / 2, y0 + h / 2);
    cairo_scale(cr, w / 2, h / 2);
    cairo_arc(cr, 0, 0, 1, 0, 2 * G_PI);
    cairo_restore(cr);
    cairo_set_source(cr, pat);
    cairo_fill(cr);
    cairo_pattern_destroy(pat);
    double k = urand(s->rng, 0.1, 0.6);
    cairo_set_source_rgb(cr, k, k * urand(s->rng, 0.8, 1.3), k * urand(s->rng, 0.8, 1.3));
    cairo_set_line_width(cr, beam);
    cairo_rectangle(cr, x0 - m, y0 - beam, w + 2 * m, h + 2 * beam);
    cairo_stroke(cr);
}

typedef struct {
    cairo_surface_t *surf;
    int w, h;
    GArray *glyphs;
    GArray *others; /* Glyph: the distractor words' characters (frames: not in @glyphs) */
    gboolean bright;
    char code[12];
    char st[5];
    Layout layout;
    double bbox[4]; /* code box x0 y0 x1 y1 */
    unsigned conditions; /* COND_ flags */
    int font;            /* index in fonts[] */
    double bg[3], fg[3]; /* paint and characters */
} Rendered;

/* Renders one scene of @w x @h with characters @char_h high; with @like, of its code and
 * size/type (another view of the same container; the random stream is the same either way),
 * and with @alike also of its paint, font, light and weather (rain, night, infrared). */
static void render(GRand *rng, int w, int h, double char_h, gboolean extra_words, int layout,
                   const Rendered *like, gboolean alike, Rendered *out)
{
    memset(out, 0, sizeof *out);
    out->w = w;
    out->h = h;
    out->surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(out->surf);
    double *bg = out->bg, *fg = out->fg;
    pick_colours(rng, bg, fg);
    out->font = g_rand_int_range(rng, 0, G_N_ELEMENTS(fonts));
    alike = alike && like;
    if (alike) {
        memcpy(out->bg, like->bg, sizeof out->bg);
        memcpy(out->fg, like->fg, sizeof out->fg);
        out->font = like->font;
    }
    cairo_set_source_rgb(cr, bg[0], bg[1], bg[2]);
    cairo_paint(cr);
    out->bright = (fg[0] + fg[1] + fg[2]) > (bg[0] + bg[1] + bg[2]);
    Scene s = {.rng = rng, .cr = cr, .r = fg[0], .g = fg[1], .b = fg[2],
               .bg = {bg[0], bg[1], bg[2]},
               .font = fonts[out->font], .char_h = char_h};
    s.glyphs = out->glyphs = g_array_new(FALSE, FALSE, sizeof(Glyph));
    out->layout = layout >= 0 ? (Layout)layout : (Layout)g_rand_int_range(rng, 0, N_LAYOUTS);
    random_code(rng, out->code);
    g_strlcpy(out->st, size_types[g_rand_int_range(rng, 0, G_N_ELEMENTS(size_types))], 5);
    if (like) {
        memcpy(out->code, like->code, sizeof out->code);
        memcpy(out->st, like->st, sizeof out->st);
    }
    /* Place, rotate, shear and foreshorten the code block. */
    double bw = layout_size[out->layout][0] * char_h, bh = layout_size[out->layout][1] * char_h;
    double tx = urand(rng, 0.05, 0.95) * MAX(w - bw, 1) + char_h * 0.3;
    double ty = urand(rng, 0.05, 0.95) * MAX(h - bh, 1) + char_h * 0.3;
    if (out->layout == LAYOUT_TANK) { /* dark paint on the shell */
        draw_tank(&s, tx, ty, bw, bh * 0.7, s.bg);
        s.r = s.g = s.b = urand(rng, 0.0, 0.2);
        out->bright = FALSE;
    }
    cairo_save(cr);
    cairo_translate(cr, tx, ty);
    cairo_rotate(cr, urand(rng, -0.06, 0.06));
    cairo_matrix_t shear;
    cairo_matrix_init(&shear, urand(rng, 0.65, 1.1), urand(rng, -0.12, 0.12),
                      urand(rng, -0.12, 0.12), urand(rng, 0.85, 1.1), 0, 0);
    cairo_transform(cr, &shear);
    draw_code(&s, out->layout, out->code, out->st);
    cairo_restore(cr);
    /* The block of the code and its size/type (all glyphs so far), with a margin: real
     * markings are not painted over each other, so the distractors keep out of it. */
    double blk[4] = {1e9, 1e9, -1e9, -1e9};
    for (guint i = 0; i < out->glyphs->len; i++) {
        Glyph *g = &g_array_index(out->glyphs, Glyph, i);
        blk[0] = MIN(blk[0], g->x0);
        blk[1] = MIN(blk[1], g->y0);
        blk[2] = MAX(blk[2], g->x1);
        blk[3] = MAX(blk[3], g->y1);
    }
    double margin = char_h * 0.4;
    /* Distractor markings: words of letters and digits at other sizes, labelled in chars mode
     * (they balance the letters), unlabelled in frames. A word that would overlap the code
     * block is placed again (up to 20 tries, then left out). */
    GArray *distractors = g_array_new(FALSE, FALSE, sizeof(Glyph));
    int n_words = g_rand_int_range(rng, 1, 5);
    for (int i = 0; i < n_words; i++) {
        char word[12];
        random_word(rng, word, g_rand_int_range(rng, 2, 9), TRUE);
        Scene d = s;
        d.glyphs = distractors;
        d.char_h = char_h * urand(rng, 0.3, 1.3);
        for (int t = 0; t < 20; t++) {
            double x = urand(rng, -0.1, 0.9) * w, y = urand(rng, -0.1, 0.95) * h;
            double ww = text_width(&d, word, d.char_h * 0.1);
            if (x < blk[2] + margin && x + ww > blk[0] - margin && y < blk[3] + margin &&
                y + d.char_h * 1.3 > blk[1] - margin)
                continue;
            cairo_save(cr);
            cairo_translate(cr, x, y);
            draw_string(&d, word, 0, 0, d.char_h * 0.1, TRUE);
            cairo_restore(cr);
            break;
        }
    }
    if (g_rand_double(rng) < 0.5) {
        draw_clutter(&s, distractors, w, h, blk);
        out->conditions |= COND_BUSY;
    }
    draw_dirt(rng, cr, w, h, char_h, g_rand_int_range(rng, 0, 12));
    cairo_destroy(cr);
    post_effects(rng, out->surf, w, h, char_h, out->layout == LAYOUT_ROOF);
    blur_surface(out->surf, w, h, (int)(char_h * urand(rng, 0, 0.05)));
    out->conditions |=
        conditions(rng, out->surf, w, h, char_h,
                   alike ? (int)(like->conditions & (COND_RAIN | COND_NIGHT | COND_INFRARED)) : -1);
    /* Code box = the glyphs up to the 11th code character and the check digit's box after it
     * (the owner's and serial's boxes of the separate-boxes layout come between). */
    out->bbox[0] = out->bbox[1] = 1e9;
    out->bbox[2] = out->bbox[3] = -1e9;
    int n_chars = 0;
    for (guint i = 0; i < out->glyphs->len; i++) {
        Glyph *g = &g_array_index(out->glyphs, Glyph, i);
        if (n_chars == OCR_CODE_LEN && g->label >= 0)
            break;
        n_chars += g->label >= 0;
        out->bbox[0] = MIN(out->bbox[0], g->x0);
        out->bbox[1] = MIN(out->bbox[1], g->y0);
        out->bbox[2] = MAX(out->bbox[2], g->x1);
        out->bbox[3] = MAX(out->bbox[3], g->y1);
    }
    if (extra_words) {
        g_array_append_vals(out->glyphs, distractors->data, distractors->len);
        g_array_free(distractors, TRUE);
    } else {
        out->others = distractors;
    }
}

static void rendered_clear(Rendered *r)
{
    cairo_surface_destroy(r->surf);
    if (r->glyphs)
        g_array_free(r->glyphs, TRUE);
    if (r->others)
        g_array_free(r->others, TRUE);
}

/* One row of boxes.csv per glyph of @r (see the head of this file); the code's characters are
 * the first 11 labelled glyphs, the size/type's the labelled ones after them. */
static void write_boxes(FILE *f, const char *name, const Rendered *r)
{
    int n_chars = 0;
    for (guint k = 0; k < 2; k++) {
        GArray *a = k == 0 ? r->glyphs : r->others;
        for (guint i = 0; a && i < a->len; i++) {
            const Glyph *g = &g_array_index(a, Glyph, i);
            const char *kind = k == 1 ? "other" : g->label < 0 ? "box"
                               : n_chars < OCR_CODE_LEN ? "code" : "size_type";
            n_chars += k == 0 && g->label >= 0;
            fprintf(f, "%s,%s,%c,%.1f,%.1f,%.1f,%.1f\n", name, kind,
                    g->label < 0 ? '-' : ocr_class_char(g->label), g->x0, g->y0, g->x1, g->y1);
        }
    }
}

/* The surface as a Leptonica RGB image. */
static PIX *surface_pix(cairo_surface_t *surf, int w, int h)
{
    cairo_surface_flush(surf);
    const guint8 *data = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    PIX *pix = pixCreate(w, h, 32);
    l_uint32 *pd = pixGetData(pix);
    int wpl = pixGetWpl(pix);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            pd[(size_t)y * wpl + x] = *(const guint32 *)(data + (size_t)y * stride + 4 * x) << 8;
    return pix;
}

/* The gray of the surface after a JPEG round trip at @quality (falls back to the plain gray
 * if Leptonica cannot encode it). */
static guint8 *jpeg_gray(cairo_surface_t *surf, int w, int h, int quality)
{
    PIX *pix = surface_pix(surf, w, h), *back = NULL, *g8 = NULL;
    l_uint8 *mem = NULL;
    size_t size = 0;
    if (pixWriteMemJpeg(&mem, &size, pix, quality, 0) == 0)
        back = pixReadMemJpeg(mem, size, 0, 1, NULL, 0);
    if (back)
        g8 = pixConvertRGBToLuminance(back);
    pixDestroy(&pix);
    pixDestroy(&back);
    lept_free(mem);
    if (!g8 || pixGetWidth(g8) != w || pixGetHeight(g8) != h) {
        pixDestroy(&g8);
        return surface_gray(surf, w, h);
    }
    guint8 *gray = g_malloc((size_t)w * h);
    for (int y = 0; y < h; y++) {
        l_uint32 *line = pixGetData(g8) + (size_t)y * pixGetWpl(g8);
        for (int x = 0; x < w; x++)
            gray[(size_t)y * w + x] = (guint8)GET_DATA_BYTE(line, x);
    }
    pixDestroy(&g8);
    return gray;
}

static void write_crop(FILE *f, int label, const float *crop)
{
    guint8 rec[1 + OCR__CROP * OCR__CROP];
    rec[0] = (guint8)label;
    for (int i = 0; i < OCR__CROP * OCR__CROP; i++)
        rec[1 + i] = (guint8)(crop[i] * 255.0f + 0.5f);
    fwrite(rec, 1, sizeof rec, f);
}

static gboolean inside_image(const Glyph *g, int w, int h)
{
    return g->x0 >= 0 && g->y0 >= 0 && g->x1 < w && g->y1 < h;
}

static int run_chars(guint32 seed, int count, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        g_printerr("ocr-synth: %s: cannot write\n", path);
        return 2;
    }
    GRand *rng = g_rand_new_with_seed(seed);
    int written = 0;
    float crop[OCR__CROP * OCR__CROP];
    while (written < count) {
        /* A quarter of the scenes with the small characters of 960x540 gate cameras. */
        double char_h = g_rand_double(rng) < 0.25 ? urand(rng, 9, 20) : urand(rng, 14, 70);
        Rendered r;
        render(rng, (int)(char_h * 16), (int)(char_h * 18), char_h, TRUE, -1, NULL, FALSE, &r);
        /* A quarter through heavy JPEG compression, as the frames. */
        guint8 *gray = g_rand_double(rng) < 0.25
                           ? jpeg_gray(r.surf, r.w, r.h, g_rand_int_range(rng, 15, 41))
                           : surface_gray(r.surf, r.w, r.h);
        for (guint i = 0; i < r.glyphs->len && written < count; i++) {
            Glyph *g = &g_array_index(r.glyphs, Glyph, i);
            if (!inside_image(g, r.w, r.h))
                continue;
            double gw = g->x1 - g->x0, gh = g->y1 - g->y0;
            if (gh < 6)
                continue;
            /* Jitter the box like a connected component would: a little larger or smaller. */
            double jx = urand(rng, -0.06, 0.06) * gh, jy = urand(rng, -0.06, 0.06) * gh;
            double sw = urand(rng, 0.92, 1.1), sh = urand(rng, 0.92, 1.08);
            int label = g->label < 0 ? OCR__JUNK : g->label;
            ocr__char_crop(gray, r.w, r.h, r.w, (int)(g->x0 + jx), (int)(g->y0 + jy),
                           (int)(gw * sw), (int)(gh * sh), r.bright, crop);
            write_crop(f, label, crop);
            written++;
            /* Junk: the upper or lower half, or a glyph with its right neighbour. */
            if (g->label >= 0 && g_rand_double(rng) < 0.25 && written < count) {
                double u = g_rand_double(rng);
                if (u < 0.4)
                    ocr__char_crop(gray, r.w, r.h, r.w, (int)g->x0,
                                   (int)(g->y0 + (g_rand_boolean(rng) ? 0 : gh * 0.55)),
                                   (int)gw, (int)(gh * 0.45), r.bright, crop);
                else if (u < 0.7)
                    ocr__char_crop(gray, r.w, r.h, r.w, (int)(g->x0 + gw * 0.5), (int)g->y0,
                                   (int)(gw * 1.5), (int)gh, r.bright, crop);
                else
                    ocr__char_crop(gray, r.w, r.h, r.w, (int)(g->x0 - gw * 0.4), (int)g->y0,
                                   (int)(gw * 2.2), (int)gh, r.bright, crop);
                write_crop(f, OCR__JUNK, crop);
                written++;
            }
        }
        /* Junk: random places of the scene (steel, ribs, dirt, edges of markings). */
        for (int j = 0; j < 4 && written < count; j++) {
            int gh = (int)(char_h * urand(rng, 0.6, 1.5));
            int gw = (int)(gh * urand(rng, 0.1, 1.2)) + 1;
            int x = g_rand_int_range(rng, 0, MAX(r.w - gw, 1));
            int y = g_rand_int_range(rng, 0, MAX(r.h - gh, 1));
            gboolean overlaps = FALSE;
            for (guint i = 0; i < r.glyphs->len; i++) {
                Glyph *g = &g_array_index(r.glyphs, Glyph, i);
                double ix = MIN(x + gw, g->x1) - MAX(x, g->x0);
                double iy = MIN(y + gh, g->y1) - MAX(y, g->y0);
                if (ix > 0 && iy > 0 && ix * iy > 0.2 * (g->x1 - g->x0) * (g->y1 - g->y0))
                    overlaps = TRUE;
            }
            if (overlaps)
                continue;
            ocr__char_crop(gray, r.w, r.h, r.w, x, y, gw, gh, g_rand_boolean(rng), crop);
            write_crop(f, OCR__JUNK, crop);
            written++;
        }
        g_free(gray);
        rendered_clear(&r);
    }
    g_rand_free(rng);
    fclose(f);
    return 0;
}

/* The character height of a @w x @h frame of @layout: markings are 35-146 px high in a 1080p
 * frame at the gates of ../shared/data/ocr-dev and 10-25 px at 960x540 at other terminals'
 * gates; a third of the frames have the small ones. The block fits in the frame. */
static double frame_char_h(GRand *rng, int layout, int w, int h)
{
    double char_h = g_rand_double(rng) < 1.0 / 3 ? urand(rng, 10, 25) * h / 540.0
                                                 : urand(rng, 35, 110) * h / 1080.0;
    return MIN(char_h, MIN(0.95 * w / (layout_size[layout][0] + 1),
                           0.95 * h / (layout_size[layout][1] + 2)));
}

static int run_frames(guint32 seed, int count, const char *dir, int w, int h, int views,
                      gboolean alike)
{
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_printerr("ocr-synth: %s: cannot create\n", dir);
        return 2;
    }
    char *csv_path = g_build_filename(dir, "labels.csv", NULL);
    FILE *csv = fopen(csv_path, "w");
    if (!csv) {
        g_printerr("ocr-synth: %s: cannot write\n", csv_path);
        g_free(csv_path);
        return 2;
    }
    fprintf(csv, "file,code,size_type,layout,view,notes,code_bbox_x1y1x2y2\n");
    char *boxes_path = g_build_filename(dir, "boxes.csv", NULL);
    FILE *boxes = fopen(boxes_path, "w");
    if (!boxes) {
        g_printerr("ocr-synth: %s: cannot write\n", boxes_path);
        g_free(boxes_path);
        g_free(csv_path);
        fclose(csv);
        return 2;
    }
    fprintf(boxes, "file,kind,char,x0,y0,x1,y1\n");
    GRand *rng = g_rand_new_with_seed(seed);
    int rc = 0;
    Rendered first = {0}; /* the transaction's first view, with --views */
    int first_quality = 75;
    for (int i = 0; i < count; i++) {
        int layout = i % N_LAYOUTS;
        double char_h = frame_char_h(rng, layout, w, h);
        Rendered r;
        /* A code cut off by the frame's edge is unreadable to a person too: render the scene
         * again (same layout and size) until the code and its box are inside the frame. */
        for (int t = 0;; t++) {
            render(rng, w, h, char_h, FALSE, layout, views > 1 && i % views ? &first : NULL,
                   alike, &r);
            if (t == 20 || (r.bbox[0] >= 2 && r.bbox[1] >= 2 && r.bbox[2] <= w - 3 &&
                            r.bbox[3] <= h - 3))
                break;
            rendered_clear(&r);
        }
        if (views > 1 && i % views == 0) {
            memcpy(first.code, r.code, sizeof first.code);
            memcpy(first.st, r.st, sizeof first.st);
            memcpy(first.bg, r.bg, sizeof first.bg);
            memcpy(first.fg, r.fg, sizeof first.fg);
            first.font = r.font;
            first.conditions = r.conditions;
        }
        PIX *pix = surface_pix(r.surf, w, h);
        char name[64];
        /* With --views, a gate transaction's name as the real photos': 1-<transaction>-OCR-
         * <camera>-1.jpg, each view by another camera. */
        if (views > 1)
            g_snprintf(name, sizeof name, "1-%04d-OCR-%d-1.jpg", i / views, i % views + 1);
        else
            g_snprintf(name, sizeof name, "synth-%04d.jpg", i);
        char *path = g_build_filename(dir, name, NULL);
        /* A quarter heavily compressed (quality 15-35), the others at Leptonica's 75. */
        int quality = g_rand_double(rng) < 0.25 ? g_rand_int_range(rng, 15, 36) : 75;
        if (alike && views > 1 && i % views) /* the gate's cameras encode alike */
            quality = first_quality;
        first_quality = quality;
        if (pixWriteJpeg(path, pix, quality, 0) != 0) {
            g_printerr("ocr-synth: %s: cannot write\n", path);
            rc = 2;
        }
        g_free(path);
        pixDestroy(&pix);
        /* The notes name the seed and what makes the frame hard, ';'-separated: `small`
         * (characters under 26 px at 960x540 scale), `jpeg` (quality 15-35), `busy`, `glare`,
         * `rain`, `night`, `infrared`, `motion`. */
        GString *notes = g_string_new(NULL);
        g_string_printf(notes, "seed %u", seed);
        if (char_h * 540.0 / h < 26)
            g_string_append(notes, "; small");
        if (quality < 75)
            g_string_append(notes, "; jpeg");
        for (guint k = 0; k < G_N_ELEMENTS(cond_names); k++)
            if (r.conditions & (1u << k))
                g_string_append_printf(notes, "; %s", cond_names[k]);
        fprintf(csv, "%s,%s,%s,%s,synthetic,%s,%d %d %d %d\n", name, r.code, r.st,
                layout_names[r.layout], notes->str, (int)r.bbox[0], (int)r.bbox[1],
                (int)r.bbox[2], (int)r.bbox[3]);
        g_string_free(notes, TRUE);
        write_boxes(boxes, name, &r);
        rendered_clear(&r);
    }
    g_rand_free(rng);
    fclose(csv);
    g_free(csv_path);
    if (fclose(boxes) != 0) {
        g_printerr("ocr-synth: %s: cannot write\n", boxes_path);
        rc = 2;
    }
    g_free(boxes_path);
    return rc;
}


/* The characters of @g (and @o) a strip of @l shows, in order along it, into @label (at most
 * @max - 1 of them, NUL-terminated): those whose centre is within half a character height of
 * the line and with at least 60% of their width inside the strip. Returns FALSE when a glyph
 * stands half in and half out (its label is ambiguous: the strip is not written). */
static gboolean strip_label(const OcrLine *l, GArray *g, GArray *o, char *label, int max)
{
    double dx = l->x1 - l->x0, dy = l->y1 - l->y0, len = sqrt(dx * dx + dy * dy);
    double ux = len > 0 ? dx / len : 1, uy = len > 0 ? dy / len : 0, h = l->char_h;
    double lo = -0.35 * h, hi = len + 0.35 * h;
    double pos[64];
    int n = 0;
    for (int k = 0; k < 2; k++) {
        GArray *a = k == 0 ? g : o;
        for (guint i = 0; a && i < a->len; i++) {
            const Glyph *gl = &g_array_index(a, Glyph, i);
            if (gl->label < 0)
                continue;
            double cx = (gl->x0 + gl->x1) / 2 - l->x0, cy = (gl->y0 + gl->y1) / 2 - l->y0;
            double al = cx * ux + cy * uy, d = fabs(-cx * uy + cy * ux);
            double half = fabs((gl->x1 - gl->x0) * ux) / 2 + 1e-3;
            double in = (MIN(al + half, hi) - MAX(al - half, lo)) / (2 * half);
            if (d > 0.8 * h || in <= 0)
                continue;
            if (d > 0.35 * h && d < 0.65 * h)
                return FALSE;
            if (d >= 0.65 * h)
                continue;
            if (in > 0.25 && in < 0.6)
                return FALSE;
            if (in < 0.6)
                continue;
            if (n >= max - 1 || n >= 64)
                return FALSE;
            int j = n++;
            while (j > 0 && pos[j - 1] > al) {
                pos[j] = pos[j - 1];
                label[j] = label[j - 1];
                j--;
            }
            pos[j] = al;
            label[j] = ocr_class_char(gl->label);
        }
    }
    label[n] = '\0';
    return TRUE;
}

/* A record of `ocr-synth lines`: the label's length (1 byte), the label, the strip's width
 * (2 bytes, little-endian) and its OCR__LINE_H rows of bytes. */
static gboolean write_strip(FILE *f, const guint8 *gray, int w, int h, const OcrLine *l,
                            GArray *g, GArray *o)
{
    char label[48];
    if (!strip_label(l, g, o, label, sizeof label))
        return FALSE;
    int sw = 0;
    guint8 *strip = ocr__line_crop(gray, w, h, w, l, &sw);
    if (!strip)
        return FALSE;
    guint8 head[3] = {(guint8)strlen(label), (guint8)(sw & 255), (guint8)(sw >> 8)};
    fwrite(head, 1, 1, f);
    fwrite(label, 1, head[0], f);
    fwrite(head + 1, 1, 2, f);
    fwrite(strip, 1, (size_t)sw * OCR__LINE_H, f);
    g_free(strip);
    return TRUE;
}

/* The rows of labelled glyphs in @g[from, to): a new row where the next glyph does not stand
 * to the right of the last one on its line. Calls write_strip() on each row of 3 or more with
 * its ends and height jittered as a detector's line would be, and once more stretched along
 * the line (the strip then shows what is painted beside). Returns the strips written. */
static int write_rows(FILE *f, GRand *rng, const guint8 *gray, int w, int h, GArray *g,
                      GArray *o, guint from, guint to)
{
    int written = 0;
    guint start = from;
    for (guint i = from; i <= to; i++) {
        const Glyph *a = i > from && i < to ? &g_array_index(g, Glyph, i - 1) : NULL;
        const Glyph *b = i < to ? &g_array_index(g, Glyph, i) : NULL;
        gboolean cont = a && b && (b->x0 + b->x1) / 2 > (a->x0 + a->x1) / 2 +
                                                            0.3 * (a->y1 - a->y0) &&
                        fabs((b->y0 + b->y1) - (a->y0 + a->y1)) / 2 < 0.7 * (a->y1 - a->y0);
        if (i > from && i < to && cont)
            continue;
        if (i - start >= 3) {
            const Glyph *f0 = &g_array_index(g, Glyph, start), *f1 = &g_array_index(g, Glyph, i - 1);
            double hs[64];
            int n = 0;
            for (guint k = start; k < i && n < 64; k++) {
                const Glyph *gk = &g_array_index(g, Glyph, k);
                hs[n++] = gk->y1 - gk->y0;
            }
            double ch = 0;
            for (int k = 0; k < n; k++)
                ch += hs[k] / n;
            double cx0 = (f0->x0 + f0->x1) / 2, cy0 = (f0->y0 + f0->y1) / 2;
            double cx1 = (f1->x0 + f1->x1) / 2, cy1 = (f1->y0 + f1->y1) / 2;
            double len = hypot(cx1 - cx0, cy1 - cy0), ux = (cx1 - cx0) / len, uy = (cy1 - cy0) / len;
            for (int v = 0; v < 2; v++) {
                OcrLine l;
                double hh = ch * urand(rng, 0.8, 1.3);
                double e0 = (f0->x1 - f0->x0) / 2 + urand(rng, -0.3, 1.8) * ch;
                double e1 = (f1->x1 - f1->x0) / 2 + urand(rng, -0.3, 1.8) * ch +
                            (v == 1 ? urand(rng, 1.0, 5.0) * ch : 0);
                l.x0 = cx0 - e0 * ux - uy * urand(rng, -0.12, 0.12) * ch;
                l.y0 = cy0 - e0 * uy + ux * urand(rng, -0.12, 0.12) * ch;
                l.x1 = cx1 + e1 * ux - uy * urand(rng, -0.12, 0.12) * ch;
                l.y1 = cy1 + e1 * uy + ux * urand(rng, -0.12, 0.12) * ch;
                l.char_h = hh;
                l.peak = 0;
                if ((v == 0 || g_rand_double(rng) < 0.3) && write_strip(f, gray, w, h, &l, g, o))
                    written++;
            }
        }
        start = i;
    }
    return written;
}

/* Training strips for the line reader: frames rendered as `frames` does, and of each the rows
 * of the code and the size/type with jittered ends (write_rows()) and the lines the detector
 * finds in it (ocr__det_lines(), as the reader will see them), each labelled with the
 * characters it shows. */
static int run_lines(guint32 seed, int count, const char *path, int w, int h)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        g_printerr("ocr-synth: %s: cannot write\n", path);
        return 2;
    }
    GRand *rng = g_rand_new_with_seed(seed);
    int written = 0, skipped = 0;
    for (int i = 0; i < count; i++) {
        int layout = i % N_LAYOUTS;
        double char_h = frame_char_h(rng, layout, w, h);
        Rendered r;
        render(rng, w, h, char_h, FALSE, layout, NULL, FALSE, &r);
        int quality = g_rand_double(rng) < 0.25 ? g_rand_int_range(rng, 15, 36) : 75;
        guint8 *gray = jpeg_gray(r.surf, w, h, quality);
        guint n_code = 0, n_lab = 0;
        for (guint k = 0; k < r.glyphs->len; k++)
            if (g_array_index(r.glyphs, Glyph, k).label >= 0 && ++n_lab == OCR_CODE_LEN)
                n_code = k + 1;
        /* The code's glyphs (box frames included: a row skips them), then the size/type's. */
        GArray *lab = g_array_new(FALSE, FALSE, sizeof(Glyph));
        guint split = 0;
        for (guint k = 0; k < r.glyphs->len; k++) {
            const Glyph *gk = &g_array_index(r.glyphs, Glyph, k);
            if (gk->label < 0)
                continue;
            if (k < n_code)
                split++;
            g_array_append_val(lab, *gk);
        }
        written += write_rows(f, rng, gray, w, h, lab, r.others, 0, split);
        written += write_rows(f, rng, gray, w, h, lab, r.others, split, lab->len);
        int k = ocr__det_factor(w, h), hw = 0, hh = 0;
        float *heat = ocr__det_heatmap(gray, w, h, w, k, NULL, &hw, &hh);
        OcrLine lines[OCR__MAX_LINES];
        int nl = ocr__det_lines(heat, hw, hh, 4 * k, 0.5f, lines, OCR__MAX_LINES);
        for (int j = 0; j < nl; j++) {
            if (write_strip(f, gray, w, h, &lines[j], lab, r.others))
                written++;
            else
                skipped++;
        }
        g_free(heat);
        g_array_free(lab, TRUE);
        g_free(gray);
        rendered_clear(&r);
    }
    g_rand_free(rng);
    g_print("%d strips, %d detector lines not written (a character half in)\n", written, skipped);
    if (fclose(f) != 0) {
        g_printerr("ocr-synth: %s: cannot write\n", path);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    gint seed = 1, count = 100, width = 1920, height = 1080, views = 1;
    gboolean alike = FALSE;
    char *out = NULL;
    GOptionEntry entries[] = {
        {"seed", 0, 0, G_OPTION_ARG_INT, &seed, "random seed", "S"},
        {"count", 0, 0, G_OPTION_ARG_INT, &count, "how many crops or frames", "N"},
        {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "output file (chars) or folder", "PATH"},
        {"width", 0, 0, G_OPTION_ARG_INT, &width, "frame width (frames)", "W"},
        {"height", 0, 0, G_OPTION_ARG_INT, &height, "frame height (frames)", "H"},
        {"views", 0, 0, G_OPTION_ARG_INT, &views,
         "frames per container, named as gate transactions (frames)", "V"},
        {"alike", 0, 0, G_OPTION_ARG_NONE, &alike,
         "a container's views share its paint and font, the light and weather (rain, night, "
         "infrared) and the JPEG quality (frames, with --views)", NULL},
        {NULL},
    };
    GOptionContext *ctx = g_option_context_new("chars|frames|lines");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2 || !out || count < 0 ||
        width < 64 || height < 64 || width > 8192 || height > 8192 || views < 1 || views > 16) {
        g_printerr("ocr-synth: %s\nusage: ocr-synth chars|frames|lines --seed S --count N --out PATH\n",
                   error ? error->message : "bad arguments");
        g_clear_error(&error);
        g_option_context_free(ctx);
        g_free(out);
        return 2;
    }
    g_option_context_free(ctx);
    int rc;
    if (strcmp(argv[1], "chars") == 0) {
        rc = run_chars((guint32)seed, count, out);
    } else if (strcmp(argv[1], "frames") == 0) {
        rc = run_frames((guint32)seed, count, out, width, height, views, alike);
    } else if (strcmp(argv[1], "lines") == 0) {
        rc = run_lines((guint32)seed, count, out, width, height);
    } else {
        g_printerr("ocr-synth: unknown mode '%s'\n", argv[1]);
        rc = 2;
    }
    g_free(out);
    return rc;
}
