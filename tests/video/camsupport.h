/* camsupport.h: helpers for the camera tests: a loopback RTSP camera in a child process, and
 * waiting on a CameraSet while its main context runs. */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include <signal.h>
#include <sys/types.h>

#include "camera.h"

/* Runs the RTSP camera server in this process (the child side): never returns. */
int camsupport_serve(int port);

/* A free loopback TCP port. */
int camsupport_free_port(void);

/* Starts `argv0 --serve PORT` and returns its pid. */
GPid camsupport_spawn_server(const char *argv0, int port);

/* Runs @context until camera @name of @set is (@want TRUE) or is not (@want FALSE) in @state,
 * or @timeout_s passes. Returns the seconds it took, or -1 on timeout. */
double camsupport_wait_state(GMainContext *context, CameraSet *set, const char *name,
                             CameraState state, gboolean want, double timeout_s);

/* Runs @context for @seconds. */
void camsupport_run_for(GMainContext *context, double seconds);

/* A loopback HTTP endpoint that accepts one request, keeps it (headers and body) and answers
 * @status with @answer. */
typedef struct {
    GSocketListener *listener;
    int port;
    int status;
    const char *answer;
    GString *request;
    GThread *thread;
} Endpoint;

void endpoint_start(Endpoint *e, int status, const char *answer);
/* Waits until the request was answered. */
void endpoint_join(Endpoint *e);
void endpoint_stop(Endpoint *e);
