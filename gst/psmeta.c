/* psmeta.c: PsReadsMeta, container reads travelling with the buffers. */
#include <gst/video/video.h>
#include <string.h>

#include "psgst.h"

GType ps_reads_meta_api_get_type(void)
{
    static GType type = 0;
    static const gchar *tags[] = {NULL}; /* not tied to pixel contents or geometry */
    if (g_once_init_enter(&type)) {
        GType t = gst_meta_api_type_register("PsReadsMetaAPI", tags);
        g_once_init_leave(&type, t);
    }
    return type;
}

static gboolean meta_init(GstMeta *meta, gpointer params, GstBuffer *buffer)
{
    PsReadsMeta *m = (PsReadsMeta *)meta;
    m->camera[0] = '\0';
    m->source_pts = GST_CLOCK_TIME_NONE;
    m->n_reads = 0;
    m->source_width = m->source_height = 0;
    return TRUE;
}

static gboolean meta_transform(GstBuffer *dest, GstMeta *meta, GstBuffer *buffer, GQuark type,
                               gpointer data)
{
    /* Copies and scaled copies keep the reads: their boxes stay in source_width x
     * source_height pixels, and the reader scales them to the frame it draws on. */
    if (!GST_META_TRANSFORM_IS_COPY(type) && !GST_VIDEO_META_TRANSFORM_IS_SCALE(type))
        return FALSE;
    PsReadsMeta *src = (PsReadsMeta *)meta;
    PsReadsMeta *dst = ps_buffer_add_reads_meta(dest);
    if (!dst)
        return FALSE;
    memcpy(dst->camera, src->camera, sizeof dst->camera);
    dst->source_pts = src->source_pts;
    dst->source_width = src->source_width;
    dst->source_height = src->source_height;
    dst->n_reads = src->n_reads;
    memcpy(dst->reads, src->reads, sizeof dst->reads);
    return TRUE;
}

const GstMetaInfo *ps_reads_meta_get_info(void)
{
    static const GstMetaInfo *info = NULL;
    if (g_once_init_enter(&info)) {
        const GstMetaInfo *i = gst_meta_register(PS_READS_META_API_TYPE, "PsReadsMeta",
                                                 sizeof(PsReadsMeta), meta_init, NULL,
                                                 meta_transform);
        g_once_init_leave(&info, i);
    }
    return info;
}

PsReadsMeta *ps_buffer_add_reads_meta(GstBuffer *buffer)
{
    return (PsReadsMeta *)gst_buffer_add_meta(buffer, ps_reads_meta_get_info(), NULL);
}
