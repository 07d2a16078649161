/*  log: one line per event on stderr, "level=... msg=... key=value", for
 *  journald and grep.
 *
 *      tx_log (TX_LOG_WARN, "database unreachable", "retry_ms=%d err=%s", ms, e);
 *
 *  KV is a printf format for the key=value part (may be NULL).  A value
 *  that may hold spaces or quotes (an error text) goes in quoted and
 *  escaped: "err=%s", tx_log_q (text) -- never "err=\"%s\"", which a quote
 *  inside the text breaks.  Thread-safe: each line is one write(2).
 */
#ifndef TX_LOG_H_INCLUDED
#define TX_LOG_H_INCLUDED

#include <stddef.h>

typedef enum {
    TX_LOG_DEBUG = 0,
    TX_LOG_INFO,
    TX_LOG_WARN,
    TX_LOG_ERROR
} tx_log_level_t;

//  Lines below this level are dropped (default TX_LOG_INFO).
void tx_log_set_level (tx_log_level_t level);

//  Parses "debug", "info", "warn", "error"; -1 if none of them.
int tx_log_level_parse (const char *name);

//  Adds "ts=" timestamps when set (off under journald, which has its own).
void tx_log_set_timestamps (int on);

void tx_log (tx_log_level_t level, const char *msg, const char *kv, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Writes "s" (len bytes) quoted and escaped into out (outlen > 2); returns out.
//  Non-printable bytes become \xNN; the copy is cut to fit.
const char *tx_log_quote (const char *s, size_t len, char *out, size_t outlen);

//  tx_log_quote of the string S (NULL: "") into one of a few buffers of the
//  calling thread; the result is borrowed until the thread's fourth next
//  call, so up to four may appear in one tx_log.  Long texts are cut.
const char *tx_log_q (const char *s);

#endif
