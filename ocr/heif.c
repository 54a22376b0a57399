/* heif.c: what a HEIF file's boxes and parameter sets say of the pictures it codes, read
 * before libheif decodes any (ocr/photo.c). libheif 1.15 checks the size an image's ispe box
 * declares, then decodes and allocates whatever the coded data says: a picture larger than
 * its ispe, a grid's output larger than its ispe, as many tiles as a grid lists. */
#include <stdarg.h>
#include <string.h>

#include "pipeline.h"

/* A big-endian bit reader over an HEVC RBSP (emulation prevention bytes removed). */
typedef struct {
    const guint8 *p;
    gsize n, bit;
    gboolean over; /* read past the end */
} Bits;

static guint32 bits_u(Bits *b, int k)
{
    guint32 v = 0;
    for (int i = 0; i < k; i++, b->bit++) {
        if (b->bit >= 8 * b->n) {
            b->over = TRUE;
            return 0;
        }
        v = v << 1 | ((b->p[b->bit / 8] >> (7 - b->bit % 8)) & 1);
    }
    return v;
}

/* Exp-Golomb ue(v); over 31 leading zeros is no value a picture size takes (over). */
static guint32 bits_ue(Bits *b)
{
    int zeros = 0;
    while (!b->over && bits_u(b, 1) == 0)
        if (++zeros > 31) {
            b->over = TRUE;
            return 0;
        }
    return zeros ? (guint32)((1ull << zeros) - 1 + bits_u(b, zeros)) : 0;
}

/* The picture size an HEVC sequence parameter set gives (@nal, @len bytes, its 2-byte NAL
 * header first; H.265 7.3.2.2: up to pic_width_in_luma_samples and pic_height_in_luma_samples);
 * FALSE when it is cut short. */
static gboolean sps_size(const guint8 *nal, gsize len, guint32 *w, guint32 *h)
{
    guint8 rbsp[256]; /* the size comes within the first 131 bytes (7 sub-layers' profiles) */
    gsize n = 0;
    for (gsize i = 2, zeros = 0; i < len && n < sizeof rbsp; i++) {
        if (zeros >= 2 && nal[i] == 3) { /* emulation prevention */
            zeros = 0;
            continue;
        }
        zeros = nal[i] == 0 ? zeros + 1 : 0;
        rbsp[n++] = nal[i];
    }
    Bits b = {rbsp, n, 0, FALSE};
    bits_u(&b, 4);                   /* sps_video_parameter_set_id */
    int sub_layers = (int)bits_u(&b, 3); /* sps_max_sub_layers_minus1 */
    bits_u(&b, 1);
    b.bit += 96; /* profile_tier_level: the general profile (88 bits) and level (8) */
    gboolean profile[8] = {0}, level[8] = {0};
    for (int i = 0; i < sub_layers; i++) {
        profile[i] = bits_u(&b, 1);
        level[i] = bits_u(&b, 1);
    }
    if (sub_layers > 0)
        b.bit += 2 * (8 - sub_layers);
    for (int i = 0; i < sub_layers; i++)
        b.bit += (profile[i] ? 88 : 0) + (level[i] ? 8 : 0);
    bits_ue(&b); /* sps_seq_parameter_set_id */
    if (bits_ue(&b) == 3) /* chroma_format_idc */
        bits_u(&b, 1);
    *w = bits_ue(&b);
    *h = bits_ue(&b);
    return !b.over;
}

/* Whether a picture of @w x @h fits in @max_w x @max_h, either way round (libheif 1.15 writes
 * some turned images' ispe turned). */
static gboolean fits(guint32 w, guint32 h, guint32 max_w, guint32 max_h)
{
    return (w <= max_w && h <= max_h) || (w <= max_h && h <= max_w);
}

/* The parameter sets found so far: how many, the largest picture they give, and the first
 * that does not fit in max_w x max_h (either way round). */
typedef struct {
    guint32 max_w, max_h;
    guint32 w, h;
    int found;
    int pictures;        /* coded in an item's data */
    gboolean cut;        /* one could not be read */
    guint32 misfit_w, misfit_h; /* 0 when all fit */
} Coded;

static void coded_add(Coded *c, gboolean read, guint32 w, guint32 h)
{
    c->found++;
    if (!read) {
        c->cut = TRUE;
        return;
    }
    if (!c->misfit_w && !fits(w, h, c->max_w, c->max_h))
        c->misfit_w = MAX(w, 1), c->misfit_h = h;
    if ((guint64)w * h > (guint64)c->w * c->h)
        c->w = w, c->h = h;
}

