/* cmd_vessel.c: `portsight vessel calls NAME [--days N]`: the ports a vessel stopped at. */
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "app.h"
#include "config.h"
#include "store.h"
#include "vessel_calls.h"

#define MAX_DAYS 36500

static gboolean parse_time(const char *s, gint64 *out)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(s, NULL);
    if (!dt)
        return FALSE;
    *out = g_date_time_to_unix(dt);
    return TRUE;
}

static const char *member_or(JsonObject *o, const char *name, const char *absent)
{
    const char *v = json_object_get_string_member_with_default(o, name, NULL);
    return v && *v ? v : absent;
}

/* The answer of vessel_calls_build() as a table per vessel. */
static void print_table(JsonObject *answer)
{
    int days = (int)json_object_get_int_member(answer, "days");
    JsonArray *vessels = json_object_get_array_member(answer, "vessels");
    for (guint i = 0; i < json_array_get_length(vessels); i++) {
        JsonObject *v = json_array_get_object_element(vessels, i);
        JsonArray *calls = json_object_get_array_member(v, "calls");
        guint n = json_array_get_length(calls);
        printf("%s%s (MMSI %09u): %u port call%s in the last %d day%s\n", i ? "\n" : "",
               member_or(v, "name", "(no name)"), (guint)json_object_get_int_member(v, "mmsi"),
               n, n == 1 ? "" : "s", days, days == 1 ? "" : "s");
        if (n == 0)
            continue;
        int w = 4;
        for (guint j = 0; j < n; j++)
            w = MAX(w, (int)strlen(member_or(json_array_get_object_element(calls, j), "port",
                                             "")));
        printf("  %-*s  %-7s  %-20s  %s\n", w, "PORT", "COUNTRY", "ARRIVAL", "DEPARTURE");
        for (guint j = 0; j < n; j++) {
            JsonObject *c = json_array_get_object_element(calls, j);
            printf("  %-*s  %-7s  %-20s  %s\n", w, member_or(c, "port", ""),
                   member_or(c, "country", "-"), member_or(c, "arrived", "?"),
                   member_or(c, "departed", "(in port)"));
        }
    }
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

    PsVesselCallsQuery q = {query, FALSE, 0, days, until};
    g_autoptr(JsonBuilder) b = json_builder_new();
    guint n = 0;
    gboolean ok = vessel_calls_build(store, &q, NULL, NULL, b, &n, &error);
    store_close(store);
    if (!ok) {
        app_error(db, "%s", error->message);
        return APP_EXIT_USAGE;
    }
    if (n == 0) {
        app_error(NULL, "vessel calls: no vessel named '%s' in %s", query, db);
        return APP_EXIT_BAD_INPUT;
    }
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    if (json) {
        g_autofree char *text = json_to_string(root, FALSE);
        printf("%s\n", text);
    } else {
        print_table(json_node_get_object(root));
    }
    return APP_EXIT_OK;
}
