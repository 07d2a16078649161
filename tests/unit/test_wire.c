/*  test_wire: the message codec (common/wire.c).

    Messages that the packer would refuse to produce are written with a
    small format language (s_pack), so that every reject path can be hit
    with exact bytes:
        M n    map header of n pairs      A n   array header of n
        s str  (const char *)             S     str (const char *, int len)
        i int  (int)                      l     int64 (long long)
        u uint64 (unsigned long long)     d     float64 (double)
        F float32 (double)                b     bin (const void *, int len)
        x ext (int type, const void *, int len)
        T timestamp (long long sec, unsigned nsec), smallest form
        n nil   t true   f false
        V the four required event pairs: "id" (fresh UUIDv7), "unit":"unit-1",
          "type":"sale", "at":T(1700000000, 5)   (count them as 4 pairs)
*/

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "wire.h"
#include "uuid.h"

static tx_uuid_gen_t *s_gen;
//  RFC 9562 appendix A.6 example UUIDv7
static const uint8_t s_v7 [16] = {
    0x01, 0x7f, 0x22, 0xe2, 0x79, 0xb0, 0x7c, 0xc3,
    0x98, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f
};
static tx_wire_decoder_t *s_dec;

//  ---------------------------------------------------------------------
//  Helpers

static void
s_pack_ts (msgpack_packer *pk, int64_t sec, uint32_t nsec)
{
    char b [12];
    if (sec >= 0 && (sec >> 34) == 0 && nsec < (1u << 30)) {
        uint64_t d = ((uint64_t) nsec << 34) | (uint64_t) sec;
        if ((d >> 32) == 0) {
            for (int i = 0; i < 4; i++)
                b [i] = (char) (d >> (24 - 8 * i));
            msgpack_pack_ext_with_body (pk, b, 4, -1);
            return;
        }
        for (int i = 0; i < 8; i++)
            b [i] = (char) (d >> (56 - 8 * i));
        msgpack_pack_ext_with_body (pk, b, 8, -1);
        return;
    }
    for (int i = 0; i < 4; i++)
        b [i] = (char) (nsec >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        b [4 + i] = (char) ((uint64_t) sec >> (56 - 8 * i));
    msgpack_pack_ext_with_body (pk, b, 12, -1);
}

static void
s_vpack (msgpack_packer *pk, const char *fmt, va_list ap)
{
    for (const char *p = fmt; *p; p++) {
        switch (*p) {
            case ' ': break;
            case 'M': msgpack_pack_map (pk, (size_t) va_arg (ap, int)); break;
            case 'A': msgpack_pack_array (pk, (size_t) va_arg (ap, int)); break;
            case 's': {
                const char *s = va_arg (ap, const char *);
                msgpack_pack_str_with_body (pk, s, strlen (s));
                break;
            }
            case 'S': {
                const char *s = va_arg (ap, const char *);
                int n = va_arg (ap, int);
                msgpack_pack_str_with_body (pk, s, (size_t) n);
                break;
            }
            case 'i': msgpack_pack_int (pk, va_arg (ap, int)); break;
            case 'l': msgpack_pack_int64 (pk, va_arg (ap, long long)); break;
            case 'u': msgpack_pack_uint64 (pk, va_arg (ap, unsigned long long)); break;
            case 'd': msgpack_pack_double (pk, va_arg (ap, double)); break;
            case 'F': msgpack_pack_float (pk, (float) va_arg (ap, double)); break;
            case 'b': {
                const void *b = va_arg (ap, const void *);
                int n = va_arg (ap, int);
                msgpack_pack_bin_with_body (pk, b, (size_t) n);
                break;
            }
            case 'x': {
                int type = va_arg (ap, int);
                const void *b = va_arg (ap, const void *);
                int n = va_arg (ap, int);
                msgpack_pack_ext_with_body (pk, b, (size_t) n, (int8_t) type);
                break;
            }
            case 'T': {
                long long sec = va_arg (ap, long long);
                unsigned nsec = va_arg (ap, unsigned);
                s_pack_ts (pk, sec, nsec);
                break;
            }
            case 'n': msgpack_pack_nil (pk); break;
            case 't': msgpack_pack_true (pk); break;
            case 'f': msgpack_pack_false (pk); break;
            case 'V': {
                uint8_t id [16];
                tx_uuid_gen_next (s_gen, id);
                msgpack_pack_str_with_body (pk, "id", 2);
                msgpack_pack_bin_with_body (pk, id, 16);
                msgpack_pack_str_with_body (pk, "unit", 4);
                msgpack_pack_str_with_body (pk, "unit-1", 6);
                msgpack_pack_str_with_body (pk, "type", 4);
                msgpack_pack_str_with_body (pk, "sale", 4);
                msgpack_pack_str_with_body (pk, "at", 2);
                s_pack_ts (pk, 1700000000, 5);
                break;
            }
            default:
                fail_msg ("bad pack format char '%c'", *p);
        }
    }
}

static void
s_pack (msgpack_packer *pk, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_vpack (pk, fmt, ap);
    va_end (ap);
}

static void
s_start (msgpack_sbuffer *sb, msgpack_packer *pk)
{
    msgpack_sbuffer_init (sb);
    msgpack_packer_init (pk, sb, msgpack_sbuffer_write);
}

//  A valid event with a fresh id and the given attributes.
static void
s_event (tx_event_t *ev, const tx_attr_t *attrs, size_t n)
{
    memset (ev, 0, sizeof *ev);
    assert_int_equal (tx_uuid_gen_next (s_gen, ev->id), 0);
    ev->unit = "unit-1";
    ev->unit_len = 6;
    ev->type = "sale";
    ev->type_len = 4;
    ev->at_sec = 1700000000;
    ev->at_nsec = 123456789;
    ev->attrs = attrs;
    ev->attr_count = n;
}

static int
s_decode (const msgpack_sbuffer *sb, tx_batch_t *b, char *err, size_t errlen)
{
    return tx_wire_decode_batch ((const uint8_t *) sb->data, sb->size, b, s_dec, err, errlen);
}

//  Packs a batch [good, <fmt>, good] and checks that exactly the middle
//  event is rejected with code want (and msg, if not NULL).
static void
s_expect_reject (int want, const char *want_msg, const char *fmt, ...)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A", 4, "v", 1, "t", "batch", "batch", 42ULL, "events", 3);
    s_pack (&pk, "M V", 4);
    va_list ap;
    va_start (ap, fmt);
    s_vpack (&pk, fmt, ap);
    va_end (ap);
    s_pack (&pk, "M V s M s i", 5, "attrs", 1, "n", 7);

    tx_batch_t b;
    char err [256];
    int rc = s_decode (&sb, &b, err, sizeof err);
    if (rc != TX_WIRE_OK)
        fail_msg ("'%s': batch failed (%d): %s", fmt, rc, err);
    assert_int_equal (b.batch_id, 42);
    assert_int_equal (b.count, 3);
    if (b.events [1].reject != want)
        fail_msg ("'%s': reject %d (%s: %s), expected %d (%s)", fmt,
                  b.events [1].reject, tx_reject_code_str (b.events [1].reject),
                  b.events [1].reject_msg? b.events [1].reject_msg: "",
                  want, tx_reject_code_str (want));
    if (want != TX_REJECT_NONE) {
        assert_non_null (b.events [1].reject_msg);
        if (want_msg)
            assert_string_equal (b.events [1].reject_msg, want_msg);
    }
    else
        assert_null (b.events [1].reject_msg);
    assert_int_equal (b.events [0].reject, 0);
    assert_int_equal (b.events [2].reject, 0);
    assert_int_equal (b.events [2].attr_count, 1);
    assert_int_equal (b.events [2].attrs [0].value.u.i, 7);
    msgpack_sbuffer_destroy (&sb);
}

//  Decodes sb and expects whole-message return value want.
static void
s_expect_rc (msgpack_sbuffer *sb, int want, uint64_t want_batch, const char *what)
{
    tx_batch_t b;
    char err [256];
    int rc = s_decode (sb, &b, err, sizeof err);
    if (rc != want)
        fail_msg ("%s: rc %d (%s), expected %d", what, rc, err, want);
    if (b.batch_id != want_batch)
        fail_msg ("%s: batch id %llu, expected %llu", what,
                  (unsigned long long) b.batch_id, (unsigned long long) want_batch);
    if (want != TX_WIRE_OK) {
        assert_null (b.events);
        assert_int_equal (b.count, 0);
        assert_true (strlen (err) > 0);
    }
    msgpack_sbuffer_destroy (sb);
}

