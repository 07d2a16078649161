/*  spool_acklog.c -- the ack log: fixed 24-byte entries (RANGE, FLOOR,
    NEXT, DURABLE), appending acknowledgements, the durable mark, the
    snapshot that compaction writes, and the replay at open.  Contract:
    spool_internal.h; the format and its rules: docs/spool.md.
*/
#include "spool_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void
tx_spool_ack_entry (unsigned char *p, uint32_t kind, uint64_t seq, uint32_t count)
{
    tx_le_put32 (p, ACK_MAGIC);
    tx_le_put32 (p + 4, kind);
    tx_le_put64 (p + 8, seq);
    tx_le_put32 (p + 16, count);
    tx_le_put32 (p + 20, tx_crc32c (p, 20));
}

/* Append an entry to a growing buffer; -1 on no memory */
static int
s_ack_push (unsigned char **buf, size_t *len, size_t *cap, uint32_t kind,
            uint64_t seq, uint32_t count)
{
    if (*len + ACK_ENT > *cap) {
        size_t ncap = *cap ? *cap * 2 : 4096;
        unsigned char *p = realloc (*buf, ncap);
        if (!p)
            return -1;
        *buf = p;
        *cap = ncap;
    }
    tx_spool_ack_entry (*buf + *len, kind, seq, count);
    *len += ACK_ENT;
    return 0;
}

/* Append the run [lo, lo+count) as RANGE entries; -1 on no memory */
static int
s_ack_push_run (unsigned char **buf, size_t *len, size_t *cap, uint64_t lo,
                uint64_t count)
{
    while (count) {
        uint32_t c = count > UINT32_MAX ? UINT32_MAX : (uint32_t) count;
        if (s_ack_push (buf, len, cap, ACK_RANGE, lo, c))
            return -1;
        lo += c;
        count -= c;
    }
    return 0;
}

/* Add the n done seqs from lo to the run being built (snapshot), which
   is written out when the next done seq does not follow it; -1 on no
   memory.  n 0 with lo 0 writes the last run. */
static int
s_ack_run (unsigned char **buf, size_t *len, size_t *cap, uint64_t *run,
           uint64_t *count, uint64_t lo, uint64_t n)
{
    if (n && *count && lo == *run + *count) {
        *count += n;
        return 0;
    }
    if (*count && s_ack_push_run (buf, len, cap, *run, *count))
        return -1;
    *run = lo;
    *count = n;
    return 0;
}

/* The whole ack state as entries (mtx held): NEXT, FLOOR, RANGE runs of
   every seq from the floor to durable_seq that is done (acknowledged, or
   not stored: a failed append, a deleted segment, a loss already
   reported), then DURABLE(durable_seq).  Every seq not named is therefore
   stored, so a reopen that cannot read it counts it as lost. */
static unsigned char *
s_ack_snapshot (tx_spool_t *self, size_t *lenp)
{
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    uint64_t floor = self->nsegs ? self->segs[0]->base : self->next_seq;
    uint64_t upto = self->durable_seq;
    if (s_ack_push (&buf, &len, &cap, ACK_NEXT, self->next_seq, 0)
    ||  s_ack_push (&buf, &len, &cap, ACK_FLOOR, floor, 0))
        goto nomem;
    uint64_t run = 0, count = 0, s = floor;    /* s: first seq not yet looked at */
    for (size_t i = 0; i < self->nsegs && s <= upto; i++) {
        tx_spool_seg_t *seg = self->segs[i];
        if (seg->base > s) {    /* between segments: done */
            uint64_t hi = seg->base - 1 < upto ? seg->base - 1 : upto;
            if (s_ack_run (&buf, &len, &cap, &run, &count, s, hi - s + 1))
                goto nomem;
            s = hi + 1;
        }
        uint64_t last = seg->last < upto ? seg->last : upto;
        for (; s <= last; s++)
            if (!(tx_spool_seg_present (seg, s) && !tx_spool_seg_acked (seg, s))
            &&  s_ack_run (&buf, &len, &cap, &run, &count, s, 1))
                goto nomem;
    }
    if (s <= upto && s_ack_run (&buf, &len, &cap, &run, &count, s, upto - s + 1))
        goto nomem;
    if (s_ack_run (&buf, &len, &cap, &run, &count, 0, 0))
        goto nomem;
    if (upto && s_ack_push (&buf, &len, &cap, ACK_DURABLE, upto, 0))
        goto nomem;
    *lenp = len;
    return buf;
nomem:
    free (buf);
    return NULL;
}

/* Forget the first n settled ranges: the ack log now holds them (mtx) */
static void
s_settled_drop (tx_spool_t *self, size_t n)
{
    self->nsettled -= n;
    memmove (self->settled, self->settled + n,
             self->nsettled * sizeof self->settled[0]);
}

