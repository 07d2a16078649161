/*  server.c: the receive loop, the ZAP handler, signals and systemd.  */
#include "server.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <zmq.h>

#include "guard.h"
#include "job.h"
#include "keyfile.h"
#include "log.h"
#include "metrics.h"
#include "refusals.h"
#include "utf8.h"
#include "uuid.h"
#include "validate.h"
#include "writer.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93   //  stable in libzmq 4.3, its macro is DRAFT-only
#endif

#define ACK_ENDPOINT "inproc://tongxin-acks"
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MON_ENDPOINT "inproc://tongxin-monitor"
#define MAX_PER_LOOP 64             //  messages read per loop before looking at acks

static volatile sig_atomic_t s_stop;
static volatile sig_atomic_t s_hup;

static void s_on_stop (int sig) { (void) sig; s_stop = 1; }
static void s_on_hup (int sig) { (void) sig; s_hup = 1; }

//  Failed handshakes are logged at most once per HS_LOG_MS per thread, with
//  the number left out since: a refused producer retries every reconnect
//  interval, and a crowd of strangers must not flood the log.
#define HS_LOG_MS 10000

typedef struct {
    int64_t last_ms;                //  last line written
    long suppressed;                //  failures not logged since
} tx_hs_log_t;

//  Counts a failed handshake by cause and logs it, sparingly.
static void
s_handshake_failed (tx_metrics_t *m, tx_hs_log_t *log, tx_hs_cause_t cause, const char *key,
                    const char *peer)
{
    atomic_fetch_add (&m->handshakes_failed [cause], 1);
    int64_t now = tx_clock_ms ();
    if (log->last_ms && now - log->last_ms < HS_LOG_MS) {
        log->suppressed++;
        return;
    }
    static const char *hints [TX_HS_COUNT_] = {
        [TX_HS_UNKNOWN_KEY] = "the client's key is not registered: tongxin-admin key issue",
        [TX_HS_REVOKED_KEY] = "the client's key was revoked: issue the unit a new one",
        [TX_HS_BAD_MECHANISM] = "the client does not use CURVE",
        [TX_HS_BAD_DOMAIN] = "the ZAP domain differs from zap-domain",
        [TX_HS_LOOKUP_LIMITED] = "too many unknown keys at once: lookups are limited, the client retries",
        [TX_HS_DATABASE_UNAVAILABLE] = "the database did not answer the key lookup",
        [TX_HS_BAD_ZAP_REQUEST] = "malformed ZAP request",
        [TX_HS_DECRYPT_FAILED] = "the client's --server-key is not this collector's public key (or the bytes were corrupted)",
        [TX_HS_MECHANISM_MISMATCH] = "the client uses another security mechanism (e.g. --insecure against CURVE)",
        [TX_HS_PROTOCOL_ERROR] = "the client broke the ZMTP handshake",
        [TX_HS_INCOMPLETE] = "the connection closed before its handshake completed (timeout, shed, or the client left)",
    };
    tx_log (TX_LOG_WARN, "handshake failed", "cause=%s key=%s peer=%s suppressed=%ld hint=\"%s\"",
            tx_hs_cause_str (cause), key && *key ? key : "-", peer && *peer ? peer : "-",
            log->suppressed, hints [cause]);
    log->last_ms = now;
    log->suppressed = 0;
}

typedef struct {
    const tx_config_t *cfg;
    void *ctx;
    tx_writer_t *writer;
    tx_metrics_t *m;
    atomic_int stop;
    pthread_t thread;
    tx_hs_log_t log;                //  rate limit for refusals
    PGconn *db;                     //  own connection: new keys and revocations count at once
    int64_t db_retry_ms;            //  next connection attempt
    int64_t budget_ms;              //  window of the lookup budgets (1 s)
    int budget;                     //  lookups of unknown keys left in it
    int known_budget;               //  lookups of keys the snapshot knows left in it
} zap_t;

//  Database lookups per second.  Strangers get few; known keys more (a
//  lookup only catches a revocation newer than the snapshot, which the
//  per-batch recheck catches too), so a stolen key reconnecting in a loop
//  cannot load the database either.
#define ZAP_UNKNOWN_LOOKUPS_PER_S 20
#define ZAP_KNOWN_LOOKUPS_PER_S 200
#define ZAP_STATEMENT_TIMEOUT "1000"    //  ms: a handshake must not wait on a lock

