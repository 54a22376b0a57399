/* cmd_ais.c: `portsight ais decode [-u] [--strict] [FILE...]`: NMEA AIVDM/AIVDO in, one gpsd-style
 * JSON object per AIS message per line out. */
#include "app.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ais.h"

enum { MAX_LINE = 16384 }; /* longer lines are reported and skipped: the reader's cap */

static void report(GString *out, const char *name, guint64 lineno, const char *msg)
{
    /* Keep stdout and stderr in input order when both go to one terminal. */
    fwrite(out->str, 1, out->len, stdout);
    g_string_truncate(out, 0);
    fflush(stdout);
    g_autofree char *where = g_strdup_printf("%s:%" G_GUINT64_FORMAT, name, lineno);
    app_error(where, "%s", msg);
}

static void decode_line(PsAisDecoder *dec, const char *line, gsize len, const char *name,
                        guint64 lineno, gboolean scaled, GString *out, guint64 *bad)
{
    const AisMessage *msgs;
    guint n_msgs;
    GError *error = NULL;
    if (!ais_decoder_feed(dec, line, len, 0, &msgs, &n_msgs, &error)) {
        report(out, name, lineno, error->message);
        g_error_free(error);
        (*bad)++;
        return;
    }
    for (guint i = 0; i < n_msgs; i++) {
        ais_message_to_json(&msgs[i], scaled, out);
        g_string_append_c(out, '\n');
    }
    if (out->len >= 1 << 16) {
        fwrite(out->str, 1, out->len, stdout);
        g_string_truncate(out, 0);
    }
}

/* Decodes every line of @in with a fixed buffer (no allocation per line, lines capped at
 * MAX_LINE bytes); bad sentences get one stderr line each. Returns FALSE on a read error.
 * *@bad counts the bad sentences and over-long lines. */
static gboolean decode_stream(PsAisDecoder *dec, FILE *in, const char *name, gboolean scaled,
                              GString *out, guint64 *bad)
{
    enum { BUF_SIZE = 4 * MAX_LINE };
    char *buf = g_malloc(BUF_SIZE);
    gsize have = 0;
    guint64 lineno = 0;
    gboolean skipping = FALSE; /* inside a line longer than MAX_LINE */
    for (;;) {
        size_t got = fread(buf + have, 1, BUF_SIZE - have, in);
        have += got;
        gboolean eof = got == 0;
        char *p = buf, *end = buf + have;
        for (;;) {
            char *nl = memchr(p, '\n', (gsize)(end - p));
            if (!nl)
                break;
            lineno++;
            if (skipping)
                skipping = FALSE;
            else if (nl - p > MAX_LINE) {
                report(out, name, lineno, "line longer than 16384 bytes, skipped");
                (*bad)++;
            } else
                decode_line(dec, p, (gsize)(nl - p), name, lineno, scaled, out, bad);
            p = nl + 1;
        }
        gsize rest = (gsize)(end - p);
        if (rest > MAX_LINE && !skipping) {
            /* The line goes on past the cap: report it once and drop what we have. */
            report(out, name, lineno + 1, "line longer than 16384 bytes, skipped");
            (*bad)++;
            skipping = TRUE;
        }
        if (skipping)
            rest = 0;
        memmove(buf, p, rest);
        have = rest;
        if (eof) {
            if (have > 0 && !skipping) /* a last line without a newline */
                decode_line(dec, buf, have, name, ++lineno, scaled, out, bad);
            break;
        }
    }
    g_free(buf);
    gboolean ok = !ferror(in);
    if (!ok)
        app_error(name, "read error: %s", g_strerror(errno));
    return ok;
}

int app_cmd_ais(int argc, char **argv)
{
    gboolean unscaled = FALSE, strict = FALSE;
    const GOptionEntry entries[] = {
        {"unscaled", 'u', 0, G_OPTION_ARG_NONE, &unscaled,
         "raw field values, as `gpsdecode -u -j` prints them", NULL},
        {"strict", 0, 0, G_OPTION_ARG_NONE, &strict,
         "exit with status 1 when any sentence was bad", NULL},
        {NULL}};
    int code;
    if (!app_parse_options(&argc, &argv, "decode [-u] [FILE...]",
                           "Decodes NMEA 0183 !AIVDM/!AIVDO sentences (standard input when no "
                           "FILE is given) into one gpsd-style JSON object per AIS message per "
                           "line. Bad sentences are reported on standard error, one line each, "
                           "and decoding goes on.",
                           entries, &code))
        return code;
    if (argc < 2 || strcmp(argv[1], "decode") != 0) {
        app_error(NULL, "ais: expected 'decode' (see portsight ais --help)");
        return APP_EXIT_USAGE;
    }

    PsAisDecoder *dec = ais_decoder_new(NULL);
    GString *out = g_string_sized_new(1 << 17);
    guint64 bad = 0;
    int rc = APP_EXIT_OK;
    if (argc == 2) {
        if (!decode_stream(dec, stdin, "stdin", !unscaled, out, &bad))
            rc = APP_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        FILE *in = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
        if (!in) {
            app_error(argv[i], "cannot read: %s", g_strerror(errno));
            rc = APP_EXIT_USAGE;
            continue;
        }
        if (!decode_stream(dec, in, argv[i], !unscaled, out, &bad))
            rc = APP_EXIT_USAGE;
        if (in != stdin)
            fclose(in);
        /* Fragments do not carry over from one file to the next. */
        ais_decoder_reset(dec);
    }
    fwrite(out->str, 1, out->len, stdout);
    if (fflush(stdout) != 0) {
        app_error(NULL, "write error: %s", g_strerror(errno));
        rc = APP_EXIT_USAGE;
    }
    g_string_free(out, TRUE);
    ais_decoder_free(dec);
    if (rc == APP_EXIT_OK && strict && bad > 0)
        rc = APP_EXIT_BAD_INPUT;
    return rc;
}
