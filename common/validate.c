/*  validate.c: registry checks and attribute JSON.  */
#include "validate.h"
#include "i18n.h"
#include "lex.h"
#include "utf8.h"
#include "uuid.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIN_AT_SEC 946684800    //  2000-01-01T00:00:00Z

//  Where a check writes its message, and for whom: the collector's wire
//  text is English and names attributes by name (protocol text); a
//  producer's is in the reader's language and names the field by its
//  label too.
typedef struct {
    char *msg;                  //  NULL: no message wanted
    size_t msglen;
    bool tr;                    //  translate (gettext) and use labels
} out_t;

#define T(o, s) ((o)->tr ? _(s) : (s))

//  FMT is always a literal at the call sites with exactly one "%.*s", which
//  takes NAME cut to 64 bytes (names) or 200 (labels).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int
s_fail (int code, const out_t *o, const char *fmt, const char *name, size_t len)
{
    if (o->msg && o->msglen) {
        //  Names are valid UTF-8 (the decoder checked); cut them short.
        size_t max = o->tr ? 200 : 64;
        int n = len > max ? (int) tx_utf8_prefix (name, len, max) : (int) len;
        snprintf (o->msg, o->msglen, T (o, fmt), n, name ? name : "");
    }
    return code;
}

//  The same with a second argument: a bound, a format, a list.
static int
s_fail2 (int code, const out_t *o, const char *fmt, const char *name, size_t len, const char *arg)
{
    if (o->msg && o->msglen) {
        size_t max = o->tr ? 200 : 64;
        int n = len > max ? (int) tx_utf8_prefix (name, len, max) : (int) len;
        snprintf (o->msg, o->msglen, T (o, fmt), n, name ? name : "", arg);
    }
    return code;
}
#pragma GCC diagnostic pop

bool
tx_validate_lang_zh (void)
{
    //  TRANSLATORS: the language of this catalogue as "en" or "zh": it picks
    //  which of the registry's labels name fields in messages (zh: the
    //  Chinese labels).  Translate it as "zh" in a Chinese catalogue.
    return strcmp (_("en"), "zh") == 0;
}

const char *
tx_validate_label (const tx_attr_def_t *def)
{
    const char *zh = def->label_zh, *en = def->label_en;
    if (tx_validate_lang_zh ())
        return zh ? zh : en ? en : def->name;
    return en ? en : def->name;
}

//  How a message names attribute def (or the name as sent when there is
//  no declaration): its name for the collector; for producers its label
//  and, when they differ, its name: "参加人数 (participants)".
static const char *
s_field (const out_t *o, const tx_attr_def_t *def, const char *name, size_t len, char *buf,
         size_t size, size_t *out_len)
{
    if (!o->tr || !def) {
        *out_len = len;
        return name;
    }
    const char *label = tx_validate_label (def);
    int n = strcmp (label, def->name) == 0 ? snprintf (buf, size, "%s", label)
                                           : snprintf (buf, size, "%s (%s)", label, def->name);
    *out_len = n < 0 ? 0 : (size_t) n >= size ? tx_utf8_prefix (buf, strlen (buf), size - 1) : (size_t) n;
    return buf;
}

#define FIELD(o, def, a) \
    char field_ [320]; size_t flen_; \
    const char *field = s_field (o, def, (a)->name, (a)->name_len, field_, sizeof field_, &flen_)

const tx_attr_def_t *
tx_validate_attr_def (const tx_type_def_t *type, const char *name, size_t len)
{
    for (size_t i = 0; i < type->n_attrs; i++)
        if (type->attrs [i].name_len == len && memcmp (type->attrs [i].name, name, len) == 0)
            return &type->attrs [i];
    return NULL;
}

