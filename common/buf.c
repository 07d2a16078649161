/*  buf.c  */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

int
tx_buf_grow (tx_buf_t *self, size_t extra)
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
