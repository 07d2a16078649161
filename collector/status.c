/*  status.c: producers' state in memory, written in rounds (status.h).  */
#include "status.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "safetext.h"
#include "strmap.h"
#include "utf8.h"

#define STATUS_MIN_US  INT64_C (946684800000000)   //  2000-01-01T00:00:00Z
#define STATUS_CHUNK   2000                        //  units per statement
#define STATUS_RETRY_MS 5000                       //  reconnect at most this often

//  One unit.  Times are unix µs, 0 = not known.
typedef struct {
    char unit [TX_WIRE_MAX_CODE + 1];
    int64_t connected_us;
    int64_t seen_us;
    int64_t event_us;
    int64_t status_us;              //  when the latest status arrived (our clock)
    int64_t backlog;
    int64_t oldest_us;              //  0: none
    int64_t verdict_us;             //  0: none
    char software [TX_WIRE_MAX_SOFTWARE + 1];   //  "": not told
    bool dirty;                     //  changed since the last round
} entry_t;

struct tx_status_t {
    const tx_config_t *cfg;
    tx_metrics_t *m;
    char name [201];                //  this collector, for the "collector" column
    pthread_mutex_t lock;           //  guards everything below
    pthread_cond_t cond;            //  wakes the thread to stop
    tx_strmap_t *index;             //  unit -> entry
    entry_t **entries;              //  every unit seen
    size_t n, cap;
    size_t n_dirty;                 //  entries with dirty set
    bool stop;
    bool started;
    pthread_t thread;
    PGconn *db;                     //  the thread's own connection
    int64_t db_retry_ms;
};

//  ----------------------------------------------------------------- memory

//  The unit's entry, made if new; NULL for a unit that is not a unit code
//  or out of memory.  Under the lock.
static entry_t *
s_entry (tx_status_t *self, const char *unit)
{
    size_t len = strlen (unit);
    if (len == 0 || len > TX_WIRE_MAX_CODE)
        return NULL;
    entry_t *e = tx_strmap_get (self->index, unit, len);
    if (e)
        return e;
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 256;
        entry_t **p = realloc (self->entries, cap * sizeof *p);
        if (!p)
            return NULL;
        self->entries = p;
        self->cap = cap;
    }
    e = calloc (1, sizeof *e);
    if (!e || tx_strmap_put (self->index, unit, len, e) != 0) {
        free (e);
        return NULL;
    }
    memcpy (e->unit, unit, len + 1);
    self->entries [self->n++] = e;
    return e;
}

static void
s_dirty (tx_status_t *self, entry_t *e)
{
    if (!e->dirty) {
        e->dirty = true;
        self->n_dirty++;
    }
}

void
tx_status_connected (tx_status_t *self, const char *unit, int64_t now_us)
{
    if (!self || !unit)
        return;
    pthread_mutex_lock (&self->lock);
    entry_t *e = s_entry (self, unit);
    if (e && now_us > e->connected_us) {
        e->connected_us = now_us;
        s_dirty (self, e);
    }
    pthread_mutex_unlock (&self->lock);
}

void
tx_status_seen (tx_status_t *self, const char *unit, int64_t now_us, bool events)
{
    if (!self || !unit)
        return;
    pthread_mutex_lock (&self->lock);
    entry_t *e = s_entry (self, unit);
    if (e) {
        if (now_us > e->seen_us)
            e->seen_us = now_us;
        if (events && now_us > e->event_us)
            e->event_us = now_us;
        s_dirty (self, e);
    }
    pthread_mutex_unlock (&self->lock);
}

//  A status time in µs, or -1 if outside [2000-01-01, now + skew].
static int64_t
s_time_us (int64_t sec, uint32_t nsec, int64_t max_us)
{
    if (sec < STATUS_MIN_US / 1000000 || sec > max_us / 1000000)
        return -1;
    int64_t us = sec * 1000000 + nsec / 1000;
    return us > max_us ? -1 : us;
}

