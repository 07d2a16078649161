/*  zap.c: the ZAP handler thread.  */
#include "zap.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "hsfail.h"
#include "keyfile.h"
#include "log.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_PARTS 7                     //  frames of a ZAP request
#define ZAP_UNKNOWN_LOOKUPS_PER_S 20
#define ZAP_KNOWN_LOOKUPS_PER_S 200
#define ZAP_STATEMENT_TIMEOUT "1000"    //  ms: a handshake must not wait on a lock
#define ZAP_RELOAD_WAIT_MS 2000         //  for a snapshot that knows a new key

struct tx_zap_t {
    const tx_config_t *cfg;
    void *ctx;
    tx_regholder_t *registry;
    tx_metrics_t *m;
    tx_status_t *status;            //  told of every unit let in (may be NULL)
    pthread_t thread;
    atomic_int stop;                //  set by destroy
    pthread_mutex_t lock;           //  guards ready
    pthread_cond_t cond;            //  signalled when ready is set
    int ready;                      //  0 starting, 1 bound, -1 failed
    tx_hsfail_t hsfail;             //  rate limit for refusals
    PGconn *db;                     //  own connection: new keys and revocations count at once
    int64_t db_retry_ms;            //  next connection attempt
    int64_t budget_ms;              //  window of the lookup budgets (1 s)
    int budget;                     //  lookups of unknown keys left in it
    int known_budget;               //  lookups of keys the snapshot knows left in it
};

//  ----------------------------------------------------------------- lookup

//  The handler's connection, (re)opened at most every 5 s.  0 or -1.
static int
s_connect (tx_zap_t *self)
{
    int64_t now = tx_clock_ms ();
    if (self->db && PQstatus (self->db) == CONNECTION_OK)
        return 0;
    if (now < self->db_retry_ms)
        return -1;
    if (self->db)
        PQfinish (self->db);
    const char *keys [] = { "dbname", "application_name", "connect_timeout", NULL };
    const char *vals [] = { self->cfg->db, "tongxin-collectord-zap", "3", NULL };
    self->db = PQconnectdbParams (keys, vals, 1);
    if (PQstatus (self->db) != CONNECTION_OK) {
        self->db_retry_ms = now + 5000;
        return -1;
    }
    //  A lookup blocked (a lock on unit_keys, a stalled server) would hold
    //  every handshake behind it past handshake-timeout.
    PQclear (PQexec (self->db, "SET statement_timeout = " ZAP_STATEMENT_TIMEOUT));
    return 0;
}

