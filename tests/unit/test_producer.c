/*  test_producer: libtongxin's sender against fake collectors on real
 *  ZeroMQ sockets: the credit window, resends after a reconnect, failover
 *  between two endpoints, and verdicts reaching the application.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "clock.h"
#include "tongxin.h"
#include "wire.h"

typedef struct {
    void *ctx, *router;
    char endpoint [128];
} fake_t;

typedef struct {
    uint8_t rid [256];
    size_t rid_len;
    uint64_t batch_id;
    size_t n;
} got_t;

static char s_dir [64];


static void
s_fake_open (fake_t *f, const char *name)
{
    //  A context of its own: closing it waits until the listener has gone
    //  and unlinked its socket file, so a reopen cannot lose the new one.
    f->ctx = zmq_ctx_new ();
    snprintf (f->endpoint, sizeof f->endpoint, "ipc://%s/%s.sock", s_dir, name);
    f->router = zmq_socket (f->ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt (f->router, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (zmq_bind (f->router, f->endpoint), 0);
}

static void
s_fake_close (fake_t *f)
{
    zmq_close (f->router);
    f->router = NULL;
    zmq_ctx_term (f->ctx);
    f->ctx = NULL;
}

//  Waits up to ms for one batch; true if one came.
static bool
s_fake_recv (fake_t *f, int ms, got_t *got)
{
    zmq_pollitem_t item = { f->router, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, ms) <= 0)
        return false;
    zmq_msg_t rid, body;
    zmq_msg_init (&rid);
    zmq_msg_init (&body);
    assert_true (zmq_msg_recv (&rid, f->router, 0) >= 0);
    assert_true (zmq_msg_recv (&body, f->router, 0) >= 0);
    got->rid_len = zmq_msg_size (&rid);
    memcpy (got->rid, zmq_msg_data (&rid), got->rid_len);
    tx_wire_decoder_t *dec = tx_wire_decoder_new ();
    tx_batch_t b;
    assert_int_equal (tx_wire_decode_batch (zmq_msg_data (&body), zmq_msg_size (&body), &b, dec, NULL, 0),
                      TX_WIRE_OK);
    got->batch_id = b.batch_id;
    got->n = b.count;
    tx_wire_decoder_destroy (&dec);
    zmq_msg_close (&rid);
    zmq_msg_close (&body);
    return true;
}

static void
s_fake_ack (fake_t *f, const got_t *got, uint8_t result)
{
    uint8_t results [TX_WIRE_MAX_EVENTS];
    memset (results, result, got->n);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (tx_wire_pack_ack (&sb, got->batch_id, results, got->n, NULL, 0, NULL, 0), 0);
    zmq_send (f->router, got->rid, got->rid_len, ZMQ_SNDMORE);
    zmq_send (f->router, sb.data, sb.size, 0);
    msgpack_sbuffer_destroy (&sb);
}

static int s_verdicts [3];

static void
s_on_verdict (void *arg, const uint8_t id [16], int verdict, const char *code, const char *msg)
{
    (void) arg; (void) id; (void) code; (void) msg;
    __atomic_fetch_add (&s_verdicts [verdict], 1, __ATOMIC_SEQ_CST);
}

static tongxin_t *
s_producer (const char **endpoints, size_t n, int window, int ack_timeout_ms)
{
    char spool [128], err [256];
    snprintf (spool, sizeof spool, "%s/spool", s_dir);
    tongxin_opts_t o = {
        .endpoints = endpoints, .n_endpoints = n, .unit = "u1", .spool_dir = spool,
        .insecure = true, .window = window, .batch_events = 1, .ack_timeout_ms = ack_timeout_ms,
        .on_verdict = s_on_verdict,
    };
    tongxin_t *tx = tongxin_new (&o, err, sizeof err);
    assert_non_null (tx);
    return tx;
}

static void
s_submit (tongxin_t *tx, int n)
{
    for (int i = 0; i < n; i++) {
        tongxin_event_t *ev = tongxin_event_new ("cloud_meeting", 1750000000000000LL);
        assert_int_equal (tongxin_event_add_int (ev, "participants", 3), TONGXIN_OK);
        char err [128];
        assert_int_equal (tongxin_submit (tx, ev, NULL, err, sizeof err), TONGXIN_OK);
        tongxin_event_destroy (&ev);
    }
}

static int
s_setup (void **state)
{
    (void) state;
    snprintf (s_dir, sizeof s_dir, "/tmp/tx-producer-XXXXXX");
    assert_non_null (mkdtemp (s_dir));
    memset (s_verdicts, 0, sizeof s_verdicts);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system (cmd);
}

//  The window: never more than W batches unacknowledged; each ack frees one.
static void
test_window (void **state)
{
    (void) state;
    fake_t c;
    s_fake_open (&c, "c");
    const char *eps [] = { c.endpoint };
    tongxin_t *tx = s_producer (eps, 1, 3, 60000);
    s_submit (tx, 10);
    got_t got [16];
    int n = 0;
    int64_t until = tx_clock_ms () + 800;
    while (tx_clock_ms () < until && n < 16)
        if (s_fake_recv (&c, 50, &got [n]))
            n++;
    assert_int_equal (n, 3);                    //  the window, not 10
    s_fake_ack (&c, &got [0], TX_RESULT_STORED);
    until = tx_clock_ms () + 800;
    while (tx_clock_ms () < until && n < 16)
        if (s_fake_recv (&c, 50, &got [n]))
            n++;
    assert_int_equal (n, 4);                    //  one ack, one more batch
    //  Answer everything: all 10 get a verdict.
    for (int i = 1; i < n; i++)
        s_fake_ack (&c, &got [i], TX_RESULT_DUPLICATE);
    int acked = 4;
    until = tx_clock_ms () + 5000;
    while (acked < 10 && tx_clock_ms () < until) {
        got_t g;
        if (s_fake_recv (&c, 50, &g)) {
            s_fake_ack (&c, &g, TX_RESULT_STORED);
            acked++;
        }
    }
    assert_int_equal (tongxin_flush (tx, 5000), TONGXIN_OK);
    assert_int_equal (s_verdicts [TONGXIN_STORED] + s_verdicts [TONGXIN_DUPLICATE], 10);
    assert_int_equal (s_verdicts [TONGXIN_DUPLICATE], 3);
    tongxin_stats_t st;
    tongxin_stats (tx, &st);
    assert_int_equal (st.queued, 0);
    tongxin_destroy (&tx);
    s_fake_close (&c);
}

//  A reconnect gets a new routing id at the collector: the producer must
//  resend what is in flight at once, not wait for its (long) ack timeout.
static void
test_resend_after_reconnect (void **state)
{
    (void) state;
    fake_t c;
    s_fake_open (&c, "c");
    const char *eps [] = { c.endpoint };
    tongxin_t *tx = s_producer (eps, 1, 2, 60000);
    s_submit (tx, 2);
    got_t a [2];
    assert_true (s_fake_recv (&c, 2000, &a [0]));
    assert_true (s_fake_recv (&c, 2000, &a [1]));
    //  Two batches, each once: a late monitor event for the first
    //  connection must not make the producer resend on it.
    assert_true (a [0].batch_id != a [1].batch_id);
    //  The collector restarts: the batches and their acks are lost.
    s_fake_close (&c);
    s_fake_open (&c, "c");
    got_t b [2];
    assert_true (s_fake_recv (&c, 3000, &b [0]));
    assert_true (s_fake_recv (&c, 3000, &b [1]));
    assert_true ((b [0].batch_id == a [0].batch_id && b [1].batch_id == a [1].batch_id)
              || (b [0].batch_id == a [1].batch_id && b [1].batch_id == a [0].batch_id));
    s_fake_ack (&c, &b [0], TX_RESULT_STORED);
    s_fake_ack (&c, &b [1], TX_RESULT_STORED);
    assert_int_equal (tongxin_flush (tx, 3000), TONGXIN_OK);
    tongxin_stats_t st;
    tongxin_stats (tx, &st);
    assert_int_equal (st.resent_batches, 2);   //  once each, after the reconnect
    tongxin_destroy (&tx);
    s_fake_close (&c);
}

//  Two endpoints; one stops answering: its batches time out and go to the
//  other.
static void
test_failover (void **state)
{
    (void) state;
    fake_t a, b;
    s_fake_open (&a, "a");
    s_fake_open (&b, "b");
    const char *eps [] = { a.endpoint, b.endpoint };
    tongxin_t *tx = s_producer (eps, 2, 4, 300);
    usleep (200000);                            //  both connected
    s_submit (tx, 8);
    int via_a = 0;
    got_t g;
    int64_t until = tx_clock_ms () + 500;
    while (tx_clock_ms () < until)
        if (s_fake_recv (&a, 20, &g))
            via_a++;                            //  a never answers
    s_fake_close (&a);                          //  and then dies
    int acked = 0;
    until = tx_clock_ms () + 10000;
    while (s_verdicts [TONGXIN_STORED] < 8 && tx_clock_ms () < until)
        if (s_fake_recv (&b, 50, &g)) {
            s_fake_ack (&b, &g, TX_RESULT_STORED);
            acked++;
        }
    assert_true (via_a > 0);                    //  round robin used both
    assert_int_equal (tongxin_flush (tx, 3000), TONGXIN_OK);
    assert_int_equal (s_verdicts [TONGXIN_STORED], 8);
    tongxin_destroy (&tx);
    s_fake_close (&b);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_window, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_resend_after_reconnect, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_failover, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