int
tx_status_report (tx_status_t *self, const char *unit, const tx_status_msg_t *st,
                  int64_t now_us, int64_t max_skew_us, char *err, size_t errlen)
{
    int64_t max_us = now_us + max_skew_us;
    int64_t oldest = 0, verdict = 0;
    if (st->has_oldest && (oldest = s_time_us (st->oldest_sec, st->oldest_nsec, max_us)) < 0) {
        snprintf (err, errlen, "'oldest' is before 2000 or ahead of our clock");
        return -1;
    }
    if (st->has_verdict && (verdict = s_time_us (st->verdict_sec, st->verdict_nsec, max_us)) < 0) {
        snprintf (err, errlen, "'verdict' is before 2000 or ahead of our clock");
        return -1;
    }
    if (st->backlog > INT64_MAX || (st->software && st->software_len > TX_WIRE_MAX_SOFTWARE)) {
        snprintf (err, errlen, "backlog or software out of bounds");
        return -1;
    }
    pthread_mutex_lock (&self->lock);
    entry_t *e = s_entry (self, unit);
    if (e) {
        e->status_us = now_us;
        e->backlog = (int64_t) st->backlog;
        e->oldest_us = oldest;
        e->verdict_us = verdict;
        if (st->software) {
            memcpy (e->software, st->software, st->software_len);
            e->software [st->software_len] = 0;
        }
        else
            e->software [0] = 0;
        s_dirty (self, e);
    }
    pthread_mutex_unlock (&self->lock);
    return 0;
}

void
tx_status_message (tx_status_t *self, const char *unit, int rc, const tx_status_msg_t *st,
                   const char *err, int64_t max_skew_us)
{
    if (!self || !unit) {
        //  Insecure mode: no unit is authenticated, and a status names none.
        return;
    }
    char why [128];
    if (rc == TX_WIRE_OK
    &&  tx_status_report (self, unit, st, tx_status_wall_us (), max_skew_us, why, sizeof why) == 0) {
        atomic_fetch_add (&self->m->status_received, 1);
        return;
    }
    atomic_fetch_add (&self->m->status_refused, 1);
    tx_log (TX_LOG_DEBUG, "status refused", "unit=%s err=%s", unit,
            tx_log_q (rc == TX_WIRE_OK ? why : err));
}

size_t
tx_status_units (tx_status_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t n = self->n;
    pthread_mutex_unlock (&self->lock);
    return n;
}

//  ----------------------------------------------------------------- database

static void
s_disconnect (tx_status_t *self)
{
    if (self->db)
        PQfinish (self->db);
    self->db = NULL;
}

//  The thread's connection, (re)opened at most every 5 s.  0 or -1.
static int
s_connect (tx_status_t *self)
{
    if (self->db && PQstatus (self->db) == CONNECTION_OK)
        return 0;
    int64_t now = tx_clock_ms ();
    if (now < self->db_retry_ms)
        return -1;
    s_disconnect (self);
    self->db_retry_ms = now + STATUS_RETRY_MS;
    const char *keys [] = { "dbname", "application_name", "connect_timeout", NULL };
    const char *vals [] = { self->cfg->db, "tongxin-collectord-status", "5", NULL };
    self->db = PQconnectdbParams (keys, vals, 1);
    if (PQstatus (self->db) != CONNECTION_OK) {
        tx_log (TX_LOG_WARN, "status: cannot connect to the database; will retry",
                "err=%s", tx_log_q (PQerrorMessage (self->db)));
        s_disconnect (self);
        return -1;
    }
    //  A round must not hang on a lock: it is retried anyway.
    PQclear (PQexec (self->db, "SET statement_timeout = '10s'"));
    return 0;
}

