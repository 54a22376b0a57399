/* ais-private.h: shared between the files of ais/ only. */
#pragma once

#include "ais.h"

/* Bits [@start, @start+@width) of @m->bits, most significant first; bits past the payload read
 * as 0. @width is at most 32. */
guint ais__ubits(const AisMessage *m, guint start, guint width);
gint ais__sbits(const AisMessage *m, guint start, guint width);

/* Six-bit text of at most @count characters from bit @start into @to (NUL-terminated, at most
 * @to_size - 1 characters), stopping at '@'; @trim removes trailing spaces and '@'. */
void ais__text(const AisMessage *m, guint start, guint count, char *to, gsize to_size,
               gboolean trim);
