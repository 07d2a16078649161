/*  test_lex: the lexical rules (common/lex.c): numbers, unit and region
    codes, dates and times, with every case the helpers they replace took
    or refused (admin, tongxin-report, tongxin-send, the validator).  */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lex.h"

#define S(text) text, strlen (text)

//  One rule for every number a producer sends (and the collector takes):
//  an integer within int64, else a decimal-text of <= 64 bytes in binary64.
static void
test_number (void **state)
{
    (void) state;
    int64_t i = 0;
    assert_int_equal (tx_lex_number ("-0", 2, &i, NULL), TX_NUM_INT);
    assert_int_equal (i, 0);
    assert_int_equal (tx_lex_number ("9223372036854775807", 19, &i, NULL), TX_NUM_INT);
    assert_true (i == INT64_MAX);
    assert_int_equal (tx_lex_number ("-9223372036854775808", 20, &i, NULL), TX_NUM_INT);
    assert_true (i == INT64_MIN);
    assert_int_equal (tx_lex_number ("9223372036854775808", 19, &i, NULL), TX_NUM_BIG_INT);
    assert_int_equal (tx_lex_number ("-9223372036854775809", 20, &i, NULL), TX_NUM_BIG_INT);
    assert_int_equal (tx_lex_number ("1.50", 4, NULL, NULL), TX_NUM_DECIMAL);
    assert_int_equal (tx_lex_number ("1.5E-3", 6, NULL, NULL), TX_NUM_DECIMAL);
    assert_int_equal (tx_lex_number ("1e400", 5, NULL, NULL), TX_NUM_RANGE);
    assert_int_equal (tx_lex_number ("1e-400", 6, NULL, NULL), TX_NUM_RANGE);
    const char *bad [] = { "", "-", "01", "+1", "1.", ".5", "1e", "1e+", "0x10", "NaN", "1 ", "١" };
    for (size_t k = 0; k < sizeof bad / sizeof bad [0]; k++)
        assert_int_equal (tx_lex_number (bad [k], strlen (bad [k]), NULL, NULL), TX_NUM_SYNTAX);
    char d64 [80] = "1.", d65 [80];
    memset (d64 + 2, '5', 62);
    d64 [64] = 0;
    memcpy (d65, d64, 64);          //  not snprintf: -O1 warns it may truncate
    d65 [64] = '5';
    d65 [65] = 0;
    assert_int_equal (tx_lex_number (d64, 64, NULL, NULL), TX_NUM_DECIMAL);
    assert_int_equal (tx_lex_number (d65, 65, NULL, NULL), TX_NUM_TOO_LONG);
    assert_true (tx_lex_is_decimal (TX_NUM_BIG_INT));
    assert_false (tx_lex_is_decimal (TX_NUM_RANGE));
}

//  unit-code-text: what admin's, tongxin-report's and tongxin-send's
//  s_valid_code / s_valid_unit took and refused.
static void
test_unit_code (void **state)
{
    (void) state;
    const char *good [] = { "u1", "0", "a", "xizang.lhz-dept_7", "9.-_", "a-" };
    for (size_t k = 0; k < sizeof good / sizeof good [0]; k++)
        assert_true (tx_lex_unit_code (S (good [k])));
    const char *bad [] = { "", "-a", ".a", "_a", "U1", "a b", "a/b", "a:b", "ü", "a\n", "a+" };
    for (size_t k = 0; k < sizeof bad / sizeof bad [0]; k++)
        assert_false (tx_lex_unit_code (S (bad [k])));
    char code [80];
    memset (code, 'a', sizeof code);
    assert_true (tx_lex_unit_code (code, 64));
    assert_false (tx_lex_unit_code (code, 65));
    assert_false (tx_lex_unit_code ("a\0b", 3));       //  a NUL inside
    assert_false (tx_lex_unit_code (NULL, 0));
}

//  region-code-text: admin's s_valid_region, libtongxin's partner setter,
//  tongxin-send's s_check_partner.
static void
test_region (void **state)
{
    (void) state;
    assert_true (tx_lex_region (S ("540522")));
    assert_true (tx_lex_region (S ("000000")));
    const char *bad [] = { "", "54052", "5405222", "54052a", "54 522", "-54052", "５４０５２２" };
    for (size_t k = 0; k < sizeof bad / sizeof bad [0]; k++)
        assert_false (tx_lex_region (S (bad [k])));
    assert_true (tx_lex_region ("5405229", 6));         //  only len bytes count
}

