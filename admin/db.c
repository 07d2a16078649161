/*  db.c: libpq helpers for tongxin-admin.  */
#include "db.h"
#include "i18n.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
adm_verror (const char *fmt, va_list ap)
{
    fputs ("tongxin-admin: ", stderr);
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
}

void
adm_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    adm_verror (fmt, ap);
    va_end (ap);
}

//  As root with no conninfo, PostgreSQL's superuser "postgres" by peer
//  authentication: the server reads the client's effective uid when it
//  connects, so the process is postgres only for the connect.
static PGconn *
s_connect_as_postgres (const char *const *keys, const char *const *values)
{
    struct passwd *pw = getpwnam ("postgres");
    if (!pw)
        return PQconnectdbParams (keys, values, 1);
    if (setegid (pw->pw_gid) != 0 || seteuid (pw->pw_uid) != 0) {
        adm_error (_("cannot act as the postgres user: %s"), strerror (errno));
        if (setegid (0) != 0)
            abort ();
        return NULL;
    }
    PGconn *db = PQconnectdbParams (keys, values, 1);
    if (seteuid (0) != 0 || setegid (0) != 0)
        abort ();               //  cannot happen: root may always go back
    return db;
}

PGconn *
adm_connect_to (const char *conninfo, const char *dbname)
{
    if (!conninfo)
        conninfo = getenv ("TONGXIN_DB");
    bool as_postgres = !conninfo && geteuid () == 0;
    const char *keys [4], *values [4];
    int n = 0;
    if (conninfo) {
        //  The first dbname is expanded as the whole connection string.
        keys [n] = "dbname"; values [n++] = conninfo;
    }
    if (dbname || !conninfo) {
        keys [n] = "dbname"; values [n++] = dbname ? dbname : "tongxin";
    }
    if (as_postgres) {
        keys [n] = "user"; values [n++] = "postgres";
    }
    keys [n] = NULL; values [n] = NULL;
    PGconn *db = as_postgres ? s_connect_as_postgres (keys, values)
                             : PQconnectdbParams (keys, values, 1);
    if (!db) {
        adm_error (_("cannot connect to the database: out of memory"));
        return NULL;
    }
    if (PQstatus (db) != CONNECTION_OK) {
        char line [512];
        adm_error (_("cannot connect to the database: %s%s"),
                   tx_pg_first_line (PQerrorMessage (db), line, sizeof line),
                   as_postgres ? " (connecting as postgres by peer authentication;"
                                 " give --db CONNINFO to connect otherwise)" : "");
        PQfinish (db);
        return NULL;
    }
    PGresult *r = PQexec (db, "SET client_min_messages = warning");
    PQclear (r);
    return db;
}

PGconn *
adm_connect (const char *conninfo)
{
    return adm_connect_to (conninfo, NULL);
}

static void
s_copy (char *dst, size_t len, const char *src)
{
    snprintf (dst, len, "%s", src ? src : "");
}

PGresult *
adm_try (PGconn *db, const char *sql, int nparams, const char *const *params,
         adm_err_t *err)
{
    PGresult *r = PQexecParams (db, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus (r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    s_copy (err->state, sizeof err->state, PQresultErrorField (r, PG_DIAG_SQLSTATE));
    s_copy (err->constraint, sizeof err->constraint,
            PQresultErrorField (r, PG_DIAG_CONSTRAINT_NAME));
    const char *msg = PQresultErrorField (r, PG_DIAG_MESSAGE_PRIMARY);
    if (msg)
        s_copy (err->msg, sizeof err->msg, msg);
    else
        tx_pg_first_line (PQerrorMessage (db), err->msg, sizeof err->msg);
    PQclear (r);
    return NULL;
}

bool
adm_no_schema (const adm_err_t *err)
{
    //  undefined_table, invalid_schema_name
    return strcmp (err->state, "42P01") == 0 || strcmp (err->state, "3F000") == 0;
}

PGresult *
adm_exec (PGconn *db, const char *what, const char *sql, int nparams,
          const char *const *params)
{
    adm_err_t err;
    PGresult *r = adm_try (db, sql, nparams, params, &err);
    if (!r && adm_no_schema (&err))
        adm_error (_("%s: the database has no Tongxin schema: run 'tongxin-admin migrate' first"), what);
    else
    if (!r)
        adm_error (_("%s: %s"), what, err.msg);
    return r;
}

int
adm_run (PGconn *db, const char *what, const char *sql)
{
    PGresult *r = adm_exec (db, what, sql, 0, NULL);
    if (!r)
        return -1;
    PQclear (r);
    return 0;
}
