/*  test_validate: the collector's registry checks and attribute JSON,
 *  against a registry built in memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry.h"
#include "uuid.h"
#include "validate.h"

#define NOW_MS 1750000000000LL          //  2025-06-15T15:06:40Z

static tx_registry_t *s_reg;
static tx_uuid_gen_t *s_gen;

static int
s_setup (void **state)
{
    (void) state;
    s_reg = tx_registry_new ();
    s_gen = tx_uuid_gen_new ();
    tx_registry_add_unit (s_reg, "u1", true);
    tx_registry_add_unit (s_reg, "off", false);
    tx_registry_add_region (s_reg, "540522");
    tx_type_def_t *t = tx_registry_add_type (s_reg, "donation", false, 4);
    tx_attr_def_t amount = { .name = "amount_yuan", .kind = TX_KIND_NUMERIC, .required = true,
                             .has_min = true, .min = 0, .min_exclusive = true };
    tx_attr_def_t purpose = { .name = "purpose", .kind = TX_KIND_TEXT, .max_len = 10 };
    tx_attr_def_t day = { .name = "day", .kind = TX_KIND_DATE };
    tx_attr_def_t paid = { .name = "paid", .kind = TX_KIND_BOOL };
    tx_registry_add_attr (s_reg, t, &amount);
    tx_registry_add_attr (s_reg, t, &purpose);
    tx_registry_add_attr (s_reg, t, &day);
    tx_registry_add_attr (s_reg, t, &paid);
    t = tx_registry_add_type (s_reg, "visit", true, 2);
    const char *dirs [] = { "outbound", "inbound" };
    tx_attr_def_t dir = { .name = "direction", .kind = TX_KIND_ENUM, .required = true,
                          .enum_values = (char **) dirs, .n_enum = 2 };
    tx_attr_def_t delegates = { .name = "delegates", .kind = TX_KIND_INT, .required = true,
                                .has_min = true, .min = 1, .has_max = true, .max = 1000 };
    tx_registry_add_attr (s_reg, t, &dir);
    tx_registry_add_attr (s_reg, t, &delegates);
    tx_registry_add_type (s_reg, "retraction", false, 0);
    tx_registry_set_id_window (s_reg, NOW_MS - 86400000LL * 365, NOW_MS + 86400000LL * 90);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    tx_registry_unref (&s_reg);
    tx_uuid_gen_destroy (&s_gen);
    return 0;
}

static tx_attr_t s_attrs [8];

//  A UUIDv7 of a chosen millisecond (the generator only moves forward).
static void
s_id_at (uint64_t ms, uint8_t id [16])
{
    tx_uuid_gen_next_at (s_gen, (uint64_t) NOW_MS, id);
    for (int i = 0; i < 6; i++)
        id [i] = (uint8_t) (ms >> (40 - 8 * i));
}

//  A valid donation, to be spoiled by each test.
static tx_event_t
s_event (void)
{
    tx_event_t ev;
    memset (&ev, 0, sizeof ev);
    s_id_at ((uint64_t) NOW_MS - 1000, ev.id);
    ev.unit = "u1";
    ev.unit_len = 2;
    ev.type = "donation";
    ev.type_len = 8;
    ev.at_sec = NOW_MS / 1000 - 3600;
    s_attrs [0] = (tx_attr_t) { "amount_yuan", 11, { .type = TX_VAL_STR, .u.s = { "70000.50", 8 } } };
    ev.attrs = s_attrs;
    ev.attr_count = 1;
    return ev;
}

static int
s_check (const tx_event_t *ev, const char *auth)
{
    tx_validate_ctx_t ctx = { auth, NOW_MS, 300000 };
    char msg [256];
    static const tx_type_def_t stale;
    const tx_type_def_t *type = &stale;         //  must be overwritten
    int code = tx_validate_event (s_reg, ev, &ctx, &type, msg, sizeof msg);
    //  The type comes with a valid event only, and is the registry's.
    assert_ptr_equal (type, code == TX_REJECT_NONE ? tx_registry_type (s_reg, ev->type, ev->type_len) : NULL);
    return code;
}

//  The message of the check, for the tests of what it says.
static int
s_check_msg (const tx_event_t *ev, const char *auth, char *msg, size_t size)
{
    tx_validate_ctx_t ctx = { auth, NOW_MS, 300000 };
    return tx_validate_event (s_reg, ev, &ctx, NULL, msg, size);
}

//  Messages that say how to fix it: the allowed values of an enum, the
//  nearest type name, which unit the key belongs to.
static void
test_helpful_messages (void **state)
{
    (void) state;
    char msg [1024];
    tx_event_t ev = s_event ();
    ev.type = "donaton";
    ev.type_len = 7;
    assert_int_equal (s_check_msg (&ev, NULL, msg, sizeof msg), TX_REJECT_UNKNOWN_TYPE);
    assert_string_equal (msg, "unknown event type donaton; did you mean donation?");
    ev.type = "meeting";
    ev.type_len = 7;
    assert_int_equal (s_check_msg (&ev, NULL, msg, sizeof msg), TX_REJECT_UNKNOWN_TYPE);
    assert_string_equal (msg, "unknown event type meeting");      //  nothing near: no guess
    ev = s_event ();
    assert_int_equal (s_check_msg (&ev, "u2", msg, sizeof msg), TX_REJECT_UNIT_MISMATCH);
    assert_string_equal (msg, "unit u1 is not the sender's unit: the key this producer connected"
                              " with belongs to unit u2");
    ev.type = "visit";
    ev.type_len = 5;
    ev.partner = "540522";
    ev.partner_len = 6;
    s_attrs [0] = (tx_attr_t) { "direction", 9, { .type = TX_VAL_STR, .u.s = { "out", 3 } } };
    s_attrs [1] = (tx_attr_t) { "delegates", 9, { .type = TX_VAL_INT, .u.i = 2 } };
    ev.attr_count = 2;
    assert_int_equal (s_check_msg (&ev, NULL, msg, sizeof msg), TX_REJECT_BAD_ENUM);
    assert_string_equal (msg, "attribute direction must be one of: outbound, inbound");
    //  too small a buffer: whole values only, then "..."
    assert_int_equal (s_check_msg (&ev, NULL, msg, 50), TX_REJECT_BAD_ENUM);
    assert_string_equal (msg, "attribute direction must be one of: outbound ...");
}

static void
test_valid (void **state)
{
    (void) state;
    tx_event_t ev = s_event ();
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_NONE);
    assert_int_equal (s_check (&ev, "u1"), TX_REJECT_NONE);
}

static void
test_unit_checks (void **state)
{
    (void) state;
    tx_event_t ev = s_event ();
    assert_int_equal (s_check (&ev, "other"), TX_REJECT_UNIT_MISMATCH);
    ev.unit = "nobody";
    ev.unit_len = 6;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_UNKNOWN_UNIT);
    ev.unit = "off";
    ev.unit_len = 3;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_UNIT_INACTIVE);
    //  mismatch wins over unknown: the sender's identity comes first
    ev.unit = "nobody";
    ev.unit_len = 6;
    assert_int_equal (s_check (&ev, "u1"), TX_REJECT_UNIT_MISMATCH);
}

static void
test_type_and_time (void **state)
{
    (void) state;
    tx_event_t ev = s_event ();
    ev.type = "nosuch";
    ev.type_len = 6;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_UNKNOWN_TYPE);
    ev = s_event ();
    ev.at_sec = 946684799;                                  //  1999-12-31T23:59:59Z
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_BAD_TIME);
    ev.at_sec = 946684800;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_NONE);
    ev.at_sec = NOW_MS / 1000 + 301;                        //  past the skew
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_BAD_TIME);
    ev.at_sec = NOW_MS / 1000 + 299;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_NONE);
    ev = s_event ();
    s_id_at ((uint64_t) NOW_MS - 86400000ULL * 400, ev.id);
    assert_int_equal (tx_uuid_v7_ms (ev.id), (uint64_t) NOW_MS - 86400000ULL * 400);
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_BAD_ID_TIME);         //  older than the partitions
    s_id_at ((uint64_t) NOW_MS + 3600000ULL, ev.id);
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_BAD_ID_TIME);         //  ahead of the clock
    s_id_at ((uint64_t) NOW_MS - 86400000ULL * 300, ev.id);
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_NONE);
}

static void
test_partner (void **state)
{
    (void) state;
    tx_event_t ev = s_event ();
    ev.type = "visit";
    ev.type_len = 5;
    s_attrs [0] = (tx_attr_t) { "direction", 9, { .type = TX_VAL_STR, .u.s = { "inbound", 7 } } };
    s_attrs [1] = (tx_attr_t) { "delegates", 9, { .type = TX_VAL_INT, .u.i = 8 } };
    ev.attr_count = 2;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_MISSING_PARTNER);
    ev.partner = "999999";
    ev.partner_len = 6;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_UNKNOWN_PARTNER);
    ev.partner = "540522";
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_NONE);
    s_attrs [0].value.u.s = (typeof (s_attrs [0].value.u.s)) { "sideways", 8 };
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_BAD_ENUM);
    s_attrs [0].value.u.s = (typeof (s_attrs [0].value.u.s)) { "inbound", 7 };
    s_attrs [1].value.u.i = 0;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_OUT_OF_RANGE);
    s_attrs [1].value.u.i = 1001;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_OUT_OF_RANGE);
    s_attrs [1].value = (tx_value_t) { .type = TX_VAL_STR, .u.s = { "8", 1 } };
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_BAD_ATTR_TYPE);
    ev.attr_count = 1;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_MISSING_ATTR);
}

static void
test_attributes (void **state)
{
    (void) state;
    tx_event_t ev = s_event ();
    s_attrs [0].value.u.s = (typeof (s_attrs [0].value.u.s)) { "0", 1 };
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_OUT_OF_RANGE);        //  > 0 required
    s_attrs [0].value.u.s = (typeof (s_attrs [0].value.u.s)) { "007", 3 };
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_BAD_NUMBER);          //  not JSON
    s_attrs [0].value.u.s = (typeof (s_attrs [0].value.u.s)) { "1e999", 5 };
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_BAD_NUMBER);          //  overflows
    s_attrs [0].value = (tx_value_t) { .type = TX_VAL_FLOAT, .u.f = 0.5 };
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_NONE);
    s_attrs [0].value = (tx_value_t) { .type = TX_VAL_BOOL, .u.b = true };
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_BAD_ATTR_TYPE);
    ev = s_event ();
    s_attrs [1] = (tx_attr_t) { "purpose", 7, { .type = TX_VAL_STR, .u.s = { "0123456789x", 11 } } };
    ev.attr_count = 2;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_TOO_LONG);
    s_attrs [1] = (tx_attr_t) { "color", 5, { .type = TX_VAL_STR, .u.s = { "red", 3 } } };
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_UNKNOWN_ATTR);
    s_attrs [1] = (tx_attr_t) { "paid", 4, { .type = TX_VAL_INT, .u.i = 1 } };
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_BAD_ATTR_TYPE);
}

static void
test_json (void **state)
{
    (void) state;
    tx_event_t ev = s_event ();
    s_attrs [0].value.u.s = (typeof (s_attrs [0].value.u.s)) { "600000000.00", 12 };
    s_attrs [1] = (tx_attr_t) { "purpose", 7, { .type = TX_VAL_STR, .u.s = { "a\"b\\\n\x01", 6 } } };
    s_attrs [2] = (tx_attr_t) { "paid", 4, { .type = TX_VAL_BOOL, .u.b = false } };
    s_attrs [3] = (tx_attr_t) { "day", 3, { .type = TX_VAL_STR, .u.s = { "2024-02-29", 10 } } };
    ev.attr_count = 4;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_NONE);
    tx_buf_t b = { 0 };
    assert_int_equal (tx_validate_attrs_json (tx_registry_type (s_reg, ev.type, ev.type_len), &ev, &b), 0);
    tx_buf_putc (&b, 0);
    assert_string_equal ((char *) b.data,
        "{\"amount_yuan\":600000000.00,\"purpose\":\"a\\\"b\\\\\\n\\u0001\",\"paid\":false,"
        "\"day\":\"2024-02-29\"}");
    tx_buf_reset (&b);
}

static void
test_retraction (void **state)
{
    (void) state;
    tx_event_t ev = s_event ();
    ev.type = "retraction";
    ev.type_len = 10;
    ev.attr_count = 0;
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_MALFORMED_EVENT);
    ev.has_supersedes = true;
    tx_uuid_gen_next_at (s_gen, (uint64_t) NOW_MS - 5000, ev.supersedes);
    assert_int_equal (s_check (&ev, NULL), TX_REJECT_NONE);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_valid),
        cmocka_unit_test (test_unit_checks),
        cmocka_unit_test (test_type_and_time),
        cmocka_unit_test (test_partner),
        cmocka_unit_test (test_attributes),
        cmocka_unit_test (test_json),
        cmocka_unit_test (test_retraction),
        cmocka_unit_test (test_helpful_messages),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
