/*  registry.c: build, seal, encode, decode and query a registry snapshot.  */
#include "registry.h"
#include "prescan.h"
#include "strmap.h"
#include "utf8.h"

#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_MAX    64          //  bytes of a code or name (the wire's)
#define MAX_ATTRS   256         //  attributes of a type in a registry body
#define MAX_BODY    1048576     //  bytes of a registry body

typedef struct chunk_t {
    struct chunk_t *next;
    size_t used, size;
    char data [];
} chunk_t;

struct tx_registry_t {
    atomic_int refs;            //  references
    chunk_t *arena;             //  every string and array of the snapshot
    tx_strmap_t *units;         //  code -> (void *) 1 active / 2 disabled
    tx_strmap_t *regions;       //  code -> tx_region_t *
    tx_region_t **region_list;  //  the same regions, in the order added
    size_t n_regions, cap_regions;
    char *timezone;             //  the organisation's time zone, or NULL
    uint8_t *body;              //  sealed: the canonical body (malloc)
    size_t body_len;
    char version [TX_REGISTRY_VERSION_LEN + 1];     //  sealed: its version, else ""
    tx_strmap_t *types;         //  code -> tx_type_def_t *
    const tx_type_def_t **type_list;    //  the same types, in the order added
    size_t n_types, cap_types;
    tx_strmap_t *keys;          //  z85 public key -> unit code (arena), live keys
    tx_strmap_t *revoked;       //  z85 public key -> (void *) 1, revoked keys
    int64_t id_lo_ms, id_hi_ms; //  event id window
};

//  Appends p to a growing array of pointers.  0 or -1.
static int
s_append (void ***list, size_t *n, size_t *cap, void *p)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 32;
        void **l = realloc (*list, c * sizeof *l);
        if (!l)
            return -1;
        *list = l;
        *cap = c;
    }
    (*list) [(*n)++] = p;
    return 0;
}

//  Appends t to the list of types (for tx_registry_nearest_type).  0 or -1.
static int
s_list_type (tx_registry_t *self, const tx_type_def_t *t)
{
    return s_append ((void ***) &self->type_list, &self->n_types, &self->cap_types, (void *) t);
}

