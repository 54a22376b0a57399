/* journaltest.h: the store's journal read back for the tests (tests/store, tests/rules). */
#pragma once

#include <glib.h>

#include "store.h"

/* One journaled event as read back, its strings owned by the array journaltest_rows() gives. */
typedef struct {
    gint64 seq;
    char *source;
    char *topic;
    char *id;
    char *payload;
    gsize payload_len;
} JournalTestRow;

/* The journal rows of @store with seq > @after_seq, in journal order: fails the test when the
 * journal cannot be read or a row's seq is not above the one before it. */
GPtrArray *journaltest_rows(PsStore *store, gint64 after_seq);
