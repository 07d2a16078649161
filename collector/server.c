/*  server.c: the receive loop, and starting and stopping around it.  */
#include "server.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <zmq.h>

#include "content.h"
#include "copyrow.h"
#include "guard.h"
#include "job.h"
#include "keyfile.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "refusals.h"
#include "regholder.h"
#include "strmap.h"
#include "status.h"
#include "utf8.h"
#include "validate.h"
#include "writer.h"
#include "zap.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93   //  stable in libzmq 4.3, its macro is DRAFT-only
#endif

#define ACK_ENDPOINT "inproc://tongxin-acks"
#define MAX_PER_LOOP 64             //  messages read per loop before looking at acks

static volatile sig_atomic_t s_stop;
static volatile sig_atomic_t s_hup;

static void s_on_stop (int sig) { (void) sig; s_stop = 1; }
static void s_on_hup (int sig) { (void) sig; s_hup = 1; }

//  Everything the collector runs; the receive loop's thread owns the
//  sockets.
typedef struct {
    const tx_config_t *cfg;
    tx_keyfile_t key;               //  the server's CURVE key (not in insecure mode)
    tx_metrics_t *m;
    tx_queue_t queue;               //  jobs from the receive loop to the writer
    void *ctx;                      //  the ZeroMQ context
    void *acks;                     //  PULL: replies from every writer lane
    void *router;                   //  the producers' ROUTER
    void *http;                     //  the metrics server, or NULL
    tx_regholder_t *registry;       //  the current registry snapshot
    tx_writer_t *writer;            //  the database sink
    tx_zap_t *zap;                  //  the ZAP handler (CURVE only)
    tx_guard_t *guard;              //  connections still in their handshake
    tx_monitor_t *monitor;          //  the ROUTER's connection events
    tx_wire_decoder_t *dec;         //  the batch decoder
    tx_buf_t jsonb;                 //  scratch for one event's attrs
    tx_buf_t content;               //  scratch for one event's canonical content
    tx_refusals_t *refusals;        //  what of the refusals is kept, per sender
    tx_strmap_t *reg_budgets;       //  registry requests: unit (or sender) -> reg_budget_t *
    struct reg_budget_t *reg_budget_list;   //  every budget, to free
    msgpack_sbuffer reg_reply;      //  scratch for a registry reply
    tx_status_t *status;            //  what producers told and when we saw them (status.h)
} server_t;

//  ----------------------------------------------------------------- receive

