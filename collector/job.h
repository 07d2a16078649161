/*  job: one received batch on its way from the receiver to the writer and
 *  back, and the bounded queue between them.
 *
 *  The receiver decodes and validates a batch into a job: the binary COPY
 *  rows of its accepted events, the records of its rejected ones, and a
 *  result slot per event.  The writer commits a group of jobs in one
 *  transaction, fills in stored / duplicate, and sends each job's ack.
 *  Strings live in job->store and are referred to by offset, so the store
 *  may grow.  A job belongs to whoever holds it: the receiver until it is
 *  pushed, the queue, then the writer, which destroys it.
 */
#ifndef TX_JOB_H_INCLUDED
#define TX_JOB_H_INCLUDED

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "wire.h"

#define TX_RID_MAX 256          //  ZeroMQ routing ids are at most 255 bytes

typedef struct {
    size_t off, len;            //  a string in job->store
} tx_span_t;

typedef struct {
    uint32_t index;             //  event index in the batch
    uint8_t id [16];            //  event id
    tx_span_t unit;             //  its unit
    tx_span_t raw;              //  its bytes, kept for a refusal by the database
    uint8_t fp [16];            //  its content fingerprint (content.h)
    bool has_orig;              //  a duplicate whose original is known:
    uint8_t orig [16];          //  the stored event's id
    int64_t orig_received_us;   //  and when it was received (unix µs)
} tx_accepted_t;

typedef struct {
    int32_t index;              //  event index, -1 for a whole-message refusal
    bool has_id;                //  id below is the event's
    uint8_t id [16];            //  event id
    int code;                   //  tx_reject_t (or tx_error_t when index < 0)
    tx_span_t claimed_unit;     //  len 0 = unknown
    tx_span_t msg;              //  human reason
    tx_span_t raw;              //  the event's bytes or the whole message (maybe a prefix)
    size_t raw_total;           //  bytes received; > raw.len when cut to a prefix
    bool cut;                   //  raw is a prefix: sha256 holds the whole's digest
    uint8_t sha256 [32];        //  SHA-256 of all raw_total bytes, when cut
    const char *reason;         //  stable reason overriding code (static string) or NULL
    bool not_kept;              //  answered, but not written (sender over its budget)
} tx_rejrow_t;

typedef struct tx_job_t {
    struct tx_job_t *next;      //  queue link
    uint8_t rid [TX_RID_MAX];   //  the producer's routing id
    size_t rid_len;             //  bytes
    uint64_t batch_id;          //  0 = unknown
    bool want_dups;             //  revision 1.2 batch ("rev" >= 2): the ack carries "dups"
    uint64_t rev;               //  the batch's "rev" (0: none); >= 3: the ack carries "rev"
    int error;                  //  tx_error_t: answer an error instead of an ack
    size_t count;               //  events in the batch
    uint8_t *results;           //  count results (TX_RESULT_*)
    tx_accepted_t *accepted;    //  n_accepted events to store
    size_t n_accepted;
    tx_rejrow_t *rejrows;       //  n_rejrows records for rejected_events (room: count + 2)
    size_t n_rejrows;
    tx_buf_t rows;              //  binary COPY rows of the accepted events
    tx_buf_t store;             //  strings and raw bytes
    tx_span_t payload;          //  the whole frame, once an event was accepted
    char sender [160];          //  authenticated identity ("unit" or "insecure:addr")
    int64_t received_us;        //  monotonic time of receipt
} tx_job_t;

//  A new job for count events (0 for a whole-message refusal), or NULL.
tx_job_t *tx_job_new (size_t count);
void tx_job_destroy (tx_job_t **self_p);

//  Copies data into the store; returns its span (len 0 on out of memory).
tx_span_t tx_job_keep (tx_job_t *self, const void *data, size_t len);
const char *tx_job_str (const tx_job_t *self, tx_span_t span);

//  Records a rejection (event index >= 0, or -1 for the whole message)
//  keeping the first keep bytes of raw[0..raw_len) (with the SHA-256 of
//  all of them when keep < raw_len).
int tx_job_reject (tx_job_t *self, int32_t index, const uint8_t *id, int code,
                   const char *unit, size_t unit_len, const char *msg,
                   const void *raw, size_t raw_len, size_t keep);

//  Answers a refusal without writing it (not_kept).
int tx_job_answer_only (tx_job_t *self, int32_t index, int code, const char *msg);

//  Records a row of reason "refusals_not_kept" (no result, not in the
//  reply): rows refusals of bytes bytes were answered but not written.
int tx_job_note_not_kept (tx_job_t *self, uint64_t rows, uint64_t bytes);

//  Approximate memory held, for the queue's bound.
size_t tx_job_bytes (const tx_job_t *self);

//  The bounded queue.  push never blocks (the receiver checks room first);
//  pop waits up to timeout_ms for a job.
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    tx_job_t *head, *tail;      //  FIFO
    size_t jobs;                //  queued and being written
    size_t bytes;               //  their memory
    size_t events;              //  queued events not yet popped
    bool closed;                //  no more pushes; pop returns NULL when empty
} tx_queue_t;

void tx_queue_init (tx_queue_t *q);
void tx_queue_fini (tx_queue_t *q);
void tx_queue_push (tx_queue_t *q, tx_job_t *job);
tx_job_t *tx_queue_pop (tx_queue_t *q, int timeout_ms);
//  The writer is done with a job popped earlier (frees its share of the bound).
void tx_queue_done (tx_queue_t *q, size_t bytes);
void tx_queue_close (tx_queue_t *q);
//  Snapshot of the counters.
void tx_queue_stats (tx_queue_t *q, size_t *jobs, size_t *bytes);

#endif
