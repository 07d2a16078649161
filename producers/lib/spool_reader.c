/*  spool_reader.c -- the record format of a segment file: encoding a
    record, and reading records back through a window of the file, with
    resynchronisation past damaged bytes.  Contract: spool_internal.h;
    the format: docs/spool.md section 2.
*/
#include "spool_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

void
tx_spool_rec_encode (unsigned char *p, uint64_t seq, const void *data,
                     size_t len, uint32_t dcrc)
{
    size_t rsize = tx_spool_rec_size (len);
    tx_le_put32 (p, REC_MAGIC);
    tx_le_put32 (p + 4, (uint32_t) len);
    tx_le_put64 (p + 8, seq);
    tx_le_put32 (p + 16, dcrc);
    tx_le_put32 (p + 20, tx_crc32c (p, 20));
    memcpy (p + REC_HDR, data, len);
    memset (p + REC_HDR + len, 0, rsize - REC_HDR - len);
}

void
tx_spool_reader_init (tx_spool_reader_t *r, uint32_t max_record)
{
    memset (r, 0, sizeof *r);
    r->fd = -1;
    r->max_record = max_record;
}

void
tx_spool_reader_reset (tx_spool_reader_t *r, int fd, uint64_t end)
{
    if (r->fd != fd)
        r->blen = 0;
    r->fd = fd;
    r->end = end;
}

/* Bytes [off, off+n) of the file, or NULL with *rc = 1 (past the end),
   S_AGAIN (a refill is needed but not allowed) or S_IOERR. */
const unsigned char *
tx_spool_reader_get (tx_spool_reader_t *r, uint64_t off, size_t n, bool refill, int *rc)
{
    if (off > r->end || n > r->end - off) {
        *rc = 1;
        return NULL;
    }
    if (off >= r->boff && off + n <= r->boff + r->blen)
        return r->buf + (off - r->boff);
    if (!refill) {
        *rc = S_AGAIN;
        return NULL;
    }
    size_t want = n > READ_CHUNK ? n : READ_CHUNK;
    if (want > r->end - off)
        want = (size_t) (r->end - off);
    if (want > r->cap) {
        unsigned char *p = realloc (r->buf, want);
        if (!p) {
            *rc = S_IOERR;
            return NULL;
        }
        r->buf = p;
        r->cap = want;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t k = pread (r->fd, r->buf + got, want - got, (off_t) (off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r->blen = 0;
            *rc = S_IOERR;
            return NULL;
        }
        if (k == 0)
            break;
        got += (size_t) k;
    }
    r->boff = off;
    r->blen = got;
    if (got < n) {
        *rc = 1;            /* the file is shorter than end */
        return NULL;
    }
    return r->buf;
}

/* Check a record at off.  S_REC, S_BADREC, 0 (no valid header here),
   S_AGAIN or S_IOERR. */
static int
s_parse_at (tx_spool_reader_t *r, uint64_t off, bool refill, tx_spool_item_t *rec)
{
    int rc = 0;
    const unsigned char *h = tx_spool_reader_get (r, off, REC_HDR, refill, &rc);
    if (!h)
        return rc == 1 ? 0 : rc;
    if (tx_le_get32 (h) != REC_MAGIC || tx_le_get32 (h + 20) != tx_crc32c (h, 20))
        return 0;
    uint32_t len = tx_le_get32 (h + 4);
    uint64_t seq = tx_le_get64 (h + 8);
    uint32_t dcrc = tx_le_get32 (h + 16);
    if (len == 0 || len > r->max_record || seq == 0)
        return 0;
    size_t size = tx_spool_rec_size (len);
    const unsigned char *p = tx_spool_reader_get (r, off, size, refill, &rc);
    if (!p)
        return rc == 1 ? 0 : rc;
    rec->off = off;
    rec->size = size;
    rec->seq = seq;
    rec->len = len;
    rec->data = p + REC_HDR;
    return tx_crc32c (p + REC_HDR, len) == dcrc ? S_REC : S_BADREC;
}

/* The next thing at off: see S_* above.  rec->off/size always describe
   what was found, so the caller continues at rec->off + rec->size. */
int
tx_spool_reader_next (tx_spool_reader_t *r, uint64_t off, bool refill, tx_spool_item_t *rec)
{
    if (off >= r->end)
        return S_END;
    int rc = s_parse_at (r, off, refill, rec);
    if (rc != 0)
        return rc;
    /* Resynchronise: the next 8-aligned offset with a fully valid record */
    for (uint64_t p = off + 8; p + REC_HDR <= r->end; p += 8) {
        tx_spool_item_t cand;
        rc = s_parse_at (r, p, refill, &cand);
        if (rc == S_AGAIN || rc == S_IOERR)
            return rc;
        if (rc == S_REC) {
            rec->off = off;
            rec->size = p - off;
            return S_BADREGION;
        }
    }
    rec->off = off;
    rec->size = r->end - off;
    return S_TAIL;
}

