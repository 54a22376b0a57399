/* demo_ocr.c: the OCR step of `portsight demo`: reads the container codes on the shipped
 * synthetic gate frames (data/scenario/frames/, made by tools/ocr-synth, see the README there),
 * prints each read and the codes fused across the frames, and writes OUT/ocr.jsonl. */
#include <stdio.h>
#include <string.h>

#include "demo.h"
#include "ocr.h"

static int compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

gboolean app_demo_ocr(AppDemo *demo, GError **error)
{
    char *dir = g_build_filename(demo->scenario_dir, "frames", NULL);
    GDir *d = g_dir_open(dir, 0, error);
    if (!d) {
        g_free(dir);
        return FALSE;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)))
        if (g_str_has_suffix(name, ".jpg"))
            g_ptr_array_add(names, g_strdup(name));
    g_dir_close(d);
    g_ptr_array_sort(names, compare_names);

    PsOcr *ocr = ocr_new(NULL, error);
    OcrFusion *fusion = ocr_fusion_new(NULL);
    OcrReads *reads = g_new(OcrReads, 1);
    GString *jsonl = g_string_new(NULL);
    gboolean ok = ocr != NULL;
    for (guint i = 0; ok && i < names->len; i++) {
        char *path = g_build_filename(dir, names->pdata[i], NULL);
        gint64 t0 = g_get_monotonic_time();
        ok = ocr_read_file(ocr, path, reads, error);
        g_free(path);
        if (!ok)
            break;
        double ms = (g_get_monotonic_time() - t0) / 1000.0;
        printf("  %s (%.0f ms):", (char *)names->pdata[i], ms);
        g_string_append_printf(jsonl, "{\"file\":\"%s\",\"codes\":[", (char *)names->pdata[i]);
        for (int k = 0; k < reads->n_reads; k++) {
            const OcrRead *r = &reads->reads[k];
            printf(" %s %s %s %.2f", r->code, r->size_type[0] ? r->size_type : "-",
                   r->orientation == OCR_VERTICAL ? "vertical" : "horizontal", r->confidence);
            g_string_append_printf(jsonl, "%s{\"code\":\"%s\",\"confidence\":%.3f}", k ? "," : "",
                                   r->code, r->confidence);
        }
        printf("%s\n", reads->n_reads ? "" : " no code");
        g_string_append(jsonl, "]}\n");
        ocr_fusion_add_reads(fusion, reads);
    }
    if (ok) {
        ocr_fusion_result(fusion, TRUE, reads);
        printf("  fused over %u frames:", names->len);
        for (int k = 0; k < reads->n_reads; k++)
            printf(" %s (%.2f)", reads->reads[k].code, reads->reads[k].confidence);
        printf("%s\n", reads->n_reads ? "" : " nothing confirmed");
        char *out = g_build_filename(demo->out_dir, "ocr.jsonl", NULL);
        ok = g_file_set_contents(out, jsonl->str, (gssize)jsonl->len, error);
        if (ok)
            g_ptr_array_add(demo->outputs, g_strdup_printf("OCR reads: %s", out));
        g_free(out);
    }
    g_string_free(jsonl, TRUE);
    g_free(reads);
    ocr_fusion_free(fusion);
    ocr_free(ocr);
    g_ptr_array_unref(names);
    g_free(dir);
    return ok;
}
