/* render.c: the scene drawn on BGRx frames with cairo (shapes) and pango (text, CJK included). */
#include <cairo.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "overlay-private.h"

/* Laid-out texts are kept between frames: the same labels come back on every frame, and
 * shaping them again (itemizing, font fallback for CJK, harfbuzz) is most of the cost of
 * drawing text. At most this many; the cache is emptied when it is full. */
#define MAX_CACHED_LAYOUTS 64

typedef struct {
    PangoLayout *layout;
    int w, h;
    int unknown_glyphs;
} CachedText;

struct PsRenderer {
    PangoFontMap *fontmap; /* own map: renderers live on streaming threads */
    PangoContext *context;
    PangoLayout *layout;   /* the layout of the last set_text() (borrowed from the cache) */
    PangoFontDescription *font;
    GHashTable *texts;     /* "PX:markup" -> CachedText */
    PsRenderStats stats;
};

static void cached_text_free(gpointer p)
{
    CachedText *t = p;
    g_object_unref(t->layout);
    g_free(t);
}

PsRenderer *overlay_renderer_new(const char *font)
{
    PsRenderer *r = g_new0(PsRenderer, 1);
    r->fontmap = pango_cairo_font_map_new();
    r->context = pango_font_map_create_context(r->fontmap);
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    pango_cairo_context_set_font_options(r->context, fo);
    cairo_font_options_destroy(fo);
    r->font = pango_font_description_from_string(font ? font
                                                      : "WenQuanYi Micro Hei, DejaVu Sans");
    r->texts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cached_text_free);
    return r;
}

void overlay_renderer_free(PsRenderer *r)
{
    if (!r)
        return;
    g_hash_table_unref(r->texts);
    g_object_unref(r->context);
    g_object_unref(r->fontmap);
    pango_font_description_free(r->font);
    g_free(r);
}

void overlay_renderer_stats(const PsRenderer *r, PsRenderStats *stats)
{
    *stats = r->stats;
}

static void status_rgb(PsContainerStatus st, gboolean known, double rgb[3])
{
    static const double released[3] = {0.10, 0.80, 0.25}, held[3] = {0.92, 0.15, 0.15},
                        pending[3] = {1.00, 0.70, 0.00}, unknown[3] = {0.65, 0.65, 0.70};
    const double *c = !known                      ? unknown
                      : st == PS_STATUS_RELEASED ? released
                      : st == PS_STATUS_HELD     ? held
                                                 : pending;
    memcpy(rgb, c, sizeof(double[3]));
}

static const char *status_name(PsContainerStatus st)
{
    return st == PS_STATUS_RELEASED ? "released" : st == PS_STATUS_HELD ? "held" : "pending";
}

/* Lays out @markup at @px pixels; returns its size in @w, @h. */
static void set_text(PsRenderer *r, const char *markup, int px, int *w, int *h)
{
    g_autofree char *key = g_strdup_printf("%d:%s", px, markup);
    CachedText *t = g_hash_table_lookup(r->texts, key);
    if (!t) {
        if (g_hash_table_size(r->texts) >= MAX_CACHED_LAYOUTS)
            g_hash_table_remove_all(r->texts);
        t = g_new0(CachedText, 1);
        t->layout = pango_layout_new(r->context);
        pango_font_description_set_absolute_size(r->font, px * PANGO_SCALE);
        pango_layout_set_font_description(t->layout, r->font);
        pango_layout_set_markup(t->layout, markup, -1);
        t->unknown_glyphs = pango_layout_get_unknown_glyphs_count(t->layout);
        pango_layout_get_pixel_size(t->layout, &t->w, &t->h);
        g_hash_table_insert(r->texts, g_steal_pointer(&key), t);
    }
    r->layout = t->layout;
    r->stats.unknown_glyphs += t->unknown_glyphs;
    *w = t->w;
    *h = t->h;
}

/* A text block with a dark translucent background and a coloured bar on its left, placed with
 * its top-left at (x, y) but kept inside the frame. */
