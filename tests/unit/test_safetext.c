/*  test_safetext: registered text and terminal escaping (common/safetext.c).  */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "safetext.h"

typedef struct {
    const char *in;                 //  input
    long at;                        //  expected tx_safetext_find
    const char *escaped;            //  expected tx_safetext_escape
} s_case_t;

static const s_case_t s_cases [] = {
    { "",                               -1, "" },
    { "双清区 tax-bureau (1)",          -1, "双清区 tax-bureau (1)" },
    { "=HYPERLINK(\"http://x/\")",      -1, "=HYPERLINK(\"http://x/\")" },
    { "back\\slash \\x1b",              -1, "back\\slash \\x1b" },
    { "caf\xc3\xa9 \xf0\x9f\x98\x80",   -1, "caf\xc3\xa9 \xf0\x9f\x98\x80" },
    { "a\x1b[2Jb",                      1,  "a\\x1b[2Jb" },
    { "row\nforged\tcol\r",             3,  "row\\nforged\\tcol\\r" },
    { "del\x7f",                        3,  "del\\x7f" },
    { "c1 \xc2\x85 \xc2\x9b",           3,  "c1 \\u0085 \\u009b" },
    { "\xc2\xa0nbsp ok",                -1, "\xc2\xa0nbsp ok" },
    { "rlo \xe2\x80\xae" "cba",         4,  "rlo \\u202ecba" },
    { "lri \xe2\x81\xa6 pdi \xe2\x81\xa9", 4, "lri \\u2066 pdi \\u2069" },
    { "ls \xe2\x80\xa8",                3,  "ls \\u2028" },
    { "lrm \xe2\x80\x8e ok",            -1, "lrm \xe2\x80\x8e ok" },
    { "bad \xff byte",                  4,  "bad \\xff byte" },
    { "overlong \xc0\xaf",              9,  "overlong \\xc0\\xaf" },
    { "surrogate \xed\xa0\x80",         10, "surrogate \\xed\\xa0\\x80" },
    { "cut \xe9\x80",                   4,  "cut \\xe9\\x80" },
};

static void
test_cases (void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases [0]; i++) {
        const s_case_t *c = &s_cases [i];
        char what [64] = "";
        long at = tx_safetext_find (c->in, what, sizeof what);
        if (at != c->at)
            fail_msg ("case %zu: find got %ld, expected %ld", i, at, c->at);
        if (at >= 0 && !*what)
            fail_msg ("case %zu: no description", i);
        char *e = tx_safetext_escape (c->in);
        assert_non_null (e);
        if (strcmp (e, c->escaped) != 0)
            fail_msg ("case %zu: escape got '%s', expected '%s'", i, e, c->escaped);
        //  What the escape writes is itself clean.
        assert_int_equal (tx_safetext_find (e, NULL, 0), -1);
        free (e);
    }
}

static void
test_describe (void **state)
{
    (void) state;
    char what [64];
    assert_int_equal (tx_safetext_find ("x\x1b", what, sizeof what), 1);
    assert_string_equal (what, "U+001B (a control character)");
    assert_int_equal (tx_safetext_find ("\xe2\x80\xae", what, sizeof what), 0);
    assert_string_equal (what, "U+202E (a line separator or bidirectional control)");
    assert_int_equal (tx_safetext_find ("\xfe", what, sizeof what), 0);
    assert_string_equal (what, "the byte 0xFE (not UTF-8)");
}

//  Every code point below U+3000: forbidden exactly where the header says.
static void
test_every_code_point (void **state)
{
    (void) state;
    for (uint32_t cp = 1; cp < 0x3000; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        char s [5] = { 0 };
        if (cp < 0x80)
            s [0] = (char) cp;
        else
        if (cp < 0x800) {
            s [0] = (char) (0xc0 | (cp >> 6));
            s [1] = (char) (0x80 | (cp & 0x3f));
        }
        else {
            s [0] = (char) (0xe0 | (cp >> 12));
            s [1] = (char) (0x80 | ((cp >> 6) & 0x3f));
            s [2] = (char) (0x80 | (cp & 0x3f));
        }
        bool ref = cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029
                || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
        bool got = tx_safetext_find (s, NULL, 0) == 0;
        if (got != ref)
            fail_msg ("U+%04X: got %d, expected %d", cp, got, ref);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_cases),
        cmocka_unit_test (test_describe),
        cmocka_unit_test (test_every_code_point),
    };
    return cmocka_run_group_tests_name ("safetext", tests, NULL, NULL);
}
