/* plugin.c: the loadable GStreamer plugin (GST_PLUGIN_PATH=build/gst gst-inspect-1.0 portsight). */
#include "ps-config.h"
#include "psgst.h"

#define PACKAGE "portsight"

static gboolean plugin_init(GstPlugin *plugin)
{
    return psgst_plugin_init(plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, portsight,
                  "portsight container OCR and AR overlay", plugin_init, PS_VERSION, "Proprietary",
                  "portsight", "https://example.invalid/portsight")
