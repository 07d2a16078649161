/*  db.h: small libpq helpers shared by the tongxin-admin commands.
 *
 *  Every helper prints its own one-line error on stderr ("tongxin-admin:
 *  WHAT: WHY") and returns -1 or NULL; callers just exit non-zero.
 */
#ifndef TX_ADMIN_DB_H
#define TX_ADMIN_DB_H

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdbool.h>

#include "pgmsg.h"

//  Connect with CONNINFO (NULL: $TONGXIN_DB; neither: the local server's
//  database "tongxin", and as root as PostgreSQL's superuser "postgres" by
//  peer authentication).  Returns the connection (caller's, PQfinish it)
//  or NULL.
PGconn *adm_connect (const char *conninfo);

//  The same with the database name DBNAME (NULL: as above) in place of
//  CONNINFO's.
PGconn *adm_connect_to (const char *conninfo, const char *dbname);

//  Run SQL with text parameters.  Returns the result (caller's, PQclear it)
//  when its status is COMMAND_OK or TUPLES_OK; else prints "WHAT: message"
//  (or the text adm_explain gives for its SQLSTATE) and returns NULL.
PGresult *adm_exec (PGconn *db, const char *what, const char *sql, int nparams,
                    const char *const *params);

//  What went wrong in adm_try.
typedef struct {
    char state [6];             //  SQLSTATE, e.g. "23505"
    char constraint [64];       //  the violated constraint's name, or ""
    char msg [512];             //  the primary message
} adm_err_t;

//  Like adm_exec, but prints nothing: fills ERR and returns NULL on failure.
PGresult *adm_try (PGconn *db, const char *sql, int nparams,
                   const char *const *params, adm_err_t *err);

//  True when ERR says the Tongxin tables are missing (not migrated).
bool adm_no_schema (const adm_err_t *err);

//  Run a command that returns nothing interesting; 0 or -1.
int adm_run (PGconn *db, const char *what, const char *sql);

//  Print "tongxin-admin: FMT" on stderr.
void adm_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void adm_verror (const char *fmt, va_list ap) __attribute__ ((format (printf, 1, 0)));

#endif
