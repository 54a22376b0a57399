/* bench_ocr.c: accuracy and speed of ocr/ on a labelled image folder.
 *
 *   bench-ocr [DIR]   (default: ../shared/data/ocr-dev, or $PS_SHARED_DATA/ocr-dev)
 *
 * DIR holds the images and labels.csv (file,code,size_type,layout,view,notes,bbox), the format of
 * the shared real photos and of `ocr-synth frames`. Prints per layout (and per condition that
 * generated frames' notes name: `seed S; small; jpeg; night; ...`): images whose best code is
 * the labelled one, images whose best code is a wrong code, images with no code; per gate
 * transaction (file names 1-<transaction>-OCR-<camera>-<n>.jpg): the fused codes against the
 * labelled set, and apart the containers seen in two views or more (the fusion's goal); time
 * per image (median, p95) and peak memory. Exit 0; the figures are the output.
 *
 *   bench-ocr --time N IMAGE...   CPU time of ocr_read() alone per frame (N runs, median).
 *
 * The reader's options are ocr_options_init()'s ($PS_OCR_DETECTOR chooses the detector mode).
 * BENCH_COMPARE=off|union|only adds a second configuration with that detector mode, and
 * BENCH_COMPARE=lines-off one without the line reader, line-check-off one without its second
 * reading of the frame's uncertain codes (OcrOptions.line_check), enlarge-off one without the
 * second, enlarged reading of the detector's regions (OcrOptions.enlarge_regions),
 * confirm-off one without the line reader's reading of a code under the minimum
 * (OcrOptions.confirm_weak), chains-off one without its reading of the components' lines
 * (OcrOptions.chain_lines), owners-off one without its search for the owner codes of the
 * serials it read alone (OcrOptions.owner_search), fuse-off one without the weak codes pooled
 * with its reading (OcrOptions.fuse_weak), pieces-off one that reads no broken M or W whole
 * (OcrOptions.wide_pieces), unseen-off one that keeps a code whose serial digit only the check
 * digit gives as any other (OcrOptions.unseen_digits), even-off one that reads a serial whose
 * digits stand closer than half their pitch as any other (OcrOptions.even_serials), rows-off
 * one that pools no code of two rows with the line reader's reading of its rows
 * (OcrOptions.weak_rows), columns-off none of a column with its reading of the column's
 * characters laid on a line (OcrOptions.weak_columns), dark-off one without the thresholding
 * pass of dark surroundings (OcrOptions.dark_pass), region-chains-off one that keeps no line
 * of the components of the detector's regions (OcrOptions.region_chains), wide-off one
 * whose line reader reads no frame again with its wide network (OcrOptions.wide_lines),
 * far-ends-off one that reads no components' line again further past its end
 * (OcrOptions.far_ends), cross-off one that joins no owner code of the detector's lines
 * with a serial of the components' lines (OcrOptions.cross_joins), avx2-off one whose
 * networks run their SSE2 code only (OcrOptions.avx2; the same reads), keep-off one that
 * frees its working buffers after each frame (OcrOptions.keep_buffers; the same reads): each
 * image is read by
 * both, in alternating order, and both tables are printed with the CPU ratio of the second to
 * the first (figures of one run under the same load).
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
    char **conds; /* what makes a generated frame hard (its notes after the seed), or NULL */
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

enum { MAX_LAYOUTS = 16, MAX_CONDS = 16 };

/* What an image's best code was. */
typedef enum { RIGHT, WRONG, NONE, N_OUTCOMES } Outcome;

/* Images per outcome, of one layout or condition. */
typedef struct {
    int n[N_OUTCOMES];
} Tally;

/* The index of @name in @names[0..*n), appended when absent (the pointer is kept, not copied);
 * -1 when absent and @names holds @max already. */
static int name_index(const char **names, int *n, int max, const char *name)
{
    for (int k = 0; k < *n; k++)
        if (strcmp(names[k], name) == 0)
            return k;
    if (*n == max)
        return -1;
    names[*n] = name;
    return (*n)++;
}

