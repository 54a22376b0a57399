/* bench_ocr.c: accuracy and speed of ocr/ on a labelled image folder.
 *
 *   bench-ocr [DIR]   (default: ../shared/data/ocr-dev, or $PS_SHARED_DATA/ocr-dev)
 *
 * DIR holds the images and labels.csv (file,code,size_type,layout,view,notes,bbox), the format of
 * the shared real photos and of `ocr-synth frames`. Prints per layout: images whose best code is
 * the labelled one, images whose best code is a wrong code, images with no code; per gate
 * transaction (file names 1-<transaction>-OCR-<camera>-<n>.jpg): the fused codes against the
 * labelled set; time per image (median, p95) and peak memory. Exit 0; the figures are the output.
 *
 *   bench-ocr --time N IMAGE...   CPU time of ocr_read() alone per frame (N runs, median).
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <leptonica/allheaders.h>

#include "ocr.h"

typedef struct {
    char *file, *code, *size_type, *layout, *transaction;
} Label;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* bench-ocr IMAGE...: prints the reads of single images (development). */
static int read_files(int argc, char **argv)
{
    OcrOptions opts;
    ocr_options_init(&opts);
    if (g_getenv("BENCH_MIN_CONFIDENCE"))
        opts.min_confidence = g_ascii_strtod(g_getenv("BENCH_MIN_CONFIDENCE"), NULL);
    PsOcr *ocr = ocr_new(&opts, NULL);
    OcrReads *reads = g_new(OcrReads, 1);
    for (int i = 1; i < argc; i++) {
        GError *error = NULL;
        gint64 t0 = g_get_monotonic_time();
        if (!ocr_read_file(ocr, argv[i], reads, &error)) {
            printf("%s: %s\n", argv[i], error->message);
            g_clear_error(&error);
            continue;
        }
        printf("%s: %.1f ms", argv[i], (g_get_monotonic_time() - t0) / 1000.0);
        for (int k = 0; k < reads->n_reads; k++)
            printf(" %s/%s(%.3f)", reads->reads[k].code, reads->reads[k].size_type,
                   reads->reads[k].confidence);
        printf("\n");
    }
    g_free(reads);
    ocr_free(ocr);
    return 0;
}

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* bench-ocr --time N IMAGE...: CPU ms of ocr_read() alone (decode excluded) on each image's
 * RGBX pixels, N runs each: median and minimum, and what was read. */
