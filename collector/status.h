/*  status: what the collector knows of each unit's producer, kept in
 *  memory and written to tongxin.producer_status (migration 010).
 *
 *  Per unit: when its key last completed a CURVE handshake (the ZAP
 *  handler's 200), when it last sent any message, when it last sent an
 *  event, and its latest status (protocol revision 1.3: backlog, oldest
 *  waiting event, last verdict, software).  Every message only updates
 *  memory under a mutex; a thread of its own writes the units that changed
 *  since its last round, all of them in one statement, every flush-ms
 *  (status-flush-ms, default 60 s), so each unit's row is written at most
 *  once per round whatever the number of messages.  The statement is an
 *  upsert that keeps the newest of each time (GREATEST) and the backlog of
 *  the newest status, so several collectors may write the same row.  A
 *  round that fails keeps its units for the next one.  After each round
 *  the thread reads the table for the aggregate gauges of metrics.h (units
 *  silent, units with an old backlog, the oldest backlog's age).
 *
 *  The unit is always the authenticated one (the CURVE key's, ZAP
 *  User-Id): a status names no unit, so no producer can write another
 *  unit's row.  In insecure mode nothing is kept (no unit is authenticated).
 *
 *  Threads: tx_status_connected (ZAP thread), _seen and _report (receive
 *  loop) may be called from any thread; new and destroy from one.
 */
#ifndef TX_STATUS_H_INCLUDED
#define TX_STATUS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "metrics.h"
#include "wire.h"

typedef struct tx_status_t tx_status_t;

//  The wall clock in unix µs, as the functions below take it.
static inline int64_t
tx_status_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  New store, nothing started.  Borrows cfg and m.  NULL if out of memory.
tx_status_t *tx_status_new (const tx_config_t *cfg, tx_metrics_t *m);

//  Starts the writing thread (it connects to the database itself, and
//  retries).  0 or -1.
int tx_status_start (tx_status_t *self);

//  Stops the thread after one last round (the database permitting), frees,
//  NULLs *self_p.  Safe with NULL.
void tx_status_destroy (tx_status_t **self_p);

//  A handshake of unit's key succeeded at now_us (unix µs).
void tx_status_connected (tx_status_t *self, const char *unit, int64_t now_us);

//  A message from unit arrived at now_us; events: it was a batch.
void tx_status_seen (tx_status_t *self, const char *unit, int64_t now_us, bool events);

//  A status from unit arrived at now_us.  Its times must lie between
//  2000-01-01 and now_us + max_skew_us, else it is refused whole (-1,
//  reason in err): the row keeps the last good status.  0 if kept.
int tx_status_report (tx_status_t *self, const char *unit, const tx_status_msg_t *st,
                      int64_t now_us, int64_t max_skew_us, char *err, size_t errlen);

//  A status message from unit (NULL: not authenticated, insecure mode),
//  as tx_wire_decode_message returned it (rc, err): kept, or refused and
//  counted (metrics.h).  Never answered.
void tx_status_message (tx_status_t *self, const char *unit, int rc, const tx_status_msg_t *st,
                        const char *err, int64_t max_skew_us);

//  Units known in memory (tests, logs).
size_t tx_status_units (tx_status_t *self);

#endif
