/*  spool.c -- tx_spool: crash-safe append-only segment log.  The public
    API of spool.h and the spool's life: open, close, append, read, ack,
    stats.  The parts it is built of are listed in spool_internal.h; the
    format and the recovery rules are in docs/spool.md.
*/
#include "i18n.h"
#include "clock.h"
#include "spool_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void
tx_spool_set_err (char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, errlen, fmt, ap);
    va_end (ap);
}

void
tx_spool_log (tx_spool_t *self, int level, const char *fmt, ...)
{
    static const char *names[] = { "error", "warn", "info" };
    char msg[512], line[768];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    snprintf (line, sizeof line, "level=%s module=spool dir=%s %s",
              names[level < 0 || level > 2 ? 0 : level], self->dir, msg);
    if (self->opts.log)
        self->opts.log (self->opts.log_arg, level, line);
    else
        fprintf (stderr, "%s\n", line);
}

static char *
s_path (const tx_spool_t *self, const char *name, char *buf, size_t size)
{
    snprintf (buf, size, "%s/%s", self->dir, name);
    return buf;
}

/* Take the lock file; -1 with err set */
static int
s_lock (tx_spool_t *self, char *err, size_t errlen)
{
    char path[4096];
    s_path (self, "LOCK", path, sizeof path);
    self->lockfd = tx_spool_trust_open (self, "LOCK", O_RDWR | O_CREAT, err, errlen);
    if (self->lockfd < 0)
        return -1;
    if (flock (self->lockfd, LOCK_EX | LOCK_NB)) {
        int e = errno;
        if (e != EWOULDBLOCK) {
            tx_spool_set_err (err, errlen, _("spool %s: cannot lock %s: %s"), self->dir,
                              path, strerror (e));
            return -1;
        }
        /* The owner writes its pid right after locking; allow it a moment */
        long pid = 0;
        for (int tries = 0; tries < 20 && pid <= 0; tries++) {
            char buf[32] = "";
            ssize_t k = pread (self->lockfd, buf, sizeof buf - 1, 0);
            if (k > 0) {
                buf[k] = 0;
                pid = strtol (buf, NULL, 10);
            }
            if (pid <= 0)
                usleep (5000);
        }
        if (pid > 0)
            tx_spool_set_err (err, errlen, _("spool %s is in use by pid %ld"), self->dir, pid);
        else
            tx_spool_set_err (err, errlen, _("spool %s is in use by another process"),
                              self->dir);
        errno = EBUSY;
        return -1;
    }
    char buf[32];
    int n = snprintf (buf, sizeof buf, "%ld\n", (long) getpid ());
    if (ftruncate (self->lockfd, 0) || tx_spool_pwrite_all (self->lockfd, buf, (size_t) n, 0))
        tx_spool_log (self, TX_SPOOL_LOG_WARN, "event=lockfile-write-failed error=\"%s\"",
                      strerror (errno));
    return 0;
}

/* The options with defaults filled in, into *o; 0, or -1 with err */
static int
s_opts (const char *dir, const tx_spool_opts_t *opts, tx_spool_opts_t *o,
        char *err, size_t errlen)
{
    *o = opts ? *opts : (tx_spool_opts_t) { 0 };
    if (!o->cap_bytes)
        o->cap_bytes = DEF_CAP;
    if (o->cap_bytes < MIN_CAP) {
        tx_spool_set_err (err, errlen, _("spool %s: cap_bytes %" PRIu64 " is below %d"),
                          dir, o->cap_bytes, MIN_CAP);
        return -1;
    }
    if (!o->segment_bytes)
        o->segment_bytes = o->cap_bytes / 4 < DEF_SEGMENT ? o->cap_bytes / 4
                                                          : DEF_SEGMENT;
    if (!o->max_record)
        o->max_record = DEF_MAX_RECORD;
    if (o->max_record > MAX_MAX_RECORD || o->fsync_ms < 0 || o->ack_sync_ms < -1) {
        tx_spool_set_err (err, errlen, _("spool %s: bad option (max_record, fsync_ms or ack_sync_ms)"),
                          dir);
        return -1;
    }
    if (!o->ack_sync_ms)
        o->ack_sync_ms = DEF_ACK_SYNC_MS;
    return 0;
}