//  The unit of a key, from the database.  Returns 1 live (unit set),
//  2 revoked, 0 not found, -1 the database could not answer.
static int
s_zap_lookup (zap_t *z, const char *z85, char *unit, size_t unitlen)
{
    int64_t now = tx_clock_ms ();
    if (!z->db || PQstatus (z->db) != CONNECTION_OK) {
        if (now < z->db_retry_ms)
            return -1;
        if (z->db)
            PQfinish (z->db);
        const char *keys [] = { "dbname", "application_name", "connect_timeout", NULL };
        const char *vals [] = { z->cfg->db, "tongxin-collectord-zap", "3", NULL };
        z->db = PQconnectdbParams (keys, vals, 1);
        if (PQstatus (z->db) != CONNECTION_OK) {
            z->db_retry_ms = now + 5000;
            return -1;
        }
        //  A lookup blocked (a lock on unit_keys, a stalled server) would
        //  hold every handshake behind it past handshake-timeout.
        PQclear (PQexec (z->db, "SET statement_timeout = " ZAP_STATEMENT_TIMEOUT));
    }
    const char *params [] = { z85 };
    PGresult *r = PQexecParams (z->db,
        "SELECT unit_code, revoked_at IS NOT NULL FROM tongxin.unit_keys WHERE public_key = $1",
        1, NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus (r) == PGRES_TUPLES_OK) {
        rc = PQntuples (r) == 1;
        if (rc && strcmp (PQgetvalue (r, 0, 1), "t") == 0)
            rc = 2;
        else
        if (rc)
            snprintf (unit, unitlen, "%s", PQgetvalue (r, 0, 0));
    }
    PQclear (r);
    return rc;
}

//  ----------------------------------------------------------------- ZAP

static void
s_zap_reply (void *sock, zmq_msg_t *req_id, const char *status, const char *text,
             const char *user, const char *key)
{
    zmq_send (sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_msg_send (req_id, sock, ZMQ_SNDMORE);
    zmq_send (sock, status, strlen (status), ZMQ_SNDMORE);
    zmq_send (sock, text, strlen (text), ZMQ_SNDMORE);
    zmq_send (sock, user, strlen (user), ZMQ_SNDMORE);
    //  Metadata: the key, so every batch can be checked against revocation.
    uint8_t meta [64];
    size_t n = 0;
    if (key) {
        const char *name = "X-Key";
        meta [n++] = (uint8_t) strlen (name);
        memcpy (meta + n, name, strlen (name));
        n += strlen (name);
        uint32_t vlen = (uint32_t) strlen (key);
        meta [n++] = (uint8_t) (vlen >> 24);
        meta [n++] = (uint8_t) (vlen >> 16);
        meta [n++] = (uint8_t) (vlen >> 8);
        meta [n++] = (uint8_t) vlen;
        memcpy (meta + n, key, vlen);
        n += vlen;
    }
    zmq_send (sock, meta, n, 0);
}

//  Decides one ZAP request (RFC 27: version, request id, domain, address,
//  identity, mechanism, credentials).  Returns the status code; for 200
//  sets user (the unit) and z85 (the key), otherwise *cause.
static const char *
s_zap_decide (zap_t *z, zmq_msg_t *part, int n, char *user, size_t userlen, char *z85,
              tx_hs_cause_t *cause)
{
    #define PART_IS(i, text) (zmq_msg_size (&part [i]) == strlen (text) \
                              && memcmp (zmq_msg_data (&part [i]), text, strlen (text)) == 0)
    if (n != 7 || !PART_IS (0, "1.0")) {
        *cause = TX_HS_BAD_ZAP_REQUEST;
        return "500";
    }
    if (!PART_IS (2, z->cfg->zap_domain)) {
        *cause = TX_HS_BAD_DOMAIN;
        return "400";
    }
    if (!PART_IS (5, "CURVE") || zmq_msg_size (&part [6]) != 32) {
        *cause = TX_HS_BAD_MECHANISM;
        return "400";
    }
    #undef PART_IS
    zmq_z85_encode (z85, zmq_msg_data (&part [6]), 32);
    tx_registry_t *reg = tx_writer_registry (z->writer);
    const char *known = reg ? tx_registry_key_unit (reg, z85) : NULL;
    bool revoked = reg && tx_registry_key_revoked (reg, z85);
    //  Ask the database, so that a key issued or revoked a moment ago
    //  counts at once.  Keys the snapshot does not know get a small
    //  budget of lookups, so a flood of strangers cannot load it.
    int64_t now = tx_clock_ms ();
    if (now - z->budget_ms >= 1000) {
        z->budget_ms = now;
        z->budget = ZAP_UNKNOWN_LOOKUPS_PER_S;
        z->known_budget = ZAP_KNOWN_LOOKUPS_PER_S;
    }
    char unit [65] = "";
    int found = -1;
    bool asked = false;
    if (revoked)
        found = 2;                //  revocation is final: no lookup
    else
    if (known ? z->known_budget-- > 0 : z->budget-- > 0) {
        asked = true;
        found = s_zap_lookup (z, z85, unit, sizeof unit);
    }
    if (found < 0 && known) {     //  no answer: trust the snapshot
        snprintf (unit, sizeof unit, "%s", known);
        found = 1;
    }
    if (found == 1 && !known) {
        //  A key (and maybe a unit) newer than the snapshot: reload
        //  before the handshake completes, so the producer's first
        //  batch is validated against a registry that knows it.
        tx_writer_reload_wait (z->writer, 2000);
    }
    tx_registry_unref (&reg);
    switch (found) {
        case 1:
            snprintf (user, userlen, "%s", unit);
            return "200";
        case 2:
            *cause = TX_HS_REVOKED_KEY;
            return "400";
        case 0:
            *cause = TX_HS_UNKNOWN_KEY;
            return "400";
        default:
            //  Cannot decide: 500, so the client is not told its key is bad.
            *cause = asked ? TX_HS_DATABASE_UNAVAILABLE : TX_HS_LOOKUP_LIMITED;
            return "500";
    }
}