//  The unit of a key, from the database.  Returns 1 live (unit set),
//  2 revoked, 0 not found, -1 the database could not answer.
static int
s_lookup (tx_zap_t *self, const char *z85, char *unit, size_t unitlen)
{
    if (s_connect (self) != 0)
        return -1;
    const char *params [] = { z85 };
    PGresult *r = PQexecParams (self->db,
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

//  May the database be asked about a key?  Takes one from its budget.
static bool
s_budget_take (tx_zap_t *self, bool known)
{
    int64_t now = tx_clock_ms ();
    if (now - self->budget_ms >= 1000) {
        self->budget_ms = now;
        self->budget = ZAP_UNKNOWN_LOOKUPS_PER_S;
        self->known_budget = ZAP_KNOWN_LOOKUPS_PER_S;
    }
    return known ? self->known_budget-- > 0 : self->budget-- > 0;
}

//  ----------------------------------------------------------------- decide

//  What is known of a key: 1 live (unit set), 2 revoked, 0 not found, -1
//  undecided; *asked: the database was asked.
static int
s_key_state (tx_zap_t *self, const char *z85, char *unit, size_t unitlen, bool *asked)
{
    tx_registry_t *reg = tx_regholder_get (self->registry);
    const char *known = reg ? tx_registry_key_unit (reg, z85) : NULL;
    bool revoked = reg && tx_registry_key_revoked (reg, z85);
    int found = -1;
    *asked = false;
    if (revoked)
        found = 2;                //  revocation is final: no lookup
    else
    if (s_budget_take (self, known != NULL)) {
        *asked = true;
        found = s_lookup (self, z85, unit, unitlen);
    }
    if (found < 0 && known) {     //  no answer: trust the snapshot
        snprintf (unit, unitlen, "%s", known);
        found = 1;
    }
    //  A key (and maybe a unit) newer than the snapshot: reload before the
    //  handshake completes, so the producer's first batch is validated
    //  against a registry that knows it.
    if (found == 1 && !known)
        tx_regholder_request_wait (self->registry, ZAP_RELOAD_WAIT_MS);
    tx_registry_unref (&reg);
    return found;
}

static bool
s_part_is (zmq_msg_t *part, const char *text)
{
    return zmq_msg_size (part) == strlen (text) && memcmp (zmq_msg_data (part), text, strlen (text)) == 0;
}

//  Decides one ZAP request (RFC 27: version, request id, domain, address,
//  identity, mechanism, credentials).  Returns the status code; for 200
//  sets user (the unit) and z85 (the key), otherwise *cause.
static const char *
s_decide (tx_zap_t *self, zmq_msg_t *part, int n, char *user, size_t userlen, char *z85,
          tx_hs_cause_t *cause)
{
    if (n != ZAP_PARTS || !s_part_is (&part [0], "1.0")) {
        *cause = TX_HS_BAD_ZAP_REQUEST;
        return "500";
    }
    if (!s_part_is (&part [2], self->cfg->zap_domain)) {
        *cause = TX_HS_BAD_DOMAIN;
        return "400";
    }
    if (!s_part_is (&part [5], "CURVE") || zmq_msg_size (&part [6]) != 32) {
        *cause = TX_HS_BAD_MECHANISM;
        return "400";
    }
    zmq_z85_encode (z85, zmq_msg_data (&part [6]), 32);
    bool asked;
    char unit [65] = "";
    switch (s_key_state (self, z85, unit, sizeof unit, &asked)) {
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

//  ----------------------------------------------------------------- answer

static void
s_reply (void *sock, zmq_msg_t *req_id, const char *status, const char *text,
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

//  Decides a request of n parts and answers it.
static void
s_answer (tx_zap_t *self, void *sock, zmq_msg_t *part, int n)
{
    char user [65] = "", z85 [TX_Z85_KEY_LEN + 1] = "";
    tx_hs_cause_t cause;
    const char *status = s_decide (self, part, n, user, sizeof user, z85, &cause);
    bool ok = *status == '2';
    if (ok)
        tx_status_connected (self->status, user, tx_status_wall_us ());
    else {
        char addr [64] = "";
        if (n >= 4)
            snprintf (addr, sizeof addr, "%.*s", (int) zmq_msg_size (&part [3]),
                      (const char *) zmq_msg_data (&part [3]));
        tx_hsfail_note (&self->hsfail, self->m, cause, z85, addr);
    }
    if (n >= 2)
        s_reply (sock, &part [1], status, ok ? "OK" : tx_hs_cause_str (cause), user, ok ? z85 : NULL);
    else {
        //  Malformed request: REP still owes an answer.
        zmq_msg_t empty;
        zmq_msg_init (&empty);
        s_reply (sock, &empty, "500", "malformed ZAP request", "", NULL);
        zmq_msg_close (&empty);
    }
}

//  Receives one request's parts (the first ZAP_PARTS kept).  The number
//  kept, or -1 on a timeout or error (nothing kept).
static int
s_receive (void *sock, zmq_msg_t *part)
{
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, sock, 0) < 0) {
            zmq_msg_close (&msg);
            for (int i = 0; i < n; i++)
                zmq_msg_close (&part [i]);
            return -1;
        }
        more = zmq_msg_more (&msg);
        if (n < ZAP_PARTS)
            part [n++] = msg;
        else
            zmq_msg_close (&msg);
    }
    return n;
}

//  ----------------------------------------------------------------- thread

static void
s_set_ready (tx_zap_t *self, int ready)
{
    pthread_mutex_lock (&self->lock);
    self->ready = ready;
    pthread_cond_signal (&self->cond);
    pthread_mutex_unlock (&self->lock);
}

//  The REP socket, bound.  NULL (logged) if it cannot bind.
static void *
s_bind (tx_zap_t *self)
{
    void *sock = zmq_socket (self->ctx, ZMQ_REP);
    int linger = 0, timeout = 200;
    if (sock) {
        zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    }
    if (!sock || zmq_bind (sock, ZAP_ENDPOINT) != 0) {
        tx_log (TX_LOG_ERROR, "cannot bind the ZAP handler", "err=%s", tx_log_q (zmq_strerror (zmq_errno ())));
        if (sock)
            zmq_close (sock);
        return NULL;
    }
    return sock;
}

static void *
s_thread (void *arg)
{
    tx_zap_t *self = arg;
    void *sock = s_bind (self);
    s_set_ready (self, sock ? 1 : -1);
    if (!sock)
        return NULL;
    while (!atomic_load (&self->stop)) {
        zmq_msg_t part [ZAP_PARTS];
        int n = s_receive (sock, part);
        if (n < 0)
            continue;           //  timeout: look at the stop flag
        s_answer (self, sock, part, n);
        for (int i = 0; i < n; i++)
            zmq_msg_close (&part [i]);
    }
    zmq_close (sock);
    return NULL;
}

static void
s_free (tx_zap_t *self)
{
    if (self->db)
        PQfinish (self->db);
    pthread_cond_destroy (&self->cond);
    pthread_mutex_destroy (&self->lock);
    free (self);
}

tx_zap_t *
tx_zap_start (const tx_config_t *cfg, void *zmq_ctx, tx_regholder_t *registry, tx_metrics_t *m,
              tx_status_t *status)
{
    tx_zap_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    *self = (tx_zap_t) { .cfg = cfg, .ctx = zmq_ctx, .registry = registry, .m = m, .status = status };
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->cond, NULL);
    if (pthread_create (&self->thread, NULL, s_thread, self) != 0) {
        tx_log (TX_LOG_ERROR, "cannot start the ZAP handler", NULL);
        s_free (self);
        return NULL;
    }
    pthread_setname_np (self->thread, "tx-zap");
    //  Ready: the handler is bound (or could not bind).
    pthread_mutex_lock (&self->lock);
    while (self->ready == 0)
        pthread_cond_wait (&self->cond, &self->lock);
    int ready = self->ready;
    pthread_mutex_unlock (&self->lock);
    if (ready < 0) {
        pthread_join (self->thread, NULL);
        s_free (self);
        return NULL;
    }
    return self;
}

void
tx_zap_destroy (tx_zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tx_zap_t *self = *self_p;
    atomic_store (&self->stop, 1);
    pthread_join (self->thread, NULL);
    s_free (self);
    *self_p = NULL;
}
