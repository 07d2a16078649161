/*  test_prescan: the allocation-free msgpack pre-scan (common/prescan.c).  */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <cmocka.h>
#include <msgpack.h>

#include "prescan.h"

//  Hex text ("92 01 02") to bytes; returns the length.
static size_t
s_hex (const char *hex, uint8_t *out, size_t max)
{
    size_t n = 0;
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        unsigned v;
        if (sscanf (hex, "%2x", &v) != 1 || n == max)
            abort ();
        out [n++] = (uint8_t) v;
        hex += 2;
    }
    return n;
}

typedef struct {
    const char *hex;                //  input
    tx_prescan_reason_t reason;     //  expected verdict
    size_t offset;                  //  expected info.offset
} s_case_t;

static const s_case_t s_cases [] = {
    //  accepted
    { "c0",                          TX_PRESCAN_OK, 1 },
    { "00",                          TX_PRESCAN_OK, 1 },
    { "ff",                          TX_PRESCAN_OK, 1 },
    { "80",                          TX_PRESCAN_OK, 1 },
    { "90",                          TX_PRESCAN_OK, 1 },
    { "a0",                          TX_PRESCAN_OK, 1 },
    { "81 a1 61 01",                 TX_PRESCAN_OK, 4 },
    { "92 01 02",                    TX_PRESCAN_OK, 3 },
    { "cb 3f f0 00 00 00 00 00 00",  TX_PRESCAN_OK, 9 },
    { "ca 7f c0 00 00",              TX_PRESCAN_OK, 5 },
    { "cf ff ff ff ff ff ff ff ff",  TX_PRESCAN_OK, 9 },
    { "d6 ff 00 00 00 00",           TX_PRESCAN_OK, 6 },
    { "c7 0c ff 00 00 00 00 00 00 00 00 00 00 00 00", TX_PRESCAN_OK, 15 },
    { "c4 00",                       TX_PRESCAN_OK, 2 },
    { "c4 02 01 02",                 TX_PRESCAN_OK, 4 },
    { "d9 01 61",                    TX_PRESCAN_OK, 3 },
    { "dc 00 01 c0",                 TX_PRESCAN_OK, 4 },
    { "dd 00 00 00 02 c2 c3",        TX_PRESCAN_OK, 7 },
    { "de 00 01 a1 61 c0",           TX_PRESCAN_OK, 6 },
    { "df 00 00 00 00",              TX_PRESCAN_OK, 5 },
    { "92 90 80",                    TX_PRESCAN_OK, 3 },
    { "82 01 92 02 03 04 81 05 06",  TX_PRESCAN_OK, 9 },
    //  empty
    { "",                            TX_PRESCAN_EMPTY, 0 },
    //  reserved byte
    { "c1",                          TX_PRESCAN_RESERVED, 0 },
    { "92 01 c1",                    TX_PRESCAN_RESERVED, 2 },
    //  allocation bombs: containers claiming more elements than bytes
    { "df 04 00 00 00",              TX_PRESCAN_COUNT, 0 },
    { "dd ff ff ff ff",              TX_PRESCAN_COUNT, 0 },
    { "dd ff 00 00 00",              TX_PRESCAN_COUNT, 0 },
    { "df ff ff ff ff",              TX_PRESCAN_COUNT, 0 },
    { "de ff ff",                    TX_PRESCAN_COUNT, 0 },
    { "dc ff ff 01",                 TX_PRESCAN_COUNT, 0 },
    { "9f 01 02",                    TX_PRESCAN_COUNT, 0 },
    { "8f 01",                       TX_PRESCAN_COUNT, 0 },
    { "92 01",                       TX_PRESCAN_COUNT, 0 },
    //  a map of 2 pairs needs 4 bytes, 3 remain
    { "82 01 02 03",                 TX_PRESCAN_COUNT, 0 },
    //  nested: each inner claim is fine alone but the sum is not
    //  (the inner array alone fits the 3 bytes left; with the outer
    //  array's last element it needs 4)
    { "92 dd 00 00 00 03 01 01 01",  TX_PRESCAN_COUNT, 1 },
    { "92 92 01 01 dd 00 00 00 04",  TX_PRESCAN_COUNT, 4 },
    { "91 dd 00 00 00 05 01 01 01 01", TX_PRESCAN_COUNT, 1 },
    //  truncated heads / fixed-size values
    { "dd ff",                       TX_PRESCAN_TRUNCATED, 0 },
    { "dd",                          TX_PRESCAN_TRUNCATED, 0 },
    { "cd 01",                       TX_PRESCAN_TRUNCATED, 0 },
    { "cb 00 00",                    TX_PRESCAN_TRUNCATED, 0 },
    { "d4 01",                       TX_PRESCAN_TRUNCATED, 0 },
    { "d8 ff 00 00",                 TX_PRESCAN_TRUNCATED, 0 },
    { "92 cd 00",                    TX_PRESCAN_TRUNCATED, 1 },
    { "d9",                          TX_PRESCAN_TRUNCATED, 0 },
    //  payload lengths past the end
    { "a5 61 62",                    TX_PRESCAN_LENGTH, 0 },
    { "db ff ff ff ff 61",           TX_PRESCAN_LENGTH, 0 },
    { "c6 00 00 00 10 00",           TX_PRESCAN_LENGTH, 0 },
    { "c9 ff ff ff ff 01",           TX_PRESCAN_LENGTH, 0 },
    { "c7 00",                       TX_PRESCAN_LENGTH, 0 },
    { "91 c4 05 01",                 TX_PRESCAN_LENGTH, 1 },
    //  trailing bytes
    { "01 02",                       TX_PRESCAN_TRAILING, 1 },
    { "80 00",                       TX_PRESCAN_TRAILING, 1 },
    { "c0 c0",                       TX_PRESCAN_TRAILING, 1 },
    { "92 01 02 03",                 TX_PRESCAN_TRAILING, 3 },
};

