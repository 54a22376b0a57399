/* cmd_ocr.c: `portsight ocr [--fuse] IMAGE...`: ISO 6346 container codes read from images, one
 * JSON object per image per line, or one object fused across the images with --fuse. */
#include "app.h"

#include <stdio.h>

#include "ocr.h"

/* Appends "codes":[...] for @reads to @out. */
static void add_codes(GString *out, const OcrReads *reads)
{
    char num[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append(out, "\"codes\":[");
    for (int i = 0; i < reads->n_reads; i++) {
        const OcrRead *r = &reads->reads[i];
        if (i)
            g_string_append_c(out, ',');
        g_string_append_printf(out, "{\"code\":\"%s\",\"size_type\":", r->code);
        if (r->size_type[0])
            g_string_append_printf(out, "\"%s\"", r->size_type);
        else
            g_string_append(out, "null");
        g_string_append_printf(out, ",\"confidence\":%s,\"bbox\":[%d,%d,%d,%d],"
                               "\"orientation\":\"%s\"}",
                               g_ascii_formatd(num, sizeof num, "%.3f", r->confidence),
                               r->bbox[0], r->bbox[1], r->bbox[2], r->bbox[3],
                               r->orientation == OCR_VERTICAL ? "vertical" : "horizontal");
    }
    g_string_append_c(out, ']');
}

/* Appends @s as a JSON string. */
static void add_string(GString *out, const char *s)
{
    char *esc = g_strescape(s, NULL);
    g_string_append_printf(out, "\"%s\"", esc);
    g_free(esc);
}

int app_cmd_ocr(int argc, char **argv)
{
    gboolean fuse = FALSE;
    double min_conf = -1, fuse_conf = -1;
    char *owners_path = NULL;
    const GOptionEntry entries[] = {
        {"fuse", 0, 0, G_OPTION_ARG_NONE, &fuse,
         "the images are views of one gate transaction: print one object with the codes fused "
         "across them (only confirmed codes)", NULL},
        {"min-confidence", 0, 0, G_OPTION_ARG_DOUBLE, &min_conf,
         "drop codes below this confidence (0-1, default 0.4)", "C"},
        {"fuse-confidence", 0, 0, G_OPTION_ARG_DOUBLE, &fuse_conf,
         "confirm a fused code at or above this confidence (default 0.8)", "C"},
        {"owners", 0, 0, G_OPTION_ARG_FILENAME, &owners_path,
         "a list of known owner codes (one per line, e.g. MSKU): other owners count half",
         "FILE"},
        {NULL}};
    int code;
    if (!app_parse_options(&argc, &argv, "[--fuse] IMAGE...",
                           "Reads ISO 6346 container codes in images (JPEG, PNG, ...): one JSON "
                           "object per image per line, codes best first, only codes that pass "
                           "the check digit.",
                           entries, &code))
        return code;
    if (argc < 2) {
        app_error(NULL, "ocr: expected at least one IMAGE (see portsight ocr --help)");
        g_free(owners_path);
        return APP_EXIT_USAGE;
    }
    GError *error = NULL;
    Iso6346Owners *owners = NULL;
    if (owners_path) {
        owners = iso6346_owners_new_from_file(owners_path, &error);
        if (!owners) {
            app_error(NULL, "ocr: %s", error->message);
            g_error_free(error);
            g_free(owners_path);
            return APP_EXIT_USAGE;
        }
    }
    OcrOptions opts;
    ocr_options_init(&opts);
    opts.owners = owners;
    if (min_conf >= 0)
        opts.min_confidence = min_conf;
    if (fuse)
        opts.weak_reads = 0.2; /* weak reads still add evidence to the fusion */
    PsOcr *ocr = ocr_new(&opts, &error);
    if (!ocr) {
        app_error(NULL, "ocr: %s", error->message);
        g_error_free(error);
        iso6346_owners_free(owners);
        g_free(owners_path);
        return APP_EXIT_USAGE;
    }
    OcrFusionOptions fopts;
    ocr_fusion_options_init(&fopts);
    if (fuse_conf >= 0)
        fopts.min_confidence = fuse_conf;
    OcrFusion *fusion = fuse ? ocr_fusion_new(&fopts) : NULL;
    int rc = APP_EXIT_OK;
    OcrReads *reads = g_new(OcrReads, 1);
    for (int i = 1; i < argc; i++) {
        gint64 t0 = g_get_monotonic_time();
        if (!ocr_read_file(ocr, argv[i], reads, &error)) {
            app_error(NULL, "ocr: %s", error->message);
            g_clear_error(&error);
            rc = APP_EXIT_USAGE;
            continue;
        }
        double ms = (g_get_monotonic_time() - t0) / 1000.0;
        if (fuse) {
            ocr_fusion_add_reads(fusion, reads);
            continue;
        }
        char num[G_ASCII_DTOSTR_BUF_SIZE];
        GString *line = g_string_new("{\"file\":");
        add_string(line, argv[i]);
        g_string_append_c(line, ',');
        add_codes(line, reads);
        g_string_append_printf(line, ",\"ms\":%s}",
                               g_ascii_formatd(num, sizeof num, "%.1f", ms));
        puts(line->str);
        fflush(stdout);
        g_string_free(line, TRUE);
    }
    if (fuse) {
        ocr_fusion_result(fusion, TRUE, reads);
        GString *line = g_string_new("{\"files\":[");
        for (int i = 1; i < argc; i++) {
            if (i > 1)
                g_string_append_c(line, ',');
            add_string(line, argv[i]);
        }
        g_string_append(line, "],");
        add_codes(line, reads);
        g_string_append_c(line, '}');
        puts(line->str);
        g_string_free(line, TRUE);
    }
    g_free(reads);
    ocr_fusion_free(fusion);
    ocr_free(ocr);
    iso6346_owners_free(owners);
    g_free(owners_path);
    return rc;
}
