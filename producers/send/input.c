/*  input.c: reading JSON lines (see input.h).  */
#include "input.h"
#include "jsonl.h"
#include "output.h"
#include "send.h"
#include "i18n.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Lines of any length from a file descriptor, and whether reading the
//  next one would block (then the batch is spooled first, so that events
//  trickling in through a pipe are not held back).
typedef struct {
    int fd;                     //  borrowed
    char *buf;                  //  owned; unread bytes are buf [start..end)
    size_t cap;
    size_t start;
    size_t end;
    bool eof;                   //  read returned 0
    size_t skipped;             //  bytes of an overlong line being dropped
} reader_t;


//  The next line, without its newline, in *line (valid until the next call)
//  and *len.  Returns 1, 2 for a line over MAX_LINE bytes (dropped, *len is
//  its length), 0 at the end, or -1 on a read error (errno).
static int
s_reader_next (reader_t *r, const char **line, size_t *len)
{
    for (;;) {
        char *from = r->buf + r->start;
        char *nl = r->end > r->start ? memchr (from, '\n', r->end - r->start) : NULL;
        if (nl || (r->eof && r->end > r->start) || (r->eof && r->skipped)) {
            size_t n = nl ? (size_t) (nl - from) : r->end - r->start;
            r->start += n + (nl ? 1 : 0);
            *line = from;
            *len = r->skipped + n;
            if (*len <= MAX_LINE)
                return 1;
            r->skipped = 0;
            return 2;
        }
        if (r->eof)
            return 0;
        if (r->end - r->start > MAX_LINE) {
            r->skipped += r->end - r->start;        //  drop what we have of it
            r->start = r->end;
        }
        if (r->start > 0) {
            memmove (r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->end == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 65536;
            char *buf = realloc (r->buf, cap);
            if (!buf)
                out_oom ();
            r->buf = buf;
            r->cap = cap;
        }
        ssize_t got = read (r->fd, r->buf + r->end, r->cap - r->end);
        if (got < 0)
            return -1;
        if (got == 0)
            r->eof = true;
        r->end += (size_t) (got > 0 ? got : 0);
    }
}

//  True if the next s_reader_next returns at once.
static bool
s_reader_ready (const reader_t *r)
{
    if (r->eof || (r->end > r->start && memchr (r->buf + r->start, '\n', r->end - r->start)))
        return true;
    struct pollfd p = { .fd = r->fd, .events = POLLIN };
    return poll (&p, 1, 0) > 0;
}

//  The start of the input: a UTF-8 byte order mark (Windows editors write
//  one) is skipped; UTF-16 is refused saying how to convert it.  0, or -1
//  after reporting (the line is then done with).
static int
s_input_bom (send_t *self, const char **line, size_t *len)
{
    const unsigned char *u = (const unsigned char *) *line;
    if (*len >= 3 && u [0] == 0xef && u [1] == 0xbb && u [2] == 0xbf) {
        *line += 3;
        *len -= 3;
        return 0;
    }
    if (*len >= 2 && ((u [0] == 0xff && u [1] == 0xfe) || (u [0] == 0xfe && u [1] == 0xff))) {
        pthread_mutex_lock (&self->lock);
        self->events++;
        pthread_mutex_unlock (&self->lock);
        out_invalid (self, 1, "bad_utf8", _("the input is UTF-16 (it starts with a byte order "
                   "mark): convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8"));
        return -1;
    }
    return 0;
}

//  Reads JSON lines from fd and spools their events.  0, or the exit code
//  that stopped it.
int
input_read (send_t *self, int fd)
{
    reader_t r = { .fd = fd };
    int rc = 0;
    while (!send_interrupted) {
        if (self->batch.n && !s_reader_ready (&r) && (rc = submit_spool (self)) != 0)
            break;
        const char *line;
        size_t len;
        int got = s_reader_next (&r, &line, &len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            out_error (self, _("reading %s: %s"), self->args->input, strerror (errno));
            rc = RC_RUNTIME;
            break;
        }
        if (got == 0)
            break;
        uint64_t lineno = ++self->lines;
        if (lineno == 1 && s_input_bom (self, &line, &len) != 0)
            continue;
        if (got == 2) {
            pthread_mutex_lock (&self->lock);
            self->events++;
            pthread_mutex_unlock (&self->lock);
            out_invalid (self, lineno, "too_long", _("the line has %zu bytes; at most %d"), len,
                       MAX_LINE);
            continue;
        }
        size_t i = 0;
        while (i < len && (line [i] == ' ' || line [i] == '\t' || line [i] == '\r'))
            i++;
        if (i == len)
            continue;
        pthread_mutex_lock (&self->lock);
        self->events++;
        pthread_mutex_unlock (&self->lock);
        uint8_t id [16];
        tongxin_event_t *ev = jsonl_event (self, lineno, line, len, id);
        if (ev && (rc = submit_add (self, &ev, id, lineno)) != 0)
            break;
        if (lineno % BATCH == 0 && submit_stopped (self)) {
            rc = RC_RUNTIME;
            break;
        }
        out_progress (self, false);
    }
    if (rc == 0)
        rc = submit_spool (self);
    else {
        for (size_t i = 0; i < self->batch.n; i++)
            tongxin_event_destroy (&self->batch.ev [i]);
        self->batch.n = 0;
    }
    if (rc == 0 && send_interrupted)
        rc = 128 + send_interrupted;
    free (r.buf);
    return rc;
}
