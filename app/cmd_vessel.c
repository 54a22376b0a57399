/* cmd_vessel.c: `portsight vessel calls NAME [--days N]`: the ports a vessel stopped at. */
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "app.h"
#include "config.h"
#include "store-ais.h"
#include "store.h"

#define DAY 86400
#define MAX_DAYS 36500

typedef struct {
    char *arrived, *departed; /* RFC 3339 UTC; departed NULL while in port */
    char *port, *country;
} Call;

typedef struct {
    guint mmsi;
    char *name;
    GPtrArray *calls; /* Call* */
} Vessel;

static void call_free(gpointer p)
{
    Call *c = p;
    g_free(c->arrived);
    g_free(c->departed);
    g_free(c->port);
    g_free(c->country);
    g_free(c);
}

static void vessel_clear(gpointer p)
{
    Vessel *v = p;
    g_free(v->name);
    g_ptr_array_unref(v->calls);
}

static char *rfc3339(gint64 t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
}

static gboolean collect(const PsAisCallRow *row, gpointer user_data)
{
    Call *c = g_new0(Call, 1);
    c->arrived = rfc3339(row->arrival);
    c->departed = row->departure ? rfc3339(row->departure) : NULL;
    c->port = g_strdup(row->port);
    c->country = g_strdup(row->country);
    g_ptr_array_add(user_data, c);
    return TRUE;
}

static gboolean parse_time(const char *s, gint64 *out)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(s, NULL);
    if (!dt)
        return FALSE;
    *out = g_date_time_to_unix(dt);
    return TRUE;
}

/* An MMSI is 9 digits (fewer are accepted: a leading zero is dropped by some feeds). */
static gboolean parse_mmsi(const char *s, guint *mmsi)
{
    gsize n = strlen(s);
    if (n == 0 || n > 9 || strspn(s, "0123456789") != n)
        return FALSE;
    *mmsi = (guint)g_ascii_strtoull(s, NULL, 10);
    return TRUE;
}

static void print_table(GArray *vessels, int days)
{
    for (guint i = 0; i < vessels->len; i++) {
        Vessel *v = &g_array_index(vessels, Vessel, i);
        printf("%s%s (MMSI %09u): %u port call%s in the last %d day%s\n", i ? "\n" : "",
               v->name ? v->name : "(no name)", v->mmsi, v->calls->len,
               v->calls->len == 1 ? "" : "s", days, days == 1 ? "" : "s");
        if (v->calls->len == 0)
            continue;
        int w = 4;
        for (guint j = 0; j < v->calls->len; j++)
            w = MAX(w, (int)strlen(((Call *)g_ptr_array_index(v->calls, j))->port));
        printf("  %-*s  %-7s  %-20s  %s\n", w, "PORT", "COUNTRY", "ARRIVAL", "DEPARTURE");
        for (guint j = 0; j < v->calls->len; j++) {
            Call *c = g_ptr_array_index(v->calls, j);
            printf("  %-*s  %-7s  %-20s  %s\n", w, c->port, *c->country ? c->country : "-",
                   c->arrived, c->departed ? c->departed : "(in port)");
        }
    }
}

static void print_json(GArray *vessels, const char *query, int days, gint64 since, gint64 until)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "query");
    json_builder_add_string_value(b, query);
    json_builder_set_member_name(b, "days");
    json_builder_add_int_value(b, days);
    g_autofree char *s = rfc3339(since), *u = rfc3339(until);
    json_builder_set_member_name(b, "since");
    json_builder_add_string_value(b, s);
    json_builder_set_member_name(b, "until");
    json_builder_add_string_value(b, u);
    json_builder_set_member_name(b, "vessels");
    json_builder_begin_array(b);
    for (guint i = 0; i < vessels->len; i++) {
        Vessel *v = &g_array_index(vessels, Vessel, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "mmsi");
        json_builder_add_int_value(b, v->mmsi);
        json_builder_set_member_name(b, "name");
        if (v->name)
            json_builder_add_string_value(b, v->name);
        else
            json_builder_add_null_value(b);
        json_builder_set_member_name(b, "calls");
        json_builder_begin_array(b);
        for (guint j = 0; j < v->calls->len; j++) {
            Call *c = g_ptr_array_index(v->calls, j);
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "port");
            json_builder_add_string_value(b, c->port);
            json_builder_set_member_name(b, "country");
            json_builder_add_string_value(b, c->country);
            json_builder_set_member_name(b, "arrived");
            json_builder_add_string_value(b, c->arrived);
            json_builder_set_member_name(b, "departed");
            if (c->departed)
                json_builder_add_string_value(b, c->departed);
            else
                json_builder_add_null_value(b);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *text = json_to_string(root, FALSE);
    printf("%s\n", text);
}

