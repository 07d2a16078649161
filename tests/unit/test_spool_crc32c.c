/*  test_spool_crc32c: CRC-32C of the spool's formats
    (producers/lib/spool_crc32c.c) against the published check value and
    a bit-at-a-time reference, at every alignment and length that the
    word-at-a-time paths (SSE 4.2 or slicing-by-8) treat differently.  */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "spool_crc32c.h"

/* The definition, one bit at a time */
static uint32_t
s_reference (const unsigned char *p, size_t n)
{
    uint32_t c = ~0u;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
    }
    return ~c;
}

static void
test_check_values (void **state)
{
    (void) state;
    assert_int_equal (tx_crc32c ("123456789", 9), 0xe3069283u);
    assert_int_equal (tx_crc32c ("", 0), 0);
    unsigned char zeros[32] = { 0 };
    assert_int_equal (tx_crc32c (zeros, 32), 0x8a9136aau);     /* RFC 3720 B.4 */
    unsigned char ones[32];
    memset (ones, 0xff, sizeof ones);
    assert_int_equal (tx_crc32c (ones, 32), 0x62a8ab43u);      /* RFC 3720 B.4 */
}

static void
test_alignments (void **state)
{
    (void) state;
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char) (i * 131 + 7);
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= sizeof buf; n += n < 40 ? 1 : 37)
            assert_int_equal (tx_crc32c (buf + off, n), s_reference (buf + off, n));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_check_values),
        cmocka_unit_test (test_alignments),
    };
    return cmocka_run_group_tests_name ("spool_crc32c", tests, NULL, NULL);
}
