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

typedef struct {
    uint8_t *data;              //  owned
    size_t len;                 //  bytes used
    size_t cap;                 //  bytes allocated
} tx_buf_t;

int tx_buf_reserve (tx_buf_t *self, size_t extra);
int tx_buf_append (tx_buf_t *self, const void *data, size_t len);
int tx_buf_putc (tx_buf_t *self, uint8_t c);
int tx_buf_be16 (tx_buf_t *self, uint16_t v);
int tx_buf_be32 (tx_buf_t *self, uint32_t v);
int tx_buf_be64 (tx_buf_t *self, uint64_t v);
//  Overwrites 4 bytes at offset with v, big-endian (offset + 4 <= len).
void tx_buf_patch_be32 (tx_buf_t *self, size_t offset, uint32_t v);
//  Frees the memory; the buffer is empty and usable again.
void tx_buf_reset (tx_buf_t *self);

#endif
