#include "journaltest.h"

#include "testutil.h"

static void row_free(gpointer p)
{
    JournalTestRow *row = p;
    g_free(row->source);
    g_free(row->topic);
    g_free(row->id);
    g_free(row->payload);
    g_free(row);
}

static gboolean keep_row(const PsJournalRow *row, gpointer user_data)
{
    GPtrArray *rows = user_data;
    gint64 last_seq = rows->len ? ((JournalTestRow *)rows->pdata[rows->len - 1])->seq : 0;
    ck_assert_int_gt(row->seq, last_seq);
    JournalTestRow *copy = g_new(JournalTestRow, 1);
    *copy = (JournalTestRow){.seq = row->seq,
                             .source = g_strdup(row->source),
                             .topic = g_strdup(row->topic),
                             .id = g_strdup(row->id),
                             .payload = g_strndup(row->payload, row->payload_len),
                             .payload_len = row->payload_len};
    g_ptr_array_add(rows, copy);
    return TRUE;
}

GPtrArray *journaltest_rows(PsStore *store, gint64 after_seq)
{
    GPtrArray *rows = g_ptr_array_new_with_free_func(row_free);
    GError *error = NULL;
    ck_assert(store_journal_foreach(store, after_seq, keep_row, rows, &error));
    ck_assert_no_error(error);
    return rows;
}