static int
s_setup (void **state)
{
    (void) state;
    s_gen = tx_uuid_gen_new ();
    s_dec = tx_wire_decoder_new ();
    return s_gen && s_dec? 0: -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    tx_uuid_gen_destroy (&s_gen);
    tx_wire_decoder_destroy (&s_dec);
    return 0;
}

//  ---------------------------------------------------------------------
//  Codes

static void
test_reject_codes (void **state)
{
    (void) state;
    //  The exact strings of protocol-decisions.md, in enum order.
    static const char *want [] = {
        NULL, "malformed_event", "unknown_field", "duplicate_key", "bad_id",
        "bad_id_time", "bad_utf8", "too_long", "unknown_unit", "unit_inactive",
        "unit_mismatch", "unknown_type", "bad_time", "missing_partner",
        "unknown_partner", "missing_attr", "unknown_attr", "bad_attr_type",
        "out_of_range", "bad_number", "bad_enum", "bad_date", "too_many_attrs",
        "db_refused"
    };
    assert_int_equal (sizeof want / sizeof want [0], TX_REJECT_COUNT_);
    assert_null (tx_reject_code_str (TX_REJECT_NONE));
    for (int i = 1; i < TX_REJECT_COUNT_; i++) {
        assert_string_equal (tx_reject_code_str (i), want [i]);
        assert_int_equal (tx_reject_code_from_str (want [i], strlen (want [i])), i);
    }
    assert_int_equal (TX_REJECT_BAD_UTF8, 6);
    assert_int_equal (TX_REJECT_TOO_MANY_ATTRS, 22);
    assert_null (tx_reject_code_str (-1));
    assert_null (tx_reject_code_str (TX_REJECT_COUNT_));
    assert_int_equal (tx_reject_code_from_str ("bad_ids", 7), -1);
    assert_int_equal (tx_reject_code_from_str ("bad_id", 5), -1);    //  prefix only
    assert_int_equal (tx_reject_code_from_str ("", 0), -1);
    assert_int_equal (tx_reject_code_from_str (NULL, 0), -1);

    assert_string_equal (tx_error_code_str (TX_ERROR_UNSUPPORTED_VERSION), "unsupported_version");
    assert_string_equal (tx_error_code_str (TX_ERROR_MALFORMED), "malformed");
    assert_string_equal (tx_error_code_str (TX_ERROR_TOO_LARGE), "too_large");
    assert_string_equal (tx_error_code_str (TX_ERROR_UNAUTHORIZED), "unauthorized");
    assert_null (tx_error_code_str (TX_ERROR_NONE));
    assert_null (tx_error_code_str (TX_ERROR_COUNT_));
    assert_int_equal (tx_error_code_from_str ("too_large", 9), TX_ERROR_TOO_LARGE);
    assert_int_equal (tx_error_code_from_str ("malformed_event", 15), -1);

    assert_int_equal (tx_wire_rc_error (TX_WIRE_MALFORMED), TX_ERROR_MALFORMED);
    assert_int_equal (tx_wire_rc_error (TX_WIRE_UNSUPPORTED), TX_ERROR_UNSUPPORTED_VERSION);
    assert_int_equal (tx_wire_rc_error (TX_WIRE_TOO_LARGE), TX_ERROR_TOO_LARGE);
    assert_int_equal (tx_wire_rc_error (TX_WIRE_OK), TX_ERROR_NONE);
    assert_int_equal (tx_wire_rc_error (TX_WIRE_NOMEM), TX_ERROR_NONE);
}

//  ---------------------------------------------------------------------
//  Batch round trip

static void
test_batch_round_trip (void **state)
{
    (void) state;
    const char text [] = "\xe9\x80\x9a\xe4\xbf\xa1 ok";     //  UTF-8, 9 bytes
    tx_attr_t attrs [] = {
        { "count", 5, { .type = TX_VAL_INT, .u.i = -42 } },
        { "big", 3, { .type = TX_VAL_INT, .u.i = INT64_MAX } },
        { "min", 3, { .type = TX_VAL_INT, .u.i = INT64_MIN } },
        { "amount", 6, { .type = TX_VAL_STR, .u.s = { "1234.50", 7 } } },
        { "ratio", 5, { .type = TX_VAL_FLOAT, .u.f = 0.1 } },
        { "paid", 4, { .type = TX_VAL_BOOL, .u.b = true } },
        { "void", 4, { .type = TX_VAL_BOOL, .u.b = false } },
        { "note", 4, { .type = TX_VAL_STR, .u.s = { text, 9 } } },
        { "empty", 5, { .type = TX_VAL_STR, .u.s = { "", 0 } } },
    };
    tx_event_t in [3];
    s_event (&in [0], attrs, sizeof attrs / sizeof attrs [0]);
    in [0].partner = "110105";
    in [0].partner_len = 6;
    s_event (&in [1], NULL, 0);
    in [1].at_sec = 4000000000LL;       //  64-bit timestamp form
    in [1].at_nsec = 999999999;
    s_event (&in [2], attrs + 5, 1);
    in [2].at_sec = 1700000000;         //  32-bit form
    in [2].at_nsec = 0;
    in [2].unit = "u";
    in [2].unit_len = 1;

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    char err [256] = "";
    if (tx_wire_pack_batch (&sb, UINT64_MAX, in, 3, err, sizeof err) != 0)
        fail_msg ("pack: %s", err);
    assert_true (sb.size < 400);

    tx_batch_t b;
    int rc = s_decode (&sb, &b, err, sizeof err);
    if (rc != TX_WIRE_OK)
        fail_msg ("decode: %d %s", rc, err);
    assert_int_equal (b.batch_id, UINT64_MAX);
    assert_int_equal (b.count, 3);
    const uint8_t *lo = (const uint8_t *) sb.data, *hi = lo + sb.size;
    for (size_t i = 0; i < 3; i++) {
        const tx_event_t *e = &b.events [i], *x = &in [i];
        if (e->reject)
            fail_msg ("event %zu rejected: %s", i, e->reject_msg);
        assert_null (e->reject_msg);
        assert_memory_equal (e->id, x->id, 16);
        assert_int_equal (e->unit_len, x->unit_len);
        assert_memory_equal (e->unit, x->unit, x->unit_len);
        //  zero-copy: strings point into the frame
        assert_true ((const uint8_t *) e->unit >= lo && (const uint8_t *) e->unit < hi);
        assert_int_equal (e->type_len, 4);
        assert_memory_equal (e->type, "sale", 4);
        assert_int_equal (e->at_sec, x->at_sec);
        assert_int_equal (e->at_nsec, x->at_nsec);
        assert_int_equal (e->attr_count, x->attr_count);
        for (size_t j = 0; j < e->attr_count; j++) {
            const tx_attr_t *a = &e->attrs [j], *y = &x->attrs [j];
            assert_int_equal (a->name_len, y->name_len);
            assert_memory_equal (a->name, y->name, y->name_len);
            assert_int_equal (a->value.type, y->value.type);
            switch (a->value.type) {
                case TX_VAL_INT:   assert_true (a->value.u.i == y->value.u.i); break;
                case TX_VAL_FLOAT: assert_true (a->value.u.f == y->value.u.f); break;
                case TX_VAL_BOOL:  assert_int_equal (a->value.u.b, y->value.u.b); break;
                case TX_VAL_STR:
                    assert_int_equal (a->value.u.s.len, y->value.u.s.len);
                    assert_memory_equal (a->value.u.s.ptr, y->value.u.s.ptr, y->value.u.s.len);
                    break;
            }
        }
        //  raw: exactly the bytes tx_wire_pack_event writes for the event
        msgpack_sbuffer one;
        msgpack_packer pk;
        s_start (&one, &pk);
        assert_int_equal (tx_wire_pack_event (&pk, x), 0);
        assert_int_equal (e->raw_len, one.size);
        assert_memory_equal (e->raw, one.data, one.size);
        msgpack_sbuffer_destroy (&one);
    }
    assert_int_equal (b.events [0].partner_len, 6);
    assert_memory_equal (b.events [0].partner, "110105", 6);
    assert_null (b.events [1].partner);
    assert_null (b.events [1].attrs);
    msgpack_sbuffer_destroy (&sb);
}