static void
test_table (void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases [0]; i++) {
        const s_case_t *c = &s_cases [i];
        uint8_t buf [64];
        size_t len = s_hex (c->hex, buf, sizeof buf);
        tx_prescan_info_t info;
        int rc = tx_prescan (buf, len, NULL, &info);
        if (info.reason != c->reason || info.offset != c->offset
        ||  rc != (c->reason == TX_PRESCAN_OK? 0: -1))
            fail_msg ("'%s': rc %d reason %d (%s) offset %zu; expected reason %d offset %zu",
                      c->hex, rc, (int) info.reason, tx_prescan_reason_str (info.reason),
                      info.offset, (int) c->reason, c->offset);
        if (rc == 0) {
            //  What passes, msgpack-c decodes exactly.
            msgpack_unpacked up;
            msgpack_unpacked_init (&up);
            size_t off = 0;
            int r = msgpack_unpack_next (&up, (const char *) buf, len, &off);
            assert_int_equal (r, MSGPACK_UNPACK_SUCCESS);
            assert_int_equal (off, len);
            msgpack_unpacked_destroy (&up);
        }
    }
}

//  The bombs cost nothing: no heap allocation at all while scanning.
static void
test_bombs_allocate_nothing (void **state)
{
    (void) state;
    static const char *bombs [] = {
        "df 04 00 00 00", "dd ff ff ff ff", "dd ff 00 00 00", "df ff ff ff ff",
        "de ff ff", "dc ff ff", "db ff ff ff ff", "c6 ff ff ff ff", "c9 ff ff ff ff 01",
        "91 91 91 91 df ff ff ff ff",
    };
    uint8_t bufs [10][16];
    size_t lens [10];
    for (int i = 0; i < 10; i++)
        lens [i] = s_hex (bombs [i], bufs [i], 16);
    tx_prescan_info_t info [10];
    struct mallinfo2 before = mallinfo2 ();
    int rcs [10];
    for (int i = 0; i < 10; i++)
        rcs [i] = tx_prescan (bufs [i], lens [i], NULL, &info [i]);
    struct mallinfo2 after = mallinfo2 ();
    assert_int_equal (after.uordblks, before.uordblks);
    assert_int_equal (after.hblkhd, before.hblkhd);
    for (int i = 0; i < 10; i++) {
        assert_int_equal (rcs [i], -1);
        assert_true (info [i].reason == TX_PRESCAN_COUNT
                  || info [i].reason == TX_PRESCAN_LENGTH);
    }
    assert_int_equal (info [9].reason, TX_PRESCAN_COUNT);
    assert_int_equal (info [9].offset, 4);
    assert_int_equal (info [9].depth, 4);
}

//  n nested one-element arrays around nil: depth n.
static size_t
s_nest (uint8_t *buf, size_t n, uint8_t leaf)
{
    memset (buf, 0x91, n);
    buf [n] = leaf;
    return n + 1;
}

