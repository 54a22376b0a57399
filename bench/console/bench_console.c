/* bench-console: the wall served by the console, with a time code burnt into the picture at
 * the wall's input, for the browser side (bench/console/latency.py) to read back.
 *
 *   bench-console --listen 127.0.0.1:PORT --users FILE [--seconds S]
 *
 * One synthetic camera fills the first tile of a 2x2 1280x720 25 fps wall: each frame carries
 * the wall-clock time (milliseconds modulo 2^24) as 24 black/white blocks along its top. The
 * browser compares it with its own clock (same machine) when the frame is presented: that is
 * the glass-to-glass latency from the wall's input to the page, through compositor, encoder,
 * the transport (WebRTC or MSE) and the browser's decoder. Every 5 s the process's CPU time
 * is printed ("cpu SECONDS viewers MSE WEBRTC") for the per-viewer cost. */
#include <glib-unix.h>
#include <gst/gst.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "console.h"
#include "overlay.h"
#include "wall.h"

#define W 640
#define H 360
#define BITS 24
#define BLOCK 24

typedef struct {
    PsWall *wall;
    GMainLoop *loop;
    guint frames;
} Bench;

static gboolean push_frame(gpointer data)
{
    Bench *b = data;
    GstBuffer *buf = gst_buffer_new_allocate(NULL, (gsize)W * H * 4, NULL);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    /* A moving grey gradient below (so the encoder has something to do) and the code above. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            guint8 v = (guint8)((x + y + b->frames * 4) & 0xff) / 2 + 40;
            guint8 *p = map.data + ((gsize)y * W + x) * 4;
            p[0] = p[1] = p[2] = v;
            p[3] = 255;
        }
    guint32 ms = (guint32)((g_get_real_time() / 1000) & 0xffffff);
    for (int i = 0; i < BITS; i++) {
        guint8 v = (ms >> (BITS - 1 - i)) & 1 ? 255 : 0;
        for (int y = 0; y < BLOCK; y++)
            for (int x = 0; x < BLOCK; x++) {
                guint8 *p = map.data + ((gsize)(y + 4) * W + (i * (BLOCK + 2) + x + 4)) * 4;
                p[0] = p[1] = p[2] = v;
            }
    }
    gst_buffer_unmap(buf, &map);
    GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "BGRx", "width",
                                        G_TYPE_INT, W, "height", G_TYPE_INT, H, "framerate",
                                        GST_TYPE_FRACTION, 25, 1, NULL);
    GstSample *s = gst_sample_new(buf, caps, NULL, NULL);
    wall_push(b->wall, "clock", s);
    gst_sample_unref(s);
    gst_caps_unref(caps);
    gst_buffer_unref(buf);
    b->frames++;
    return G_SOURCE_CONTINUE;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static gboolean report(gpointer data)
{
    printf("cpu %.3f\n", cpu_seconds());
    fflush(stdout);
    return G_SOURCE_CONTINUE;
}

static gboolean quit(gpointer data)
{
    g_main_loop_quit(((Bench *)data)->loop);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:18090", *users = NULL;
    double seconds = 600;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0)
            listen = argv[i + 1];
        else if (strcmp(argv[i], "--users") == 0)
            users = argv[i + 1];
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = g_ascii_strtod(argv[i + 1], NULL);
    }
    if (!users) {
        fprintf(stderr, "usage: bench-console --users FILE [--listen ADDR] [--seconds S]\n");
        return 2;
    }
    gst_init(&argc, &argv);
    GError *error = NULL;
    WallConfig wc;
    wall_config_init(&wc);
    wc.width = 1280;
    wc.height = 720;
    wc.bitrate_kbps = 3000;
    const char *cams[] = {"clock", NULL};
    Bench b = {wall_new(&wc, cams, &error), g_main_loop_new(NULL, FALSE), 0};
    PsStore *store = b.wall ? store_open(":memory:", &error) : NULL;
    PsRules *rules = store ? rules_new(store, "port", &error) : NULL;
    ConsoleConfig cc = {.listen = listen, .users = users, .store = store, .rules = &rules,
                        .engine = {.wall = b.wall}};
    PsConsole *console = rules && wall_start(b.wall, &error) ? console_new(&cc, &error) : NULL;
    if (!console) {
        fprintf(stderr, "bench-console: %s\n", error ? error->message : "cannot start");
        return 1;
    }
    printf("listening %s\n", listen);
    fflush(stdout);
    g_timeout_add(40, push_frame, &b);
    g_timeout_add(5000, report, &b);
    g_timeout_add((guint)(seconds * 1000), quit, &b);
    g_unix_signal_add(SIGTERM, quit, &b);
    g_unix_signal_add(SIGINT, quit, &b);
    g_main_loop_run(b.loop);
    console_free(console);
    wall_free(b.wall);
    rules_free(rules);
    store_close(store);
    g_main_loop_unref(b.loop);
    return 0;
}
