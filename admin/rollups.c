/*  rollups.c: tongxin-admin rollups fold | rollups status: the events
 *  committed since the last fold moved into the folded rollup tables
 *  (schema 013; the views count them either way), and how far the fold is.
 *  The collectors fold every fold-ms by themselves; this is for a database
 *  without a running collector, a cron job, or after a load.
 */
#include "admin.h"
#include "i18n.h"

#include <stdio.h>
#include <stdlib.h>

//  One fold: every event committed before the call is then folded.  Waits
//  for a fold in progress (its turn).
int
adm_rollups_fold (PGconn *db, const adm_args_t *a)
{
    (void) a;
    PGresult *r = adm_exec (db, _("folding the rollups"), "SELECT analytics.fold_rollups(true)", 0, NULL);
    if (!r)
        return 1;
    long long n = atoll (PQgetvalue (r, 0, 0));
    PQclear (r);
    printf (_("%lld events folded into the rollups\n"), n);
    return 0;
}

int
adm_rollups_status (PGconn *db, const adm_args_t *a)
{
    (void) a;
    return adm_list (db, _("reading the rollups' status"),
        "SELECT queued, coalesce(oldest_queued_at::text, '') AS oldest_queued_at,"
        "       coalesce(folded_through::text, '') AS folded_through, lag_s,"
        "       stale, timezone, coalesce(rebuilt_at::text, '') AS rebuilt_at"
        "  FROM analytics.rollup_status WHERE $1::text IS NOT NULL", "");
}