//  Appends one element of a PostgreSQL array literal: NULL, or the text
//  in double quotes with " and \ escaped.
static void
s_elem (tx_buf_t *b, bool first, const char *text)
{
    if (!first)
        tx_buf_append (b, ",", 1);
    if (!text) {
        tx_buf_append (b, "NULL", 4);
        return;
    }
    tx_buf_append (b, "\"", 1);
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            tx_buf_append (b, "\\", 1);
        tx_buf_append (b, p, 1);
    }
    tx_buf_append (b, "\"", 1);
}

//  A time element: NULL when 0 (unknown), else µs since the epoch.
static void
s_elem_us (tx_buf_t *b, bool first, int64_t us)
{
    char n [32];
    snprintf (n, sizeof n, "%lld", (long long) us);
    s_elem (b, first, us ? n : NULL);
}

#define COLS 9
static const char *s_upsert =
    "INSERT INTO tongxin.producer_status AS p"
    " (unit_code, last_connected_at, last_seen_at, last_event_at, status_at, backlog,"
    "  oldest_waiting_at, last_verdict_at, software, collector, updated_at)"
    " SELECT u.unit, e + u.conn * us, e + u.seen * us, e + u.ev * us, e + u.st * us,"
    "        CASE WHEN u.st IS NOT NULL THEN u.backlog END, e + u.oldest * us, e + u.verdict * us,"
    "        u.software, $10, now()"
    " FROM unnest ($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],"
    "              $6::bigint[], $7::bigint[], $8::bigint[], $9::text[])"
    "        AS u (unit, conn, seen, ev, st, backlog, oldest, verdict, software),"
    "      (SELECT timestamptz 'epoch' AS e, interval '1 microsecond' AS us) c"
    " WHERE EXISTS (SELECT 1 FROM tongxin.units WHERE code = u.unit)"
    " ORDER BY u.unit"
    " ON CONFLICT (unit_code) DO UPDATE SET"
    "  last_connected_at = GREATEST (p.last_connected_at, EXCLUDED.last_connected_at),"
    "  last_seen_at = GREATEST (p.last_seen_at, EXCLUDED.last_seen_at),"
    "  last_event_at = GREATEST (p.last_event_at, EXCLUDED.last_event_at),"
    "  status_at = GREATEST (p.status_at, EXCLUDED.status_at),"
    "  backlog = CASE WHEN EXCLUDED.status_at >= p.status_at OR p.status_at IS NULL"
    "                 THEN COALESCE (EXCLUDED.backlog, p.backlog) ELSE p.backlog END,"
    "  oldest_waiting_at = CASE WHEN EXCLUDED.status_at >= p.status_at OR p.status_at IS NULL"
    "                 THEN CASE WHEN EXCLUDED.status_at IS NULL THEN p.oldest_waiting_at"
    "                           ELSE EXCLUDED.oldest_waiting_at END"
    "                 ELSE p.oldest_waiting_at END,"
    "  last_verdict_at = GREATEST (p.last_verdict_at, EXCLUDED.last_verdict_at),"
    "  software = CASE WHEN EXCLUDED.status_at >= p.status_at OR p.status_at IS NULL"
    "                  THEN COALESCE (EXCLUDED.software, p.software) ELSE p.software END,"
    "  collector = CASE WHEN EXCLUDED.last_seen_at >= p.last_seen_at OR p.last_seen_at IS NULL"
    "                   THEN EXCLUDED.collector ELSE p.collector END,"
    "  updated_at = now()";

