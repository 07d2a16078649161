/*  output: what tongxin-send writes on stderr: the progress line, the
    reports of refused events ("LINE: CODE: message"), the lines about the
    run, the verdict callback, and printable quotes of input.  Reports
    take send_t.lock (they come from both threads).
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

//  Reports an event refused here: "LINE: CODE: message"; counts it.
void out_invalid (send_t *self, uint64_t line, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Reports an event libtongxin refused, err being its "code: reason".
void out_refused (send_t *self, uint64_t line, const char *err);

//  One line about the run as a whole: "tongxin-send: ...".
void out_error (send_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

//  The verdict callback (tongxin_verdict_fn, arg a send_t), on the
//  library's sender thread: counts, and reports refusals.
void out_verdict (void *arg, const uint8_t id [16], int verdict, const char *code, const char *msg);

//  The line for a link that the handshakes say is broken (stats->link),
//  naming the flag to check.
void out_link_report (send_t *self, const tongxin_stats_t *stats);

#endif
