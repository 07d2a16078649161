/*  wire: the Tongxin v1 message codec (see wire.h).

    Layout: code tables; small helpers; the decoder object; batch decoding
    (envelope, then each event); event checks shared with producers; reply
    decoding; packing.
*/

#include "wire.h"
#include "safetext.h"
#include "utf8.h"
#include "uuid.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  Code tables: index = enum value; the strings are stable wire codes.

static const char *const s_reject_codes [TX_REJECT_COUNT_] = {
    [TX_REJECT_NONE]            = NULL,
    [TX_REJECT_MALFORMED_EVENT] = "malformed_event",
    [TX_REJECT_UNKNOWN_FIELD]   = "unknown_field",
    [TX_REJECT_DUPLICATE_KEY]   = "duplicate_key",
    [TX_REJECT_BAD_ID]          = "bad_id",
    [TX_REJECT_BAD_ID_TIME]     = "bad_id_time",
    [TX_REJECT_BAD_UTF8]        = "bad_utf8",
    [TX_REJECT_TOO_LONG]        = "too_long",
    [TX_REJECT_UNKNOWN_UNIT]    = "unknown_unit",
    [TX_REJECT_UNIT_INACTIVE]   = "unit_inactive",
    [TX_REJECT_UNIT_MISMATCH]   = "unit_mismatch",
    [TX_REJECT_UNKNOWN_TYPE]    = "unknown_type",
    [TX_REJECT_BAD_TIME]        = "bad_time",
    [TX_REJECT_MISSING_PARTNER] = "missing_partner",
    [TX_REJECT_UNKNOWN_PARTNER] = "unknown_partner",
    [TX_REJECT_MISSING_ATTR]    = "missing_attr",
    [TX_REJECT_UNKNOWN_ATTR]    = "unknown_attr",
    [TX_REJECT_BAD_ATTR_TYPE]   = "bad_attr_type",
    [TX_REJECT_OUT_OF_RANGE]    = "out_of_range",
    [TX_REJECT_BAD_NUMBER]      = "bad_number",
    [TX_REJECT_BAD_ENUM]        = "bad_enum",
    [TX_REJECT_BAD_DATE]        = "bad_date",
    [TX_REJECT_TOO_MANY_ATTRS]  = "too_many_attrs",
    [TX_REJECT_DB_REFUSED]      = "db_refused",
};

static const char *const s_error_codes [TX_ERROR_COUNT_] = {
    [TX_ERROR_NONE]                = NULL,
    [TX_ERROR_UNSUPPORTED_VERSION] = "unsupported_version",
    [TX_ERROR_MALFORMED]           = "malformed",
    [TX_ERROR_TOO_LARGE]           = "too_large",
    [TX_ERROR_UNAUTHORIZED]        = "unauthorized",
};

static int
s_lookup (const char *const *table, int n, const char *s, size_t len)
{
    if (!s)
        return -1;
    for (int i = 1; i < n; i++)
        if (strlen (table [i]) == len && memcmp (table [i], s, len) == 0)
            return i;
    return -1;
}

const char *
tx_reject_code_str (int code)
{
    return code > 0 && code < TX_REJECT_COUNT_? s_reject_codes [code]: NULL;
}

int
tx_reject_code_from_str (const char *s, size_t len)
{
    return s_lookup (s_reject_codes, TX_REJECT_COUNT_, s, len);
}

const char *
tx_error_code_str (int code)
{
    return code > 0 && code < TX_ERROR_COUNT_? s_error_codes [code]: NULL;
}

int
tx_error_code_from_str (const char *s, size_t len)
{
    return s_lookup (s_error_codes, TX_ERROR_COUNT_, s, len);
}

tx_error_t
tx_wire_rc_error (int rc)
{
    switch (rc) {
        case TX_WIRE_MALFORMED:   return TX_ERROR_MALFORMED;
        case TX_WIRE_UNSUPPORTED: return TX_ERROR_UNSUPPORTED_VERSION;
        case TX_WIRE_TOO_LARGE:   return TX_ERROR_TOO_LARGE;
        default:                  return TX_ERROR_NONE;
    }
}

//  ---------------------------------------------------------------------
//  Helpers

static void s_fmt (char *buf, size_t size, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_fmt (char *buf, size_t size, const char *fmt, ...)
{
    if (!buf || size == 0)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, size, fmt, ap);
    va_end (ap);
}

//  Copies up to 32 bytes of a name into dst as printable ASCII (anything
//  else becomes '?'), adding "..." if it was cut.  Reject messages travel
//  back in acks and into PostgreSQL text, so they must stay valid UTF-8.
static const char *
s_quote (char *dst, size_t size, const char *s, size_t len)
{
    size_t max = size - 4;          //  room for "..." and NUL
    size_t n = 0;
    for (; n < len && n < max; n++) {
        unsigned char c = (unsigned char) s [n];
        dst [n] = c >= 0x20 && c < 0x7f && c != '\''? (char) c: '?';
    }
    if (n < len)
        memcpy (dst + n, "...", 4);
    else
        dst [n] = '\0';
    return dst;
}

#define S_QUOTE_SIZE 36

static bool
s_is_str (const msgpack_object *o, const char *lit)
{
    size_t n = strlen (lit);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n
        && memcmp (o->via.str.ptr, lit, n) == 0;
}

//  The index of key k in names[0..n), or -1.  k is a STR object.
static int
s_key_index (const msgpack_object *k, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (s_is_str (k, names [i]))
            return i;
    return -1;
}

static const char *
s_type_name (const msgpack_object *o)
{
    switch (o->type) {
        case MSGPACK_OBJECT_NIL:              return "nil";
        case MSGPACK_OBJECT_BOOLEAN:          return "bool";
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return "int";
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "int";
        case MSGPACK_OBJECT_FLOAT32:          return "float";
        case MSGPACK_OBJECT_FLOAT64:          return "float";
        case MSGPACK_OBJECT_STR:              return "str";
        case MSGPACK_OBJECT_ARRAY:            return "array";
        case MSGPACK_OBJECT_MAP:              return "map";
        case MSGPACK_OBJECT_BIN:              return "bin";
        case MSGPACK_OBJECT_EXT:              return "ext";
    }
    return "?";
}

