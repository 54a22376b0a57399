/* store-outbox.h: the outbox, what the engine has decided to tell the world, and the delivery
 * state of each message at each destination.
 *
 * A module that makes a decision calls store_outbox_add() inside the transaction that records
 * the decision (store_transaction()), so a decision and its message exist together or not at
 * all. The relay (publish/) then delivers every row to every destination at least once:
 *
 *  - "mqtt" always exists (schema version 5 creates it): every outbox row ever added has a
 *    delivery row for it, so nothing is lost when no relay is running yet.
 *  - "webhook NAME" destinations are registered by the relay from the configuration. A new
 *    destination receives the rows added after it was registered, not the whole history, and
 *    of those only the topics it takes (store_outbox_set_topics). A destination its endpoint
 *    disabled (HTTP 410) keeps receiving delivery rows; they wait until it is enabled again.
 *
 * Delivery rows are marked delivered, never deleted: the outbox and its deliveries are the audit
 * trail of what was sent where and when. Times are microseconds since the Unix epoch.
 *
 * Like the rest of the store, these functions are for the thread that owns the PsStore. */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

#define STORE_OUTBOX_MQTT "mqtt"

/* Adds one message for delivery to every active, enabled destination. Joins the caller's
 * transaction when there is one (that is the point). @msg_id is the consumer's idempotency key
 * and unique in the outbox: adding a @msg_id that is already there changes nothing and is not
 * an error. Strings are borrowed. Returns FALSE only on error (STORE_ERROR_INVALID when an
 * argument is missing). */
gboolean store_outbox_add(PsStore *store, const char *topic, const char *msg_id,
                          const char *payload, GError **error);

/* One message due at one destination. Owned by the caller: free with store_outbox_item_free. */
typedef struct {
    gint64 seq;          /* outbox row: the key for mark_delivered / mark_failed */
    char *msg_id;
    char *topic;
    char *payload;
    gint64 created_at;
    gint attempts;       /* failed attempts so far */
    gint64 next_attempt_at; /* store_outbox_oldest() only; 0 elsewhere */
} PsOutboxItem;

void store_outbox_item_free(PsOutboxItem *item); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PsOutboxItem, store_outbox_item_free)

/* Makes sure destination @name exists and receives new messages. @url is what it points at
 * (NULL for mqtt); when it differs from the stored one, a destination disabled by its endpoint
 * (HTTP 410) is enabled again: a new address is a new chance. *@disabled (may be NULL) says
 * whether it stays disabled, *@reason (may be NULL; free with g_free) why. */
gboolean store_outbox_register(PsStore *store, const char *name, const char *url,
                               gboolean *disabled, char **reason, GError **error);

/* Makes every destination other than "mqtt" and those in @names (NULL-terminated, may be NULL)
 * inactive: it gets no new messages; what it had pending stays pending until it is registered
 * again. */
gboolean store_outbox_retire_others(PsStore *store, const char *const *names, GError **error);

/* Appends to @out (a GPtrArray with store_outbox_item_free as its free function) up to @limit
 * messages pending at @destination whose next attempt is due at or before @now and whose seq is
 * above @after_seq (0 for all), in order of next attempt, then seq. */
gboolean store_outbox_due(PsStore *store, const char *destination, gint64 now, gint64 after_seq,
                          guint limit, GPtrArray *out, GError **error);

/* The oldest message (by seq) not yet delivered at @destination, due or not, in *@item (NULL
 * when none; free with store_outbox_item_free): for destinations delivered strictly in order. */
gboolean store_outbox_oldest(PsStore *store, const char *destination, PsOutboxItem **item,
                             GError **error);

/* The time of the earliest pending attempt at @destination in *@when, or -1 when nothing is
 * pending. */
gboolean store_outbox_next_due(PsStore *store, const char *destination, gint64 *when,
                               GError **error);

/* Records that message @seq reached @destination at time @when. Marking twice keeps the first
 * time. */
gboolean store_outbox_mark_delivered(PsStore *store, const char *destination, gint64 seq,
                                     gint64 when, GError **error);

/* Failed attempts so far of message @seq at @destination (0 when there is no such row). */
gboolean store_outbox_attempts(PsStore *store, const char *destination, gint64 seq, int *attempts,
                               GError **error);

/* Records a failed attempt: one more attempt, @reason as the last error, and the next attempt
 * not before @next_attempt_at. */
gboolean store_outbox_mark_failed(PsStore *store, const char *destination, gint64 seq,
                                  gint64 next_attempt_at, const char *reason, GError **error);

/* Disables @destination for good (until its URL changes, see store_outbox_register): its
 * pending rows stay pending, it gets no new ones. */
gboolean store_outbox_disable(PsStore *store, const char *destination, const char *reason,
                              GError **error);

/* Enables @destination again after its endpoint disabled it (`portsight webhook enable NAME`):
 * what was queued for it meanwhile is delivered, in order. *@found (may be NULL): whether
 * such a destination exists. */
gboolean store_outbox_enable(PsStore *store, const char *destination, gboolean *found,
                             GError **error);

/* Whether @destination is disabled now (FALSE when there is no such destination). */
gboolean store_outbox_disabled(PsStore *store, const char *destination, gboolean *disabled,
                               GError **error);

/* The messages @destination takes from now on: MQTT-style topic filters ('+', a final '#'),
 * comma-separated ("port/release/+,port/hold/+"); NULL takes every message. */
gboolean store_outbox_set_topics(PsStore *store, const char *destination, const char *filters,
                                 GError **error);

/* Whether @topic matches one of @filters (as store_outbox_set_topics; NULL matches all). */
gboolean store_outbox_topic_matches(const char *filters, const char *topic);

/* Counts for tests, status and benchmarks. @destination NULL counts outbox rows only. */
typedef struct {
    gint64 messages;  /* rows in the outbox */
    gint64 pending;   /* at @destination, not yet delivered */
    gint64 delivered; /* at @destination */
    gint64 failed_attempts; /* at @destination, summed over its rows */
} PsOutboxStats;

gboolean store_outbox_stats(PsStore *store, const char *destination, PsOutboxStats *stats,
                            GError **error);

G_END_DECLS
