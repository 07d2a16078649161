/*  test_utf8: strict UTF-8 validation (common/utf8.c).  */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

typedef struct {
    const char *name;               //  what the case shows
    const char *bytes;              //  input
    size_t len;                     //  its length (NUL may be inside)
    ssize_t count;                  //  expected code points, -1 = invalid
} s_case_t;

#define C(name, lit, count) { name, lit, sizeof (lit) - 1, count }

static const s_case_t s_cases [] = {
    C ("empty",                    "",                         0),
    C ("ascii",                    "hello",                    5),
    C ("ascii over 8 bytes",       "abcdefghijklmnopq",        17),
    C ("two-byte lowest c2 80",    "\xc2\x80",                 1),
    C ("e-acute",                  "caf\xc3\xa9",              4),
    C ("cjk tongxin",              "\xe9\x80\x9a\xe4\xbf\xa1", 2),
    C ("three-byte lowest e0 a0 80", "\xe0\xa0\x80",           1),
    C ("last before surrogates ed 9f bf", "\xed\x9f\xbf",      1),
    C ("first after surrogates ee 80 80", "\xee\x80\x80",      1),
    C ("U+FFFF",                   "\xef\xbf\xbf",             1),
    C ("U+10000 f0 90 80 80",      "\xf0\x90\x80\x80",         1),
    C ("U+10FFFF f4 8f bf bf",     "\xf4\x8f\xbf\xbf",         1),
    C ("emoji in ascii run",       "abcdefgh\xf0\x9f\x98\x80ij", 11),
    //  refused
    C ("NUL alone",                "\x00",                     -1),
    C ("NUL inside ascii run",     "abcdefg\x00hijklmn",       -1),
    C ("NUL at end",               "abc\x00",                  -1),
    C ("overlong NUL c0 80",       "\xc0\x80",                 -1),
    C ("overlong c1 bf",           "\xc1\xbf",                 -1),
    C ("overlong e0 80 80",        "\xe0\x80\x80",             -1),
    C ("overlong e0 9f bf",        "\xe0\x9f\xbf",             -1),
    C ("overlong f0 80 80 80",     "\xf0\x80\x80\x80",         -1),
    C ("overlong f0 8f bf bf",     "\xf0\x8f\xbf\xbf",         -1),
    C ("surrogate ed a0 80",       "\xed\xa0\x80",             -1),
    C ("surrogate ed bf bf",       "\xed\xbf\xbf",             -1),
    C ("above U+10FFFF f4 90 80 80", "\xf4\x90\x80\x80",       -1),
    C ("f5 lead",                  "\xf5\x80\x80\x80",         -1),
    C ("ff byte",                  "\xff",                     -1),
    C ("fe byte",                  "a\xfe",                    -1),
    C ("lone continuation 80",     "\x80",                     -1),
    C ("lone continuation after ascii", "abc\xbf",             -1),
    C ("truncated two-byte",       "\xc3",                     -1),
    C ("truncated three-byte",     "\xe9\x80",                 -1),
    C ("truncated four-byte",      "\xf0\x9f\x98",             -1),
    C ("bad second byte",          "\xc3\x28",                 -1),
    C ("bad third byte",           "\xe9\x80\x28",             -1),
    C ("bad fourth byte",          "\xf0\x9f\x98\x28",         -1),
    C ("high bit in ascii run",    "abcdefg\x80",              -1),
};

static void
test_table (void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases [0]; i++) {
        const s_case_t *c = &s_cases [i];
        ssize_t got = tx_utf8_count (c->bytes, c->len);
        if (got != c->count)
            fail_msg ("case '%s': count %zd, expected %zd", c->name, got, c->count);
        assert_int_equal (tx_utf8_valid (c->bytes, c->len), c->count >= 0);
    }
}

//  Every 3-byte input with an e0..ef lead byte decides as arithmetic
//  decoding does: valid iff it encodes U+0800..U+FFFF minus surrogates.
static void
test_exhaustive_short (void **state)
{
    (void) state;
    unsigned char b [3];
    unsigned long accepted = 0;
    for (unsigned x = 0xe00000; x < 0xf00000; x++) {
        b [0] = (unsigned char) (x >> 16);
        b [1] = (unsigned char) (x >> 8);
        b [2] = (unsigned char) x;
        bool ref = false;
        if ((b [1] & 0xc0) == 0x80 && (b [2] & 0xc0) == 0x80) {
            unsigned cp = ((b [0] & 0x0fu) << 12) | ((b [1] & 0x3fu) << 6) | (b [2] & 0x3fu);
            ref = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
        }
        bool got = tx_utf8_valid ((const char *) b, 3);
        if (got != ref)
            fail_msg ("%02x %02x %02x: got %d, expected %d", b [0], b [1], b [2], got, ref);
        accepted += got;
    }
    //  U+0800..U+FFFF minus 2048 surrogates
    assert_int_equal (accepted, 0x10000 - 0x800 - 0x800);
}

static void
test_prefix (void **state)
{
    (void) state;
    const char *s = "ab\xe9\x80\x9a" "c";   //  a b U+901A c
    assert_int_equal (tx_utf8_prefix (s, 6, 10), 6);
    assert_int_equal (tx_utf8_prefix (s, 6, 6), 6);
    assert_int_equal (tx_utf8_prefix (s, 6, 5), 5);
    assert_int_equal (tx_utf8_prefix (s, 6, 4), 2);
    assert_int_equal (tx_utf8_prefix (s, 6, 3), 2);
    assert_int_equal (tx_utf8_prefix (s, 6, 2), 2);
    assert_int_equal (tx_utf8_prefix (s, 6, 0), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_table),
        cmocka_unit_test (test_exhaustive_short),
        cmocka_unit_test (test_prefix),
    };
    return cmocka_run_group_tests_name ("utf8", tests, NULL, NULL);
}
