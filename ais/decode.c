/* decode.c: NMEA framing, tag blocks, multi-sentence reassembly and the bit-level decoding of
 * AIS messages 1-27. Bit layouts: ITU-R M.1371 as documented in "AIVDM/AIVDO protocol
 * decoding" (E. S. Raymond) and gpsd's field list (gpsd_json(5)). */
#include "ais-private.h"

#include <string.h>

G_DEFINE_QUARK(portsight-ais-error-quark, ais_error)

enum {
    DEFAULT_MAX_PENDING = 32,
    DEFAULT_MAX_AGE = 64,
    MAX_FRAGMENTS = 9,                 /* the fragment count is one digit */
    MAX_CHARS = AIS_MAX_BITS / 6,      /* armoured characters per message */
    TYPE24_NAMES = 8,                  /* part A names remembered for part B, like gpsd */
};

/* A multi-sentence message being reassembled. Fragment payloads are kept as armoured text in
 * one fixed buffer per fragment, so reassembly never allocates. */
typedef struct {
    gboolean used;
    char talker[3];
    gboolean own;
    char channel;
    int seqid;             /* -1 when the sentence left it empty */
    guint total;
    guint have;            /* bit i set: fragment i+1 is here */
    guint64 first_sentence;
    gint64 first_us;
    guint fill;            /* fill bits of the last fragment */
    AisTagBlock tag;
    guint16 len[MAX_FRAGMENTS];
    char text[MAX_FRAGMENTS][MAX_CHARS];
} Pending;

struct PsAisDecoder {
    AisDecoderOptions opt;
    Pending *pending;      /* opt.max_pending slots */
    guint n_pending;
    guint64 sentence_no;
    AisDecoderStats stats;
    struct {
        guint mmsi;
        char name[21];
    } type24[TYPE24_NAMES];
    guint type24_next;
    AisMessage out;        /* the message returned by the last ais_decoder_feed() */
};

PsAisDecoder *ais_decoder_new(const AisDecoderOptions *options)
{
    PsAisDecoder *dec = g_new0(PsAisDecoder, 1);
    if (options)
        dec->opt = *options;
    if (dec->opt.max_pending == 0)
        dec->opt.max_pending = DEFAULT_MAX_PENDING;
    if (dec->opt.max_age_sentences == 0)
        dec->opt.max_age_sentences = DEFAULT_MAX_AGE;
    dec->pending = g_new0(Pending, dec->opt.max_pending);
    return dec;
}

void ais_decoder_free(PsAisDecoder *dec)
{
    if (!dec)
        return;
    g_free(dec->pending);
    g_free(dec);
}

void ais_decoder_reset(PsAisDecoder *dec)
{
    for (guint i = 0; i < dec->opt.max_pending; i++)
        dec->pending[i].used = FALSE;
    dec->n_pending = 0;
}

void ais_decoder_get_stats(const PsAisDecoder *dec, AisDecoderStats *stats)
{
    *stats = dec->stats;
}

/* ---- bits ---- */

guint ais__ubits(const AisMessage *m, guint start, guint width)
{
    /* Reads past the payload give zero bits: the buffer is cleared beyond the armoured text,
     * and has 8 bytes of slack so that a 64-bit load at any bit below AIS_MAX_BITS stays in. */
    if (start >= AIS_MAX_BITS || width == 0)
        return 0;
    const guint8 *b = m->bits + (start >> 3);
    guint64 v = (guint64)b[0] << 56 | (guint64)b[1] << 48 | (guint64)b[2] << 40 |
                (guint64)b[3] << 32 | (guint64)b[4] << 24 | (guint64)b[5] << 16 |
                (guint64)b[6] << 8 | (guint64)b[7];
    v <<= start & 7;
    return (guint)(v >> (64 - width));
}

gint ais__sbits(const AisMessage *m, guint start, guint width)
{
    guint v = ais__ubits(m, start, width);
    if (width < 32 && (v & (1u << (width - 1))))
        return (gint)(v | ~((1u << width) - 1));
    return (gint)v;
}

/* Six-bit text from @start, @count characters at most, into @to (@to_size bytes). Stops at the
 * first '@' (character 0) and removes trailing spaces, as gpsd does. */
void ais__text(const AisMessage *m, guint start, guint count, char *to, gsize to_size,
               gboolean trim)
{
    static const char sixchr[] =
        "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?";
    if (count >= to_size)
        count = (guint)to_size - 1;
    guint i;
    for (i = 0; i < count; i++) {
        char c = sixchr[ais__ubits(m, start + 6 * i, 6)];
        if (c == '@')
            break;
        to[i] = c;
    }
    to[i] = '\0';
    while (trim && i > 0 && (to[i - 1] == ' ' || to[i - 1] == '@'))
        to[--i] = '\0';
}