//  date-text and a real calendar date: the validator's tx_validate_date,
//  tongxin-send's s_valid_date / s_date_shaped, tongxin-report's
//  s_valid_date (which let 2024-02-30 through to PostgreSQL).
static void
test_date (void **state)
{
    (void) state;
    assert_true (tx_lex_date ("2024-02-29", 10));
    assert_false (tx_lex_date ("2023-02-29", 10));
    assert_false (tx_lex_date ("1900-02-29", 10));
    assert_true (tx_lex_date ("2000-02-29", 10));
    assert_false (tx_lex_date ("2024-13-01", 10));
    assert_false (tx_lex_date ("2024-00-01", 10));
    assert_false (tx_lex_date ("2024-01-00", 10));
    assert_false (tx_lex_date ("2024-04-31", 10));
    assert_false (tx_lex_date ("2024-02-30", 10));
    assert_true (tx_lex_date ("2024-12-31", 10));
    assert_true (tx_lex_date ("0001-01-01", 10));
    assert_true (tx_lex_date ("9999-12-31", 10));
    assert_false (tx_lex_date ("0000-01-01", 10));
    assert_false (tx_lex_date ("2024-1-01", 9));
    assert_false (tx_lex_date ("2024/01/01", 10));
    assert_false (tx_lex_date ("2024-01-01T", 11));
    assert_false (tx_lex_date ("+024-01-01", 10));
    assert_false (tx_lex_date (NULL, 0));
    //  Not NUL-terminated, at the very end of an allocation (the fuzzer
    //  found atoi reading past it): under ASan this would fail.
    char *exact = malloc (10);
    memcpy (exact, "2024-02-29", 10);
    assert_true (tx_lex_date (exact, 10));
    free (exact);
    //  The shape alone: tongxin-send takes NNNN-NN-NN as a date attribute.
    assert_true (tx_lex_date_shaped (S ("2024-02-30")));
    assert_true (tx_lex_date_shaped (S ("0000-99-99")));
    assert_false (tx_lex_date_shaped (S ("2024-2-30")));
    assert_false (tx_lex_date_shaped (S ("2024-02-300")));
}

static int64_t
s_time (const char *s, tx_time_t want)
{
    int64_t us = -1;
    tx_time_t got = tx_lex_time (s, strlen (s), &us);
    if (got != want)
        fail_msg ("'%s': %d, expected %d", s, got, want);
    return us;
}

//  RFC 3339 and the ISO 8601 forms tongxin-send took (its s_parse_time).
static void
test_time (void **state)
{
    (void) state;
    //  2025-03-31T21:00:00Z = 1743454800
    const int64_t t = 1743454800LL * 1000000;
    assert_true (s_time ("2025-04-01T05:00:00+08:00", TX_TIME_OK) == t);
    assert_true (s_time ("2025-03-31T21:00:00Z", TX_TIME_OK) == t);
    assert_true (s_time ("2025-03-31T21:00Z", TX_TIME_OK) == t);
    assert_true (s_time ("2025-03-31t21:00:00z", TX_TIME_OK) == t);
    assert_true (s_time ("2025-03-31 21:00:00Z", TX_TIME_OK) == t);
    assert_true (s_time ("2025-04-01T05:00+0800", TX_TIME_OK) == t);
    assert_true (s_time ("2025-04-01T05:00+08", TX_TIME_OK) == t);
    assert_true (s_time ("2025-03-31T16:30:00-04:30", TX_TIME_OK) == t);
    assert_true (s_time ("2025-03-31T21:00:00.123Z", TX_TIME_OK) == t + 123000);
    assert_true (s_time ("2025-03-31T21:00:00,5Z", TX_TIME_OK) == t + 500000);
    assert_true (s_time ("2025-03-31T21:00:00.1234567899Z", TX_TIME_OK) == t + 123456);
    assert_true (s_time ("1970-01-01T00:00:00Z", TX_TIME_OK) == 0);
    assert_true (s_time ("1969-12-31T23:59:59Z", TX_TIME_OK) == -1000000);
    assert_true (s_time ("2024-02-29T00:00:00Z", TX_TIME_OK) == 1709164800LL * 1000000);
    s_time ("2025-04-01", TX_TIME_NO_CLOCK);
    s_time ("2025-04-01T05:00:00", TX_TIME_NO_OFFSET);
    s_time ("2025-04-01T05:00", TX_TIME_NO_OFFSET);
    s_time ("2025-04-01T05:00:00+24:00", TX_TIME_BAD_OFFSET);
    s_time ("2025-04-01T05:00:00+08:60", TX_TIME_BAD_OFFSET);
    s_time ("2025-02-30T05:00:00Z", TX_TIME_BAD_DATE);
    s_time ("0000-01-01T05:00:00Z", TX_TIME_BAD_DATE);
    s_time ("2025-04-01T24:00:00Z", TX_TIME_BAD_CLOCK);
    s_time ("2025-04-01T12:60:00Z", TX_TIME_BAD_CLOCK);
    s_time ("2025-04-01T23:59:60Z", TX_TIME_LEAP_SECOND);
    const char *bad [] = { "", "now", "2025-4-01T05:00Z", "2025-04-01X05:00Z", "2025-04-01T5:00Z",
                           "2025-04-01T05:00:0Z", "2025-04-01T05:00:00.Z", "2025-04-01T05:00:00+8",
                           "2025-04-01T05:00:00+08:0", "2025-04-01T05:00:00Zjunk",
                           "2025-04-01T05:00:00 Z", "2025-04-01T05:00:00+08:00 ",
                           "2025-04-01T05:00.5Z", "2025/04/01T05:00Z" };
    for (size_t k = 0; k < sizeof bad / sizeof bad [0]; k++)
        s_time (bad [k], TX_TIME_SYNTAX);
    //  Only len bytes count; a NUL inside is not the end.
    assert_int_equal (tx_lex_time ("2025-03-31T21:00Zjunk", 17, NULL), TX_TIME_OK);
    assert_int_equal (tx_lex_time ("2025-03-31T21:00\0Z", 18, NULL), TX_TIME_SYNTAX);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_number),
        cmocka_unit_test (test_unit_code),
        cmocka_unit_test (test_region),
        cmocka_unit_test (test_date),
        cmocka_unit_test (test_time),
    };
    return cmocka_run_group_tests_name ("lex", tests, NULL, NULL);
}
