/*  content.c: an event's content in canonical form, and its fingerprint.  */
#include "content.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define PG_EPOCH_UNIX 946684800LL

static int
s_u32 (tx_buf_t *out, uint32_t v)
{
    uint8_t b [4] = { (uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v };
    return tx_buf_append (out, b, 4);
}

//  A field: its length, then its bytes.
static int
s_field (tx_buf_t *out, const void *data, size_t len)
{
    return s_u32 (out, (uint32_t) len) || tx_buf_append (out, data, len) ? -1 : 0;
}

size_t
tx_content_number (const char *s, size_t len, char *out)
{
    size_t i = 0, n = 0;
    bool neg = i < len && s [i] == '-';
    i += neg;
    //  The significant digits, from the integer part and the fraction;
    //  exp10 counts the fraction's digits down.
    char *digits = out + 1;
    long long exp10 = 0;
    bool seen = false;              //  a non-zero digit so far
    for (; i < len && s [i] >= '0' && s [i] <= '9'; i++)
        if (seen || s [i] != '0') {
            digits [n++] = s [i];
            seen = true;
        }
    if (i < len && s [i] == '.')
        for (i++; i < len && s [i] >= '0' && s [i] <= '9'; i++) {
            exp10--;
            if (seen || s [i] != '0') {
                digits [n++] = s [i];
                seen = true;
            }
        }
    if (i < len && (s [i] == 'e' || s [i] == 'E')) {
        i++;
        bool eneg = i < len && s [i] == '-';
        i += i < len && (s [i] == '-' || s [i] == '+');
        long long e = 0;
        for (; i < len && s [i] >= '0' && s [i] <= '9'; i++)
            if (e < 1000000000LL)   //  only zero reaches this in a binary64
                e = e * 10 + (s [i] - '0');
        exp10 += eneg ? -e : e;
    }
    while (n > 0 && digits [n - 1] == '0') {
        n--;
        exp10++;
    }
    if (n == 0) {
        out [0] = '0';
        return 1;
    }
    size_t w = 0;
    if (neg)
        out [w++] = '-';
    memmove (out + w, digits, n);
    w += n;
    w += (size_t) snprintf (out + w, 24, "e%lld", exp10);
    return w;
}

//  Attributes in name order (bytes; a prefix first).
static int
s_by_name (const void *a, const void *b)
{
    const tx_attr_t *x = *(const tx_attr_t *const *) a, *y = *(const tx_attr_t *const *) b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp (x->name, y->name, n);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

//  One value, by its kind.
static int
s_value (tx_buf_t *out, const tx_type_def_t *type, const tx_attr_t *a)
{
    const tx_attr_def_t *def = tx_validate_attr_def (type, a->name, a->name_len);
    bool number = def && (def->kind == TX_KIND_INT || def->kind == TX_KIND_NUMERIC);
    char text [TX_WIRE_MAX_STR + 64];
    char canon [sizeof text + 24];
    size_t len;
    switch (a->value.type) {
        case TX_VAL_INT:
            len = (size_t) snprintf (text, sizeof text, "%lld", (long long) a->value.u.i);
            len = tx_content_number (text, len, canon);
            return tx_buf_putc (out, 'n') || s_field (out, canon, len) ? -1 : 0;
        case TX_VAL_FLOAT:
            len = tx_validate_format_double (a->value.u.f, text);
            len = tx_content_number (text, len, canon);
            return tx_buf_putc (out, 'n') || s_field (out, canon, len) ? -1 : 0;
        case TX_VAL_BOOL:
            return tx_buf_putc (out, 'b') || tx_buf_putc (out, a->value.u.b ? 't' : 'f') ? -1 : 0;
        case TX_VAL_STR:
            if (number && a->value.u.s.len <= TX_WIRE_MAX_STR) {
                len = tx_content_number (a->value.u.s.ptr, a->value.u.s.len, canon);
                return tx_buf_putc (out, 'n') || s_field (out, canon, len) ? -1 : 0;
            }
            return tx_buf_putc (out, 's') || s_field (out, a->value.u.s.ptr, a->value.u.s.len) ? -1 : 0;
    }
    return -1;
}

int
tx_content_canonical (const tx_type_def_t *type, const tx_event_t *ev, tx_buf_t *out)
{
    out->len = 0;
    int64_t us = (ev->at_sec - PG_EPOCH_UNIX) * 1000000LL + ev->at_nsec / 1000;
    uint64_t u = (uint64_t) us;
    const tx_attr_t *sorted [TX_WIRE_MAX_ATTRS];
    size_t n = ev->attr_count < TX_WIRE_MAX_ATTRS ? ev->attr_count : TX_WIRE_MAX_ATTRS;
    for (size_t i = 0; i < n; i++)
        sorted [i] = &ev->attrs [i];
    qsort (sorted, n, sizeof sorted [0], s_by_name);
    if (tx_buf_append (out, "tongxin-content/1", 17)
    ||  s_field (out, ev->unit, ev->unit_len)
    ||  s_field (out, ev->type, ev->type_len)
    ||  s_u32 (out, (uint32_t) (u >> 32)) || s_u32 (out, (uint32_t) u)
    ||  (ev->partner ? tx_buf_putc (out, 1) || s_field (out, ev->partner, ev->partner_len)
                     : tx_buf_putc (out, 0))
    ||  (ev->has_supersedes ? tx_buf_putc (out, 1) || tx_buf_append (out, ev->supersedes, 16)
                            : tx_buf_putc (out, 0))
    ||  s_u32 (out, ev->nth > 1 ? ev->nth : 1)
    ||  s_u32 (out, (uint32_t) n))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (s_field (out, sorted [i]->name, sorted [i]->name_len) || s_value (out, type, sorted [i]))
            return -1;
    return 0;
}

int
tx_content_fingerprint (const tx_type_def_t *type, const tx_event_t *ev, tx_buf_t *scratch,
                        uint8_t fp [TX_CONTENT_FP_LEN])
{
    if (tx_content_canonical (type, ev, scratch) != 0)
        return -1;
    uint8_t h [crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (h, scratch->data, scratch->len);
    memcpy (fp, h, TX_CONTENT_FP_LEN);
    return 0;
}
