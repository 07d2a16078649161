/*  spool.c -- tx_spool: crash-safe append-only segment log.  See spool.h
    for the API and docs/spool.md for the format and the recovery rules.

    Directory:
        LOCK                      flock()ed while open; holds the owner's pid
        seg-<16 hex digits>.log   segments, named by their first sequence number
        acks                      acknowledgement log (fixed 24-byte entries)
        *.tmp                     files being created; removed by open

    Locks, always taken in this order: rd_mtx (one reader at a time) or
    ack_mtx (the ack log file), then mtx (everything else).  No file I/O
    that can take long is done under mtx except segment rotation.
*/
#include "spool.h"

#include <assert.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEG_MAGIC       "TXSPSEG1"
#define SEG_VERSION     1
#define SEG_HDR         32          /* segment file header bytes */
#define REC_MAGIC       0x31525854u /* "TXR1" little-endian */
#define REC_HDR         24          /* record header bytes */
#define ACK_MAGIC       0x31415854u /* "TXA1" little-endian */
#define ACK_ENT         24          /* ack log entry bytes */
#define ACK_RANGE       1           /* seqs [seq, seq+count) acknowledged */
#define ACK_FLOOR       2           /* every seq < seq is done */
#define ACK_NEXT        3           /* next_seq >= seq (seqs below were used) */
#define ACK_DURABLE     4           /* every seq <= seq is stored durably or
                                       done (RANGE, FLOOR): the rest is lost */

#define DEF_CAP         (1024ull * 1024 * 1024)
#define DEF_SEGMENT     (4ull * 1024 * 1024)
#define DEF_MAX_RECORD  (1024u * 1024)
#define MAX_MAX_RECORD  (64u * 1024 * 1024)
#define MIN_CAP         4096
#define DEF_ACK_SYNC_MS 1000
#define PEND_FLUSH      (1024 * 1024)   /* write() buffered records beyond this */
#define READ_CHUNK      (256 * 1024)
#define ACK_COMPACT_MIN (64 * 1024)
#define MAX_FAILED      64              /* failed seq ranges remembered */
#define MAX_SETTLED     64              /* done ranges not yet in the ack log */

/* Result of parsing at an offset (s_next) */
#define S_END        0      /* clean end of data */
#define S_REC        1      /* a valid record */
#define S_BADREC     2      /* header valid, payload CRC wrong: seq known */
#define S_BADREGION  3      /* unparseable bytes, a valid record follows */
#define S_TAIL       4      /* unparseable bytes up to the end */
#define S_AGAIN      5      /* needs a buffer refill that was not allowed */
#define S_IOERR     -1

typedef struct {
    uint64_t lo, hi;                /* inclusive */
    bool full;                      /* lost because the file system was full */
} s_range_t;

typedef struct {
    uint64_t base;          /* first seq this segment may hold (file name) */
    uint64_t last;          /* upper bound of seqs present; base-1 if none */
    uint64_t fsize;         /* bytes of the file (cap accounting) */
    uint64_t end;           /* end of readable data */
    uint64_t nrec;          /* records present (stored, readable) */
    uint64_t nacked;        /* of those, acknowledged */
    uint64_t *present;      /* bitmap: bit i = seq base+i is stored */
    uint64_t *acked;        /* bitmap: bit i = seq base+i is acknowledged */
    size_t words;           /* capacity of both bitmaps, 64-bit words */
    int rfd;                /* read-only fd, -1 until a reader needs it */
    int pins;               /* readers using rfd without mtx */
    bool dead;              /* unlinked and out of the list; free at pins 0 */
    bool suspect;           /* a read met damage: verify at its end */
    bool spent;             /* cut back by s_reclaim: takes no more records */
    bool badhdr;            /* open found its header damaged */
    bool bare;              /* open found the file holding only its header
                               (not made so by cutting a torn tail) */
} s_seg_t;

typedef struct {
    int fd;                 /* file being read, -1 none */
    uint64_t end;           /* never read at or past this offset */
    uint32_t max_record;    /* larger lengths are damage: the hard limit,
                               not opts.max_record, which may have been
                               lowered since the records were written */
    unsigned char *buf;     /* a window of the file */
    size_t cap;             /* allocated bytes */
    uint64_t boff;          /* file offset of buf[0] */
    size_t blen;            /* valid bytes in buf */
} s_reader_t;

typedef struct {
    uint64_t off;           /* offset of the record or region */
    uint64_t size;          /* bytes it occupies on disk */
    uint64_t seq;           /* S_REC, S_BADREC */
    uint32_t len;           /* payload bytes */
    const unsigned char *data;  /* payload, inside the reader's buffer */
} s_rec_t;

struct _tx_spool_t {
    char *dir;                  /* spool directory */
    int dirfd;                  /* for fsync of the directory */
    int lockfd;                 /* LOCK, flock()ed */
    tx_spool_opts_t opts;       /* with defaults filled in */
    pthread_mutex_t mtx;        /* everything below unless noted */
    pthread_cond_t cond;        /* durability, syncing, rotating changes */

    s_seg_t **segs;             /* oldest first; the last one is active */
    size_t nsegs;               /* in segs */
    size_t segs_cap;            /* allocated */
    int wfd;                    /* active segment, O_RDWR */
    uint64_t next_seq;          /* next seq to assign */
    uint64_t durable_seq;       /* every present seq <= this is durable */
    uint64_t durable_off;       /* active segment: durable bytes */
    uint64_t written_off;       /* active segment: bytes written or in flight */
    unsigned char *pend;        /* encoded records not yet written */
    size_t pend_len;            /* bytes in pend */
    size_t pend_cap;            /* allocated */
    unsigned char *flight;      /* buffer the sync leader writes */
    size_t flight_cap;          /* allocated */
    uint64_t pend_since;        /* monotonic ns of the oldest put not yet
                                   taken by a leader; 0: none */
    bool syncing;               /* a leader is writing/fdatasyncing */
    bool rotating;              /* a rotation is in progress */
    bool broken;                /* a write/sync failed: repair before use */
    bool nospace;               /* the last write/sync failure was ENOSPC,
                                   EDQUOT or EFBIG and no data write has
                                   succeeded since: failures are FULL */
    uint64_t epoch;             /* bumped by every failure */
    s_range_t failed[MAX_FAILED];   /* seqs lost to I/O errors */
    s_range_t settled[MAX_SETTLED]; /* exact ranges of seqs done without
                                       an ack (failed appends, reported
                                       losses) not yet in the ack log */
    size_t nsettled;            /* in settled */
    uint64_t mark_cap;          /* a durable mark may not pass this: one
                                   failed range did not fit in settled, so
                                   only a snapshot can cover it */
    size_t nfailed;             /* in failed */
    uint64_t bytes;             /* sum of segment fsize */
    tx_spool_stats_t st;        /* counters (records/bytes computed on demand) */

    pthread_mutex_t ack_mtx;    /* the ack log fields below */
    int ackfd;                  /* acks, O_RDWR */
    uint64_t ack_off;           /* where the next entry goes */
    uint64_t ack_compact_at;    /* rewrite the log when ack_off passes this */
    uint64_t ack_synced;        /* monotonic ns of the last fdatasync */
    bool ack_dirty;             /* written since the last fdatasync */
    uint64_t mark_at;           /* monotonic ns of the last durable mark */
    bool ack_stale;             /* an ack entry could not be written: only a
                                   snapshot makes the log whole again */

    pthread_mutex_t rd_mtx;     /* serialises tx_spool_read; fields below */
    s_reader_t rd;              /* read window (tx_spool_rec_t data) */
    s_seg_t *rd_seg;            /* segment whose rfd rd uses (under mtx) */
    bool rd_valid;              /* cursor below is usable */
    uint64_t rd_key;            /* the after_seq the cursor continues */
    uint64_t rd_base;           /* its segment */
    uint64_t rd_off;            /* its offset */
    uint64_t *rd_seqs;          /* seqs the last read returned ... */
    uint64_t *rd_ends;          /* ... and the offsets just past them, so a
                                   caller may go on after any of them */
    size_t rd_n;                /* in rd_seqs/rd_ends */
    size_t rd_cap;              /* allocated */
};


static int s_ack_mark_locked (tx_spool_t *self, uint64_t upto, uint64_t epoch);
static void s_ack_mark_due (tx_spool_t *self, uint64_t upto, uint64_t epoch);


/* ---------------------------------------------------------------- CRC32C */

static uint32_t s_crc_tab[8][256];
static pthread_once_t s_crc_once = PTHREAD_ONCE_INIT;
#if defined(__x86_64__)
static bool s_crc_hw;
#endif

static void
s_crc_init (void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
        s_crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            s_crc_tab[t][i] = (s_crc_tab[t - 1][i] >> 8)
                            ^ s_crc_tab[0][s_crc_tab[t - 1][i] & 0xff];
#if defined(__x86_64__)
    __builtin_cpu_init ();
    s_crc_hw = __builtin_cpu_supports ("sse4.2");
#endif
}