/* Adds to @c the sequence parameter sets of one hvcC box's body (@p, @n bytes: an
 * HEVCDecoderConfigurationRecord, ISO/IEC 14496-15 8.3.3), each NAL taken by its own type, as
 * the decoder takes it, not by its array's label; FALSE when the record is cut. */
static gboolean hvcc_sps(const guint8 *p, gsize n, Coded *c)
{
    gsize at = 22; /* the record's fixed fields, then numOfArrays */
    int arrays = at < n ? p[at++] : 0;
    for (int a = 0; a < arrays; a++) {
        if (at + 3 > n)
            return FALSE;
        int nalus = p[at + 1] << 8 | p[at + 2];
        at += 3;
        for (int k = 0; k < nalus; k++) {
            if (at + 2 > n)
                return FALSE;
            gsize len = (gsize)(p[at] << 8 | p[at + 1]);
            at += 2;
            if (len < 2 || len > n - at)
                return FALSE;
            if (((p[at] >> 1) & 0x3f) == 33) { /* SPS_NUT */
                guint32 w = 0, h = 0;
                gboolean read = sps_size(p + at, len, &w, &h);
                coded_add(c, read, w, h);
            }
            at += len;
        }
    }
    return TRUE;
}

/* Adds to @c the HEVC sequence parameter sets among the length-prefixed NAL units of @p (@n
 * bytes: an hvc1 item's data, as HEIF stores it, ISO/IEC 14496-15 4.3.2; lengths of 4 bytes, as
 * libheif 1.15 reads them whatever the hvcC box says). The decoder takes a parameter set
 * wherever it comes, in the hvcC box or in the data. */
static void hevc_data_sps(const guint8 *p, gsize n, Coded *c)
{
    const int len_size = 4;
    for (gsize at = 0; at + (gsize)len_size <= n;) {
        gsize len = 0;
        for (int i = 0; i < len_size; i++)
            len = len << 8 | p[at + i];
        at += len_size;
        if (len > n - at)
            break;
        int type = len >= 2 ? (p[at] >> 1) & 0x3f : -1;
        if (type >= 0 && type < 32 && len >= 3 && (p[at + 2] & 0x80))
            c->pictures++; /* a VCL NAL unit whose first_slice_segment_in_pic_flag is set */
        if (type == 33) { /* SPS_NUT, from the NAL's own header */
            guint32 w = 0, h = 0;
            gboolean read = sps_size(p + at, len, &w, &h);
            coded_add(c, read, w, h);
        }
        at += len;
    }
}

/* The maximum frame size of an AV1 sequence header OBU's payload (@p, @n bytes; AV1 5.5.1:
 * max_frame_width_minus_1 and max_frame_height_minus_1, after the timing, decoder model and
 * operating points' fields); FALSE when it is cut short. */
static gboolean av1_size(const guint8 *p, gsize n, guint32 *w, guint32 *h)
{
    Bits b = {p, n, 0, FALSE};
    bits_u(&b, 4);       /* seq_profile, still_picture */
    if (bits_u(&b, 1)) { /* reduced_still_picture_header */
        bits_u(&b, 5);
    } else {
        gboolean model = FALSE;
        int delay_bits = 0;
        if (bits_u(&b, 1)) {            /* timing_info_present_flag */
            bits_u(&b, 32);             /* num_units_in_display_tick */
            bits_u(&b, 32);             /* time_scale */
            if (bits_u(&b, 1))          /* equal_picture_interval */
                bits_ue(&b);            /* num_ticks_per_picture_minus_1: uvlc(), as ue(v) */
            if ((model = bits_u(&b, 1))) { /* decoder_model_info_present_flag */
                delay_bits = (int)bits_u(&b, 5) + 1;
                bits_u(&b, 32);
                bits_u(&b, 10);
            }
        }
        gboolean display = bits_u(&b, 1); /* initial_display_delay_present_flag */
        int points = (int)bits_u(&b, 5) + 1;
        for (int i = 0; i < points && !b.over; i++) {
            bits_u(&b, 12);         /* operating_point_idc */
            if (bits_u(&b, 5) > 7)  /* seq_level_idx */
                bits_u(&b, 1);      /* seq_tier */
            if (model && bits_u(&b, 1)) {
                bits_u(&b, delay_bits);
                bits_u(&b, delay_bits);
                bits_u(&b, 1);
            }
            if (display && bits_u(&b, 1))
                bits_u(&b, 4);
        }
    }
    int wbits = (int)bits_u(&b, 4) + 1, hbits = (int)bits_u(&b, 4) + 1;
    *w = bits_u(&b, wbits) + 1;
    *h = bits_u(&b, hbits) + 1;
    return !b.over;
}

