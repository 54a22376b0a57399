/* camsupport.h: helpers for the camera tests: a loopback RTSP camera in a child process, and
 * waiting on a CameraSet while its main context runs. */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include <signal.h>
#include <sys/types.h>

#include "camera.h"
#include "httpstub.h"

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

/* A loopback ONVIF endpoint (httpstub.h) that answers every request @status with the SOAP
 * body @answer (borrowed); http_free() stops it. */
typedef struct {
    int status;
    const char *answer;
} OnvifAnswer;

Http *camsupport_onvif_start(const OnvifAnswer *answer);
