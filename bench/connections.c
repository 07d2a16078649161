/*  connections: many producers connected to one collector, from one process.
 *
 *  Measures the collector's memory with SOCKETS CURVE connections, first
 *  idle, then each sending a trickle of events.  Every socket has its own
 *  unit and key, registered beforehand with the register mode (start or
 *  SIGHUP the collector afterwards, so that its registry knows the keys).
 *
 *  usage: connections register --db CONNINFO --keys FILE [--sockets N] [--prefix P]
 *           makes N units P0001.. with one key each; writes "unit public
 *           secret" lines to FILE (0600)
 *         connections run --endpoint E --server-key K --keys FILE --pid PID
 *                     [--sockets N] [--idle-s S] [--active-s S] [--every-ms M]
 *                     [--events E]
 *           connects N DEALER sockets (CURVE), sends one 1-event batch on
 *           each and waits for every ack (so all are connected and
 *           authenticated), stays idle for S s, then for --active-s s sends
 *           a batch of E events on every socket every M ms (each socket
 *           waits for its ack before the next), then waits for the last
 *           acks.  Reads /proc/PID/status of the collector after each phase.
 *           Prints one line of key=value figures:
 *             sockets connected events acked missing
 *             connect_hwm_kb  idle_rss_kb  idle_hwm_kb  active_rss_kb  active_hwm_kb
 *  Exit: 0, 1 on failure (a socket never acknowledged), 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "keyfile.h"
#include "uuid.h"
#include "wire.h"

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  VmRSS and VmHWM of a process, in kB (0 if unreadable).
static void
s_mem (int pid, long *rss, long *hwm)
{
    char path [64], line [256];
    snprintf (path, sizeof path, "/proc/%d/status", pid);
    *rss = *hwm = 0;
    FILE *f = fopen (path, "r");
    if (!f)
        return;
    while (fgets (line, sizeof line, f)) {
        if (strncmp (line, "VmRSS:", 6) == 0)
            *rss = atol (line + 6);
        else
        if (strncmp (line, "VmHWM:", 6) == 0)
            *hwm = atol (line + 6);
    }
    fclose (f);
}

//  ----------------------------------------------------------------- register

static int
s_register (const char *db_info, const char *keys_path, int n, const char *prefix)
{
    PGconn *db = PQconnectdb (db_info);
    if (PQstatus (db) != CONNECTION_OK) {
        fprintf (stderr, "connections: %s", PQerrorMessage (db));
        return 1;
    }
    umask (077);
    FILE *f = fopen (keys_path, "w");
    if (!f) {
        perror (keys_path);
        return 1;
    }
    PGresult *r = PQexec (db, "BEGIN");
    PQclear (r);
    int rc = 0;
    for (int i = 1; i <= n && rc == 0; i++) {
        char unit [65], pub [41], sec [41];
        snprintf (unit, sizeof unit, "%s%04d", prefix, i);
        if (zmq_curve_keypair (pub, sec) != 0) {
            fprintf (stderr, "connections: zmq_curve_keypair: %s\n", zmq_strerror (zmq_errno ()));
            rc = 1;
            break;
        }
        const char *v [2] = { unit, pub };
        r = PQexecParams (db, "INSERT INTO tongxin.units (code, name, kind) VALUES ($1, $1, 'village')",
                          1, NULL, v, NULL, NULL, 0);
        if (PQresultStatus (r) != PGRES_COMMAND_OK)
            rc = 1;
        PQclear (r);
        r = PQexecParams (db, "INSERT INTO tongxin.unit_keys (unit_code, public_key) VALUES ($1, $2)",
                          2, NULL, v, NULL, NULL, 0);
        if (PQresultStatus (r) != PGRES_COMMAND_OK)
            rc = 1;
        PQclear (r);
        fprintf (f, "%s %s %s\n", unit, pub, sec);
    }
    r = PQexec (db, rc == 0 ? "COMMIT" : "ROLLBACK");
    if (rc || PQresultStatus (r) != PGRES_COMMAND_OK) {
        fprintf (stderr, "connections: register: %s", PQerrorMessage (db));
        rc = 1;
    }
    PQclear (r);
    PQfinish (db);
    if (fclose (f) != 0)
        rc = 1;
    return rc;
}

//  ----------------------------------------------------------------- run

typedef struct {
    void *sock;
    char unit [65];
    uint64_t batch_id;          //  in flight, 0 = none
    int64_t next_ms;            //  next send
} conn_t;

static tx_uuid_gen_t *s_gen;
static long s_sent_events;

static int
s_send (conn_t *c, int events, msgpack_sbuffer *sb)
{
    tx_event_t ev [16];
    tx_attr_t attrs [16][2];
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    if (events > 16)
        events = 16;
    for (int k = 0; k < events; k++) {
        memset (&ev [k], 0, sizeof ev [k]);
        tx_uuid_gen_next (s_gen, ev [k].id);
        ev [k].unit = c->unit;
        ev [k].unit_len = strlen (c->unit);
        ev [k].type = "cloud_meeting";
        ev [k].type_len = 13;
        ev [k].at_sec = now.tv_sec - 60;
        ev [k].at_nsec = (uint32_t) now.tv_nsec;
        attrs [k][0] = (tx_attr_t) { "participants", 12, { .type = TX_VAL_INT, .u.i = 1 + k } };
        attrs [k][1] = (tx_attr_t) { "topic", 5, { .type = TX_VAL_STR, .u.s = { "bench", 5 } } };
        ev [k].attrs = attrs [k];
        ev [k].attr_count = 2;
    }
    char err [160];
    c->batch_id++;
    if (tx_wire_pack_batch (sb, c->batch_id, ev, (size_t) events, err, sizeof err) != 0) {
        fprintf (stderr, "connections: %s\n", err);
        return -1;
    }
    if (zmq_send (c->sock, sb->data, sb->size, ZMQ_DONTWAIT) < 0)
        return -1;
    s_sent_events += events;
    return 0;
}

//  Reads the replies waiting on c; counts acks.  Returns acks read.
static int
s_read (conn_t *c, tx_wire_decoder_t *dec, int64_t *in_flight)
{
    int acks = 0;
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, c->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            break;
        }
        tx_reply_t reply;
        if (tx_wire_decode_reply (zmq_msg_data (&msg), zmq_msg_size (&msg), &reply, dec, NULL, 0) == TX_WIRE_OK
        &&  reply.type == TX_REPLY_ACK && reply.batch_id == c->batch_id && *in_flight) {
            acks++;
            (*in_flight)--;
            c->next_ms = -c->next_ms;       //  negative: acknowledged, due then
        }
        else
        if (reply.type == TX_REPLY_ERROR)
            fprintf (stderr, "connections: %s: error reply %.*s\n", c->unit, (int) reply.code_len, reply.code);
        zmq_msg_close (&msg);
    }
    return acks;
}

static int
s_run (const char *endpoint, const char *server_key_arg, const char *keys_path, int n, int pid,
       int idle_s, int active_s, int every_ms, int events)
{
    char server_key [TX_Z85_KEY_LEN + 1], err [256];
    if (tx_keyfile_server_key (server_key_arg, server_key, err, sizeof err) != 0) {
        fprintf (stderr, "connections: %s\n", err);
        return 2;
    }
    //  Two descriptors per socket and some: raise the soft limit.
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t) n * 3 + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t) n * 3 + 64 ? rl.rlim_max : (rlim_t) n * 3 + 64;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    FILE *f = fopen (keys_path, "r");
    if (!f) {
        perror (keys_path);
        return 1;
    }
    void *ctx = zmq_ctx_new ();
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, n + 64);     //  the default is 1023
    conn_t *conns = calloc ((size_t) n, sizeof *conns);
    zmq_pollitem_t *items = calloc ((size_t) n, sizeof *items);
    s_gen = tx_uuid_gen_new ();
    tx_wire_decoder_t *dec = tx_wire_decoder_new ();
    if (!conns || !items || !s_gen || !dec)
        return 1;
    int got = 0;
    char line [256];
    while (got < n && fgets (line, sizeof line, f)) {
        char pub [64], sec [64];
        conn_t *c = &conns [got];
        if (sscanf (line, "%64s %63s %63s", c->unit, pub, sec) != 3)
            continue;
        c->sock = zmq_socket (ctx, ZMQ_DEALER);
        if (!c->sock) {
            fprintf (stderr, "connections: socket %d: %s\n", got, zmq_strerror (zmq_errno ()));
            return 1;
        }
        int zero = 0, hb_ivl = 5000, hb_timeout = 15000;
        zmq_setsockopt (c->sock, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt (c->sock, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl);
        zmq_setsockopt (c->sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout);
        zmq_setsockopt (c->sock, ZMQ_CURVE_SERVERKEY, server_key, TX_Z85_KEY_LEN);
        zmq_setsockopt (c->sock, ZMQ_CURVE_PUBLICKEY, pub, TX_Z85_KEY_LEN);
        zmq_setsockopt (c->sock, ZMQ_CURVE_SECRETKEY, sec, TX_Z85_KEY_LEN);
        if (zmq_connect (c->sock, endpoint) != 0) {
            fprintf (stderr, "connections: connect: %s\n", zmq_strerror (zmq_errno ()));
            return 1;
        }
        items [got] = (zmq_pollitem_t) { c->sock, 0, ZMQ_POLLIN, 0 };
        got++;
    }
    fclose (f);
    if (got < n) {
        fprintf (stderr, "connections: %s has only %d keys\n", keys_path, got);
        return 1;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    int64_t in_flight = 0, acked = 0;
    long connect_hwm = 0, idle_rss = 0, idle_hwm = 0, active_rss = 0, active_hwm = 0, rss;

    //  Phase 1: one event on every socket; every ack back.  A DEALER queues
    //  the message until its connection is up.
    for (int i = 0; i < n; i++) {
        if (s_send (&conns [i], 1, &sb) != 0) {
            fprintf (stderr, "connections: cannot queue on socket %d\n", i);
            return 1;
        }
        in_flight++;
    }
    int64_t deadline = s_now_ms () + 120000;
    while (in_flight > 0 && s_now_ms () < deadline) {
        if (zmq_poll (items, n, 100) < 0 && zmq_errno () != EINTR)
            break;
        for (int i = 0; i < n; i++)
            if (items [i].revents & ZMQ_POLLIN)
                acked += s_read (&conns [i], dec, &in_flight);
    }
    long connected = (long) acked;
    s_mem (pid, &rss, &connect_hwm);

    //  Phase 2: idle (heartbeats only).
    deadline = s_now_ms () + (int64_t) idle_s * 1000;
    while (s_now_ms () < deadline)
        if (zmq_poll (items, n, 200) > 0)
            for (int i = 0; i < n; i++)
                if (items [i].revents & ZMQ_POLLIN)
                    acked += s_read (&conns [i], dec, &in_flight);
    s_mem (pid, &idle_rss, &idle_hwm);

    //  Phase 3: a trickle on every socket, spread over the interval.
    int64_t start = s_now_ms ();
    for (int i = 0; i < n; i++)
        conns [i].next_ms = -(start + (int64_t) i * every_ms / n);
    int64_t end = start + (int64_t) active_s * 1000;
    for (;;) {
        int64_t now = s_now_ms ();
        if (now >= end && in_flight == 0)
            break;
        if (now >= end + 60000)
            break;
        int64_t next = now + 50;
        for (int i = 0; i < n; i++) {
            conn_t *c = &conns [i];
            if (c->next_ms >= 0 || now >= end)
                continue;               //  waiting for an ack, or done
            if (-c->next_ms <= now) {
                if (s_send (c, events, &sb) == 0) {
                    in_flight++;
                    c->next_ms = -c->next_ms + every_ms;    //  positive: in flight
                }
                else
                    c->next_ms = -(now + every_ms);
            }
            else
            if (-c->next_ms < next)
                next = -c->next_ms;
        }
        long wait = next - now;
        if (zmq_poll (items, n, wait > 0 ? wait : 0) > 0)
            for (int i = 0; i < n; i++)
                if (items [i].revents & ZMQ_POLLIN)
                    acked += s_read (&conns [i], dec, &in_flight);
    }
    s_mem (pid, &active_rss, &active_hwm);
    printf ("sockets=%d connected=%ld events=%ld acked=%lld missing=%lld connect_hwm_kb=%ld idle_rss_kb=%ld "
            "idle_hwm_kb=%ld active_rss_kb=%ld active_hwm_kb=%ld\n",
            n, connected, s_sent_events, (long long) acked, (long long) in_flight, connect_hwm, idle_rss,
            idle_hwm, active_rss, active_hwm);
    for (int i = 0; i < n; i++)
        zmq_close (conns [i].sock);
    msgpack_sbuffer_destroy (&sb);
    tx_wire_decoder_destroy (&dec);
    tx_uuid_gen_destroy (&s_gen);
    free (items);
    free (conns);
    zmq_ctx_term (ctx);
    return connected == n && in_flight == 0 ? 0 : 1;
}

int
main (int argc, char **argv)
{
    const char *db = NULL, *keys = NULL, *endpoint = NULL, *server_key = NULL, *prefix = "conn-";
    int n = 1000, pid = 0, idle_s = 10, active_s = 10, every_ms = 1000, events = 10;
    static struct option lo [] = {
        { "db", required_argument, 0, 'd' }, { "keys", required_argument, 0, 'k' },
        { "sockets", required_argument, 0, 'n' }, { "prefix", required_argument, 0, 'p' },
        { "endpoint", required_argument, 0, 'e' }, { "server-key", required_argument, 0, 'K' },
        { "pid", required_argument, 0, 'P' }, { "idle-s", required_argument, 0, 'i' },
        { "active-s", required_argument, 0, 'a' }, { "every-ms", required_argument, 0, 'm' },
        { "events", required_argument, 0, 'E' },
        { 0, 0, 0, 0 }
    };
    int c;
    while ((c = getopt_long (argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
            case 'd': db = optarg; break;
            case 'k': keys = optarg; break;
            case 'n': n = atoi (optarg); break;
            case 'p': prefix = optarg; break;
            case 'e': endpoint = optarg; break;
            case 'K': server_key = optarg; break;
            case 'P': pid = atoi (optarg); break;
            case 'i': idle_s = atoi (optarg); break;
            case 'a': active_s = atoi (optarg); break;
            case 'm': every_ms = atoi (optarg); break;
            case 'E': events = atoi (optarg); break;
            default: return 2;
        }
    }
    const char *mode = optind < argc ? argv [optind] : "";
    if (n < 1 || n > 10000 || every_ms < 1 || events < 1 || events > 16) {
        fprintf (stderr, "connections: --sockets 1..10000, --every-ms >= 1, --events 1..16\n");
        return 2;
    }
    if (strcmp (mode, "register") == 0 && db && keys)
        return s_register (db, keys, n, prefix);
    if (strcmp (mode, "run") == 0 && endpoint && server_key && keys && pid > 0)
        return s_run (endpoint, server_key, keys, n, pid, idle_s, active_s, every_ms, events);
    fprintf (stderr, "usage: connections register --db CONNINFO --keys FILE [--sockets N] [--prefix P]\n"
                     "       connections run --endpoint E --server-key K --keys FILE --pid PID [--sockets N]\n"
                     "                       [--idle-s S] [--active-s S] [--every-ms M] [--events E]\n");
    return 2;
}