static void *
s_alloc (tx_registry_t *self, size_t size)
{
    size = (size + 15) & ~(size_t) 15;
    chunk_t *c = self->arena;
    if (!c || c->used + size > c->size) {
        size_t csize = size > 65536 ? size : 65536;
        c = malloc (sizeof (chunk_t) + csize);
        if (!c)
            return NULL;
        c->next = self->arena;
        c->used = 0;
        c->size = csize;
        self->arena = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset (p, 0, size);
    return p;
}

static char *
s_strndup (tx_registry_t *self, const char *s, size_t len)
{
    char *p = s_alloc (self, len + 1);
    if (p) {
        memcpy (p, s, len);
        p [len] = 0;
    }
    return p;
}

static char *
s_strdup (tx_registry_t *self, const char *s)
{
    return s_strndup (self, s, strlen (s));
}

//  A copy of s, or NULL for NULL.  0, or -1 out of memory.
static int
s_opt_dup (tx_registry_t *self, char **out, const char *s)
{
    *out = s ? s_strdup (self, s) : NULL;
    return s && !*out ? -1 : 0;
}

//  A copy of n strings (NULL for NULL).  0 or -1.
static int
s_list_dup (tx_registry_t *self, char ***out, char *const *list, size_t n)
{
    *out = NULL;
    if (!list)
        return 0;
    //  An empty list stays a list (an enum without values is not a text).
    if (!(*out = s_alloc (self, sizeof (char *) * (n ? n : 1))))
        return -1;
    for (size_t k = 0; k < n; k++)
        if (s_opt_dup (self, &(*out) [k], list [k] ? list [k] : "") != 0)
            return -1;
    return 0;
}

static const char *s_kinds [] = { "int", "numeric", "text", "bool", "date", "enum" };

const char *
tx_kind_name (tx_kind_t kind)
{
    return kind >= TX_KIND_INT && kind <= TX_KIND_ENUM ? s_kinds [kind - 1] : "?";
}

tx_kind_t
tx_kind_from_name (const char *s)
{
    for (int i = 0; i < 6; i++)
        if (strcmp (s, s_kinds [i]) == 0)
            return (tx_kind_t) (i + 1);
    return 0;
}

tx_registry_t *
tx_registry_new (void)
{
    tx_registry_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    atomic_init (&self->refs, 1);
    self->units = tx_strmap_new ();
    self->regions = tx_strmap_new ();
    self->types = tx_strmap_new ();
    self->keys = tx_strmap_new ();
    self->revoked = tx_strmap_new ();
    if (!self->units || !self->regions || !self->types || !self->keys || !self->revoked)
        tx_registry_unref (&self);
    return self;
}

int
tx_registry_add_unit (tx_registry_t *self, const char *code, bool active)
{
    return tx_strmap_put (self->units, code, strlen (code), (void *) (uintptr_t) (active ? 1 : 2));
}

int
tx_registry_add_region_named (tx_registry_t *self, const char *code, const char *name,
                              const char *name_en)
{
    tx_region_t *r = s_alloc (self, sizeof *r);
    if (!r || !(r->code = s_strdup (self, code)) || s_opt_dup (self, &r->name, name) != 0
    ||  s_opt_dup (self, &r->name_en, name_en) != 0
    ||  tx_strmap_put (self->regions, code, strlen (code), r) != 0)
        return -1;
    return s_append ((void ***) &self->region_list, &self->n_regions, &self->cap_regions, r);
}

int
tx_registry_add_region (tx_registry_t *self, const char *code)
{
    return tx_registry_add_region_named (self, code, NULL, NULL);
}

int
tx_registry_set_type_labels (tx_registry_t *self, tx_type_def_t *type, const char *name_zh,
                             const char *name_en, const char *description, const char *description_zh)
{
    return s_opt_dup (self, &type->name_zh, name_zh) != 0 || s_opt_dup (self, &type->name_en, name_en) != 0
        || s_opt_dup (self, &type->description, description) != 0
        || s_opt_dup (self, &type->description_zh, description_zh) != 0 ? -1 : 0;
}

int
tx_registry_set_timezone (tx_registry_t *self, const char *tz)
{
    return s_opt_dup (self, &self->timezone, tz);
}

tx_type_def_t *
tx_registry_add_type (tx_registry_t *self, const char *code, bool partner_required, size_t max_attrs)
{
    tx_type_def_t *t = s_alloc (self, sizeof *t);
    if (!t || !(t->code = s_strdup (self, code))
    ||  !(t->attrs = s_alloc (self, sizeof (tx_attr_def_t) * (max_attrs + 1)))
    ||  tx_strmap_put (self->types, code, strlen (code), t) != 0)
        return NULL;
    if (s_list_type (self, t) != 0)
        return NULL;
    t->partner_required = partner_required;
    return t;
}

int
tx_registry_add_attr (tx_registry_t *self, tx_type_def_t *type, const tx_attr_def_t *def)
{
    tx_attr_def_t *a = &type->attrs [type->n_attrs];
    *a = *def;
    if (!(a->name = s_strdup (self, def->name)))
        return -1;
    a->name_len = strlen (a->name);
    a->n_enum = def->enum_values ? def->n_enum : 0;
    if (s_list_dup (self, &a->enum_values, def->enum_values, a->n_enum) != 0
    ||  s_list_dup (self, &a->enum_labels_zh, def->enum_labels_zh, a->n_enum) != 0
    ||  s_list_dup (self, &a->enum_labels_en, def->enum_labels_en, a->n_enum) != 0
    ||  s_opt_dup (self, &a->label_zh, def->label_zh) != 0
    ||  s_opt_dup (self, &a->label_en, def->label_en) != 0
    ||  s_opt_dup (self, &a->description, def->description) != 0
    ||  s_opt_dup (self, &a->description_zh, def->description_zh) != 0)
        return -1;
    type->n_attrs++;
    if (a->required)
        type->n_required++;
    return 0;
}

int
tx_registry_add_key (tx_registry_t *self, const char *z85, const char *unit, bool revoked)
{
    if (revoked)
        return tx_strmap_put (self->revoked, z85, strlen (z85), (void *) 1);
    char *u = s_strdup (self, unit);
    return u ? tx_strmap_put (self->keys, z85, strlen (z85), u) : -1;
}

void
tx_registry_set_id_window (tx_registry_t *self, int64_t lo_ms, int64_t hi_ms)
{
    self->id_lo_ms = lo_ms;
    self->id_hi_ms = hi_ms;
}

tx_registry_t *
tx_registry_ref (tx_registry_t *self)
{
    if (self)
        atomic_fetch_add (&self->refs, 1);
    return self;
}

void
tx_registry_unref (tx_registry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tx_registry_t *self = *self_p;
    *self_p = NULL;
    if (atomic_fetch_sub (&self->refs, 1) != 1)
        return;
    tx_strmap_destroy (&self->units);
    tx_strmap_destroy (&self->regions);
    free (self->region_list);
    tx_strmap_destroy (&self->types);
    free (self->type_list);
    free (self->body);
    tx_strmap_destroy (&self->keys);
    tx_strmap_destroy (&self->revoked);
    while (self->arena) {
        chunk_t *next = self->arena->next;
        free (self->arena);
        self->arena = next;
    }
    free (self);
}

int
tx_registry_unit (const tx_registry_t *self, const char *code, size_t len)
{
    uintptr_t v = (uintptr_t) tx_strmap_get (self->units, code, len);
    return v == 1 ? 1 : v == 2 ? 0 : -1;
}

bool
tx_registry_region (const tx_registry_t *self, const char *code, size_t len)
{
    return tx_strmap_get (self->regions, code, len) != NULL;
}

const tx_region_t *
tx_registry_region_get (const tx_registry_t *self, const char *code, size_t len)
{
    return tx_strmap_get (self->regions, code, len);
}

const char *
tx_registry_timezone (const tx_registry_t *self)
{
    return self->timezone ? self->timezone : "";
}

const tx_type_def_t *
tx_registry_type_at (const tx_registry_t *self, size_t i)
{
    return i < self->n_types ? self->type_list [i] : NULL;
}

const tx_type_def_t *
tx_registry_type (const tx_registry_t *self, const char *code, size_t len)
{
    return tx_strmap_get (self->types, code, len);
}

//  The edit distance between a[0..n) and b[0..m), bytes; at most 64 each.
static size_t
s_distance (const char *a, size_t n, const char *b, size_t m)
{
    size_t row [65];
    for (size_t j = 0; j <= m; j++)
        row [j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row [0];
        row [0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row [j];
            size_t best = diag + (a [i - 1] != b [j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row [j - 1] + 1 < best)
                best = row [j - 1] + 1;
            row [j] = best;
            diag = up;
        }
    }
    return row [m];
}

const char *
tx_registry_nearest_type (const tx_registry_t *self, const char *code, size_t len)
{
    if (len == 0 || len > 64)
        return NULL;
    size_t limit = len / 3 > 2 ? len / 3 : 2;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < self->n_types; i++) {
        const char *t = self->type_list [i]->code;
        size_t tlen = strlen (t);
        if (tlen > 64)
            continue;
        size_t d = s_distance (code, len, t, tlen);
        if (d < best_d && d < len) {
            best = t;
            best_d = d;
        }
    }
    return best;
}

const char *
tx_registry_key_unit (const tx_registry_t *self, const char *z85)
{
    return tx_strmap_get (self->keys, z85, strlen (z85));
}

bool
tx_registry_key_revoked (const tx_registry_t *self, const char *z85)
{
    return tx_strmap_get (self->revoked, z85, strlen (z85)) != NULL;
}

void
tx_registry_id_window (const tx_registry_t *self, int64_t *lo_ms, int64_t *hi_ms)
{
    *lo_ms = self->id_lo_ms;
    *hi_ms = self->id_hi_ms;
}

size_t tx_registry_units (const tx_registry_t *self) { return tx_strmap_size (self->units); }
size_t tx_registry_types (const tx_registry_t *self) { return tx_strmap_size (self->types); }
size_t tx_registry_keys (const tx_registry_t *self) { return tx_strmap_size (self->keys); }
size_t tx_registry_regions (const tx_registry_t *self) { return self->n_regions; }

//  ----------------------------------------------------------------- canonical body

static int
s_pk_str (msgpack_packer *pk, const char *s)
{
    size_t len = strlen (s);
    return msgpack_pack_str (pk, len) || (len && msgpack_pack_str_body (pk, s, len)) ? -1 : 0;
}

//  "key": "value" if value is set.  0 or -1.
static int
s_pk_opt (msgpack_packer *pk, const char *key, const char *value)
{
    return value ? (s_pk_str (pk, key) || s_pk_str (pk, value) ? -1 : 0) : 0;
}

static int
s_pk_list (msgpack_packer *pk, const char *key, char *const *list, size_t n)
{
    if (!list)
        return 0;
    if (s_pk_str (pk, key) || msgpack_pack_array (pk, n))
        return -1;
    for (size_t k = 0; k < n; k++)
        if (s_pk_str (pk, list [k] ? list [k] : ""))
            return -1;
    return 0;
}

static int
s_cmp_type (const void *a, const void *b)
{
    return strcmp ((*(const tx_type_def_t *const *) a)->code, (*(const tx_type_def_t *const *) b)->code);
}

static int
s_cmp_attr (const void *a, const void *b)
{
    return strcmp ((*(const tx_attr_def_t *const *) a)->name, (*(const tx_attr_def_t *const *) b)->name);
}

static int
s_cmp_region (const void *a, const void *b)
{
    return strcmp ((*(const tx_region_t *const *) a)->code, (*(const tx_region_t *const *) b)->code);
}

static int
s_pack_attr (msgpack_packer *pk, const tx_attr_def_t *a)
{
    bool has_enum = a->kind == TX_KIND_ENUM && a->enum_values;
    size_t keys = 3 + a->has_min + (a->has_min && a->min_exclusive) + a->has_max + (a->max_len > 0)
                + (has_enum ? 1 + !!a->enum_labels_zh + !!a->enum_labels_en : 0)
                + !!a->label_zh + !!a->label_en + !!a->description + !!a->description_zh;
    if (msgpack_pack_map (pk, keys)
    ||  s_pk_str (pk, "name") || s_pk_str (pk, a->name)
    ||  s_pk_str (pk, "kind") || s_pk_str (pk, tx_kind_name (a->kind))
    ||  s_pk_str (pk, "required") || (a->required ? msgpack_pack_true (pk) : msgpack_pack_false (pk)))
        return -1;
    if (a->has_min && (s_pk_str (pk, "min") || msgpack_pack_double (pk, a->min)))
        return -1;
    if (a->has_min && a->min_exclusive && (s_pk_str (pk, "min_exclusive") || msgpack_pack_true (pk)))
        return -1;
    if (a->has_max && (s_pk_str (pk, "max") || msgpack_pack_double (pk, a->max)))
        return -1;
    if (a->max_len > 0 && (s_pk_str (pk, "max_len") || msgpack_pack_uint32 (pk, (uint32_t) a->max_len)))
        return -1;
    if (has_enum
    && (s_pk_list (pk, "enum", a->enum_values, a->n_enum)
     || s_pk_list (pk, "enum_zh", a->enum_labels_zh, a->n_enum)
     || s_pk_list (pk, "enum_en", a->enum_labels_en, a->n_enum)))
        return -1;
    return s_pk_opt (pk, "label_zh", a->label_zh) || s_pk_opt (pk, "label_en", a->label_en)
        || s_pk_opt (pk, "description", a->description)
        || s_pk_opt (pk, "description_zh", a->description_zh) ? -1 : 0;
}

static int
s_pack_type (msgpack_packer *pk, const tx_type_def_t *t)
{
    size_t keys = 3 + !!t->name_zh + !!t->name_en + !!t->description + !!t->description_zh;
    if (msgpack_pack_map (pk, keys)
    ||  s_pk_str (pk, "code") || s_pk_str (pk, t->code)
    ||  s_pk_str (pk, "partner") || (t->partner_required ? msgpack_pack_true (pk) : msgpack_pack_false (pk))
    ||  s_pk_opt (pk, "name_zh", t->name_zh) || s_pk_opt (pk, "name_en", t->name_en)
    ||  s_pk_opt (pk, "description", t->description) || s_pk_opt (pk, "description_zh", t->description_zh)
    ||  s_pk_str (pk, "attrs") || msgpack_pack_array (pk, t->n_attrs))
        return -1;
    const tx_attr_def_t **attrs = malloc ((t->n_attrs + 1) * sizeof *attrs);
    if (!attrs)
        return -1;
    for (size_t i = 0; i < t->n_attrs; i++)
        attrs [i] = &t->attrs [i];
    qsort (attrs, t->n_attrs, sizeof *attrs, s_cmp_attr);
    int rc = 0;
    for (size_t i = 0; i < t->n_attrs && rc == 0; i++)
        rc = s_pack_attr (pk, attrs [i]);
    free (attrs);
    return rc;
}

int
tx_registry_pack (const tx_registry_t *self, msgpack_packer *pk)
{
    const tx_type_def_t **types = malloc ((self->n_types + 1) * sizeof *types);
    tx_region_t **regions = malloc ((self->n_regions + 1) * sizeof *regions);
    int rc = -1;
    if (!types || !regions)
        goto done;
    if (self->n_types)
        memcpy (types, self->type_list, self->n_types * sizeof *types);
    qsort (types, self->n_types, sizeof *types, s_cmp_type);
    if (self->n_regions)
        memcpy (regions, self->region_list, self->n_regions * sizeof *regions);
    qsort (regions, self->n_regions, sizeof *regions, s_cmp_region);
    if (msgpack_pack_map (pk, 3)
    ||  s_pk_str (pk, "timezone") || s_pk_str (pk, tx_registry_timezone (self))
    ||  s_pk_str (pk, "types") || msgpack_pack_array (pk, self->n_types))
        goto done;
    for (size_t i = 0; i < self->n_types; i++)
        if (s_pack_type (pk, types [i]) != 0)
            goto done;
    if (s_pk_str (pk, "regions") || msgpack_pack_array (pk, self->n_regions))
        goto done;
    for (size_t i = 0; i < self->n_regions; i++) {
        const tx_region_t *r = regions [i];
        if (msgpack_pack_map (pk, 1 + !!r->name + !!r->name_en)
        ||  s_pk_str (pk, "code") || s_pk_str (pk, r->code)
        ||  s_pk_opt (pk, "name", r->name) || s_pk_opt (pk, "name_en", r->name_en))
            goto done;
    }
    rc = 0;
done:
    free (types);
    free (regions);
    return rc;
}

//  The version of body[0..len) into self.
static void
s_version (tx_registry_t *self, const uint8_t *body, size_t len)
{
    uint8_t h [crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (h, body, len);
    static const char hex [] = "0123456789abcdef";
    for (int i = 0; i < TX_REGISTRY_VERSION_LEN / 2; i++) {
        self->version [2 * i] = hex [h [i] >> 4];
        self->version [2 * i + 1] = hex [h [i] & 15];
    }
    self->version [TX_REGISTRY_VERSION_LEN] = 0;
}

int
tx_registry_seal (tx_registry_t *self)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    if (tx_registry_pack (self, &pk) != 0 || !sb.data) {
        msgpack_sbuffer_destroy (&sb);
        return -1;
    }
    free (self->body);
    self->body = (uint8_t *) sb.data;           //  sbuffer's data is malloc'd
    self->body_len = sb.size;
    s_version (self, self->body, self->body_len);
    return 0;
}

const char *
tx_registry_version (const tx_registry_t *self)
{
    return self->version;
}

const uint8_t *
tx_registry_body (const tx_registry_t *self, size_t *len)
{
    *len = self->body ? self->body_len : 0;
    return self->body;
}

//  ----------------------------------------------------------------- decoding

typedef struct {
    char *err;
    size_t errlen;
} derr_t;

static bool
s_attr_find (const tx_type_def_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_attrs; i++)
        if (strcmp (t->attrs [i].name, name) == 0)
            return true;
    return false;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int
s_bad (derr_t *e, const char *fmt, const char *what)
{
    snprintf (e->err, e->errlen, fmt, what);
    return -1;
}
#pragma GCC diagnostic pop

static bool
s_key_is (const msgpack_object_kv *kv, const char *name)
{
    size_t len = strlen (name);
    return kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == len
        && memcmp (kv->key.via.str.ptr, name, len) == 0;
}

//  A str of 1..max bytes (0..max if may_be_empty), valid UTF-8 without
//  NUL, copied NUL-terminated into buf (max + 1 bytes).  0 or -1.
static int
s_get_str (const msgpack_object *o, size_t max, bool may_be_empty, char *buf, derr_t *e,
           const char *what)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return s_bad (e, "%s is not a string", what);
    size_t len = o->via.str.size;
    if ((!len && !may_be_empty) || len > max)
        return s_bad (e, "%s is empty or too long", what);
    if (!tx_utf8_valid (o->via.str.ptr, len))
        return s_bad (e, "%s is not UTF-8 text", what);
    memcpy (buf, o->via.str.ptr, len);
    buf [len] = 0;
    return 0;
}

