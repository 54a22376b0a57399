/* bench_ais.c: AIS decoding speed, portsight against gpsdecode in the same run.
 *
 *   bench-ais [SENTENCES] [PORTSIGHT]
 *
 * Builds ~SENTENCES (default 1,000,000) NMEA sentences into a temporary file by repeating the
 * shared gpsd/libais captures (multi-sentence groups kept together, sequence ids rewritten and
 * checksums recomputed), then decodes the file with `portsight ais decode -u` and with
 * `gpsdecode -u -j -s`, output to /dev/null, and prints sentences per second of CPU time (user +
 * system of the child, from wait4) for both, their ratio and each one's peak memory (ru_maxrss).
 * It also checks on a sample that both print the same objects (every key gpsdecode prints but
 * *_text, device, scaled), and times the decoder library in-process. Exit 1 when the sample
 * differs. */
#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "ais.h"
#include "ps-config.h"

static const char *const captures[] = {
    "ais/gpsd/sample.aivdm",        "ais/gpsd/ais-18-27.log",
    "ais/gpsd/ais-nmea-type6-fid55.log", "ais/gpsd/ais-nmea.log",
    "ais/gpsd/ais-raw-messages.log", "ais/gpsd/ais_unpack_sixbit.log",
    "ais/gpsd/ait250.log",          "ais/gpsd/saab-r4.log",
    "ais/libais/typeexamples.nmea", "ais/libais/test.aivdm",
};

/* One unit: a single sentence or a whole multi-sentence group, as lines without checksums
 * (the checksum and any receiver suffix are recomputed/kept when writing). */
typedef struct {
    GPtrArray *bodies;  /* "AIVDM,2,1,%c,A,payload,0" with the sequence id as '%c' placeholder */
    GPtrArray *suffix;  /* what followed "*hh" */
} Unit;

static void unit_free(gpointer p)
{
    Unit *u = p;
    g_ptr_array_unref(u->bodies);
    g_ptr_array_unref(u->suffix);
    g_free(u);
}

/* Splits "!AIVDM,...*hh<suffix>" into the body between '!' and '*' and the suffix. */
static gboolean split_sentence(const char *line, char **body, char **suffix, char ***fields)
{
    if (line[0] != '!' || strlen(line) < 7 || strncmp(line + 3, "VD", 2) != 0)
        return FALSE;
    const char *star = strrchr(line, '*');
    if (!star || strlen(star) < 3)
        return FALSE;
    *body = g_strndup(line + 1, (gsize)(star - line - 1));
    *suffix = g_strdup(star + 3);
    *fields = g_strsplit(*body, ",", -1);
    if (g_strv_length(*fields) != 7) {
        g_free(*body);
        g_free(*suffix);
        g_strfreev(*fields);
        return FALSE;
    }
    return TRUE;
}

static GPtrArray *load_units(const char *data, guint *n_sentences)
{
    GPtrArray *units = g_ptr_array_new_with_free_func(unit_free);
    *n_sentences = 0;
    for (guint c = 0; c < G_N_ELEMENTS(captures); c++) {
        g_autofree char *path = g_build_filename(data, captures[c], NULL);
        g_autofree char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL))
            continue;
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        Unit *open = NULL;
        guint expect = 0;
        for (guint i = 0; lines[i]; i++) {
            g_strchomp(lines[i]);
            char *body, *suffix, **f;
            if (!split_sentence(lines[i], &body, &suffix, &f))
                continue;
            guint total = (guint)atoi(f[1]), num = (guint)atoi(f[2]);
            if (total <= 1) {
                Unit *u = g_new0(Unit, 1);
                u->bodies = g_ptr_array_new_with_free_func(g_free);
                u->suffix = g_ptr_array_new_with_free_func(g_free);
                g_ptr_array_add(u->bodies, g_strdup(body));
                g_ptr_array_add(u->suffix, g_strdup(suffix));
                g_ptr_array_add(units, u);
                (*n_sentences)++;
                open = NULL;
            } else if (num == 1) {
                open = g_new0(Unit, 1);
                open->bodies = g_ptr_array_new_with_free_func(g_free);
                open->suffix = g_ptr_array_new_with_free_func(g_free);
                expect = total;
            }
            if (total > 1 && open) {
                g_ptr_array_add(open->bodies, g_strdup_printf("%s,%s,%s,%%c,%s,%s,%s", f[0], f[1],
                                                              f[2], f[4], f[5], f[6]));
                g_ptr_array_add(open->suffix, g_strdup(suffix));
                if (num == expect) {
                    *n_sentences += open->bodies->len;
                    g_ptr_array_add(units, open);
                    open = NULL;
                }
            }
            g_free(body);
            g_free(suffix);
            g_strfreev(f);
        }
        if (open)
            unit_free(open);
    }
    return units;
}

