/*  spool_commit.c -- the write path of the active segment: group commit
    (one leader writes and fdatasyncs for every waiting appender), what a
    failed write or sync loses and how it is repaired, rotation to a new
    segment, and giving a fully acknowledged active segment's space back.
    Contract: spool_internal.h.
*/
#include "spool_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

/* Whether a write/sync/truncate error means "no room": the file system
   (ENOSPC), the user's quota (EDQUOT) or the file size limit (EFBIG,
   RLIMIT_FSIZE).  The caller then sees TX_SPOOL_FULL, as at the cap. */
bool
tx_spool_nospace_err (int err)
{
    return err == ENOSPC || err == EDQUOT || err == EFBIG;
}

/* Whether any of seqs lo..hi was lost to a failure: 0 if none, else
   TX_SPOOL_FULL when every such failure was for lack of space, or
   TX_SPOOL_EIO. */
int
tx_spool_failed_code (tx_spool_t *self, uint64_t lo, uint64_t hi)
{
    int code = 0;
    for (size_t i = 0; i < self->nfailed; i++)
        if (self->failed[i].lo <= hi && lo <= self->failed[i].hi) {
            if (!self->failed[i].full)
                return TX_SPOOL_EIO;
            code = TX_SPOOL_FULL;
        }
    return code;
}

static void
s_add_failed (tx_spool_t *self, uint64_t lo, uint64_t hi, bool full)
{
    if (self->nfailed && self->failed[self->nfailed - 1].hi + 1 >= lo
    &&  self->failed[self->nfailed - 1].full == full) {
        self->failed[self->nfailed - 1].hi = hi;
        return;
    }
    if (self->nfailed == MAX_FAILED) {
        /* Merge the two oldest: durable seqs between them would then be
           reported as failed to a late sync, which is the safe direction. */
        self->failed[0].hi = self->failed[1].hi;
        self->failed[0].full = self->failed[0].full && self->failed[1].full;
        memmove (&self->failed[1], &self->failed[2],
                 (MAX_FAILED - 2) * sizeof self->failed[0]);
        self->nfailed--;
    }
    self->failed[self->nfailed].lo = lo;
    self->failed[self->nfailed].hi = hi;
    self->failed[self->nfailed].full = full;
    self->nfailed++;
}

/* Remember (mtx held) that seqs lo..hi are done though not acknowledged
   (their appends failed, or their loss was reported already), for the
   next durable mark (tx_spool_ack_mark): the ack log must say so before
   it says that everything up to them is durable, or a reopen would count
   them as lost.  Exact ranges, never merged across
   durable seqs; when there is no room, marks stop below lo until a
   snapshot (which covers every seq not stored) is written. */
void
tx_spool_settle (tx_spool_t *self, uint64_t lo, uint64_t hi)
{
    if (self->nsettled && self->settled[self->nsettled - 1].hi + 1 == lo) {
        self->settled[self->nsettled - 1].hi = hi;
        return;
    }
    if (self->nsettled == MAX_SETTLED) {
        if (lo - 1 < self->mark_cap)
            self->mark_cap = lo - 1;
        return;
    }
    self->settled[self->nsettled].lo = lo;
    self->settled[self->nsettled].hi = hi;
    self->settled[self->nsettled].full = false;
    self->nsettled++;
}

/* Count a write/sync/truncate failure with errno err (mtx held) and
   remember whether it was for lack of space.  Returns the code a caller
   sees for it: TX_SPOOL_FULL or TX_SPOOL_EIO. */
int
tx_spool_count_failure (tx_spool_t *self, int err)
{
    self->st.io_errors++;
    self->nospace = tx_spool_nospace_err (err);
    if (self->nospace)
        self->st.nospace_errors++;
    return self->nospace ? TX_SPOOL_FULL : TX_SPOOL_EIO;
}

/* A write or fdatasync of the active segment failed (mtx held): every
   record not yet durable is lost; the file is cut back by tx_spool_repair,
   which tx_spool_wait runs before it reports the failure. */
