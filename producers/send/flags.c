/*  flags.c: the event given by flags (see flags.h).  */
#include "flags.h"
#include "output.h"
#include "send.h"
#include "i18n.h"
#include "values.h"
#include "lex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The NAME[:KIND] of an --attr spec: its name's length and its kind.  0,
//  or -1 after reporting.
static int
s_flag_attr_name (send_t *self, const char *spec, size_t *name_len, kind_t *kind, char *field,
                  size_t fieldsize)
{
    char show [SHOW_SIZE];
    const char *eq = strchr (spec, '=');
    if (!eq || eq == spec) {
        out_invalid (self, 1, "bad_field", _("--attr '%s': expected NAME=VALUE or NAME:KIND=VALUE"),
                   out_show (spec, strlen (spec), show));
        return -1;
    }
    const char *colon = memrchr (spec, ':', (size_t) (eq - spec));
    *name_len = (size_t) ((colon ? colon : eq) - spec);
    snprintf (field, fieldsize, *name_len ? "--attr %s" : "--attr", out_show (spec, *name_len, show));
    *kind = K_AUTO;
    if (!colon)
        return 0;
    size_t klen = (size_t) (eq - colon - 1);
    *kind = K_INT;
    while (value_kinds [*kind] && (strlen (value_kinds [*kind]) != klen
                               || memcmp (value_kinds [*kind], colon + 1, klen) != 0))
        (*kind)++;
    if (!value_kinds [*kind]) {
        out_invalid (self, 1, "bad_field", _("%s: unknown kind '%s' (int, numeric, text, bool, "
                   "date)"), field, out_show (colon + 1, klen, show));
        return -1;
    }
    return 0;
}

//  Adds one --attr NAME[:KIND]=VALUE to ev.  The library checks the
//  event (names, lengths, dates) once it is whole.  0, or -1 after reporting.
static int
s_flag_attr (send_t *self, tongxin_event_t *ev, const char *spec)
{
    char show [SHOW_SIZE], field [SHOW_SIZE + 16];
    size_t name_len;
    kind_t kind;
    if (s_flag_attr_name (self, spec, &name_len, &kind, field, sizeof field) != 0)
        return -1;
    const char *value = strchr (spec, '=') + 1;
    size_t vlen = strlen (value);
    kind_t asked = kind;
    if (kind == K_AUTO)
        kind = tx_lex_number (value, vlen, NULL, NULL) != TX_NUM_SYNTAX ? K_NUMERIC
             : strcmp (value, "true") == 0 || strcmp (value, "false") == 0 ? K_BOOL
             : tx_lex_date_shaped (value, vlen) ? K_DATE
             : K_TEXT;
    if (kind == K_BOOL && strcmp (value, "true") != 0 && strcmp (value, "false") != 0) {
        out_invalid (self, 1, "bad_field", _("%s: '%s' is not true or false"), field,
                   out_show (value, vlen, show));
        return -1;
    }
    char *name = strndup (spec, name_len);
    if (!name)
        out_oom ();
    int rc = 0;
    switch (kind) {
        case K_INT:
        case K_NUMERIC:
            rc = value_number (self, 1, field, ev, name, value, vlen, asked);
            break;
        case K_BOOL: value_stored (tongxin_event_add_bool (ev, name, value [0] == 't')); break;
        case K_DATE: value_stored (tongxin_event_add_date (ev, name, value)); break;
        default:     value_stored (tongxin_event_add_text (ev, name, value)); break;
    }
    free (name);
    return rc;
}

//  The event given by flags, checked by the library before anything is
//  opened.  NULL after reporting why.
tongxin_event_t *
flags_event (send_t *self)
{
    const args_t *a = self->args;
    char err [512];
    int64_t at;
    if (value_time (a->at, &at, err, sizeof err) != 0) {
        out_invalid (self, 1, "bad_time", _("--at: %s"), err);
        return NULL;
    }
    tongxin_event_t *ev = tongxin_event_new (a->type, at);
    if (!ev)
        out_oom ();
    if (a->partner)
        value_stored (tongxin_event_set_partner (ev, a->partner));
    for (size_t i = 0; i < a->n_attrs; i++)
        if (s_flag_attr (self, ev, a->attrs [i]) != 0)
            goto fail;
    if (value_id (self, 1, "--id", ev, a->id, a->id ? strlen (a->id) : 0) != 0)
        goto fail;
    if (a->nth)
        value_stored (tongxin_event_set_nth (ev, a->nth));     //  in range: options.c
    int rc = tongxin_event_check (ev, err, sizeof err);
    if (rc == TONGXIN_ENOMEM)
        out_oom ();
    if (rc != TONGXIN_OK) {
        out_refused (self, 1, err);
        goto fail;
    }
    return ev;
fail:
    tongxin_event_destroy (&ev);
    return NULL;
}
