#include "reference.h"

#include <check.h>
#include <string.h>

void reference_open(ReferenceFile *ref, const char *name)
{
    const char *root = g_getenv("PS_SOURCE_ROOT");
    ck_assert_ptr_nonnull(root);
    ref->path = g_build_filename(root, "tests", "ocr", name, NULL);
    char *text = NULL;
    GError *error = NULL;
    ck_assert_msg(g_file_get_contents(ref->path, &text, NULL, &error), "%s",
                  error ? error->message : "");
    ref->lines = g_strsplit(text, "\n", -1);
    ref->i = 0;
    g_free(text);
}

void reference_close(ReferenceFile *ref)
{
    g_strfreev(ref->lines);
    g_free(ref->path);
}

const char *reference_record(ReferenceFile *ref)
{
    while (ref->lines[ref->i] && (ref->lines[ref->i][0] == '#' || ref->lines[ref->i][0] == '\0'))
        ref->i++;
    return ref->lines[ref->i];
}

void reference_hex_rows(ReferenceFile *ref, int w, int h, guint8 *out)
{
    for (int y = 0; y < h; y++) {
        const char *row = ref->lines[ref->i + 1 + y];
        ck_assert_msg(row && (int)strlen(row) == 2 * w, "%s:%d: not %d hex bytes", ref->path,
                      ref->i + 2 + y, w);
        for (int x = 0; x < w; x++) {
            int hi = g_ascii_xdigit_value(row[2 * x]), lo = g_ascii_xdigit_value(row[2 * x + 1]);
            ck_assert_msg(hi >= 0 && lo >= 0, "%s:%d: not hex", ref->path, ref->i + 2 + y);
            out[(size_t)y * w + x] = (guint8)(hi * 16 + lo);
        }
    }
    ref->i += 1 + h;
}

void reference_numbers(const ReferenceFile *ref, int line, const char *text, int n, float *out)
{
    char **v = g_strsplit(text, " ", -1);
    ck_assert_msg((int)g_strv_length(v) == n, "%s:%d: %u values, not %d", ref->path, line + 1,
                  g_strv_length(v), n);
    for (int k = 0; k < n; k++)
        out[k] = (float)g_ascii_strtod(v[k], NULL);
    g_strfreev(v);
}