static int
s_check_range (const tx_attr_def_t *def, double v, const tx_attr_t *a, const out_t *o)
{
    FIELD (o, def, a);
    char bound [32];
    if (def->has_min && (def->min_exclusive ? !(v > def->min) : !(v >= def->min))) {
        tx_validate_format_double (def->min, bound);
        return s_fail2 (TX_REJECT_OUT_OF_RANGE, o,
                        def->min_exclusive ? N_("attribute %.*s must be greater than its minimum (%s)")
                                           : N_("attribute %.*s is below its minimum (%s)"),
                        field, flen_, bound);
    }
    if (def->has_max && !(v <= def->max)) {
        tx_validate_format_double (def->max, bound);
        return s_fail2 (TX_REJECT_OUT_OF_RANGE, o, N_("attribute %.*s is above its maximum (%s)"),
                        field, flen_, bound);
    }
    return TX_REJECT_NONE;
}

//  A numeric: an int, a float, or decimal text by the producers' rule
//  (common/lex.c: at most 64 bytes, within binary64); finite; in range.
static int
s_check_numeric (const tx_attr_def_t *def, const tx_attr_t *a, const out_t *o)
{
    FIELD (o, def, a);
    const tx_value_t *v = &a->value;
    double d;
    if (v->type == TX_VAL_INT)
        d = (double) v->u.i;
    else
    if (v->type == TX_VAL_FLOAT)
        d = v->u.f;
    else
    if (v->type == TX_VAL_STR) {
        tx_num_t kind = tx_lex_number (v->u.s.ptr, v->u.s.len, NULL, &d);
        if (kind == TX_NUM_SYNTAX || kind == TX_NUM_TOO_LONG)
            return s_fail (TX_REJECT_BAD_NUMBER, o,
                           N_("attribute %.*s is not a decimal number"), field, flen_);
        if (kind == TX_NUM_RANGE)
            return s_fail (TX_REJECT_BAD_NUMBER, o,
                           N_("attribute %.*s is out of the representable range"), field, flen_);
    }
    else
        return s_fail (TX_REJECT_BAD_ATTR_TYPE, o,
                       N_("attribute %.*s must be a number or a decimal string"), field, flen_);
    if (!isfinite (d))
        return s_fail (TX_REJECT_BAD_NUMBER, o, N_("attribute %.*s is not finite"), field, flen_);
    return s_check_range (def, d, a, o);
}

//  "one of: a, b" into msg: values (collector), or labels with values.
static int
s_enum_fail (const tx_attr_def_t *def, const tx_attr_t *a, const out_t *o)
{
    FIELD (o, def, a);
    if (!o->msg || !o->msglen)
        return TX_REJECT_BAD_ENUM;
    //  Say which values are allowed (registry text: clean, as many as fit).
    char *msg = o->msg;
    size_t msglen = o->msglen;
    s_fail (TX_REJECT_BAD_ENUM, o, N_("attribute %.*s must be one of:"), field, flen_);
    int n = (int) strlen (msg);
    bool zh = o->tr && tx_validate_lang_zh ();
    for (size_t i = 0; n > 0 && (size_t) n < msglen && i < def->n_enum; i++) {
        size_t left = msglen - (size_t) n;
        const char *label = !o->tr ? NULL : zh && def->enum_labels_zh ? def->enum_labels_zh [i]
                          : def->enum_labels_en ? def->enum_labels_en [i] : NULL;
        int w = label && strcmp (label, def->enum_values [i]) != 0
              ? snprintf (msg + n, left, "%s %s (%s)", i ? "," : "", label, def->enum_values [i])
              : snprintf (msg + n, left, "%s %s", i ? "," : "", def->enum_values [i]);
        if (w < 0 || (size_t) w >= left) {
            //  Cut at a whole value: "..." if there is room.
            msg [n] = 0;
            if (left > 5)
                snprintf (msg + n, left, " ...");
            break;
        }
        n += w;
    }
    return TX_REJECT_BAD_ENUM;
}

static int
s_check_enum (const tx_attr_def_t *def, const tx_attr_t *a, const out_t *o)
{
    const tx_value_t *v = &a->value;
    if (v->type != TX_VAL_STR) {
        FIELD (o, def, a);
        return s_fail (TX_REJECT_BAD_ATTR_TYPE, o, N_("attribute %.*s must be a string"), field, flen_);
    }
    for (size_t i = 0; i < def->n_enum; i++)
        if (strlen (def->enum_values [i]) == v->u.s.len
        &&  memcmp (def->enum_values [i], v->u.s.ptr, v->u.s.len) == 0)
            return TX_REJECT_NONE;
    return s_enum_fail (def, a, o);
}

