/*  writer.c: group commit into PostgreSQL.  */
#include "writer.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "copyrow.h"
#include "log.h"
#include "strmap.h"

#define SCHEMA_VERSION_MIN 8    //  the schema this collector needs (008: event_contents)
#define SCHEMA_VERSION_FOLD 11  //  the rollups are folded (011: from a queue; 013: by snapshot)
#define FOLD_LOCK_TIMEOUT "5s"  //  a fold gives up waiting for a rebuild after this
#define FOLD_YIELD_MAX 30       //  fold periods in a row the fold may wait for busy writers
#define FOLD_RECENT_MS 200      //  the recent window of the writers' business
#define FOLD_SAMPLE_US 20000    //  the folder samples the writers this often
#define PG_EPOCH_UNIX_US 946684800000000LL   //  2000-01-01T00:00:00Z in unix µs
#define STAGE_RACES_MAX 5       //  staging writes in a row that may meet another collector's id
#define IDLE_PING_MS 2000       //  check an idle connection this often

typedef enum { WR_OK = 0, WR_RETRY, WR_FAIL } wrc_t;

//  The writer is one or more lanes: a thread with its own connection each,
//  all popping groups from the one queue, so that one group is written
//  while another commits.  Lane 0 is the tx_writer_t the caller holds; it
//  also lends its connection to the registry holder and makes partitions,
//  and holds the state the lanes share (stopping, deadline_ms).
struct tx_writer_t {
    const tx_config_t *cfg;
    tx_queue_t *queue;
    tx_metrics_t *m;
    tx_regholder_t *registry;   //  loaded over lane 0's connection
    void *zmq_ctx;
    char ack_endpoint [64];
    struct tx_writer_t *main;   //  lane 0 (itself for lane 0)
    int lane;                   //  this lane's number
    struct tx_writer_t **lanes; //  lane 0 only: every lane, lanes [0] == itself
    int n_lanes;                //  lane 0 only
    struct tx_writer_t *folder; //  lane 0 only: the rollup fold's thread and connection, or NULL
    bool is_folder;             //  this is that one: it writes no groups
    int schema_version;         //  the database's, at the last check
    void *acks;                 //  PUSH, connected to the receiver; this lane's thread only
    PGconn *db;                 //  NULL while disconnected
    pthread_t thread;
    bool started;
    atomic_int stopping;        //  drain and stop
    atomic_llong deadline_ms;   //  give up on the database after this (when stopping)
    int64_t next_partitions_ms; //  next ensure_partitions call
    char dberr [256];           //  last database error, for logs
    char dbstate [6];           //  its SQLSTATE
    tx_buf_t copy;              //  scratch for one COPY stream
    tx_buf_t contents;          //  scratch for the content rows of one COPY stream
    int stage_races;            //  staging writes in a row refused by the events key
    int stage_groups;           //  groups to write through the staging table before trying direct COPY
    msgpack_sbuffer ack;        //  scratch for one ack
};

static tx_writer_t *
s_lane_new (const tx_config_t *cfg, tx_queue_t *queue, tx_regholder_t *registry, void *zmq_ctx,
            const char *ack_endpoint, tx_metrics_t *metrics, tx_writer_t *main, int lane)
{
    tx_writer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->queue = queue;
    self->zmq_ctx = zmq_ctx;
    self->m = metrics;
    self->registry = registry;
    snprintf (self->ack_endpoint, sizeof self->ack_endpoint, "%s", ack_endpoint);
    self->main = main ? main : self;
    self->lane = lane;
    msgpack_sbuffer_init (&self->ack);
    return self;
}

static void s_lane_destroy (tx_writer_t **self_p);

tx_writer_t *
tx_writer_new (const tx_config_t *cfg, tx_queue_t *queue, tx_regholder_t *registry, void *zmq_ctx,
               const char *ack_endpoint, tx_metrics_t *metrics)
{
    tx_writer_t *self = s_lane_new (cfg, queue, registry, zmq_ctx, ack_endpoint, metrics, NULL, 0);
    int n = cfg->writers > 0 ? cfg->writers : 1;
    if (self)
        self->lanes = calloc ((size_t) n, sizeof *self->lanes);
    if (!self || !self->lanes) {
        s_lane_destroy (&self);
        return NULL;
    }
    self->lanes [0] = self;
    self->n_lanes = 1;
    while (self->n_lanes < n) {
        self->lanes [self->n_lanes] = s_lane_new (cfg, queue, registry, zmq_ctx, ack_endpoint,
                                                  metrics, self, self->n_lanes);
        if (!self->lanes [self->n_lanes]) {
            tx_writer_destroy (&self);
            return NULL;
        }
        self->n_lanes++;
    }
    return self;
}

//  ----------------------------------------------------------------- database