//  Negative and pre-1970 / post-2514 times use the 96-bit form.
static void
test_timestamp_forms (void **state)
{
    (void) state;
    static const struct { long long sec; unsigned nsec; } t [] = {
        { 0, 0 }, { 1700000000, 0 }, { 1700000000, 1 }, { 17179869183LL, 999999999 },
        { 17179869184LL, 0 }, { -1, 999999999 }, { -62135596800LL, 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t [0]; i++) {
        tx_event_t ev;
        s_event (&ev, NULL, 0);
        ev.at_sec = t [i].sec;
        ev.at_nsec = t [i].nsec;
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        assert_int_equal (tx_wire_pack_batch (&sb, 1, &ev, 1, NULL, 0), 0);
        tx_batch_t b;
        assert_int_equal (s_decode (&sb, &b, NULL, 0), TX_WIRE_OK);
        assert_int_equal (b.events [0].reject, 0);
        assert_true (b.events [0].at_sec == t [i].sec);
        assert_int_equal (b.events [0].at_nsec, t [i].nsec);
        msgpack_sbuffer_destroy (&sb);
    }
}

//  The decoder's arrays are reused; a smaller batch after a larger one
//  and an attr-less one after one with attrs decode correctly.
static void
test_decoder_reuse (void **state)
{
    (void) state;
    tx_attr_t attrs [64];
    char names [64][16];
    for (int i = 0; i < 64; i++) {
        snprintf (names [i], sizeof names [i], "a%d", i);
        attrs [i].name = names [i];
        attrs [i].name_len = strlen (names [i]);
        attrs [i].value.type = TX_VAL_INT;
        attrs [i].value.u.i = i;
    }
    static tx_event_t evs [1000];
    for (int i = 0; i < 1000; i++)
        s_event (&evs [i], attrs, 64);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    tx_batch_t b;
    char err [256];
    //  1000 events of 64 attributes: the largest valid batch shape
    assert_int_equal (tx_wire_pack_batch (&sb, 5, evs, 1000, err, sizeof err), 0);
    assert_true (sb.size <= TX_WIRE_MAX_FRAME);
    assert_int_equal (s_decode (&sb, &b, err, sizeof err), TX_WIRE_OK);
    assert_int_equal (b.count, 1000);
    assert_int_equal (b.events [999].attr_count, 64);
    assert_int_equal (b.events [999].attrs [63].value.u.i, 63);
    assert_int_equal (b.events [0].reject, 0);
    assert_int_equal (b.events [999].reject, 0);
    for (int round = 0; round < 3; round++) {
        s_event (&evs [0], NULL, 0);
        assert_int_equal (tx_wire_pack_batch (&sb, 6 + round, evs, 1, err, sizeof err), 0);
        assert_int_equal (s_decode (&sb, &b, err, sizeof err), TX_WIRE_OK);
        assert_int_equal (b.batch_id, 6 + round);
        assert_int_equal (b.count, 1);
        assert_int_equal (b.events [0].attr_count, 0);
        assert_null (b.events [0].attrs);
        assert_int_equal (b.events [0].reject, 0);
    }
    msgpack_sbuffer_destroy (&sb);

    tx_wire_decoder_t *d = tx_wire_decoder_new ();
    tx_wire_decoder_destroy (&d);
    assert_null (d);
    tx_wire_decoder_destroy (&d);
}

//  ---------------------------------------------------------------------
//  Event-level rejects: each one leaves the batch and the neighbours alone

static void
test_reject_malformed_event (void **state)
{
    (void) state;
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "event is int, not a map", "i", 5);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "event is array, not a map", "A", 0);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "missing 'at'", "M s b s s s s", 3,
                     "id", s_v7, 16, "unit", "u", "type", "t");
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "missing 'id'", "M s s s s s T", 3,
                     "unit", "u", "type", "t", "at", 1700000000LL, 0u);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "missing 'id'", "M", 0);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "event key is int, not str", "M V i i", 5, 1, 2);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "'unit' is int, not str", "M s b s i s s s T", 4,
                     "id", s_v7, 16, "unit", 7, "type", "t",
                     "at", 1700000000LL, 0u);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "'at' is int, not ext", "M s b s s s s s i", 4,
                     "id", s_v7, 16, "unit", "u", "type", "t", "at", 1700000000);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "'partner' is nil, not str", "M V s n", 5,
                     "partner");
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "'attrs' is array, not map", "M V s A", 5,
                     "attrs", 0);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "'attrs' is nil, not map", "M V s n", 5,
                     "attrs");
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "attribute name is int, not str",
                     "M V s M i i", 5, "attrs", 1, 1, 2);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "empty unit", "M s b s s s s s T", 4,
                     "id", s_v7, 16, "unit", "", "type", "t",
                     "at", 1700000000LL, 0u);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "empty attribute name",
                     "M V s M s i", 5, "attrs", 1, "", 2);
}

static void
test_reject_unknown_field (void **state)
{
    (void) state;
    s_expect_reject (TX_REJECT_UNKNOWN_FIELD, "unknown field 'zzz'", "M V s i", 5, "zzz", 1);
    //  revision 1.1: "supersedes" is known, and must be bin 16
    s_expect_reject (TX_REJECT_NONE, NULL, "M V s b", 5, "supersedes", "0123456789abcdef", 16);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "'supersedes' is not bin 16", "M V s i", 5,
                     "supersedes", 1);
    s_expect_reject (TX_REJECT_MALFORMED_EVENT, "'supersedes' is not bin 16", "M V s b", 5,
                     "supersedes", "0123456789abcde", 15);
    //  unprintable bytes are not echoed
    s_expect_reject (TX_REJECT_UNKNOWN_FIELD, "unknown field '?a?'", "M V S i", 5,
                     "\xff" "a\n", 3, 1);
    //  long names are cut
    s_expect_reject (TX_REJECT_UNKNOWN_FIELD,
                     "unknown field 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'", "M V s i", 5,
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1);
    //  unknown fields inside attrs are the validator's (unknown_attr), not ours
    s_expect_reject (TX_REJECT_NONE, NULL, "M V s M s i", 5, "attrs", 1, "whatever", 1);
}

static void
test_reject_duplicate_key (void **state)
{
    (void) state;
    s_expect_reject (TX_REJECT_DUPLICATE_KEY, "duplicate key 'unit'", "M V s s", 5,
                     "unit", "unit-1");
    s_expect_reject (TX_REJECT_DUPLICATE_KEY, "duplicate key 'id'", "M V s b", 5,
                     "id", s_v7, 16);
    s_expect_reject (TX_REJECT_DUPLICATE_KEY, "duplicate key 'attrs'", "M V s M s M", 6,
                     "attrs", 0, "attrs", 0);
    s_expect_reject (TX_REJECT_DUPLICATE_KEY, "duplicate attribute 'a'",
                     "M V s M s i s i s i", 5, "attrs", 3, "a", 1, "b", 2, "a", 3);
    //  same value, still a duplicate
    s_expect_reject (TX_REJECT_DUPLICATE_KEY, "duplicate attribute 'x'",
                     "M V s M s t s t", 5, "attrs", 2, "x", "x");
}

static void
test_reject_bad_id (void **state)
{
    (void) state;
    uint8_t v4 [16], v7 [16];
    assert_int_equal (tx_uuid_parse ("f47ac10b-58cc-4372-a567-0e02b2c3d479", 36, v4), 0);
    assert_int_equal (tx_uuid_parse ("017f22e2-79b0-7cc3-98c4-dc0c0c07398f", 36, v7), 0);
    s_expect_reject (TX_REJECT_BAD_ID, "id is not a UUIDv7 (version 4)",
                     "M s b s s s s s T", 4, "id", v4, 16, "unit", "u", "type", "t",
                     "at", 1700000000LL, 0u);
    s_expect_reject (TX_REJECT_NONE, NULL,
                     "M s b s s s s s T", 4, "id", v7, 16, "unit", "u", "type", "t",
                     "at", 1700000000LL, 0u);
    s_expect_reject (TX_REJECT_BAD_ID, "'id' is not bin 16",
                     "M s b s s s s s T", 4, "id", v7, 15, "unit", "u", "type", "t",
                     "at", 1700000000LL, 0u);
    s_expect_reject (TX_REJECT_BAD_ID, "'id' is not bin 16",
                     "M s s s s s s s T", 4, "id", "017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
                     "unit", "u", "type", "t", "at", 1700000000LL, 0u);
    s_expect_reject (TX_REJECT_BAD_ID, "'id' is not bin 16",
                     "M s S s s s s s T", 4, "id", (const char *) v7, 16, "unit", "u",
                     "type", "t", "at", 1700000000LL, 0u);
    //  variant 0b11
    v7 [8] = 0xc4;
    s_expect_reject (TX_REJECT_BAD_ID, NULL,
                     "M s b s s s s s T", 4, "id", v7, 16, "unit", "u", "type", "t",
                     "at", 1700000000LL, 0u);
}

