/* test_retain.c: the rules' state stays bounded for a year of containers. A container done or
 * not named for retain_days (input time) is retired and still explained, from the journal, the
 * same; past max_live the least recently named is retired early, never refused; a restart from
 * the snapshot (also after SIGKILLs between snapshot writes) decides exactly as a replay of the
 * whole journal; journal retention deletes only rows of retired containers. */
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iso6346.h"
#include "rules.h"
#include "ruletest.h"
#include "store-outbox.h"
#include "store-rules.h"
#include "testutil.h"

static char *code(const char *prefix, int n)
{
    char first10[11];
    g_snprintf(first10, sizeof first10, "%s%06d", prefix, n);
    return g_strdup_printf("%s%d", first10, iso6346_check_digit(first10));
}

/* RFC 3339 for @sec seconds after 2025-01-01T00:00:00Z (the simulated year). */
static char *ts_of(gint64 sec)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(1735689600 + sec);
    return g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
}

typedef struct {
    gint64 sec;
    int order; /* ties broken by generation order */
    TestutilMsg msg;
} Input;

static void input_clear(gpointer p)
{
    testutil_msg_clear(&((Input *)p)->msg);
}

#define H 3600
#define DAY (24 * H)

static void add(GArray *a, gint64 sec, const char *topic, char *payload_fmt_done)
{
    Input in = {sec, (int)a->len, {g_strdup(topic), payload_fmt_done}};
    g_array_append_val(a, in);
}

/* The events of container @i whose day starts at @t0 (seconds): a rail-sea box released, or
 * held by an alarm or a tampered seal; most go out of the gate; some are named again after
 * retain_days (a late clear, a reseal, a customs hold), which rebuilds them. A row is an event of
 * the containers whose number modulo @mod is 0 (@zero) or is not, at @t0 + @at; in its payload
 * @I@ is the number, @C@ the code, @TS@ the time, @RAD@ and @SEAL@ the radiation result and
 * seal state of its day (an alarm every 5th, a tamper every 7th container). */
static const struct {
    int mod;
    gboolean zero;
    gint64 at;
    const char *topic, *payload;
} day_events[] = {
    {1, TRUE, 0, "port/customs/status",
     "{\"id\":\"cs-@I@\",\"ts\":\"@TS@\",\"declaration\":\"D-@I@\",\"status\":\"released\","
     "\"flow\":\"rail-sea\",\"containers\":[\"@C@\"]}"},
    {1, TRUE, H, "port/rail/Y1/arrival",
     "{\"id\":\"ar-@I@\",\"ts\":\"@TS@\",\"yard\":\"Y1\",\"train\":\"T-@I@\","
     "\"wagons\":[{\"wagon\":\"W1\",\"containers\":[\"@C@\"]}]}"},
    {1, TRUE, 2 * H, "port/gate/RG1",
     "{\"id\":\"gi-@I@\",\"ts\":\"@TS@\",\"gate\":\"RG1\",\"direction\":\"in\","
     "\"mode\":\"rail\",\"container\":\"@C@\"}"},
    {1, TRUE, 3 * H, "port/radiation/RP1",
     "{\"id\":\"ra-@I@\",\"ts\":\"@TS@\",\"portal\":\"RP1\",\"container\":\"@C@\","
     "\"result\":\"@RAD@\"}"},
    {1, TRUE, 4 * H, "port/seal/ES1",
     "{\"id\":\"se-@I@\",\"ts\":\"@TS@\",\"seal\":\"ES1\",\"container\":\"@C@\","
     "\"state\":\"@SEAL@\"}"},
    {3, FALSE, 5 * H, "port/gate/G2",
     "{\"id\":\"go-@I@\",\"ts\":\"@TS@\",\"gate\":\"G2\",\"direction\":\"out\","
     "\"mode\":\"truck\",\"container\":\"@C@\"}"},
    {4, TRUE, 45 * DAY, "port/radiation/RP2",
     "{\"id\":\"rl-@I@\",\"ts\":\"@TS@\",\"portal\":\"RP2\",\"container\":\"@C@\","
     "\"result\":\"clear\"}"},
    {7, TRUE, 45 * DAY, "port/seal/ES1",
     "{\"id\":\"sl-@I@\",\"ts\":\"@TS@\",\"seal\":\"ES1\",\"container\":\"@C@\","
     "\"state\":\"sealed\"}"},
    {6, TRUE, 50 * DAY, "port/customs/status",
     "{\"id\":\"ch-@I@\",\"ts\":\"@TS@\",\"declaration\":\"D-@I@\",\"status\":\"held\","
     "\"flow\":\"rail-sea\",\"containers\":[\"@C@\"]}"},
};

