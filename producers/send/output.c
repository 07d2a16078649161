/*  output.c: tongxin-send's messages and progress (see output.h).  */
#include "output.h"
#include "send.h"
#include "clock.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
out_oom (void)
{
    fputs ("tongxin-send: out of memory\n", stderr);
    exit (RC_RUNTIME);
}

//  Lock held.  Takes an unfinished progress line off the screen.
static void
s_progress_clear (send_t *self)
{
    if (self->progress_shown) {
        fputs ("\r\033[K", stderr);
        self->progress_shown = false;
    }
}

//  Draws the progress line: only on a terminal, only for large inputs,
//  at most every PROGRESS_MS unless final (which ends it with a newline).
void
out_progress (send_t *self, bool final)
{
    if (!self->tty || self->lines <= PROGRESS_LINES)
        return;
    int64_t now = tx_clock_ms ();
    if (!final && now - self->drawn_ms < PROGRESS_MS)
        return;
    self->drawn_ms = now;
    pthread_mutex_lock (&self->lock);
    uint64_t acked = self->stored + self->duplicate + self->rejected;
    double secs = (double) (now - self->start_ms) / 1000.0;
    fprintf (stderr, "\r\033[K%" PRIu64 " read, %" PRIu64 " acknowledged, %" PRIu64
             " rejected, %.0f/s", self->events, acked, self->rejected + self->invalid,
             secs > 0.05 ? (double) acked / secs : 0.0);
    self->progress_shown = !final;
    if (final)
        fputc ('\n', stderr);
    pthread_mutex_unlock (&self->lock);
}

//  Lock held.  Writes the LINE part of a report.
static void
s_put_line (const send_t *self, uint64_t line)
{
    if (self->flag_form)
        fputc ('-', stderr);
    else
        fprintf (stderr, "%" PRIu64, line);
}

//  Writes s with control characters as '?', so that a report stays one line.
static void
s_put_clean (const char *s)
{
    for (; s && *s; s++)
        fputc ((unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s, stderr);
}

//  A printable copy of s[0..len) for a message: control bytes as \xNN, cut
//  after SHOW_MAX bytes (on a character boundary) and marked "...".
const char *
out_show (const char *s, size_t len, char out [SHOW_SIZE])
{
    size_t n = len;
    if (n > SHOW_MAX)
        for (n = SHOW_MAX; tongxin_text_valid (s, len) && ((unsigned char) s [n] & 0xc0) == 0x80; n--)
            ;                   //  text: cut on a character boundary
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s [i];
        if (c < 0x20 || c == 0x7f)
            o += (size_t) snprintf (out + o, SHOW_SIZE - o, "\\x%02x", c);
        else
            out [o++] = (char) c;
    }
    if (n < len) {
        memcpy (out + o, "...", 3);
        o += 3;
    }
    out [o] = 0;
    return out;
}

//  Reports an event refused here: "LINE: CODE: message".
void
out_invalid (send_t *self, uint64_t line, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *msg;
    if (vasprintf (&msg, fmt, ap) < 0)
        out_oom ();
    va_end (ap);
    pthread_mutex_lock (&self->lock);
    self->invalid++;
    s_progress_clear (self);
    s_put_line (self, line);
    fprintf (stderr, ": %s: %s\n", code, msg);
    pthread_mutex_unlock (&self->lock);
    free (msg);
}

//  Reports an event libtongxin refused.  Its reason starts with the
//  protocol's reject code ("too_long: ..."); keep that as the code.
void
out_refused (send_t *self, uint64_t line, const char *err)
{
    size_t n = strspn (err, "abcdefghijklmnopqrstuvwxyz_");
    if (n > 0 && n < 64 && err [n] == ':' && err [n + 1] == ' ') {
        char code [64];
        memcpy (code, err, n);
        code [n] = 0;
        out_invalid (self, line, code, "%s", err + n + 2);
    }
    else
        out_invalid (self, line, "invalid_event", "%s", *err ? err : "refused by libtongxin");
}

//  One line about the run as a whole.
void
out_error (send_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    pthread_mutex_lock (&self->lock);
    s_progress_clear (self);
    fputs ("tongxin-send: ", stderr);
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    pthread_mutex_unlock (&self->lock);
    va_end (ap);
}

//  The verdict callback, on the library's sender thread.
void
out_verdict (void *arg, const uint8_t id [16], int verdict, const char *code, const char *msg)
{
    send_t *self = arg;
    pthread_mutex_lock (&self->lock);
    uint64_t line = idmap_take (&self->pending, id, 0);
    bool rejected = verdict != TONGXIN_STORED && verdict != TONGXIN_DUPLICATE;
    //  No line: an event an earlier run left in the spool; not counted.
    if (line && verdict == TONGXIN_STORED)
        self->stored++;
    else
    if (line && verdict == TONGXIN_DUPLICATE)
        self->duplicate++;
    else
    if (line)
        self->rejected++;
    if (rejected) {
        s_progress_clear (self);
        if (line)
            s_put_line (self, line);
        else
            fputs ("spool", stderr);
        fputs (": ", stderr);
        s_put_clean (code && *code ? code : "rejected");
        fputs (": ", stderr);
        s_put_clean (msg);
        if (!line) {
            char text [37];
            tongxin_id_format (id, text);
            fprintf (stderr, " (event %s of an earlier run)", text);
        }
        fputc ('\n', stderr);
    }
    pthread_mutex_unlock (&self->lock);
}

//  The line for a link that the handshakes say is broken (libtongxin's
//  stats.link), naming the flag to check.
void
out_link_report (send_t *self, const tongxin_stats_t *stats)
{
    const args_t *a = self->args;
    const char *ep = stats->link_endpoint;
    int n = stats->link_failures;
    switch (stats->link) {
        case TONGXIN_LINK_KEY_REFUSED:
            out_error (self, "the collector at %s refused the key of unit %s (--key %s) %d times: it "
                     "is unknown or revoked; ask the administrator to issue one (tongxin-admin key "
                     "issue %s); the events stay in %s", ep, a->unit, a->key_file, n, a->unit,
                     self->spool);
            break;
        case TONGXIN_LINK_SERVER_KEY:
            //  A CURVE collector often closes on a plain client before
            //  libzmq reports the mechanism mismatch: say so.
            if (a->insecure)
                out_error (self, "no handshake with the collector at %s succeeded (%d tries, it "
                         "closed the connection each time): it may require CURVE (give --key and "
                         "--server-key instead of --insecure); else check --endpoint; the events "
                         "stay in %s", ep, n, self->spool);
            else
                out_error (self, "no CURVE handshake with the collector at %s succeeded (%d tries, "
                         "it closed the connection each time): check --server-key (the "
                         "collector's public key) and --endpoint; the events stay in %s", ep, n,
                         self->spool);
            break;
        case TONGXIN_LINK_MECHANISM:
            if (a->insecure)
                out_error (self, "the collector at %s requires CURVE: give --key and --server-key "
                         "instead of --insecure; the events stay in %s", ep, self->spool);
            else
                out_error (self, "the collector at %s does not use CURVE (is it running with "
                         "--insecure?): check --endpoint; the events stay in %s", ep, self->spool);
            break;
        case TONGXIN_LINK_NOT_ZMTP:
            out_error (self, "%s closed the connection before the ZeroMQ greeting (%d tries): it is "
                     "not a Tongxin collector; check --endpoint; the events stay in %s", ep, n,
                     self->spool);
            break;
    }
}
