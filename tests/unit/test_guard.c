/*  test_guard: the cap on handshaking connections (collector/guard.c), on
 *  real loopback TCP connections: the oldest go first, authenticated ones
 *  are spared, a reused descriptor is never touched, the limit fits the
 *  open-files limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "guard.h"

#define N 6

typedef struct {
    int listener;
    int client [N];                 //  our side of each connection
    int server [N];                 //  the collector's side (what libzmq would hold)
} pairs_t;

static void
s_open (pairs_t *p)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    p->listener = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (p->listener >= 0);
    assert_int_equal (bind (p->listener, (struct sockaddr *) &sa, sizeof sa), 0);
    assert_int_equal (listen (p->listener, N), 0);
    assert_int_equal (getsockname (p->listener, (struct sockaddr *) &sa, &len), 0);
    for (int i = 0; i < N; i++) {
        p->client [i] = socket (AF_INET, SOCK_STREAM, 0);
        assert_int_equal (connect (p->client [i], (struct sockaddr *) &sa, sizeof sa), 0);
        p->server [i] = accept (p->listener, NULL, NULL);
        assert_true (p->server [i] >= 0);
    }
}

static void
s_close (pairs_t *p)
{
    for (int i = 0; i < N; i++) {
        close (p->client [i]);
        if (p->server [i] >= 0)
            close (p->server [i]);
    }
    close (p->listener);
}

//  Did the collector's side shut this connection down?  (The client reads
//  the end of the stream; otherwise nothing is there to read.)
static bool
s_was_shut (int client)
{
    char c;
    ssize_t n = recv (client, &c, 1, MSG_DONTWAIT);
    return n == 0;
}

static void
test_oldest_first (void **state)
{
    (void) state;
    tx_metrics_t m = { 0 };
    pairs_t p;
    s_open (&p);
    tx_guard_t *g = tx_guard_new (4, 5000, true, &m);
    assert_non_null (g);
    assert_int_equal (tx_guard_limit (g), 4);
    for (int i = 0; i < N; i++)
        tx_guard_accepted (g, p.server [i], 1000 + i);
    assert_int_equal (m.handshaking, N);
    assert_int_equal (tx_guard_enforce (g, 1010), 2);
    for (int i = 0; i < N; i++)
        assert_int_equal (s_was_shut (p.client [i]), i < 2);
    assert_int_equal (m.handshaking, 4);
    assert_int_equal (m.connections_shed, 2);
    //  libzmq closes them and says so; nothing more to do.
    tx_guard_closed (g, p.server [0]);
    tx_guard_closed (g, p.server [1]);
    assert_int_equal (tx_guard_enforce (g, 1011), 0);
    tx_guard_destroy (&g);
    tx_guard_destroy (&g);
    assert_null (g);
    s_close (&p);
}

static void
test_authenticated_spared (void **state)
{
    (void) state;
    tx_metrics_t m = { 0 };
    pairs_t p;
    s_open (&p);
    tx_guard_t *g = tx_guard_new (4, 5000, true, &m);
    assert_non_null (g);
    for (int i = 0; i < N; i++)
        tx_guard_accepted (g, p.server [i], 1000);
    tx_guard_accepted (g, p.listener, 1000);       //  a seventh: three too many
    //  0: a message came through it.  1: the collector wrote it more than a
    //  refused CURVE handshake can (64 + 170 + 12 bytes): READY went out.
    tx_guard_message (g, p.server [0]);
    char buf [300] = { 0 };
    assert_int_equal (write (p.server [1], buf, 247), 247);
    assert_int_equal (write (p.server [2], buf, 246), 246);
    assert_int_equal (tx_guard_enforce (g, 1001), 1);
    assert_false (s_was_shut (p.client [0]));
    assert_int_equal (recv (p.client [1], buf, sizeof buf, 0), 247);
    assert_false (s_was_shut (p.client [1]));
    assert_int_equal (recv (p.client [2], buf, sizeof buf, 0), 246);
    assert_true (s_was_shut (p.client [2]));
    for (int i = 3; i < N; i++)
        assert_false (s_was_shut (p.client [i]));
    assert_int_equal (m.handshaking, 4);
    tx_guard_destroy (&g);
    s_close (&p);
}

static void
test_past_the_timeout (void **state)
{
    (void) state;
    tx_metrics_t m = { 0 };
    pairs_t p;
    s_open (&p);
    tx_guard_t *g = tx_guard_new (4, 2000, true, &m);
    for (int i = 0; i < N; i++)
        tx_guard_accepted (g, p.server [i], 1000);
    //  Older than the handshake timeout (+ 1 s): libzmq would have closed
    //  them unless they authenticated.
    assert_int_equal (tx_guard_enforce (g, 1000 + 3001), 0);
    for (int i = 0; i < N; i++)
        assert_false (s_was_shut (p.client [i]));
    assert_int_equal (m.handshaking, 0);
    tx_guard_destroy (&g);
    s_close (&p);
}

static void
test_reused_descriptor (void **state)
{
    (void) state;
    tx_metrics_t m = { 0 };
    pairs_t p, q;
    s_open (&p);
    s_open (&q);
    tx_guard_t *g = tx_guard_new (4, 5000, true, &m);
    for (int i = 0; i < N; i++)
        tx_guard_accepted (g, p.server [i], 1000 + i);
    //  libzmq closes connection 0 and the number is taken by another socket
    //  before its DISCONNECTED is read: the guard must not touch it.
    int fd = p.server [0];
    assert_int_equal (dup2 (q.server [0], fd), fd);
    //  Two too many: the stale entry leaves the list, 1 is shed.
    assert_int_equal (tx_guard_enforce (g, 1010), 1);
    assert_false (s_was_shut (q.client [0]));
    assert_true (s_was_shut (p.client [1]));
    assert_false (s_was_shut (p.client [2]));
    tx_guard_destroy (&g);
    s_close (&p);
    s_close (&q);
}

static void
test_fits_open_files (void **state)
{
    (void) state;
    tx_metrics_t m = { 0 };
    struct rlimit was, rl;
    assert_int_equal (getrlimit (RLIMIT_NOFILE, &was), 0);
    rl = was;
    rl.rlim_cur = 200;
    assert_int_equal (setrlimit (RLIMIT_NOFILE, &rl), 0);
    tx_guard_t *g = tx_guard_new (1024, 5000, true, &m);
    assert_int_equal (setrlimit (RLIMIT_NOFILE, &was), 0);
    //  Half of what is left after 64 for the collector itself.
    assert_int_equal (tx_guard_limit (g), (200 - 64) / 2);
    assert_int_equal (m.handshaking_limit, 68);
    tx_guard_destroy (&g);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_oldest_first),
        cmocka_unit_test (test_authenticated_spared),
        cmocka_unit_test (test_past_the_timeout),
        cmocka_unit_test (test_reused_descriptor),
        cmocka_unit_test (test_fits_open_files),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
