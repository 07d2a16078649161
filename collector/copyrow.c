/*  copyrow.c: an accepted event as a row of tongxin.events.  */
#include "copyrow.h"

#include <string.h>

#include "content.h"
#include "validate.h"

#define PG_EPOCH_UNIX 946684800LL      //  2000-01-01T00:00:00Z, PostgreSQL's epoch
#define OID_UUID 2950
#define OID_TEXT 25
#define OID_TIMESTAMPTZ 1184
#define OID_JSONB 3802
#define OID_BYTEA 17
#define JSONB_VERSION 1

const uint8_t tx_copy_header [19] = {
    'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0
};

const Oid tx_copyrow_types [TX_COPY_FIELDS] = {
    OID_UUID, OID_TEXT, OID_TEXT, OID_TIMESTAMPTZ, OID_TEXT, OID_JSONB, OID_TEXT, OID_UUID, OID_BYTEA
};

static inline uint8_t *
s_put32 (uint8_t *p, uint32_t v)
{
    p [0] = (uint8_t) (v >> 24);
    p [1] = (uint8_t) (v >> 16);
    p [2] = (uint8_t) (v >> 8);
    p [3] = (uint8_t) v;
    return p + 4;
}

static inline uint32_t
s_get32 (const uint8_t *p)
{
    return (uint32_t) p [0] << 24 | (uint32_t) p [1] << 16 | (uint32_t) p [2] << 8 | p [3];
}

int
tx_copyrow_jsonb (tx_buf_t *jsonb, const tx_type_def_t *type, const tx_event_t *ev)
{
    jsonb->len = 0;
    if (tx_buf_putc (jsonb, JSONB_VERSION) != 0)
        return -1;
    return tx_validate_attrs_json (type, ev, jsonb);
}

//  fill and append are inlined into encode, so that for each event the
//  compiler sees through the row: no more work than encoding the event's
//  fields directly.
static inline __attribute__ ((always_inline)) void
s_fill (tx_copyrow_t *row, const tx_event_t *ev, const char *sender, size_t sender_len,
        const tx_buf_t *jsonb, const uint8_t *fp)
{
    int64_t pg_us = (ev->at_sec - PG_EPOCH_UNIX) * 1000000LL + ev->at_nsec / 1000;
    s_put32 (s_put32 (row->at, (uint32_t) ((uint64_t) pg_us >> 32)), (uint32_t) pg_us);
    row->data [0] = ev->id;
    row->len [0] = 16;
    row->data [1] = ev->unit;
    row->len [1] = ev->unit_len;
    row->data [2] = ev->type;
    row->len [2] = ev->type_len;
    row->data [3] = row->at;
    row->len [3] = 8;
    row->data [4] = ev->partner;
    row->len [4] = ev->partner ? ev->partner_len : 0;
    row->data [5] = jsonb->data;
    row->len [5] = jsonb->len;
    row->data [6] = sender;
    row->len [6] = sender_len;
    row->data [7] = ev->has_supersedes ? ev->supersedes : NULL;
    row->len [7] = 16;
    row->data [8] = fp;
    row->len [8] = TX_CONTENT_FP_LEN;
}

//  A field: its length, then its bytes (the SQL NULL: length -1).
static inline uint8_t *
s_field (uint8_t *p, const void *data, size_t len)
{
    if (!data)
        return s_put32 (p, 0xffffffffu);
    p = s_put32 (p, (uint32_t) len);
    memcpy (p, data, len);
    return p + len;
}

static inline __attribute__ ((always_inline)) int
s_append (tx_buf_t *rows, const tx_copyrow_t *row)
{
    //  One reservation per row, then plain stores: this runs for every
    //  event.  Written out field by field, so that the fixed-size ones
    //  (the ids and the time) are copied without a call.
    const void *const *d = row->data;
    const size_t *l = row->len;
    size_t size = 2 + TX_COPY_FIELDS * 4 + (d [0] ? 16 : 0) + (d [1] ? l [1] : 0) + (d [2] ? l [2] : 0)
                + 8 + (d [4] ? l [4] : 0) + (d [5] ? l [5] : 0) + (d [6] ? l [6] : 0) + (d [7] ? 16 : 0)
                + (d [8] ? TX_CONTENT_FP_LEN : 0);
    if (tx_buf_reserve (rows, size) != 0)
        return -1;
    uint8_t *p = rows->data + rows->len;
    *p++ = 0;
    *p++ = TX_COPY_FIELDS;
    p = s_field (p, d [0], 16);
    p = s_field (p, d [1], l [1]);
    p = s_field (p, d [2], l [2]);
    p = s_field (p, d [3], 8);
    p = s_field (p, d [4], l [4]);
    p = s_field (p, d [5], l [5]);
    p = s_field (p, d [6], l [6]);
    p = s_field (p, d [7], 16);
    p = s_field (p, d [8], TX_CONTENT_FP_LEN);
    rows->len = (size_t) (p - rows->data);
    return 0;
}

void
tx_copyrow_fill (tx_copyrow_t *row, const tx_event_t *ev, const char *sender,
                 size_t sender_len, const tx_buf_t *jsonb, const uint8_t *fp)
{
    s_fill (row, ev, sender, sender_len, jsonb, fp);
}

int
tx_copyrow_append (tx_buf_t *rows, const tx_copyrow_t *row)
{
    return s_append (rows, row);
}

int
tx_copyrow_encode (tx_buf_t *rows, tx_buf_t *jsonb, const tx_type_def_t *type,
                   const tx_event_t *ev, const char *sender, size_t sender_len,
                   const uint8_t *fp)
{
    if (tx_copyrow_jsonb (jsonb, type, ev) != 0)
        return -1;
    tx_copyrow_t row;
    s_fill (&row, ev, sender, sender_len, jsonb, fp);
    return s_append (rows, &row);
}

int
tx_copyrow_content_append (tx_buf_t *rows, const char *unit, size_t unit_len,
                           const uint8_t *fp, const uint8_t id [16])
{
    if (tx_buf_reserve (rows, 2 + 3 * 4 + unit_len + TX_CONTENT_FP_LEN + 16) != 0)
        return -1;
    uint8_t *p = rows->data + rows->len;
    *p++ = 0;
    *p++ = 3;
    p = s_field (p, unit, unit_len);
    p = s_field (p, fp, TX_CONTENT_FP_LEN);
    p = s_field (p, id, 16);
    rows->len = (size_t) (p - rows->data);
    return 0;
}

size_t
tx_copyrow_len (const uint8_t *row)
{
    size_t len = 2;
    for (int f = 0; f < TX_COPY_FIELDS; f++) {
        int32_t flen = (int32_t) s_get32 (row + len);
        len += 4 + (flen > 0 ? (size_t) flen : 0);
    }
    return len;
}