static void label(PsRenderer *r, cairo_t *cr, const char *markup, int px, double x, double y,
                  const double rgb[3], int fw, int fh, gboolean above)
{
    int tw, th;
    set_text(r, markup, px, &tw, &th);
    double pad = px * 0.35, bar = MAX(3.0, px * 0.25);
    double bw = tw + 2 * pad + bar, bh = th + 2 * pad;
    if (above)
        y -= bh;
    x = CLAMP(x, 0, MAX(0, fw - bw));
    y = CLAMP(y, 0, MAX(0, fh - bh));
    cairo_set_source_rgba(cr, 0.05, 0.07, 0.10, 0.72);
    cairo_rectangle(cr, x, y, bw, bh);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, x, y, bar, bh);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_move_to(cr, x + bar + pad, y + pad);
    pango_cairo_show_layout(cr, r->layout);
}

static char *container_markup(const OverlaySnapItem *it)
{
    const PsSceneContainer *c = &it->info;
    GString *s = g_string_new(NULL);
    g_autofree char *head = g_markup_printf_escaped("<b>%s</b> %s", it->det.code,
                                                    it->det.size_type);
    g_string_append(s, head);
    if (!it->has_info) {
        g_string_append(s, "\n<i>no declaration</i>");
        return g_string_free(s, FALSE);
    }
    g_autofree char *l2 = g_markup_printf_escaped("\n%s  <b>%s</b>", c->declaration ? c->declaration
                                                                                   : "-",
                                                  status_name(c->status));
    /* Why it is held, or what a release still waits for. */
    g_autofree char *why =
        c->reason && *c->reason
            ? g_markup_printf_escaped(c->status == PS_STATUS_HELD ? "\n<b>%s</b>" : "\nwaits for: %s",
                                      c->reason)
            : NULL;
    g_autofree char *l3 = g_markup_printf_escaped("\n%s → %s", c->origin ? c->origin : "?",
                                                  c->destination ? c->destination : "?");
    g_string_append(s, l2);
    if (why)
        g_string_append(s, why);
    g_string_append(s, l3);
    if (c->goods && *c->goods) {
        g_autofree char *l4 = g_markup_printf_escaped("\n%s", c->goods);
        g_string_append(s, l4);
    }
    return g_string_free(s, FALSE);
}

