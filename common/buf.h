/*  buf: a growable byte buffer.
 *
 *  tx_buf_t is a plain struct the owner embeds; tx_buf_reset() frees its
 *  memory.  Appends return 0, or -1 when memory runs out (the buffer is
 *  then unchanged).  Big-endian helpers are for PostgreSQL's binary COPY.
 */
#ifndef TX_BUF_H_INCLUDED
#define TX_BUF_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    uint8_t *data;              //  owned
    size_t len;                 //  bytes used
    size_t cap;                 //  bytes allocated
} tx_buf_t;

//  Makes room for extra more bytes (the slow path of the appends below).
int tx_buf_grow (tx_buf_t *self, size_t extra);

//  The appends are inline: the collector makes several per event field.
static inline int
tx_buf_reserve (tx_buf_t *self, size_t extra)
{
    return self->cap - self->len >= extra ? 0 : tx_buf_grow (self, extra);
}

static inline int
tx_buf_append (tx_buf_t *self, const void *data, size_t len)
{
    if (tx_buf_reserve (self, len) != 0)
        return -1;
    if (len)
        memcpy (self->data + self->len, data, len);
    self->len += len;
    return 0;
}

static inline int
tx_buf_putc (tx_buf_t *self, uint8_t c)
{
    if (tx_buf_reserve (self, 1) != 0)
        return -1;
    self->data [self->len++] = c;
    return 0;
}

static inline int
tx_buf_be16 (tx_buf_t *self, uint16_t v)
{
    if (tx_buf_reserve (self, 2) != 0)
        return -1;
    uint8_t *p = self->data + self->len;
    p [0] = (uint8_t) (v >> 8);
    p [1] = (uint8_t) v;
    self->len += 2;
    return 0;
}

static inline int
tx_buf_be32 (tx_buf_t *self, uint32_t v)
{
    if (tx_buf_reserve (self, 4) != 0)
        return -1;
    uint8_t *p = self->data + self->len;
    p [0] = (uint8_t) (v >> 24);
    p [1] = (uint8_t) (v >> 16);
    p [2] = (uint8_t) (v >> 8);
    p [3] = (uint8_t) v;
    self->len += 4;
    return 0;
}

static inline int
tx_buf_be64 (tx_buf_t *self, uint64_t v)
{
    return tx_buf_be32 (self, (uint32_t) (v >> 32)) || tx_buf_be32 (self, (uint32_t) v) ? -1 : 0;
}
//  Overwrites 4 bytes at offset with v, big-endian (offset + 4 <= len).
void tx_buf_patch_be32 (tx_buf_t *self, size_t offset, uint32_t v);
//  Frees the memory; the buffer is empty and usable again.
void tx_buf_reset (tx_buf_t *self);

#endif