/* Adds to @c the AV1 sequence headers among the OBUs of @p (@n bytes: an av01 item's data or
 * an av1C box's configOBUs; AV1 5.3). */
static void av1_obus_seq(const guint8 *p, gsize n, Coded *c)
{
    for (gsize at = 0; at < n;) {
        int type = (p[at] >> 3) & 0xf, ext = (p[at] >> 2) & 1, has_size = (p[at] >> 1) & 1;
        at += 1 + (gsize)ext;
        guint64 size = 0;
        if (has_size) {
            int i = 0;
            for (; i < 8 && at < n; i++) { /* leb128() */
                size |= (guint64)(p[at] & 0x7f) << (7 * i);
                if (!(p[at++] & 0x80))
                    break;
            }
            if (i == 8)
                break;
        } else {
            size = at <= n ? n - at : 0;
        }
        if (at > n || size > n - at)
            break;
        if (type == 3 || type == 6) /* OBU_FRAME_HEADER, OBU_FRAME */
            c->pictures++;
        if (type == 1) { /* OBU_SEQUENCE_HEADER */
            guint32 w = 0, h = 0;
            gboolean read = av1_size(p + at, (gsize)size, &w, &h);
            coded_add(c, read, w, h);
        }
        at += (gsize)size;
    }
}

/* A HEIF file's meta box as the size check reads it (ISO/IEC 23008-12, ISO/IEC 14496-12
 * 8.11): its items, their properties and data. */
typedef struct {
    guint32 id;
    char type[4];     /* infe's item_type: hvc1, av01, grid, Exif, ... */
    gboolean located; /* in iloc */
    int method;       /* iloc's construction_method: 0 the file, 1 the idat box */
    guint64 base;
    GArray *extents;  /* guint64 offset and length, in turn */
    GArray *props;    /* guint indices into HeifMeta.props (ipma's, less one) */
    GArray *dimg;     /* guint32 ids of the items it is derived from (iref dimg: a grid's tiles) */
    gboolean described; /* in iinf */
    guint32 auxl;     /* the item it is an auxiliary image of (iref auxl: an alpha plane), or 0 */
    int coded_state;  /* 0 not read yet; 1 read, its data located; 2 read, its data not found */
    Coded coded;      /* what its parameter sets say (hvc1, av01) */
} HeifItem;

typedef struct {
    const guint8 *p;
    gsize n;
    char type[4];
} HeifBox;

typedef struct {
    const guint8 *file, *idat;
    gsize n, idat_n;
    guint32 primary;
    GArray *items;       /* HeifItem */
    GHashTable *by_id;   /* id -> index in items + 1 */
    GArray *props;       /* HeifBox: ipco's boxes in order */
    const char *bad;     /* why it could not be read */
    guint32 max_w, max_h; /* what every coded picture must fit in */
    guint64 scanned;     /* bytes of item data read */
} HeifMeta;

#define HEIF_MAX_ITEMS 4096 /* a 160 megapixel photo in 512 x 512 tiles takes some 600 */

/* A big-endian reader over one box's body. */
typedef struct {
    const guint8 *p;
    gsize n, at;
    gboolean over;
} Cur;

static guint64 cur_u(Cur *c, int bytes)
{
    guint64 v = 0;
    if (bytes < 0 || bytes > 8 || (gsize)bytes > c->n - c->at) {
        c->over = TRUE;
        c->at = c->n;
        return 0;
    }
    for (int i = 0; i < bytes; i++)
        v = v << 8 | c->p[c->at++];
    return v;
}

/* The box at @p + *@at (@n bytes in all): its type and body; *@at moved past it. FALSE at the
 * end, or when its size runs past @n. */
