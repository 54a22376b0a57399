/* portoverlay.c: the overlay element: PsReadsMeta detections and the application's scene drawn
 * on BGRx frames by overlay/. */
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

#include "overlay.h"
#include "psgst.h"

GST_DEBUG_CATEGORY_STATIC(portoverlay_debug);
#define GST_CAT_DEFAULT portoverlay_debug

#define PS_TYPE_PORT_OVERLAY (ps_port_overlay_get_type())
G_DECLARE_FINAL_TYPE(PsPortOverlay, ps_port_overlay, PS, PORT_OVERLAY, GstVideoFilter)

struct _PsPortOverlay {
    GstVideoFilter parent;
    GMutex lock; /* guards the properties */
    char *camera;
    char *title;
    char *font;
    PsScene *scene;       /* the application's (borrowed), or NULL */
    PsScene *own_scene;   /* used when the application gave none */
    PsCameraModel *model; /* borrowed */
    guint ttl_ms;
    PsRenderer *renderer;
    GstClockTime last_source_pts;
    guint64 rendered;
};

G_DEFINE_TYPE(PsPortOverlay, ps_port_overlay, GST_TYPE_VIDEO_FILTER)

enum { PROP_0, PROP_CAMERA, PROP_TITLE, PROP_FONT, PROP_SCENE, PROP_MODEL, PROP_TTL, PROP_RENDERED };

static gboolean start(GstBaseTransform *bt)
{
    PsPortOverlay *self = PS_PORT_OVERLAY(bt);
    g_mutex_lock(&self->lock);
    self->renderer = overlay_renderer_new(self->font);
    self->own_scene = overlay_scene_new((gint64)self->ttl_ms * 1000);
    self->last_source_pts = GST_CLOCK_TIME_NONE;
    g_mutex_unlock(&self->lock);
    return TRUE;
}

static gboolean stop(GstBaseTransform *bt)
{
    PsPortOverlay *self = PS_PORT_OVERLAY(bt);
    g_mutex_lock(&self->lock);
    g_clear_pointer(&self->renderer, overlay_renderer_free);
    g_clear_pointer(&self->own_scene, overlay_scene_free);
    g_mutex_unlock(&self->lock);
    return TRUE;
}

static GstFlowReturn transform_frame_ip(GstVideoFilter *vf, GstVideoFrame *frame)
{
    PsPortOverlay *self = PS_PORT_OVERLAY(vf);
    GstClockTime pts = GST_BUFFER_PTS(frame->buffer);
    gint64 now = GST_CLOCK_TIME_IS_VALID(pts) ? (gint64)(pts / 1000) : 0;
    g_mutex_lock(&self->lock);
    PsScene *scene = self->scene ? self->scene : self->own_scene;
    PsReadsMeta *m = ps_buffer_get_reads_meta(frame->buffer);
    const char *camera = self->camera ? self->camera : (m && m->camera[0] ? m->camera : "");
    /* New reads (not the same ones carried again on later buffers) refresh the detections. */
    if (m && m->source_pts != self->last_source_pts) {
        self->last_source_pts = m->source_pts;
        double sx = m->source_width > 0 ? (double)GST_VIDEO_FRAME_WIDTH(frame) / m->source_width
                                         : 1.0;
        double sy = m->source_height > 0
                        ? (double)GST_VIDEO_FRAME_HEIGHT(frame) / m->source_height
                        : 1.0;
        /* Each read is stamped with the frame it was made on, so that the scene can carry a
         * moving container's box forward to the frame being drawn. */
        gint64 seen = GST_CLOCK_TIME_IS_VALID(m->source_pts) && m->source_pts / 1000 <= (guint64)now
                          ? (gint64)(m->source_pts / 1000)
                          : now;
        for (guint i = 0; i < m->n_reads && i < PS_READS_META_MAX; i++) {
            const PsGstRead *r = &m->reads[i];
            double bbox[4] = {r->bbox[0] * sx, r->bbox[1] * sy, r->bbox[2] * sx, r->bbox[3] * sy};
            overlay_scene_put_detection(scene, camera, r->code, r->size_type, bbox,
                                        r->confidence, seen);
        }
    }
    GError *error = NULL;
    gboolean ok = overlay_render(self->renderer, scene, camera, self->model, self->title,
                                 GST_VIDEO_FRAME_PLANE_DATA(frame, 0),
                                 GST_VIDEO_FRAME_WIDTH(frame), GST_VIDEO_FRAME_HEIGHT(frame),
                                 GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0), now, &error);
    self->rendered++;
    g_mutex_unlock(&self->lock);
    if (!ok) {
        GST_ELEMENT_ERROR(self, STREAM, FAILED, ("overlay: cannot draw"), ("%s", error->message));
        g_error_free(error);
        return GST_FLOW_ERROR;
    }
    return GST_FLOW_OK;
}

