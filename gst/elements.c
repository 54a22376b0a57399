/* elements.c: registration of portsight's elements, for the plugin module and for the
 * `portsight` program (static registration). */
#include "ps-config.h"
#include "psgst.h"

GType psgst__port_overlay_type(void);
GType psgst__container_ocr_type(void);

gboolean psgst_plugin_init(GstPlugin *plugin)
{
    gboolean ok = gst_element_register(plugin, "portoverlay", GST_RANK_NONE,
                                       psgst__port_overlay_type());
    ok = ok && gst_element_register(plugin, "containerocr", GST_RANK_NONE,
                                    psgst__container_ocr_type());
    return ok;
}

static gpointer register_once(gpointer data)
{
    gboolean ok = gst_plugin_register_static(
        GST_VERSION_MAJOR, GST_VERSION_MINOR, "portsight-static",
        "portsight container OCR and AR overlay", psgst_plugin_init, PS_VERSION, "Proprietary",
        "portsight", "portsight", "https://example.invalid/portsight");
    return GINT_TO_POINTER(ok);
}

gboolean psgst_register_static(void)
{
    static GOnce once = G_ONCE_INIT;
    return GPOINTER_TO_INT(g_once(&once, register_once, NULL));
}
