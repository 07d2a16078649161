/*  validate: the collector's registry checks of one decoded event, and the
 *  JSON text of its attributes as its type declares them (copyrow.h puts
 *  it in the jsonb column).
 *
 *  The wire decoder has already checked everything that needs no registry
 *  (msgpack types, UTF-8, lengths, UUIDv7 form); this module checks the
 *  rest, in this order, and returns the first failure's code:
 *    unit_mismatch (CURVE: the event's unit is not the sender's unit),
 *    unknown_unit, unit_inactive, unknown_type,
 *    bad_time (before 2000-01-01 or more than max_skew ahead of now),
 *    bad_id_time (id time outside the partitions, or ahead of now + skew),
 *    missing_partner, unknown_partner,
 *    per attribute in the order sent: unknown_attr, bad_attr_type,
 *      bad_number, out_of_range, too_long, bad_enum, bad_date,
 *    missing_attr.
 */
#ifndef TX_VALIDATE_H_INCLUDED
#define TX_VALIDATE_H_INCLUDED

#include "buf.h"
#include "registry.h"
#include "wire.h"

typedef struct {
    const char *auth_unit;      //  the authenticated unit, or NULL (insecure mode)
    int64_t now_ms;             //  the collector's clock, unix ms
    int64_t max_skew_ms;        //  how far ahead of now times may be
} tx_validate_ctx_t;

//  Returns TX_REJECT_NONE or a tx_reject_t, with a short reason in msg.
//  type_p (may be NULL): set to the event's type when it is valid, else
//  to NULL; borrowed from reg, it lives as long as the snapshot.
int tx_validate_event (const tx_registry_t *reg, const tx_event_t *ev,
                       const tx_validate_ctx_t *ctx, const tx_type_def_t **type_p,
                       char *msg, size_t msglen);

//  Appends the attributes of a valid event of type as a JSON object to
//  out (a numeric given as decimal text becomes a JSON number).  0, or -1
//  if out of memory.
//  The declaration of attribute name[0..len) in type, or NULL.
const tx_attr_def_t *tx_validate_attr_def (const tx_type_def_t *type, const char *name, size_t len);

//  A finite double as the shortest decimal (JSON number text) that reads
//  back as it, into out; returns its length.  This is how a float value
//  is stored.
size_t tx_validate_format_double (double v, char out [32]);

int tx_validate_attrs_json (const tx_type_def_t *type, const tx_event_t *ev, tx_buf_t *out);

#endif
