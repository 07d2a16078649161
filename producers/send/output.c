/*  output.c: tongxin-send's messages and progress (see output.h).  */
#include "output.h"
#include "send.h"
#include "i18n.h"
#include "clock.h"
#include "reasons.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
out_oom (void)
{
    fputs (_("tongxin-send: out of memory\n"), stderr);
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
    uint64_t acked = self->mine.stored + self->mine.duplicate + self->mine.rejected;
    double secs = (double) (now - self->start_ms) / 1000.0;
    fputs ("\r\033[K", stderr);
    fprintf (stderr, _("%llu read, %llu acknowledged, %llu rejected, %.0f/s"),
             (unsigned long long) self->events, (unsigned long long) acked,
             (unsigned long long) (self->mine.rejected + self->invalid),
             secs > 0.05 ? (double) acked / secs : 0.0);
    self->progress_shown = !final;
    if (final)
        fputc ('\n', stderr);
    pthread_mutex_unlock (&self->lock);
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

//  Lock held.  Prints the outcomes that no earlier line holds back any
//  more (all: every one, at the end): refusals at once, duplicates kept
//  for the list after the summary.
static void
s_release (send_t *self, bool all)
{
    report_t r;
    while (reports_next (&self->reports, all, &r)) {
        if (r.state == RPT_TEXT) {
            s_progress_clear (self);
            fputs (r.text, stderr);
            free (r.text);
        }
        else
        if (r.state == RPT_DUP) {
            if (self->n_dups == self->cap_dups) {
                size_t cap = self->cap_dups ? self->cap_dups * 2 : 64;
                report_t *dups = realloc (self->dups, cap * sizeof *dups);
                if (!dups)
                    out_oom ();
                self->dups = dups;
                self->cap_dups = cap;
            }
            self->dups [self->n_dups++] = r;
        }
    }
}

//  Lock held.  Line's outcome: text (taken; NULL unless RPT_TEXT) or a
//  duplicate's details in dup.  In its place if the line is waiting or
//  others wait before it, else at once.
static void
s_report (send_t *self, uint64_t line, report_state_t state, char *text, const report_t *dup)
{
    report_t *r = reports_find (&self->reports, line);
    if (!r && reports_empty (&self->reports) && state == RPT_TEXT) {
        s_progress_clear (self);
        fputs (text, stderr);
        free (text);
        return;
    }
    if (!r && !(r = reports_add (&self->reports, line)))
        out_oom ();
    if (dup)
        *r = *dup;
    r->line = line;
    r->state = state;
    r->text = text;
    s_release (self, false);
}

void
out_expect (send_t *self, uint64_t line)
{
    pthread_mutex_lock (&self->lock);
    if (!reports_add (&self->reports, line))
        out_oom ();
    pthread_mutex_unlock (&self->lock);
}

void
out_dropped (send_t *self, uint64_t line)
{
    pthread_mutex_lock (&self->lock);
    if (reports_find (&self->reports, line))
        s_report (self, line, RPT_NONE, NULL, NULL);
    pthread_mutex_unlock (&self->lock);
}

//  Reports an event refused here: "LINE: CODE: message", in line order.
void
out_invalid (send_t *self, uint64_t line, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *msg, *text;
    if (vasprintf (&msg, fmt, ap) < 0)
        out_oom ();
    va_end (ap);
    int n = self->flag_form ? asprintf (&text, "-: %s: %s\n", code, msg)
                            : asprintf (&text, "%" PRIu64 ": %s: %s\n", line, code, msg);
    if (n < 0)
        out_oom ();
    free (msg);
    pthread_mutex_lock (&self->lock);
    self->invalid++;
    s_report (self, line, RPT_TEXT, text, NULL);
    pthread_mutex_unlock (&self->lock);
}

static const char *probe_stored = N_("the event was stored");

//  The explanation of a reject code in the language of the locale, for
//  the end of a refusal's line: NULL under English messages (the
//  collector's and libtongxin's own texts are English and say it), or
//  for a code without one.
static const char *
s_explain (const char *code)
{
    if (_(probe_stored) == probe_stored)
        return NULL;
    return tx_reason_explain (code);
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
        const char *why = s_explain (code);
        if (why)
            out_invalid (self, line, code, _("%s (%s)"), err + n + 2, why);
        else
            out_invalid (self, line, code, "%s", err + n + 2);
    }
    else
        out_invalid (self, line, "invalid_event", "%s", *err ? err : _("refused by libtongxin"));
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

//  text with control characters as '?', so that a report stays one line.
static void
s_put_clean (FILE *out, const char *text)
{
    for (; text && *text; text++)
        fputc ((unsigned char) *text < 0x20 || *text == 0x7f ? '?' : *text, out);
}

//  Counts a verdict into t.
static void
s_tally (tally_t *t, const tongxin_result_t *r)
{
    if (r->verdict == TONGXIN_STORED)
        t->stored++;
    else
    if (r->verdict == TONGXIN_DUPLICATE)
        t->duplicate++;
    else
        t->rejected++;
    if (r->verdict == TONGXIN_DUPLICATE && r->has_original) {
        int64_t at = r->original_received_us;
        if (t->dated == 0 || at < t->first_us)
            t->first_us = at;
        if (t->dated == 0 || at > t->last_us)
            t->last_us = at;
        t->dated++;
    }
}

//  The result callback, on the library's sender thread.
void
out_result (void *arg, const tongxin_result_t *result)
{
    send_t *self = arg;
    const tongxin_result_t *r = result;
    pthread_mutex_lock (&self->lock);
    uint64_t line = idmap_take (&self->pending, r->id, 0);
    //  No line: an event an earlier run left in the spool.
    s_tally (line ? &self->mine : &self->earlier, r);
    if (r->verdict != TONGXIN_STORED && r->verdict != TONGXIN_DUPLICATE) {
        char *text = NULL;
        size_t size = 0;
        FILE *out = open_memstream (&text, &size);
        if (!out)
            out_oom ();
        if (!line)
            fputs ("spool", out);
        else
        if (self->flag_form)
            fputc ('-', out);
        else
            fprintf (out, "%" PRIu64, line);
        fputs (": ", out);
        s_put_clean (out, r->code && *r->code ? r->code : "rejected");
        fputs (": ", out);
        s_put_clean (out, r->msg);
        const char *why = s_explain (r->code);
        if (why)
            fprintf (out, _(" (%s)"), why);
        if (!line) {
            char id [37];
            tongxin_id_format (r->id, id);
            fprintf (out, _(" (event %s of an earlier run)"), id);
        }
        fputc ('\n', out);
        fclose (out);
        if (line)
            s_report (self, line, RPT_TEXT, text, NULL);
        else {
            s_progress_clear (self);
            fputs (text, stderr);
            free (text);
        }
    }
    else
    if (line && r->verdict == TONGXIN_DUPLICATE) {
        report_t dup = { .has_original = r->has_original, .received_us = r->original_received_us };
        if (r->has_original) {
            memcpy (dup.original, r->original, 16);
            dup.same_content = memcmp (r->original, r->id, 16) != 0;
            if (dup.same_content)
                self->same_content = true;
        }
        s_report (self, line, RPT_DUP, NULL, &dup);
    }
    else
    if (line)
        s_report (self, line, RPT_NONE, NULL, NULL);
    pthread_mutex_unlock (&self->lock);
}

//  Writes the local date (the TZ of the process) of unix time us, with the
//  time of day to the minute if clock.
static void
s_put_date (FILE *out, int64_t us, bool clock)
{
    time_t t = (time_t) (us / 1000000);
    struct tm tm;
    char text [32];
    if (localtime_r (&t, &tm) && strftime (text, sizeof text, clock ? "%Y-%m-%d %H:%M" : "%Y-%m-%d",
                                           &tm) > 0)
        fputs (text, out);
    else
        fprintf (out, "@%" PRId64, us / 1000000);
}

//  The local date and time of unix time us into text (as s_put_date).
static void
s_date_text (char *text, size_t size, int64_t us)
{
    FILE *f = fmemopen (text, size, "w");
    if (!f)
        out_oom ();
    s_put_date (f, us, true);
    fclose (f);
}

//  "no events in FILE" (the input without events).
static void
s_put_none (send_t *self, FILE *out)
{
    if (strcmp (self->args->input, "-") == 0)
        fputs (_("no events in standard input"), out);
    else
        fprintf (out, _("no events in %s"), self->args->input);
}

//  Writes t's counts: "2 stored, 1 already stored on 2026-11-21, 1 refused
//  (...)"; invalid: refused here; left: without an answer.
static void
s_put_tally (FILE *out, const tally_t *t, uint64_t invalid, uint64_t left)
{
    //  TRANSLATORS: between the counts of the summary: "2 stored, 1 refused".
    const char *comma = _(", ");
    const char *sep = "";
    if (t->stored) {
        fprintf (out, _("%llu stored"), (unsigned long long) t->stored);
        sep = comma;
    }
    if (t->duplicate) {
        char first [32], last [32];
        FILE *f = fmemopen (first, sizeof first, "w"), *l = fmemopen (last, sizeof last, "w");
        if (!f || !l)
            out_oom ();
        s_put_date (f, t->first_us, false);
        s_put_date (l, t->last_us, false);
        fclose (f);
        fclose (l);
        fputs (sep, out);
        unsigned long long n = t->duplicate;
        if (t->dated && strcmp (first, last) == 0)
            fprintf (out, _("%llu already stored on %s"), n, first);
        else
        if (t->dated)
            fprintf (out, _("%llu already stored between %s and %s"), n, first, last);
        else
            fprintf (out, _("%llu already stored"), n);
        sep = comma;
    }
    if (t->rejected + invalid) {
        fputs (sep, out);
        if (t->rejected && invalid)
            fprintf (out, _("%llu refused (%llu here, %llu by the collector)"),
                     (unsigned long long) (t->rejected + invalid), (unsigned long long) invalid,
                     (unsigned long long) t->rejected);
        else
            fprintf (out, _("%llu refused"), (unsigned long long) (t->rejected + invalid));
        sep = comma;
    }
    if (left) {
        fputs (sep, out);
        fprintf (out, _("%llu not answered yet (in the spool for the next tongxin-send)"),
                 (unsigned long long) left);
    }
}

//  The summary line of the run, without the prefix and newline, into out.
static void
s_put_summary (send_t *self, FILE *out)
{
    const tally_t *m = &self->mine, *e = &self->earlier;
    uint64_t answered = m->stored + m->duplicate + m->rejected + self->invalid;
    uint64_t left = self->events > answered ? self->events - answered : 0;
    uint64_t earlier = e->stored + e->duplicate + e->rejected;
    if (self->flag_form && self->events == 1) {
        //  One event: what became of it, in words; refused, it was said.
        if (m->stored)
            fputs (_(probe_stored), out);
        else
        if (m->duplicate) {
            const report_t *d = self->n_dups ? &self->dups [0] : NULL;
            if (d && d->has_original) {
                char id [37], date [32];
                tongxin_id_format (d->original, id);
                s_date_text (date, sizeof date, d->received_us);
                fprintf (out, _("the event was already stored on %s (id %s)"), date, id);
            }
            else
                fputs (_("the event was already stored"), out);
        }
        else
        if (left)
            fputs (_("the event is in the spool, not answered yet (the next tongxin-send sends "
                     "it)"), out);
        else
        if (!earlier)
            return;
        else
            fputs (_("the event was refused"), out);
    }
    else
    if (self->events == 0 && !self->null_input)
        s_put_none (self, out);
    else
    if (self->events) {
        fprintf (out, NG_("%llu event: ", "%llu events: ", self->events),
                 (unsigned long long) self->events);
        s_put_tally (out, m, self->invalid, left);
    }
    if (earlier) {
        if (self->events || !self->null_input)
            fprintf (out, NG_("; and %llu event from an earlier run: ",
                              "; and %llu events from an earlier run: ", earlier),
                     (unsigned long long) earlier);
        else
            fprintf (out, NG_("%llu event from an earlier run: ", "%llu events from an earlier run: ",
                              earlier), (unsigned long long) earlier);
        s_put_tally (out, e, 0, 0);
    }
}

//  The duplicates, in line order: "line 2: already stored on 2026-11-21
//  14:03 (id ...)" (the flag event's is the summary); a hint at --nth
//  once if some had another id.
static void
s_put_dups (send_t *self)
{
    for (size_t i = 0; i < self->n_dups && !self->flag_form; i++) {
        const report_t *d = &self->dups [i];
        if (d->has_original) {
            char id [37], date [32];
            tongxin_id_format (d->original, id);
            s_date_text (date, sizeof date, d->received_us);
            fprintf (stderr, _("line %llu: already stored on %s (id %s)\n"),
                     (unsigned long long) d->line, date, id);
        }
        else
            fprintf (stderr, _("line %llu: already stored\n"), (unsigned long long) d->line);
    }
    if (!self->same_content)
        return;
    if (self->flag_form)
        fputs (_("tongxin-send: if this is a second, identical activity, send it with --nth 2\n"),
               stderr);
    else
        fputs (_("tongxin-send: if one of these is a second, identical activity, give its line "
                 "\"nth\": 2 and send the file again\n"), stderr);
}

void
out_finish (send_t *self, bool summary)
{
    pthread_mutex_lock (&self->lock);
    s_release (self, true);
    s_progress_clear (self);
    bool empty = self->events == 0 && !self->flag_form && !self->null_input;
    if (summary && (!self->args->quiet || empty)) {
        char *text = NULL;
        size_t size = 0;
        FILE *out = open_memstream (&text, &size);
        if (!out)
            out_oom ();
        if (self->args->quiet)
            s_put_none (self, out);
        else
            s_put_summary (self, out);
        fclose (out);
        if (*text)
            fprintf (stderr, "tongxin-send: %s\n", text);
        free (text);
    }
    if (summary && !self->args->quiet)
        s_put_dups (self);
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
            out_error (self, _("the collector at %s refused the key of unit %s (--key %s) %d times: it "
                     "is unknown or revoked; ask the administrator to issue one (tongxin-admin key "
                     "issue %s); the events stay in %s"), ep, a->unit, a->key_file, n, a->unit,
                     self->spool);
            break;
        case TONGXIN_LINK_SERVER_KEY:
            //  A CURVE collector often closes on a plain client before
            //  libzmq reports the mechanism mismatch: say so.
            if (a->insecure)
                out_error (self, _("no handshake with the collector at %s succeeded (%d tries, it "
                         "closed the connection each time): it may require CURVE (give --key and "
                         "--server-key instead of --insecure); else check --endpoint; the events "
                         "stay in %s"), ep, n, self->spool);
            else
                out_error (self, _("no CURVE handshake with the collector at %s succeeded (%d tries, "
                         "it closed the connection each time): check --server-key (the "
                         "collector's public key) and --endpoint; the events stay in %s"), ep, n,
                         self->spool);
            break;
        case TONGXIN_LINK_MECHANISM:
            if (a->insecure)
                out_error (self, _("the collector at %s requires CURVE: give --key and --server-key "
                         "instead of --insecure; the events stay in %s"), ep, self->spool);
            else
                out_error (self, _("the collector at %s does not use CURVE (is it running with "
                         "--insecure?): check --endpoint; the events stay in %s"), ep, self->spool);
            break;
        case TONGXIN_LINK_NOT_ZMTP:
            out_error (self, _("%s closed the connection before the ZeroMQ greeting (%d tries): it is "
                     "not a Tongxin collector; check --endpoint; the events stay in %s"), ep, n,
                     self->spool);
            break;
    }
}
