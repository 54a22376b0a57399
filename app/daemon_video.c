/* daemon_video.c: the video component: AppVideo plus the journal and outbox around it. */
#include "daemon-video.h"

#include <string.h>

#include "store-outbox.h"
#include "video.h"

#define FOLLOW_MS 200

#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds only. GLib leaks its first quark table on purpose (readers use it without a
 * lock) once GStreamer has made more than 2048 quarks; glib has no frame pointers, so with
 * ASan's fast unwinder that allocation's stack ends at g_malloc and the narrow suppression in
 * tests/lsan.supp (_dl_init) cannot match. Full unwinding lets it match; our own leaks are still
 * reported. ASAN_OPTIONS in the environment still wins. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
#endif

typedef struct {
    AppDaemon *daemon;
    AppVideo *video;
    gint64 after_seq;
    guint follow;
} VideoComponent;

typedef struct {
    const char *topic, *id, *payload;
} Emitted;

static gboolean write_ocr(PsStore *store, gpointer data, GError **error)
{
    const Emitted *e = data;
    PsEvent ev = {"ocr", e->topic, e->id, NULL, 0, e->payload, -1};
    return store_append(store, &ev, NULL, error) &&
           store_outbox_add(store, e->topic, e->id, e->payload, error);
}

static void on_event(const char *topic, const char *id, const char *payload, gpointer data)
{
    VideoComponent *vc = data;
    GError *error = NULL;
    Emitted e = {topic, id, payload};
    if (g_str_has_prefix(topic, "port/ocr/")) {
        g_info("%s: %s", topic, payload);
        if (!store_transaction(vc->daemon->store, write_ocr, &e, &error))
            g_warning("%s: not journaled: %s", topic, error->message);
    } else {
        g_info("%s: %s", topic, payload);
        if (!store_outbox_add(vc->daemon->store, topic, id, payload, &error))
            g_warning("%s: not queued: %s", topic, error->message);
    }
    g_clear_error(&error);
}

static gboolean on_row(const PsJournalRow *row, gpointer data)
{
    VideoComponent *vc = data;
    vc->after_seq = row->seq;
    GError *error = NULL;
    if (row->topic && !app_video_apply(vc->video, row->topic, row->payload, row->payload_len,
                                       &error)) {
        g_warning("video: journal row %" G_GINT64_FORMAT " (%s): %s", row->seq, row->topic,
                  error->message);
        g_error_free(error);
    }
    return TRUE;
}

static gboolean follow(gpointer data)
{
    VideoComponent *vc = data;
    GError *error = NULL;
    if (!store_journal_foreach(vc->daemon->store, vc->after_seq, on_row, vc, &error)) {
        g_warning("video: reading the journal: %s", error->message);
        g_error_free(error);
    }
    return G_SOURCE_CONTINUE;
}

gboolean app_video_start_component(AppDaemon *daemon, gpointer *state, GError **error)
{
    VideoComponent *vc = g_new0(VideoComponent, 1);
    vc->daemon = daemon;
    vc->video = app_video_new(daemon->config, on_event, vc, error);
    if (!vc->video || !app_video_start(vc->video, error)) {
        app_video_free(vc->video);
        g_free(vc);
        return FALSE;
    }
    if (app_video_cameras(vc->video) > 0) {
        follow(vc);
        vc->follow = g_timeout_add(FOLLOW_MS, follow, vc);
    }
    *state = vc;
    return TRUE;
}

void app_video_stop_component(AppDaemon *daemon, gpointer state)
{
    VideoComponent *vc = state;
    if (!vc)
        return;
    if (vc->follow)
        g_source_remove(vc->follow);
    app_video_stop(vc->video);
    app_video_free(vc->video);
    g_free(vc);
}
