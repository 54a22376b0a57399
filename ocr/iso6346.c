/* iso6346.c: ISO 6346 check digit, parsing, size/type codes and owner lists. */
#include "iso6346.h"

#include <string.h>

G_DEFINE_QUARK(iso6346-error-quark, iso6346_error)

int iso6346_char_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c < 'A' || c > 'Z')
        return -1;
    /* Letters count from 10 upwards, skipping the multiples of 11 (11, 22, 33). */
    static const unsigned char letter_values[26] = {10, 12, 13, 14, 15, 16, 17, 18, 19,
                                                    20, 21, 23, 24, 25, 26, 27, 28, 29,
                                                    30, 31, 32, 34, 35, 36, 37, 38};
    return letter_values[c - 'A'];
}

static gboolean is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static gboolean is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static gboolean is_category(char c)
{
    return c == 'U' || c == 'J' || c == 'Z';
}

int iso6346_check_digit(const char *first10)
{
    if (!first10)
        return -1;
    for (int i = 0; i < 10; i++) {
        char c = first10[i];
        if (c == '\0')
            return -1;
        if (i < 3 && !is_upper(c))
            return -1;
        if (i == 3 && !is_category(c))
            return -1;
        if (i > 3 && !is_digit(c))
            return -1;
    }
    int sum = 0;
    for (int i = 0; i < 10; i++)
        sum += iso6346_char_value(first10[i]) << i;
    return (sum % 11) % 10;
}

gboolean iso6346_validate(const char *code, GError **error)
{
    if (!code) {
        g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_LENGTH, "no code");
        return FALSE;
    }
    size_t len = strlen(code);
    if (len != 11) {
        g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_LENGTH,
                    "code has %zu characters, expected 11", len);
        return FALSE;
    }
    for (int i = 0; i < 3; i++) {
        if (!is_upper(code[i])) {
            g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_OWNER,
                        "owner code character %d is '%c', expected a letter A-Z", i + 1,
                        g_ascii_isprint(code[i]) ? code[i] : '?');
            return FALSE;
        }
    }
    if (!is_category(code[3])) {
        g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_CATEGORY,
                    "category is '%c', expected U, J or Z",
                    g_ascii_isprint(code[3]) ? code[3] : '?');
        return FALSE;
    }
    for (int i = 4; i < 10; i++) {
        if (!is_digit(code[i])) {
            g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_SERIAL,
                        "serial number character %d is '%c', expected a digit", i - 3,
                        g_ascii_isprint(code[i]) ? code[i] : '?');
            return FALSE;
        }
    }
    if (!is_digit(code[10])) {
        g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_CHECK_DIGIT,
                    "check digit is '%c', expected a digit",
                    g_ascii_isprint(code[10]) ? code[10] : '?');
        return FALSE;
    }
    int expected = iso6346_check_digit(code);
    if (code[10] - '0' != expected) {
        g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_CHECK_DIGIT,
                    "check digit is %c, expected %d", code[10], expected);
        return FALSE;
    }
    return TRUE;
}

gboolean iso6346_parse(const char *text, Iso6346Code *out, GError **error)
{
    memset(out, 0, sizeof *out);
    if (!text) {
        g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_LENGTH, "no code");
        return FALSE;
    }
    char buf[12];
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        char c = *p;
        if (c == ' ' || c == '-' || c == '.' || c == '\t')
            continue;
        if (n == 11) {
            g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_LENGTH,
                        "code has more than 11 characters");
            return FALSE;
        }
        buf[n++] = g_ascii_toupper(c);
    }
    buf[n] = '\0';
    if (!iso6346_validate(buf, error))
        return FALSE;
    memcpy(out->code, buf, 12);
    memcpy(out->owner, buf, 3);
    out->category = buf[3];
    memcpy(out->serial, buf + 4, 6);
    out->check_digit = buf[10] - '0';
    return TRUE;
}

/* Size/type codes, ISO 6346:1995. */
typedef struct {
    char code;
    int mm;
    const char *text;
} SizeRow;

static const SizeRow length_rows[] = {
    {'1', 2991, "10 ft"},       {'2', 6058, "20 ft"},       {'3', 9125, "30 ft"},
    {'4', 12192, "40 ft"},      {'A', 7150, "7150 mm"},     {'B', 7315, "24 ft"},
    {'C', 7430, "24 ft 6 in"},  {'D', 7450, "7450 mm"},     {'E', 7820, "7820 mm"},
    {'F', 8100, "8100 mm"},     {'G', 12500, "41 ft"},      {'H', 13106, "43 ft"},
    {'K', 13600, "13600 mm"},   {'L', 13716, "45 ft"},      {'M', 14630, "48 ft"},
    {'N', 14935, "49 ft"},      {'P', 16154, "53 ft"},
};

