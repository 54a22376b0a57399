/* test_store.c: the journal, dead letters, migrations and durability of store/. */
#include <errno.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "journaltest.h"
#include "store-private.h"
#include "testutil.h"


static PsStore *open_ok(void)
{
    GError *error = NULL;
    PsStore *s = store_open(testutil_tmp_db, &error);
    ck_assert_no_error(error);
    ck_assert_ptr_nonnull(s);
    return s;
}

static PsEvent event(const char *source, const char *id, const char *payload)
{
    return (PsEvent){.source = source, .topic = "port/test", .id = id,
                     .ts = "2026-11-26T10:00:00Z", .payload = payload, .payload_len = -1};
}

static gint64 count(PsStore *s, const char *sql)
{
    return testutil_sql_int(store__db(s), sql);
}

START_TEST(test_duplicate_source_id_is_ignored_and_counted)
{
    PsStore *s = open_ok();
    GError *error = NULL;
    gboolean dup = TRUE;
    PsEvent e = event("mqtt", "e-1", "{\"a\":1}");
    ck_assert(store_append(s, &e, &dup, &error));
    ck_assert(!dup);
    PsEvent again = event("mqtt", "e-1", "{\"a\":2}");
    ck_assert(store_append(s, &again, &dup, &error));
    ck_assert(dup);
    /* The same id from another source is another event. */
    PsEvent other = event("ais", "e-1", "{}");
    ck_assert(store_append(s, &other, &dup, &error));
    ck_assert(!dup);
    ck_assert_no_error(error);

    PsStoreStats st;
    ck_assert(store_stats(s, &st, &error));
    ck_assert_int_eq(st.journal, 2);
    ck_assert_int_eq(st.duplicates, 1);
    /* The first payload stands; the duplicate did not overwrite it. */
    ck_assert_int_eq(count(s, "SELECT count(*) FROM journal WHERE payload = '{\"a\":1}'"), 1);
    store_close(s);
}
END_TEST

START_TEST(test_data_and_counters_survive_close_and_reopen)
{
    PsStore *s = open_ok();
    GError *error = NULL;
    PsEvent e[3] = {event("mqtt", "a", "1"), event("mqtt", "b", "2"), event("mqtt", "a", "3")};
    PsAppendResult r;
    ck_assert(store_append_batch(s, e, 3, &r, &error));
    ck_assert_int_eq(r.appended, 2);
    ck_assert_int_eq(r.duplicates, 1);
    ck_assert(store_dead_letter(s, "mqtt", "port/gate/g1", NULL, "not json", -1,
                                "not JSON: unexpected character 'n'", &error));
    store_close(s);

    s = open_ok();
    PsStoreStats st;
    ck_assert(store_stats(s, &st, &error));
    ck_assert_no_error(error);
    ck_assert_int_eq(st.journal, 2);
    ck_assert_int_eq(st.duplicates, 1);
    ck_assert_int_eq(st.dead_letters, 1);
    ck_assert_int_eq(count(s, "SELECT count(*) FROM dead_letter WHERE CAST(payload AS TEXT) = 'not json'"
                              " AND reason LIKE 'not JSON%' AND event_id IS NULL"),
                     1);
    store_close(s);
}
END_TEST

START_TEST(test_journal_reads_back_in_order_after_a_sequence_number)
{
    PsStore *s = open_ok();
    GError *error = NULL;
    PsEvent e[4] = {event("x", "1", "a"), event("x", "2", "b"), event("x", "3", "c"),
                    event("x", "4", "d")};
    PsAppendResult r;
    ck_assert(store_append_batch(s, e, 4, &r, &error));
    g_autoptr(GPtrArray) rows = journaltest_rows(s, r.first_seq + 1);
    ck_assert_int_eq(rows->len, 2);
    ck_assert_str_eq(((JournalTestRow *)g_ptr_array_index(rows, 0))->id, "3");
    ck_assert_str_eq(((JournalTestRow *)g_ptr_array_index(rows, 1))->id, "4");
    store_close(s);
}
END_TEST

