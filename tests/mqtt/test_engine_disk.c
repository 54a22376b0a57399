/* test_engine_disk.c: the engine stopped (SIGTERM) while its store is on a full filesystem
 * acknowledges nothing it has not journaled: after the space is freed and the engine started
 * again, every event the broker took is journaled. A real 2 MB tmpfs (needs root: skips
 * otherwise) and a real Mosquitto.
 *
 * The first argument (default 1) repeats the scenario; the slow suite runs it 10 times.
 * With "erofs" instead, the store's filesystem turns read-only while events arrive: an ext4
 * image on a loop device mounted errors=remount-ro, made to fail through the kernel's
 * /sys/fs/ext4/DEV/trigger_fs_error (what a disk error does; a tmpfs or a bind mount cannot be
 * remounted read-only while SQLite holds its files open for writing: "mount point is busy").
 * Skips without root, a loop device, mkfs.ext4 or that file. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "harness.h"

static guint runs = 1;
static char *tmp, *disk, *db_path;
static Broker *broker;
static Engine *engine;
static TestClient *pub;

static void setup(void)
{
    tmp = testutil_tmpdir();
    disk = g_build_filename(tmp, "disk", NULL);
    ck_assert_int_eq(g_mkdir(disk, 0700), 0);
    ck_assert_msg(mount("tmpfs", disk, "tmpfs", 0, "size=2m") == 0, "mount tmpfs: %s",
                  g_strerror(errno));
    db_path = g_build_filename(disk, "engine.db", NULL);
}

static void teardown(void)
{
    g_clear_pointer(&pub, test_client_free);
    g_clear_pointer(&engine, engine_free);
    g_clear_pointer(&broker, broker_free);
    if (disk)
        umount2(disk, MNT_DETACH);
    if (g_getenv("PS_KEEP_TMP"))
        fprintf(stderr, "kept %s\n", tmp);
    else
        testutil_rmtree(tmp);
    g_clear_pointer(&tmp, g_free);
    g_clear_pointer(&disk, g_free);
    g_clear_pointer(&db_path, g_free);
}

static char *engine_config(void)
{
    return g_strdup_printf("[store]\npath = %s\n\n[mqtt]\nurl = %s\nclient_id = ps-disk\n"
                           "topic_root = port\nkeepalive = 5\nreconnect_max = 1\n",
                           db_path, broker_url(broker));
}

/* Fills the filesystem of @dir with a file "fill" until it refuses (ENOSPC). */
static void fill_disk(const char *dir)
{
    g_autofree char *path = g_build_filename(dir, "fill", NULL);
    int fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    static char block[4096];
    ssize_t w;
    while ((w = write(fd, block, sizeof block)) > 0)
        ;
    ck_assert_int_eq(errno, ENOSPC);
    /* The last partial blocks too. */
    while (write(fd, block, 1) == 1)
        ;
    close(fd);
}

static void free_disk(const char *dir)
{
    g_autofree char *path = g_build_filename(dir, "fill", NULL);
    ck_assert_int_eq(g_unlink(path), 0);
}

static char *seal_event(guint run, guint i)
{
    g_autofree char *id = g_strdup_printf("full%u-seal-%u", run, i);
    g_autofree char *seal_id = g_strdup_printf("S%u", i);
    return ev_seal(id, seal_id, i, "sealed");
}

START_TEST(test_sigterm_on_a_full_store_acknowledges_nothing_unjournaled)
{
    const guint n = 50;
    broker = broker_start(tmp, NULL);
    g_autofree char *conf = engine_config();
    pub = test_client_new(broker_url(broker), "t-pub", TRUE, NULL, NULL, NULL);
    guint failed_runs = 0;
    for (guint run = 0; run < runs; run++) {
        engine = engine_start(tmp, conf);
        harness_wait_engine_ready(pub, db_path, tmp);
        fill_disk(disk);
        for (guint i = 0; i < n; i++) {
            g_autofree char *topic = g_strdup_printf("port/seal/S%u", i);
            g_autofree char *payload = seal_event(run, i);
            test_client_publish_async(pub, topic, payload);
        }
        test_client_flush(pub); /* the broker has them all */
        g_usleep(1500 * 1000);  /* the engine is stuck on the full disk meanwhile */
        int rc = engine_stop(engine); /* an operator's reaction to a disk-full alert */
        g_clear_pointer(&engine, engine_free);
        free_disk(disk);
        engine = engine_start(tmp, conf);
        g_autofree char *sql = g_strdup_printf(
            "SELECT count(*) FROM journal WHERE event_id LIKE 'full%u-seal-%%'", run);
        gint64 got = db_wait(db_path, sql, n, 30);
        fprintf(stderr, "disk full, run %u: exit code %d after SIGTERM, %" G_GINT64_FORMAT
                        " of %u journaled after the restart\n",
                run + 1, rc, got, n);
        /* 75: it stopped with a message in hand it could not journal (the usual case here);
         * 0: it had none in hand at that moment. Never killed for hanging (137). */
        ck_assert_msg(rc == 75 || rc == 0, "exit code %d after SIGTERM", rc);
        if (got != n) {
            failed_runs++;
            harness_dump_logs(tmp, 3000);
        }
        ck_assert_int_eq(engine_stop(engine), 0);
        g_clear_pointer(&engine, engine_free);
    }
    fprintf(stderr, "disk full: %u of %u runs lost events\n", failed_runs, runs);
    ck_assert_int_eq(failed_runs, 0);
}
END_TEST