static void
test_reject_bad_utf8 (void **state)
{
    (void) state;
    static const struct { const char *s; int len; } bad [] = {
        { "\xc0\x80", 2 },              //  overlong NUL
        { "a\xed\xa0\x80", 4 },         //  surrogate
        { "\xf4\x90\x80\x80", 4 },      //  above U+10FFFF
        { "ab\x80", 3 },                //  lone continuation
        { "a\0b", 3 },                  //  NUL
        { "\xe9\x80", 2 },              //  truncated
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_expect_reject (TX_REJECT_BAD_UTF8, "unit is not valid UTF-8 or contains NUL",
                         "M s b s S s s s T", 4, "id", s_v7, 16,
                         "unit", bad [i].s, bad [i].len, "type", "t", "at", 1700000000LL, 0u);
        s_expect_reject (TX_REJECT_BAD_UTF8, "type is not valid UTF-8 or contains NUL",
                         "M s b s s s S s T", 4, "id", s_v7, 16,
                         "unit", "u", "type", bad [i].s, bad [i].len, "at", 1700000000LL, 0u);
        s_expect_reject (TX_REJECT_BAD_UTF8, "partner is not valid UTF-8 or contains NUL",
                         "M V s S", 5, "partner", bad [i].s, bad [i].len);
        s_expect_reject (TX_REJECT_BAD_UTF8, "attribute name is not valid UTF-8 or contains NUL",
                         "M V s M S i", 5, "attrs", 1, bad [i].s, bad [i].len, 1);
        s_expect_reject (TX_REJECT_BAD_UTF8, "attribute 'note' is not valid UTF-8 or contains NUL",
                         "M V s M s S", 5, "attrs", 1, "note", bad [i].s, bad [i].len);
    }
    //  the bin id is bytes, not text: any bytes are fine there
    s_expect_reject (TX_REJECT_NONE, NULL, "M V s M s s", 5, "attrs", 1, "note",
                     "\xf0\x9f\x98\x80 \xe9\x80\x9a");
}

static void
test_reject_too_long (void **state)
{
    (void) state;
    char big [4098];
    memset (big, 'x', sizeof big);
    //  codes: 64 bytes pass, 65 do not
    s_expect_reject (TX_REJECT_NONE, NULL, "M s b s S s s s T", 4, "id", s_v7, 16,
                     "unit", big, 64, "type", "t", "at", 1700000000LL, 0u);
    s_expect_reject (TX_REJECT_TOO_LONG, "unit of 65 bytes, at most 64",
                     "M s b s S s s s T", 4, "id", s_v7, 16,
                     "unit", big, 65, "type", "t", "at", 1700000000LL, 0u);
    s_expect_reject (TX_REJECT_TOO_LONG, "type of 65 bytes, at most 64",
                     "M s b s s s S s T", 4, "id", s_v7, 16,
                     "unit", "u", "type", big, 65, "at", 1700000000LL, 0u);
    s_expect_reject (TX_REJECT_TOO_LONG, "partner of 100 bytes, at most 64",
                     "M V s S", 5, "partner", big, 100);
    s_expect_reject (TX_REJECT_TOO_LONG, "attribute name of 65 bytes, at most 64",
                     "M V s M S i", 5, "attrs", 1, big, 65, 1);
    s_expect_reject (TX_REJECT_NONE, NULL, "M V s M S i", 5, "attrs", 1, big, 64, 1);
    //  values: 4096 bytes pass, 4097 do not
    s_expect_reject (TX_REJECT_NONE, NULL, "M V s M s S", 5, "attrs", 1, "note", big, 4096);
    s_expect_reject (TX_REJECT_TOO_LONG, "attribute 'note' of 4097 bytes, at most 4096",
                     "M V s M s S", 5, "attrs", 1, "note", big, 4097);
    //  a too-long string that is also bad UTF-8 reports the length
    big [0] = (char) 0xff;
    s_expect_reject (TX_REJECT_TOO_LONG, NULL, "M V s M s S", 5, "attrs", 1, "note", big, 4098);
}

static void
test_reject_bad_time (void **state)
{
    (void) state;
    const char *ev = "M s b s s s s s x";
    s_expect_reject (TX_REJECT_BAD_TIME, "'at' is ext type 5, not -1", ev, 4,
                     "id", s_v7, 16, "unit", "u", "type", "t",
                     "at", 5, "\0\0\0\1", 4);
    s_expect_reject (TX_REJECT_BAD_TIME, "'at' is ext type 0, not -1", ev, 4,
                     "id", s_v7, 16, "unit", "u", "type", "t",
                     "at", 0, "\0\0\0\0\0\0\0\1", 8);
    s_expect_reject (TX_REJECT_BAD_TIME, "'at' timestamp has 5 bytes, not 4, 8 or 12", ev, 4,
                     "id", s_v7, 16, "unit", "u", "type", "t",
                     "at", -1, "\0\0\0\0\1", 5);
    s_expect_reject (TX_REJECT_BAD_TIME, "'at' timestamp has 16 bytes, not 4, 8 or 12", ev, 4,
                     "id", s_v7, 16, "unit", "u", "type", "t",
                     "at", -1, "0123456789abcdef", 16);
    //  nanoseconds 1e9 in the 64-bit form (30-bit field) and 2^32-1 in the 96-bit one
    const char *ts = "M s b s s s s s T";
    s_expect_reject (TX_REJECT_BAD_TIME, "'at' nanoseconds 1000000000 >= 1e9", ts, 4,
                     "id", s_v7, 16, "unit", "u", "type", "t",
                     "at", 1700000000LL, 1000000000u);
    s_expect_reject (TX_REJECT_BAD_TIME, "'at' nanoseconds 4294967295 >= 1e9", ts, 4,
                     "id", s_v7, 16, "unit", "u", "type", "t",
                     "at", -5LL, 4294967295u);
    s_expect_reject (TX_REJECT_NONE, NULL, ts, 4,
                     "id", s_v7, 16, "unit", "u", "type", "t",
                     "at", 1700000000LL, 999999999u);
}

static void
test_reject_too_many_attrs (void **state)
{
    (void) state;
    for (int n = 64; n <= 65; n++) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        s_start (&sb, &pk);
        s_pack (&pk, "M s i s s s u s A", 4, "v", 1, "t", "batch", "batch", 9ULL, "events", 2);
        s_pack (&pk, "M V s M", 5, "attrs", n);
        for (int i = 0; i < n; i++) {
            char name [16];
            snprintf (name, sizeof name, "k%d", i);
            s_pack (&pk, "s i", name, i);
        }
        s_pack (&pk, "M V", 4);
        tx_batch_t b;
        assert_int_equal (s_decode (&sb, &b, NULL, 0), TX_WIRE_OK);
        assert_int_equal (b.count, 2);
        if (n == 64) {
            assert_int_equal (b.events [0].reject, 0);
            assert_int_equal (b.events [0].attr_count, 64);
        }
        else {
            assert_int_equal (b.events [0].reject, TX_REJECT_TOO_MANY_ATTRS);
            assert_string_equal (b.events [0].reject_msg, "65 attributes, at most 64");
        }
        assert_int_equal (b.events [1].reject, 0);
        msgpack_sbuffer_destroy (&sb);
    }
    //  the count is checked before any attribute is looked at
    msgpack_sbuffer sb;
    msgpack_packer pk;
    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A", 4, "v", 1, "t", "batch", "batch", 9ULL, "events", 1);
    s_pack (&pk, "M V s M", 5, "attrs", 65);
    for (int i = 0; i < 65; i++) {
        char name [16];
        snprintf (name, sizeof name, "k%d", i);
        s_pack (&pk, "s n", name);
    }
    tx_batch_t b;
    assert_int_equal (s_decode (&sb, &b, NULL, 0), TX_WIRE_OK);
    assert_int_equal (b.events [0].reject, TX_REJECT_TOO_MANY_ATTRS);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_reject_bad_attr_type (void **state)
{
    (void) state;
    s_expect_reject (TX_REJECT_BAD_ATTR_TYPE, "attribute 'a' is nil, not a scalar",
                     "M V s M s n", 5, "attrs", 1, "a");
    s_expect_reject (TX_REJECT_BAD_ATTR_TYPE, "attribute 'a' is array, not a scalar",
                     "M V s M s A i", 5, "attrs", 1, "a", 1, 1);
    s_expect_reject (TX_REJECT_BAD_ATTR_TYPE, "attribute 'a' is map, not a scalar",
                     "M V s M s M", 5, "attrs", 1, "a", 0);
    s_expect_reject (TX_REJECT_BAD_ATTR_TYPE, "attribute 'a' is bin, not a scalar",
                     "M V s M s b", 5, "attrs", 1, "a", "xy", 2);
    s_expect_reject (TX_REJECT_BAD_ATTR_TYPE, "attribute 'a' is ext, not a scalar",
                     "M V s M s x", 5, "attrs", 1, "a", -1, "\0\0\0\1", 4);
    //  the first bad attribute is reported
    s_expect_reject (TX_REJECT_BAD_ATTR_TYPE, "attribute 'c' is nil, not a scalar",
                     "M V s M s i s t s n s A", 5, "attrs", 4, "a", 1, "b", "c", "d", 0);
}

