/* padprobe.h: a buffer probe on a pad of an element of a pipeline, for the GStreamer tests. */
#pragma once

#include <gst/gst.h>

/* Calls @func with @data for each buffer through the pad @pad of the element named @element in
 * @bin (a GST_PAD_PROBE_TYPE_BUFFER probe, kept as long as the pad). Fails the test when there
 * is no such element or pad. */
void padprobe_buffers(GstElement *bin, const char *element, const char *pad,
                      GstPadProbeCallback func, gpointer data);