static void
test_depth (void **state)
{
    (void) state;
    uint8_t buf [64];
    tx_prescan_info_t info;
    //  defaults: 8
    size_t len = s_nest (buf, 8, 0xc0);
    assert_int_equal (tx_prescan (buf, len, NULL, &info), 0);
    assert_int_equal (info.depth, 8);
    assert_int_equal (info.items, 9);
    len = s_nest (buf, 9, 0xc0);
    assert_int_equal (tx_prescan (buf, len, NULL, &info), -1);
    assert_int_equal (info.reason, TX_PRESCAN_DEPTH);
    assert_int_equal (info.offset, 8);
    //  an empty container is a level too
    len = s_nest (buf, 8, 0x90);
    assert_int_equal (tx_prescan (buf, len, NULL, &info), -1);
    assert_int_equal (info.reason, TX_PRESCAN_DEPTH);
    len = s_nest (buf, 7, 0x80);
    assert_int_equal (tx_prescan (buf, len, NULL, &info), 0);
    assert_int_equal (info.depth, 8);
    //  maps nest the same way: {"a":{"a":...}}
    uint8_t m [64];
    size_t ml = 0;
    for (int i = 0; i < 9; i++) {
        m [ml++] = 0x81;
        m [ml++] = 0xa1;
        m [ml++] = 'a';
    }
    m [ml++] = 0x01;
    assert_int_equal (tx_prescan (m, ml, NULL, &info), -1);
    assert_int_equal (info.reason, TX_PRESCAN_DEPTH);
    assert_int_equal (tx_prescan (m + 3, ml - 3, NULL, &info), 0);
    //  explicit limit
    tx_prescan_limits_t lim = { .max_depth = 2, .max_items = 0 };
    len = s_nest (buf, 2, 0xc0);
    assert_int_equal (tx_prescan (buf, len, &lim, &info), 0);
    len = s_nest (buf, 3, 0xc0);
    assert_int_equal (tx_prescan (buf, len, &lim, &info), -1);
    assert_int_equal (info.reason, TX_PRESCAN_DEPTH);
    //  the cap: 32, which msgpack-c still decodes
    lim.max_depth = 1000;
    len = s_nest (buf, 32, 0xc0);
    assert_int_equal (tx_prescan (buf, len, &lim, &info), 0);
    msgpack_unpacked up;
    msgpack_unpacked_init (&up);
    size_t off = 0;
    assert_int_equal (msgpack_unpack_next (&up, (const char *) buf, len, &off),
                      MSGPACK_UNPACK_SUCCESS);
    msgpack_unpacked_destroy (&up);
    len = s_nest (buf, 33, 0xc0);
    assert_int_equal (tx_prescan (buf, len, &lim, &info), -1);
    assert_int_equal (info.reason, TX_PRESCAN_DEPTH);
    assert_int_equal (info.offset, 32);
}

static void
test_items (void **state)
{
    (void) state;
    uint8_t buf [16];
    tx_prescan_info_t info;
    size_t len = s_hex ("93 01 02 03", buf, sizeof buf);     //  4 items
    tx_prescan_limits_t lim = { .max_depth = 0, .max_items = 4 };
    assert_int_equal (tx_prescan (buf, len, &lim, &info), 0);
    assert_int_equal (info.items, 4);
    lim.max_items = 3;
    assert_int_equal (tx_prescan (buf, len, &lim, &info), -1);
    assert_int_equal (info.reason, TX_PRESCAN_ITEMS);
    assert_int_equal (info.offset, 3);
    assert_int_equal (info.items, 3);
    len = s_hex ("81 01 92 02 03", buf, sizeof buf);         //  map, key, array, 2
    lim.max_items = 5;
    assert_int_equal (tx_prescan (buf, len, &lim, &info), 0);
    assert_int_equal (info.items, 5);
    assert_int_equal (info.depth, 2);
    lim.max_items = 4;
    assert_int_equal (tx_prescan (buf, len, &lim, &info), -1);
    assert_int_equal (info.reason, TX_PRESCAN_ITEMS);
    //  the default cap is 2^18 items
    size_t big = 5 + TX_PRESCAN_DEFAULT_ITEMS;
    uint8_t *b = calloc (1, big);
    b [0] = 0xdd;
    uint32_t n = TX_PRESCAN_DEFAULT_ITEMS - 1;              //  array + n = cap
    b [1] = (uint8_t) (n >> 24); b [2] = (uint8_t) (n >> 16);
    b [3] = (uint8_t) (n >> 8);  b [4] = (uint8_t) n;
    assert_int_equal (tx_prescan (b, 5 + n, NULL, &info), 0);
    n++;
    b [1] = (uint8_t) (n >> 24); b [2] = (uint8_t) (n >> 16);
    b [3] = (uint8_t) (n >> 8);  b [4] = (uint8_t) n;
    assert_int_equal (tx_prescan (b, 5 + n, NULL, &info), -1);
    assert_int_equal (info.reason, TX_PRESCAN_ITEMS);
    free (b);
}