//  Grows *p to hold at least need elements of size bytes.
static int
s_reserve (void **p, size_t *cap, size_t need, size_t size)
{
    if (need == 0)
        need = 1;                   //  never hand out a NULL array
    if (need <= *cap)
        return 0;
    size_t n = *cap? *cap: 16;
    while (n < need)
        n *= 2;
    void *q = realloc (*p, n * size);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

//  ---------------------------------------------------------------------
//  Decoder

struct tx_wire_decoder_t {
    msgpack_unpacked up;            //  unpack result; emptied after each decode
    tx_prescan_limits_t limits;     //  prescan limits (protocol defaults)
    tx_event_t *events;             //  decoded events
    size_t events_cap;              //  allocated entries
    tx_attr_t *attrs;               //  attributes of all decoded events
    size_t attrs_cap;               //  allocated entries
    uint8_t *results;               //  decoded ack results
    size_t results_cap;             //  allocated entries
    tx_rejected_t *rejected;        //  decoded ack rejected entries
    size_t rejected_cap;            //  allocated entries
    tx_dup_t *dups;                 //  decoded ack dups entries
    size_t dups_cap;                //  allocated entries
};

tx_wire_decoder_t *
tx_wire_decoder_new (void)
{
    tx_wire_decoder_t *self = (tx_wire_decoder_t *) calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    msgpack_unpacked_init (&self->up);
    self->limits.max_depth = TX_PRESCAN_DEFAULT_DEPTH;
    self->limits.max_items = TX_PRESCAN_DEFAULT_ITEMS;
    return self;
}

void
tx_wire_decoder_destroy (tx_wire_decoder_t **self_p)
{
    if (self_p && *self_p) {
        tx_wire_decoder_t *self = *self_p;
        msgpack_unpacked_destroy (&self->up);
        free (self->events);
        free (self->attrs);
        free (self->results);
        free (self->rejected);
        free (self->dups);
        free (self);
        *self_p = NULL;
    }
}

//  Size limit, prescan, unpack.  On TX_WIRE_OK the object is dec->up.data.
static int
s_unpack (tx_wire_decoder_t *dec, const uint8_t *buf, size_t len,
          char *err, size_t errlen)
{
    if (len > TX_WIRE_MAX_FRAME) {
        s_fmt (err, errlen, "frame of %zu bytes exceeds %d", len, TX_WIRE_MAX_FRAME);
        return TX_WIRE_TOO_LARGE;
    }
    tx_prescan_info_t info;
    if (tx_prescan (buf, len, &dec->limits, &info) != 0) {
        s_fmt (err, errlen, "prescan: %s at offset %zu",
               tx_prescan_reason_str (info.reason), info.offset);
        return TX_WIRE_MALFORMED;
    }
    size_t off = 0;
    msgpack_unpack_return r =
        msgpack_unpack_next (&dec->up, (const char *) buf, len, &off);
    if (r == MSGPACK_UNPACK_NOMEM_ERROR) {
        msgpack_unpacked_destroy (&dec->up);
        s_fmt (err, errlen, "out of memory unpacking %zu bytes", len);
        return TX_WIRE_NOMEM;
    }
    if (r != MSGPACK_UNPACK_SUCCESS || off != len) {
        //  Not expected after the prescan; kept as a second line of defence.
        msgpack_unpacked_destroy (&dec->up);
        s_fmt (err, errlen, "msgpack: unpack returned %d at offset %zu", (int) r, off);
        return TX_WIRE_MALFORMED;
    }
    return TX_WIRE_OK;
}

//  Sets ev's reject code and message; returns the code.
static int s_reject (tx_event_t *ev, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_reject (tx_event_t *ev, int code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (ev->reject_buf, sizeof ev->reject_buf, fmt, ap);
    va_end (ap);
    ev->reject = code;
    ev->reject_msg = ev->reject_buf;
    return code;
}

//  ---------------------------------------------------------------------
//  Batch decoding

enum { E_ID, E_UNIT, E_TYPE, E_AT, E_PARTNER, E_ATTRS, E_SUPERSEDES, E_NTH, E_COUNT };
static const char *const s_event_keys [E_COUNT] = {
    "id", "unit", "type", "at", "partner", "attrs", "supersedes", "nth"
};

//  The event's fields by key (val[E_*], NULL when absent): a map of known
//  str keys, each once, with the required ones.
static int
s_event_fields (const msgpack_object *o, tx_event_t *ev, const msgpack_object **val)
{
    char q [S_QUOTE_SIZE];
    if (o->type != MSGPACK_OBJECT_MAP)
        return s_reject (ev, TX_REJECT_MALFORMED_EVENT, "event is %s, not a map",
                         s_type_name (o));
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr [i].key;
        if (k->type != MSGPACK_OBJECT_STR)
            return s_reject (ev, TX_REJECT_MALFORMED_EVENT, "event key is %s, not str",
                             s_type_name (k));
        int e = s_key_index (k, s_event_keys, E_COUNT);
        if (e < 0)
            return s_reject (ev, TX_REJECT_UNKNOWN_FIELD, "unknown field '%s'",
                             s_quote (q, sizeof q, k->via.str.ptr, k->via.str.size));
        if (val [e])
            return s_reject (ev, TX_REJECT_DUPLICATE_KEY, "duplicate key '%s'",
                             s_event_keys [e]);
        val [e] = &o->via.map.ptr [i].val;
    }
    for (int e = E_ID; e <= E_AT; e++)
        if (!val [e])
            return s_reject (ev, TX_REJECT_MALFORMED_EVENT, "missing '%s'", s_event_keys [e]);
    return TX_REJECT_NONE;
}

//  id, unit and type.
static int
s_event_names (const msgpack_object *const *val, tx_event_t *ev)
{
    const msgpack_object *v = val [E_ID];
    if (v->type != MSGPACK_OBJECT_BIN || v->via.bin.size != 16)
        return s_reject (ev, TX_REJECT_BAD_ID, "'id' is not bin 16");
    memcpy (ev->id, v->via.bin.ptr, 16);
    for (int e = E_UNIT; e <= E_TYPE; e++) {
        v = val [e];
        if (v->type != MSGPACK_OBJECT_STR)
            return s_reject (ev, TX_REJECT_MALFORMED_EVENT, "'%s' is %s, not str",
                             s_event_keys [e], s_type_name (v));
        if (e == E_UNIT) {
            ev->unit = v->via.str.ptr;
            ev->unit_len = v->via.str.size;
        }
        else {
            ev->type = v->via.str.ptr;
            ev->type_len = v->via.str.size;
        }
    }
    return TX_REJECT_NONE;
}

//  at: the msgpack timestamp extension.
static int
s_event_at (const msgpack_object *v, tx_event_t *ev)
{
    msgpack_timestamp ts;
    if (v->type != MSGPACK_OBJECT_EXT)
        return s_reject (ev, TX_REJECT_MALFORMED_EVENT, "'at' is %s, not ext", s_type_name (v));
    if (v->via.ext.type != -1)
        return s_reject (ev, TX_REJECT_BAD_TIME, "'at' is ext type %d, not -1",
                         (int) v->via.ext.type);
    if (!msgpack_object_to_timestamp (v, &ts))
        return s_reject (ev, TX_REJECT_BAD_TIME, "'at' timestamp has %u bytes, not 4, 8 or 12",
                         (unsigned) v->via.ext.size);
    ev->at_sec = ts.tv_sec;
    ev->at_nsec = ts.tv_nsec;
    return TX_REJECT_NONE;
}

//  The optional partner and supersedes.
static int
s_event_links (const msgpack_object *const *val, tx_event_t *ev)
{
    const msgpack_object *v = val [E_PARTNER];
    if (v) {
        if (v->type != MSGPACK_OBJECT_STR)
            return s_reject (ev, TX_REJECT_MALFORMED_EVENT, "'partner' is %s, not str",
                             s_type_name (v));
        ev->partner = v->via.str.ptr;
        ev->partner_len = v->via.str.size;
    }
    v = val [E_SUPERSEDES];
    if (v) {
        if (v->type != MSGPACK_OBJECT_BIN || v->via.bin.size != 16)
            return s_reject (ev, TX_REJECT_MALFORMED_EVENT, "'supersedes' is not bin 16");
        if (memcmp (v->via.bin.ptr, ev->id, 16) == 0)
            return s_reject (ev, TX_REJECT_MALFORMED_EVENT, "an event cannot supersede itself");
        ev->has_supersedes = true;
        memcpy (ev->supersedes, v->via.bin.ptr, 16);
    }
    v = val [E_NTH];
    if (v) {
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 < 1 || v->via.u64 > TX_WIRE_MAX_NTH)
            return s_reject (ev, TX_REJECT_MALFORMED_EVENT, "'nth' is not an int in 1..%d",
                             TX_WIRE_MAX_NTH);
        ev->nth = (uint32_t) v->via.u64;
    }
    return TX_REJECT_NONE;
}

//  One attribute's value: a scalar.
static int
s_attr_value (const msgpack_object *x, tx_attr_t *a, tx_event_t *ev)
{
    char q [S_QUOTE_SIZE];
    switch (x->type) {
        case MSGPACK_OBJECT_BOOLEAN:
            a->value.type = TX_VAL_BOOL;
            a->value.u.b = x->via.boolean;
            return TX_REJECT_NONE;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (x->via.u64 > (uint64_t) INT64_MAX)
                return s_reject (ev, TX_REJECT_OUT_OF_RANGE,
                                 "attribute '%s': integer above INT64_MAX",
                                 s_quote (q, sizeof q, a->name, a->name_len));
            a->value.type = TX_VAL_INT;
            a->value.u.i = (int64_t) x->via.u64;
            return TX_REJECT_NONE;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            a->value.type = TX_VAL_INT;
            a->value.u.i = x->via.i64;
            return TX_REJECT_NONE;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            a->value.type = TX_VAL_FLOAT;
            a->value.u.f = x->via.f64;
            return TX_REJECT_NONE;
        case MSGPACK_OBJECT_STR:
            a->value.type = TX_VAL_STR;
            a->value.u.s.ptr = x->via.str.ptr;
            a->value.u.s.len = x->via.str.size;
            return TX_REJECT_NONE;
        default:
            return s_reject (ev, TX_REJECT_BAD_ATTR_TYPE, "attribute '%s' is %s, not a scalar",
                             s_quote (q, sizeof q, a->name, a->name_len), s_type_name (x));
    }
}

//  The optional attrs map, into pool[*used..].
static int
s_event_attrs (const msgpack_object *v, tx_event_t *ev, tx_attr_t *pool, size_t *used)
{
    if (!v)
        return TX_REJECT_NONE;
    if (v->type != MSGPACK_OBJECT_MAP)
        return s_reject (ev, TX_REJECT_MALFORMED_EVENT, "'attrs' is %s, not map",
                         s_type_name (v));
    if (v->via.map.size > TX_WIRE_MAX_ATTRS)
        return s_reject (ev, TX_REJECT_TOO_MANY_ATTRS, "%u attributes, at most %d",
                         (unsigned) v->via.map.size, TX_WIRE_MAX_ATTRS);
    tx_attr_t *attrs = pool + *used;
    ev->attrs = attrs;
    for (uint32_t i = 0; i < v->via.map.size; i++) {
        const msgpack_object *k = &v->via.map.ptr [i].key;
        tx_attr_t *a = &attrs [i];
        if (k->type != MSGPACK_OBJECT_STR)
            return s_reject (ev, TX_REJECT_MALFORMED_EVENT, "attribute name is %s, not str",
                             s_type_name (k));
        a->name = k->via.str.ptr;
        a->name_len = k->via.str.size;
        int rc = s_attr_value (&v->via.map.ptr [i].val, a, ev);
        if (rc != TX_REJECT_NONE)
            return rc;
        ev->attr_count = i + 1;
    }
    *used += v->via.map.size;
    return TX_REJECT_NONE;
}

//  Steps 1-4 of the event checks (see wire.h), in this order; the first
//  failure sets ev->reject.  Attributes go to pool[*used..]; the pool was
//  sized by s_attr_bound.
static void
s_decode_event (const msgpack_object *o, tx_event_t *ev, tx_attr_t *pool,
                size_t *used)
{
    const msgpack_object *val [E_COUNT] = { NULL };
    if (s_event_fields (o, ev, val) == TX_REJECT_NONE
    &&  s_event_names (val, ev) == TX_REJECT_NONE
    &&  s_event_at (val [E_AT], ev) == TX_REJECT_NONE
    &&  s_event_links (val, ev) == TX_REJECT_NONE)
        s_event_attrs (val [E_ATTRS], ev, pool, used);
}

//  Upper bound of the attributes the events array can hold: the sizes of
//  every "attrs" map of at most 64 entries.
static size_t
s_attr_bound (const msgpack_object *events)
{
    size_t n = 0;
    for (uint32_t i = 0; i < events->via.array.size; i++) {
        const msgpack_object *o = &events->via.array.ptr [i];
        if (o->type != MSGPACK_OBJECT_MAP)
            continue;
        for (uint32_t j = 0; j < o->via.map.size; j++) {
            const msgpack_object_kv *kv = &o->via.map.ptr [j];
            if (s_is_str (&kv->key, "attrs") && kv->val.type == MSGPACK_OBJECT_MAP
            &&  kv->val.via.map.size <= TX_WIRE_MAX_ATTRS)
                n += kv->val.via.map.size;
        }
    }
    return n;
}

