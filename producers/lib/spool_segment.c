/*  spool_segment.c -- segments: which seqs each holds and which are
    acknowledged (two bitmaps), the list of segments oldest first, and
    the segment file (name, header, creation, cut back to its header).
    Contract: spool_internal.h.
*/
#include "spool_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void
tx_spool_seg_name (uint64_t base, const char *ext, char *buf, size_t size)
{
    snprintf (buf, size, "seg-%016" PRIx64 ".%s", base, ext);
}

tx_spool_seg_t *
tx_spool_seg_new (uint64_t base)
{
    tx_spool_seg_t *seg = malloc (sizeof *seg);
    if (seg)                    /* every other field zero: nothing stored */
        *seg = (tx_spool_seg_t) { .base = base, .last = base - 1,
                                  .fsize = SEG_HDR, .end = SEG_HDR, .rfd = -1 };
    return seg;
}

void
tx_spool_seg_free (tx_spool_seg_t **seg_p)
{
    tx_spool_seg_t *seg = *seg_p;
    if (!seg)
        return;
    if (seg->rfd >= 0)
        close (seg->rfd);
    free (seg->present);
    free (seg->acked);
    free (seg);
    *seg_p = NULL;
}

/* Make room in both bitmaps for seq; 0 or -1 (no memory) */
int
tx_spool_seg_reserve (tx_spool_seg_t *seg, uint64_t seq)
{
    uint64_t need = (seq - seg->base) / 64 + 1;
    if (need <= seg->words)
        return 0;
    size_t words = seg->words ? seg->words : 16;
    while (words < need)
        words *= 2;
    uint64_t *p = realloc (seg->present, words * 8);
    if (!p)
        return -1;
    seg->present = p;
    uint64_t *a = realloc (seg->acked, words * 8);
    if (!a)
        return -1;
    seg->acked = a;
    memset (p + seg->words, 0, (words - seg->words) * 8);
    memset (a + seg->words, 0, (words - seg->words) * 8);
    seg->words = words;
    return 0;
}

static bool
s_bit (const uint64_t *map, size_t words, uint64_t i)
{
    return i / 64 < words && (map[i / 64] >> (i % 64)) & 1;
}

bool
tx_spool_seg_present (const tx_spool_seg_t *seg, uint64_t seq)
{
    return seq >= seg->base && s_bit (seg->present, seg->words, seq - seg->base);
}

bool
tx_spool_seg_acked (const tx_spool_seg_t *seg, uint64_t seq)
{
    return seq >= seg->base && s_bit (seg->acked, seg->words, seq - seg->base);
}

/* Record seq as stored; the caller reserved room */
void
tx_spool_seg_add (tx_spool_seg_t *seg, uint64_t seq)
{
    uint64_t i = seq - seg->base;
    seg->present[i / 64] |= 1ull << (i % 64);
    seg->nrec++;
    if (seq > seg->last)
        seg->last = seq;
}

/* Forget a stored seq (lost to damage or an I/O error) */
void
tx_spool_seg_lose (tx_spool_seg_t *seg, uint64_t seq)
{
    if (!tx_spool_seg_present (seg, seq))
        return;
    uint64_t i = seq - seg->base;
    seg->present[i / 64] &= ~(1ull << (i % 64));
    seg->nrec--;
    if (s_bit (seg->acked, seg->words, i)) {
        seg->acked[i / 64] &= ~(1ull << (i % 64));
        seg->nacked--;
    }
}

/* Acknowledge seq; true if it was stored and not yet acknowledged */
bool
tx_spool_seg_ack (tx_spool_seg_t *seg, uint64_t seq)
{
    if (!tx_spool_seg_present (seg, seq) || tx_spool_seg_acked (seg, seq))
        return false;
    uint64_t i = seq - seg->base;
    seg->acked[i / 64] |= 1ull << (i % 64);
    seg->nacked++;
    return true;
}