static void
test_skip (void **state)
{
    (void) state;
    uint8_t buf [32];
    //  [1, {"a": nil, "b": [[]]}] then true
    size_t len = s_hex ("92 01 82 a1 61 c0 a1 62 91 90 c3", buf, sizeof buf);
    size_t off = 0;
    assert_int_equal (tx_prescan_skip (buf, len, &off), 0);
    assert_int_equal (off, 10);
    off = 1;
    assert_int_equal (tx_prescan_skip (buf, len, &off), 0);
    assert_int_equal (off, 2);
    assert_int_equal (tx_prescan_skip (buf, len, &off), 0);
    assert_int_equal (off, 10);
    assert_int_equal (tx_prescan_skip (buf, len, &off), 0);
    assert_int_equal (off, 11);
    assert_int_equal (tx_prescan_skip (buf, len, &off), -1);    //  at the end
    assert_int_equal (off, 11);
    off = 0;
    assert_int_equal (tx_prescan_skip (buf, 9, &off), -1);      //  cut short
    assert_int_equal (off, 0);
    len = s_hex ("dd ff ff ff ff", buf, sizeof buf);
    assert_int_equal (tx_prescan_skip (buf, len, &off), -1);
    len = s_hex ("91 c1", buf, sizeof buf);
    assert_int_equal (tx_prescan_skip (buf, len, &off), -1);
    assert_int_equal (off, 0);
}

//  Mutations of a realistic message: whatever the prescan accepts,
//  msgpack-c must decode completely.
static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;
static uint32_t
s_rand (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t) s_rng;
}

static void
test_mutations_agree_with_msgpack (void **state)
{
    (void) state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    msgpack_pack_str_with_body (&pk, "events", 6);
    msgpack_pack_array (&pk, 2);
    for (int i = 0; i < 2; i++) {
        msgpack_pack_map (&pk, 2);
        msgpack_pack_str_with_body (&pk, "id", 2);
        msgpack_pack_bin_with_body (&pk, "0123456789abcdef", 16);
        msgpack_pack_str_with_body (&pk, "attrs", 5);
        msgpack_pack_map (&pk, 3);
        msgpack_pack_str_with_body (&pk, "n", 1);
        msgpack_pack_int64 (&pk, -123456789);
        msgpack_pack_str_with_body (&pk, "f", 1);
        msgpack_pack_double (&pk, 2.5);
        msgpack_pack_str_with_body (&pk, "s", 1);
        msgpack_pack_str_with_body (&pk, "text", 4);
    }
    msgpack_pack_str_with_body (&pk, "x", 1);
    msgpack_pack_ext_with_body (&pk, "\0\0\0\1", 4, -1);
    msgpack_pack_str_with_body (&pk, "y", 1);
    msgpack_pack_array (&pk, 0);

    uint8_t buf [512];
    size_t passed = 0;
    msgpack_unpacked up;
    msgpack_unpacked_init (&up);
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = sb.size;
        memcpy (buf, sb.data, len);
        int muts = 1 + (int) (s_rand () % 4);
        for (int m = 0; m < muts; m++) {
            uint32_t r = s_rand ();
            size_t at = r % len;
            switch ((r >> 16) % 4) {
                case 0: buf [at] = (uint8_t) s_rand (); break;
                case 1: buf [at] ^= (uint8_t) (1u << ((r >> 8) % 8)); break;
                case 2: len = at + 1; break;                        //  truncate
                default:                                             //  insert
                    if (len < sizeof buf) {
                        memmove (buf + at + 1, buf + at, len - at);
                        buf [at] = (uint8_t) s_rand ();
                        len++;
                    }
            }
        }
        if (tx_prescan (buf, len, NULL, NULL) != 0)
            continue;
        passed++;
        size_t off = 0;
        int r = msgpack_unpack_next (&up, (const char *) buf, len, &off);
        if (r != MSGPACK_UNPACK_SUCCESS || off != len)
            fail_msg ("iteration %d: prescan passed, unpack returned %d, off %zu of %zu",
                      iter, r, off, len);
    }
    msgpack_unpacked_destroy (&up);
    msgpack_sbuffer_destroy (&sb);
    //  some mutants must pass, or this test proves nothing
    assert_true (passed > 100);
}

static void
test_reason_strings (void **state)
{
    (void) state;
    assert_string_equal (tx_prescan_reason_str (TX_PRESCAN_OK), "ok");
    assert_string_equal (tx_prescan_reason_str (TX_PRESCAN_TRAILING),
                         "trailing bytes after the object");
    assert_string_equal (tx_prescan_reason_str ((tx_prescan_reason_t) 99), "unknown reason");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_table),
        cmocka_unit_test (test_bombs_allocate_nothing),
        cmocka_unit_test (test_depth),
        cmocka_unit_test (test_items),
        cmocka_unit_test (test_skip),
        cmocka_unit_test (test_mutations_agree_with_msgpack),
        cmocka_unit_test (test_reason_strings),
    };
    return cmocka_run_group_tests_name ("prescan", tests, NULL, NULL);
}