static void container_events(GArray *a, int i, gint64 t0)
{
    g_autofree char *c = code("PSRU", i);
    g_autofree char *num = g_strdup_printf("%d", i);
    for (guint k = 0; k < G_N_ELEMENTS(day_events); k++) {
        if ((i % day_events[k].mod == 0) != day_events[k].zero)
            continue;
        g_autofree char *ts = ts_of(t0 + day_events[k].at);
        GString *p = g_string_new(day_events[k].payload);
        g_string_replace(p, "@I@", num, 0);
        g_string_replace(p, "@C@", c, 0);
        g_string_replace(p, "@TS@", ts, 0);
        g_string_replace(p, "@RAD@", i % 5 == 0 ? "alarm" : "clear", 0);
        g_string_replace(p, "@SEAL@", i % 7 == 0 ? "tampered" : "sealed", 0);
        add(a, t0 + day_events[k].at, day_events[k].topic, g_string_free(p, FALSE));
    }
}

static int by_time(gconstpointer pa, gconstpointer pb)
{
    const Input *a = pa, *b = pb;
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    return a->order - b->order;
}

/* @n containers, one starting every 2 days (about 2n days of input time), in time order except
 * that every 11th input swaps with the next (late arrivals). */
static GArray *workload(int n)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(Input));
    g_array_set_clear_func(a, input_clear);
    for (int i = 0; i < n; i++)
        container_events(a, i, (gint64)i * 2 * DAY);
    g_array_sort(a, by_time);
    for (guint i = 10; i + 1 < a->len; i += 11) {
        Input t = g_array_index(a, Input, i);
        g_array_index(a, Input, i) = g_array_index(a, Input, i + 1);
        g_array_index(a, Input, i + 1) = t;
    }
    return a;
}

static void feed(PsRules *r, GArray *w, guint from, guint to)
{
    for (guint i = from; i < to && i < w->len; i++) {
        const Input *in = &g_array_index(w, Input, i);
        RulesIngestResult res;
        GError *error = NULL;
        ck_assert_msg(rules_ingest(r, in->msg.topic, in->msg.payload, -1, &res, &error),
                      "store: %s", error ? error->message : "");
        ck_assert_msg(res.outcome != RULES_REJECTED, "input %u refused: %s", i, res.reason);
        rules_ingest_result_clear(&res);
    }
}

static PsRules *open_rules(PsStore *s, const PsRulesRetention *ret)
{
    GError *error = NULL;
    PsRules *r = rules_open(s, "port", NULL, ret, &error);
    ck_assert_no_error(error);
    ck_assert_ptr_nonnull(r);
    return r;
}

static PsStore *open_store(const char *path)
{
    GError *error = NULL;
    PsStore *s = store_open(path, &error);
    ck_assert_no_error(error);
    return s;
}

/* The old behaviour: everything kept, no snapshot. */
static PsRulesRetention keep_all(void)
{
    PsRulesRetention ret;
    rules_retention_init(&ret);
    ret.retain_days = 0;
    ret.max_live = 0;
    ret.no_snapshot = TRUE;
    return ret;
}

static gboolean append_decision(const PsDecisionRow *row, gpointer user_data)
{
    g_string_append_printf(user_data, "%s %s %s %s\n", row->decision_id, row->kind,
                           row->container, row->payload);
    return TRUE;
}

/* Every decision (id, kind, container, published payload) in order. */
static char *decisions_of(PsStore *s)
{
    return ruletest_decisions(s, append_decision);
}

/* What rules_describe() says of each of @n containers, one line each. */
static char *describe_all(PsRules *r, int n)
{
    GString *out = g_string_new(NULL);
    for (int i = 0; i < n; i++) {
        g_autofree char *c = code("PSRU", i);
        g_autofree char *d = rules_describe(r, c);
        g_string_append_printf(out, "%s\n", d ? d : "(none)");
    }
    return g_string_free(out, FALSE);
}

/* ---- retirement ---- */