static int
s_get_bool (const msgpack_object *o, bool *out, derr_t *e, const char *what)
{
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        return s_bad (e, "%s is not a boolean", what);
    *out = o->via.boolean;
    return 0;
}

static int
s_get_number (const msgpack_object *o, double *out, derr_t *e, const char *what)
{
    if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)
        *out = o->via.f64;
    else
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *out = (double) o->via.u64;
    else
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = (double) o->via.i64;
    else
        return s_bad (e, "%s is not a number", what);
    return isfinite (*out) ? 0 : s_bad (e, "%s is not finite", what);
}

//  An array of max at most strings, as NUL-terminated copies in a
//  malloc'd block (*list, to free).  0 or -1.
static int
s_get_list (const msgpack_object *o, size_t max, char ***list, size_t *n, derr_t *e, const char *what)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > max)
        return s_bad (e, "%s is not an array of at most the allowed size", what);
    size_t count = o->via.array.size, bytes = 0;
    for (size_t k = 0; k < count; k++) {
        const msgpack_object *x = &o->via.array.ptr [k];
        if (x->type != MSGPACK_OBJECT_STR)
            return s_bad (e, "%s holds a value that is not a string", what);
        bytes += x->via.str.size + 1;
    }
    char **l = malloc (count * sizeof *l + bytes + 1);
    if (!l)
        return s_bad (e, "out of memory reading %s", what);
    char *p = (char *) (l + count);
    for (size_t k = 0; k < count; k++) {
        size_t len = o->via.array.ptr [k].via.str.size;
        if (len > TX_REGISTRY_MAX_TEXT
        ||  s_get_str (&o->via.array.ptr [k], len, true, p, e, what) != 0) {
            free (l);
            return len > TX_REGISTRY_MAX_TEXT ? s_bad (e, "%s holds a string too long", what) : -1;
        }
        l [k] = p;
        p += len + 1;
    }
    *list = l;
    *n = count;
    return 0;
}

