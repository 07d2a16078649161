/*  admin.h: the commands of tongxin-admin.
 *
 *  Each command returns the process exit code: 0 success, 1 failure (one
 *  line on stderr says what), 2 usage error.
 */
#ifndef TX_ADMIN_H
#define TX_ADMIN_H

#include "db.h"
#include "cli.h"

//  Apply pending migrations (check_only: report, exit 1 if any pending).
int adm_migrate (PGconn *db, bool check_only);

//  The applied schema version (0 on an empty database); 0 or -1.
int adm_schema_version (PGconn *db, int *version);

//  The newest schema version this binary knows.
int tx_migrations_count_latest (void);

//  Unit and region codes as tongxin-admin accepts them (main.c).
bool adm_valid_code (const char *s);
bool adm_valid_region (const char *s);

//  The commands by concept: CHECK refuses bad arguments (usage error, 2)
//  before anything is touched; the other runs the command (cli.h).
//  Units (units.c).  adm_unit_operand_check: the one operand is a unit code.
int adm_unit_add_check (const adm_args_t *args);
int adm_unit_add (PGconn *db, const adm_args_t *args);
int adm_unit_list (PGconn *db, const adm_args_t *args);
int adm_unit_operand_check (const adm_args_t *args);
int adm_unit_disable (PGconn *db, const adm_args_t *args);

//  Pairings (pairings.c).
int adm_pairing_add_check (const adm_args_t *args);
int adm_pairing_add (PGconn *db, const adm_args_t *args);
int adm_pairing_list (PGconn *db, const adm_args_t *args);

//  Partitions (partitions.c): create ahead, remove behind (retention).
int adm_partitions_check (const adm_args_t *args);
int adm_partitions (PGconn *db, const adm_args_t *args);
int adm_retention_check (const adm_args_t *args);
int adm_retention (PGconn *db, const adm_args_t *args);

//  Keys (keys.c).  OUT is the secret file; OUT.pub the public one.
int adm_key_server (const char *out);
int adm_key_issue (PGconn *db, const char *unit, const char *out);
int adm_key_revoke (PGconn *db, const char *unit);
int adm_key_list (PGconn *db);

//  Setting up a collector host (setup.c): database, migrations, logins,
//  key, config.  Connects by itself (adm_conninfo), so db is unused.
int adm_setup_check (const adm_args_t *args);
int adm_setup (PGconn *db, const adm_args_t *args);

//  Rejected events (replay.c).  SINCE may be NULL (all).
int adm_rejected_list (PGconn *db, const char *since);
int adm_rejected_replay (PGconn *db, const char *reason, const char *since, bool dry_run);

//  The registry's event types (types.c).
int adm_type_list (PGconn *db, const adm_args_t *a);
int adm_type_show (PGconn *db, const adm_args_t *a);

//  Content fingerprints for events stored before migration 008 (contents.c).
int adm_contents_backfill (PGconn *db);

//  The analytics rollups (rollups.c): fold the queue to empty; freshness.
int adm_rollups_fold (PGconn *db, const adm_args_t *a);
int adm_rollups_status (PGconn *db, const adm_args_t *a);

#endif