START_TEST(test_container_past_retain_days_is_retired_and_explained_the_same)
{
    /* The reference: the same inputs with everything kept in memory. */
    g_autoptr(GArray) w = workload(40);
    PsStore *ref_s = open_store(":memory:");
    PsRulesRetention all = keep_all();
    PsRules *ref = open_rules(ref_s, &all);
    feed(ref, w, 0, w->len);

    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *db = g_build_filename(dir, "p.db", NULL);
    PsStore *s = open_store(db);
    PsRulesRetention ret;
    rules_retention_init(&ret);
    PsRules *r = open_rules(s, &ret);
    feed(r, w, 0, w->len);
    RulesStats st;
    rules_stats(r, &st);
    /* 40 containers over about 130 days: those of the last 30 days stay, and of those only
     * the ones not done (not released and gone out). */
    ck_assert_msg(st.live_containers <= 15, "%u containers live", st.live_containers);
    ck_assert_uint_ge(st.retired, 25);
    ck_assert_uint_gt(st.revived, 0); /* the late clears, reseals and holds named them again */
    ck_assert_uint_le(st.live_declarations, 20);

    /* The first container retired long ago: explained the same, from its journal rows. */
    g_autofree char *c0 = code("PSRU", 0);
    g_autofree char *c1 = code("PSRU", 1);
    g_autofree char *want0 = rules_describe(ref, c0), *got0 = rules_describe(r, c0);
    ck_assert_ptr_nonnull(got0);
    ck_assert_str_eq(got0, want0);
    ck_assert_ptr_nonnull(strstr(got0, "\"verdict\":\"hold\"")); /* held: customs, day 50 */
    g_autofree char *want1 = rules_describe(ref, c1), *got1 = rules_describe(r, c1);
    ck_assert_str_eq(got1, want1);
    ck_assert_ptr_nonnull(strstr(got1, "\"verdict\":\"release\""));
    RulesVerdict v;
    ck_assert(rules_verdict(r, c1, &v));
    ck_assert_int_eq(v.kind, RULES_VERDICT_RELEASED);
    rules_verdict_clear(&v);
    /* Every container, and every decision, as with everything kept. */
    g_autofree char *want_all = describe_all(ref, 40), *got_all = describe_all(r, 40);
    ck_assert_str_eq(got_all, want_all);
    g_autofree char *want_d = decisions_of(ref_s), *got_d = decisions_of(s);
    ck_assert_str_eq(got_d, want_d);
    rules_free(r);
    store_close(s);

    /* `portsight explain` (the console's /api/containers uses the same rules_describe()). */
    const char *argv[] = {"explain", "--db", db, "--json", c1, NULL};
    g_autofree char *out = NULL, *err = NULL;
    ck_assert_int_eq(testutil_portsight(argv, &out, &err), 0);
    g_autoptr(JsonParser) p = json_parser_new();
    ck_assert(json_parser_load_from_data(p, out, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    JsonNode *now = json_object_get_member(o, "now");
    ck_assert_msg(now && JSON_NODE_HOLDS_OBJECT(now), "explain has no state: %s", out);
    g_autofree char *now_text = json_to_string(now, FALSE);
    ck_assert_str_eq(now_text, want1);
    ck_assert_uint_eq(json_array_get_length(json_object_get_array_member(o, "decisions")), 1);

    rules_free(ref);
    store_close(ref_s);
    testutil_rmtree(dir);
}
END_TEST

START_TEST(test_new_container_is_accepted_past_the_live_limit)
{
    /* A limit of 1,000 live containers stands for the old 1,000,000: past it the least
     * recently named is retired early, and no input is refused. */
    PsStore *s = open_store(":memory:");
    PsRulesRetention ret;
    rules_retention_init(&ret);
    ret.max_live = 1000;
    PsRules *r = open_rules(s, &ret);
    g_autoptr(GArray) w = g_array_new(FALSE, FALSE, sizeof(Input));
    g_array_set_clear_func(w, input_clear);
    /* The first container waits only for its radiation scan. */
    container_events(w, 0, 0);
    g_array_remove_index(w, 3); /* its radiation scan: sent last */
    for (int i = 1; i <= 1200; i++) {
        g_autofree char *c = code("PSNU", i);
        g_autofree char *t = ts_of(DAY + i);
        add(w, DAY + i, "port/gate/RG1",
            g_strdup_printf("{\"id\":\"n-%d\",\"ts\":\"%s\",\"gate\":\"RG1\",\"direction\":"
                            "\"in\",\"mode\":\"rail\",\"container\":\"%s\"}",
                            i, t, c));
    }
    g_autofree char *c0 = code("PSRU", 0);
    g_autofree char *t = ts_of(DAY + 2000);
    add(w, DAY + 2000, "port/radiation/RP1",
        g_strdup_printf("{\"id\":\"late\",\"ts\":\"%s\",\"portal\":\"RP1\",\"container\":\"%s\","
                        "\"result\":\"clear\"}",
                        t, c0));
    feed(r, w, 0, w->len); /* asserts that none is refused */
    PsStoreStats ss;
    GError *error = NULL;
    ck_assert(store_stats(s, &ss, &error));
    ck_assert_int_eq(ss.dead_letters, 0);
    RulesStats st;
    rules_stats(r, &st);
    ck_assert_uint_le(st.live_containers, 1000);
    ck_assert_uint_ge(st.retired, 200);
    /* The first one was retired early and rebuilt by its scan: released, once. */
    ck_assert_uint_ge(st.revived, 1);
    g_autofree char *d = decisions_of(s);
    g_auto(GStrv) lines = g_strsplit(d, "\n", -1);
    guint releases = 0;
    for (guint i = 0; lines[i]; i++)
        releases += g_str_has_prefix(lines[i], "release:PSRU");
    ck_assert_uint_eq(releases, 1);
    g_autofree char *c1201 = code("PSNU", 1200);
    RulesVerdict v;
    ck_assert(rules_verdict(r, c1201, &v));
    ck_assert_int_eq(v.kind, RULES_VERDICT_PENDING);
    rules_verdict_clear(&v);
    rules_free(r);
    store_close(s);
}
END_TEST

/* ---- the snapshot ---- */

/* The reference: all of @w through rules that keep every container, no snapshot; the decisions
 * (*@decisions) and the described state of its 60 containers (*@described). */
static void full_replay(GArray *w, char **decisions, char **described)
{
    PsStore *s = open_store(":memory:");
    PsRulesRetention all = keep_all();
    PsRules *r = open_rules(s, &all);
    feed(r, w, 0, w->len);
    *decisions = decisions_of(s);
    *described = describe_all(r, 60);
    rules_free(r);
    store_close(s);
}

/* The snapshot tests' fixture: the workload of 60 containers, the reference decisions and state
 * of its full replay, and a database path in a fresh folder for the rules under test. */
static struct {
    GArray *w;
    char *want_d, *want;
    char *dir, *db;
} snap;

static void snapshot_setup(void)
{
    snap.w = workload(60);
    full_replay(snap.w, &snap.want_d, &snap.want);
    snap.dir = testutil_tmpdir();
    snap.db = g_build_filename(snap.dir, "p.db", NULL);
}

static void snapshot_teardown(void)
{
    testutil_rmtree(snap.dir);
    g_clear_pointer(&snap.w, g_array_unref);
    g_clear_pointer(&snap.want_d, g_free);
    g_clear_pointer(&snap.want, g_free);
    g_clear_pointer(&snap.dir, g_free);
    g_clear_pointer(&snap.db, g_free);
}

START_TEST(test_restart_from_snapshot_decides_as_a_full_replay)
{
    PsRulesRetention ret;
    rules_retention_init(&ret);
    ret.snapshot_every = 7;
    PsStore *s = open_store(snap.db);
    PsRules *r = open_rules(s, &ret);
    guint half = snap.w->len / 2;
    feed(r, snap.w, 0, half);
    RulesStats before;
    rules_stats(r, &before);
    rules_free(r); /* no clean stop: the snapshot is the last periodic one */
    store_close(s);

    s = open_store(snap.db);
    r = open_rules(s, &ret);
    RulesStats st;
    rules_stats(r, &st);
    ck_assert_int_gt(st.snapshot_seq, 0);
    ck_assert_int_lt(st.replayed, 7); /* only the rows after the snapshot */
    ck_assert_uint_eq(st.live_containers, before.live_containers);
    feed(r, snap.w, half, snap.w->len);
    g_autofree char *got_d = decisions_of(s);
    ck_assert_str_eq(got_d, snap.want_d);
    g_autofree char *got = describe_all(r, 60);
    ck_assert_str_eq(got, snap.want);
    ck_assert(rules_snapshot(r, NULL)); /* the clean stop */
    rules_free(r);

    /* The snapshot and a replay of the whole journal give the same state. */
    r = open_rules(s, &ret);
    rules_stats(r, &st);
    ck_assert_int_eq(st.replayed, 0);
    g_autofree char *from_snap = describe_all(r, 60);
    rules_free(r);
    PsRulesRetention full = ret;
    full.no_snapshot = TRUE;
    r = open_rules(s, &full);
    rules_stats(r, &st);
    ck_assert_int_gt(st.replayed, (gint64)snap.w->len - 1);
    g_autofree char *from_replay = describe_all(r, 60);
    ck_assert_str_eq(from_snap, from_replay);
    ck_assert_str_eq(from_snap, snap.want);
    rules_free(r);
    store_close(s);
}
END_TEST

static gint64 journal_rows(const char *db)
{
    PsStore *s = open_store(db);
    PsStoreStats st;
    ck_assert(store_stats(s, &st, NULL));
    store_close(s);
    return st.journal;
}

START_TEST(test_sigkill_between_snapshot_writes_decides_as_a_full_replay)
{
    PsRulesRetention ret;
    rules_retention_init(&ret);
    ret.snapshot_every = 5;
    guint32 seed = g_random_int();
    printf("sigkill seed %u\n", seed);
    fflush(stdout);
    GRand *rand = g_rand_new_with_seed(seed);
    guint kills = 0, landed = 0;
    /* Short enough that an idle machine, which gets through the whole workload in some tens
     * of milliseconds, is killed several times on the way. */
    gint32 max_delay_us = 4000;
    gint64 rows = 0;
    for (int round = 0; round < 100 && rows < (gint64)snap.w->len; round++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            /* On from the first input not journaled (each input is one journal row), and the
             * one before again (a duplicate, or journaled and not evaluated). */
            PsStore *cs = store_open(snap.db, NULL);
            PsRules *cr = cs ? rules_open(cs, "port", NULL, &ret, NULL) : NULL;
            PsStoreStats cst;
            if (!cr || !store_stats(cs, &cst, NULL))
                _exit(3);
            for (guint i = cst.journal > 0 ? cst.journal - 1 : 0; i < snap.w->len; i++) {
                const Input *in = &g_array_index(snap.w, Input, i);
                RulesIngestResult res;
                if (!rules_ingest(cr, in->msg.topic, in->msg.payload, -1, &res, NULL) ||
                    res.outcome == RULES_REJECTED)
                    _exit(4);
                rules_ingest_result_clear(&res);
            }
            _exit(0);
        }
        gint32 delay_us = g_rand_int_range(rand, 1000, max_delay_us);
        g_usleep(delay_us);
        kill(pid, SIGKILL);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status))
            ck_assert_msg(WEXITSTATUS(status) == 0, "child failed with %d (seed %u)",
                          WEXITSTATUS(status), seed);
        else
            kills++;
        gint64 now = journal_rows(snap.db);
        if (WIFSIGNALED(status) && now > rows && now < (gint64)snap.w->len)
            landed++;
        /* A loaded machine (or a sanitizer) may need longer to get going: wait longer. */
        if (now == rows) /* killed before its first row: a little longer */
            max_delay_us = MIN(max_delay_us * 5 / 4, 2000000);
        rows = now;
    }
    g_rand_free(rand);
    ck_assert_msg(landed >= 3, "only %u of %u kills landed mid-way (seed %u)", landed, kills,
                  seed);
    /* The rest, and the comparison. */
    PsStore *s = open_store(snap.db);
    PsRules *r = open_rules(s, &ret);
    RulesStats st;
    rules_stats(r, &st);
    ck_assert_int_gt(st.snapshot_seq, 0);
    feed(r, snap.w, 0, snap.w->len);
    g_autofree char *got_d = decisions_of(s);
    ck_assert_msg(strcmp(got_d, snap.want_d) == 0, "decisions differ (seed %u)", seed);
    g_autofree char *got = describe_all(r, 60);
    ck_assert_msg(strcmp(got, snap.want) == 0, "state differs (seed %u)", seed);
    rules_free(r);
    PsRulesRetention full = ret;
    full.no_snapshot = TRUE;
    r = open_rules(s, &full);
    g_autofree char *replayed = describe_all(r, 60);
    ck_assert_str_eq(replayed, snap.want);
    rules_free(r);
    store_close(s);
}
END_TEST