/* A spool with nothing open yet; NULL with err on no memory */
static tx_spool_t *
s_new (const char *dir, const tx_spool_opts_t *o, char *err, size_t errlen)
{
    tx_spool_t *self = calloc (1, sizeof *self);
    if (!self || !(self->dir = strdup (dir))) {
        free (self);
        tx_spool_set_err (err, errlen, _("spool %s: out of memory"), dir);
        return NULL;
    }
    /* "spool/" would follow a symbolic link "spool": open "spool" */
    for (size_t l = strlen (self->dir); l > 1 && self->dir[l - 1] == '/'; l--)
        self->dir[l - 1] = 0;
    self->opts = *o;
    self->dirfd = self->lockfd = self->wfd = self->ackfd = -1;
    self->mark_cap = UINT64_MAX;
    tx_spool_reader_init (&self->rd, MAX_MAX_RECORD);
    tx_clock_cond_init (&self->cond);
    pthread_mutex_init (&self->mtx, NULL);
    pthread_mutex_init (&self->ack_mtx, NULL);
    pthread_mutex_init (&self->rd_mtx, NULL);
    return self;
}

/* Start a fresh ack log (a snapshot); failing that, append to the old
   one.  0, or -1 with err when the old one is not the spool's own. */
static int
s_start_acklog (tx_spool_t *self, char *err, size_t errlen)
{
    self->ack_compact_at = ACK_COMPACT_MIN;
    if (tx_spool_ack_compact (self) == 0)
        return 0;
    char why[512];
    self->ackfd = tx_spool_trust_open (self, "acks", O_RDWR | O_CREAT, why, sizeof why);
    struct stat sb;
    if (self->ackfd >= 0 && fstat (self->ackfd, &sb) == 0)
        self->ack_off = (uint64_t) sb.st_size / ACK_ENT * ACK_ENT;
    else if (self->ackfd < 0 && errno == EPERM) {
        /* not ours after all: refuse, as at open */
        tx_spool_set_err (err, errlen, "%s", why);
        return -1;
    }
    else
        tx_spool_log (self, TX_SPOOL_LOG_ERROR, "event=ack-log-unusable error=\"%s\"",
                      strerror (errno));
    return 0;
}

tx_spool_t *
tx_spool_open (const char *dir, const tx_spool_opts_t *opts, char *err,
               size_t errlen)
{
    if (!dir || !*dir || strlen (dir) > 3000) {
        tx_spool_set_err (err, errlen, _("spool: no directory given, or its name is too long"));
        return NULL;
    }
    tx_spool_opts_t o;
    if (s_opts (dir, opts, &o, err, errlen))
        return NULL;
    tx_spool_t *self = s_new (dir, &o, err, errlen);
    if (!self)
        return NULL;
    if ((self->dirfd = tx_spool_trust_dir (self->dir, err, errlen)) < 0)
        goto fail;
    if (s_lock (self, err, errlen) || tx_spool_recover (self, err, errlen))
        goto fail;

    /* Drop what is fully acknowledged, then start a fresh ack log */
    tx_spool_seg_t **dead;
    size_t ndead = tx_spool_collect_dead (self, &dead);
    if (ndead)
        tx_spool_drop_segs (self, dead, ndead);
    if (s_start_acklog (self, err, errlen))
        goto fail;
    tx_spool_log (self, TX_SPOOL_LOG_INFO,
                  "event=open segments=%zu bytes=%" PRIu64 " next_seq=%" PRIu64
                  " damaged=%" PRIu64 " truncated_bytes=%" PRIu64, self->nsegs,
                  self->bytes, self->next_seq, self->st.damaged, self->st.truncated_bytes);
    return self;
fail:;
    int e = errno;
    tx_spool_close (&self);
    errno = e;
    return NULL;
}