int app_cmd_vessel(int argc, char **argv)
{
    int days = 30;
    gboolean json = FALSE;
    g_autofree char *db = NULL, *config_path = NULL, *until_text = NULL;
    const GOptionEntry entries[] = {
        {"days", 'd', 0, G_OPTION_ARG_INT, &days, "how many days back (default 30)", "N"},
        {"db", 0, 0, G_OPTION_ARG_FILENAME, &db,
         "the store (default: [store] path of -c FILE, else ./portsight.db)", "FILE"},
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON object instead of a table", NULL},
        {"until", 0, 0, G_OPTION_ARG_STRING, &until_text,
         "end of the window, RFC 3339 (default: now)", "TIME"},
        {NULL},
    };
    int code;
    if (!app_parse_options(&argc, &argv, "calls NAME|MMSI",
                           "The ports a vessel (English name, case-insensitive, or MMSI) stopped "
                           "at in the last N days,\nfrom the store: port, country, arrival, "
                           "departure (RFC 3339, UTC).",
                           entries, &code))
        return code;
    if (argc < 3 || strcmp(argv[1], "calls") != 0) {
        app_error(NULL, "vessel: usage: portsight vessel calls NAME|MMSI [--days N] [--db FILE] "
                        "[--json]");
        return APP_EXIT_USAGE;
    }
    if (days < 1 || days > MAX_DAYS) {
        app_error(NULL, "vessel calls: --days %d is outside 1..%d", days, MAX_DAYS);
        return APP_EXIT_USAGE;
    }
    gint64 until = g_get_real_time() / G_USEC_PER_SEC;
    if (until_text && !parse_time(until_text, &until)) {
        app_error(NULL, "vessel calls: --until '%s' is not an RFC 3339 time like "
                        "2026-11-26T12:00:00Z", until_text);
        return APP_EXIT_USAGE;
    }
    gint64 since = until - (gint64)days * DAY;
    /* Names have spaces; accept them quoted or as separate words. */
    g_autofree char *query = g_strjoinv(" ", argv + 2);
    g_strstrip(query);

    g_autoptr(GError) error = NULL;
    if (!db && config_path) {
        g_autoptr(AppConfig) cfg = app_config_load(config_path, &error);
        if (!cfg) {
            app_error(NULL, "%s", error->message);
            return APP_EXIT_USAGE;
        }
        db = g_strdup(app_config_string(cfg, "store", "path"));
    }
    if (!db)
        db = g_strdup("portsight.db");
    /* Reading only: a missing file is an error, not a new empty store. */
    if (!g_file_test(db, G_FILE_TEST_IS_REGULAR)) {
        app_error(db, "no such store (give it with --db FILE or -c FILE)");
        return APP_EXIT_USAGE;
    }
    PsStore *store = store_open(db, &error);
    if (!store) {
        app_error(NULL, "%s", error->message);
        return APP_EXIT_USAGE;
    }

    g_autoptr(GArray) mmsis = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GArray) vessels = g_array_new(FALSE, TRUE, sizeof(Vessel));
    g_array_set_clear_func(vessels, vessel_clear);
    guint mmsi = 0;
    if (parse_mmsi(query, &mmsi))
        g_array_append_val(mmsis, mmsi);
    else if (!store_ais_find_by_name(store, query, mmsis, &error))
        goto io_error;
    if (mmsis->len == 0) {
        app_error(NULL, "vessel calls: no vessel named '%s' in %s", query, db);
        store_close(store);
        return APP_EXIT_BAD_INPUT;
    }
    for (guint i = 0; i < mmsis->len; i++) {
        Vessel v = {g_array_index(mmsis, guint, i), NULL,
                    g_ptr_array_new_with_free_func(call_free)};
        g_array_append_val(vessels, v);
        Vessel *pv = &g_array_index(vessels, Vessel, vessels->len - 1);
        if (!store_ais_vessel_name(store, pv->mmsi, &pv->name, &error) ||
            !store_ais_calls(store, pv->mmsi, since, until, collect, pv->calls, &error))
            goto io_error;
    }
    store_close(store);
    if (json)
        print_json(vessels, query, days, since, until);
    else
        print_table(vessels, days);
    return APP_EXIT_OK;

io_error:
    app_error(db, "%s", error->message);
    store_close(store);
    return APP_EXIT_USAGE;
}
