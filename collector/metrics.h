/*  metrics: the collector's counters, and an HTTP server (libmicrohttpd)
 *  for /metrics (Prometheus text format) and /healthz.
 *
 *  Counters are atomics updated by any thread; the HTTP server runs in
 *  libmicrohttpd's own thread and only reads them.
 */
#ifndef TX_METRICS_H_INCLUDED
#define TX_METRICS_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

#define TX_METRICS_BUCKETS 12

//  Why a handshake failed: the ZAP handler's refusals, then what libzmq's
//  socket monitor reports.
typedef enum {
    TX_HS_UNKNOWN_KEY,              //  ZAP 400: no such key registered
    TX_HS_REVOKED_KEY,              //  ZAP 400: the key was revoked
    TX_HS_BAD_MECHANISM,            //  ZAP 400: not CURVE
    TX_HS_BAD_DOMAIN,               //  ZAP 400: not our ZAP domain
    TX_HS_LOOKUP_LIMITED,           //  ZAP 500: unknown key, lookups over budget
    TX_HS_DATABASE_UNAVAILABLE,     //  ZAP 500: the database did not answer
    TX_HS_BAD_ZAP_REQUEST,          //  ZAP 500: malformed request
    TX_HS_DECRYPT_FAILED,           //  CURVE box did not open (e.g. wrong server key)
    TX_HS_MECHANISM_MISMATCH,       //  e.g. a plain client on a CURVE port
    TX_HS_PROTOCOL_ERROR,           //  any other ZMTP protocol error
    TX_HS_INCOMPLETE,               //  closed in the handshake: timeout, peer gone, shed
    TX_HS_COUNT_
} tx_hs_cause_t;

const char *tx_hs_cause_str (tx_hs_cause_t cause);

typedef struct {
    atomic_ullong batches;                      //  batch messages received
    atomic_ullong events_received;              //  events in them
    atomic_ullong events_stored;
    atomic_ullong events_duplicate;
    atomic_ullong events_duplicate_content; //  of which a content stored under another id
    atomic_ullong events_rejected [TX_REJECT_COUNT_];   //  by reject code
    atomic_ullong messages_refused [TX_ERROR_COUNT_];   //  whole messages, by error code
    atomic_ullong messages_dropped_no_user;     //  CURVE message without User-Id
    atomic_ullong messages_dropped_bad_frames;  //  not exactly [routing id][payload]
    atomic_ullong acks_sent;
    atomic_ullong acks_dropped;                 //  producer gone or its queue full
    atomic_ullong transactions;
    atomic_ullong fast_path_misses;             //  direct COPY aborted by a duplicate, redone staged
    atomic_ullong db_errors;
    atomic_ullong folds;                        //  rollup folds that took events
    atomic_ullong events_folded;                //  events they took
    atomic_ullong folds_yielded;                //  folds put off while the writers were busy
    atomic_ullong write_busy_us;                //  time the lanes spent writing groups (for the folder)
    atomic_ullong writes_open;                  //  group writes under way
    atomic_ullong writes_open_since_us;         //  the sum of their start times
    atomic_ullong refusals_not_kept;            //  refusals answered but not written (sender over budget)
    atomic_ullong refusals_not_kept_bytes;      //  their bytes
    atomic_ullong refusal_bytes_cut;            //  bytes of refused messages past the kept prefix
    atomic_ullong commit_buckets [TX_METRICS_BUCKETS];  //  commit latency histogram
    atomic_ullong commit_count;
    atomic_ullong commit_sum_us;
    atomic_ullong handshakes_failed [TX_HS_COUNT_];     //  by cause
    atomic_ullong connections_shed;             //  closed by the guard while handshaking
    atomic_llong connected;                     //  producer connections
    atomic_llong handshaking;                   //  of them, not authenticated yet
    atomic_llong handshaking_limit;             //  the guard's limit on those
    atomic_ullong http_shed;                    //  metrics clients closed to make room
    atomic_llong queue_jobs;                    //  batches waiting for / in the writer
    atomic_llong queue_bytes;
    atomic_ullong status_received;              //  status messages (revision 1.3) kept
    atomic_ullong status_refused;               //  status messages refused (malformed, bad times)
    atomic_ullong status_statements;            //  producer_status upserts (one per round and 2000 units)
    atomic_ullong status_rows_written;          //  rows they wrote
    atomic_ullong status_write_us;              //  time spent in them (µs)
    atomic_ullong status_rounds;                //  rounds done (written, gauges read)
    atomic_int status_gauges_ok;                //  1 once the gauges below were read
    atomic_int status_silent_days;              //  the configured N of units_silent
    atomic_int status_backlog_hours;            //  the configured N of units_backlog_old
    atomic_llong units_silent;                  //  active units without an event for N days
    atomic_llong units_backlog;                 //  units whose last status had a backlog
    atomic_llong units_backlog_old;             //  of them, oldest waiting more than N hours
    atomic_llong backlog_oldest_seconds;        //  age of the oldest waiting event of any unit
    atomic_llong backlog_events;                //  events waiting in every unit's spool
    atomic_int db_up;                           //  1 while the database answers
    atomic_int schema_ok;                       //  1 if the schema version is the expected one
    //  Registry requests (protocol revision 1.3, server.c)
    atomic_ullong registry_full;                //  answered with the whole registry
    atomic_ullong registry_unchanged;           //  answered "unchanged"
    atomic_ullong registry_limited;             //  dropped: the unit was over its budget
    atomic_ullong registry_bytes;               //  bytes of the replies sent
} tx_metrics_t;

//  Records one commit's latency.
void tx_metrics_commit (tx_metrics_t *m, int64_t us);

//  Starts the HTTP server on "[ADDR:]PORT" (ADDR defaults to 127.0.0.1).
//  Returns an opaque handle, or NULL with a reason in err.
void *tx_metrics_start (tx_metrics_t *m, const char *addr, char *err, size_t errlen);
void tx_metrics_stop (void **handle_p);

#endif
