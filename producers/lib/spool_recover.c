/*  spool_recover.c -- recovery: what open makes of the directory it
    finds, in named steps (list the segment files, scan each, replay the
    ack log, find what was lost, choose next_seq, give back a fully
    acknowledged newest segment, make sure there is a usable active
    segment), and the rescan of a segment that a read found damaged.
    The rules: docs/spool.md sections 4 and 5.  Contract: spool_internal.h.
*/
#include "i18n.h"
#include "spool_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Damage met while scanning one segment */
typedef struct {
    uint64_t open, open_bytes;      /* since the last valid record */
    uint64_t kept, kept_bytes;      /* followed by a valid record */
} scan_tally_t;

static int
s_nomem (tx_spool_t *self, char *err, size_t errlen)
{
    tx_spool_set_err (err, errlen, _("spool %s: out of memory"), self->dir);
    return -1;
}

static int
s_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static int
s_range_cmp (const void *a, const void *b)
{
    const tx_spool_range_t *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void
tx_spool_note_lost (tx_spool_t *self, uint64_t lo, uint64_t hi, uint64_t count)
{
    if (!count)
        return;
    self->st.lost += count;
    if (!self->st.lost_first || lo < self->st.lost_first)
        self->st.lost_first = lo;
    if (hi > self->st.lost_last)
        self->st.lost_last = hi;
}


/* ---------------------------------------------------------------- step 1: list */

/* Whether the directory entry n is a segment; its base in *base */
static bool
s_is_segment (const char *n, uint64_t *base)
{
    size_t l = strlen (n);
    return l == 24 && strncmp (n, "seg-", 4) == 0 && strcmp (n + 20, ".log") == 0
        && strspn (n + 4, "0123456789abcdef") == 16
        && (*base = strtoull (n + 4, NULL, 16)) > 0;
}

/* Remove leftover temp files; the bases of the segments, sorted, in
   *bases (the caller frees).  0, or -1 with err. */
static int
s_list_segments (tx_spool_t *self, uint64_t **bases, size_t *nbases,
                 char *err, size_t errlen)
{
    size_t cap = 0;
    int lfd = openat (self->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = lfd >= 0 ? fdopendir (lfd) : NULL;
    if (!d) {
        tx_spool_set_err (err, errlen, _("spool %s: %s"), self->dir, strerror (errno));
        if (lfd >= 0)
            close (lfd);
        return -1;
    }
    struct dirent *de;
    while ((de = readdir (d))) {
        const char *n = de->d_name;
        size_t l = strlen (n);
        uint64_t base;
        if (l > 4 && strcmp (n + l - 4, ".tmp") == 0
        &&  (strncmp (n, "seg-", 4) == 0 || strcmp (n, "acks.tmp") == 0))
            unlinkat (self->dirfd, n, 0);
        else if (s_is_segment (n, &base)) {
            if (*nbases == cap) {
                cap = cap ? cap * 2 : 64;
                uint64_t *p = realloc (*bases, cap * sizeof *p);
                if (!p) {
                    closedir (d);
                    return s_nomem (self, err, errlen);
                }
                *bases = p;
            }
            (*bases)[(*nbases)++] = base;
        }
    }
    closedir (d);
    if (*nbases)
        qsort (*bases, *nbases, sizeof **bases, s_cmp_u64);
    return 0;
}


/* ---------------------------------------------------------------- step 2: scan */

/* Check the segment file header; damage is counted, not fatal. */
static int
s_scan_header (tx_spool_t *self, tx_spool_seg_t *seg, tx_spool_reader_t *r,
               uint64_t size, const char *name, char *err, size_t errlen)
{
    int rc = 0;
    const unsigned char *h = tx_spool_reader_get (r, 0, SEG_HDR, true, &rc);
    if (!h && rc == S_IOERR) {
        tx_spool_set_err (err, errlen, _("spool %s: read %s: %s"), self->dir, name,
                          strerror (errno));
        return -1;
    }
    if (!h || memcmp (h, SEG_MAGIC, 8) || tx_le_get32 (h + 28) != tx_crc32c (h, 28)
    ||  tx_le_get64 (h + 16) != seg->base) {
        /* Records carry their own checks; the name gives the base */
        tx_spool_log (self, TX_SPOOL_LOG_WARN, "event=bad-segment-header segment=%s",
                      name);
        seg->badhdr = true;
        self->st.damaged++;
        self->st.damaged_bytes += size < SEG_HDR ? size : SEG_HDR;
    }
    return 0;
}

/* Every valid record from off on, in seq order and below next_base (0:
   no bound), is stored in seg; the rest is damage, tallied in t.
   Returns the end of the last valid record in *valid_end; 0 or -1. */
static int
s_scan_records (tx_spool_t *self, tx_spool_seg_t *seg, tx_spool_reader_t *r,
                uint64_t off, uint64_t next_base, const char *name,
                uint64_t *valid_end, scan_tally_t *t, char *err, size_t errlen)
{
    uint64_t prev = seg->base - 1;
    for (;;) {
        tx_spool_item_t rec;
        int rc = tx_spool_reader_next (r, off, true, &rec);
        if (rc == S_END)
            return 0;
        if (rc == S_IOERR) {
            tx_spool_set_err (err, errlen, _("spool %s: read %s: %s"), self->dir,
                              name, strerror (errno));
            return -1;
        }
        if (rc == S_REC && rec.seq > prev && rec.seq >= seg->base
        &&  (next_base == 0 || rec.seq < next_base)) {
            if (tx_spool_seg_reserve (seg, rec.seq))
                return s_nomem (self, err, errlen);
            tx_spool_seg_add (seg, rec.seq);
            prev = rec.seq;
            t->kept += t->open;
            t->kept_bytes += t->open_bytes;
            t->open = t->open_bytes = 0;
            *valid_end = rec.off + rec.size;
        }
        else {
            t->open++;          /* S_BADREC, S_BADREGION, S_TAIL, bad seq */
            t->open_bytes += rec.size;
        }
        off = rec.off + rec.size;
        if (rc == S_TAIL)
            return 0;
    }
}

/* Cut the torn tail of the last segment off at valid_end */
static int
s_cut_tail (tx_spool_t *self, tx_spool_seg_t *seg, int fd, uint64_t size,
            uint64_t valid_end, const char *name, char *err, size_t errlen)
{
    if (ftruncate (fd, (off_t) valid_end) || fdatasync (fd)) {
        tx_spool_set_err (err, errlen, _("spool %s: cannot cut the torn tail of %s: %s"),
                          self->dir, name, strerror (errno));
        return -1;
    }
    tx_spool_log (self, TX_SPOOL_LOG_WARN,
                  "event=torn-tail segment=%s offset=%" PRIu64 " bytes=%" PRIu64,
                  name, valid_end, size - valid_end);
    self->st.truncated_bytes += size - valid_end;
    seg->fsize = valid_end;
    return 0;
}

/* Scan one segment file, filling seg (open, single-threaded).  On the last
   segment a torn or damaged tail after the last valid record is cut off. */
static int
s_seg_scan (tx_spool_t *self, tx_spool_seg_t *seg, int fd, bool is_last,
            uint64_t next_base, tx_spool_reader_t *r, char *err, size_t errlen)
{
    char name[64];
    struct stat sb;
    tx_spool_seg_name (seg->base, "log", name, sizeof name);
    if (fstat (fd, &sb)) {
        tx_spool_set_err (err, errlen, _("spool %s: stat %s: %s"), self->dir, name,
                          strerror (errno));
        return -1;
    }
    uint64_t size = (uint64_t) sb.st_size;
    seg->fsize = size;
    seg->bare = size == SEG_HDR;
    seg->end = SEG_HDR;
    tx_spool_reader_reset (r, fd, size);
    r->blen = 0;
    if (s_scan_header (self, seg, r, size, name, err, errlen))
        return -1;

    uint64_t valid_end = SEG_HDR;
    scan_tally_t t = { 0 };
    if (s_scan_records (self, seg, r, size < SEG_HDR ? size : SEG_HDR,
                        next_base, name, &valid_end, &t, err, errlen))
        return -1;
    seg->end = valid_end;
    if (is_last && valid_end < size) {
        if (s_cut_tail (self, seg, fd, size, valid_end, name, err, errlen))
            return -1;
    }
    else {
        t.kept += t.open;
        t.kept_bytes += t.open_bytes;
    }
    if (t.kept) {
        tx_spool_log (self, TX_SPOOL_LOG_WARN,
                      "event=damaged segment=%s regions=%" PRIu64 " bytes=%" PRIu64
                      " msg=\"skipped; records in them are lost\"", name, t.kept,
                      t.kept_bytes);
        self->st.damaged += t.kept;
        self->st.damaged_bytes += t.kept_bytes;
    }
    return 0;
}

/* Open and scan every listed segment; the last one becomes the active
   one (wfd).  0, or -1 with err. */
static int
s_scan_segments (tx_spool_t *self, const uint64_t *bases, size_t nbases,
                 char *err, size_t errlen)
{
    tx_spool_reader_t r;
    tx_spool_reader_init (&r, MAX_MAX_RECORD);
    int rc = 0;
    for (size_t i = 0; i < nbases && rc == 0; i++) {
        bool is_last = i + 1 == nbases;
        char name[64];
        tx_spool_seg_name (bases[i], "log", name, sizeof name);
        int fd = tx_spool_trust_open (self, name, is_last ? O_RDWR : O_RDONLY,
                                      err, errlen);
        if (fd < 0) {
            rc = -1;
            break;
        }
        tx_spool_seg_t *seg = tx_spool_seg_new (bases[i]);
        if (!seg || tx_spool_segs_push (self, seg)) {
            tx_spool_seg_free (&seg);
            rc = s_nomem (self, err, errlen);
        }
        else
            rc = s_seg_scan (self, seg, fd, is_last, is_last ? 0 : bases[i + 1],
                             &r, err, errlen);
        if (rc == 0)
            self->bytes += seg->fsize;
        if (rc == 0 && is_last)
            self->wfd = fd;
        else
            close (fd);
    }
    free (r.buf);
    return rc;
}


/* ---------------------------------------------------------------- step 3: ack log */

/* The whole of the file fd, in a buffer the caller frees (NULL when
   empty, or unreadable: *len 0); -1 on no memory */
static int
s_slurp (int fd, unsigned char **buf, size_t *len)
{
    struct stat sb;
    *buf = NULL;
    *len = 0;
    if (fstat (fd, &sb) || sb.st_size <= 0)
        return 0;
    size_t want = (size_t) sb.st_size, got = 0;
    if (!(*buf = malloc (want)))
        return -1;
    while (got < want) {
        ssize_t k = pread (fd, *buf + got, want - got, (off_t) got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t) k;
    }
    *len = got;
    return 0;
}

/* Replay the ack log, if there is one: acknowledged seqs into the
   segments, the highest seq it names into *max_seq, its durable mark
   into *durable, done seqs into done.  0, or -1 with err. */
static int
s_read_acklog (tx_spool_t *self, bool have_segments, uint64_t *max_seq,
               uint64_t *durable, tx_spool_ranges_t *done, char *err,
               size_t errlen)
{
    int afd = tx_spool_trust_open (self, "acks", O_RDONLY, err, errlen);
    if (afd < 0) {
        if (errno != ENOENT)
            return -1;
        if (have_segments)
            tx_spool_log (self, TX_SPOOL_LOG_WARN, "event=ack-log-missing"
                          " msg=\"segments without an ack log: acknowledged"
                          " records may be sent again, and records lost before"
                          " this open cannot be counted\"");
        return 0;
    }
    unsigned char *buf;
    size_t len;
    int rc = s_slurp (afd, &buf, &len);
    close (afd);
    if (rc == 0)
        rc = tx_spool_ack_replay (self, buf, len, max_seq, durable, done);
    free (buf);
    return rc ? s_nomem (self, err, errlen) : 0;
}


/* ---------------------------------------------------------------- step 4: losses */

/* A segment holding only its header was cut back after all its records
   were acknowledged (tx_spool_cut_active), so its seqs are done. */
static int
s_bare_segments_done (tx_spool_t *self, tx_spool_ranges_t *done,
                      uint64_t durable)
{
    for (size_t i = 0; i < self->nsegs; i++) {
        tx_spool_seg_t *seg = self->segs[i];
        if (seg->nrec || !seg->bare || seg->badhdr)
            continue;
        uint64_t hi = i + 1 < self->nsegs ? self->segs[i + 1]->base - 1 : durable;
        if (hi >= seg->base && tx_spool_ranges_add (done, seg->base, hi))
            return -1;
    }
    return 0;
}

/* Every seq up to the durable mark that is neither stored (found by the
   scan) nor done (per the ack log) was durable and cannot be read back:
   a segment was deleted, or its bytes damaged.  Count, log once. */
static int
s_find_lost (tx_spool_t *self, tx_spool_ranges_t *done, uint64_t durable)
{
    if (!durable)
        return 0;               /* no mark: a spool of an older version */
    if (s_bare_segments_done (self, done, durable))
        return -1;
    if (done->n)
        qsort (done->v, done->n, sizeof *done->v, s_range_cmp);
    uint64_t lost = 0, first = 0, last = 0, ranges = 0, prev = 0;
    size_t i = 0;
    for (uint64_t s = 1; s <= durable; ) {
        while (i < done->n && done->v[i].hi < s)
            i++;
        if (i < done->n && done->v[i].lo <= s) {
            if (done->v[i].hi >= durable)
                break;
            s = done->v[i].hi + 1;
            continue;
        }
        uint64_t end = i < done->n && done->v[i].lo - 1 < durable
                     ? done->v[i].lo - 1 : durable;
        for (; s <= end; s++) {
            tx_spool_seg_t *seg = tx_spool_find_seg (self, s);
            if (seg && tx_spool_seg_present (seg, s))
                continue;
            if (!lost || s != prev + 1)
                ranges++;
            if (!lost)
                first = s;
            last = prev = s;
            lost++;
        }
    }
    if (lost) {
        tx_spool_note_lost (self, first, last, lost);
        tx_spool_log (self, TX_SPOOL_LOG_ERROR,
                      "event=lost records=%" PRIu64 " seqs=%" PRIu64 "-%" PRIu64
                      " ranges=%" PRIu64 " msg=\"records reported durable cannot"
                      " be read back (a segment file deleted, or damaged): they"
                      " are lost\"", lost, first, last, ranges);
    }
    return 0;
}


/* ---------------------------------------------------------------- steps 5-7: the active segment */

/* Sequence numbers are never reused for anything an ack could name */
static void
s_choose_next_seq (tx_spool_t *self, uint64_t max_seq)
{
    self->next_seq = 1;
    if (max_seq + 1 > self->next_seq)
        self->next_seq = max_seq + 1;
    tx_spool_seg_t *last = tx_spool_active (self);
    if (last && last->base > self->next_seq)
        self->next_seq = last->base;
    if (last && last->last + 1 > self->next_seq)
        self->next_seq = last->last + 1;
}

/* A fully acknowledged newest segment must not keep its space: it may
   be what filled the file system.  Cut it back to its header, then
   start a fresh segment at next_seq; the emptied one is deleted with
   the other fully acknowledged segments (tx_spool_open).  The cut
   comes first, since without it a full file system has no room for
   the new file; if that cannot be made, the emptied one stays active.
   0, or -1 with err (no memory). */
static int
s_reclaim_newest (tx_spool_t *self, char *err, size_t errlen)
{
    if (!tx_spool_active (self) || !tx_spool_reclaimable (self))
        return 0;
    if (tx_spool_cut_active (self)) {
        tx_spool_log (self, TX_SPOOL_LOG_WARN, "event=reclaim-failed error=\"%s\"",
                      strerror (errno));
        return 0;
    }
    tx_spool_seg_t *seg = tx_spool_seg_new (self->next_seq);
    if (!seg || tx_spool_segs_push (self, seg)) {
        tx_spool_seg_free (&seg);
        return s_nomem (self, err, errlen);
    }
    int wfd = tx_spool_seg_create (self, self->next_seq);
    if (wfd >= 0) {
        close (self->wfd);
        self->wfd = wfd;
        self->bytes += SEG_HDR;
    }
    else {
        self->nsegs--;
        tx_spool_seg_free (&seg);
    }
    return 0;
}

/* An unusable last segment (no valid records, and either a bad header
   or shorter than one) is removed. */
static void
s_drop_unusable_last (tx_spool_t *self)
{
    tx_spool_seg_t *last = tx_spool_active (self);
    if (!last || last->nrec || last->fsize > SEG_HDR)
        return;
    unsigned char hdr[SEG_HDR], want[SEG_HDR];
    ssize_t k = pread (self->wfd, hdr, SEG_HDR, 0);
    tx_spool_seg_header (want, last->base);
    if (k == SEG_HDR && memcmp (hdr, want, SEG_HDR) == 0)
        return;
    char name[64];
    tx_spool_seg_name (last->base, "log", name, sizeof name);
    unlinkat (self->dirfd, name, 0);
    close (self->wfd);
    self->wfd = -1;
    self->bytes -= last->fsize;
    self->nsegs--;
    tx_spool_seg_free (&last);
}

/* Without an active segment, create one at next_seq.  0, or -1 with err */
static int
s_ensure_active (tx_spool_t *self, char *err, size_t errlen)
{
    if (tx_spool_active (self))
        return 0;
    tx_spool_seg_t *seg = tx_spool_seg_new (self->next_seq);
    if (!seg || tx_spool_segs_push (self, seg)) {
        tx_spool_seg_free (&seg);
        return s_nomem (self, err, errlen);
    }
    self->wfd = tx_spool_seg_create (self, self->next_seq);
    if (self->wfd < 0) {
        tx_spool_set_err (err, errlen, _("spool %s: cannot create a segment: %s"),
                          self->dir, strerror (errno));
        return -1;
    }
    self->bytes += SEG_HDR;
    return 0;
}


/* ---------------------------------------------------------------- recover */

int
tx_spool_recover (tx_spool_t *self, char *err, size_t errlen)
{
    tx_spool_ranges_t done = { 0 };     /* seqs the ack log says are done */
    uint64_t *bases = NULL, max_seq = 0, durable = 0;
    size_t nbases = 0;
    int rc = s_list_segments (self, &bases, &nbases, err, errlen);
    if (rc == 0)
        rc = s_scan_segments (self, bases, nbases, err, errlen);
    if (rc == 0)
        rc = s_read_acklog (self, nbases > 0, &max_seq, &durable, &done,
                            err, errlen);
    if (rc == 0 && s_find_lost (self, &done, durable))
        rc = s_nomem (self, err, errlen);
    if (rc == 0) {
        s_choose_next_seq (self, max_seq);
        rc = s_reclaim_newest (self, err, errlen);
    }
    if (rc == 0) {
        s_drop_unusable_last (self);
        rc = s_ensure_active (self, err, errlen);
    }
    if (rc == 0) {
        self->durable_seq = self->next_seq - 1;
        self->durable_off = self->written_off = tx_spool_active (self)->fsize;
    }
    free (bases);
    free (done.v);
    return rc;
}


/* ---------------------------------------------------------------- rescan after open */

/* The seqs of every valid record of fd below end, sorted, in *found (the
   caller frees); false when the file could not be read or no memory. */
static bool
s_rescan (int fd, uint64_t end, uint64_t **found, size_t *nfound)
{
    tx_spool_reader_t r;
    tx_spool_reader_init (&r, MAX_MAX_RECORD);
    tx_spool_reader_reset (&r, fd, end);
    size_t cap = 0;
    uint64_t off = SEG_HDR;
    bool ok = true;
    for (;;) {
        tx_spool_item_t rec;
        int rc = tx_spool_reader_next (&r, off, true, &rec);
        if (rc == S_END || rc == S_TAIL)
            break;
        if (rc == S_IOERR) {
            ok = false;
            break;
        }
        if (rc == S_REC) {
            if (*nfound == cap) {
                cap = cap ? cap * 2 : 1024;
                uint64_t *p = realloc (*found, cap * sizeof *p);
                if (!p) {
                    ok = false;
                    break;
                }
                *found = p;
            }
            (*found)[(*nfound)++] = rec.seq;
        }
        off = rec.off + rec.size;
    }
    free (r.buf);
    if (ok && *nfound)
        qsort (*found, *nfound, sizeof **found, s_cmp_u64);
    return ok;
}

/* Lost seqs first..last of seg are done from now on: a reopen must not
   report them again (mtx) */
static void
s_settle_lost (tx_spool_t *self, tx_spool_seg_t *seg, uint64_t first,
               uint64_t last)
{
    for (uint64_t s = first, lo = 0; s <= last + 1; s++) {
        bool gone = s <= last && !tx_spool_seg_present (seg, s);
        if (gone && !lo)
            lo = s;
        else if (!gone && lo) {
            tx_spool_settle (self, lo, s - 1);
            lo = 0;
        }
    }
}

/* Forget the stored seqs of seg up to hi that the rescan did not find;
   count, settle and log them once (mtx) */
static void
s_forget_unreadable (tx_spool_t *self, tx_spool_seg_t *seg, uint64_t hi,
                     const uint64_t *found, size_t nfound)
{
    uint64_t lost = 0, first = 0, last = 0;
    for (uint64_t s = seg->base; s <= hi; s++)
        if (tx_spool_seg_present (seg, s)
        &&  (!nfound || !bsearch (&s, found, nfound, sizeof *found, s_cmp_u64))) {
            tx_spool_seg_lose (seg, s);
            if (!lost)
                first = s;
            last = s;
            lost++;
        }
    if (!lost)
        return;
    char name[64];
    tx_spool_seg_name (seg->base, "log", name, sizeof name);
    self->st.damaged += lost;
    tx_spool_note_lost (self, first, last, lost);
    s_settle_lost (self, seg, first, last);
    tx_spool_log (self, TX_SPOOL_LOG_ERROR,
                  "event=lost segment=%s records=%" PRIu64 " seqs=%" PRIu64
                  "-%" PRIu64 " msg=\"damaged after open: these durable"
                  " records cannot be read back and are lost\"", name, lost,
                  first, last);
}

void
tx_spool_seg_verify (tx_spool_t *self, tx_spool_seg_t *seg)
{
    uint64_t *found = NULL;
    size_t nfound = 0;
    bool active = seg == tx_spool_active (self);
    uint64_t end = active ? self->durable_off : seg->end;
    uint64_t hi = active && self->durable_seq < seg->last ? self->durable_seq
                                                          : seg->last;
    int fd = seg->rfd;
    seg->suspect = false;
    pthread_mutex_unlock (&self->mtx);
    bool ok = s_rescan (fd, end, &found, &nfound);
    pthread_mutex_lock (&self->mtx);
    if (ok && !seg->dead)
        s_forget_unreadable (self, seg, hi, found, nfound);
    free (found);
}