//  Writes units e[0..n) in one statement.  0 or -1 (logged).
static int
s_write (tx_status_t *self, const entry_t *e, size_t n)
{
    tx_buf_t col [COLS] = { { 0 } };
    for (int c = 0; c < COLS; c++)
        tx_buf_append (&col [c], "{", 1);
    for (size_t i = 0; i < n; i++) {
        bool first = i == 0;
        char backlog [32];
        snprintf (backlog, sizeof backlog, "%lld", (long long) e [i].backlog);
        s_elem (&col [0], first, e [i].unit);
        s_elem_us (&col [1], first, e [i].connected_us);
        s_elem_us (&col [2], first, e [i].seen_us);
        s_elem_us (&col [3], first, e [i].event_us);
        s_elem_us (&col [4], first, e [i].status_us);
        s_elem (&col [5], first, e [i].status_us ? backlog : NULL);
        s_elem_us (&col [6], first, e [i].oldest_us);
        s_elem_us (&col [7], first, e [i].verdict_us);
        s_elem (&col [8], first, e [i].software [0] ? e [i].software : NULL);
    }
    const char *params [COLS + 1];
    for (int c = 0; c < COLS; c++) {
        tx_buf_append (&col [c], "}", 2);      //  with the NUL
        params [c] = (const char *) col [c].data;
    }
    params [COLS] = self->name;
    bool ok = true;
    for (int c = 0; c < COLS; c++)
        ok &= col [c].data != NULL;
    int rc = -1;
    if (ok) {
        int64_t t0 = tx_clock_us ();
        PGresult *r = PQexecParams (self->db, s_upsert, COLS + 1, NULL, params, NULL, NULL, 0);
        atomic_fetch_add (&self->m->status_write_us, (unsigned long long) (tx_clock_us () - t0));
        if (PQresultStatus (r) == PGRES_COMMAND_OK) {
            rc = 0;
            atomic_fetch_add (&self->m->status_rows_written, strtoull (PQcmdTuples (r), NULL, 10));
            atomic_fetch_add (&self->m->status_statements, 1);
        }
        else
            tx_log (TX_LOG_WARN, "status: writing producer_status failed; will retry",
                    "units=%zu err=%s", n, tx_log_q (PQresultErrorMessage (r)));
        PQclear (r);
    }
    for (int c = 0; c < COLS; c++)
        tx_buf_reset (&col [c]);
    return rc;
}

//  The aggregate gauges, from the table (every collector's knowledge).
static void
s_gauges (tx_status_t *self)
{
    char days [16], hours [16];
    snprintf (days, sizeof days, "%d", self->cfg->status_silent_days);
    snprintf (hours, sizeof hours, "%d", self->cfg->status_backlog_hours);
    const char *params [] = { days, hours };
    PGresult *r = PQexecParams (self->db,
        "SELECT count(*) FILTER (WHERE s.last_event_at IS NULL"
        "                          OR s.last_event_at < now() - make_interval (days => $1::int)),"
        "       count(*) FILTER (WHERE s.backlog > 0"
        "                          AND s.oldest_waiting_at < now() - make_interval (hours => $2::int)),"
        "       COALESCE (floor (extract (epoch FROM now () - min (s.oldest_waiting_at)"
        "                 FILTER (WHERE s.backlog > 0))), 0)::bigint,"
        "       count(*) FILTER (WHERE s.backlog > 0),"
        "       COALESCE (sum (s.backlog), 0)::bigint"
        " FROM tongxin.units u LEFT JOIN tongxin.producer_status s ON s.unit_code = u.code"
        " WHERE u.active",
        2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (r) == PGRES_TUPLES_OK && PQntuples (r) == 1) {
        atomic_store (&self->m->units_silent, atoll (PQgetvalue (r, 0, 0)));
        atomic_store (&self->m->units_backlog_old, atoll (PQgetvalue (r, 0, 1)));
        atomic_store (&self->m->backlog_oldest_seconds, atoll (PQgetvalue (r, 0, 2)));
        atomic_store (&self->m->units_backlog, atoll (PQgetvalue (r, 0, 3)));
        atomic_store (&self->m->backlog_events, atoll (PQgetvalue (r, 0, 4)));
        atomic_store (&self->m->status_gauges_ok, 1);
    }
    else
        tx_log (TX_LOG_WARN, "status: reading the gauges failed", "err=%s",
                tx_log_q (PQresultErrorMessage (r)));
    PQclear (r);
}