//  Points each event's raw/raw_len at its bytes in buf.  key is the
//  "events" key, whose bytes are immediately followed by the array.
static void
s_set_raw (const uint8_t *buf, size_t len, const msgpack_object *key,
           tx_event_t *events, size_t count)
{
    uintptr_t b = (uintptr_t) buf;
    uintptr_t p = (uintptr_t) key->via.str.ptr + key->via.str.size;
    if (p < b || p >= b + len)
        return;                     //  not zero-copy after all: leave raw NULL
    size_t off = (size_t) (p - b);
    uint8_t h = buf [off];
    if (h >= 0x90 && h <= 0x9f)
        off += 1;
    else
    if (h == 0xdc)
        off += 3;
    else
    if (h == 0xdd)
        off += 5;
    else
        return;
    for (size_t i = 0; i < count; i++) {
        size_t start = off;
        if (tx_prescan_skip (buf, len, &off) != 0)
            return;
        events [i].raw = buf + start;
        events [i].raw_len = off - start;
    }
}

enum { B_V, B_T, B_BATCH, B_EVENTS, B_REV, B_COUNT };
static const char *const s_batch_keys [B_COUNT] = { "v", "t", "batch", "events", "rev" };

//  The envelope's values by key (val[B_*]; seen: how often each came) and
//  the "events" key; the first problem with the keys goes to problem.
static void
s_batch_fields (const msgpack_object *root, const msgpack_object **val, int *seen,
                const msgpack_object **events_key, char *problem, size_t problemlen)
{
    char q [S_QUOTE_SIZE];
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *k = &root->via.map.ptr [i].key;
        int e = k->type == MSGPACK_OBJECT_STR? s_key_index (k, s_batch_keys, B_COUNT): -1;
        if (e >= 0) {
            if (seen [e]++ == 0) {
                val [e] = &root->via.map.ptr [i].val;
                if (e == B_EVENTS)
                    *events_key = k;
            }
            else
            if (!*problem)
                s_fmt (problem, problemlen, "duplicate key '%s'", s_batch_keys [e]);
        }
        else
        if (!*problem) {
            if (k->type != MSGPACK_OBJECT_STR)
                s_fmt (problem, problemlen, "key is %s, not str", s_type_name (k));
            else
                s_fmt (problem, problemlen, "unknown key '%s'",
                       s_quote (q, sizeof q, k->via.str.ptr, k->via.str.size));
        }
    }
}

//  The envelope's checks, in order: the batch id first (so that even an
//  error reply can echo it), then the version (a later version may have
//  other keys), then the keys, v, t, batch and the events array.
static int
s_batch_envelope (const msgpack_object *const *val, const int *seen, const char *problem,
                  tx_batch_t *out, char *err, size_t errlen)
{
    const msgpack_object *v = val [B_BATCH];
    if (seen [B_BATCH] == 1 && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER
    &&  v->via.u64 > 0)
        out->batch_id = v->via.u64;
    v = val [B_V];
    if (seen [B_V] == 1 && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER
    &&  v->via.u64 > TX_WIRE_VERSION) {
        s_fmt (err, errlen, "unsupported version %llu",
               (unsigned long long) v->via.u64);
        return TX_WIRE_UNSUPPORTED;
    }
    if (*problem) {
        s_fmt (err, errlen, "%s", problem);
        return TX_WIRE_MALFORMED;
    }
    for (int e = 0; e < B_REV; e++)        //  the required ones
        if (!val [e]) {
            s_fmt (err, errlen, "missing '%s'", s_batch_keys [e]);
            return TX_WIRE_MALFORMED;
        }
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != TX_WIRE_VERSION) {
        s_fmt (err, errlen, "'v' is not a positive int");
        return TX_WIRE_MALFORMED;
    }
    if (!s_is_str (val [B_T], "batch")) {
        s_fmt (err, errlen, "'t' is not \"batch\"");
        return TX_WIRE_MALFORMED;
    }
    if (out->batch_id == 0) {
        s_fmt (err, errlen, "'batch' is not an int in 1..2^64-1");
        return TX_WIRE_MALFORMED;
    }
    v = val [B_REV];
    if (v) {
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 == 0) {
            s_fmt (err, errlen, "'rev' is not a positive int");
            return TX_WIRE_MALFORMED;
        }
        out->rev = v->via.u64;
    }
    const msgpack_object *events = val [B_EVENTS];
    if (events->type != MSGPACK_OBJECT_ARRAY || events->via.array.size == 0) {
        s_fmt (err, errlen, "'events' is not a non-empty array");
        return TX_WIRE_MALFORMED;
    }
    if (events->via.array.size > TX_WIRE_MAX_EVENTS) {
        s_fmt (err, errlen, "%zu events, at most %d", (size_t) events->via.array.size,
               TX_WIRE_MAX_EVENTS);
        return TX_WIRE_TOO_LARGE;
    }
    return TX_WIRE_OK;
}

//  Decodes and checks (steps 1-5, wire.h) each event of the array events,
//  whose key in buf is events_key, into the decoder's arrays.
static int
s_decode_events (const uint8_t *buf, size_t len, const msgpack_object *events,
                 const msgpack_object *events_key, tx_wire_decoder_t *dec, char *err, size_t errlen)
{
    size_t count = events->via.array.size;
    if (s_reserve ((void **) &dec->events, &dec->events_cap, count, sizeof (tx_event_t))
    ||  s_reserve ((void **) &dec->attrs, &dec->attrs_cap, s_attr_bound (events),
                   sizeof (tx_attr_t))) {
        s_fmt (err, errlen, "out of memory for %zu events", count);
        return TX_WIRE_NOMEM;
    }
    memset (dec->events, 0, count * sizeof (tx_event_t));
    s_set_raw (buf, len, events_key, dec->events, count);
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        tx_event_t *ev = &dec->events [i];
        s_decode_event (&events->via.array.ptr [i], ev, dec->attrs, &used);
        if (ev->reject == TX_REJECT_NONE) {
            int rc = tx_wire_event_check (ev, ev->reject_buf, sizeof ev->reject_buf);
            if (rc != TX_REJECT_NONE) {
                ev->reject = rc;
                ev->reject_msg = ev->reject_buf;
            }
        }
    }
    return TX_WIRE_OK;
}

static int
s_decode_batch (const uint8_t *buf, size_t len, tx_batch_t *out,
                tx_wire_decoder_t *dec, char *err, size_t errlen)
{
    const msgpack_object *root = &dec->up.data;
    if (root->type != MSGPACK_OBJECT_MAP) {
        s_fmt (err, errlen, "message is %s, not a map", s_type_name (root));
        return TX_WIRE_MALFORMED;
    }
    const msgpack_object *val [B_COUNT] = { NULL };
    const msgpack_object *events_key = NULL;
    int seen [B_COUNT] = { 0 };
    char problem [128] = "";
    s_batch_fields (root, val, seen, &events_key, problem, sizeof problem);
    int rc = s_batch_envelope (val, seen, problem, out, err, errlen);
    if (rc == TX_WIRE_OK)
        rc = s_decode_events (buf, len, val [B_EVENTS], events_key, dec, err, errlen);
    if (rc == TX_WIRE_OK) {
        out->events = dec->events;
        out->count = val [B_EVENTS]->via.array.size;
    }
    return rc;
}

int
tx_wire_decode_batch (const uint8_t *buf, size_t len, tx_batch_t *out,
                      tx_wire_decoder_t *dec, char *err, size_t errlen)
{
    out->batch_id = 0;
    out->events = NULL;
    out->count = 0;
    out->rev = 0;
    if (err && errlen)
        *err = '\0';
    int rc = s_unpack (dec, buf, len, err, errlen);
    if (rc != TX_WIRE_OK)
        return rc;
    rc = s_decode_batch (buf, len, out, dec, err, errlen);
    //  Nothing decoded points into the zone: give it back now.
    msgpack_unpacked_destroy (&dec->up);
    if (rc != TX_WIRE_OK) {
        out->events = NULL;
        out->count = 0;
    }
    return rc;
}

//  ---------------------------------------------------------------------
//  Status (revision 1.3)

enum { S_V, S_T, S_BACKLOG, S_OLDEST, S_VERDICT, S_SOFTWARE, S_COUNT };
static const char *const s_status_keys [S_COUNT] = {
    "v", "t", "backlog", "oldest", "verdict", "software"
};

//  Is the root map a status: its (first) "t" is the str "status"?
static bool
s_is_status (const msgpack_object *root)
{
    if (root->type != MSGPACK_OBJECT_MAP)
        return false;
    for (uint32_t i = 0; i < root->via.map.size; i++)
        if (s_is_str (&root->via.map.ptr [i].key, "t"))
            return s_is_str (&root->via.map.ptr [i].val, "status");
    return false;
}

//  A software text: 1..200 bytes of UTF-8 without NUL, nothing safetext
//  forbids (the column's CHECK, tongxin.text_is_clean).
static bool
s_software_ok (const char *s, size_t len)
{
    if (len == 0 || len > TX_WIRE_MAX_SOFTWARE || !tx_utf8_valid (s, len)
    ||  memchr (s, 0, len))
        return false;
    char copy [TX_WIRE_MAX_SOFTWARE + 1];
    memcpy (copy, s, len);
    copy [len] = 0;
    return tx_safetext_find (copy, NULL, 0) < 0;
}

//  A timestamp value (ext -1, 4/8/12 bytes, nanoseconds < 1e9).
static bool
s_time_value (const msgpack_object *o, int64_t *sec, uint32_t *nsec)
{
    msgpack_timestamp ts;
    if (o->type != MSGPACK_OBJECT_EXT || o->via.ext.type != -1
    ||  !msgpack_object_to_timestamp (o, &ts) || ts.tv_nsec >= 1000000000u)
        return false;
    *sec = ts.tv_sec;
    *nsec = ts.tv_nsec;
    return true;
}

