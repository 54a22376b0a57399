/* video-private.h: the insides of AppVideo, shared by app/video*.c only. */
#pragma once

#include "camera.h"
#include "ptz.h"
#include "video.h"

typedef struct {
    char *name;
    char *uri;
    char *title;
    PsCameraModel *model; /* in the pixels portoverlay draws on, or NULL */
    int width, height;     /* the size portoverlay draws at */
    const char *state;     /* camera_state_name() of its last health change */
    guint64 rate_frames;   /* frames and time at the last fps estimate */
    gint64 rate_at;
    double fps;
    int published; /* the status last published: -1 none, 0 offline, 1 online */
} VideoCam;

struct AppVideo {
    AppConfig *config;
    AppVideoEventFunc events;
    gpointer user_data;
    PsScene *scene;
    CameraSet *cameras;
    PsWall *wall;
    GPtrArray *cams; /* (element-type VideoCam) */
    PtzSet *ptz;
    const char *root; /* the topic root */
    gboolean replaying; /* journal rows from before the start: selections are not redone */
    char **order;       /* the wall's tiles (camera names), or NULL without a wall */
    WallLayout layout;
    int wall_size[2];
};

/* The camera named @name, or NULL. */
VideoCam *app_video__find_cam(AppVideo *v, const char *name);

/* Builds [@group]'s camera (its model, PTZ, OCR and overlay filter) drawing at @draw (the wall
 * tile: x, y, width, height) and adds it to @v. FALSE with @error naming the group and key. */
gboolean app_video__add_camera(AppVideo *v, const char *group, const int draw[4],
                               GError **error);
