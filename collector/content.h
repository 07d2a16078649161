/*  content: what an event says, as a fingerprint (content idempotency).
 *
 *  Two events of a unit that say the same thing are one report, whatever
 *  their ids: the collector stores the first and answers the others
 *  duplicate (docs/protocol.md 8.4).  What an event says is its content:
 *
 *    unit, type, occurred-at (to the microsecond, as stored), partner,
 *    attributes, supersedes (a correction's target is part of what it
 *    says), nth (revision 1.2: absent and 1 are the same).
 *
 *  Attributes in canonical form: in name order (bytes), each value by its
 *  registered kind, as the database would compare the stored value:
 *    int, numeric   the number, whatever its spelling: 15, 15.0, "1.50e1"
 *                   and 1.5e1 (a float) are the same number; -0 is 0.  A
 *                   float is first written as the shortest decimal that
 *                   reads back as it (what is stored), so 0.1 (a float)
 *                   is "0.1" (a string);
 *    bool           true / false;
 *    text, enum, date  the bytes, exactly: no Unicode normalisation, no
 *                   trimming, no case folding.  PostgreSQL's = compares
 *                   texts byte by byte too, so two texts the analysts'
 *                   SQL tells apart are never merged here.
 *  An attribute that is absent is absent (an optional attribute omitted
 *  and the same attribute given are different content).
 *
 *  The fingerprint is the first 16 bytes of the SHA-256 of that canonical
 *  form, each field length-prefixed (so no two contents share a byte
 *  string).  Two different contents of one unit share a fingerprint with
 *  probability about n^2 / 2^129 for n events: 10^-21 at a billion.
 */
#ifndef TX_CONTENT_H_INCLUDED
#define TX_CONTENT_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "registry.h"
#include "wire.h"

#define TX_CONTENT_FP_LEN 16

//  The canonical form of a valid event of type into out (cleared first):
//  the bytes the fingerprint hashes.  0, or -1 out of memory.
int tx_content_canonical (const tx_type_def_t *type, const tx_event_t *ev, tx_buf_t *out);

//  The fingerprint of a valid event of type; scratch holds the canonical
//  form.  0, or -1 out of memory.
int tx_content_fingerprint (const tx_type_def_t *type, const tx_event_t *ev, tx_buf_t *scratch,
                            uint8_t fp [TX_CONTENT_FP_LEN]);

//  A JSON number's text (decimal-text, already checked) in canonical form:
//  "0", or [-]DIGITS"e"EXP with no leading or trailing zero in DIGITS.
//  out needs len + 24 bytes.  Returns the length written.
size_t tx_content_number (const char *s, size_t len, char *out);

#endif