static void
s_fail (tx_spool_t *self, const char *what, int err)
{
    tx_spool_seg_t *act = tx_spool_active (self);
    uint64_t lo = self->durable_seq + 1, hi = self->next_seq - 1;
    bool was_nospace = self->nospace;
    self->broken = true;
    self->epoch++;
    bool full = tx_spool_count_failure (self, err) == TX_SPOOL_FULL;
    if (lo <= hi) {
        s_add_failed (self, lo, hi, full);
        tx_spool_settle (self, lo, hi);
        for (uint64_t s = lo > act->base ? lo : act->base; s <= hi; s++)
            tx_spool_seg_lose (act, s);
        if (act->last > self->durable_seq)
            act->last = self->durable_seq >= act->base ? self->durable_seq
                                                       : act->base - 1;
    }
    self->bytes -= act->fsize - self->durable_off;
    act->fsize = act->end = self->durable_off;
    self->written_off = self->durable_off;
    self->pend_len = 0;
    self->pend_since = 0;
    self->durable_seq = self->next_seq - 1;     /* nothing else is present */
    if (!full)
        tx_spool_log (self, TX_SPOOL_LOG_ERROR,
                      "event=io-error op=%s error=\"%s\" lost_seqs=%" PRIu64 "-%" PRIu64
                      " msg=\"appends not yet durable fail\"", what, strerror (err), lo, hi);
    else if (!was_nospace)      /* once per episode: it may last long */
        tx_spool_log (self, TX_SPOOL_LOG_ERROR,
                      "event=disk-full op=%s error=\"%s\" lost_seqs=%" PRIu64 "-%" PRIu64
                      " msg=\"no room on the spool's file system: appends fail with"
                      " 'full' until space is freed; acknowledged segments are given"
                      " back\"", what, strerror (err), lo, hi);
    pthread_cond_broadcast (&self->cond);
}

/* Cut the active segment back to its durable end (mtx held).  Returns
   TX_SPOOL_OK, or TX_SPOOL_FULL / TX_SPOOL_EIO when that failed. */
int
tx_spool_repair (tx_spool_t *self)
{
    while (self->syncing)
        pthread_cond_wait (&self->cond, &self->mtx);
    if (!self->broken)
        return TX_SPOOL_OK;
    if (ftruncate (self->wfd, (off_t) self->durable_off) == 0
    &&  fdatasync (self->wfd) == 0) {
        self->broken = false;
        tx_spool_log (self, TX_SPOOL_LOG_INFO, "event=repaired offset=%" PRIu64,
                      self->durable_off);
        return TX_SPOOL_OK;
    }
    int err = errno;
    int rc = tx_spool_count_failure (self, err);
    tx_spool_log (self, TX_SPOOL_LOG_ERROR, "event=repair-failed error=\"%s\"",
                  strerror (err));
    return rc;
}


/* ---------------------------------------------------------------- commit */

/* Write pending records to the kernel now (mtx held), bounding memory
   when nobody syncs. */
void
tx_spool_flush_pending (tx_spool_t *self)
{
    if (tx_spool_pwrite_all (self->wfd, self->pend, self->pend_len,
                             self->written_off) == 0) {
        self->written_off += self->pend_len;
        self->pend_len = 0;
    }
    else
        s_fail (self, "write", errno);
}

/* Group commit (mtx held, !syncing, !broken): write what is pending and
   fdatasync, without mtx, for every record put so far. */
void
tx_spool_lead (tx_spool_t *self)
{
    tx_spool_seg_t *act = tx_spool_active (self);
    uint64_t epoch = self->epoch;
    uint64_t target_seq = self->next_seq - 1;
    uint64_t target_off = act->fsize;
    unsigned char *buf = self->pend;
    size_t len = self->pend_len, cap = self->pend_cap;
    uint64_t off = self->written_off;
    int fd = self->wfd;

    self->pend = self->flight;
    self->pend_cap = self->flight_cap;
    self->pend_len = 0;
    self->flight = buf;
    self->flight_cap = cap;
    self->written_off = target_off;
    self->pend_since = 0;       /* the next put opens the next group */
    self->syncing = true;
    pthread_mutex_unlock (&self->mtx);

    const char *what = "write";
    int rc = tx_spool_pwrite_all (fd, buf, len, off);
    if (rc == 0) {
        what = "fdatasync";
        rc = fdatasync (fd);
    }
    int err = errno;
    if (rc == 0 && target_seq)
        tx_spool_ack_mark_due (self, target_seq, epoch);

    pthread_mutex_lock (&self->mtx);
    self->syncing = false;
    if (epoch == self->epoch) {
        if (rc == 0) {
            if (target_seq > self->durable_seq)
                self->durable_seq = target_seq;
            if (target_off > self->durable_off)
                self->durable_off = target_off;
            self->st.fsyncs++;
            if (len && self->nospace) {
                self->nospace = false;
                tx_spool_log (self, TX_SPOOL_LOG_INFO, "event=disk-space-back");
            }
        }
        else
            s_fail (self, what, err);
    }
    pthread_cond_broadcast (&self->cond);
}

/* Wait until seqs lo..hi are durable (mtx held).  Returns TX_SPOOL_OK,
   or TX_SPOOL_FULL / TX_SPOOL_EIO when any of them was lost. */