/* Rewrite the ack log as a snapshot (ack_mtx held, not mtx). */
int
tx_spool_ack_compact (tx_spool_t *self)
{
    char why[512] = "";
    size_t len = 0;
    pthread_mutex_lock (&self->mtx);
    unsigned char *snap = s_ack_snapshot (self, &len);
    size_t nsettled = self->nsettled;       /* the snapshot covers these */
    uint64_t mark_cap = self->mark_cap;
    pthread_mutex_unlock (&self->mtx);
    if (!snap)
        return -1;
    /* if the directory fsync fails the old log may come back: fine */
    const char *what;
    int fd = tx_spool_write_atomic (self, "acks.tmp", "acks", snap, len, false,
                                    &what, why, sizeof why);
    free (snap);
    if (fd < 0) {
        int err = errno;
        self->ack_compact_at = self->ack_off * 2 > ACK_COMPACT_MIN
                             ? self->ack_off * 2 : ACK_COMPACT_MIN;
        tx_spool_log (self, TX_SPOOL_LOG_WARN, "event=ack-compact-failed op=%s"
                      " error=\"%s\" msg=\"keeping the old ack log\"",
                      what, *why ? why : strerror (err));
        return -1;
    }
    if (self->ackfd >= 0)
        close (self->ackfd);
    self->ackfd = fd;
    self->ack_off = len;
    self->ack_compact_at = len * 4 > ACK_COMPACT_MIN ? len * 4 : ACK_COMPACT_MIN;
    self->ack_dirty = false;
    self->ack_stale = false;
    self->ack_synced = self->mark_at = tx_spool_now ();
    pthread_mutex_lock (&self->mtx);
    s_settled_drop (self, nsettled);
    if (self->mark_cap == mark_cap)
        self->mark_cap = UINT64_MAX;
    pthread_mutex_unlock (&self->mtx);
    return 0;
}

/* Append entries to the ack log (ack_mtx held).  Entries go at ack_off
   with pwrite, so a failed or partial write is overwritten next time. */
int
tx_spool_ack_write (tx_spool_t *self, const unsigned char *ents, size_t len)
{
    if (self->ackfd < 0 || tx_spool_pwrite_all (self->ackfd, ents, len, self->ack_off)) {
        tx_spool_log (self, TX_SPOOL_LOG_ERROR, "event=ack-write-failed error=\"%s\"",
                      strerror (self->ackfd < 0 ? EBADF : errno));
        self->ack_stale = true;
        return -1;
    }
    self->ack_off += len;
    self->ack_dirty = true;
    uint64_t now = tx_spool_now ();
    int rc = 0;
    if (self->opts.ack_sync_ms < 0
    ||  now - self->ack_synced >= (uint64_t) self->opts.ack_sync_ms * 1000000ull)
        rc = tx_spool_ack_mark (self, UINT64_MAX, 0);
    if (self->ack_off > self->ack_compact_at)
        tx_spool_ack_compact (self);
    return rc;
}

/* Write a durable mark (ack_mtx held, not mtx): RANGE entries for the
   failed seqs not yet logged (tx_spool_settle), then DURABLE(W), and fdatasync
   the ack log.  W is durable_seq, or upto when the group-commit leader
   marks what it has just synced (then nothing may have failed since
   epoch).  A reopen counts every seq <= W that is neither stored nor
   done as lost.  0, or -1 when the log could not be written or synced. */
int
tx_spool_ack_mark (tx_spool_t *self, uint64_t upto, uint64_t epoch)
{
    if (self->ackfd < 0)
        return -1;
    pthread_mutex_lock (&self->mtx);
    bool capped = self->mark_cap != UINT64_MAX;
    pthread_mutex_unlock (&self->mtx);
    /* Acks missing from the log, or failed ranges that did not fit in
       the queue: only a snapshot says it all */
    if (self->ack_stale || capped)
        return tx_spool_ack_compact (self);
    unsigned char ents[(MAX_SETTLED + 1) * ACK_ENT * 2];
    size_t len = 0, n;
    pthread_mutex_lock (&self->mtx);
    if (epoch && epoch != self->epoch) {
        pthread_mutex_unlock (&self->mtx);
        return 0;               /* a failure since: the next mark will do */
    }
    uint64_t w = upto == UINT64_MAX ? self->durable_seq : upto;
    if (w > self->mark_cap)
        w = self->mark_cap;
    n = self->nsettled;
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = self->settled[i].lo, count = self->settled[i].hi - lo + 1;
        while (count && len + 2 * ACK_ENT <= sizeof ents) {
            uint32_t c = count > UINT32_MAX ? UINT32_MAX : (uint32_t) count;
            tx_spool_ack_entry (ents + len, ACK_RANGE, lo, c);
            len += ACK_ENT;
            lo += c;
            count -= c;
        }
        if (count && lo - 1 < w)
            w = lo - 1;         /* did not fit: not past it */
    }
    pthread_mutex_unlock (&self->mtx);
    if (w)
        tx_spool_ack_entry (ents + len, ACK_DURABLE, w, 0), len += ACK_ENT;
    if (len && tx_spool_pwrite_all (self->ackfd, ents, len, self->ack_off)) {
        tx_spool_log (self, TX_SPOOL_LOG_ERROR,
                      "event=ack-write-failed entry=durable error=\"%s\"", strerror (errno));
        return -1;
    }
    self->ack_off += len;
    if (fdatasync (self->ackfd)) {
        self->ack_dirty = true;
        tx_spool_log (self, TX_SPOOL_LOG_ERROR, "event=ack-sync-failed error=\"%s\"",
                      strerror (errno));
        return -1;
    }
    self->ack_dirty = false;
    self->ack_synced = self->mark_at = tx_spool_now ();
    pthread_mutex_lock (&self->mtx);
    s_settled_drop (self, n);
    pthread_mutex_unlock (&self->mtx);
    return 0;
}