static void *
s_zap_thread (void *arg)
{
    zap_t *z = arg;
    void *sock = zmq_socket (z->ctx, ZMQ_REP);
    int linger = 0, timeout = 200;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    if (zmq_bind (sock, ZAP_ENDPOINT) != 0) {
        tx_log (TX_LOG_ERROR, "cannot bind the ZAP handler", "err=\"%s\"", zmq_strerror (zmq_errno ()));
        zmq_close (sock);
        return NULL;
    }
    while (!atomic_load (&z->stop)) {
        zmq_msg_t part [7];
        int n = 0, more = 1;
        bool ok = true;
        while (more) {
            zmq_msg_t msg;
            zmq_msg_init (&msg);
            if (zmq_msg_recv (&msg, sock, 0) < 0) {
                zmq_msg_close (&msg);
                ok = false;
                break;
            }
            more = zmq_msg_more (&msg);
            if (n < 7)
                part [n++] = msg;
            else
                zmq_msg_close (&msg);
        }
        if (!ok) {
            for (int i = 0; i < n; i++)
                zmq_msg_close (&part [i]);
            if (n == 0)
                continue;       //  timeout: look at the stop flag
            continue;
        }
        char user [65] = "", z85 [TX_Z85_KEY_LEN + 1] = "";
        tx_hs_cause_t cause;
        const char *status = s_zap_decide (z, part, n, user, sizeof user, z85, &cause);
        if (*status != '2') {
            char addr [64] = "";
            if (n >= 4)
                snprintf (addr, sizeof addr, "%.*s", (int) zmq_msg_size (&part [3]),
                          (const char *) zmq_msg_data (&part [3]));
            s_handshake_failed (z->m, &z->log, cause, z85, addr);
        }
        const char *text = *status == '2' ? "OK" : tx_hs_cause_str (cause);
        if (n >= 2)
            s_zap_reply (sock, &part [1], status, text, user, *status == '2' ? z85 : NULL);
        else {
            //  Malformed request: REP still owes an answer.
            zmq_msg_t empty;
            zmq_msg_init (&empty);
            s_zap_reply (sock, &empty, "500", "malformed ZAP request", "", NULL);
            zmq_msg_close (&empty);
        }
        for (int i = 0; i < n; i++)
            zmq_msg_close (&part [i]);
    }
    zmq_close (sock);
    if (z->db)
        PQfinish (z->db);
    return NULL;
}

//  ----------------------------------------------------------------- receive

typedef struct {
    const tx_config_t *cfg;
    void *router;
    tx_queue_t *queue;
    tx_writer_t *writer;
    tx_metrics_t *m;
    tx_wire_decoder_t *dec;
    tx_buf_t json;                  //  scratch for attribute JSON
    tx_refusals_t *refusals;        //  what of the refusals is kept, per sender
    tx_guard_t *guard;              //  connections still in their handshake
    tx_hs_log_t hs_log;             //  rate limit for failed handshakes
} recv_t;

static int64_t
s_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Appends the binary COPY row of an accepted event to its job.
static int
s_copy_row (recv_t *r, tx_job_t *job, const tx_event_t *ev, const tx_registry_t *reg)
{
    r->json.len = 0;
    if (tx_buf_putc (&r->json, 1) != 0 || tx_validate_attrs_json (reg, ev, &r->json) != 0)
        return -1;
    return tx_writer_copy_row (&job->rows, ev, job->sender, strlen (job->sender),
                               r->json.data, r->json.len);
}

