/*  partitions.c: the monthly partitions of events and rejected_events —
 *  tongxin-admin partitions (create ahead), retention (detach and drop
 *  behind) (admin.h).
 */
#include "admin.h"
#include "i18n.h"
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  --ahead MONTHS: 0..120, default 3; -1 if bad.
static int
s_ahead (const adm_args_t *a)
{
    const char *arg = adm_opt (a, "ahead");
    if (!arg)
        return 3;
    char *end;
    long v = strtol (arg, &end, 10);
    return *end || v < 0 || v > 120 ? -1 : (int) v;
}

int
adm_partitions_check (const adm_args_t *a)
{
    if (s_ahead (a) < 0)
        return adm_usage_error (_("--ahead must be 0..120 months, not '%s'"), adm_opt (a, "ahead"));
    return 0;
}

int
adm_partitions (PGconn *db, const adm_args_t *a)
{
    char months [8];
    snprintf (months, sizeof months, "%d", s_ahead (a));
    PGresult *r = adm_exec (db, _("creating partitions"),
        "SELECT tongxin.ensure_partitions($1::int)", 1, (const char *[]) { months });
    if (!r)
        return 1;
    printf (_("%s partition(s) created\n"), PQgetvalue (r, 0, 0));
    PQclear (r);
    return 0;
}

int
adm_retention_check (const adm_args_t *a)
{
    const char *before = adm_opt (a, "before");
    if (!before || strlen (before) != 7 || before [4] != '-'
    ||  strspn (before, "0123456789") != 4 || strspn (before + 5, "0123456789") != 2
    ||  atoi (before + 5) < 1 || atoi (before + 5) > 12)
        return adm_usage_error (_("--before YYYY-MM is required (partitions of earlier months go)"));
    return 0;
}

//  Detach PART from PARENT (and drop it unless DETACH_ONLY), in one
//  transaction; 0 or -1.
static int
s_remove (PGconn *db, const char *part, const char *parent, bool detach_only)
{
    char *qpart = PQescapeIdentifier (db, part, strlen (part));
    char *qparent = PQescapeIdentifier (db, parent, strlen (parent));
    char detach [512], drop [256], what [160];
    snprintf (detach, sizeof detach, "ALTER TABLE tongxin.%s DETACH PARTITION tongxin.%s", qparent, qpart);
    snprintf (drop, sizeof drop, "DROP TABLE tongxin.%s", qpart);
    PQfreemem (qpart);
    PQfreemem (qparent);
    snprintf (what, sizeof what, _("removing partition %s"), part);
    if (adm_run (db, what, "BEGIN") != 0 || adm_run (db, what, detach) != 0
    ||  (!detach_only && adm_run (db, what, drop) != 0) || adm_run (db, what, "COMMIT") != 0) {
        PQclear (PQexec (db, "ROLLBACK"));
        return -1;
    }
    return 0;
}

//  Detach (and drop) the monthly partitions of events and rejected_events
//  that end before the month given, each in its own transaction.
int
adm_retention (PGconn *db, const adm_args_t *a)
{
    const char *before = adm_opt (a, "before");
    bool detach_only = adm_opt (a, "detach-only") != NULL;
    char month [7];
    memcpy (month, before, 4);
    memcpy (month + 4, before + 5, 2);
    month [6] = 0;
    PGresult *r = adm_exec (db, _("listing partitions"),
        "SELECT c.relname, p.relname FROM pg_inherits i"
        "  JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
        "  JOIN pg_namespace n ON n.oid = p.relnamespace"
        " WHERE n.nspname = 'tongxin' AND p.relname IN ('events', 'rejected_events')"
        "   AND c.relkind = 'r' AND substring(c.relname from '_([0-9]{6})$') < $1"
        " ORDER BY 1", 1, (const char *[]) { month });
    if (!r)
        return 1;
    int done = 0;
    for (; done < PQntuples (r); done++) {
        const char *part = PQgetvalue (r, done, 0);
        if (s_remove (db, part, PQgetvalue (r, done, 1), detach_only) != 0) {
            PQclear (r);
            return 1;
        }
        printf (detach_only ? _("detached %s\n") : _("dropped %s\n"), part);
    }
    PQclear (r);
    printf (detach_only ? _("%d partition(s) detached\n") : _("%d partition(s) dropped\n"), done);
    return 0;
}