static void print_tally(const char *name, const Tally *t)
{
    printf("%-18s %6d %6d %6d %6d\n", name, t->n[RIGHT] + t->n[WRONG] + t->n[NONE], t->n[RIGHT],
           t->n[WRONG], t->n[NONE]);
}

/* One configuration's figures over the folder. */
typedef struct {
    OcrOptions opts;
    PsOcr *ocr, *ocr_weak;
    Tally layout[MAX_LAYOUTS];
    Tally cond[MAX_CONDS]; /* per condition the notes of generated frames name */
    int st_right, st_total;
    double *ms, *cpu;
    guint n;
    GHashTable *tx_reads; /* transaction -> OcrFusion */
} Run;

static OcrDetector detector_of(const char *s)
{
    return g_strcmp0(s, "union") == 0 ? OCR_DETECTOR_UNION
           : g_strcmp0(s, "only") == 0 ? OCR_DETECTOR_ONLY
                                       : OCR_DETECTOR_OFF;
}

static const char *detector_name(OcrDetector d)
{
    return d == OCR_DETECTOR_UNION ? "union" : d == OCR_DETECTOR_ONLY ? "only" : "off";
}

/* The stages of the reader that BENCH_COMPARE=OFF turns off in the second configuration
 * (each a gboolean of OcrOptions), under the names the tables' headings give them. */
static const struct {
    const char *off, *name;
    gsize field;
} stages[] = {
    {"lines-off", "line reader", G_STRUCT_OFFSET(OcrOptions, line_reader)},
    {"line-check-off", "line check", G_STRUCT_OFFSET(OcrOptions, line_check)},
    {"enlarge-off", "enlarged regions", G_STRUCT_OFFSET(OcrOptions, enlarge_regions)},
    {"confirm-off", "weak codes confirmed", G_STRUCT_OFFSET(OcrOptions, confirm_weak)},
    {"chains-off", "components' lines", G_STRUCT_OFFSET(OcrOptions, chain_lines)},
    {"owners-off", "owner codes searched", G_STRUCT_OFFSET(OcrOptions, owner_search)},
    {"fuse-off", "weak codes pooled", G_STRUCT_OFFSET(OcrOptions, fuse_weak)},
    {"pieces-off", "broken M and W read whole", G_STRUCT_OFFSET(OcrOptions, wide_pieces)},
    {"unseen-off", "unseen serial digits as lost", G_STRUCT_OFFSET(OcrOptions, unseen_digits)},
    {"even-off", "serials at one pitch", G_STRUCT_OFFSET(OcrOptions, even_serials)},
    {"rows-off", "weak codes' rows pooled", G_STRUCT_OFFSET(OcrOptions, weak_rows)},
    {"columns-off", "weak codes' columns pooled", G_STRUCT_OFFSET(OcrOptions, weak_columns)},
    {"dark-off", "dark pass", G_STRUCT_OFFSET(OcrOptions, dark_pass)},
    {"region-chains-off", "regions' lines", G_STRUCT_OFFSET(OcrOptions, region_chains)},
    {"wide-off", "wide line reader", G_STRUCT_OFFSET(OcrOptions, wide_lines)},
    {"far-ends-off", "components' lines read further", G_STRUCT_OFFSET(OcrOptions, far_ends)},
    {"cross-off", "joins across line sets", G_STRUCT_OFFSET(OcrOptions, cross_joins)},
    {"avx2-off", "AVX2 code", G_STRUCT_OFFSET(OcrOptions, avx2)},
    {"keep-off", "working buffers kept", G_STRUCT_OFFSET(OcrOptions, keep_buffers)},
};

/* The index in stages[] of BENCH_COMPARE value @cmp (G_N_ELEMENTS(stages): none). */
static guint stage_of(const char *cmp)
{
    guint i = 0;
    while (i < G_N_ELEMENTS(stages) && g_strcmp0(cmp, stages[i].off) != 0)
        i++;
    return i;
}