tx_spool_seg_t *
tx_spool_active (tx_spool_t *self)
{
    return self->nsegs ? self->segs[self->nsegs - 1] : NULL;
}

/* Index of the segment that holds seq, or -1 */
ssize_t
tx_spool_find_index (tx_spool_t *self, uint64_t seq)
{
    size_t lo = 0, hi = self->nsegs;
    if (!hi || seq < self->segs[0]->base)
        return -1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->segs[mid]->base <= seq)
            lo = mid;
        else
            hi = mid;
    }
    return (ssize_t) lo;
}

tx_spool_seg_t *
tx_spool_find_seg (tx_spool_t *self, uint64_t seq)
{
    ssize_t i = tx_spool_find_index (self, seq);
    return i < 0 ? NULL : self->segs[i];
}

int
tx_spool_segs_push (tx_spool_t *self, tx_spool_seg_t *seg)
{
    if (self->nsegs == self->segs_cap) {
        size_t cap = self->segs_cap ? self->segs_cap * 2 : 16;
        tx_spool_seg_t **p = realloc (self->segs, cap * sizeof *p);
        if (!p)
            return -1;
        self->segs = p;
        self->segs_cap = cap;
    }
    self->segs[self->nsegs++] = seg;
    return 0;
}

/* Take every fully acknowledged segment except the active one out of the
   list (mtx held).  Returns them in *dead (to pass to tx_spool_drop_segs). */
size_t
tx_spool_collect_dead (tx_spool_t *self, tx_spool_seg_t ***dead)
{
    size_t n = 0, j = 0;
    *dead = NULL;
    for (size_t i = 0; i + 1 < self->nsegs; i++)
        if (self->segs[i]->nacked == self->segs[i]->nrec)
            n++;
    if (!n)
        return 0;
    *dead = calloc (n, sizeof **dead);
    if (!*dead)
        return 0;           /* try again at the next ack */
    n = 0;
    for (size_t i = 0; i < self->nsegs; i++) {
        tx_spool_seg_t *seg = self->segs[i];
        if (i + 1 < self->nsegs && seg->nacked == seg->nrec) {
            seg->dead = true;
            self->bytes -= seg->fsize;
            (*dead)[n++] = seg;
        }
        else
            self->segs[j++] = seg;
    }
    self->nsegs = j;
    return n;
}

/* Unlink dead segments, fsync the directory, free what no reader pins.
   Called without mtx. */
void
tx_spool_drop_segs (tx_spool_t *self, tx_spool_seg_t **dead, size_t n)
{
    /* Their acknowledgements must be durable first: should power loss
       keep the unlink and lose the acks, a reopen would count the
       records as lost (their seqs neither stored nor done). */
    pthread_mutex_lock (&self->ack_mtx);
    bool logged = self->ackfd < 0       /* open: the old log holds them */
               || !(self->ack_dirty || self->ack_stale)
               || tx_spool_ack_mark (self, UINT64_MAX, 0) == 0;
    pthread_mutex_unlock (&self->ack_mtx);
    pthread_mutex_lock (&self->mtx);
    bool nospace = self->nospace;
    pthread_mutex_unlock (&self->mtx);
    size_t nunlink = n;
    if (!logged && !nospace) {
        /* Keep the files: a reopen finds the records and sends them again
           (the collector deduplicates), rather than count them lost.  On a
           full file system the space comes first. */
        tx_spool_log (self, TX_SPOOL_LOG_WARN, "event=segments-kept count=%zu"
                      " msg=\"the ack log could not be made durable: these"
                      " acknowledged records will be sent again after a restart\"", n);
        nunlink = 0;
    }
    char name[64];
    for (size_t i = 0; i < nunlink; i++) {
        tx_spool_seg_name (dead[i]->base, "log", name, sizeof name);
        if (unlinkat (self->dirfd, name, 0) && errno != ENOENT)
            tx_spool_log (self, TX_SPOOL_LOG_WARN,
                          "event=unlink-failed segment=%s error=\"%s\"", name,
                          strerror (errno));
    }
    if (nunlink)
        tx_spool_fsync_dir (self);
    pthread_mutex_lock (&self->mtx);
    for (size_t i = 0; i < n; i++) {
        if (self->rd_seg == dead[i])
            self->rd_seg = NULL;
        if (dead[i]->pins == 0)
            tx_spool_seg_free (&dead[i]);
        /* else the pinning reader frees it */
    }
    pthread_mutex_unlock (&self->mtx);
    free (dead);
}