START_TEST(test_migration_from_an_empty_file)
{
    ck_assert(g_file_set_contents(testutil_tmp_db, "", 0, NULL));
    PsStore *s = open_ok();
    ck_assert_int_eq(count(s, "PRAGMA user_version"), store_schema_version());
    ck_assert_int_eq(count(s, "SELECT count(*) FROM journal"), 0);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(store__db(s), "PRAGMA journal_mode", -1, &st, NULL);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    store_close(s);
}
END_TEST

START_TEST(test_migration_from_the_previous_schema_keeps_data)
{
    ck_assert_int_ge(store__n_migrations, 2);
    /* From version 5 (before the rules cursor of version 6): every later migration runs. */
    int previous = 5;
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(testutil_tmp_db, &db), SQLITE_OK);
    GError *error = NULL;
    ck_assert(store__migrate(db, previous, &error));
    ck_assert_no_error(error);
    ck_assert(store__exec(db,
                          "INSERT INTO journal (source, topic, event_id, ts, received_at, payload)"
                          " VALUES ('mqtt', 'port/x', 'old-1', NULL, 1, 'kept')",
                          &error));
    sqlite3_close(db);

    PsStore *s = open_ok();
    ck_assert_int_eq(count(s, "PRAGMA user_version"), store_schema_version());
    ck_assert_int_eq(count(s, "SELECT count(*) FROM journal WHERE payload = 'kept'"), 1);
    /* Version 6: what an older engine journaled it had evaluated in the same transaction. */
    ck_assert_int_eq(count(s, "SELECT value FROM counters WHERE name = 'rules_seq'"),
                     count(s, "SELECT max(seq) FROM journal"));
    /* The old row still counts as the idempotency key. */
    gboolean dup = FALSE;
    PsEvent e = event("mqtt", "old-1", "again");
    ck_assert(store_append(s, &e, &dup, &error));
    ck_assert(dup);
    store_close(s);
}
END_TEST

START_TEST(test_newer_schema_is_refused_with_a_clear_error)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(testutil_tmp_db, &db), SQLITE_OK);
    ck_assert(store__exec(db, "PRAGMA user_version = 9999", NULL));
    sqlite3_close(db);
    GError *error = NULL;
    ck_assert_ptr_null(store_open(testutil_tmp_db, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert_int_eq(error->code, STORE_ERROR_SCHEMA);
    ck_assert_msg(strstr(error->message, "9999") && strstr(error->message, testutil_tmp_db),
                  "message: %s", error->message);
    g_error_free(error);
}
END_TEST

START_TEST(test_a_file_that_is_not_a_database_is_refused)
{
    ck_assert(
        g_file_set_contents(testutil_tmp_db, "this is not sqlite, just some text\n", -1, NULL));
    GError *error = NULL;
    ck_assert_ptr_null(store_open(testutil_tmp_db, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error->message, testutil_tmp_db), "message: %s", error->message);
    g_error_free(error);
}
END_TEST

START_TEST(test_failed_batch_writes_nothing)
{
    PsStore *s = open_ok();
    PsEvent e[3] = {event("x", "1", "a"), event("x", NULL, "b"), event("x", "3", "c")};
    GError *error = NULL;
    PsAppendResult r = {.appended = 99};
    ck_assert(!store_append_batch(s, e, 3, &r, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error->message, "event 1") && strstr(error->message, "id"), "%s",
                  error->message);
    g_clear_error(&error);
    ck_assert_int_eq(r.appended, 0);
    ck_assert_int_eq(count(s, "SELECT count(*) FROM journal"), 0);
    /* The store is still usable afterwards. */
    ck_assert(store_append_batch(s, e, 1, &r, &error));
    ck_assert_int_eq(r.appended, 1);
    store_close(s);
}
END_TEST

START_TEST(test_journal_rows_cannot_be_changed_or_deleted)
{
    PsStore *s = open_ok();
    PsEvent e = event("x", "1", "a");
    ck_assert(store_append(s, &e, NULL, NULL));
    GError *error = NULL;
    ck_assert(!store__exec(store__db(s), "UPDATE journal SET payload = 'b'", &error));
    ck_assert_msg(strstr(error->message, "append-only"), "%s", error->message);
    g_clear_error(&error);
    ck_assert(!store__exec(store__db(s), "DELETE FROM journal", &error));
    g_clear_error(&error);
    ck_assert_int_eq(count(s, "SELECT count(*) FROM journal WHERE payload = 'a'"), 1);
    store_close(s);
}
END_TEST

static gboolean write_then_fail(PsStore *s, gpointer user_data, GError **error)
{
    PsEvent e = event("x", "in-txn", "a");
    ck_assert(store_append(s, &e, NULL, error)); /* joins the outer transaction */
    g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID, "changed my mind");
    return FALSE;
}

