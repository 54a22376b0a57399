/* iso6346.h: ISO 6346 freight container codes (GLib only, pure, thread-safe).
 *
 * A container code is 11 characters: a 3-letter owner code, an equipment category letter
 * (U freight container, J detachable equipment, Z trailer/chassis), a 6-digit serial number and a
 * check digit, e.g. "CSQU3054383". The size/type code (ISO 6346:1995) is 4 characters, e.g.
 * "22G1": length, height/width, and a 2-character type code whose first letter is the type group.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ISO6346_ERROR (iso6346_error_quark())
GQuark iso6346_error_quark(void);

typedef enum {
    ISO6346_ERROR_LENGTH,      /* not 11 characters (code) or 4 (size/type) */
    ISO6346_ERROR_OWNER,       /* owner code is not 3 letters A-Z */
    ISO6346_ERROR_CATEGORY,    /* category is not U, J or Z */
    ISO6346_ERROR_SERIAL,      /* serial number is not 6 digits */
    ISO6346_ERROR_CHECK_DIGIT, /* check digit is not a digit, or not the computed one */
    ISO6346_ERROR_SIZE_TYPE,   /* size/type code unknown */
    ISO6346_ERROR_FILE,        /* owner list could not be read */
} Iso6346Error;

/* The value of a code character in the check digit sum: '0'..'9' -> 0..9, 'A' -> 10, 'B' -> 12
 * ... 'Z' -> 38 (multiples of 11 skipped). Returns -1 for any other character (lower case
 * included). */
int iso6346_char_value(char c);

/* The check digit of the first 10 characters of @first10 (3 letters + category + 6 digits; only
 * the first 10 characters are read, so a full 11-character code may be passed). Returns 0..9
 * (a remainder of 10 gives 0), or -1 when @first10 is NULL, shorter than 10, or not of that
 * form. */
int iso6346_check_digit(const char *first10);

/* TRUE when @code is exactly 11 characters, no spaces, upper case: 3 owner letters, category
 * U/J/Z, 6 serial digits and the right check digit. Otherwise FALSE with an error naming what is
 * wrong and where, e.g. "check digit is 3, expected 7". */
gboolean iso6346_validate(const char *code, GError **error);

/* A parsed code. All strings are NUL-terminated. */
typedef struct {
    char code[12];    /* "CSQU3054383" */
    char owner[4];    /* "CSQ" */
    char category;    /* 'U' */
    char serial[7];   /* "305438" */
    int check_digit;  /* 3 */
} Iso6346Code;

/* Parses human or printed text of a code: upper or lower case, with optional spaces, dashes or
 * dots between the groups, as in "CSQU 305438 3" or "csqu-305438-3". The result is validated
 * like iso6346_validate(). On failure returns FALSE, leaves @out zeroed and fills @error. */
gboolean iso6346_parse(const char *text, Iso6346Code *out, GError **error);

/* The meaning of a size/type code (ISO 6346:1995). Strings are static. */
typedef struct {
    int length_mm;          /* nominal external length, e.g. 6058 for '2' (20 ft) */
    const char *length;     /* "20 ft" */
    int height_mm;          /* external height, 0 when the code gives only a range */
    const char *height;     /* "8 ft 6 in", "9 ft 6 in (high cube)" */
    const char *width;      /* "8 ft" or a wider class */
    const char *type_group; /* two-letter group: "GP", "RE", "UT", ... */
    const char *type;       /* description of the detailed type code, e.g. "general purpose,
                               passive vents at upper part of cargo space" */
} Iso6346SizeType;

/* Looks up @size_type (4 characters, e.g. "22G1", "45R1", "L5G1"). Returns FALSE with an error
 * naming the unknown character (length, height/width or type) otherwise. */
gboolean iso6346_size_type_lookup(const char *size_type, Iso6346SizeType *out, GError **error);

/* TRUE when @size_type is a known 4-character size/type code. */
gboolean iso6346_size_type_valid(const char *size_type);

/* A list of registered owner codes (BIC codes, 4 letters: owner + category, e.g. "CSQU").
 * Opaque; read-only after it is built, so it can be shared between threads. */
typedef struct _Iso6346Owners Iso6346Owners;

/* An empty list. Free with iso6346_owners_free(). */
Iso6346Owners *iso6346_owners_new(void);
/* Reads one code per line (first 4 characters of the line; '#' comments and blank lines are
 * skipped, at most 100000 lines). Returns NULL with an error naming the file and line. */
Iso6346Owners *iso6346_owners_new_from_file(const char *path, GError **error);
/* Adds @prefix (4 letters, case-insensitive). Returns FALSE when it is not 4 letters. */
gboolean iso6346_owners_add(Iso6346Owners *owners, const char *prefix);
/* TRUE when the first 4 characters of @code are in the list. NULL @owners means "no list": every
 * prefix is accepted. */
gboolean iso6346_owners_contains(const Iso6346Owners *owners, const char *code);
guint iso6346_owners_size(const Iso6346Owners *owners);
void iso6346_owners_free(Iso6346Owners *owners);

G_END_DECLS
