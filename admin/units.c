/*  units.c: the reporting units — tongxin-admin unit add, unit list,
 *  unit disable (admin.h).
 */
#include "admin.h"
#include "i18n.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char *s_unit_kinds [] = {
    "district", "department", "township", "subdistrict", "village", "community",
    "party_org", "station", "enterprise", "school", NULL
};

int
adm_unit_add_check (const adm_args_t *a)
{
    const char *code = a->operands [0];
    const char *name = adm_opt (a, "name"), *kind = adm_opt (a, "kind");
    const char *parent = adm_opt (a, "parent");
    if (!adm_valid_code (code))
        return adm_usage_error (_("bad unit code '%s': use 1-64 of a-z 0-9 . _ -, starting with a "
                                "letter or digit"), code);
    if (!name || !*name)
        return adm_usage_error (_("--name is required"));
    if (strlen (name) > 200)
        return adm_usage_error (_("--name is longer than 200 bytes"));
    if (adm_check_text ("--name", name) != 0)
        return 2;
    if (!kind)
        return adm_usage_error (_("--kind is required"));
    if (!adm_in (kind, s_unit_kinds))
        return adm_usage_error (_("unknown kind '%s' (district, department, township, subdistrict, "
                                "village, community, party_org, station, enterprise, school)"), kind);
    if (parent && !adm_valid_code (parent))
        return adm_usage_error (_("bad parent unit code '%s'"), parent);
    return 0;
}

int
adm_unit_add (PGconn *db, const adm_args_t *a)
{
    const char *code = a->operands [0];
    const char *p [] = { code, adm_opt (a, "name"), adm_opt (a, "kind"), adm_opt (a, "parent") };
    adm_err_t err;
    PGresult *r = adm_try (db, "INSERT INTO tongxin.units (code, name, kind, parent_code)"
                               " VALUES ($1, $2, $3, $4)", 4, p, &err);
    if (r) {
        printf (_("unit %s added\n"), code);
        PQclear (r);
        return 0;
    }
    if (strcmp (err.state, "23505") == 0)
        adm_error (_("unit '%s' already exists"), code);
    else
    if (strcmp (err.state, "23503") == 0)
        adm_error (_("unknown parent unit '%s'"), p [3]);
    else
    if (adm_no_schema (&err))
        adm_error (_("the database has no Tongxin schema: run 'tongxin-admin migrate' first"));
    else
        adm_error (_("adding unit '%s': %s"), code, err.msg);
    return 1;
}

int
adm_unit_list (PGconn *db, const adm_args_t *a)
{
    return adm_list (db, _("listing units"),
        "SELECT code, kind, coalesce(parent_code, '') AS parent,"
        " CASE WHEN active THEN 'active' ELSE 'disabled' END AS state, name"
        " FROM tongxin.units WHERE active OR $1::bool ORDER BY code",
        adm_opt (a, "all") ? "true" : "false");
}

//  Commands that name one unit: unit disable, key issue, key revoke.
int
adm_unit_operand_check (const adm_args_t *a)
{
    if (!adm_valid_code (a->operands [0]))
        return adm_usage_error (_("bad unit code '%s'"), a->operands [0]);
    return 0;
}

int
adm_unit_disable (PGconn *db, const adm_args_t *a)
{
    const char *code = a->operands [0];
    PGresult *r = adm_exec (db, _("disabling unit"),
        "UPDATE tongxin.units SET active = false WHERE code = $1 RETURNING code",
        1, (const char *[]) { code });
    if (!r)
        return 1;
    int rc = 1;
    if (PQntuples (r) == 1) {
        printf (_("unit %s disabled\n"), code);
        rc = 0;
    }
    else
        adm_error (_("unknown unit '%s'"), code);
    PQclear (r);
    return rc;
}