START_TEST(test_transaction_rolls_back_everything_on_failure)
{
    PsStore *s = open_ok();
    GError *error = NULL;
    ck_assert(!store_transaction(s, write_then_fail, NULL, &error));
    ck_assert_str_eq(error->message, "changed my mind");
    g_clear_error(&error);
    ck_assert_int_eq(count(s, "SELECT count(*) FROM journal"), 0);
    store_close(s);
}
END_TEST

START_TEST(test_batch_of_100000_is_visible_after_reopen)
{
    enum { N = 100000 };
    PsStore *s = open_ok();
    PsEvent *e = g_new(PsEvent, N);
    char (*ids)[16] = g_malloc(N * 16);
    for (int i = 0; i < N; i++) {
        g_snprintf(ids[i], 16, "ev-%d", i);
        e[i] = event("bench", ids[i], "{\"container\":\"CSQU3054383\",\"state\":\"sealed\"}");
    }
    GError *error = NULL;
    PsAppendResult r;
    ck_assert(store_append_batch(s, e, N, &r, &error));
    ck_assert_no_error(error);
    ck_assert_int_eq(r.appended, N);
    store_close(s);
    s = open_ok();
    ck_assert_int_eq(count(s, "SELECT count(*) FROM journal"), N);
    ck_assert_int_eq(count(s, "SELECT count(*) FROM journal WHERE event_id = 'ev-99999'"), 1);
    store_close(s);
    g_free(ids);
    g_free(e);
}
END_TEST


typedef struct {
    PsStore *store;
    const char *prefix;
    int n;
    gboolean ok;
    char *error;
} Writer;

static gboolean append_in_txn(PsStore *store, gpointer user_data, GError **error)
{
    const PsEvent *e = user_data;
    return store_append(store, e, NULL, error);
}

static gpointer writer_thread(gpointer data)
{
    Writer *w = data;
    w->ok = TRUE;
    for (int i = 0; i < w->n && w->ok; i++) {
        g_autofree char *id = g_strdup_printf("%s-%d", w->prefix, i);
        PsEvent e = event("mqtt", id, "{}");
        GError *error = NULL;
        if (!store_transaction(w->store, append_in_txn, &e, &error)) {
            w->ok = FALSE;
            w->error = g_strdup(error->message);
            g_error_free(error);
        }
    }
    return NULL;
}

START_TEST(test_shared_connections_write_from_two_threads_without_errors)
{
    enum { N = 400 };
    PsStore *s = open_ok();
    GError *error = NULL;
    ck_assert(store_set_sync(s, FALSE, &error));
    PsStore *t = store_open_shared(s, &error);
    ck_assert_no_error(error);
    ck_assert_ptr_nonnull(t);
    Writer a = {s, "a", N}, b = {t, "b", N};
    GThread *ta = g_thread_new("writer-a", writer_thread, &a);
    GThread *tb = g_thread_new("writer-b", writer_thread, &b);
    g_thread_join(ta);
    g_thread_join(tb);
    ck_assert_msg(a.ok, "%s", a.error);
    ck_assert_msg(b.ok, "%s", b.error);
    /* Both connections see every row, and seqs are unique (one journal). */
    ck_assert_int_eq(count(s, "SELECT count(*) FROM journal"), 2 * N);
    ck_assert_int_eq(count(t, "SELECT count(DISTINCT seq) FROM journal"), 2 * N);
    ck_assert_int_eq(count(t, "PRAGMA synchronous"), 1); /* NORMAL, as the first */
    /* Either may close first. */
    store_close(s);
    PsEvent e = event("mqtt", "after", "{}");
    ck_assert(store_append(t, &e, NULL, &error));
    store_close(t);
    s = open_ok();
    ck_assert_int_eq(count(s, "SELECT count(*) FROM journal"), 2 * N + 1);
    store_close(s);
}
END_TEST