static gboolean next_box(const guint8 *p, gsize n, gsize *at, HeifBox *box)
{
    if (*at > n || n - *at < 8)
        return FALSE;
    const guint8 *b = p + *at;
    guint64 size = (guint64)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
    gsize head = 8;
    if (size == 1) { /* 64-bit size */
        if (n - *at < 16)
            return FALSE;
        size = 0;
        for (int i = 0; i < 8; i++)
            size = size << 8 | b[8 + i];
        head = 16;
    } else if (size == 0) { /* to the end */
        size = n - *at;
    }
    if (size < head || size > n - *at)
        return FALSE;
    memcpy(box->type, b + 4, 4);
    box->p = b + head;
    box->n = (gsize)size - head;
    *at += (gsize)size;
    return TRUE;
}

/* The item @id of @m; NULL when there is none. */
static HeifItem *heif_find(const HeifMeta *m, guint32 id)
{
    guint i = GPOINTER_TO_UINT(g_hash_table_lookup(m->by_id, GUINT_TO_POINTER(id)));
    return i ? &g_array_index(m->items, HeifItem, i - 1) : NULL;
}

/* The item @id of @m, made when there is none yet; NULL past HEIF_MAX_ITEMS (@m->bad says). */
static HeifItem *heif_item(HeifMeta *m, guint32 id)
{
    HeifItem *found = heif_find(m, id);
    if (found)
        return found;
    if (m->items->len >= HEIF_MAX_ITEMS) {
        m->bad = "it lists more than 4096 items";
        return NULL;
    }
    HeifItem it = {.id = id};
    it.extents = g_array_new(FALSE, FALSE, sizeof(guint64));
    it.props = g_array_new(FALSE, FALSE, sizeof(guint));
    it.dimg = g_array_new(FALSE, FALSE, sizeof(guint32));
    g_array_append_val(m->items, it);
    g_hash_table_insert(m->by_id, GUINT_TO_POINTER(id), GUINT_TO_POINTER(m->items->len));
    return &g_array_index(m->items, HeifItem, m->items->len - 1);
}

static void heif_item_clear(gpointer p)
{
    HeifItem *it = p;
    g_array_unref(it->extents);
    g_array_unref(it->props);
    g_array_unref(it->dimg);
}

/* Reads iinf's infe boxes (@c past its entry count). */
static void read_iinf(HeifMeta *m, Cur *c)
{
    HeifBox e;
    for (gsize at = c->at; next_box(c->p, c->n, &at, &e) && !m->bad;) {
        if (memcmp(e.type, "infe", 4) != 0 || e.n < 4)
            continue;
        Cur f = {e.p, e.n, 0, FALSE};
        int version = (int)cur_u(&f, 4) >> 24;
        if (version < 2) /* no item type */
            continue;
        guint32 id = (guint32)cur_u(&f, version == 2 ? 2 : 4);
        cur_u(&f, 2); /* item_protection_index */
        if (f.n - f.at < 4) {
            m->bad = "its infe box cannot be read";
            return;
        }
        HeifItem *it = heif_item(m, id);
        if (it && it->described) {
            m->bad = "an item is described twice (infe)";
            return;
        }
        if (it) {
            memcpy(it->type, f.p + f.at, 4);
            it->described = TRUE;
        }
    }
}

static gboolean iloc_size(int bytes)
{
    return bytes == 0 || bytes == 4 || bytes == 8;
}

static void read_iloc(HeifMeta *m, Cur *c, int version)
{
    int sizes = (int)cur_u(c, 2);
    int off_size = sizes >> 12, len_size = (sizes >> 8) & 0xf, base_size = (sizes >> 4) & 0xf,
        index_size = version >= 1 ? sizes & 0xf : 0;
    /* sizes of 0, 4 or 8 bytes, no extent index: as libheif 1.15 reads them (it reads an index
     * in version 2 only, the standard in 1 too: a file read two ways is refused) */
    if (!iloc_size(off_size) || !iloc_size(len_size) || !iloc_size(base_size) || index_size) {
        m->bad = "its iloc box has field sizes other than 0, 4 or 8 bytes, or extent indices";
        return;
    }
    guint32 count = (guint32)cur_u(c, version < 2 ? 2 : 4);
    for (guint32 i = 0; i < count && !c->over && !m->bad; i++) {
        guint32 id = (guint32)cur_u(c, version < 2 ? 2 : 4);
        int method = version >= 1 ? (int)cur_u(c, 2) & 0xf : 0;
        cur_u(c, 2); /* data_reference_index */
        guint64 base = cur_u(c, base_size);
        int extents = (int)cur_u(c, 2);
        HeifItem *it = c->over ? NULL : heif_item(m, id);
        if (it && (it->located || extents > 32)) { /* libheif 1.15 takes up to 32 */
            m->bad = it->located ? "an item is located twice (iloc)"
                                 : "an item is in more than 32 extents (iloc)";
            return;
        }
        if (it) {
            it->located = TRUE;
            it->method = method;
            it->base = base;
            g_array_set_size(it->extents, 0);
        }
        for (int k = 0; k < extents && !c->over; k++) {
            guint64 ext[2] = {cur_u(c, off_size), cur_u(c, len_size)};
            if (it)
                g_array_append_vals(it->extents, ext, 2);
        }
    }
    if (c->over)
        m->bad = "its iloc box cannot be read";
}