void
tx_spool_close (tx_spool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tx_spool_t *self = *self_p;
    if (self->wfd >= 0) {
        pthread_mutex_lock (&self->mtx);
        while (self->syncing)
            pthread_cond_wait (&self->cond, &self->mtx);
        if (self->broken)
            tx_spool_repair (self);    /* best effort: cut off what was refused */
        else if (self->next_seq - 1 > self->durable_seq)
            tx_spool_lead (self);
        pthread_mutex_unlock (&self->mtx);
    }
    if (self->ackfd >= 0) {
        /* the acks, and an exact durable mark: a reopen finds any record
           that disappears from now on */
        if (self->wfd >= 0) {
            pthread_mutex_lock (&self->ack_mtx);
            tx_spool_ack_mark (self, UINT64_MAX, 0);
            pthread_mutex_unlock (&self->ack_mtx);
        }
        else if (self->ack_dirty && fdatasync (self->ackfd))
            tx_spool_log (self, TX_SPOOL_LOG_ERROR, "event=ack-sync-failed error=\"%s\"",
                          strerror (errno));
        close (self->ackfd);
    }
    /* Everything delivered: give the active segment's space back now
       (open would, but only if the ack log could be written) */
    if (self->wfd >= 0) {
        pthread_mutex_lock (&self->mtx);
        if (!self->broken && tx_spool_reclaimable (self) && tx_spool_cut_active (self))
            tx_spool_log (self, TX_SPOOL_LOG_WARN, "event=reclaim-failed error=\"%s\"",
                          strerror (errno));
        pthread_mutex_unlock (&self->mtx);
    }
    for (size_t i = 0; i < self->nsegs; i++)
        tx_spool_seg_free (&self->segs[i]);
    free (self->segs);
    if (self->wfd >= 0)
        close (self->wfd);
    if (self->dirfd >= 0)
        close (self->dirfd);
    if (self->lockfd >= 0)
        close (self->lockfd);       /* releases the flock */
    free (self->pend);
    free (self->flight);
    free (self->rd.buf);
    free (self->rd_seqs);
    free (self->rd_ends);
    pthread_mutex_destroy (&self->mtx);
    pthread_mutex_destroy (&self->ack_mtx);
    pthread_mutex_destroy (&self->rd_mtx);
    pthread_cond_destroy (&self->cond);
    free (self->dir);
    free (self);
    *self_p = NULL;
}


/* ---------------------------------------------------------------- append */

/* Short of room (the cap, or the file system was full at the last
   write), and the active segment act is kept only because it is active:
   give its space back, then delete it.  A spent one was given back
   already, but its rotation failed.  (mtx, dropped while deleting.)
   TX_SPOOL_OK, or the code of the failure. */
static int
s_give_back (tx_spool_t *self, tx_spool_seg_t *act)
{
    int rc;
    if (act->spent)
        rc = tx_spool_rotate (self);
    else if ((rc = tx_spool_reclaim (self)) > 0)
        rc = TX_SPOOL_OK;       /* nothing to give back after all */
    if (rc != TX_SPOOL_OK)
        return rc;
    tx_spool_seg_t **dead;
    size_t ndead = tx_spool_collect_dead (self, &dead);
    if (ndead) {
        pthread_mutex_unlock (&self->mtx);
        tx_spool_drop_segs (self, dead, ndead);
        pthread_mutex_lock (&self->mtx);
    }
    return TX_SPOOL_OK;
}

/* Add the record at next_seq to the records pending for the active
   segment act, which has room (mtx).  TX_SPOOL_OK with its seq in
   *seq_p, or TX_SPOOL_ERR (no memory). */
static int
s_pend_add (tx_spool_t *self, tx_spool_seg_t *act, const void *rec,
            size_t len, uint32_t dcrc, uint64_t *seq_p)
{
    size_t rsize = tx_spool_rec_size (len);
    uint64_t seq = self->next_seq;
    if (tx_spool_seg_reserve (act, seq))
        return TX_SPOOL_ERR;
    if (self->pend_len + rsize > self->pend_cap) {
        size_t cap = self->pend_cap ? self->pend_cap : 64 * 1024;
        while (cap < self->pend_len + rsize)
            cap *= 2;
        unsigned char *p = realloc (self->pend, cap);
        if (!p)
            return TX_SPOOL_ERR;
        self->pend = p;
        self->pend_cap = cap;
    }
    tx_spool_rec_encode (self->pend + self->pend_len, seq, rec, len, dcrc);
    self->pend_len += rsize;
    if (!self->pend_since)
        self->pend_since = tx_spool_now ();
    self->next_seq++;
    tx_spool_seg_add (act, seq);
    act->fsize += rsize;
    act->end = act->fsize;
    self->bytes += rsize;
    self->st.appends++;
    *seq_p = seq;
    return TX_SPOOL_OK;
}