static int
s_check_attr (const tx_attr_def_t *def, const tx_attr_t *a, const out_t *o)
{
    const tx_value_t *v = &a->value;
    FIELD (o, def, a);
    switch (def->kind) {
        case TX_KIND_INT:
            if (v->type != TX_VAL_INT)
                return s_fail (TX_REJECT_BAD_ATTR_TYPE, o, N_("attribute %.*s must be an integer"),
                               field, flen_);
            return s_check_range (def, (double) v->u.i, a, o);
        case TX_KIND_NUMERIC:
            return s_check_numeric (def, a, o);
        case TX_KIND_TEXT: {
            if (v->type != TX_VAL_STR)
                return s_fail (TX_REJECT_BAD_ATTR_TYPE, o, N_("attribute %.*s must be a string"),
                               field, flen_);
            size_t max = def->max_len > 0 ? (size_t) def->max_len : TX_WIRE_MAX_STR;
            if (v->u.s.len > max) {
                char bound [24];
                snprintf (bound, sizeof bound, "%zu", max);
                return s_fail2 (TX_REJECT_TOO_LONG, o,
                                N_("attribute %.*s is longer than allowed (at most %s bytes)"),
                                field, flen_, bound);
            }
            return TX_REJECT_NONE;
        }
        case TX_KIND_BOOL:
            if (v->type != TX_VAL_BOOL)
                return s_fail (TX_REJECT_BAD_ATTR_TYPE, o, N_("attribute %.*s must be true or false"),
                               field, flen_);
            return TX_REJECT_NONE;
        case TX_KIND_DATE:
            if (v->type != TX_VAL_STR)
                return s_fail (TX_REJECT_BAD_ATTR_TYPE, o, N_("attribute %.*s must be a date string"),
                               field, flen_);
            if (!tx_lex_date (v->u.s.ptr, v->u.s.len))
                return s_fail (TX_REJECT_BAD_DATE, o,
                               N_("attribute %.*s is not a valid YYYY-MM-DD date"), field, flen_);
            return TX_REJECT_NONE;
        case TX_KIND_ENUM:
            return s_check_enum (def, a, o);
    }
    return s_fail (TX_REJECT_BAD_ATTR_TYPE, o, N_("attribute %.*s has an unknown kind"), field, flen_);
}

//  The sender and its unit.
static int
s_check_unit (const tx_registry_t *reg, const tx_event_t *ev, const tx_validate_ctx_t *ctx,
              const out_t *o)
{
    if (ctx->auth_unit
    && (strlen (ctx->auth_unit) != ev->unit_len || memcmp (ctx->auth_unit, ev->unit, ev->unit_len) != 0))
    {
        if (o->msg && o->msglen)
            snprintf (o->msg, o->msglen, "unit %.*s is not the sender's unit: the key this producer"
                      " connected with belongs to unit %.64s", ev->unit_len > 64 ? 64 : (int) ev->unit_len,
                      ev->unit, ctx->auth_unit);
        return TX_REJECT_UNIT_MISMATCH;
    }
    int unit = tx_registry_unit (reg, ev->unit, ev->unit_len);
    if (unit < 0)
        return s_fail (TX_REJECT_UNKNOWN_UNIT, o, "unknown unit %.*s", ev->unit, ev->unit_len);
    if (unit == 0)
        return s_fail (TX_REJECT_UNIT_INACTIVE, o, "unit %.*s is disabled", ev->unit, ev->unit_len);
    return TX_REJECT_NONE;
}

