/*  spool.h -- tx_spool: the producer's crash-safe on-disk spool.

    An append-only log of opaque records (one msgpack-encoded event each) in
    a directory of segment files, plus a small acknowledgement log.  The
    application appends; the sender thread reads unacknowledged records in
    order and acknowledges what the collector confirmed.  Design, on-disk
    format and recovery rules: docs/spool.md.

    Guarantees
    - A record whose append (or sync) returned TX_SPOOL_OK survives kill -9
      and, with a disk that honours fdatasync, power loss.
    - Nothing is dropped silently: when the size cap would be exceeded, or
      the file system has no room (ENOSPC, EDQUOT, EFBIG), the append
      fails with TX_SPOOL_FULL and stores nothing.  Space comes back as
      records are acknowledged: a segment whose records are all
      acknowledged is deleted, the active one too when room is short, and
      at open and close.
    - Opening never fails because of damaged data: a torn tail is cut off,
      a damaged record elsewhere is skipped, counted and logged once.
    - A durable record that cannot be read back (a segment file deleted,
      bytes damaged) is counted in `lost` and logged with its seq range,
      once; a torn tail is only what was never reported durable.  Exact
      for a spool closed cleanly or run with ack_sync_ms -1; otherwise
      records made durable within the last ack_sync_ms before a crash are
      not yet covered (docs/spool.md section 5).
    - The directory and its files are trusted only if they are the
      process's own (ssh's StrictModes): owned by the effective uid, not
      writable by group or others, no symbolic links, files with one link.
      Otherwise open fails with a message that says what to fix.
    - An acknowledged record is not read again after a restart, except that
      power loss can forget the acknowledgements of roughly the last
      ack_sync_ms (not kill -9: acks reach the kernel before tx_spool_ack
      returns).  Such records are sent again; the collector deduplicates.

    Ownership
    - tx_spool_open returns a spool the caller owns; tx_spool_close(&spool)
      frees it, sets the pointer to NULL and is safe to call twice.
    - Appends copy the record; the spool keeps no caller pointer.
    - tx_spool_read fills caller-owned tx_spool_rec_t slots whose data
      pointers are borrowed from the spool: valid until the next
      tx_spool_read on the same spool, or tx_spool_close.

    Threads
    - Every function except open and close may be called from any number
      of threads at once.  No call may be running when close is called.
    - Appenders that wait for durability share fdatasync calls (group
      commit): the first waiter whose deadline has passed does the sync for
      everyone; there is no background thread.
*/
#ifndef TX_SPOOL_H_INCLUDED
#define TX_SPOOL_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes: 0 is success; every failure is negative.  -1 is the
   generic failure of STYLE.md (bad argument, record too large, no memory);
   the others are distinct so a caller can react to them. */
#define TX_SPOOL_OK     0
#define TX_SPOOL_ERR   -1   /* bad argument, record too large, no memory */
#define TX_SPOOL_FULL  -2   /* cap_bytes reached, or no room on the file
                               system: nothing stored; ack, then retry */
#define TX_SPOOL_EIO   -3   /* I/O error: the record is NOT durable; retry later */

/* Log levels passed to the log callback. */
#define TX_SPOOL_LOG_ERROR 0
#define TX_SPOOL_LOG_WARN  1
#define TX_SPOOL_LOG_INFO  2

/* Log callback: one line, no trailing newline, key=value pairs.  It may
   be called with the spool's locks held: it must not call tx_spool_*. */
typedef void (tx_spool_log_fn) (void *arg, int level, const char *line);

/* Options.  A zeroed struct is valid and means the defaults below. */
typedef struct {
    uint64_t cap_bytes;      /* total bytes of segment files; 0: 1 GiB */
    uint64_t segment_bytes;  /* rotate segments at this size; 0: min(4 MiB, cap/4) */
    uint32_t max_record;     /* largest payload accepted; 0: 1 MiB (max 64 MiB) */
    int fsync_ms;            /* 0: fdatasync before each append returns;
                                N > 0: group commit, one fdatasync at most
                                every N ms shared by all waiting appenders */
    int ack_sync_ms;         /* fdatasync the ack log at most every N ms;
                                0: 1000; -1: on every tx_spool_ack call */
    tx_spool_log_fn *log;    /* NULL: one line per event on stderr */
    void *log_arg;           /* passed to log */
} tx_spool_opts_t;

/* One record returned by tx_spool_read. */
typedef struct {
    uint64_t seq;            /* sequence number, > 0, increasing; gaps are
                                possible (failed appends, damage) */
    const void *data;        /* payload, borrowed (see Ownership) */
    size_t len;              /* payload length in bytes */
} tx_spool_rec_t;