static void read_iref(HeifMeta *m, Cur *c, int version)
{
    HeifBox r;
    for (gsize at = c->at; next_box(c->p, c->n, &at, &r) && !m->bad;) {
        gboolean auxl = memcmp(r.type, "auxl", 4) == 0;
        if (memcmp(r.type, "dimg", 4) != 0 && !auxl)
            continue;
        Cur f = {r.p, r.n, 0, FALSE};
        int id_size = version == 0 ? 2 : 4;
        HeifItem *it = heif_item(m, (guint32)cur_u(&f, id_size));
        if (auxl) {
            cur_u(&f, 2); /* reference_count: the first is the image it belongs to */
            guint32 to = (guint32)cur_u(&f, id_size);
            if (it && !f.over && !it->auxl)
                it->auxl = to;
            continue;
        }
        int count = (int)cur_u(&f, 2);
        if (it && it->dimg->len) {
            m->bad = "an item's derivation is given twice (iref dimg)";
            return;
        }
        for (int k = 0; k < count && !f.over && it; k++) {
            guint32 to = (guint32)cur_u(&f, id_size);
            if (!f.over)
                g_array_append_val(it->dimg, to);
        }
        if (f.over)
            m->bad = "its iref box cannot be read";
    }
}

static void read_ipma(HeifMeta *m, Cur *c, int version, int flags)
{
    guint32 count = (guint32)cur_u(c, 4);
    for (guint32 i = 0; i < count && !c->over && !m->bad; i++) {
        HeifItem *it = heif_item(m, (guint32)cur_u(c, version < 1 ? 2 : 4));
        int n = (int)cur_u(c, 1);
        for (int k = 0; k < n && !c->over; k++) {
            guint index = (flags & 1) ? (guint)cur_u(c, 2) & 0x7fff : (guint)cur_u(c, 1) & 0x7f;
            if (index > 0 && it) {
                index--;
                g_array_append_val(it->props, index);
            }
        }
    }
    if (c->over)
        m->bad = "its ipma box cannot be read";
}

