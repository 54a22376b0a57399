/* daemon_decl.c: the declarations component of `portsight run`: [declarations] pulled from the
 * customs service (ingest/decl/pull.h), each row validated and journaled like `db import`
 * (source "declarations") and run through the rules. */
#define G_LOG_DOMAIN "declarations"

#include <gio/gio.h>
#include <string.h>

#include "daemon-decl.h"
#include "decl.h"
#include "pull.h"
#include "topics.h"

typedef struct {
    AppDaemon *daemon;
    DeclPull *pull;
    DeclFormat format;
    char *topic;
    guint rows, bad;
    GString *text_error; /* the body is not what its format says */
} DeclComponent;

static gboolean on_row(const char *payload, int line, gpointer user_data, GError **error)
{
    DeclComponent *dc = user_data;
    RulesIngestResult res;
    if (!rules_ingest_from(dc->daemon->rules, "declarations", dc->topic, payload, -1, &res,
                           error))
        return FALSE;
    if (res.outcome == RULES_REJECTED) {
        g_warning("row %d: %s", line, res.reason);
        dc->bad++;
    }
    dc->rows++;
    rules_ingest_result_clear(&res);
    return TRUE;
}

static void on_bad(DeclBad kind, int line, const char *reason, gpointer user_data)
{
    DeclComponent *dc = user_data;
    if (kind == DECL_BAD_ROW) {
        g_warning("row %d: %s", line, reason);
        dc->bad++;
    } else {
        g_string_append(dc->text_error, reason);
    }
}

typedef struct {
    DeclComponent *dc;
    const char *body;
    gsize len;
} Body;

static gboolean ingest_txn(PsStore *store, gpointer user_data, GError **error)
{
    Body *b = user_data;
    g_autofree char *ts = topics_now();
    DeclSink sink = {on_row, on_bad, b->dc, ts};
    DeclFormat f = decl_format(b->dc->format, NULL, b->body);
    return decl_read(b->body, b->len, f, &sink, NULL, error);
}

/* One 200 answer: all its rows in one transaction (all or, on a store error, none). */
static gboolean on_body(const char *body, gsize len, gpointer user_data, GError **error)
{
    DeclComponent *dc = user_data;
    if (!g_utf8_validate_len(body, len, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not UTF-8 text");
        return FALSE;
    }
    g_string_truncate(dc->text_error, 0);
    dc->rows = dc->bad = 0;
    Body b = {dc, body, len};
    if (!store_transaction(dc->daemon->store, ingest_txn, &b, error))
        return FALSE;
    if (dc->text_error->len) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", dc->text_error->str);
        return FALSE;
    }
    g_info("%u rows, %u bad", dc->rows, dc->bad);
    return TRUE;
}

gboolean app_decl_start(AppDaemon *d, gpointer *state, GError **error)
{
    if (!app_config_has_group(d->config, "declarations"))
        return TRUE;
    DeclComponent *dc = g_new0(DeclComponent, 1);
    dc->daemon = d;
    const char *fmt = app_config_string(d->config, "declarations", "format");
    dc->format = g_strcmp0(fmt, "json") == 0  ? DECL_FORMAT_JSON
                 : g_strcmp0(fmt, "csv") == 0 ? DECL_FORMAT_CSV
                                              : DECL_FORMAT_AUTO;
    dc->topic = g_strdup_printf("%s/customs/status",
                                topics_root(app_config_string(d->config, "mqtt", "topic_root")));
    dc->text_error = g_string_new(NULL);
    DeclPullOptions o = {
        .url = app_config_string(d->config, "declarations", "url"),
        .auth_header = app_config_string(d->config, "declarations", "auth_header"),
        .interval = app_config_double(d->config, "declarations", "interval"),
        .timeout = app_config_double(d->config, "declarations", "timeout"),
    };
    dc->pull = decl_pull_new(&o, on_body, dc, error);
    if (!dc->pull) {
        g_prefix_error(error, "[declarations] ");
        app_decl_stop(d, dc);
        return FALSE;
    }
    *state = dc;
    return TRUE;
}

void app_decl_stop(AppDaemon *d, gpointer state)
{
    DeclComponent *dc = state;
    if (!dc)
        return;
    decl_pull_free(dc->pull);
    g_string_free(dc->text_error, TRUE);
    g_free(dc->topic);
    g_free(dc);
}
