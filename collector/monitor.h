/*  monitor: follows the ROUTER's socket monitor for the receive loop.
 *
 *  Accepted and closed connections are counted (tongxin_connections) and
 *  told to the guard, which caps those still in their handshake; the
 *  handshake failures libzmq reports are counted by cause (hsfail.h; ZAP's
 *  refusals are counted by the ZAP handler).  The monitor's socket is read
 *  by the receive loop's thread only: it polls it and calls drain.
 */
#ifndef TX_MONITOR_H_INCLUDED
#define TX_MONITOR_H_INCLUDED

#include "guard.h"
#include "metrics.h"

typedef struct tx_monitor_t tx_monitor_t;

//  Starts monitoring router (in zmq_ctx).  Borrows guard and m.  NULL on
//  failure (out of memory, or libzmq refused).
tx_monitor_t *tx_monitor_new (void *zmq_ctx, void *router, tx_guard_t *guard, tx_metrics_t *m);

//  Stops the monitor, then closes its socket (in that order: an event
//  sent to a closed socket would block libzmq's I/O thread); the router
//  must still be open.  NULLs *self_p.
void tx_monitor_destroy (tx_monitor_t **self_p);

//  The socket to poll for ZMQ_POLLIN.
void *tx_monitor_socket (tx_monitor_t *self);

//  Reads every waiting event, then lets the guard close the oldest
//  handshaking connections beyond its limit.
void tx_monitor_drain (tx_monitor_t *self);

#endif