//  One round: takes the changed units out of memory, writes them; on
//  failure marks them changed again (newer changes made meanwhile win).
static void
s_round (tx_status_t *self)
{
    if (s_connect (self) != 0)
        return;
    pthread_mutex_lock (&self->lock);
    size_t n = 0;
    entry_t *copy = self->n_dirty ? malloc (self->n_dirty * sizeof *copy) : NULL;
    for (size_t i = 0; copy && i < self->n; i++)
        if (self->entries [i]->dirty) {
            copy [n++] = *self->entries [i];
            self->entries [i]->dirty = false;
        }
    if (copy)
        self->n_dirty = 0;
    pthread_mutex_unlock (&self->lock);
    int rc = 0;
    for (size_t at = 0; at < n && rc == 0; at += STATUS_CHUNK)
        rc = s_write (self, copy + at, n - at < STATUS_CHUNK ? n - at : STATUS_CHUNK);
    if (rc != 0) {
        pthread_mutex_lock (&self->lock);
        for (size_t i = 0; i < n; i++) {
            entry_t *e = tx_strmap_get (self->index, copy [i].unit, strlen (copy [i].unit));
            if (e)
                s_dirty (self, e);
        }
        pthread_mutex_unlock (&self->lock);
        if (PQstatus (self->db) != CONNECTION_OK)
            s_disconnect (self);
    }
    free (copy);
    if (self->db) {
        s_gauges (self);
        if (rc == 0)
            atomic_fetch_add (&self->m->status_rounds, 1);
    }
}

static void *
s_thread (void *arg)
{
    tx_status_t *self = arg;
    pthread_mutex_lock (&self->lock);
    while (!self->stop) {
        struct timespec until = tx_clock_deadline (self->cfg->status_flush_ms);
        while (!self->stop && pthread_cond_timedwait (&self->cond, &self->lock, &until) == 0)
            ;
        pthread_mutex_unlock (&self->lock);
        s_round (self);
        pthread_mutex_lock (&self->lock);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

//  ----------------------------------------------------------------- life

tx_status_t *
tx_status_new (const tx_config_t *cfg, tx_metrics_t *m)
{
    tx_status_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->m = m;
    self->index = tx_strmap_new ();
    if (!self->index) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    tx_clock_cond_init (&self->cond);
    //  The name goes into a checked text column: clean, at most 200 bytes.
    const char *name = cfg->name && *cfg->name ? cfg->name : NULL;
    char host [256] = "";
    if (!name && gethostname (host, sizeof host - 1) == 0)
        name = host;
    if (!name)
        name = "tongxin-collectord";
    size_t len = tx_utf8_prefix (name, strlen (name), sizeof self->name - 1);
    memcpy (self->name, name, len);
    self->name [len] = 0;
    if (!tx_utf8_valid (name, strlen (name)) || tx_safetext_find (self->name, NULL, 0) >= 0) {
        tx_log (TX_LOG_WARN, "name: not printable UTF-8; using tongxin-collectord", NULL);
        snprintf (self->name, sizeof self->name, "tongxin-collectord");
    }
    atomic_store (&m->status_silent_days, cfg->status_silent_days);
    atomic_store (&m->status_backlog_hours, cfg->status_backlog_hours);
    return self;
}

int
tx_status_start (tx_status_t *self)
{
    if (pthread_create (&self->thread, NULL, s_thread, self) != 0)
        return -1;
    pthread_setname_np (self->thread, "tx-status");
    self->started = true;
    return 0;
}

void
tx_status_destroy (tx_status_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tx_status_t *self = *self_p;
    if (self->started) {
        pthread_mutex_lock (&self->lock);
        self->stop = true;
        pthread_cond_signal (&self->cond);
        pthread_mutex_unlock (&self->lock);
        pthread_join (self->thread, NULL);
    }
    s_disconnect (self);
    for (size_t i = 0; i < self->n; i++)
        free (self->entries [i]);
    free (self->entries);
    tx_strmap_destroy (&self->index);
    pthread_cond_destroy (&self->cond);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}