static void set_property(GObject *obj, guint id, const GValue *v, GParamSpec *ps)
{
    PsPortOverlay *self = PS_PORT_OVERLAY(obj);
    g_mutex_lock(&self->lock);
    switch (id) {
    case PROP_CAMERA:
        g_free(self->camera);
        self->camera = g_value_dup_string(v);
        break;
    case PROP_TITLE:
        g_free(self->title);
        self->title = g_value_dup_string(v);
        break;
    case PROP_FONT:
        g_free(self->font);
        self->font = g_value_dup_string(v);
        break;
    case PROP_SCENE:
        self->scene = g_value_get_pointer(v);
        break;
    case PROP_MODEL:
        self->model = g_value_get_pointer(v);
        break;
    case PROP_TTL:
        self->ttl_ms = g_value_get_uint(v);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, ps);
    }
    g_mutex_unlock(&self->lock);
}

static void get_property(GObject *obj, guint id, GValue *v, GParamSpec *ps)
{
    PsPortOverlay *self = PS_PORT_OVERLAY(obj);
    g_mutex_lock(&self->lock);
    switch (id) {
    case PROP_CAMERA:
        g_value_set_string(v, self->camera);
        break;
    case PROP_TITLE:
        g_value_set_string(v, self->title);
        break;
    case PROP_FONT:
        g_value_set_string(v, self->font);
        break;
    case PROP_SCENE:
        g_value_set_pointer(v, self->scene);
        break;
    case PROP_MODEL:
        g_value_set_pointer(v, self->model);
        break;
    case PROP_TTL:
        g_value_set_uint(v, self->ttl_ms);
        break;
    case PROP_RENDERED:
        g_value_set_uint64(v, self->rendered);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, ps);
    }
    g_mutex_unlock(&self->lock);
}

static void finalize(GObject *obj)
{
    PsPortOverlay *self = PS_PORT_OVERLAY(obj);
    g_free(self->camera);
    g_free(self->title);
    g_free(self->font);
    g_mutex_clear(&self->lock);
    G_OBJECT_CLASS(ps_port_overlay_parent_class)->finalize(obj);
}

static void ps_port_overlay_class_init(PsPortOverlayClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GstElementClass *ec = GST_ELEMENT_CLASS(klass);
    GstBaseTransformClass *bc = GST_BASE_TRANSFORM_CLASS(klass);
    GstVideoFilterClass *vc = GST_VIDEO_FILTER_CLASS(klass);
    oc->set_property = set_property;
    oc->get_property = get_property;
    oc->finalize = finalize;
    GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
    g_object_class_install_property(
        oc, PROP_CAMERA, g_param_spec_string("camera", "Camera", "camera whose part of the "
                                             "scene is drawn (default: the one in the reads)",
                                             NULL, rw));
    g_object_class_install_property(
        oc, PROP_TITLE, g_param_spec_string("title", "Title", "text in the top-left corner",
                                            NULL, rw));
    g_object_class_install_property(
        oc, PROP_FONT, g_param_spec_string("font", "Font", "Pango font families (default "
                                           "WenQuanYi Micro Hei, DejaVu Sans)", NULL,
                                           rw | GST_PARAM_MUTABLE_READY));
    g_object_class_install_property(
        oc, PROP_SCENE, g_param_spec_pointer("scene", "Scene", "the application's PsScene "
                                             "(borrowed; NULL: a private one fed by the reads)",
                                             rw));
    g_object_class_install_property(
        oc, PROP_MODEL, g_param_spec_pointer("camera-model", "Camera model",
                                             "PsCameraModel projecting vessels (borrowed)", rw));
    g_object_class_install_property(
        oc, PROP_TTL, g_param_spec_uint("ttl", "TTL", "ms a detection stays without a new read "
                                        "(private scene)", 1, 600000, 1500,
                                        rw | GST_PARAM_MUTABLE_READY));
    g_object_class_install_property(
        oc, PROP_RENDERED, g_param_spec_uint64("rendered", "Rendered", "frames drawn", 0,
                                               G_MAXUINT64, 0,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
    gst_element_class_set_static_metadata(
        ec, "Port AR overlay", "Filter/Effect/Video",
        "Draws container boxes and labels (code, declaration, origin -> destination, goods, "
        "status colour), vessels with their tracks and the operator's selection",
        "portsight");
    GstCaps *caps = gst_caps_from_string(GST_VIDEO_CAPS_MAKE("{ BGRx, BGRA }"));
    gst_element_class_add_pad_template(ec, gst_pad_template_new("sink", GST_PAD_SINK,
                                                                GST_PAD_ALWAYS, caps));
    gst_element_class_add_pad_template(ec, gst_pad_template_new("src", GST_PAD_SRC,
                                                                GST_PAD_ALWAYS, caps));
    gst_caps_unref(caps);
    bc->start = start;
    bc->stop = stop;
    vc->transform_frame_ip = transform_frame_ip;
    GST_DEBUG_CATEGORY_INIT(portoverlay_debug, "portoverlay", 0, "port AR overlay");
}

static void ps_port_overlay_init(PsPortOverlay *self)
{
    g_mutex_init(&self->lock);
    self->ttl_ms = 1500;
}

GType psgst__port_overlay_type(void);
GType psgst__port_overlay_type(void)
{
    return PS_TYPE_PORT_OVERLAY;
}
