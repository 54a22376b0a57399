/* node.h: one engine among several. A node takes a role ([engine] role): `all` (the whole
 * engine, one machine), `cameras` (cameras, OCR and tracking; confirmed reads and camera health
 * go out through its own outbox), `decisions` (subscriber, rules, outbox relay, webhooks, AIS,
 * declarations) or `wall` (composes the camera nodes' annotated streams). Nodes meet only
 * through the broker: each announces itself on the retained ROOT/status/node-NAME (its role,
 * its cameras and their stream URLs), and its MQTT will sets that topic offline.
 *
 *  - the role table: which parts of the daemon a role runs;
 *  - the node status payload, built and parsed (parsing is defensive: it comes from the broker);
 *  - NodeDirectory: the nodes and cameras a node has heard of, thread-safe, bounded;
 *  - node_verdict_apply(): a release or hold from the broker onto a scene (camera and wall
 *    nodes draw the decision nodes' verdicts).
 *
 * No I/O and no globals. Errors in the NODE_ERROR domain.
 */
#pragma once

#include <glib.h>

#include "overlay.h"

G_BEGIN_DECLS

#define NODE_ERROR (node_error_quark())
GQuark node_error_quark(void);

typedef enum {
    NODE_ERROR_INVALID, /* a payload or name that is not what the contract says */
} NodeError;

typedef enum {
    NODE_ROLE_ALL = 0,
    NODE_ROLE_CAMERAS,
    NODE_ROLE_DECISIONS,
    NODE_ROLE_WALL,
} NodeRole;

/* The parts of the daemon a role may run. */
typedef enum {
    NODE_PART_RELAY,        /* the outbox relay (and the node's status and will) */
    NODE_PART_SUBSCRIBER,   /* inputs journaled and evaluated by the rules */
    NODE_PART_FEED,         /* releases, holds and node status onto the scene (no journal) */
    NODE_PART_AIS,          /* the AIS feed */
    NODE_PART_DECLARATIONS, /* the declaration pull */
    NODE_PART_VIDEO,        /* cameras, OCR, overlay, wall */
    NODE_PART_RULES_ON_READS, /* the cameras' own reads go through the local rules */
    NODE_PART_CONSOLE,      /* the HTTP console */
} NodePart;

/* "all", "cameras", "decisions", "wall" into *@role; FALSE for anything else. */
gboolean node_role_parse(const char *text, NodeRole *role);
const char *node_role_name(NodeRole role);
/* Whether @role runs @part. */
gboolean node_role_runs(NodeRole role, NodePart part);

/* A node name (also a topic level and a client id part): 1 to 64 of A-Z a-z 0-9 - _. */
gboolean node_name_valid(const char *name);

/* ---- the node status (ROOT/status/node-NAME, retained) ---- */

#define NODE_MAX_CAMERAS 256

typedef struct {
    char *name;   /* camera name */
    char *stream; /* its annotated stream (rtsp://HOST:PORT/cam/NAME), or NULL */
} NodeCamera;

typedef struct {
    char *node;
    NodeRole role;
    gboolean online;
    char *ts;            /* when the node said it (RFC 3339), or NULL */
    GArray *cameras;     /* (element-type NodeCamera), never NULL */
} NodeStatus;

NodeStatus *node_status_new(const char *node, NodeRole role, gboolean online);
void node_status_add_camera(NodeStatus *status, const char *camera, const char *stream);
void node_status_free(NodeStatus *status); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NodeStatus, node_status_free)

/* {"node", "role", "state": "online"|"offline", "ts", "cameras": [{"name", "stream"}]}.
 * @ts NULL: now. Newly allocated. */
char *node_status_payload(const NodeStatus *status, const char *ts);

/* Parses a node status payload of topic ROOT/status/node-@topic_node. NULL with @error naming
 * what is wrong: not JSON, a missing or bad field, "node" not @topic_node, more than
 * NODE_MAX_CAMERAS cameras, a camera name that is not node_name_valid(), a stream that is not
 * rtsp://, more than 64 KiB. */
NodeStatus *node_status_parse(const char *topic_node, const char *payload, gsize len,
                              GError **error);

/* The node name in @topic_rest ("status/node-NAME"), borrowed from it, or NULL when it is not
 * a node status topic. */
const char *node_status_topic_node(const char *topic_rest);

/* ---- the directory of nodes ---- */

typedef struct NodeDirectory NodeDirectory;

NodeDirectory *node_directory_new(void);
void node_directory_free(NodeDirectory *dir); /* accepts NULL */

/* Takes @status (also when it returns FALSE): the node's latest word replaces its previous
 * one. Returns TRUE when something changed (a node came, went, or changed its cameras). At most
 * 1024 nodes are kept: a new node beyond that is refused (FALSE). Thread-safe. */
gboolean node_directory_update(NodeDirectory *dir, NodeStatus *status);
/* The stream URL of @camera as its node announced it (newly allocated), or NULL. *@online
 * (may be NULL) gets whether its node is online. FALSE when no node announced @camera. */
gboolean node_directory_camera(NodeDirectory *dir, const char *camera, char **stream,
                               gboolean *online);
/* Nodes known, and of them online; cameras announced by online nodes. */
void node_directory_counts(NodeDirectory *dir, guint *nodes, guint *online, guint *cameras);
/* {"NODE": {"role", "state", "cameras": [...]}} (newly allocated). */
char *node_directory_json(NodeDirectory *dir);

/* ---- verdicts from the broker ---- */

/* Applies ROOT/release/CONTAINER (released) or ROOT/hold/CONTAINER (held, the "reasons" joined)
 * to @scene. Returns TRUE when @topic_rest ("release/X", "hold/X") was one of them and the
 * payload was usable; FALSE (and leaves the scene) for other topics or a payload that does not
 * name that container. Thread-safe as the scene is. */
gboolean node_verdict_apply(PsScene *scene, const char *topic_rest, const char *payload,
                            gsize len);

G_END_DECLS