/* Text to the end of the payload (types 12, 14, binary text applications). */
static void end_text(const AisMessage *m, guint start, char *to, gsize to_size)
{
    if (m->bitlen <= start) {
        to[0] = '\0';
        return;
    }
    ais__text(m, start, (m->bitlen - start) / 6, to, to_size, TRUE);
}

/* Armoured characters to bits; @m->bits is cleared past the last character. */
static gboolean unarmour(AisMessage *m, const char *p, gsize n, guint *nbits, GError **error)
{
    if (n > MAX_CHARS) {
        g_set_error(error, AIS_ERROR, AIS_ERROR_TOO_LONG,
                    "payload of %zu characters is longer than %d", n, MAX_CHARS);
        return FALSE;
    }
    guint8 *out = m->bits;
    guint acc = 0, accbits = 0, o = 0;
    for (gsize i = 0; i < n; i++) {
        guint c = (guint8)p[i];
        if (c < 48 || c > 119 || (c > 87 && c < 96)) {
            g_set_error(error, AIS_ERROR, AIS_ERROR_PAYLOAD,
                        "character '%c' at payload position %zu is not six-bit armouring",
                        g_ascii_isprint(c) ? (int)c : '?', i + 1);
            return FALSE;
        }
        c -= 48;
        if (c > 40)
            c -= 8;
        acc = (acc << 6) | c;
        accbits += 6;
        if (accbits >= 8) {
            accbits -= 8;
            out[o++] = (guint8)(acc >> accbits);
            acc &= (1u << accbits) - 1;
        }
    }
    if (accbits > 0)
        out[o++] = (guint8)(acc << (8 - accbits));
    memset(out + o, 0, sizeof(m->bits) - o);
    *nbits = (guint)n * 6;
    return TRUE;
}

/* ---- message decoding ---- */

#define U(s, w) ais__ubits(m, (s), (w))
#define S(s, w) ais__sbits(m, (s), (w))

static gboolean too_short(const AisMessage *m, guint need, GError **error)
{
    if (m->bitlen >= need)
        return FALSE;
    g_set_error(error, AIS_ERROR, AIS_ERROR_TOO_SHORT,
                "type %u message of %u bits is shorter than %u", m->type, m->bitlen, need);
    return TRUE;
}

static gboolean too_long(const AisMessage *m, guint max, GError **error)
{
    if (m->bitlen <= max)
        return FALSE;
    g_set_error(error, AIS_ERROR, AIS_ERROR_TOO_LONG,
                "type %u message of %u bits is longer than %u", m->type, m->bitlen, max);
    return TRUE;
}

/* Decodes the fields of @m from m->bits/m->bitlen. *@overlong is set when the message is
 * longer than its nominal size but decoded anyway. */
