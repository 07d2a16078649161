/*  test_producer: libtongxin's sender against fake collectors on real
 *  ZeroMQ sockets: the credit window, resends after a reconnect, failover
 *  between two endpoints, verdicts reaching the application, and what the
 *  CURVE handshakes say (a refused key, a wrong server key); the number
 *  rule of the event setters (common/lex.c).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
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
#include "keyfile.h"
#include "lex.h"
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
    uint64_t rev;               //  the batch's "rev" (0: none)
    uint32_t nth;               //  its first event's "nth"
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
    got->rev = b.rev;
    got->nth = b.events [0].nth;
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

//  Replies a whole-message error to got.
static void
s_fake_error (fake_t *f, const got_t *got, tx_error_t code, const char *msg)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (tx_wire_pack_error (&sb, got->batch_id, code, msg, NULL, 0), 0);
    zmq_send (f->router, got->rid, got->rid_len, ZMQ_SNDMORE);
    zmq_send (f->router, sb.data, sb.size, 0);
    msgpack_sbuffer_destroy (&sb);
}

static tongxin_result_t s_result;
static int s_results;

static void
s_on_result (void *arg, const tongxin_result_t *r)
{
    (void) arg;
    s_result = *r;
    s_result.id = NULL;
    s_result.code = s_result.msg = NULL;
    __atomic_fetch_add (&s_results, 1, __ATOMIC_SEQ_CST);
}

//  Revision 1.2 against a collector of 1.2: "rev" 2 goes out, "nth" too,
//  and a duplicate's details reach on_result.
static void
test_revision_12 (void **state)
{
    (void) state;
    fake_t c;
    s_fake_open (&c, "c");
    const char *eps [] = { c.endpoint };
    char spool [128], err [256];
    snprintf (spool, sizeof spool, "%s/spool", s_dir);
    tongxin_opts_t o = { .endpoints = eps, .n_endpoints = 1, .unit = "u1", .spool_dir = spool,
                         .insecure = true, .batch_events = 1, .on_result = s_on_result };
    tongxin_t *tx = tongxin_new (&o, err, sizeof err);
    assert_non_null (tx);
    tongxin_event_t *ev = tongxin_event_new ("cloud_meeting", 1750000000000000LL);
    assert_int_equal (tongxin_event_set_nth (ev, 0), TONGXIN_EINVAL);
    assert_int_equal (tongxin_event_set_nth (ev, TONGXIN_MAX_NTH + 1), TONGXIN_EINVAL);
    assert_int_equal (tongxin_event_set_nth (ev, 2), TONGXIN_OK);
    assert_int_equal (tongxin_submit (tx, ev, NULL, err, sizeof err), TONGXIN_OK);
    tongxin_event_destroy (&ev);
    got_t g;
    assert_true (s_fake_recv (&c, 3000, &g));
    assert_int_equal (g.rev, TONGXIN_PROTOCOL_REVISION);
    assert_int_equal (g.nth, 2);
    uint8_t results [1] = { TX_RESULT_DUPLICATE };
    tx_dup_t d = { .index = 0, .at_sec = 1763712000, .at_nsec = 123456000 };
    memset (d.id, 0xab, 16);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (tx_wire_pack_ack_dups (&sb, g.batch_id, results, 1, NULL, 0, true, &d, 1, NULL, 0), 0);
    zmq_send (c.router, g.rid, g.rid_len, ZMQ_SNDMORE);
    zmq_send (c.router, sb.data, sb.size, 0);
    msgpack_sbuffer_destroy (&sb);
    assert_int_equal (tongxin_flush (tx, 5000), TONGXIN_OK);
    assert_int_equal (s_results, 1);
    assert_int_equal (s_result.verdict, TONGXIN_DUPLICATE);
    assert_true (s_result.has_original);
    assert_int_equal (s_result.original [0], 0xab);
    assert_int_equal (s_result.original_received_us, 1763712000123456LL);
    tongxin_destroy (&tx);
    s_fake_close (&c);
}

//  A collector older than 1.2 refuses "rev" as malformed: the producer
//  sends the same events again without it, at once, and speaks 1.1 from
//  then on; nothing is reported rejected.
static void
test_revision_fallback (void **state)
{
    (void) state;
    fake_t c;
    s_fake_open (&c, "c");
    const char *eps [] = { c.endpoint };
    tongxin_t *tx = s_producer (eps, 1, 2, 60000);
    s_submit (tx, 3);
    int acked = 0, refused = 0;
    int64_t until = tx_clock_ms () + 5000;
    while (acked < 3 && tx_clock_ms () < until) {
        got_t g;
        if (!s_fake_recv (&c, 50, &g))
            continue;
        if (g.rev) {
            s_fake_error (&c, &g, TX_ERROR_MALFORMED, "unknown key 'rev'");
            refused++;
        }
        else {
            s_fake_ack (&c, &g, TX_RESULT_STORED);
            acked++;
        }
    }
    assert_int_equal (acked, 3);
    assert_in_range (refused, 1, 2);            //  the batches in flight at the first refusal
    assert_int_equal (tongxin_flush (tx, 5000), TONGXIN_OK);
    assert_int_equal (s_verdicts [TONGXIN_STORED], 3);
    assert_int_equal (s_verdicts [TONGXIN_REJECTED], 0);
    tongxin_stats_t st;
    tongxin_stats (tx, &st);
    assert_non_null (strstr (st.last_error, "revision 1.2"));
    tongxin_destroy (&tx);
    s_fake_close (&c);
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

//  ----------------------------------------------------------------- numbers

//  One rule for every number a producer sends (and the collector takes):
//  an integer within int64, else a decimal-text of <= 64 bytes in binary64
//  (common/lex.c; test_lex has its cases).
static void
test_number_rule (void **state)
{
    (void) state;
    char d64 [80] = "1.", d65 [80];
    memset (d64 + 2, '5', 62);
    d64 [64] = 0;
    memcpy (d65, d64, 64);
    d65 [64] = '5';
    d65 [65] = 0;
    //  The setters store; the check (at submit, and tongxin_event_check)
    //  takes what the collector takes, nothing else.
    char err [256];
    tongxin_event_t *ev = tongxin_event_new ("investment", 1750000000000000LL);
    assert_int_equal (tongxin_event_add_numeric (ev, "a", d64), TONGXIN_OK);
    assert_int_equal (tongxin_event_add_numeric (ev, "b", "123456789012345678901234567890"), TONGXIN_OK);
    assert_int_equal (tongxin_event_check (ev, err, sizeof err), TONGXIN_OK);
    const char *bad [] = { d65, "1e400", "1e-400", "1." };
    for (size_t k = 0; k < sizeof bad / sizeof bad [0]; k++) {
        tongxin_event_t *one = tongxin_event_new ("investment", 1750000000000000LL);
        assert_int_equal (tongxin_event_add_numeric (one, "c", bad [k]), TONGXIN_OK);
        assert_int_equal (tongxin_event_check (one, err, sizeof err), TONGXIN_EINVAL);
        assert_true (strncmp (err, "bad_number: attribute 'c': ", 27) == 0);
        tongxin_event_destroy (&one);
    }
    tongxin_event_destroy (&ev);
}

//  The one check of an event on the producer side: the wire's form, a
//  partner region code, date attributes, ids; the setters only store.
static void
test_event_check (void **state)
{
    (void) state;
    char err [256];
    tongxin_event_t *ev = tongxin_event_new ("visit", 1750000000000000LL);
    assert_int_equal (tongxin_event_set_partner (ev, "54052x"), TONGXIN_OK);
    assert_int_equal (tongxin_event_check (ev, err, sizeof err), TONGXIN_EINVAL);
    assert_string_equal (err, "unknown_partner: partner '54052x' is not a region code "
                              "(6 digits of GB/T 2260, e.g. 540522)");
    assert_int_equal (tongxin_event_set_partner (ev, "540522"), TONGXIN_OK);
    assert_int_equal (tongxin_event_check (ev, err, sizeof err), TONGXIN_OK);
    assert_int_equal (tongxin_event_add_date (ev, "on", "2025-02-30"), TONGXIN_OK);
    assert_int_equal (tongxin_event_check (ev, err, sizeof err), TONGXIN_EINVAL);
    assert_string_equal (err, "bad_date: attribute 'on': '2025-02-30' is not a valid date YYYY-MM-DD");
    tongxin_event_destroy (&ev);

    //  A text with a control character is quoted as one printable line.
    ev = tongxin_event_new ("visit", 1750000000000000LL);
    assert_int_equal (tongxin_event_add_date (ev, "a\nb", "x"), TONGXIN_OK);
    assert_int_equal (tongxin_event_check (ev, err, sizeof err), TONGXIN_EINVAL);
    assert_string_equal (err, "bad_date: attribute 'a?b': 'x' is not a valid date YYYY-MM-DD");
    tongxin_event_destroy (&ev);

    //  Ids: any UUID text is stored, a version other than 7 refused at the check.
    ev = tongxin_event_new ("visit", 1750000000000000LL);
    assert_int_equal (tongxin_event_set_id (ev, "not-a-uuid"), TONGXIN_EINVAL);
    assert_int_equal (tongxin_event_set_id (ev, "018f3c4a-5b6c-4def-8001-02030405a6ff"), TONGXIN_OK);
    assert_int_equal (tongxin_event_check (ev, err, sizeof err), TONGXIN_EINVAL);
    assert_true (strncmp (err, "bad_id: ", 8) == 0);
    assert_int_equal (tongxin_event_set_id (ev, "018f3c4a-5b6c-7def-8001-02030405a6ff"), TONGXIN_OK);
    assert_int_equal (tongxin_event_set_supersedes (ev, "018f3c4a-5b6c-7def-8001-02030405a6ff"), TONGXIN_OK);
    assert_int_equal (tongxin_event_check (ev, err, sizeof err), TONGXIN_EINVAL);
    assert_string_equal (err, "malformed_event: an event cannot supersede itself");
    tongxin_event_destroy (&ev);

    //  More than 64 attributes are stored, and refused by the check.
    ev = tongxin_event_new ("visit", 1750000000000000LL);
    for (int i = 0; i < 65; i++) {
        char name [16];
        snprintf (name, sizeof name, "a%d", i);
        assert_int_equal (tongxin_event_add_int (ev, name, i), TONGXIN_OK);
    }
    assert_int_equal (tongxin_event_check (ev, err, sizeof err), TONGXIN_EINVAL);
    assert_string_equal (err, "too_many_attrs: 65 attributes, at most 64");
    assert_int_equal (tongxin_event_add_double (ev, "x", 0.0 / 0.0), TONGXIN_OK);
    tongxin_event_destroy (&ev);

    uint8_t id [16], raw [32] = { 0x84, 0xa2, 'i', 'd', 0xc4, 16 };
    for (int i = 0; i < 16; i++)
        raw [6 + i] = (uint8_t) i;
    assert_int_equal (tx_wire_payload_event_id (raw, sizeof raw, id), 0);
    assert_memory_equal (id, raw + 6, 16);
    raw [4] = 0xc5;
    assert_int_equal (tx_wire_payload_event_id (raw, sizeof raw, id), -1);
    assert_int_equal (tx_wire_payload_event_id (raw, 21, id), -1);
}

//  ----------------------------------------------------------------- CURVE

//  A CURVE collector stand-in: a ROUTER with a ZAP handler that accepts
//  one client key, or refuses it (400) while refuse is set.
typedef struct {
    fake_t f;                           //  its ROUTER, context and endpoint
    pthread_t zap;
    char server_pub [41], server_sec [41];
    char client_pub [41];               //  the key it knows
    atomic_int refuse;                  //  answer 400 even to that key
    atomic_int stop;
} curve_t;

static void *
s_zap (void *arg)
{
    curve_t *c = arg;
    void *sock = zmq_socket (c->f.ctx, ZMQ_REP);
    int ms = 100;
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &ms, sizeof ms);
    zmq_bind (sock, "inproc://zeromq.zap.01");
    while (!atomic_load (&c->stop)) {
        zmq_msg_t part [8];
        int n = 0, more = 1;
        while (more && n < 8) {
            zmq_msg_init (&part [n]);
            if (zmq_msg_recv (&part [n], sock, 0) < 0)
                break;
            more = zmq_msg_more (&part [n++]);
        }
        if (n < 7) {
            for (int k = 0; k < n; k++)
                zmq_msg_close (&part [k]);
            continue;
        }
        char z85 [41] = "";
        if (zmq_msg_size (&part [6]) == 32)
            zmq_z85_encode (z85, zmq_msg_data (&part [6]), 32);
        bool ok = !atomic_load (&c->refuse) && strcmp (z85, c->client_pub) == 0;
        zmq_send (sock, "1.0", 3, ZMQ_SNDMORE);
        zmq_send (sock, zmq_msg_data (&part [1]), zmq_msg_size (&part [1]), ZMQ_SNDMORE);
        zmq_send (sock, ok ? "200" : "400", 3, ZMQ_SNDMORE);
        zmq_send (sock, ok ? "OK" : "unknown key", ok ? 2 : 11, ZMQ_SNDMORE);
        zmq_send (sock, ok ? "u1" : "", ok ? 2 : 0, ZMQ_SNDMORE);
        zmq_send (sock, "", 0, 0);
        for (int k = 0; k < n; k++)
            zmq_msg_close (&part [k]);
    }
    zmq_close (sock);
    return NULL;
}

static void
s_curve_open (curve_t *c, const char *client_pub)
{
    memset (c, 0, sizeof *c);
    c->f.ctx = zmq_ctx_new ();
    assert_int_equal (zmq_curve_keypair (c->server_pub, c->server_sec), 0);
    snprintf (c->client_pub, sizeof c->client_pub, "%s", client_pub);
    assert_int_equal (pthread_create (&c->zap, NULL, s_zap, c), 0);
    usleep (50000);                             //  the handler binds first
    snprintf (c->f.endpoint, sizeof c->f.endpoint, "ipc://%s/curve.sock", s_dir);
    c->f.router = zmq_socket (c->f.ctx, ZMQ_ROUTER);
    int one = 1, zero = 0;
    zmq_setsockopt (c->f.router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (c->f.router, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt (c->f.router, ZMQ_CURVE_SECRETKEY, c->server_sec, 40);
    zmq_setsockopt (c->f.router, ZMQ_ZAP_DOMAIN, "tongxin", 7);
    assert_int_equal (zmq_bind (c->f.router, c->f.endpoint), 0);
}

static void
s_curve_close (curve_t *c)
{
    atomic_store (&c->stop, 1);
    pthread_join (c->zap, NULL);
    zmq_close (c->f.router);
    zmq_ctx_term (c->f.ctx);
}

static int s_links [8];                         //  on_link calls, by link value
static int s_links_bad;                         //  calls with a bad value or message

//  On the sender thread: counts only (cmocka asserts on the test's thread).
static void
s_on_link (void *arg, int link, const char *msg)
{
    (void) arg;
    if (link < 0 || link >= 8 || (link > TONGXIN_LINK_UP) != (msg != NULL))
        __atomic_fetch_add (&s_links_bad, 1, __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_add (&s_links [link], 1, __ATOMIC_SEQ_CST);
}

//  A producer with a fresh unit key (its public key in pub) talking CURVE
//  to server_pub.
static tongxin_t *
s_curve_producer (const char *endpoint, const char *server_pub, char pub [41])
{
    char spool [128], keyfile [128], err [256];
    snprintf (spool, sizeof spool, "%s/spool", s_dir);
    snprintf (keyfile, sizeof keyfile, "%s/u1.key", s_dir);
    tx_keyfile_t key = { .unit = "u1" };
    assert_int_equal (zmq_curve_keypair (key.public_key, key.secret_key), 0);
    unlink (keyfile);
    char pubfile [140];
    snprintf (pubfile, sizeof pubfile, "%s.pub", keyfile);
    unlink (pubfile);
    assert_int_equal (tx_keyfile_write (keyfile, &key, "test", err, sizeof err), 0);
    memcpy (pub, key.public_key, 41);
    const char *eps [] = { endpoint };
    tongxin_opts_t o = {
        .endpoints = eps, .n_endpoints = 1, .unit = "u1", .spool_dir = spool,
        .key_file = keyfile, .server_key = server_pub, .batch_events = 1,
        .on_verdict = s_on_verdict, .on_link = s_on_link,
    };
    tongxin_t *tx = tongxin_new (&o, err, sizeof err);
    assert_non_null (tx);
    return tx;
}

//  Waits up to ms for stats.link to become want.
static bool
s_wait_link (tongxin_t *tx, int want, int ms, tongxin_stats_t *st)
{
    int64_t until = tx_clock_ms () + ms;
    do {
        tongxin_stats (tx, st);
        if (st->link == want)
            return true;
        usleep (10000);
    } while (tx_clock_ms () < until);
    return false;
}

//  A key the collector refuses (ZAP 400) is told apart from an outage
//  within a second; libzmq gives up on such an endpoint for good, so the
//  library reconnects itself, and once the key is accepted (issued late)
//  the events go through without a restart.
static void
test_key_refused (void **state)
{
    (void) state;
    memset (s_links, 0, sizeof s_links);
    s_links_bad = 0;
    curve_t c;
    s_curve_open (&c, "");
    char pub [41];
    tongxin_t *tx = s_curve_producer (c.f.endpoint, c.server_pub, pub);
    snprintf (c.client_pub, sizeof c.client_pub, "%s", pub);
    atomic_store (&c.refuse, 1);
    s_submit (tx, 1);
    tongxin_stats_t st;
    int64_t t0 = tx_clock_ms ();
    assert_true (s_wait_link (tx, TONGXIN_LINK_KEY_REFUSED, 3000, &st));
    assert_true (tx_clock_ms () - t0 < 2000);
    assert_true (st.handshakes_failed >= 2);
    assert_int_equal (st.link_failures, 2);
    assert_string_equal (st.link_endpoint, c.f.endpoint);
    assert_non_null (strstr (st.link_error, "refused our key, the key of unit u1"));
    assert_non_null (strstr (st.link_error, "tongxin-admin key issue u1"));
    assert_int_equal (s_links [TONGXIN_LINK_KEY_REFUSED], 1);
    //  The key is issued: the next reconnect (within a few seconds) works.
    atomic_store (&c.refuse, 0);
    assert_true (s_wait_link (tx, TONGXIN_LINK_UP, 5000, &st));
    assert_int_equal (st.link_error [0], 0);
    got_t g;
    assert_true (s_fake_recv (&c.f, 3000, &g));
    s_fake_ack (&c.f, &g, TX_RESULT_STORED);
    assert_int_equal (tongxin_flush (tx, 3000), TONGXIN_OK);
    assert_int_equal (s_links [TONGXIN_LINK_UP], 1);
    assert_int_equal (s_links_bad, 0);
    tongxin_destroy (&tx);
    s_curve_close (&c);
}

//  A wrong server public key: the collector cannot open our HELLO and
//  closes the connection; after a few tries the producer says which key
//  to check instead of looking like an outage.
static void
test_wrong_server_key (void **state)
{
    (void) state;
    memset (s_links, 0, sizeof s_links);
    s_links_bad = 0;
    curve_t c;
    s_curve_open (&c, "");
    char other_pub [41], other_sec [41], pub [41];
    assert_int_equal (zmq_curve_keypair (other_pub, other_sec), 0);
    tongxin_t *tx = s_curve_producer (c.f.endpoint, other_pub, pub);
    snprintf (c.client_pub, sizeof c.client_pub, "%s", pub);
    s_submit (tx, 1);
    tongxin_stats_t st;
    int64_t t0 = tx_clock_ms ();
    assert_true (s_wait_link (tx, TONGXIN_LINK_SERVER_KEY, 5000, &st));
    assert_true (tx_clock_ms () - t0 < 3000);
    assert_true (st.link_failures >= 4);
    assert_non_null (strstr (st.link_error, "no CURVE handshake with the collector at"));
    assert_non_null (strstr (st.link_error, "check the collector's public key"));
    assert_int_equal (s_links [TONGXIN_LINK_KEY_REFUSED], 0);
    assert_int_equal (s_links [TONGXIN_LINK_SERVER_KEY], 1);
    assert_int_equal (s_links_bad, 0);
    tongxin_destroy (&tx);
    s_curve_close (&c);
}

//  ----------------------------------------------------------------- status (1.3)

//  One message from the producer: a batch (into *got) or a status (into
//  *st, software copied into sw).  0 none within ms, 1 batch, 2 status.
static int
s_fake_recv_any (fake_t *f, int ms, got_t *got, tx_status_msg_t *st, char *sw, size_t swlen)
{
    zmq_pollitem_t item = { f->router, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, ms) <= 0)
        return 0;
    zmq_msg_t rid, body;
    zmq_msg_init (&rid);
    zmq_msg_init (&body);
    assert_true (zmq_msg_recv (&rid, f->router, 0) >= 0);
    assert_true (zmq_msg_recv (&body, f->router, 0) >= 0);
    got->rid_len = zmq_msg_size (&rid);
    memcpy (got->rid, zmq_msg_data (&rid), got->rid_len);
    tx_wire_decoder_t *dec = tx_wire_decoder_new ();
    tx_message_t m;
    char err [128];
    assert_int_equal (tx_wire_decode_message (zmq_msg_data (&body), zmq_msg_size (&body), &m, dec,
                                              err, sizeof err), TX_WIRE_OK);
    int kind = m.type == TX_MSG_STATUS ? 2 : 1;
    if (kind == 1) {
        got->batch_id = m.batch.batch_id;
        got->n = m.batch.count;
        got->rev = m.batch.rev;
    }
    else {
        got->batch_id = 0;          //  a status has none: an error to it names none
        got->n = 0;
        *st = m.status;
        snprintf (sw, swlen, "%.*s", (int) st->software_len, st->software ? st->software : "");
        st->software = NULL;
    }
    tx_wire_decoder_destroy (&dec);
    zmq_msg_close (&rid);
    zmq_msg_close (&body);
    return kind;
}

//  Acks a batch as a collector of revision rev would (1.3: "rev" 3).
static void
s_fake_ack_rev (fake_t *f, const got_t *got, uint64_t rev)
{
    uint8_t results [TX_WIRE_MAX_EVENTS];
    memset (results, TX_RESULT_STORED, got->n);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    uint64_t batch_rev = got->rev;
    if (rev < 3 && batch_rev > 2)
        batch_rev = 2;              //  a 1.2 collector: "dups", no "rev"
    assert_int_equal (tx_wire_pack_ack_rev (&sb, got->batch_id, results, got->n, NULL, 0,
                                            batch_rev, NULL, 0, NULL, 0), 0);
    zmq_send (f->router, got->rid, got->rid_len, ZMQ_SNDMORE);
    zmq_send (f->router, sb.data, sb.size, 0);
    msgpack_sbuffer_destroy (&sb);
}

static tongxin_t *
s_status_producer (const char *endpoint, int status_ms)
{
    const char *eps [] = { endpoint };
    char spool [128], err [256];
    snprintf (spool, sizeof spool, "%s/spool", s_dir);
    tongxin_opts_t o = { .endpoints = eps, .n_endpoints = 1, .unit = "u1", .spool_dir = spool,
                         .insecure = true, .window = 1, .batch_events = 1,
                         .software = "test-producer 1.0", .status_interval_ms = status_ms };
    tongxin_t *tx = tongxin_new (&o, err, sizeof err);
    assert_non_null (tx);
    return tx;
}

//  Against a collector of 1.3: batches say "rev" 3; the first ack with
//  "rev" 3 brings a status at once with the backlog, the oldest waiting
//  event, the last verdict and the software; the emptied spool is told
//  (backlog 0) before tongxin_flush returns.
static void
test_status_13 (void **state)
{
    (void) state;
    fake_t c;
    s_fake_open (&c, "c");
    tongxin_t *tx = s_status_producer (c.endpoint, 60000);
    int64_t before_ms = (int64_t) time (NULL) * 1000 - 1000;
    s_submit (tx, 3);
    got_t g;
    tx_status_msg_t st;
    char sw [256];
    assert_int_equal (s_fake_recv_any (&c, 3000, &g, &st, sw, sizeof sw), 1);
    assert_int_equal (g.rev, 3);
    s_fake_ack_rev (&c, &g, 3);
    //  The next batch and the status, in either order.
    int batches = 0, statuses = 0;
    got_t next = { 0 };
    for (int i = 0; i < 2; i++) {
        got_t x;
        int k = s_fake_recv_any (&c, 3000, &x, &st, sw, sizeof sw);
        assert_true (k > 0);
        if (k == 1) {
            next = x;
            batches++;
        }
        else
            statuses++;
    }
    assert_int_equal (batches, 1);
    assert_int_equal (statuses, 1);
    assert_int_equal (st.backlog, 2);
    assert_true (st.has_oldest);
    assert_true (st.oldest_sec * 1000 >= before_ms && st.oldest_sec <= time (NULL));
    assert_true (st.has_verdict);
    assert_true (st.verdict_sec * 1000 >= before_ms && st.verdict_sec <= time (NULL));
    assert_string_equal (sw, "test-producer 1.0");
    s_fake_ack_rev (&c, &next, 3);
    assert_int_equal (s_fake_recv_any (&c, 3000, &g, &st, sw, sizeof sw), 1);
    s_fake_ack_rev (&c, &g, 3);
    assert_int_equal (tongxin_flush (tx, 5000), TONGXIN_OK);
    tongxin_destroy (&tx);
    //  Sent before the flush returned, so it left before the close.
    assert_int_equal (s_fake_recv_any (&c, 2000, &g, &st, sw, sizeof sw), 2);
    assert_int_equal (st.backlog, 0);
    assert_false (st.has_oldest);
    assert_int_equal (s_fake_recv_any (&c, 300, &g, &st, sw, sizeof sw), 0);
    s_fake_close (&c);
}

//  Against a collector of 1.2 (its acks carry no "rev"): no status, ever;
//  the batches still say "rev" 3, which 1.2 takes (any positive rev).
static void
test_status_old_collector (void **state)
{
    (void) state;
    fake_t c;
    s_fake_open (&c, "c");
    tongxin_t *tx = s_status_producer (c.endpoint, 100);
    s_submit (tx, 3);
    got_t g;
    tx_status_msg_t st;
    char sw [256];
    for (int i = 0; i < 3; i++) {
        assert_int_equal (s_fake_recv_any (&c, 3000, &g, &st, sw, sizeof sw), 1);
        assert_int_equal (g.rev, 3);
        s_fake_ack_rev (&c, &g, 2);
    }
    assert_int_equal (tongxin_flush (tx, 5000), TONGXIN_OK);
    assert_int_equal (s_fake_recv_any (&c, 500, &g, &st, sw, sizeof sw), 0);
    tongxin_destroy (&tx);
    s_fake_close (&c);
}

//  A status refused by an older collector (another endpoint behind the
//  same DEALER, or a downgrade) comes back "malformed" without a batch id:
//  the producer stops sending status, and nothing else changes.
static void
test_status_refused (void **state)
{
    (void) state;
    fake_t c;
    s_fake_open (&c, "c");
    tongxin_t *tx = s_status_producer (c.endpoint, 100);
    s_submit (tx, 1);
    got_t g, b;
    tx_status_msg_t st;
    char sw [256];
    assert_int_equal (s_fake_recv_any (&c, 3000, &b, &st, sw, sizeof sw), 1);
    s_fake_ack_rev (&c, &b, 3);
    assert_int_equal (s_fake_recv_any (&c, 3000, &g, &st, sw, sizeof sw), 2);
    s_fake_error (&c, &g, TX_ERROR_MALFORMED, "'t' is not \"batch\"");
    //  No status in five of its intervals; batches still flow.
    assert_int_equal (s_fake_recv_any (&c, 500, &g, &st, sw, sizeof sw), 0);
    s_submit (tx, 1);
    assert_int_equal (s_fake_recv_any (&c, 3000, &b, &st, sw, sizeof sw), 1);
    s_fake_ack_rev (&c, &b, 2);
    assert_int_equal (tongxin_flush (tx, 5000), TONGXIN_OK);
    tongxin_stats_t ts;
    tongxin_stats (tx, &ts);
    assert_false (ts.stopped);
    assert_int_equal (ts.rejected, 0);
    assert_int_equal (s_fake_recv_any (&c, 300, &g, &st, sw, sizeof sw), 0);
    tongxin_destroy (&tx);
    s_fake_close (&c);
}

//  An idle producer (nothing waiting, nothing changed) sends a status only
//  every 10 intervals; a backlog that changes is told within one.
static void
test_status_idle (void **state)
{
    (void) state;
    fake_t c;
    s_fake_open (&c, "c");
    tongxin_t *tx = s_status_producer (c.endpoint, 100);
    s_submit (tx, 1);
    got_t g;
    tx_status_msg_t st;
    char sw [256];
    assert_int_equal (s_fake_recv_any (&c, 3000, &g, &st, sw, sizeof sw), 1);
    s_fake_ack_rev (&c, &g, 3);
    assert_int_equal (tongxin_flush (tx, 5000), TONGXIN_OK);
    assert_int_equal (s_fake_recv_any (&c, 2000, &g, &st, sw, sizeof sw), 2);
    assert_int_equal (st.backlog, 0);
    int64_t t0 = tx_clock_ms ();
    assert_int_equal (s_fake_recv_any (&c, 700, &g, &st, sw, sizeof sw), 0);
    assert_int_equal (s_fake_recv_any (&c, 1500, &g, &st, sw, sizeof sw), 2);
    int64_t idle = tx_clock_ms () - t0;
    assert_true (idle >= 900 && idle <= 1600);
    assert_int_equal (st.backlog, 0);
    //  A change: the new event's batch, and within an interval a status
    //  telling it (the batch stays unanswered).
    s_submit (tx, 1);
    int seen_status = 0;
    for (int i = 0; i < 2; i++) {
        int k = s_fake_recv_any (&c, 1000, &g, &st, sw, sizeof sw);
        assert_true (k > 0);
        if (k == 2) {
            seen_status++;
            assert_int_equal (st.backlog, 1);
            assert_true (st.has_oldest);
        }
    }
    assert_int_equal (seen_status, 1);
    tongxin_destroy (&tx);
    s_fake_close (&c);
}

//  A new connection hears the producer's state: the collector restarts
//  while two events wait; the first thing after the handshake, with the
//  resent batch, is a status with the backlog (its state was lost with
//  the old connection, or it is another collector).
static void
test_status_reconnect (void **state)
{
    (void) state;
    fake_t c;
    s_fake_open (&c, "c");
    tongxin_t *tx = s_status_producer (c.endpoint, 60000);
    s_submit (tx, 1);
    got_t g;
    tx_status_msg_t st;
    char sw [256];
    assert_int_equal (s_fake_recv_any (&c, 3000, &g, &st, sw, sizeof sw), 1);
    s_fake_ack_rev (&c, &g, 3);
    assert_int_equal (tongxin_flush (tx, 5000), TONGXIN_OK);
    assert_int_equal (s_fake_recv_any (&c, 2000, &g, &st, sw, sizeof sw), 2);
    assert_int_equal (st.backlog, 0);
    s_fake_close (&c);
    s_submit (tx, 2);                   //  spooled while the collector is away
    s_fake_open (&c, "c");
    int statuses = 0;
    for (int i = 0; i < 4 && !statuses; i++) {
        int k = s_fake_recv_any (&c, 3000, &g, &st, sw, sizeof sw);
        assert_true (k > 0);
        if (k == 2) {
            statuses++;
            assert_int_equal (st.backlog, 2);
            assert_true (st.has_oldest && st.has_verdict);
        }
    }
    assert_int_equal (statuses, 1);
    tongxin_destroy (&tx);
    s_fake_close (&c);
}

//  The software name is checked at tongxin_new.
static void
test_status_software (void **state)
{
    (void) state;
    const char *eps [] = { "ipc:///nonexistent/x" };
    char spool [128], err [256], big [TONGXIN_MAX_SOFTWARE + 2];
    snprintf (spool, sizeof spool, "%s/spool", s_dir);
    memset (big, 'x', sizeof big - 1);
    big [sizeof big - 1] = 0;
    const char *bad [] = { "", "a\nb", "\xff", big };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        tongxin_opts_t o = { .endpoints = eps, .n_endpoints = 1, .unit = "u1", .spool_dir = spool,
                             .insecure = true, .software = bad [i] };
        assert_null (tongxin_new (&o, err, sizeof err));
        assert_non_null (strstr (err, "software"));
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_window, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_resend_after_reconnect, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_failover, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_revision_12, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_revision_fallback, s_setup, s_teardown),
        cmocka_unit_test (test_number_rule),
        cmocka_unit_test (test_event_check),
        cmocka_unit_test_setup_teardown (test_key_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wrong_server_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_status_13, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_status_old_collector, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_status_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_status_idle, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_status_reconnect, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_status_software, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