//  A uint64 above INT64_MAX cannot be any protocol integer: out_of_range.
static void
test_reject_huge_int (void **state)
{
    (void) state;
    s_expect_reject (TX_REJECT_OUT_OF_RANGE, "attribute 'n': integer above INT64_MAX",
                     "M V s M s u", 5, "attrs", 1, "n", 9223372036854775808ULL);
    s_expect_reject (TX_REJECT_OUT_OF_RANGE, NULL,
                     "M V s M s u", 5, "attrs", 1, "n", 18446744073709551615ULL);
    s_expect_reject (TX_REJECT_NONE, NULL,
                     "M V s M s u", 5, "attrs", 1, "n", 9223372036854775807ULL);
    s_expect_reject (TX_REJECT_NONE, NULL,
                     "M V s M s l", 5, "attrs", 1, "n", (long long) INT64_MIN);
}

static void
test_reject_bad_number (void **state)
{
    (void) state;
    s_expect_reject (TX_REJECT_BAD_NUMBER, "attribute 'f' is NaN or infinite",
                     "M V s M s d", 5, "attrs", 1, "f", (double) NAN);
    s_expect_reject (TX_REJECT_BAD_NUMBER, NULL, "M V s M s d", 5, "attrs", 1, "f",
                     (double) INFINITY);
    s_expect_reject (TX_REJECT_BAD_NUMBER, NULL, "M V s M s d", 5, "attrs", 1, "f",
                     (double) -INFINITY);
    s_expect_reject (TX_REJECT_BAD_NUMBER, NULL, "M V s M s F", 5, "attrs", 1, "f",
                     (double) NAN);
    s_expect_reject (TX_REJECT_BAD_NUMBER, NULL, "M V s M s F", 5, "attrs", 1, "f",
                     (double) INFINITY);
    s_expect_reject (TX_REJECT_NONE, NULL, "M V s M s d", 5, "attrs", 1, "f", 1e308);
    s_expect_reject (TX_REJECT_NONE, NULL, "M V s M s F", 5, "attrs", 1, "f", 1.5);
}

//  Which check wins when an event has several problems (documented order).
static void
test_reject_order (void **state)
{
    (void) state;
    //  a key problem beats a missing key and a bad value
    s_expect_reject (TX_REJECT_UNKNOWN_FIELD, NULL, "M s i s n", 2, "zzz", 1, "id");
    //  duplicate key found in map order before the unknown one
    s_expect_reject (TX_REJECT_DUPLICATE_KEY, NULL, "M V s s s i", 6, "type", "x", "zzz", 1);
    //  bad id (type) before bad unit text
    s_expect_reject (TX_REJECT_BAD_ID, NULL, "M s i s S s s s T", 4, "id", 1,
                     "unit", "\xc0\x80", 2, "type", "t", "at", 1700000000LL, 0u);
    //  msgpack type problems (step 4) before content problems (step 5)
    s_expect_reject (TX_REJECT_BAD_ATTR_TYPE, NULL, "M s b s S s s s T s M s n", 5,
                     "id", s_v7, 16, "unit", "\xc0\x80", 2, "type", "t",
                     "at", 1700000000LL, 0u, "attrs", 1, "a");
}

//  A rejected event keeps what was decoded before the failing check.
static void
test_reject_partial_fields (void **state)
{
    (void) state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    s_start (&sb, &pk);
    uint8_t id [16];
    tx_uuid_gen_next (s_gen, id);
    s_pack (&pk, "M s i s s s u s A", 4, "v", 1, "t", "batch", "batch", 3ULL, "events", 1);
    s_pack (&pk, "M s b s s s s s T s M s d", 5, "id", id, 16, "unit", "u9", "type", "t",
            "at", 1700000000LL, 7u, "attrs", 1, "f", (double) NAN);
    tx_batch_t b;
    assert_int_equal (s_decode (&sb, &b, NULL, 0), TX_WIRE_OK);
    const tx_event_t *e = &b.events [0];
    assert_int_equal (e->reject, TX_REJECT_BAD_NUMBER);
    assert_memory_equal (e->id, id, 16);
    assert_int_equal (e->unit_len, 2);
    assert_memory_equal (e->unit, "u9", 2);
    assert_int_equal (e->at_nsec, 7);
    assert_non_null (e->raw);
    assert_int_equal (e->raw_len, sb.size - (size_t) (e->raw - (const uint8_t *) sb.data));
    msgpack_sbuffer_destroy (&sb);
}

//  ---------------------------------------------------------------------
//  Whole-message outcomes

static void
test_envelope_malformed (void **state)
{
    (void) state;
    msgpack_sbuffer sb;
    msgpack_packer pk;

    s_start (&sb, &pk);
    s_pack (&pk, "A", 0);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 0, "array root");

    s_start (&sb, &pk);
    s_pack (&pk, "s", "batch");
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 0, "str root");

    //  unknown top-level key: malformed, but the batch id is still echoed
    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A M V s i", 5, "v", 1, "t", "batch", "batch", 77ULL,
            "events", 1, 4, "extra", 1);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "unknown key");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A M V i i", 5, "v", 1, "t", "batch", "batch", 77ULL,
            "events", 1, 4, 1, 1);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "int key");

    //  duplicate top-level keys
    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A M V s u", 5, "v", 1, "t", "batch", "batch", 77ULL,
            "events", 1, 4, "batch", 78ULL);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 0, "duplicate batch (id not echoed)");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A M V s i", 5, "v", 1, "t", "batch", "batch", 77ULL,
            "events", 1, 4, "v", 1);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "duplicate v");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A M V s s", 5, "v", 1, "t", "batch", "batch", 77ULL,
            "events", 1, 4, "t", "batch");
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "duplicate t");

    //  missing keys
    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u", 3, "v", 1, "t", "batch", "batch", 77ULL);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "missing events");

    s_start (&sb, &pk);
    s_pack (&pk, "M s s s u s A M V", 3, "t", "batch", "batch", 77ULL, "events", 1, 4);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "missing v");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s u s A M V", 3, "v", 1, "batch", 77ULL, "events", 1, 4);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "missing t");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s A M V", 3, "v", 1, "t", "batch", "events", 1, 4);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 0, "missing batch");

    //  wrong values
    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A M V", 4, "v", 1, "t", "ack", "batch", 77ULL, "events", 1, 4);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "t ack");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A", 4, "v", 1, "t", "batch", "batch", 77ULL, "events", 0);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "no events");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s M", 4, "v", 1, "t", "batch", "batch", 77ULL, "events", 0);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "events map");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A M V", 4, "v", 1, "t", "batch", "batch", 0ULL, "events", 1, 4);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 0, "batch 0");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s i s A M V", 4, "v", 1, "t", "batch", "batch", -5, "events", 1, 4);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 0, "batch negative");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s s s A M V", 4, "v", 1, "t", "batch", "batch", "77", "events", 1, 4);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 0, "batch str");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A M V", 4, "v", 0, "t", "batch", "batch", 77ULL, "events", 1, 4);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "v 0");

    s_start (&sb, &pk);
    s_pack (&pk, "M s s s s s u s A M V", 4, "v", "1", "t", "batch", "batch", 77ULL, "events", 1, 4);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "v str");

    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A M V", 4, "v", -1, "t", "batch", "batch", 77ULL, "events", 1, 4);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 77, "v negative");
}

