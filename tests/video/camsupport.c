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

/* ---- a loopback ONVIF endpoint ---- */

static char *onvif_respond(guint n, GHashTable *request, gpointer data)
{
    const OnvifAnswer *a = data;
    return g_strdup_printf("HTTP/1.1 %d X\r\nContent-Type: application/soap+xml\r\n"
                           "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                           a->status, strlen(a->answer), a->answer);
}

Http *camsupport_onvif_start(const OnvifAnswer *answer)
{
    return http_start_responder(onvif_respond, (gpointer)answer);
}
