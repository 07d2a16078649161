/*  tongxin-admin: set up and run a Tongxin database.
 *
 *  The commands as data (cli.h): each row names what the command takes
 *  and the functions that check and run it; cli.c parses, connects, runs
 *  and reports.  The bodies live by concept: units.c, pairings.c,
 *  partitions.c (and retention), keys.c, replay.c (rejected events),
 *  migrate.c.
 */
#include "admin.h"
#include "i18n.h"
#include "cli.h"
#include "lex.h"
#include "migrations.h"

#include <stdio.h>
#include <string.h>

//  The CLI's code checks are the protocol's (common/lex.c).
bool
adm_valid_code (const char *s)
{
    return tx_lex_unit_code (s, strlen (s));
}

bool
adm_valid_region (const char *s)
{
    return tx_lex_region (s, strlen (s));
}

int
tx_migrations_count_latest (void)
{
    return tx_migrations_count;
}

//  ---------------------------------------------------------------- schema

static int
cmd_migrate (PGconn *db, const adm_args_t *a)
{
    return adm_migrate (db, adm_opt (a, "check") != NULL);
}

static int
cmd_status (PGconn *db, const adm_args_t *a)
{
    (void) a;
    int version;
    if (adm_schema_version (db, &version) != 0)
        return 1;
    printf (_("schema version %d (this tongxin-admin knows up to %d)\n"), version,
            tx_migrations_count_latest ());
    return 0;
}

//  ---------------------------------------------------------------- keys (keys.c)

static int
s_key_server_check (const adm_args_t *a)
{
    return adm_opt (a, "out") ? 0 : adm_usage_error (_("--out FILE is required"));
}

static int
s_key_issue_check (const adm_args_t *a)
{
    int rc = adm_unit_operand_check (a);
    return rc ? rc : s_key_server_check (a);
}

static int
cmd_key_server (PGconn *db, const adm_args_t *a)
{
    (void) db;
    return adm_key_server (adm_opt (a, "out"));
}

static int
cmd_key_issue (PGconn *db, const adm_args_t *a)
{
    return adm_key_issue (db, a->operands [0], adm_opt (a, "out"));
}

static int
cmd_key_revoke (PGconn *db, const adm_args_t *a)
{
    return adm_key_revoke (db, a->operands [0]);
}

static int
cmd_key_list (PGconn *db, const adm_args_t *a)
{
    (void) a;
    return adm_key_list (db);
}

//  ---------------------------------------------------------------- rejected (replay.c)

static int
cmd_rejected_list (PGconn *db, const adm_args_t *a)
{
    return adm_rejected_list (db, adm_opt (a, "since"));
}

static int
cmd_rejected_replay (PGconn *db, const adm_args_t *a)
{
    const char *reason = adm_opt (a, "reason");
    return adm_rejected_replay (db, reason ? reason : "db_refused", adm_opt (a, "since"),
                                adm_opt (a, "dry-run") != NULL);
}

static int
cmd_contents_backfill (PGconn *db, const adm_args_t *a)
{
    (void) a;
    return adm_contents_backfill (db);
}

//  ---------------------------------------------------------------- the commands