static int
s_decode_status (const msgpack_object *root, tx_status_msg_t *out, char *err, size_t errlen)
{
    const msgpack_object *f [S_COUNT] = { NULL };
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *k = &root->via.map.ptr [i].key;
        int e = k->type == MSGPACK_OBJECT_STR? s_key_index (k, s_status_keys, S_COUNT): -1;
        if (e < 0 || f [e]) {
            s_fmt (err, errlen, "status: %s key", e < 0? "unknown": "duplicate");
            return TX_WIRE_MALFORMED;
        }
        f [e] = &root->via.map.ptr [i].val;
    }
    if (f [S_V] && f [S_V]->type == MSGPACK_OBJECT_POSITIVE_INTEGER
    &&  f [S_V]->via.u64 > TX_WIRE_VERSION) {
        s_fmt (err, errlen, "unsupported version %llu", (unsigned long long) f [S_V]->via.u64);
        return TX_WIRE_UNSUPPORTED;
    }
    if (!f [S_V] || f [S_V]->type != MSGPACK_OBJECT_POSITIVE_INTEGER
    ||  f [S_V]->via.u64 != TX_WIRE_VERSION) {
        s_fmt (err, errlen, "status: 'v' missing or not 1");
        return TX_WIRE_MALFORMED;
    }
    if (!f [S_BACKLOG] || f [S_BACKLOG]->type != MSGPACK_OBJECT_POSITIVE_INTEGER
    ||  f [S_BACKLOG]->via.u64 > INT64_MAX) {
        s_fmt (err, errlen, "status: 'backlog' missing or not an int in 0..2^63-1");
        return TX_WIRE_MALFORMED;
    }
    out->backlog = f [S_BACKLOG]->via.u64;
    if (f [S_OLDEST]) {
        if (out->backlog == 0
        ||  !s_time_value (f [S_OLDEST], &out->oldest_sec, &out->oldest_nsec)) {
            s_fmt (err, errlen, "status: 'oldest' not a timestamp, or with backlog 0");
            return TX_WIRE_MALFORMED;
        }
        out->has_oldest = true;
    }
    if (f [S_VERDICT]) {
        if (!s_time_value (f [S_VERDICT], &out->verdict_sec, &out->verdict_nsec)) {
            s_fmt (err, errlen, "status: 'verdict' is not a timestamp");
            return TX_WIRE_MALFORMED;
        }
        out->has_verdict = true;
    }
    const msgpack_object *sw = f [S_SOFTWARE];
    if (sw) {
        if (sw->type != MSGPACK_OBJECT_STR || !s_software_ok (sw->via.str.ptr, sw->via.str.size)) {
            s_fmt (err, errlen, "status: 'software' is not 1..%d bytes of clean text",
                   TX_WIRE_MAX_SOFTWARE);
            return TX_WIRE_MALFORMED;
        }
        out->software = sw->via.str.ptr;
        out->software_len = sw->via.str.size;
    }
    return TX_WIRE_OK;
}

int
tx_wire_decode_message (const uint8_t *buf, size_t len, tx_message_t *out,
                        tx_wire_decoder_t *dec, char *err, size_t errlen)
{
    memset (out, 0, sizeof (*out));
    out->type = TX_MSG_BATCH;
    if (err && errlen)
        *err = '\0';
    int rc = s_unpack (dec, buf, len, err, errlen);
    if (rc != TX_WIRE_OK)
        return rc;
    if (s_is_status (&dec->up.data)) {
        out->type = TX_MSG_STATUS;
        rc = s_decode_status (&dec->up.data, &out->status, err, errlen);
        if (rc != TX_WIRE_OK)
            memset (&out->status, 0, sizeof out->status);
    }
    else {
        rc = s_decode_batch (buf, len, &out->batch, dec, err, errlen);
        if (rc != TX_WIRE_OK) {
            out->batch.events = NULL;
            out->batch.count = 0;
        }
    }
    msgpack_unpacked_destroy (&dec->up);
    return rc;
}

//  ---------------------------------------------------------------------
//  Event checks (step 5), shared by the decoder and the producers

//  A code: unit, type, partner or attribute name.
static int
s_check_code (const char *s, size_t len, const char *what, char *msg, size_t msglen)
{
    if (!s || len == 0) {
        s_fmt (msg, msglen, "empty %s", what);
        return TX_REJECT_MALFORMED_EVENT;
    }
    if (len > TX_WIRE_MAX_CODE) {
        s_fmt (msg, msglen, "%s of %zu bytes, at most %d", what, len, TX_WIRE_MAX_CODE);
        return TX_REJECT_TOO_LONG;
    }
    if (!tx_utf8_valid (s, len)) {
        s_fmt (msg, msglen, "%s is not valid UTF-8 or contains NUL", what);
        return TX_REJECT_BAD_UTF8;
    }
    return TX_REJECT_NONE;
}

int
tx_wire_event_check (const tx_event_t *ev, char *msg, size_t msglen)
{
    char q [S_QUOTE_SIZE];
    int rc;
    if (!tx_uuid_is_v7 (ev->id)) {
        s_fmt (msg, msglen, "id is not a UUIDv7 (version %u)", ev->id [6] >> 4);
        return TX_REJECT_BAD_ID;
    }
    if ((rc = s_check_code (ev->unit, ev->unit_len, "unit", msg, msglen))
    ||  (rc = s_check_code (ev->type, ev->type_len, "type", msg, msglen)))
        return rc;
    if (ev->at_nsec >= 1000000000u) {
        s_fmt (msg, msglen, "'at' nanoseconds %u >= 1e9", (unsigned) ev->at_nsec);
        return TX_REJECT_BAD_TIME;
    }
    if (ev->partner
    &&  (rc = s_check_code (ev->partner, ev->partner_len, "partner", msg, msglen)))
        return rc;
    if (ev->attr_count > TX_WIRE_MAX_ATTRS) {
        s_fmt (msg, msglen, "%zu attributes, at most %d", ev->attr_count, TX_WIRE_MAX_ATTRS);
        return TX_REJECT_TOO_MANY_ATTRS;
    }
    if (ev->attr_count > 0 && !ev->attrs) {
        s_fmt (msg, msglen, "attrs missing");
        return TX_REJECT_MALFORMED_EVENT;
    }
    for (size_t i = 0; i < ev->attr_count; i++) {
        const tx_attr_t *a = &ev->attrs [i];
        if ((rc = s_check_code (a->name, a->name_len, "attribute name", msg, msglen)))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (ev->attrs [j].name_len == a->name_len
            &&  memcmp (ev->attrs [j].name, a->name, a->name_len) == 0) {
                s_fmt (msg, msglen, "duplicate attribute '%s'",
                       s_quote (q, sizeof q, a->name, a->name_len));
                return TX_REJECT_DUPLICATE_KEY;
            }
        const tx_value_t *x = &a->value;
        switch (x->type) {
            case TX_VAL_INT:
            case TX_VAL_BOOL:
                break;
            case TX_VAL_FLOAT:
                if (!isfinite (x->u.f)) {
                    s_fmt (msg, msglen, "attribute '%s' is NaN or infinite",
                           s_quote (q, sizeof q, a->name, a->name_len));
                    return TX_REJECT_BAD_NUMBER;
                }
                break;
            case TX_VAL_STR:
                if (!x->u.s.ptr && x->u.s.len) {
                    s_fmt (msg, msglen, "attribute '%s' has no text",
                           s_quote (q, sizeof q, a->name, a->name_len));
                    return TX_REJECT_MALFORMED_EVENT;
                }
                if (x->u.s.len > TX_WIRE_MAX_STR) {
                    s_fmt (msg, msglen, "attribute '%s' of %zu bytes, at most %d",
                           s_quote (q, sizeof q, a->name, a->name_len),
                           x->u.s.len, TX_WIRE_MAX_STR);
                    return TX_REJECT_TOO_LONG;
                }
                if (!tx_utf8_valid (x->u.s.ptr, x->u.s.len)) {
                    s_fmt (msg, msglen, "attribute '%s' is not valid UTF-8 or contains NUL",
                           s_quote (q, sizeof q, a->name, a->name_len));
                    return TX_REJECT_BAD_UTF8;
                }
                break;
            default:
                s_fmt (msg, msglen, "attribute '%s' has no valid value type",
                       s_quote (q, sizeof q, a->name, a->name_len));
                return TX_REJECT_BAD_ATTR_TYPE;
        }
    }
    return TX_REJECT_NONE;
}

//  ---------------------------------------------------------------------
//  Reply decoding

enum { R_V, R_T, R_BATCH, R_RESULTS, R_REJECTED, R_CODE, R_MSG, R_VERSIONS, R_DUPS, R_REV,
       R_COUNT };
static const char *const s_reply_keys [R_COUNT] = {
    "v", "t", "batch", "results", "rejected", "code", "msg", "versions", "dups", "rev"
};

//  A string field of a reply: str, valid UTF-8, min..max bytes.
static bool
s_reply_str (const msgpack_object *o, size_t min, size_t max)
{
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size >= min
        && o->via.str.size <= max && tx_utf8_valid (o->via.str.ptr, o->via.str.size);
}

enum { D_I, D_ID, D_AT, D_COUNT };
static const char *const s_dup_keys [D_COUNT] = { "i", "id", "at" };

