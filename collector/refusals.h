/*  refusals: how much of what a sender had refused the collector keeps.
 *
 *  Every refusal is answered and counted, but what goes into
 *  tongxin.rejected_events is bounded, so that a sender cannot turn its own
 *  refusals into unbounded storage (docs/security.md):
 *
 *    - a refused whole message keeps at most "prefix" bytes of its frame,
 *      with the frame's length and SHA-256 (recorded by the job);
 *    - a refused event keeps all its bytes;
 *    - each sender may add at most "budget" bytes (raw bytes kept plus a
 *      fixed charge per row) per minute; past that its refusals are still
 *      answered, but not written: they are counted (metrics, one log line
 *      per sender and minute) and, with the sender's next refusal after the
 *      minute, summed up in one row of reason "refusals_not_kept".
 *
 *  Refusals by the database of valid events (db_refused) are not charged:
 *  those events are always kept whole, for replay.
 *
 *  Used by the receiver thread only; not thread-safe.
 */
#ifndef TX_REFUSALS_H_INCLUDED
#define TX_REFUSALS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TX_REFUSALS_ROW_CHARGE 256      //  bytes charged per row besides its raw bytes

typedef struct tx_refusals_t tx_refusals_t;

//  budget: bytes per sender per minute (0 = unlimited); prefix: bytes kept
//  of a refused whole message (at least 1).  NULL if out of memory.
tx_refusals_t *tx_refusals_new (size_t budget, size_t prefix);
void tx_refusals_destroy (tx_refusals_t **self_p);

//  What to keep of one refusal of raw_len bytes by sender at now_ms
//  (monotonic): returns the number of raw bytes to record, or -1 when the
//  row is not to be written at all (over budget; it has been counted).
//  whole_message: a refused frame (kept to the prefix) rather than an event.
long tx_refusals_keep (tx_refusals_t *self, const char *sender, int64_t now_ms,
                       size_t raw_len, bool whole_message);

//  Refusals of sender not written in an earlier minute and not yet summed
//  up in a row: returns true and the counts once, then forgets them.
bool tx_refusals_take_summary (tx_refusals_t *self, const char *sender, int64_t now_ms,
                               uint64_t *rows, uint64_t *bytes);

#endif