typedef struct {
    char code;
    int mm;
    const char *height;
    const char *width;
} HeightRow;

static const HeightRow height_rows[] = {
    {'0', 2438, "8 ft", "8 ft"},
    {'2', 2591, "8 ft 6 in", "8 ft"},
    {'4', 2743, "9 ft", "8 ft"},
    {'5', 2896, "9 ft 6 in (high cube)", "8 ft"},
    {'6', 0, "over 9 ft 6 in", "8 ft"},
    {'8', 1295, "4 ft 3 in", "8 ft"},
    {'9', 0, "4 ft or less", "8 ft"},
    {'C', 2591, "8 ft 6 in", "over 2438 mm, up to 2500 mm"},
    {'D', 2743, "9 ft", "over 2438 mm, up to 2500 mm"},
    {'E', 2896, "9 ft 6 in (high cube)", "over 2438 mm, up to 2500 mm"},
    {'F', 0, "over 9 ft 6 in", "over 2438 mm, up to 2500 mm"},
    {'L', 2591, "8 ft 6 in", "over 2500 mm"},
    {'M', 2743, "9 ft", "over 2500 mm"},
    {'N', 2896, "9 ft 6 in (high cube)", "over 2500 mm"},
    {'P', 0, "over 9 ft 6 in", "over 2500 mm"},
};

typedef struct {
    const char *code;
    const char *group;
    const char *text;
} TypeRow;

static const TypeRow type_rows[] = {
    {"G0", "GP", "general purpose, openings at one or both ends"},
    {"G1", "GP", "general purpose, passive vents at upper part of cargo space"},
    {"G2", "GP", "general purpose, openings at one or both ends and full openings on sides"},
    {"G3", "GP", "general purpose, openings at one or both ends and partial openings on sides"},
    {"V0", "VH", "ventilated, non-mechanical, vents at lower and upper parts of cargo space"},
    {"V2", "VH", "ventilated, mechanical ventilation system located internally"},
    {"V4", "VH", "ventilated, mechanical ventilation system located externally"},
    {"B0", "BU", "dry bulk, closed"},
    {"B1", "BU", "dry bulk, airtight"},
    {"B3", "BU", "dry bulk, horizontal discharge, test pressure 150 kPa"},
    {"B4", "BU", "dry bulk, horizontal discharge, test pressure 265 kPa"},
    {"B5", "BU", "dry bulk, tipping discharge, test pressure 150 kPa"},
    {"B6", "BU", "dry bulk, tipping discharge, test pressure 265 kPa"},
    {"S0", "SN", "named cargo, livestock carrier"},
    {"S1", "SN", "named cargo, automobile carrier"},
    {"S2", "SN", "named cargo, live fish carrier"},
    {"R0", "RE", "refrigerated, mechanically refrigerated"},
    {"R1", "RT", "refrigerated and heated, mechanically"},
    {"R2", "RS", "refrigerated, self-powered"},
    {"R3", "RS", "refrigerated and heated, self-powered"},
    {"H0", "HR", "refrigerated or heated with removable equipment located externally, K=0.4"},
    {"H1", "HR", "refrigerated or heated with removable equipment located internally"},
    {"H2", "HR", "refrigerated or heated with removable equipment located externally, K=0.7"},
    {"H5", "HI", "thermal insulated, K=0.4"},
    {"H6", "HI", "thermal insulated, K=0.7"},
    {"U0", "UT", "open top, openings at one or both ends"},
    {"U1", "UT", "open top, openings at ends and removable top members in end frames"},
    {"U2", "UT", "open top, openings at one or both sides and ends"},
    {"U3", "UT", "open top, openings at sides and ends and removable top members"},
    {"U4", "UT", "open top, partial openings at one side and full at the other, ends"},
    {"U5", "UT", "open top, complete fixed side and end walls, no doors"},
    {"P0", "PL", "platform, flat"},
    {"P1", "PF", "platform based, two complete and fixed ends"},
    {"P2", "PF", "platform based, fixed posts, free-standing or with removable top member"},
    {"P3", "PC", "platform based, folding complete end structure"},
    {"P4", "PC", "platform based, folding posts, free-standing or with removable top member"},
    {"P5", "PS", "platform based, open top, open ends (skeletal)"},
    {"T0", "TN", "tank, non-dangerous liquids, minimum pressure 45 kPa"},
    {"T1", "TN", "tank, non-dangerous liquids, test pressure 150 kPa"},
    {"T2", "TN", "tank, non-dangerous liquids, test pressure 265 kPa"},
    {"T3", "TD", "tank, dangerous liquids, test pressure 150 kPa"},
    {"T4", "TD", "tank, dangerous liquids, test pressure 265 kPa"},
    {"T5", "TD", "tank, dangerous liquids, test pressure 400 kPa"},
    {"T6", "TD", "tank, dangerous liquids, test pressure 600 kPa"},
    {"T7", "TG", "tank, gases, test pressure 910 kPa"},
    {"T8", "TG", "tank, gases, test pressure 2200 kPa"},
    {"T9", "TG", "tank, gases, test pressure to be decided"},
    {"A0", "AS", "air/surface container"},
};

