/*  form: see form.h.  The rules are the collector's own, through
 *  libtongxin's registry (common/validate inside): each value a person
 *  wrote is read by tongxin_event_add_text_value (its kind, bounds, enum
 *  values or labels, date forms), then the whole event by
 *  tongxin_registry_check (the type and the nearest one, a retraction's
 *  target, the partner, required attributes).  Their messages follow the
 *  locale's language, so each call runs under the request's (uselocale).
 */
#include "form.h"
#include "i18n.h"
#include "lex.h"

#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static locale_t s_zh, s_en;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_locales (void)
{
    //  Messages and their character set only; numbers keep the C rules.
    s_zh = newlocale (LC_MESSAGES_MASK | LC_CTYPE_MASK, "zh_CN.UTF-8", (locale_t) 0);
    s_en = newlocale (LC_MESSAGES_MASK | LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
    if (!s_en)
        s_en = newlocale (LC_MESSAGES_MASK, "C", (locale_t) 0);
}

//  Switches the calling thread to the language of lang; returns the
//  locale to restore.
static locale_t
s_use (const char *lang)
{
    pthread_once (&s_once, s_locales);
    locale_t want = strcmp (lang, "en") == 0 ? s_en : s_zh;
    return want ? uselocale (want) : uselocale ((locale_t) 0);
}

static void
s_problem (json_t *problems, const char *field, const char *message)
{
    json_array_append_new (problems, json_pack ("{s:s, s:s}", "field", field, "message", message));
}

//  "YYYY-MM-DD HH:MM[:SS]" (or T between) in the process's zone (TZ is the
//  organisation's, set by main), or a time with Z or an offset.
static int
s_time (const char *s, int64_t *us)
{
    size_t len = strlen (s);
    if (len > 40)
        return -1;
    if (tx_lex_time (s, len, us) == TX_TIME_OK)
        return 0;
    char utc [48];
    snprintf (utc, sizeof utc, "%sZ", s);
    int64_t wall;
    if (tx_lex_time (utc, len + 1, &wall) != TX_TIME_OK)
        return -1;
    time_t secs = (time_t) (wall / 1000000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    tm.tm_isdst = -1;
    time_t local = mktime (&tm);
    if (local == (time_t) -1)
        return -1;
    *us = (int64_t) local * 1000000 + wall % 1000000;
    return 0;
}

void
desk_form_local_time (int64_t us, char *out, size_t outlen)
{
    time_t secs = (time_t) (us / 1000000);
    struct tm tm;
    localtime_r (&secs, &tm);
    strftime (out, outlen, "%Y-%m-%d %H:%M", &tm);
}

//  "code: message" -> "message"; the code into code.
static const char *
s_message (const char *err, char *code, size_t codelen)
{
    size_t n = strspn (err, "abcdefghijklmnopqrstuvwxyz_");
    if (n > 0 && n < codelen && err [n] == ':' && err [n + 1] == ' ') {
        memcpy (code, err, n);
        code [n] = 0;
        return err + n + 2;
    }
    *code = 0;
    return err;
}

//  The attribute of type (the registry's JSON) that is required and not
//  in attrs, or "".
static const char *
s_missing (json_t *tdef, json_t *attrs)
{
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (tdef, "attrs"), i, a) {
        const char *name = json_string_value (json_object_get (a, "name")) ?: "";
        const char *v = json_string_value (json_object_get (attrs, name));
        if (json_is_true (json_object_get (a, "required")) && (!v || !*v))
            return name;
    }
    return "";
}

tongxin_event_t *
desk_form_event (desk_t *desk, const char *lang, json_t *input, int64_t *occurred_us, json_t *problems)
{
    size_t before = json_array_size (problems);
    char msg [512], err [512], code [64];
    if (!desk->treg) {
        s_problem (problems, "", desk_tr (desk, lang,
                   N_("The desk has not received the registry from the collector yet; try again later.")));
        return NULL;
    }
    const char *type = json_string_value (json_object_get (input, "type"));
    if (!type || !*type) {
        s_problem (problems, "type", desk_tr (desk, lang, N_("Choose the type of the report.")));
        return NULL;
    }
    json_t *tdef = desk_registry_type (desk, type);
    const char *at = json_string_value (json_object_get (input, "occurred_at"));
    if (!at || !*at)
        s_problem (problems, "occurred_at", desk_tr (desk, lang, N_("Give the date and time it happened.")));
    else
    if (s_time (at, occurred_us) != 0)
        s_problem (problems, "occurred_at",
                   desk_tr (desk, lang, N_("The time is not valid: write it as 2025-04-01 09:30.")));
    tongxin_event_t *ev = tongxin_event_new (type, *occurred_us);
    if (!ev)
        return NULL;
    int rc = TONGXIN_OK;
    const char *partner = json_string_value (json_object_get (input, "partner"));
    if (partner && *partner)
        rc |= tongxin_event_set_partner (ev, partner);
    const char *sup = json_string_value (json_object_get (input, "supersedes"));
    if (sup && *sup && tongxin_event_set_supersedes (ev, sup) != TONGXIN_OK)
        s_problem (problems, "supersedes", "supersedes: not a report id");
    json_int_t nth = json_integer_value (json_object_get (input, "nth"));
    if (nth > 1)
        rc |= tongxin_event_set_nth (ev, (unsigned) (nth > TONGXIN_MAX_NTH ? TONGXIN_MAX_NTH : nth));

    locale_t old = s_use (lang);
    //  Each value as its kind reads it: every field's problem at once.
    const char *name;
    json_t *val;
    json_object_foreach (json_object_get (input, "attrs"), name, val) {
        const char *text = json_string_value (val);
        if (!text || !*text || !tdef)
            continue;           //  left empty: not given
        int arc = tongxin_event_add_text_value (ev, desk->treg, name, text, err, sizeof err);
        if (arc == TONGXIN_ENOMEM)
            rc = arc;
        else
        if (arc != TONGXIN_OK)
            s_problem (problems, name, s_message (err, code, sizeof code));
    }
    //  Then the event as a whole, when its fields are right: the type (and
    //  the nearest one), a retraction's target, the partner, what is
    //  required.  The first problem only (the collector's order).
    if (json_array_size (problems) == before && rc == TONGXIN_OK
    &&  tongxin_registry_check (desk->treg, ev, err, sizeof err) != TONGXIN_OK) {
        const char *m = s_message (err, code, sizeof code);
        const char *field = strcmp (code, "unknown_type") == 0 ? "type"
                          : strcmp (code, "missing_partner") == 0 || strcmp (code, "unknown_partner") == 0 ? "partner"
                          : strcmp (code, "missing_attr") == 0 ? s_missing (tdef, json_object_get (input, "attrs"))
                          : "";
        s_problem (problems, field, m);
    }
    uselocale (old);
    if (json_array_size (problems) == before
    &&  (rc != TONGXIN_OK || tongxin_event_check (ev, err, sizeof err) != TONGXIN_OK)) {
        snprintf (msg, sizeof msg, "%s", rc != TONGXIN_OK
                  ? desk_tr (desk, lang, N_("This value cannot be sent: it is too long or not valid text."))
                  : err);
        s_problem (problems, "", msg);
    }
    if (json_array_size (problems) != before) {
        tongxin_event_destroy (&ev);
        return NULL;
    }
    return ev;
}