int
tx_spool_put (tx_spool_t *self, const void *rec, size_t len, uint64_t *seq_out)
{
    if (!self || !rec || len == 0 || len > self->opts.max_record)
        return TX_SPOOL_ERR;
    size_t rsize = tx_spool_rec_size (len);
    if (rsize + 2 * SEG_HDR > self->opts.cap_bytes)
        return TX_SPOOL_ERR;        /* could never fit */
    uint32_t dcrc = tx_crc32c (rec, len);
    int rc = TX_SPOOL_OK;
    bool retried = false;

    pthread_mutex_lock (&self->mtx);
    for (;;) {
        if (self->rotating) {
            pthread_cond_wait (&self->cond, &self->mtx);
            continue;
        }
        if (self->broken) {
            if ((rc = tx_spool_repair (self)) != TX_SPOOL_OK)
                break;
            continue;
        }
        tx_spool_seg_t *act = tx_spool_active (self);
        bool rotate = act->fsize > SEG_HDR
                   && act->fsize + rsize > self->opts.segment_bytes;
        uint64_t need = rsize + (rotate ? SEG_HDR : 0);
        bool over = self->bytes + need > self->opts.cap_bytes;
        if (act->spent || ((over || self->nospace) && tx_spool_reclaimable (self))) {
            if ((rc = s_give_back (self, act)) != TX_SPOOL_OK)
                break;
            continue;
        }
        if (over) {
            rc = TX_SPOOL_FULL;
            break;
        }
        if (rotate) {
            if ((rc = tx_spool_rotate (self)) != TX_SPOOL_OK)
                break;
            continue;
        }
        uint64_t seq;
        if ((rc = s_pend_add (self, act, rec, len, dcrc, &seq)) != TX_SPOOL_OK)
            break;
        if (seq_out)
            *seq_out = seq;
        if (self->pend_len >= PEND_FLUSH) {
            tx_spool_flush_pending (self);
            if ((rc = tx_spool_failed_code (self, seq, seq)) != TX_SPOOL_OK) {
                if (self->broken)
                    tx_spool_repair (self);    /* before saying so, as tx_spool_wait */
                /* The file system filled up: once more if acknowledged
                   space can be given back (the loop does that first) */
                if (rc == TX_SPOOL_FULL && !retried && !self->broken
                &&  tx_spool_reclaimable (self)) {
                    retried = true;
                    rc = TX_SPOOL_OK;
                    continue;
                }
            }
        }
        break;
    }
    pthread_mutex_unlock (&self->mtx);
    return rc;
}

int
tx_spool_sync (tx_spool_t *self, uint64_t first_seq, uint64_t last_seq)
{
    if (!self)
        return TX_SPOOL_ERR;
    pthread_mutex_lock (&self->mtx);
    if (last_seq == 0 || last_seq >= self->next_seq)
        last_seq = self->next_seq - 1;
    if (first_seq == 0 || first_seq > last_seq)
        first_seq = last_seq;
    int rc = last_seq ? tx_spool_wait (self, first_seq, last_seq) : TX_SPOOL_OK;
    pthread_mutex_unlock (&self->mtx);
    return rc;
}

int
tx_spool_append (tx_spool_t *self, const void *rec, size_t len, uint64_t *seq_out)
{
    uint64_t seq = 0;
    int rc;
    for (int attempt = 0; ; attempt++) {
        rc = tx_spool_put (self, rec, len, &seq);
        if (rc != TX_SPOOL_OK)
            return rc;
        pthread_mutex_lock (&self->mtx);
        rc = tx_spool_wait (self, seq, seq);
        /* The file system filled up under this record: once more if
           acknowledged space can be given back (put does that first) */
        bool again = rc == TX_SPOOL_FULL && attempt == 0 && !self->broken
                  && tx_spool_reclaimable (self);
        pthread_mutex_unlock (&self->mtx);
        if (!again)
            break;
    }
    if (rc == TX_SPOOL_OK && seq_out)
        *seq_out = seq;
    return rc;
}


/* ---------------------------------------------------------------- read */

/* Unpin seg (mtx held); free it if it died meanwhile */
static void
s_unpin (tx_spool_t *self, tx_spool_seg_t *seg)
{
    if (--seg->pins == 0 && seg->dead) {
        if (self->rd_seg == seg)
            self->rd_seg = NULL;
        tx_spool_seg_free (&seg);
    }
}


