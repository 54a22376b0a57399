/* vessel_calls.c: the ports a vessel stopped at, from the store (see vessel_calls.h). */
#include "vessel_calls.h"

#include <string.h>

#include "store-ais.h"

gboolean vessel_calls_parse_mmsi(const char *s, guint *mmsi)
{
    gsize n = strlen(s);
    if (n == 0 || n > 9 || strspn(s, "0123456789") != n)
        return FALSE;
    *mmsi = (guint)g_ascii_strtoull(s, NULL, 10);
    return TRUE;
}

char *vessel_calls_rfc3339(gint64 t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
}

static void add_str(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void add_time(JsonBuilder *b, const char *name, gint64 t)
{
    g_autofree char *text = t ? vessel_calls_rfc3339(t) : NULL;
    add_str(b, name, text);
}

static gboolean add_call(const PsAisCallRow *row, gpointer data)
{
    JsonBuilder *b = data;
    json_builder_begin_object(b);
    add_str(b, "port", row->port);
    add_str(b, "country", row->country);
    add_time(b, "arrived", row->arrival);
    add_time(b, "departed", row->departure);
    json_builder_end_object(b);
    return TRUE;
}

gboolean vessel_calls_add(PsStore *store, guint mmsi, gint64 since, gint64 until, JsonBuilder *b,
                          GError **error)
{
    json_builder_set_member_name(b, "calls");
    json_builder_begin_array(b);
    if (!store_ais_calls(store, mmsi, since, until, add_call, b, error))
        return FALSE;
    json_builder_end_array(b);
    return TRUE;
}

gboolean vessel_calls_build(PsStore *store, const PsVesselCallsQuery *q,
                            PsVesselCallsExtra extra, gpointer extra_data, JsonBuilder *b,
                            guint *n_vessels, GError **error)
{
    g_autoptr(GArray) mmsis = g_array_new(FALSE, FALSE, sizeof(guint));
    guint mmsi;
    if (vessel_calls_parse_mmsi(q->query, &mmsi))
        g_array_append_val(mmsis, mmsi);
    else if (q->prefix ? !store_ais_find_by_prefix(store, q->query, q->max_vessels, mmsis, error)
                       : !store_ais_find_by_name(store, q->query, mmsis, error))
        return FALSE;
    gint64 since = q->until - (gint64)q->days * VESSEL_CALLS_DAY;
    json_builder_begin_object(b);
    add_str(b, "query", q->query);
    json_builder_set_member_name(b, "days");
    json_builder_add_int_value(b, q->days);
    add_time(b, "since", since);
    add_time(b, "until", q->until);
    json_builder_set_member_name(b, "vessels");
    json_builder_begin_array(b);
    for (guint i = 0; i < mmsis->len; i++) {
        guint m = g_array_index(mmsis, guint, i);
        g_autofree char *name = NULL;
        if (!store_ais_vessel_name(store, m, &name, error))
            return FALSE;
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "mmsi");
        json_builder_add_int_value(b, m);
        add_str(b, "name", name);
        if (!vessel_calls_add(store, m, since, q->until, b, error))
            return FALSE;
        if (extra)
            extra(b, m, extra_data);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    if (n_vessels)
        *n_vessels = mmsis->len;
    return TRUE;
}
