/* reference.h: reads the reference fixtures the training scripts write for the OCR tests
 * (tests/ocr/cnn_reference.txt, det_reference.txt): records of text lines, between which blank
 * lines and '#' comments are skipped. Every parse error fails the test naming the file and line. */
#pragma once

#include <glib.h>

typedef struct {
    char *path;
    char **lines;
    int i; /* the line being read, 0-based (messages give i + 1) */
} ReferenceFile;

/* Reads tests/ocr/@name under $PS_SOURCE_ROOT. */
void reference_open(ReferenceFile *ref, const char *name);
void reference_close(ReferenceFile *ref);

/* Moves to the first line of the next record and returns it, or NULL at the end of the file. */
const char *reference_record(ReferenceFile *ref);

/* Reads the @h lines after the current one, each @w bytes in hex, into @out (@w x @h), and moves
 * to the line after them. */
void reference_hex_rows(ReferenceFile *ref, int w, int h, guint8 *out);

/* Reads the @n space-separated numbers of @text, which is on line @line (0-based), into @out. */
void reference_numbers(const ReferenceFile *ref, int line, const char *text, int n, float *out);