/* ---- a filesystem that turns read-only ---- */

static char *image, *loopdev, *ext4_name;

static gboolean run_quiet(const char *const *argv, char **out)
{
    int status = 0;
    g_autofree char *err = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, &err,
                      &status, NULL))
        return FALSE;
    if (!g_spawn_check_wait_status(status, NULL)) {
        fprintf(stderr, "%s: %s", argv[0], err ? err : "");
        return FALSE;
    }
    return TRUE;
}

static void ro_mount(void)
{
    ck_assert_msg(mount(loopdev, disk, "ext4", 0, "errors=remount-ro") == 0, "mount %s: %s",
                  loopdev, g_strerror(errno));
}

/* An unchecked fixture: it runs in the test runner, so the filesystem and its loop device go
 * also when an assertion ends the test's own process. */
static void setup_ro(void)
{
    tmp = testutil_tmpdir();
    disk = g_build_filename(tmp, "disk", NULL);
    image = g_build_filename(tmp, "disk.img", NULL);
    ck_assert_int_eq(g_mkdir(disk, 0700), 0);
    db_path = g_build_filename(disk, "engine.db", NULL);
    int fd = g_open(image, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 16 * 1024 * 1024), 0);
    close(fd);
    const char *mkfs[] = {"mkfs.ext4", "-q", "-F", image, NULL};
    if (!run_quiet(mkfs, NULL))
        testutil_skip("mkfs.ext4 (e2fsprogs) cannot make a filesystem here");
    const char *losetup[] = {"losetup", "-f", "--show", image, NULL};
    if (!run_quiet(losetup, &loopdev) || !loopdev || !*loopdev)
        testutil_skip("no loop device (losetup -f --show failed)");
    g_strstrip(loopdev);
    ext4_name = g_path_get_basename(loopdev);
    ro_mount();
    g_autofree char *trigger = g_strdup_printf("/sys/fs/ext4/%s/trigger_fs_error", ext4_name);
    if (!g_file_test(trigger, G_FILE_TEST_EXISTS))
        testutil_skip("%s is missing (a kernel without it)", trigger);
}

static void teardown_ro(void)
{
    if (!tmp)
        return;
    if (disk && umount2(disk, 0) != 0 && errno != EINVAL) {
        fprintf(stderr, "umount %s: %s (detached lazily)\n", disk, g_strerror(errno));
        umount2(disk, MNT_DETACH);
    }
    if (loopdev) {
        const char *detach[] = {"losetup", "-d", loopdev, NULL};
        run_quiet(detach, NULL);
    }
    testutil_rmtree(tmp);
    g_clear_pointer(&tmp, g_free);
    g_clear_pointer(&disk, g_free);
    g_clear_pointer(&db_path, g_free);
    g_clear_pointer(&image, g_free);
    g_clear_pointer(&loopdev, g_free);
    g_clear_pointer(&ext4_name, g_free);
}

/* The filesystem fails as on a disk error: ext4 aborts its journal and remounts read-only;
 * every write after that, to files already open too, fails with EROFS. */
static void turn_read_only(void)
{
    g_autofree char *trigger = g_strdup_printf("/sys/fs/ext4/%s/trigger_fs_error", ext4_name);
    int tfd = g_open(trigger, O_WRONLY, 0);
    ck_assert_msg(tfd >= 0, "%s: %s", trigger, g_strerror(errno));
    ck_assert_int_gt(write(tfd, "portsight test\n", 15), 0);
    close(tfd);
    g_autofree char *probe = g_build_filename(disk, "probe", NULL);
    int fd = g_open(probe, O_WRONLY | O_CREAT, 0600);
    ck_assert_msg(fd < 0 && errno == EROFS, "the filesystem is still writable");
}

