/* fsync_error_check.c: does an fdatasync this kernel acknowledged survive a filesystem error?
 *
 * The engine acknowledges an MQTT input once its journal commit returned, that is once
 * fdatasync() of SQLite's WAL returned 0. This program asks whether the kernel keeps that
 * promise when the disk fails under a running writer: on a small ext4 image on a loop device,
 * mounted errors=remount-ro (the usual setting), one thread appends 4 KB records, each followed
 * by fdatasync(), and counts the records acknowledged; another thread makes ext4 fail after a
 * delay (/sys/fs/ext4/DEV/trigger_fs_error, what a disk error does). The filesystem is then
 * unmounted, repaired (e2fsck -fy) and mounted again, and the records on disk are counted. A
 * run in which fewer records are on disk than were acknowledged has lost an acknowledged write.
 *
 * With --overwrite the file is written in full and synced first, and the records overwrite it
 * (no block allocation, no size change), as SQLite does with a WAL it reuses.
 *
 * Needs root, a loop device, mkfs.ext4, e2fsck and a kernel with trigger_fs_error. Exit status:
 * 0 no acknowledged record lost, 1 some lost, 2 cannot run here. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define RECORD 4096
#define MAX_RECORDS 4096 /* 16 MB: more than a run writes before the error */

typedef struct {
    char *trigger;
    guint delay_us;
} Trigger;

static gpointer fail_later(gpointer data)
{
    Trigger *t = data;
    g_usleep(t->delay_us);
    int fd = g_open(t->trigger, O_WRONLY, 0);
    if (fd >= 0) {
        if (write(fd, "fsync-error-check\n", 18) < 0)
            g_printerr("writing %s: %s\n", t->trigger, g_strerror(errno));
        close(fd);
    }
    return NULL;
}

static gboolean run_cmd(const char *const *argv, char **out, GError **error)
{
    int status = 0;
    GSpawnFlags flags = G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL;
    if (!out)
        flags |= G_SPAWN_STDOUT_TO_DEV_NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, flags, NULL, NULL, out, NULL, &status, error))
        return FALSE;
    return g_spawn_check_wait_status(status, error);
}

/* Record @i: its number in its first bytes, the rest a letter. */
static void fill_record(char *buf, guint i)
{
    memset(buf, 'a' + i % 26, RECORD);
    g_snprintf(buf, 32, "record %u\n", i);
}

/* Appends (or overwrites) records with fdatasync after each until a write or a sync fails;
 * returns how many were acknowledged. */
static guint write_records(const char *path, gboolean overwrite, const Trigger *t)
{
    int fd = g_open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return 0;
    g_autofree char *buf = g_malloc(RECORD);
    if (overwrite) {
        memset(buf, 0, RECORD);
        for (guint i = 0; i < MAX_RECORDS; i++)
            if (write(fd, buf, RECORD) != RECORD)
                break;
    }
    fsync(fd);
    GThread *th = g_thread_new("fail-later", fail_later, (gpointer)t);
    guint acked = 0;
    for (guint i = 0; i < MAX_RECORDS; i++) {
        fill_record(buf, i);
        if (pwrite(fd, buf, RECORD, (off_t)i * RECORD) != RECORD || fdatasync(fd) != 0)
            break;
        acked = i + 1;
    }
    g_thread_join(th);
    close(fd);
    return acked;
}

/* How many records, from the first on, are on disk intact. */
static guint records_on_disk(const char *path)
{
    int fd = g_open(path, O_RDONLY, 0);
    if (fd < 0)
        return 0;
    g_autofree char *buf = g_malloc(RECORD), *want = g_malloc(RECORD);
    guint n = 0;
    for (; n < MAX_RECORDS; n++) {
        fill_record(want, n);
        if (pread(fd, buf, RECORD, (off_t)n * RECORD) != RECORD || memcmp(buf, want, RECORD) != 0)
            break;
    }
    close(fd);
    return n;
}

