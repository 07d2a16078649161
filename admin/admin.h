/*  admin.h: the commands of tongxin-admin.
 *
 *  Each command returns the process exit code: 0 success, 1 failure (one
 *  line on stderr says what), 2 usage error.
 */
#ifndef TX_ADMIN_H
#define TX_ADMIN_H

#include "db.h"

//  Apply pending migrations (check_only: report, exit 1 if any pending).
int adm_migrate (PGconn *db, bool check_only);

//  The applied schema version (0 on an empty database); 0 or -1.
int adm_schema_version (PGconn *db, int *version);

//  The newest schema version this binary knows.
int tx_migrations_count_latest (void);

//  Keys (keys.c).  OUT is the secret file; OUT.pub the public one.
int adm_key_server (const char *out);
int adm_key_issue (PGconn *db, const char *unit, const char *out);
int adm_key_revoke (PGconn *db, const char *unit);
int adm_key_list (PGconn *db);

//  Rejected events (replay.c).  SINCE may be NULL (all).
int adm_rejected_list (PGconn *db, const char *since);
int adm_rejected_replay (PGconn *db, const char *reason, const char *since, bool dry_run);

#endif