START_TEST(test_an_in_memory_store_cannot_be_shared)
{
    GError *error = NULL;
    PsStore *s = store_open(":memory:", &error);
    ck_assert_no_error(error);
    ck_assert_ptr_null(store_open_shared(s, &error));
    ck_assert_msg(error && strstr(error->message, "in-memory"), "%s", error ? error->message : "");
    g_clear_error(&error);
    store_close(s);
}
END_TEST

START_TEST(test_derived_transaction_commits_and_leaves_the_connection_durable)
{
    PsStore *s = open_ok();
    GError *error = NULL;
    ck_assert_int_eq(count(s, "PRAGMA synchronous"), 2); /* FULL, the default */
    PsEvent e = event("mqtt", "derived-1", "{}");
    ck_assert(store_transaction_derived(s, append_in_txn, &e, &error));
    ck_assert_no_error(error);
    /* Only that commit skipped the fsync: the next ones are durable again. */
    ck_assert_int_eq(count(s, "PRAGMA synchronous"), 2);
    ck_assert(!store_transaction_derived(s, write_then_fail, NULL, &error));
    g_clear_error(&error);
    ck_assert_int_eq(count(s, "PRAGMA synchronous"), 2);
    store_close(s);
    s = open_ok();
    ck_assert_int_eq(count(s, "SELECT count(*) FROM journal WHERE event_id = 'derived-1'"), 1);
    store_close(s);
}
END_TEST

/* ---- dead letters: capped, and logged once per topic per minute ---- */

static guint dead_lines;
static GString *dead_text;

static GLogWriterOutput count_dead_lines(GLogLevelFlags flags, const GLogField *fields, gsize n,
                                         gpointer user_data)
{
    for (gsize i = 0; i < n; i++)
        if (strcmp(fields[i].key, "MESSAGE") == 0 &&
            g_str_has_prefix(fields[i].value, "dead letter from")) {
            dead_lines++;
            g_string_append_printf(dead_text, "%s\n", (const char *)fields[i].value);
        }
    return G_LOG_WRITER_HANDLED;
}

/* Once per process (GLib allows no more), also when Check does not fork. */
static void catch_dead_lines(void)
{
    static gboolean set;
    if (!set)
        g_log_set_writer_func(count_dead_lines, NULL, NULL);
    set = TRUE;
    dead_lines = 0;
    dead_text = g_string_new(NULL);
}

START_TEST(test_dead_letters_are_capped_oldest_dropped_and_counted)
{
    catch_dead_lines();
    PsStore *s = open_ok();
    ck_assert(store_set_sync(s, FALSE, NULL)); /* 2000 commits: quick */
    store_set_dead_letter_max(s, 1024 * 1024);
    g_autofree char *payload = g_strnfill(4000, 'x');
    GError *error = NULL;
    const guint n = 2000; /* about 8 MB offered */
    for (guint i = 0; i < n; i++) {
        g_autofree char *id = g_strdup_printf("bad-%u", i);
        ck_assert(store_dead_letter(s, "mqtt", "port/seal/S1", id, payload, -1, "not json",
                                    &error));
        ck_assert_no_error(error);
    }
    PsStoreStats st = {0};
    ck_assert(store_stats(s, &st, &error));
    fprintf(stderr, "dead letters: %" G_GINT64_FORMAT " kept (%" G_GINT64_FORMAT " bytes), %"
                    G_GINT64_FORMAT " dropped\n", st.dead_letters, st.dead_letter_bytes,
            st.dead_letters_dropped);
    ck_assert_int_le(st.dead_letter_bytes, 1024 * 1024);
    ck_assert_int_gt(st.dead_letters, 100);
    ck_assert_int_eq(st.dead_letters + st.dead_letters_dropped, n);
    /* The newest are kept, the oldest gone. */
    ck_assert_int_eq(count(s, "SELECT count(*) FROM dead_letter WHERE event_id = 'bad-1999'"), 1);
    ck_assert_int_eq(count(s, "SELECT count(*) FROM dead_letter WHERE event_id = 'bad-0'"), 0);
    ck_assert_int_eq(count(s, "SELECT sum(length(payload) + length(reason) + length(topic) +"
                              " length(event_id) + 64) FROM dead_letter"),
                     st.dead_letter_bytes);
    store_close(s);
    /* The file stays near the cap (SQLite reuses the freed pages). */
    GStatBuf sb;
    ck_assert_int_eq(g_stat(testutil_tmp_db, &sb), 0);
    fprintf(stderr, "dead letters: database file %" G_GINT64_FORMAT " bytes\n",
            (gint64)sb.st_size);
    ck_assert_int_lt(sb.st_size, 3 * 1024 * 1024);
    /* One warning line for the 2000 on one topic within a minute. */
    ck_assert_int_eq(dead_lines, 1);
    g_string_free(dead_text, TRUE);
}
END_TEST

