/*  validate: the registry checks of one event — the collector's, and the
 *  same rules for producers that hold a registry (libtongxin, tongxin-send,
 *  tongxin-desk) — the conversion of a person's text (a form field, a
 *  spreadsheet cell, a quoted number) into an attribute's typed value, and
 *  the JSON text of an event's attributes as its type declares them
 *  (copyrow.h puts it in the jsonb column).
 *
 *  Messages: the collector's (tx_validate_event) are English whatever the
 *  locale — they travel in acks as protocol text — and name attributes by
 *  name.  A producer's (tx_validate_event_local, tx_validate_text_value)
 *  are in the language of the locale (gettext) and name each field by its
 *  label in that language with its name: "参加人数 (participants)".
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

#include <stdbool.h>

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

//  A producer's check of an event against a registry it was given
//  (docs/protocol.md 6.4): the type (with the nearest registered one when
//  unknown), a retraction's target, the partner, every attribute — the
//  collector's checks 27 and 30..34 of 8.2, in its order, with the same
//  codes.  The unit, times and ids are the collector's to judge.  Returns
//  TX_REJECT_NONE or a tx_reject_t with a message in the reader's language.
int tx_validate_event_local (const tx_registry_t *reg, const tx_event_t *ev, char *msg, size_t msglen);

//  Room for a value rewritten by tx_validate_text_value (a date).
#define TX_VALIDATE_NORM 16

//  The text a person wrote for attribute def (text[0..len), UTF-8) as the
//  value its kind takes on the wire, checked against def (bounds, length,
//  values).  Blanks (and U+3000) around it are ignored except for text.
//    int      "12", "-3"                  -> an int (not "12.0", not "1e3")
//    numeric  "70000.00", "7e4", "12"     -> the decimal text as written
//    bool     true / false / 是 / 否 (ASCII in any case)
//    date     2025-04-01, 2025/4/1, 2025.4.1 -> YYYY-MM-DD (in norm)
//    enum     a value, or its Chinese or English label -> the value
//    text     as it is
//  An empty cell is the caller's to treat as "absent" before calling.
//  Returns TX_REJECT_NONE with *out set (a string points into text, norm
//  or def, so it lives as long as the three), or a reject code with a
//  message in the reader's language that names the field and says what to
//  write (the allowed values, the bounds, the date format).
int tx_validate_text_value (const tx_attr_def_t *def, const char *text, size_t len, tx_value_t *out,
                            char norm [TX_VALIDATE_NORM], char *msg, size_t msglen);

//  The same for attribute name[0..name_len) of type: TX_REJECT_UNKNOWN_ATTR
//  (with its message) when the type has none of that name.
int tx_validate_text_attr (const tx_type_def_t *type, const char *name, size_t name_len, const char *text,
                           size_t len, tx_value_t *out, char norm [TX_VALIDATE_NORM], char *msg, size_t msglen);

//  True when the locale's messages are Chinese (the catalogue says so).
bool tx_validate_lang_zh (void);

//  The attribute's label in the locale's language (falling back to the
//  other language's, then to its name).  Borrowed from def.
const char *tx_validate_label (const tx_attr_def_t *def);

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
