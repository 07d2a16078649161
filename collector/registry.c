/*  registry.c: load and query the registry snapshot.  */
#include "registry.h"
#include "strmap.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct chunk_t {
    struct chunk_t *next;
    size_t used, size;
    char data [];
} chunk_t;

struct tx_registry_t {
    atomic_int refs;            //  references
    chunk_t *arena;             //  every string and array of the snapshot
    tx_strmap_t *units;         //  code -> (void *) 1 active / 2 disabled
    tx_strmap_t *regions;       //  code -> (void *) 1
    tx_strmap_t *types;         //  code -> tx_type_def_t *
    const tx_type_def_t **type_list;    //  the same types, in the order added
    size_t n_types, cap_types;
    tx_strmap_t *keys;          //  z85 public key -> unit code (arena), live keys
    tx_strmap_t *revoked;       //  z85 public key -> (void *) 1, revoked keys
    int64_t id_lo_ms, id_hi_ms; //  event id window
};

//  Appends t to the list of types (for tx_registry_nearest_type).  0 or -1.
static int
s_list_type (tx_registry_t *self, const tx_type_def_t *t)
{
    if (self->n_types == self->cap_types) {
        size_t cap = self->cap_types ? self->cap_types * 2 : 32;
        const tx_type_def_t **list = realloc (self->type_list, cap * sizeof *list);
        if (!list)
            return -1;
        self->type_list = list;
        self->cap_types = cap;
    }
    self->type_list [self->n_types++] = t;
    return 0;
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
s_strdup (tx_registry_t *self, const char *s)
{
    size_t len = strlen (s);
    char *p = s_alloc (self, len + 1);
    if (p)
        memcpy (p, s, len + 1);
    return p;
}

static PGresult *
s_query (PGconn *db, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec (db, sql);
    if (PQresultStatus (r) != PGRES_TUPLES_OK) {
        const char *m = PQresultErrorField (r, PG_DIAG_MESSAGE_PRIMARY);
        snprintf (err, errlen, "%s", m ? m : PQerrorMessage (db));
        err [strcspn (err, "\n")] = 0;
        PQclear (r);
        return NULL;
    }
    return r;
}

static tx_kind_t
s_kind (const char *s)
{
    static const char *names [] = { "int", "numeric", "text", "bool", "date", "enum" };
    for (int i = 0; i < 6; i++)
        if (strcmp (s, names [i]) == 0)
            return (tx_kind_t) (i + 1);
    return 0;
}

static int
s_load (tx_registry_t *self, PGconn *db, char *err, size_t errlen)
{
    PGresult *r = s_query (db, "SELECT code, active FROM tongxin.units", err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples (r); i++) {
        const char *code = PQgetvalue (r, i, 0);
        uintptr_t v = strcmp (PQgetvalue (r, i, 1), "t") == 0 ? 1 : 2;
        if (tx_strmap_put (self->units, code, strlen (code), (void *) v) != 0)
            goto nomem;
    }
    PQclear (r);

    r = s_query (db, "SELECT code FROM tongxin.regions", err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples (r); i++) {
        const char *code = PQgetvalue (r, i, 0);
        if (tx_strmap_put (self->regions, code, strlen (code), (void *) 1) != 0)
            goto nomem;
    }
    PQclear (r);

    r = s_query (db,
        "SELECT t.code, t.partner_required, count(a.name)::int"
        "  FROM tongxin.event_types t LEFT JOIN tongxin.event_type_attrs a ON a.type_code = t.code"
        " GROUP BY t.code, t.partner_required", err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples (r); i++) {
        tx_type_def_t *t = s_alloc (self, sizeof *t);
        if (!t || !(t->code = s_strdup (self, PQgetvalue (r, i, 0))))
            goto nomem;
        t->partner_required = strcmp (PQgetvalue (r, i, 1), "t") == 0;
        t->attrs = s_alloc (self, sizeof (tx_attr_def_t) * (size_t) (atoi (PQgetvalue (r, i, 2)) + 1));
        if (!t->attrs || tx_strmap_put (self->types, t->code, strlen (t->code), t) != 0
        ||  s_list_type (self, t) != 0)
            goto nomem;
    }
    PQclear (r);

    r = s_query (db,
        "SELECT type_code, name, kind, required, min_value::float8, min_exclusive,"
        "       max_value::float8, max_len, array_to_json(enum_values)"
        "  FROM tongxin.event_type_attrs ORDER BY type_code, name", err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples (r); i++) {
        const char *type = PQgetvalue (r, i, 0);
        tx_type_def_t *t = tx_strmap_get (self->types, type, strlen (type));
        if (!t)
            continue;           //  cannot happen: the FK holds
        tx_attr_def_t *a = &t->attrs [t->n_attrs++];
        if (!(a->name = s_strdup (self, PQgetvalue (r, i, 1))))
            goto nomem;
        a->name_len = strlen (a->name);
        a->kind = s_kind (PQgetvalue (r, i, 2));
        a->required = strcmp (PQgetvalue (r, i, 3), "t") == 0;
        if (a->required)
            t->n_required++;
        a->has_min = !PQgetisnull (r, i, 4);
        a->min = a->has_min ? strtod (PQgetvalue (r, i, 4), NULL) : 0;
        a->min_exclusive = strcmp (PQgetvalue (r, i, 5), "t") == 0;
        a->has_max = !PQgetisnull (r, i, 6);
        a->max = a->has_max ? strtod (PQgetvalue (r, i, 6), NULL) : 0;
        a->max_len = PQgetisnull (r, i, 7) ? 0 : atoi (PQgetvalue (r, i, 7));
        if (!PQgetisnull (r, i, 8)) {
            json_error_t jerr;
            json_t *arr = json_loads (PQgetvalue (r, i, 8), 0, &jerr);
            if (!json_is_array (arr)) {
                json_decref (arr);
                snprintf (err, errlen, "bad enum values for %s.%s", type, a->name);
                PQclear (r);
                return -1;
            }
            a->n_enum = json_array_size (arr);
            a->enum_values = s_alloc (self, sizeof (char *) * (a->n_enum + 1));
            for (size_t k = 0; a->enum_values && k < a->n_enum; k++) {
                const char *v = json_string_value (json_array_get (arr, k));
                a->enum_values [k] = s_strdup (self, v ? v : "");
            }
            json_decref (arr);
            if (!a->enum_values)
                goto nomem;
        }
    }
    PQclear (r);

    r = s_query (db,
        "SELECT coalesce(floor(extract(epoch FROM lo) * 1000), 0)::bigint,"
        "       coalesce(floor(extract(epoch FROM hi) * 1000), 0)::bigint"
        "  FROM tongxin.event_id_window", err, errlen);
    if (!r)
        return -1;
    self->id_lo_ms = strtoll (PQgetvalue (r, 0, 0), NULL, 10);
    self->id_hi_ms = strtoll (PQgetvalue (r, 0, 1), NULL, 10);
    PQclear (r);

    r = s_query (db, "SELECT public_key, unit_code, revoked_at IS NOT NULL FROM tongxin.unit_keys",
                 err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples (r); i++) {
        const char *key = PQgetvalue (r, i, 0);
        if (strcmp (PQgetvalue (r, i, 2), "t") == 0) {
            if (tx_strmap_put (self->revoked, key, strlen (key), (void *) 1) != 0)
                goto nomem;
            continue;
        }
        char *unit = s_strdup (self, PQgetvalue (r, i, 1));
        if (!unit || tx_strmap_put (self->keys, key, strlen (key), unit) != 0)
            goto nomem;
    }
    PQclear (r);
    return 0;
nomem:
    PQclear (r);
    snprintf (err, errlen, "out of memory loading the registry");
    return -1;
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
tx_registry_add_region (tx_registry_t *self, const char *code)
{
    return tx_strmap_put (self->regions, code, strlen (code), (void *) 1);
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
    if (def->n_enum) {
        a->enum_values = s_alloc (self, sizeof (char *) * def->n_enum);
        if (!a->enum_values)
            return -1;
        for (size_t k = 0; k < def->n_enum; k++)
            if (!(a->enum_values [k] = s_strdup (self, def->enum_values [k])))
                return -1;
    }
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
tx_registry_load (PGconn *db, char *err, size_t errlen)
{
    tx_registry_t *self = tx_registry_new ();
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    //  One snapshot: every query sees the same committed state.
    int rc = -1;
    PGresult *r = PQexec (db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    bool begun = PQresultStatus (r) == PGRES_COMMAND_OK;
    PQclear (r);
    if (begun) {
        rc = s_load (self, db, err, errlen);
        PQclear (PQexec (db, "COMMIT"));
    }
    else {
        snprintf (err, errlen, "%s", PQerrorMessage (db));
        err [strcspn (err, "\n")] = 0;
    }
    if (rc != 0)
        tx_registry_unref (&self);
    return self;
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
    tx_strmap_destroy (&self->types);
    free (self->type_list);
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