static gboolean decode_fields(AisMessage *m, guint *overlong, GError **error)
{
    *overlong = 0;
    if (m->bitlen < 38) {
        g_set_error(error, AIS_ERROR, AIS_ERROR_TOO_SHORT,
                    "message of %u bits is shorter than the 38-bit header", m->bitlen);
        return FALSE;
    }
    m->type = U(0, 6);
    m->repeat = U(6, 2);
    m->mmsi = U(8, 30);
    switch (m->type) {
    case 1:
    case 2:
    case 3: {
        /* Nominally 168 bits. Like gpsd, accept 163 bits and more: a few transmitters send
         * the radio field short or pad the slot; every field but radio ends by bit 149. */
        if (too_short(m, 163, error))
            return FALSE;
        *overlong = m->bitlen > 168;
        AisType1 *t = &m->t1;
        t->status = U(38, 4);
        t->turn = S(42, 8);
        t->speed = U(50, 10);
        t->accuracy = U(60, 1);
        t->lon = S(61, 28);
        t->lat = S(89, 27);
        t->course = U(116, 12);
        t->heading = U(128, 9);
        t->second = U(137, 6);
        t->maneuver = U(143, 2);
        t->raim = U(148, 1);
        t->radio = m->bitlen >= 168 ? U(149, 19) : U(149, m->bitlen - 149);
        break;
    }
    case 4:
    case 11: {
        if (too_short(m, 168, error))
            return FALSE;
        *overlong = m->bitlen > 168;
        AisType4 *t = &m->t4;
        t->year = U(38, 14);
        t->month = U(52, 4);
        t->day = U(56, 5);
        t->hour = U(61, 5);
        t->minute = U(66, 6);
        t->second = U(72, 6);
        t->accuracy = U(78, 1);
        t->lon = S(79, 28);
        t->lat = S(107, 27);
        t->epfd = U(134, 4);
        t->raim = U(148, 1);
        t->radio = U(149, 19);
        break;
    }
    case 5: {
        /* Nominally 424 bits. Many transmitters send 420 or 422 (the last fill character
         * dropped): accepted on purpose, as gpsd does; dte then reads as 0. */
        if (too_short(m, 420, error))
            return FALSE;
        *overlong = m->bitlen > 424;
        AisType5 *t = &m->t5;
        t->ais_version = U(38, 2);
        t->imo = U(40, 30);
        ais__text(m, 70, 7, t->callsign, sizeof t->callsign, TRUE);
        ais__text(m, 112, 20, t->shipname, sizeof t->shipname, TRUE);
        t->shiptype = U(232, 8);
        t->to_bow = U(240, 9);
        t->to_stern = U(249, 9);
        t->to_port = U(258, 6);
        t->to_starboard = U(264, 6);
        t->epfd = U(270, 4);
        t->month = U(274, 4);
        t->day = U(278, 5);
        t->hour = U(283, 5);
        t->minute = U(288, 6);
        t->draught = U(294, 8);
        ais__text(m, 302, 20, t->destination, sizeof t->destination, TRUE);
        t->dte = m->bitlen >= 423 ? U(422, 1) : 0;
        break;
    }
    case 6: {
        if (too_short(m, 88, error) || too_long(m, 1008, error))
            return FALSE;
        AisBinary *t = &m->bin;
        t->seqno = U(38, 2);
        t->dest_mmsi = U(40, 30);
        t->retransmit = U(70, 1);
        t->dac = U(72, 10);
        t->fid = U(82, 6);
        t->data_offset = 88;
        t->data_bits = m->bitlen - 88;
        break;
    }
    case 7:
    case 13: {
        if (too_short(m, 72, error) || too_long(m, 168, error))
            return FALSE;
        for (guint i = 0; i < 4; i++) {
            gboolean here = 40 + 32 * i < m->bitlen;
            m->ack.mmsi[i] = here ? U(40 + 32 * i, 30) : 0;
            m->ack.seqno[i] = here ? U(70 + 32 * i, 2) : 0;
        }
        break;
    }
    case 8: {
        if (too_short(m, 56, error) || too_long(m, 1008, error))
            return FALSE;
        AisBinary *t = &m->bin;
        t->seqno = t->dest_mmsi = 0;
        t->retransmit = FALSE;
        t->dac = U(40, 10);
        t->fid = U(50, 6);
        t->data_offset = 56;
        t->data_bits = m->bitlen - 56;
        break;
    }
    case 9: {
        if (too_short(m, 168, error))
            return FALSE;
        *overlong = m->bitlen > 168;
        AisType9 *t = &m->t9;
        t->alt = U(38, 12);
        t->speed = U(50, 10);
        t->accuracy = U(60, 1);
        t->lon = S(61, 28);
        t->lat = S(89, 27);
        t->course = U(116, 12);
        t->second = U(128, 6);
        t->regional = U(134, 8);
        t->dte = U(142, 1);
        t->assigned = U(146, 1);
        t->raim = U(147, 1);
        t->radio = U(148, 20);
        break;
    }
    case 10:
        if (too_short(m, 72, error))
            return FALSE;
        *overlong = m->bitlen > 72;
        m->dest_mmsi = U(40, 30);
        break;
    case 12:
        if (too_short(m, 72, error) || too_long(m, 1008, error))
            return FALSE;
        m->text.seqno = U(38, 2);
        m->text.dest_mmsi = U(40, 30);
        m->text.retransmit = U(70, 1);
        end_text(m, 72, m->text.text, sizeof m->text.text);
        break;
    case 14:
        if (too_short(m, 40, error) || too_long(m, 1008, error))
            return FALSE;
        m->text.seqno = m->text.dest_mmsi = 0;
        m->text.retransmit = FALSE;
        end_text(m, 40, m->text.text, sizeof m->text.text);
        break;
    case 15: {
        if (too_short(m, 88, error) || too_long(m, 168, error))
            return FALSE;
        AisType15 *t = &m->t15;
        memset(t, 0, sizeof *t);
        t->mmsi1 = U(40, 30);
        t->type1_1 = U(70, 6);
        t->offset1_1 = U(76, 12);
        if (m->bitlen > 90) {
            t->type1_2 = U(90, 6);
            t->offset1_2 = U(96, 12);
            if (m->bitlen > 110) {
                t->mmsi2 = U(110, 30);
                t->type2_1 = U(140, 6);
                t->offset2_1 = U(146, 12);
            }
        }
        break;
    }
    case 16: {
        if (too_short(m, 96, error) || too_long(m, 168, error))
            return FALSE;
        AisType16 *t = &m->t16;
        t->mmsi1 = U(40, 30);
        t->offset1 = U(70, 12);
        t->increment1 = U(82, 10);
        gboolean two = m->bitlen >= 144;
        t->mmsi2 = two ? U(92, 30) : 0;
        t->offset2 = two ? U(122, 12) : 0;
        t->increment2 = two ? U(134, 10) : 0;
        break;
    }
    case 17:
        if (too_short(m, 80, error) || too_long(m, 816, error))
            return FALSE;
        m->t17.lon = S(40, 18);
        m->t17.lat = S(58, 17);
        m->t17.data_bits = m->bitlen - 80;
        break;
    case 18:
    case 19: {
        guint need = m->type == 18 ? 168 : 312;
        if (too_short(m, need, error))
            return FALSE;
        *overlong = m->bitlen > need;
        AisClassB *t = &m->cb;
        memset(t, 0, sizeof *t);
        t->reserved = U(38, 8);
        t->speed = U(46, 10);
        t->accuracy = U(56, 1);
        t->lon = S(57, 28);
        t->lat = S(85, 27);
        t->course = U(112, 12);
        t->heading = U(124, 9);
        t->second = U(133, 6);
        if (m->type == 18) {
            t->regional = U(139, 2);
            t->cs = U(141, 1);
            t->display = U(142, 1);
            t->dsc = U(143, 1);
            t->band = U(144, 1);
            t->msg22 = U(145, 1);
            t->assigned = U(146, 1);
            t->raim = U(147, 1);
            t->radio = U(148, 20);
        } else {
            t->regional = U(139, 4);
            ais__text(m, 143, 20, t->shipname, sizeof t->shipname, TRUE);
            t->shiptype = U(263, 8);
            t->to_bow = U(271, 9);
            t->to_stern = U(280, 9);
            t->to_port = U(289, 6);
            t->to_starboard = U(295, 6);
            t->epfd = U(301, 4);
            t->raim = U(305, 1);
            t->dte = U(306, 1);
            t->assigned = U(307, 1);
        }
        break;
    }
    case 20: {
        if (too_short(m, 72, error) || too_long(m, 186, error))
            return FALSE;
        AisType20 *t = &m->t20;
        for (guint i = 0; i < 4; i++) {
            guint a = 40 + 30 * i;
            t->offset[i] = U(a, 12);
            t->number[i] = U(a + 12, 4);
            t->timeout[i] = U(a + 16, 3);
            t->increment[i] = U(a + 19, 11);
        }
        t->count = MIN(4u, (m->bitlen - 40) / 30);
        break;
    }
    case 21: {
        if (too_short(m, 272, error) || too_long(m, 368, error))
            return FALSE;
        AisType21 *t = &m->t21;
        t->aid_type = U(38, 5);
        ais__text(m, 43, 20, t->name, sizeof t->name, FALSE);
        t->accuracy = U(163, 1);
        t->lon = S(164, 28);
        t->lat = S(192, 27);
        t->to_bow = U(219, 9);
        t->to_stern = U(228, 9);
        t->to_port = U(237, 6);
        t->to_starboard = U(243, 6);
        t->epfd = U(249, 4);
        t->second = U(253, 6);
        t->off_position = U(259, 1);
        t->regional = U(260, 8);
        t->raim = U(268, 1);
        t->virtual_aid = U(269, 1);
        t->assigned = U(270, 1);
        /* The name extension follows only a full 20-character name. */
        if (strlen(t->name) == 20 && m->bitlen > 272)
            end_text(m, 272, t->name + 20, sizeof t->name - 20);
        gsize n = strlen(t->name);
        while (n > 0 && (t->name[n - 1] == ' ' || t->name[n - 1] == '@'))
            t->name[--n] = '\0';
        break;
    }
    case 22: {
        if (too_short(m, 168, error))
            return FALSE;
        *overlong = m->bitlen > 168;
        AisType22 *t = &m->t22;
        memset(t, 0, sizeof *t);
        t->channel_a = U(40, 12);
        t->channel_b = U(52, 12);
        t->txrx = U(64, 4);
        t->power = U(68, 1);
        t->addressed = U(139, 1);
        if (!t->addressed) {
            t->ne_lon = S(69, 18);
            t->ne_lat = S(87, 17);
            t->sw_lon = S(104, 18);
            t->sw_lat = S(122, 17);
        } else {
            t->dest1 = U(69, 30);
            t->dest2 = U(104, 30);
        }
        t->band_a = U(140, 1);
        t->band_b = U(141, 1);
        t->zonesize = U(142, 3);
        break;
    }
    case 23: {
        if (too_short(m, 160, error))
            return FALSE;
        *overlong = m->bitlen > 160;
        AisType23 *t = &m->t23;
        t->ne_lon = S(40, 18);
        t->ne_lat = S(58, 17);
        t->sw_lon = S(75, 18);
        t->sw_lat = S(93, 17);
        t->stationtype = U(110, 4);
        t->shiptype = U(114, 8);
        t->txrx = U(144, 2);
        t->interval = U(146, 4);
        t->quiet = U(150, 4);
        break;
    }
    case 24: {
        AisType24 *t = &m->t24;
        memset(t, 0, sizeof *t);
        t->part = U(38, 2);
        if (t->part == 0) {
            if (too_short(m, 160, error) || too_long(m, 168, error))
                return FALSE;
            ais__text(m, 40, 20, t->shipname, sizeof t->shipname, TRUE);
        } else if (t->part == 1) {
            if (too_short(m, 168, error))
                return FALSE;
            *overlong = m->bitlen > 168;
            t->shiptype = U(40, 8);
            ais__text(m, 48, 7, t->vendorid, sizeof t->vendorid, TRUE);
            t->model = U(66, 4);
            t->serial = U(70, 20);
            ais__text(m, 90, 7, t->callsign, sizeof t->callsign, TRUE);
            if (m->mmsi / 10000000 == 98) {
                t->mothership_mmsi = U(132, 30);
            } else {
                t->to_bow = U(132, 9);
                t->to_stern = U(141, 9);
                t->to_port = U(150, 6);
                t->to_starboard = U(156, 6);
            }
        } else {
            g_set_error(error, AIS_ERROR, AIS_ERROR_UNKNOWN_TYPE,
                        "type 24 message with part number %u (only 0 = A and 1 = B exist)",
                        t->part);
            return FALSE;
        }
        break;
    }
    case 25: {
        if (too_short(m, 40, error) || too_long(m, 168, error))
            return FALSE;
        AisType25 *t = &m->t25;
        memset(t, 0, sizeof *t);
        t->addressed = U(38, 1);
        t->structured = U(39, 1);
        guint start = 40 + 30 * t->addressed + 16 * t->structured;
        if (too_short(m, start, error))
            return FALSE;
        if (t->addressed)
            t->dest_mmsi = U(40, 30);
        if (t->structured)
            t->app_id = U(40 + 30 * t->addressed, 16);
        t->data_offset = start;
        t->data_bits = m->bitlen - start;
        break;
    }
    case 26: {
        if (too_short(m, 60, error) || too_long(m, 1004, error))
            return FALSE;
        AisType25 *t = &m->t25;
        memset(t, 0, sizeof *t);
        t->addressed = U(38, 1);
        t->structured = U(39, 1);
        guint start = 40 + 30 * t->addressed + 16 * t->structured;
        if (too_short(m, start + 20, error))
            return FALSE;
        if (t->addressed)
            t->dest_mmsi = U(40, 30);
        if (t->structured)
            t->app_id = U(40 + 30 * t->addressed, 16);
        t->data_offset = start;
        t->data_bits = m->bitlen - start - 20;
        t->radio = U(m->bitlen - 20, 20);
        break;
    }
    case 27: {
        /* Nominally 96 bits. Some transmitters send a full 168-bit slot: decoded on purpose, as
         * gpsd does; anything else is rejected. */
        if (m->bitlen != 96 && m->bitlen != 168) {
            g_set_error(error, AIS_ERROR, m->bitlen < 96 ? AIS_ERROR_TOO_SHORT : AIS_ERROR_TOO_LONG,
                        "type 27 message of %u bits (96 expected, or 168)", m->bitlen);
            return FALSE;
        }
        *overlong = m->bitlen > 96;
        AisType27 *t = &m->t27;
        t->accuracy = U(38, 1);
        t->raim = U(39, 1);
        t->status = U(40, 4);
        t->lon = S(44, 18);
        t->lat = S(62, 17);
        t->speed = U(79, 6);
        t->course = U(85, 9);
        t->gnss = U(94, 1);
        break;
    }
    default:
        g_set_error(error, AIS_ERROR, AIS_ERROR_UNKNOWN_TYPE, "message type %u does not exist",
                    m->type);
        return FALSE;
    }
    return TRUE;
}