//  occurred_at and the time in the id.
static int
s_check_times (const tx_registry_t *reg, const tx_event_t *ev, const tx_validate_ctx_t *ctx,
               const out_t *o)
{
    if (ev->at_sec < MIN_AT_SEC)
        return s_fail (TX_REJECT_BAD_TIME, o, "occurred_at is before 2000-01-01%.*s", "", 0);
    //  Range first: a hostile timestamp 96 of 2^63-1 s overflows the product.
    if (ev->at_sec > INT64_MAX / 1000 - 1
    ||  ev->at_sec * 1000 + ev->at_nsec / 1000000 > ctx->now_ms + ctx->max_skew_ms)
        return s_fail (TX_REJECT_BAD_TIME, o,
                       "occurred_at is ahead of the collector's clock by more than the allowed skew%.*s", "", 0);
    int64_t id_ms = (int64_t) tx_uuid_v7_ms (ev->id), lo, hi;
    tx_registry_id_window (reg, &lo, &hi);
    if (id_ms > ctx->now_ms + ctx->max_skew_ms)
        return s_fail (TX_REJECT_BAD_ID_TIME, o, "the id's timestamp is ahead of the collector's clock%.*s", "", 0);
    if (id_ms < lo || id_ms >= hi)
        return s_fail (TX_REJECT_BAD_ID_TIME, o, "the id's timestamp is outside the stored months%.*s", "", 0);
    return TX_REJECT_NONE;
}

static int
s_check_partner (const tx_registry_t *reg, const tx_type_def_t *type, const tx_event_t *ev,
                 const out_t *o)
{
    if (!ev->partner)
        return type->partner_required
             ? s_fail (TX_REJECT_MISSING_PARTNER, o, N_("event type %.*s needs a partner region"),
                       ev->type, ev->type_len)
             : TX_REJECT_NONE;
    if (!tx_registry_region (reg, ev->partner, ev->partner_len))
        return s_fail (TX_REJECT_UNKNOWN_PARTNER, o, N_("unknown partner region %.*s"),
                       ev->partner, ev->partner_len);
    return TX_REJECT_NONE;
}

//  The first required attribute of type the event lacks, or NULL.
static const tx_attr_def_t *
s_missing_attr (const tx_type_def_t *type, const tx_event_t *ev)
{
    for (size_t k = 0; k < type->n_attrs; k++) {
        const tx_attr_def_t *def = &type->attrs [k];
        bool found = false;
        for (size_t i = 0; def->required && i < ev->attr_count && !found; i++)
            found = ev->attrs [i].name_len == def->name_len
                 && memcmp (ev->attrs [i].name, def->name, def->name_len) == 0;
        if (def->required && !found)
            return def;
    }
    return NULL;
}

//  Each attribute in the order sent, then the required ones.
static int
s_check_attrs (const tx_type_def_t *type, const tx_event_t *ev, const out_t *o)
{
    size_t required = 0;
    for (size_t i = 0; i < ev->attr_count; i++) {
        const tx_attr_t *a = &ev->attrs [i];
        const tx_attr_def_t *def = tx_validate_attr_def (type, a->name, a->name_len);
        if (!def)
            return s_fail (TX_REJECT_UNKNOWN_ATTR, o, N_("unknown attribute %.*s"), a->name, a->name_len);
        int rc = s_check_attr (def, a, o);
        if (rc != TX_REJECT_NONE)
            return rc;
        if (def->required)
            required++;
    }
    const tx_attr_def_t *missing = required < type->n_required ? s_missing_attr (type, ev) : NULL;
    if (missing) {
        tx_attr_t m = { .name = missing->name, .name_len = missing->name_len };
        FIELD (o, missing, &m);
        return s_fail (TX_REJECT_MISSING_ATTR, o, N_("missing required attribute %.*s"), field, flen_);
    }
    return TX_REJECT_NONE;
}