/* First segment that may hold unacknowledged records after seq (mtx) */
static ssize_t
s_read_search (tx_spool_t *self, uint64_t after)
{
    for (size_t i = 0; i < self->nsegs; i++)
        if (self->segs[i]->last > after
        &&  self->segs[i]->nacked < self->segs[i]->nrec)
            return (ssize_t) i;
    return -1;
}

/* Where a read of the records after `after` starts (mtx): the cursor the
   previous call left, also when `after` is any seq that call returned;
   else a search.  The segment's index, or -1; its offset in *off. */
static ssize_t
s_read_start (tx_spool_t *self, uint64_t after, uint64_t *off)
{
    *off = SEG_HDR;
    if (!self->rd_valid)
        return s_read_search (self, after);
    bool hit = self->rd_key == after;
    uint64_t at = self->rd_off;
    for (size_t lo = 0, hi = self->rd_n; !hit && lo < hi; ) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->rd_seqs[mid] == after) {
            hit = true;
            at = self->rd_ends[mid];
        }
        else if (self->rd_seqs[mid] < after)
            lo = mid + 1;
        else
            hi = mid;
    }
    ssize_t i = hit ? tx_spool_find_index (self, self->rd_base) : -1;
    if (i >= 0 && self->segs[i]->base == self->rd_base) {
        *off = at;
        return i;
    }
    return s_read_search (self, after);
}

/* Room for max entries in the cursor's seqs and ends (mtx); 0 or -1 */
static int
s_read_reserve (tx_spool_t *self, size_t max)
{
    if (max <= self->rd_cap)
        return 0;
    uint64_t *a = realloc (self->rd_seqs, max * sizeof *a);
    if (a)
        self->rd_seqs = a;
    uint64_t *b = a ? realloc (self->rd_ends, max * sizeof *b) : NULL;
    if (b)
        self->rd_ends = b;
    if (!a || !b)
        return -1;
    self->rd_cap = max;
    return 0;
}

/* Make seg's read fd ready (mtx), keeping one open: the cursor's.
   0, or -1 (logged). */
static int
s_read_open (tx_spool_t *self, tx_spool_seg_t *seg)
{
    if (self->rd_seg != seg) {
        if (self->rd_seg && self->rd_seg->pins == 0 && self->rd_seg->rfd >= 0) {
            close (self->rd_seg->rfd);
            self->rd_seg->rfd = -1;
        }
        self->rd_seg = seg;
        self->rd.fd = -1;
    }
    if (seg->rfd >= 0)
        return 0;
    char name[64], why[512];
    tx_spool_seg_name (seg->base, "log", name, sizeof name);
    seg->rfd = tx_spool_trust_open (self, name, O_RDONLY, why, sizeof why);
    if (seg->rfd >= 0)
        return 0;
    tx_spool_log (self, TX_SPOOL_LOG_ERROR,
                  "event=read-open-failed segment=%s error=\"%s\"", name, why);
    return -1;
}

/* Parse the records of fd from *off below end with seq > after into
   recs[*n..max), their ends into rd_ends (rd_mtx, not mtx: bytes below
   end never change).  Records of one call all come from one buffer fill,
   so their pointers stay valid together.  0, or S_IOERR with errno;
   *suspect when damage came first. */
static int
s_read_parse (tx_spool_t *self, int fd, uint64_t end, uint64_t after,
              uint64_t *off, tx_spool_rec_t *recs, size_t max, size_t *n,
              bool *suspect)
{
    tx_spool_reader_reset (&self->rd, fd, end);
    while (*n < max) {
        tx_spool_item_t rec;
        int rc = tx_spool_reader_next (&self->rd, *off, *n == 0, &rec);
        if (rc == S_END || rc == S_AGAIN)
            break;
        if (rc == S_IOERR)
            return S_IOERR;
        if (rc != S_REC) {
            if (*n)
                break;          /* deal with it first thing next call */
            *suspect = true;
        }
        else if (rec.seq > after) {
            recs[*n].seq = rec.seq;
            recs[*n].data = rec.data;
            recs[*n].len = rec.len;
            self->rd_ends[*n] = rec.off + rec.size;
            (*n)++;
        }
        *off = rec.off + rec.size;
    }
    return 0;
}

/* Keep of recs[0..n) only the stored, unacknowledged records of seg, and
   their seqs for the cursor (mtx).  How many are left. */
