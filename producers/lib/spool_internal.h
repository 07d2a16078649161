/*  spool_internal.h -- what the spool's own files share; not for callers.

    The public contract is spool.h.  This header holds the on-disk format
    constants, the spool's state (struct tx_spool_t) and the functions
    one spool file offers the others.  Each file's one job:

        spool.c          the tx_spool_* API: open, close, put, sync,
                         append, read, ack, stats
        spool_commit.c   the write path: group commit, failures and
                         repair, rotation and reclaim of the active segment
        spool_segment.c  segments: seq bitmaps, the segment list, the
                         segment file (name, header, create, cut back)
        spool_reader.c   the record format: encode, and read with resync
        spool_acklog.c   the ack log: entries, durable mark, snapshot,
                         compaction, replay
        spool_recover.c  recovery at open, and rescan of a segment a read
                         found damaged
        spool_trust.c    which files the spool trusts; opening them
        spool_file.c     whole writes, directory fsync, atomic replacement
        spool_crc32c.c   CRC-32C

    Directory:
        LOCK                      flock()ed while open; holds the owner's pid
        seg-<16 hex digits>.log   segments, named by their first sequence number
        acks                      acknowledgement log (fixed 24-byte entries)
        *.tmp                     files being created; removed by open

    Locks, always taken in this order: rd_mtx (one reader at a time) or
    ack_mtx (the ack log file), then mtx (everything else).  No file I/O
    that can take long is done under mtx except segment rotation.  Each
    function below says which lock it expects.

    Ownership: a tx_spool_seg_t belongs to the spool's segs list, or, once
    taken out (tx_spool_collect_dead), to whoever holds it until
    tx_spool_seg_free; a reader's buffer belongs to the reader.
*/
#ifndef TX_SPOOL_INTERNAL_H_INCLUDED
#define TX_SPOOL_INTERNAL_H_INCLUDED

#include "spool.h"
#include "spool_crc32c.h"

#include <endian.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

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

/* Result of parsing at an offset (tx_spool_reader_next) */
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
} tx_spool_range_t;

/* A growing list of seq ranges (open) */
typedef struct {
    tx_spool_range_t *v;
    size_t n, cap;
} tx_spool_ranges_t;

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
    bool spent;             /* cut back by tx_spool_reclaim: takes no more records */
    bool badhdr;            /* open found its header damaged */
    bool bare;              /* open found the file holding only its header
                               (not made so by cutting a torn tail) */
} tx_spool_seg_t;

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
} tx_spool_reader_t;

typedef struct {
    uint64_t off;           /* offset of the record or region */
    uint64_t size;          /* bytes it occupies on disk */
    uint64_t seq;           /* S_REC, S_BADREC */
    uint32_t len;           /* payload bytes */
    const unsigned char *data;  /* payload, inside the reader's buffer */
} tx_spool_item_t;

struct tx_spool_t {
    char *dir;                  /* spool directory */
    int dirfd;                  /* for fsync of the directory */
    int lockfd;                 /* LOCK, flock()ed */
    tx_spool_opts_t opts;       /* with defaults filled in */
    pthread_mutex_t mtx;        /* everything below unless noted */
    pthread_cond_t cond;        /* durability, syncing, rotating changes */