#undef U
#undef S

static gboolean decode_message(AisMessage *m, const char *payload, gsize n, guint fill,
                               guint *overlong, GError **error)
{
    guint nbits;
    if (!unarmour(m, payload, n, &nbits, error))
        return FALSE;
    if (fill > nbits) {
        g_set_error(error, AIS_ERROR, AIS_ERROR_PAYLOAD, "%u fill bits in a %u-bit payload", fill,
                    nbits);
        return FALSE;
    }
    /* The fill bits stay in m->bits (gpsd prints them in binary "data" hex); bitlen excludes
     * them. */
    m->bitlen = nbits - fill;
    return decode_fields(m, overlong, error);
}

gboolean ais_decode_payload(const char *payload, gsize len, guint fill_bits, AisMessage *msg,
                            GError **error)
{
    memset(msg, 0, offsetof(AisMessage, bits));
    msg->tag.time = -1;
    if (fill_bits > 5) {
        g_set_error(error, AIS_ERROR, AIS_ERROR_PAYLOAD, "fill bits %u (0-5 allowed)", fill_bits);
        return FALSE;
    }
    guint overlong;
    return decode_message(msg, payload, len, fill_bits, &overlong, error);
}

/* ---- NMEA framing ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Checks "*hh" at @star against the XOR of [@from, @star). */
static gboolean checksum_ok(const char *from, const char *star, const char *end, guint *want,
                            guint *got)
{
    if (star + 3 > end)
        return FALSE;
    int h = hexval(star[1]), l = hexval(star[2]);
    if (h < 0 || l < 0)
        return FALSE;
    guint x = 0;
    for (const char *p = from; p < star; p++)
        x ^= (guint8)*p;
    *want = (guint)(h << 4 | l);
    *got = x;
    return x == *want;
}