//  Records one refusal in the job, as much of it as the sender's budget
//  keeps (refusals.h): its first bytes, or nothing but a count.  0, or -1
//  out of memory.
static int
s_record (recv_t *r, tx_job_t *job, int32_t index, const uint8_t *id, int code,
          const char *unit, size_t unit_len, const char *msg, const void *raw, size_t raw_len)
{
    int64_t now = tx_clock_ms ();
    uint64_t rows, bytes;
    if (tx_refusals_take_summary (r->refusals, job->sender, now, &rows, &bytes)
    &&  tx_job_note_not_kept (job, rows, bytes) != 0)
        return -1;
    long keep = tx_refusals_keep (r->refusals, job->sender, now, raw_len, index < 0);
    if (keep < 0) {
        atomic_fetch_add (&r->m->refusals_not_kept, 1);
        atomic_fetch_add (&r->m->refusals_not_kept_bytes, raw_len);
        return tx_job_answer_only (job, index, code, msg);
    }
    if ((size_t) keep < raw_len)
        atomic_fetch_add (&r->m->refusal_bytes_cut, raw_len - (size_t) keep);
    return tx_job_reject (job, index, id, code, unit, unit_len, msg, raw, raw_len, (size_t) keep);
}

//  A whole message refused: record (a prefix of) its bytes and answer an error.
static tx_job_t *
s_refuse (recv_t *r, tx_job_t *job, int error, uint64_t batch_id, const char *why,
          const void *data, size_t size)
{
    if (!job)
        return NULL;
    job->error = error;
    job->batch_id = batch_id;
    if (s_record (r, job, -1, NULL, error, NULL, 0, why, data, size) != 0)
        tx_job_destroy (&job);
    return job;
}

//  Builds the job for one batch frame.  NULL: nothing to answer (dropped).
static tx_job_t *
s_process (recv_t *r, const uint8_t *rid, size_t rid_len, zmq_msg_t *payload, const char *sender,
           const char *auth_unit, tx_registry_t *reg)
{
    const uint8_t *data = zmq_msg_data (payload);
    size_t size = zmq_msg_size (payload);
    tx_batch_t batch;
    char err [160];
    int rc = tx_wire_decode_batch (data, size, &batch, r->dec, err, sizeof err);
    tx_job_t *job = tx_job_new (rc == TX_WIRE_OK ? batch.count : 0);
    if (!job)
        return NULL;
    memcpy (job->rid, rid, rid_len);
    job->rid_len = rid_len;
    snprintf (job->sender, sizeof job->sender, "%s", sender);
    job->received_us = tx_clock_us ();
    atomic_fetch_add (&r->m->batches, 1);
    if (rc == TX_WIRE_NOMEM) {
        tx_log (TX_LOG_ERROR, "out of memory decoding a batch; dropped unanswered", NULL);
        tx_job_destroy (&job);
        return NULL;
    }
    if (rc != TX_WIRE_OK)
        return s_refuse (r, job, tx_wire_rc_error (rc), batch.batch_id, err, data, size);
    job->batch_id = batch.batch_id;
    atomic_fetch_add (&r->m->events_received, batch.count);

    tx_validate_ctx_t vctx = { auth_unit, s_wall_ms (), (int64_t) r->cfg->max_skew * 1000 };
    for (size_t i = 0; i < batch.count; i++) {
        const tx_event_t *ev = &batch.events [i];
        int code = ev->reject;
        char msg [TX_REJECT_MSG_MAX + 160];
        msg [0] = 0;
        if (ev->reject_msg)
            snprintf (msg, sizeof msg, "%s", ev->reject_msg);
        if (code == TX_REJECT_NONE)
            code = tx_validate_event (reg, ev, &vctx, msg, sizeof msg);
        if (code != TX_REJECT_NONE) {
            static const uint8_t zero [16];
            bool has_id = memcmp (ev->id, zero, 16) != 0;
            //  The claimed unit goes into a text column: only if it is clean.
            bool unit_ok = ev->unit && ev->unit_len <= TX_WIRE_MAX_CODE && tx_utf8_valid (ev->unit, ev->unit_len);
            if (s_record (r, job, (int32_t) i, has_id ? ev->id : NULL, code,
                          unit_ok ? ev->unit : NULL, unit_ok ? ev->unit_len : 0, msg,
                          ev->raw, ev->raw_len) != 0)
                goto nomem;
            continue;
        }
        //  The frame is kept once, so that an event the database refuses
        //  after all is recorded with its bytes (writer.c).
        if (!job->payload.len && !(job->payload = tx_job_keep (job, data, size)).len)
            goto nomem;
        tx_accepted_t *a = &job->accepted [job->n_accepted];
        a->index = (uint32_t) i;
        memcpy (a->id, ev->id, 16);
        a->raw = (tx_span_t) { job->payload.off + (size_t) (ev->raw - data), ev->raw_len };
        a->unit = tx_job_keep (job, ev->unit, ev->unit_len);
        if (!a->unit.len || s_copy_row (r, job, ev, reg) != 0)
            goto nomem;
        job->n_accepted++;
    }
    return job;
nomem:
    tx_log (TX_LOG_ERROR, "out of memory building a batch; dropped unanswered", NULL);
    tx_job_destroy (&job);
    return NULL;
}

