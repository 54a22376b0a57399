/* test_iso6346.c: check digit, validation, parsing, size/type table and owner lists. */
#include <glib/gstdio.h>
#include <string.h>

#include "iso6346.h"
#include "testutil.h"

static const struct {
    const char *code;
    int check;
} check_rows[] = {
    {"CSQU3054383", 3}, /* the example of ISO 6346 */
    {"BEAU2656931", 1}, {"TRHU1700369", 9}, {"XINU1577214", 4}, {"SEGU6047895", 5},
    {"HALU2089976", 6}, {"MSKU3866036", 6}, {"TGHU0737320", 0},
    /* Sum mod 11 is 10 here: the check digit is 0. */
    {"CSQU0000070", 0}, {"MSKU0000080", 0},
};

START_TEST(test_check_digit_matches_known_codes)
{
    ck_assert_int_eq(iso6346_check_digit(check_rows[_i].code), check_rows[_i].check);
    GError *error = NULL;
    ck_assert_msg(iso6346_validate(check_rows[_i].code, &error), "%s: %s", check_rows[_i].code,
                  error ? error->message : "");
}
END_TEST

START_TEST(test_check_digit_remainder_ten_gives_zero)
{
    /* CSQU000007: 2*... sum mod 11 == 10; the digit printed is 0, never "10". */
    ck_assert_int_eq(iso6346_check_digit("CSQU000007"), 0);
    GError *error = NULL;
    ck_assert(!iso6346_validate("CSQU0000071", &error));
    ck_assert_str_eq(error->message, "check digit is 1, expected 0");
    g_error_free(error);
}
END_TEST

START_TEST(test_letter_values_skip_multiples_of_eleven)
{
    ck_assert_int_eq(iso6346_char_value('A'), 10);
    ck_assert_int_eq(iso6346_char_value('B'), 12);
    ck_assert_int_eq(iso6346_char_value('K'), 21);
    ck_assert_int_eq(iso6346_char_value('L'), 23);
    ck_assert_int_eq(iso6346_char_value('U'), 32);
    ck_assert_int_eq(iso6346_char_value('V'), 34);
    ck_assert_int_eq(iso6346_char_value('Z'), 38);
    ck_assert_int_eq(iso6346_char_value('7'), 7);
    ck_assert_int_eq(iso6346_char_value('a'), -1);
    ck_assert_int_eq(iso6346_char_value(' '), -1);
}
END_TEST

static const struct {
    const char *input;
    int code;
    const char *message;
} invalid_rows[] = {
    {"CSQU3054387", ISO6346_ERROR_CHECK_DIGIT, "check digit is 7, expected 3"},
    {"CSQU305438", ISO6346_ERROR_LENGTH, "code has 10 characters, expected 11"},
    {"CSQU 305438 3", ISO6346_ERROR_LENGTH, "code has 13 characters, expected 11"},
    {"CS1U3054383", ISO6346_ERROR_OWNER, "owner code character 3 is '1', expected a letter A-Z"},
    {"csqu3054383", ISO6346_ERROR_OWNER, "owner code character 1 is 'c', expected a letter A-Z"},
    {"CSQX3054383", ISO6346_ERROR_CATEGORY, "category is 'X', expected U, J or Z"},
    {"CSQU30O4383", ISO6346_ERROR_SERIAL, "serial number character 3 is 'O', expected a digit"},
    {"CSQU305438X", ISO6346_ERROR_CHECK_DIGIT, "check digit is 'X', expected a digit"},
    {"", ISO6346_ERROR_LENGTH, "code has 0 characters, expected 11"},
};