//  Optional text (a label, a description) into a malloc'd copy.  0 or -1.
static int
s_get_text (const msgpack_object *o, char **out, derr_t *e, const char *what)
{
    free (*out);
    *out = NULL;
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > TX_REGISTRY_MAX_TEXT)
        return s_bad (e, "%s is not a string of at most 4096 bytes", what);
    char *s = malloc (o->via.str.size + 1);
    if (!s)
        return s_bad (e, "out of memory reading %s", what);
    if (s_get_str (o, o->via.str.size, true, s, e, what) != 0) {
        free (s);
        return -1;
    }
    *out = s;
    return 0;
}

//  Each key at most once: bit i of *seen for names [i]; unknown keys are
//  ignored (a newer collector may add some; the version covers them).
//  Returns the index of the key, -1 unknown, -2 (error set) repeated or
//  not a string.
static int
s_which (const msgpack_object_kv *kv, const char *const *names, int n, uint32_t *seen, derr_t *e)
{
    if (kv->key.type != MSGPACK_OBJECT_STR)
        return s_bad (e, "a key is not a string%s", ""), -2;
    for (int i = 0; i < n; i++)
        if (s_key_is (kv, names [i])) {
            if (*seen & (1u << i))
                return s_bad (e, "key '%s' is repeated", names [i]), -2;
            *seen |= 1u << i;
            return i;
        }
    return -1;
}