//  The type, then a retraction's target.
static int
s_check_type (const tx_registry_t *reg, const tx_event_t *ev, const tx_type_def_t **type_p,
              const out_t *o)
{
    const tx_type_def_t *type = *type_p = tx_registry_type (reg, ev->type, ev->type_len);
    if (!type)
    {
        const char *near = tx_registry_nearest_type (reg, ev->type, ev->type_len);
        if (near)
            s_fail2 (TX_REJECT_UNKNOWN_TYPE, o, N_("unknown event type %.*s; did you mean %s?"),
                     ev->type, ev->type_len, near);
        else
            s_fail (TX_REJECT_UNKNOWN_TYPE, o, N_("unknown event type %.*s"), ev->type, ev->type_len);
        return TX_REJECT_UNKNOWN_TYPE;
    }
    //  A retraction says which event it withdraws (revision 1.1).
    if (ev->type_len == 10 && memcmp (ev->type, "retraction", 10) == 0 && !ev->has_supersedes)
        return s_fail (TX_REJECT_MALFORMED_EVENT, o,
                       N_("a retraction must name the event it retracts in 'supersedes'%.*s"), "", 0);
    return TX_REJECT_NONE;
}

int
tx_validate_event (const tx_registry_t *reg, const tx_event_t *ev, const tx_validate_ctx_t *ctx,
                   const tx_type_def_t **type_p, char *msg, size_t msglen)
{
    out_t o = { msg, msglen, false };
    if (type_p)
        *type_p = NULL;
    const tx_type_def_t *type;
    int rc;
    if ((rc = s_check_unit (reg, ev, ctx, &o)) != TX_REJECT_NONE
    ||  (rc = s_check_type (reg, ev, &type, &o)) != TX_REJECT_NONE
    ||  (rc = s_check_times (reg, ev, ctx, &o)) != TX_REJECT_NONE
    ||  (rc = s_check_partner (reg, type, ev, &o)) != TX_REJECT_NONE
    ||  (rc = s_check_attrs (type, ev, &o)) != TX_REJECT_NONE)
        return rc;
    if (type_p)
        *type_p = type;
    return TX_REJECT_NONE;
}

int
tx_validate_event_local (const tx_registry_t *reg, const tx_event_t *ev, char *msg, size_t msglen)
{
    out_t o = { msg, msglen, true };
    const tx_type_def_t *type;
    int rc;
    if ((rc = s_check_type (reg, ev, &type, &o)) != TX_REJECT_NONE
    ||  (rc = s_check_partner (reg, type, ev, &o)) != TX_REJECT_NONE
    ||  (rc = s_check_attrs (type, ev, &o)) != TX_REJECT_NONE)
        return rc;
    return TX_REJECT_NONE;
}

//  ----------------------------------------------------------------- text

