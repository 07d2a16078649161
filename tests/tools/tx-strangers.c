/*  tx-strangers: a flood of CURVE handshakes with keys nobody registered.
 *
 *  usage: tx-strangers ENDPOINT SERVER-PUBLIC-KEY SOCKETS SECONDS
 *
 *  Every 100 ms opens SOCKETS DEALERs, each with a fresh random keypair,
 *  connected to ENDPOINT with the collector's public key (Z85), and closes
 *  them again, for SECONDS: each is a full CURVE handshake the collector's
 *  ZAP handler must refuse.  (A libzmq client refused by ZAP does not
 *  retry, so the flood makes new sockets.)  Prints "attempts=N".  Run by
 *  bench/exhaust.sh with STRANGERS=N and by
 *  tests/collector_handshakes.t.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

int
main (int argc, char **argv)
{
    if (argc != 5 || strlen (argv [2]) != 40 || atoi (argv [3]) < 1 || atoi (argv [4]) < 1) {
        fprintf (stderr, "usage: tx-strangers ENDPOINT SERVER-PUBLIC-KEY SOCKETS SECONDS\n");
        return 2;
    }
    int n = atoi (argv [3]), rounds = atoi (argv [4]) * 10;
    void *ctx = zmq_ctx_new ();
    //  Closed sockets are reaped in the background: room for a few rounds.
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 4 * n + 16);
    void **socks = calloc ((size_t) n, sizeof *socks);
    if (!socks)
        return 1;
    long attempts = 0;
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < n; i++) {
            char pub [41], sec [41];
            int zero = 0;
            zmq_curve_keypair (pub, sec);
            socks [i] = zmq_socket (ctx, ZMQ_DEALER);
            if (!socks [i])
                continue;           //  the reaper is behind: fewer this round
            zmq_setsockopt (socks [i], ZMQ_CURVE_SERVERKEY, argv [2], 40);
            zmq_setsockopt (socks [i], ZMQ_CURVE_PUBLICKEY, pub, 40);
            zmq_setsockopt (socks [i], ZMQ_CURVE_SECRETKEY, sec, 40);
            zmq_setsockopt (socks [i], ZMQ_LINGER, &zero, sizeof zero);
            if (zmq_connect (socks [i], argv [1]) == 0)
                attempts++;
        }
        usleep (100000);
        for (int i = 0; i < n; i++)
            if (socks [i])
                zmq_close (socks [i]);
    }
    printf ("attempts=%ld\n", attempts);
    free (socks);
    zmq_ctx_term (ctx);
    return 0;
}
