/*  submit.c: events into the spool, and the wait for verdicts (see submit.h).  */
#include "submit.h"
#include "values.h"
#include "output.h"
#include "send.h"
#include "i18n.h"
#include "clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

//  True if the run cannot go on: the collector told the producer to stop,
//  or the handshakes say that no collector will take our events until a
//  key or a flag is fixed (reported once).
bool
submit_stopped (send_t *self)
{
    tongxin_stats_t stats;
    tongxin_stats (self->tx, &stats);
    bool broken = stats.link > TONGXIN_LINK_UP;
    if ((stats.stopped || broken) && !self->stopped) {
        self->stopped = true;
        if (stats.stopped)
            out_error (self, _("the collector refused to go on: %s"), stats.last_error);
        else
            out_link_report (self, &stats);
    }
    return stats.stopped || broken;
}

//  The events of the batch not yet stored, in input order.
typedef struct {
    tongxin_event_t *ev [BATCH];    //  borrowed from the batch
    size_t which [BATCH];           //  their index in the batch
    size_t n;
} todo_t;

//  Forgets the line of event k of the batch: it will have no verdict
//  (libtongxin refused it, reported now, or it was not spooled).
static void
s_unmap (send_t *self, size_t k, bool refused)
{
    batch_t *b = &self->batch;
    pthread_mutex_lock (&self->lock);
    idmap_take (&self->pending, b->id [k], b->line [k]);
    pthread_mutex_unlock (&self->lock);
    if (!refused)
        out_dropped (self, b->line [k]);
}

//  "line N: " for a message, or "" in the flag form.
static const char *
s_where (send_t *self, uint64_t line, char *buf, size_t size)
{
    *buf = 0;
    if (!self->flag_form)
        snprintf (buf, size, _("line %llu: "), (unsigned long long) line);
    return buf;
}

//  Submits todo once; keeps in it the events the full spool refused (while
//  *rc is 0) and reports the others that failed.  Sets *rc on an I/O error.
static void
s_submit_once (send_t *self, todo_t *todo, int *rc)
{
    batch_t *b = &self->batch;
    int results [BATCH];
    tongxin_submit_many (self->tx, todo->ev, todo->n, NULL, results, b->errs [0], sizeof b->errs [0]);
    size_t full = 0;
    for (size_t i = 0; i < todo->n; i++) {
        size_t k = todo->which [i];
        if (results [i] == TONGXIN_OK)
            continue;
        if (results [i] == TONGXIN_EFULL && *rc == 0) {
            todo->ev [full] = todo->ev [i];         //  full <= i: kept for a retry
            todo->which [full++] = k;
            continue;
        }
        s_unmap (self, k, results [i] == TONGXIN_EINVAL);
        char where [40];
        if (results [i] == TONGXIN_EINVAL)
            out_refused (self, b->line [k], b->errs [i]);
        else
        if (*rc == 0) {
            out_error (self, _("%scannot spool the event: %s"), s_where (self, b->line [k], where,
                       sizeof where), *b->errs [i] ? b->errs [i] : _("I/O error"));
            *rc = RC_RUNTIME;
        }
    }
    todo->n = full;
}

//  A full spool drains as the collector acknowledges: true to retry while
//  it does (after a pause); false after --wait seconds without progress.
static bool
s_full_wait (send_t *self, uint64_t *low, int64_t *deadline, int rc)
{
    int wait_ms = self->args->wait_s * 1000;
    tongxin_stats_t stats;
    tongxin_stats (self->tx, &stats);
    int64_t now = tx_clock_ms ();
    if (stats.queued < *low) {
        *low = stats.queued;
        *deadline = now + wait_ms;
    }
    if (rc || wait_ms == 0 || now >= *deadline || send_interrupted || submit_stopped (self))
        return false;
    s_sleep_ms (50);
    out_progress (self, false);
    return true;
}

//  The spool stayed full: the rest of todo is not sent.  Returns the exit code.
static int
s_full_give_up (send_t *self, const todo_t *todo, int rc)
{
    for (size_t i = 0; i < todo->n; i++)
        s_unmap (self, todo->which [i], false);
    if (rc)
        return rc;
    if (send_interrupted)
        return 128 + send_interrupted;
    if (self->stopped)
        return RC_RUNTIME;
    char where [40], cap [48];
    s_where (self, self->batch.line [todo->which [0]], where, sizeof where);
    //  The library says which limit: the cap or the file system.
    bool disk = tongxin_full_cause (self->tx) == TONGXIN_FULL_DISK;
    snprintf (cap, sizeof cap, _("cap %llu MiB"),
              (unsigned long long) (self->args->spool_cap_mb ? self->args->spool_cap_mb : 1024));
    //  TRANSLATORS: "line 12: " (or nothing), the spool directory, "cap 1024 MiB" or
    //  "no room left on its file system", " and the collector did not drain it" (or nothing).
    out_error (self, _("%sthe spool %s is full (%s)%s: this event and the rest of the input were "
               "not sent"), where, self->spool, disk ? _("no room left on its file system") : cap,
               self->args->wait_s ? _(" and the collector did not drain it") : "");
    return RC_FULL;
}