//  s[0..*len) without ASCII blanks and ideographic spaces (U+3000) at
//  either end.
static const char *
s_trim (const char *s, size_t *len)
{
    size_t n = *len;
    for (;;) {
        if (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
            s++, n--;
        else
        if (n >= 3 && memcmp (s, "\xe3\x80\x80", 3) == 0)
            s += 3, n -= 3;
        else
            break;
    }
    for (;;) {
        if (n && (s [n - 1] == ' ' || s [n - 1] == '\t' || s [n - 1] == '\r' || s [n - 1] == '\n'))
            n--;
        else
        if (n >= 3 && memcmp (s + n - 3, "\xe3\x80\x80", 3) == 0)
            n -= 3;
        else
            break;
    }
    *len = n;
    return s;
}

static bool
s_is (const char *s, size_t len, const char *lit)
{
    return strlen (lit) == len && strncasecmp (s, lit, len) == 0;
}

//  A date as written in a spreadsheet: YYYY-MM-DD, or with / or . and
//  months and days of one or two digits, into norm as YYYY-MM-DD.
static bool
s_date (const char *s, size_t len, char norm [TX_VALIDATE_NORM])
{
    unsigned y = 0, m = 0, d = 0;
    size_t i = 0, digits;
    char sep = 0;
    for (digits = 0; i < len && digits < 4 && s [i] >= '0' && s [i] <= '9'; i++, digits++)
        y = y * 10 + (unsigned) (s [i] - '0');
    if (digits != 4 || i >= len || (s [i] != '-' && s [i] != '/' && s [i] != '.'))
        return false;
    sep = s [i++];
    for (digits = 0; i < len && digits < 2 && s [i] >= '0' && s [i] <= '9'; i++, digits++)
        m = m * 10 + (unsigned) (s [i] - '0');
    if (!digits || i >= len || s [i++] != sep)
        return false;
    for (digits = 0; i < len && digits < 2 && s [i] >= '0' && s [i] <= '9'; i++, digits++)
        d = d * 10 + (unsigned) (s [i] - '0');
    if (!digits || i != len)
        return false;
    snprintf (norm, TX_VALIDATE_NORM, "%04u-%02u-%02u", y % 10000, m % 100, d % 100);
    return tx_lex_date (norm, 10);
}

int
tx_validate_text_value (const tx_attr_def_t *def, const char *text, size_t len, tx_value_t *out,
                        char norm [TX_VALIDATE_NORM], char *msg, size_t msglen)
{
    out_t o = { msg, msglen, true };
    tx_attr_t a = { .name = def->name, .name_len = def->name_len };
    FIELD (&o, def, &a);
    if (!tx_utf8_valid (text, len))
        return s_fail (TX_REJECT_BAD_UTF8, &o, N_("attribute %.*s is not valid UTF-8 text"), field, flen_);
    const char *s = text;
    size_t n = len;
    if (def->kind != TX_KIND_TEXT)
        s = s_trim (text, &n);
    memset (out, 0, sizeof *out);
    switch (def->kind) {
        case TX_KIND_INT: {
            int64_t i;
            if (tx_lex_number (s, n, &i, NULL) != TX_NUM_INT)
                return s_fail (TX_REJECT_BAD_ATTR_TYPE, &o,
                               N_("attribute %.*s must be a whole number, such as 12"), field, flen_);
            out->type = TX_VAL_INT;
            out->u.i = i;
            break;
        }
        case TX_KIND_NUMERIC: {
            tx_num_t k = tx_lex_number (s, n, NULL, NULL);
            if (k == TX_NUM_SYNTAX || k == TX_NUM_TOO_LONG || k == TX_NUM_RANGE)
                return s_fail (TX_REJECT_BAD_NUMBER, &o,
                               N_("attribute %.*s must be a decimal number, such as 70000.00"), field, flen_);
            out->type = TX_VAL_STR;
            out->u.s.ptr = s;
            out->u.s.len = n;
            break;
        }
        case TX_KIND_BOOL:
            out->type = TX_VAL_BOOL;
            if (s_is (s, n, "true") || s_is (s, n, "是"))
                out->u.b = true;
            else
            if (!s_is (s, n, "false") && !s_is (s, n, "否"))
                return s_fail (TX_REJECT_BAD_ATTR_TYPE, &o,
                               N_("attribute %.*s must be true or false (是 or 否)"), field, flen_);
            break;
        case TX_KIND_DATE:
            if (!s_date (s, n, norm))
                return s_fail (TX_REJECT_BAD_DATE, &o,
                               N_("attribute %.*s must be a date written YYYY-MM-DD, such as 2025-04-01"),
                               field, flen_);
            out->type = TX_VAL_STR;
            out->u.s.ptr = norm;
            out->u.s.len = 10;
            break;
        case TX_KIND_ENUM:
            out->type = TX_VAL_STR;
            for (size_t i = 0; i < def->n_enum && !out->u.s.ptr; i++)
                if (s_is (s, n, def->enum_values [i])
                ||  (def->enum_labels_zh && s_is (s, n, def->enum_labels_zh [i]))
                ||  (def->enum_labels_en && s_is (s, n, def->enum_labels_en [i]))) {
                    out->u.s.ptr = def->enum_values [i];
                    out->u.s.len = strlen (def->enum_values [i]);
                }
            if (!out->u.s.ptr) {
                a.value = (tx_value_t) { .type = TX_VAL_STR, .u.s = { s, n } };
                return s_enum_fail (def, &a, &o);
            }
            break;
        case TX_KIND_TEXT:
            out->type = TX_VAL_STR;
            out->u.s.ptr = s;
            out->u.s.len = n;
            break;
        default:
            return s_fail (TX_REJECT_BAD_ATTR_TYPE, &o, N_("attribute %.*s has an unknown kind"), field, flen_);
    }
    a.value = *out;
    return s_check_attr (def, &a, &o);
}

size_t
tx_validate_format_double (double v, char out [32])
{
    //  The shortest of 15, 16 and 17 significant digits that reads back
    //  as v (17 always does).
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf (out, 32, "%.*g", prec, v);
        if (prec == 17 || strtod (out, NULL) == v)
            break;
    }
    return (size_t) n;
}