static size_t
s_read_keep (tx_spool_t *self, tx_spool_seg_t *seg, tx_spool_rec_t *recs,
             size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!seg->dead && tx_spool_seg_present (seg, recs[i].seq)
        &&  !tx_spool_seg_acked (seg, recs[i].seq)) {
            self->rd_seqs[k] = recs[i].seq;
            self->rd_ends[k] = self->rd_ends[i];
            recs[k++] = recs[i];
        }
    return k;
}

/* Read seg from *off below end into recs (mtx held, dropped while
   parsing; seg's rfd open).  Verifies seg when a read met damage.
   0; 1 when seg died meanwhile (fully acknowledged); -1 on a read
   error (logged; *n is then 0). */
static int
s_read_segment (tx_spool_t *self, tx_spool_seg_t *seg, uint64_t end,
                uint64_t after, uint64_t *off, tx_spool_rec_t *recs,
                size_t max, size_t *n)
{
    seg->pins++;
    int fd = seg->rfd;
    pthread_mutex_unlock (&self->mtx);
    bool suspect = false;
    int rc = s_read_parse (self, fd, end, after, off, recs, max, n, &suspect);
    int err = errno;
    pthread_mutex_lock (&self->mtx);
    if (suspect)
        seg->suspect = true;
    if (seg->suspect && *off >= end && !seg->dead && rc != S_IOERR)
        tx_spool_seg_verify (self, seg);
    *n = s_read_keep (self, seg, recs, *n);
    bool dead = seg->dead;
    s_unpin (self, seg);
    if (rc == S_IOERR) {
        tx_spool_log (self, TX_SPOOL_LOG_ERROR, "event=read-failed error=\"%s\"",
                      strerror (err));
        *n = 0;
        return -1;
    }
    return dead ? 1 : 0;
}

int
tx_spool_read (tx_spool_t *self, uint64_t after, tx_spool_rec_t *recs, size_t max)
{
    if (!self || !recs || !max)
        return TX_SPOOL_ERR;
    if (max > INT32_MAX)
        max = INT32_MAX;
    int result = 0;
    size_t n = 0;
    uint64_t off;
    pthread_mutex_lock (&self->rd_mtx);
    pthread_mutex_lock (&self->mtx);
    ssize_t idx = s_read_start (self, after, &off);
    self->rd_valid = false;
    self->rd_n = 0;
    if (s_read_reserve (self, max))
        result = TX_SPOOL_ERR;
    while (result == 0 && idx >= 0 && (size_t) idx < self->nsegs) {
        tx_spool_seg_t *seg = self->segs[idx];
        bool active = seg == tx_spool_active (self);
        uint64_t end = active ? self->durable_off : seg->end;
        uint64_t base = seg->base;
        if (off >= end && !seg->suspect) {
            if (active)
                break;
            idx++;
            off = SEG_HDR;
            continue;
        }
        int rc = s_read_open (self, seg) ? -1
               : s_read_segment (self, seg, end, after, &off, recs, max, &n);
        if (rc < 0)
            result = TX_SPOOL_EIO;
        else if (rc > 0) {      /* fully acknowledged meanwhile */
            idx = s_read_search (self, after);
            off = SEG_HDR;
        }
        else {
            self->rd_valid = true;
            self->rd_key = n ? recs[n - 1].seq : after;
            self->rd_base = base;
            self->rd_off = off;
            self->rd_n = n;
            if (n)
                break;
        }
    }
    pthread_mutex_unlock (&self->mtx);
    pthread_mutex_unlock (&self->rd_mtx);
    return result < 0 ? result : (int) n;
}


/* ---------------------------------------------------------------- ack */

/* Acknowledge seqs[0..n) in their segments (mtx), and encode the newly
   acknowledged ones as RANGE entries into ents (room for n entries),
   *nents of them.  How many were newly acknowledged. */
static uint64_t
s_ack_segs (tx_spool_t *self, const uint64_t *seqs, size_t n,
            unsigned char *ents, size_t *nents)
{
    uint64_t run = 0, count = 0, newly = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t seq = seqs[i];
        if (seq == 0 || seq > self->durable_seq)
            continue;
        tx_spool_seg_t *seg = tx_spool_find_seg (self, seq);
        if (!seg || !tx_spool_seg_ack (seg, seq))
            continue;
        newly++;
        if (count && seq == run + count && count < UINT32_MAX) {
            count++;
            continue;
        }
        if (count)
            tx_spool_ack_entry (ents + ACK_ENT * (*nents)++, ACK_RANGE, run,
                                (uint32_t) count);
        run = seq;
        count = 1;
    }
    if (count)
        tx_spool_ack_entry (ents + ACK_ENT * (*nents)++, ACK_RANGE, run,
                            (uint32_t) count);
    return newly;
}