//  An ack's "dups" (revision 1.2), after its results: each entry the
//  index of a distinct result 1, a bin 16 id, a timestamp.
static int
s_decode_dups (const msgpack_object *dups, tx_reply_t *out, tx_wire_decoder_t *dec,
               char *err, size_t errlen)
{
    if (!dups)
        return TX_WIRE_OK;
    size_t n = out->n_results;
    if (dups->type != MSGPACK_OBJECT_ARRAY || dups->via.array.size > n) {
        s_fmt (err, errlen, "'dups' is not an array of at most 'results' entries");
        return TX_WIRE_MALFORMED;
    }
    size_t nd = dups->via.array.size;
    if (s_reserve ((void **) &dec->dups, &dec->dups_cap, nd? nd: 1, sizeof (tx_dup_t))) {
        s_fmt (err, errlen, "out of memory");
        return TX_WIRE_NOMEM;
    }
    uint8_t seen [TX_WIRE_MAX_EVENTS] = { 0 };
    for (size_t i = 0; i < nd; i++) {
        const msgpack_object *o = &dups->via.array.ptr [i];
        const msgpack_object *f [D_COUNT] = { NULL };
        if (o->type != MSGPACK_OBJECT_MAP) {
            s_fmt (err, errlen, "dups[%zu] is not a map", i);
            return TX_WIRE_MALFORMED;
        }
        for (uint32_t j = 0; j < o->via.map.size; j++) {
            const msgpack_object *k = &o->via.map.ptr [j].key;
            int e = k->type == MSGPACK_OBJECT_STR? s_key_index (k, s_dup_keys, D_COUNT): -1;
            if (e < 0 || f [e]) {
                s_fmt (err, errlen, "dups[%zu]: %s key", i, e < 0? "unknown": "duplicate");
                return TX_WIRE_MALFORMED;
            }
            f [e] = &o->via.map.ptr [j].val;
        }
        msgpack_timestamp ts;
        if (!f [D_I] || f [D_I]->type != MSGPACK_OBJECT_POSITIVE_INTEGER
        ||  f [D_I]->via.u64 >= n || out->results [f [D_I]->via.u64] != TX_RESULT_DUPLICATE
        ||  seen [f [D_I]->via.u64]++) {
            s_fmt (err, errlen, "dups[%zu]: 'i' is not the index of a result 1", i);
            return TX_WIRE_MALFORMED;
        }
        if (!f [D_ID] || f [D_ID]->type != MSGPACK_OBJECT_BIN || f [D_ID]->via.bin.size != 16
        ||  !f [D_AT] || f [D_AT]->type != MSGPACK_OBJECT_EXT || f [D_AT]->via.ext.type != -1
        ||  !msgpack_object_to_timestamp (f [D_AT], &ts) || ts.tv_nsec >= 1000000000u) {
            s_fmt (err, errlen, "dups[%zu]: bad 'id' or 'at'", i);
            return TX_WIRE_MALFORMED;
        }
        tx_dup_t *d = &dec->dups [i];
        d->index = (size_t) f [D_I]->via.u64;
        memcpy (d->id, f [D_ID]->via.bin.ptr, 16);
        d->at_sec = ts.tv_sec;
        d->at_nsec = ts.tv_nsec;
    }
    out->has_dups = true;
    out->dups = dec->dups;
    out->n_dups = nd;
    return TX_WIRE_OK;
}

enum { J_I, J_CODE, J_MSG, J_COUNT };
static const char *const s_rejected_keys [J_COUNT] = { "i", "code", "msg" };

static int
s_decode_ack (const msgpack_object *const *val, tx_reply_t *out,
              tx_wire_decoder_t *dec, char *err, size_t errlen)
{
    const msgpack_object *res = val [R_RESULTS];
    const msgpack_object *rej = val [R_REJECTED];
    if (val [R_CODE] || val [R_MSG] || val [R_VERSIONS]) {
        s_fmt (err, errlen, "ack with error keys");
        return TX_WIRE_MALFORMED;
    }
    if (!res || res->type != MSGPACK_OBJECT_ARRAY || res->via.array.size == 0
    ||  res->via.array.size > TX_WIRE_MAX_EVENTS) {
        s_fmt (err, errlen, "'results' is not an array of 1..%d", TX_WIRE_MAX_EVENTS);
        return TX_WIRE_MALFORMED;
    }
    if (!rej || rej->type != MSGPACK_OBJECT_ARRAY || rej->via.array.size > res->via.array.size) {
        s_fmt (err, errlen, "'rejected' is not an array of at most 'results' entries");
        return TX_WIRE_MALFORMED;
    }
    size_t n = res->via.array.size;
    size_t nrej = rej->via.array.size;
    if (s_reserve ((void **) &dec->results, &dec->results_cap, n, 1)
    ||  s_reserve ((void **) &dec->rejected, &dec->rejected_cap, nrej ? nrej: 1,
                   sizeof (tx_rejected_t))) {
        s_fmt (err, errlen, "out of memory");
        return TX_WIRE_NOMEM;
    }
    size_t twos = 0;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *o = &res->via.array.ptr [i];
        if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > TX_RESULT_REJECTED) {
            s_fmt (err, errlen, "results[%zu] is not 0, 1 or 2", i);
            return TX_WIRE_MALFORMED;
        }
        dec->results [i] = (uint8_t) o->via.u64;
        twos += o->via.u64 == TX_RESULT_REJECTED;
    }
    if (nrej != twos) {
        s_fmt (err, errlen, "%zu rejected entries for %zu results 2", nrej, twos);
        return TX_WIRE_MALFORMED;
    }
    uint8_t seen [TX_WIRE_MAX_EVENTS] = { 0 };
    for (size_t i = 0; i < nrej; i++) {
        const msgpack_object *o = &rej->via.array.ptr [i];
        const msgpack_object *f [J_COUNT] = { NULL };
        if (o->type != MSGPACK_OBJECT_MAP) {
            s_fmt (err, errlen, "rejected[%zu] is not a map", i);
            return TX_WIRE_MALFORMED;
        }
        for (uint32_t j = 0; j < o->via.map.size; j++) {
            const msgpack_object *k = &o->via.map.ptr [j].key;
            int e = k->type == MSGPACK_OBJECT_STR? s_key_index (k, s_rejected_keys, J_COUNT): -1;
            if (e < 0 || f [e]) {
                s_fmt (err, errlen, "rejected[%zu]: %s key", i, e < 0? "unknown": "duplicate");
                return TX_WIRE_MALFORMED;
            }
            f [e] = &o->via.map.ptr [j].val;
        }
        if (!f [J_I] || f [J_I]->type != MSGPACK_OBJECT_POSITIVE_INTEGER
        ||  f [J_I]->via.u64 >= n || dec->results [f [J_I]->via.u64] != TX_RESULT_REJECTED
        ||  seen [f [J_I]->via.u64]++) {
            s_fmt (err, errlen, "rejected[%zu]: 'i' is not the index of a result 2", i);
            return TX_WIRE_MALFORMED;
        }
        if (!s_reply_str (f [J_CODE], 1, TX_WIRE_MAX_CODE)
        ||  !s_reply_str (f [J_MSG], 0, TX_WIRE_MAX_STR)) {
            s_fmt (err, errlen, "rejected[%zu]: bad 'code' or 'msg'", i);
            return TX_WIRE_MALFORMED;
        }
        tx_rejected_t *r = &dec->rejected [i];
        r->index = (size_t) f [J_I]->via.u64;
        r->code_str = f [J_CODE]->via.str.ptr;
        r->code_len = f [J_CODE]->via.str.size;
        r->code = tx_reject_code_from_str (r->code_str, r->code_len);
        r->msg = f [J_MSG]->via.str.ptr;
        r->msg_len = f [J_MSG]->via.str.size;
    }
    const msgpack_object *rev = val [R_REV];
    if (rev && (rev->type != MSGPACK_OBJECT_POSITIVE_INTEGER || rev->via.u64 == 0)) {
        s_fmt (err, errlen, "'rev' is not a positive int");
        return TX_WIRE_MALFORMED;
    }
    out->rev = rev? rev->via.u64: 0;
    out->results = dec->results;
    out->n_results = n;
    out->rejected = dec->rejected;
    out->n_rejected = nrej;
    return s_decode_dups (val [R_DUPS], out, dec, err, errlen);
}

static int
s_decode_error (const msgpack_object *const *val, tx_reply_t *out,
                char *err, size_t errlen)
{
    if (val [R_RESULTS] || val [R_REJECTED] || val [R_DUPS] || val [R_REV]) {
        s_fmt (err, errlen, "error with ack keys");
        return TX_WIRE_MALFORMED;
    }
    if (!s_reply_str (val [R_CODE], 1, TX_WIRE_MAX_CODE)) {
        s_fmt (err, errlen, "'code' missing or not a code string");
        return TX_WIRE_MALFORMED;
    }
    if (!s_reply_str (val [R_MSG], 0, TX_WIRE_MAX_STR)) {
        s_fmt (err, errlen, "'msg' missing or not valid text");
        return TX_WIRE_MALFORMED;
    }
    out->code = val [R_CODE]->via.str.ptr;
    out->code_len = val [R_CODE]->via.str.size;
    out->error = tx_error_code_from_str (out->code, out->code_len);
    out->msg = val [R_MSG]->via.str.ptr;
    out->msg_len = val [R_MSG]->via.str.size;
    const msgpack_object *vs = val [R_VERSIONS];
    if (out->error == TX_ERROR_UNSUPPORTED_VERSION) {
        if (!vs || vs->type != MSGPACK_OBJECT_ARRAY || vs->via.array.size == 0
        ||  vs->via.array.size > TX_WIRE_MAX_VERSIONS) {
            s_fmt (err, errlen, "'versions' is not an array of 1..%d", TX_WIRE_MAX_VERSIONS);
            return TX_WIRE_MALFORMED;
        }
        for (uint32_t i = 0; i < vs->via.array.size; i++) {
            const msgpack_object *o = &vs->via.array.ptr [i];
            if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 == 0
            ||  o->via.u64 > UINT32_MAX) {
                s_fmt (err, errlen, "versions[%u] is not a positive int", (unsigned) i);
                return TX_WIRE_MALFORMED;
            }
            out->versions [i] = (uint32_t) o->via.u64;
        }
        out->n_versions = vs->via.array.size;
    }
    else
    if (vs) {
        s_fmt (err, errlen, "'versions' without unsupported_version");
        return TX_WIRE_MALFORMED;
    }
    return TX_WIRE_OK;
}

