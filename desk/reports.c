/*  reports: see reports.h.  */
#include "reports.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct desk_reports_t {
    pthread_mutex_t lock;
    int fd;                     //  the journal, O_APPEND
    desk_report_t *items;       //  oldest first
    size_t n, cap;
    int64_t last_verdict_us;    //  since this process started
};

int64_t
desk_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *s_states [] = { "waiting", "stored", "duplicate", "refused", "failed" };

static char *
s_dup (const char *s)
{
    return strdup (s ? s : "");
}

static void
s_free_report (desk_report_t *r)
{
    free (r->token); free (r->type); free (r->partner); free (r->supersedes);
    free (r->source); free (r->user); free (r->code); free (r->msg);
    json_decref (r->attrs);
    memset (r, 0, sizeof *r);
}

static desk_report_t *
s_find (desk_reports_t *self, const char *id)
{
    for (size_t i = self->n; i-- > 0; )
        if (strcmp (self->items [i].id, id) == 0)
            return &self->items [i];
    return NULL;
}

static int
s_append (desk_reports_t *self, json_t *rec)
{
    char *line = json_dumps (rec, JSON_COMPACT);
    if (!line)
        return -1;
    size_t len = strlen (line);
    line [len] = '\n';      //  json_dumps' NUL becomes the newline
    off_t end = lseek (self->fd, 0, SEEK_END);
    ssize_t w = write (self->fd, line, len + 1);
    free (line);
    if (w != (ssize_t) (len + 1)) {
        //  A short write (a full disk) must not leave half a line for the
        //  next record to be glued to: cut it off.
        if (w > 0 && end >= 0 && ftruncate (self->fd, end) != 0)
            (void) 0;
        return -1;
    }
    return fdatasync (self->fd) != 0 ? -1 : 0;
}

static int
s_push (desk_reports_t *self, const desk_report_t *r)
{
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 256;
        desk_report_t *items = realloc (self->items, cap * sizeof *items);
        if (!items)
            return -1;
        self->items = items;
        self->cap = cap;
    }
    desk_report_t *c = &self->items [self->n++];
    *c = *r;
    c->token = s_dup (r->token); c->type = s_dup (r->type); c->partner = s_dup (r->partner);
    c->supersedes = s_dup (r->supersedes); c->source = s_dup (r->source); c->user = s_dup (r->user);
    c->code = s_dup (r->code); c->msg = s_dup (r->msg);
    c->attrs = r->attrs ? json_deep_copy (r->attrs) : json_object ();
    return 0;
}

static void
s_apply_verdict (desk_report_t *r, desk_state_t state, const char *code, const char *msg,
                 const char *original, int64_t original_us, int64_t at_us)
{
    //  A resend of an event this desk saw stored comes back as a duplicate
    //  of itself: it stays "stored".
    if (r->state == DESK_STORED && state == DESK_DUPLICATE
    &&  (!original || !*original || strcmp (original, r->id) == 0))
        return;
    r->state = state;
    free (r->code); r->code = s_dup (code);
    free (r->msg); r->msg = s_dup (msg);
    snprintf (r->original, sizeof r->original, "%s", original ? original : "");
    r->original_us = original_us;
    r->verdict_us = at_us;
}

static const char *
s_str (json_t *o, const char *key)
{
    const char *s = json_string_value (json_object_get (o, key));
    return s ? s : "";
}

static void
s_load_line (desk_reports_t *self, const char *line)
{
    json_t *o = json_loads (line, 0, NULL);
    if (!json_is_object (o)) {
        json_decref (o);
        return;                 //  a torn last line
    }
    const char *op = s_str (o, "op"), *id = s_str (o, "id");
    if (strcmp (op, "new") == 0 && strlen (id) == 36) {
        desk_report_t r = { .state = DESK_WAITING };
        snprintf (r.id, sizeof r.id, "%s", id);
        r.token = (char *) s_str (o, "token");
        r.created_us = json_integer_value (json_object_get (o, "created_us"));
        r.type = (char *) s_str (o, "type");
        r.occurred_us = json_integer_value (json_object_get (o, "occurred_us"));
        r.partner = (char *) s_str (o, "partner");
        r.attrs = json_object_get (o, "attrs");
        r.supersedes = (char *) s_str (o, "supersedes");
        r.source = (char *) s_str (o, "source");
        r.user = (char *) s_str (o, "user");
        s_push (self, &r);
    }
    else {
        desk_report_t *r = s_find (self, id);
        if (r) {
            const char *state = s_str (o, "state");
            for (int i = 0; i < 5; i++)
                if (strcmp (state, s_states [i]) == 0)
                    s_apply_verdict (r, (desk_state_t) i, s_str (o, "code"), s_str (o, "msg"),
                                     s_str (o, "original"),
                                     json_integer_value (json_object_get (o, "original_us")),
                                     json_integer_value (json_object_get (o, "at_us")));
        }
    }
    json_decref (o);
}

