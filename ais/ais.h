/* ais.h: the pure AIS decoder. NMEA 0183 !AIVDM/!AIVDO sentences (with optional NMEA 4.0 tag
 * blocks) in, decoded messages out. No I/O and no globals: everything lives in a PsAisDecoder,
 * so the decoder links into tests and fuzzers on its own.
 *
 * Field names and raw (unscaled) values follow gpsd (gpsd_json(5) and "AIVDM/AIVDO protocol
 * decoding" by Eric S. Raymond): a field holds exactly the bits of the message, e.g. lon/lat in
 * 1/10000 minute, speed in 1/10 knot, course in 1/10 degree. ais_message_position() and
 * ais_message_static() give the scaled view that most consumers want. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct PsAisDecoder PsAisDecoder;

#define AIS_ERROR (ais_error_quark())
GQuark ais_error_quark(void);

typedef enum {
    AIS_ERROR_SYNTAX,       /* not a well-formed !xxVDM/!xxVDO sentence (field count, numbers) */
    AIS_ERROR_CHECKSUM,     /* the sentence's *hh checksum does not match */
    AIS_ERROR_TAG_BLOCK,    /* malformed NMEA 4.0 tag block, or its checksum does not match */
    AIS_ERROR_PAYLOAD,      /* a character outside the six-bit armouring alphabet, bad fill */
    AIS_ERROR_FRAGMENT,     /* a fragment that cannot belong to any message (bad numbering) */
    AIS_ERROR_TOO_SHORT,    /* the payload is shorter than its message type needs */
    AIS_ERROR_TOO_LONG,     /* the payload is longer than any AIS message can be */
    AIS_ERROR_UNKNOWN_TYPE, /* message type 0 or 28-63, or type 24 part 2-3 */
} AisErrorCode;

typedef struct {
    /* Multi-sentence messages being reassembled at once; 0 means the default (32). When a new
     * one would exceed the cap, the oldest pending message is dropped (counted in
     * AisDecoderStats.evicted). */
    guint max_pending;
    /* A pending message is dropped when this many further sentences have been fed without
     * completing it (the out-of-order window); 0 means the default (64). */
    guint max_age_sentences;
    /* A pending message is dropped when it is older than this, measured with the @now_us
     * the caller passes to ais_decoder_feed(); 0 means no time limit. */
    gint64 max_age_us;
} AisDecoderOptions;

typedef struct {
    guint64 sentences;     /* lines that looked like AIVDM/AIVDO sentences */
    guint64 messages;      /* messages returned */
    guint64 errors;        /* sentences rejected with an error */
    guint64 evicted;       /* pending messages dropped because of max_pending */
    guint64 expired;       /* pending messages dropped because of their age */
    guint64 overlong;      /* messages longer than their type's nominal length, decoded anyway */
} AisDecoderStats;

/* NMEA 4.0 tag block (\s:station,c:unixtime,g:seq-total-id*hh\) in front of a sentence. For a
 * multi-sentence message, the tag block of fragment 1, else of the first fragment that had one. */
typedef struct {
    gboolean present;
    char station[32];    /* s: source station, "" when absent */
    gint64 time;         /* c: UNIX seconds (milliseconds are divided by 1000); -1 when absent */
    guint group_seq;     /* g: sentence number in the group, 0 when absent */
    guint group_total;   /* g: sentences in the group */
    guint group_id;      /* g: group id */
} AisTagBlock;

/* The largest payload a message may reassemble to, in bits: five slots are 1008 bits; longer
 * ones up to this cap are decoded (and counted as over-long) because gpsd accepts them too. */
#define AIS_MAX_BITS 2048

/* Types 1, 2, 3: Class A position report. */
typedef struct {
    guint status;    /* navigation status 0-15; 15 = not defined */
    gint turn;       /* raw rate of turn -128..127; -128 = not available */
    guint speed;     /* 1/10 knot; 1023 = not available */
    gboolean accuracy;
    gint lon, lat;   /* 1/10000 minute; 181° / 91° = not available */
    guint course;    /* 1/10 degree; 3600 = not available */
    guint heading;   /* degrees; 511 = not available */
    guint second;    /* UTC second; 60-63 = not available / manual / dead reckoning / inoperative */
    guint maneuver;
    gboolean raim;
    guint radio;
} AisType1;

/* Types 4 and 11: base station report, UTC/date response. */
typedef struct {
    guint year, month, day, hour, minute, second;
    gboolean accuracy;
    gint lon, lat;   /* 1/10000 minute */
    guint epfd;
    gboolean raim;
    guint radio;
} AisType4;

/* Type 5: static and voyage related data. */
typedef struct {
    guint ais_version;
    guint imo;
    char callsign[8];     /* trailing spaces and '@' removed */
    char shipname[21];
    guint shiptype;
    guint to_bow, to_stern, to_port, to_starboard;   /* metres */
    guint epfd;
    guint month, day, hour, minute;                  /* ETA; 0/0/24/60 = not available */
    guint draught;                                   /* 1/10 metre */
    char destination[21];
    guint dte;
} AisType5;

