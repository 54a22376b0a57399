/* log.c: a GLib structured-log writer with a level filter. */
#include "app.h"

#include <stdio.h>
#include <string.h>

static AppLogLevel max_level = APP_LOG_WARNING;
static gboolean notes; /* g_message() lines ("note") show at the default level */

void app_log_notes(gboolean on)
{
    notes = on;
}

gboolean app_log_level_parse(const char *name, AppLogLevel *level)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (g_ascii_strcasecmp(name, names[i]) == 0) {
            *level = (AppLogLevel)i;
            return TRUE;
        }
    }
    return FALSE;
}

static AppLogLevel level_of(GLogLevelFlags flags)
{
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return APP_LOG_ERROR;
    if (flags & G_LOG_LEVEL_WARNING)
        return APP_LOG_WARNING;
    if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        return APP_LOG_INFO;
    return APP_LOG_DEBUG;
}

/* @message with every control character escaped (\n, \r, \t, \xNN, \u{NNNN} for C1) and
 * invalid UTF-8 replaced: a field that came from outside (a topic, an id, a reason quoting an
 * input) can neither start a line of its own nor move the terminal's cursor. */
static char *escape_controls(const char *message)
{
    g_autofree char *valid = g_utf8_make_valid(message, -1);
    GString *out = g_string_sized_new(strlen(valid) + 16);
    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\r')
            g_string_append(out, "\\r");
        else if (c == '\t')
            g_string_append(out, "\\t");
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else if (c >= 0x80 && c < 0xa0)
            g_string_append_printf(out, "\\u{%04x}", c);
        else
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
    }
    return g_string_free(out, FALSE);
}

static GLogWriterOutput writer(GLogLevelFlags flags, const GLogField *fields, gsize n,
                               gpointer user_data)
{
    AppLogLevel level = level_of(flags);
    gboolean note = notes && (flags & G_LOG_LEVEL_MESSAGE);
    if ((note ? APP_LOG_WARNING : level) > max_level && !(flags & G_LOG_FLAG_FATAL))
        return G_LOG_WRITER_HANDLED;
    const char *message = NULL, *domain = NULL;
    for (gsize i = 0; i < n; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0)
            message = fields[i].value;
        else if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0)
            domain = fields[i].value;
    }
    static const char *const tags[] = {"error", "warning", "info", "debug"};
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%H:%M:%S.%f");
    stamp[12] = '\0'; /* milliseconds are enough */
    g_autofree char *safe = escape_controls(message ? message : "");
    fprintf(stderr, "portsight: %s %s%s%s: %s\n", stamp, note ? "note" : tags[level],
            domain ? " " : "",
            domain ? domain : "", safe);
    return G_LOG_WRITER_HANDLED;
}

void app_log_init(AppLogLevel level)
{
    max_level = level;
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        g_log_set_writer_func(writer, NULL, NULL);
        g_once_init_leave(&once, 1);
    }
}