static gboolean *stage_flag(OcrOptions *opts, guint i)
{
    return G_STRUCT_MEMBER_P(opts, stages[i].field);
}

/* The options of BENCH_COMPARE=@cmp's second configuration: a stage off, or a detector mode. */
static void compare_options(const char *cmp, OcrOptions *opts)
{
    guint i = stage_of(cmp);
    if (i < G_N_ELEMENTS(stages))
        *stage_flag(opts, i) = FALSE;
    else
        opts->detector = detector_of(cmp);
}

/* Whether two reads are the same: code, size/type, confidence, box, orientation and every
 * probability, to the bit (not the structs' padding). */
static gboolean same_read(const OcrRead *a, const OcrRead *b)
{
    return strcmp(a->code, b->code) == 0 && strcmp(a->size_type, b->size_type) == 0 &&
           memcmp(&a->confidence, &b->confidence, sizeof a->confidence) == 0 &&
           memcmp(a->bbox, b->bbox, sizeof a->bbox) == 0 && a->orientation == b->orientation &&
           memcmp(&a->probs, &b->probs, sizeof a->probs) == 0;
}

/* bench-ocr --time N IMAGE...: CPU ms of ocr_read() alone (decode excluded) on each image's
 * RGBX pixels, N runs each: median and minimum, and what was read. With BENCH_COMPARE, each
 * run reads the frame with both configurations in turn: the second's median, its ratio to
 * the first's, and whether it read the same. */
static int time_frames(int argc, char **argv)
{
    int runs = MAX(atoi(argv[2]), 1);
    const char *cmp = g_getenv("BENCH_COMPARE");
    OcrOptions opts[2];
    PsOcr *ocr[2] = {NULL, NULL};
    for (int c = 0; c < (cmp ? 2 : 1); c++) {
        ocr_options_init(&opts[c]);
        if (c == 1)
            compare_options(cmp, &opts[c]);
        ocr[c] = ocr_new(&opts[c], NULL);
    }
    OcrReads *reads = g_new(OcrReads, 2);
    double ratio_sum = 0;
    int n_frames = 0, n_same = 0;
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
        double *ms[2] = {g_new(double, runs), g_new(double, runs)};
        for (int r = 0; r < runs; r++)
            for (int q = 0; q < (cmp ? 2 : 1); q++) {
                int c = (r % 2 && cmp) ? 1 - q : q; /* alternate which goes first */
                double t0 = thread_cpu_ms();
                ocr_read(ocr[c], rgbx, w, h, w * 4, OCR_PIXEL_RGBX, &reads[c], NULL);
                ms[c][r] = thread_cpu_ms() - t0;
            }
        qsort(ms[0], runs, sizeof(double), cmp_double);
        printf("%s: %dx%d ocr_read CPU ms median %.2f min %.2f (%d runs);", argv[i], w, h,
               ms[0][runs / 2], ms[0][0], runs);
        for (int k = 0; k < reads[0].n_reads; k++)
            printf(" %s(%.2f)", reads[0].reads[k].code, reads[0].reads[k].confidence);
        if (cmp) {
            qsort(ms[1], runs, sizeof(double), cmp_double);
            gboolean same = reads[0].n_reads == reads[1].n_reads;
            for (int k = 0; same && k < reads[0].n_reads; k++)
                same = same_read(&reads[0].reads[k], &reads[1].reads[k]);
            printf(" | %s: median %.2f, ratio %.2f, %s", cmp, ms[1][runs / 2],
                   ms[1][runs / 2] / MAX(ms[0][runs / 2], 1e-3),
                   same ? "the same reads" : "OTHER READS");
            ratio_sum += ms[1][runs / 2] / MAX(ms[0][runs / 2], 1e-3);
            n_frames++;
            n_same += same;
        }
        printf("\n");
        g_free(ms[0]);
        g_free(ms[1]);
        g_free(rgbx);
        pixDestroy(&p32);
        pixDestroy(&pix);
    }
    if (cmp && n_frames)
        printf("%s against the reader's defaults, same run: mean ratio of the medians %.2f; the "
               "same reads (codes, boxes, confidences, probabilities) on %d of %d frames\n",
               cmp, ratio_sum / n_frames, n_same, n_frames);
    g_free(reads);
    for (int c = 0; c < 2; c++)
        if (ocr[c])
            ocr_free(ocr[c]);
    return 0;
}

