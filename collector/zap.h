/*  zap: the ZAP handler (ZeroMQ RFC 27) that authenticates the CURVE keys
 *  of connecting producers, in its own thread.
 *
 *  A key is let in as its unit (the ZAP User-Id; the key itself goes back
 *  as the metadata property X-Key, so the receive loop can check every
 *  batch against revocation).  The registry snapshot answers first; the
 *  database is asked too, over the handler's own connection, so that a key
 *  issued or revoked a moment ago counts at once: keys the snapshot does
 *  not know get 20 lookups a second, known keys 200, so neither a flood of
 *  strangers nor a stolen key reconnecting in a loop can load the
 *  database.  A key newer than the snapshot has the snapshot reloaded
 *  before the handshake completes.  When the database cannot answer, a
 *  known key is trusted to the snapshot and an unknown one gets 500 (try
 *  again), not 400 (refused).  Refusals are counted by cause (hsfail.h).
 */
#ifndef TX_ZAP_H_INCLUDED
#define TX_ZAP_H_INCLUDED

#include "config.h"
#include "metrics.h"
#include "regholder.h"
#include "status.h"

typedef struct tx_zap_t tx_zap_t;

//  Starts the handler thread and returns once it is bound to the ZAP
//  endpoint of zmq_ctx, so that a CURVE socket bound afterwards never
//  meets a handshake without it.  Borrows cfg, registry, m and status
//  (may be NULL), which learns of every key let in.  NULL (logged) if
//  the thread could not start or bind.
tx_zap_t *tx_zap_start (const tx_config_t *cfg, void *zmq_ctx, tx_regholder_t *registry,
                        tx_metrics_t *m, tx_status_t *status);

//  Stops and joins the thread (within 200 ms), closes its database
//  connection and frees; NULLs *self_p.
void tx_zap_destroy (tx_zap_t **self_p);

#endif