//  Reads one message from the ROUTER and hands it on.  0, or -1 if none.
static int
s_receive (recv_t *r)
{
    zmq_msg_t rid, payload;
    zmq_msg_init (&rid);
    if (zmq_msg_recv (&rid, r->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&rid);
        return -1;
    }
    zmq_msg_init (&payload);
    bool bad = !zmq_msg_more (&rid) || zmq_msg_recv (&payload, r->router, 0) < 0;
    if (!bad && zmq_msg_more (&payload)) {
        //  Exactly one payload frame: drain and drop the rest.
        bad = true;
        zmq_msg_t extra;
        zmq_msg_init (&extra);
        while (zmq_msg_recv (&extra, r->router, 0) >= 0 && zmq_msg_more (&extra))
            ;
        zmq_msg_close (&extra);
    }
    //  A message came through: its connection has authenticated.
    int srcfd = zmq_msg_get (&payload, ZMQ_SRCFD);
    if (srcfd >= 0)
        tx_guard_message (r->guard, srcfd);
    if (bad) {
        atomic_fetch_add (&r->m->messages_dropped_bad_frames, 1);
        zmq_msg_close (&rid);
        zmq_msg_close (&payload);
        return 0;
    }
    char sender [160];
    const char *auth_unit = NULL;
    tx_registry_t *reg = tx_writer_registry (r->writer);
    tx_job_t *job = NULL;
    if (!r->cfg->insecure) {
        const char *user = zmq_msg_gets (&payload, "User-Id");
        const char *key = zmq_msg_gets (&payload, "X-Key");
        if (!user || !*user || !key) {
            atomic_fetch_add (&r->m->messages_dropped_no_user, 1);
            goto done;
        }
        snprintf (sender, sizeof sender, "%s", user);
        auth_unit = user;
        //  Revocation reaches open connections here: ZAP ran only at the
        //  handshake.  A key revoked in the current snapshot (reloaded every
        //  registry-refresh seconds, and on SIGHUP) is refused.  A key newer
        //  than the snapshot passed ZAP's database check and is let through.
        const char *unit = reg ? tx_registry_key_unit (reg, key) : NULL;
        if ((reg && tx_registry_key_revoked (reg, key)) || (unit && strcmp (unit, user) != 0)) {
            job = tx_job_new (0);
            if (job) {
                memcpy (job->rid, zmq_msg_data (&rid), zmq_msg_size (&rid));
                job->rid_len = zmq_msg_size (&rid);
                snprintf (job->sender, sizeof job->sender, "%s", sender);
                job = s_refuse (r, job, TX_ERROR_UNAUTHORIZED, 0, "the unit's key has been revoked",
                                zmq_msg_data (&payload), zmq_msg_size (&payload));
            }
            goto push;
        }
    }
    else {
        const char *peer = zmq_msg_gets (&payload, "Peer-Address");
        snprintf (sender, sizeof sender, "insecure:%s", peer ? peer : "unknown");
    }
    if (!reg)
        goto done;
    job = s_process (r, zmq_msg_data (&rid), zmq_msg_size (&rid), &payload, sender, auth_unit, reg);
push:
    if (job) {
        tx_queue_push (r->queue, job);
        size_t qj, qb;
        tx_queue_stats (r->queue, &qj, &qb);
        atomic_store (&r->m->queue_jobs, (long long) qj);
        atomic_store (&r->m->queue_bytes, (long long) qb);
    }
done:
    tx_registry_unref (&reg);
    zmq_msg_close (&rid);
    zmq_msg_close (&payload);
    return 0;
}

//  Forwards one reply from the writer to its producer.  0, or -1 if none.
static int
s_forward_ack (recv_t *r, void *acks)
{
    zmq_msg_t rid, body;
    zmq_msg_init (&rid);
    if (zmq_msg_recv (&rid, acks, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&rid);
        return -1;
    }
    zmq_msg_init (&body);
    zmq_msg_recv (&body, acks, 0);
    //  ROUTER_MANDATORY: a gone or full peer is EHOSTUNREACH / EAGAIN.  The
    //  ack is dropped; the producer resends and gets "duplicate".
    if (zmq_msg_send (&rid, r->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_msg_send (&body, r->router, ZMQ_DONTWAIT) < 0)
        atomic_fetch_add (&r->m->acks_dropped, 1);
    else
        atomic_fetch_add (&r->m->acks_sent, 1);
    zmq_msg_close (&rid);
    zmq_msg_close (&body);
    return 0;
}

//  The monitor events the receive loop follows.
#define MON_EVENTS (ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED \
                    | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)

