/*  regload.c: the registry snapshot from PostgreSQL (see regload.h).  */
#include "regload.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

//  Column c of row i, or NULL when it is NULL.
static const char *
s_opt (PGresult *r, int i, int c)
{
    return PQgetisnull (r, i, c) ? NULL : PQgetvalue (r, i, c);
}

//  A JSON array of strings (array_to_json of a text[]) as a malloc'd
//  array of n pointers into *json_p (to json_decref).  NULL for SQL NULL
//  (*n 0).  *bad set if it is not such an array.
static char **
s_list (PGresult *r, int i, int c, json_t **json_p, size_t *n, bool *bad)
{
    *json_p = NULL;
    *n = 0;
    if (PQgetisnull (r, i, c))
        return NULL;
    json_error_t jerr;
    json_t *arr = json_loads (PQgetvalue (r, i, c), 0, &jerr);
    char **list = json_is_array (arr) ? calloc (json_array_size (arr) + 1, sizeof *list) : NULL;
    if (!list) {
        json_decref (arr);
        *bad = true;
        return NULL;
    }
    for (size_t k = 0; k < json_array_size (arr); k++) {
        const char *v = json_string_value (json_array_get (arr, k));
        list [k] = (char *) (v ? v : "");
    }
    *n = json_array_size (arr);
    *json_p = arr;
    return list;
}

static int
s_load_attrs (tx_registry_t *self, PGconn *db, bool labels, char *err, size_t errlen)
{
    PGresult *r = s_query (db, labels
      ? "SELECT type_code, name, kind, required, min_value::float8, min_exclusive,"
        "       max_value::float8, max_len, array_to_json(enum_values),"
        "       label_zh, label_en, description, description_zh,"
        "       array_to_json(enum_labels_zh), array_to_json(enum_labels_en)"
        "  FROM tongxin.event_type_attrs ORDER BY type_code, name"
      : "SELECT type_code, name, kind, required, min_value::float8, min_exclusive,"
        "       max_value::float8, max_len, array_to_json(enum_values),"
        "       NULL, NULL, description, NULL, NULL, NULL"
        "  FROM tongxin.event_type_attrs ORDER BY type_code, name", err, errlen);
    if (!r)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples (r) && rc == 0; i++) {
        const char *type = PQgetvalue (r, i, 0);
        tx_type_def_t *t = (tx_type_def_t *) tx_registry_type (self, type, strlen (type));
        if (!t)
            continue;           //  cannot happen: the FK holds
        tx_attr_def_t a = {
            .name = PQgetvalue (r, i, 1),
            .kind = tx_kind_from_name (PQgetvalue (r, i, 2)),
            .required = strcmp (PQgetvalue (r, i, 3), "t") == 0,
            .has_min = !PQgetisnull (r, i, 4),
            .min_exclusive = strcmp (PQgetvalue (r, i, 5), "t") == 0,
            .has_max = !PQgetisnull (r, i, 6),
            .max_len = PQgetisnull (r, i, 7) ? 0 : atoi (PQgetvalue (r, i, 7)),
            .label_zh = (char *) s_opt (r, i, 9),
            .label_en = (char *) s_opt (r, i, 10),
            .description = (char *) s_opt (r, i, 11),
            .description_zh = (char *) s_opt (r, i, 12),
        };
        a.min = a.has_min ? strtod (PQgetvalue (r, i, 4), NULL) : 0;
        a.max = a.has_max ? strtod (PQgetvalue (r, i, 6), NULL) : 0;
        json_t *j [3];
        size_t n [3];
        bool bad = false;
        a.enum_values = s_list (r, i, 8, &j [0], &n [0], &bad);
        a.enum_labels_zh = s_list (r, i, 13, &j [1], &n [1], &bad);
        a.enum_labels_en = s_list (r, i, 14, &j [2], &n [2], &bad);
        a.n_enum = n [0];
        if (bad || (a.enum_labels_zh && n [1] != n [0]) || (a.enum_labels_en && n [2] != n [0])) {
            snprintf (err, errlen, "bad enum values or labels for %s.%s", type, a.name);
            rc = -1;
        }
        else
        if (tx_registry_add_attr (self, t, &a) != 0) {
            snprintf (err, errlen, "out of memory loading the registry");
            rc = -1;
        }
        free (a.enum_values);
        free (a.enum_labels_zh);
        free (a.enum_labels_en);
        for (int k = 0; k < 3; k++)
            json_decref (j [k]);
    }
    PQclear (r);
    return rc;
}