/* The group-commit leader has made seqs up to upto durable (no lock
   held): mark that in the ack log, at most every ack_sync_ms (every time
   with -1, before the appenders hear of it, so that the mark is exact).
   A leader never waits for a busy ack log unless ack_sync_ms is -1. */
void
tx_spool_ack_mark_due (tx_spool_t *self, uint64_t upto, uint64_t epoch)
{
    bool always = self->opts.ack_sync_ms < 0;
    if (always)
        pthread_mutex_lock (&self->ack_mtx);
    else if (pthread_mutex_trylock (&self->ack_mtx))
        return;
    if (always || tx_spool_now () - self->mark_at
                  >= (uint64_t) self->opts.ack_sync_ms * 1000000ull) {
        tx_spool_ack_mark (self, upto, epoch);
        if (self->ack_off > self->ack_compact_at)
            tx_spool_ack_compact (self);
    }
    pthread_mutex_unlock (&self->ack_mtx);
}

int
tx_spool_ranges_add (tx_spool_ranges_t *r, uint64_t lo, uint64_t hi)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        tx_spool_range_t *p = realloc (r->v, cap * sizeof *p);
        if (!p)
            return -1;
        r->v = p;
        r->cap = cap;
    }
    r->v[r->n].lo = lo;
    r->v[r->n].hi = hi;
    r->v[r->n].full = false;
    r->n++;
    return 0;
}

/* Replay the ack log into the segments (open, single-threaded).
   *max_seq gets the highest seq any entry mentions, *durable the highest
   DURABLE mark, done the ranges of done seqs (RANGE, FLOOR).  -1 on no
   memory. */
int
tx_spool_ack_replay (tx_spool_t *self, const unsigned char *buf, size_t len,
                     uint64_t *max_seq, uint64_t *durable, tx_spool_ranges_t *done)
{
    uint64_t bad = 0;
    for (size_t off = 0; off + ACK_ENT <= len; off += ACK_ENT) {
        const unsigned char *p = buf + off;
        if (tx_le_get32 (p) != ACK_MAGIC || tx_le_get32 (p + 20) != tx_crc32c (p, 20)) {
            bad++;
            continue;
        }
        uint32_t kind = tx_le_get32 (p + 4);
        uint64_t seq = tx_le_get64 (p + 8);
        uint64_t count = tx_le_get32 (p + 16);
        uint64_t lo, hi;            /* acknowledged range, inclusive */
        if (kind == ACK_RANGE && count) {
            lo = seq;
            hi = seq + count - 1;
            if (hi > *max_seq)
                *max_seq = hi;
        }
        else if (kind == ACK_FLOOR && seq > 0) {
            lo = 0;
            hi = seq - 1;
            if (hi > *max_seq)
                *max_seq = hi;
        }
        else if (kind == ACK_NEXT && seq > 0) {
            if (seq - 1 > *max_seq)
                *max_seq = seq - 1;
            continue;
        }
        else if (kind == ACK_DURABLE && seq > 0) {
            if (seq > *max_seq)
                *max_seq = seq;
            if (seq > *durable)
                *durable = seq;
            continue;
        }
        else {
            bad++;
            continue;
        }
        if (tx_spool_ranges_add (done, lo, hi))
            return -1;
        for (size_t i = 0; i < self->nsegs; i++) {
            tx_spool_seg_t *seg = self->segs[i];
            uint64_t a = lo > seg->base ? lo : seg->base;
            uint64_t b = hi < seg->last ? hi : seg->last;
            for (uint64_t s = a; s <= b && b >= seg->base; s++)
                tx_spool_seg_ack (seg, s);
        }
    }
    if (bad)
        tx_spool_log (self, TX_SPOOL_LOG_WARN,
                      "event=ack-log-damaged entries=%" PRIu64
                      " msg=\"those records may be sent again\"", bad);
    return 0;
}