static int
s_decode_attr (tx_registry_t *self, tx_type_def_t *t, const msgpack_object *o, derr_t *e)
{
    static const char *names [] = { "name", "kind", "required", "min", "min_exclusive", "max", "max_len",
                                    "enum", "enum_zh", "enum_en", "label_zh", "label_en",
                                    "description", "description_zh" };
    if (o->type != MSGPACK_OBJECT_MAP)
        return s_bad (e, "an attribute of type %s is not a map", t->code);
    char name [CODE_MAX + 1], kind [16];
    tx_attr_def_t def = { .name = name };
    char **lists [3] = { NULL, NULL, NULL };
    size_t counts [3] = { 0, 0, 0 };
    char *texts [4] = { NULL, NULL, NULL, NULL };
    uint32_t seen = 0;
    int rc = 0;
    for (uint32_t i = 0; i < o->via.map.size && rc == 0; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr [i];
        const msgpack_object *v = &kv->val;
        int k = s_which (kv, names, 14, &seen, e);
        switch (k) {
            case -2: rc = -1; break;
            case 0: rc = s_get_str (v, CODE_MAX, false, name, e, "an attribute's name"); break;
            case 1:
                rc = s_get_str (v, sizeof kind - 1, false, kind, e, "an attribute's kind");
                if (rc == 0 && !(def.kind = tx_kind_from_name (kind)))
                    rc = s_bad (e, "unknown attribute kind '%s'", kind);
                break;
            case 2: rc = s_get_bool (v, &def.required, e, "required"); break;
            case 3: rc = s_get_number (v, &def.min, e, "min"); def.has_min = true; break;
            case 4: rc = s_get_bool (v, &def.min_exclusive, e, "min_exclusive"); break;
            case 5: rc = s_get_number (v, &def.max, e, "max"); def.has_max = true; break;
            case 6:
                if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 < 1 || v->via.u64 > 1048576)
                    rc = s_bad (e, "max_len is not a positive integer%s", "");
                else
                    def.max_len = (int) v->via.u64;
                break;
            case 7: case 8: case 9:
                rc = s_get_list (v, TX_REGISTRY_MAX_ENUM, &lists [k - 7], &counts [k - 7], e, names [k]);
                break;
            case 10: case 11: case 12: case 13:
                rc = s_get_text (v, &texts [k - 10], e, names [k]);
                break;
        }
    }
    if (rc == 0 && (seen & 7) != 7)
        rc = s_bad (e, "an attribute of type %s lacks its name, kind or required", t->code);
    if (rc == 0 && (def.kind == TX_KIND_ENUM) != (lists [0] != NULL))
        rc = s_bad (e, "attribute %s: enum values go with kind enum, and only with it", name);
    if (rc == 0 && ((lists [1] && counts [1] != counts [0]) || (lists [2] && counts [2] != counts [0])))
        rc = s_bad (e, "attribute %s: not one enum label per value", name);
    if (rc == 0 && s_attr_find (t, name))
        rc = s_bad (e, "attribute %s is repeated", name);
    if (rc == 0) {
        def.enum_values = lists [0];
        def.n_enum = counts [0];
        def.enum_labels_zh = lists [1];
        def.enum_labels_en = lists [2];
        def.label_zh = texts [0];
        def.label_en = texts [1];
        def.description = texts [2];
        def.description_zh = texts [3];
        if (tx_registry_add_attr (self, t, &def) != 0)
            rc = s_bad (e, "out of memory%s", "");
    }
    for (int i = 0; i < 3; i++)
        free (lists [i]);
    for (int i = 0; i < 4; i++)
        free (texts [i]);
    return rc;
}

