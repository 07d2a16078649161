/*  connections: many producers connected to one collector, from one process.
 *
 *  Measures the collector with SOCKETS CURVE connections: the time to
 *  connect them all, then its memory, CPU and file descriptors idle and
 *  with each connection sending a trickle of events, and the ack latency of
 *  that trickle.  Every socket has its own unit and key, registered
 *  beforehand with the register mode (start or SIGHUP the collector
 *  afterwards, so that its registry knows the keys).  bench/scaleout.sh
 *  runs it with 10,000 sockets, scripts/bench with 1,000.
 *
 *  usage: connections register --db CONNINFO --keys FILE [--sockets N] [--prefix P]
 *           makes N units P0001.. with one key each; writes "unit public
 *           secret" lines to FILE (0600)
 *         connections run --endpoint E --server-key K --keys FILE --pid PID
 *                     [--sockets N] [--connect-s S] [--idle-s S] [--active-s S]
 *                     [--every-ms M] [--events E] [--skip K]
 *                     [--barrier DIR --procs P] [--latency FILE]
 *                     [--status-s S [--status-ms M] [--metrics PORT]]
 *           connects N DEALER sockets (CURVE, heartbeats as the producer
 *           library sets them), sends one 1-event batch on each and waits
 *           up to --connect-s s (120) for every ack (so all are connected
 *           and authenticated), stays idle for S s, then for --active-s s
 *           sends a batch of E events on every socket every M ms (each
 *           socket waits for its ack before the next), then waits for the
 *           last acks.  Reads /proc/PID of the collector (status, stat, fd)
 *           after each phase.  Needs 2 file descriptors per socket: raises
 *           its own limit (the hard one too when root may).  --skip K
 *           passes over the first K keys of FILE; with --barrier DIR
 *           --procs P, P processes (each its own slice of the keys) begin
 *           the idle and active phases together, for when one process may
 *           not hold 2 N descriptors.  --latency FILE writes every
 *           latency measured, "connect µs" or "ack µs" a line.
 *           --status-s S adds a phase after the idle one: S s in which every
 *           socket sends a status (protocol revision 1.3) every M ms (60000,
 *           as libtongxin), spread evenly; with --metrics PORT (the
 *           collector's) it reads how many statuses the collector kept and
 *           how many statements and rows it wrote to producer_status.
 *           Prints one line of key=value figures:
 *             sockets connected events acked missing
 *             connect_hwm_kb  idle_rss_kb  idle_hwm_kb  active_rss_kb  active_hwm_kb
 *             connect_s       first connect to the last socket's first ack
 *             connect_p50_ms connect_p99_ms   the same, for half and 99%
 *                             of the sockets
 *             connect_cpu_pct connect_zap_cpu_pct   collector CPU (100 = one
 *                             core) while connecting; its ZAP thread's part
 *             connect_fds idle_fds active_fds   the collector's open fds
 *             idle_s idle_cpu_pct active_s active_cpu_pct   phase length and
 *                             collector CPU in it
 *             batches_timed ack_p50_ms ack_p99_ms ack_max_ms   the trickle's
 *                             batches, zmq_send to ack
 *             self_cpu_pct    this process's CPU during the trickle
 *             status_s status_sent status_cpu_pct status_thread_cpu_pct
 *                             the status phase: its length, statuses sent,
 *                             collector CPU, of which its tx-status thread
 *             status_received status_writes status_rows status_write_s
 *                             the collector's counters over the phase
 *                             (-1 without --metrics)
 *  Exit: 0, 1 on failure (a socket never acknowledged), 2 on bad usage.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "keyfile.h"
#include "uuid.h"
#include "wire.h"


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

//  COPY of the text rows in data into table (columns cols).  0 or -1.
static int
s_copy (PGconn *db, const char *table_cols, const char *data, size_t len)
{
    char sql [256];
    snprintf (sql, sizeof sql, "COPY %s FROM STDIN", table_cols);
    PGresult *r = PQexec (db, sql);
    int ok = PQresultStatus (r) == PGRES_COPY_IN;
    PQclear (r);
    if (!ok || PQputCopyData (db, data, (int) len) != 1 || PQputCopyEnd (db, NULL) != 1)
        return -1;
    r = PQgetResult (db);
    ok = PQresultStatus (r) == PGRES_COMMAND_OK;
    PQclear (r);
    while ((r = PQgetResult (db)))
        PQclear (r);
    return ok ? 0 : -1;
}

//  One COPY per table, not an INSERT per unit: the statement trigger on
//  tongxin.units recomputes the unit tree (analytics.unit_tree) each time,
//  which one INSERT per unit makes quadratic (150 s for 10,000 units).
static int
s_register (const char *db_info, const char *keys_path, int n, const char *prefix)
{
    if (strpbrk (prefix, "\t\n\\") || strlen (prefix) > 40) {
        fprintf (stderr, "connections: --prefix: at most 40 characters, no tab, newline or backslash\n");
        return 2;
    }
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
    //  Rows: "code\tname\tvillage\n" and "code\tkey\n".  A Z85 key has no
    //  tab, newline or backslash.
    size_t cap = (size_t) n * 160, ulen = 0, klen = 0;
    char *units = malloc (cap), *keys = malloc (cap);
    int rc = units && keys ? 0 : 1;
    for (int i = 1; i <= n && rc == 0; i++) {
        char unit [65], pub [41], sec [41];
        snprintf (unit, sizeof unit, "%s%04d", prefix, i);
        if (zmq_curve_keypair (pub, sec) != 0) {
            fprintf (stderr, "connections: zmq_curve_keypair: %s\n", zmq_strerror (zmq_errno ()));
            rc = 1;
            break;
        }
        ulen += (size_t) snprintf (units + ulen, cap - ulen, "%s\t%s\tvillage\n", unit, unit);
        klen += (size_t) snprintf (keys + klen, cap - klen, "%s\t%s\n", unit, pub);
        fprintf (f, "%s %s %s\n", unit, pub, sec);
    }
    PGresult *r = PQexec (db, "BEGIN");
    PQclear (r);
    if (rc == 0
    && (s_copy (db, "tongxin.units (code, name, kind)", units, ulen) != 0
    ||  s_copy (db, "tongxin.unit_keys (unit_code, public_key)", keys, klen) != 0))
        rc = 1;
    r = PQexec (db, rc == 0 ? "COMMIT" : "ROLLBACK");
    if (rc || PQresultStatus (r) != PGRES_COMMAND_OK) {
        fprintf (stderr, "connections: register: %s", PQerrorMessage (db));
        rc = 1;
    }
    PQclear (r);
    PQfinish (db);
    free (units);
    free (keys);
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
    int64_t sent_us;            //  when the batch in flight was queued
} conn_t;

typedef struct {
    int64_t *v;                 //  latencies (µs)
    size_t n, cap;
} lat_t;

static tx_uuid_gen_t *s_gen;
static long s_sent_events;
static lat_t *s_lat;            //  where ack latencies go now (NULL: nowhere)


static int
s_cmp64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

//  The p-th percentile (0..100) of the sorted latencies, in ms: nearest rank.
static double
s_pct_ms (const lat_t *l, double p)
{
    if (l->n == 0)
        return 0;
    size_t k = (size_t) (p / 100.0 * (double) l->n + 0.999999);
    return (double) l->v [k == 0 ? 0 : k > l->n ? l->n - 1 : k - 1] / 1000.0;
}

static void
s_lat_add (lat_t *l, int64_t us)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 65536;
        int64_t *v = realloc (l->v, cap * sizeof *v);
        if (!v)
            return;             //  a sample fewer
        l->v = v;
        l->cap = cap;
    }
    l->v [l->n++] = us;
}

//  utime + stime (clock ticks) from a /proc stat file; 0 if unreadable.
static long
s_stat_ticks (const char *path)
{
    char buf [512];
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf [n] = 0;
    const char *p = strrchr (buf, ')');
    unsigned long ut = 0, st = 0;
    //  after "pid (comm) ": state ppid pgrp session tty tpgid flags
    //  minflt cminflt majflt cmajflt utime stime
    if (p && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
        return (long) (ut + st);
    return 0;
}

//  CPU time (user + system, clock ticks) of process PID, or of its threads
//  whose name starts with COMM.
static long
s_ticks (int pid, const char *comm)
{
    char path [64];
    if (!comm) {
        snprintf (path, sizeof path, "/proc/%d/stat", pid);
        return s_stat_ticks (path);
    }
    snprintf (path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir (path);
    if (!d)
        return 0;
    long ticks = 0;
    struct dirent *e;
    while ((e = readdir (d))) {
        if (e->d_name [0] == '.')
            continue;
        char name [32] = "";
        snprintf (path, sizeof path, "/proc/%d/task/%.16s/comm", pid, e->d_name);
        FILE *f = fopen (path, "r");
        if (!f)
            continue;
        if (!fgets (name, sizeof name, f))
            name [0] = 0;
        fclose (f);
        if (strncmp (name, comm, strlen (comm)) != 0)
            continue;
        snprintf (path, sizeof path, "/proc/%d/task/%.16s/stat", pid, e->d_name);
        ticks += s_stat_ticks (path);
    }
    closedir (d);
    return ticks;
}

//  Open file descriptors of process PID (-1 if unreadable).
static long
s_fds (int pid)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir (path);
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir (d)))
        if (e->d_name [0] != '.')
            n++;
    closedir (d);
    return n;
}

//  CPU of TICKS over MS of wall time, in % of one core.
static double
s_cpu_pct (long ticks, int64_t ms)
{
    return ms > 0 ? (double) ticks * 1000.0 / (double) sysconf (_SC_CLK_TCK) / (double) ms * 100.0 : 0;
}

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
    c->sent_us = tx_clock_us ();
    if (zmq_send (c->sock, sb->data, sb->size, ZMQ_DONTWAIT) < 0)
        return -1;
    s_sent_events += events;
    return 0;
}

//  Reads the replies waiting on c, until none is left (which also rearms
//  the socket's ZMQ_FD); counts acks.  Returns acks read.
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
            if (s_lat)
                s_lat_add (s_lat, tx_clock_us () - c->sent_us);
        }
        else
        if (reply.type == TX_REPLY_ERROR)
            fprintf (stderr, "connections: %s: error reply %.*s\n", c->unit, (int) reply.code_len, reply.code);
        zmq_msg_close (&msg);
    }
    return acks;
}

//  Waits up to TIMEOUT ms for replies on any socket; reads them.  zmq_poll
//  would look at all N sockets on every call; epoll on each socket's ZMQ_FD
//  (which signals "look at ZMQ_EVENTS", drained by s_read) wakes for the
//  ready ones only.  Returns acks read.
static int
s_wait (int ep, conn_t *conns, int timeout, tx_wire_decoder_t *dec, int64_t *in_flight)
{
    struct epoll_event evs [256];
    int acks = 0;
    int n = epoll_wait (ep, evs, 256, timeout < 0 ? 0 : timeout);
    for (int i = 0; i < n; i++)
        acks += s_read (&conns [evs [i].data.u32], dec, in_flight);
    return acks;
}

//  With --barrier DIR --procs P, several processes share the sockets and
//  start each phase together: each makes DIR/phaseK.PID and waits, reading
//  replies, until P such files are there.  Returns 0, -1 on timeout.
static int
s_barrier (const char *dir, int procs, int phase, int ep, conn_t *conns, tx_wire_decoder_t *dec,
           int64_t *in_flight, int64_t *acked)
{
    if (!dir || procs <= 1)
        return 0;
    char path [512], prefix [32];
    snprintf (prefix, sizeof prefix, "phase%d.", phase);
    snprintf (path, sizeof path, "%s/%s%d", dir, prefix, (int) getpid ());
    FILE *f = fopen (path, "w");
    if (!f || fclose (f) != 0) {
        perror (path);
        return -1;
    }
    int64_t deadline = tx_clock_ms () + 600000;
    while (tx_clock_ms () < deadline) {
        DIR *d = opendir (dir);
        int there = 0;
        struct dirent *e;
        while (d && (e = readdir (d)))
            there += strncmp (e->d_name, prefix, strlen (prefix)) == 0;
        if (d)
            closedir (d);
        if (there >= procs)
            return 0;
        *acked += s_wait (ep, conns, 20, dec, in_flight);
    }
    fprintf (stderr, "connections: the other processes never reached phase %d\n", phase);
    return -1;
}

//  Writes the latencies, "TAG µs" a line, to f.
static void
s_lat_write (FILE *f, const char *tag, const lat_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        fprintf (f, "%s %lld\n", tag, (long long) l->v [i]);
}

//  The value of the counter NAME at http://127.0.0.1:PORT/metrics, or -1.
static double
s_metric (int port, const char *name)
{
    if (port <= 0)
        return -1;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (fd < 0 || connect (fd, (struct sockaddr *) &a, sizeof a) != 0) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
    if (write (fd, req, strlen (req)) < 0) {
        close (fd);
        return -1;
    }
    static char buf [262144];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read (fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t) r;
    close (fd);
    buf [n] = 0;
    size_t len = strlen (name);
    for (char *p = buf; (p = strstr (p, name)); p += len)
        if ((p == buf || p [-1] == '\n') && p [len] == ' ')
            return strtod (p + len + 1, NULL);
    return -1;
}

//  Sends a status (revision 1.3) on c: a small backlog, as a producer
//  that is a little behind would.  0 or -1.
static int
s_status (conn_t *c, msgpack_sbuffer *sb, int i)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    tx_status_msg_t st = { .backlog = (uint64_t) (i % 4), .has_verdict = true,
                           .verdict_sec = now.tv_sec - 30, .software = "bench/connections 1.0" };
    if (st.backlog) {
        st.has_oldest = true;
        st.oldest_sec = now.tv_sec - 60;
    }
    if (tx_wire_pack_status (sb, &st, NULL, 0) != 0)
        return -1;
    return zmq_send (c->sock, sb->data, sb->size, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

typedef struct {
    const char *endpoint, *server_key, *keys;
    int sockets, pid, idle_s, active_s, every_ms, events, connect_s;
    int skip;                   //  keys to pass over first (--skip)
    const char *barrier;        //  directory shared with the other processes
    int procs;                  //  processes that meet there
    const char *latency;        //  file for every latency, or NULL
    int status_s;               //  the status phase's length (0: none)
    int status_ms;              //  a status on each socket this often
    int metrics;                //  the collector's metrics port (0: none)
} opts_t;

static int
s_run (const opts_t *o)
{
    const char *endpoint = o->endpoint, *server_key_arg = o->server_key, *keys_path = o->keys;
    int n = o->sockets, pid = o->pid, idle_s = o->idle_s, active_s = o->active_s;
    int every_ms = o->every_ms, events = o->events, connect_s = o->connect_s;
    char server_key [TX_Z85_KEY_LEN + 1], err [256];
    if (tx_keyfile_server_key (server_key_arg, server_key, err, sizeof err) != 0) {
        fprintf (stderr, "connections: %s\n", err);
        return 2;
    }
    //  Two descriptors per socket (its mailbox and its TCP connection) and
    //  some: raise the soft limit, and the hard one where allowed (root).
    rlim_t need = (rlim_t) n * 2 + 64;
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        if (rl.rlim_max < need) {
            struct rlimit up = { need, need };
            if (setrlimit (RLIMIT_NOFILE, &up) == 0)
                rl = up;
        }
        rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    if (getrlimit (RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need) {
        fprintf (stderr, "connections: %d sockets need %lu file descriptors; the limit is %lu (ulimit -n)\n",
                 n, (unsigned long) need, (unsigned long) rl.rlim_cur);
        return 1;
    }
    FILE *f = fopen (keys_path, "r");
    if (!f) {
        perror (keys_path);
        return 1;
    }
    void *ctx = zmq_ctx_new ();
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, n + 64);     //  the default is 1023
    conn_t *conns = calloc ((size_t) n, sizeof *conns);
    int ep = epoll_create1 (EPOLL_CLOEXEC);
    s_gen = tx_uuid_gen_new ();
    tx_wire_decoder_t *dec = tx_wire_decoder_new ();
    lat_t connect_lat = { 0 }, ack_lat = { 0 };
    if (!conns || ep < 0 || !s_gen || !dec)
        return 1;
    int got = 0, skip = o->skip;
    char line [256];
    int64_t connect_start = tx_clock_ms ();
    long ticks0 = s_ticks (pid, NULL), zap0 = s_ticks (pid, "tx-zap");
    while (got < n && fgets (line, sizeof line, f)) {
        char pub [64], sec [64];
        conn_t *c = &conns [got];
        if (sscanf (line, "%64s %63s %63s", c->unit, pub, sec) != 3 || skip-- > 0)
            continue;
        c->sock = zmq_socket (ctx, ZMQ_DEALER);
        if (!c->sock) {
            fprintf (stderr, "connections: socket %d: %s\n", got, zmq_strerror (zmq_errno ()));
            return 1;
        }
        //  As the producer library does (producers/lib/producer.c), but
        //  without ZMQ_IMMEDIATE: the first batch is queued before the
        //  connection is up.
        int zero = 0, hb_ivl = 5000, hb_timeout = 15000, hb_ttl = 15000;
        zmq_setsockopt (c->sock, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt (c->sock, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl);
        zmq_setsockopt (c->sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout);
        zmq_setsockopt (c->sock, ZMQ_HEARTBEAT_TTL, &hb_ttl, sizeof hb_ttl);
        zmq_setsockopt (c->sock, ZMQ_CURVE_SERVERKEY, server_key, TX_Z85_KEY_LEN);
        zmq_setsockopt (c->sock, ZMQ_CURVE_PUBLICKEY, pub, TX_Z85_KEY_LEN);
        zmq_setsockopt (c->sock, ZMQ_CURVE_SECRETKEY, sec, TX_Z85_KEY_LEN);
        if (zmq_connect (c->sock, endpoint) != 0) {
            fprintf (stderr, "connections: connect: %s\n", zmq_strerror (zmq_errno ()));
            return 1;
        }
        int fd;
        size_t fdlen = sizeof fd;
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t) got };
        if (zmq_getsockopt (c->sock, ZMQ_FD, &fd, &fdlen) != 0 || epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            fprintf (stderr, "connections: socket %d: cannot watch its ZMQ_FD\n", got);
            return 1;
        }
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
    //  the message until its connection is up; its ack is the end of the
    //  connection, the CURVE handshake, the ZAP check and one stored batch.
    s_lat = &connect_lat;
    for (int i = 0; i < n; i++) {
        if (s_send (&conns [i], 1, &sb) != 0) {
            fprintf (stderr, "connections: cannot queue on socket %d\n", i);
            return 1;
        }
        conns [i].sent_us = connect_start * 1000;   //  from before its zmq_connect
        in_flight++;
        acked += s_read (&conns [i], dec, &in_flight);
    }
    int64_t deadline = tx_clock_ms () + (int64_t) connect_s * 1000;
    while (in_flight > 0 && tx_clock_ms () < deadline)
        acked += s_wait (ep, conns, 100, dec, &in_flight);
    int64_t connect_ms = tx_clock_ms () - connect_start;
    long connect_ticks = s_ticks (pid, NULL) - ticks0, connect_zap = s_ticks (pid, "tx-zap") - zap0;
    long connected = (long) acked;
    s_mem (pid, &rss, &connect_hwm);
    long connect_fds = s_fds (pid);
    if (s_barrier (o->barrier, o->procs, 1, ep, conns, dec, &in_flight, &acked) != 0)
        return 1;

    //  Phase 2: idle (heartbeats only).
    s_lat = NULL;
    int64_t idle_start = tx_clock_ms ();
    ticks0 = s_ticks (pid, NULL);
    deadline = idle_start + (int64_t) idle_s * 1000;
    for (int64_t now = idle_start; now < deadline; now = tx_clock_ms ())
        acked += s_wait (ep, conns, (int) (deadline - now), dec, &in_flight);
    long idle_ticks = s_ticks (pid, NULL) - ticks0;
    int64_t idle_ms = tx_clock_ms () - idle_start;
    s_mem (pid, &idle_rss, &idle_hwm);
    long idle_fds = s_fds (pid);
    if (s_barrier (o->barrier, o->procs, 2, ep, conns, dec, &in_flight, &acked) != 0)
        return 1;

    //  Phase 2b: idle but for a status on every socket every status_ms,
    //  spread evenly (socket i at start + i * status_ms / n, + status_ms ...).
    long status_sent = 0, status_ticks = 0, status_thread = 0;
    int64_t status_ms_run = 0;
    long long m_recv = -1, m_writes = -1, m_rows = -1;
    double m_write_s = -1;
    if (o->status_s > 0) {
        double r0 = s_metric (o->metrics, "tongxin_status_received_total");
        double w0 = s_metric (o->metrics, "tongxin_status_writes_total");
        double q0 = s_metric (o->metrics, "tongxin_status_rows_written_total");
        double t0 = s_metric (o->metrics, "tongxin_status_write_seconds_total");
        int64_t sstart = tx_clock_ms (), round = sstart;
        ticks0 = s_ticks (pid, NULL);
        long th0 = s_ticks (pid, "tx-status");
        int cur = 0;
        deadline = sstart + (int64_t) o->status_s * 1000;
        for (int64_t now = sstart; now < deadline; now = tx_clock_ms ()) {
            int64_t due;
            while ((due = round + (int64_t) cur * o->status_ms / n) <= now) {
                status_sent += s_status (&conns [cur], &sb, cur) == 0;
                if (++cur == n) {
                    cur = 0;
                    round += o->status_ms;
                }
            }
            int64_t wait = (due < deadline ? due : deadline) - now;
            acked += s_wait (ep, conns, (int) wait, dec, &in_flight);
        }
        status_ms_run = tx_clock_ms () - sstart;
        status_ticks = s_ticks (pid, NULL) - ticks0;
        status_thread = s_ticks (pid, "tx-status") - th0;
        if (r0 >= 0) {
            m_recv = (long long) (s_metric (o->metrics, "tongxin_status_received_total") - r0);
            m_writes = (long long) (s_metric (o->metrics, "tongxin_status_writes_total") - w0);
            m_rows = (long long) (s_metric (o->metrics, "tongxin_status_rows_written_total") - q0);
            m_write_s = s_metric (o->metrics, "tongxin_status_write_seconds_total") - t0;
        }
        if (s_barrier (o->barrier, o->procs, 4, ep, conns, dec, &in_flight, &acked) != 0)
            return 1;
    }

    //  Phase 3: a trickle on every socket, spread over the interval; each
    //  batch's latency is from its zmq_send to its ack.
    s_lat = &ack_lat;
    int64_t start = tx_clock_ms ();
    ticks0 = s_ticks (pid, NULL);
    long self0 = s_ticks (getpid (), NULL);
    for (int i = 0; i < n; i++)
        conns [i].next_ms = -(start + (int64_t) i * every_ms / n);
    int64_t end = start + (int64_t) active_s * 1000;
    for (;;) {
        int64_t now = tx_clock_ms ();
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
                //  A send may have taken the socket's wake-up: read now.
                acked += s_read (c, dec, &in_flight);
            }
            else
            if (-c->next_ms < next)
                next = -c->next_ms;
        }
        acked += s_wait (ep, conns, (int) (next - tx_clock_ms ()), dec, &in_flight);
    }
    int64_t active_ms = tx_clock_ms () - start;
    long active_ticks = s_ticks (pid, NULL) - ticks0, self_ticks = s_ticks (getpid (), NULL) - self0;
    s_lat = NULL;
    if (s_barrier (o->barrier, o->procs, 3, ep, conns, dec, &in_flight, &acked) != 0)
        return 1;
    s_mem (pid, &active_rss, &active_hwm);
    long active_fds = s_fds (pid);
    qsort (connect_lat.v, connect_lat.n, sizeof (int64_t), s_cmp64);
    qsort (ack_lat.v, ack_lat.n, sizeof (int64_t), s_cmp64);
    if (o->latency) {
        FILE *lf = fopen (o->latency, "w");
        if (!lf) {
            perror (o->latency);
            return 1;
        }
        s_lat_write (lf, "connect", &connect_lat);
        s_lat_write (lf, "ack", &ack_lat);
        if (fclose (lf) != 0) {
            perror (o->latency);
            return 1;
        }
    }
    printf ("sockets=%d connected=%ld events=%ld acked=%lld missing=%lld connect_hwm_kb=%ld idle_rss_kb=%ld "
            "idle_hwm_kb=%ld active_rss_kb=%ld active_hwm_kb=%ld "
            "connect_s=%.1f connect_p50_ms=%.0f connect_p99_ms=%.0f connect_cpu_pct=%.1f connect_zap_cpu_pct=%.1f "
            "connect_fds=%ld idle_s=%.1f idle_cpu_pct=%.1f idle_fds=%ld active_s=%.1f active_cpu_pct=%.1f "
            "active_fds=%ld batches_timed=%zu ack_p50_ms=%.1f ack_p99_ms=%.1f ack_max_ms=%.1f self_cpu_pct=%.1f "
            "status_s=%.1f status_sent=%ld status_cpu_pct=%.1f status_thread_cpu_pct=%.2f "
            "status_received=%lld status_writes=%lld status_rows=%lld status_write_s=%.3f\n",
            n, connected, s_sent_events, (long long) acked, (long long) in_flight, connect_hwm, idle_rss,
            idle_hwm, active_rss, active_hwm,
            (double) connect_ms / 1000.0, s_pct_ms (&connect_lat, 50), s_pct_ms (&connect_lat, 99),
            s_cpu_pct (connect_ticks, connect_ms), s_cpu_pct (connect_zap, connect_ms), connect_fds,
            (double) idle_ms / 1000.0, s_cpu_pct (idle_ticks, idle_ms), idle_fds,
            (double) active_ms / 1000.0, s_cpu_pct (active_ticks, active_ms), active_fds,
            ack_lat.n, s_pct_ms (&ack_lat, 50), s_pct_ms (&ack_lat, 99), s_pct_ms (&ack_lat, 100),
            s_cpu_pct (self_ticks, active_ms),
            (double) status_ms_run / 1000.0, status_sent, s_cpu_pct (status_ticks, status_ms_run),
            s_cpu_pct (status_thread, status_ms_run), m_recv, m_writes, m_rows, m_write_s);
    for (int i = 0; i < n; i++)
        zmq_close (conns [i].sock);
    close (ep);
    msgpack_sbuffer_destroy (&sb);
    tx_wire_decoder_destroy (&dec);
    tx_uuid_gen_destroy (&s_gen);
    free (connect_lat.v);
    free (ack_lat.v);
    free (conns);
    zmq_ctx_term (ctx);
    return connected == n && in_flight == 0 ? 0 : 1;
}

int
main (int argc, char **argv)
{
    const char *db = NULL, *keys = NULL, *prefix = "conn-";
    opts_t o = { .sockets = 1000, .idle_s = 10, .active_s = 10, .every_ms = 1000, .events = 10,
                 .connect_s = 120, .procs = 1, .status_ms = 60000 };
    static struct option lo [] = {
        { "db", required_argument, 0, 'd' }, { "keys", required_argument, 0, 'k' },
        { "sockets", required_argument, 0, 'n' }, { "prefix", required_argument, 0, 'p' },
        { "endpoint", required_argument, 0, 'e' }, { "server-key", required_argument, 0, 'K' },
        { "pid", required_argument, 0, 'P' }, { "idle-s", required_argument, 0, 'i' },
        { "active-s", required_argument, 0, 'a' }, { "every-ms", required_argument, 0, 'm' },
        { "events", required_argument, 0, 'E' }, { "connect-s", required_argument, 0, 'c' },
        { "skip", required_argument, 0, 's' }, { "barrier", required_argument, 0, 'b' },
        { "procs", required_argument, 0, 'r' }, { "latency", required_argument, 0, 'l' },
        { "status-s", required_argument, 0, 'S' }, { "status-ms", required_argument, 0, 'M' },
        { "metrics", required_argument, 0, 'x' },
        { 0, 0, 0, 0 }
    };
    int c;
    while ((c = getopt_long (argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
            case 'd': db = optarg; break;
            case 'k': o.keys = keys = optarg; break;
            case 'n': o.sockets = atoi (optarg); break;
            case 'p': prefix = optarg; break;
            case 'e': o.endpoint = optarg; break;
            case 'K': o.server_key = optarg; break;
            case 'P': o.pid = atoi (optarg); break;
            case 'i': o.idle_s = atoi (optarg); break;
            case 'a': o.active_s = atoi (optarg); break;
            case 'm': o.every_ms = atoi (optarg); break;
            case 'E': o.events = atoi (optarg); break;
            case 'c': o.connect_s = atoi (optarg); break;
            case 's': o.skip = atoi (optarg); break;
            case 'b': o.barrier = optarg; break;
            case 'r': o.procs = atoi (optarg); break;
            case 'l': o.latency = optarg; break;
            case 'S': o.status_s = atoi (optarg); break;
            case 'M': o.status_ms = atoi (optarg) > 0 ? atoi (optarg) : 60000; break;
            case 'x': o.metrics = atoi (optarg); break;
            default: return 2;
        }
    }
    const char *mode = optind < argc ? argv [optind] : "";
    if (o.sockets < 1 || o.sockets > 10000 || o.every_ms < 1 || o.events < 1 || o.events > 16
    ||  o.connect_s < 1 || o.skip < 0 || o.procs < 1) {
        fprintf (stderr, "connections: --sockets 1..10000, --every-ms >= 1, --events 1..16, --connect-s >= 1,\n"
                         "             --skip >= 0, --procs >= 1\n");
        return 2;
    }
    if (strcmp (mode, "register") == 0 && db && keys)
        return s_register (db, keys, o.sockets, prefix);
    if (strcmp (mode, "run") == 0 && o.endpoint && o.server_key && o.keys && o.pid > 0)
        return s_run (&o);
    fprintf (stderr, "usage: connections register --db CONNINFO --keys FILE [--sockets N] [--prefix P]\n"
                     "       connections run --endpoint E --server-key K --keys FILE --pid PID [--sockets N]\n"
                     "                       [--connect-s S] [--idle-s S] [--active-s S] [--every-ms M]\n"
                     "                       [--events E] [--skip K] [--barrier DIR --procs P]\n"
                     "                       [--latency FILE] [--status-s S [--status-ms M] [--metrics PORT]]\n");
    return 2;
}
