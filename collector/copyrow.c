/*  copyrow.c: an accepted event as a row of tongxin.events.  */
#include "copyrow.h"

#include <string.h>

#include "validate.h"

#define PG_EPOCH_UNIX 946684800LL      //  2000-01-01T00:00:00Z, PostgreSQL's epoch
#define OID_UUID 2950
#define OID_TEXT 25
#define OID_TIMESTAMPTZ 1184
#define OID_JSONB 3802
#define JSONB_VERSION 1

const uint8_t tx_copy_header [19] = {
    'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0
};

const Oid tx_copyrow_types [TX_COPY_FIELDS] = {
    OID_UUID, OID_TEXT, OID_TEXT, OID_TIMESTAMPTZ, OID_TEXT, OID_JSONB, OID_TEXT, OID_UUID
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

void
tx_copyrow_fill (tx_copyrow_t *row, const tx_event_t *ev, const char *sender,
                 size_t sender_len, const tx_buf_t *jsonb)
{
    int64_t pg_us = (ev->at_sec - PG_EPOCH_UNIX) * 1000000LL + ev->at_nsec / 1000;
    s_put32 (s_put32 (row->at, (uint32_t) ((uint64_t) pg_us >> 32)), (uint32_t) pg_us);
    const void *data [TX_COPY_FIELDS] = {
        ev->id, ev->unit, ev->type, row->at, ev->partner, jsonb->data, sender,
        ev->has_supersedes ? ev->supersedes : NULL
    };
    size_t len [TX_COPY_FIELDS] = {
        16, ev->unit_len, ev->type_len, 8, ev->partner ? ev->partner_len : 0, jsonb->len,
        sender_len, 16
    };
    memcpy (row->data, data, sizeof data);
    memcpy (row->len, len, sizeof len);
}

int
tx_copyrow_append (tx_buf_t *rows, const tx_copyrow_t *row)
{
    //  One reservation per row, then plain stores: this runs for every event.
    size_t size = 2 + TX_COPY_FIELDS * 4;
    for (int f = 0; f < TX_COPY_FIELDS; f++)
        size += row->data [f] ? row->len [f] : 0;
    if (tx_buf_reserve (rows, size) != 0)
        return -1;
    uint8_t *p = rows->data + rows->len;
    *p++ = 0;
    *p++ = TX_COPY_FIELDS;
    for (int f = 0; f < TX_COPY_FIELDS; f++) {
        //  A field: its length, then its bytes (the SQL NULL: length -1).
        if (!row->data [f]) {
            p = s_put32 (p, 0xffffffffu);
            continue;
        }
        p = s_put32 (p, (uint32_t) row->len [f]);
        memcpy (p, row->data [f], row->len [f]);
        p += row->len [f];
    }
    rows->len = (size_t) (p - rows->data);
    return 0;
}

int
tx_copyrow_encode (tx_buf_t *rows, tx_buf_t *jsonb, const tx_type_def_t *type,
                   const tx_event_t *ev, const char *sender, size_t sender_len)
{
    if (tx_copyrow_jsonb (jsonb, type, ev) != 0)
        return -1;
    tx_copyrow_t row;
    tx_copyrow_fill (&row, ev, sender, sender_len, jsonb);
    return tx_copyrow_append (rows, &row);
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
