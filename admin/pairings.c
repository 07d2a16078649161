/*  pairings.c: the pairings of units with partner regions — tongxin-admin
 *  pairing add, pairing list (admin.h).
 */
#include "admin.h"
#include "i18n.h"
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_fields [] = {
    "ethnic_unity", "team_building", "culture_tourism", "development", "education",
    "youth", NULL
};

//  "a,b" → "{a,b}" after checking each field; NULL on a bad one.
static char *
s_fields_array (const char *list, char *bad, size_t badlen)
{
    size_t len = strlen (list);
    char *copy = strdup (list);
    char *out = malloc (len + 3);
    if (!copy || !out) {
        free (copy);
        free (out);
        snprintf (bad, badlen, "%s", _("(out of memory)"));
        return NULL;
    }
    strcpy (out, "{");
    int n = 0;
    char *save = NULL;
    for (char *f = strtok_r (copy, ",", &save); f; f = strtok_r (NULL, ",", &save)) {
        if (!adm_in (f, s_fields)) {
            snprintf (bad, badlen, "%s", f);
            free (copy);
            free (out);
            return NULL;
        }
        if (n++)
            strcat (out, ",");
        strcat (out, f);
    }
    strcat (out, "}");
    free (copy);
    if (n == 0) {
        snprintf (bad, badlen, "%s", _("(none given)"));
        free (out);
        return NULL;
    }
    return out;
}

int
adm_pairing_add_check (const adm_args_t *a)
{
    const char *unit = a->operands [0], *region = a->operands [1];
    const char *counterpart = adm_opt (a, "counterpart"), *fields = adm_opt (a, "fields");
    if (!adm_valid_code (unit))
        return adm_usage_error (_("bad unit code '%s'"), unit);
    if (!adm_valid_region (region))
        return adm_usage_error (_("bad region code '%s': a GB/T 2260 code has 6 digits"), region);
    if (!counterpart || !*counterpart)
        return adm_usage_error (_("--counterpart is required"));
    if (adm_check_text ("--counterpart", counterpart) != 0)
        return 2;
    if (!fields)
        return adm_usage_error (_("--fields is required"));
    char bad [64];
    char *array = s_fields_array (fields, bad, sizeof bad);
    if (!array)
        return adm_usage_error (_("unknown field of cooperation '%s' (ethnic_unity, team_building, "
                                "culture_tourism, development, education, youth)"), bad);
    free (array);
    return 0;
}

//  Says what went wrong in adding the pairing of UNIT with REGION.
static void
s_add_error (const adm_err_t *err, const char *unit, const char *region, const char *counterpart)
{
    if (strcmp (err->state, "23505") == 0)
        adm_error (_("pairing of %s with %s (%s) already exists"), unit, region, counterpart);
    else
    if (strcmp (err->state, "23503") == 0 && strstr (err->constraint, "unit"))
        adm_error (_("unknown unit '%s'"), unit);
    else
    if (strcmp (err->state, "23503") == 0 && strstr (err->constraint, "region"))
        adm_error (_("unknown region '%s'"), region);
    else
    if (strncmp (err->state, "22", 2) == 0 && !strstr (err->constraint, "until"))
        adm_error (_("bad date (use YYYY-MM-DD): %s"), err->msg);
    else
    if (strcmp (err->state, "23514") == 0 && strstr (err->constraint, "until"))
        adm_error (_("--until is before --since"));
    else
    if (adm_no_schema (err))
        adm_error (_("the database has no Tongxin schema: run 'tongxin-admin migrate' first"));
    else
        adm_error (_("adding pairing: %s"), err->msg);
}

int
adm_pairing_add (PGconn *db, const adm_args_t *a)
{
    const char *unit = a->operands [0], *region = a->operands [1];
    const char *counterpart = adm_opt (a, "counterpart");
    char bad [64];
    char *fields = s_fields_array (adm_opt (a, "fields"), bad, sizeof bad);
    if (!fields) {
        adm_error ("%s", bad);
        return 1;
    }
    const char *p [] = { unit, region, counterpart, fields,
                         adm_opt (a, "since"), adm_opt (a, "until") };
    adm_err_t err;
    PGresult *r = adm_try (db,
        "INSERT INTO tongxin.pairings (unit_code, region_code, counterpart, fields, since, until)"
        " VALUES ($1, $2, $3, $4::text[], $5::date, $6::date) RETURNING id", 6, p, &err);
    free (fields);
    if (!r) {
        s_add_error (&err, unit, region, counterpart);
        return 1;
    }
    printf (_("pairing %s added: %s with %s (%s)\n"), PQgetvalue (r, 0, 0), unit, region, counterpart);
    PQclear (r);
    return 0;
}

int
adm_pairing_list (PGconn *db, const adm_args_t *a)
{
    return adm_list (db, _("listing pairings"),
        "SELECT p.id, p.unit_code AS unit, p.region_code AS region, r.grp AS \"group\","
        " array_to_string(p.fields, ',') AS fields, coalesce(p.since::text, '') AS since,"
        " coalesce(p.until::text, '') AS until, p.counterpart"
        " FROM tongxin.pairings p JOIN tongxin.regions r ON r.code = p.region_code"
        " WHERE $1::text IS NULL OR p.unit_code = $1 ORDER BY p.id",
        adm_opt (a, "unit"));
}
