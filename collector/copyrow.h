/*  copyrow: how an accepted event becomes a row of tongxin.events.
 *
 *  One rule, used by the receive loop (a binary COPY row per accepted
 *  event), tongxin-admin rejected replay (the same fields as binary
 *  parameters of an INSERT) and bench/baseline.c: the columns and their
 *  order, which part of the event goes into each, and the binary form of
 *  each value (uuid: 16 bytes; text: the bytes; timestamptz: big-endian
 *  microseconds since 2000-01-01; jsonb: the version byte 1, then the JSON
 *  text of the attributes, tx_validate_attrs_json; bytea: the bytes of the
 *  content fingerprint, content.h).
 *
 *  The binary COPY stream is the 19-byte header, the rows, and the 16-bit
 *  trailer TX_COPY_TRAILER.  Nothing here allocates but the buffers the
 *  caller passes in, which grow.
 */
#ifndef TX_COPYROW_H_INCLUDED
#define TX_COPYROW_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "content.h"
#include <libpq-fe.h>

#include "registry.h"
#include "wire.h"

//  The columns of tongxin.events a row fills, in row order.
#define TX_COPY_COLUMNS "event_id, unit_code, type, occurred_at, partner_region, attrs, sender, supersedes," \
                        " fingerprint"
#define TX_COPY_FIELDS 9
//  The same columns with their types (a table of such rows).
#define TX_COPY_COLUMN_TYPES "event_id uuid, unit_code text, type text, occurred_at timestamptz," \
                             " partner_region text, attrs jsonb, sender text, supersedes uuid," \
                             " fingerprint bytea"

//  The 19-byte header of a binary COPY stream, and its trailer (be16).
extern const uint8_t tx_copy_header [19];
#define TX_COPY_TRAILER 0xffff

//  The PostgreSQL type (oid) of each column's binary value, in row order.
extern const Oid tx_copyrow_types [TX_COPY_FIELDS];

//  One row's values, in row order: data NULL is the SQL NULL.  The fields
//  point into the event, the sender, the jsonb buffer and the row itself
//  (occurred_at): a row is filled in place and not copied.
typedef struct {
    const void *data [TX_COPY_FIELDS];  //  each value's bytes, or NULL
    size_t len [TX_COPY_FIELDS];        //  their lengths
    uint8_t at [8];                     //  occurred_at in binary
} tx_copyrow_t;

//  Sets jsonb to the attrs value of a valid event in jsonb's binary form;
//  type is the event's type (tx_validate_event gives it).  0, or -1 out
//  of memory.
int tx_copyrow_jsonb (tx_buf_t *jsonb, const tx_type_def_t *type, const tx_event_t *ev);

//  Fills row from a valid event, its sender, its attrs in jsonb form and
//  its content fingerprint (TX_CONTENT_FP_LEN bytes; NULL: SQL NULL).
void tx_copyrow_fill (tx_copyrow_t *row, const tx_event_t *ev, const char *sender,
                      size_t sender_len, const tx_buf_t *jsonb, const uint8_t *fp);

//  Appends row to a binary COPY stream.  0, or -1 out of memory (rows is
//  then unchanged).
int tx_copyrow_append (tx_buf_t *rows, const tx_copyrow_t *row);

//  All of the above for one valid event: its row appended to rows, with
//  jsonb as scratch for its attributes.  0, or -1 out of memory.
int tx_copyrow_encode (tx_buf_t *rows, tx_buf_t *jsonb, const tx_type_def_t *type,
                       const tx_event_t *ev, const char *sender, size_t sender_len,
                       const uint8_t *fp);

//  How events are stored once, by id and by content (docs/architecture.md,
//  "Two levels of idempotency"): one statement over ROWS, a FROM item
//  named s with the columns TX_COPY_COLUMNS and seq (the order the events
//  came in).  cand: the events whose (id, unit) is not stored, the first
//  of each by seq; won: those whose content their unit has not reported
//  yet, claimed in event_contents in key order (its key is the arbiter:
//  a writer claiming the same content at once waits for this one, then
//  finds it; key order, so that two writes of the same contents never
//  deadlock; the first of a content by seq wins); then the winners are
//  stored, and their keys returned.  No ON CONFLICT on events: an id that
//  another writer stores at this very moment fails the statement (23505),
//  and the caller redoes it.  The collector's staging write and
//  tongxin-admin rejected replay both use it.
#define TX_COPY_STORE_SQL(rows) \
    "WITH cand AS (" \
    "  SELECT DISTINCT ON (s.event_id, s.unit_code) s.* FROM " rows \
    "   WHERE NOT EXISTS (SELECT 1 FROM tongxin.events e" \
    "                      WHERE e.event_id = s.event_id AND e.unit_code = s.unit_code)" \
    "   ORDER BY s.event_id, s.unit_code, s.seq)," \
    " won AS (" \
    "  INSERT INTO tongxin.event_contents (" TX_COPY_CONTENT_COLUMNS ")" \
    "  SELECT " TX_COPY_CONTENT_COLUMNS " FROM cand ORDER BY unit_code, fingerprint, seq" \
    "  ON CONFLICT DO NOTHING RETURNING event_id, unit_code)" \
    " INSERT INTO tongxin.events (" TX_COPY_COLUMNS ")" \
    " SELECT " TX_COPY_COLUMNS " FROM cand JOIN won USING (event_id, unit_code)" \
    " ORDER BY event_id RETURNING event_id, unit_code"

//  The columns of tongxin.event_contents a content row fills, in order.
#define TX_COPY_CONTENT_COLUMNS "unit_code, fingerprint, event_id"

//  Appends the content row of an accepted event (its unit, its content
//  fingerprint, TX_CONTENT_FP_LEN bytes, and its id) to a binary COPY
//  stream.  0, or -1 out of memory (rows is then unchanged).
int tx_copyrow_content_append (tx_buf_t *rows, const char *unit, size_t unit_len,
                               const uint8_t *fp, const uint8_t id [16]);

//  The length of the row that starts at row (rows written by append).
size_t tx_copyrow_len (const uint8_t *row);

#endif