static int
s_decode_reply (tx_reply_t *out, tx_wire_decoder_t *dec, char *err, size_t errlen)
{
    const msgpack_object *root = &dec->up.data;
    if (root->type != MSGPACK_OBJECT_MAP) {
        s_fmt (err, errlen, "message is %s, not a map", s_type_name (root));
        return TX_WIRE_MALFORMED;
    }
    const msgpack_object *val [R_COUNT] = { NULL };
    bool dup_v = false;
    char problem [64] = "";
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *k = &root->via.map.ptr [i].key;
        int e = k->type == MSGPACK_OBJECT_STR? s_key_index (k, s_reply_keys, R_COUNT): -1;
        if (e >= 0 && !val [e])
            val [e] = &root->via.map.ptr [i].val;
        else {
            dup_v |= e == R_V;
            if (!*problem)
                s_fmt (problem, sizeof problem, "%s key", e < 0? "unknown": "duplicate");
        }
    }
    const msgpack_object *v = val [R_V];
    if (v && !dup_v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER
    &&  v->via.u64 > TX_WIRE_VERSION) {
        s_fmt (err, errlen, "unsupported version %llu", (unsigned long long) v->via.u64);
        return TX_WIRE_UNSUPPORTED;
    }
    if (*problem) {
        s_fmt (err, errlen, "%s", problem);
        return TX_WIRE_MALFORMED;
    }
    if (!v || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != TX_WIRE_VERSION) {
        s_fmt (err, errlen, "'v' missing or not a positive int");
        return TX_WIRE_MALFORMED;
    }
    const msgpack_object *b = val [R_BATCH];
    bool is_ack = val [R_T] && s_is_str (val [R_T], "ack");
    bool is_error = val [R_T] && s_is_str (val [R_T], "error");
    if (!is_ack && !is_error) {
        s_fmt (err, errlen, "'t' is not \"ack\" or \"error\"");
        return TX_WIRE_MALFORMED;
    }
    if (b && b->type == MSGPACK_OBJECT_POSITIVE_INTEGER && b->via.u64 > 0)
        out->batch_id = b->via.u64;
    else
    if (!(is_error && b && b->type == MSGPACK_OBJECT_NIL)) {
        s_fmt (err, errlen, "'batch' missing or not an int in 1..2^64-1%s",
               is_error? " or nil": "");
        return TX_WIRE_MALFORMED;
    }
    if (is_ack) {
        out->type = TX_REPLY_ACK;
        return s_decode_ack (val, out, dec, err, errlen);
    }
    out->type = TX_REPLY_ERROR;
    return s_decode_error (val, out, err, errlen);
}

int
tx_wire_decode_reply (const uint8_t *buf, size_t len, tx_reply_t *out,
                      tx_wire_decoder_t *dec, char *err, size_t errlen)
{
    memset (out, 0, sizeof (*out));
    if (err && errlen)
        *err = '\0';
    int rc = s_unpack (dec, buf, len, err, errlen);
    if (rc != TX_WIRE_OK)
        return rc;
    rc = s_decode_reply (out, dec, err, errlen);
    msgpack_unpacked_destroy (&dec->up);
    if (rc != TX_WIRE_OK) {
        uint64_t batch_id = out->batch_id;
        memset (out, 0, sizeof (*out));
        out->batch_id = batch_id;
    }
    return rc;
}

//  ---------------------------------------------------------------------
//  Packing

static int
s_pack_str (msgpack_packer *pk, const char *s, size_t len)
{
    if (msgpack_pack_str (pk, len) != 0)
        return -1;
    return len? msgpack_pack_str_body (pk, s, len): 0;
}

static int
s_pack_lit (msgpack_packer *pk, const char *s)
{
    return s_pack_str (pk, s, strlen (s));
}