static void
test_envelope_version (void **state)
{
    (void) state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s A M V", 4, "v", 2, "t", "batch", "batch", 12ULL, "events", 1, 4);
    s_expect_rc (&sb, TX_WIRE_UNSUPPORTED, 12, "v 2");
    //  a later version may carry keys we do not know: still unsupported_version
    s_start (&sb, &pk);
    s_pack (&pk, "M s i s s s u s i", 4, "v", 3, "t", "batch2", "batch", 12ULL, "frames", 1);
    s_expect_rc (&sb, TX_WIRE_UNSUPPORTED, 12, "v 3 with other keys");
    s_start (&sb, &pk);
    s_pack (&pk, "M s u", 1, "v", 18446744073709551615ULL);
    s_expect_rc (&sb, TX_WIRE_UNSUPPORTED, 0, "v max");
    //  but a duplicated "v" cannot be trusted
    s_start (&sb, &pk);
    s_pack (&pk, "M s i s i", 2, "v", 2, "v", 2);
    s_expect_rc (&sb, TX_WIRE_MALFORMED, 0, "v twice");
}

static void
test_envelope_too_large (void **state)
{
    (void) state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    for (int n = 1000; n <= 1001; n++) {
        s_start (&sb, &pk);
        s_pack (&pk, "M s i s s s u s A", 4, "v", 1, "t", "batch", "batch", 31ULL, "events", n);
        for (int i = 0; i < n; i++)
            s_pack (&pk, "M V", 4);
        if (n == 1000)
            s_expect_rc (&sb, TX_WIRE_OK, 31, "1000 events");
        else
            s_expect_rc (&sb, TX_WIRE_TOO_LARGE, 31, "1001 events");
    }
    //  frames above 1 MiB are refused before anything is parsed
    uint8_t *big = calloc (1, TX_WIRE_MAX_FRAME + 1);
    tx_batch_t b;
    char err [128];
    assert_int_equal (tx_wire_decode_batch (big, TX_WIRE_MAX_FRAME + 1, &b, s_dec, err, sizeof err),
                      TX_WIRE_TOO_LARGE);
    assert_string_equal (err, "frame of 1048577 bytes exceeds 1048576");
    //  exactly 1 MiB is parsed (and here malformed: a zero byte then trailing bytes)
    assert_int_equal (tx_wire_decode_batch (big, TX_WIRE_MAX_FRAME, &b, s_dec, err, sizeof err),
                      TX_WIRE_MALFORMED);
    assert_string_equal (err, "prescan: trailing bytes after the object at offset 1");
    free (big);
}

//  Every strict prefix of a valid batch, and the batch plus a trailing
//  byte, is malformed.
static void
test_truncated_and_trailing (void **state)
{
    (void) state;
    tx_attr_t attrs [] = {
        { "k", 1, { .type = TX_VAL_STR, .u.s = { "value", 5 } } },
        { "f", 1, { .type = TX_VAL_FLOAT, .u.f = 2.5 } },
    };
    tx_event_t ev [2];
    s_event (&ev [0], attrs, 2);
    s_event (&ev [1], NULL, 0);
    ev [1].partner = "310000";
    ev [1].partner_len = 6;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (tx_wire_pack_batch (&sb, 8, ev, 2, NULL, 0), 0);
    tx_batch_t b;
    char err [256];
    for (size_t len = 0; len < sb.size; len++) {
        int rc = tx_wire_decode_batch ((const uint8_t *) sb.data, len, &b, s_dec, err, sizeof err);
        if (rc != TX_WIRE_MALFORMED)
            fail_msg ("prefix of %zu/%zu bytes: rc %d", len, sb.size, rc);
        assert_int_equal (strncmp (err, "prescan: ", 9), 0);
    }
    msgpack_sbuffer_write (&sb, "\xc0", 1);
    assert_int_equal (tx_wire_decode_batch ((const uint8_t *) sb.data, sb.size, &b, s_dec,
                                            err, sizeof err), TX_WIRE_MALFORMED);
    char want [80];
    snprintf (want, sizeof want, "prescan: trailing bytes after the object at offset %zu",
              sb.size - 1);
    assert_string_equal (err, want);
    //  and the untouched message still decodes
    assert_int_equal (tx_wire_decode_batch ((const uint8_t *) sb.data, sb.size - 1, &b, s_dec,
                                            err, sizeof err), TX_WIRE_OK);
    assert_int_equal (b.count, 2);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_bombs (void **state)
{
    (void) state;
    static const struct { const char *b; size_t n; } bombs [] = {
        { "\xdf\x04\x00\x00\x00", 5 },
        { "\xdd\xff\xff\xff\xff", 5 },
        { "\xdd\xff\x00\x00\x00", 5 },
        { "\xdf\xff\xff\xff\xff", 5 },
        //  a plausible envelope whose events array claims 2^32-1 elements
        { "\x84\xa1v\x01\xa1t\xa5" "batch\xa5" "batch\x01\xa6" "events\xdd\xff\xff\xff\xff", 31 },
    };
    for (size_t i = 0; i < sizeof bombs / sizeof bombs [0]; i++) {
        tx_batch_t b;
        char err [256];
        int rc = tx_wire_decode_batch ((const uint8_t *) bombs [i].b, bombs [i].n, &b, s_dec,
                                       err, sizeof err);
        assert_int_equal (rc, TX_WIRE_MALFORMED);
        const char *tail = i < 4? "remain at offset 0": "remain at offset 26";
        assert_true (strlen (err) > strlen (tail));
        assert_string_equal (err + strlen (err) - strlen (tail), tail);
        tx_reply_t r;
        rc = tx_wire_decode_reply ((const uint8_t *) bombs [i].b, bombs [i].n, &r, s_dec,
                                   err, sizeof err);
        assert_int_equal (rc, TX_WIRE_MALFORMED);
    }
}

//  Nesting: a valid batch needs depth 4; the prescan refuses depth 9, even
//  inside an unknown field of one event.
static void
test_depth_limit (void **state)
{
    (void) state;
    for (int extra = 5; extra <= 6; extra++) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        s_start (&sb, &pk);
        s_pack (&pk, "M s i s s s u s A M V s", 4, "v", 1, "t", "batch", "batch", 4ULL,
                "events", 1, 5, "deep");
        for (int i = 0; i < extra; i++)
            s_pack (&pk, "A", 1);
        s_pack (&pk, "n");
        tx_batch_t b;
        char err [256];
        int rc = s_decode (&sb, &b, err, sizeof err);
        if (extra == 5) {               //  depth 3 + 5 = 8
            assert_int_equal (rc, TX_WIRE_OK);
            assert_int_equal (b.events [0].reject, TX_REJECT_UNKNOWN_FIELD);
        }
        else {                          //  depth 9
            assert_int_equal (rc, TX_WIRE_MALFORMED);
            assert_string_equal (err, "prescan: nesting too deep at offset 94");
            assert_int_equal (b.batch_id, 0);
        }
        msgpack_sbuffer_destroy (&sb);
    }
}

//  ---------------------------------------------------------------------
//  Producer-side packing refusals and event checks

static void
test_pack_batch_refuses (void **state)
{
    (void) state;
    tx_event_t ev [2];
    s_event (&ev [0], NULL, 0);
    s_event (&ev [1], NULL, 0);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    char err [256];
    assert_int_equal (tx_wire_pack_batch (&sb, 0, ev, 2, err, sizeof err), -1);
    assert_string_equal (err, "batch id 0");
    assert_int_equal (tx_wire_pack_batch (&sb, 1, ev, 0, err, sizeof err), -1);
    assert_string_equal (err, "0 events, need 1..1000");
    assert_int_equal (tx_wire_pack_batch (&sb, 1, ev, 1001, err, sizeof err), -1);
    assert_int_equal (sb.size, 0);
    //  a v4 id in event 1
    assert_int_equal (tx_uuid_parse ("f47ac10b-58cc-4372-a567-0e02b2c3d479", 36, ev [1].id), 0);
    assert_int_equal (tx_wire_pack_batch (&sb, 1, ev, 2, err, sizeof err), -1);
    assert_string_equal (err, "event 1: bad_id: id is not a UUIDv7 (version 4)");
    msgpack_sbuffer_destroy (&sb);
}