static void
s_note_error (tx_writer_t *self, PGresult *r)
{
    const char *msg = r ? PQresultErrorField (r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = r ? PQresultErrorField (r, PG_DIAG_SQLSTATE) : NULL;
    snprintf (self->dberr, sizeof self->dberr, "%s", msg ? msg : PQerrorMessage (self->db));
    self->dberr [strcspn (self->dberr, "\n")] = 0;
    snprintf (self->dbstate, sizeof self->dbstate, "%s", state ? state : "");
}

//  Is the failure of the last command the connection's (retry) or the data's?
static wrc_t
s_classify (tx_writer_t *self)
{
    if (PQstatus (self->db) != CONNECTION_OK)
        return WR_RETRY;
    const char *s = self->dbstate;
    //  Classes 08 (connection), 40 (serialization, deadlock), 53 (resources),
    //  57 (operator intervention: shutdown), 58 (system), XX (internal).
    if (!*s || !strncmp (s, "08", 2) || !strncmp (s, "40", 2) || !strncmp (s, "53", 2)
    ||  !strncmp (s, "57", 2) || !strncmp (s, "58", 2) || !strncmp (s, "XX", 2))
        return WR_RETRY;
    //  Missing privileges or objects: retrying will not help, but neither is
    //  it the data's fault; keep retrying (and logging) so nothing is lost.
    if (!strncmp (s, "42", 2) || !strncmp (s, "3F", 2) || !strncmp (s, "28", 2))
        return WR_RETRY;
    return WR_FAIL;
}

//  The outcome of a command by its result r (cleared): WR_OK if its status
//  is want, else the failure, noted and classified.
static wrc_t
s_outcome (tx_writer_t *self, PGresult *r, ExecStatusType want)
{
    wrc_t rc = WR_OK;
    if (PQresultStatus (r) != want) {
        s_note_error (self, r);
        rc = s_classify (self);
    }
    PQclear (r);
    return rc;
}

static int
s_exec (tx_writer_t *self, const char *sql)
{
    PGresult *r = PQexec (self->db, sql);
    ExecStatusType st = PQresultStatus (r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        s_note_error (self, r);
        PQclear (r);
        return -1;
    }
    PQclear (r);
    return 0;
}

//  Closes the connection, if any; the database counts as down then.  (A
//  lane that had none, starting to connect while lane 0 is up, says
//  nothing: /healthz answered 503 in that moment after every start.)
static void
s_disconnect (tx_writer_t *self)
{
    if (self->db) {
        PQfinish (self->db);
        self->db = NULL;
        if (!self->is_folder)
            atomic_store (&self->m->db_up, 0);
    }
}

static int
s_prepare (tx_writer_t *self, const char *name, const char *sql)
{
    return s_outcome (self, PQprepare (self->db, name, sql, 0, NULL), PGRES_COMMAND_OK) == WR_OK ? 0 : -1;
}

//  The session: settings, the staging table, the prepared statements.
static int
s_setup_session (tx_writer_t *self)
{
    return s_exec (self, "SET synchronous_commit = on") != 0
        || s_exec (self, "SET client_min_messages = warning") != 0
        || s_exec (self, "CREATE TEMP TABLE tx_stage (seq bigint GENERATED ALWAYS AS IDENTITY, "
                         TX_COPY_COLUMN_TYPES ") ON COMMIT DELETE ROWS") != 0
        //  The staging write (copyrow.h: stored once by id and by content).
        || s_prepare (self, "tx_insert", TX_COPY_STORE_SQL ("tx_stage s")) != 0
        //  What each staged event repeats, in staging order: the stored
        //  event of its id, else of its content, and when it was received.
        || s_prepare (self, "tx_dups",
               "SELECT coalesce(e.event_id, c.event_id),"
               "       coalesce(e.received_at, c.received_at)"
               "  FROM tx_stage s"
               "  LEFT JOIN tongxin.events e ON e.event_id = s.event_id AND e.unit_code = s.unit_code"
               "  LEFT JOIN tongxin.event_contents c"
               "         ON c.unit_code = s.unit_code AND c.fingerprint = s.fingerprint"
               " ORDER BY s.seq") != 0
        || s_prepare (self, "tx_reject",
               "INSERT INTO tongxin.rejected_events (event_id, claimed_unit, sender, batch_id, reason,"
               " message, raw, raw_len, raw_sha256)"
               " VALUES ($1::uuid, $2, $3, $4::numeric, $5, $6, $7::bytea, $8::bigint, $9::bytea)") != 0
        ? -1 : 0;
}

//  The schema must be the one this collector was built for: schema_ok
//  says whether it is.  0, or -1 if the database could not tell.
static int
s_check_schema (tx_writer_t *self)
{
    PGresult *r = PQexec (self->db, "SELECT coalesce(max(version), 0) FROM tongxin.schema_migrations");
    if (PQresultStatus (r) != PGRES_TUPLES_OK) {
        s_note_error (self, r);
        PQclear (r);
        return -1;
    }
    int version = atoi (PQgetvalue (r, 0, 0));
    PQclear (r);
    self->schema_version = version;
    atomic_store (&self->m->schema_ok, version >= SCHEMA_VERSION_MIN);
    if (version < SCHEMA_VERSION_MIN)
        tx_log (TX_LOG_ERROR, "database schema is too old: run tongxin-admin migrate",
                "version=%d needed=%d", version, SCHEMA_VERSION_MIN);
    return 0;
}

//  Connects and prepares the session.  0 or -1 (logged).
static int
s_connect (tx_writer_t *self)
{
    s_disconnect (self);
    //  Keepalives so a dead server is noticed; an application name for pg_stat_activity.
    const char *keys [] = { "dbname", "application_name", "keepalives_idle", "keepalives_interval",
                            "keepalives_count", "connect_timeout", NULL };
    const char *vals [] = { self->cfg->db, "tongxin-collectord", "10", "5", "3", "10", NULL };
    self->db = PQconnectdbParams (keys, vals, 1);
    if (!self->db || PQstatus (self->db) != CONNECTION_OK) {
        snprintf (self->dberr, sizeof self->dberr, "%s", self->db ? PQerrorMessage (self->db) : "out of memory");
        self->dberr [strcspn (self->dberr, "\n")] = 0;
        s_disconnect (self);
        return -1;
    }
    if (s_setup_session (self) != 0 || s_check_schema (self) != 0
    //  The folder's own session gives up on a rebuild's locks rather
    //  than hold a shutdown.  (Against a schema 011 or 012, a lane's
    //  transactions only queue their events for it: 011_rollups_fold.sql;
    //  from 013 on nothing reads the setting.)
    ||  (self->cfg->fold_ms > 0 && !self->is_folder
         && s_exec (self, "SET tongxin.rollups = 'queue'") != 0)
    ||  (self->is_folder && s_exec (self, "SET lock_timeout = '" FOLD_LOCK_TIMEOUT "'") != 0)) {
        tx_log (TX_LOG_WARN, "database session setup failed", "err=%s", tx_log_q (self->dberr));
        s_disconnect (self);
        return -1;
    }
    if (self->is_folder)
        return 0;
    atomic_store (&self->m->db_up, 1);
    tx_log (TX_LOG_INFO, "database connected", NULL);
    return 0;
}

//  Partitions for the coming months; needs only EXECUTE on the function.
static void
s_partitions (tx_writer_t *self)
{
    int64_t now = tx_clock_ms ();
    if (now < self->next_partitions_ms)
        return;
    if (s_exec (self, "SELECT tongxin.ensure_partitions()") != 0)
        tx_log (TX_LOG_WARN, "creating partitions failed", "err=%s", tx_log_q (self->dberr));
    self->next_partitions_ms = now + 6 * 3600 * 1000;
}

//  ----------------------------------------------------------------- writing

//  The stored keys RETURNING gave: a small hash set by id.
typedef struct {
    const uint8_t *id;          //  16 bytes, in the PGresult
    const char *unit;           //  in the PGresult
    int unit_len;
    bool used;                  //  matched to an event already
} stored_key_t;

static size_t
s_key_hash (const uint8_t *id, size_t mask)
{
    uint64_t h;
    memcpy (&h, id + 8, 8);     //  the random half of a UUIDv7
    return (size_t) (h ^ (h >> 29)) & mask;
}

//  Is (id, unit) among the stored keys and not yet claimed?  Claims it.
static bool
s_claim (stored_key_t *set, size_t mask, const uint8_t *id, const char *unit, size_t unit_len)
{
    for (size_t i = s_key_hash (id, mask); set [i].id; i = (i + 1) & mask)
        if (!set [i].used && memcmp (set [i].id, id, 16) == 0
        &&  (size_t) set [i].unit_len == unit_len && memcmp (set [i].unit, unit, unit_len) == 0) {
            set [i].used = true;
            return true;
        }
    return false;
}

//  Which part of a group to write: every job whole, or one event of one job.
typedef struct {
    tx_job_t **jobs;
    size_t n;
    long only_event;            //  >= 0: only this accepted entry of jobs[0], no rejrows
    bool no_rejrows;            //  leave the rejected records out
} part_t;

#define COPY_STAGE    "COPY tx_stage (" TX_COPY_COLUMNS ") FROM STDIN (FORMAT binary)"
#define COPY_DIRECT   "COPY tongxin.events (" TX_COPY_COLUMNS ") FROM STDIN (FORMAT binary)"
#define COPY_CONTENTS "COPY tongxin.event_contents (" TX_COPY_CONTENT_COLUMNS ") FROM STDIN (FORMAT binary)"

//  Runs copy_sql with the stream in c (header, rows, no trailer yet).
static wrc_t
s_copy_stream (tx_writer_t *self, tx_buf_t *c, const char *copy_sql)
{
    if (tx_buf_be16 (c, TX_COPY_TRAILER) != 0)
        return WR_RETRY;
    wrc_t rc = s_outcome (self, PQexec (self->db, copy_sql), PGRES_COPY_IN);
    if (rc != WR_OK)
        return rc;
    if (PQputCopyData (self->db, (const char *) c->data, (int) c->len) != 1
    ||  PQputCopyEnd (self->db, NULL) != 1) {
        s_note_error (self, NULL);
        return WR_RETRY;
    }
    PGresult *r;
    while ((r = PQgetResult (self->db))) {
        wrc_t one = s_outcome (self, r, PGRES_COMMAND_OK);
        if (one != WR_OK)
            rc = one;
    }
    return rc;
}

//  An accepted event of a part, for sorting the content rows.
typedef struct {
    const tx_job_t *job;
    const tx_accepted_t *a;
} content_ref_t;

//  Content rows in key order: (unit, fingerprint).
static int
s_content_order (const void *x, const void *y)
{
    const content_ref_t *p = x, *q = y;
    size_t n = p->a->unit.len < q->a->unit.len ? p->a->unit.len : q->a->unit.len;
    int c = memcmp (tx_job_str (p->job, p->a->unit), tx_job_str (q->job, q->a->unit), n);
    if (c == 0)
        c = (p->a->unit.len > q->a->unit.len) - (p->a->unit.len < q->a->unit.len);
    return c ? c : memcmp (p->a->fp, q->a->fp, TX_CONTENT_FP_LEN);
}

//  The direct write's first stream: a row of event_contents per accepted
//  event of p, in key order, as the staging write claims them, so that two
//  writes claiming the same contents wait for each other, never deadlock.
//  Its key refuses a content the unit reported already (23505), and the
//  part is redone through the staging table, which tells stored from
//  duplicate.
static wrc_t
s_copy_contents (tx_writer_t *self, const part_t *p)
{
    size_t total = 0;
    for (size_t j = 0; j < p->n; j++)
        total += p->only_event >= 0 ? 1 : p->jobs [j]->n_accepted;
    if (total == 0)
        return WR_OK;
    content_ref_t *refs = malloc (total * sizeof *refs);
    if (!refs)
        return WR_RETRY;
    size_t n = 0;
    for (size_t j = 0; j < p->n; j++)
        for (size_t k = 0; k < p->jobs [j]->n_accepted; k++)
            if (p->only_event < 0 || (long) k == p->only_event)
                refs [n++] = (content_ref_t) { p->jobs [j], &p->jobs [j]->accepted [k] };
    qsort (refs, n, sizeof *refs, s_content_order);
    tx_buf_t *c = &self->contents;
    c->len = 0;
    int rc = tx_buf_append (c, tx_copy_header, sizeof tx_copy_header);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = tx_copyrow_content_append (c, tx_job_str (refs [i].job, refs [i].a->unit),
                                        refs [i].a->unit.len, refs [i].a->fp, refs [i].a->id);
    free (refs);
    return rc != 0 ? WR_RETRY : s_copy_stream (self, c, COPY_CONTENTS);
}

static wrc_t
s_copy (tx_writer_t *self, const part_t *p, const char *copy_sql, size_t *rows)
{
    tx_buf_t *c = &self->copy;
    c->len = 0;
    *rows = 0;
    if (tx_buf_append (c, tx_copy_header, sizeof tx_copy_header) != 0)
        return WR_RETRY;
    for (size_t j = 0; j < p->n; j++) {
        tx_job_t *job = p->jobs [j];
        if (p->only_event >= 0) {
            //  Find the row of that one accepted event: rows are in order.
            const uint8_t *row = job->rows.data;
            for (long k = 0; k < p->only_event; k++)
                row += tx_copyrow_len (row);
            if (tx_buf_append (c, row, tx_copyrow_len (row)) != 0)
                return WR_RETRY;
            *rows = 1;
        }
        else {
            if (tx_buf_append (c, job->rows.data, job->rows.len) != 0)
                return WR_RETRY;
            *rows += job->n_accepted;
        }
    }
    if (*rows == 0)
        return WR_OK;
    return s_copy_stream (self, c, copy_sql);
}

static wrc_t
s_insert_rejected (tx_writer_t *self, const tx_job_t *job, const tx_rejrow_t *rr)
{
    if (rr->not_kept)
        return WR_OK;
    char batch [24], total [24];
    snprintf (batch, sizeof batch, "%llu", (unsigned long long) job->batch_id);
    snprintf (total, sizeof total, "%zu", rr->raw_total);
    const char *code = rr->reason ? rr->reason
                     : rr->index >= 0 ? tx_reject_code_str (rr->code) : tx_error_code_str (rr->code);
    char *unit = NULL, *msg = NULL;
    if (rr->claimed_unit.len)
        unit = strndup (tx_job_str (job, rr->claimed_unit), rr->claimed_unit.len);
    msg = strndup (tx_job_str (job, rr->msg), rr->msg.len);
    const char *values [9] = {
        rr->has_id ? (const char *) rr->id : NULL, unit, job->sender,
        job->batch_id ? batch : NULL, code ? code : "malformed", msg ? msg : "",
        rr->raw.len ? tx_job_str (job, rr->raw) : "", total,
        rr->cut ? (const char *) rr->sha256 : NULL
    };
    int lengths [9] = { 16, 0, 0, 0, 0, 0, (int) rr->raw.len, 0, 32 };
    int formats [9] = { 1, 0, 0, 0, 0, 0, 1, 0, 1 };
    PGresult *r = PQexecPrepared (self->db, "tx_reject", 9, values, lengths, formats, 0);
    free (unit);
    free (msg);
    return s_outcome (self, r, PGRES_COMMAND_OK);
}

//  Committed: every accepted event of p is now stored or was there
//  already.  Fills in which, from the keys RETURNING gave (ret; direct:
//  every one was stored), and for the duplicates what they repeat (dups:
//  a row per accepted event in staging order, or NULL).  WR_OK, or
//  WR_RETRY out of memory.
static wrc_t
s_results (const part_t *p, PGresult *ret, PGresult *dups, bool direct)
{
    int row = 0;
    size_t n = ret ? (size_t) PQntuples (ret) : 0;
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    stored_key_t *set = calloc (cap, sizeof *set);
    if (!set) {
        tx_log (TX_LOG_ERROR, "out of memory after commit: acks withheld", NULL);
        return WR_RETRY;         //  redo: everything will be answered duplicate
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *id = (const uint8_t *) PQgetvalue (ret, (int) i, 0);
        size_t h = s_key_hash (id, cap - 1);
        while (set [h].id)
            h = (h + 1) & (cap - 1);
        set [h] = (stored_key_t) { id, PQgetvalue (ret, (int) i, 1), PQgetlength (ret, (int) i, 1), false };
    }
    for (size_t j = 0; j < p->n; j++) {
        tx_job_t *job = p->jobs [j];
        for (size_t k = 0; k < job->n_accepted; k++) {
            if (p->only_event >= 0 && (long) k != p->only_event)
                continue;
            tx_accepted_t *a = &job->accepted [k];
            bool stored = direct || s_claim (set, cap - 1, a->id, tx_job_str (job, a->unit), a->unit.len);
            job->results [a->index] = stored ? TX_RESULT_STORED : TX_RESULT_DUPLICATE;
            a->has_orig = false;
            if (!stored && dups && row < PQntuples (dups)
            &&  !PQgetisnull (dups, row, 0) && PQgetlength (dups, row, 0) == 16
            &&  !PQgetisnull (dups, row, 1) && PQgetlength (dups, row, 1) == 8) {
                const uint8_t *t = (const uint8_t *) PQgetvalue (dups, row, 1);
                uint64_t us = 0;
                for (int b = 0; b < 8; b++)
                    us = us << 8 | t [b];
                memcpy (a->orig, PQgetvalue (dups, row, 0), 16);
                a->orig_received_us = (int64_t) us + PG_EPOCH_UNIX_US;
                a->has_orig = true;
            }
            row++;
        }
    }
    free (set);
    return WR_OK;
}

//  Writes part p in one transaction and fills in stored / duplicate.
//  direct: COPY straight into tongxin.events, which succeeds only if no
//  event is there already (then every one is stored); a unique violation
//  aborts it and the caller redoes the part through the staging table,
//  where ON CONFLICT DO NOTHING RETURNING tells stored from duplicate.
static wrc_t
s_write_mode (tx_writer_t *self, const part_t *p, bool direct)
{
    if (!self->db)
        return WR_RETRY;
    if (s_exec (self, "BEGIN") != 0)
        return s_classify (self);
    //  Direct: the content rows first, as the staging write claims them
    //  before it stores the events, so that every write takes its locks in
    //  one order (content keys, in key order, then the events and the
    //  rollup rows their trigger updates): no deadlock between two
    //  writes of the same contents, whichever path each takes.
    size_t rows = 0;
    wrc_t rc = direct ? s_copy_contents (self, p) : WR_OK;
    if (rc == WR_OK)
        rc = s_copy (self, p, direct ? COPY_DIRECT : COPY_STAGE, &rows);
    PGresult *ret = NULL, *dups = NULL;
    if (rc == WR_OK && rows && !direct) {
        ret = PQexecPrepared (self->db, "tx_insert", 0, NULL, NULL, NULL, 1);
        if (PQresultStatus (ret) != PGRES_TUPLES_OK) {
            s_note_error (self, ret);
            rc = s_classify (self);
        }
        //  Some were not stored: what do they repeat?  (Before COMMIT,
        //  which empties the staging table.)
        else
        if ((size_t) PQntuples (ret) < rows) {
            dups = PQexecPrepared (self->db, "tx_dups", 0, NULL, NULL, NULL, 1);
            if (PQresultStatus (dups) != PGRES_TUPLES_OK) {
                s_note_error (self, dups);
                rc = s_classify (self);
            }
        }
    }
    for (size_t j = 0; rc == WR_OK && j < p->n && p->only_event < 0 && !p->no_rejrows; j++)
        for (size_t k = 0; rc == WR_OK && k < p->jobs [j]->n_rejrows; k++)
            rc = s_insert_rejected (self, p->jobs [j], &p->jobs [j]->rejrows [k]);
    if (rc == WR_OK && s_exec (self, "COMMIT") != 0)
        rc = s_classify (self);
    if (rc != WR_OK) {
        //  Any error on or before COMMIT: no ack; roll back if still possible.
        PQclear (ret);
        PQclear (dups);
        if (PQstatus (self->db) == CONNECTION_OK && PQtransactionStatus (self->db) != PQTRANS_IDLE)
            PQclear (PQexec (self->db, "ROLLBACK"));
        return rc;
    }
    atomic_fetch_add (&self->m->transactions, 1);
    rc = s_results (p, ret, dups, direct);
    PQclear (ret);
    PQclear (dups);
    return rc;
}

static wrc_t
s_write (tx_writer_t *self, const part_t *p)
{
    //  The fast path unless duplicates were seen lately (resends come in
    //  bursts after reconnects): then the staging path for a while.
    if (self->stage_groups > 0)
        self->stage_groups--;
    else {
        wrc_t rc = s_write_mode (self, p, true);
        if (rc != WR_FAIL || strcmp (self->dbstate, "23505") != 0) {
            if (rc == WR_OK)
                self->stage_races = 0;
            return rc;
        }
        atomic_fetch_add (&self->m->fast_path_misses, 1);
        self->stage_groups = 16;
    }
    wrc_t rc = s_write_mode (self, p, false);
    //  An id another collector stored while this write ran: redo it (the
    //  next attempt sees that event and answers duplicate).
    if (rc == WR_FAIL && strcmp (self->dbstate, "23505") == 0 && self->stage_races++ < STAGE_RACES_MAX)
        return WR_RETRY;
    if (rc == WR_OK)
        self->stage_races = 0;
    return rc;
}

//  Reconnects until it works or the drain deadline passes.  0 or -1.
static int
s_reconnect (tx_writer_t *self)
{
    int backoff = 100;
    for (;;) {
        if (atomic_load (&self->main->stopping) && tx_clock_ms () > atomic_load (&self->main->deadline_ms))
            return -1;
        if (s_connect (self) == 0) {
            if (self->lane == 0)
                tx_regholder_load (self->registry, self->db);
            return 0;
        }
        tx_log (TX_LOG_WARN, "database unreachable", "retry_ms=%d err=%s", backoff, tx_log_q (self->dberr));
        //  Sleep in slices: a stop must not wait out the whole backoff.
        for (int64_t wake = tx_clock_ms () + backoff; tx_clock_ms () < wake; ) {
            if (atomic_load (&self->main->stopping) && tx_clock_ms () > atomic_load (&self->main->deadline_ms))
                return -1;
            struct timespec ts = { 0, 50 * 1000000L };
            nanosleep (&ts, NULL);
        }
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
}

//  Writes p, retrying through connection trouble.  WR_OK, WR_FAIL (data
//  error), or WR_RETRY when giving up at the drain deadline.
static wrc_t
s_write_retry (tx_writer_t *self, const part_t *p)
{
    for (;;) {
        int64_t t0 = tx_clock_us ();
        wrc_t rc = s_write (self, p);
        if (rc == WR_OK) {
            tx_metrics_commit (self->m, tx_clock_us () - t0);
            return WR_OK;
        }
        atomic_fetch_add (&self->m->db_errors, 1);
        if (rc == WR_FAIL)
            return WR_FAIL;
        tx_log (TX_LOG_WARN, "transaction failed, retrying", "sqlstate=%s err=%s",
                *self->dbstate ? self->dbstate : "-", tx_log_q (self->dberr));
        if (PQstatus (self->db) != CONNECTION_OK || !*self->dbstate || !strncmp (self->dbstate, "57", 2)) {
            atomic_store (&self->m->db_up, 0);
            if (s_reconnect (self) != 0)
                return WR_RETRY;
        }
        else {
            if (atomic_load (&self->main->stopping) && tx_clock_ms () > atomic_load (&self->main->deadline_ms))
                return WR_RETRY;
            struct timespec ts = { 0, 100 * 1000000L };
            nanosleep (&ts, NULL);
        }
    }
}

//  Logs a refusal by the database once per cause (SQLSTATE and message):
//  a flood of refusals of one cause gives one line, and the count is in
//  tongxin_events_rejected_total{code="db_refused"}.
static void
s_log_refusal_cause (tx_writer_t *self)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static uint64_t seen [64];      //  the causes logged so far, the last 64
    static size_t n_seen;
    char cause [sizeof self->dbstate + sizeof self->dberr];
    int len = snprintf (cause, sizeof cause, "%s %s", self->dbstate, self->dberr);
    uint64_t h = tx_strmap_hash (cause, len < 0 ? 0 : strnlen (cause, sizeof cause));
    bool first = true;
    pthread_mutex_lock (&lock);
    for (size_t i = 0; i < n_seen && i < 64 && first; i++)
        first = seen [i] != h;
    if (first)
        seen [n_seen++ % 64] = h;
    pthread_mutex_unlock (&lock);
    tx_log (first ? TX_LOG_ERROR : TX_LOG_DEBUG,
            "the database refused an event the validator passed; kept whole as db_refused for"
            " tongxin-admin rejected replay (logged once per cause)",
            "sqlstate=%s err=%s", self->dbstate, tx_log_q (self->dberr));
}

//  A job whose transaction failed on data: store its events one by one, turn
//  the ones the database refuses into rejections, then record the rejections.
//  A refused event keeps all its bytes (db_refused): it was valid, so the
//  cause is the database's (a bug, a constraint added by hand, a trigger),
//  and the operator replays it once the cause is fixed (docs/operations.md).
//  It is answered as refused, not "retry later": a cause that lasts would
//  otherwise hold the event, and everything behind it, in the producer's
//  spool forever.
static wrc_t
s_write_isolated (tx_writer_t *self, tx_job_t *job)
{
    tx_job_t *one [1] = { job };
    for (size_t k = 0; k < job->n_accepted; k++) {
        part_t p = { one, 1, (long) k, true };
        wrc_t rc = s_write_retry (self, &p);
        if (rc == WR_RETRY)
            return rc;
        if (rc == WR_FAIL) {
            tx_accepted_t *a = &job->accepted [k];
            char msg [400];
            snprintf (msg, sizeof msg, "the database refused the event (%s: %s); the collector kept it"
                      " for replay once the cause is fixed", self->dbstate, self->dberr);
            s_log_refusal_cause (self);
            //  The unit and the bytes are in the job's store already: the
            //  row refers to them (a copy could move the store under them).
            tx_span_t unit = a->unit;
            //  Out of memory for the message: the row goes without it
            //  (that call allocates nothing).
            if (tx_job_reject (job, (int32_t) a->index, a->id, TX_REJECT_DB_REFUSED,
                               NULL, 0, msg, NULL, 0, 0) != 0)
                tx_job_reject (job, (int32_t) a->index, a->id, TX_REJECT_DB_REFUSED,
                               NULL, 0, "", NULL, 0, 0);
            tx_rejrow_t *r = &job->rejrows [job->n_rejrows - 1];
            r->claimed_unit = unit;
            r->raw = a->raw;
            r->raw_total = a->raw.len;
        }
    }
    job->n_accepted = 0;        //  every accepted event has its result now
    part_t p = { one, 1, -1, false };
    wrc_t rc = s_write_retry (self, &p);
    if (rc == WR_FAIL) {
        //  A text column refused: record the rows again with only what
        //  cannot fail (the code, the sender, the bytes) so no refused
        //  event goes unrecorded.
        tx_log (TX_LOG_ERROR, "cannot record rejected events; recording them without their texts",
                "err=%s", tx_log_q (self->dberr));
        for (size_t k = 0; k < job->n_rejrows; k++) {
            job->rejrows [k].claimed_unit.len = 0;
            job->rejrows [k].msg.len = 0;
        }
        rc = s_write_retry (self, &p);
        if (rc == WR_FAIL)
            tx_log (TX_LOG_ERROR, "cannot record rejected events", "err=%s", tx_log_q (self->dberr));
    }
    return rc;
}

//  Packs a whole-message refusal of job into self->ack.  0 or -1 (err).
static int
s_pack_error (tx_writer_t *self, const tx_job_t *job, char *err, size_t errlen)
{
    //  The message is a span of the job's store, not NUL-terminated.
    char *msg = job->n_rejrows ? strndup (tx_job_str (job, job->rejrows [0].msg),
                                          job->rejrows [0].msg.len) : NULL;
    int rc = tx_wire_pack_error (&self->ack, job->batch_id, job->error, msg ? msg : "", err, errlen);
    free (msg);
    atomic_fetch_add (&self->m->messages_refused [job->error], 1);
    return rc;
}

//  Packs the ack of job (a result per event, the rejected ones with their
//  codes) into self->ack, and counts the outcomes.  0 or -1 (err).
static int
s_pack_ack (tx_writer_t *self, const tx_job_t *job, char *err, size_t errlen)
{
    tx_rejected_t rej [TX_WIRE_MAX_EVENTS] = { { 0 } };
    char *msgs [TX_WIRE_MAX_EVENTS];
    size_t nr = 0;
    for (size_t k = 0; k < job->n_rejrows; k++) {
        const tx_rejrow_t *r = &job->rejrows [k];
        if (r->index < 0)
            continue;
        msgs [nr] = strndup (tx_job_str (job, r->msg), r->msg.len);
        rej [nr] = (tx_rejected_t) { .index = (size_t) r->index, .code = r->code,
                                     .msg = msgs [nr] ? msgs [nr] : "" };
        atomic_fetch_add (&self->m->events_rejected [r->code], 1);
        nr++;
    }
    for (size_t i = 0; i < job->count; i++) {
        if (job->results [i] == TX_RESULT_STORED)
            atomic_fetch_add (&self->m->events_stored, 1);
        else
        if (job->results [i] == TX_RESULT_DUPLICATE)
            atomic_fetch_add (&self->m->events_duplicate, 1);
    }
    //  Revision 1.2: what each duplicate repeats.
    tx_dup_t dups [TX_WIRE_MAX_EVENTS];
    size_t nd = 0;
    for (size_t k = 0; k < job->n_accepted; k++) {
        const tx_accepted_t *a = &job->accepted [k];
        if (!a->has_orig || job->results [a->index] != TX_RESULT_DUPLICATE)
            continue;
        if (memcmp (a->orig, a->id, 16) != 0)
            atomic_fetch_add (&self->m->events_duplicate_content, 1);
        if (job->want_dups) {
            dups [nd] = (tx_dup_t) { .index = a->index,
                                     .at_sec = a->orig_received_us / 1000000,
                                     .at_nsec = (uint32_t) (a->orig_received_us % 1000000) * 1000 };
            if (a->orig_received_us < 0 && a->orig_received_us % 1000000) {
                dups [nd].at_sec--;
                dups [nd].at_nsec = (uint32_t) (a->orig_received_us % 1000000 + 1000000) * 1000;
            }
            memcpy (dups [nd].id, a->orig, 16);
            nd++;
        }
    }
    int rc = tx_wire_pack_ack_rev (&self->ack, job->batch_id, job->results, job->count, rej, nr,
                                   job->rev, dups, nd, err, errlen);
    for (size_t k = 0; k < nr; k++)
        free (msgs [k]);
    return rc;
}

//  Sends a job's reply to the receiver, which forwards it to the producer.
static void
s_reply (tx_writer_t *self, tx_job_t *job)
{
    char err [128];
    int rc = job->error ? s_pack_error (self, job, err, sizeof err)
                        : s_pack_ack (self, job, err, sizeof err);
    if (rc != 0) {
        tx_log (TX_LOG_ERROR, "cannot pack a reply", "batch=%llu err=%s",
                (unsigned long long) job->batch_id, tx_log_q (err));
        return;
    }
    if (zmq_send (self->acks, job->rid, job->rid_len, ZMQ_SNDMORE) < 0
    ||  zmq_send (self->acks, self->ack.data, self->ack.size, 0) < 0)
        tx_log (TX_LOG_ERROR, "cannot hand a reply to the receiver", "err=%s", tx_log_q (zmq_strerror (zmq_errno ())));
}

static void
s_finish (tx_writer_t *self, tx_job_t **jobs, size_t *bytes, size_t n, bool reply)
{
    for (size_t j = 0; j < n; j++) {
        if (reply)
            s_reply (self, jobs [j]);
        tx_job_destroy (&jobs [j]);
        tx_queue_done (self->queue, bytes [j]);
    }
    size_t qj, qb;
    tx_queue_stats (self->queue, &qj, &qb);
    atomic_store (&self->m->queue_jobs, (long long) qj);
    atomic_store (&self->m->queue_bytes, (long long) qb);
}

//  Lane 0's chores between groups: a registry load when one is due, the
//  partitions now and then.
static void
s_lane0_chores (tx_writer_t *self)
{
    if (tx_regholder_due (self->registry, tx_clock_ms ()))
        if (tx_regholder_load (self->registry, self->db) != 0 && PQstatus (self->db) != CONNECTION_OK)
            s_disconnect (self);
    if (self->db)
        s_partitions (self);
}

//  Idle: look at the connection now and then, so /healthz and
//  tongxin_database_up tell the truth without traffic.
static void
s_idle_check (tx_writer_t *self, int64_t *next_ping)
{
    if (self->db && tx_clock_ms () >= *next_ping) {
        if (s_exec (self, "SELECT 1") != 0) {
            tx_log (TX_LOG_WARN, "database check failed", "err=%s", tx_log_q (self->dberr));
            s_disconnect (self);
        }
        *next_ping = tx_clock_ms () + IDLE_PING_MS;
    }
}

//  Gathers a group starting with job: up to cap jobs, group-events events
//  or group-ms milliseconds.  Returns the number of jobs.
static size_t
s_gather (tx_writer_t *self, tx_job_t *job, tx_job_t **jobs, size_t *bytes, size_t cap)
{
    size_t n = 0, events = 0;
    int64_t until = tx_clock_ms () + self->cfg->group_ms;
    for (;;) {
        jobs [n] = job;
        bytes [n++] = tx_job_bytes (job);
        events += job->count;
        if (n == cap || events >= (size_t) self->cfg->group_events)
            return n;
        int64_t left = until - tx_clock_ms ();
        job = tx_queue_pop (self->queue, left > 0 ? (int) left : 0);
        if (!job)
            return n;
    }
}

//  Writes a group; WR_OK, or WR_RETRY when giving up at the drain deadline.
static wrc_t s_write_group_timed (tx_writer_t *self, tx_job_t **jobs, size_t n);

static wrc_t
s_write_group (tx_writer_t *self, tx_job_t **jobs, size_t n)
{
    //  How long the lanes write, for the folder (s_fold_busy_us).
    int64_t t0 = tx_clock_us ();
    //  (The start is added before the count and taken away after it, so
    //  that a reader, who reads the count first, can only undercount.)
    atomic_fetch_add (&self->m->writes_open_since_us, (unsigned long long) t0);
    atomic_fetch_add (&self->m->writes_open, 1);
    wrc_t rc = s_write_group_timed (self, jobs, n);
    atomic_fetch_sub (&self->m->writes_open, 1);
    atomic_fetch_add (&self->m->write_busy_us, (unsigned long long) (tx_clock_us () - t0));
    atomic_fetch_sub (&self->m->writes_open_since_us, (unsigned long long) t0);
    return rc;
}

static wrc_t
s_write_group_timed (tx_writer_t *self, tx_job_t **jobs, size_t n)
{
    part_t p = { jobs, n, -1, false };
    wrc_t rc = s_write_retry (self, &p);
    if (rc != WR_FAIL)
        return rc;
    //  One of the jobs holds something the database refuses: write each
    //  alone, and isolate the event inside the one that fails.
    tx_log (TX_LOG_WARN, "group refused by the database; splitting", "sqlstate=%s err=%s",
            self->dbstate, tx_log_q (self->dberr));
    rc = WR_OK;
    for (size_t j = 0; j < n && rc != WR_RETRY; j++) {
        part_t one = { &jobs [j], 1, -1, false };
        rc = s_write_retry (self, &one);
        if (rc == WR_FAIL)
            rc = s_write_isolated (self, jobs [j]);
    }
    return rc;
}

//  Whatever is still queued is dropped unacknowledged (producers resend).
static void
s_drop_queued (tx_writer_t *self)
{
    tx_job_t *left;
    while ((left = tx_queue_pop (self->queue, 0))) {
        size_t b = tx_job_bytes (left);
        tx_job_destroy (&left);
        tx_queue_done (self->queue, b);
    }
}

static void *
s_thread (void *arg)
{
    tx_writer_t *self = arg;
    self->acks = zmq_socket (self->zmq_ctx, ZMQ_PUSH);
    int hwm = 0;
    zmq_setsockopt (self->acks, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_connect (self->acks, self->ack_endpoint);

    int64_t next_ping = tx_clock_ms () + IDLE_PING_MS;
    size_t cap = 1024;
    tx_job_t **jobs = malloc (cap * sizeof *jobs);
    size_t *bytes = malloc (cap * sizeof *bytes);
    while (jobs && bytes) {
        if (!self->db && s_reconnect (self) != 0)
            break;
        if (self->lane == 0)
            s_lane0_chores (self);
        tx_job_t *job = tx_queue_pop (self->queue, 100);
        if (!job) {
            if (atomic_load (&self->main->stopping) && self->queue->closed && !self->queue->head)
                break;
            s_idle_check (self, &next_ping);
            continue;
        }
        next_ping = tx_clock_ms () + IDLE_PING_MS;
        size_t n = s_gather (self, job, jobs, bytes, cap);
        if (s_write_group (self, jobs, n) == WR_RETRY) {
            //  Giving up at shutdown with the database down: no acks; the
            //  producers still hold these events and will resend them.
            tx_log (TX_LOG_WARN, "shutting down with unwritten batches; producers will resend",
                    "batches=%zu", n);
            s_finish (self, jobs, bytes, n, false);
            break;
        }
        s_finish (self, jobs, bytes, n, true);
    }
    s_drop_queued (self);
    free (jobs);
    free (bytes);
    zmq_close (self->acks);
    s_disconnect (self);
    return NULL;
}

//  ----------------------------------------------------------------- the fold

//  One fold of the events committed since the last into the folded rollup
//  tables: how many it took.  Another collector's fold holding the turn is
//  no failure (-1: the next fold takes the rows); neither is a schema older
//  than 011 (its trigger still does the work).
static long long
s_fold (tx_writer_t *self)
{
    if (self->schema_version < SCHEMA_VERSION_FOLD && s_check_schema (self) != 0) {
        s_disconnect (self);
        return 0;
    }
    if (self->schema_version < SCHEMA_VERSION_FOLD)
        return 0;
    int64_t t0 = tx_clock_us ();
    PGresult *r = PQexec (self->db, "SELECT tongxin.fold_rollups()");
    if (PQresultStatus (r) != PGRES_TUPLES_OK) {
        s_note_error (self, r);
        PQclear (r);
        tx_log (TX_LOG_WARN, "folding the rollups failed; the next fold retries", "sqlstate=%s err=%s",
                self->dbstate, tx_log_q (self->dberr));
        if (PQstatus (self->db) != CONNECTION_OK)
            s_disconnect (self);
        return 0;
    }
    long long n = atoll (PQgetvalue (r, 0, 0));
    PQclear (r);
    if (n > 0) {
        atomic_fetch_add (&self->m->folds, 1);
        atomic_fetch_add (&self->m->events_folded, (unsigned long long) n);
    }
    if (n > 0)
        tx_log (TX_LOG_DEBUG, "rollups folded", "events=%lld ms=%lld", n,
                (long long) (tx_clock_us () - t0) / 1000);
    return n;
}

//  The lanes' time spent writing until NOW (us): the writes done and the
//  part of those under way.
static int64_t
s_fold_busy_us (tx_writer_t *self, int64_t now)
{
    int64_t open = (int64_t) atomic_load (&self->m->writes_open);
    int64_t since = (int64_t) atomic_load (&self->m->writes_open_since_us);
    int64_t done = (int64_t) atomic_load (&self->m->write_busy_us);
    //  (The count read first: a write that begins or ends between the
    //  reads has its start in since and not in open, never the reverse,
    //  so under_way can only come out short, or below 0.)
    int64_t under_way = open * now - since;
    return done + (under_way > 0 ? under_way : 0);
}

//  The folder's thread: a fold every fold-ms, and a last one when stopping
//  (events the lanes commit after it wait for the next collector's fold,
//  or tongxin-admin rollups fold).  The views count unfolded events too
//  (013_rollups_live.sql), so the fold yields to the writers: it waits
//  while the lanes spent more than half their time writing, over the last
//  period or over its last FOLD_RECENT_MS (a burst that has just begun),
//  at most FOLD_YIELD_MAX periods in a row.
static void *
s_fold_thread (void *arg)
{
    tx_writer_t *self = arg;
    int lanes = self->main->n_lanes;
    int64_t next = tx_clock_ms () + self->cfg->fold_ms;
    int yielded = 0;
    //  Samples of (time, lanes' write time) every 20 ms; the oldest of the
    //  period and of the recent window.
    int64_t p_t = tx_clock_us (), p_w = s_fold_busy_us (self, p_t);
    int64_t r_t [FOLD_RECENT_MS * 1000 / FOLD_SAMPLE_US], r_w [FOLD_RECENT_MS * 1000 / FOLD_SAMPLE_US];
    int r_n = FOLD_RECENT_MS * 1000 / FOLD_SAMPLE_US, r_i = 0;
    for (int i = 0; i < r_n; i++) {
        r_t [i] = p_t;
        r_w [i] = p_w;
    }
    for (;;) {
        bool stop = atomic_load (&self->main->stopping);
        int64_t now = tx_clock_us (), w = s_fold_busy_us (self, now);
        if (!stop && now / 1000 < next) {
            r_t [r_i] = now;
            r_w [r_i] = w;
            r_i = (r_i + 1) % r_n;
            struct timespec ts = { 0, FOLD_SAMPLE_US * 1000 };
            nanosleep (&ts, NULL);
            continue;
        }
        //  The lanes' share of time spent writing, 0..1 (r_i: the oldest).
        double period = now > p_t ? (double) (w - p_w) / (double) (now - p_t) / lanes : 0;
        double recent = now > r_t [r_i] ? (double) (w - r_w [r_i]) / (double) (now - r_t [r_i]) / lanes : 0;
        if (!stop && !self->db)
            s_connect (self);
        if (!stop && self->db && (period > 0.5 || recent > 0.5) && yielded < FOLD_YIELD_MAX) {
            yielded++;
            atomic_fetch_add (&self->m->folds_yielded, 1);
            tx_log (TX_LOG_DEBUG, "rollup fold put off: the writers are busy", "period=%.2f recent=%.2f",
                    period, recent);
        }
        else {
            //  (Stopping without a connection: no new one, no last fold.)
            if (self->db)
                s_fold (self);
            yielded = 0;
        }
        if (stop)
            break;
        p_t = tx_clock_us ();
        p_w = s_fold_busy_us (self, p_t);
        next = p_t / 1000 + (self->db ? self->cfg->fold_ms : 1000);
    }
    s_disconnect (self);
    return NULL;
}

int
tx_writer_start (tx_writer_t *self, volatile sig_atomic_t *interrupted)
{
    //  The first connection and registry load happen here, so the caller
    //  knows the database works before it binds and says READY.
    int tries = 0;
    while (s_connect (self) != 0 || tx_regholder_load (self->registry, self->db) != 0) {
        if (++tries == 1)
            tx_log (TX_LOG_WARN, "waiting for the database", "err=%s", tx_log_q (self->dberr));
        if (*interrupted)
            return -1;
        struct timespec ts = { 1, 0 };
        nanosleep (&ts, NULL);
    }
    s_partitions (self);
    //  The other lanes connect in their threads.
    for (int i = 0; i < self->n_lanes; i++) {
        tx_writer_t *lane = self->lanes [i];
        if (pthread_create (&lane->thread, NULL, s_thread, lane) != 0)
            return -1;
        char name [16];
        snprintf (name, sizeof name, "tx-writer-%d", i % 100);
        pthread_setname_np (lane->thread, name);        //  for top, perf and bench
        lane->started = true;
    }
    if (self->cfg->fold_ms > 0) {
        self->folder = s_lane_new (self->cfg, self->queue, self->registry, self->zmq_ctx,
                                   self->ack_endpoint, self->m, self, -1);
        if (!self->folder)
            return -1;
        self->folder->is_folder = true;
        if (pthread_create (&self->folder->thread, NULL, s_fold_thread, self->folder) != 0)
            return -1;
        pthread_setname_np (self->folder->thread, "tx-fold");
        self->folder->started = true;
    }
    return 0;
}

void
tx_writer_stop (tx_writer_t *self, int64_t deadline_ms)
{
    atomic_store (&self->deadline_ms, deadline_ms);
    atomic_store (&self->stopping, 1);
    tx_queue_close (self->queue);
}

static void
s_lane_destroy (tx_writer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tx_writer_t *self = *self_p;
    if (self->started)
        pthread_join (self->thread, NULL);
    s_disconnect (self);
    tx_buf_reset (&self->copy);
    tx_buf_reset (&self->contents);
    msgpack_sbuffer_destroy (&self->ack);
    free (self);
    *self_p = NULL;
}

void
tx_writer_destroy (tx_writer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tx_writer_t *self = *self_p;
    if (self->started && !atomic_load (&self->stopping))
        tx_writer_stop (self, tx_clock_ms ());      //  not stopped (a failed start): stop now
    for (int i = 1; self->lanes && i < self->n_lanes; i++)
        s_lane_destroy (&self->lanes [i]);
    s_lane_destroy (&self->folder);
    free (self->lanes);
    s_lane_destroy (self_p);
}