static void draw_container(PsRenderer *r, cairo_t *cr, const OverlaySnapItem *it, double k,
                           int fw, int fh)
{
    double rgb[3];
    status_rgb(it->info.status, it->has_info, rgb);
    const double *b = it->det.bbox;
    double lw = MAX(2.0, 3.0 * k) * (it->selected ? 2.0 : 1.0);
    if (it->selected) { /* a halo so that the selection stands out on any background */
        cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
        cairo_set_line_width(cr, lw + 4 * k);
        cairo_rectangle(cr, b[0] - lw, b[1] - lw, b[2] + 2 * lw, b[3] + 2 * lw);
        cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_set_line_width(cr, lw);
    cairo_rectangle(cr, b[0], b[1], b[2], b[3]);
    cairo_stroke(cr);
    g_autofree char *markup = container_markup(it);
    gboolean above = b[1] > fh * 0.25;
    label(r, cr, markup, (int)lround(20 * k), b[0], above ? b[1] - lw : b[1] + b[3] + lw, rgb, fw,
          fh, above);
    r->stats.containers++;
}

static gboolean on_frame(double x, double y, int fw, int fh, double margin)
{
    return x >= -margin && y >= -margin && x <= fw + margin && y <= fh + margin;
}

/* Returns TRUE when the vessel is on the frame (and drawn). */
static gboolean draw_vessel(PsRenderer *r, cairo_t *cr, const OverlayVessel *v,
                            gboolean selected, const PsCameraModel *model, double k, int fw,
                            int fh)
{
    double x, y;
    if (!overlay_camera_project(model, v->lat, v->lon, 0.0, &x, &y) ||
        !on_frame(x, y, fw, fh, 0))
        return FALSE;
    static const double cyan[3] = {0.20, 0.85, 1.0};
    /* The track: older points fade. */
    cairo_set_line_width(cr, MAX(1.5, 2.5 * k));
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    gboolean have = FALSE;
    double px = 0, py = 0;
    for (gsize i = 0; i < v->track_len; i++) {
        double tx, ty;
        if (!overlay_camera_project(model, v->track[i][0], v->track[i][1], 0.0, &tx, &ty) ||
            !on_frame(tx, ty, fw, fh, fw)) {
            have = FALSE;
            continue;
        }
        if (have) {
            double a = 0.25 + 0.75 * (double)i / (double)MAX(1, v->track_len);
            cairo_set_source_rgba(cr, cyan[0], cyan[1], cyan[2], a);
            cairo_move_to(cr, px, py);
            cairo_line_to(cr, tx, ty);
            cairo_stroke(cr);
        }
        px = tx;
        py = ty;
        have = TRUE;
    }
    double rad = (selected ? 12 : 8) * k;
    if (selected) {
        cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
        cairo_arc(cr, x, y, rad + 4 * k, 0, 2 * G_PI);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, cyan[0], cyan[1], cyan[2]);
    cairo_arc(cr, x, y, rad, 0, 2 * G_PI);
    cairo_fill(cr);
    g_autofree char *markup = g_markup_printf_escaped("<b>%s</b>\n%s · %.1f kn · %03.0f°",
                                                      *v->name ? v->name : "(no name)",
                                                      *v->type ? v->type : "vessel", v->sog_kn,
                                                      v->cog_deg);
    label(r, cr, markup, (int)lround(20 * k), x + rad + 4 * k, y - rad, cyan, fw, fh, TRUE);
    r->stats.vessels++;
    return TRUE;
}

static void draw_panel(PsRenderer *r, cairo_t *cr, const char *markup, const double rgb[3],
                       double k, int fw, int fh)
{
    int tw, th;
    set_text(r, markup, (int)lround(22 * k), &tw, &th);
    double x = fw - tw - 60 * k;
    label(r, cr, markup, (int)lround(22 * k), x, 20 * k, rgb, fw, fh, FALSE);
    r->stats.panel = TRUE;
}

/* The detail panel of the selection, on the frames of the cameras that show it. */
static void draw_selection_panel(PsRenderer *r, cairo_t *cr, const OverlaySnapshot *snap,
                                 gboolean vessel_shown, double k, int fw, int fh)
{
    gboolean container_shown = FALSE;
    for (guint i = 0; i < snap->items->len; i++)
        container_shown |= g_array_index(snap->items, OverlaySnapItem, i).selected;
    if (snap->selected_code && container_shown) {
        const PsSceneContainer *c = &snap->selected_info;
        double rgb[3];
        status_rgb(c->status, snap->selected_has_info, rgb);
        g_autofree char *m = NULL;
        if (snap->selected_has_info)
            m = g_markup_printf_escaped(
                "<b>%s</b>\nstatus: <b>%s</b>%s%s\ndeclaration: %s\nfrom: %s\nto: %s\n"
                "goods: %s\nconsignee: %s\nvessel: %s",
                snap->selected_code, status_name(c->status),
                c->reason ? (c->status == PS_STATUS_HELD ? "\nreason: " : "\nwaits for: ") : "",
                c->reason ? c->reason : "", c->declaration ? c->declaration : "-",
                c->origin ? c->origin : "-", c->destination ? c->destination : "-",
                c->goods ? c->goods : "-", c->consignee ? c->consignee : "-",
                c->vessel ? c->vessel : "-");
        else
            m = g_markup_printf_escaped("<b>%s</b>\nno declaration on file", snap->selected_code);
        draw_panel(r, cr, m, rgb, k, fw, fh);
        return;
    }
    if (!snap->selected_mmsi || !vessel_shown)
        return;
    for (guint i = 0; i < snap->vessels->len; i++) {
        const OverlayVessel *v = g_ptr_array_index(snap->vessels, i);
        if (v->mmsi != snap->selected_mmsi)
            continue;
        static const double cyan[3] = {0.20, 0.85, 1.0};
        g_autofree char *m = g_markup_printf_escaped(
            "<b>%s</b>\nMMSI %u\ntype: %s\nposition: %.5f, %.5f\nspeed %.1f kn, course %.0f°\n"
            "track: %u points",
            v->name, v->mmsi, v->type, v->lat, v->lon, v->sog_kn, v->cog_deg,
            (unsigned)v->track_len);
        draw_panel(r, cr, m, cyan, k, fw, fh);
    }
}

/* A cairo context drawing on a caller's BGRx frame, or NULL (with @error set) when the frame's
 * geometry is not one. Finish it with frame_end(). */
static cairo_t *frame_begin(guint8 *pixels, int width, int height, int stride, GError **error)
{
    if (width <= 0 || height <= 0 || stride < width * 4 || stride % 4) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                    "frame %dx%d with stride %d is not a BGRx frame", width, height, stride);
        return NULL;
    }
    cairo_surface_t *surface =
        cairo_image_surface_create_for_data(pixels, CAIRO_FORMAT_RGB24, width, height, stride);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_RENDER, "cairo: %s",
                    cairo_status_to_string(cairo_surface_status(surface)));
        cairo_surface_destroy(surface);
        return NULL;
    }
    cairo_t *cr = cairo_create(surface);
    cairo_surface_destroy(surface); /* the context keeps its reference */
    return cr;
}

