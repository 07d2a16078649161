/*  test_copyrow: an accepted event as a row of tongxin.events: the binary
 *  COPY layout, the time and jsonb encodings, NULLs, row lengths.
 *  (collector_basic.t and the replay in adversarial_db.t store such rows
 *  in PostgreSQL.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "copyrow.h"
#include "registry.h"

static tx_registry_t *s_reg;
static const tx_type_def_t *s_type;

static int
s_setup (void **state)
{
    (void) state;
    s_reg = tx_registry_new ();
    tx_type_def_t *t = tx_registry_add_type (s_reg, "sale", false, 2);
    tx_attr_def_t amount = { .name = "amount", .kind = TX_KIND_NUMERIC };
    tx_attr_def_t note = { .name = "note", .kind = TX_KIND_TEXT };
    tx_registry_add_attr (s_reg, t, &amount);
    tx_registry_add_attr (s_reg, t, &note);
    s_type = t;
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    tx_registry_unref (&s_reg);
    return 0;
}

static tx_attr_t s_attrs [2];

static tx_event_t
s_event (void)
{
    tx_event_t ev;
    memset (&ev, 0, sizeof ev);
    for (int i = 0; i < 16; i++)
        ev.id [i] = (uint8_t) (0xa0 + i);
    ev.unit = "u1";
    ev.unit_len = 2;
    ev.type = "sale";
    ev.type_len = 4;
    ev.at_sec = 946684800 + 1;          //  2000-01-01T00:00:01.0005Z
    ev.at_nsec = 500000;
    s_attrs [0] = (tx_attr_t) { "amount", 6, { .type = TX_VAL_STR, .u.s = { "12.50", 5 } } };
    s_attrs [1] = (tx_attr_t) { "note", 4, { .type = TX_VAL_STR, .u.s = { "x", 1 } } };
    ev.attrs = s_attrs;
    ev.attr_count = 2;
    return ev;
}

static uint32_t
s_be32 (const uint8_t *p)
{
    return (uint32_t) p [0] << 24 | (uint32_t) p [1] << 16 | (uint32_t) p [2] << 8 | p [3];
}

//  The field f of a row: its length (-1 for NULL) and where its bytes are.
static int32_t
s_field (const uint8_t *row, int f, const uint8_t **data)
{
    size_t off = 2;
    for (int i = 0; i < f; i++) {
        int32_t len = (int32_t) s_be32 (row + off);
        off += 4 + (len > 0 ? (size_t) len : 0);
    }
    *data = row + off + 4;
    return (int32_t) s_be32 (row + off);
}

static void
test_row (void **state)
{
    (void) state;
    tx_event_t ev = s_event ();
    tx_buf_t rows = { 0 }, jsonb = { 0 };
    static const uint8_t fp [16] = { 0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff };
    assert_int_equal (tx_copyrow_encode (&rows, &jsonb, s_type, &ev, "u1", 2, fp), 0);
    const uint8_t *d;
    assert_int_equal (rows.data [0] << 8 | rows.data [1], TX_COPY_FIELDS);
    assert_int_equal (s_field (rows.data, 0, &d), 16);
    assert_memory_equal (d, ev.id, 16);
    assert_int_equal (s_field (rows.data, 1, &d), 2);
    assert_memory_equal (d, "u1", 2);
    assert_int_equal (s_field (rows.data, 2, &d), 4);
    assert_memory_equal (d, "sale", 4);
    //  Microseconds since 2000-01-01, big-endian.
    assert_int_equal (s_field (rows.data, 3, &d), 8);
    static const uint8_t at [8] = { 0, 0, 0, 0, 0, 0x0f, 0x44, 0x34 };    //  1000500
    assert_memory_equal (d, at, 8);
    assert_int_equal (s_field (rows.data, 4, &d), -1);                    //  no partner
    //  jsonb: version 1, then the JSON, the numeric text as a number.
    const char *json = "\x01{\"amount\":12.50,\"note\":\"x\"}";
    assert_int_equal (s_field (rows.data, 5, &d), (int32_t) strlen (json));
    assert_memory_equal (d, json, strlen (json));
    assert_int_equal (s_field (rows.data, 6, &d), 2);
    assert_int_equal (s_field (rows.data, 7, &d), -1);                    //  supersedes nothing
    assert_int_equal (s_field (rows.data, 8, &d), 16);                    //  the fingerprint
    assert_memory_equal (d, fp, 16);
    assert_int_equal (tx_copyrow_len (rows.data), rows.len);
    tx_buf_reset (&rows);
    tx_buf_reset (&jsonb);
}

static void
test_rows_walk (void **state)
{
    (void) state;
    tx_event_t ev = s_event ();
    tx_buf_t rows = { 0 }, jsonb = { 0 };
    assert_int_equal (tx_copyrow_encode (&rows, &jsonb, s_type, &ev, "u1", 2, NULL), 0);
    size_t first = rows.len;
    ev.partner = "540522";
    ev.partner_len = 6;
    ev.has_supersedes = true;
    memset (ev.supersedes, 0x11, 16);
    ev.attr_count = 0;
    assert_int_equal (tx_copyrow_encode (&rows, &jsonb, s_type, &ev, "insecure:peer", 13, NULL), 0);
    assert_int_equal (tx_copyrow_len (rows.data), first);
    const uint8_t *second = rows.data + first, *d;
    assert_int_equal (tx_copyrow_len (second), rows.len - first);
    assert_int_equal (s_field (second, 4, &d), 6);
    assert_memory_equal (d, "540522", 6);
    assert_int_equal (s_field (second, 5, &d), 3);
    assert_memory_equal (d, "\x01{}", 3);
    assert_int_equal (s_field (second, 7, &d), 16);
    assert_int_equal (d [15], 0x11);
    tx_buf_reset (&rows);
    tx_buf_reset (&jsonb);
}

//  A content row of event_contents: unit, fingerprint, id, in that order.
static void
test_content_row (void **state)
{
    (void) state;
    tx_buf_t rows = { 0 };
    uint8_t fp [TX_CONTENT_FP_LEN], id [16];
    memset (fp, 0xf1, sizeof fp);
    memset (id, 0x1d, sizeof id);
    assert_int_equal (tx_copyrow_content_append (&rows, "town-1", 6, fp, id), 0);
    static const uint8_t want [] = {
        0, 3,  0, 0, 0, 6, 't', 'o', 'w', 'n', '-', '1',
        0, 0, 0, 16, 0xf1, 0xf1, 0xf1, 0xf1, 0xf1, 0xf1, 0xf1, 0xf1,
                     0xf1, 0xf1, 0xf1, 0xf1, 0xf1, 0xf1, 0xf1, 0xf1,
        0, 0, 0, 16, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d,
                     0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d };
    assert_int_equal (rows.len, sizeof want);
    assert_memory_equal (rows.data, want, sizeof want);
    tx_buf_reset (&rows);
}

//  The parameters replay binds are the row's fields, NULLs included.
static void
test_fill (void **state)
{
    (void) state;
    tx_event_t ev = s_event ();
    tx_buf_t jsonb = { 0 };
    assert_int_equal (tx_copyrow_jsonb (&jsonb, s_type, &ev), 0);
    tx_copyrow_t row;
    tx_copyrow_fill (&row, &ev, "u1", 2, &jsonb, NULL);
    assert_ptr_equal (row.data [0], ev.id);
    assert_ptr_equal (row.data [3], row.at);
    assert_null (row.data [4]);
    assert_ptr_equal (row.data [5], jsonb.data);
    assert_int_equal (row.len [5], jsonb.len);
    assert_null (row.data [7]);
    assert_null (row.data [8]);
    assert_int_equal (tx_copyrow_types [3], 1184);                        //  timestamptz
    assert_int_equal (tx_copyrow_types [5], 3802);                        //  jsonb
    tx_buf_reset (&jsonb);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_row),
        cmocka_unit_test (test_rows_walk),
        cmocka_unit_test (test_fill),
        cmocka_unit_test (test_content_row),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