static gboolean parse_uint(const char *p, const char *end, guint64 max, guint64 *v)
{
    if (p >= end || end - p > 20)
        return FALSE;
    guint64 x = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return FALSE;
        x = x * 10 + (guint64)(*p - '0');
        if (x > max)
            return FALSE;
    }
    *v = x;
    return TRUE;
}

/* Parses the tag block between @p and @end (without the backslashes). */
static gboolean parse_tag_block(const char *p, const char *end, AisTagBlock *tag, GError **error)
{
    memset(tag, 0, sizeof *tag);
    tag->present = TRUE;
    tag->time = -1;
    const char *star = memchr(p, '*', (gsize)(end - p));
    if (!star) {
        g_set_error(error, AIS_ERROR, AIS_ERROR_TAG_BLOCK, "tag block without a *hh checksum");
        return FALSE;
    }
    guint want, got;
    if (star + 3 != end || !checksum_ok(p, star, end, &want, &got)) {
        if (star + 3 != end || hexval(star[1]) < 0 || hexval(star[2]) < 0)
            g_set_error(error, AIS_ERROR, AIS_ERROR_TAG_BLOCK, "tag block checksum is malformed");
        else
            g_set_error(error, AIS_ERROR, AIS_ERROR_TAG_BLOCK,
                        "tag block checksum mismatch (says %02X, computed %02X)", want, got);
        return FALSE;
    }
    while (p < star) {
        const char *comma = memchr(p, ',', (gsize)(star - p));
        const char *fend = comma ? comma : star;
        if (fend - p < 2 || p[1] != ':') {
            g_set_error(error, AIS_ERROR, AIS_ERROR_TAG_BLOCK,
                        "tag block field '%.*s' is not KEY:VALUE", (int)MIN(fend - p, 20), p);
            return FALSE;
        }
        const char *v = p + 2;
        guint64 x;
        switch (p[0]) {
        case 's': {
            gsize n = MIN((gsize)(fend - v), sizeof tag->station - 1);
            memcpy(tag->station, v, n);
            tag->station[n] = '\0';
            break;
        }
        case 'c':
            if (!parse_uint(v, fend, G_MAXINT64 / 2, &x)) {
                g_set_error(error, AIS_ERROR, AIS_ERROR_TAG_BLOCK,
                            "tag block time c:%.*s is not a number", (int)MIN(fend - v, 20), v);
                return FALSE;
            }
            /* Some sources write milliseconds; anything past year 2286 in seconds is that. */
            tag->time = (gint64)(x > 9999999999ull ? x / 1000 : x);
            break;
        case 'g': {
            guint64 a, b, c;
            const char *d1 = memchr(v, '-', (gsize)(fend - v));
            const char *d2 = d1 ? memchr(d1 + 1, '-', (gsize)(fend - d1 - 1)) : NULL;
            if (!d2 || !parse_uint(v, d1, 99, &a) || !parse_uint(d1 + 1, d2, 99, &b) ||
                !parse_uint(d2 + 1, fend, G_MAXUINT, &c) || a == 0 || a > b) {
                g_set_error(error, AIS_ERROR, AIS_ERROR_TAG_BLOCK,
                            "tag block group g:%.*s is not SEQ-TOTAL-ID", (int)MIN(fend - v, 20),
                            v);
                return FALSE;
            }
            tag->group_seq = (guint)a;
            tag->group_total = (guint)b;
            tag->group_id = (guint)c;
            break;
        }
        default:
            break; /* d:, n:, r:, t:, T:, q: and vendor fields: not needed */
        }
        p = comma ? comma + 1 : star;
    }
    return TRUE;
}