//  msgpack_pack_timestamp() in msgpack-c 4.0 returns no value and cannot
//  encode nanoseconds >= 2^30 in the 64-bit form, so pack it here.
static int
s_pack_time (msgpack_packer *pk, int64_t sec, uint32_t nsec)
{
    char b [12];
    if (sec >= 0 && (sec >> 34) == 0 && nsec < (UINT32_C (1) << 30)) {
        uint64_t d = ((uint64_t) nsec << 34) | (uint64_t) sec;
        if ((d >> 32) == 0) {
            for (int i = 0; i < 4; i++)
                b [i] = (char) (d >> (24 - 8 * i));
            return msgpack_pack_ext (pk, 4, -1) || msgpack_pack_ext_body (pk, b, 4)? -1: 0;
        }
        for (int i = 0; i < 8; i++)
            b [i] = (char) (d >> (56 - 8 * i));
        return msgpack_pack_ext (pk, 8, -1) || msgpack_pack_ext_body (pk, b, 8)? -1: 0;
    }
    uint64_t s = (uint64_t) sec;
    for (int i = 0; i < 4; i++)
        b [i] = (char) (nsec >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        b [4 + i] = (char) (s >> (56 - 8 * i));
    return msgpack_pack_ext (pk, 12, -1) || msgpack_pack_ext_body (pk, b, 12)? -1: 0;
}

static int
s_pack_value (msgpack_packer *pk, const tx_value_t *x)
{
    switch (x->type) {
        case TX_VAL_INT:   return msgpack_pack_int64 (pk, x->u.i);
        case TX_VAL_FLOAT: return msgpack_pack_double (pk, x->u.f);
        case TX_VAL_STR:   return s_pack_str (pk, x->u.s.ptr, x->u.s.len);
        case TX_VAL_BOOL:  return x->u.b? msgpack_pack_true (pk): msgpack_pack_false (pk);
    }
    return msgpack_pack_nil (pk);   //  only from tx_wire_pack_event with a bad type
}

int
tx_wire_pack_event (msgpack_packer *pk, const tx_event_t *ev)
{
    size_t keys = 4 + (ev->partner != NULL) + (ev->attr_count > 0) + ev->has_supersedes + (ev->nth > 1);
    int rc = 0;
    rc |= msgpack_pack_map (pk, keys);
    rc |= s_pack_lit (pk, "id");
    rc |= msgpack_pack_bin (pk, 16);
    rc |= msgpack_pack_bin_body (pk, ev->id, 16);
    rc |= s_pack_lit (pk, "unit");
    rc |= s_pack_str (pk, ev->unit, ev->unit_len);
    rc |= s_pack_lit (pk, "type");
    rc |= s_pack_str (pk, ev->type, ev->type_len);
    rc |= s_pack_lit (pk, "at");
    rc |= s_pack_time (pk, ev->at_sec, ev->at_nsec);
    if (ev->partner) {
        rc |= s_pack_lit (pk, "partner");
        rc |= s_pack_str (pk, ev->partner, ev->partner_len);
    }
    if (ev->attr_count > 0) {
        rc |= s_pack_lit (pk, "attrs");
        rc |= msgpack_pack_map (pk, ev->attr_count);
        for (size_t i = 0; i < ev->attr_count; i++) {
            rc |= s_pack_str (pk, ev->attrs [i].name, ev->attrs [i].name_len);
            rc |= s_pack_value (pk, &ev->attrs [i].value);
        }
    }
    if (ev->has_supersedes) {
        rc |= s_pack_lit (pk, "supersedes");
        rc |= msgpack_pack_bin (pk, 16);
        rc |= msgpack_pack_bin_body (pk, ev->supersedes, 16);
    }
    if (ev->nth > 1) {
        rc |= s_pack_lit (pk, "nth");
        rc |= msgpack_pack_uint32 (pk, ev->nth);
    }
    return rc? -1: 0;
}

static void
s_start (msgpack_sbuffer *sb, msgpack_packer *pk)
{
    msgpack_sbuffer_clear (sb);
    msgpack_packer_init (pk, sb, msgpack_sbuffer_write);
}

//  The envelope's first three pairs: "v":1, "t":type, "batch":id|nil.
static int
s_pack_head (msgpack_packer *pk, size_t keys, const char *t, uint64_t batch_id)
{
    int rc = 0;
    rc |= msgpack_pack_map (pk, keys);
    rc |= s_pack_lit (pk, "v");
    rc |= msgpack_pack_uint64 (pk, TX_WIRE_VERSION);
    rc |= s_pack_lit (pk, "t");
    rc |= s_pack_lit (pk, t);
    rc |= s_pack_lit (pk, "batch");
    rc |= batch_id? msgpack_pack_uint64 (pk, batch_id): msgpack_pack_nil (pk);
    return rc? -1: 0;
}

int
tx_wire_pack_batch_head (msgpack_packer *pk, uint64_t batch_id, size_t count)
{
    return tx_wire_pack_batch_head_rev (pk, batch_id, count, 0);
}

int
tx_wire_pack_batch_head_rev (msgpack_packer *pk, uint64_t batch_id, size_t count, uint64_t rev)
{
    int rc = s_pack_head (pk, rev? 5: 4, "batch", batch_id);
    if (rev) {
        rc |= s_pack_lit (pk, "rev");
        rc |= msgpack_pack_uint64 (pk, rev);
    }
    rc |= s_pack_lit (pk, "events");
    rc |= msgpack_pack_array (pk, count);
    return rc? -1: 0;
}

int
tx_wire_payload_event_id (const uint8_t *data, size_t len, uint8_t id [16])
{
    //  fixmap (0x81..0x8f), fixstr "id" (a2 69 64), bin 8 of 16 (c4 10).
    static const uint8_t head [] = { 0xa2, 'i', 'd', 0xc4, 16 };
    if (!data || len < 1 + sizeof head + 16 || (data [0] & 0xf0) != 0x80
    ||  memcmp (data + 1, head, sizeof head) != 0)
        return -1;
    memcpy (id, data + 1 + sizeof head, 16);
    return 0;
}

int
tx_wire_pack_batch (msgpack_sbuffer *sb, uint64_t batch_id,
                    const tx_event_t *events, size_t count,
                    char *err, size_t errlen)
{
    msgpack_packer pk;
    s_start (sb, &pk);
    if (batch_id == 0) {
        s_fmt (err, errlen, "batch id 0");
        return -1;
    }
    if (count == 0 || count > TX_WIRE_MAX_EVENTS || !events) {
        s_fmt (err, errlen, "%zu events, need 1..%d", count, TX_WIRE_MAX_EVENTS);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        char msg [TX_REJECT_MSG_MAX];
        int code = tx_wire_event_check (&events [i], msg, sizeof msg);
        if (code != TX_REJECT_NONE) {
            s_fmt (err, errlen, "event %zu: %s: %s", i, tx_reject_code_str (code), msg);
            return -1;
        }
    }
    int rc = tx_wire_pack_batch_head (&pk, batch_id, count);
    for (size_t i = 0; i < count && rc == 0; i++)
        rc |= tx_wire_pack_event (&pk, &events [i]);
    if (rc) {
        s_fmt (err, errlen, "out of memory packing the batch");
        return -1;
    }
    return 0;
}

//  Text for a msg field: valid UTF-8 without NUL, at most 4096 bytes.
static int
s_pack_text (msgpack_packer *pk, const char *msg, size_t len, const char *fallback)
{
    if (!msg)
        return s_pack_str (pk, "", 0);
    if (!tx_utf8_valid (msg, len))
        return s_pack_lit (pk, fallback);
    return s_pack_str (pk, msg, tx_utf8_prefix (msg, len, TX_WIRE_MAX_STR));
}

int
tx_wire_pack_ack (msgpack_sbuffer *sb, uint64_t batch_id,
                  const uint8_t *results, size_t n,
                  const tx_rejected_t *rejected, size_t n_rejected,
                  char *err, size_t errlen)
{
    return tx_wire_pack_ack_dups (sb, batch_id, results, n, rejected, n_rejected,
                                  false, NULL, 0, err, errlen);
}

int
tx_wire_pack_ack_dups (msgpack_sbuffer *sb, uint64_t batch_id,
                       const uint8_t *results, size_t n,
                       const tx_rejected_t *rejected, size_t n_rejected,
                       bool with_dups, const tx_dup_t *dups, size_t n_dups,
                       char *err, size_t errlen)
{
    return tx_wire_pack_ack_rev (sb, batch_id, results, n, rejected, n_rejected,
                                 with_dups? 2: 0, dups, n_dups, err, errlen);
}

int
tx_wire_pack_ack_rev (msgpack_sbuffer *sb, uint64_t batch_id,
                      const uint8_t *results, size_t n,
                      const tx_rejected_t *rejected, size_t n_rejected,
                      uint64_t rev, const tx_dup_t *dups, size_t n_dups,
                      char *err, size_t errlen)
{
    bool with_dups = rev >= 2;
    bool with_rev = rev >= 3;
    msgpack_packer pk;
    s_start (sb, &pk);
    if (batch_id == 0 || n == 0 || n > TX_WIRE_MAX_EVENTS || !results
    ||  (n_rejected && !rejected)) {
        s_fmt (err, errlen, "bad arguments (batch %llu, %zu results)",
               (unsigned long long) batch_id, n);
        return -1;
    }
    size_t twos = 0;
    for (size_t i = 0; i < n; i++) {
        if (results [i] > TX_RESULT_REJECTED) {
            s_fmt (err, errlen, "results[%zu] = %u", i, results [i]);
            return -1;
        }
        twos += results [i] == TX_RESULT_REJECTED;
    }
    if (twos != n_rejected) {
        s_fmt (err, errlen, "%zu rejected entries for %zu results 2", n_rejected, twos);
        return -1;
    }
    uint8_t seen [TX_WIRE_MAX_EVENTS] = { 0 };
    for (size_t i = 0; i < n_rejected; i++) {
        const tx_rejected_t *r = &rejected [i];
        if (r->index >= n || results [r->index] != TX_RESULT_REJECTED || seen [r->index]++) {
            s_fmt (err, errlen, "rejected[%zu]: index %zu is not a result 2", i, r->index);
            return -1;
        }
        if (!tx_reject_code_str (r->code)) {
            s_fmt (err, errlen, "rejected[%zu]: bad code %d", i, r->code);
            return -1;
        }
    }
    uint8_t dseen [TX_WIRE_MAX_EVENTS] = { 0 };
    for (size_t i = 0; with_dups && i < n_dups; i++)
        if (dups [i].index >= n || results [dups [i].index] != TX_RESULT_DUPLICATE
        ||  dseen [dups [i].index]++ || dups [i].at_nsec >= 1000000000u) {
            s_fmt (err, errlen, "dups[%zu]: index %zu is not a result 1", i, dups [i].index);
            return -1;
        }
    int rc = s_pack_head (&pk, 5 + with_dups + with_rev, "ack", batch_id);
    rc |= s_pack_lit (&pk, "results");
    rc |= msgpack_pack_array (&pk, n);
    for (size_t i = 0; i < n; i++)
        rc |= msgpack_pack_uint8 (&pk, results [i]);
    rc |= s_pack_lit (&pk, "rejected");
    rc |= msgpack_pack_array (&pk, n_rejected);
    for (size_t i = 0; i < n_rejected && rc == 0; i++) {
        const tx_rejected_t *r = &rejected [i];
        const char *code = tx_reject_code_str (r->code);
        size_t mlen = r->msg? (r->msg_len? r->msg_len: strlen (r->msg)): 0;
        rc |= msgpack_pack_map (&pk, 3);
        rc |= s_pack_lit (&pk, "i");
        rc |= msgpack_pack_uint64 (&pk, r->index);
        rc |= s_pack_lit (&pk, "code");
        rc |= s_pack_lit (&pk, code);
        rc |= s_pack_lit (&pk, "msg");
        rc |= s_pack_text (&pk, r->msg, mlen, code);
    }
    if (with_dups) {
        rc |= s_pack_lit (&pk, "dups");
        rc |= msgpack_pack_array (&pk, n_dups);
        for (size_t i = 0; i < n_dups && rc == 0; i++) {
            msgpack_timestamp ts = { .tv_sec = dups [i].at_sec, .tv_nsec = dups [i].at_nsec };
            rc |= msgpack_pack_map (&pk, 3);
            rc |= s_pack_lit (&pk, "i");
            rc |= msgpack_pack_uint64 (&pk, dups [i].index);
            rc |= s_pack_lit (&pk, "id");
            rc |= msgpack_pack_bin (&pk, 16);
            rc |= msgpack_pack_bin_body (&pk, dups [i].id, 16);
            rc |= s_pack_lit (&pk, "at");
            rc |= msgpack_pack_timestamp (&pk, &ts);
        }
    }
    if (with_rev) {
        rc |= s_pack_lit (&pk, "rev");
        rc |= msgpack_pack_uint64 (&pk, TX_WIRE_REVISION);
    }
    if (rc) {
        s_fmt (err, errlen, "out of memory packing the ack");
        return -1;
    }
    return 0;
}

int
tx_wire_pack_error (msgpack_sbuffer *sb, uint64_t batch_id, tx_error_t code,
                    const char *msg, char *err, size_t errlen)
{
    msgpack_packer pk;
    s_start (sb, &pk);
    const char *code_str = tx_error_code_str (code);
    if (!code_str) {
        s_fmt (err, errlen, "bad error code %d", (int) code);
        return -1;
    }
    bool versions = code == TX_ERROR_UNSUPPORTED_VERSION;
    int rc = s_pack_head (&pk, versions? 6: 5, "error", batch_id);
    rc |= s_pack_lit (&pk, "code");
    rc |= s_pack_lit (&pk, code_str);
    rc |= s_pack_lit (&pk, "msg");
    rc |= s_pack_text (&pk, msg, msg? strlen (msg): 0, code_str);
    if (versions) {
        rc |= s_pack_lit (&pk, "versions");
        rc |= msgpack_pack_array (&pk, 1);
        rc |= msgpack_pack_uint64 (&pk, TX_WIRE_VERSION);
    }
    if (rc) {
        s_fmt (err, errlen, "out of memory packing the error");
        return -1;
    }
    return 0;
}

//  ----------------------------------------------------------------- registry (revision 1.3)

//  One pair of a root map, as raw spans of the frame.
typedef struct {
    const char *key;
    size_t key_len;
    const uint8_t *val;
    size_t val_len;
} raw_kv_t;

//  A str at p[0..len): its content.  true if it is one, exactly.
static bool
s_raw_str (const uint8_t *p, size_t len, const char **s, size_t *n)
{
    if (!len)
        return false;
    size_t head, size;
    if (p [0] >= 0xa0 && p [0] <= 0xbf)
        head = 1, size = p [0] & 0x1f;
    else
    if (p [0] == 0xd9 && len >= 2)
        head = 2, size = p [1];
    else
    if (p [0] == 0xda && len >= 3)
        head = 3, size = (size_t) p [1] << 8 | p [2];
    else
    if (p [0] == 0xdb && len >= 5)
        head = 5, size = (size_t) p [1] << 24 | (size_t) p [2] << 16 | (size_t) p [3] << 8 | p [4];
    else
        return false;
    if (head + size != len)
        return false;
    *s = (const char *) p + head;
    *n = size;
    return true;
}

//  A uint at p[0..len).  true if it is one, exactly.
static bool
s_raw_uint (const uint8_t *p, size_t len, uint64_t *u)
{
    if (len == 1 && p [0] <= 0x7f) {
        *u = p [0];
        return true;
    }
    size_t n = len ? (p [0] == 0xcc ? 1 : p [0] == 0xcd ? 2 : p [0] == 0xce ? 4 : p [0] == 0xcf ? 8 : 0) : 0;
    if (!n || len != n + 1)
        return false;
    *u = 0;
    for (size_t i = 1; i <= n; i++)
        *u = *u << 8 | p [i];
    return true;
}

static bool
s_raw_is (const raw_kv_t *kv, const char *lit)
{
    return kv->key_len == strlen (lit) && memcmp (kv->key, lit, kv->key_len) == 0;
}

//  The pairs of the root map of buf[0..len) (which passed tx_prescan), at
//  most max.  Their number, or -1 if the root is not a map of string keys
//  or has more pairs.
static int
s_raw_map (const uint8_t *buf, size_t len, raw_kv_t *kv, size_t max)
{
    size_t off, n;
    if (buf [0] >= 0x80 && buf [0] <= 0x8f)
        off = 1, n = buf [0] & 0x0f;
    else
    if (buf [0] == 0xde && len >= 3)
        off = 3, n = (size_t) buf [1] << 8 | buf [2];
    else
        return -1;
    if (n > max)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t start = off;
        if (tx_prescan_skip (buf, len, &off) != 0
        ||  !s_raw_str (buf + start, off - start, &kv [i].key, &kv [i].key_len))
            return -1;
        start = off;
        if (tx_prescan_skip (buf, len, &off) != 0)
            return -1;
        kv [i].val = buf + start;
        kv [i].val_len = off - start;
    }
    return off == len ? (int) n : -1;
}

