/* daemon_ais.c: the AIS chain and its daemon component ([ais] in the configuration). */
#include "daemon-ais.h"

#include <string.h>

#include "ais.h"
#include "app.h"

#define EXPIRE_EVERY 600 /* seconds of message time between registry expiry passes */
#define LOUD_REJECTS 10  /* rejected sentences logged as warnings; the rest at debug level */

struct AppAis {
    PsPortList *ports;
    PsVessels *vessels;
    PsAisDecoder *decoder;
    PsAisFeed *feed;
    char *feed_url;
    AppAisStats stats;
    gint64 last_expire;
    guint flush_source;
    PsAisDoneFunc done;
    gpointer done_data;
};

char *app_ais_ports_path(void)
{
    return app_datadir_find("ports/ports.csv", G_FILE_TEST_IS_REGULAR);
}

AppAis *app_ais_new(const PsVesselsConfig *config, const char *ports_path, PsStore *store,
                    GError **error)
{
    g_autofree char *shipped = ports_path ? NULL : app_ais_ports_path();
    if (!ports_path && !shipped) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                    "the shipped port list (data/ports/ports.csv) is not installed; give one "
                    "with [ais] ports or set PORTSIGHT_DATADIR");
        return NULL;
    }
    AppAis *a = g_new0(AppAis, 1);
    a->ports = portcalls_ports_load(ports_path ? ports_path : shipped, error);
    if (!a->ports)
        goto fail;
    a->vessels = vessels_new(config, a->ports, store, error);
    if (!a->vessels)
        goto fail;
    a->decoder = ais_decoder_new(NULL);
    return a;

fail:
    app_ais_free(a);
    return NULL;
}

void app_ais_line(const char *line, gsize len, gpointer user_data)
{
    AppAis *a = user_data;
    a->stats.lines++;
    const AisMessage *msgs = NULL;
    guint n = 0;
    g_autoptr(GError) error = NULL;
    if (!ais_decoder_feed(a->decoder, line, len, g_get_monotonic_time(), &msgs, &n, &error)) {
        if (++a->stats.rejected <= LOUD_REJECTS)
            g_warning("AIS %s: line %" G_GUINT64_FORMAT ": %s%s", a->feed_url ? a->feed_url : "",
                      a->stats.lines, error->message,
                      a->stats.rejected == LOUD_REJECTS ? " (further ones at debug level)" : "");
        else
            g_debug("AIS %s: line %" G_GUINT64_FORMAT ": %s", a->feed_url ? a->feed_url : "",
                    a->stats.lines, error->message);
        return;
    }
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    for (guint i = 0; i < n; i++) {
        const AisMessage *m = &msgs[i];
        a->stats.messages++;
        gint64 t = m->tag.present && m->tag.time >= 0 ? m->tag.time : now;
        a->stats.clock = MAX(a->stats.clock, t);
        if (!vessels_feed_message(a->vessels, m, now, &error)) {
            g_warning("AIS: the store failed: %s", error->message);
            g_clear_error(&error);
        }
    }
    /* Expiry runs on message time, so a replay expires vessels as the live feed did. */
    if (a->stats.clock - a->last_expire >= EXPIRE_EVERY) {
        if (a->last_expire != 0) {
            vessels_expire(a->vessels, a->stats.clock, &error);
            if (error)
                g_warning("AIS: expiry: %s", error->message);
        }
        a->last_expire = a->stats.clock;
    }
}

static void on_feed_done(gpointer user_data)
{
    AppAis *a = user_data;
    if (a->done)
        a->done(a->done_data);
}

gboolean app_ais_start_feed(AppAis *a, const char *url, const PsAisFeedOptions *options,
                            PsAisDoneFunc done, gpointer user_data, GError **error)
{
    g_return_val_if_fail(a->feed == NULL, FALSE);
    a->done = done;
    a->done_data = user_data;
    a->feed = aisfeed_new(url, options, app_ais_line, on_feed_done, a, error);
    if (!a->feed)
        return FALSE;
    g_free(a->feed_url);
    a->feed_url = g_strdup(url);
    return aisfeed_start(a->feed, error);
}

PsVessels *app_ais_vessels(AppAis *a)
{
    return a->vessels;
}

