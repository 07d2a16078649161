/*  form: see form.h.  */
#include "form.h"
#include "i18n.h"
#include "lex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static json_t *
s_attr_def (json_t *type, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (type, "attrs"), i, a)
        if (strcmp (json_string_value (json_object_get (a, "name")) ?: "", name) == 0)
            return a;
    return NULL;
}

tongxin_event_t *
desk_form_event (desk_t *desk, const char *lang, json_t *input, int64_t *occurred_us, json_t *problems)
{
    size_t before = json_array_size (problems);
    char msg [512];
    const char *type = json_string_value (json_object_get (input, "type"));
    json_t *tdef = type ? desk_registry_type (desk, type) : NULL;
    if (!type || !*type) {
        s_problem (problems, "type", desk_tr (desk, lang, N_("Choose the type of the report.")));
        return NULL;
    }
    if (!tdef) {
        snprintf (msg, sizeof msg, desk_tr (desk, lang, N_("There is no report type \"%s\"; choose one from the list.")), type);
        s_problem (problems, "type", msg);
        return NULL;
    }
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
    const char *partner = json_string_value (json_object_get (input, "partner"));
    if (partner && *partner) {
        if (!tx_lex_region (partner, strlen (partner)))
            s_problem (problems, "partner", desk_tr (desk, lang, N_("The partner region is a 6-digit code; choose it from the list.")));
        else
            tongxin_event_set_partner (ev, partner);
    }
    const char *sup = json_string_value (json_object_get (input, "supersedes"));
    if (sup && *sup && tongxin_event_set_supersedes (ev, sup) != TONGXIN_OK)
        s_problem (problems, "supersedes", "supersedes: not a report id");
    json_int_t nth = json_integer_value (json_object_get (input, "nth"));
    if (nth > 1)
        tongxin_event_set_nth (ev, (unsigned) (nth > TONGXIN_MAX_NTH ? TONGXIN_MAX_NTH : nth));

    const char *name;
    json_t *val;
    json_object_foreach (json_object_get (input, "attrs"), name, val) {
        const char *text = json_string_value (val);
        if (!text || !*text)
            continue;           //  left empty: not given
        json_t *def = s_attr_def (tdef, name);
        if (!def) {
            snprintf (msg, sizeof msg, desk_tr (desk, lang, N_("This report type has no field \"%s\".")), name);
            s_problem (problems, name, msg);
            continue;
        }
        const char *kind = json_string_value (json_object_get (def, "kind")) ?: "text";
        size_t len = strlen (text);
        int rc = TONGXIN_OK;
        if (strcmp (kind, "int") == 0) {
            int64_t i;
            if (tx_lex_number (text, len, &i, NULL) != TX_NUM_INT) {
                s_problem (problems, name, desk_tr (desk, lang, N_("Write a whole number, such as 12.")));
                continue;
            }
            rc = tongxin_event_add_int (ev, name, i);
        }
        else
        if (strcmp (kind, "numeric") == 0) {
            if (!tx_lex_is_decimal (tx_lex_number (text, len, NULL, NULL))) {
                s_problem (problems, name, desk_tr (desk, lang, N_("Write a number, such as 1200 or 3.5, without commas or units.")));
                continue;
            }
            rc = tongxin_event_add_numeric (ev, name, text);
        }
        else
        if (strcmp (kind, "bool") == 0) {
            bool yes = strcmp (text, "true") == 0 || strcmp (text, "是") == 0 || strcmp (text, "yes") == 0;
            bool no = strcmp (text, "false") == 0 || strcmp (text, "否") == 0 || strcmp (text, "no") == 0;
            if (!yes && !no) {
                s_problem (problems, name, desk_tr (desk, lang, N_("Write yes or no.")));
                continue;
            }
            rc = tongxin_event_add_bool (ev, name, yes);
        }
        else
        if (strcmp (kind, "date") == 0) {
            if (!tx_lex_date (text, len)) {
                s_problem (problems, name, desk_tr (desk, lang, N_("Write a date as 2025-04-01.")));
                continue;
            }
            rc = tongxin_event_add_date (ev, name, text);
        }
        else
            rc = tongxin_event_add_text (ev, name, text);
        if (rc != TONGXIN_OK)
            s_problem (problems, name, desk_tr (desk, lang, N_("This value cannot be sent: it is too long or not valid text.")));
    }
    if (json_array_size (problems) == before) {
        char err [256];
        if (tongxin_event_check (ev, err, sizeof err) != TONGXIN_OK)
            s_problem (problems, "", err);
    }
    if (json_array_size (problems) != before) {
        tongxin_event_destroy (&ev);
        return NULL;
    }
    return ev;
}
