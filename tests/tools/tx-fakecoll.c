/*  tx-fakecoll: a collector that answers every message with what it is
 *  told, for the producers' side of hostile or old collectors.
 *
 *  usage: tx-fakecoll ENDPOINT SECURITY MODE [ARG]
 *    SECURITY   insecure | KEYFILE (the server's secret key: CURVE, any
 *               client key accepted)
 *    MODE       old             an error "malformed" (what a collector older
 *                               than revision 1.3 answers a registry request)
 *               raw HEX         these bytes
 *               registry HEX [VERSION]
 *                               a registry reply echoing the request's req,
 *                               with the body HEX and VERSION (default: the
 *                               version of those bytes)
 *  Prints "listening" once bound, then one line per message answered; runs
 *  until killed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "keyfile.h"
#include "registry.h"
#include "wire.h"

static size_t
s_hex (const char *hex, uint8_t *out, size_t max)
{
    size_t n = 0;
    for (; hex [0] && hex [1] && n < max; hex += 2)
        sscanf (hex, "%2hhx", &out [n++]);
    return n;
}

int
main (int argc, char **argv)
{
    if (argc < 4) {
        fprintf (stderr, "usage: tx-fakecoll ENDPOINT insecure|KEYFILE old|raw HEX|registry HEX [VERSION]\n");
        return 2;
    }
    void *ctx = zmq_ctx_new ();
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    int one = 1;
    if (strcmp (argv [2], "insecure") != 0) {
        tx_keyfile_t key;
        char err [256];
        if (tx_keyfile_read (argv [2], true, &key, err, sizeof err) != 0) {
            fprintf (stderr, "tx-fakecoll: %s\n", err);
            return 1;
        }
        zmq_setsockopt (router, ZMQ_CURVE_SERVER, &one, sizeof one);
        zmq_setsockopt (router, ZMQ_CURVE_SECRETKEY, key.secret_key, TX_Z85_KEY_LEN);
    }
    if (zmq_bind (router, argv [1]) != 0) {
        fprintf (stderr, "tx-fakecoll: cannot bind %s\n", argv [1]);
        return 1;
    }
    printf ("listening\n");
    fflush (stdout);
    static uint8_t body [1 << 20];
    size_t body_len = argc > 4 ? s_hex (argv [4], body, sizeof body) : 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    for (;;) {
        zmq_msg_t rid, msg;
        zmq_msg_init (&rid);
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&rid, router, 0) < 0 || zmq_msg_recv (&msg, router, 0) < 0)
            break;
        tx_registry_req_t req;
        char err [160];
        bool is_req = tx_wire_decode_registry_request (zmq_msg_data (&msg), zmq_msg_size (&msg), &req,
                                                       err, sizeof err) == TX_WIRE_OK;
        if (strcmp (argv [3], "old") == 0)
            tx_wire_pack_error (&sb, 0, TX_ERROR_MALFORMED, "the message's t must be \"batch\"", err, sizeof err);
        else
        if (strcmp (argv [3], "raw") == 0) {
            msgpack_sbuffer_clear (&sb);
            msgpack_sbuffer_write (&sb, (const char *) body, body_len);
        }
        else {
            char version [TX_REGISTRY_VERSION_LEN + 1] = "";
            tx_registry_t *reg = tx_registry_decode (body, body_len, err, sizeof err);
            snprintf (version, sizeof version, "%s", argc > 5 ? argv [5] : reg ? tx_registry_version (reg) : "0");
            tx_registry_unref (&reg);
            //  The envelope by hand: the body may be anything.
            msgpack_sbuffer_clear (&sb);
            msgpack_packer pk;
            msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
            msgpack_pack_map (&pk, 5);
            msgpack_pack_str_with_body (&pk, "v", 1);
            msgpack_pack_uint8 (&pk, 1);
            msgpack_pack_str_with_body (&pk, "t", 1);
            msgpack_pack_str_with_body (&pk, "registry", 8);
            msgpack_pack_str_with_body (&pk, "req", 3);
            msgpack_pack_uint64 (&pk, is_req ? req.req : 1);
            msgpack_pack_str_with_body (&pk, "version", 7);
            msgpack_pack_str_with_body (&pk, version, strlen (version));
            msgpack_pack_str_with_body (&pk, "registry", 8);
            msgpack_sbuffer_write (&sb, (const char *) body, body_len);
        }
        zmq_msg_send (&rid, router, ZMQ_SNDMORE);
        zmq_send (router, sb.data, sb.size, 0);
        printf ("answered %s (%zu bytes)\n", is_req ? "a registry request" : "a message", sb.size);
        fflush (stdout);
        zmq_msg_close (&msg);
    }
    msgpack_sbuffer_destroy (&sb);
    zmq_close (router);
    zmq_ctx_term (ctx);
    return 0;
}
