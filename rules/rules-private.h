/* rules-private.h: shared only between the files of rules/ (the rules__ tier). */
#pragma once

#include <json-glib/json-glib.h>

#include "rules.h"

/* Caps on what one input may carry. */
#define RULES_MAX_DEPTH 16          /* JSON nesting */
#define RULES_MAX_STRING 256        /* ids, numbers, names */
#define RULES_MAX_TEXT 4096         /* free text: goods, consignee */
#define RULES_MAX_LIST 1000         /* containers of a declaration, wagons of a train */
#define RULES_MAX_PER_WAGON 8       /* containers on one wagon */

typedef enum {
    RULES_IN_CUSTOMS,
    RULES_IN_ARRIVAL,
    RULES_IN_GATE,
    RULES_IN_SEAL,
    RULES_IN_RADIATION,
    RULES_IN_OCR,
    RULES_IN_SELECT,
    RULES_IN_OVERRIDE, /* ROOT/cmd/override: an officer's hold or override-release */
} RulesInputKind;

/* One validated input. Strings point into @root (owned) and live as long as it. */
typedef struct {
    RulesInputKind kind;
    JsonNode *root;
    const char *id;
    const char *ts;
    gint64 ts_us;
    const char *declaration, *status, *flow;  /* customs */
    const char *yard, *train;                 /* arrival */
    const char *container;                    /* gate, seal, radiation, ocr, select */
    const char *value;  /* gate: direction; seal: state; radiation: result */
    const char *mode;   /* gate: truck|rail */
    const char *reason, *officer; /* override */
    JsonNode *vessel;   /* customs: the vessel object (borrowed from root), or NULL */
    GPtrArray *containers; /* customs: containers[]; arrival: the whole manifest in order */
} RulesInput;

/* Parses and validates @payload (@len bytes, no NUL needed) for @topic_rest (the topic after
 * "ROOT/"). On success fills @in (clear it with rules__input_clear); on failure returns FALSE
 * with a RULES_ERROR_INVALID error naming the field, and leaves @in cleared. */
gboolean rules__parse(const char *topic_rest, const char *payload, gsize len, RulesInput *in,
                      GError **error);
void rules__input_clear(RulesInput *in);

/* The "id" string of a payload that failed validation, when one can be found; NULL otherwise.
 * Free with g_free. */
char *rules__guess_id(const char *payload, gsize len);

/* Parses an RFC 3339 date-time ("2026-11-26T10:00:00Z", "...T10:00:00.5+01:00") to
 * microseconds since the epoch. */
gboolean rules__parse_ts(const char *ts, gint64 *us);