int
tx_spool_wait (tx_spool_t *self, uint64_t lo, uint64_t hi)
{
    for (;;) {
        int failed = tx_spool_failed_code (self, lo, hi);
        if (failed) {
            /* Cut the lost records off the file before saying so: a
               record written whole before the failure must not come
               back after a kill -9 once its writer was told it failed. */
            if (self->broken)
                tx_spool_repair (self);
            return failed;
        }
        if (hi <= self->durable_seq)
            return TX_SPOOL_OK;
        if (self->syncing) {
            pthread_cond_wait (&self->cond, &self->mtx);
            continue;
        }
        if (self->broken)           /* not reached: s_fail marks lo..hi */
            return self->nospace ? TX_SPOOL_FULL : TX_SPOOL_EIO;
        uint64_t now = tx_spool_now ();
        uint64_t deadline = self->pend_since
                          + (uint64_t) self->opts.fsync_ms * 1000000ull;
        if (self->opts.fsync_ms == 0 || !self->pend_since || now >= deadline) {
            tx_spool_lead (self);
            continue;
        }
        struct timespec ts = { (time_t) (deadline / 1000000000ull),
                               (long) (deadline % 1000000000ull) };
        pthread_cond_timedwait (&self->cond, &self->mtx, &ts);
    }
}

/* Start a new active segment at next_seq (mtx held, !rotating).  Makes
   every put record durable first, so only the active segment ever holds
   records that are not durable.  Returns TX_SPOOL_OK, TX_SPOOL_FULL (no
   room for the new file), TX_SPOOL_EIO or TX_SPOOL_ERR. */
int
tx_spool_rotate (tx_spool_t *self)
{
    self->rotating = true;
    int rc = TX_SPOOL_OK;
    for (;;) {
        if (self->syncing)
            pthread_cond_wait (&self->cond, &self->mtx);
        else if (self->broken) {
            rc = self->nospace ? TX_SPOOL_FULL : TX_SPOOL_EIO;
            break;
        }
        else if (self->next_seq - 1 > self->durable_seq)
            tx_spool_lead (self);
        else
            break;
    }
    tx_spool_seg_t *seg = NULL;
    int fd = -1;
    if (rc == TX_SPOOL_OK) {
        seg = tx_spool_seg_new (self->next_seq);
        if (!seg || tx_spool_segs_push (self, seg)) {
            tx_spool_seg_free (&seg);
            rc = TX_SPOOL_ERR;
        }
        else
            self->nsegs--;      /* pushed only to reserve room */
    }
    if (rc == TX_SPOOL_OK) {
        fd = tx_spool_seg_create (self, self->next_seq);
        if (fd < 0) {
            rc = tx_spool_count_failure (self, errno);
            tx_spool_seg_free (&seg);
        }
    }
    if (rc == TX_SPOOL_OK) {
        close (self->wfd);
        self->wfd = fd;
        self->segs[self->nsegs++] = seg;
        self->bytes += SEG_HDR;
        self->durable_off = self->written_off = SEG_HDR;
    }
    self->rotating = false;
    pthread_cond_broadcast (&self->cond);
    return rc;
}

/* Give back the space of the active segment when everything in it is
   acknowledged (mtx held, !rotating; the caller saw tx_spool_reclaimable).  The
   segment is cut back to its header first, since on a full file system
   no new file can be made before that; it is then spent (takes no more
   records) and rotated out, so the caller's tx_spool_collect_dead finds it.
   Returns TX_SPOOL_OK when space was given back (a failed rotation is
   retried by the next put), 1 when there was nothing to give back after
   all, TX_SPOOL_FULL or TX_SPOOL_EIO. */
int
tx_spool_reclaim (tx_spool_t *self)
{
    self->rotating = true;      /* keeps appenders out meanwhile */
    while (self->syncing)
        pthread_cond_wait (&self->cond, &self->mtx);
    int rc = 1;
    if (!self->broken && tx_spool_reclaimable (self)) {
        if (tx_spool_cut_active (self) == 0) {
            tx_spool_active (self)->spent = true;
            rc = TX_SPOOL_OK;
        }
        else {
            int err = errno;
            rc = tx_spool_count_failure (self, err);
            tx_spool_log (self, TX_SPOOL_LOG_ERROR, "event=reclaim-failed error=\"%s\"",
                          strerror (err));
        }
    }
    self->rotating = false;
    pthread_cond_broadcast (&self->cond);
    if (rc == TX_SPOOL_OK)
        tx_spool_rotate (self);
    return rc;
}
