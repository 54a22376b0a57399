/* topics.h: the contract's MQTT topics and the payloads the engine builds, in one place.
 *
 * Every topic the engine reads or writes lives under the topic root ([mqtt] topic_root,
 * "port" when unset or empty). The subscriber's filters, the validation of an input's topic,
 * the engine's own outputs (camera reads, camera status, releases, holds, the engine status)
 * and the webhooks' topic filter all come from here, so no other file spells a topic.
 *
 * Pure: no I/O, no globals; safe from any thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The inputs of the contract (what the engine subscribes to). */
typedef enum {
    TOPICS_IN_UNKNOWN = 0,
    TOPICS_IN_CUSTOMS,   /* ROOT/customs/status */
    TOPICS_IN_ARRIVAL,   /* ROOT/rail/{yard}/arrival */
    TOPICS_IN_GATE,      /* ROOT/gate/{gate} */
    TOPICS_IN_SEAL,      /* ROOT/seal/{seal} */
    TOPICS_IN_RADIATION, /* ROOT/radiation/{portal} */
    TOPICS_IN_OCR,       /* ROOT/ocr/{camera} */
    TOPICS_IN_SELECT,    /* ROOT/cmd/select */
    TOPICS_IN_OVERRIDE,  /* ROOT/cmd/override: an officer's hold or override-release */
} TopicsInput;

/* @configured when it is set and not empty, else "port". Borrowed. */
const char *topics_root(const char *configured);

/* The subscription filters of every input under @root (NULL: "port"): NULL-terminated, free
 * with g_strfreev. */
char **topics_inputs(const char *root);

/* What the engine subscribes to: everything under @root ("ROOT/#"), so that a topic under the
 * root that is neither an input nor an output is dead-lettered with its reason rather than
 * never seen. NULL-terminated, free with g_strfreev. */
char **topics_subscriptions(const char *root);

/* Whether @topic is one of the engine's own outputs under @root that is not also an input
 * (release, hold, status, alert): what the subscriber receives back and ignores. */
gboolean topics_is_output(const char *root, const char *topic);

/* The part of @topic after "@root/", or NULL when @topic is not under @root (or is NULL).
 * Borrowed from @topic. */
const char *topics_rest(const char *root, const char *topic);

/* Which input @topic_rest (the topic without "ROOT/", e.g. "seal/S1") is. *@level (may be NULL)
 * gets the variable level (yard, gate, seal, portal, camera; NULL for the others), newly
 * allocated. TOPICS_IN_UNKNOWN (and *@level NULL) when it is none of the contract's inputs,
 * including a topic with an empty level. */
TopicsInput topics_input(const char *topic_rest, char **level);

/* Output topics under @root (NULL: "port"). Newly allocated. */
char *topics_ocr(const char *root, const char *camera);           /* ROOT/ocr/CAMERA */
char *topics_status(const char *root, const char *component);     /* ROOT/status/COMPONENT */
char *topics_camera_status(const char *root, const char *camera); /* ROOT/status/camera-NAME */
char *topics_node_status(const char *root, const char *node);     /* ROOT/status/node-NAME */
char *topics_decision(const char *root, const char *kind, const char *container); /* release|hold */

/* The kind of an output topic for filters (webhook `topics`): its first level after @root
 * ("release", "hold", "ocr", "status", "alert", ...), newly allocated, or NULL when @topic is
 * not under @root. */
char *topics_output_kind(const char *root, const char *topic);

/* Whether topics_output_kind(@root, @topic) is @kind. */
gboolean topics_output_kind_is(const char *root, const char *topic, const char *kind);

/* The current time as the contract writes it: RFC 3339, UTC, milliseconds. Newly allocated. */
char *topics_now(void);

/* A camera's confirmed container read, the payload of ROOT/ocr/CAMERA. */
typedef struct {
    const char *id;
    const char *ts;
    const char *camera;
    const char *container;
    const char *size_type; /* NULL: "" */
    double confidence;     /* rounded to 3 decimals */
    int bbox[4];           /* x, y, width, height */
} TopicsOcrRead;

/* The JSON text of @read. Newly allocated. */
char *topics_ocr_payload(const TopicsOcrRead *read);

/* A camera's health, the payload of ROOT/status/camera-NAME. */
typedef struct {
    const char *id;
    const char *ts;
    const char *camera;
    const char *state;  /* "online", "offline", ... */
    const char *reason; /* may be NULL */
    guint64 frames;
    int restarts;
} TopicsCameraStatus;

char *topics_camera_status_payload(const TopicsCameraStatus *status);

/* What the engine did with a selection, the payload of ROOT/status/selection (retained). */
typedef struct {
    const char *id;
    const char *ts;
    const char *container; /* NULL: none (a vessel, or cleared) */
    guint32 mmsi;          /* 0: none */
    const char *camera;    /* the camera that sees it, or NULL */
    const char *ptz;       /* the PTZs aimed, comma-separated, or NULL */
    const char *note;      /* why no PTZ was aimed, or NULL */
} TopicsSelection;

char *topics_selection_payload(const TopicsSelection *selection);

G_END_DECLS