static int
s_decode_type (tx_registry_t *self, const msgpack_object *o, derr_t *e)
{
    static const char *names [] = { "code", "partner", "attrs", "name_zh", "name_en", "description",
                                    "description_zh" };
    if (o->type != MSGPACK_OBJECT_MAP)
        return s_bad (e, "a type is not a map%s", "");
    char code [CODE_MAX + 1];
    bool partner = false;
    const msgpack_object *attrs = NULL;
    char *texts [4] = { NULL, NULL, NULL, NULL };
    uint32_t seen = 0;
    int rc = 0;
    for (uint32_t i = 0; i < o->via.map.size && rc == 0; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr [i];
        int k = s_which (kv, names, 7, &seen, e);
        switch (k) {
            case -2: rc = -1; break;
            case 0: rc = s_get_str (&kv->val, CODE_MAX, false, code, e, "a type's code"); break;
            case 1: rc = s_get_bool (&kv->val, &partner, e, "partner"); break;
            case 2:
                attrs = &kv->val;
                if (attrs->type != MSGPACK_OBJECT_ARRAY || attrs->via.array.size > MAX_ATTRS)
                    rc = s_bad (e, "a type's attrs is not an array of at most 256%s", "");
                break;
            case 3: case 4: case 5: case 6:
                rc = s_get_text (&kv->val, &texts [k - 3], e, names [k]);
                break;
        }
    }
    if (rc == 0 && (seen & 7) != 7)
        rc = s_bad (e, "a type lacks its code, partner or attrs%s", "");
    if (rc == 0 && tx_strmap_get (self->types, code, strlen (code)))
        rc = s_bad (e, "type %s is repeated", code);
    tx_type_def_t *t = NULL;
    if (rc == 0 && (!(t = tx_registry_add_type (self, code, partner, attrs->via.array.size))
                 || tx_registry_set_type_labels (self, t, texts [0], texts [1], texts [2], texts [3]) != 0))
        rc = s_bad (e, "out of memory%s", "");
    for (uint32_t i = 0; rc == 0 && i < attrs->via.array.size; i++)
        rc = s_decode_attr (self, t, &attrs->via.array.ptr [i], e);
    for (int i = 0; i < 4; i++)
        free (texts [i]);
    return rc;
}

