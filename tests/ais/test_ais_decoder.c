/* test_ais_decoder.c: the pure AIS decoder: framing, reassembly, tag blocks, bounds, fields.
 * Expected field values come from gpsd's decoding of the same sentences (sample.aivdm.ju.chk,
 * gpsdecode -u -j) and libais' tagblock.json. */
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "ais.h"
#include "testutil.h"

/* Two type 5 messages of two fragments each (gpsd sample.aivdm; libais tagblock.nmea). */
#define EVER_1 "55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8"
#define EVER_2 "88888888880"
#define ROSI_1 "53@o0E000001Q0CG37U8u<Tp4q@D00000000000018330400000000000000"
#define ROSI_2 "00000000008"
#define TYPE1 "15RTgt0PAso;90TKcjM8h6g208CQ"

/* "!" + the formatted body + "*hh" with the right checksum. */
static char *nmea(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static char *nmea(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *body = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    guint x = 0;
    for (const char *p = body; *p; p++)
        x ^= (guint8)*p;
    return g_strdup_printf("!%s*%02X", body, x);
}

typedef struct {
    PsAisDecoder *dec;
    guint messages;
    AisMessage last;
    GError *error;
} Feeder;

/* Feeds @line; returns the number of messages it completed (copied into f->last). */
static guint feed(Feeder *f, const char *line)
{
    const AisMessage *msgs;
    guint n;
    g_clear_error(&f->error);
    if (!ais_decoder_feed(f->dec, line, strlen(line), 0, &msgs, &n, &f->error))
        return 0;
    if (n > 0)
        f->last = msgs[n - 1];
    f->messages += n;
    return n;
}

static guint feedf(Feeder *f, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static guint feedf(Feeder *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *body = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *line = nmea("%s", body);
    return feed(f, line);
}

static void feeder_init(Feeder *f, const AisDecoderOptions *opt)
{
    memset(f, 0, sizeof *f);
    f->dec = ais_decoder_new(opt);
}

static void feeder_clear(Feeder *f)
{
    ais_decoder_free(f->dec);
    g_clear_error(&f->error);
}

START_TEST(test_single_sentence_type1_fields)
{
    Feeder f;
    feeder_init(&f, NULL);
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A," TYPE1 ",0"), 1);
    ck_assert_uint_eq(f.last.type, 1);
    ck_assert_uint_eq(f.last.mmsi, 371798000);
    ck_assert_int_eq(f.last.t1.turn, -127);
    ck_assert_uint_eq(f.last.t1.speed, 123);
    ck_assert(f.last.t1.accuracy);
    ck_assert_int_eq(f.last.t1.lon, -74037230);
    ck_assert_int_eq(f.last.t1.lat, 29028980);
    ck_assert_uint_eq(f.last.t1.course, 2240);
    ck_assert_uint_eq(f.last.t1.heading, 215);
    ck_assert_uint_eq(f.last.t1.second, 33);
    ck_assert_uint_eq(f.last.t1.radio, 34017);
    ck_assert_int_eq(f.last.channel, 'A');
    ck_assert_str_eq(f.last.talker, "AI");
    ck_assert(!f.last.own);

    AisPosition pos;
    ck_assert(ais_message_position(&f.last, &pos));
    ck_assert_double_eq_tol(pos.lon, -74037230 / 600000.0, 1e-9);
    ck_assert_double_eq_tol(pos.lat, 29028980 / 600000.0, 1e-9);
    ck_assert_double_eq_tol(pos.sog, 12.3, 1e-9);
    ck_assert_double_eq_tol(pos.cog, 224.0, 1e-9);
    ck_assert_int_eq(pos.heading, 215);
    ck_assert_int_eq(pos.nav_status, 0);
    AisStatic st;
    ck_assert(!ais_message_static(&f.last, &st));
    feeder_clear(&f);
}
END_TEST

/* One expected field of a decoded message: a number (a guint field), or a string when @str is
 * set. */
typedef struct {
    const char *field;
    size_t offset;
    const char *str;
    guint value;
} FieldRow;

#define UINT_FIELD(f, v) {#f, offsetof(AisMessage, f), NULL, (v)}
#define STR_FIELD(f, s) {#f, offsetof(AisMessage, f), (s), 0}

static void assert_fields(const AisMessage *m, const FieldRow *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *at = (const char *)m + rows[i].offset;
        if (rows[i].str) {
            ck_assert_msg(strcmp(at, rows[i].str) == 0, "%s is \"%s\", expected \"%s\"",
                          rows[i].field, at, rows[i].str);
        } else {
            guint v;
            memcpy(&v, at, sizeof v);
            ck_assert_msg(v == rows[i].value, "%s is %u, expected %u", rows[i].field, v,
                          rows[i].value);
        }
    }
}

static const FieldRow ever_diadem[] = {
    UINT_FIELD(type, 5),           UINT_FIELD(mmsi, 351759000),
    UINT_FIELD(t5.imo, 9134270),   STR_FIELD(t5.callsign, "3FOF8"),
    STR_FIELD(t5.shipname, "EVER DIADEM"),
    UINT_FIELD(t5.shiptype, 70),   UINT_FIELD(t5.to_bow, 225),
    UINT_FIELD(t5.to_stern, 70),   UINT_FIELD(t5.to_port, 1),
    UINT_FIELD(t5.to_starboard, 31), UINT_FIELD(t5.month, 5),
    UINT_FIELD(t5.day, 15),        UINT_FIELD(t5.hour, 14),
    UINT_FIELD(t5.draught, 122),   STR_FIELD(t5.destination, "NEW YORK"),
};

static const FieldRow rosinante[] = {
    UINT_FIELD(type, 5),           UINT_FIELD(mmsi, 219005012),
    STR_FIELD(t5.shipname, "ROSINANTE"), STR_FIELD(t5.callsign, "XPD5019"),
    UINT_FIELD(t5.to_bow, 9),      UINT_FIELD(t5.to_stern, 3),
    UINT_FIELD(t5.to_port, 3),     UINT_FIELD(t5.dte, 1),
};

static void assert_ever_diadem(const AisMessage *m)
{
    assert_fields(m, ever_diadem, G_N_ELEMENTS(ever_diadem));
}

static void assert_rosinante(const AisMessage *m)
{
    assert_fields(m, rosinante, G_N_ELEMENTS(rosinante));
}

START_TEST(test_two_fragment_type5_with_static_view)
{
    Feeder f;
    feeder_init(&f, NULL);
    ck_assert_uint_eq(feedf(&f, "AIVDM,2,1,1,A," EVER_1 ",0"), 0);
    ck_assert_uint_eq(feedf(&f, "AIVDM,2,2,1,A," EVER_2 ",2"), 1);
    assert_ever_diadem(&f.last);
    AisStatic st;
    ck_assert(ais_message_static(&f.last, &st));
    ck_assert_str_eq(st.name, "EVER DIADEM");
    ck_assert_str_eq(st.destination, "NEW YORK");
    ck_assert_uint_eq(st.imo, 9134270);
    ck_assert_double_eq_tol(st.draught, 12.2, 1e-9);
    ck_assert_uint_eq(st.fields & AIS_STATIC_ETA, AIS_STATIC_ETA);
    feeder_clear(&f);
}
END_TEST

/* ---- reassembly scripts: sentences fed in turn, what each completes ---- */

typedef struct {
    const char *body; /* between '!' and '*' */
    guint completes;  /* messages completed by this sentence */
    char who;         /* the last completed one: 'E' EVER DIADEM, 'R' ROSINANTE, '1' a type 1 */
    char channel;     /* its channel, when checked */
    const char *talker;
} Step;

typedef struct {
    const char *name;
    guint max_pending; /* 0: the default */
    guint expired, evicted;
    Step steps[8];
} Script;

static const Script scripts[] = {
    {"interleaved messages on one channel", 0, 0, 0,
     {{"AIVDM,2,1,1,A," EVER_1 ",0", 0, 0, 0, NULL},
      {"AIVDM,2,1,2,A," ROSI_1 ",0", 0, 0, 0, NULL},
      {"AIVDM,1,1,,A," TYPE1 ",0", 1, '1', 'A', "AI"},
      {"AIVDM,2,2,2,A," ROSI_2 ",2", 1, 'R', 'A', NULL},
      {"AIVDM,2,2,1,A," EVER_2 ",2", 1, 'E', 'A', NULL}}},
    {"same sequence id on channels A and B", 0, 0, 0,
     {{"AIVDM,2,1,7,A," EVER_1 ",0", 0, 0, 0, NULL},
      {"AIVDM,2,1,7,B," ROSI_1 ",0", 0, 0, 0, NULL},
      {"AIVDM,2,2,7,B," ROSI_2 ",2", 1, 'R', 'B', NULL},
      {"AIVDM,2,2,7,A," EVER_2 ",2", 1, 'E', 'A', NULL}}},
    {"same sequence id from two talkers", 0, 0, 0,
     {{"AIVDM,2,1,3,A," EVER_1 ",0", 0, 0, 0, NULL},
      {"BSVDM,2,1,3,A," ROSI_1 ",0", 0, 0, 0, NULL},
      {"AIVDM,2,2,3,A," EVER_2 ",2", 1, 'E', 0, "AI"},
      {"BSVDM,2,2,3,A," ROSI_2 ",2", 1, 'R', 0, "BS"}}},
    /* A lost second fragment: the next first fragment with the same key starts over. */
    {"a repeated first fragment restarts the message", 0, 1, 0,
     {{"AIVDM,2,1,1,A," ROSI_1 ",0", 0, 0, 0, NULL},
      {"AIVDM,2,1,1,A," EVER_1 ",0", 0, 0, 0, NULL},
      {"AIVDM,2,2,1,A," EVER_2 ",2", 1, 'E', 0, NULL}}},
    /* Two pending at most: the third evicts seq 1, whose second fragment is then an orphan
     * (evicting seq 2 in its turn); seq 3 still completes. */
    {"the fragment cap evicts the oldest", 2, 0, 2,
     {{"AIVDM,2,1,1,A," EVER_1 ",0", 0, 0, 0, NULL},
      {"AIVDM,2,1,2,A," ROSI_1 ",0", 0, 0, 0, NULL},
      {"AIVDM,2,1,3,A," EVER_1 ",0", 0, 0, 0, NULL},
      {"AIVDM,2,2,1,A," EVER_2 ",2", 0, 0, 0, NULL},
      {"AIVDM,2,2,3,A," EVER_2 ",2", 1, 'E', 0, NULL}}},
};

START_TEST(test_reassembly_script)
{
    const Script *sc = &scripts[_i];
    AisDecoderOptions opt = {.max_pending = sc->max_pending};
    Feeder f;
    feeder_init(&f, sc->max_pending ? &opt : NULL);
    for (guint k = 0; k < G_N_ELEMENTS(sc->steps) && sc->steps[k].body; k++) {
        const Step *st = &sc->steps[k];
        ck_assert_msg(feedf(&f, "%s", st->body) == st->completes, "%s, sentence %u: %s", sc->name,
                      k + 1, f.error ? f.error->message : "completes another count");
        if (st->who == 'E')
            assert_ever_diadem(&f.last);
        else if (st->who == 'R')
            assert_rosinante(&f.last);
        else if (st->who == '1')
            ck_assert_uint_eq(f.last.type, 1);
        if (st->channel)
            ck_assert_int_eq(f.last.channel, st->channel);
        if (st->talker)
            ck_assert_str_eq(f.last.talker, st->talker);
    }
    AisDecoderStats stats;
    ais_decoder_get_stats(f.dec, &stats);
    ck_assert_msg(stats.expired == sc->expired && stats.evicted == sc->evicted,
                  "%s: expired %u evicted %u", sc->name, (guint)stats.expired,
                  (guint)stats.evicted);
    feeder_clear(&f);
}
END_TEST

START_TEST(test_out_of_order_fragments)
{
    Feeder f;
    feeder_init(&f, NULL);
    ck_assert_uint_eq(feedf(&f, "AIVDM,2,2,4,A," EVER_2 ",2"), 0);
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A," TYPE1 ",0"), 1);
    ck_assert_uint_eq(feedf(&f, "AIVDM,2,1,4,A," EVER_1 ",0"), 1);
    assert_ever_diadem(&f.last);

    /* Three fragments arriving 3, 1, 2: the split points are arbitrary. */
    char a[32], b[32];
    g_strlcpy(a, EVER_1, 21);
    g_strlcpy(b, &EVER_1[20], 21);
    ck_assert_uint_eq(feedf(&f, "AIVDM,3,3,5,B,%s%s,2", &EVER_1[40], EVER_2), 0);
    ck_assert_uint_eq(feedf(&f, "AIVDM,3,1,5,B,%s,0", a), 0);
    ck_assert_uint_eq(feedf(&f, "AIVDM,3,2,5,B,%s,0", b), 1);
    assert_ever_diadem(&f.last);
    feeder_clear(&f);
}
END_TEST

START_TEST(test_fragment_expiry_by_sentence_count)
{
    AisDecoderOptions opt = {.max_age_sentences = 3};
    Feeder f;
    feeder_init(&f, &opt);
    ck_assert_uint_eq(feedf(&f, "AIVDM,2,1,1,A," EVER_1 ",0"), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A," TYPE1 ",0"), 1);
    ck_assert_uint_eq(feedf(&f, "AIVDM,2,2,1,A," EVER_2 ",2"), 0);
    AisDecoderStats st;
    ais_decoder_get_stats(f.dec, &st);
    ck_assert_uint_eq(st.expired, 1);
    /* Within the window it still completes. */
    ck_assert_uint_eq(feedf(&f, "AIVDM,2,1,2,A," EVER_1 ",0"), 0);
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A," TYPE1 ",0"), 1);
    ck_assert_uint_eq(feedf(&f, "AIVDM,2,2,2,A," EVER_2 ",2"), 1);
    assert_ever_diadem(&f.last);
    feeder_clear(&f);
}
END_TEST

START_TEST(test_fragment_expiry_by_time)
{
    AisDecoderOptions opt = {.max_age_us = 2 * G_USEC_PER_SEC};
    PsAisDecoder *dec = ais_decoder_new(&opt);
    g_autofree char *l1 = nmea("AIVDM,2,1,1,A," EVER_1 ",0");
    g_autofree char *l2 = nmea("AIVDM,2,2,1,A," EVER_2 ",2");
    const AisMessage *msgs;
    guint n;
    ck_assert(ais_decoder_feed(dec, l1, strlen(l1), 10 * G_USEC_PER_SEC, &msgs, &n, NULL));
    ck_assert(ais_decoder_feed(dec, l2, strlen(l2), 13 * G_USEC_PER_SEC, &msgs, &n, NULL));
    ck_assert_uint_eq(n, 0);
    ck_assert(ais_decoder_feed(dec, l1, strlen(l1), 20 * G_USEC_PER_SEC, &msgs, &n, NULL));
    ck_assert(ais_decoder_feed(dec, l2, strlen(l2), 21 * G_USEC_PER_SEC, &msgs, &n, NULL));
    ck_assert_uint_eq(n, 1);
    ais_decoder_free(dec);
}
END_TEST

START_TEST(test_tag_block_station_time_group)
{
    Feeder f;
    feeder_init(&f, NULL);
    /* libais tagblock.nmea: a type 5 in a tag-block group with a type 1 between its parts. */
    ck_assert_uint_eq(
        feed(&f, "\\g:1-2-1604,s:rORBCOMM008,c:1418169601,T:2014-12-10 00.00.01*37\\!AIVDM,2,1,"
                 "6,A," ROSI_1 ",0*63"),
        0);
    ck_assert_uint_eq(
        feed(&f, "\\s:rORBCOMM104,q:u,c:1418172113,T:2014-12-10 00.41.53*55\\!AIVDM,1,1,,B,13F?"
                 "Vv700<DJuLEtvep`iToV0<00,0*78"),
        1);
    ck_assert_uint_eq(f.last.mmsi, 224651000);
    ck_assert(f.last.tag.present);
    ck_assert_str_eq(f.last.tag.station, "rORBCOMM104");
    ck_assert_int_eq(f.last.tag.time, 1418172113);
    ck_assert_uint_eq(f.last.tag.group_total, 0);
    ck_assert_uint_eq(
        feed(&f, "\\g:2-2-1604,s:rORBCOMM008,c:1418169601,T:2014-12-10 00.00.01*34\\!AIVDM,2,2,"
                 "6,A," ROSI_2 ",2*2A"),
        1);
    assert_rosinante(&f.last);
    ck_assert_str_eq(f.last.tag.station, "rORBCOMM008");
    ck_assert_int_eq(f.last.tag.time, 1418169601);
    ck_assert_uint_eq(f.last.tag.group_seq, 1);
    ck_assert_uint_eq(f.last.tag.group_total, 2);
    ck_assert_uint_eq(f.last.tag.group_id, 1604);
    feeder_clear(&f);
}
END_TEST

typedef struct {
    const char *line;
    AisErrorCode code;
    const char *reason; /* a piece of the message */
} BadCase;

static const BadCase bad_cases[] = {
    /* checksums */
    {"!AIVDM,1,1,,A," TYPE1 ",0*4B", AIS_ERROR_CHECKSUM,
     "checksum mismatch (says 4B, computed 4A)"},
    {"!AIVDM,1,1,,A," TYPE1 ",0", AIS_ERROR_SYNTAX, "without a *hh checksum"},
    {"!AIVDM,1,1,,A," TYPE1 ",0*G1", AIS_ERROR_SYNTAX, "malformed checksum '*G1'"},
    /* tag blocks */
    {"\\s:rORBCOMM104,c:1418172113*54\\!AIVDM,1,1,,A," TYPE1 ",0*4A", AIS_ERROR_TAG_BLOCK,
     "tag block checksum mismatch (says 54, computed"},
    {"\\s:rORBCOMM104,c:1418172113\\!AIVDM,1,1,,A," TYPE1 ",0*4A", AIS_ERROR_TAG_BLOCK,
     "tag block without a *hh checksum"},
    {"\\g:1-2-73874*A\\!AIVDM,1,1,,A," TYPE1 ",0*4A", AIS_ERROR_TAG_BLOCK, "malformed"},
    {"\\s:x*00!AIVDM,1,1,,A," TYPE1 ",0*4A", AIS_ERROR_TAG_BLOCK, "closing"},
};

START_TEST(test_bad_sentence_rejected_with_reason)
{
    const BadCase *c = &bad_cases[_i];
    Feeder f;
    feeder_init(&f, NULL);
    ck_assert_uint_eq(feed(&f, c->line), 0);
    ck_assert_msg(f.error != NULL, "accepted: %s", c->line);
    ck_assert_msg(g_error_matches(f.error, AIS_ERROR, (gint)c->code), "%s: code %d (%s)", c->line,
                  f.error->code, f.error->message);
    ck_assert_msg(strstr(f.error->message, c->reason), "%s: '%s' lacks '%s'", c->line,
                  f.error->message, c->reason);
    /* The decoder goes on. */
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A," TYPE1 ",0"), 1);
    feeder_clear(&f);
}
END_TEST

typedef struct {
    const char *body; /* without '!' and checksum */
    AisErrorCode code;
    const char *reason;
} BadBody;

static const BadBody bad_bodies[] = {
    {"AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g2,0", AIS_ERROR_TOO_SHORT,
     "type 1 message of 144 bits is shorter than 163"},
    {"AIVDM,1,1,,A," EVER_1 ",0", AIS_ERROR_TOO_SHORT,
     "type 5 message of 360 bits is shorter than 420"},
    {"AIVDM,1,1,,A,1,0", AIS_ERROR_TOO_SHORT, "shorter than the 38-bit header"},
    {"AIVDM,1,1,,A,,0", AIS_ERROR_TOO_SHORT, "empty payload"},
    {"AIVDM,1,1,,A,H42O55i18tMET0000000000000,0", AIS_ERROR_TOO_SHORT,
     "type 24 message of 156 bits is shorter than 160"},
    {"AIVDM,1,1,,A,K3KLehP0rPTJ,0", AIS_ERROR_TOO_SHORT, "type 27 message of 72 bits"},
    {"AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g2~8CQ,0", AIS_ERROR_PAYLOAD,
     "character '~' at payload position 25"},
    {"AIVDM,1,1,,A," TYPE1 ",6", AIS_ERROR_SYNTAX, "fill bits '6' are not 0-5"},
    {"AIVDM,1,2,,A," TYPE1 ",0", AIS_ERROR_FRAGMENT, "fragment number '2' is not 1-1"},
    {"AIVDM,2,3,1,A," TYPE1 ",0", AIS_ERROR_FRAGMENT, "fragment number '3' is not 1-2"},
    {"AIVDM,0,1,,A," TYPE1 ",0", AIS_ERROR_SYNTAX, "fragment count '0'"},
    {"AIVDM,1,1,12,A," TYPE1 ",0", AIS_ERROR_SYNTAX, "sequence id '12'"},
    {"AIVDM,1,1,,AB," TYPE1 ",0", AIS_ERROR_SYNTAX, "channel 'AB'"},
    {"AIVDM,1,1,,A," TYPE1, AIS_ERROR_SYNTAX, "6 fields where 7 are expected"},
    {"AIVDM,1,1,,A,x5RTgt0PAso;90TKcjM8h6g208CQ,0", AIS_ERROR_PAYLOAD,
     "character 'x' at payload position 1"},
    {"AIVDM,1,1,,A,15RTZt0PAso;90TKcjM8h6g208CQ,0", AIS_ERROR_PAYLOAD, "position 5"},
    {"AIVDM,1,1,,A,o5RTgt0PAso;90TKcjM8h6g208CQ,0", AIS_ERROR_UNKNOWN_TYPE,
     "message type 55 does not exist"},
};

START_TEST(test_bad_payload_rejected_with_reason)
{
    const BadBody *c = &bad_bodies[_i];
    Feeder f;
    feeder_init(&f, NULL);
    ck_assert_uint_eq(feedf(&f, "%s", c->body), 0);
    ck_assert_msg(f.error != NULL, "accepted: %s", c->body);
    ck_assert_msg(g_error_matches(f.error, AIS_ERROR, (gint)c->code), "%s: code %d (%s)", c->body,
                  f.error->code, f.error->message);
    ck_assert_msg(strstr(f.error->message, c->reason), "%s: '%s' lacks '%s'", c->body,
                  f.error->message, c->reason);
    AisDecoderStats st;
    ais_decoder_get_stats(f.dec, &st);
    ck_assert_uint_eq(st.errors, 1);
    feeder_clear(&f);
}
END_TEST

START_TEST(test_over_long_payload_rejected)
{
    Feeder f;
    feeder_init(&f, NULL);
    GString *payload = g_string_new("");
    for (int i = 0; i < 400; i++)
        g_string_append_c(payload, '0');
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A,%s,0", payload->str), 0);
    ck_assert(g_error_matches(f.error, AIS_ERROR, AIS_ERROR_TOO_LONG));
    /* Nine fragments of 60 characters together exceed the cap as well. */
    g_string_truncate(payload, 60);
    for (int i = 1; i <= 9; i++)
        feedf(&f, "AIVDM,9,%d,1,A,%s,0", i, payload->str);
    ck_assert(g_error_matches(f.error, AIS_ERROR, AIS_ERROR_TOO_LONG));
    ck_assert_uint_eq(f.messages, 0);
    g_string_free(payload, TRUE);
    feeder_clear(&f);
}
END_TEST

START_TEST(test_known_quirks_accepted_and_counted)
{
    Feeder f;
    feeder_init(&f, NULL);
    /* Type 5 of 420 and 422 bits: gpsd accepts them (many transmitters send them). */
    g_autofree char *full = g_strconcat(EVER_1, EVER_2, NULL);
    full[strlen(full) - 1] = '\0'; /* 70 characters = 420 bits */
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A,%s,0", full), 1);
    assert_ever_diadem(&f.last);
    ck_assert_uint_eq(f.last.bitlen, 420);
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A,%s%s,4", EVER_1, EVER_2), 1); /* 422 bits */
    assert_ever_diadem(&f.last);
    ck_assert_uint_eq(f.last.bitlen, 422);
    /* Type 1 of 174 bits (one character too many): decoded, counted as over-long. */
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A," TYPE1 "0,0"), 1);
    ck_assert_uint_eq(f.last.mmsi, 371798000);
    ck_assert_uint_eq(f.last.t1.radio, 34017);
    /* Type 27 in a full 168-bit slot. */
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A,K3KLehP0rPTJ10Qr000000000000,0"), 1);
    ck_assert_uint_eq(f.last.type, 27);
    AisDecoderStats st;
    ais_decoder_get_stats(f.dec, &st);
    ck_assert_uint_eq(st.overlong, 2);
    ck_assert_uint_eq(st.errors, 0);
    feeder_clear(&f);
}
END_TEST

START_TEST(test_other_lines_are_ignored)
{
    static const char *const lines[] = {
        "",
        "\r\n",
        "# comment",
        "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D",
        "foobar",
        "IamNotAnAisMessage1111",
        "$PGHP,1,2008,5,9,0,0,0,10,338,2,,1,09*17"};
    Feeder f;
    feeder_init(&f, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
        ck_assert_uint_eq(feed(&f, lines[i]), 0);
        ck_assert_msg(f.error == NULL, "'%s': %s", lines[i], f.error->message);
    }
    AisDecoderStats st;
    ais_decoder_get_stats(f.dec, &st);
    ck_assert_uint_eq(st.sentences, 0);
    /* Receiver suffixes after the checksum and a CRLF are fine. */
    ck_assert_uint_eq(feed(&f, "!AIVDM,1,1,,B,:6TMCD1GOS60,0*5B,s36310,d-081,T59.01777335\r\n"), 1);
    ck_assert_uint_eq(f.last.type, 10);
    ck_assert_uint_eq(feed(&f, "!AIVDM,1,1,,B,:6TMCD1GOS60,0*5B,x*12"), 1);
    feeder_clear(&f);
}
END_TEST

START_TEST(test_type24_parts_are_separate_messages)
{
    Feeder f;
    feeder_init(&f, NULL);
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A,H42O55i18tMET00000000000000,2"), 1);
    ck_assert_uint_eq(f.last.t24.part, 0);
    ck_assert_str_eq(f.last.t24.shipname, "PROGUY");
    AisStatic st;
    ck_assert(ais_message_static(&f.last, &st));
    ck_assert_uint_eq(st.fields, AIS_STATIC_NAME);
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A,H42O55lti4hhhilD3nink000?050,0"), 1);
    ck_assert_uint_eq(f.last.t24.part, 1);
    ck_assert_uint_eq(f.last.t24.shiptype, 60);
    ck_assert_str_eq(f.last.t24.vendorid, "1D00014");
    ck_assert_uint_eq(f.last.t24.model, 12);
    ck_assert_uint_eq(f.last.t24.serial, 199796);
    ck_assert_str_eq(f.last.t24.callsign, "TC6163");
    ck_assert_uint_eq(f.last.t24.to_stern, 15);
    ck_assert_uint_eq(f.last.t24.to_starboard, 5);
    ck_assert(ais_message_static(&f.last, &st));
    ck_assert_str_eq(st.callsign, "TC6163");
    ck_assert_uint_eq(st.fields & AIS_STATIC_NAME, 0);
    feeder_clear(&f);
}
END_TEST

static JsonObject *parse_object(JsonParser *p, const char *text)
{
    GError *error = NULL;
    ck_assert_msg(json_parser_load_from_data(p, text, -1, &error), "%s: %s", text,
                  error ? error->message : "");
    JsonNode *root = json_parser_get_root(p);
    ck_assert(JSON_NODE_HOLDS_OBJECT(root));
    return json_node_get_object(root);
}

START_TEST(test_json_unscaled_matches_gpsd_line)
{
    /* sample.aivdm.ju.chk, first line (gpsdecode -u -j). */
    static const char *const want =
        "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":1,\"repeat\":0,\"mmsi\":371798000,"
        "\"scaled\":false,\"status\":0,\"status_text\":\"Under way using engine\",\"turn\":-127,"
        "\"speed\":123,\"accuracy\":true,\"lon\":-74037230,\"lat\":29028980,\"course\":2240,"
        "\"heading\":215,\"second\":33,\"maneuver\":0,\"raim\":false,\"radio\":34017}";
    Feeder f;
    feeder_init(&f, NULL);
    ck_assert_uint_eq(feedf(&f, "AIVDM,1,1,,A," TYPE1 ",0"), 1);
    GString *out = g_string_new("");
    ais_message_to_json(&f.last, FALSE, out);
    JsonParser *pw = json_parser_new(), *pg = json_parser_new();
    JsonObject *w = parse_object(pw, want), *g = parse_object(pg, out->str);
    GList *members = json_object_get_members(w);
    for (GList *l = members; l; l = l->next) {
        const char *k = l->data;
        if (strcmp(k, "device") == 0)
            continue;
        ck_assert_msg(json_object_has_member(g, k), "missing %s in %s", k, out->str);
        ck_assert_msg(json_node_equal(json_object_get_member(w, k), json_object_get_member(g, k)),
                      "%s differs in %s", k, out->str);
    }
    g_list_free(members);

    /* Scaled: degrees and knots. */
    g_string_truncate(out, 0);
    ais_message_to_json(&f.last, TRUE, out);
    JsonObject *s = parse_object(pg, out->str);
    ck_assert_double_eq_tol(json_object_get_double_member(s, "lon"), -123.395383, 1e-6);
    ck_assert_double_eq_tol(json_object_get_double_member(s, "lat"), 48.381633, 1e-6);
    ck_assert_double_eq_tol(json_object_get_double_member(s, "speed"), 12.3, 1e-9);
    ck_assert_double_eq_tol(json_object_get_double_member(s, "course"), 224.0, 1e-9);
    ck_assert_str_eq(json_object_get_string_member(s, "turn"), "fastleft");
    ck_assert(json_object_get_boolean_member(s, "scaled"));
    g_object_unref(pw);
    g_object_unref(pg);
    g_string_free(out, TRUE);
    feeder_clear(&f);
}
END_TEST

START_TEST(test_json_escapes_quotes_in_text)
{
    AisMessage m;
    /* Type 14 text "A\"B\\C" in six-bit: 'A'=1, '"'=34, 'B'=2, '\\'=28, 'C'=3. */
    GString *payload = g_string_new("");
    guint8 bits[64] = {0};
    static const guint chars[] = {1, 34, 2, 28, 3};
    /* header: type(6) repeat(2) mmsi(30) spare(2) = 40 bits, then 5 characters of 6 bits */
    guint pos = 0;
    guint widths[] = {6, 2, 30, 2};
    guint hv[] = {14, 0, 123456789, 0};
    for (guint i = 0; i < 4; i++)
        for (guint b = 0; b < widths[i]; b++, pos++)
            bits[pos / 8] |= ((hv[i] >> (widths[i] - 1 - b)) & 1) << (7 - pos % 8);
    for (guint i = 0; i < G_N_ELEMENTS(chars); i++)
        for (guint b = 0; b < 6; b++, pos++)
            bits[pos / 8] |= ((chars[i] >> (5 - b)) & 1) << (7 - pos % 8);
    for (guint c = 0; c < (pos + 5) / 6; c++) {
        guint v = 0;
        for (guint b = 0; b < 6; b++)
            v = v << 1 | ((bits[(6 * c + b) / 8] >> (7 - (6 * c + b) % 8)) & 1);
        g_string_append_c(payload, (char)(v < 40 ? v + 48 : v + 56));
    }
    GError *error = NULL;
    ck_assert_msg(ais_decode_payload(payload->str, payload->len, 0, &m, &error), "%s",
                  error ? error->message : "");
    ck_assert_str_eq(m.text.text, "A\"B\\C");
    GString *out = g_string_new("");
    ais_message_to_json(&m, FALSE, out);
    JsonParser *p = json_parser_new();
    JsonObject *o = parse_object(p, out->str);
    ck_assert_str_eq(json_object_get_string_member(o, "text"), "A\"B\\C");
    ck_assert_int_eq(json_object_get_int_member(o, "mmsi"), 123456789);
    g_object_unref(p);
    g_string_free(out, TRUE);
    g_string_free(payload, TRUE);
}
END_TEST

/* Binary applications that the shared captures lack: random payloads (generated for this test)
 * with the JSON that gpsdecode 3.22 (Debian gpsd-clients, `gpsdecode -u -j -s`) printed for them.
 * Every key but *_text and device must match. */
typedef struct {
    const char *sentence;
    const char *gpsd;
} AppCase;

static const AppCase app_cases[] = {
    {"!AIVDM,1,1,,A,6?<gNI6gb8pL05@,2*03",
     "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":6,\"repeat\":0,\"mmsi\":1019993700,"
     "\"scaled\":f"
     "alse,\"seqno\":1,\"dest_mmsi\":736764807,\"retransmit\":false,\"dac\":1,\"fid\":20,\"linkag"
     "e\":0,\"berth_length\":0,\"position\":0,\"position_text\":\"Not available\",\"arrival\":\"0-"
     "0T0:0\",\"availability\":0,\"agent\":0,\"fuel\":0,\"chandler\":0,\"stevedore\":0,\"electrica"
     "l\":0,\"water\":0,\"customs\":0,\"cartage\":0,\"crane\":0,\"lift\":0,\"medical\":0,"
     "\"navrepair"
     "\":0,\"provisions\":0,\"shiprepair\":0,\"surveyor\":0,\"steam\":0,\"tugs\":0,\"solidwaste\":0"
     ",\"liquidwaste\":0,\"hazardouswaste\":0,\"ballast\":0,\"additional\":0,\"regional1\":0,\"re"
     "gional2\":0,\"future1\":0,\"future2\":0,\"berth_name\":\"\",\"berth_lon\":0,\"berth_lat\":0,"
     "\""
     "berth_depth\":0}"},
    {"!AIVDM,1,1,,A,6o46?<UK>g@M05T,2*67",
     "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":6,\"repeat\":3,\"mmsi\":474058546,"
     "\"scaled\":fa"
     "lse,\"seqno\":1,\"dest_mmsi\":382647559,\"retransmit\":false,\"dac\":1,\"fid\":25,\"unit\":0"
     ",\"amount\":0,\"cargos\":[]}"},
    {"!AIVDM,1,1,,A,6d;e2fLBROSK05h,2*1A",
     "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":6,\"repeat\":2,\"mmsi\":817578681,"
     "\"scaled\":fa"
     "lse,\"seqno\":3,\"dest_mmsi\":77758006,\"retransmit\":true,\"dac\":1,\"fid\":28,\"linkage\":"
     "0,\"sender\":0,\"rtype\":0,\"rtype_text\":\"Undefined (default)\",\"start\":\"00-00T00:00Z\""
     ",\"duration\":0,\"waypoints\":[]}"},
    {"!AIVDM,1,1,,A,6:CG3IapE36n<QDhql@u;bEIDq`Qrj6nvhVSkjcuK@,4*10",
     "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":6,\"repeat\":0,\"mmsi\":691389286,"
     "\"scaled\":fa"
     "lse,\"seqno\":2,\"dest_mmsi\":504695917,\"retransmit\":true,\"dac\":200,\"fid\":21,\"countr"
     "y\":\"LN\",\"locode\":\"]DO\",\"section\":\"R:%VU\",\"terminal\":\"NZH^,\",\"hectometre\":\"!"
     "-/,I\""
     ",\"eta\":\"10-7T19:50\",\"tugs\":5,\"airdraught\":2027}"},
    {"!AIVDM,1,1,,A,6:dGcbbt0;d6<QHelnGJWMNs1qEOFml7@;sEg=0,2*30",
     "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":6,\"repeat\":0,\"mmsi\":717613994,"
     "\"scaled\":fa"
     "lse,\"seqno\":2,\"dest_mmsi\":788541121,\"retransmit\":true,\"dac\":200,\"fid\":22,\"countr"
     "y\":\"K]\",\"locode\":\"M%6\",\"section\":\")7W.0\",\"terminal\":\"^UW5-\",\"hectometre\":\"]"
     "A4B>\""
     ",\"eta\":\"13-11T15:13\",\"status\":0,\"status_text\":\"Operational\"}"},
    {"!AIVDM,1,1,,A,8V`f?;h0C@,4*15", "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":8,"
                                      "\"repeat\":2,\"mmsi\":445353775,\"scaled\":fa"
                                      "lse,\"dac\":1,\"fid\":13,\"reason\":\"\",\"closefrom\":\"\","
                                      "\"closeto\":\"\",\"radius\":0,\"extunit"
                                      "\":0,\"from\":\"00-00T00:00\",\"to\":\"00-00T00:00\"}"},
    {"!AIVDM,1,1,,A,8t?71:80Ch,4*4E", "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":8,"
                                      "\"repeat\":3,\"mmsi\":821149992,\"scaled\":fa"
                                      "lse,\"dac\":1,\"fid\":15,\"airdraught\":0}"},
    {"!AIVDM,1,1,,A,8DwiPIH0D@,4*25", "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":8,"
                                      "\"repeat\":1,\"mmsi\":335306853,\"scaled\":fa"
                                      "lse,\"dac\":1,\"fid\":17,\"targets\":[{\"idtype\":0,"
                                      "\"idtype_text\":\"mmsi\",\"mmsi\":\"0\",\"lat"
                                      "\":0,\"lon\":0,\"course\":0,\"second\":0,\"speed\":0}]}"},
    {"!AIVDM,1,1,,A,8;pqEGl0Fh,4*50",
     "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":8,\"repeat\":0,\"mmsi\":797857119,"
     "\"scaled\":fa"
     "lse,\"dac\":1,\"fid\":27,\"linkage\":0,\"sender\":0,\"rtype\":0,\"rtype_text\":\"Undefined (d"
     "efault)\",\"start\":\"00-00T00:00Z\",\"duration\":0,\"waypoints\":[]}"},
    {"!AIVDM,1,1,,A,8`SRV540G@,4*1B", "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":8,"
                                      "\"repeat\":2,\"mmsi\":574137876,\"scaled\":fa"
                                      "lse,\"dac\":1,\"fid\":29,\"linkage\":0,\"text\":\"\"}"},
    {"!AIVDM,1,1,,A,8FH8=9lj63NhmJuEuClGprETlJ91,0*3E",
     "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":8,\"repeat\":1,\"mmsi\":427953447,"
     "\"scaled\":fa"
     "lse,\"dac\":200,\"fid\":24,\"country\":\"M;\",\"gauges\":[{\"id\":106,\"level\":-2582},{"
     "\"id\":1"
     "525,\"level\":3909},{\"id\":1991,\"level\":4786},{\"id\":838,\"level\":-7615}]}"},
    {"!AIVDM,1,1,,A,83m:nUTj:<JF9G@hVqO>Ofov2p36,0*02",
     "{\"class\":\"AIS\",\"device\":\"stdin\",\"type\":8,\"repeat\":0,\"mmsi\":257078934,"
     "\"scaled\":fa"
     "lse,\"dac\":200,\"fid\":40,\"lon\":-60202409,\"lat\":35147211,\"form\":14,\"facing\":231,\"di"
     "rection\":7,\"direction_text\":\"INVALID DIRECTION\",\"status\":499106160,\"status_text\""
     ":\"INVALID STATUS\"}"},
};

START_TEST(test_binary_application_matches_gpsdecode)
{
    const AppCase *c = &app_cases[_i];
    Feeder f;
    feeder_init(&f, NULL);
    ck_assert_uint_eq(feed(&f, c->sentence), 1);
    GString *out = g_string_new("");
    ais_message_to_json(&f.last, FALSE, out);
    JsonParser *pw = json_parser_new(), *pg = json_parser_new();
    JsonObject *w = parse_object(pw, c->gpsd), *g = parse_object(pg, out->str);
    GList *members = json_object_get_members(w);
    for (GList *l = members; l; l = l->next) {
        const char *k = l->data;
        if (strcmp(k, "device") == 0 || g_str_has_suffix(k, "_text"))
            continue;
        ck_assert_msg(json_object_has_member(g, k), "missing %s in %s", k, out->str);
        ck_assert_msg(json_node_equal(json_object_get_member(w, k), json_object_get_member(g, k)),
                      "%s differs: gpsd %s, portsight %s", k, c->gpsd, out->str);
    }
    g_list_free(members);
    g_object_unref(pw);
    g_object_unref(pg);
    g_string_free(out, TRUE);
    feeder_clear(&f);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_single_sentence_type1_fields},
    {&test_two_fragment_type5_with_static_view},
    {&test_reassembly_script, G_N_ELEMENTS(scripts)},
    {&test_out_of_order_fragments},
    {&test_fragment_expiry_by_sentence_count},
    {&test_fragment_expiry_by_time},
    {&test_tag_block_station_time_group},
    {&test_bad_sentence_rejected_with_reason, G_N_ELEMENTS(bad_cases)},
    {&test_bad_payload_rejected_with_reason, G_N_ELEMENTS(bad_bodies)},
    {&test_over_long_payload_rejected},
    {&test_known_quirks_accepted_and_counted},
    {&test_other_lines_are_ignored},
    {&test_type24_parts_are_separate_messages},
    {&test_json_unscaled_matches_gpsd_line},
    {&test_json_escapes_quotes_in_text},
    {&test_binary_application_matches_gpsdecode, G_N_ELEMENTS(app_cases)},
};

TESTUTIL_MAIN("ais-decoder", "decoder", 0, TESTUTIL_TESTS(tests))