/* What an operator does: unmount, repair, mount again read-write. */
static void restore(void)
{
    /* Until it takes a write: an error still pending in ext4 may turn it read-only again. */
    g_autofree char *probe = g_build_filename(disk, "probe", NULL);
    for (int attempt = 0;; attempt++) {
        ck_assert_int_eq(umount2(disk, 0), 0);
        const char *fsck[] = {"e2fsck", "-fy", image, NULL};
        g_spawn_sync(NULL, (char **)fsck, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                         G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, NULL, NULL); /* exits 1: errors corrected */
        ro_mount();
        int fd = g_open(probe, O_WRONLY | O_CREAT, 0600);
        if (fd >= 0 && fsync(fd) == 0) {
            close(fd);
            g_unlink(probe);
            return;
        }
        ck_assert_msg(attempt < 3, "%s stays read-only after a repair: %s", disk,
                      g_strerror(errno));
        if (fd >= 0)
            close(fd);
        g_usleep(200 * 1000);
    }
}

START_TEST(test_sigterm_on_a_read_only_store_acknowledges_nothing_unjournaled)
{
    const guint n = 50, before = 20;
    broker = broker_start(tmp, NULL);
    g_autofree char *conf = engine_config();
    pub = test_client_new(broker_url(broker), "t-pub", TRUE, NULL, NULL, NULL);
    engine = engine_start(tmp, conf);
    harness_wait_engine_ready(pub, db_path, tmp);
    for (guint i = 0; i < n; i++) {
        if (i == before) {
            /* The first ones journaled, then the disk fails, then the others arrive. The error
             * comes between two writes of the engine, not during one: while ext4 aborts its
             * journal and before it remounts read-only (a few ms), an fdatasync that grows a
             * file can return success for data the abort then drops (the kernel's window, see
             * docs/deployment.md), and no program can keep an event acknowledged there. */
            test_client_flush(pub);
            g_autofree char *sql = g_strdup_printf(
                "SELECT count(*) FROM journal WHERE event_id LIKE 'full%u-seal-%%'", 0u);
            ck_assert_int_eq(db_wait(db_path, sql, before, 30), before);
            turn_read_only();
        }
        g_autofree char *topic = g_strdup_printf("port/seal/S%u", i);
        g_autofree char *payload = seal_event(0, i);
        test_client_publish_async(pub, topic, payload);
    }
    test_client_flush(pub); /* the broker has them all */
    g_usleep(1500 * 1000);  /* the engine meets the read-only store meanwhile */
    int rc = engine_stop(engine);
    g_clear_pointer(&engine, engine_free);
    restore();
    engine = engine_start(tmp, conf);
    gint64 got = db_wait(db_path,
                         "SELECT count(*) FROM journal WHERE event_id LIKE 'full0-seal-%'", n, 60);
    for (guint i = 0; got != n && i < n; i++) {
        g_autofree char *one = g_strdup_printf(
            "SELECT count(*) FROM journal WHERE event_id = 'full0-seal-%u'", i);
        if (db_scalar(db_path, one) == 0)
            fprintf(stderr, "missing: full0-seal-%u\n", i);
    }
    fprintf(stderr, "read-only store: exit code %d after SIGTERM, %" G_GINT64_FORMAT
                    " of %u journaled after the restart\n",
            rc, got, n);
    if (got != n)
        harness_dump_logs(tmp, 3000);
    int rc2 = engine_stop(engine);
    g_clear_pointer(&engine, engine_free);
    g_clear_pointer(&pub, test_client_free);
    g_clear_pointer(&broker, broker_free);
    ck_assert_msg(rc == 75 || rc == 0, "exit code %d after SIGTERM", rc);
    ck_assert_int_eq(got, n);
    ck_assert_int_eq(rc2, 0);
}
END_TEST

static const TestutilTest erofs_tests[] = {
    {&test_sigterm_on_a_read_only_store_acknowledges_nothing_unjournaled},
};
static const TestutilCase erofs_case = {"erofs", 300, TESTUTIL_TESTS(erofs_tests),
                                        .once_setup = setup_ro, .once_teardown = teardown_ro};

static const TestutilTest disk_tests[] = {
    {&test_sigterm_on_a_full_store_acknowledges_nothing_unjournaled},
};
static const TestutilCase disk_case = {"disk", 500, TESTUTIL_TESTS(disk_tests), setup, teardown};

int main(int argc, char **argv)
{
    gboolean erofs = argc > 1 && strcmp(argv[1], "erofs") == 0;
    if (argc > 1 && !erofs)
        runs = (guint)MAX(1, atoi(argv[1]));
    /* A tmpfs of our own needs root (or a user namespace we do not set up here). */
    g_autofree char *probe = g_dir_make_tmp("portsight-mount-XXXXXX", NULL);
    if (!probe || mount("tmpfs", probe, "tmpfs", 0, "size=64k") != 0) {
        fprintf(stderr, "SKIP: cannot mount a tmpfs (%s): run as root\n", g_strerror(errno));
        if (probe)
            g_rmdir(probe);
        return 77;
    }
    umount2(probe, MNT_DETACH);
    g_rmdir(probe);
    if (erofs)
        return testutil_run_cases("mqtt-erofs", &erofs_case, 1);
    return testutil_run_cases("mqtt-disk", &disk_case, 1);
}
