/*  job.c: jobs and the receiver -> writer queue.  */
#include "job.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

tx_job_t *
tx_job_new (size_t count)
{
    tx_job_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->count = count;
    if (count) {
        self->results = calloc (count, 1);
        self->accepted = calloc (count, sizeof (tx_accepted_t));
    }
    self->rejrows = calloc (count + 2, sizeof (tx_rejrow_t));
    if ((count && (!self->results || !self->accepted)) || !self->rejrows)
        tx_job_destroy (&self);
    return self;
}

void
tx_job_destroy (tx_job_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tx_job_t *self = *self_p;
    free (self->results);
    free (self->accepted);
    free (self->rejrows);
    tx_buf_reset (&self->rows);
    tx_buf_reset (&self->store);
    free (self);
    *self_p = NULL;
}

tx_span_t
tx_job_keep (tx_job_t *self, const void *data, size_t len)
{
    tx_span_t span = { self->store.len, len };
    if (tx_buf_append (&self->store, data, len) != 0)
        span.len = 0;
    return span;
}

const char *
tx_job_str (const tx_job_t *self, tx_span_t span)
{
    return (const char *) self->store.data + span.off;
}

int
tx_job_reject (tx_job_t *self, int32_t index, const uint8_t *id, int code,
               const char *unit, size_t unit_len, const char *msg,
               const void *raw, size_t raw_len, size_t keep)
{
    if (keep > raw_len)
        keep = raw_len;
    tx_rejrow_t *r = &self->rejrows [self->n_rejrows];
    memset (r, 0, sizeof *r);
    r->index = index;
    r->code = code;
    if (id) {
        r->has_id = true;
        memcpy (r->id, id, 16);
    }
    if (unit && unit_len)
        r->claimed_unit = tx_job_keep (self, unit, unit_len);
    r->msg = tx_job_keep (self, msg, strlen (msg));
    r->raw = tx_job_keep (self, raw, keep);
    r->raw_total = raw_len;
    if (keep < raw_len) {
        r->cut = true;
        crypto_hash_sha256 (r->sha256, raw, raw_len);
    }
    if ((keep && !r->raw.len) || (*msg && !r->msg.len))
        return -1;
    self->n_rejrows++;
    if (index >= 0)
        self->results [index] = TX_RESULT_REJECTED;
    return 0;
}

int
tx_job_answer_only (tx_job_t *self, int32_t index, int code, const char *msg)
{
    if (tx_job_reject (self, index, NULL, code, NULL, 0, msg, NULL, 0, 0) != 0)
        return -1;
    self->rejrows [self->n_rejrows - 1].not_kept = true;
    return 0;
}

int
tx_job_note_not_kept (tx_job_t *self, uint64_t rows, uint64_t bytes)
{
    char msg [160];
    snprintf (msg, sizeof msg, "%" PRIu64 " refusals (%" PRIu64 " bytes) from this sender were answered"
              " but not kept: over its budget of rejected-budget bytes a minute", rows, bytes);
    if (tx_job_reject (self, -1, NULL, 0, NULL, 0, msg, NULL, 0, 0) != 0)
        return -1;
    self->rejrows [self->n_rejrows - 1].reason = "refusals_not_kept";
    self->rejrows [self->n_rejrows - 1].raw_total = (size_t) bytes;
    return 0;
}

size_t
tx_job_bytes (const tx_job_t *self)
{
    return sizeof *self + self->rows.cap + self->store.cap
         + self->count * (1 + sizeof (tx_accepted_t) + sizeof (tx_rejrow_t));
}

void
tx_queue_init (tx_queue_t *q)
{
    memset (q, 0, sizeof *q);
    pthread_mutex_init (&q->lock, NULL);
    tx_clock_cond_init (&q->cond);
}

void
tx_queue_fini (tx_queue_t *q)
{
    while (q->head) {
        tx_job_t *job = q->head;
        q->head = job->next;
        tx_job_destroy (&job);
    }
    pthread_mutex_destroy (&q->lock);
    pthread_cond_destroy (&q->cond);
}

void
tx_queue_push (tx_queue_t *q, tx_job_t *job)
{
    size_t bytes = tx_job_bytes (job);
    pthread_mutex_lock (&q->lock);
    job->next = NULL;
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
    q->jobs++;
    q->bytes += bytes;
    q->events += job->count;
    pthread_cond_signal (&q->cond);
    pthread_mutex_unlock (&q->lock);
}

tx_job_t *
tx_queue_pop (tx_queue_t *q, int timeout_ms)
{
    struct timespec until = tx_clock_deadline (timeout_ms);
    pthread_mutex_lock (&q->lock);
    while (!q->head && !q->closed && timeout_ms > 0)
        if (pthread_cond_timedwait (&q->cond, &q->lock, &until) == ETIMEDOUT)
            break;
    tx_job_t *job = q->head;
    if (job) {
        q->head = job->next;
        if (!q->head)
            q->tail = NULL;
        job->next = NULL;
        q->events -= job->count;
    }
    pthread_mutex_unlock (&q->lock);
    return job;
}

void
tx_queue_done (tx_queue_t *q, size_t bytes)
{
    pthread_mutex_lock (&q->lock);
    q->jobs--;
    q->bytes -= bytes;
    pthread_mutex_unlock (&q->lock);
}

void
tx_queue_close (tx_queue_t *q)
{
    pthread_mutex_lock (&q->lock);
    q->closed = true;
    pthread_cond_broadcast (&q->cond);
    pthread_mutex_unlock (&q->lock);
}

void
tx_queue_stats (tx_queue_t *q, size_t *jobs, size_t *bytes)
{
    pthread_mutex_lock (&q->lock);
    *jobs = q->jobs;
    *bytes = q->bytes;
    pthread_mutex_unlock (&q->lock);
}
