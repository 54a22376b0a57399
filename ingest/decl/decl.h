/* decl.h: customs declarations from CSV or JSON text (a `portsight db import` file, or what
 * the customs REST service answers) into customs status events (the payload of
 * ROOT/customs/status), one per row. Pure: no I/O, no store; the caller validates and journals
 * each row (rules_validate, rules_ingest_from) in its own transaction.
 *
 * CSV: a header row naming the columns id, ts, declaration, status, flow, containers, origin,
 * destination, goods, consignee, vessel_name, vessel_imo, vessel_mmsi, vessel_voyage (RFC 4180
 * quoting; containers separated by spaces, ';' or '|'; an empty cell is an absent field).
 * JSON: an array of objects, or one object per line, with the event's own field names.
 * A row without ts gets @default_ts; without id, "import:DECLARATION:STATUS:TS", so that
 * importing the same rows again gives duplicates. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum { DECL_FORMAT_AUTO, DECL_FORMAT_JSON, DECL_FORMAT_CSV } DeclFormat;

/* Where a problem is: a row's line, or the whole text. */
typedef enum {
    DECL_BAD_ROW,  /* one row is bad (@line is its first line); the others go on */
    DECL_BAD_TEXT, /* the text is not what the format says (@reason starts with LINE:COL:) */
    DECL_BAD_FILE, /* nothing can be read (empty CSV, unknown column: @line 0 or the header's) */
} DeclBad;

typedef struct {
    /* A row as a customs status payload (JSON text) that starts at @line. Return FALSE with
     * @error to stop (a store error). */
    gboolean (*row)(const char *payload, int line, gpointer user_data, GError **error);
    /* A problem, with its reason. */
    void (*bad)(DeclBad kind, int line, const char *reason, gpointer user_data);
    gpointer user_data;
    const char *default_ts; /* RFC 3339 */
} DeclSink;

/* Picks the format of @text: @format, else from @name's suffix (.json .jsonl .ndjson .csv),
 * else JSON when it starts with '[' or '{', else CSV. */
DeclFormat decl_format(DeclFormat format, const char *name, const char *text);

/* Reads every row of @text (@len bytes, UTF-8, NUL-terminated) in @format (not AUTO) and hands
 * each to @sink. Returns FALSE only when @sink->row failed (its @error). *@unusable (may be
 * NULL) is set when a DECL_BAD_FILE problem stopped it. */
gboolean decl_read(const char *text, gsize len, DeclFormat format, const DeclSink *sink,
                   gboolean *unusable, GError **error);

G_END_DECLS
