/* test_replay.c: the shipped synthetic Ningbo sample through feed, decoder, registry and store:
 * the port calls and alerts the demo reports. */
#include <math.h>
#include <string.h>

#include "ais.h"
#include "aisfeed.h"
#include "store-ais.h"
#include "testutil.h"
#include "vessels.h"

typedef struct {
    PsAisDecoder *dec;
    PsVessels *vs;
    GMainLoop *loop;
    guint rejected, messages;
} Chain;

static void on_line(const char *line, gsize len, gpointer user_data)
{
    Chain *c = user_data;
    const AisMessage *msgs;
    guint n;
    g_autoptr(GError) error = NULL;
    if (!ais_decoder_feed(c->dec, line, len, 0, &msgs, &n, &error)) {
        c->rejected++;
        return;
    }
    for (guint i = 0; i < n; i++) {
        c->messages++;
        ck_assert(vessels_feed_message(c->vs, &msgs[i], 0, &error));
    }
}

static void on_done(gpointer user_data)
{
    g_main_loop_quit(((Chain *)user_data)->loop);
}

static gboolean collect(const PsAisCallRow *row, gpointer user_data)
{
    g_ptr_array_add(user_data, g_strdup_printf("%s %.1f", row->port,
                                               (row->departure - row->arrival) / 3600.0));
    return TRUE;
}

static const struct {
    guint mmsi;
    const char *calls[3];
} expected[] = {
    {413000101, {"BEILUN 6.0"}},
    {477000202, {"DAXIE 13.6"}}, /* 3 h at anchor off Daxie, then 10 h at the berth */
    {257000303, {NULL}},         /* passes by at 12 kn */
    {636000404, {"BANDAR ABBAS 20.0", "BEILUN 8.0"}},
    {412000505, {"BEILUN 4.0"}},
};

START_TEST(test_shipped_sample_gives_the_demo_calls_and_one_alert)
{
    const char *root = g_getenv("PS_SOURCE_ROOT");
    ck_assert_ptr_nonnull(root);
    g_autofree char *ports_path = g_build_filename(root, "data", "ports", "ports.csv", NULL);
    g_autofree char *sample =
        g_build_filename(root, "data", "scenario", "ais", "ningbo.nmea", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PsPortList) ports = portcalls_ports_load(ports_path, &error);
    ck_assert_no_error(error);
    PsStore *store = store_open(":memory:", &error);
    ck_assert_no_error(error);
    PsVesselsConfig vc;
    vessels_config_init(&vc);
    const char *risky[] = {"BANDAR ABBAS", NULL};
    vc.high_risk = risky;
    vc.track_days = 0;
    Chain c = {ais_decoder_new(NULL), vessels_new(&vc, ports, store, &error),
               g_main_loop_new(NULL, FALSE), 0, 0};
    ck_assert_no_error(error);
    g_autofree char *url = g_filename_to_uri(sample, NULL, NULL);
    PsAisFeed *feed = aisfeed_new(url, NULL, on_line, on_done, &c, &error);
    ck_assert(aisfeed_start(feed, &error));
    g_main_loop_run(c.loop);
    ck_assert(vessels_flush(c.vs, &error));

    ck_assert_uint_eq(c.rejected, 1); /* the one damaged sentence */
    /* gpsdecode -j: 1,803 type 1, 146 type 5, 209 type 18, 13 type 24 A+B pairs (26 parts). */
    ck_assert_uint_eq(c.messages, 2184);
    for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
        g_autoptr(GPtrArray) calls = g_ptr_array_new_with_free_func(g_free);
        ck_assert(store_ais_calls(store, expected[i].mmsi, 0, G_MAXINT64, collect, calls,
                                  &error));
        guint n = 0;
        while (n < 3 && expected[i].calls[n])
            n++;
        ck_assert_msg(calls->len == n, "%u: %u calls", expected[i].mmsi, calls->len);
        for (guint j = 0; j < n; j++)
            ck_assert_str_eq(g_ptr_array_index(calls, j), expected[i].calls[j]);
    }
    PsVesselsStats st;
    vessels_get_stats(c.vs, &st);
    ck_assert_uint_eq(st.alerts, 1);
    /* Flagged at Beilun (2026-11-25), no longer a month after Bandar Abbas. */
    ck_assert(vessels_risk_flag(c.vs, 636000404, 1795600000, NULL));
    ck_assert(!vessels_risk_flag(c.vs, 636000404, 1793756400 + 31 * 86400 + 86400, NULL));
    ck_assert(!vessels_risk_flag(c.vs, 413000101, 1795600000, NULL));
    PsVesselInfo info;
    ck_assert(vessels_get(c.vs, 412000505, &info));
    ck_assert_str_eq(info.name, "MIN HAI 18"); /* Class B: type 24 part A */
    ck_assert_str_eq(info.callsign, "BZMH8");  /* and part B */

    aisfeed_free(feed);
    vessels_free(c.vs);
    ais_decoder_free(c.dec);
    g_main_loop_unref(c.loop);
    store_close(store);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_shipped_sample_gives_the_demo_calls_and_one_alert},
};

TESTUTIL_MAIN("replay", "core", 60, TESTUTIL_TESTS(tests))