gboolean iso6346_size_type_lookup(const char *st, Iso6346SizeType *out, GError **error)
{
    memset(out, 0, sizeof *out);
    if (!st || strlen(st) != 4) {
        g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_LENGTH,
                    "size/type code has %zu characters, expected 4", st ? strlen(st) : 0);
        return FALSE;
    }
    const SizeRow *len = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(length_rows); i++)
        if (length_rows[i].code == st[0])
            len = &length_rows[i];
    if (!len) {
        g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_SIZE_TYPE,
                    "size/type length code '%c' is unknown",
                    g_ascii_isprint(st[0]) ? st[0] : '?');
        return FALSE;
    }
    const HeightRow *h = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(height_rows); i++)
        if (height_rows[i].code == st[1])
            h = &height_rows[i];
    if (!h) {
        g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_SIZE_TYPE,
                    "size/type height/width code '%c' is unknown",
                    g_ascii_isprint(st[1]) ? st[1] : '?');
        return FALSE;
    }
    const TypeRow *t = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(type_rows); i++)
        if (type_rows[i].code[0] == st[2] && type_rows[i].code[1] == st[3])
            t = &type_rows[i];
    if (!t) {
        g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_SIZE_TYPE,
                    "size/type type code '%c%c' is unknown",
                    g_ascii_isprint(st[2]) ? st[2] : '?', g_ascii_isprint(st[3]) ? st[3] : '?');
        return FALSE;
    }
    out->length_mm = len->mm;
    out->length = len->text;
    out->height_mm = h->mm;
    out->height = h->height;
    out->width = h->width;
    out->type_group = t->group;
    out->type = t->text;
    return TRUE;
}

gboolean iso6346_size_type_valid(const char *size_type)
{
    Iso6346SizeType st;
    return iso6346_size_type_lookup(size_type, &st, NULL);
}

/* Owner lists. */
struct _Iso6346Owners {
    GHashTable *set; /* owned "ABCU" strings */
};

#define OWNERS_MAX_LINES 100000

Iso6346Owners *iso6346_owners_new(void)
{
    Iso6346Owners *o = g_new0(Iso6346Owners, 1);
    o->set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return o;
}

gboolean iso6346_owners_add(Iso6346Owners *owners, const char *prefix)
{
    if (!prefix || strlen(prefix) < 4)
        return FALSE;
    char key[5];
    for (int i = 0; i < 4; i++) {
        if (!g_ascii_isalpha(prefix[i]))
            return FALSE;
        key[i] = g_ascii_toupper(prefix[i]);
    }
    key[4] = '\0';
    g_hash_table_add(owners->set, g_strdup(key));
    return TRUE;
}

Iso6346Owners *iso6346_owners_new_from_file(const char *path, GError **error)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return NULL;
    Iso6346Owners *o = iso6346_owners_new();
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    for (int i = 0; lines[i]; i++) {
        if (i >= OWNERS_MAX_LINES) {
            g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_FILE,
                        "%s: more than %d lines", path, OWNERS_MAX_LINES);
            goto fail;
        }
        char *line = g_strstrip(lines[i]);
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (!iso6346_owners_add(o, line)) {
            g_set_error(error, ISO6346_ERROR, ISO6346_ERROR_FILE,
                        "%s:%d: expected a 4-letter owner code", path, i + 1);
            goto fail;
        }
    }
    g_strfreev(lines);
    return o;
fail:
    g_strfreev(lines);
    iso6346_owners_free(o);
    return NULL;
}

gboolean iso6346_owners_contains(const Iso6346Owners *owners, const char *code)
{
    if (!owners)
        return TRUE;
    if (!code || strlen(code) < 4)
        return FALSE;
    char key[5];
    for (int i = 0; i < 4; i++)
        key[i] = g_ascii_toupper(code[i]);
    key[4] = '\0';
    return g_hash_table_contains(owners->set, key);
}

guint iso6346_owners_size(const Iso6346Owners *owners)
{
    return owners ? g_hash_table_size(owners->set) : 0;
}

void iso6346_owners_free(Iso6346Owners *owners)
{
    if (!owners)
        return;
    g_hash_table_destroy(owners->set);
    g_free(owners);
}