/* Append entries to the ack log (no lock held); whether they were written */
static bool
s_ack_log (tx_spool_t *self, const unsigned char *ents, size_t len)
{
    pthread_mutex_lock (&self->ack_mtx);
    bool written = tx_spool_ack_write (self, ents, len) == 0;
    pthread_mutex_unlock (&self->ack_mtx);
    return written;
}

/* While the file system is full, give the space of a now fully
   acknowledged active segment back at once, not only at the next put:
   the ack log and other programs need it too (no lock held).  Whether
   space was given back. */
static bool
s_give_back_now (tx_spool_t *self)
{
    tx_spool_seg_t **dead = NULL;
    size_t ndead = 0;
    bool freed = false;
    pthread_mutex_lock (&self->mtx);
    if (self->nospace && !self->rotating && tx_spool_reclaimable (self)
    &&  tx_spool_reclaim (self) == TX_SPOOL_OK) {
        freed = true;
        ndead = tx_spool_collect_dead (self, &dead);
    }
    pthread_mutex_unlock (&self->mtx);
    if (ndead)
        tx_spool_drop_segs (self, dead, ndead);
    return freed;
}

int
tx_spool_ack (tx_spool_t *self, const uint64_t *seqs, size_t n)
{
    if (!self || (!seqs && n))
        return TX_SPOOL_ERR;
    if (!n)
        return 0;
    unsigned char *ents = malloc (n * ACK_ENT);
    if (!ents)
        return TX_SPOOL_ERR;
    size_t nents = 0;

    pthread_mutex_lock (&self->mtx);
    uint64_t newly = s_ack_segs (self, seqs, n, ents, &nents);
    self->st.acked += newly;
    tx_spool_seg_t **dead = NULL;
    size_t ndead = newly ? tx_spool_collect_dead (self, &dead) : 0;
    bool nospace = newly && self->nospace;
    pthread_mutex_unlock (&self->mtx);

    int rc = (int) (newly > INT32_MAX ? INT32_MAX : newly);
    bool written = !nents || s_ack_log (self, ents, nents * ACK_ENT);
    if (ndead)
        tx_spool_drop_segs (self, dead, ndead);
    /* An ack-log write that failed for lack of room is tried once more
       after space was given back. */
    if (nospace && s_give_back_now (self) && !written)
        written = s_ack_log (self, ents, nents * ACK_ENT);
    free (ents);
    return written ? rc : TX_SPOOL_EIO;
}


/* ---------------------------------------------------------------- stats */

void
tx_spool_stats (tx_spool_t *self, tx_spool_stats_t *stats)
{
    if (!self || !stats)
        return;
    pthread_mutex_lock (&self->mtx);
    *stats = self->st;
    stats->records = 0;
    for (size_t i = 0; i < self->nsegs; i++)
        stats->records += self->segs[i]->nrec - self->segs[i]->nacked;
    stats->bytes = self->bytes;
    stats->cap_bytes = self->opts.cap_bytes;
    stats->segments = self->nsegs;
    stats->next_seq = self->next_seq;
    stats->durable_seq = self->durable_seq;
    stats->disk_full = self->nospace;
    pthread_mutex_unlock (&self->mtx);
}

int
tx_spool_open_file (tx_spool_t *self, const char *name, int flags, char *err,
                    size_t errlen)
{
    if (!self || !name || !*name || strchr (name, '/') || !strcmp (name, ".")
    ||  !strcmp (name, "..")) {
        tx_spool_set_err (err, errlen, _("spool: bad file name"));
        errno = EINVAL;
        return -1;
    }
    return tx_spool_trust_open (self, name, flags & (O_ACCMODE | O_APPEND | O_CREAT | O_TRUNC),
                                err, errlen);
}

const char *
tx_spool_strerror (int code)
{
    switch (code) {
        case TX_SPOOL_OK:   return "ok";
        case TX_SPOOL_ERR:  return "bad argument, record too large or out of memory";
        case TX_SPOOL_FULL: return "spool full";
        case TX_SPOOL_EIO:  return "I/O error: not stored";
        default:            return "unknown spool error";
    }
}