/* ---- journal retention ---- */

static gboolean count_outbox(const PsDecisionRow *row, gpointer user_data)
{
    (*(guint *)user_data)++;
    return TRUE;
}

START_TEST(test_journal_retention_deletes_only_rows_of_retired_containers)
{
    g_autoptr(GArray) w = workload(60);
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *db = g_build_filename(dir, "p.db", NULL);
    g_autofree char *archive = g_build_filename(dir, "archive.db", NULL);
    PsStore *s = open_store(db);
    GError *error = NULL;
    ck_assert(store_set_journal_archive(s, archive, &error));
    ck_assert_no_error(error);
    PsRulesRetention ret;
    rules_retention_init(&ret);
    ret.journal_keep_days = 60;
    ret.snapshot_every = 10; /* only rows a snapshot covers go */
    PsRules *r = open_rules(s, &ret);
    PsStore *ref_s = open_store(":memory:");
    PsRulesRetention all = keep_all();
    PsRules *ref = open_rules(ref_s, &all);
    guint pruned = 0;
    for (guint i = 0; i < w->len; i += 50) {
        feed(r, w, i, i + 50);
        feed(ref, w, i, i + 50);
        guint n = 0;
        ck_assert(rules_prune_journal(r, 20, &n, &error)); /* bounded batches */
        ck_assert_no_error(error);
        ck_assert_uint_le(n, 20);
        pruned += n;
        /* Every live container kept all its rows: a replay of what is left of the journal
         * gives it as it is. */
        PsRules *left = open_rules(s, &all);
        for (int k = 0; k < 60; k++) {
            g_autofree char *c = code("PSRU", k);
            if (!rules_live(r, c))
                continue;
            g_autofree char *a = rules_describe(ref, c), *b = rules_describe(left, c);
            ck_assert_str_eq(b, a);
        }
        rules_free(left);
    }
    for (guint n = 1; n > 0; pruned += n)
        ck_assert(rules_prune_journal(r, 20, &n, NULL));
    PsStoreStats st;
    ck_assert(store_stats(s, &st, NULL));
    ck_assert_uint_gt(pruned, 100);
    ck_assert_int_eq(st.journal + pruned, (gint64)w->len);
    /* Live containers lost no row: their state and every later decision are as before. */
    RulesStats rs;
    rules_stats(r, &rs);
    ck_assert_uint_gt(rs.live_containers, 0);
    for (int i = 0; i < 60; i++) {
        g_autofree char *c = code("PSRU", i);
        if (!rules_live(r, c))
            continue; /* retired, its rows maybe pruned: its decisions remain (below) */
        g_autofree char *a = rules_describe(r, c), *b = rules_describe(ref, c);
        ck_assert_str_eq(a, b);
    }
    g_autofree char *got_d = decisions_of(s), *want_d = decisions_of(ref_s);
    ck_assert_str_eq(got_d, want_d);
    /* Decisions and the outbox are never pruned. */
    guint decisions = 0;
    ck_assert(store_rules_decisions_foreach(s, NULL, count_outbox, &decisions, NULL));
    PsOutboxStats ob;
    ck_assert(store_outbox_stats(s, STORE_OUTBOX_MQTT, &ob, NULL));
    ck_assert_int_eq(ob.messages, decisions);
    ck_assert_int_eq(ob.pending, decisions);
    rules_free(r);
    store_close(s);
    /* The archive holds what was pruned. */
    sqlite3 *adb = NULL;
    sqlite3_stmt *q = NULL;
    ck_assert_int_eq(sqlite3_open_v2(archive, &adb, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(adb, "SELECT count(*) FROM journal", -1, &q, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(q, 0), (int)pruned);
    sqlite3_finalize(q);
    sqlite3_close(adb);
    rules_free(ref);
    store_close(ref_s);
    testutil_rmtree(dir);
}
END_TEST

static const TestutilTest retain[] = {
    {&test_container_past_retain_days_is_retired_and_explained_the_same},
    {&test_new_container_is_accepted_past_the_live_limit},
    {&test_journal_retention_deletes_only_rows_of_retired_containers},
};

static const TestutilTest snapshot[] = {
    {&test_restart_from_snapshot_decides_as_a_full_replay},
    {&test_sigkill_between_snapshot_writes_decides_as_a_full_replay},
};

static const TestutilCase tcases[] = {
    {"retain", 120, TESTUTIL_TESTS(retain)},
    {"snapshot", 120, TESTUTIL_TESTS(snapshot), snapshot_setup, snapshot_teardown},
};

int main(void)
{
    return testutil_run_cases("retain", tcases, G_N_ELEMENTS(tcases));
}
