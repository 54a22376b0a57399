/* daemon-node.h: `portsight run` as one node among several ([engine] role, node.h): what the
 * role runs, the node status the relay announces, and the feed component of camera and wall
 * nodes (verdicts and node status from the broker onto the scene, without a journal). */
#pragma once

#include "daemon.h"
#include "node.h"

G_BEGIN_DECLS

NodeRole app_node_role(AppConfig *config);
/* [engine] name, else [mqtt] client_id (validated at load when the role is not `all`). */
const char *app_node_name(AppConfig *config);

/* The node status this node announces, as JSON (node.h), online or offline; NULL for role
 * `all` (which keeps ROOT/status/engine = online|offline). Newly allocated. */
char *app_node_status_text(AppConfig *config, gboolean online);

/* A node status heard on the broker (topic ROOT/status/node-NAME): parsed, kept in
 * @daemon's directory and logged when it changed. Any thread. Returns the status (transfer
 * full) when it changed, else NULL. */
NodeStatus *app_node_heard(AppDaemon *daemon, const char *node, const char *payload, gsize len);

/* The feed (camera and wall nodes): a subscription whose releases and holds colour the scene's
 * containers, and whose node status messages tell a wall node which camera streams to show
 * (and which are gone: NO SIGNAL). Nothing is journaled. */
gboolean app_feed_start(AppDaemon *daemon, gpointer *state, GError **error);
void app_feed_stop(AppDaemon *daemon, gpointer state);

G_END_DECLS