/* Counters and gauges, a snapshot taken under the lock. */
typedef struct {
    uint64_t records;        /* records stored and not yet acknowledged */
    uint64_t bytes;          /* bytes in segment files (what cap_bytes limits) */
    uint64_t cap_bytes;      /* the effective cap */
    uint64_t segments;       /* segment files */
    uint64_t next_seq;       /* seq the next append will get */
    uint64_t durable_seq;    /* every stored seq <= this is on disk */
    uint64_t appends;        /* records appended since open */
    uint64_t fsyncs;         /* group commits (data fdatasyncs) since open */
    uint64_t acked;          /* records acknowledged since open */
    uint64_t damaged;        /* damaged records/regions skipped since open */
    uint64_t damaged_bytes;  /* bytes in those */
    uint64_t truncated_bytes;/* torn-tail bytes cut off by open */
    uint64_t io_errors;      /* write/sync failures since open */
    uint64_t nospace_errors; /* of those, for lack of room (ENOSPC, EDQUOT,
                                EFBIG): appends got TX_SPOOL_FULL */
    uint64_t disk_full;      /* 1 while the file system is full: the last
                                failure was for lack of room and no write
                                has succeeded since; else 0 */
    uint64_t reclaimed;      /* fully acknowledged active segments cut back
                                to give their space back, since open */
    uint64_t lost;           /* durable records that could not be read back
                                (deleted or damaged), found since open */
    uint64_t lost_first;     /* lowest and highest seq of those; 0 if none */
    uint64_t lost_last;
} tx_spool_stats_t;

typedef struct tx_spool_t tx_spool_t;

/* Open (creating if needed, mode 0700) the spool in directory dir, which
   must be on a local file system (flock and fdatasync semantics); its
   parent must exist.  dir and the spool's files must be the process's own
   (see Guarantees), else open fails saying what to fix.  Takes an exclusive lock on dir/LOCK; scans and
   verifies every segment; replays the ack log.  opts may be NULL.  Returns
   NULL on failure with a reason in err, e.g. "spool /x is in use by pid 42"
   when another process (or another open in this one) holds the lock. */
tx_spool_t *
    tx_spool_open (const char *dir, const tx_spool_opts_t *opts,
                   char *err, size_t errlen);

/* Make everything appended durable, sync the ack log, release the lock and
   free the spool.  Sets *self_p to NULL; safe when *self_p is NULL. */
void
    tx_spool_close (tx_spool_t **self_p);

/* Append one record of len bytes (1 <= len <= max_record) and wait until
   it is durable per the fsync policy.  On success stores its sequence
   number in *seq_out (may be NULL) and returns TX_SPOOL_OK.  Otherwise
   returns TX_SPOOL_FULL, TX_SPOOL_EIO or TX_SPOOL_ERR, and the record must
   be treated as not stored.  When the file system fills up under the
   record and acknowledged space can be given back, it is tried once
   more before TX_SPOOL_FULL. */
int
    tx_spool_append (tx_spool_t *self, const void *rec, size_t len,
                     uint64_t *seq_out);

/* Add one record without waiting: it is NOT durable yet, and readers will
   not see it, until a tx_spool_sync covering its seq returns TX_SPOOL_OK.
   For batching from one thread: put N records, then sync(first, last)
   once.  Returns as tx_spool_append. */
int
    tx_spool_put (tx_spool_t *self, const void *rec, size_t len,
                  uint64_t *seq_out);

/* Wait until records first_seq..last_seq (a batch put by this caller) are
   durable, joining or leading a group commit.  last_seq 0 means the newest
   seq put so far; first_seq 0 means last_seq alone.  Returns TX_SPOOL_OK,
   or TX_SPOOL_FULL (the file system had no room) or TX_SPOOL_EIO (another
   I/O error) when any record of the batch was lost: then treat the whole
   batch as not stored. */
int
    tx_spool_sync (tx_spool_t *self, uint64_t first_seq, uint64_t last_seq);

/* Read up to max durable, unacknowledged records with seq > after_seq, in
   seq order, into recs.  Returns how many (0: none right now), or
   TX_SPOOL_EIO / TX_SPOOL_ERR.  A read stops at a segment boundary, so it
   may return fewer than max even when more records follow.  Typical use:
   after = 0; loop { n = read(after); send; after = recs[n-1].seq; } and,
   after a reconnect, start again from 0 to resend what is unacknowledged. */
int
    tx_spool_read (tx_spool_t *self, uint64_t after_seq,
                   tx_spool_rec_t *recs, size_t max);

/* Acknowledge n records (any order).  Unknown, not yet durable or already
   acknowledged seqs are ignored.  A segment file is deleted once all its
   records are acknowledged; the active one is cut back instead, while the
   file system is full.  Returns the number newly acknowledged, or
   TX_SPOOL_EIO if the ack log could not be written (the acknowledgements
   still hold in memory; after a restart those records may be sent again). */
int
    tx_spool_ack (tx_spool_t *self, const uint64_t *seqs, size_t n);

/* Fill *stats. */
void
    tx_spool_stats (tx_spool_t *self, tx_spool_stats_t *stats);

/* Open the file NAME (no '/') in the spool directory under the rules of
   the spool's own files: never through a symbolic link, owned by the
   effective uid, not writable by group or others, one link; created with
   mode 0600.  flags: O_RDONLY/O_WRONLY/O_RDWR with O_APPEND, O_CREAT,
   O_TRUNC; O_CLOEXEC is added.  For files kept beside the spool (the
   producer's rejected.log).  Returns an fd the caller closes, or -1 with
   a reason in err. */
int
    tx_spool_open_file (tx_spool_t *self, const char *name, int flags,
                        char *err, size_t errlen);

/* A short text for a TX_SPOOL_ result code. */
const char *
    tx_spool_strerror (int code);

#ifdef __cplusplus
}
#endif

#endif
