/*  test_refusals: the per-sender budget of rejected_events (collector/refusals.c).  */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"
#include "refusals.h"

#define ROW TX_REFUSALS_ROW_CHARGE

static void
test_prefix (void **state)
{
    (void) state;
    tx_refusals_t *r = tx_refusals_new (0, 4096);
    assert_non_null (r);
    //  A whole message is cut to the prefix; an event never is.
    assert_int_equal (tx_refusals_keep (r, "u1", 0, 1048576, true), 4096);
    assert_int_equal (tx_refusals_keep (r, "u1", 0, 4000, true), 4000);
    assert_int_equal (tx_refusals_keep (r, "u1", 0, 300000, false), 300000);
    //  No budget: nothing is dropped, nothing to sum up.
    for (int i = 0; i < 10000; i++)
        assert_true (tx_refusals_keep (r, "u1", 0, 1048576, true) >= 0);
    uint64_t rows, bytes;
    assert_false (tx_refusals_take_summary (r, "u1", 120000, &rows, &bytes));
    tx_refusals_destroy (&r);
    assert_null (r);
    tx_refusals_destroy (&r);
}

static void
test_budget_per_sender_and_minute (void **state)
{
    (void) state;
    //  Room for exactly three rows of 1000 bytes a minute.
    tx_refusals_t *r = tx_refusals_new (3 * (1000 + ROW), 4096);
    for (int i = 0; i < 3; i++)
        assert_int_equal (tx_refusals_keep (r, "u1", 1000 + i, 1000, false), 1000);
    assert_int_equal (tx_refusals_keep (r, "u1", 2000, 1000, false), -1);
    assert_int_equal (tx_refusals_keep (r, "u1", 3000, 10, false), -1);
    //  Another sender has its own budget.
    assert_int_equal (tx_refusals_keep (r, "u2", 3000, 1000, false), 1000);
    //  Within the minute there is nothing to sum up yet.
    uint64_t rows = 0, bytes = 0;
    assert_false (tx_refusals_take_summary (r, "u1", 30000, &rows, &bytes));
    //  A minute later: the summary once, then a fresh budget.
    assert_true (tx_refusals_take_summary (r, "u1", 61000, &rows, &bytes));
    assert_int_equal (rows, 2);
    assert_int_equal (bytes, 1010);
    assert_false (tx_refusals_take_summary (r, "u1", 61000, &rows, &bytes));
    assert_int_equal (tx_refusals_keep (r, "u1", 61000, 1000, false), 1000);
    assert_false (tx_refusals_take_summary (r, "u2", 200000, &rows, &bytes));
    tx_refusals_destroy (&r);
}

static void
test_many_senders (void **state)
{
    (void) state;
    //  More senders than slots: the excess shares one budget, so the total
    //  kept stays bounded.
    size_t budget = 10 * (100 + ROW);
    tx_refusals_t *r = tx_refusals_new (budget, 4096);
    size_t kept = 0, dropped = 0;
    char name [32];
    for (int i = 0; i < 20000; i++) {
        snprintf (name, sizeof name, "unit%d", i);
        for (int k = 0; k < 20; k++) {
            long n = tx_refusals_keep (r, name, 5, 100, false);
            if (n < 0)
                dropped++;
            else
                kept += (size_t) n + ROW;
        }
    }
    assert_true (dropped > 0);
    assert_true (kept <= (size_t) 8193 * budget);
    tx_refusals_destroy (&r);
}

int
main (void)
{
    tx_log_set_level (TX_LOG_ERROR);       //  the over-budget lines are expected
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_prefix),
        cmocka_unit_test (test_budget_per_sender_and_minute),
        cmocka_unit_test (test_many_senders),
    };
    return cmocka_run_group_tests_name ("refusals", tests, NULL, NULL);
}