int main(int argc, char **argv)
{
    int runs = 20;
    gboolean overwrite = FALSE;
    GOptionEntry entries[] = {
        {"runs", 'n', 0, G_OPTION_ARG_INT, &runs, "runs (default 20)", "N"},
        {"overwrite", 0, 0, G_OPTION_ARG_NONE, &overwrite,
         "overwrite a file written and synced before, instead of appending", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, "Whether an fdatasync the kernel acknowledged survives an "
                                      "ext4 error (errors=remount-ro) and its repair.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || runs < 1) {
        g_printerr("fsync-error-check: %s\n", error ? error->message : "--runs must be >= 1");
        return 2;
    }
    g_autofree char *dir = g_dir_make_tmp("fsync-check-XXXXXX", &error);
    if (!dir) {
        g_printerr("fsync-error-check: %s\n", error->message);
        return 2;
    }
    g_autofree char *image = g_build_filename(dir, "disk.img", NULL);
    g_autofree char *mnt = g_build_filename(dir, "mnt", NULL);
    g_autofree char *file = g_build_filename(mnt, "records", NULL);
    g_mkdir(mnt, 0700);
    int lost_runs = 0, status = 0;
    GRand *rand = g_rand_new();
    guint32 seed = g_rand_int(rand);
    g_rand_set_seed(rand, seed);
    printf("seed %u, %d runs, %s\n", seed, runs, overwrite ? "overwriting" : "appending");
    for (int run = 1; run <= runs && status == 0; run++) {
        g_autofree char *loop = NULL;
        int fd = g_open(image, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ftruncate(fd, 64 * 1024 * 1024) != 0) {
            g_printerr("fsync-error-check: %s: %s\n", image, g_strerror(errno));
            status = 2;
            break;
        }
        close(fd);
        const char *mkfs[] = {"mkfs.ext4", "-q", "-F", image, NULL};
        const char *losetup[] = {"losetup", "-f", "--show", image, NULL};
        if (!run_cmd(mkfs, NULL, &error) || !run_cmd(losetup, &loop, &error)) {
            g_printerr("fsync-error-check: %s\n", error->message);
            status = 2;
            break;
        }
        g_strstrip(loop);
        g_autofree char *name = g_path_get_basename(loop);
        Trigger t = {g_strdup_printf("/sys/fs/ext4/%s/trigger_fs_error", name),
                     (guint)g_rand_int_range(rand, 5000, 60000)};
        guint acked = 0, kept = 0;
        if (mount(loop, mnt, "ext4", 0, "errors=remount-ro") != 0) {
            g_printerr("fsync-error-check: mount %s: %s (run as root)\n", loop, g_strerror(errno));
            status = 2;
        } else if (!g_file_test(t.trigger, G_FILE_TEST_EXISTS)) {
            g_printerr("fsync-error-check: %s is missing (a kernel without it)\n", t.trigger);
            status = 2;
            umount2(mnt, 0);
        } else {
            acked = write_records(file, overwrite, &t);
            umount2(mnt, 0);
            const char *fsck[] = {"e2fsck", "-fy", image, NULL};
            run_cmd(fsck, NULL, NULL); /* exits 1: errors corrected */
            if (mount(loop, mnt, "ext4", 0, NULL) == 0) {
                kept = records_on_disk(file);
                umount2(mnt, 0);
            }
            printf("run %d: error after %u us, %u records acknowledged, %u on disk after the "
                   "repair%s\n",
                   run, t.delay_us, acked, kept, kept < acked ? ": LOST" : "");
            lost_runs += kept < acked;
        }
        const char *detach[] = {"losetup", "-d", loop, NULL};
        run_cmd(detach, NULL, NULL);
        g_free(t.trigger);
    }
    g_rand_free(rand);
    g_unlink(image);
    g_rmdir(mnt);
    g_rmdir(dir);
    if (status)
        return status;
    printf("%d of %d runs lost an acknowledged record\n", lost_runs, runs);
    return lost_runs ? 1 : 0;
}