static int
s_decode_region (tx_registry_t *self, const msgpack_object *o, derr_t *e)
{
    static const char *names [] = { "code", "name", "name_en" };
    if (o->type != MSGPACK_OBJECT_MAP)
        return s_bad (e, "a region is not a map%s", "");
    char code [CODE_MAX + 1];
    char *texts [2] = { NULL, NULL };
    uint32_t seen = 0;
    int rc = 0;
    for (uint32_t i = 0; i < o->via.map.size && rc == 0; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr [i];
        int k = s_which (kv, names, 3, &seen, e);
        if (k == -2)
            rc = -1;
        else
        if (k == 0)
            rc = s_get_str (&kv->val, CODE_MAX, false, code, e, "a region's code");
        else
        if (k > 0)
            rc = s_get_text (&kv->val, &texts [k - 1], e, names [k]);
    }
    if (rc == 0 && !(seen & 1))
        rc = s_bad (e, "a region lacks its code%s", "");
    if (rc == 0 && tx_strmap_get (self->regions, code, strlen (code)))
        rc = s_bad (e, "region %s is repeated", code);
    if (rc == 0 && tx_registry_add_region_named (self, code, texts [0], texts [1]) != 0)
        rc = s_bad (e, "out of memory%s", "");
    free (texts [0]);
    free (texts [1]);
    return rc;
}

static int
s_decode_body (tx_registry_t *self, const msgpack_object *root, derr_t *e)
{
    static const char *names [] = { "timezone", "types", "regions" };
    if (root->type != MSGPACK_OBJECT_MAP)
        return s_bad (e, "the registry is not a map%s", "");
    const msgpack_object *types = NULL, *regions = NULL;
    uint32_t seen = 0;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object_kv *kv = &root->via.map.ptr [i];
        int k = s_which (kv, names, 3, &seen, e);
        if (k == -2)
            return -1;
        if (k == 0) {
            char tz [CODE_MAX * 2 + 1];
            if (s_get_str (&kv->val, sizeof tz - 1, true, tz, e, "timezone") != 0)
                return -1;
            if (tx_registry_set_timezone (self, tz) != 0)
                return s_bad (e, "out of memory%s", "");
        }
        if (k == 1)
            types = &kv->val;
        if (k == 2)
            regions = &kv->val;
    }
    if (seen != 7)
        return s_bad (e, "the registry lacks its timezone, types or regions%s", "");
    if (types->type != MSGPACK_OBJECT_ARRAY || types->via.array.size > TX_REGISTRY_MAX_TYPES)
        return s_bad (e, "types is not an array of at most %s", "1024");
    if (regions->type != MSGPACK_OBJECT_ARRAY || regions->via.array.size > TX_REGISTRY_MAX_REGIONS)
        return s_bad (e, "regions is not an array of at most %s", "8192");
    for (uint32_t i = 0; i < types->via.array.size; i++)
        if (s_decode_type (self, &types->via.array.ptr [i], e) != 0)
            return -1;
    for (uint32_t i = 0; i < regions->via.array.size; i++)
        if (s_decode_region (self, &regions->via.array.ptr [i], e) != 0)
            return -1;
    return 0;
}

tx_registry_t *
tx_registry_decode (const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    derr_t e = { err, errlen };
    tx_prescan_limits_t lim = { .max_depth = 8, .max_items = 1u << 20 };
    tx_prescan_info_t info;
    if (len > MAX_BODY || tx_prescan (buf, len, &lim, &info) != 0) {
        s_bad (&e, "the registry is not one msgpack object within the limits (%s)",
               len > MAX_BODY ? "too large" : tx_prescan_reason_str (info.reason));
        return NULL;
    }
    tx_registry_t *self = tx_registry_new ();
    uint8_t *body = self ? malloc (len) : NULL;
    if (!body) {
        s_bad (&e, "out of memory%s", "");
        tx_registry_unref (&self);
        return NULL;
    }
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    int rc = msgpack_unpack_next (&u, (const char *) buf, len, &off) == MSGPACK_UNPACK_SUCCESS && off == len
           ? s_decode_body (self, &u.data, &e) : s_bad (&e, "the registry does not decode%s", "");
    msgpack_unpacked_destroy (&u);
    if (rc != 0) {
        free (body);
        tx_registry_unref (&self);
        return NULL;
    }
    memcpy (body, buf, len);
    self->body = body;
    self->body_len = len;
    s_version (self, body, len);
    return self;
}

//  ----------------------------------------------------------------- JSON

static json_t *
s_json_opt (const char *s)
{
    return s ? json_string (s) : json_null ();
}