static void
test_event_check (void **state)
{
    (void) state;
    tx_attr_t a [2] = {
        { "x", 1, { .type = TX_VAL_FLOAT, .u.f = 1.0 } },
        { "x", 1, { .type = TX_VAL_INT, .u.i = 1 } },
    };
    tx_event_t ev;
    char msg [TX_REJECT_MSG_MAX];
    s_event (&ev, a, 1);
    assert_int_equal (tx_wire_event_check (&ev, msg, sizeof msg), TX_REJECT_NONE);
    ev.attr_count = 2;
    assert_int_equal (tx_wire_event_check (&ev, msg, sizeof msg), TX_REJECT_DUPLICATE_KEY);
    assert_string_equal (msg, "duplicate attribute 'x'");
    ev.attr_count = 1;
    a [0].value.u.f = NAN;
    assert_int_equal (tx_wire_event_check (&ev, msg, sizeof msg), TX_REJECT_BAD_NUMBER);
    a [0].value.type = (tx_value_type_t) 9;
    assert_int_equal (tx_wire_event_check (&ev, msg, sizeof msg), TX_REJECT_BAD_ATTR_TYPE);
    ev.attr_count = 65;
    assert_int_equal (tx_wire_event_check (&ev, NULL, 0), TX_REJECT_TOO_MANY_ATTRS);
    ev.attr_count = 0;
    ev.at_nsec = 1000000000;
    assert_int_equal (tx_wire_event_check (&ev, msg, sizeof msg), TX_REJECT_BAD_TIME);
    ev.at_nsec = 0;
    ev.type = NULL;
    assert_int_equal (tx_wire_event_check (&ev, msg, sizeof msg), TX_REJECT_MALFORMED_EVENT);
    assert_string_equal (msg, "empty type");
    ev.type = "sale";
    ev.partner = "";
    ev.partner_len = 0;
    assert_int_equal (tx_wire_event_check (&ev, msg, sizeof msg), TX_REJECT_MALFORMED_EVENT);
    assert_string_equal (msg, "empty partner");
    ev.partner = NULL;
    ev.attrs = NULL;
    ev.attr_count = 1;
    assert_int_equal (tx_wire_event_check (&ev, msg, sizeof msg), TX_REJECT_MALFORMED_EVENT);
}

//  ---------------------------------------------------------------------
//  Replies

