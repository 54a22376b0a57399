#include "camsupport.h"

#include <gio/gio.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

int camsupport_serve(int port)
{
    gst_init(NULL, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    GstRTSPServer *server = gst_rtsp_server_new();
    g_autofree char *service = g_strdup_printf("%d", port);
    gst_rtsp_server_set_address(server, "127.0.0.1");
    gst_rtsp_server_set_service(server, service);
    GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
    GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_launch(
        factory, "( videotestsrc is-live=true pattern=ball ! "
                 "video/x-raw,width=320,height=240,framerate=25/1 ! "
                 "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 bitrate=300 ! "
                 "rtph264pay name=pay0 pt=96 config-interval=-1 )");
    gst_rtsp_mount_points_add_factory(mounts, "/cam", factory);
    g_object_unref(mounts);
    if (gst_rtsp_server_attach(server, NULL) == 0) {
        g_printerr("rtsp server: cannot listen on port %d\n", port);
        return 1;
    }
    g_main_loop_run(loop);
    return 0;
}

int camsupport_free_port(void)
{
    GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                              NULL);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *addr = g_inet_socket_address_new(lo, 0);
    g_socket_bind(s, addr, TRUE, NULL);
    GSocketAddress *bound = g_socket_get_local_address(s, NULL);
    int port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_object_unref(bound);
    g_object_unref(addr);
    g_object_unref(lo);
    g_socket_close(s, NULL);
    g_object_unref(s);
    return port;
}

GPid camsupport_spawn_server(const char *argv0, int port)
{
    g_autofree char *p = g_strdup_printf("%d", port);
    char *argv[] = {(char *)argv0, "--serve", p, NULL};
    GPid pid = 0;
    GError *error = NULL;
    if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &pid, &error)) {
        g_printerr("spawn %s: %s\n", argv0, error->message);
        abort();
    }
    return pid;
}

double camsupport_wait_state(GMainContext *context, CameraSet *set, const char *name,
                             CameraState state, gboolean want, double timeout_s)
{
    gint64 start = g_get_monotonic_time();
    for (;;) {
        while (g_main_context_iteration(context, FALSE))
            ;
        double t = (g_get_monotonic_time() - start) / 1e6;
        if ((camera_set_state(set, name) == state) == want)
            return t;
        if (t > timeout_s)
            return -1;
        g_usleep(5000);
    }
}

void camsupport_run_for(GMainContext *context, double seconds)
{
    gint64 end = g_get_monotonic_time() + (gint64)(seconds * 1e6);
    while (g_get_monotonic_time() < end) {
        while (g_main_context_iteration(context, FALSE))
            ;
        g_usleep(5000);
    }
}

/* ---- a one-request-at-a-time HTTP endpoint ---- */


static gpointer serve_one(gpointer data)
{
    Endpoint *e = data;
    GSocketConnection *c = g_socket_listener_accept(e->listener, NULL, NULL, NULL);
    if (!c)
        return NULL;
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(c));
    char buf[4096];
    gssize content_length = -1;
    gsize header_end = 0;
    for (;;) {
        gssize n = g_input_stream_read(in, buf, sizeof buf, NULL, NULL);
        if (n <= 0)
            break;
        g_string_append_len(e->request, buf, n);
        if (!header_end) {
            char *end = strstr(e->request->str, "\r\n\r\n");
            if (end) {
                header_end = (gsize)(end - e->request->str) + 4;
                char *cl = strcasestr(e->request->str, "Content-Length:");
                content_length = cl ? atoi(cl + 15) : 0;
            }
        }
        if (header_end && e->request->len >= header_end + (gsize)content_length)
            break;
    }
    g_autofree char *reply = g_strdup_printf(
        "HTTP/1.1 %d X\r\nContent-Type: application/soap+xml\r\nContent-Length: %zu\r\n"
        "Connection: close\r\n\r\n%s", e->status, strlen(e->answer), e->answer);
    g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(c)), reply,
                              strlen(reply), NULL, NULL, NULL);
    g_io_stream_close(G_IO_STREAM(c), NULL, NULL);
    g_object_unref(c);
    return NULL;
}

void endpoint_start(Endpoint *e, int status, const char *answer)
{
    e->listener = g_socket_listener_new();
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *addr = g_inet_socket_address_new(lo, 0);
    GSocketAddress *effective = NULL;
    g_assert(g_socket_listener_add_address(e->listener, addr, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL, &effective, NULL));
    e->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
    g_object_unref(effective);
    g_object_unref(addr);
    g_object_unref(lo);
    e->status = status;
    e->answer = answer;
    e->request = g_string_new(NULL);
    e->thread = g_thread_new("http", serve_one, e);
}

void endpoint_join(Endpoint *e)
{
    if (e->thread)
        g_thread_join(e->thread);
    e->thread = NULL;
}

void endpoint_stop(Endpoint *e)
{
    endpoint_join(e);
    g_socket_listener_close(e->listener);
    g_object_unref(e->listener);
    g_string_free(e->request, TRUE);
}

