/*  test_wire: the message codec (common/wire.c): what is not a verdict
    on one frame — round trips through the packers, the code tables,
    decoder reuse, what a rejected event keeps, every prefix of a batch,
    the packers' refusals and the shared event check.

    The verdicts (frame in, outcome and reject code out) are data:
    the case files of tests/wire/cases, read by test_wire_cases.c.
*/

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
static tx_wire_decoder_t *s_dec;

//  ---------------------------------------------------------------------
//  Helpers

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
//  Rejected events

//  A rejected event keeps what was decoded before the failing check.
static void
test_reject_partial_fields (void **state)
{
    (void) state;
    tx_attr_t nan = { "f", 1, { .type = TX_VAL_FLOAT, .u.f = NAN } };
    tx_event_t in;
    s_event (&in, &nan, 1);
    in.unit = "u9";
    in.unit_len = 2;
    in.at_nsec = 7;
    const uint8_t *id = in.id;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    s_start (&sb, &pk);
    msgpack_pack_map (&pk, 4);
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_int (&pk, 1);
    msgpack_pack_str_with_body (&pk, "t", 1);
    msgpack_pack_str_with_body (&pk, "batch", 5);
    msgpack_pack_str_with_body (&pk, "batch", 5);
    msgpack_pack_int (&pk, 3);
    msgpack_pack_str_with_body (&pk, "events", 6);
    msgpack_pack_array (&pk, 1);
    assert_int_equal (tx_wire_pack_event (&pk, &in), 0);       //  no check: NaN goes out
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



int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_reject_codes),
        cmocka_unit_test (test_batch_round_trip),
        cmocka_unit_test (test_timestamp_forms),
        cmocka_unit_test (test_decoder_reuse),
        cmocka_unit_test (test_reject_partial_fields),
        cmocka_unit_test (test_truncated_and_trailing),
        cmocka_unit_test (test_pack_batch_refuses),
        cmocka_unit_test (test_event_check),
        cmocka_unit_test (test_ack_round_trip),
        cmocka_unit_test (test_pack_ack_refuses),
        cmocka_unit_test (test_error_round_trip),
    };
    return cmocka_run_group_tests_name ("wire", tests, s_setup, s_teardown);
}