/* Reads @data's (@len bytes) meta box into @m (heif_meta_clear() frees it). */
static void heif_meta_read(HeifMeta *m, const guint8 *data, gsize len)
{
    memset(m, 0, sizeof *m);
    m->file = data;
    m->n = len;
    m->items = g_array_new(FALSE, FALSE, sizeof(HeifItem));
    g_array_set_clear_func(m->items, heif_item_clear);
    m->by_id = g_hash_table_new(NULL, NULL);
    m->props = g_array_new(FALSE, FALSE, sizeof(HeifBox));
    HeifBox top, meta = {NULL, 0, ""}, b;
    for (gsize at = 0; next_box(data, len, &at, &top);)
        if (memcmp(top.type, "meta", 4) == 0) {
            if (meta.p || top.n < 4) { /* libheif 1.15 takes the last, this check the one */
                m->bad = meta.p ? "it has two meta boxes" : "its meta box cannot be read";
                return;
            }
            meta = top;
        }
    if (!meta.p) {
        m->bad = "its meta box cannot be read";
        return;
    }
    /* each box once: libheif 1.15 takes the first of a kind, an item's first infe and iloc
     * entry; a file that two readers would read two ways is refused */
    static const char once[][5] = {"pitm", "iinf", "iloc", "iref", "iprp", "idat"};
    gboolean seen[G_N_ELEMENTS(once)] = {FALSE};
    for (gsize at = 4; next_box(meta.p, meta.n, &at, &b) && !m->bad;) {
        for (guint k = 0; k < G_N_ELEMENTS(once); k++)
            if (memcmp(b.type, once[k], 4) == 0 && seen[k]++) {
                m->bad = "a box of its meta box comes twice";
                return;
            }
        Cur c = {b.p, b.n, 0, FALSE};
        if (memcmp(b.type, "iprp", 4) == 0) {
            HeifBox p;
            gboolean ipco = FALSE, ipma = FALSE;
            for (gsize pa = 0; next_box(b.p, b.n, &pa, &p) && !m->bad;) {
                Cur pc = {p.p, p.n, 0, FALSE};
                if (memcmp(p.type, "ipco", 4) == 0) {
                    HeifBox prop;
                    if (ipco) {
                        m->bad = "its ipco box comes twice";
                        return;
                    }
                    ipco = TRUE;
                    for (gsize qa = 0; next_box(p.p, p.n, &qa, &prop);)
                        g_array_append_val(m->props, prop);
                } else if (memcmp(p.type, "ipma", 4) == 0) {
                    if (ipma) {
                        m->bad = "its ipma box comes twice";
                        return;
                    }
                    ipma = TRUE;
                    guint32 vf = (guint32)cur_u(&pc, 4);
                    read_ipma(m, &pc, (int)(vf >> 24), (int)(vf & 0xffffff));
                }
            }
            continue;
        }
        if (memcmp(b.type, "idat", 4) == 0) {
            m->idat = b.p;
            m->idat_n = b.n;
            continue;
        }
        guint32 vf = (guint32)cur_u(&c, 4);
        int version = (int)(vf >> 24);
        if (c.over)
            continue;
        if (memcmp(b.type, "pitm", 4) == 0)
            m->primary = (guint32)cur_u(&c, version == 0 ? 2 : 4);
        else if (memcmp(b.type, "iinf", 4) == 0) {
            cur_u(&c, version == 0 ? 2 : 4);
            read_iinf(m, &c);
        } else if (memcmp(b.type, "iloc", 4) == 0)
            read_iloc(m, &c, version);
        else if (memcmp(b.type, "iref", 4) == 0)
            read_iref(m, &c, version);
    }
}

static void heif_meta_clear(HeifMeta *m)
{
    g_array_unref(m->items);
    g_hash_table_destroy(m->by_id);
    g_array_unref(m->props);
}

/* The data of @it (in *@p, *@len; copied into *@tmp when it is in several extents); FALSE when
 * it lies outside the file (or its idat box), or is given another way (a reference). */
static gboolean item_data(const HeifMeta *m, const HeifItem *it, GByteArray **tmp,
                          const guint8 **p, gsize *len)
{
    const guint8 *src = it->method == 0 ? m->file : it->method == 1 ? m->idat : NULL;
    gsize n = it->method == 0 ? m->n : m->idat_n;
    guint extents = it->extents->len / 2;
    if (!it->located || !src || extents == 0)
        return FALSE;
    gsize total = 0;
    for (guint i = 0; i < extents; i++) {
        guint64 off = g_array_index(it->extents, guint64, 2 * i),
                l = g_array_index(it->extents, guint64, 2 * i + 1);
        if (off > G_MAXUINT64 - it->base || (off += it->base) > n)
            return FALSE;
        if (l == 0 && extents == 1) /* to the end */
            l = n - off;
        if (l > n - off || l > n - total || l > G_MAXUINT - total) /* no overlaps: a photo's */
            return FALSE;
        total += (gsize)l;
        if (extents == 1) {
            *p = src + off;
            *len = (gsize)l;
            return TRUE;
        }
        if (!*tmp)
            *tmp = g_byte_array_new();
        g_byte_array_append(*tmp, src + off, (guint)l);
    }
    *p = (*tmp)->data;
    *len = (*tmp)->len;
    return TRUE;
}

/* What the parameter sets of @it (an hvc1 or av01 item) say, in its hvcC or av1C property and
 * in its own data, read once (it->coded; it->coded_state 1 when its data was found). The data
 * read over all items is held to twice the file: items that share their data (a grid that
 * lists one tile's data a thousand times) would have it read as often. */
