/*  validate.c: registry checks and attribute JSON.  */
#include "validate.h"
#include "lex.h"
#include "uuid.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_AT_SEC 946684800    //  2000-01-01T00:00:00Z

//  FMT is always a literal at the call sites with exactly one "%.*s", which
//  takes NAME cut to 64 bytes.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int
s_fail (int code, char *msg, size_t msglen, const char *fmt, const char *name, size_t len)
{
    if (msg && msglen) {
        //  Names are valid UTF-8 (the decoder checked); cut them short.
        int n = len > 64 ? 64 : (int) len;
        snprintf (msg, msglen, fmt, n, name ? name : "");
    }
    return code;
}
#pragma GCC diagnostic pop

const tx_attr_def_t *
tx_validate_attr_def (const tx_type_def_t *type, const char *name, size_t len)
{
    for (size_t i = 0; i < type->n_attrs; i++)
        if (type->attrs [i].name_len == len && memcmp (type->attrs [i].name, name, len) == 0)
            return &type->attrs [i];
    return NULL;
}

static int
s_check_range (const tx_attr_def_t *def, double v, const tx_attr_t *a, char *msg, size_t msglen)
{
    if (def->has_min && (def->min_exclusive ? !(v > def->min) : !(v >= def->min)))
        return s_fail (TX_REJECT_OUT_OF_RANGE, msg, msglen,
                       def->min_exclusive ? "attribute %.*s must be greater than its minimum"
                                          : "attribute %.*s is below its minimum", a->name, a->name_len);
    if (def->has_max && !(v <= def->max))
        return s_fail (TX_REJECT_OUT_OF_RANGE, msg, msglen, "attribute %.*s is above its maximum",
                       a->name, a->name_len);
    return TX_REJECT_NONE;
}

//  A numeric: an int, a float, or decimal text by the producers' rule
//  (common/lex.c: at most 64 bytes, within binary64); finite; in range.
static int
s_check_numeric (const tx_attr_def_t *def, const tx_attr_t *a, char *msg, size_t msglen)
{
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
            return s_fail (TX_REJECT_BAD_NUMBER, msg, msglen,
                           "attribute %.*s is not a decimal number", a->name, a->name_len);
        if (kind == TX_NUM_RANGE)
            return s_fail (TX_REJECT_BAD_NUMBER, msg, msglen,
                           "attribute %.*s is out of the representable range", a->name, a->name_len);
    }
    else
        return s_fail (TX_REJECT_BAD_ATTR_TYPE, msg, msglen,
                       "attribute %.*s must be a number or a decimal string", a->name, a->name_len);
    if (!isfinite (d))
        return s_fail (TX_REJECT_BAD_NUMBER, msg, msglen,
                       "attribute %.*s is not finite", a->name, a->name_len);
    return s_check_range (def, d, a, msg, msglen);
}

static int
s_check_enum (const tx_attr_def_t *def, const tx_attr_t *a, char *msg, size_t msglen)
{
    const tx_value_t *v = &a->value;
    if (v->type != TX_VAL_STR)
        return s_fail (TX_REJECT_BAD_ATTR_TYPE, msg, msglen,
                       "attribute %.*s must be a string", a->name, a->name_len);
    for (size_t i = 0; i < def->n_enum; i++)
        if (strlen (def->enum_values [i]) == v->u.s.len
        &&  memcmp (def->enum_values [i], v->u.s.ptr, v->u.s.len) == 0)
            return TX_REJECT_NONE;
    //  Say which values are allowed (registry text: clean, as many as fit).
    if (msg && msglen) {
        int n = snprintf (msg, msglen, "attribute %.*s must be one of:", a->name_len > 64 ? 64 : (int) a->name_len,
                          a->name);
        for (size_t i = 0; n > 0 && (size_t) n < msglen && i < def->n_enum; i++) {
            size_t left = msglen - (size_t) n;
            int w = snprintf (msg + n, left, "%s %s", i ? "," : "", def->enum_values [i]);
            if (w < 0 || (size_t) w >= left) {
                //  Cut at a whole value: "..." if there is room.
                msg [n] = 0;
                if (left > 5)
                    snprintf (msg + n, left, " ...");
                break;
            }
            n += w;
        }
    }
    return TX_REJECT_BAD_ENUM;
}

