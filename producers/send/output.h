/*  output: what tongxin-send writes on stderr: the progress line, the
    reports of refused events ("LINE: CODE: message", in line order), the
    lines about the run, the verdict callback, the summary with the list
    of duplicates, and printable quotes of input.  Reports take
    send_t.lock (they come from both threads).
*/
#ifndef OUTPUT_H_INCLUDED
#define OUTPUT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tongxin.h"

typedef struct send_t send_t;

#define SHOW_MAX        48              //  bytes of a value quoted in a message
#define SHOW_SIZE       (SHOW_MAX * 4 + 8)

//  Says "out of memory" and exits (RC_RUNTIME).
void out_oom (void) __attribute__ ((noreturn));

//  Draws the progress line: only on a terminal, only for large inputs,
//  at most every PROGRESS_MS unless final (which ends it with a newline).
void out_progress (send_t *self, bool final);

//  A printable copy of s[0..len) for a message: control bytes as \xNN, cut
//  after SHOW_MAX bytes (on a character boundary) and marked "...".
//  Returns out.
const char *out_show (const char *s, size_t len, char out [SHOW_SIZE]);

//  Line's event goes to the spool: its outcome, when known, takes its
//  place among the reports in line order.
void out_expect (send_t *self, uint64_t line);

//  Line's event was not spooled after all (a full spool, an error said
//  once for the run): nothing to report for it.
void out_dropped (send_t *self, uint64_t line);

//  Reports an event refused here: "LINE: CODE: message", in line order
//  with the collector's verdicts; counts it.
void out_invalid (send_t *self, uint64_t line, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Reports an event libtongxin refused, err being its "code: reason".
void out_refused (send_t *self, uint64_t line, const char *err);

//  One line about the run as a whole: "tongxin-send: ...".
void out_error (send_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

//  The result callback (tongxin_result_fn, arg a send_t), on the
//  library's sender thread: counts, reports refusals, keeps duplicates
//  with the original's id and time of receipt for the list.
void out_result (void *arg, const tongxin_result_t *result);

//  The end of the run, once no callback runs any more: the reports held
//  back behind events left without an answer; then if summary (the run
//  got as far as its verdicts) and not --quiet, the summary ("3 events: 2
//  stored, 1 already stored on 2026-11-21") and the duplicates, in line
//  order.  An input without events is said so even with --quiet.
void out_finish (send_t *self, bool summary);

//  The line for a link that the handshakes say is broken (stats->link),
//  naming the flag to check.
void out_link_report (send_t *self, const tongxin_stats_t *stats);

#endif
