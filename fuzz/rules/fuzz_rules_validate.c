/* fuzz_rules_validate.c: libFuzzer target for the validation of MQTT inputs (rules/validate.c).
 * The first byte picks the topic, the rest is the payload. Any bytes must give TRUE or FALSE
 * with an error naming a field, never a crash, a leak or a read out of bounds.
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined
 *   ninja -C build-fuzz fuzz/rules/fuzz-rules-validate
 *   build-fuzz/fuzz/rules/fuzz-rules-validate -max_len=4096 fuzz/rules/corpus */
#include <stdint.h>
#include <string.h>

#include "rules-private.h"

static const char *const topics[] = {
    "customs/status", "rail/Y1/arrival", "gate/RG1",   "seal/ES-1", "radiation/RP1",
    "ocr/cam1",       "cmd/select",      "weather/x",  "seal",      "rail//arrival",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *topic = topics[data[0] % (sizeof(topics) / sizeof(topics[0]))];
    const char *payload = (const char *)data + 1;
    gsize len = size - 1;
    GError *error = NULL;
    RulesInput in;
    if (rules__parse(topic, payload, len, &in, &error)) {
        /* What the rules read from a valid input must be there. */
        if (!in.id || !in.ts || !in.root)
            __builtin_trap();
        rules__input_clear(&in);
    } else {
        if (!error || !error->message || !*error->message)
            __builtin_trap();
        g_error_free(error);
    }
    g_free(rules__guess_id(payload, len));
    return 0;
}