static uint32_t
s_crc_sw (uint32_t c, const unsigned char *p, size_t n)
{
    while (n && ((uintptr_t) p & 7)) {
        c = s_crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy (&w, p, 8);
        w = le64toh (w) ^ c;
        c = s_crc_tab[7][w & 0xff] ^ s_crc_tab[6][(w >> 8) & 0xff]
          ^ s_crc_tab[5][(w >> 16) & 0xff] ^ s_crc_tab[4][(w >> 24) & 0xff]
          ^ s_crc_tab[3][(w >> 32) & 0xff] ^ s_crc_tab[2][(w >> 40) & 0xff]
          ^ s_crc_tab[1][(w >> 48) & 0xff] ^ s_crc_tab[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = s_crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
__attribute__ ((target ("sse4.2")))
static uint32_t
s_crc_hw_run (uint32_t c, const unsigned char *p, size_t n)
{
    uint64_t c64 = c;
    while (n && ((uintptr_t) p & 7)) {
        c64 = __builtin_ia32_crc32qi ((uint32_t) c64, *p++);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy (&w, p, 8);
        c64 = __builtin_ia32_crc32di (c64, w);
        p += 8;
        n -= 8;
    }
    while (n--)
        c64 = __builtin_ia32_crc32qi ((uint32_t) c64, *p++);
    return (uint32_t) c64;
}
#endif

/* CRC-32C (Castagnoli), as in iSCSI/ext4: crc32c("123456789") = e3069283 */
static uint32_t
s_crc32c (const void *buf, size_t n)
{
    pthread_once (&s_crc_once, s_crc_init);
#if defined(__x86_64__)
    if (s_crc_hw)
        return ~s_crc_hw_run (~0u, buf, n);
#endif
    return ~s_crc_sw (~0u, buf, n);
}


/* ---------------------------------------------------------------- helpers */

static void
s_put32 (unsigned char *p, uint32_t v)
{
    v = htole32 (v);
    memcpy (p, &v, 4);
}

static void
s_put64 (unsigned char *p, uint64_t v)
{
    v = htole64 (v);
    memcpy (p, &v, 8);
}

static uint32_t
s_get32 (const unsigned char *p)
{
    uint32_t v;
    memcpy (&v, p, 4);
    return le32toh (v);
}

static uint64_t
s_get64 (const unsigned char *p)
{
    uint64_t v;
    memcpy (&v, p, 8);
    return le64toh (v);
}

static uint64_t
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static size_t
s_rec_size (size_t len)
{
    return REC_HDR + ((len + 7) & ~(size_t) 7);
}

static void
s_set_err (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_set_err (char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, errlen, fmt, ap);
    va_end (ap);
}

static void
s_log (tx_spool_t *self, int level, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_log (tx_spool_t *self, int level, const char *fmt, ...)
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

static void
s_seg_name (uint64_t base, const char *ext, char *buf, size_t size)
{
    snprintf (buf, size, "seg-%016" PRIx64 ".%s", base, ext);
}


/* ---------------------------------------------------------------- trust */

/* Whether the spool directory (name NULL) or the file NAME in it, as sb
   describes it, may be trusted: ssh's StrictModes rules.  It must be owned
   by the effective uid and not writable by group or others; a file must
   also be a regular file with one link (another name for it could be
   another user's way in).  0, or -1 with what to fix in err. */
static int
s_check_stat (const char *dir, const char *name, const struct stat *sb,
              char *err, size_t errlen)
{
    char what[3200];            /* "spool directory D" or "spool D: file D/N" */
    char path[3100];
    if (name) {
        snprintf (path, sizeof path, "%s/%s", dir, name);
        snprintf (what, sizeof what, "spool %s: %s", dir, path);
    }
    else {
        snprintf (path, sizeof path, "%s", dir);
        snprintf (what, sizeof what, "spool directory %s", dir);
    }
    unsigned me = (unsigned) geteuid ();
    if (name ? !S_ISREG (sb->st_mode) : !S_ISDIR (sb->st_mode)) {
        if (name)
            s_set_err (err, errlen, "%s is not a regular file; remove it", what);
        else
            s_set_err (err, errlen, "spool %s is not a directory", dir);
        return -1;
    }
    if ((unsigned) sb->st_uid != me) {
        s_set_err (err, errlen, "%s is owned by uid %u, not by you (uid %u);"
                   " run chown %u %s, or give a spool directory of your own",
                   what, (unsigned) sb->st_uid, me, me, path);
        return -1;
    }
    if (sb->st_mode & (S_IWGRP | S_IWOTH)) {
        s_set_err (err, errlen, "%s is writable by group or others (mode %04o);"
                   " run chmod go-w %s", what, (unsigned) (sb->st_mode & 07777),
                   path);
        return -1;
    }
    if (name && sb->st_nlink != 1) {
        s_set_err (err, errlen, "%s has %lu hard links; remove the other names"
                   " of it (find -samefile %s)", what,
                   (unsigned long) sb->st_nlink, path);
        return -1;
    }
    return 0;
}

/* Open NAME in the spool directory (through dirfd, so a directory renamed
   or replaced since open does not matter), never through a symbolic link,
   and only if s_check_stat trusts it.  New files get mode 0600.  Returns
   an fd, or -1 with errno set and the reason in err. */
static int
s_openat (tx_spool_t *self, const char *name, int flags, char *err,
          size_t errlen)
{
    /* O_NONBLOCK: a FIFO planted under a spool name must not hang open */
    int fd = openat (self->dirfd, name,
                     flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)
            s_set_err (err, errlen, "spool %s: %s/%s is a symbolic link, which the"
                       " spool never follows; remove it", self->dir, self->dir,
                       name);
        else
            s_set_err (err, errlen, "spool %s: cannot open %s/%s: %s", self->dir,
                       self->dir, name, strerror (e));
        errno = e;
        return -1;
    }
    struct stat sb;
    if (fstat (fd, &sb)) {
        int e = errno;
        s_set_err (err, errlen, "spool %s: stat %s: %s", self->dir, name,
                   strerror (e));
        close (fd);
        errno = e;
        return -1;
    }
    if (s_check_stat (self->dir, name, &sb, err, errlen)) {
        close (fd);
        errno = EPERM;
        return -1;
    }
    int fl = fcntl (fd, F_GETFL);
    if (fl >= 0)
        fcntl (fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

/* Open the spool directory, creating it (mode 0700) if it does not exist:
   never through a symbolic link, and only if s_check_stat trusts it.
   Returns the fd, or -1 with the reason in err. */
static int
s_open_dir (const char *dir, char *err, size_t errlen)
{
    if (mkdir (dir, 0700) && errno != EEXIST) {
        s_set_err (err, errlen, "spool %s: cannot create: %s", dir, strerror (errno));
        return -1;
    }
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        struct stat lsb;
        if (errno == ELOOP || (errno == ENOTDIR && lstat (dir, &lsb) == 0
                               && S_ISLNK (lsb.st_mode)))
            s_set_err (err, errlen, "spool %s is a symbolic link, which the spool"
                       " never follows; give the directory itself", dir);
        else
            s_set_err (err, errlen, "spool %s: %s", dir, strerror (errno));
        return -1;
    }
    struct stat sb;
    if (fstat (fd, &sb)) {
        s_set_err (err, errlen, "spool %s: %s", dir, strerror (errno));
        close (fd);
        return -1;
    }
    if (s_check_stat (dir, NULL, &sb, err, errlen)) {
        close (fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

/* s_openat for a file that must be new: any old one (a leftover .tmp, or
   whatever was planted under its name) is unlinked first, then the file
   is created exclusively. */
static int
s_create_new (tx_spool_t *self, const char *name, char *err, size_t errlen)
{
    if (unlinkat (self->dirfd, name, 0) && errno != ENOENT) {
        int e = errno;
        s_set_err (err, errlen, "spool %s: cannot remove %s: %s", self->dir,
                   name, strerror (e));
        errno = e;
        return -1;
    }
    return s_openat (self, name, O_RDWR | O_CREAT | O_EXCL, err, errlen);
}

static int
s_pwrite_all (int fd, const void *buf, size_t n, uint64_t off)
{
    const unsigned char *p = buf;
    while (n) {
        ssize_t w = pwrite (fd, p, n, (off_t) off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t) w;
        off += (uint64_t) w;
    }
    return 0;
}

/* Returns -1 with errno set on failure */
static int
s_fsync_dir (tx_spool_t *self)
{
    if (fsync (self->dirfd) == 0)
        return 0;
    int err = errno;
    s_log (self, TX_SPOOL_LOG_ERROR, "event=fsync-dir-failed error=\"%s\"",
           strerror (err));
    errno = err;
    return -1;
}

/* Whether a write/sync/truncate error means "no room": the file system
   (ENOSPC), the user's quota (EDQUOT) or the file size limit (EFBIG,
   RLIMIT_FSIZE).  The caller then sees TX_SPOOL_FULL, as at the cap. */
static bool
s_nospace_err (int err)
{
    return err == ENOSPC || err == EDQUOT || err == EFBIG;
}


/* ---------------------------------------------------------------- segments */

static s_seg_t *
s_seg_new (uint64_t base)
{
    s_seg_t *seg = calloc (1, sizeof *seg);
    if (!seg)
        return NULL;
    seg->base = base;
    seg->last = base - 1;
    seg->fsize = seg->end = SEG_HDR;
    seg->rfd = -1;
    return seg;
}

static void
s_seg_free (s_seg_t **seg_p)
{
    s_seg_t *seg = *seg_p;
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
static int
s_seg_reserve (s_seg_t *seg, uint64_t seq)
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

static bool
s_seg_present (const s_seg_t *seg, uint64_t seq)
{
    return seq >= seg->base && s_bit (seg->present, seg->words, seq - seg->base);
}

static bool
s_seg_acked (const s_seg_t *seg, uint64_t seq)
{
    return seq >= seg->base && s_bit (seg->acked, seg->words, seq - seg->base);
}

/* Record seq as stored; the caller reserved room */
static void
s_seg_add (s_seg_t *seg, uint64_t seq)
{
    uint64_t i = seq - seg->base;
    seg->present[i / 64] |= 1ull << (i % 64);
    seg->nrec++;
    if (seq > seg->last)
        seg->last = seq;
}

/* Forget a stored seq (lost to damage or an I/O error) */
static void
s_seg_lose (s_seg_t *seg, uint64_t seq)
{
    if (!s_seg_present (seg, seq))
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
static bool
s_seg_ack (s_seg_t *seg, uint64_t seq)
{
    if (!s_seg_present (seg, seq) || s_seg_acked (seg, seq))
        return false;
    uint64_t i = seq - seg->base;
    seg->acked[i / 64] |= 1ull << (i % 64);
    seg->nacked++;
    return true;
}

static s_seg_t *
s_active (tx_spool_t *self)
{
    return self->nsegs ? self->segs[self->nsegs - 1] : NULL;
}

/* Index of the segment that holds seq, or -1 */
static ssize_t
s_find_index (tx_spool_t *self, uint64_t seq)
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

static s_seg_t *
s_find_seg (tx_spool_t *self, uint64_t seq)
{
    ssize_t i = s_find_index (self, seq);
    return i < 0 ? NULL : self->segs[i];
}

static int
s_segs_push (tx_spool_t *self, s_seg_t *seg)
{
    if (self->nsegs == self->segs_cap) {
        size_t cap = self->segs_cap ? self->segs_cap * 2 : 16;
        s_seg_t **p = realloc (self->segs, cap * sizeof *p);
        if (!p)
            return -1;
        self->segs = p;
        self->segs_cap = cap;
    }
    self->segs[self->nsegs++] = seg;
    return 0;
}

/* Take every fully acknowledged segment except the active one out of the
   list (mtx held).  Returns them in *dead (to pass to s_drop_segs). */
static size_t
s_collect_dead (tx_spool_t *self, s_seg_t ***dead)
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
        s_seg_t *seg = self->segs[i];
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
static void
s_drop_segs (tx_spool_t *self, s_seg_t **dead, size_t n)
{
    /* Their acknowledgements must be durable first: should power loss
       keep the unlink and lose the acks, a reopen would count the
       records as lost (their seqs neither stored nor done). */
    pthread_mutex_lock (&self->ack_mtx);
    bool logged = self->ackfd < 0       /* open: the old log holds them */
               || !(self->ack_dirty || self->ack_stale)
               || s_ack_mark_locked (self, UINT64_MAX, 0) == 0;
    pthread_mutex_unlock (&self->ack_mtx);
    pthread_mutex_lock (&self->mtx);
    bool nospace = self->nospace;
    pthread_mutex_unlock (&self->mtx);
    size_t nunlink = n;
    if (!logged && !nospace) {
        /* Keep the files: a reopen finds the records and sends them again
           (the collector deduplicates), rather than count them lost.  On a
           full file system the space comes first. */
        s_log (self, TX_SPOOL_LOG_WARN, "event=segments-kept count=%zu"
               " msg=\"the ack log could not be made durable: these"
               " acknowledged records will be sent again after a restart\"", n);
        nunlink = 0;
    }
    char name[64];
    for (size_t i = 0; i < nunlink; i++) {
        s_seg_name (dead[i]->base, "log", name, sizeof name);
        if (unlinkat (self->dirfd, name, 0) && errno != ENOENT)
            s_log (self, TX_SPOOL_LOG_WARN,
                   "event=unlink-failed segment=%s error=\"%s\"", name,
                   strerror (errno));
    }
    if (nunlink)
        s_fsync_dir (self);
    pthread_mutex_lock (&self->mtx);
    for (size_t i = 0; i < n; i++) {
        if (self->rd_seg == dead[i])
            self->rd_seg = NULL;
        if (dead[i]->pins == 0)
            s_seg_free (&dead[i]);
        /* else the pinning reader frees it */
    }
    pthread_mutex_unlock (&self->mtx);
    free (dead);
}


/* ---------------------------------------------------------------- reader */

static void
s_reader_init (s_reader_t *r, uint32_t max_record)
{
    memset (r, 0, sizeof *r);
    r->fd = -1;
    r->max_record = max_record;
}

static void
s_reader_reset (s_reader_t *r, int fd, uint64_t end)
{
    if (r->fd != fd)
        r->blen = 0;
    r->fd = fd;
    r->end = end;
}

/* Bytes [off, off+n) of the file, or NULL with *rc = 1 (past the end),
   S_AGAIN (a refill is needed but not allowed) or S_IOERR. */
static const unsigned char *
s_reader_get (s_reader_t *r, uint64_t off, size_t n, bool refill, int *rc)
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
s_parse_at (s_reader_t *r, uint64_t off, bool refill, s_rec_t *rec)
{
    int rc = 0;
    const unsigned char *h = s_reader_get (r, off, REC_HDR, refill, &rc);
    if (!h)
        return rc == 1 ? 0 : rc;
    if (s_get32 (h) != REC_MAGIC || s_get32 (h + 20) != s_crc32c (h, 20))
        return 0;
    uint32_t len = s_get32 (h + 4);
    uint64_t seq = s_get64 (h + 8);
    uint32_t dcrc = s_get32 (h + 16);
    if (len == 0 || len > r->max_record || seq == 0)
        return 0;
    size_t size = s_rec_size (len);
    const unsigned char *p = s_reader_get (r, off, size, refill, &rc);
    if (!p)
        return rc == 1 ? 0 : rc;
    rec->off = off;
    rec->size = size;
    rec->seq = seq;
    rec->len = len;
    rec->data = p + REC_HDR;
    return s_crc32c (p + REC_HDR, len) == dcrc ? S_REC : S_BADREC;
}

/* The next thing at off: see S_* above.  rec->off/size always describe
   what was found, so the caller continues at rec->off + rec->size. */
static int
s_next (s_reader_t *r, uint64_t off, bool refill, s_rec_t *rec)
{
    if (off >= r->end)
        return S_END;
    int rc = s_parse_at (r, off, refill, rec);
    if (rc != 0)
        return rc;
    /* Resynchronise: the next 8-aligned offset with a fully valid record */
    for (uint64_t p = off + 8; p + REC_HDR <= r->end; p += 8) {
        s_rec_t cand;
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


/* ---------------------------------------------------------------- failures */

/* Whether any of seqs lo..hi was lost to a failure: 0 if none, else
   TX_SPOOL_FULL when every such failure was for lack of space, or
   TX_SPOOL_EIO. */
static int
s_failed_code (tx_spool_t *self, uint64_t lo, uint64_t hi)
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
   next durable mark (s_ack_mark_locked): the ack log must say so before
   it says that everything up to them is durable, or a reopen would count
   them as lost.  Exact ranges, never merged across
   durable seqs; when there is no room, marks stop below lo until a
   snapshot (which covers every seq not stored) is written. */
static void
s_settle (tx_spool_t *self, uint64_t lo, uint64_t hi)
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
static int
s_count_failure (tx_spool_t *self, int err)
{
    self->st.io_errors++;
    self->nospace = s_nospace_err (err);
    if (self->nospace)
        self->st.nospace_errors++;
    return self->nospace ? TX_SPOOL_FULL : TX_SPOOL_EIO;
}

/* A write or fdatasync of the active segment failed (mtx held): every
   record not yet durable is lost; the file is cut back by s_repair,
   which s_wait runs before it reports the failure. */
static void
s_fail (tx_spool_t *self, const char *what, int err)
{
    s_seg_t *act = s_active (self);
    uint64_t lo = self->durable_seq + 1, hi = self->next_seq - 1;
    bool was_nospace = self->nospace;
    self->broken = true;
    self->epoch++;
    bool full = s_count_failure (self, err) == TX_SPOOL_FULL;
    if (lo <= hi) {
        s_add_failed (self, lo, hi, full);
        s_settle (self, lo, hi);
        for (uint64_t s = lo > act->base ? lo : act->base; s <= hi; s++)
            s_seg_lose (act, s);
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
        s_log (self, TX_SPOOL_LOG_ERROR,
               "event=io-error op=%s error=\"%s\" lost_seqs=%" PRIu64 "-%" PRIu64
               " msg=\"appends not yet durable fail\"", what, strerror (err), lo, hi);
    else if (!was_nospace)      /* once per episode: it may last long */
        s_log (self, TX_SPOOL_LOG_ERROR,
               "event=disk-full op=%s error=\"%s\" lost_seqs=%" PRIu64 "-%" PRIu64
               " msg=\"no room on the spool's file system: appends fail with"
               " 'full' until space is freed; acknowledged segments are given"
               " back\"", what, strerror (err), lo, hi);
    pthread_cond_broadcast (&self->cond);
}

/* Cut the active segment back to its durable end (mtx held).  Returns
   TX_SPOOL_OK, or TX_SPOOL_FULL / TX_SPOOL_EIO when that failed. */
static int
s_repair (tx_spool_t *self)
{
    while (self->syncing)
        pthread_cond_wait (&self->cond, &self->mtx);
    if (!self->broken)
        return TX_SPOOL_OK;
    if (ftruncate (self->wfd, (off_t) self->durable_off) == 0
    &&  fdatasync (self->wfd) == 0) {
        self->broken = false;
        s_log (self, TX_SPOOL_LOG_INFO, "event=repaired offset=%" PRIu64,
               self->durable_off);
        return TX_SPOOL_OK;
    }
    int err = errno;
    int rc = s_count_failure (self, err);
    s_log (self, TX_SPOOL_LOG_ERROR, "event=repair-failed error=\"%s\"",
           strerror (err));
    return rc;
}


/* ---------------------------------------------------------------- commit */

/* Write pending records to the kernel now (mtx held), bounding memory
   when nobody syncs. */
static void
s_flush_pending (tx_spool_t *self)
{
    if (s_pwrite_all (self->wfd, self->pend, self->pend_len,
                      self->written_off) == 0) {
        self->written_off += self->pend_len;
        self->pend_len = 0;
    }
    else
        s_fail (self, "write", errno);
}

/* Group commit (mtx held, !syncing, !broken): write what is pending and
   fdatasync, without mtx, for every record put so far. */
static void
s_lead (tx_spool_t *self)
{
    s_seg_t *act = s_active (self);
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
    int rc = s_pwrite_all (fd, buf, len, off);
    if (rc == 0) {
        what = "fdatasync";
        rc = fdatasync (fd);
    }
    int err = errno;
    if (rc == 0 && target_seq)
        s_ack_mark_due (self, target_seq, epoch);

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
                s_log (self, TX_SPOOL_LOG_INFO, "event=disk-space-back");
            }
        }
        else
            s_fail (self, what, err);
    }
    pthread_cond_broadcast (&self->cond);
}

/* Wait until seqs lo..hi are durable (mtx held).  Returns TX_SPOOL_OK,
   or TX_SPOOL_FULL / TX_SPOOL_EIO when any of them was lost. */
static int
s_wait (tx_spool_t *self, uint64_t lo, uint64_t hi)
{
    for (;;) {
        int failed = s_failed_code (self, lo, hi);
        if (failed) {
            /* Cut the lost records off the file before saying so: a
               record written whole before the failure must not come
               back after a kill -9 once its writer was told it failed. */
            if (self->broken)
                s_repair (self);
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
        uint64_t now = s_now ();
        uint64_t deadline = self->pend_since
                          + (uint64_t) self->opts.fsync_ms * 1000000ull;
        if (self->opts.fsync_ms == 0 || !self->pend_since || now >= deadline) {
            s_lead (self);
            continue;
        }
        struct timespec ts = { (time_t) (deadline / 1000000000ull),
                               (long) (deadline % 1000000000ull) };
        pthread_cond_timedwait (&self->cond, &self->mtx, &ts);
    }
}

/* Write a segment file header into p */
static void
s_seg_header (unsigned char *p, uint64_t base)
{
    memset (p, 0, SEG_HDR);
    memcpy (p, SEG_MAGIC, 8);
    s_put32 (p + 8, SEG_VERSION);
    s_put32 (p + 12, SEG_HDR);
    s_put64 (p + 16, base);
    s_put32 (p + 28, s_crc32c (p, 28));
}

/* Create seg-<base>.log atomically (tmp, fdatasync, rename, fsync dir).
   Returns an O_RDWR fd or -1. */
static int
s_create_segment (tx_spool_t *self, uint64_t base)
{
    char name[64], tmpname[64], why[512];
    unsigned char hdr[SEG_HDR];
    s_seg_name (base, "log", name, sizeof name);
    s_seg_name (base, "tmp", tmpname, sizeof tmpname);
    s_seg_header (hdr, base);
    const char *what = "open";
    int fd = s_create_new (self, tmpname, why, sizeof why);
    if (fd < 0) {
        int err = errno;
        s_log (self, TX_SPOOL_LOG_ERROR,
               "event=create-segment-failed segment=%s op=open error=\"%s\"",
               name, why);
        errno = err;
        return -1;
    }
    what = "write";
    if (s_pwrite_all (fd, hdr, SEG_HDR, 0))
        goto fail;
    what = "fdatasync";
    if (fdatasync (fd))
        goto fail;
    what = "rename";
    if (renameat (self->dirfd, tmpname, self->dirfd, name))
        goto fail;
    if (s_fsync_dir (self)) {
        /* The file exists; without a durable directory entry records in
           it could vanish on power loss, so do not use it. */
        int err = errno;
        unlinkat (self->dirfd, name, 0);
        close (fd);
        errno = err;
        return -1;
    }
    return fd;
fail:;
    int err = errno;
    if (fd >= 0)
        close (fd);
    unlinkat (self->dirfd, tmpname, 0);
    s_log (self, TX_SPOOL_LOG_ERROR,
           "event=create-segment-failed segment=%s op=%s error=\"%s\"", name,
           what, strerror (err));
    errno = err;
    return -1;
}

/* Start a new active segment at next_seq (mtx held, !rotating).  Makes
   every put record durable first, so only the active segment ever holds
   records that are not durable.  Returns TX_SPOOL_OK, TX_SPOOL_FULL (no
   room for the new file), TX_SPOOL_EIO or TX_SPOOL_ERR. */
static int
s_rotate (tx_spool_t *self)
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
            s_lead (self);
        else
            break;
    }
    s_seg_t *seg = NULL;
    int fd = -1;
    if (rc == TX_SPOOL_OK) {
        seg = s_seg_new (self->next_seq);
        if (!seg || s_segs_push (self, seg)) {
            s_seg_free (&seg);
            rc = TX_SPOOL_ERR;
        }
        else
            self->nsegs--;      /* pushed only to reserve room */
    }
    if (rc == TX_SPOOL_OK) {
        fd = s_create_segment (self, self->next_seq);
        if (fd < 0) {
            rc = s_count_failure (self, errno);
            s_seg_free (&seg);
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

/* Whether the active segment holds nothing but acknowledged records, so
   that its space could be given back (mtx held). */
static bool
s_reclaimable (tx_spool_t *self)
{
    s_seg_t *act = s_active (self);
    return act && !act->spent && act->fsize > SEG_HDR
        && act->nacked == act->nrec && act->pins == 0 && self->pend_len == 0;
}

/* Cut the fully acknowledged active segment back to its header (mtx held
   or open/close, nothing syncing, s_reclaimable).  It then holds no
   records.  Returns 0, or -1 with errno when the file was not cut. */
static int
s_cut_active (tx_spool_t *self)
{
    s_seg_t *act = s_active (self);
    char name[64];
    s_seg_name (act->base, "log", name, sizeof name);
    if (ftruncate (self->wfd, SEG_HDR))
        return -1;
    /* Enough against kill -9.  Should power loss undo the cut, the
       acknowledged records come back and are sent again. */
    if (fdatasync (self->wfd))
        s_log (self, TX_SPOOL_LOG_WARN,
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
    s_log (self, TX_SPOOL_LOG_INFO,
           "event=reclaimed segment=%s bytes=%" PRIu64
           " msg=\"fully acknowledged active segment cut back\"", name, freed);
    return 0;
}

/* Give back the space of the active segment when everything in it is
   acknowledged (mtx held, !rotating; the caller saw s_reclaimable).  The
   segment is cut back to its header first, since on a full file system
   no new file can be made before that; it is then spent (takes no more
   records) and rotated out, so the caller's s_collect_dead finds it.
   Returns TX_SPOOL_OK when space was given back (a failed rotation is
   retried by the next put), 1 when there was nothing to give back after
   all, TX_SPOOL_FULL or TX_SPOOL_EIO. */
static int
s_reclaim (tx_spool_t *self)
{
    self->rotating = true;      /* keeps appenders out meanwhile */
    while (self->syncing)
        pthread_cond_wait (&self->cond, &self->mtx);
    int rc = 1;
    if (!self->broken && s_reclaimable (self)) {
        if (s_cut_active (self) == 0) {
            s_active (self)->spent = true;
            rc = TX_SPOOL_OK;
        }
        else {
            int err = errno;
            rc = s_count_failure (self, err);
            s_log (self, TX_SPOOL_LOG_ERROR, "event=reclaim-failed error=\"%s\"",
                   strerror (err));
        }
    }
    self->rotating = false;
    pthread_cond_broadcast (&self->cond);
    if (rc == TX_SPOOL_OK)
        s_rotate (self);
    return rc;
}


/* ---------------------------------------------------------------- ack log */

static void
s_ack_entry (unsigned char *p, uint32_t kind, uint64_t seq, uint32_t count)
{
    s_put32 (p, ACK_MAGIC);
    s_put32 (p + 4, kind);
    s_put64 (p + 8, seq);
    s_put32 (p + 16, count);
    s_put32 (p + 20, s_crc32c (p, 20));
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
    s_ack_entry (*buf + *len, kind, seq, count);
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
        s_seg_t *seg = self->segs[i];
        if (seg->base > s) {    /* between segments: done */
            uint64_t hi = seg->base - 1 < upto ? seg->base - 1 : upto;
            if (s_ack_run (&buf, &len, &cap, &run, &count, s, hi - s + 1))
                goto nomem;
            s = hi + 1;
        }
        uint64_t last = seg->last < upto ? seg->last : upto;
        for (; s <= last; s++)
            if (!(s_seg_present (seg, s) && !s_seg_acked (seg, s))
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

/* Rewrite the ack log as a snapshot (ack_mtx held, not mtx). */
static int
s_ack_compact (tx_spool_t *self)
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
    const char *what = "open";
    int fd = s_create_new (self, "acks.tmp", why, sizeof why);
    if (fd < 0)
        goto fail;
    what = "write";
    if (s_pwrite_all (fd, snap, len, 0))
        goto fail;
    what = "fdatasync";
    if (fdatasync (fd))
        goto fail;
    what = "rename";
    if (renameat (self->dirfd, "acks.tmp", self->dirfd, "acks"))
        goto fail;
    s_fsync_dir (self);     /* if it fails the old log may come back: fine */
    free (snap);
    if (self->ackfd >= 0)
        close (self->ackfd);
    self->ackfd = fd;
    self->ack_off = len;
    self->ack_compact_at = len * 4 > ACK_COMPACT_MIN ? len * 4 : ACK_COMPACT_MIN;
    self->ack_dirty = false;
    self->ack_stale = false;
    self->ack_synced = self->mark_at = s_now ();
    pthread_mutex_lock (&self->mtx);
    self->nsettled -= nsettled;
    memmove (self->settled, self->settled + nsettled,
             self->nsettled * sizeof self->settled[0]);
    if (self->mark_cap == mark_cap)
        self->mark_cap = UINT64_MAX;
    pthread_mutex_unlock (&self->mtx);
    return 0;
fail:;
    int err = errno;
    free (snap);
    if (fd >= 0)
        close (fd);
    unlinkat (self->dirfd, "acks.tmp", 0);
    self->ack_compact_at = self->ack_off * 2 > ACK_COMPACT_MIN
                         ? self->ack_off * 2 : ACK_COMPACT_MIN;
    s_log (self, TX_SPOOL_LOG_WARN,
           "event=ack-compact-failed op=%s error=\"%s\" msg=\"keeping the old ack log\"",
           what, *why ? why : strerror (err));
    return -1;
}

/* Append entries to the ack log (ack_mtx held).  Entries go at ack_off
   with pwrite, so a failed or partial write is overwritten next time. */
static int
s_ack_write (tx_spool_t *self, const unsigned char *ents, size_t len)
{
    if (self->ackfd < 0 || s_pwrite_all (self->ackfd, ents, len, self->ack_off)) {
        s_log (self, TX_SPOOL_LOG_ERROR, "event=ack-write-failed error=\"%s\"",
               strerror (self->ackfd < 0 ? EBADF : errno));
        self->ack_stale = true;
        return -1;
    }
    self->ack_off += len;
    self->ack_dirty = true;
    uint64_t now = s_now ();
    int rc = 0;
    if (self->opts.ack_sync_ms < 0
    ||  now - self->ack_synced >= (uint64_t) self->opts.ack_sync_ms * 1000000ull)
        rc = s_ack_mark_locked (self, UINT64_MAX, 0);
    if (self->ack_off > self->ack_compact_at)
        s_ack_compact (self);
    return rc;
}

/* Write a durable mark (ack_mtx held, not mtx): RANGE entries for the
   failed seqs not yet logged (s_settle), then DURABLE(W), and fdatasync
   the ack log.  W is durable_seq, or upto when the group-commit leader
   marks what it has just synced (then nothing may have failed since
   epoch).  A reopen counts every seq <= W that is neither stored nor
   done as lost.  0, or -1 when the log could not be written or synced. */
static int
s_ack_mark_locked (tx_spool_t *self, uint64_t upto, uint64_t epoch)
{
    if (self->ackfd < 0)
        return -1;
    pthread_mutex_lock (&self->mtx);
    bool capped = self->mark_cap != UINT64_MAX;
    pthread_mutex_unlock (&self->mtx);
    /* Acks missing from the log, or failed ranges that did not fit in
       the queue: only a snapshot says it all */
    if (self->ack_stale || capped)
        return s_ack_compact (self);
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
            s_ack_entry (ents + len, ACK_RANGE, lo, c);
            len += ACK_ENT;
            lo += c;
            count -= c;
        }
        if (count && lo - 1 < w)
            w = lo - 1;         /* did not fit: not past it */
    }
    pthread_mutex_unlock (&self->mtx);
    if (w)
        s_ack_entry (ents + len, ACK_DURABLE, w, 0), len += ACK_ENT;
    if (len && s_pwrite_all (self->ackfd, ents, len, self->ack_off)) {
        s_log (self, TX_SPOOL_LOG_ERROR,
               "event=ack-write-failed entry=durable error=\"%s\"", strerror (errno));
        return -1;
    }
    self->ack_off += len;
    if (fdatasync (self->ackfd)) {
        self->ack_dirty = true;
        s_log (self, TX_SPOOL_LOG_ERROR, "event=ack-sync-failed error=\"%s\"",
               strerror (errno));
        return -1;
    }
    self->ack_dirty = false;
    self->ack_synced = self->mark_at = s_now ();
    pthread_mutex_lock (&self->mtx);
    self->nsettled -= n;
    memmove (self->settled, self->settled + n,
             self->nsettled * sizeof self->settled[0]);
    pthread_mutex_unlock (&self->mtx);
    return 0;
}

/* The group-commit leader has made seqs up to upto durable (no lock
   held): mark that in the ack log, at most every ack_sync_ms (every time
   with -1, before the appenders hear of it, so that the mark is exact).
   A leader never waits for a busy ack log unless ack_sync_ms is -1. */
static void
s_ack_mark_due (tx_spool_t *self, uint64_t upto, uint64_t epoch)
{
    bool always = self->opts.ack_sync_ms < 0;
    if (always)
        pthread_mutex_lock (&self->ack_mtx);
    else if (pthread_mutex_trylock (&self->ack_mtx))
        return;
    if (always || s_now () - self->mark_at
                  >= (uint64_t) self->opts.ack_sync_ms * 1000000ull) {
        s_ack_mark_locked (self, upto, epoch);
        if (self->ack_off > self->ack_compact_at)
            s_ack_compact (self);
    }
    pthread_mutex_unlock (&self->ack_mtx);
}

/* A growing list of seq ranges (open) */
typedef struct {
    s_range_t *v;
    size_t n, cap;
} s_ranges_t;

static int
s_ranges_add (s_ranges_t *r, uint64_t lo, uint64_t hi)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        s_range_t *p = realloc (r->v, cap * sizeof *p);
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

static int
s_range_cmp (const void *a, const void *b)
{
    const s_range_t *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Replay the ack log into the segments (open, single-threaded).
   *max_seq gets the highest seq any entry mentions, *durable the highest
   DURABLE mark, done the ranges of done seqs (RANGE, FLOOR).  -1 on no
   memory. */
static int
s_ack_replay (tx_spool_t *self, const unsigned char *buf, size_t len,
              uint64_t *max_seq, uint64_t *durable, s_ranges_t *done)
{
    uint64_t bad = 0;
    for (size_t off = 0; off + ACK_ENT <= len; off += ACK_ENT) {
        const unsigned char *p = buf + off;
        if (s_get32 (p) != ACK_MAGIC || s_get32 (p + 20) != s_crc32c (p, 20)) {
            bad++;
            continue;
        }
        uint32_t kind = s_get32 (p + 4);
        uint64_t seq = s_get64 (p + 8);
        uint64_t count = s_get32 (p + 16);
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
        if (s_ranges_add (done, lo, hi))
            return -1;
        for (size_t i = 0; i < self->nsegs; i++) {
            s_seg_t *seg = self->segs[i];
            uint64_t a = lo > seg->base ? lo : seg->base;
            uint64_t b = hi < seg->last ? hi : seg->last;
            for (uint64_t s = a; s <= b && b >= seg->base; s++)
                s_seg_ack (seg, s);
        }
    }
    if (bad)
        s_log (self, TX_SPOOL_LOG_WARN,
               "event=ack-log-damaged entries=%" PRIu64
               " msg=\"those records may be sent again\"", bad);
    return 0;
}

/* Count durable records that cannot be read back: lost seqs lo..hi,
   count of them (mtx held, or open). */
static void
s_note_lost (tx_spool_t *self, uint64_t lo, uint64_t hi, uint64_t count)
{
    if (!count)
        return;
    self->st.lost += count;
    if (!self->st.lost_first || lo < self->st.lost_first)
        self->st.lost_first = lo;
    if (hi > self->st.lost_last)
        self->st.lost_last = hi;
}

/* Open: every seq up to the durable mark that is neither stored (found by
   the scan) nor done (per the ack log) was durable and cannot be read
   back: a segment was deleted, or its bytes damaged.  Count, log once.
   A segment holding only its header was cut back after all its records
   were acknowledged (s_cut_active), so its seqs are done. */
static int
s_find_lost (tx_spool_t *self, s_ranges_t *done, uint64_t durable)
{
    if (!durable)
        return 0;               /* no mark: a spool of an older version */
    for (size_t i = 0; i < self->nsegs; i++) {
        s_seg_t *seg = self->segs[i];
        if (seg->nrec || !seg->bare || seg->badhdr)
            continue;
        uint64_t hi = i + 1 < self->nsegs ? self->segs[i + 1]->base - 1 : durable;
        if (hi >= seg->base && s_ranges_add (done, seg->base, hi))
            return -1;
    }
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
            s_seg_t *seg = s_find_seg (self, s);
            if (seg && s_seg_present (seg, s))
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
        s_note_lost (self, first, last, lost);
        s_log (self, TX_SPOOL_LOG_ERROR,
               "event=lost records=%" PRIu64 " seqs=%" PRIu64 "-%" PRIu64
               " ranges=%" PRIu64 " msg=\"records reported durable cannot be"
               " read back (a segment file deleted, or damaged): they are"
               " lost\"", lost, first, last, ranges);
    }
    return 0;
}


/* ---------------------------------------------------------------- open */

/* Scan one segment file, filling seg (open, single-threaded).  On the last
   segment a torn or damaged tail after the last valid record is cut off. */
static int
s_seg_scan (tx_spool_t *self, s_seg_t *seg, int fd, bool is_last,
            uint64_t next_base, s_reader_t *r, char *err, size_t errlen)
{
    char name[64];
    struct stat sb;
    s_seg_name (seg->base, "log", name, sizeof name);
    if (fstat (fd, &sb)) {
        s_set_err (err, errlen, "spool %s: stat %s: %s", self->dir, name,
                   strerror (errno));
        return -1;
    }
    uint64_t size = (uint64_t) sb.st_size;
    seg->fsize = size;
    seg->bare = size == SEG_HDR;
    seg->end = SEG_HDR;
    s_reader_reset (r, fd, size);
    r->blen = 0;

    int rc = 0;
    const unsigned char *h = s_reader_get (r, 0, SEG_HDR, true, &rc);
    if (!h && rc == S_IOERR) {
        s_set_err (err, errlen, "spool %s: read %s: %s", self->dir, name,
                   strerror (errno));
        return -1;
    }
    if (!h || memcmp (h, SEG_MAGIC, 8) || s_get32 (h + 28) != s_crc32c (h, 28)
    ||  s_get64 (h + 16) != seg->base) {
        /* Records carry their own checks; the name gives the base */
        s_log (self, TX_SPOOL_LOG_WARN, "event=bad-segment-header segment=%s",
               name);
        seg->badhdr = true;
        self->st.damaged++;
        self->st.damaged_bytes += size < SEG_HDR ? size : SEG_HDR;
    }

    uint64_t off = SEG_HDR, valid_end = SEG_HDR, prev = seg->base - 1;
    uint64_t dmg = 0, dmg_bytes = 0;        /* since the last valid record */
    uint64_t tdmg = 0, tdmg_bytes = 0;      /* committed */
    if (size < SEG_HDR)
        off = size;
    for (;;) {
        s_rec_t rec;
        rc = s_next (r, off, true, &rec);
        if (rc == S_END)
            break;
        if (rc == S_IOERR) {
            s_set_err (err, errlen, "spool %s: read %s: %s", self->dir, name,
                       strerror (errno));
            return -1;
        }
        if (rc == S_REC && rec.seq > prev && rec.seq >= seg->base
        &&  (next_base == 0 || rec.seq < next_base)) {
            if (s_seg_reserve (seg, rec.seq)) {
                s_set_err (err, errlen, "spool %s: out of memory", self->dir);
                return -1;
            }
            s_seg_add (seg, rec.seq);
            prev = rec.seq;
            tdmg += dmg;
            tdmg_bytes += dmg_bytes;
            dmg = dmg_bytes = 0;
            valid_end = rec.off + rec.size;
        }
        else {
            dmg++;              /* S_BADREC, S_BADREGION, S_TAIL, bad seq */
            dmg_bytes += rec.size;
        }
        off = rec.off + rec.size;
        if (rc == S_TAIL)
            break;
    }
    seg->end = valid_end;
    if (is_last && valid_end < size) {
        if (ftruncate (fd, (off_t) valid_end) || fdatasync (fd)) {
            s_set_err (err, errlen, "spool %s: cannot cut the torn tail of %s: %s",
                       self->dir, name, strerror (errno));
            return -1;
        }
        s_log (self, TX_SPOOL_LOG_WARN,
               "event=torn-tail segment=%s offset=%" PRIu64 " bytes=%" PRIu64,
               name, valid_end, size - valid_end);
        self->st.truncated_bytes += size - valid_end;
        seg->fsize = valid_end;
    }
    else {
        tdmg += dmg;
        tdmg_bytes += dmg_bytes;
    }
    if (tdmg) {
        s_log (self, TX_SPOOL_LOG_WARN,
               "event=damaged segment=%s regions=%" PRIu64 " bytes=%" PRIu64
               " msg=\"skipped; records in them are lost\"", name, tdmg,
               tdmg_bytes);
        self->st.damaged += tdmg;
        self->st.damaged_bytes += tdmg_bytes;
    }
    return 0;
}

static int
s_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

/* Take the lock file; -1 with err set */
static int
s_lock (tx_spool_t *self, char *err, size_t errlen)
{
    char path[4096];
    s_path (self, "LOCK", path, sizeof path);
    self->lockfd = s_openat (self, "LOCK", O_RDWR | O_CREAT, err, errlen);
    if (self->lockfd < 0)
        return -1;
    if (flock (self->lockfd, LOCK_EX | LOCK_NB)) {
        int e = errno;
        if (e != EWOULDBLOCK) {
            s_set_err (err, errlen, "spool %s: cannot lock %s: %s", self->dir,
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
            s_set_err (err, errlen, "spool %s is in use by pid %ld", self->dir, pid);
        else
            s_set_err (err, errlen, "spool %s is in use by another process",
                       self->dir);
        errno = EBUSY;
        return -1;
    }
    char buf[32];
    int n = snprintf (buf, sizeof buf, "%ld\n", (long) getpid ());
    if (ftruncate (self->lockfd, 0) || s_pwrite_all (self->lockfd, buf, (size_t) n, 0))
        s_log (self, TX_SPOOL_LOG_WARN, "event=lockfile-write-failed error=\"%s\"",
               strerror (errno));
    return 0;
}

/* Load segments and acks; set up the active segment (open only). */
static int
s_recover (tx_spool_t *self, char *err, size_t errlen)
{
    s_ranges_t done = { 0 };    /* seqs the ack log says are done */
    uint64_t *bases = NULL;
    size_t nbases = 0, capb = 0;
    int rc = -1, fd = -1;
    s_reader_t r;
    s_reader_init (&r, MAX_MAX_RECORD);

    int lfd = openat (self->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = lfd >= 0 ? fdopendir (lfd) : NULL;
    if (!d) {
        s_set_err (err, errlen, "spool %s: %s", self->dir, strerror (errno));
        if (lfd >= 0)
            close (lfd);
        return -1;
    }
    struct dirent *de;
    while ((de = readdir (d))) {
        const char *n = de->d_name;
        size_t l = strlen (n);
        if (l > 4 && strcmp (n + l - 4, ".tmp") == 0
        &&  (strncmp (n, "seg-", 4) == 0 || strcmp (n, "acks.tmp") == 0)) {
            unlinkat (self->dirfd, n, 0);
            continue;
        }
        uint64_t base;
        if (l == 24 && strncmp (n, "seg-", 4) == 0 && strcmp (n + 20, ".log") == 0
        &&  strspn (n + 4, "0123456789abcdef") == 16
        &&  (base = strtoull (n + 4, NULL, 16)) > 0) {
            if (nbases == capb) {
                capb = capb ? capb * 2 : 64;
                uint64_t *p = realloc (bases, capb * sizeof *p);
                if (!p) {
                    closedir (d);
                    goto nomem;
                }
                bases = p;
            }
            bases[nbases++] = base;
        }
    }
    closedir (d);
    if (nbases)
        qsort (bases, nbases, sizeof *bases, s_cmp_u64);

    for (size_t i = 0; i < nbases; i++) {
        bool is_last = i + 1 == nbases;
        char name[64];
        s_seg_name (bases[i], "log", name, sizeof name);
        fd = s_openat (self, name, is_last ? O_RDWR : O_RDONLY, err, errlen);
        if (fd < 0)
            goto done;
        s_seg_t *seg = s_seg_new (bases[i]);
        if (!seg || s_segs_push (self, seg)) {
            s_seg_free (&seg);
            goto nomem;
        }
        if (s_seg_scan (self, seg, fd, is_last, is_last ? 0 : bases[i + 1], &r,
                        err, errlen))
            goto done;
        self->bytes += seg->fsize;
        if (is_last) {
            self->wfd = fd;
            fd = -1;
        }
        else {
            close (fd);
            fd = -1;
        }
    }

    /* Acknowledgements */
    uint64_t max_seq = 0, durable = 0;
    int afd = s_openat (self, "acks", O_RDONLY, err, errlen);
    if (afd >= 0) {
        struct stat sb;
        unsigned char *buf = NULL;
        size_t len = 0;
        if (fstat (afd, &sb) == 0 && sb.st_size > 0) {
            len = (size_t) sb.st_size;
            buf = malloc (len);
            if (!buf) {
                close (afd);
                goto nomem;
            }
            size_t got = 0;
            while (got < len) {
                ssize_t k = pread (afd, buf + got, len - got, (off_t) got);
                if (k < 0 && errno == EINTR)
                    continue;
                if (k <= 0)
                    break;
                got += (size_t) k;
            }
            len = got;
        }
        close (afd);
        int rrc = s_ack_replay (self, buf, len, &max_seq, &durable, &done);
        free (buf);
        if (rrc)
            goto nomem;
    }
    else if (errno != ENOENT)
        goto done;
    else if (nbases)
        s_log (self, TX_SPOOL_LOG_WARN, "event=ack-log-missing msg=\"segments"
               " without an ack log: acknowledged records may be sent again, and"
               " records lost before this open cannot be counted\"");
    if (s_find_lost (self, &done, durable))
        goto nomem;

    /* Sequence numbers are never reused for anything an ack could name */
    self->next_seq = 1;
    if (max_seq + 1 > self->next_seq)
        self->next_seq = max_seq + 1;
    s_seg_t *last = s_active (self);
    if (last && last->base > self->next_seq)
        self->next_seq = last->base;
    if (last && last->last + 1 > self->next_seq)
        self->next_seq = last->last + 1;

    /* A fully acknowledged newest segment must not keep its space: it may
       be what filled the file system.  Cut it back to its header, then
       start a fresh segment at next_seq; the emptied one is deleted with
       the other fully acknowledged segments (tx_spool_open).  The cut
       comes first, since without it a full file system has no room for
       the new file; if that cannot be made, the emptied one stays active. */
    if (last && s_reclaimable (self)) {
        if (s_cut_active (self) == 0) {
            s_seg_t *seg = s_seg_new (self->next_seq);
            if (!seg || s_segs_push (self, seg)) {
                s_seg_free (&seg);
                goto nomem;
            }
            int wfd = s_create_segment (self, self->next_seq);
            if (wfd >= 0) {
                close (self->wfd);
                self->wfd = wfd;
                self->bytes += SEG_HDR;
            }
            else {
                self->nsegs--;
                s_seg_free (&seg);
            }
        }
        else
            s_log (self, TX_SPOOL_LOG_WARN, "event=reclaim-failed error=\"%s\"",
                   strerror (errno));
    }
    last = s_active (self);

    /* An unusable last segment (no valid records, and either a bad header
       or shorter than one) is replaced. */
    if (last && last->nrec == 0 && last->fsize <= SEG_HDR) {
        unsigned char hdr[SEG_HDR];
        ssize_t k = pread (self->wfd, hdr, SEG_HDR, 0);
        unsigned char want[SEG_HDR];
        s_seg_header (want, last->base);
        if (k != SEG_HDR || memcmp (hdr, want, SEG_HDR)) {
            char name[64];
            s_seg_name (last->base, "log", name, sizeof name);
            unlinkat (self->dirfd, name, 0);
            close (self->wfd);
            self->wfd = -1;
            self->bytes -= last->fsize;
            self->nsegs--;
            s_seg_free (&last);
        }
    }
    if (!s_active (self)) {
        s_seg_t *seg = s_seg_new (self->next_seq);
        if (!seg || s_segs_push (self, seg)) {
            s_seg_free (&seg);
            goto nomem;
        }
        self->wfd = s_create_segment (self, self->next_seq);
        if (self->wfd < 0) {
            s_set_err (err, errlen, "spool %s: cannot create a segment: %s",
                       self->dir, strerror (errno));
            goto done;
        }
        self->bytes += SEG_HDR;
    }
    s_seg_t *act = s_active (self);
    self->durable_seq = self->next_seq - 1;
    self->durable_off = self->written_off = act->fsize;
    rc = 0;
    goto done;
nomem:
    s_set_err (err, errlen, "spool %s: out of memory", self->dir);
done:
    if (fd >= 0)
        close (fd);
    free (bases);
    free (done.v);
    free (r.buf);
    return rc;
}

tx_spool_t *
tx_spool_open (const char *dir, const tx_spool_opts_t *opts, char *err,
               size_t errlen)
{
    if (!dir || !*dir || strlen (dir) > 3000) {
        s_set_err (err, errlen, "spool: no directory given, or its name is too long");
        return NULL;
    }
    tx_spool_opts_t o = { 0 };
    if (opts)
        o = *opts;
    if (!o.cap_bytes)
        o.cap_bytes = DEF_CAP;
    if (o.cap_bytes < MIN_CAP) {
        s_set_err (err, errlen, "spool %s: cap_bytes %" PRIu64 " is below %d",
                   dir, o.cap_bytes, MIN_CAP);
        return NULL;
    }
    if (!o.segment_bytes)
        o.segment_bytes = o.cap_bytes / 4 < DEF_SEGMENT ? o.cap_bytes / 4
                                                        : DEF_SEGMENT;
    if (!o.max_record)
        o.max_record = DEF_MAX_RECORD;
    if (o.max_record > MAX_MAX_RECORD || o.fsync_ms < 0 || o.ack_sync_ms < -1) {
        s_set_err (err, errlen, "spool %s: bad option (max_record, fsync_ms or ack_sync_ms)",
                   dir);
        return NULL;
    }
    if (!o.ack_sync_ms)
        o.ack_sync_ms = DEF_ACK_SYNC_MS;

    tx_spool_t *self = calloc (1, sizeof *self);
    if (!self || !(self->dir = strdup (dir))) {
        free (self);
        s_set_err (err, errlen, "spool %s: out of memory", dir);
        return NULL;
    }
    /* "spool/" would follow a symbolic link "spool": open "spool" */
    for (size_t l = strlen (self->dir); l > 1 && self->dir[l - 1] == '/'; l--)
        self->dir[l - 1] = 0;
    self->opts = o;
    self->dirfd = self->lockfd = self->wfd = self->ackfd = -1;
    self->mark_cap = UINT64_MAX;
    s_reader_init (&self->rd, MAX_MAX_RECORD);
    pthread_condattr_t ca;
    pthread_condattr_init (&ca);
    pthread_condattr_setclock (&ca, CLOCK_MONOTONIC);
    pthread_cond_init (&self->cond, &ca);
    pthread_condattr_destroy (&ca);
    pthread_mutex_init (&self->mtx, NULL);
    pthread_mutex_init (&self->ack_mtx, NULL);
    pthread_mutex_init (&self->rd_mtx, NULL);

    if ((self->dirfd = s_open_dir (self->dir, err, errlen)) < 0)
        goto fail;
    if (s_lock (self, err, errlen) || s_recover (self, err, errlen))
        goto fail;

    /* Drop what is fully acknowledged, then start a fresh ack log */
    s_seg_t **dead;
    size_t ndead = s_collect_dead (self, &dead);
    if (ndead)
        s_drop_segs (self, dead, ndead);
    self->ack_compact_at = ACK_COMPACT_MIN;
    if (s_ack_compact (self)) {
        char why[512];
        self->ackfd = s_openat (self, "acks", O_RDWR | O_CREAT, why, sizeof why);
        struct stat sb;
        if (self->ackfd >= 0 && fstat (self->ackfd, &sb) == 0)
            self->ack_off = (uint64_t) sb.st_size / ACK_ENT * ACK_ENT;
        else if (self->ackfd < 0 && errno == EPERM) {
            /* not ours after all: refuse, as at open */
            s_set_err (err, errlen, "%s", why);
            goto fail;
        }
        else
            s_log (self, TX_SPOOL_LOG_ERROR, "event=ack-log-unusable error=\"%s\"",
                   strerror (errno));
    }
    s_log (self, TX_SPOOL_LOG_INFO,
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
            s_repair (self);    /* best effort: cut off what was refused */
        else if (self->next_seq - 1 > self->durable_seq)
            s_lead (self);
        pthread_mutex_unlock (&self->mtx);
    }
    if (self->ackfd >= 0) {
        /* the acks, and an exact durable mark: a reopen finds any record
           that disappears from now on */
        if (self->wfd >= 0) {
            pthread_mutex_lock (&self->ack_mtx);
            s_ack_mark_locked (self, UINT64_MAX, 0);
            pthread_mutex_unlock (&self->ack_mtx);
        }
        else if (self->ack_dirty && fdatasync (self->ackfd))
            s_log (self, TX_SPOOL_LOG_ERROR, "event=ack-sync-failed error=\"%s\"",
                   strerror (errno));
        close (self->ackfd);
    }
    /* Everything delivered: give the active segment's space back now
       (open would, but only if the ack log could be written) */
    if (self->wfd >= 0) {
        pthread_mutex_lock (&self->mtx);
        if (!self->broken && s_reclaimable (self) && s_cut_active (self))
            s_log (self, TX_SPOOL_LOG_WARN, "event=reclaim-failed error=\"%s\"",
                   strerror (errno));
        pthread_mutex_unlock (&self->mtx);
    }
    for (size_t i = 0; i < self->nsegs; i++)
        s_seg_free (&self->segs[i]);
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

int
tx_spool_put (tx_spool_t *self, const void *rec, size_t len, uint64_t *seq_out)
{
    if (!self || !rec || len == 0 || len > self->opts.max_record)
        return TX_SPOOL_ERR;
    size_t rsize = s_rec_size (len);
    if (rsize + 2 * SEG_HDR > self->opts.cap_bytes)
        return TX_SPOOL_ERR;        /* could never fit */
    uint32_t dcrc = s_crc32c (rec, len);
    s_seg_t **dead = NULL;
    size_t ndead = 0;
    int rc = TX_SPOOL_OK;
    bool retried = false;

    pthread_mutex_lock (&self->mtx);
    for (;;) {
        if (self->rotating) {
            pthread_cond_wait (&self->cond, &self->mtx);
            continue;
        }
        if (self->broken) {
            if ((rc = s_repair (self)) != TX_SPOOL_OK)
                break;
            continue;
        }
        s_seg_t *act = s_active (self);
        bool rotate = act->fsize > SEG_HDR
                   && act->fsize + rsize > self->opts.segment_bytes;
        uint64_t need = rsize + (rotate ? SEG_HDR : 0);
        bool over = self->bytes + need > self->opts.cap_bytes;
        if (act->spent || ((over || self->nospace) && s_reclaimable (self))) {
            /* Short of room (the cap, or the file system was full at the
               last write), and the active segment is kept only because
               it is active: give its space back, then delete it.  A spent
               one was given back already, but its rotation failed. */
            if (act->spent)
                rc = s_rotate (self);
            else if ((rc = s_reclaim (self)) > 0)
                rc = TX_SPOOL_OK;       /* nothing to give back after all */
            if (rc != TX_SPOOL_OK)
                break;
            if ((ndead = s_collect_dead (self, &dead))) {
                pthread_mutex_unlock (&self->mtx);
                s_drop_segs (self, dead, ndead);
                pthread_mutex_lock (&self->mtx);
            }
            continue;
        }
        if (over) {
            rc = TX_SPOOL_FULL;
            break;
        }
        if (rotate) {
            if ((rc = s_rotate (self)) != TX_SPOOL_OK)
                break;
            continue;
        }
        uint64_t seq = self->next_seq;
        if (s_seg_reserve (act, seq)) {
            rc = TX_SPOOL_ERR;
            break;
        }
        if (self->pend_len + rsize > self->pend_cap) {
            size_t cap = self->pend_cap ? self->pend_cap : 64 * 1024;
            while (cap < self->pend_len + rsize)
                cap *= 2;
            unsigned char *p = realloc (self->pend, cap);
            if (!p) {
                rc = TX_SPOOL_ERR;
                break;
            }
            self->pend = p;
            self->pend_cap = cap;
        }
        unsigned char *p = self->pend + self->pend_len;
        s_put32 (p, REC_MAGIC);
        s_put32 (p + 4, (uint32_t) len);
        s_put64 (p + 8, seq);
        s_put32 (p + 16, dcrc);
        s_put32 (p + 20, s_crc32c (p, 20));
        memcpy (p + REC_HDR, rec, len);
        memset (p + REC_HDR + len, 0, rsize - REC_HDR - len);
        self->pend_len += rsize;
        if (!self->pend_since)
            self->pend_since = s_now ();
        self->next_seq++;
        s_seg_add (act, seq);
        act->fsize += rsize;
        act->end = act->fsize;
        self->bytes += rsize;
        self->st.appends++;
        if (seq_out)
            *seq_out = seq;
        if (self->pend_len >= PEND_FLUSH) {
            s_flush_pending (self);
            if ((rc = s_failed_code (self, seq, seq)) != TX_SPOOL_OK) {
                if (self->broken)
                    s_repair (self);    /* before saying so, as s_wait */
                /* The file system filled up: once more if acknowledged
                   space can be given back (the loop does that first) */
                if (rc == TX_SPOOL_FULL && !retried && !self->broken
                &&  s_reclaimable (self)) {
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
    int rc = last_seq ? s_wait (self, first_seq, last_seq) : TX_SPOOL_OK;
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
        rc = s_wait (self, seq, seq);
        /* The file system filled up under this record: once more if
           acknowledged space can be given back (put does that first) */
        bool again = rc == TX_SPOOL_FULL && attempt == 0 && !self->broken
                  && s_reclaimable (self);
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
s_unpin (tx_spool_t *self, s_seg_t *seg)
{
    if (--seg->pins == 0 && seg->dead) {
        if (self->rd_seg == seg)
            self->rd_seg = NULL;
        s_seg_free (&seg);
    }
}

/* A read met damage in seg (known from open, or new because the medium
   changed): rescan it and forget stored records that are no longer
   readable, so that the segment can still be freed.  Called with mtx and
   seg pinned with its rfd open; drops mtx while reading. */
static void
s_seg_verify (tx_spool_t *self, s_seg_t *seg)
{
    s_reader_t r;
    s_reader_init (&r, MAX_MAX_RECORD);
    uint64_t *found = NULL;
    size_t nfound = 0, cap = 0;
    bool active = seg == s_active (self);
    uint64_t end = active ? self->durable_off : seg->end;
    uint64_t hi = active && self->durable_seq < seg->last ? self->durable_seq
                                                          : seg->last;
    int fd = seg->rfd;
    seg->suspect = false;
    pthread_mutex_unlock (&self->mtx);

    s_reader_reset (&r, fd, end);
    uint64_t off = SEG_HDR;
    bool ok = true;
    for (;;) {
        s_rec_t rec;
        int rc = s_next (&r, off, true, &rec);
        if (rc == S_END || rc == S_TAIL)
            break;
        if (rc == S_IOERR) {
            ok = false;
            break;
        }
        if (rc == S_REC) {
            if (nfound == cap) {
                cap = cap ? cap * 2 : 1024;
                uint64_t *p = realloc (found, cap * sizeof *p);
                if (!p) {
                    ok = false;
                    break;
                }
                found = p;
            }
            found[nfound++] = rec.seq;
        }
        off = rec.off + rec.size;
    }
    free (r.buf);

    pthread_mutex_lock (&self->mtx);
    if (ok && !seg->dead) {
        if (nfound)
            qsort (found, nfound, sizeof *found, s_cmp_u64);
        uint64_t lost = 0, first = 0, last = 0;
        for (uint64_t s = seg->base; s <= hi; s++)
            if (s_seg_present (seg, s)
            &&  (!nfound || !bsearch (&s, found, nfound, sizeof *found, s_cmp_u64))) {
                s_seg_lose (seg, s);
                if (!lost)
                    first = s;
                last = s;
                lost++;
            }
        if (lost) {
            char name[64];
            s_seg_name (seg->base, "log", name, sizeof name);
            self->st.damaged += lost;
            s_note_lost (self, first, last, lost);
            /* done from now on: a reopen must not report them again */
            for (uint64_t s = first, lo = 0; s <= last + 1; s++) {
                bool gone = s <= last && !s_seg_present (seg, s);
                if (gone && !lo)
                    lo = s;
                else if (!gone && lo) {
                    s_settle (self, lo, s - 1);
                    lo = 0;
                }
            }
            s_log (self, TX_SPOOL_LOG_ERROR,
                   "event=lost segment=%s records=%" PRIu64 " seqs=%" PRIu64
                   "-%" PRIu64 " msg=\"damaged after open: these durable"
                   " records cannot be read back and are lost\"", name, lost,
                   first, last);
        }
    }
    free (found);
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

int
tx_spool_read (tx_spool_t *self, uint64_t after, tx_spool_rec_t *recs, size_t max)
{
    if (!self || !recs || !max)
        return TX_SPOOL_ERR;
    if (max > INT32_MAX)
        max = INT32_MAX;
    int result = 0;
    size_t n = 0;
    pthread_mutex_lock (&self->rd_mtx);
    pthread_mutex_lock (&self->mtx);

    /* Where to start: the cursor of the previous call, or a search */
    ssize_t idx = -1;
    uint64_t off = SEG_HDR;
    if (self->rd_valid) {
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
        ssize_t i = hit ? s_find_index (self, self->rd_base) : -1;
        if (i >= 0 && self->segs[i]->base == self->rd_base) {
            idx = i;
            off = at;
        }
    }
    if (idx < 0)
        idx = s_read_search (self, after);
    self->rd_valid = false;
    self->rd_n = 0;
    if (max > self->rd_cap) {
        uint64_t *a = realloc (self->rd_seqs, max * sizeof *a);
        if (a)
            self->rd_seqs = a;
        uint64_t *b = a ? realloc (self->rd_ends, max * sizeof *b) : NULL;
        if (b)
            self->rd_ends = b;
        if (!a || !b) {
            pthread_mutex_unlock (&self->mtx);
            pthread_mutex_unlock (&self->rd_mtx);
            return TX_SPOOL_ERR;
        }
        self->rd_cap = max;
    }

    while (idx >= 0 && (size_t) idx < self->nsegs) {
        s_seg_t *seg = self->segs[idx];
        bool active = seg == s_active (self);
        uint64_t end = active ? self->durable_off : seg->end;
        if (off >= end && !seg->suspect) {
            if (active)
                break;
            idx++;
            off = SEG_HDR;
            continue;
        }
        if (self->rd_seg != seg) {
            /* keep one read fd open: the cursor's */
            if (self->rd_seg && self->rd_seg->pins == 0 && self->rd_seg->rfd >= 0) {
                close (self->rd_seg->rfd);
                self->rd_seg->rfd = -1;
            }
            self->rd_seg = seg;
            self->rd.fd = -1;
        }
        if (seg->rfd < 0) {
            char name[64], why[512];
            s_seg_name (seg->base, "log", name, sizeof name);
            seg->rfd = s_openat (self, name, O_RDONLY, why, sizeof why);
            if (seg->rfd < 0) {
                s_log (self, TX_SPOOL_LOG_ERROR,
                       "event=read-open-failed segment=%s error=\"%s\"", name,
                       why);
                result = TX_SPOOL_EIO;
                break;
            }
        }
        seg->pins++;
        int fd = seg->rfd;
        uint64_t base = seg->base;
        pthread_mutex_unlock (&self->mtx);

        /* Parse without mtx: bytes below end never change.  Records of
           one call all come from one buffer fill, so their pointers stay
           valid together. */
        s_reader_reset (&self->rd, fd, end);
        bool suspect = false, ioerr = false;
        while (n < max) {
            s_rec_t rec;
            int rc = s_next (&self->rd, off, n == 0, &rec);
            if (rc == S_END || rc == S_AGAIN)
                break;
            if (rc == S_IOERR) {
                ioerr = true;
                break;
            }
            if (rc != S_REC) {
                if (n)
                    break;      /* deal with it first thing next call */
                suspect = true;
            }
            else if (rec.seq > after) {
                recs[n].seq = rec.seq;
                recs[n].data = rec.data;
                recs[n].len = rec.len;
                self->rd_ends[n] = rec.off + rec.size;
                n++;
            }
            off = rec.off + rec.size;
        }
        int err = errno;

        pthread_mutex_lock (&self->mtx);
        if (suspect)
            seg->suspect = true;
        if (seg->suspect && off >= end && !seg->dead && !ioerr)
            s_seg_verify (self, seg);
        /* Keep only stored, unacknowledged records */
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!seg->dead && s_seg_present (seg, recs[i].seq)
            &&  !s_seg_acked (seg, recs[i].seq)) {
                self->rd_seqs[k] = recs[i].seq;
                self->rd_ends[k] = self->rd_ends[i];
                recs[k++] = recs[i];
            }
        n = k;
        bool dead = seg->dead;
        s_unpin (self, seg);
        if (ioerr) {
            s_log (self, TX_SPOOL_LOG_ERROR, "event=read-failed error=\"%s\"",
                   strerror (err));
            n = 0;
            result = TX_SPOOL_EIO;
            break;
        }
        if (dead) {             /* fully acknowledged meanwhile */
            idx = s_read_search (self, after);
            off = SEG_HDR;
            continue;
        }
        self->rd_valid = true;
        self->rd_key = n ? recs[n - 1].seq : after;
        self->rd_base = base;
        self->rd_off = off;
        self->rd_n = n;
        if (n)
            break;
    }
    pthread_mutex_unlock (&self->mtx);
    pthread_mutex_unlock (&self->rd_mtx);
    return result < 0 ? result : (int) n;
}


/* ---------------------------------------------------------------- ack */

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
    uint64_t run = 0, count = 0, newly = 0;

    pthread_mutex_lock (&self->mtx);
    for (size_t i = 0; i < n; i++) {
        uint64_t seq = seqs[i];
        if (seq == 0 || seq > self->durable_seq)
            continue;
        s_seg_t *seg = s_find_seg (self, seq);
        if (!seg || !s_seg_ack (seg, seq))
            continue;
        newly++;
        if (count && seq == run + count && count < UINT32_MAX) {
            count++;
            continue;
        }
        if (count)
            s_ack_entry (ents + ACK_ENT * nents++, ACK_RANGE, run, (uint32_t) count);
        run = seq;
        count = 1;
    }
    if (count)
        s_ack_entry (ents + ACK_ENT * nents++, ACK_RANGE, run, (uint32_t) count);
    self->st.acked += newly;
    s_seg_t **dead = NULL;
    size_t ndead = newly ? s_collect_dead (self, &dead) : 0;
    bool nospace = newly && self->nospace;
    pthread_mutex_unlock (&self->mtx);

    int rc = (int) (newly > INT32_MAX ? INT32_MAX : newly);
    bool written = true;
    if (nents) {
        pthread_mutex_lock (&self->ack_mtx);
        written = s_ack_write (self, ents, nents * ACK_ENT) == 0;
        pthread_mutex_unlock (&self->ack_mtx);
    }
    if (ndead)
        s_drop_segs (self, dead, ndead);

    /* While the file system is full, give the space of a now fully
       acknowledged active segment back at once, not only at the next
       put: the ack log and other programs need it too.  An ack-log
       write that failed for lack of room is tried once more after. */
    if (nospace) {
        pthread_mutex_lock (&self->mtx);
        bool freed = false;
        if (self->nospace && !self->rotating && s_reclaimable (self)
        &&  s_reclaim (self) == TX_SPOOL_OK) {
            freed = true;
            ndead = s_collect_dead (self, &dead);
        }
        else
            ndead = 0;
        pthread_mutex_unlock (&self->mtx);
        if (ndead)
            s_drop_segs (self, dead, ndead);
        if (freed && !written) {
            pthread_mutex_lock (&self->ack_mtx);
            written = s_ack_write (self, ents, nents * ACK_ENT) == 0;
            pthread_mutex_unlock (&self->ack_mtx);
        }
    }
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
        s_set_err (err, errlen, "spool: bad file name");
        errno = EINVAL;
        return -1;
    }
    return s_openat (self, name, flags & (O_ACCMODE | O_APPEND | O_CREAT | O_TRUNC),
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