static const Coded *item_coded(HeifMeta *m, HeifItem *it)
{
    if (it->coded_state)
        return &it->coded;
    Coded *c = &it->coded;
    c->max_w = m->max_w;
    c->max_h = m->max_h;
    gboolean hevc = memcmp(it->type, "hvc1", 4) == 0;
    for (guint i = 0; i < it->props->len; i++) {
        guint k = g_array_index(it->props, guint, i);
        const HeifBox *b = k < m->props->len ? &g_array_index(m->props, HeifBox, k) : NULL;
        if (b && hevc && memcmp(b->type, "hvcC", 4) == 0) {
            if (!hvcc_sps(b->p, b->n, c))
                c->cut = TRUE;
        } else if (b && !hevc && memcmp(b->type, "av1C", 4) == 0 && b->n > 4) {
            av1_obus_seq(b->p + 4, b->n - 4, c);
        }
    }
    GByteArray *tmp = NULL;
    const guint8 *p = NULL;
    gsize n = 0;
    it->coded_state = item_data(m, it, &tmp, &p, &n) ? 1 : 2;
    m->scanned += n;
    if (m->scanned > 2 * (guint64)m->n + 65536)
        m->bad = "its items' data overlap";
    else if (it->coded_state == 1 && hevc)
        hevc_data_sps(p, n, c);
    else if (it->coded_state == 1)
        av1_obus_seq(p, n, c);
    if (tmp)
        g_byte_array_unref(tmp);
    return c;
}

/* Sets @error (when not set yet): the HEIF file @name is not decoded, for the reason @fmt says. */
G_GNUC_PRINTF(3, 4)
static void heif_refuse(GError **error, const char *name, const char *fmt, ...)
{
    if (error && *error)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, OCR_ERROR, OCR_ERROR_IMAGE, "%s: %s: not decoded", name, why);
}

/* Checks the grid item @g of @m (ISO/IEC 23008-12 6.6.2.3; the primary image, or its alpha
 * plane): its output within @iw x @ih (the primary image's ispe, either way round), and its
 * tiles, as many as it says, each one HEVC or AV1 picture, coding no more than the output and a
 * row and a column of tiles. libheif 1.15 allocates the output the grid's data gives (not its
 * ispe), and decodes every tile whole. */
static void check_grid(HeifMeta *m, const HeifItem *g, int iw, int ih, const char *name,
                       GError **error)
{
    GByteArray *tmp = NULL;
    const guint8 *p = NULL;
    gsize n = 0;
    gboolean read = item_data(m, g, &tmp, &p, &n);
    int field = read && n >= 2 && (p[1] & 1) ? 4 : 2;
    if (!read || n < 4 + 2 * (gsize)field) {
        heif_refuse(error, name, "its grid's description cannot be read");
        goto done;
    }
    guint32 rows = p[2] + 1u, cols = p[3] + 1u, ow = 0, oh = 0;
    for (int i = 0; i < field; i++) {
        ow = ow << 8 | p[4 + i];
        oh = oh << 8 | p[4 + field + i];
    }
    if (ow == 0 || oh == 0 || !fits(ow, oh, (guint32)iw, (guint32)ih)) {
        heif_refuse(error, name, "its grid's output (%u x %u) is larger than the image it "
                    "belongs to (%d x %d)", ow, oh, iw, ih);
        goto done;
    }
    if (g->dimg->len != rows * cols) {
        heif_refuse(error, name, "its grid of %u x %u tiles refers to %u", rows, cols,
                    g->dimg->len);
        goto done;
    }
    guint64 tw = 0, th = 0, area = 0;
    for (guint i = 0; i < g->dimg->len; i++) {
        guint32 id = g_array_index(g->dimg, guint32, i);
        HeifItem *t = heif_find(m, id);
        const Coded *c = NULL;
        if (t && (memcmp(t->type, "hvc1", 4) == 0 || memcmp(t->type, "av01", 4) == 0))
            c = item_coded(m, t);
        if (m->bad) {
            heif_refuse(error, name, "%s", m->bad);
            goto done;
        }
        if (!c || t->coded_state != 1 || c->found == 0 || c->pictures != 1 || c->misfit_w) {
            heif_refuse(error, name, "its grid's tile %u is not one HEVC or AV1 picture that "
                        "fits", id);
            goto done;
        }
        area += (guint64)c->w * c->h; /* each side under 2^17: the ispe is within the limits */
        tw = MAX(tw, c->w);
        th = MAX(th, c->h);
    }
    if (area > (ow + tw) * (oh + th))
        heif_refuse(error, name, "its grid's %u tiles code %" G_GUINT64_FORMAT " pixels for an "
                    "output of %u x %u", g->dimg->len, area, ow, oh);
done:
    if (tmp)
        g_byte_array_unref(tmp);
}

/* See pipeline.h. The sizes read, for that: the HEVC sequence parameter sets of every hvcC box
 * and hvc1 item's data, the AV1 sequence headers of every av01 item's av1C box and data, and
 * every grid's output and tiles (check_grid(): the primary image, or its alpha plane, which
 * libheif decodes with it). A picture of up to 512 x 512 is allowed whatever the ispe (a grid's
 * tiles for a small image), the grid's rule then bounding their number. */