    tx_spool_seg_t **segs;             /* oldest first; the last one is active */
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
    tx_spool_range_t failed[MAX_FAILED];   /* seqs lost to I/O errors */
    tx_spool_range_t settled[MAX_SETTLED]; /* exact ranges of seqs done without
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
    tx_spool_reader_t rd;              /* read window (tx_spool_rec_t data) */
    tx_spool_seg_t *rd_seg;            /* segment whose rfd rd uses (under mtx) */
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


/* ---------------------------------------------------------------- little helpers */

static inline void
tx_le_put32 (unsigned char *p, uint32_t v)
{
    v = htole32 (v);
    memcpy (p, &v, 4);
}

static inline void
tx_le_put64 (unsigned char *p, uint64_t v)
{
    v = htole64 (v);
    memcpy (p, &v, 8);
}

static inline uint32_t
tx_le_get32 (const unsigned char *p)
{
    uint32_t v;
    memcpy (&v, p, 4);
    return le32toh (v);
}

static inline uint64_t
tx_le_get64 (const unsigned char *p)
{
    uint64_t v;
    memcpy (&v, p, 8);
    return le64toh (v);
}

/* Monotonic nanoseconds */
static inline uint64_t
tx_spool_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* Bytes a record of len payload bytes occupies in a segment */
static inline size_t
tx_spool_rec_size (size_t len)
{
    return REC_HDR + ((len + 7) & ~(size_t) 7);
}


/* ---------------------------------------------------------------- spool.c */

/* Format into err (may be NULL) */
void tx_spool_set_err (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* One log line through opts.log, or on stderr */
void tx_spool_log (tx_spool_t *self, int level, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));


/* ---------------------------------------------------------------- spool_trust.c */

/* The spool directory, created (0700) if missing, opened without
   following a symbolic link and only if trusted; fd or -1 with err. */
int tx_spool_trust_dir (const char *dir, char *err, size_t errlen);
/* NAME in the spool directory, through dirfd, never through a symbolic
   link, only if trusted; new files get mode 0600.  fd, or -1 with errno
   (EPERM: not trusted) and the reason in err. */
int tx_spool_trust_open (tx_spool_t *self, const char *name, int flags,
                         char *err, size_t errlen);
/* tx_spool_trust_open of a file that must be new: any old one is
   unlinked first, then NAME is created exclusively, O_RDWR. */
int tx_spool_trust_create (tx_spool_t *self, const char *name, char *err,
                           size_t errlen);


/* ---------------------------------------------------------------- spool_file.c */

/* pwrite all n bytes at off; 0 or -1 with errno */
int tx_spool_pwrite_all (int fd, const void *buf, size_t n, uint64_t off);
/* fsync the spool directory; logs a failure; 0 or -1 with errno */
int tx_spool_fsync_dir (tx_spool_t *self);
/* Replace NAME atomically by a file holding buf[0..len): TMPNAME created
   anew (tx_spool_trust_create), written, fdatasynced, renamed over NAME,
   then the directory fsynced.  Returns the new file's fd (O_RDWR), or -1
   with errno, *what the step that failed ("open", "write", "fdatasync",
   "rename", "fsync-dir") and, when the open failed, its reason in why;
   TMPNAME is then removed.  A failed directory fsync is a failure only
   when dir_sync_required (NAME is then unlinked again); otherwise the
   fd is returned anyway. */
int tx_spool_write_atomic (tx_spool_t *self, const char *tmpname,
                           const char *name, const void *buf, size_t len,
                           bool dir_sync_required, const char **what,
                           char *why, size_t whylen);


/* ---------------------------------------------------------------- spool_segment.c */

/* "seg-<base in 16 hex digits>.<ext>" */
void tx_spool_seg_name (uint64_t base, const char *ext, char *buf, size_t size);
/* A segment holding nothing from base; NULL on no memory */
tx_spool_seg_t *tx_spool_seg_new (uint64_t base);
/* Close its rfd and free it; sets *seg_p to NULL */
void tx_spool_seg_free (tx_spool_seg_t **seg_p);
/* Room in both bitmaps for seq; 0 or -1 (no memory) */
int tx_spool_seg_reserve (tx_spool_seg_t *seg, uint64_t seq);
bool tx_spool_seg_present (const tx_spool_seg_t *seg, uint64_t seq);
bool tx_spool_seg_acked (const tx_spool_seg_t *seg, uint64_t seq);
/* seq is stored (room reserved) */
void tx_spool_seg_add (tx_spool_seg_t *seg, uint64_t seq);
/* seq is no longer stored (damage, I/O error) */
void tx_spool_seg_lose (tx_spool_seg_t *seg, uint64_t seq);
/* Acknowledge seq; true if it was stored and not yet acknowledged */
bool tx_spool_seg_ack (tx_spool_seg_t *seg, uint64_t seq);
/* The active (newest) segment, NULL if none (mtx) */
tx_spool_seg_t *tx_spool_active (tx_spool_t *self);
/* Index of the segment that may hold seq, or -1 (mtx) */
ssize_t tx_spool_find_index (tx_spool_t *self, uint64_t seq);
tx_spool_seg_t *tx_spool_find_seg (tx_spool_t *self, uint64_t seq);
/* Append seg to the list; 0 or -1 (no memory) */
int tx_spool_segs_push (tx_spool_t *self, tx_spool_seg_t *seg);
/* Take fully acknowledged segments but the active one out of the list
   (mtx); the caller owns *dead and passes it to tx_spool_drop_segs. */
size_t tx_spool_collect_dead (tx_spool_t *self, tx_spool_seg_t ***dead);
/* Unlink them, fsync the directory, free what no reader pins (no lock) */
void tx_spool_drop_segs (tx_spool_t *self, tx_spool_seg_t **dead, size_t n);
/* The SEG_HDR bytes of a segment file header into p */
void tx_spool_seg_header (unsigned char *p, uint64_t base);
/* Create seg-<base>.log atomically; O_RDWR fd, or -1 with errno */
int tx_spool_seg_create (tx_spool_t *self, uint64_t base);
/* Whether the active segment holds only acknowledged records (mtx) */
bool tx_spool_reclaimable (tx_spool_t *self);
/* Cut the reclaimable active segment back to its header (mtx, nothing
   syncing); 0, or -1 with errno */
int tx_spool_cut_active (tx_spool_t *self);


/* ---------------------------------------------------------------- spool_reader.c */

/* Encode one record (header, payload, zero padding) into p, which has
   tx_spool_rec_size (len) bytes; dcrc is tx_crc32c of the payload */
void tx_spool_rec_encode (unsigned char *p, uint64_t seq, const void *data,
                          size_t len, uint32_t dcrc);
/* An idle reader; larger lengths than max_record are damage */
void tx_spool_reader_init (tx_spool_reader_t *r, uint32_t max_record);
/* Read fd up to end (keeps the window when fd is the same) */
void tx_spool_reader_reset (tx_spool_reader_t *r, int fd, uint64_t end);
/* Bytes [off, off+n), or NULL with *rc 1 (past the end), S_AGAIN or
   S_IOERR */
const unsigned char *tx_spool_reader_get (tx_spool_reader_t *r, uint64_t off,
                                          size_t n, bool refill, int *rc);
/* What is at off: an S_ code; item describes it */
int tx_spool_reader_next (tx_spool_reader_t *r, uint64_t off, bool refill,
                          tx_spool_item_t *item);


/* ---------------------------------------------------------------- spool_commit.c */

/* ENOSPC, EDQUOT, EFBIG: no room */
bool tx_spool_nospace_err (int err);
/* 0, or TX_SPOOL_FULL / TX_SPOOL_EIO when any of lo..hi failed (mtx) */
int tx_spool_failed_code (tx_spool_t *self, uint64_t lo, uint64_t hi);
/* lo..hi are done without an ack: for the next durable mark (mtx) */
void tx_spool_settle (tx_spool_t *self, uint64_t lo, uint64_t hi);
/* Count a failure with errno err; the code a caller sees (mtx) */
int tx_spool_count_failure (tx_spool_t *self, int err);
/* Cut the active segment back to its durable end (mtx) */
int tx_spool_repair (tx_spool_t *self);
/* Write pending records to the kernel now (mtx) */
void tx_spool_flush_pending (tx_spool_t *self);
/* Lead a group commit (mtx held, dropped meanwhile) */
void tx_spool_lead (tx_spool_t *self);
/* Wait until lo..hi are durable (mtx) */
int tx_spool_wait (tx_spool_t *self, uint64_t lo, uint64_t hi);
/* Start a new active segment at next_seq (mtx, !rotating) */
int tx_spool_rotate (tx_spool_t *self);
/* Give back the reclaimable active segment's space (mtx, !rotating) */
int tx_spool_reclaim (tx_spool_t *self);


/* ---------------------------------------------------------------- spool_acklog.c */

/* One ACK_ENT-byte entry into p */
void tx_spool_ack_entry (unsigned char *p, uint32_t kind, uint64_t seq,
                         uint32_t count);
/* Rewrite the log as a snapshot (ack_mtx, not mtx); 0 or -1 */
int tx_spool_ack_compact (tx_spool_t *self);
/* Append entries (ack_mtx); marks and compacts when due; 0 or -1 */
int tx_spool_ack_write (tx_spool_t *self, const unsigned char *ents, size_t len);
/* Write a durable mark and fdatasync (ack_mtx, not mtx); 0 or -1 */
int tx_spool_ack_mark (tx_spool_t *self, uint64_t upto, uint64_t epoch);
/* The leader synced up to upto: mark it when due (no lock) */
void tx_spool_ack_mark_due (tx_spool_t *self, uint64_t upto, uint64_t epoch);
/* Add lo..hi to r; 0 or -1 (no memory) */
int tx_spool_ranges_add (tx_spool_ranges_t *r, uint64_t lo, uint64_t hi);
/* Replay the log's bytes into the segments (open) */
int tx_spool_ack_replay (tx_spool_t *self, const unsigned char *buf,
                         size_t len, uint64_t *max_seq, uint64_t *durable,
                         tx_spool_ranges_t *done);


/* ---------------------------------------------------------------- spool_recover.c */

/* Load segments and acks, set up the active segment (open); 0 or -1
   with err */
int tx_spool_recover (tx_spool_t *self, char *err, size_t errlen);
/* Count lost durable seqs lo..hi, count of them (mtx, or open) */
void tx_spool_note_lost (tx_spool_t *self, uint64_t lo, uint64_t hi,
                         uint64_t count);
/* Rescan seg, which a read found damaged; forget what is unreadable
   (mtx held, dropped meanwhile; seg pinned with its rfd open) */
void tx_spool_seg_verify (tx_spool_t *self, tx_spool_seg_t *seg);

#endif