void app_ais_get_stats(AppAis *a, AppAisStats *stats)
{
    *stats = a->stats;
}

void app_ais_free(AppAis *a)
{
    if (!a)
        return;
    if (a->flush_source)
        g_source_remove(a->flush_source);
    aisfeed_free(a->feed);
    vessels_free(a->vessels); /* writes what is buffered */
    ais_decoder_free(a->decoder);
    portcalls_ports_free(a->ports);
    g_free(a->feed_url);
    g_free(a);
}

/* ---- the daemon component ---- */

static gboolean on_flush(gpointer user_data)
{
    AppAis *a = user_data;
    g_autoptr(GError) error = NULL;
    if (!vessels_flush(a->vessels, &error))
        g_warning("AIS: writing tracks: %s", error->message);
    return G_SOURCE_CONTINUE;
}

gboolean app_ais_start(AppDaemon *d, gpointer *state, GError **error)
{
    AppConfig *c = d->config;
    if (!app_config_has_group(c, "ais"))
        return TRUE;
    PsVesselsConfig vc;
    vessels_config_init(&vc);
    vc.calls.radius_km = app_config_double(c, "ais", "port_radius_km");
    vc.calls.stop_kn = app_config_double(c, "ais", "stop_speed_kn");
    vc.calls.go_kn = app_config_double(c, "ais", "go_speed_kn");
    if (vc.calls.go_kn < vc.calls.stop_kn) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "[ais] go_speed_kn (%g) is below stop_speed_kn (%g)", vc.calls.go_kn,
                    vc.calls.stop_kn);
        return FALSE;
    }
    vc.track_interval = app_config_int(c, "ais", "track_interval");
    vc.track_course_deg = app_config_double(c, "ais", "track_course_deg");
    vc.track_speed_kn = app_config_double(c, "ais", "track_speed_kn");
    vc.track_days = app_config_int(c, "ais", "track_days");
    vc.vessel_expiry = app_config_int(c, "ais", "vessel_expiry");
    vc.risk_days = app_config_int(c, "ais", "risk_days");
    const char *risky = app_config_string(c, "ais", "high_risk_ports");
    g_auto(GStrv) list = g_strsplit_set(risky ? risky : "", ",;", -1);
    GPtrArray *entries = g_ptr_array_new();
    for (int i = 0; list[i]; i++)
        if (*g_strstrip(list[i]))
            g_ptr_array_add(entries, list[i]);
    g_ptr_array_add(entries, NULL);
    vc.high_risk = (const char *const *)entries->pdata;
    if (app_config_has_group(c, "mqtt"))
        vc.topic_root = app_config_string(c, "mqtt", "topic_root");

    GError *local = NULL;
    AppAis *a = app_ais_new(&vc, app_config_string(c, "ais", "ports"), d->store, &local);
    g_ptr_array_free(entries, TRUE);
    if (!a) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "[ais] %s",
                    local->message);
        g_error_free(local);
        return FALSE;
    }
    PsAisFeedOptions fo = {
        .max_line = app_config_int(c, "ais", "max_line"),
        .recorded_pace = g_strcmp0(app_config_string(c, "ais", "replay"), "recorded") == 0,
        .speed = app_config_double(c, "ais", "replay_speed"),
    };
    const char *url = app_config_string(c, "ais", "feed");
    if (!app_ais_start_feed(a, url, &fo, NULL, NULL, &local)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "[ais] feed: %s",
                    local->message);
        g_error_free(local);
        app_ais_free(a);
        return FALSE;
    }
    a->flush_source = g_timeout_add_seconds(1, on_flush, a);
    g_info("AIS: feed %s, %u ports", url, portcalls_ports_count(a->ports));
    d->vessels = a->vessels; /* the wall shows them */
    *state = a;
    return TRUE;
}

void app_ais_stop(AppDaemon *d, gpointer state)
{
    AppAis *a = state;
    if (!a)
        return;
    d->vessels = NULL;
    g_info("AIS: %" G_GUINT64_FORMAT " lines, %" G_GUINT64_FORMAT " messages, %" G_GUINT64_FORMAT
           " rejected",
           a->stats.lines, a->stats.messages, a->stats.rejected);
    app_ais_free(a);
}
