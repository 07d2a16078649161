/*  types.c: tongxin-admin type list | type show: the registry, as the
 *  collector checks events against it, so that nobody needs the protocol
 *  document or SQL to know what an event of a type must carry.
 */
#include "admin.h"
#include "i18n.h"

#include <stdio.h>
#include <string.h>

#include "regload.h"

int
adm_type_list (PGconn *db, const adm_args_t *a)
{
    (void) a;
    return adm_list (db, _("listing event types"),
        "SELECT t.code AS code, CASE WHEN t.partner_required THEN 'required' ELSE 'optional' END AS partner,"
        "       count(x.name) FILTER (WHERE x.required) || '/' || count(x.name) AS attributes,"
        "       t.description AS description,"
        "       coalesce(t.name_zh, '') AS name_zh, coalesce(t.name_en, '') AS name_en"
        "  FROM tongxin.event_types t"
        "  LEFT JOIN tongxin.event_type_attrs x ON x.type_code = t.code"
        " WHERE $1::text IS NOT NULL"
        " GROUP BY t.code ORDER BY t.code", "");
}

//  The type's names and descriptions, then one attribute per line: name,
//  kind, required or optional, what is allowed (bounds, length, values),
//  description, its labels (Chinese, English) and, for an enum, the labels
//  of its values in the order of the values.
int
adm_type_show (PGconn *db, const adm_args_t *a)
{
    const char *code = a->operands [0];
    PGresult *r = adm_exec (db, _("reading the event type"),
        "SELECT partner_required, description, coalesce(name_zh, ''), coalesce(name_en, ''),"
        "       coalesce(description_zh, '')"
        "  FROM tongxin.event_types WHERE code = $1",
        1, (const char *[]) { code });
    if (!r)
        return 1;
    if (PQntuples (r) == 0) {
        PQclear (r);
        //  The nearest code, by the collector's own rule (registry.c).
        char err [256];
        tx_registry_t *reg = tx_registry_load (db, err, sizeof err);
        const char *near = reg ? tx_registry_nearest_type (reg, code, strlen (code)) : NULL;
        if (near)
            adm_error (_("unknown event type '%s'; did you mean %s? (tongxin-admin type list shows "
                         "them all)"), code, near);
        else
            adm_error (_("unknown event type '%s' (tongxin-admin type list shows them all)"), code);
        tx_registry_unref (&reg);
        return 1;
    }
    printf ("type\t%s\npartner\t%s\ndescription\t%s\nname_zh\t%s\nname_en\t%s\ndescription_zh\t%s\n", code,
            strcmp (PQgetvalue (r, 0, 0), "t") == 0 ? "required" : "optional", PQgetvalue (r, 0, 1),
            PQgetvalue (r, 0, 2), PQgetvalue (r, 0, 3), PQgetvalue (r, 0, 4));
    PQclear (r);
    return adm_list (db, _("listing the attributes"),
        "SELECT name AS attribute, kind, CASE WHEN required THEN 'required' ELSE 'optional' END AS required,"
        "       CASE kind"
        "         WHEN 'enum' THEN array_to_string(enum_values, ',')"
        "         WHEN 'text' THEN 'max ' || coalesce(max_len, 4096) || ' bytes'"
        "         WHEN 'date' THEN 'YYYY-MM-DD'"
        "         WHEN 'bool' THEN 'true,false'"
        "         ELSE concat_ws(' ', CASE WHEN min_value IS NOT NULL"
        "                                  THEN CASE WHEN min_exclusive THEN '>' ELSE '>=' END || ' ' || min_value END,"
        "                        CASE WHEN max_value IS NOT NULL THEN '<= ' || max_value END)"
        "       END AS allowed, coalesce(description, '') AS description,"
        "       coalesce(label_zh, '') AS label_zh, coalesce(label_en, '') AS label_en,"
        "       coalesce(array_to_string(enum_labels_zh, ','), '') AS enum_labels_zh,"
        "       coalesce(array_to_string(enum_labels_en, ','), '') AS enum_labels_en"
        "  FROM tongxin.event_type_attrs WHERE type_code = $1 ORDER BY required DESC, name", code);
}
