/*  hsfail: a failed handshake, counted by cause and logged sparingly.
 *
 *  Both the ZAP handler (the key refusals) and the receive loop (what
 *  libzmq's socket monitor reports) tell of failed handshakes.  Each is
 *  counted in tongxin_handshakes_failed_total{cause}; it is logged at most
 *  once per 10 s per reporter (a tx_hsfail_t each, used by one thread),
 *  with the number left out since and a hint for the operator: a refused
 *  producer retries every reconnect interval, and a crowd of strangers
 *  must not flood the log.
 */
#ifndef TX_HSFAIL_H_INCLUDED
#define TX_HSFAIL_H_INCLUDED

#include <stdint.h>

#include "metrics.h"

typedef struct {
    int64_t last_ms;                //  last line written (monotonic ms)
    long suppressed;                //  failures not logged since
} tx_hsfail_t;

//  Counts one failed handshake in m and logs it unless one was logged
//  lately; key (Z85) and peer may be NULL or empty.
void tx_hsfail_note (tx_hsfail_t *self, tx_metrics_t *m, tx_hs_cause_t cause, const char *key,
                     const char *peer);

#endif