//  Is the message's "t" the literal t?  (v 1, a map of string keys.)
static bool
s_raw_t_is (const raw_kv_t *kv, int n, const char *t)
{
    bool v1 = false, tt = false;
    for (int i = 0; i < n; i++) {
        const char *s;
        size_t len;
        uint64_t v;
        if (s_raw_is (&kv [i], "v"))
            v1 = s_raw_uint (kv [i].val, kv [i].val_len, &v) && v == TX_WIRE_VERSION;
        if (s_raw_is (&kv [i], "t"))
            tt = s_raw_str (kv [i].val, kv [i].val_len, &s, &len) && len == strlen (t) && memcmp (s, t, len) == 0;
    }
    return v1 && tt;
}

//  The keys of a registry message: each at most once, no other.  Sets
//  *req.  0, or -1 (reason in err).
static int
s_registry_keys (const raw_kv_t *kv, int n, const char *const *names, int n_names, int *at,
                 uint64_t *req, char *err, size_t errlen)
{
    for (int k = 0; k < n_names; k++)
        at [k] = -1;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < n_names && !s_raw_is (&kv [i], names [k]))
            k++;
        if (k == n_names || at [k] >= 0) {
            s_fmt (err, errlen, "a registry message with %s key", k == n_names ? "an unknown" : "a repeated");
            return -1;
        }
        at [k] = i;
    }
    if (at [2] < 0 || !s_raw_uint (kv [at [2]].val, kv [at [2]].val_len, req) || *req == 0) {
        s_fmt (err, errlen, "a registry message needs \"req\", an integer 1..2^64-1");
        return -1;
    }
    return 0;
}

int
tx_wire_pack_registry_request (msgpack_sbuffer *sb, uint64_t req, const char *have)
{
    msgpack_packer pk;
    s_start (sb, &pk);
    int rc = msgpack_pack_map (&pk, have ? 4 : 3) | s_pack_lit (&pk, "v")
           | msgpack_pack_uint64 (&pk, TX_WIRE_VERSION) | s_pack_lit (&pk, "t") | s_pack_lit (&pk, "registry")
           | s_pack_lit (&pk, "req") | msgpack_pack_uint64 (&pk, req);
    if (have)
        rc |= s_pack_lit (&pk, "have") | s_pack_lit (&pk, have);
    return rc || !req ? -1 : 0;
}

int
tx_wire_decode_registry_request (const uint8_t *buf, size_t len, tx_registry_req_t *out,
                                 char *err, size_t errlen)
{
    static const char *names [] = { "v", "t", "req", "have" };
    memset (out, 0, sizeof *out);
    raw_kv_t kv [8];
    int n;
    //  Anything that is not plainly a registry request is the batch
    //  decoder's to judge (and refuse).
    if (len > TX_WIRE_MAX_REGISTRY_REQUEST || tx_prescan (buf, len, NULL, NULL) != 0
    ||  (n = s_raw_map (buf, len, kv, 8)) < 0 || !s_raw_t_is (kv, n, "registry"))
        return TX_WIRE_NOT_THIS;
    int at [4];
    if (s_registry_keys (kv, n, names, 4, at, &out->req, err, errlen) != 0)
        return TX_WIRE_MALFORMED;
    if (at [3] >= 0
    && (!s_raw_str (kv [at [3]].val, kv [at [3]].val_len, &out->have, &out->have_len)
     || out->have_len < 1 || out->have_len > TX_WIRE_MAX_CODE)) {
        s_fmt (err, errlen, "\"have\" must be a registry version, a string of 1..64 bytes");
        return TX_WIRE_MALFORMED;
    }
    return TX_WIRE_OK;
}

int
tx_wire_pack_registry_reply (msgpack_sbuffer *sb, uint64_t req, const char *version,
                             const uint8_t *body, size_t body_len)
{
    msgpack_packer pk;
    s_start (sb, &pk);
    int rc = msgpack_pack_map (&pk, body ? 5 : 4) | s_pack_lit (&pk, "v")
           | msgpack_pack_uint64 (&pk, TX_WIRE_VERSION) | s_pack_lit (&pk, "t") | s_pack_lit (&pk, "registry")
           | s_pack_lit (&pk, "req") | msgpack_pack_uint64 (&pk, req)
           | s_pack_lit (&pk, "version") | s_pack_lit (&pk, version);
    if (body)
        rc |= s_pack_lit (&pk, "registry") | msgpack_sbuffer_write (sb, (const char *) body, body_len);
    return rc || !req ? -1 : 0;
}

int
tx_wire_decode_registry_reply (const uint8_t *buf, size_t len, tx_registry_rep_t *out,
                               char *err, size_t errlen)
{
    static const char *names [] = { "v", "t", "req", "version", "registry" };
    memset (out, 0, sizeof *out);
    if (len > TX_WIRE_MAX_FRAME) {
        s_fmt (err, errlen, "a reply over 1 MiB");
        return TX_WIRE_MALFORMED;
    }
    tx_prescan_limits_t lim = { .max_depth = 8, .max_items = 1u << 20 };
    tx_prescan_info_t info;
    if (tx_prescan (buf, len, &lim, &info) != 0) {
        s_fmt (err, errlen, "not one msgpack object within the limits: %s at byte %zu",
               tx_prescan_reason_str (info.reason), info.offset);
        return TX_WIRE_MALFORMED;
    }
    raw_kv_t kv [8];
    int n = s_raw_map (buf, len, kv, 8);
    if (n < 0 || !s_raw_t_is (kv, n, "registry"))
        return TX_WIRE_NOT_THIS;
    int at [5];
    if (s_registry_keys (kv, n, names, 5, at, &out->req, err, errlen) != 0)
        return TX_WIRE_MALFORMED;
    if (at [3] < 0 || !s_raw_str (kv [at [3]].val, kv [at [3]].val_len, &out->version, &out->version_len)
    ||  out->version_len < 1 || out->version_len > TX_WIRE_MAX_CODE) {
        s_fmt (err, errlen, "a registry reply needs \"version\", a string of 1..64 bytes");
        return TX_WIRE_MALFORMED;
    }
    if (at [4] >= 0) {
        const uint8_t *b = kv [at [4]].val;
        if (!((b [0] >= 0x80 && b [0] <= 0x8f) || b [0] == 0xde || b [0] == 0xdf)) {
            s_fmt (err, errlen, "\"registry\" is not a map");
            return TX_WIRE_MALFORMED;
        }
        out->body = b;
        out->body_len = kv [at [4]].val_len;
    }
    return TX_WIRE_OK;
}

int
tx_wire_pack_status (msgpack_sbuffer *sb, const tx_status_msg_t *st, char *err, size_t errlen)
{
    msgpack_packer pk;
    s_start (sb, &pk);
    if (st->backlog > INT64_MAX || (st->has_oldest && st->backlog == 0)
    ||  (st->has_oldest && st->oldest_nsec >= 1000000000u)
    ||  (st->has_verdict && st->verdict_nsec >= 1000000000u)) {
        s_fmt (err, errlen, "bad backlog or time");
        return -1;
    }
    size_t swlen = st->software? (st->software_len? st->software_len: strlen (st->software)): 0;
    if (st->software && !s_software_ok (st->software, swlen)) {
        s_fmt (err, errlen, "software is not 1..%d bytes of clean text", TX_WIRE_MAX_SOFTWARE);
        return -1;
    }
    int rc = msgpack_pack_map (&pk, 3 + st->has_oldest + st->has_verdict + (st->software != NULL));
    rc |= s_pack_lit (&pk, "v");
    rc |= msgpack_pack_uint64 (&pk, TX_WIRE_VERSION);
    rc |= s_pack_lit (&pk, "t");
    rc |= s_pack_lit (&pk, "status");
    rc |= s_pack_lit (&pk, "backlog");
    rc |= msgpack_pack_uint64 (&pk, st->backlog);
    if (st->has_oldest) {
        rc |= s_pack_lit (&pk, "oldest");
        rc |= s_pack_time (&pk, st->oldest_sec, st->oldest_nsec);
    }
    if (st->has_verdict) {
        rc |= s_pack_lit (&pk, "verdict");
        rc |= s_pack_time (&pk, st->verdict_sec, st->verdict_nsec);
    }
    if (st->software) {
        rc |= s_pack_lit (&pk, "software");
        rc |= s_pack_str (&pk, st->software, swlen);
    }
    if (rc) {
        s_fmt (err, errlen, "out of memory packing the status");
        return -1;
    }
    return 0;
}