static int64_t
s_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Records one refusal in the job, as much of it as the sender's budget
//  keeps (refusals.h): its first bytes, or nothing but a count.  0, or -1
//  out of memory.
static int
s_record (server_t *r, tx_job_t *job, int32_t index, const uint8_t *id, int code,
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
s_refuse (server_t *r, tx_job_t *job, int error, uint64_t batch_id, const char *why,
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

//  A job for the message of producer rid from sender, for count events.
static tx_job_t *
s_job_new (size_t count, zmq_msg_t *rid, const char *sender)
{
    tx_job_t *job = tx_job_new (count);
    if (!job)
        return NULL;
    memcpy (job->rid, zmq_msg_data (rid), zmq_msg_size (rid));
    job->rid_len = zmq_msg_size (rid);
    snprintf (job->sender, sizeof job->sender, "%s", sender);
    return job;
}

//  Records the refusal of event i (code, msg).  0, or -1 out of memory.
static int
s_refuse_event (server_t *r, tx_job_t *job, size_t i, const tx_event_t *ev, int code,
                const char *msg)
{
    static const uint8_t zero [16];
    bool has_id = memcmp (ev->id, zero, 16) != 0;
    //  The claimed unit goes into a text column: only if it is clean.
    bool unit_ok = ev->unit && ev->unit_len <= TX_WIRE_MAX_CODE && tx_utf8_valid (ev->unit, ev->unit_len);
    return s_record (r, job, (int32_t) i, has_id ? ev->id : NULL, code,
                     unit_ok ? ev->unit : NULL, unit_ok ? ev->unit_len : 0, msg,
                     ev->raw, ev->raw_len);
}

//  Adds valid event i of type to the job: its row, its id and unit, where
//  its bytes are.  0, or -1 out of memory.
static int
s_accept_event (server_t *r, tx_job_t *job, size_t i, const tx_event_t *ev,
                const tx_type_def_t *type, const uint8_t *data, size_t size)
{
    //  The frame is kept once, so that an event the database refuses
    //  after all is recorded with its bytes (writer.c).
    if (!job->payload.len && !(job->payload = tx_job_keep (job, data, size)).len)
        return -1;
    tx_accepted_t *a = &job->accepted [job->n_accepted];
    a->index = (uint32_t) i;
    memcpy (a->id, ev->id, 16);
    a->raw = (tx_span_t) { job->payload.off + (size_t) (ev->raw - data), ev->raw_len };
    a->unit = tx_job_keep (job, ev->unit, ev->unit_len);
    if (!a->unit.len || tx_content_fingerprint (type, ev, &r->content, a->fp) != 0
    ||  tx_copyrow_encode (&job->rows, &r->jsonb, type, ev, job->sender,
                           strlen (job->sender), a->fp) != 0)
        return -1;
    job->n_accepted++;
    return 0;
}

//  Validates the decoded events of a batch into its job.  0, or -1 out of
//  memory.
static int
s_validate_batch (server_t *r, tx_job_t *job, const tx_batch_t *batch, const char *auth_unit,
                  const tx_registry_t *reg, const uint8_t *data, size_t size)
{
    tx_validate_ctx_t vctx = { auth_unit, s_wall_ms (), (int64_t) r->cfg->max_skew * 1000 };
    for (size_t i = 0; i < batch->count; i++) {
        const tx_event_t *ev = &batch->events [i];
        int code = ev->reject;
        char msg [1024];            //  a reason, with the allowed values of an enum
        msg [0] = 0;
        if (ev->reject_msg)
            snprintf (msg, sizeof msg, "%s", ev->reject_msg);
        const tx_type_def_t *type = NULL;
        if (code == TX_REJECT_NONE)
            code = tx_validate_event (reg, ev, &vctx, &type, msg, sizeof msg);
        if (code != TX_REJECT_NONE ? s_refuse_event (r, job, i, ev, code, msg) != 0
                                   : s_accept_event (r, job, i, ev, type, data, size) != 0)
            return -1;
    }
    return 0;
}

//  Builds the job for one batch frame.  NULL: nothing to answer (dropped).
static tx_job_t *
s_process (server_t *r, zmq_msg_t *rid, zmq_msg_t *payload, const char *sender,
           const char *auth_unit, const tx_registry_t *reg)
{
    const uint8_t *data = zmq_msg_data (payload);
    size_t size = zmq_msg_size (payload);
    tx_message_t msg;
    char err [160];
    int rc = tx_wire_decode_message (data, size, &msg, r->dec, err, sizeof err);
    tx_status_seen (r->status, auth_unit, s_wall_ms () * 1000, rc == TX_WIRE_OK && msg.type == TX_MSG_BATCH);
    if (msg.type == TX_MSG_STATUS) {
        //  Revision 1.3: kept for tongxin.producer_status, never answered.
        tx_status_message (r->status, auth_unit, rc, &msg.status, err, (int64_t) r->cfg->max_skew * 1000000);
        return NULL;
    }
    const tx_batch_t batch = msg.batch;
    tx_job_t *job = s_job_new (rc == TX_WIRE_OK ? batch.count : 0, rid, sender);
    if (!job)
        return NULL;
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
    job->want_dups = batch.rev >= 2;
    job->rev = batch.rev;
    atomic_fetch_add (&r->m->events_received, batch.count);
    if (s_validate_batch (r, job, &batch, auth_unit, reg, data, size) != 0) {
        tx_log (TX_LOG_ERROR, "out of memory building a batch; dropped unanswered", NULL);
        tx_job_destroy (&job);
    }
    return job;
}

//  ----------------------------------------------------------------- registry requests

//  Revision 1.3: a producer asks for the registry (docs/protocol.md 6.4).
//  The loop answers at once from the current snapshot, whose body and
//  version were made when it was loaded (regload.c): a reply costs a copy
//  of the body, or a comparison and a few bytes for "unchanged".  A budget
//  per unit (under CURVE; per sender in insecure mode) keeps one unit from
//  making the collector encrypt megabytes: a token bucket of REG_BURST
//  tokens refilled at one a second; "unchanged" costs 1, the whole
//  registry REG_FULL_COST.  A request over the budget is dropped
//  unanswered and counted (the producer times out and keeps its cache).
#define REG_BURST       60          //  tokens a unit can hold
#define REG_FULL_COST   12          //  a whole registry: 5 in a row, then one every 12 s
#define REG_MAX_UNITS   16384       //  budgets kept; past them, units share one

typedef struct reg_budget_t {
    struct reg_budget_t *next;      //  every budget, to free
    double tokens;
    int64_t at_ms;                  //  when tokens was last brought up to date
} reg_budget_t;

//  Takes cost tokens of who's budget.  true if there were enough.
static bool
s_registry_budget (server_t *r, const char *who, int cost)
{
    if (!r->reg_budgets && !(r->reg_budgets = tx_strmap_new ()))
        return false;
    if (tx_strmap_size (r->reg_budgets) >= REG_MAX_UNITS)
        who = "";                   //  the shared budget of the rest
    reg_budget_t *b = tx_strmap_get (r->reg_budgets, who, strlen (who));
    int64_t now = tx_clock_ms ();
    if (!b) {
        if (!(b = calloc (1, sizeof *b)) || tx_strmap_put (r->reg_budgets, who, strlen (who), b) != 0) {
            free (b);
            return false;
        }
        b->next = r->reg_budget_list;
        r->reg_budget_list = b;
        b->tokens = REG_BURST;
        b->at_ms = now;
    }
    b->tokens += (double) (now - b->at_ms) / 1000.0;
    if (b->tokens > REG_BURST)
        b->tokens = REG_BURST;
    b->at_ms = now;
    if (b->tokens < cost)
        return false;
    b->tokens -= cost;
    return true;
}

//  A registry request?  Answers it (the whole registry, or "unchanged"),
//  or drops it over the unit's budget, and returns true; *job is set to a
//  refusal ("malformed") for a registry request with a bad envelope.
//  False for any other message (a batch: s_process judges it).
static bool
s_registry_request (server_t *r, zmq_msg_t *rid, zmq_msg_t *payload, const char *sender,
                    const char *auth_unit, const tx_registry_t *reg, tx_job_t **job)
{
    const uint8_t *data = zmq_msg_data (payload);
    size_t size = zmq_msg_size (payload);
    tx_registry_req_t req;
    char err [160];
    int rc = tx_wire_decode_registry_request (data, size, &req, err, sizeof err);
    if (rc == TX_WIRE_NOT_THIS)
        return false;
    if (rc != TX_WIRE_OK) {
        *job = s_refuse (r, s_job_new (0, rid, sender), TX_ERROR_MALFORMED, 0, err, data, size);
        return true;
    }
    const char *version = tx_registry_version (reg);
    size_t body_len;
    const uint8_t *body = tx_registry_body (reg, &body_len);
    bool same = req.have && strlen (version) == req.have_len && memcmp (version, req.have, req.have_len) == 0;
    if (!s_registry_budget (r, auth_unit ? auth_unit : sender, same ? 1 : REG_FULL_COST)) {
        atomic_fetch_add (&r->m->registry_limited, 1);
        tx_log (TX_LOG_DEBUG, "registry request over budget; dropped", "sender=%s", tx_log_q (sender));
        return true;
    }
    if (tx_wire_pack_registry_reply (&r->reg_reply, req.req, version, same ? NULL : body, body_len) != 0
    ||  r->reg_reply.size > TX_WIRE_MAX_FRAME) {
        tx_log (TX_LOG_ERROR, "cannot answer a registry request: the registry does not fit a message",
                "bytes=%zu", r->reg_reply.size);
        return true;
    }
    zmq_msg_t reply;
    zmq_msg_init_size (&reply, r->reg_reply.size);
    memcpy (zmq_msg_data (&reply), r->reg_reply.data, r->reg_reply.size);
    zmq_msg_t to;
    zmq_msg_init (&to);
    zmq_msg_copy (&to, rid);
    if (zmq_msg_send (&to, r->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_msg_send (&reply, r->router, ZMQ_DONTWAIT) < 0)
        atomic_fetch_add (&r->m->acks_dropped, 1);
    else {
        atomic_fetch_add (same ? &r->m->registry_unchanged : &r->m->registry_full, 1);
        atomic_fetch_add (&r->m->registry_bytes, r->reg_reply.size);
    }
    zmq_msg_close (&to);
    zmq_msg_close (&reply);
    return true;
}

static void
s_registry_close (server_t *r)
{
    tx_strmap_destroy (&r->reg_budgets);
    while (r->reg_budget_list) {
        reg_budget_t *next = r->reg_budget_list->next;
        free (r->reg_budget_list);
        r->reg_budget_list = next;
    }
    msgpack_sbuffer_destroy (&r->reg_reply);
}

//  ----------------------------------------------------------------- receive loop

//  Reads one message from the ROUTER: [routing id][payload].  0 with both
//  set (to close), 1 if it was not that shape (dropped, counted), -1 if
//  none was waiting.
static int
s_read_message (server_t *r, zmq_msg_t *rid, zmq_msg_t *payload)
{
    zmq_msg_init (rid);
    if (zmq_msg_recv (rid, r->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (rid);
        return -1;
    }
    zmq_msg_init (payload);
    bool bad = !zmq_msg_more (rid) || zmq_msg_recv (payload, r->router, 0) < 0;
    if (!bad && zmq_msg_more (payload)) {
        //  Exactly one payload frame: drain and drop the rest.
        bad = true;
        zmq_msg_t extra;
        zmq_msg_init (&extra);
        while (zmq_msg_recv (&extra, r->router, 0) >= 0 && zmq_msg_more (&extra))
            ;
        zmq_msg_close (&extra);
    }
    //  A message came through: its connection has authenticated.
    int srcfd = zmq_msg_get (payload, ZMQ_SRCFD);
    if (srcfd >= 0)
        tx_guard_message (r->guard, srcfd);
    if (bad) {
        atomic_fetch_add (&r->m->messages_dropped_bad_frames, 1);
        zmq_msg_close (rid);
        zmq_msg_close (payload);
        return 1;
    }
    return 0;
}

//  Who sent the payload: sets sender, and *auth_unit under CURVE.  0, 1
//  if the message is dropped (no identity), 2 if it is refused (its key
//  is revoked).
static int
s_sender (server_t *r, zmq_msg_t *payload, const tx_registry_t *reg, char *sender,
          size_t senderlen, const char **auth_unit)
{
    *auth_unit = NULL;
    if (r->cfg->insecure) {
        const char *peer = zmq_msg_gets (payload, "Peer-Address");
        snprintf (sender, senderlen, "insecure:%s", peer ? peer : "unknown");
        return 0;
    }
    const char *user = zmq_msg_gets (payload, "User-Id");
    const char *key = zmq_msg_gets (payload, "X-Key");
    if (!user || !*user || !key) {
        atomic_fetch_add (&r->m->messages_dropped_no_user, 1);
        return 1;
    }
    snprintf (sender, senderlen, "%s", user);
    *auth_unit = user;
    //  Revocation reaches open connections here: ZAP ran only at the
    //  handshake.  A key revoked in the current snapshot (reloaded every
    //  registry-refresh seconds, and on SIGHUP) is refused.  A key newer
    //  than the snapshot passed ZAP's database check and is let through.
    const char *unit = reg ? tx_registry_key_unit (reg, key) : NULL;
    return (reg && tx_registry_key_revoked (reg, key)) || (unit && strcmp (unit, user) != 0) ? 2 : 0;
}

//  Hands a job to the writer.
static void
s_push (server_t *r, tx_job_t *job)
{
    tx_queue_push (&r->queue, job);
    size_t qj, qb;
    tx_queue_stats (&r->queue, &qj, &qb);
    atomic_store (&r->m->queue_jobs, (long long) qj);
    atomic_store (&r->m->queue_bytes, (long long) qb);
}

//  Reads one message from the ROUTER and hands it on.  0, or -1 if none.
static int
s_receive (server_t *r)
{
    zmq_msg_t rid, payload;
    int rc = s_read_message (r, &rid, &payload);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    char sender [160];
    const char *auth_unit;
    tx_registry_t *reg = tx_regholder_get (r->registry);
    tx_job_t *job = NULL;
    switch (s_sender (r, &payload, reg, sender, sizeof sender, &auth_unit)) {
        case 0:
            if (reg && !s_registry_request (r, &rid, &payload, sender, auth_unit, reg, &job))
                job = s_process (r, &rid, &payload, sender, auth_unit, reg);
            break;
        case 2:
            job = s_refuse (r, s_job_new (0, &rid, sender), TX_ERROR_UNAUTHORIZED, 0,
                            "the unit's key has been revoked",
                            zmq_msg_data (&payload), zmq_msg_size (&payload));
            break;
    }
    if (job)
        s_push (r, job);
    tx_registry_unref (&reg);
    zmq_msg_close (&rid);
    zmq_msg_close (&payload);
    return 0;
}

//  Forwards one reply from the writer to its producer.  0, or -1 if none.
static int
s_forward_ack (server_t *r, void *acks)
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

//  ----------------------------------------------------------------- start

//  The log level, the server key, the signals.  0, or the exit code.
static int
s_prepare (server_t *r)
{
    int level = tx_log_level_parse (r->cfg->log_level);
    if (level < 0) {
        fprintf (stderr, "tongxin-collectord: --log-level: '%s' is not debug, info, warn or error\n",
                 r->cfg->log_level);
        return 2;
    }
    tx_log_set_level (level);
    char err [256];
    if (!r->cfg->insecure && tx_keyfile_read (r->cfg->key, true, &r->key, err, sizeof err) != 0) {
        tx_log (TX_LOG_ERROR, "cannot read the server key", "err=%s", tx_log_q (err));
        return 1;
    }
    struct sigaction sa = { .sa_handler = s_on_stop };
    sigemptyset (&sa.sa_mask);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    sa.sa_handler = s_on_hup;
    sigaction (SIGHUP, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    return 0;
}

//  The parts that need no database: the context, the acks' socket, the
//  registry holder, the writer, the receive loop's scratch, the metrics
//  server.  0 or -1.
static int
s_build (server_t *r)
{
    const tx_config_t *cfg = r->cfg;
    tx_queue_init (&r->queue);
    r->ctx = zmq_ctx_new ();
    r->acks = zmq_socket (r->ctx, ZMQ_PULL);
    int rcvhwm = 0;
    zmq_setsockopt (r->acks, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    zmq_bind (r->acks, ACK_ENDPOINT);
    r->registry = tx_regholder_new (cfg->registry_refresh);
    r->writer = r->registry ? tx_writer_new (cfg, &r->queue, r->registry, r->ctx, ACK_ENDPOINT, r->m) : NULL;
    r->dec = tx_wire_decoder_new ();
    r->refusals = tx_refusals_new ((size_t) cfg->rejected_budget * 1024, (size_t) cfg->rejected_prefix);
    r->status = cfg->insecure ? NULL : tx_status_new (cfg, r->m);
    if (!r->writer || !r->dec || !r->refusals || (!cfg->insecure && (!r->status || tx_status_start (r->status) != 0))) {
        tx_log (TX_LOG_ERROR, "out of memory starting", NULL);
        return -1;
    }
    if (cfg->metrics && *cfg->metrics) {
        char err [256];
        r->http = tx_metrics_start (r->m, cfg->metrics, err, sizeof err);
        if (!r->http) {
            tx_log (TX_LOG_ERROR, "cannot start the metrics server", "err=%s", tx_log_q (err));
            return -1;
        }
    }
    return 0;
}

//  The ROUTER, its monitor and the guard, bound to every endpoint.  0 or -1.
static int
s_listen (server_t *r)
{
    const tx_config_t *cfg = r->cfg;
    r->guard = tx_guard_new (cfg->max_handshaking, cfg->handshake_timeout * 1000, !cfg->insecure, r->m);
    if (!r->guard)
        return -1;
    tx_log (TX_LOG_INFO, "connection limits", "handshake_timeout=%ds max_handshaking=%d%s",
            cfg->handshake_timeout, tx_guard_limit (r->guard),
            tx_guard_limit (r->guard) < cfg->max_handshaking ? " (lowered to fit the open-files limit)" : "");
    r->router = zmq_socket (r->ctx, ZMQ_ROUTER);
    if (s_setup_router (cfg, r->router, &r->key) != 0) {
        tx_log (TX_LOG_ERROR, "cannot set socket options", "err=%s", tx_log_q (zmq_strerror (zmq_errno ())));
        return -1;
    }
    r->monitor = tx_monitor_new (r->ctx, r->router, r->guard, r->m);
    if (!r->monitor) {
        tx_log (TX_LOG_ERROR, "cannot monitor the socket", "err=%s", tx_log_q (zmq_strerror (zmq_errno ())));
        return -1;
    }
    for (int i = 0; i < cfg->n_binds; i++) {
        if (zmq_bind (r->router, cfg->binds [i]) != 0) {
            tx_log (TX_LOG_ERROR, "cannot bind", "endpoint=%s err=%s", cfg->binds [i],
                    tx_log_q (zmq_strerror (zmq_errno ())));
            return -1;
        }
        tx_log (TX_LOG_INFO, "listening", "endpoint=%s security=%s", cfg->binds [i],
                cfg->insecure ? "none" : "curve");
    }
    if (cfg->insecure)
        tx_log (TX_LOG_WARN, "INSECURE: no encryption, no authentication; any active unit is accepted", NULL);
    return 0;
}

//  Everything, in order: the database first (without the registry nothing
//  can be validated), then the ZAP handler (bound before the ROUTER binds,
//  or CURVE would accept any client key), then the ROUTER.  0 or -1.
static int
s_start (server_t *r)
{
    if (s_build (r) != 0 || tx_writer_start (r->writer, &s_stop) != 0)
        return -1;
    if (!r->cfg->insecure && !(r->zap = tx_zap_start (r->cfg, r->ctx, r->registry, r->m, r->status)))
        return -1;
    return s_listen (r);
}

//  ----------------------------------------------------------------- run

//  Forwards every reply the writer has ready.
static void
s_forward_acks (server_t *r)
{
    while (s_forward_ack (r, r->acks) == 0)
        ;
}

//  Reads, forwards acks and follows the monitor until SIGTERM/SIGINT.
static void
s_loop (server_t *r)
{
    uint64_t watchdog_us = 0;
    bool watchdog = sd_watchdog_enabled (0, &watchdog_us) > 0;
    size_t queue_max = (size_t) r->cfg->queue_mb * 1024 * 1024;
    int64_t next_warn = tx_clock_ms () + 60000, next_dog = 0;
    while (!s_stop) {
        size_t qj, qb;
        tx_queue_stats (&r->queue, &qj, &qb);
        //  Back-pressure: read only while the writer's queue has room.
        bool room = qb < queue_max;
        zmq_pollitem_t items [] = {
            { r->acks, 0, ZMQ_POLLIN, 0 },
            { tx_monitor_socket (r->monitor), 0, ZMQ_POLLIN, 0 },
            { r->router, 0, room ? ZMQ_POLLIN : 0, 0 },
        };
        if (zmq_poll (items, 3, room ? 100 : 10) < 0 && zmq_errno () != EINTR)
            break;
        s_forward_acks (r);
        tx_monitor_drain (r->monitor);
        if (room && (items [2].revents & ZMQ_POLLIN))
            for (int i = 0; i < MAX_PER_LOOP && s_receive (r) == 0; i++)
                ;
        int64_t now = tx_clock_ms ();
        if (s_hup) {
            s_hup = 0;
            tx_log (TX_LOG_INFO, "SIGHUP: reloading the registry and keys", NULL);
            tx_regholder_request (r->registry);
        }
        if (r->cfg->insecure && now >= next_warn) {
            tx_log (TX_LOG_WARN, "INSECURE: running without authentication", NULL);
            next_warn = now + 60000;
        }
        if (watchdog && now >= next_dog && atomic_load (&r->m->db_up)) {
            sd_notify (0, "WATCHDOG=1");
            next_dog = now + (int64_t) (watchdog_us / 2000);
        }
    }
}

//  Stops reading, lets the writer commit what it holds, forwards the acks.
static void
s_drain (server_t *r)
{
    sd_notify (0, "STOPPING=1");
    tx_log (TX_LOG_INFO, "stopping: committing and acknowledging what is held", NULL);
    int64_t deadline = tx_clock_ms () + (int64_t) r->cfg->drain_timeout * 1000;
    tx_writer_stop (r->writer, deadline);
    for (;;) {
        size_t qj, qb;
        tx_queue_stats (&r->queue, &qj, &qb);
        s_forward_acks (r);
        if (qj == 0 || tx_clock_ms () > deadline + 1000)
            break;
        zmq_pollitem_t item = { r->acks, 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 50);
    }
    tx_writer_destroy (&r->writer);
    s_forward_acks (r);
}

//  Frees what was built (any part may be missing after a failed start).
static void
s_close (server_t *r)
{
    tx_zap_destroy (&r->zap);
    tx_writer_destroy (&r->writer);
    tx_regholder_destroy (&r->registry);
    //  The monitor stops while its reader is still open (monitor.h).
    tx_monitor_destroy (&r->monitor);
    if (r->router)
        zmq_close (r->router);
    if (r->acks)
        zmq_close (r->acks);
    if (r->ctx)
        zmq_ctx_term (r->ctx);
    tx_queue_fini (&r->queue);
    tx_metrics_stop (&r->http);
    tx_guard_destroy (&r->guard);
    tx_wire_decoder_destroy (&r->dec);
    tx_refusals_destroy (&r->refusals);
    tx_status_destroy (&r->status);
    tx_buf_reset (&r->jsonb);
    tx_buf_reset (&r->content);
    s_registry_close (r);
}

int
tx_server_run (const tx_config_t *cfg)
{
    static tx_metrics_t metrics;
    server_t r = { .cfg = cfg, .m = &metrics };
    msgpack_sbuffer_init (&r.reg_reply);
    int rc = s_prepare (&r);
    if (rc != 0)
        return rc;
    rc = 1;
    if (s_start (&r) == 0) {
        sd_notify (0, "READY=1\nSTATUS=collecting");
        s_loop (&r);
        s_drain (&r);
        rc = 0;
        tx_log (TX_LOG_INFO, "stopped", NULL);
    }
    s_close (&r);
    return rc;
}