static const adm_command_t s_commands [] = {
    { .name = "setup", .usage = N_("[--etc DIR] [--user USER] [--login ROLE] [--analyst ROLE] [--db CONNINFO]"),
      .help =
      N_("Make this host ready to run the collector; safe to run again (what exists is\n"
      "kept).  As a PostgreSQL superuser -- run as root it connects as postgres by peer\n"
      "authentication; or --db -- it creates the database (the one --db names, else\n"
      "tongxin) if missing and migrates it; creates the collector's LOGIN role, a member\n"
      "of tongxin_collector only, and one analyst's (tongxin_analyst only), each with a\n"
      "random password written only to a libpq password file: DIR/pgpass (owner USER,\n"
      "0600, the unit passes it to the collector) and DIR/ROLE.pgpass (yours, 0600, to\n"
      "hand to the analyst); makes the collector's keypair DIR/collector.key (owner\n"
      "USER, 0600) and DIR/collector.key.pub; writes DIR/collectord.conf from the\n"
      "commented example unless it exists; then prints the next steps.\n\n"
      "  --etc DIR       where the files go (default /etc/tongxin)\n"
      "  --user USER     the system user the collector runs as (default tongxin)\n"
      "  --login ROLE    the collector's login (default: USER's name, so peer\n"
      "                  authentication on the local socket works too)\n"
      "  --analyst ROLE  the analyst's login (default analyst)\n"),
      .opts = { { "etc", true }, { "user", true }, { "login", true }, { "analyst", true } },
      .operands = 0, .operands_error = NULL,
      .needs_db = false, .check = adm_setup_check, .run = adm_setup },
    { .name = "migrate", .usage = N_("[--check] [--db CONNINFO]"),
      .help =
      N_("Apply the pending schema migrations, each in its own transaction, and create\n"
      "the partitions for the months ahead.  Running it twice is a no-op.  A database\n"
      "whose schema is newer than this program knows is refused.\n\n"
      "  --check         only report; exit 1 if migrations are pending\n"),
      .opts = { { "check", false } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = NULL, .run = cmd_migrate },
    { .name = "status", .usage = N_("[--db CONNINFO]"),
      .help =
      N_("Print the schema version of the database.\n"),
      .opts = { { 0 } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = NULL, .run = cmd_status },
    { .name = "unit add", .usage = N_("CODE --name NAME --kind KIND [--parent CODE] [--db CONNINFO]"),
      .help =
      N_("Register a reporting unit.  CODE: 1-64 of a-z 0-9 . _ -, starting with a letter\n"
      "or digit; it is stable and never reused.  KIND: district, department, township,\n"
      "subdistrict, village, community, party_org, station, enterprise, school.\n"
      "--parent: the unit it belongs to (analysts roll figures up along this tree).\n"),
      .opts = { { "name", true }, { "kind", true }, { "parent", true } }, .operands = 1, .operands_error = N_("expected exactly one unit CODE"),
      .needs_db = true, .check = adm_unit_add_check, .run = adm_unit_add },
    { .name = "unit list", .usage = N_("[--all] [--db CONNINFO]"),
      .help =
      N_("List the active units (--all: disabled ones too), tab-separated.\n"),
      .opts = { { "all", false } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = NULL, .run = adm_unit_list },
    { .name = "type list", .usage = N_("[--db CONNINFO]"),
      .help =
      N_("List the event types of the registry, tab-separated: code, whether a partner\n"
      "region is required, required/all attributes, description.\n"),
      .opts = { { 0 } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = NULL, .run = adm_type_list },
    { .name = "type show", .usage = N_("TYPE [--db CONNINFO]"),
      .help =
      N_("Show what an event of TYPE must carry, as the collector checks it: whether a\n"
      "partner region is required, then one attribute a line, tab-separated: name,\n"
      "kind, required or optional, what is allowed (bounds, length, the values of an\n"
      "enum), description.\n"),
      .opts = { { 0 } }, .operands = 1, .operands_error = N_("expected exactly one event TYPE"),
      .needs_db = true, .check = NULL, .run = adm_type_show },
    { .name = "unit disable", .usage = N_("CODE [--db CONNINFO]"),
      .help =
      N_("Disable a unit: the collector rejects its new events (unit_inactive).\n"),
      .opts = { { 0 } }, .operands = 1, .operands_error = N_("expected exactly one unit CODE"),
      .needs_db = true, .check = adm_unit_operand_check, .run = adm_unit_disable },
    { .name = "pairing add", .usage = N_("UNIT REGION --counterpart NAME --fields F1,F2 [--since DATE] [--until DATE] [--db CONNINFO]"),
      .help =
      N_("Record a pairing of UNIT with the partner REGION (a 6-digit GB/T 2260 code).\n"
      "--fields: ethnic_unity, team_building, culture_tourism, development, education,\n"
      "youth.  Dates are YYYY-MM-DD.\n"),
      .opts = { { "counterpart", true }, { "fields", true }, { "since", true }, { "until", true } }, .operands = 2, .operands_error = N_("expected a UNIT and a REGION"),
      .needs_db = true, .check = adm_pairing_add_check, .run = adm_pairing_add },
    { .name = "pairing list", .usage = N_("[--unit CODE] [--db CONNINFO]"),
      .help =
      N_("List pairings, tab-separated.\n"),
      .opts = { { "unit", true } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = NULL, .run = adm_pairing_list },
    { .name = "retention", .usage = N_("--before YYYY-MM [--detach-only] [--db CONNINFO]"),
      .help =
      N_("Remove the monthly partitions of events (by the month in their UUIDv7 ids) and\n"
      "of rejected_events (by received_at) that end before YYYY-MM: each is detached,\n"
      "then dropped (--detach-only: kept as a standalone table, e.g. to archive it\n"
      "with pg_dump).  Collectors then reject events with older ids (bad_id_time)\n"
      "from their next registry refresh.\n"),
      .opts = { { "before", true }, { "detach-only", false } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = adm_retention_check, .run = adm_retention },
    { .name = "rollups fold", .usage = N_("[--db CONNINFO]"),
      .help =
      N_("Move every event committed before it into the folded rollup tables (the\n"
      "views count all committed events either way; folded ones cost them less to\n"
      "read).  Waits for a fold in progress.  The collectors fold every fold-ms by\n"
      "themselves; this is for a database without a running collector, or after a load.\n"),
      .opts = { { 0 } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = NULL, .run = adm_rollups_fold },
    { .name = "rollups status", .usage = N_("[--db CONNINFO]"),
      .help =
      N_("How far the fold is, tab-separated: events not folded yet (the views count\n"
      "them all the same), the oldest one's time, the time before which every committed\n"
      "event is folded, the fold's lag in seconds, whether a rebuild is due, the time\n"
      "zone, the last rebuild.\n"),
      .opts = { { 0 } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = NULL, .run = adm_rollups_status },
    { .name = "key server", .usage = N_("--out FILE"),
      .help =
      N_("Make the collector's CURVE keypair: FILE holds the secret key (mode 0600),\n"
      "FILE.pub the public key that producers pass as --server-key.  Existing files\n"
      "are never overwritten.  Needs no database.\n"),
      .opts = { { "out", true } }, .operands = 0, .operands_error = NULL,
      .needs_db = false, .check = s_key_server_check, .run = cmd_key_server },
    { .name = "key issue", .usage = N_("UNIT --out FILE [--db CONNINFO]"),
      .help =
      N_("Make UNIT's CURVE keypair: FILE (secret, 0600) for the unit's producer, FILE.pub,\n"
      "and register the public key, so the collector accepts it as UNIT.  A unit has\n"
      "at most one live key: revoke the old one first.  Existing files are never\n"
      "overwritten.\n"),
      .opts = { { "out", true } }, .operands = 1, .operands_error = N_("expected exactly one unit CODE"),
      .needs_db = true, .check = s_key_issue_check, .run = cmd_key_issue },
    { .name = "key revoke", .usage = N_("UNIT [--db CONNINFO]"),
      .help =
      N_("Revoke UNIT's live key.  New connections with it are refused at once; open\n"
      "ones are refused from the collector's next registry refresh (registry-refresh,\n"
      "30 s by default, or at once on SIGHUP).\n"),
      .opts = { { 0 } }, .operands = 1, .operands_error = N_("expected exactly one unit CODE"),
      .needs_db = true, .check = adm_unit_operand_check, .run = cmd_key_revoke },
    { .name = "key list", .usage = N_("[--db CONNINFO]"),
      .help =
      N_("List the registered unit keys (unit, public key, issued, revoked), tab-separated.\n"),
      .opts = { { 0 } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = NULL, .run = cmd_key_list },
    { .name = "rejected list", .usage = N_("[--since TIME] [--db CONNINFO]"),
      .help =
      N_("Summarise tongxin.rejected_events by reason, tab-separated: rows, rows whose\n"
      "event was kept whole and not yet replayed, rows replayed, bytes, first, last.\n"),
      .opts = { { "since", true } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = NULL, .run = cmd_rejected_list },
    { .name = "rejected replay", .usage = N_("[--reason CODE] [--since TIME] [--dry-run] [--db CONNINFO]"),
      .help =
      N_("Submit again the refused events of reason CODE (default db_refused: valid\n"
      "events the database refused) kept whole since TIME, once the cause is fixed:\n"
      "each is checked with the collector's rules against today's registry and stored\n"
      "as its unit sent it (an event already stored counts as a duplicate, so a\n"
      "second replay stores nothing).  Only events of the unit that delivered them\n"
      "are stored.  Each row is marked with the outcome; rows the database still\n"
      "refuses stay unmarked and the command exits 1.  --dry-run changes nothing.\n"),
      .opts = { { "reason", true }, { "since", true }, { "dry-run", false } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = NULL, .run = cmd_rejected_replay },
    { .name = "contents backfill", .usage = N_("[--db CONNINFO]"),
      .help =
      N_("Give the events stored before content idempotency (migration 008) their\n"
      "content fingerprint and claim each content for the first of them, so that the\n"
      "same report sent again is answered duplicate.  migrate runs it when it applies\n"
      "008; running it again only looks at events still without fingerprint.  Prints\n"
      "how many events it fingerprinted and how many repeat an earlier report.\n"),
      .opts = { { 0 } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = NULL, .run = cmd_contents_backfill },
    { .name = "partitions", .usage = N_("[--ahead MONTHS] [--db CONNINFO]"),
      .help =
      N_("Create the monthly partitions of events and rejected_events up to MONTHS\n"
      "(default 3) ahead.  Safe to run at any time, e.g. from a daily timer.\n"),
      .opts = { { "ahead", true } }, .operands = 0, .operands_error = NULL,
      .needs_db = true, .check = adm_partitions_check, .run = adm_partitions },
};
#define NCOMMANDS (int) (sizeof s_commands / sizeof s_commands [0])

int
main (int argc, char **argv)
{
    tx_i18n_init ();
    return adm_cli_main (s_commands, NCOMMANDS, tx_migrations_count, argc, argv);
}