static int time_frames(int argc, char **argv)
{
    int runs = atoi(argv[2]);
    PsOcr *ocr = ocr_new(NULL, NULL);
    OcrReads *reads = g_new(OcrReads, 1);
    for (int i = 3; i < argc; i++) {
        setMsgSeverity(L_SEVERITY_NONE);
        PIX *pix = pixRead(argv[i]), *p32 = pix ? pixConvertTo32(pix) : NULL;
        if (!p32) {
            printf("%s: cannot read\n", argv[i]);
            pixDestroy(&pix);
            continue;
        }
        int w = pixGetWidth(p32), h = pixGetHeight(p32);
        guint8 *rgbx = g_malloc((size_t)w * h * 4);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                l_uint32 v = pixGetData(p32)[(size_t)y * pixGetWpl(p32) + x];
                guint8 *d = rgbx + ((size_t)y * w + x) * 4;
                d[0] = v >> 24, d[1] = (v >> 16) & 255, d[2] = (v >> 8) & 255, d[3] = 255;
            }
        double *ms = g_new(double, MAX(runs, 1));
        for (int r = 0; r < MAX(runs, 1); r++) {
            double t0 = thread_cpu_ms();
            ocr_read(ocr, rgbx, w, h, w * 4, OCR_PIXEL_RGBX, reads, NULL);
            ms[r] = thread_cpu_ms() - t0;
        }
        qsort(ms, MAX(runs, 1), sizeof(double), cmp_double);
        printf("%s: %dx%d ocr_read CPU ms median %.2f min %.2f (%d runs);", argv[i], w, h,
               ms[MAX(runs, 1) / 2], ms[0], MAX(runs, 1));
        for (int k = 0; k < reads->n_reads; k++)
            printf(" %s(%.2f)", reads->reads[k].code, reads->reads[k].confidence);
        printf("\n");
        g_free(ms);
        g_free(rgbx);
        pixDestroy(&p32);
        pixDestroy(&pix);
    }
    g_free(reads);
    ocr_free(ocr);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 3 && strcmp(argv[1], "--time") == 0)
        return time_frames(argc, argv);
    if (argc > 1 && g_file_test(argv[1], G_FILE_TEST_IS_REGULAR))
        return read_files(argc, argv);
    const char *shared = g_getenv("PS_SHARED_DATA");
    char *dir = argc > 1 ? g_strdup(argv[1])
                         : g_build_filename(shared ? shared : "../shared/data", "ocr-dev", NULL);
    char *csv_path = g_build_filename(dir, "labels.csv", NULL);
    char *text = NULL;
    if (!g_file_get_contents(csv_path, &text, NULL, NULL)) {
        printf("SKIP: %s is absent\n", csv_path);
        g_free(csv_path);
        g_free(dir);
        return 0;
    }
    GPtrArray *labels = g_ptr_array_new();
    char **lines = g_strsplit(text, "\n", -1);
    for (int i = 1; lines[i]; i++) {
        char **f = g_strsplit(lines[i], ",", -1);
        if (g_strv_length(f) >= 4) {
            Label *l = g_new0(Label, 1);
            l->file = g_strdup(f[0]);
            l->code = g_strdup(f[1]);
            l->size_type = g_strdup(f[2]);
            l->layout = g_strdup(f[3]);
            char **parts = g_strsplit(f[0], "-", -1);
            l->transaction = g_strv_length(parts) >= 3 && strstr(f[0], "-OCR-")
                                 ? g_strdup(parts[1])
                                 : NULL;
            g_strfreev(parts);
            g_ptr_array_add(labels, l);
        }
        g_strfreev(f);
    }
    g_strfreev(lines);
    g_free(text);

    OcrOptions opts;
    ocr_options_init(&opts);
    if (g_getenv("BENCH_MIN_CONFIDENCE"))
        opts.min_confidence = g_ascii_strtod(g_getenv("BENCH_MIN_CONFIDENCE"), NULL);
    PsOcr *ocr = ocr_new(&opts, NULL);
    OcrOptions weak;
    ocr_options_init(&weak);
    weak.min_confidence = 0.2;
    PsOcr *ocr_weak = ocr_new(&weak, NULL);
    /* The three layouts of the gate photos first (also when a set has none of them), then
     * every other layout the labels name, in order of appearance. */
    enum { MAX_LAYOUTS = 16 };
    const char *layouts[MAX_LAYOUTS] = {"horizontal_1line", "multi_line", "vertical"};
    int n_layouts = 3;
    for (guint i = 0; i < labels->len; i++) {
        const char *name = ((Label *)labels->pdata[i])->layout;
        int k = 0;
        while (k < n_layouts && strcmp(layouts[k], name) != 0)
            k++;
        if (k == n_layouts && n_layouts < MAX_LAYOUTS)
            layouts[n_layouts++] = name;
    }
    int right[MAX_LAYOUTS] = {0}, wrong[MAX_LAYOUTS] = {0}, none[MAX_LAYOUTS] = {0},
        total[MAX_LAYOUTS] = {0}, st_right = 0, st_total = 0;
    double *ms = g_new(double, labels->len + 1), *cpu = g_new(double, labels->len + 1);
    GHashTable *tx_reads = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                 (GDestroyNotify)ocr_fusion_free);
    GHashTable *tx_codes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                 (GDestroyNotify)g_hash_table_destroy);
    OcrReads *reads = g_new(OcrReads, 1);
    gboolean verbose = g_getenv("BENCH_VERBOSE") != NULL;
    for (guint i = 0; i < labels->len; i++) {
        Label *l = labels->pdata[i];
        char *path = g_build_filename(dir, l->file, NULL);
        gint64 t0 = g_get_monotonic_time();
        double c0 = thread_cpu_ms();
        GError *error = NULL;
        if (!ocr_read_file(ocr, path, reads, &error)) {
            printf("error: %s\n", error->message);
            g_clear_error(&error);
            g_free(path);
            continue;
        }
        ms[i] = (g_get_monotonic_time() - t0) / 1000.0;
        cpu[i] = thread_cpu_ms() - c0;
        int li = 0;
        for (int k = 0; k < n_layouts; k++)
            if (strcmp(l->layout, layouts[k]) == 0)
                li = k;
        total[li]++;
        const char *best = reads->n_reads ? reads->reads[0].code : "";
        if (!reads->n_reads)
            none[li]++;
        else if (strcmp(best, l->code) == 0)
            right[li]++;
        else
            wrong[li]++;
        if (reads->n_reads && strcmp(best, l->code) == 0 && l->size_type[0]) {
            st_total++;
            st_right += strcmp(reads->reads[0].size_type, l->size_type) == 0;
        }
        if (verbose)
            printf("%-32s %-16s %s %-12s %.3f %s\n", l->file, l->layout, l->code, best,
                   reads->n_reads ? reads->reads[0].confidence : 0.0,
                   !reads->n_reads ? "none" : strcmp(best, l->code) == 0 ? "ok" : "WRONG");
        if (l->transaction) {
            OcrFusion *fu = g_hash_table_lookup(tx_reads, l->transaction);
            if (!fu) {
                fu = ocr_fusion_new(NULL);
                g_hash_table_insert(tx_reads, l->transaction, fu);
                g_hash_table_insert(tx_codes, l->transaction,
                                    g_hash_table_new(g_str_hash, g_str_equal));
            }
            g_hash_table_add(g_hash_table_lookup(tx_codes, l->transaction), l->code);
            OcrReads *wr = g_new(OcrReads, 1);
            ocr_read_file(ocr_weak, path, wr, NULL);
            ocr_fusion_add_reads(fu, wr);
            g_free(wr);
        }
        g_free(path);
    }
    int all_right = 0, all_total = 0, all_wrong = 0;
    printf("%-18s %6s %6s %6s %6s\n", "layout", "images", "right", "wrong", "none");
    for (int k = 0; k < n_layouts; k++) {
        printf("%-18s %6d %6d %6d %6d\n", layouts[k], total[k], right[k], wrong[k], none[k]);
        all_right += right[k];
        all_total += total[k];
        all_wrong += wrong[k];
    }
    printf("%-18s %6d %6d %6d %6d  (%.1f%% right, %.1f%% wrong)\n", "all", all_total, all_right,
           all_wrong, all_total - all_right - all_wrong,
           all_total ? 100.0 * all_right / all_total : 0,
           all_total ? 100.0 * all_wrong / all_total : 0);
    printf("size/type right where the code is right and labelled: %d of %d\n", st_right, st_total);
    if (g_hash_table_size(tx_reads) > 0) {
        int tx_right = 0, tx_wrong_code = 0;
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, tx_reads);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            OcrReads fused;
            ocr_fusion_result(value, TRUE, &fused);
            GHashTable *want = g_hash_table_lookup(tx_codes, key);
            int found = 0, extra = 0;
            for (int r = 0; r < fused.n_reads; r++) {
                if (g_hash_table_contains(want, fused.reads[r].code))
                    found++;
                else
                    extra++;
            }
            gboolean ok = found == (int)g_hash_table_size(want) && extra == 0;
            tx_right += ok;
            tx_wrong_code += extra > 0;
            if (verbose) {
                printf("transaction %s: %d of %u codes, %d wrong:", (char *)key, found,
                       g_hash_table_size(want), extra);
                for (int r = 0; r < fused.n_reads; r++)
                    printf(" %s(%.2f)", fused.reads[r].code, fused.reads[r].confidence);
                OcrReads all;
                ocr_fusion_result(value, FALSE, &all);
                printf("; unconfirmed:");
                for (int r = 0; r < all.n_reads; r++)
                    if (all.reads[r].confidence < 0.8)
                        printf(" %s(%.2f)", all.reads[r].code, all.reads[r].confidence);
                printf("\n");
            }
        }
        printf("fused transactions: %d of %u right (all labelled codes confirmed, no other); "
               "%d with a wrong confirmed code\n", tx_right, g_hash_table_size(tx_reads),
               tx_wrong_code);
    }
    if (all_total > 0) {
        qsort(ms, labels->len, sizeof(double), cmp_double);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("ms per image: median %.1f, p95 %.1f, max %.1f (%d images); peak RSS %ld MB\n",
               ms[labels->len / 2], ms[(labels->len * 95) / 100 < labels->len
                                          ? (labels->len * 95) / 100 : labels->len - 1],
               ms[labels->len - 1], all_total, ru.ru_maxrss / 1024);
        /* CPU time of the reading thread: what one core spends, whatever else the machine
         * runs. */
        qsort(cpu, labels->len, sizeof(double), cmp_double);
        printf("CPU ms per image (decode included): median %.1f, p95 %.1f, max %.1f\n",
               cpu[labels->len / 2], cpu[MIN((labels->len * 95) / 100, labels->len - 1)],
               cpu[labels->len - 1]);
    }
    g_free(cpu);
    g_free(reads);
    g_free(ms);
    g_hash_table_destroy(tx_reads);
    g_hash_table_destroy(tx_codes);
    ocr_free(ocr);
    ocr_free(ocr_weak);
    for (guint i = 0; i < labels->len; i++) {
        Label *l = labels->pdata[i];
        g_free(l->file);
        g_free(l->code);
        g_free(l->size_type);
        g_free(l->layout);
        g_free(l->transaction);
        g_free(l);
    }
    g_ptr_array_free(labels, TRUE);
    g_free(csv_path);
    g_free(dir);
    return 0;
}