START_TEST(test_validate_names_what_is_wrong)
{
    GError *error = NULL;
    ck_assert(!iso6346_validate(invalid_rows[_i].input, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert(g_error_matches(error, ISO6346_ERROR, invalid_rows[_i].code));
    ck_assert_str_eq(error->message, invalid_rows[_i].message);
    g_error_free(error);
}
END_TEST

START_TEST(test_check_digit_rejects_malformed_prefix)
{
    ck_assert_int_eq(iso6346_check_digit(NULL), -1);
    ck_assert_int_eq(iso6346_check_digit("CSQU30543"), -1);
    ck_assert_int_eq(iso6346_check_digit("CSQX305438"), -1);
    ck_assert_int_eq(iso6346_check_digit("C5QU305438"), -1);
    ck_assert_int_eq(iso6346_check_digit("CSQU3O5438"), -1);
    ck_assert(!iso6346_validate(NULL, NULL));
}
END_TEST

START_TEST(test_parse_accepts_printed_forms)
{
    const char *forms[] = {"CSQU3054383", "CSQU 305438 3", "csqu-305438-3", " CSQU 3054383 "};
    for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
        Iso6346Code c;
        GError *error = NULL;
        ck_assert_msg(iso6346_parse(forms[i], &c, &error), "%s", forms[i]);
        ck_assert_str_eq(c.code, "CSQU3054383");
        ck_assert_str_eq(c.owner, "CSQ");
        ck_assert_int_eq(c.category, 'U');
        ck_assert_str_eq(c.serial, "305438");
        ck_assert_int_eq(c.check_digit, 3);
    }
}
END_TEST

/* What parsing a code, or looking up a size/type code, refuses: the message, or the error code
 * when @message is NULL (@code -1: only the refusal); @zeroed: the parsed code is left empty. */
typedef enum { PARSE, SIZE_TYPE } ErrorFn;

static const struct {
    ErrorFn fn;
    const char *input;
    const char *message;
    int code;
    gboolean zeroed;
} error_rows[] = {
    {PARSE, "CSQU 305438 7", "check digit is 7, expected 3", -1, TRUE},
    {PARSE, "CSQU 305438 3 1", NULL, ISO6346_ERROR_LENGTH, FALSE},
    {PARSE, NULL, NULL, -1, FALSE},
    {SIZE_TYPE, "Z2G1", "size/type length code 'Z' is unknown", -1, FALSE},
    {SIZE_TYPE, "2XG1", "size/type height/width code 'X' is unknown", -1, FALSE},
    {SIZE_TYPE, "22G9", "size/type type code 'G9' is unknown", -1, FALSE},
    {SIZE_TYPE, "22G", NULL, ISO6346_ERROR_LENGTH, FALSE},
};

static void check_error_rows(ErrorFn fn)
{
    for (size_t i = 0; i < G_N_ELEMENTS(error_rows); i++) {
        if (error_rows[i].fn != fn)
            continue;
        GError *error = NULL;
        gboolean ok;
        if (fn == PARSE) {
            Iso6346Code c;
            ok = iso6346_parse(error_rows[i].input, &c, &error);
            if (error_rows[i].zeroed)
                ck_assert_str_eq(c.code, "");
        } else {
            Iso6346SizeType st;
            ok = iso6346_size_type_lookup(error_rows[i].input, &st, &error);
        }
        ck_assert_msg(!ok, "%s accepted", error_rows[i].input ? error_rows[i].input : "NULL");
        if (error_rows[i].message)
            ck_assert_str_eq(error->message, error_rows[i].message);
        if (error_rows[i].code >= 0)
            ck_assert(g_error_matches(error, ISO6346_ERROR, error_rows[i].code));
        g_clear_error(&error);
    }
}

START_TEST(test_parse_rejects_and_zeroes_output)
{
    check_error_rows(PARSE);
}
END_TEST

static const struct {
    const char *code;
    int length_mm;
    int height_mm;
    const char *group;
} size_rows[] = {
    {"22G1", 6058, 2591, "GP"}, {"42G1", 12192, 2591, "GP"}, {"45G1", 12192, 2896, "GP"},
    {"45R1", 12192, 2896, "RT"}, {"L5G1", 13716, 2896, "GP"}, {"22U1", 6058, 2591, "UT"},
    {"22T6", 6058, 2591, "TD"}, {"22P3", 6058, 2591, "PC"}, {"20G0", 6058, 2438, "GP"},
    {"45R0", 12192, 2896, "RE"}, {"4EG1", 12192, 2896, "GP"},
};

START_TEST(test_size_type_table_gives_dimensions_and_group)
{
    Iso6346SizeType st;
    GError *error = NULL;
    ck_assert_msg(iso6346_size_type_lookup(size_rows[_i].code, &st, &error), "%s",
                  size_rows[_i].code);
    ck_assert_int_eq(st.length_mm, size_rows[_i].length_mm);
    ck_assert_int_eq(st.height_mm, size_rows[_i].height_mm);
    ck_assert_str_eq(st.type_group, size_rows[_i].group);
    ck_assert_ptr_nonnull(st.type);
    ck_assert(iso6346_size_type_valid(size_rows[_i].code));
}
END_TEST

START_TEST(test_size_type_unknown_codes_are_named)
{
    check_error_rows(SIZE_TYPE);
    ck_assert(!iso6346_size_type_valid(NULL));
}
END_TEST

START_TEST(test_owner_list_from_file)
{
    char *dir = testutil_tmpdir();
    char *path = g_build_filename(dir, "owners.txt", NULL);
    ck_assert(g_file_set_contents(path, "# BIC codes\nCSQU\n\nmsku carrier\n", -1, NULL));
    GError *error = NULL;
    Iso6346Owners *o = iso6346_owners_new_from_file(path, &error);
    ck_assert_no_error(error);
    ck_assert_uint_eq(iso6346_owners_size(o), 2);
    ck_assert(iso6346_owners_contains(o, "CSQU3054383"));
    ck_assert(iso6346_owners_contains(o, "MSKU3866036"));
    ck_assert(!iso6346_owners_contains(o, "TGHU0737320"));
    ck_assert(iso6346_owners_contains(NULL, "TGHU0737320"));
    iso6346_owners_free(o);

    ck_assert(g_file_set_contents(path, "CSQU\nC5QU\n", -1, NULL));
    ck_assert_ptr_null(iso6346_owners_new_from_file(path, &error));
    ck_assert_ptr_nonnull(strstr(error->message, ":2: expected a 4-letter owner code"));
    g_clear_error(&error);
    iso6346_owners_free(NULL);
    testutil_rmtree(dir);
    g_free(dir);
    g_free(path);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_check_digit_matches_known_codes, G_N_ELEMENTS(check_rows)},
    {&test_check_digit_remainder_ten_gives_zero},
    {&test_letter_values_skip_multiples_of_eleven},
    {&test_validate_names_what_is_wrong, G_N_ELEMENTS(invalid_rows)},
    {&test_check_digit_rejects_malformed_prefix},
    {&test_parse_accepts_printed_forms},
    {&test_parse_rejects_and_zeroes_output},
    {&test_size_type_table_gives_dimensions_and_group, G_N_ELEMENTS(size_rows)},
    {&test_size_type_unknown_codes_are_named},
    {&test_owner_list_from_file},
};

TESTUTIL_MAIN("iso6346", "core", 0, TESTUTIL_TESTS(tests))