static int
s_check_attr (const tx_attr_def_t *def, const tx_attr_t *a, char *msg, size_t msglen)
{
    const tx_value_t *v = &a->value;
    switch (def->kind) {
        case TX_KIND_INT:
            if (v->type != TX_VAL_INT)
                return s_fail (TX_REJECT_BAD_ATTR_TYPE, msg, msglen,
                               "attribute %.*s must be an integer", a->name, a->name_len);
            return s_check_range (def, (double) v->u.i, a, msg, msglen);
        case TX_KIND_NUMERIC:
            return s_check_numeric (def, a, msg, msglen);
        case TX_KIND_TEXT: {
            if (v->type != TX_VAL_STR)
                return s_fail (TX_REJECT_BAD_ATTR_TYPE, msg, msglen,
                               "attribute %.*s must be a string", a->name, a->name_len);
            size_t max = def->max_len > 0 ? (size_t) def->max_len : TX_WIRE_MAX_STR;
            if (v->u.s.len > max)
                return s_fail (TX_REJECT_TOO_LONG, msg, msglen,
                               "attribute %.*s is longer than allowed", a->name, a->name_len);
            return TX_REJECT_NONE;
        }
        case TX_KIND_BOOL:
            if (v->type != TX_VAL_BOOL)
                return s_fail (TX_REJECT_BAD_ATTR_TYPE, msg, msglen,
                               "attribute %.*s must be true or false", a->name, a->name_len);
            return TX_REJECT_NONE;
        case TX_KIND_DATE:
            if (v->type != TX_VAL_STR)
                return s_fail (TX_REJECT_BAD_ATTR_TYPE, msg, msglen,
                               "attribute %.*s must be a date string", a->name, a->name_len);
            if (!tx_lex_date (v->u.s.ptr, v->u.s.len))
                return s_fail (TX_REJECT_BAD_DATE, msg, msglen,
                               "attribute %.*s is not a valid YYYY-MM-DD date", a->name, a->name_len);
            return TX_REJECT_NONE;
        case TX_KIND_ENUM:
            return s_check_enum (def, a, msg, msglen);
    }
    return s_fail (TX_REJECT_BAD_ATTR_TYPE, msg, msglen, "attribute %.*s has an unknown kind",
                   a->name, a->name_len);
}

//  The sender and its unit.
static int
s_check_unit (const tx_registry_t *reg, const tx_event_t *ev, const tx_validate_ctx_t *ctx,
              char *msg, size_t msglen)
{
    if (ctx->auth_unit
    && (strlen (ctx->auth_unit) != ev->unit_len || memcmp (ctx->auth_unit, ev->unit, ev->unit_len) != 0))
    {
        if (msg && msglen)
            snprintf (msg, msglen, "unit %.*s is not the sender's unit: the key this producer"
                      " connected with belongs to unit %.64s", ev->unit_len > 64 ? 64 : (int) ev->unit_len,
                      ev->unit, ctx->auth_unit);
        return TX_REJECT_UNIT_MISMATCH;
    }
    int unit = tx_registry_unit (reg, ev->unit, ev->unit_len);
    if (unit < 0)
        return s_fail (TX_REJECT_UNKNOWN_UNIT, msg, msglen, "unknown unit %.*s", ev->unit, ev->unit_len);
    if (unit == 0)
        return s_fail (TX_REJECT_UNIT_INACTIVE, msg, msglen, "unit %.*s is disabled", ev->unit, ev->unit_len);
    return TX_REJECT_NONE;
}