/* Types 6 and 8: binary messages. The application data starts at bit @data_offset of
 * AisMessage.bits and is @data_bits long; ais_message_to_json() decodes the DAC/FI
 * combinations that gpsd decodes and prints the others as "data":"BITS:hex". */
typedef struct {
    guint seqno;          /* type 6 only */
    guint dest_mmsi;      /* type 6 only */
    gboolean retransmit;  /* type 6 only */
    guint dac, fid;
    guint data_offset, data_bits;
} AisBinary;

/* Types 7 and 13: acknowledgements; unused entries are 0. */
typedef struct {
    guint mmsi[4];
    guint seqno[4];
} AisAck;

/* Type 9: SAR aircraft position report. */
typedef struct {
    guint alt, speed;    /* metres; knots */
    gboolean accuracy;
    gint lon, lat;
    guint course, second, regional, dte;
    gboolean assigned, raim;
    guint radio;
} AisType9;

/* Types 12 and 14: safety related text (type 14 has no addressee). */
typedef struct {
    guint seqno, dest_mmsi;
    gboolean retransmit;
    char text[162];     /* at most 936 bits of six-bit text */
} AisText;

/* Type 15: interrogation. */
typedef struct {
    guint mmsi1, type1_1, offset1_1, type1_2, offset1_2, mmsi2, type2_1, offset2_1;
} AisType15;

/* Type 16: assigned mode command. */
typedef struct {
    guint mmsi1, offset1, increment1, mmsi2, offset2, increment2;
} AisType16;

/* Type 17: DGNSS broadcast; the correction data is bits 80.. of AisMessage.bits. */
typedef struct {
    gint lon, lat;    /* 1/10 minute */
    guint data_bits;
} AisType17;

/* Types 18 and 19: Class B position reports (type 19 adds the static part). */
typedef struct {
    guint reserved, speed;
    gboolean accuracy;
    gint lon, lat;
    guint course, heading, second, regional;
    gboolean cs, display, dsc, band, msg22, assigned, raim; /* type 18 flags */
    guint radio;                                             /* type 18 */
    char shipname[21];                                       /* type 19 from here */
    guint shiptype, to_bow, to_stern, to_port, to_starboard, epfd;
    guint dte;
} AisClassB;

/* Type 20: data link management. */
typedef struct {
    guint offset[4], number[4], timeout[4], increment[4];
    guint count; /* reservations present in the message (1-4) */
} AisType20;

/* Type 21: aid-to-navigation report. */
typedef struct {
    guint aid_type;
    char name[35];   /* 20 characters plus up to 14 of name extension */
    gboolean accuracy;
    gint lon, lat;
    guint to_bow, to_stern, to_port, to_starboard, epfd, second;
    gboolean off_position;
    guint regional;
    gboolean raim, virtual_aid, assigned;
} AisType21;

/* Type 22: channel management. */
typedef struct {
    guint channel_a, channel_b, txrx;
    gboolean power, addressed, band_a, band_b;
    gint ne_lon, ne_lat, sw_lon, sw_lat;   /* when !addressed, 1/10 minute */
    guint dest1, dest2;                    /* when addressed */
    guint zonesize;
} AisType22;

/* Type 23: group assignment command. */
typedef struct {
    gint ne_lon, ne_lat, sw_lon, sw_lat;   /* 1/10 minute */
    guint stationtype, shiptype, txrx, interval, quiet;
} AisType23;

/* Type 24: Class B static data, part A (0) or part B (1). Each part is its own message. For
 * part B, @shipname holds the name of the last part A from the same MMSI when the decoder saw
 * one (as gpsd does), else "". */
typedef struct {
    guint part;                /* 0 = A, 1 = B */
    char shipname[21];         /* part A; part B when matched */
    guint shiptype;            /* part B from here */
    char vendorid[8];
    guint model, serial;
    char callsign[8];
    guint to_bow, to_stern, to_port, to_starboard;
    guint mothership_mmsi;     /* instead of dimensions for auxiliary craft (MMSI 98xxxxxxx) */
} AisType24;

/* Types 25 and 26: single/multiple slot binary message. The data is @data_bits bits starting at
 * bit @data_offset of AisMessage.bits. */
typedef struct {
    gboolean addressed, structured;
    guint dest_mmsi, app_id;
    guint data_offset, data_bits;
    guint radio;   /* type 26 */
} AisType25;

/* Type 27: long-range position report. */
typedef struct {
    gboolean accuracy, raim;
    guint status;
    gint lon, lat;    /* 1/10 minute */
    guint speed;      /* knots; 63 = not available */
    guint course;     /* degrees; 511 = not available */
    gboolean gnss;
} AisType27;