static void write_sentence(FILE *out, const char *body, const char *suffix)
{
    guint x = 0;
    for (const char *p = body; *p; p++)
        x ^= (guint8)*p;
    fprintf(out, "!%s*%02X%s\n", body, x, suffix);
}

/* Writes about @target sentences; returns how many. */
static guint64 generate(const char *path, GPtrArray *units, guint64 target)
{
    FILE *out = fopen(path, "w");
    if (!out) {
        fprintf(stderr, "bench-ais: %s: %s\n", path, g_strerror(errno));
        exit(2);
    }
    guint64 n = 0;
    guint seq = 0;
    while (n < target) {
        for (guint i = 0; i < units->len && n < target; i++) {
            Unit *u = units->pdata[i];
            char sid = (char)('0' + seq % 10);
            if (u->bodies->len > 1)
                seq++;
            for (guint j = 0; j < u->bodies->len; j++) {
                const char *b = u->bodies->pdata[j];
                if (u->bodies->len > 1) {
                    g_autofree char *body = g_strdup(b);
                    char *ph = strstr(body, "%c");
                    ph[0] = sid;
                    memmove(ph + 1, ph + 2, strlen(ph + 2) + 1);
                    write_sentence(out, body, u->suffix->pdata[j]);
                } else {
                    write_sentence(out, b, u->suffix->pdata[j]);
                }
                n++;
            }
        }
    }
    fclose(out);
    return n;
}

typedef struct {
    double cpu;     /* user + system seconds */
    long maxrss_kb;
    int status;
} Run;

/* Runs @argv with stdin from @in (or /dev/null) and stdout to @out_path (or /dev/null). */
static Run run_child(char *const argv[], const char *in, const char *out_path)
{
    Run r = {0};
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        int fi = open(in ? in : "/dev/null", O_RDONLY);
        int fo = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open("/dev/null", O_WRONLY);
        if (fi < 0 || fo < 0 || fe < 0)
            _exit(127);
        dup2(fi, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    struct rusage ru;
    if (wait4(pid, &r.status, 0, &ru) < 0) {
        perror("wait4");
        exit(2);
    }
    r.cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
            ru.ru_stime.tv_usec / 1e6;
    r.maxrss_kb = ru.ru_maxrss;
    return r;
}

static GPtrArray *ais_objects(const char *path)
{
    GPtrArray *objs = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return objs;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (lines[i][0] != '{')
            continue;
        JsonNode *n = json_from_string(lines[i], NULL);
        if (n && JSON_NODE_HOLDS_OBJECT(n) &&
            g_strcmp0(json_object_get_string_member_with_default(json_node_get_object(n), "class",
                                                                 ""),
                      "AIS") == 0)
            g_ptr_array_add(objs, n);
        else if (n)
            json_node_unref(n);
    }
    return objs;
}

/* Objects of both outputs compared pairwise; returns the number that differ. */
static guint compare_outputs(const char *mine_path, const char *ref_path, guint *compared)
{
    g_autoptr(GPtrArray) mine = ais_objects(mine_path);
    g_autoptr(GPtrArray) ref = ais_objects(ref_path);
    guint bad = 0;
    *compared = ref->len;
    if (mine->len != ref->len) {
        printf("sample: portsight printed %u objects, gpsdecode %u\n", mine->len, ref->len);
        return MAX(1u, (guint)ABS((int)mine->len - (int)ref->len));
    }
    for (guint i = 0; i < ref->len; i++) {
        JsonObject *r = json_node_get_object(ref->pdata[i]);
        JsonObject *m = json_node_get_object(mine->pdata[i]);
        GList *keys = json_object_get_members(r);
        for (GList *l = keys; l; l = l->next) {
            const char *k = l->data;
            if (g_str_has_suffix(k, "_text") || !strcmp(k, "device") || !strcmp(k, "scaled"))
                continue;
            JsonNode *mv = json_object_get_member(m, k);
            if (!mv || !json_node_equal(mv, json_object_get_member(r, k))) {
                if (bad < 3)
                    printf("sample: object %u differs in '%s'\n", i + 1, k);
                bad++;
                break;
            }
        }
        g_list_free(keys);
    }
    return bad;
}