/* Prints @run's table, fused transactions and times; sorts its time arrays. */
static void report(Run *run, const char **layouts, int n_layouts, const char **conds,
                   int n_conds, GHashTable *tx_codes, gboolean verbose)
{
    Tally sum = {{0}};
    printf("%-18s %6s %6s %6s %6s\n", "layout", "images", "right", "wrong", "none");
    for (int k = 0; k < n_layouts; k++) {
        print_tally(layouts[k], &run->layout[k]);
        for (int o = 0; o < N_OUTCOMES; o++)
            sum.n[o] += run->layout[k].n[o];
    }
    int all_total = sum.n[RIGHT] + sum.n[WRONG] + sum.n[NONE];
    printf("%-18s %6d %6d %6d %6d  (%.1f%% right, %.1f%% wrong)\n", "all", all_total,
           sum.n[RIGHT], sum.n[WRONG], sum.n[NONE],
           all_total ? 100.0 * sum.n[RIGHT] / all_total : 0,
           all_total ? 100.0 * sum.n[WRONG] / all_total : 0);
    if (n_conds > 0)
        printf("condition (frames may have several)\n");
    for (int k = 0; k < n_conds; k++)
        print_tally(conds[k], &run->cond[k]);
    printf("size/type right where the code is right and labelled: %d of %d\n", run->st_right,
           run->st_total);
    if (g_hash_table_size(run->tx_reads) > 0) {
        int tx_right = 0, tx_wrong_code = 0, tx_multi = 0, tx_multi_right = 0;
        int c_multi = 0, c_multi_right = 0, c_single = 0, c_single_right = 0;
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, run->tx_reads);
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
            /* The containers this transaction's cameras saw at least twice: the fusion's
             * goal is for codes read over two views or more. */
            gboolean multi = TRUE;
            GHashTableIter ct;
            gpointer code, views;
            g_hash_table_iter_init(&ct, want);
            while (g_hash_table_iter_next(&ct, &code, &views)) {
                gboolean confirmed = FALSE;
                for (int r = 0; r < fused.n_reads; r++)
                    confirmed |= strcmp(fused.reads[r].code, code) == 0;
                if (GPOINTER_TO_INT(views) >= 2) {
                    c_multi++;
                    c_multi_right += confirmed;
                } else {
                    multi = FALSE;
                    c_single++;
                    c_single_right += confirmed;
                }
            }
            tx_multi += multi;
            tx_multi_right += multi && ok;
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
               "%d with a wrong confirmed code\n", tx_right, g_hash_table_size(run->tx_reads),
               tx_wrong_code);
        printf("  containers in 2 views or more: %d of %d confirmed; in one view: %d of %d; "
               "transactions whose containers all have 2 views or more: %d of %d right\n",
               c_multi_right, c_multi, c_single_right, c_single, tx_multi_right, tx_multi);
    }
    if (all_total > 0) {
        qsort(run->ms, run->n, sizeof(double), cmp_double);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("ms per image: median %.1f, p95 %.1f, max %.1f (%d images); peak RSS %ld MB\n",
               run->ms[run->n / 2], run->ms[(run->n * 95) / 100 < run->n
                                          ? (run->n * 95) / 100 : run->n - 1],
               run->ms[run->n - 1], all_total, ru.ru_maxrss / 1024);
        /* CPU time of the reading thread: what one core spends, whatever else the machine
         * runs. */
        qsort(run->cpu, run->n, sizeof(double), cmp_double);
        printf("CPU ms per image (decode included): median %.1f, p95 %.1f, max %.1f\n",
               run->cpu[run->n / 2], run->cpu[MIN((run->n * 95) / 100, run->n - 1)],
               run->cpu[run->n - 1]);
    }
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
            /* Generated frames' notes: `seed S; small; jpeg; ...`, the conditions after the
             * seed. */
            if (g_strv_length(f) >= 6 && g_str_has_prefix(f[5], "seed ")) {
                char **tags = g_strsplit(f[5], ";", -1);
                l->conds = g_new0(char *, g_strv_length(tags));
                for (int t = 1; tags[t]; t++)
                    l->conds[t - 1] = g_strdup(g_strstrip(tags[t]));
                g_strfreev(tags);
            }
            g_ptr_array_add(labels, l);
        }
        g_strfreev(f);
    }
    g_strfreev(lines);
    g_free(text);

    /* The three layouts of the gate photos first (also when a set has none of them), then
     * every other layout the labels name, in order of appearance; the conditions in order of
     * appearance. */
    const char *layouts[MAX_LAYOUTS] = {"horizontal_1line", "multi_line", "vertical"};
    int n_layouts = 3;
    const char *conds[MAX_CONDS];
    int n_conds = 0;
    for (guint i = 0; i < labels->len; i++) {
        const Label *l = labels->pdata[i];
        name_index(layouts, &n_layouts, MAX_LAYOUTS, l->layout);
        for (int t = 0; l->conds && l->conds[t]; t++)
            name_index(conds, &n_conds, MAX_CONDS, l->conds[t]);
    }
    /* BENCH_COMPARE=off|union|only: a second configuration, the reference, read image by image
     * in alternation with the first (same load), and the CPU ratios of the two. */
    const char *cmp = g_getenv("BENCH_COMPARE");
    int n_runs = cmp ? 2 : 1;
    Run runs[2];
    for (int r = 0; r < n_runs; r++) {
        Run *run = &runs[r];
        memset(run, 0, sizeof *run);
        ocr_options_init(&run->opts);
        if (g_getenv("BENCH_MIN_CONFIDENCE"))
            run->opts.min_confidence = g_ascii_strtod(g_getenv("BENCH_MIN_CONFIDENCE"), NULL);
        if (r == 1)
            compare_options(cmp, &run->opts);
        run->ocr = ocr_new(&run->opts, NULL);
        OcrOptions weak = run->opts;
        weak.weak_reads = 0.2;
        run->ocr_weak = ocr_new(&weak, NULL);
        run->ms = g_new(double, labels->len + 1);
        run->cpu = g_new(double, labels->len + 1);
        run->tx_reads = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                              (GDestroyNotify)ocr_fusion_free);
    }
    GHashTable *tx_codes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                 (GDestroyNotify)g_hash_table_destroy);
    OcrReads *reads = g_new(OcrReads, 1);
    gboolean verbose = g_getenv("BENCH_VERBOSE") != NULL;
    for (guint i = 0; i < labels->len; i++) {
        Label *l = labels->pdata[i];
        char *path = g_build_filename(dir, l->file, NULL);
        int li = MAX(name_index(layouts, &n_layouts, MAX_LAYOUTS, l->layout), 0);
        if (l->transaction && !g_hash_table_contains(tx_codes, l->transaction))
            g_hash_table_insert(tx_codes, l->transaction,
                                g_hash_table_new(g_str_hash, g_str_equal));
        if (l->transaction) {
            GHashTable *codes = g_hash_table_lookup(tx_codes, l->transaction);
            int views = GPOINTER_TO_INT(g_hash_table_lookup(codes, l->code));
            g_hash_table_insert(codes, l->code, GINT_TO_POINTER(views + 1));
        }
        for (int q = 0; q < n_runs; q++) {
            int r = (i % 2 && n_runs == 2) ? 1 - q : q; /* alternate which goes first */
            Run *run = &runs[r];
            gint64 t0 = g_get_monotonic_time();
            double c0 = thread_cpu_ms();
            GError *error = NULL;
            if (!ocr_read_file(run->ocr, path, reads, &error)) {
                printf("error: %s\n", error->message);
                g_clear_error(&error);
                continue;
            }
            run->ms[run->n] = (g_get_monotonic_time() - t0) / 1000.0;
            run->cpu[run->n++] = thread_cpu_ms() - c0;
            const char *best = reads->n_reads ? reads->reads[0].code : "";
            Outcome o = !reads->n_reads ? NONE : strcmp(best, l->code) == 0 ? RIGHT : WRONG;
            run->layout[li].n[o]++;
            for (int t = 0; l->conds && l->conds[t]; t++) {
                int k = name_index(conds, &n_conds, MAX_CONDS, l->conds[t]);
                if (k >= 0)
                    run->cond[k].n[o]++;
            }
            if (reads->n_reads && strcmp(best, l->code) == 0 && l->size_type[0]) {
                run->st_total++;
                run->st_right += strcmp(reads->reads[0].size_type, l->size_type) == 0;
            }
            if (verbose)
                printf("%s%-32s %-16s %s %-12s %.3f %s\n", n_runs == 2 && r == 0 ? "ref " : "",
                       l->file, l->layout, l->code, best,
                       reads->n_reads ? reads->reads[0].confidence : 0.0,
                       !reads->n_reads ? "none" : strcmp(best, l->code) == 0 ? "ok" : "WRONG");
            if (l->transaction) {
                OcrFusion *fu = g_hash_table_lookup(run->tx_reads, l->transaction);
                if (!fu) {
                    fu = ocr_fusion_new(NULL);
                    g_hash_table_insert(run->tx_reads, l->transaction, fu);
                }
                OcrReads *wr = g_new(OcrReads, 1);
                ocr_read_file(run->ocr_weak, path, wr, NULL);
                ocr_fusion_add_reads(fu, wr);
                g_free(wr);
            }
        }
        g_free(path);
    }
    for (int r = n_runs - 1; r >= 0; r--) {
        if (n_runs == 2) {
            printf("== %s: detector %s", r == 1 ? "compared" : "reference (first)",
                   detector_name(runs[r].opts.detector));
            for (guint i = 0; i < G_N_ELEMENTS(stages); i++)
                printf(", %s %s", stages[i].name, *stage_flag(&runs[r].opts, i) ? "on" : "off");
            printf("\n");
        }
        report(&runs[r], layouts, n_layouts, conds, n_conds, tx_codes, verbose);
    }
    if (n_runs == 2 && runs[0].n > 0 && runs[1].n > 0) {
        int n = runs[0].n;
        printf("CPU ratio compared / reference, same run: median %.2f, p95 %.2f\n",
               runs[1].cpu[runs[1].n / 2] / runs[0].cpu[n / 2],
               runs[1].cpu[MIN((runs[1].n * 95) / 100, runs[1].n - 1)] /
                   runs[0].cpu[MIN((n * 95) / 100, n - 1)]);
    }
    for (int r = 0; r < n_runs; r++) {
        g_free(runs[r].cpu);
        g_free(runs[r].ms);
        g_hash_table_destroy(runs[r].tx_reads);
        ocr_free(runs[r].ocr);
        ocr_free(runs[r].ocr_weak);
    }
    g_free(reads);
    g_hash_table_destroy(tx_codes);
    for (guint i = 0; i < labels->len; i++) {
        Label *l = labels->pdata[i];
        g_free(l->file);
        g_free(l->code);
        g_free(l->size_type);
        g_free(l->layout);
        g_free(l->transaction);
        g_strfreev(l->conds);
        g_free(l);
    }
    g_ptr_array_free(labels, TRUE);
    g_free(csv_path);
    g_free(dir);
    return 0;
}