static int
s_load (tx_registry_t *self, PGconn *db, char *err, size_t errlen)
{
    PGresult *r = s_query (db, "SELECT code, active FROM tongxin.units", err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples (r); i++)
        if (tx_registry_add_unit (self, PQgetvalue (r, i, 0), strcmp (PQgetvalue (r, i, 1), "t") == 0) != 0)
            goto nomem;
    PQclear (r);

    r = s_query (db, "SELECT code, name, name_en FROM tongxin.regions", err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples (r); i++)
        if (tx_registry_add_region_named (self, PQgetvalue (r, i, 0), s_opt (r, i, 1), s_opt (r, i, 2)) != 0)
            goto nomem;
    PQclear (r);

    r = s_query (db, "SELECT value FROM tongxin.settings WHERE key = 'timezone'", err, errlen);
    if (!r)
        return -1;
    if (tx_registry_set_timezone (self, PQntuples (r) ? PQgetvalue (r, 0, 0) : "Asia/Shanghai") != 0)
        goto nomem;
    PQclear (r);

    //  The labels came with 009_labels: a registry loaded during the
    //  migrations before it (tongxin-admin migrate) has none.
    r = s_query (db, "SELECT to_regclass('tongxin.event_types') IS NOT NULL AND EXISTS"
                     " (SELECT FROM pg_attribute WHERE attrelid = 'tongxin.event_types'::regclass"
                     "     AND attname = 'name_zh' AND NOT attisdropped)", err, errlen);
    if (!r)
        return -1;
    bool labels = strcmp (PQgetvalue (r, 0, 0), "t") == 0;
    PQclear (r);
    r = s_query (db, labels
      ? "SELECT t.code, t.partner_required, count(a.name)::int,"
        "       t.name_zh, t.name_en, t.description, t.description_zh"
        "  FROM tongxin.event_types t LEFT JOIN tongxin.event_type_attrs a ON a.type_code = t.code"
        " GROUP BY t.code"
      : "SELECT t.code, t.partner_required, count(a.name)::int, NULL, NULL, t.description, NULL"
        "  FROM tongxin.event_types t LEFT JOIN tongxin.event_type_attrs a ON a.type_code = t.code"
        " GROUP BY t.code", err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples (r); i++) {
        tx_type_def_t *t = tx_registry_add_type (self, PQgetvalue (r, i, 0),
                                                 strcmp (PQgetvalue (r, i, 1), "t") == 0,
                                                 (size_t) atoi (PQgetvalue (r, i, 2)));
        if (!t || tx_registry_set_type_labels (self, t, s_opt (r, i, 3), s_opt (r, i, 4),
                                               s_opt (r, i, 5), s_opt (r, i, 6)) != 0)
            goto nomem;
    }
    PQclear (r);

    if (s_load_attrs (self, db, labels, err, errlen) != 0)
        return -1;

    r = s_query (db,
        "SELECT coalesce(floor(extract(epoch FROM lo) * 1000), 0)::bigint,"
        "       coalesce(floor(extract(epoch FROM hi) * 1000), 0)::bigint"
        "  FROM tongxin.event_id_window", err, errlen);
    if (!r)
        return -1;
    tx_registry_set_id_window (self, strtoll (PQgetvalue (r, 0, 0), NULL, 10),
                               strtoll (PQgetvalue (r, 0, 1), NULL, 10));
    PQclear (r);

    r = s_query (db, "SELECT public_key, unit_code, revoked_at IS NOT NULL FROM tongxin.unit_keys",
                 err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples (r); i++)
        if (tx_registry_add_key (self, PQgetvalue (r, i, 0), PQgetvalue (r, i, 1),
                                 strcmp (PQgetvalue (r, i, 2), "t") == 0) != 0)
            goto nomem;
    PQclear (r);
    if (tx_registry_seal (self) != 0)
        goto nomem_done;
    return 0;
nomem:
    PQclear (r);
nomem_done:
    snprintf (err, errlen, "out of memory loading the registry");
    return -1;
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