/* Flushes the drawing into the frame and frees @cr. Returns FALSE when cairo failed. */
static gboolean frame_end(cairo_t *cr, GError **error)
{
    cairo_status_t st = cairo_status(cr);
    cairo_surface_flush(cairo_get_target(cr));
    cairo_destroy(cr);
    if (st != CAIRO_STATUS_SUCCESS) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_RENDER, "cairo: %s",
                    cairo_status_to_string(st));
        return FALSE;
    }
    return TRUE;
}

gboolean overlay_render(PsRenderer *r, PsScene *scene, const char *camera,
                        const PsCameraModel *model, const char *title, guint8 *pixels, int width,
                        int height, int stride, gint64 now_us, GError **error)
{
    memset(&r->stats, 0, sizeof r->stats);
    cairo_t *cr = frame_begin(pixels, width, height, stride, error);
    if (!cr)
        return FALSE;
    double k = height / 1080.0;
    OverlaySnapshot snap;
    overlay__snapshot_take(scene, camera ? camera : "", now_us, &snap);

    gboolean vessel_shown = FALSE;
    if (model)
        for (guint i = 0; i < snap.vessels->len; i++) {
            const OverlayVessel *v = g_ptr_array_index(snap.vessels, i);
            gboolean sel = snap.selected_mmsi && v->mmsi == snap.selected_mmsi;
            vessel_shown |= draw_vessel(r, cr, v, sel, model, k, width, height) && sel;
        }
    for (guint i = 0; i < snap.items->len; i++)
        draw_container(r, cr, &g_array_index(snap.items, OverlaySnapItem, i), k, width, height);
    draw_selection_panel(r, cr, &snap, vessel_shown, k, width, height);
    if (title && *title) {
        static const double white[3] = {1, 1, 1};
        g_autofree char *m = g_markup_printf_escaped("<b>%s</b>", title);
        label(r, cr, m, (int)lround(24 * k), 16 * k, 16 * k, white, width, height, FALSE);
    }
    overlay__snapshot_clear(&snap);
    return frame_end(cr, error);
}

gboolean overlay_render_no_signal(PsRenderer *r, const char *title, const char *reason,
                                  guint8 *pixels, int width, int height, int stride,
                                  GError **error)
{
    cairo_t *cr = frame_begin(pixels, width, height, stride, error);
    if (!cr)
        return FALSE;
    cairo_set_source_rgb(cr, 0.16, 0.16, 0.18);
    cairo_paint(cr);
    /* a red band across the middle, the words in white on it */
    double k = height / 1080.0;
    int tw, th;
    set_text(r, "<b>NO SIGNAL</b>", MAX(8, (int)lround(150 * k)), &tw, &th);
    double band = th * 1.3;
    cairo_set_source_rgb(cr, 0.70, 0.08, 0.08);
    cairo_rectangle(cr, 0, (height - band) / 2, width, band);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_move_to(cr, (width - tw) / 2.0, (height - th) / 2.0);
    pango_cairo_show_layout(cr, r->layout);
    double below = (height + band) / 2 + 20 * k;
    if (title && *title) {
        g_autofree char *m = g_markup_printf_escaped("<b>%s</b>", title);
        set_text(r, m, MAX(6, (int)lround(60 * k)), &tw, &th);
        cairo_move_to(cr, (width - tw) / 2.0, (height - band) / 2 - th - 20 * k);
        pango_cairo_show_layout(cr, r->layout);
    }
    if (reason && *reason) {
        g_autofree char *m = g_markup_escape_text(reason, -1);
        set_text(r, m, MAX(6, (int)lround(44 * k)), &tw, &th);
        cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
        cairo_move_to(cr, (width - tw) / 2.0, below);
        pango_cairo_show_layout(cr, r->layout);
    }
    return frame_end(cr, error);
}