START_TEST(test_dead_letter_warning_is_one_line_per_topic_per_minute)
{
    catch_dead_lines();
    PsStore *s = open_ok();
    ck_assert(store_set_sync(s, FALSE, NULL));
    GError *error = NULL;
    for (guint i = 0; i < 300; i++)
        ck_assert(store_dead_letter(s, "mqtt", i % 3 == 0 ? "port/gate/g9" : "port/seal/S9",
                                    "x\nportsight: 10:00:00.000 info rules: release approved",
                                    "{", -1, "not json", &error));
    ck_assert_no_error(error);
    ck_assert_int_eq(dead_lines, 2);
    ck_assert_int_eq(count(s, "SELECT count(*) FROM dead_letter"), 300);
    store_close(s);
    g_string_free(dead_text, TRUE);
}
END_TEST

static guint mode_of(const char *path, const char *suffix)
{
    g_autofree char *p = g_strconcat(path, suffix, NULL);
    GStatBuf st;
    ck_assert_msg(g_stat(p, &st) == 0, "%s: %s", p, g_strerror(errno));
    return st.st_mode & 0777;
}

START_TEST(test_database_wal_and_shm_are_readable_by_the_owner_only)
{
    umask(022); /* what a service without UMask= gets */
    PsStore *s = open_ok();
    PsEvent e = event("mqtt", "perm-1", "{}");
    GError *error = NULL;
    ck_assert(store_append(s, &e, NULL, &error));
    ck_assert_int_eq(mode_of(testutil_tmp_db, ""), 0600);
    ck_assert_int_eq(mode_of(testutil_tmp_db, "-wal"), 0600);
    ck_assert_int_eq(mode_of(testutil_tmp_db, "-shm"), 0600);
    store_close(s);
    /* An existing database every local user may read loses the others' permissions. */
    ck_assert_int_eq(g_chmod(testutil_tmp_db, 0644), 0);
    s = open_ok();
    ck_assert_int_eq(mode_of(testutil_tmp_db, ""), 0640);
    store_close(s);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_duplicate_source_id_is_ignored_and_counted},
    {&test_data_and_counters_survive_close_and_reopen},
    {&test_journal_reads_back_in_order_after_a_sequence_number},
    {&test_migration_from_an_empty_file},
    {&test_migration_from_the_previous_schema_keeps_data},
    {&test_newer_schema_is_refused_with_a_clear_error},
    {&test_a_file_that_is_not_a_database_is_refused},
    {&test_failed_batch_writes_nothing},
    {&test_journal_rows_cannot_be_changed_or_deleted},
    {&test_shared_connections_write_from_two_threads_without_errors},
    {&test_an_in_memory_store_cannot_be_shared},
    {&test_derived_transaction_commits_and_leaves_the_connection_durable},
    {&test_dead_letters_are_capped_oldest_dropped_and_counted},
    {&test_database_wal_and_shm_are_readable_by_the_owner_only},
    {&test_dead_letter_warning_is_one_line_per_topic_per_minute},
    {&test_transaction_rolls_back_everything_on_failure},
    {&test_batch_of_100000_is_visible_after_reopen},
};

TESTUTIL_MAIN("store", "journal", 60, TESTUTIL_TESTS(tests), testutil_tmp_setup,
              testutil_tmp_teardown)