static json_t *
s_json_attr (const tx_attr_def_t *a)
{
    json_t *o = json_object ();
    json_object_set_new (o, "name", json_string (a->name));
    json_object_set_new (o, "kind", json_string (tx_kind_name (a->kind)));
    json_object_set_new (o, "required", json_boolean (a->required));
    json_object_set_new (o, "min", a->has_min ? json_real (a->min) : json_null ());
    json_object_set_new (o, "min_exclusive", json_boolean (a->has_min && a->min_exclusive));
    json_object_set_new (o, "max", a->has_max ? json_real (a->max) : json_null ());
    json_object_set_new (o, "max_len", a->kind == TX_KIND_TEXT
                         ? json_integer (a->max_len > 0 ? a->max_len : 4096) : json_null ());
    json_t *en = a->kind == TX_KIND_ENUM ? json_array () : json_null ();
    for (size_t k = 0; a->kind == TX_KIND_ENUM && k < a->n_enum; k++) {
        json_t *v = json_object ();
        json_object_set_new (v, "value", json_string (a->enum_values [k]));
        json_object_set_new (v, "label_zh", s_json_opt (a->enum_labels_zh ? a->enum_labels_zh [k] : NULL));
        json_object_set_new (v, "label_en", s_json_opt (a->enum_labels_en ? a->enum_labels_en [k] : NULL));
        json_array_append_new (en, v);
    }
    json_object_set_new (o, "enum", en);
    json_object_set_new (o, "label_zh", s_json_opt (a->label_zh));
    json_object_set_new (o, "label_en", s_json_opt (a->label_en));
    json_object_set_new (o, "description", s_json_opt (a->description));
    json_object_set_new (o, "description_zh", s_json_opt (a->description_zh));
    return o;
}

char *
tx_registry_to_json (const tx_registry_t *self)
{
    json_t *root = json_object ();
    json_object_set_new (root, "version", json_string (self->version));
    json_object_set_new (root, "timezone", json_string (tx_registry_timezone (self)));
    const tx_type_def_t **types = malloc ((self->n_types + 1) * sizeof *types);
    tx_region_t **regions = malloc ((self->n_regions + 1) * sizeof *regions);
    if (!root || !types || !regions) {
        free (types);
        free (regions);
        json_decref (root);
        return NULL;
    }
    if (self->n_types)
        memcpy (types, self->type_list, self->n_types * sizeof *types);
    qsort (types, self->n_types, sizeof *types, s_cmp_type);
    if (self->n_regions)
        memcpy (regions, self->region_list, self->n_regions * sizeof *regions);
    qsort (regions, self->n_regions, sizeof *regions, s_cmp_region);
    json_t *jt = json_array ();
    for (size_t i = 0; i < self->n_types; i++) {
        const tx_type_def_t *t = types [i];
        json_t *o = json_object ();
        json_object_set_new (o, "code", json_string (t->code));
        json_object_set_new (o, "partner_required", json_boolean (t->partner_required));
        json_object_set_new (o, "name_zh", s_json_opt (t->name_zh));
        json_object_set_new (o, "name_en", s_json_opt (t->name_en));
        json_object_set_new (o, "description", s_json_opt (t->description));
        json_object_set_new (o, "description_zh", s_json_opt (t->description_zh));
        json_t *ja = json_array ();
        for (size_t k = 0; k < t->n_attrs; k++)
            json_array_append_new (ja, s_json_attr (&t->attrs [k]));
        json_object_set_new (o, "attrs", ja);
        json_array_append_new (jt, o);
    }
    json_object_set_new (root, "types", jt);
    json_t *jr = json_array ();
    for (size_t i = 0; i < self->n_regions; i++) {
        const tx_region_t *r = regions [i];
        json_t *o = json_object ();
        size_t len = strlen (r->code);
        bool six = len == 6;
        const char *level = !six ? "other" : !strcmp (r->code + 2, "0000") ? "province"
                          : !strcmp (r->code + 4, "00") ? "prefecture" : "county";
        char up [7];
        json_object_set_new (o, "code", json_string (r->code));
        json_object_set_new (o, "name", s_json_opt (r->name));
        json_object_set_new (o, "name_en", s_json_opt (r->name_en));
        json_object_set_new (o, "level", json_string (level));
        if (six && strcmp (level, "province") != 0) {
            snprintf (up, sizeof up, "%.2s0000", r->code);
            json_object_set_new (o, "province", tx_strmap_get (self->regions, up, 6) ? json_string (up) : json_null ());
        }
        else
            json_object_set_new (o, "province", json_null ());
        if (six && strcmp (level, "county") == 0) {
            snprintf (up, sizeof up, "%.4s00", r->code);
            json_object_set_new (o, "prefecture", tx_strmap_get (self->regions, up, 6) ? json_string (up) : json_null ());
        }
        else
            json_object_set_new (o, "prefecture", json_null ());
        json_array_append_new (jr, o);
    }
    json_object_set_new (root, "regions", jr);
    free (types);
    free (regions);
    char *text = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    return text;
}
