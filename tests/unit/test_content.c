/*  test_content: the canonical form of an event's content and its
 *  fingerprint (content idempotency, docs/protocol.md 8.4): what must not
 *  matter (attribute order, number spelling, the time zone the time was
 *  written in, the event id) and what must (every field, text bytes, nth,
 *  supersedes).  content.t stores such events through a real collector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "content.h"
#include "lex.h"
#include "registry.h"

static tx_registry_t *s_reg;
static const tx_type_def_t *s_type;
static tx_buf_t s_scratch;

static int
s_setup (void **state)
{
    (void) state;
    s_reg = tx_registry_new ();
    tx_type_def_t *t = tx_registry_add_type (s_reg, "meeting", false, 4);
    tx_attr_def_t amount = { .name = "amount", .kind = TX_KIND_NUMERIC };
    tx_attr_def_t people = { .name = "people", .kind = TX_KIND_INT };
    tx_attr_def_t topic = { .name = "topic", .kind = TX_KIND_TEXT };
    tx_attr_def_t online = { .name = "online", .kind = TX_KIND_BOOL };
    tx_registry_add_attr (s_reg, t, &amount);
    tx_registry_add_attr (s_reg, t, &people);
    tx_registry_add_attr (s_reg, t, &topic);
    tx_registry_add_attr (s_reg, t, &online);
    s_type = t;
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    tx_registry_unref (&s_reg);
    free (s_scratch.data);
    return 0;
}

//  An event with attrs[0..n) (the caller's array).
static tx_event_t
s_event (tx_attr_t *attrs, size_t n)
{
    tx_event_t ev;
    memset (&ev, 0, sizeof ev);
    for (int i = 0; i < 16; i++)
        ev.id [i] = (uint8_t) (0xa0 + i);
    ev.unit = "town-1";
    ev.unit_len = 6;
    ev.type = "meeting";
    ev.type_len = 7;
    ev.at_sec = 1763712000;             //  2025-11-21T08:00:00Z
    ev.at_nsec = 0;
    ev.partner = "540522";
    ev.partner_len = 6;
    ev.attrs = attrs;
    ev.attr_count = n;
    return ev;
}

static void
s_fp (const tx_event_t *ev, uint8_t fp [TX_CONTENT_FP_LEN])
{
    assert_int_equal (tx_content_fingerprint (s_type, ev, &s_scratch, fp), 0);
}

static bool
s_same (const tx_event_t *a, const tx_event_t *b)
{
    uint8_t x [TX_CONTENT_FP_LEN], y [TX_CONTENT_FP_LEN];
    s_fp (a, x);
    s_fp (b, y);
    return memcmp (x, y, TX_CONTENT_FP_LEN) == 0;
}

#define STR(v) { .type = TX_VAL_STR, .u.s = { v, sizeof v - 1 } }
#define INT(v) { .type = TX_VAL_INT, .u.i = v }
#define DBL(v) { .type = TX_VAL_FLOAT, .u.f = v }

static void
test_number_canonical (void **state)
{
    (void) state;
    static const struct { const char *in, *out; } cases [] = {
        { "0", "0" }, { "-0", "0" }, { "0.000", "0" }, { "0e99", "0" },
        { "1.5", "15e-1" }, { "1.50", "15e-1" }, { "15e-1", "15e-1" }, { "0.15e1", "15e-1" },
        { "150", "15e1" }, { "1.5e2", "15e1" }, { "1500E-1", "15e1" }, { "-150.00", "-15e1" },
        { "70000.00", "7e4" }, { "0.001", "1e-3" }, { "1E+3", "1e3" },
        { "123456789012345678901234567890", "12345678901234567890123456789e1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        char out [128];
        size_t n = tx_content_number (cases [i].in, strlen (cases [i].in), out);
        out [n] = 0;
        assert_string_equal (out, cases [i].out);
    }
}

//  Attribute order, number spelling (int, float, text), the id: none matters.
static void
test_what_does_not_matter (void **state)
{
    (void) state;
    tx_attr_t a [3] = {
        { "amount", 6, STR ("70000.00") }, { "people", 6, INT (12) }, { "topic", 5, STR ("党建") }
    };
    tx_attr_t b [3] = {
        { "topic", 5, STR ("党建") }, { "people", 6, INT (12) }, { "amount", 6, STR ("7e4") }
    };
    tx_attr_t c [3] = {
        { "people", 6, INT (12) }, { "amount", 6, DBL (70000.0) }, { "topic", 5, STR ("党建") }
    };
    tx_attr_t d [3] = {
        { "people", 6, INT (12) }, { "amount", 6, INT (70000) }, { "topic", 5, STR ("党建") }
    };
    tx_event_t ea = s_event (a, 3), eb = s_event (b, 3), ec = s_event (c, 3), ed = s_event (d, 3);
    eb.id [15] ^= 0xff;                 //  another id: the same content
    assert_true (s_same (&ea, &eb));
    assert_true (s_same (&ea, &ec));
    assert_true (s_same (&ea, &ed));
    //  1.50 and 1.5; a float 0.1 and the text "0.1" (a float is stored as
    //  its shortest decimal)
    tx_attr_t e [1] = { { "amount", 6, STR ("1.50") } }, f [1] = { { "amount", 6, STR ("1.5") } };
    tx_attr_t g [1] = { { "amount", 6, DBL (0.1) } }, h [1] = { { "amount", 6, STR ("0.1") } };
    tx_event_t ee = s_event (e, 1), ef = s_event (f, 1), eg = s_event (g, 1), eh = s_event (h, 1);
    assert_true (s_same (&ee, &ef));
    assert_true (s_same (&eg, &eh));
    //  nth 1 is nth absent
    tx_event_t n1 = s_event (e, 1);
    n1.nth = 1;
    assert_true (s_same (&ee, &n1));
}

//  The same instant written in two time zones: the wire carries the
//  instant, which tx_lex_time reads from either spelling.
static void
test_time_zone (void **state)
{
    (void) state;
    int64_t z = 0, cst = 0;
    const char *t1 = "2025-11-21T08:00:00Z", *t2 = "2025-11-21T16:00:00+08:00";
    assert_int_equal (tx_lex_time (t1, strlen (t1), &z), TX_TIME_OK);
    assert_int_equal (tx_lex_time (t2, strlen (t2), &cst), TX_TIME_OK);
    tx_event_t a = s_event (NULL, 0), b = s_event (NULL, 0);
    a.at_sec = z / 1000000;
    b.at_sec = cst / 1000000;
    assert_true (s_same (&a, &b));
    //  Below the microsecond (not stored) does not matter; a microsecond does.
    b.at_nsec = 999;
    assert_true (s_same (&a, &b));
    b.at_nsec = 1000;
    assert_false (s_same (&a, &b));
}

//  Every field matters, and texts are compared byte by byte: the NFC and
//  the NFD spelling of "é" are two contents (documented choice).
static void
test_what_matters (void **state)
{
    (void) state;
    tx_attr_t base [2] = { { "people", 6, INT (12) }, { "topic", 5, STR ("caf\xc3\xa9") } };
    tx_event_t a = s_event (base, 2);
    tx_event_t b = a;
    b.unit = "town-2";
    assert_false (s_same (&a, &b));
    b = a;
    b.type = "meetinh";
    assert_false (s_same (&a, &b));
    b = a;
    b.partner = NULL;
    b.partner_len = 0;
    assert_false (s_same (&a, &b));
    b = a;
    b.partner = "540521";
    assert_false (s_same (&a, &b));
    b = a;
    b.nth = 2;
    assert_false (s_same (&a, &b));
    b = a;
    b.has_supersedes = true;
    assert_false (s_same (&a, &b));
    tx_event_t c = b;
    c.supersedes [0] = 1;
    assert_false (s_same (&b, &c));
    //  one attribute fewer; another value; NFD text; a trailing space
    b = s_event (base, 1);
    assert_false (s_same (&a, &b));
    tx_attr_t v13 [2] = { { "people", 6, INT (13) }, { "topic", 5, STR ("caf\xc3\xa9") } };
    b = s_event (v13, 2);
    assert_false (s_same (&a, &b));
    tx_attr_t nfd [2] = { { "people", 6, INT (12) }, { "topic", 5, STR ("cafe\xcc\x81") } };
    b = s_event (nfd, 2);
    assert_false (s_same (&a, &b));
    tx_attr_t sp [2] = { { "people", 6, INT (12) }, { "topic", 5, STR ("caf\xc3\xa9 ") } };
    b = s_event (sp, 2);
    assert_false (s_same (&a, &b));
    //  a bool is not the text "true"; length prefixes keep fields apart
    tx_attr_t t1 [1] = { { "online", 6, { .type = TX_VAL_BOOL, .u.b = true } } };
    tx_attr_t t2 [1] = { { "online", 6, { .type = TX_VAL_BOOL, .u.b = false } } };
    tx_event_t x = s_event (t1, 1), y = s_event (t2, 1);
    assert_false (s_same (&x, &y));
    tx_attr_t ab [1] = { { "topic", 5, STR ("ab") } };
    tx_event_t p = s_event (ab, 1), q = s_event (ab, 1);
    q.unit = "town-1a";
    q.unit_len = 7;
    p.unit_len = 6;
    assert_false (s_same (&p, &q));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_number_canonical),
        cmocka_unit_test (test_what_does_not_matter),
        cmocka_unit_test (test_time_zone),
        cmocka_unit_test (test_what_matters),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