int main(int argc, char **argv)
{
    guint64 target = argc > 1 ? g_ascii_strtoull(argv[1], NULL, 10) : 1000000;
    const char *portsight = argc > 2 ? argv[2] : g_getenv("PORTSIGHT");
    const char *data = g_getenv("PS_SHARED_DATA") ? g_getenv("PS_SHARED_DATA")
                                                  : PS_BENCH_SHARED_DATA;
    if (!portsight) {
        fprintf(stderr, "usage: bench-ais [SENTENCES] PORTSIGHT (or set PORTSIGHT)\n");
        return 2;
    }
    guint n_base;
    g_autoptr(GPtrArray) units = load_units(data, &n_base);
    if (units->len == 0) {
        printf("SKIP: no AIS captures under %s/ais\n", data);
        return 0;
    }
    g_autofree char *gpsdecode = g_find_program_in_path("gpsdecode");
    g_autofree char *dir = g_dir_make_tmp("bench-ais-XXXXXX", NULL);
    g_autofree char *input = g_build_filename(dir, "input.nmea", NULL);
    g_autofree char *sample = g_build_filename(dir, "sample.nmea", NULL);
    g_autofree char *out_mine = g_build_filename(dir, "portsight.json", NULL);
    g_autofree char *out_ref = g_build_filename(dir, "gpsdecode.json", NULL);
    guint64 n = generate(input, units, target);
    guint64 n_sample = generate(sample, units, MIN(target, 50000));
    printf("input: %" G_GUINT64_FORMAT " sentences from %u captured sentences (%u units)\n", n,
           n_base, units->len);

    /* In-process: the decoder library and JSON writer alone. */
    {
        g_autofree char *text = NULL;
        gsize len;
        g_file_get_contents(input, &text, &len, NULL);
        PsAisDecoder *dec = ais_decoder_new(NULL);
        GString *out = g_string_sized_new(1 << 16);
        struct rusage a, b;
        getrusage(RUSAGE_SELF, &a);
        guint64 msgs = 0;
        for (char *p = text, *e; p < text + len; p = e + 1) {
            e = memchr(p, '\n', (gsize)(text + len - p));
            if (!e)
                e = text + len;
            const AisMessage *m;
            guint k;
            if (ais_decoder_feed(dec, p, (gsize)(e - p), 0, &m, &k, NULL) && k) {
                ais_message_to_json(m, FALSE, out);
                msgs++;
                g_string_truncate(out, 0);
            }
        }
        getrusage(RUSAGE_SELF, &b);
        double cpu = (double)(b.ru_utime.tv_sec - a.ru_utime.tv_sec) +
                     (b.ru_utime.tv_usec - a.ru_utime.tv_usec) / 1e6 +
                     (double)(b.ru_stime.tv_sec - a.ru_stime.tv_sec) +
                     (b.ru_stime.tv_usec - a.ru_stime.tv_usec) / 1e6;
        printf("library (decode + unscaled JSON, in process): %" G_GUINT64_FORMAT
               " messages, %.3f s CPU, %.0f sentences/s\n",
               msgs, cpu, n / MAX(cpu, 1e-6));
        g_string_free(out, TRUE);
        ais_decoder_free(dec);
    }

    char *mine_argv[] = {(char *)portsight, "ais", "decode", "-u", input, NULL};
    char *ref_argv[] = {gpsdecode, "-u", "-j", "-s", NULL};
    Run best_mine = {.cpu = 1e9}, best_ref = {.cpu = 1e9};
    for (int rep = 0; rep < 3; rep++) {
        Run r = run_child(mine_argv, NULL, NULL);
        if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
            fprintf(stderr, "bench-ais: portsight failed (status %d)\n", r.status);
            return 2;
        }
        if (r.cpu < best_mine.cpu)
            best_mine = r;
        if (gpsdecode) {
            r = run_child(ref_argv, input, NULL);
            if (r.cpu < best_ref.cpu)
                best_ref = r;
        }
    }
    printf("portsight ais decode -u : %.3f s CPU, %.0f sentences/s, peak RSS %ld KiB\n",
           best_mine.cpu, n / best_mine.cpu, best_mine.maxrss_kb);
    int rc = 0;
    if (gpsdecode) {
        printf("gpsdecode -u -j -s      : %.3f s CPU, %.0f sentences/s, peak RSS %ld KiB\n",
               best_ref.cpu, n / best_ref.cpu, best_ref.maxrss_kb);
        printf("ratio (portsight / gpsdecode sentences per CPU second): %.2fx (target >= 5x)\n",
               best_ref.cpu / best_mine.cpu);
        char *mine_s[] = {(char *)portsight, "ais", "decode", "-u", sample, NULL};
        run_child(mine_s, NULL, out_mine);
        run_child(ref_argv, sample, out_ref);
        guint compared;
        guint bad = compare_outputs(out_mine, out_ref, &compared);
        printf("sample of %" G_GUINT64_FORMAT " sentences: %u objects compared, %u differ\n",
               n_sample, compared, bad);
        rc = bad ? 1 : 0;
    } else {
        printf("gpsdecode: not installed, no reference run\n");
    }
    g_unlink(input);
    g_unlink(sample);
    g_unlink(out_mine);
    g_unlink(out_ref);
    g_rmdir(dir);
    return rc;
}