static void
test_ack_round_trip (void **state)
{
    (void) state;
    const uint8_t results [] = { 0, 2, 1, 2, 0 };
    const tx_rejected_t rej [] = {
        { .index = 3, .code = TX_REJECT_UNKNOWN_UNIT, .msg = "unit 'zz' is not registered" },
        { .index = 1, .code = TX_REJECT_BAD_UTF8, .msg = "\xff bad text" },   //  replaced
    };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    char err [256];
    assert_int_equal (tx_wire_pack_ack (&sb, 99, results, 5, rej, 2, err, sizeof err), 0);
    tx_reply_t r;
    assert_int_equal (tx_wire_decode_reply ((const uint8_t *) sb.data, sb.size, &r, s_dec,
                                            err, sizeof err), TX_WIRE_OK);
    assert_int_equal (r.type, TX_REPLY_ACK);
    assert_int_equal (r.batch_id, 99);
    assert_int_equal (r.n_results, 5);
    assert_memory_equal (r.results, results, 5);
    assert_int_equal (r.n_rejected, 2);
    assert_int_equal (r.rejected [0].index, 3);
    assert_int_equal (r.rejected [0].code, TX_REJECT_UNKNOWN_UNIT);
    assert_int_equal (r.rejected [0].msg_len, strlen (rej [0].msg));
    assert_memory_equal (r.rejected [0].msg, rej [0].msg, r.rejected [0].msg_len);
    assert_int_equal (r.rejected [1].index, 1);
    assert_int_equal (r.rejected [1].code, TX_REJECT_BAD_UTF8);
    assert_int_equal (r.rejected [1].msg_len, 8);
    assert_memory_equal (r.rejected [1].msg, "bad_utf8", 8);
    assert_memory_equal (r.rejected [1].code_str, "bad_utf8", 8);

    //  all stored, no rejections
    const uint8_t ok [] = { 0, 1 };
    assert_int_equal (tx_wire_pack_ack (&sb, 1, ok, 2, NULL, 0, err, sizeof err), 0);
    assert_int_equal (tx_wire_decode_reply ((const uint8_t *) sb.data, sb.size, &r, s_dec,
                                            err, sizeof err), TX_WIRE_OK);
    assert_int_equal (r.n_results, 2);
    assert_int_equal (r.n_rejected, 0);

    //  a very long message is cut at a character boundary within 4096 bytes
    char *longmsg = malloc (5001);
    memset (longmsg, 'a', 5000);
    memcpy (longmsg + 4094, "\xe9\x80\x9a", 3);     //  straddles byte 4096
    longmsg [5000] = '\0';
    tx_rejected_t one = { .index = 0, .code = TX_REJECT_TOO_LONG, .msg = longmsg };
    const uint8_t two [] = { 2 };
    assert_int_equal (tx_wire_pack_ack (&sb, 1, two, 1, &one, 1, err, sizeof err), 0);
    assert_int_equal (tx_wire_decode_reply ((const uint8_t *) sb.data, sb.size, &r, s_dec,
                                            err, sizeof err), TX_WIRE_OK);
    assert_int_equal (r.rejected [0].msg_len, 4094);
    free (longmsg);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_pack_ack_refuses (void **state)
{
    (void) state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    char err [256];
    const uint8_t res [] = { 0, 2, 2 };
    tx_rejected_t rej [2] = {
        { .index = 1, .code = TX_REJECT_BAD_ID },
        { .index = 2, .code = TX_REJECT_BAD_ID },
    };
    assert_int_equal (tx_wire_pack_ack (&sb, 1, res, 3, rej, 1, err, sizeof err), -1);
    assert_string_equal (err, "1 rejected entries for 2 results 2");
    rej [1].index = 1;
    assert_int_equal (tx_wire_pack_ack (&sb, 1, res, 3, rej, 2, err, sizeof err), -1);
    assert_string_equal (err, "rejected[1]: index 1 is not a result 2");
    rej [1].index = 0;
    assert_int_equal (tx_wire_pack_ack (&sb, 1, res, 3, rej, 2, err, sizeof err), -1);
    rej [1].index = 2;
    rej [1].code = 0;
    assert_int_equal (tx_wire_pack_ack (&sb, 1, res, 3, rej, 2, err, sizeof err), -1);
    assert_string_equal (err, "rejected[1]: bad code 0");
    const uint8_t bad [] = { 3 };
    assert_int_equal (tx_wire_pack_ack (&sb, 1, bad, 1, NULL, 0, err, sizeof err), -1);
    assert_string_equal (err, "results[0] = 3");
    assert_int_equal (tx_wire_pack_ack (&sb, 0, res, 1, NULL, 0, err, sizeof err), -1);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_error_round_trip (void **state)
{
    (void) state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    char err [256];
    tx_reply_t r;

    assert_int_equal (tx_wire_pack_error (&sb, 0, TX_ERROR_MALFORMED, "prescan: truncated",
                                          err, sizeof err), 0);
    assert_int_equal (tx_wire_decode_reply ((const uint8_t *) sb.data, sb.size, &r, s_dec,
                                            err, sizeof err), TX_WIRE_OK);
    assert_int_equal (r.type, TX_REPLY_ERROR);
    assert_int_equal (r.batch_id, 0);
    assert_int_equal (r.error, TX_ERROR_MALFORMED);
    assert_int_equal (r.msg_len, 18);
    assert_memory_equal (r.msg, "prescan: truncated", 18);
    assert_int_equal (r.n_versions, 0);

    assert_int_equal (tx_wire_pack_error (&sb, 555, TX_ERROR_UNSUPPORTED_VERSION, NULL,
                                          err, sizeof err), 0);
    assert_int_equal (tx_wire_decode_reply ((const uint8_t *) sb.data, sb.size, &r, s_dec,
                                            err, sizeof err), TX_WIRE_OK);
    assert_int_equal (r.batch_id, 555);
    assert_int_equal (r.error, TX_ERROR_UNSUPPORTED_VERSION);
    assert_int_equal (r.msg_len, 0);
    assert_int_equal (r.n_versions, 1);
    assert_int_equal (r.versions [0], 1);

    assert_int_equal (tx_wire_pack_error (&sb, 7, TX_ERROR_UNAUTHORIZED, "a\xc0\x80", err,
                                          sizeof err), 0);
    assert_int_equal (tx_wire_decode_reply ((const uint8_t *) sb.data, sb.size, &r, s_dec,
                                            err, sizeof err), TX_WIRE_OK);
    assert_int_equal (r.error, TX_ERROR_UNAUTHORIZED);
    assert_int_equal (r.msg_len, 12);
    assert_memory_equal (r.msg, "unauthorized", 12);

    assert_int_equal (tx_wire_pack_error (&sb, 7, TX_ERROR_NONE, "x", err, sizeof err), -1);
    assert_string_equal (err, "bad error code 0");
    msgpack_sbuffer_destroy (&sb);
}

static void
s_expect_reply (int want, const char *what, const char *fmt, ...)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    s_start (&sb, &pk);
    va_list ap;
    va_start (ap, fmt);
    s_vpack (&pk, fmt, ap);
    va_end (ap);
    tx_reply_t r;
    char err [256];
    int rc = tx_wire_decode_reply ((const uint8_t *) sb.data, sb.size, &r, s_dec, err, sizeof err);
    if (rc != want)
        fail_msg ("%s: rc %d (%s), expected %d", what, rc, err, want);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_reply_strict (void **state)
{
    (void) state;
    const char *ack = "M s i s s s u s A i i s A";
    s_expect_reply (TX_WIRE_OK, "plain ack", ack, 5, "v", 1, "t", "ack", "batch", 5ULL,
                    "results", 2, 0, 1, "rejected", 0);
    s_expect_reply (TX_WIRE_UNSUPPORTED, "v 2", ack, 5, "v", 2, "t", "ack", "batch", 5ULL,
                    "results", 2, 0, 1, "rejected", 0);
    s_expect_reply (TX_WIRE_MALFORMED, "result 3", ack, 5, "v", 1, "t", "ack", "batch", 5ULL,
                    "results", 2, 0, 3, "rejected", 0);
    s_expect_reply (TX_WIRE_MALFORMED, "result 2 without entry", ack, 5, "v", 1, "t", "ack",
                    "batch", 5ULL, "results", 2, 0, 2, "rejected", 0);
    s_expect_reply (TX_WIRE_MALFORMED, "t batch", ack, 5, "v", 1, "t", "batch", "batch", 5ULL,
                    "results", 2, 0, 1, "rejected", 0);
    s_expect_reply (TX_WIRE_MALFORMED, "batch nil in ack", "M s i s s s n s A i s A", 5,
                    "v", 1, "t", "ack", "batch", "results", 1, 0, "rejected", 0);
    s_expect_reply (TX_WIRE_MALFORMED, "unknown key", "M s i s s s u s A i s A s i", 6,
                    "v", 1, "t", "ack", "batch", 5ULL, "results", 1, 0, "rejected", 0, "x", 1);
    s_expect_reply (TX_WIRE_MALFORMED, "duplicate key", "M s i s s s u s A i s A s u", 6,
                    "v", 1, "t", "ack", "batch", 5ULL, "results", 1, 0, "rejected", 0,
                    "batch", 5ULL);
    s_expect_reply (TX_WIRE_MALFORMED, "missing rejected", "M s i s s s u s A i", 4,
                    "v", 1, "t", "ack", "batch", 5ULL, "results", 1, 0);
    //  rejected entries
    const char *rj = "M s i s s s u s A i i s A M s i s s s s";
    s_expect_reply (TX_WIRE_OK, "entry", rj, 5, "v", 1, "t", "ack", "batch", 5ULL,
                    "results", 2, 0, 2, "rejected", 1, 3, "i", 1, "code", "bad_id", "msg", "m");
    s_expect_reply (TX_WIRE_MALFORMED, "entry index of a 0", rj, 5, "v", 1, "t", "ack",
                    "batch", 5ULL, "results", 2, 0, 2, "rejected", 1, 3, "i", 0,
                    "code", "bad_id", "msg", "m");
    s_expect_reply (TX_WIRE_MALFORMED, "entry index out of range", rj, 5, "v", 1, "t", "ack",
                    "batch", 5ULL, "results", 2, 0, 2, "rejected", 1, 3, "i", 2,
                    "code", "bad_id", "msg", "m");
    s_expect_reply (TX_WIRE_MALFORMED, "entry index twice",
                    "M s i s s s u s A i i s A M s i s s s s M s i s s s s", 5,
                    "v", 1, "t", "ack", "batch", 5ULL, "results", 2, 2, 2, "rejected", 2,
                    3, "i", 0, "code", "bad_id", "msg", "m",
                    3, "i", 0, "code", "bad_id", "msg", "m");
    s_expect_reply (TX_WIRE_MALFORMED, "entry unknown key", rj, 5, "v", 1, "t", "ack",
                    "batch", 5ULL, "results", 2, 0, 2, "rejected", 1, 3, "i", 1,
                    "code", "bad_id", "why", "m");
    s_expect_reply (TX_WIRE_MALFORMED, "entry bad utf8 msg", "M s i s s s u s A i i s A M s i s s s S",
                    5, "v", 1, "t", "ack", "batch", 5ULL, "results", 2, 0, 2, "rejected", 1, 3,
                    "i", 1, "code", "bad_id", "msg", "\xed\xa0\x80", 3);
    //  unknown codes from a newer collector are readable
    {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        s_start (&sb, &pk);
        s_pack (&pk, rj, 5, "v", 1, "t", "ack", "batch", 5ULL, "results", 2, 0, 2,
                "rejected", 1, 3, "i", 1, "code", "brand_new", "msg", "m");
        tx_reply_t r;
        assert_int_equal (tx_wire_decode_reply ((const uint8_t *) sb.data, sb.size, &r, s_dec,
                                                NULL, 0), TX_WIRE_OK);
        assert_int_equal (r.rejected [0].code, -1);
        assert_int_equal (r.rejected [0].code_len, 9);
        assert_memory_equal (r.rejected [0].code_str, "brand_new", 9);
        msgpack_sbuffer_destroy (&sb);
    }
    //  errors
    const char *er = "M s i s s s n s s s s";
    s_expect_reply (TX_WIRE_OK, "error", er, 5, "v", 1, "t", "error", "batch",
                    "code", "malformed", "msg", "");
    s_expect_reply (TX_WIRE_MALFORMED, "error without msg", "M s i s s s n s s", 4,
                    "v", 1, "t", "error", "batch", "code", "malformed");
    s_expect_reply (TX_WIRE_MALFORMED, "versions with malformed", "M s i s s s n s s s s s A i", 6,
                    "v", 1, "t", "error", "batch", "code", "malformed", "msg", "", "versions", 1, 1);
    s_expect_reply (TX_WIRE_MALFORMED, "unsupported without versions", er, 5, "v", 1, "t",
                    "error", "batch", "code", "unsupported_version", "msg", "");
    s_expect_reply (TX_WIRE_MALFORMED, "versions 0", "M s i s s s n s s s s s A i", 6,
                    "v", 1, "t", "error", "batch", "code", "unsupported_version", "msg", "",
                    "versions", 1, 0);
    s_expect_reply (TX_WIRE_MALFORMED, "error with results", "M s i s s s n s s s s s A", 6,
                    "v", 1, "t", "error", "batch", "code", "malformed", "msg", "", "results", 0);
    s_expect_reply (TX_WIRE_OK, "unknown error code", er, 5, "v", 1, "t", "error", "batch",
                    "code", "overloaded", "msg", "try later");
    s_expect_reply (TX_WIRE_MALFORMED, "trailing", "M s i s s s n s s s s i", 5, "v", 1, "t",
                    "error", "batch", "code", "malformed", "msg", "", 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_reject_codes),
        cmocka_unit_test (test_batch_round_trip),
        cmocka_unit_test (test_timestamp_forms),
        cmocka_unit_test (test_decoder_reuse),
        cmocka_unit_test (test_reject_malformed_event),
        cmocka_unit_test (test_reject_unknown_field),
        cmocka_unit_test (test_reject_duplicate_key),
        cmocka_unit_test (test_reject_bad_id),
        cmocka_unit_test (test_reject_bad_utf8),
        cmocka_unit_test (test_reject_too_long),
        cmocka_unit_test (test_reject_bad_time),
        cmocka_unit_test (test_reject_too_many_attrs),
        cmocka_unit_test (test_reject_bad_attr_type),
        cmocka_unit_test (test_reject_huge_int),
        cmocka_unit_test (test_reject_bad_number),
        cmocka_unit_test (test_reject_order),
        cmocka_unit_test (test_reject_partial_fields),
        cmocka_unit_test (test_envelope_malformed),
        cmocka_unit_test (test_envelope_version),
        cmocka_unit_test (test_envelope_too_large),
        cmocka_unit_test (test_truncated_and_trailing),
        cmocka_unit_test (test_bombs),
        cmocka_unit_test (test_depth_limit),
        cmocka_unit_test (test_pack_batch_refuses),
        cmocka_unit_test (test_event_check),
        cmocka_unit_test (test_ack_round_trip),
        cmocka_unit_test (test_pack_ack_refuses),
        cmocka_unit_test (test_error_round_trip),
        cmocka_unit_test (test_reply_strict),
    };
    return cmocka_run_group_tests_name ("wire", tests, s_setup, s_teardown);
}