//  An integer in decimal, without printf (this runs for every attribute).
static int
s_json_int (tx_buf_t *out, int64_t v)
{
    char digits [24];
    size_t n = sizeof digits;
    uint64_t u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
    do {
        digits [--n] = (char) ('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        digits [--n] = '-';
    return tx_buf_append (out, digits + n, sizeof digits - n);
}

static int
s_json_string (tx_buf_t *out, const char *s, size_t len)
{
    if (tx_buf_reserve (out, len + 2) != 0 || tx_buf_putc (out, '"') != 0)
        return -1;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s [i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (tx_buf_append (out, s + run, i - run) != 0)
            return -1;
        char esc [8] = { '\\', (char) c };
        int n = 2;
        if (c == '\n')
            esc [1] = 'n';
        else
        if (c == '\t')
            esc [1] = 't';
        else
        if (c == '\r')
            esc [1] = 'r';
        else
        if (c < 0x20)
            n = snprintf (esc, sizeof esc, "\\u%04x", c);
        if (tx_buf_append (out, esc, (size_t) n) != 0)
            return -1;
        run = i + 1;
    }
    if (tx_buf_append (out, s + run, len - run) != 0)
        return -1;
    return tx_buf_putc (out, '"');
}

//  One attribute's value.  A numeric given as a decimal string is
//  stored as a number (its text, as sent: lex.c's rule made it JSON).
static int
s_json_value (tx_buf_t *out, const tx_type_def_t *type, const tx_attr_t *a)
{
    char num [40];
    int n;
    switch (a->value.type) {
        case TX_VAL_INT:
            return s_json_int (out, a->value.u.i);
        case TX_VAL_FLOAT:
            n = (int) tx_validate_format_double (a->value.u.f, num);
            return tx_buf_append (out, num, (size_t) n);
        case TX_VAL_BOOL:
            return tx_buf_append (out, a->value.u.b ? "true" : "false", a->value.u.b ? 4 : 5);
        case TX_VAL_STR: {
            const tx_attr_def_t *def = type ? tx_validate_attr_def (type, a->name, a->name_len) : NULL;
            if (def && def->kind == TX_KIND_NUMERIC)
                return tx_buf_append (out, a->value.u.s.ptr, a->value.u.s.len);
            return s_json_string (out, a->value.u.s.ptr, a->value.u.s.len);
        }
    }
    return 0;
}

int
tx_validate_attrs_json (const tx_type_def_t *type, const tx_event_t *ev, tx_buf_t *out)
{
    if (tx_buf_putc (out, '{') != 0)
        return -1;
    for (size_t i = 0; i < ev->attr_count; i++) {
        const tx_attr_t *a = &ev->attrs [i];
        if ((i && tx_buf_putc (out, ',') != 0)
        ||  s_json_string (out, a->name, a->name_len) != 0
        ||  tx_buf_putc (out, ':') != 0
        ||  s_json_value (out, type, a) != 0)
            return -1;
    }
    return tx_buf_putc (out, '}');
}

int
tx_validate_text_attr (const tx_type_def_t *type, const char *name, size_t name_len, const char *text,
                       size_t len, tx_value_t *out, char norm [TX_VALIDATE_NORM], char *msg, size_t msglen)
{
    const tx_attr_def_t *def = tx_validate_attr_def (type, name, name_len);
    if (!def) {
        out_t o = { msg, msglen, true };
        return s_fail (TX_REJECT_UNKNOWN_ATTR, &o, N_("unknown attribute %.*s"), name, name_len);
    }
    return tx_validate_text_value (def, text, len, out, norm, msg, msglen);
}
