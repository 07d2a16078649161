/*  test_spec_examples: the worked examples of docs/protocol.md, decoded by
 *  the real decoder.  Each example is a fenced ```hex block after a line
 *  "<!-- example: NAME -->".  Run from the top of the tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wire.h"

//  Reads example NAME's bytes from the spec into buf; returns their length.
static size_t
s_example (const char *name, uint8_t *buf, size_t max)
{
    FILE *f = fopen ("docs/protocol.md", "r");
    assert_non_null (f);
    char marker [128], line [8192];
    snprintf (marker, sizeof marker, "<!-- example: %s -->", name);
    bool found = false, in_hex = false;
    size_t n = 0;
    while (fgets (line, sizeof line, f)) {
        if (!found) {
            found = strncmp (line, marker, strlen (marker)) == 0;
            continue;
        }
        if (!in_hex) {
            assert_true (strncmp (line, "```hex", 6) == 0);
            in_hex = true;
            continue;
        }
        if (strncmp (line, "```", 3) == 0)
            break;
        for (char *p = line; p [0] && p [1] && p [0] != '\n'; p += 2) {
            unsigned v;
            assert_int_equal (sscanf (p, "%2x", &v), 1);
            assert_true (n < max);
            buf [n++] = (uint8_t) v;
        }
    }
    fclose (f);
    assert_true (found);
    assert_true (n > 0);
    return n;
}

static void
test_batch_one (void **state)
{
    (void) state;
    uint8_t buf [4096];
    size_t n = s_example ("batch-one", buf, sizeof buf);
    tx_wire_decoder_t *dec = tx_wire_decoder_new ();
    tx_batch_t b;
    char err [128];
    assert_int_equal (tx_wire_decode_batch (buf, n, &b, dec, err, sizeof err), TX_WIRE_OK);
    assert_int_equal (b.count, 1);
    const tx_event_t *e = &b.events [0];
    assert_int_equal (e->reject, TX_REJECT_NONE);
    assert_int_equal (e->type_len, strlen ("cloud_meeting"));
    assert_memory_equal (e->type, "cloud_meeting", e->type_len);
    assert_non_null (e->partner);
    assert_memory_equal (e->partner, "540522", 6);
    bool participants = false;
    for (size_t i = 0; i < e->attr_count; i++)
        if (e->attrs [i].name_len == 12 && memcmp (e->attrs [i].name, "participants", 12) == 0) {
            assert_int_equal (e->attrs [i].value.type, TX_VAL_INT);
            assert_int_equal (e->attrs [i].value.u.i, 12);
            participants = true;
        }
    assert_true (participants);
    tx_wire_decoder_destroy (&dec);
}

static void
test_batch_two (void **state)
{
    (void) state;
    uint8_t buf [4096];
    size_t n = s_example ("batch-two", buf, sizeof buf);
    tx_wire_decoder_t *dec = tx_wire_decoder_new ();
    tx_batch_t b;
    char err [128];
    assert_int_equal (tx_wire_decode_batch (buf, n, &b, dec, err, sizeof err), TX_WIRE_OK);
    assert_int_equal (b.count, 2);
    assert_int_equal (b.events [0].reject, TX_REJECT_NONE);
    assert_int_equal (b.events [1].reject, TX_REJECT_NONE);
    tx_wire_decoder_destroy (&dec);
}

static void
test_ack_mixed (void **state)
{
    (void) state;
    uint8_t buf [4096];
    size_t n = s_example ("ack-mixed", buf, sizeof buf);
    tx_wire_decoder_t *dec = tx_wire_decoder_new ();
    tx_reply_t r;
    char err [128];
    assert_int_equal (tx_wire_decode_reply (buf, n, &r, dec, err, sizeof err), TX_WIRE_OK);
    assert_int_equal (r.type, TX_REPLY_ACK);
    assert_int_equal (r.n_results, 3);
    assert_int_equal (r.results [0], TX_RESULT_STORED);
    assert_int_equal (r.results [1], TX_RESULT_DUPLICATE);
    assert_int_equal (r.results [2], TX_RESULT_REJECTED);
    assert_int_equal (r.n_rejected, 1);
    assert_int_equal (r.rejected [0].index, 2);
    assert_int_equal (r.rejected [0].code, TX_REJECT_MISSING_ATTR);
    tx_wire_decoder_destroy (&dec);
}

static void
test_error_version (void **state)
{
    (void) state;
    uint8_t buf [4096];
    size_t n = s_example ("error-version", buf, sizeof buf);
    tx_wire_decoder_t *dec = tx_wire_decoder_new ();
    tx_reply_t r;
    char err [128];
    assert_int_equal (tx_wire_decode_reply (buf, n, &r, dec, err, sizeof err), TX_WIRE_OK);
    assert_int_equal (r.type, TX_REPLY_ERROR);
    assert_int_equal (r.error, TX_ERROR_UNSUPPORTED_VERSION);
    assert_int_equal (r.n_versions, 1);
    assert_int_equal (r.versions [0], 1);
    tx_wire_decoder_destroy (&dec);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_batch_one),
        cmocka_unit_test (test_batch_two),
        cmocka_unit_test (test_ack_mixed),
        cmocka_unit_test (test_error_version),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
