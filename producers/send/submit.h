/*  submit: events into the spool in batches (one fsync each), mapped to
    their lines first; a full spool waited on while the collector drains
    it; the final wait (--wait) for every verdict.  Main thread only.
*/
#ifndef SUBMIT_H_INCLUDED
#define SUBMIT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tongxin.h"

typedef struct send_t send_t;

#define BATCH           256             //  events spooled with one fsync

//  Events checked and waiting to be spooled together.
typedef struct {
    tongxin_event_t *ev [BATCH];    //  owned
    uint8_t id [BATCH][16];         //  their ids
    uint64_t line [BATCH];          //  their input lines
    size_t n;
    char errs [BATCH][160];         //  libtongxin's reasons, per event
} batch_t;

//  Adds *ev_p (taken: *ev_p is NULLed) with its id and line to the batch;
//  spools the batch when it is full.  0 or the exit code that ends reading.
int submit_add (send_t *self, tongxin_event_t **ev_p, const uint8_t id [16], uint64_t line);

//  Spools the batch with one fsync.  0 (events libtongxin refused are
//  reported), or the exit code that ends reading.
int submit_spool (send_t *self);

//  True if the run cannot go on: the collector told the producer to stop,
//  or the handshakes say that no collector will take our events until a
//  key or a flag is fixed (reported once).
bool submit_stopped (send_t *self);

//  Waits until everything in the spool has a verdict, at most --wait
//  seconds.  0, or an exit code.
int submit_wait (send_t *self);

#endif
