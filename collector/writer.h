/*  writer: the database side of the collector, in its own threads.
 *
 *  It runs "writers" lanes (default 2): a thread with its own libpq
 *  connection each, all popping from the one queue, so that one group is
 *  copied while another waits for its commit's WAL flush.  A lane pops jobs,
 *  gathers them into a group (up to group-events events or group-ms
 *  milliseconds), and writes the group in one transaction: binary COPY of
 *  the accepted events straight into tongxin.events (after a duplicate: into
 *  a temporary staging table, then INSERT ... SELECT ... ON CONFLICT DO
 *  NOTHING RETURNING the stored keys), the rejected records, COMMIT
 *  (synchronous_commit=on).  Only then does it send each job's ack, over an
 *  inproc PUSH socket to the receiver's PULL; the receiver owns the ROUTER.
 *  Groups may commit in any order: every batch has its own ack.
 *
 *  A lost connection or a serialization failure: reconnect with backoff and
 *  redo the whole group (idempotence makes that safe whether or not the
 *  commit happened).  A data error the validator should have caught: the
 *  group is split, down to single events, so that one bad event is rejected
 *  (and recorded) and the good ones are stored.
 *
 *  With fold-ms > 0 (the default) one more thread, the folder, with a
 *  connection of its own, runs tongxin.fold_rollups() every fold-ms: it
 *  moves the events committed since the last fold into the folded rollup
 *  tables (schema 013; the views count them either way), gives up its turn
 *  when another collector's fold runs, and waits while the lanes are busy
 *  writing.  No lane ever waits for it.
 *
 *  Lane 0 also lends its connection, between groups, to the registry
 *  holder when a load is due (regholder.h), and makes the coming months'
 *  partitions.  The rows come encoded (copyrow.h): the writer only sends
 *  them.
 */
#ifndef TX_WRITER_H_INCLUDED
#define TX_WRITER_H_INCLUDED

#include <signal.h>
#include <stdbool.h>

#include "clock.h"
#include "config.h"
#include "job.h"
#include "metrics.h"
#include "regholder.h"

typedef struct tx_writer_t tx_writer_t;

//  registry: the holder lane 0 loads snapshots for; ack_endpoint: the
//  inproc endpoint the receiver's PULL socket is bound to.  Borrows all.
tx_writer_t *tx_writer_new (const tx_config_t *cfg, tx_queue_t *queue, tx_regholder_t *registry,
                            void *zmq_ctx, const char *ack_endpoint, tx_metrics_t *metrics);

//  Connects and loads the registry (waiting, with retries, for the
//  database), then starts the thread.  0, or -1 if *interrupted became set
//  while waiting or the thread could not start.
int tx_writer_start (tx_writer_t *self, volatile sig_atomic_t *interrupted);

//  Drain: write what the queue holds, then stop; give up on the database
//  after deadline_ms (monotonic ms) if it is down.
void tx_writer_stop (tx_writer_t *self, int64_t deadline_ms);

//  Joins the thread and frees; NULLs *self_p.
void tx_writer_destroy (tx_writer_t **self_p);

#endif
