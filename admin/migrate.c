/*  migrate.c: apply the numbered, forward-only schema migrations.
 *
 *  Each migration runs in its own transaction together with the row that
 *  records it in tongxin.schema_migrations, so a failed migration leaves
 *  nothing behind.  A session advisory lock serialises concurrent runs.
 */
#include "admin.h"
#include "i18n.h"
#include "migrations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATE_LOCK_KEY "7458786912"

int
adm_schema_version (PGconn *db, int *version)
{
    PGresult *r = adm_exec (db, _("reading the schema version"),
        "SELECT to_regclass('tongxin.schema_migrations') IS NOT NULL", 0, NULL);
    if (!r)
        return -1;
    bool exists = strcmp (PQgetvalue (r, 0, 0), "t") == 0;
    PQclear (r);
    *version = 0;
    if (!exists)
        return 0;
    r = adm_exec (db, _("reading the schema version"),
                  "SELECT coalesce(max(version), 0) FROM tongxin.schema_migrations", 0, NULL);
    if (!r)
        return -1;
    *version = atoi (PQgetvalue (r, 0, 0));
    PQclear (r);
    return 0;
}

//  Refuse a database whose applied migrations differ from ours.
static int
s_verify_checksums (PGconn *db, int current)
{
    for (int i = 0; i < tx_migrations_count && tx_migrations [i].version <= current; i++) {
        char version [16];
        snprintf (version, sizeof version, "%d", tx_migrations [i].version);
        const char *params [] = { version, tx_migrations [i].sql };
        PGresult *r = adm_exec (db, _("checking applied migrations"),
            "SELECT checksum = md5($2) FROM tongxin.schema_migrations WHERE version = $1::int",
            2, params);
        if (!r)
            return -1;
        bool same = PQntuples (r) == 1 && strcmp (PQgetvalue (r, 0, 0), "t") == 0;
        PQclear (r);
        if (!same) {
            adm_error (_("migration %s applied to this database differs from the one in this "
                       "tongxin-admin (edited after release?); refusing to go on"),
                       tx_migrations [i].name);
            return -1;
        }
    }
    return 0;
}

static int
s_apply (PGconn *db, const tx_migration_t *m)
{
    char what [128];
    snprintf (what, sizeof what, _("migration %s failed"), m->name);
    if (adm_run (db, "BEGIN", "BEGIN") != 0)
        return -1;
    //  The file may hold many statements: the simple protocol runs them all.
    PGresult *r = PQexec (db, m->sql);
    if (PQresultStatus (r) != PGRES_COMMAND_OK && PQresultStatus (r) != PGRES_TUPLES_OK) {
        char line [512];
        const char *msg = PQresultErrorField (r, PG_DIAG_MESSAGE_PRIMARY);
        adm_error (_("%s: %s"), what, msg ? msg : tx_pg_first_line (PQerrorMessage (db), line, sizeof line));
        PQclear (r);
        PQclear (PQexec (db, "ROLLBACK"));
        return -1;
    }
    PQclear (r);
    char version [16];
    snprintf (version, sizeof version, "%d", m->version);
    const char *params [] = { version, m->name, m->sql };
    r = adm_exec (db, what,
        "INSERT INTO tongxin.schema_migrations (version, name, checksum)"
        " VALUES ($1::int, $2, md5($3))", 3, params);
    if (!r) {
        PQclear (PQexec (db, "ROLLBACK"));
        return -1;
    }
    PQclear (r);
    return adm_run (db, what, "COMMIT");
}

int
adm_migrate (PGconn *db, bool check_only)
{
    int latest = tx_migrations_count;
    if (adm_run (db, _("taking the migration lock"),
                 "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")") != 0)
        return 1;
    int rc = 1;
    int current;
    if (adm_schema_version (db, &current) != 0)
        goto done;
    if (current > latest) {
        adm_error (_("the database schema is at version %d, newer than this tongxin-admin "
                   "knows (%d); use a newer tongxin-admin"), current, latest);
        goto done;
    }
    if (s_verify_checksums (db, current) != 0)
        goto done;
    if (check_only) {
        if (current == latest)
            printf (_("schema at version %d, up to date\n"), current);
        else
            printf (_("schema at version %d; %d migration(s) pending (latest %d)\n"),
                    current, latest - current, latest);
        rc = current == latest ? 0 : 1;
        goto done;
    }
    int applied = 0;
    for (int i = 0; i < tx_migrations_count; i++) {
        if (tx_migrations [i].version <= current)
            continue;
        if (s_apply (db, &tx_migrations [i]) != 0)
            goto done;
        printf (_("applied %s\n"), tx_migrations [i].name);
        applied++;
        //  008 added content fingerprints: the events already stored get theirs.
        if (tx_migrations [i].version == 8 && adm_contents_backfill (db) != 0)
            goto done;
    }
    //  Partitions for the months ahead, on every run.
    PGresult *r = adm_exec (db, _("creating partitions"),
                            "SELECT tongxin.ensure_partitions()", 0, NULL);
    if (!r)
        goto done;
    PQclear (r);
    if (applied)
        printf (_("schema at version %d (%d migration(s) applied)\n"), latest, applied);
    else
        printf (_("schema at version %d, up to date\n"), latest);
    rc = 0;
done:
    PQclear (PQexec (db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
    return rc;
}