static void drop_pending(PsAisDecoder *dec, Pending *pd)
{
    pd->used = FALSE;
    dec->n_pending--;
}

static void expire_pending(PsAisDecoder *dec, gint64 now_us)
{
    for (guint i = 0; i < dec->opt.max_pending && dec->n_pending > 0; i++) {
        Pending *pd = &dec->pending[i];
        if (!pd->used)
            continue;
        gboolean old = dec->sentence_no - pd->first_sentence > dec->opt.max_age_sentences;
        if (!old && dec->opt.max_age_us > 0 && now_us - pd->first_us > dec->opt.max_age_us)
            old = TRUE;
        if (old) {
            drop_pending(dec, pd);
            dec->stats.expired++;
        }
    }
}

static Pending *find_pending(PsAisDecoder *dec, const char *talker, gboolean own, char channel,
                             int seqid, guint total)
{
    for (guint i = 0; i < dec->opt.max_pending; i++) {
        Pending *pd = &dec->pending[i];
        if (pd->used && pd->seqid == seqid && pd->channel == channel && pd->total == total &&
            pd->own == own && pd->talker[0] == talker[0] && pd->talker[1] == talker[1])
            return pd;
    }
    return NULL;
}

static Pending *new_pending(PsAisDecoder *dec)
{
    Pending *oldest = NULL;
    for (guint i = 0; i < dec->opt.max_pending; i++) {
        Pending *pd = &dec->pending[i];
        if (!pd->used)
            return pd;
        if (!oldest || pd->first_sentence < oldest->first_sentence)
            oldest = pd;
    }
    drop_pending(dec, oldest);
    dec->stats.evicted++;
    return oldest;
}

