/*  form: see form.h.  The rules are common/validate's, the collector's
 *  own: each value a person wrote is read by tx_validate_text_value (its
 *  kind, bounds, enum values or labels, date forms), then the whole event
 *  by tx_validate_event_local (the type, a retraction's target, the
 *  partner, required attributes).  Their messages follow the locale's
 *  language, so each call runs under the request's locale (uselocale).
 */
#include "form.h"
#include "i18n.h"
#include "lex.h"
#include "validate.h"

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

//  The typed value into the event, by the attribute's kind.
static int
s_add (tongxin_event_t *ev, const tx_attr_def_t *def, const tx_value_t *v)
{
    char text [TONGXIN_MAX_TEXT + 1];
    if (v->type == TX_VAL_INT)
        return tongxin_event_add_int (ev, def->name, v->u.i);
    if (v->type == TX_VAL_BOOL)
        return tongxin_event_add_bool (ev, def->name, v->u.b);
    if (v->type != TX_VAL_STR || v->u.s.len > TONGXIN_MAX_TEXT)
        return TONGXIN_EINVAL;
    memcpy (text, v->u.s.ptr, v->u.s.len);
    text [v->u.s.len] = 0;
    if (def->kind == TX_KIND_NUMERIC)
        return tongxin_event_add_numeric (ev, def->name, text);
    if (def->kind == TX_KIND_DATE)
        return tongxin_event_add_date (ev, def->name, text);
    return tongxin_event_add_text (ev, def->name, text);
}

tongxin_event_t *
desk_form_event (desk_t *desk, const char *lang, json_t *input, int64_t *occurred_us, json_t *problems)
{
    size_t before = json_array_size (problems);
    char msg [512];
    const tx_registry_t *reg = desk->reg;
    const char *type = json_string_value (json_object_get (input, "type"));
    if (!type || !*type) {
        s_problem (problems, "type", desk_tr (desk, lang, N_("Choose the type of the report.")));
        return NULL;
    }
    const tx_type_def_t *tdef = tx_registry_type (reg, type, strlen (type));
    const char *at = json_string_value (json_object_get (input, "occurred_at"));
    if (!at || !*at)
        s_problem (problems, "occurred_at", desk_tr (desk, lang, N_("Give the date and time it happened.")));
    else
    if (s_time (at, occurred_us) != 0)
        s_problem (problems, "occurred_at",
                   desk_tr (desk, lang, N_("The time is not valid: write it as 2025-04-01 09:30.")));
    const char *partner = json_string_value (json_object_get (input, "partner"));
    if (partner && !*partner)
        partner = NULL;
    const char *sup = json_string_value (json_object_get (input, "supersedes"));
    uint8_t sup_id [16];
    bool has_sup = sup && *sup;
    if (has_sup && tongxin_id_parse (sup, sup_id) != TONGXIN_OK) {
        s_problem (problems, "supersedes", "supersedes: not a report id");
        return NULL;
    }

    //  Each value as its kind reads it: every field's problem at once.
    locale_t old = s_use (lang);
    tx_attr_t attrs [TONGXIN_MAX_ATTRS];
    char norms [TONGXIN_MAX_ATTRS][TX_VALIDATE_NORM];
    const tx_attr_def_t *defs [TONGXIN_MAX_ATTRS];
    size_t n = 0;
    const char *name;
    json_t *val;
    json_object_foreach (json_object_get (input, "attrs"), name, val) {
        const char *text = json_string_value (val);
        if (!text || !*text || !tdef)
            continue;           //  left empty: not given
        const tx_attr_def_t *def = tx_validate_attr_def (tdef, name, strlen (name));
        if (!def) {
            snprintf (msg, sizeof msg, desk_tr (desk, lang, N_("This report type has no field \"%s\".")), name);
            s_problem (problems, name, msg);
            continue;
        }
        if (n == TONGXIN_MAX_ATTRS)
            break;
        if (tx_validate_text_value (def, text, strlen (text), &attrs [n].value, norms [n],
                                    msg, sizeof msg) != TX_REJECT_NONE) {
            s_problem (problems, name, msg);
            continue;
        }
        attrs [n].name = def->name;
        attrs [n].name_len = def->name_len;
        defs [n++] = def;
    }
    //  Then the event as a whole, when its fields are right: the type (and
    //  the nearest one), a retraction's target, the partner, what is
    //  required.  The first problem only (the collector's order).
    if (json_array_size (problems) == before) {
        tx_event_t ev = { .type = type, .type_len = strlen (type),
                          .partner = partner, .partner_len = partner ? strlen (partner) : 0,
                          .attrs = attrs, .attr_count = n, .has_supersedes = has_sup };
        if (has_sup)
            memcpy (ev.supersedes, sup_id, 16);
        int code = tx_validate_event_local (reg, &ev, msg, sizeof msg);
        if (code != TX_REJECT_NONE) {
            const char *field = "";
            if (code == TX_REJECT_UNKNOWN_TYPE)
                field = "type";
            else
            if (code == TX_REJECT_MISSING_PARTNER || code == TX_REJECT_UNKNOWN_PARTNER)
                field = "partner";
            else
            if (code == TX_REJECT_MISSING_ATTR && tdef)
                for (size_t i = 0; i < tdef->n_attrs && !*field; i++) {
                    bool given = false;
                    for (size_t j = 0; j < n; j++)
                        given |= defs [j] == &tdef->attrs [i];
                    if (tdef->attrs [i].required && !given)
                        field = tdef->attrs [i].name;
                }
            s_problem (problems, field, msg);
        }
    }
    uselocale (old);
    if (json_array_size (problems) != before)
        return NULL;

    tongxin_event_t *ev = tongxin_event_new (type, *occurred_us);
    if (!ev)
        return NULL;
    int rc = TONGXIN_OK;
    if (partner)
        rc |= tongxin_event_set_partner (ev, partner);
    if (has_sup)
        rc |= tongxin_event_set_supersedes (ev, sup);
    json_int_t nth = json_integer_value (json_object_get (input, "nth"));
    if (nth > 1)
        rc |= tongxin_event_set_nth (ev, (unsigned) (nth > TONGXIN_MAX_NTH ? TONGXIN_MAX_NTH : nth));
    for (size_t i = 0; i < n && rc == TONGXIN_OK; i++)
        rc = s_add (ev, defs [i], &attrs [i].value);
    char err [256];
    if (rc != TONGXIN_OK || tongxin_event_check (ev, err, sizeof err) != TONGXIN_OK) {
        s_problem (problems, "", rc != TONGXIN_OK
                   ? desk_tr (desk, lang, N_("This value cannot be sent: it is too long or not valid text."))
                   : err);
        tongxin_event_destroy (&ev);
        return NULL;
    }
    return ev;
}
