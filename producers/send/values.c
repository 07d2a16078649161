/*  values.c: times, ids and numbers as written (see values.h).  */
#include "values.h"
#include "output.h"
#include "send.h"
#include "i18n.h"
#include "lex.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *value_kinds [] = { "", "int", "numeric", "text", "bool", "date", NULL };

//  Parses a date and time with Z or a UTC offset (common/lex.c: RFC 3339
//  and the ISO 8601 forms people write) into unix microseconds.  0, or -1
//  with the reason in err.
int
value_time (const char *s, int64_t *us_out, char *err, size_t errlen)
{
    char show [SHOW_SIZE];
    out_show (s, strlen (s), show);
    tx_time_t rc = tx_lex_time (s, strlen (s), us_out);
    switch (rc) {
        case TX_TIME_OK:
            return 0;
        case TX_TIME_NO_CLOCK:
            snprintf (err, errlen, _("'%s' is a date without a time of day: use e.g. %sT09:30:00+08:00"),
                      show, show);
            break;
        case TX_TIME_NO_OFFSET:
            snprintf (err, errlen, _("'%s' has no UTC offset: add Z or the offset, e.g. +08:00"), show);
            break;
        case TX_TIME_BAD_OFFSET:
            snprintf (err, errlen, _("'%s': the UTC offset is out of range"), show);
            break;
        case TX_TIME_BAD_DATE:
            snprintf (err, errlen, _("'%s': no such date"), show);
            break;
        case TX_TIME_BAD_CLOCK:
        case TX_TIME_LEAP_SECOND:
            if (rc == TX_TIME_LEAP_SECOND)
                snprintf (err, errlen, _("'%s': no such time of day (leap seconds cannot be "
                          "represented)"), show);
            else
                snprintf (err, errlen, _("'%s': no such time of day"), show);
            break;
        default:
            snprintf (err, errlen, _("'%s' is not an ISO 8601 time with an offset, such as "
                      "2025-04-01T05:00:00+08:00 or 2025-03-31T21:00:00Z"), show);
    }
    return -1;
}

//  Sets the event's id from its text (NULL: none given, the library makes
//  one).  Its version is the library's check.  0, or -1 after reporting.
int
value_id (send_t *self, uint64_t line, const char *field, tongxin_event_t *ev, const char *text,
          size_t len)
{
    char show [SHOW_SIZE];
    if (text && (strlen (text) != len || tongxin_event_set_id (ev, text) != TONGXIN_OK)) {
        out_invalid (self, line, "bad_id", _("%s: '%s' is not a UUID "
                   "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"), field, out_show (text, len, show));
        return -1;
    }
    return 0;
}

//  A setter's result: they fail only when memory runs out.
void
value_stored (int rc)
{
    if (rc != TONGXIN_OK)
        out_oom ();
}

//  Adds the number written as s[0..len) as attribute NAME, exactly as
//  written: one rule for JSON lines and --attr, with the collector's own
//  lexical rule (common/lex.c).  An integer within int64 goes as an int,
//  any other number as its decimal text (numeric); an integer outside
//  int64 only where numeric is asked for (--attr NAME:numeric=...).  A
//  number is never rounded: anything else is refused with a message that
//  says how to write it.  kind is K_AUTO, K_INT or K_NUMERIC.  0, or -1
//  after reporting.
int
value_number (send_t *self, uint64_t line, const char *field, tongxin_event_t *ev,
               const char *name, const char *s, size_t len, kind_t kind)
{
    char show [SHOW_SIZE];
    out_show (s, len, show);
    int64_t i64 = 0;
    tx_num_t num = tx_lex_number (s, len, &i64, NULL);
    bool integer = num != TX_NUM_SYNTAX && !memchr (s, '.', len) && !memchr (s, 'e', len)
                && !memchr (s, 'E', len);
    if (num == TX_NUM_SYNTAX) {
        if (kind == K_INT)
            out_invalid (self, line, "bad_field", _("%s: '%s' is not an integer"), field, show);
        else
            out_invalid (self, line, "bad_field", _("%s: '%s' is not a decimal number (like 12, "
                         "-0.5, 1.2e3)"), field, show);
        return -1;
    }
    if (kind == K_INT && num != TX_NUM_INT) {
        if (integer)
            out_invalid (self, line, "out_of_range", _("%s: %s is outside the int range (64 bits: "
                       "%lld to %lld)"), field, show, (long long) INT64_MIN, (long long) INT64_MAX);
        else
            out_invalid (self, line, "bad_field", _("%s: '%s' is not an integer"), field, show);
        return -1;
    }
    if (num == TX_NUM_TOO_LONG) {
        out_invalid (self, line, "bad_number", _("%s: the number has %zu characters; it is sent "
                   "exactly as written, in at most %d, and never rounded: write it with fewer "
                   "digits"), field, len, TX_LEX_MAX_DECIMAL);
        return -1;
    }
    if (num == TX_NUM_RANGE) {
        out_invalid (self, line, "bad_number", _("%s: %s is beyond the range of a decimal (its value "
                   "must fit a binary64 float: 0, or a magnitude from about 2.3e-308 to 1.7e308)"),
                   field, show);
        return -1;
    }
    if (num == TX_NUM_BIG_INT && kind == K_AUTO) {
        if (self->flag_form)
            out_invalid (self, line, "out_of_range", _("%s: %s is an integer outside the int range "
                       "(64 bits) and is never rounded; for a numeric attribute give "
                       "--attr %s:numeric=%s"), field, show, name, show);
        else
            out_invalid (self, line, "out_of_range", _("%s: %s is an integer outside the int range "
                       "(64 bits) and is never rounded; for a numeric attribute write it as a "
                       "string, \"%s\""), field, show, show);
        return -1;
    }
    char text [TX_LEX_MAX_DECIMAL + 1];
    memcpy (text, s, len);
    text [len] = 0;
    value_stored (num == TX_NUM_INT && kind != K_NUMERIC ? tongxin_event_add_int (ev, name, i64)
              : tongxin_event_add_numeric (ev, name, text));
    return 0;
}

//  "code: message" of libtongxin, reported as the line's refusal.
static void
s_refused (send_t *self, uint64_t line, const char *err)
{
    char code [64];
    size_t n = strcspn (err, ":");
    snprintf (code, sizeof code, "%.*s", (int) (n < 63 ? n : 63), err);
    const char *msg = err [n] ? err + n + 1 : err;
    while (*msg == ' ')
        msg++;
    out_invalid (self, line, code, "%s", msg);
}

int
value_string (send_t *self, uint64_t line, tongxin_event_t *ev, const char *name, const char *s)
{
    int kind = self->registry ? tongxin_registry_kind (self->registry, tongxin_event_type (ev), name) : 0;
    if (kind != TONGXIN_KIND_INT && kind != TONGXIN_KIND_NUMERIC) {
        value_stored (tongxin_event_add_text (ev, name, s));
        return 0;
    }
    char err [1024];
    int rc = tongxin_event_add_text_value (ev, self->registry, name, s, err, sizeof err);
    if (rc == TONGXIN_ENOMEM)
        value_stored (rc);
    if (rc != TONGXIN_OK) {
        s_refused (self, line, err);
        return -1;
    }
    return 0;
}

int
value_registry_check (send_t *self, uint64_t line, const tongxin_event_t *ev)
{
    char err [1024];
    if (!self->registry || tongxin_registry_check (self->registry, ev, err, sizeof err) == TONGXIN_OK)
        return 0;
    s_refused (self, line, err);
    return -1;
}