/* Remembers part A names, and gives part B the name of an earlier part A, like gpsd. */
static void type24_link(PsAisDecoder *dec, AisMessage *m)
{
    if (m->type != 24)
        return;
    if (m->t24.part == 0) {
        dec->type24[dec->type24_next].mmsi = m->mmsi;
        memcpy(dec->type24[dec->type24_next].name, m->t24.shipname, sizeof m->t24.shipname);
        dec->type24_next = (dec->type24_next + 1) % TYPE24_NAMES;
        return;
    }
    for (guint i = 0; i < TYPE24_NAMES; i++) {
        if (dec->type24[i].mmsi == m->mmsi && m->mmsi != 0) {
            memcpy(m->t24.shipname, dec->type24[i].name, sizeof m->t24.shipname);
            dec->type24[i].mmsi = 0; /* a repeated part B does not match again */
            return;
        }
    }
}

static gboolean fail(PsAisDecoder *dec, GError **error, AisErrorCode code, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static gboolean fail(PsAisDecoder *dec, GError **error, AisErrorCode code, const char *fmt, ...)
{
    dec->stats.errors++;
    if (error) {
        va_list ap;
        va_start(ap, fmt);
        *error = g_error_new_valist(AIS_ERROR, code, fmt, ap);
        va_end(ap);
    }
    return FALSE;
}

static gboolean finish(PsAisDecoder *dec, AisMessage *m, const char *payload, gsize n, guint fill,
                       const AisMessage **msgs, guint *n_msgs, GError **error)
{
    guint overlong;
    GError *local = NULL;
    if (!decode_message(m, payload, n, fill, &overlong, &local)) {
        dec->stats.errors++;
        g_propagate_error(error, local);
        return FALSE;
    }
    dec->stats.overlong += overlong;
    type24_link(dec, m);
    dec->stats.messages++;
    *msgs = m;
    *n_msgs = 1;
    return TRUE;
}

gboolean ais_decoder_feed(PsAisDecoder *dec, const char *line, gsize len, gint64 now_us,
                          const AisMessage **msgs, guint *n_msgs, GError **error)
{
    *msgs = NULL;
    *n_msgs = 0;
    const char *p = line, *end = line + len;
    while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || *p == '#')
        return TRUE;

    AisTagBlock tag = {.time = -1};
    if (*p == '\\') {
        const char *close = memchr(p + 1, '\\', (gsize)(end - p - 1));
        if (!close)
            return fail(dec, error, AIS_ERROR_TAG_BLOCK, "tag block without its closing '\\'");
        GError *local = NULL;
        if (!parse_tag_block(p + 1, close, &tag, &local)) {
            dec->stats.errors++;
            g_propagate_error(error, local);
            return FALSE;
        }
        p = close + 1;
    }
    /* Only !xxVDM / !xxVDO are ours; other NMEA sentences and stray text are not errors. */
    if (end - p < 6 || (p[0] != '!' && p[0] != '$') || p[3] != 'V' || p[4] != 'D' ||
        (p[5] != 'M' && p[5] != 'O'))
        return TRUE;
    dec->stats.sentences++;
    dec->sentence_no++;

    /* The checksum follows the sixth field (fill bits); receivers may append ",extra,fields"
     * after it, which may contain '*' of their own. */
    const char *star = NULL;
    guint commas = 0;
    for (const char *q = p; q < end; q++) {
        if (*q == ',')
            commas++;
        else if (*q == '*' && commas >= 6) {
            star = q;
            break;
        }
    }
    if (!star) /* too few fields: take the first '*' so that the field count is reported */
        star = memchr(p, '*', (gsize)(end - p));
    if (!star || end - star < 3)
        return fail(dec, error, AIS_ERROR_SYNTAX, "sentence without a *hh checksum");
    guint want, got;
    if (!checksum_ok(p + 1, star, end, &want, &got)) {
        if (hexval(star[1]) < 0 || hexval(star[2]) < 0)
            return fail(dec, error, AIS_ERROR_SYNTAX, "malformed checksum '%.3s'", star);
        return fail(dec, error, AIS_ERROR_CHECKSUM,
                    "checksum mismatch (says %02X, computed %02X)", want, got);
    }

    /* Fields: !AIVDM,total,num,seqid,channel,payload,fill */
    const char *f[7];
    gsize fl[7];
    const char *q = p;
    guint nf = 0;
    while (nf < 7) {
        const char *c = memchr(q, ',', (gsize)(star - q));
        const char *fe = c ? c : star;
        f[nf] = q;
        fl[nf] = (gsize)(fe - q);
        nf++;
        if (!c)
            break;
        q = c + 1;
    }
    if (nf != 7)
        return fail(dec, error, AIS_ERROR_SYNTAX, "%u fields where 7 are expected", nf);
    guint64 total, num, fill;
    int seqid = -1;
    if (fl[1] != 1 || !parse_uint(f[1], f[1] + 1, 9, &total) || total == 0)
        return fail(dec, error, AIS_ERROR_SYNTAX, "fragment count '%.*s' is not 1-9",
                    (int)MIN(fl[1], 10), f[1]);
    if (fl[2] != 1 || !parse_uint(f[2], f[2] + 1, 9, &num) || num == 0 || num > total)
        return fail(dec, error, AIS_ERROR_FRAGMENT, "fragment number '%.*s' is not 1-%u",
                    (int)MIN(fl[2], 10), f[2], (guint)total);
    if (fl[3] > 0) {
        guint64 s;
        if (fl[3] != 1 || !parse_uint(f[3], f[3] + 1, 9, &s))
            return fail(dec, error, AIS_ERROR_SYNTAX, "sequence id '%.*s' is not 0-9",
                        (int)MIN(fl[3], 10), f[3]);
        seqid = (int)s;
    }
    if (fl[4] > 1)
        return fail(dec, error, AIS_ERROR_SYNTAX, "channel '%.*s' is not one character",
                    (int)MIN(fl[4], 10), f[4]);
    char channel = fl[4] ? f[4][0] : '\0';
    if (fl[6] != 1 || !parse_uint(f[6], f[6] + 1, 5, &fill))
        return fail(dec, error, AIS_ERROR_SYNTAX, "fill bits '%.*s' are not 0-5",
                    (int)MIN(fl[6], 10), f[6]);
    if (fl[5] == 0)
        return fail(dec, error, AIS_ERROR_TOO_SHORT, "empty payload");
    if (fl[5] > MAX_CHARS)
        return fail(dec, error, AIS_ERROR_TOO_LONG, "payload of %zu characters (at most %d)",
                    fl[5], MAX_CHARS);

    AisMessage *m = &dec->out;
    memset(m, 0, offsetof(AisMessage, bits));
    m->talker[0] = p[1];
    m->talker[1] = p[2];
    m->own = p[5] == 'O';
    m->channel = channel;
    m->tag = tag;

    if (total == 1)
        return finish(dec, m, f[5], fl[5], (guint)fill, msgs, n_msgs, error);

    if (dec->n_pending > 0)
        expire_pending(dec, now_us);
    Pending *pd = find_pending(dec, m->talker, m->own, channel, seqid, (guint)total);
    if (pd && (pd->have & (1u << (num - 1)))) {
        /* The same fragment again: the earlier message never completed; start over. */
        drop_pending(dec, pd);
        dec->stats.expired++;
        pd = NULL;
    }
    if (!pd) {
        pd = new_pending(dec);
        memset(pd, 0, offsetof(Pending, text));
        pd->used = TRUE;
        dec->n_pending++;
        memcpy(pd->talker, m->talker, 3);
        pd->own = m->own;
        pd->channel = channel;
        pd->seqid = seqid;
        pd->total = (guint)total;
        pd->first_sentence = dec->sentence_no;
        pd->first_us = now_us;
        pd->tag.time = -1;
    }
    pd->have |= 1u << (num - 1);
    pd->len[num - 1] = (guint16)fl[5];
    memcpy(pd->text[num - 1], f[5], fl[5]);
    if (num == total)
        pd->fill = (guint)fill;
    if (tag.present && (!pd->tag.present || num == 1))
        pd->tag = tag;
    if (pd->have != (1u << total) - 1)
        return TRUE;

    /* Complete: join the fragments in order. */
    char joined[MAX_CHARS];
    gsize n = 0;
    for (guint i = 0; i < total; i++) {
        if (n + pd->len[i] > MAX_CHARS) {
            drop_pending(dec, pd);
            return fail(dec, error, AIS_ERROR_TOO_LONG,
                        "message of %u fragments is longer than %d characters", (guint)total,
                        MAX_CHARS);
        }
        memcpy(joined + n, pd->text[i], pd->len[i]);
        n += pd->len[i];
    }
    m->tag = pd->tag;
    guint last_fill = pd->fill;
    drop_pending(dec, pd);
    return finish(dec, m, joined, n, last_fill, msgs, n_msgs, error);
}
