/*  buf.c  */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

int
tx_buf_reserve (tx_buf_t *self, size_t extra)
{
    if (self->len + extra <= self->cap)
        return 0;
    size_t cap = self->cap ? self->cap : 256;
    while (cap < self->len + extra)
        cap *= 2;
    uint8_t *data = realloc (self->data, cap);
    if (!data)
        return -1;
    self->data = data;
    self->cap = cap;
    return 0;
}

int
tx_buf_append (tx_buf_t *self, const void *data, size_t len)
{
    if (tx_buf_reserve (self, len) != 0)
        return -1;
    if (len)
        memcpy (self->data + self->len, data, len);
    self->len += len;
    return 0;
}

int
tx_buf_putc (tx_buf_t *self, uint8_t c)
{
    return tx_buf_append (self, &c, 1);
}

int
tx_buf_be16 (tx_buf_t *self, uint16_t v)
{
    uint8_t b [2] = { (uint8_t) (v >> 8), (uint8_t) v };
    return tx_buf_append (self, b, 2);
}

int
tx_buf_be32 (tx_buf_t *self, uint32_t v)
{
    uint8_t b [4] = { (uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v };
    return tx_buf_append (self, b, 4);
}

int
tx_buf_be64 (tx_buf_t *self, uint64_t v)
{
    return tx_buf_be32 (self, (uint32_t) (v >> 32)) || tx_buf_be32 (self, (uint32_t) v) ? -1 : 0;
}

void
tx_buf_patch_be32 (tx_buf_t *self, size_t offset, uint32_t v)
{
    uint8_t *p = self->data + offset;
    p [0] = (uint8_t) (v >> 24);
    p [1] = (uint8_t) (v >> 16);
    p [2] = (uint8_t) (v >> 8);
    p [3] = (uint8_t) v;
}

void
tx_buf_reset (tx_buf_t *self)
{
    free (self->data);
    self->data = NULL;
    self->len = self->cap = 0;
}
