/*  regholder: the collector's one current registry snapshot.
 *
 *  The holder decides when a snapshot is loaded (at start, when asked:
 *  SIGHUP, or ZAP meeting a key newer than the snapshot; and every
 *  registry-refresh seconds) and publishes it; the receive loop takes a
 *  reference per batch, ZAP one per handshake.  The loading itself runs on
 *  a connection lent by the writer's lane 0 between its groups (writer.h):
 *  the holder opens none of its own.
 *
 *  Every function may be called from any thread.
 */
#ifndef TX_REGHOLDER_H_INCLUDED
#define TX_REGHOLDER_H_INCLUDED

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "regload.h"

typedef struct tx_regholder_t tx_regholder_t;

//  An empty holder; refresh_s: load again this often.  NULL out of memory.
tx_regholder_t *tx_regholder_new (int refresh_s);

//  Drops the snapshot and frees; NULLs *self_p.
void tx_regholder_destroy (tx_regholder_t **self_p);

//  A reference to the current snapshot (NULL before the first load); the
//  caller drops it with tx_registry_unref.
tx_registry_t *tx_regholder_get (tx_regholder_t *self);

//  Asks for a load at the loader's next chance.
void tx_regholder_request (tx_regholder_t *self);

//  Asks for a load and waits (up to timeout_ms) until one has happened.
//  True if it did.
bool tx_regholder_request_wait (tx_regholder_t *self, int timeout_ms);

//  Is a load due now: asked for (the ask is taken), or the refresh period
//  has passed since the last load.
bool tx_regholder_due (tx_regholder_t *self, int64_t now_ms);

//  Loads a snapshot over db (idle) and publishes it.  0, or -1 (logged;
//  the current snapshot stays).
int tx_regholder_load (tx_regholder_t *self, PGconn *db);

#endif
