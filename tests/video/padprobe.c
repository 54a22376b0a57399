#include "padprobe.h"

#include "testutil.h"

void padprobe_buffers(GstElement *bin, const char *element, const char *pad,
                      GstPadProbeCallback func, gpointer data)
{
    GstElement *e = gst_bin_get_by_name(GST_BIN(bin), element);
    ck_assert_msg(e != NULL, "no element %s", element);
    GstPad *p = gst_element_get_static_pad(e, pad);
    ck_assert_msg(p != NULL, "%s has no pad %s", element, pad);
    gst_pad_add_probe(p, GST_PAD_PROBE_TYPE_BUFFER, func, data, NULL);
    gst_object_unref(p);
    gst_object_unref(e);
}