/* One decoded message. Owned by the decoder; valid until the next call on it. */
typedef struct {
    guint type, repeat, mmsi;
    char talker[3];        /* "AI", "AB", ... */
    gboolean own;          /* VDO (own ship) rather than VDM */
    char channel;          /* 'A', 'B', ... or '\0' when the sentence left it empty */
    AisTagBlock tag;
    guint bitlen;          /* payload bits after removing the fill bits */
    guint8 bits[AIS_MAX_BITS / 8 + 8]; /* zero past the payload; 8 bytes of slack for reads */
    union {
        AisType1 t1;       /* types 1, 2, 3 */
        AisType4 t4;       /* types 4, 11 */
        AisType5 t5;
        AisBinary bin;     /* types 6, 8 */
        AisAck ack;        /* types 7, 13 */
        AisType9 t9;
        guint dest_mmsi;   /* type 10 */
        AisText text;      /* types 12, 14 */
        AisType15 t15;
        AisType16 t16;
        AisType17 t17;
        AisClassB cb;      /* types 18, 19 */
        AisType20 t20;
        AisType21 t21;
        AisType22 t22;
        AisType23 t23;
        AisType24 t24;
        AisType25 t25;     /* types 25, 26 */
        AisType27 t27;
    };
} AisMessage;

/* A new decoder. @options may be NULL for the defaults. Free with ais_decoder_free(). */
PsAisDecoder *ais_decoder_new(const AisDecoderOptions *options);
void ais_decoder_free(PsAisDecoder *dec); /* accepts NULL */

/* Feeds one line (@len bytes, no NUL needed; a trailing CR/LF is ignored). @now_us is the
 * caller's clock for max_age_us (any monotonic microseconds; pass 0 when unused).
 *
 * Returns TRUE and sets *@n_msgs to the number of messages the line completed (0 or 1; 0 also
 * for blank lines, '#' comments and NMEA sentences other than VDM/VDO, which are ignored) and
 * *@msgs to an array of them owned by @dec, valid until the next call on @dec. Returns FALSE
 * and fills @error (AIS_ERROR domain) for a bad sentence; the decoder stays usable. */
gboolean ais_decoder_feed(PsAisDecoder *dec, const char *line, gsize len, gint64 now_us,
                          const AisMessage **msgs, guint *n_msgs, GError **error);

/* Drops every pending fragment. */
void ais_decoder_reset(PsAisDecoder *dec);

/* Counters since ais_decoder_new(). */
void ais_decoder_get_stats(const PsAisDecoder *dec, AisDecoderStats *stats);

/* Decodes one armoured payload without NMEA framing (e.g. "15M67FC000G?ufbE`FepT@3n00Sa" with
 * @fill_bits 0) into @msg. Same errors as ais_decoder_feed(). */
gboolean ais_decode_payload(const char *payload, gsize len, guint fill_bits, AisMessage *msg,
                            GError **error);

/* Appends @msg as one gpsd-style JSON object (no newline) to @out. @scaled FALSE gives the raw
 * values of `gpsdecode -u -j`; TRUE gives gpsd's scaled JSON (degrees, knots, ...). */
void ais_message_to_json(const AisMessage *msg, gboolean scaled, GString *out);

/* The position part of types 1, 2, 3, 4, 9, 11, 18, 19, 21 and 27, scaled. A value that is
 * "not available" in the message is NAN (lat/lon/sog/cog) or -1 (heading, nav_status, second). */
typedef struct {
    guint mmsi;
    double lat, lon;      /* degrees, WGS84 */
    double sog;           /* knots */
    double cog;           /* degrees */
    int heading;          /* degrees */
    int nav_status;       /* 0-14, -1 when the type carries none or 15 */
    int second;           /* UTC second of the fix, 0-59 */
} AisPosition;
/* Returns FALSE (and leaves @pos unchanged) when @msg carries no position. */
gboolean ais_message_position(const AisMessage *msg, AisPosition *pos);

/* The static/voyage part of types 5, 19, 24 (A: name only; B: the rest), scaled. Absent values
 * are "" or 0 (imo 0, dimensions 0), eta_month 0 when not available. */
typedef struct {
    guint mmsi;
    char name[21], callsign[8], destination[21];
    guint imo, ship_type;
    guint to_bow, to_stern, to_port, to_starboard;     /* metres */
    double draught;                                    /* metres; 0 = unknown */
    guint eta_month, eta_day, eta_hour, eta_minute;
    guint fields;   /* which of the above the message carries: AIS_STATIC_* bits */
} AisStatic;
enum {
    AIS_STATIC_NAME = 1 << 0,
    AIS_STATIC_CALLSIGN = 1 << 1,
    AIS_STATIC_IMO = 1 << 2,
    AIS_STATIC_SHIP_TYPE = 1 << 3,
    AIS_STATIC_DIMENSIONS = 1 << 4,
    AIS_STATIC_DESTINATION = 1 << 5,
    AIS_STATIC_ETA = 1 << 6,
    AIS_STATIC_DRAUGHT = 1 << 7,
};
/* Returns FALSE (and leaves @st unchanged) when @msg carries no static data. */
gboolean ais_message_static(const AisMessage *msg, AisStatic *st);

/* gpsd's text for a navigation status / ship type / EPFD code ("" when out of range). */
const char *ais_nav_status_text(guint status);
const char *ais_ship_type_text(guint shiptype);
const char *ais_epfd_text(guint epfd);

G_END_DECLS