gboolean ocr__heif_fits(const guint8 *data, gsize len, int iw, int ih, const char *name,
                        GError **error)
{
    GError *e = NULL;
    HeifMeta m;
    heif_meta_read(&m, data, len);
    m.max_w = MAX(((guint32)MAX(iw, 0) + 63u) / 64u * 64u, 512u);
    m.max_h = MAX(((guint32)MAX(ih, 0) + 63u) / 64u * 64u, 512u);
    HeifItem *primary = m.bad ? NULL : heif_find(&m, m.primary);
    if (m.bad)
        heif_refuse(&e, name, "%s", m.bad);
    else if (!primary)
        heif_refuse(&e, name, "its primary item %u is not described", m.primary);
    for (guint i = 0; !e && i < m.props->len; i++) {
        const HeifBox *b = &g_array_index(m.props, HeifBox, i);
        Coded c = {.max_w = m.max_w, .max_h = m.max_h};
        if (memcmp(b->type, "hvcC", 4) != 0)
            continue;
        if (!hvcc_sps(b->p, b->n, &c) || c.found == 0 || c.cut)
            heif_refuse(&e, name, "an hvcC box's sequence parameter set is missing or cut");
        else if ((b->p[21] & 3) != 3) /* (hvcc_sps() read past it) */
            heif_refuse(&e, name, "an hvcC box gives NAL unit lengths of %d bytes (libheif "
                        "1.15 reads 4)", (b->p[21] & 3) + 1);
        else if (c.misfit_w)
            heif_refuse(&e, name, "a coded HEVC picture (%u x %u) is larger than the image it "
                        "belongs to (%d x %d)", c.misfit_w, c.misfit_h, iw, ih);
    }
    for (guint i = 0; !e && i < m.items->len; i++) {
        HeifItem *it = &g_array_index(m.items, HeifItem, i);
        gboolean hevc = memcmp(it->type, "hvc1", 4) == 0, av1 = memcmp(it->type, "av01", 4) == 0;
        /* an overlay's canvas is allocated as its data says: the primary's or its alpha's */
        if (memcmp(it->type, "iovl", 4) == 0 && (it == primary || it->auxl == m.primary)) {
            heif_refuse(&e, name, "its image or its alpha plane is an overlay (iovl; not read)");
            break;
        }
        if (!hevc && !av1)
            continue;
        const Coded *c = item_coded(&m, it);
        if (m.bad)
            heif_refuse(&e, name, "%s", m.bad);
        else if (c->cut)
            heif_refuse(&e, name, "item %u's %s is cut", it->id,
                        hevc ? "sequence parameter set" : "sequence header");
        else if (c->misfit_w)
            heif_refuse(&e, name, "a coded %s picture (%u x %u) is larger than the image it "
                        "belongs to (%d x %d)", hevc ? "HEVC" : "AV1", c->misfit_w, c->misfit_h,
                        iw, ih);
        else if (it == primary && (it->coded_state != 1 || !c->found))
            heif_refuse(&e, name, "its primary image's %s",
                        it->coded_state != 1 ? "data is not in the file"
                        : hevc               ? "sequence parameter set is missing"
                                             : "sequence header is missing");
        else if (c->pictures > 1 || (it == primary && c->pictures == 0))
            heif_refuse(&e, name, "item %u codes %d pictures", it->id, c->pictures);
    }
    for (guint i = 0; !e && i < m.items->len; i++) {
        const HeifItem *it = &g_array_index(m.items, HeifItem, i);
        if (memcmp(it->type, "grid", 4) == 0)
            check_grid(&m, it, iw, ih, name, &e);
    }
    if (!e && memcmp(primary->type, "grid", 4) != 0 && memcmp(primary->type, "hvc1", 4) != 0 &&
        memcmp(primary->type, "av01", 4) != 0) {
        char type[5] = "";
        for (int i = 0; i < 4; i++)
            type[i] = g_ascii_isalnum(primary->type[i]) ? primary->type[i] : '?';
        heif_refuse(&e, name, "its primary image is of type '%s' (HEVC, AV1 and their grids are "
                    "read)", type);
    }
    heif_meta_clear(&m);
    if (e)
        g_propagate_error(error, e);
    return e == NULL;
}