//  A handshake failure libzmq reports (ZAP refusals are counted by the ZAP
//  handler, with their own cause).
static void
s_monitor_handshake_failed (recv_t *r, uint16_t event, uint32_t value, const char *endpoint)
{
    tx_hs_cause_t cause = TX_HS_INCOMPLETE;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        cause = value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC ? TX_HS_DECRYPT_FAILED
              : value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH ? TX_HS_MECHANISM_MISMATCH
              : TX_HS_PROTOCOL_ERROR;
    s_handshake_failed (r->m, &r->hs_log, cause, NULL, endpoint);
}

//  Reads one monitor event; 0, or -1 when none was waiting.
static int
s_monitor_event (recv_t *r, void *mon)
{
    zmq_msg_t ev, addr;
    zmq_msg_init (&ev);
    zmq_msg_init (&addr);
    int rc = -1;
    if (zmq_msg_recv (&ev, mon, ZMQ_DONTWAIT) >= 0 && zmq_msg_recv (&addr, mon, 0) >= 0
    &&  zmq_msg_size (&ev) >= 6) {
        rc = 0;
        uint16_t e;
        uint32_t value;
        memcpy (&e, zmq_msg_data (&ev), 2);
        memcpy (&value, (const uint8_t *) zmq_msg_data (&ev) + 2, 4);
        if (e == ZMQ_EVENT_ACCEPTED) {
            atomic_fetch_add (&r->m->connected, 1);
            tx_guard_accepted (r->guard, (int) value, tx_clock_ms ());
        }
        else
        if (e == ZMQ_EVENT_DISCONNECTED) {
            atomic_fetch_sub (&r->m->connected, 1);
            tx_guard_closed (r->guard, (int) value);
        }
        else {
            char endpoint [128];
            snprintf (endpoint, sizeof endpoint, "%.*s", (int) zmq_msg_size (&addr),
                      (const char *) zmq_msg_data (&addr));
            s_monitor_handshake_failed (r, e, value, endpoint);
        }
    }
    zmq_msg_close (&ev);
    zmq_msg_close (&addr);
    return rc;
}

//  Reads the monitor's events, then closes the oldest handshaking
//  connections beyond the limit; only once every waiting event is read,
//  so that no descriptor is acted on after libzmq has closed it.
static void
s_monitor_drain (recv_t *r, void *mon)
{
    for (int i = 0; i < 100000; i++)
        if (s_monitor_event (r, mon) != 0) {
            tx_guard_enforce (r->guard, tx_clock_ms ());
            return;
        }
}

static int
s_setup_router (const tx_config_t *cfg, void *router, const tx_keyfile_t *key)
{
    int one = 1, zero = 0;
    int64_t maxmsg = TX_WIRE_MAX_FRAME + 64;     //  + CURVE's 33 bytes and slack
    int hwm = cfg->peer_hwm, sndhwm = 1000;
    //  No ZMTP PINGs of our own: each producer pings every 5 s with a TTL
    //  of 15 s (docs/protocol.md 4.4), and libzmq closes a connection whose
    //  TTL runs out, so a dead producer is dropped all the same.  Our own
    //  PINGs would cost O(connections) each: libzmq 4.3 cancels the PONG
    //  timeout timer by a linear search of all timers, and with 10,000
    //  producers that kept the I/O thread at 100% CPU while idle
    //  (docs/scaling.md).  TCP keepalive, done by the kernel, closes the
    //  dead connections of a client that does not ping.
    int ka = 1, ka_idle = 60, ka_intvl = 10, ka_cnt = 3;
    //  Room in the listen queue for a crowd reconnecting at once (after a
    //  restart): with libzmq's 100, 10,000 producers overflowed it and
    //  waited out SYN retransmits (1, 3, 7, 15 s ...).  Linux caps it at
    //  net.core.somaxconn.
    int backlog = 4096;
    //  A client that does not finish its handshake in time is closed
    //  (libzmq's default, 30 s, let idle connections pile up).
    int handshake_ms = cfg->handshake_timeout * 1000;
    if (zmq_setsockopt (router, ZMQ_ROUTER_MANDATORY, &one, sizeof one)
    ||  zmq_setsockopt (router, ZMQ_HANDSHAKE_IVL, &handshake_ms, sizeof handshake_ms)
    ||  zmq_setsockopt (router, ZMQ_BACKLOG, &backlog, sizeof backlog)
    ||  zmq_setsockopt (router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg)
    ||  zmq_setsockopt (router, ZMQ_RCVHWM, &hwm, sizeof hwm)
    ||  zmq_setsockopt (router, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm)
    ||  zmq_setsockopt (router, ZMQ_LINGER, &zero, sizeof zero)
    ||  zmq_setsockopt (router, ZMQ_TCP_KEEPALIVE, &ka, sizeof ka)
    ||  zmq_setsockopt (router, ZMQ_TCP_KEEPALIVE_IDLE, &ka_idle, sizeof ka_idle)
    ||  zmq_setsockopt (router, ZMQ_TCP_KEEPALIVE_INTVL, &ka_intvl, sizeof ka_intvl)
    ||  zmq_setsockopt (router, ZMQ_TCP_KEEPALIVE_CNT, &ka_cnt, sizeof ka_cnt))
        return -1;
    if (cfg->insecure)
        return 0;
    return zmq_setsockopt (router, ZMQ_CURVE_SERVER, &one, sizeof one)
        || zmq_setsockopt (router, ZMQ_CURVE_SECRETKEY, key->secret_key, TX_Z85_KEY_LEN)
        || zmq_setsockopt (router, ZMQ_ZAP_DOMAIN, cfg->zap_domain, strlen (cfg->zap_domain))
        || zmq_setsockopt (router, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) ? -1 : 0;
}