desk_reports_t *
desk_reports_open (const char *dir, char *err, size_t errlen)
{
    if (mkdir (dir, 0700) != 0 && errno != EEXIST) {
        snprintf (err, errlen, "%s: %s", dir, strerror (errno));
        return NULL;
    }
    char path [4096];
    snprintf (path, sizeof path, "%s/journal.jsonl", dir);
    desk_reports_t *self = calloc (1, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
    FILE *f = fopen (path, "r");
    if (f) {
        char *line = NULL;
        size_t cap = 0;
        while (getline (&line, &cap, f) > 0)
            s_load_line (self, line);
        free (line);
        fclose (f);
    }
    self->fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (self->fd < 0) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        desk_reports_destroy (&self);
        return NULL;
    }
    //  A torn last line is finished with a newline, so the next record
    //  starts on a line of its own.
    struct stat st;
    if (fstat (self->fd, &st) == 0 && st.st_size > 0) {
        int rfd = open (path, O_RDONLY | O_CLOEXEC);
        char c = '\n';
        if (rfd >= 0 && pread (rfd, &c, 1, st.st_size - 1) == 1 && c != '\n')
            if (write (self->fd, "\n", 1) != 1) { /* reported on the next append */ }
        if (rfd >= 0)
            close (rfd);
    }
    return self;
}

void
desk_reports_destroy (desk_reports_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    desk_reports_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        s_free_report (&self->items [i]);
    free (self->items);
    if (self->fd > 0)
        close (self->fd);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void desk_reports_lock (desk_reports_t *self)   { pthread_mutex_lock (&self->lock); }
void desk_reports_unlock (desk_reports_t *self) { pthread_mutex_unlock (&self->lock); }
size_t desk_reports_count (desk_reports_t *self) { return self->n; }
int64_t desk_reports_last_verdict (desk_reports_t *self) { return self->last_verdict_us; }

const desk_report_t *
desk_reports_at (desk_reports_t *self, size_t i)
{
    return i < self->n ? &self->items [i] : NULL;
}

const desk_report_t *
desk_reports_find (desk_reports_t *self, const char *id)
{
    return s_find (self, id);
}

const desk_report_t *
desk_reports_by_token (desk_reports_t *self, const char *token)
{
    if (!token || !*token)
        return NULL;
    for (size_t i = self->n; i-- > 0; )
        if (strcmp (self->items [i].token, token) == 0)
            return &self->items [i];
    return NULL;
}

int
desk_reports_add (desk_reports_t *self, const desk_report_t *r, char *err, size_t errlen)
{
    json_t *o = json_pack ("{s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:O, s:s, s:s, s:s}",
                           "op", "new", "id", r->id, "token", r->token ? r->token : "",
                           "created_us", (json_int_t) r->created_us, "type", r->type,
                           "occurred_us", (json_int_t) r->occurred_us,
                           "partner", r->partner ? r->partner : "",
                           "attrs", r->attrs, "supersedes", r->supersedes ? r->supersedes : "",
                           "source", r->source ? r->source : "", "user", r->user ? r->user : "");
    int rc = o ? s_append (self, o) : -1;
    json_decref (o);
    if (rc != 0 || s_push (self, r) != 0) {
        snprintf (err, errlen, "journal: %s", strerror (errno));
        return -1;
    }
    return 0;
}

static void
s_record_verdict (desk_reports_t *self, desk_report_t *r, desk_state_t state, const char *code,
                  const char *msg, const char *original, int64_t original_us)
{
    int64_t now = desk_now_us ();
    json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
                           "op", "verdict", "id", r->id, "state", s_states [state],
                           "code", code ? code : "", "msg", msg ? msg : "",
                           "original", original ? original : "",
                           "original_us", (json_int_t) original_us, "at_us", (json_int_t) now);
    if (o)
        s_append (self, o);     //  lost on a full disk: the report stays "waiting"
    json_decref (o);
    s_apply_verdict (r, state, code, msg, original, original_us, now);
    if (state != DESK_FAILED)
        self->last_verdict_us = now;
}

void
desk_reports_verdict (desk_reports_t *self, const char *id, desk_state_t state,
                      const char *code, const char *msg, const char *original, int64_t original_us)
{
    pthread_mutex_lock (&self->lock);
    desk_report_t *r = s_find (self, id);
    if (r)
        s_record_verdict (self, r, state, code, msg, original, original_us);
    else
        self->last_verdict_us = desk_now_us ();
    pthread_mutex_unlock (&self->lock);
}
