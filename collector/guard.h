/*  guard: bounds the connections that have not authenticated yet.
 *
 *  libzmq 4.3 has no per-listener connection cap: every TCP connection it
 *  accepts holds one descriptor until its handshake ends, so a crowd of
 *  clients that connect and say nothing could take every descriptor the
 *  collector has and leave registered producers unanswered.  The guard
 *  follows the ROUTER's monitor events (ACCEPTED and DISCONNECTED carry the
 *  descriptor) and keeps the accepted connections that are still in their
 *  handshake in accept order.  When there are more of them than the limit,
 *  it closes the oldest (shutdown(2) on the descriptor: libzmq sees the end
 *  of the stream and closes it itself), so a registered producer, whose
 *  handshake takes milliseconds, is never the oldest for long.
 *
 *  A connection counts as authenticated, and is left alone, once one of:
 *  a message arrived on it (ZMQ_SRCFD); the collector wrote more bytes to
 *  it than a handshake that ZAP refused can produce (for TCP: greeting +
 *  WELCOME + ERROR, so READY was sent); it is older than the handshake
 *  timeout (libzmq would have closed it otherwise).
 *
 *  A descriptor libzmq has closed may be reused before its DISCONNECTED
 *  event is read; each entry therefore remembers the socket's inode, and a
 *  descriptor whose inode changed is never touched.
 *
 *  The guard is used by the receive loop's thread only.
 */
#ifndef TX_GUARD_H_INCLUDED
#define TX_GUARD_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"

typedef struct tx_guard_t tx_guard_t;

//  max_pending: most connections left in their handshake; handshake_ms:
//  libzmq's handshake timeout; curve: the listener runs CURVE (else NULL,
//  whose handshake writes fewer bytes).  Returns NULL when out of memory.
tx_guard_t *tx_guard_new (int max_pending, int handshake_ms, bool curve, tx_metrics_t *m);
void tx_guard_destroy (tx_guard_t **self_p);

//  The highest number of handshaking connections the guard allows: the
//  configured one, lowered to fit the open-files limit (half of what is
//  left after the collector's own descriptors, so the other half stays
//  for authenticated producers).
int tx_guard_limit (tx_guard_t *self);

//  Monitor events and messages, in the order they were read.
void tx_guard_accepted (tx_guard_t *self, int fd, int64_t now_ms);
void tx_guard_closed (tx_guard_t *self, int fd);
void tx_guard_message (tx_guard_t *self, int fd);

//  Closes the oldest handshaking connections beyond the limit.  Call it
//  only after every monitor event waiting has been read.  Returns how many
//  were closed.
int tx_guard_enforce (tx_guard_t *self, int64_t now_ms);

#endif