int
tx_server_run (const tx_config_t *cfg)
{
    int level = tx_log_level_parse (cfg->log_level);
    if (level < 0) {
        fprintf (stderr, "tongxin-collectord: --log-level: '%s' is not debug, info, warn or error\n",
                 cfg->log_level);
        return 2;
    }
    tx_log_set_level (level);
    tx_keyfile_t key = { 0 };
    char err [256];
    if (!cfg->insecure && tx_keyfile_read (cfg->key, true, &key, err, sizeof err) != 0) {
        tx_log (TX_LOG_ERROR, "cannot read the server key", "err=\"%s\"", err);
        return 1;
    }
    struct sigaction sa = { .sa_handler = s_on_stop };
    sigemptyset (&sa.sa_mask);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    sa.sa_handler = s_on_hup;
    sigaction (SIGHUP, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);

    static tx_metrics_t metrics;
    tx_queue_t queue;
    tx_queue_init (&queue);
    void *ctx = zmq_ctx_new ();
    void *acks = zmq_socket (ctx, ZMQ_PULL);        //  replies from every writer lane
    int rcvhwm = 0;
    zmq_setsockopt (acks, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    zmq_bind (acks, ACK_ENDPOINT);
    tx_writer_t *writer = tx_writer_new (cfg, &queue, ctx, ACK_ENDPOINT, &metrics);
    void *http = NULL;
    void *router = NULL, *mon = NULL;
    tx_guard_t *guard = NULL;
    zap_t zap = { .cfg = cfg, .ctx = ctx, .writer = writer, .m = &metrics };
    bool zap_started = false;
    int rc = 1;

    if (cfg->metrics && *cfg->metrics) {
        http = tx_metrics_start (&metrics, cfg->metrics, err, sizeof err);
        if (!http) {
            tx_log (TX_LOG_ERROR, "cannot start the metrics server", "err=\"%s\"", err);
            goto out;
        }
    }
    //  The database first: without the registry nothing can be validated.
    if (tx_writer_start (writer, &s_stop) != 0)
        goto out;
    //  The ZAP handler must be bound before the ROUTER binds, or CURVE would
    //  accept any client key.
    if (!cfg->insecure) {
        if (pthread_create (&zap.thread, NULL, s_zap_thread, &zap) != 0)
            goto out;
        pthread_setname_np (zap.thread, "tx-zap");
        zap_started = true;
        //  Wait until the handler is there (it binds at once).
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep (&ts, NULL);
    }
    guard = tx_guard_new (cfg->max_handshaking, cfg->handshake_timeout * 1000, !cfg->insecure, &metrics);
    if (!guard)
        goto out;
    tx_log (TX_LOG_INFO, "connection limits", "handshake_timeout=%ds max_handshaking=%d%s",
            cfg->handshake_timeout, tx_guard_limit (guard),
            tx_guard_limit (guard) < cfg->max_handshaking ? " (lowered to fit the open-files limit)" : "");
    router = zmq_socket (ctx, ZMQ_ROUTER);
    if (s_setup_router (cfg, router, &key) != 0) {
        tx_log (TX_LOG_ERROR, "cannot set socket options", "err=\"%s\"", zmq_strerror (zmq_errno ()));
        goto out;
    }
    zmq_socket_monitor (router, MON_ENDPOINT, MON_EVENTS);
    mon = zmq_socket (ctx, ZMQ_PAIR);
    //  No limit on events waiting for us: libzmq's I/O thread sends them
    //  blocking, holding the monitor's lock, so a full pipe (1,000 events:
    //  10,000 producers disconnecting) would stall it, and stopping the
    //  monitor at shutdown would wait for that lock forever.
    int unlimited = 0;
    zmq_setsockopt (mon, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
    zmq_connect (mon, MON_ENDPOINT);
    for (int i = 0; i < cfg->n_binds; i++) {
        if (zmq_bind (router, cfg->binds [i]) != 0) {
            tx_log (TX_LOG_ERROR, "cannot bind", "endpoint=%s err=\"%s\"", cfg->binds [i],
                    zmq_strerror (zmq_errno ()));
            goto out;
        }
        tx_log (TX_LOG_INFO, "listening", "endpoint=%s security=%s", cfg->binds [i],
                cfg->insecure ? "none" : "curve");
    }
    if (cfg->insecure)
        tx_log (TX_LOG_WARN, "INSECURE: no encryption, no authentication; any active unit is accepted", NULL);
    sd_notify (0, "READY=1\nSTATUS=collecting");
    uint64_t watchdog_us = 0;
    bool watchdog = sd_watchdog_enabled (0, &watchdog_us) > 0;

    recv_t r = { cfg, router, &queue, writer, &metrics, tx_wire_decoder_new (), { 0 },
                 tx_refusals_new ((size_t) cfg->rejected_budget * 1024, (size_t) cfg->rejected_prefix),
                 guard, { 0, 0 } };
    size_t queue_max = (size_t) cfg->queue_mb * 1024 * 1024;
    int64_t next_warn = tx_clock_ms () + 60000, next_dog = 0;
    while (!s_stop) {
        size_t qj, qb;
        tx_queue_stats (&queue, &qj, &qb);
        //  Back-pressure: read only while the writer's queue has room.
        bool room = qb < queue_max;
        zmq_pollitem_t items [] = {
            { acks, 0, ZMQ_POLLIN, 0 },
            { mon, 0, ZMQ_POLLIN, 0 },
            { router, 0, room ? ZMQ_POLLIN : 0, 0 },
        };
        if (zmq_poll (items, 3, room ? 100 : 10) < 0 && zmq_errno () != EINTR)
            break;
        while (s_forward_ack (&r, acks) == 0)
            ;
        s_monitor_drain (&r, mon);
        if (room && (items [2].revents & ZMQ_POLLIN))
            for (int i = 0; i < MAX_PER_LOOP && s_receive (&r) == 0; i++)
                ;
        int64_t now = tx_clock_ms ();
        if (s_hup) {
            s_hup = 0;
            tx_log (TX_LOG_INFO, "SIGHUP: reloading the registry and keys", NULL);
            tx_writer_reload (writer);
        }
        if (cfg->insecure && now >= next_warn) {
            tx_log (TX_LOG_WARN, "INSECURE: running without authentication", NULL);
            next_warn = now + 60000;
        }
        if (watchdog && now >= next_dog && atomic_load (&metrics.db_up)) {
            sd_notify (0, "WATCHDOG=1");
            next_dog = now + (int64_t) (watchdog_us / 2000);
        }
    }
    //  Drain: stop reading, let the writer commit what it holds, forward acks.
    sd_notify (0, "STOPPING=1");
    tx_log (TX_LOG_INFO, "stopping: committing and acknowledging what is held", NULL);
    int64_t deadline = tx_clock_ms () + (int64_t) cfg->drain_timeout * 1000;
    tx_writer_stop (writer, deadline);
    for (;;) {
        size_t qj, qb;
        tx_queue_stats (&queue, &qj, &qb);
        while (s_forward_ack (&r, acks) == 0)
            ;
        if (qj == 0 || tx_clock_ms () > deadline + 1000)
            break;
        zmq_pollitem_t item = { acks, 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 50);
    }
    tx_writer_destroy (&writer);
    while (s_forward_ack (&r, acks) == 0)
        ;
    tx_wire_decoder_destroy (&r.dec);
    tx_refusals_destroy (&r.refusals);
    tx_buf_reset (&r.json);
    rc = 0;
    tx_log (TX_LOG_INFO, "stopped", NULL);
out:
    if (zap_started) {
        atomic_store (&zap.stop, 1);
        pthread_join (zap.thread, NULL);
    }
    tx_writer_destroy (&writer);
    //  The monitor stops while its reader is still open: an event sent to a
    //  closed PAIR would block the I/O thread (see above).
    if (router)
        zmq_socket_monitor (router, NULL, 0);
    if (mon)
        zmq_close (mon);
    if (router)
        zmq_close (router);
    zmq_close (acks);
    zmq_ctx_term (ctx);
    tx_queue_fini (&queue);
    tx_metrics_stop (&http);
    tx_guard_destroy (&guard);
    return rc;
}