/* Write a segment file header into p */
void
tx_spool_seg_header (unsigned char *p, uint64_t base)
{
    memset (p, 0, SEG_HDR);
    memcpy (p, SEG_MAGIC, 8);
    tx_le_put32 (p + 8, SEG_VERSION);
    tx_le_put32 (p + 12, SEG_HDR);
    tx_le_put64 (p + 16, base);
    tx_le_put32 (p + 28, tx_crc32c (p, 28));
}

/* Create seg-<base>.log atomically (tmp, fdatasync, rename, fsync dir).
   Returns an O_RDWR fd or -1. */
int
tx_spool_seg_create (tx_spool_t *self, uint64_t base)
{
    char name[64], tmpname[64], why[512] = "";
    unsigned char hdr[SEG_HDR];
    const char *what;
    tx_spool_seg_name (base, "log", name, sizeof name);
    tx_spool_seg_name (base, "tmp", tmpname, sizeof tmpname);
    tx_spool_seg_header (hdr, base);
    int fd = tx_spool_write_atomic (self, tmpname, name, hdr, SEG_HDR, true,
                                    &what, why, sizeof why);
    if (fd < 0 && strcmp (what, "fsync-dir")) {    /* that one is logged */
        int err = errno;
        tx_spool_log (self, TX_SPOOL_LOG_ERROR,
                      "event=create-segment-failed segment=%s op=%s"
                      " error=\"%s\"", name, what, *why ? why : strerror (err));
        errno = err;
    }
    return fd;
}

/* Whether the active segment holds nothing but acknowledged records, so
   that its space could be given back (mtx held). */
bool
tx_spool_reclaimable (tx_spool_t *self)
{
    tx_spool_seg_t *act = tx_spool_active (self);
    return act && !act->spent && act->fsize > SEG_HDR
        && act->nacked == act->nrec && act->pins == 0 && self->pend_len == 0;
}

/* Cut the fully acknowledged active segment back to its header (mtx held
   or open/close, nothing syncing, tx_spool_reclaimable).  It then holds no
   records.  Returns 0, or -1 with errno when the file was not cut. */
int
tx_spool_cut_active (tx_spool_t *self)
{
    tx_spool_seg_t *act = tx_spool_active (self);
    char name[64];
    tx_spool_seg_name (act->base, "log", name, sizeof name);
    if (ftruncate (self->wfd, SEG_HDR))
        return -1;
    /* Enough against kill -9.  Should power loss undo the cut, the
       acknowledged records come back and are sent again. */
    if (fdatasync (self->wfd))
        tx_spool_log (self, TX_SPOOL_LOG_WARN,
                      "event=reclaim-sync-failed segment=%s error=\"%s\"", name,
                      strerror (errno));
    uint64_t freed = act->fsize - SEG_HDR;
    self->bytes -= freed;
    act->fsize = act->end = SEG_HDR;
    self->durable_off = self->written_off = SEG_HDR;
    if (act->words) {
        memset (act->present, 0, act->words * 8);
        memset (act->acked, 0, act->words * 8);
    }
    act->nrec = act->nacked = 0;
    act->last = act->base - 1;
    self->st.reclaimed++;
    tx_spool_log (self, TX_SPOOL_LOG_INFO,
                  "event=reclaimed segment=%s bytes=%" PRIu64
                  " msg=\"fully acknowledged active segment cut back\"", name, freed);
    return 0;
}