//  occurred_at and the time in the id.
static int
s_check_times (const tx_registry_t *reg, const tx_event_t *ev, const tx_validate_ctx_t *ctx,
               char *msg, size_t msglen)
{
    if (ev->at_sec < MIN_AT_SEC)
        return s_fail (TX_REJECT_BAD_TIME, msg, msglen, "occurred_at is before 2000-01-01%.*s", "", 0);
    //  Range first: a hostile timestamp 96 of 2^63-1 s overflows the product.
    if (ev->at_sec > INT64_MAX / 1000 - 1
    ||  ev->at_sec * 1000 + ev->at_nsec / 1000000 > ctx->now_ms + ctx->max_skew_ms)
        return s_fail (TX_REJECT_BAD_TIME, msg, msglen,
                       "occurred_at is ahead of the collector's clock by more than the allowed skew%.*s", "", 0);
    int64_t id_ms = (int64_t) tx_uuid_v7_ms (ev->id), lo, hi;
    tx_registry_id_window (reg, &lo, &hi);
    if (id_ms > ctx->now_ms + ctx->max_skew_ms)
        return s_fail (TX_REJECT_BAD_ID_TIME, msg, msglen,
                       "the id's timestamp is ahead of the collector's clock%.*s", "", 0);
    if (id_ms < lo || id_ms >= hi)
        return s_fail (TX_REJECT_BAD_ID_TIME, msg, msglen,
                       "the id's timestamp is outside the stored months%.*s", "", 0);
    return TX_REJECT_NONE;
}

static int
s_check_partner (const tx_registry_t *reg, const tx_type_def_t *type, const tx_event_t *ev,
                 char *msg, size_t msglen)
{
    if (!ev->partner)
        return type->partner_required
             ? s_fail (TX_REJECT_MISSING_PARTNER, msg, msglen,
                       "event type %.*s needs a partner region", ev->type, ev->type_len)
             : TX_REJECT_NONE;
    if (!tx_registry_region (reg, ev->partner, ev->partner_len))
        return s_fail (TX_REJECT_UNKNOWN_PARTNER, msg, msglen, "unknown partner region %.*s",
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
s_check_attrs (const tx_type_def_t *type, const tx_event_t *ev, char *msg, size_t msglen)
{
    size_t required = 0;
    for (size_t i = 0; i < ev->attr_count; i++) {
        const tx_attr_t *a = &ev->attrs [i];
        const tx_attr_def_t *def = tx_validate_attr_def (type, a->name, a->name_len);
        if (!def)
            return s_fail (TX_REJECT_UNKNOWN_ATTR, msg, msglen, "unknown attribute %.*s",
                           a->name, a->name_len);
        int rc = s_check_attr (def, a, msg, msglen);
        if (rc != TX_REJECT_NONE)
            return rc;
        if (def->required)
            required++;
    }
    const tx_attr_def_t *missing = required < type->n_required ? s_missing_attr (type, ev) : NULL;
    if (missing)
        return s_fail (TX_REJECT_MISSING_ATTR, msg, msglen, "missing required attribute %.*s",
                       missing->name, missing->name_len);
    return TX_REJECT_NONE;
}

int
tx_validate_event (const tx_registry_t *reg, const tx_event_t *ev, const tx_validate_ctx_t *ctx,
                   const tx_type_def_t **type_p, char *msg, size_t msglen)
{
    if (type_p)
        *type_p = NULL;
    int rc = s_check_unit (reg, ev, ctx, msg, msglen);
    if (rc != TX_REJECT_NONE)
        return rc;
    const tx_type_def_t *type = tx_registry_type (reg, ev->type, ev->type_len);
    if (!type)
    {
        const char *near = tx_registry_nearest_type (reg, ev->type, ev->type_len);
        if (msg && msglen && near)
            snprintf (msg, msglen, "unknown event type %.*s; did you mean %s?",
                      ev->type_len > 64 ? 64 : (int) ev->type_len, ev->type, near);
        else
            s_fail (TX_REJECT_UNKNOWN_TYPE, msg, msglen, "unknown event type %.*s", ev->type, ev->type_len);
        return TX_REJECT_UNKNOWN_TYPE;
    }
    //  A retraction says which event it withdraws (revision 1.1).
    if (ev->type_len == 10 && memcmp (ev->type, "retraction", 10) == 0 && !ev->has_supersedes)
        return s_fail (TX_REJECT_MALFORMED_EVENT, msg, msglen,
                       "a retraction must name the event it retracts in 'supersedes'%.*s", "", 0);
    if ((rc = s_check_times (reg, ev, ctx, msg, msglen)) != TX_REJECT_NONE
    ||  (rc = s_check_partner (reg, type, ev, msg, msglen)) != TX_REJECT_NONE
    ||  (rc = s_check_attrs (type, ev, msg, msglen)) != TX_REJECT_NONE)
        return rc;
    if (type_p)
        *type_p = type;
    return TX_REJECT_NONE;
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
