/* daemon_node.c: the node side of `portsight run` (daemon-node.h). */
#define G_LOG_DOMAIN "node"

#include "daemon-node.h"

#include <string.h>

#include "mqtt-subscriber.h"
#include "daemon-mqtt.h"
#include "topics.h"
#include "video.h"

NodeRole app_node_role(AppConfig *config)
{
    NodeRole r = NODE_ROLE_ALL;
    node_role_parse(app_config_string(config, "engine", "role"), &r);
    return r;
}

const char *app_node_name(AppConfig *config)
{
    const char *name = app_config_string(config, "engine", "name");
    return name ? name : app_config_string(config, "mqtt", "client_id");
}

char *app_node_status_text(AppConfig *config, gboolean online)
{
    NodeRole role = app_node_role(config);
    if (role == NODE_ROLE_ALL)
        return NULL;
    g_autoptr(NodeStatus) s = node_status_new(app_node_name(config), role, online);
    /* The annotated stream of each camera: the wall's RTSP server serves it alone. */
    gboolean streams = app_config_has_group(config, "wall") &&
                       app_config_int(config, "wall", "rtsp_port") > 0 &&
                       app_config_bool(config, "wall", "rtsp_per_camera");
    const char *host = app_config_string(config, "engine", "stream_host");
    g_auto(GStrv) groups = role == NODE_ROLE_CAMERAS ? app_config_instances(config, "camera")
                                                     : g_new0(char *, 1);
    for (guint i = 0; groups[i]; i++) {
        const char *cam = groups[i] + strlen("camera ");
        g_autofree char *url =
            streams ? g_strdup_printf("rtsp://%s:%d/cam/%s", host ? host : g_get_host_name(),
                                      (int)app_config_int(config, "wall", "rtsp_port"), cam)
                    : NULL;
        node_status_add_camera(s, cam, url);
    }
    return node_status_payload(s, NULL);
}

NodeStatus *app_node_heard(AppDaemon *d, const char *node, const char *payload, gsize len)
{
    GError *error = NULL;
    NodeStatus *s = node_status_parse(node, payload, len, &error);
    if (!s) {
        g_warning("status/node-%s: ignored: %s", node, error->message);
        g_error_free(error);
        return NULL;
    }
    NodeStatus *copy = node_status_new(s->node, s->role, s->online);
    GString *cams = g_string_new(NULL);
    for (guint i = 0; i < s->cameras->len; i++) {
        const NodeCamera *c = &g_array_index(s->cameras, NodeCamera, i);
        node_status_add_camera(copy, c->name, c->stream);
        g_string_append_printf(cams, "%s%s", cams->len ? ", " : "", c->name);
    }
    if (!node_directory_update(d->nodes, s)) {
        node_status_free(copy);
        copy = NULL;
    } else {
        g_message("node %s (%s) is %s%s%s", copy->node, node_role_name(copy->role),
                  copy->online ? "online" : "offline", cams->len ? ": cameras " : "", cams->str);
    }
    g_string_free(cams, TRUE);
    return copy;
}

/* ---- the feed ---- */

typedef struct {
    AppDaemon *daemon;
    PsMqttSubscriber *sub;
    char *root;
    PsScene *scene; /* the video's (borrowed; the feed stops first) */
    gboolean wall;  /* a wall node: node status adds streams and shows NO SIGNAL */
    gint stopped;   /* atomic: set before the video goes away */
} Feed;

typedef struct {
    Feed *feed; /* a reference */
    NodeStatus *status;
} Heard;

static void feed_unref(Feed *f)
{
    g_atomic_rc_box_release_full(f, NULL);
}

static void heard_free(gpointer p)
{
    Heard *h = p;
    feed_unref(h->feed);
    node_status_free(h->status);
    g_free(h);
}

/* Main loop: a wall node shows the streams of the cameras on its tiles that a node announced,
 * and NO SIGNAL on those of a node that went offline (its will, or its clean stop). */
static gboolean apply_heard(gpointer p)
{
    Heard *h = p;
    AppVideo *video = h->feed->daemon->video;
    if (g_atomic_int_get(&h->feed->stopped) || !video)
        return G_SOURCE_REMOVE;
    for (guint i = 0; i < h->status->cameras->len; i++) {
        const NodeCamera *c = &g_array_index(h->status->cameras, NodeCamera, i);
        GError *error = NULL;
        if (!h->status->online) {
            g_autofree char *why = g_strdup_printf("node %s offline", h->status->node);
            app_video_no_signal(video, c->name, why);
        } else if (c->stream && !app_video_add_stream(video, c->name, c->stream, &error)) {
            g_warning("camera %s of node %s (%s): %s", c->name, h->status->node, c->stream,
                      error->message);
        }
        g_clear_error(&error);
    }
    return G_SOURCE_REMOVE;
}

/* Paho's thread. Nothing is written: a camera or wall node keeps no inputs. */
static gboolean feed_ingest(PsStore *store, const char *topic, const char *payload, gsize len,
                            gpointer data, GError **error)
{
    Feed *f = data;
    const char *rest = topics_rest(f->root, topic);
    const char *node = node_status_topic_node(rest);
    if (node) {
        NodeStatus *s = app_node_heard(f->daemon, node, payload, len);
        if (s && f->wall) {
            Heard *h = g_new0(Heard, 1);
            h->feed = g_atomic_rc_box_acquire(f);
            h->status = s;
            g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, apply_heard, h, heard_free);
        } else {
            node_status_free(s);
        }
    } else if (rest && f->scene) {
        node_verdict_apply(f->scene, rest, payload, len);
    }
    return TRUE;
}

gboolean app_feed_start(AppDaemon *d, gpointer *state, GError **error)
{
    Feed *f = g_atomic_rc_box_new0(Feed);
    f->daemon = d;
    f->root = g_strdup(topics_root(app_config_string(d->config, "mqtt", "topic_root")));
    f->scene = d->video ? app_video_scene(d->video) : NULL;
    f->wall = app_node_role(d->config) == NODE_ROLE_WALL;
    PsMqttOptions o;
    app_mqtt_options(d->config, &o);
    const char *db = app_config_string(d->config, "store", "path");
    g_autofree char *persist = strcmp(db, ":memory:") ? g_strconcat(db, ".mqtt", NULL) : NULL;
    f->sub = mqtt_subscriber_new(&o, persist, d->store, feed_ingest, f, error);
    if (!f->sub) {
        app_feed_stop(d, f);
        return FALSE;
    }
    *state = f;
    return TRUE;
}

void app_feed_stop(AppDaemon *d, gpointer state)
{
    Feed *f = state;
    if (!f)
        return;
    mqtt_subscriber_free(f->sub); /* no ingest runs after this */
    g_atomic_int_set(&f->stopped, 1);
    g_free(f->root);
    f->root = NULL;
    feed_unref(f);
}
