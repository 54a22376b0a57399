/* daemon_video.c: the video component: AppVideo plus the journal and outbox around it. */
#include "daemon-video.h"

#include <string.h>

#include "ais.h"
#include "daemon-node.h"
#include "overlay.h"
#include "store-outbox.h"
#include "topics.h"
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
    gint64 history_seq; /* the journal evaluated before the start: not redone (selections) */
    guint follow;
    GHashTable *trails; /* mmsi -> GArray of double (lat, lon pairs): the wall's recent track */
    guint64 vessels_synced; /* the registry's change count at the last sync */
} VideoComponent;

typedef struct {
    const char *topic, *id, *payload;
    PsRules *rules;
} Emitted;

/* One transaction: the read is published (outbox) and goes through the rules, which journal
 * it (source "ocr": "seen in the yard") and decide at once. The rules run last, so nothing
 * can fail after they have updated their state but the commit itself. */
static gboolean write_ocr(PsStore *store, gpointer data, GError **error)
{
    const Emitted *e = data;
    RulesIngestResult r = {0};
    if (!store_outbox_add(store, e->topic, e->id, e->payload, error) ||
        !rules_ingest_from(e->rules, "ocr", e->topic, e->payload, -1, &r, error))
        return FALSE;
    if (r.outcome == RULES_REJECTED)
        g_warning("%s %s: own read rejected: %s", e->topic, e->id, r.reason);
    rules_ingest_result_clear(&r);
    return TRUE;
}

static void on_event(const char *topic, const char *id, const char *payload, gpointer data)
{
    VideoComponent *vc = data;
    GError *error = NULL;
    Emitted e = {topic, id, payload, vc->daemon->rules};
    const char *root = app_config_string(vc->daemon->config, "mqtt", "topic_root");
    NodeRole role = app_node_role(vc->daemon->config);
    if (role == NODE_ROLE_WALL) {
        /* A wall node shows other nodes' cameras: their health is theirs to say. */
        g_info("%s: %s (not published by a wall node)", topic, payload);
        return;
    }
    if (topics_input(topics_rest(root, topic), NULL) == TOPICS_IN_OCR &&
        node_role_runs(role, NODE_PART_RULES_ON_READS)) {
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

/* A journal row the rules have evaluated: its facts for the overlay, and the verdict now on
 * each container it names. Rows the rules have not reached yet wait for the next round. */
static gboolean on_row(const PsJournalRow *row, gpointer data)
{
    VideoComponent *vc = data;
    PsRules *rules = vc->daemon->rules;
    if (rules && row->seq > rules_cursor(rules))
        return FALSE;
    vc->after_seq = row->seq;
    app_video_set_replaying(vc->video, row->seq <= vc->history_seq);
    GError *error = NULL;
    if (row->topic && !app_video_apply(vc->video, row->topic, row->payload, row->payload_len,
                                       &error)) {
        g_warning("video: journal row %" G_GINT64_FORMAT " (%s): %s", row->seq, row->topic,
                  error->message);
        g_error_free(error);
    }
    const char *rest = topics_rest(app_config_string(vc->daemon->config, "mqtt", "topic_root"),
                                   row->topic);
    if (!rules || !rest)
        return TRUE;
    g_auto(GStrv) named = rules_input_containers(rest, row->payload, (gssize)row->payload_len);
    for (guint i = 0; named[i]; i++) {
        RulesVerdict v;
        if (rules_verdict(rules, named[i], &v))
            app_video_show_verdict(app_video_scene(vc->video), named[i], &v);
        rules_verdict_clear(&v);
    }
    return TRUE;
}

/* Copies the AIS registry's vessels into the wall's scene, each with the trail of positions
 * seen since the component started (at most PS_SCENE_TRACK_MAX points). Vessels that left the
 * registry leave the scene. */
typedef struct {
    VideoComponent *vc;
    PsScene *scene;
    GHashTable *seen;
} VesselSync;

static void sync_vessel(const PsVesselInfo *info, gpointer data)
{
    VesselSync *vs = data;
    if (!info->has_position)
        return;
    gpointer key = GUINT_TO_POINTER(info->mmsi);
    g_hash_table_add(vs->seen, key);
    GArray *trail = g_hash_table_lookup(vs->vc->trails, key); /* lat, lon, lat, lon, ... */
    if (!trail) {
        trail = g_array_new(FALSE, FALSE, sizeof(double));
        g_hash_table_insert(vs->vc->trails, key, trail);
    }
    guint n = trail->len / 2;
    const double *pts = (const double *)trail->data;
    if (n == 0 || pts[2 * n - 2] != info->lat || pts[2 * n - 1] != info->lon) {
        if (n >= PS_SCENE_TRACK_MAX)
            g_array_remove_range(trail, 0, 2);
        double p[2] = {info->lat, info->lon};
        g_array_append_vals(trail, p, 2);
    }
    PsSceneVessel v = {
        .mmsi = info->mmsi,
        .name = info->name,
        .type = ais_ship_type_text(info->ship_type),
        .lat = info->lat,
        .lon = info->lon,
        .sog_kn = info->sog,
        .cog_deg = info->cog,
        .track = (const double(*)[2])trail->data,
        .track_len = trail->len / 2,
    };
    overlay_scene_put_vessel(vs->scene, &v);
}

static void sync_vessels(VideoComponent *vc)
{
    PsVessels *vessels = vc->daemon->vessels;
    if (!vessels)
        return;
    /* Nothing to redraw while no report has been applied and no vessel has expired. */
    PsVesselsStats st;
    vessels_get_stats(vessels, &st);
    guint64 changes = st.fixes + st.statics + st.expired;
    if (changes == vc->vessels_synced)
        return;
    vc->vessels_synced = changes;
    VesselSync vs = {vc, app_video_scene(vc->video), g_hash_table_new(NULL, NULL)};
    vessels_foreach(vessels, sync_vessel, &vs);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, vc->trails);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!g_hash_table_contains(vs.seen, key)) {
            overlay_scene_remove_vessel(vs.scene, GPOINTER_TO_UINT(key));
            g_hash_table_iter_remove(&it);
        }
    }
    g_hash_table_destroy(vs.seen);
}

static gboolean follow(gpointer data)
{
    VideoComponent *vc = data;
    sync_vessels(vc);
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
    vc->trails = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_array_unref);
    vc->history_seq = daemon->rules ? rules_cursor(daemon->rules) : 0;
    vc->video = app_video_new(daemon->config, on_event, vc, error);
    if (!vc->video || !app_video_start(vc->video, error)) {
        app_video_free(vc->video);
        g_hash_table_destroy(vc->trails);
        g_free(vc);
        return FALSE;
    }
    if (app_video_cameras(vc->video) > 0 || app_video_wall(vc->video)) {
        follow(vc);
        vc->follow = g_timeout_add(FOLLOW_MS, follow, vc);
    }
    daemon->video = vc->video;
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
    daemon->video = NULL;
    app_video_stop(vc->video);
    app_video_free(vc->video);
    g_hash_table_destroy(vc->trails);
    g_free(vc);
}