//  Spools the batched events with one fsync for all of them.  Returns 0
//  (events refused by libtongxin are reported), or the exit code that ends
//  reading.
int
submit_spool (send_t *self)
{
    batch_t *b = &self->batch;
    if (b->n == 0)
        return 0;
    //  Mapped before they are spooled: a verdict may come before
    //  tongxin_submit_many returns.
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < b->n; i++)
        if (idmap_put (&self->pending, b->id [i], b->line [i]) != 0)
            out_oom ();
    pthread_mutex_unlock (&self->lock);
    todo_t todo = { .n = b->n };
    for (size_t i = 0; i < b->n; i++) {
        todo.ev [i] = b->ev [i];
        todo.which [i] = i;
    }
    int rc = 0;
    int64_t deadline = 0;
    uint64_t low = UINT64_MAX;
    for (;;) {
        s_submit_once (self, &todo, &rc);
        if (todo.n == 0)
            break;
        if (!s_full_wait (self, &low, &deadline, rc)) {
            rc = s_full_give_up (self, &todo, rc);
            break;
        }
    }
    for (size_t i = 0; i < b->n; i++)
        tongxin_event_destroy (&b->ev [i]);
    b->n = 0;
    return rc;
}

//  Adds an event to the batch; spools the batch when it is full.  Returns
//  0 or the exit code that ends reading.
int
submit_add (send_t *self, tongxin_event_t **ev_p, const uint8_t id [16], uint64_t line)
{
    batch_t *b = &self->batch;
    if (value_registry_check (self, line, *ev_p) != 0) {
        tongxin_event_destroy (ev_p);
        return 0;
    }
    out_expect (self, line);            //  its outcome's place among the reports
    b->ev [b->n] = *ev_p;
    memcpy (b->id [b->n], id, 16);
    b->line [b->n++] = line;
    *ev_p = NULL;
    return b->n == BATCH ? submit_spool (self) : 0;
}

//  Lines of this run still without a verdict, in order, for a message:
//  "3, 17, 18 and 40 more".  The caller frees it.
static char *
s_pending_lines (send_t *self)
{
    size_t n;
    pthread_mutex_lock (&self->lock);
    uint64_t *lines = idmap_lines (&self->pending, &n);
    pthread_mutex_unlock (&self->lock);
    if (!lines)
        out_oom ();
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        out_oom ();
    for (size_t i = 0; i < n && i < 10; i++)
        fprintf (out, "%s%" PRIu64, i ? ", " : "", lines [i]);
    if (n > 10)
        fprintf (out, _(" and %zu more"), n - 10);
    fclose (out);
    free (lines);
    return text;
}

//  --wait ran out: says which events are without an answer and where they
//  stay.  RC_TIMEOUT, or 0 if they were answered just as time ran out.
static int
s_timed_out (send_t *self)
{
    tongxin_stats_t stats;
    tongxin_stats (self->tx, &stats);
    char *lines = s_pending_lines (self);
    pthread_mutex_lock (&self->lock);
    size_t mine = self->pending.count;
    pthread_mutex_unlock (&self->lock);
    uint64_t others = stats.queued > mine ? stats.queued - mine : 0;
    if (mine + others == 0) {
        free (lines);
        return 0;                       //  answered just as time ran out
    }
    char *what = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&what, &size);
    if (!out)
        out_oom ();
    if (mine && self->flag_form)
        fputs (_("the event"), out);
    else
    if (mine)
        fprintf (out, NG_("%zu event (line %s)", "%zu events (lines %s)", mine), mine, lines);
    if (others)
        fprintf (out, mine ? NG_(" and %llu event of earlier runs", " and %llu events of earlier runs",
                                 others)
                           : NG_("%llu event of earlier runs", "%llu events of earlier runs", others),
                 (unsigned long long) others);
    fclose (out);
    char last [sizeof stats.last_error + 24] = "";
    if (*stats.last_error)
        snprintf (last, sizeof last, _(" (last problem: %s)"), stats.last_error);
    //  TRANSLATORS: --wait's seconds, "3 events (lines 4, 5, 9)", the spool,
    //  " (last problem: ...)" or nothing.
    out_error (self, NG_("no answer from the collector within %d s for %s; it stays in %s for the "
                         "next tongxin-send%s", "no answer from the collector within %d s for %s; "
                         "they stay in %s for the next tongxin-send%s", mine + others),
               self->args->wait_s, what, self->spool, last);
    free (what);
    free (lines);
    return RC_TIMEOUT;
}

//  Waits until everything in the spool has a verdict, at most --wait
//  seconds.  0, or an exit code.
int
submit_wait (send_t *self)
{
    int64_t deadline = tx_clock_ms () + (int64_t) self->args->wait_s * 1000;
    int rc;
    for (;;) {
        int64_t left = deadline - tx_clock_ms ();
        rc = tongxin_flush (self->tx, left <= 0 ? 0 : left < PROGRESS_MS ? (int) left : PROGRESS_MS);
        out_progress (self, false);
        if (rc != TONGXIN_ETIMEDOUT || left <= 0 || send_interrupted)
            break;
        if (submit_stopped (self))       //  a refused key, a wrong server key: no use waiting
            return RC_RUNTIME;
    }
    if (rc == TONGXIN_OK) {
        //  The spool is answered for; let the last callbacks finish.
        for (int i = 0; i < 200; i++) {
            pthread_mutex_lock (&self->lock);
            size_t left = self->pending.count;
            pthread_mutex_unlock (&self->lock);
            if (left == 0)
                return 0;
            s_sleep_ms (10);
        }
    }
    if (send_interrupted)
        return 128 + send_interrupted;
    if (submit_stopped (self) || rc == TONGXIN_ESTOPPED) {
        if (!self->stopped) {
            self->stopped = true;
            out_error (self, _("the collector refused to go on"));
        }
        return RC_RUNTIME;
    }
    return s_timed_out (self);
}
