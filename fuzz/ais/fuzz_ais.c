/* fuzz_ais.c: libFuzzer target for the AIS decoder. The input is fed line by line through one
 * decoder with a small fragment cap (so eviction and expiry run), every decoded message is
 * written as scaled and unscaled JSON and through the scaled views, and the whole input is also
 * tried as one bare payload. */
#include <stdint.h>
#include <string.h>

#include "ais.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static PsAisDecoder *dec;
    static GString *out;
    if (!dec) {
        AisDecoderOptions opt = {.max_pending = 4, .max_age_sentences = 8, .max_age_us = 1000};
        dec = ais_decoder_new(&opt);
        out = g_string_new("");
    }
    ais_decoder_reset(dec);
    const char *p = (const char *)data, *end = p + size;
    gint64 now = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const AisMessage *msgs;
        guint n = 0;
        GError *error = NULL;
        if (ais_decoder_feed(dec, p, (gsize)(e - p), now += 100, &msgs, &n, &error)) {
            for (guint i = 0; i < n; i++) {
                AisPosition pos;
                AisStatic st;
                g_string_truncate(out, 0);
                ais_message_to_json(&msgs[i], FALSE, out);
                ais_message_to_json(&msgs[i], TRUE, out);
                (void)ais_message_position(&msgs[i], &pos);
                (void)ais_message_static(&msgs[i], &st);
            }
        } else {
            g_error_free(error);
        }
        p = e + 1;
    }
    AisMessage m;
    GError *error = NULL;
    if (ais_decode_payload((const char *)data, size, (guint)(size % 6), &m, &error)) {
        g_string_truncate(out, 0);
        ais_message_to_json(&m, FALSE, out);
    } else {
        g_clear_error(&error);
    }
    return 0;
}
