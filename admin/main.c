/*  tongxin-admin: set up and run a Tongxin database.
 *
 *  main() parses the global options, picks the command from a table and
 *  hands it the rest of argv; each command parses its own options, connects
 *  and runs one transaction at most.
 */
#include "admin.h"
#include "lex.h"
#include "migrations.h"
#include "safetext.h"

#include <stdarg.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_db;        //  --db, else $TONGXIN_DB, else libpq defaults

typedef struct {
    const char *name;           //  "unit add"
    int (*run) (int argc, char **argv);
    const char *usage;          //  the synopsis after the name
    const char *help;           //  what it does, options
} command_t;

static const command_t *s_command;      //  the running command, for usage()

static const char *s_unit_kinds [] = {
    "district", "department", "township", "subdistrict", "village", "community",
    "party_org", "station", "enterprise", "school", NULL
};
static const char *s_fields [] = {
    "ethnic_unity", "team_building", "culture_tourism", "development", "education",
    "youth", NULL
};

static int s_usage_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static int
s_usage_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fputs ("tongxin-admin: ", stderr);
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    va_end (ap);
    if (s_command)
        fprintf (stderr, "usage: tongxin-admin %s %s\n", s_command->name, s_command->usage);
    return 2;
}

static bool
s_in (const char *s, const char **list)
{
    for (; *list; list++)
        if (strcmp (s, *list) == 0)
            return true;
    return false;
}

//  A name or description is one line of printable UTF-8 (safetext.h; the
//  database's CHECK constraints refuse the same).  0, or 2 after a usage
//  error that says what is wrong and where.
static int
s_check_text (const char *option, const char *s)
{
    char what [64];
    long at = tx_safetext_find (s, what, sizeof what);
    if (at < 0)
        return 0;
    return s_usage_error ("%s holds %s at byte %ld: names and descriptions are one line of "
                          "printable text (no tabs, newlines, escape sequences or direction "
                          "controls)", option, what, at + 1);
}

//  Parse the options of a command: --db and --help are common to all.
//  Returns the index of the first operand, or -1 after printing help (rc 0)
//  or a usage error (rc 2).
enum { OPT_DB = 1000, OPT_HELP };

static int
s_getopt (int argc, char **argv, const struct option *extra, int nextra,
          int (*on_opt) (int opt, const char *arg, void *ctx), void *ctx, int *rc)
{
    struct option opts [16];
    int n = 0;
    for (int i = 0; i < nextra && n < 13; i++)
        opts [n++] = extra [i];
    opts [n++] = (struct option) { "db", required_argument, NULL, OPT_DB };
    opts [n++] = (struct option) { "help", no_argument, NULL, OPT_HELP };
    opts [n] = (struct option) { 0 };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        if (c == OPT_DB)
            s_db = optarg;
        else
        if (c == OPT_HELP || c == 'h') {
            printf ("usage: tongxin-admin %s %s\n\n%s", s_command->name, s_command->usage,
                    s_command->help);
            *rc = 0;
            return -1;
        }
        else
        if (c == '?' || c == ':') {
            *rc = s_usage_error ("unknown option or missing argument: %s", argv [optind - 1]);
            return -1;
        }
        else
        if (on_opt (c, optarg, ctx) != 0) {
            *rc = 2;
            return -1;
        }
    }
    return optind;
}

static int
s_no_opts (int opt, const char *arg, void *ctx)
{
    (void) opt; (void) arg; (void) ctx;
    return 0;
}

//  ---------------------------------------------------------------- migrate

static int
s_opt_migrate (int opt, const char *arg, void *ctx)
{
    (void) arg;
    if (opt == 'c')
        *(bool *) ctx = true;
    return 0;
}

static int
cmd_migrate (int argc, char **argv)
{
    bool check = false;
    const struct option o [] = { { "check", no_argument, NULL, 'c' } };
    int rc = 0;
    int first = s_getopt (argc, argv, o, 1, s_opt_migrate, &check, &rc);
    if (first < 0)
        return rc;
    if (first < argc)
        return s_usage_error ("unexpected argument '%s'", argv [first]);
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    rc = adm_migrate (db, check);
    PQfinish (db);
    return rc;
}

static int
cmd_status (int argc, char **argv)
{
    int rc = 0;
    int first = s_getopt (argc, argv, NULL, 0, s_no_opts, NULL, &rc);
    if (first < 0)
        return rc;
    if (first < argc)
        return s_usage_error ("unexpected argument '%s'", argv [first]);
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    int version;
    rc = 1;
    if (adm_schema_version (db, &version) == 0) {
        printf ("schema version %d (this tongxin-admin knows up to %d)\n", version,
                tx_migrations_count_latest ());
        rc = 0;
    }
    PQfinish (db);
    return rc;
}

//  ---------------------------------------------------------------- units

typedef struct {
    const char *name, *kind, *parent, *unit, *counterpart, *fields, *since, *until;
    bool all;
} opts_t;

static int
s_opt_store (int opt, const char *arg, void *ctx)
{
    opts_t *o = ctx;
    switch (opt) {
        case 'n': o->name = arg; break;
        case 'k': o->kind = arg; break;
        case 'p': o->parent = arg; break;
        case 'u': o->unit = arg; break;
        case 'c': o->counterpart = arg; break;
        case 'f': o->fields = arg; break;
        case 's': o->since = arg; break;
        case 't': o->until = arg; break;
        case 'a': o->all = true; break;
        default: break;
    }
    return 0;
}

//  Print a result as tab-separated lines with a header.  Values are shown
//  escaped (safetext.h): a tab, newline or escape sequence in a name can
//  neither forge a row or column nor drive the terminal.
static int
s_print_table (PGresult *r)
{
    int cols = PQnfields (r);
    for (int c = 0; c < cols; c++)
        printf ("%s%s", c ? "\t" : "", PQfname (r, c));
    putchar ('\n');
    for (int i = 0; i < PQntuples (r); i++) {
        for (int c = 0; c < cols; c++) {
            char *v = tx_safetext_escape (PQgetisnull (r, i, c) ? "" : PQgetvalue (r, i, c));
            if (!v) {
                adm_error ("out of memory");
                return 1;
            }
            printf ("%s%s", c ? "\t" : "", v);
            free (v);
        }
        putchar ('\n');
    }
    return 0;
}

static int
cmd_unit_add (int argc, char **argv)
{
    opts_t o = { 0 };
    const struct option lo [] = {
        { "name", required_argument, NULL, 'n' },
        { "kind", required_argument, NULL, 'k' },
        { "parent", required_argument, NULL, 'p' },
    };
    int rc = 0;
    int first = s_getopt (argc, argv, lo, 3, s_opt_store, &o, &rc);
    if (first < 0)
        return rc;
    if (argc - first != 1)
        return s_usage_error ("expected exactly one unit CODE");
    const char *code = argv [first];
    if (!tx_lex_unit_code (code, strlen (code)))
        return s_usage_error ("bad unit code '%s': use 1-64 of a-z 0-9 . _ -, starting with a "
                              "letter or digit", code);
    if (!o.name || !*o.name)
        return s_usage_error ("--name is required");
    if (strlen (o.name) > 200)
        return s_usage_error ("--name is longer than 200 bytes");
    if (s_check_text ("--name", o.name) != 0)
        return 2;
    if (!o.kind)
        return s_usage_error ("--kind is required");
    if (!s_in (o.kind, s_unit_kinds))
        return s_usage_error ("unknown kind '%s' (district, department, township, subdistrict, "
                              "village, community, party_org, station, enterprise, school)", o.kind);
    if (o.parent && !tx_lex_unit_code (o.parent, strlen (o.parent)))
        return s_usage_error ("bad parent unit code '%s'", o.parent);
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    const char *p [] = { code, o.name, o.kind, o.parent };
    adm_err_t err;
    PGresult *r = adm_try (db, "INSERT INTO tongxin.units (code, name, kind, parent_code)"
                               " VALUES ($1, $2, $3, $4)", 4, p, &err);
    rc = 1;
    if (r) {
        printf ("unit %s added\n", code);
        PQclear (r);
        rc = 0;
    }
    else
    if (strcmp (err.state, "23505") == 0)
        adm_error ("unit '%s' already exists", code);
    else
    if (strcmp (err.state, "23503") == 0)
        adm_error ("unknown parent unit '%s'", o.parent);
    else
    if (adm_no_schema (&err))
        adm_error ("the database has no Tongxin schema: run 'tongxin-admin migrate' first");
    else
        adm_error ("adding unit '%s': %s", code, err.msg);
    PQfinish (db);
    return rc;
}

static int
cmd_unit_list (int argc, char **argv)
{
    opts_t o = { 0 };
    const struct option lo [] = { { "all", no_argument, NULL, 'a' } };
    int rc = 0;
    int first = s_getopt (argc, argv, lo, 1, s_opt_store, &o, &rc);
    if (first < 0)
        return rc;
    if (first < argc)
        return s_usage_error ("unexpected argument '%s'", argv [first]);
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    PGresult *r = adm_exec (db, "listing units",
        "SELECT code, kind, coalesce(parent_code, '') AS parent,"
        " CASE WHEN active THEN 'active' ELSE 'disabled' END AS state, name"
        " FROM tongxin.units WHERE active OR $1::bool ORDER BY code",
        1, (const char *[]) { o.all ? "true" : "false" });
    rc = 1;
    if (r) {
        rc = s_print_table (r);
        PQclear (r);
    }
    PQfinish (db);
    return rc;
}

static int
cmd_unit_disable (int argc, char **argv)
{
    int rc = 0;
    int first = s_getopt (argc, argv, NULL, 0, s_no_opts, NULL, &rc);
    if (first < 0)
        return rc;
    if (argc - first != 1)
        return s_usage_error ("expected exactly one unit CODE");
    const char *code = argv [first];
    if (!tx_lex_unit_code (code, strlen (code)))
        return s_usage_error ("bad unit code '%s'", code);
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    PGresult *r = adm_exec (db, "disabling unit",
        "UPDATE tongxin.units SET active = false WHERE code = $1 RETURNING code",
        1, (const char *[]) { code });
    rc = 1;
    if (r) {
        if (PQntuples (r) == 1) {
            printf ("unit %s disabled\n", code);
            rc = 0;
        }
        else
            adm_error ("unknown unit '%s'", code);
        PQclear (r);
    }
    PQfinish (db);
    return rc;
}

//  ---------------------------------------------------------------- pairings

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
        snprintf (bad, badlen, "(out of memory)");
        return NULL;
    }
    strcpy (out, "{");
    int n = 0;
    char *save = NULL;
    for (char *f = strtok_r (copy, ",", &save); f; f = strtok_r (NULL, ",", &save)) {
        if (!s_in (f, s_fields)) {
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
        snprintf (bad, badlen, "(none given)");
        free (out);
        return NULL;
    }
    return out;
}

static int
cmd_pairing_add (int argc, char **argv)
{
    opts_t o = { 0 };
    const struct option lo [] = {
        { "counterpart", required_argument, NULL, 'c' },
        { "fields", required_argument, NULL, 'f' },
        { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 't' },
    };
    int rc = 0;
    int first = s_getopt (argc, argv, lo, 4, s_opt_store, &o, &rc);
    if (first < 0)
        return rc;
    if (argc - first != 2)
        return s_usage_error ("expected a UNIT and a REGION");
    const char *unit = argv [first], *region = argv [first + 1];
    if (!tx_lex_unit_code (unit, strlen (unit)))
        return s_usage_error ("bad unit code '%s'", unit);
    if (!tx_lex_region (region, strlen (region)))
        return s_usage_error ("bad region code '%s': a GB/T 2260 code has 6 digits", region);
    if (!o.counterpart || !*o.counterpart)
        return s_usage_error ("--counterpart is required");
    if (s_check_text ("--counterpart", o.counterpart) != 0)
        return 2;
    if (!o.fields)
        return s_usage_error ("--fields is required");
    char bad [64];
    char *fields = s_fields_array (o.fields, bad, sizeof bad);
    if (!fields)
        return s_usage_error ("unknown field of cooperation '%s' (ethnic_unity, team_building, "
                              "culture_tourism, development, education, youth)", bad);
    PGconn *db = adm_connect (s_db);
    if (!db) {
        free (fields);
        return 1;
    }
    const char *p [] = { unit, region, o.counterpart, fields, o.since, o.until };
    adm_err_t err;
    PGresult *r = adm_try (db,
        "INSERT INTO tongxin.pairings (unit_code, region_code, counterpart, fields, since, until)"
        " VALUES ($1, $2, $3, $4::text[], $5::date, $6::date) RETURNING id", 6, p, &err);
    rc = 1;
    if (r) {
        printf ("pairing %s added: %s with %s (%s)\n", PQgetvalue (r, 0, 0), unit, region,
                o.counterpart);
        PQclear (r);
        rc = 0;
    }
    else
    if (strcmp (err.state, "23505") == 0)
        adm_error ("pairing of %s with %s (%s) already exists", unit, region, o.counterpart);
    else
    if (strcmp (err.state, "23503") == 0 && strstr (err.constraint, "unit"))
        adm_error ("unknown unit '%s'", unit);
    else
    if (strcmp (err.state, "23503") == 0 && strstr (err.constraint, "region"))
        adm_error ("unknown region '%s'", region);
    else
    if (strncmp (err.state, "22", 2) == 0 && !strstr (err.constraint, "until"))
        adm_error ("bad date (use YYYY-MM-DD): %s", err.msg);
    else
    if (strcmp (err.state, "23514") == 0 && strstr (err.constraint, "until"))
        adm_error ("--until is before --since");
    else
    if (adm_no_schema (&err))
        adm_error ("the database has no Tongxin schema: run 'tongxin-admin migrate' first");
    else
        adm_error ("adding pairing: %s", err.msg);
    free (fields);
    PQfinish (db);
    return rc;
}

static int
cmd_pairing_list (int argc, char **argv)
{
    opts_t o = { 0 };
    const struct option lo [] = { { "unit", required_argument, NULL, 'u' } };
    int rc = 0;
    int first = s_getopt (argc, argv, lo, 1, s_opt_store, &o, &rc);
    if (first < 0)
        return rc;
    if (first < argc)
        return s_usage_error ("unexpected argument '%s'", argv [first]);
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    PGresult *r = adm_exec (db, "listing pairings",
        "SELECT p.id, p.unit_code AS unit, p.region_code AS region, r.grp AS \"group\","
        " array_to_string(p.fields, ',') AS fields, coalesce(p.since::text, '') AS since,"
        " coalesce(p.until::text, '') AS until, p.counterpart"
        " FROM tongxin.pairings p JOIN tongxin.regions r ON r.code = p.region_code"
        " WHERE $1::text IS NULL OR p.unit_code = $1 ORDER BY p.id",
        1, (const char *[]) { o.unit });
    rc = 1;
    if (r) {
        rc = s_print_table (r);
        PQclear (r);
    }
    PQfinish (db);
    return rc;
}

//  ---------------------------------------------------------------- partitions

static int
s_opt_ahead (int opt, const char *arg, void *ctx)
{
    if (opt == 'A') {
        char *end;
        long v = strtol (arg, &end, 10);
        if (*end || v < 0 || v > 120) {
            s_usage_error ("--ahead must be 0..120 months, not '%s'", arg);
            return -1;
        }
        *(int *) ctx = (int) v;
    }
    return 0;
}

static int
cmd_partitions (int argc, char **argv)
{
    int ahead = 3;
    const struct option lo [] = { { "ahead", required_argument, NULL, 'A' } };
    int rc = 0;
    int first = s_getopt (argc, argv, lo, 1, s_opt_ahead, &ahead, &rc);
    if (first < 0)
        return rc;
    if (first < argc)
        return s_usage_error ("unexpected argument '%s'", argv [first]);
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    char months [8];
    snprintf (months, sizeof months, "%d", ahead);
    PGresult *r = adm_exec (db, "creating partitions",
        "SELECT tongxin.ensure_partitions($1::int)", 1, (const char *[]) { months });
    rc = 1;
    if (r) {
        printf ("%s partition(s) created\n", PQgetvalue (r, 0, 0));
        PQclear (r);
        rc = 0;
    }
    PQfinish (db);
    return rc;
}

//  ---------------------------------------------------------------- retention

typedef struct {
    const char *before;         //  YYYY-MM
    bool detach_only;
} retention_t;

static int
s_opt_retention (int opt, const char *arg, void *ctx)
{
    retention_t *r = ctx;
    if (opt == 'b')
        r->before = arg;
    if (opt == 'd')
        r->detach_only = true;
    return 0;
}

//  Detach (and drop) the monthly partitions of events and rejected_events
//  that end before the month given, each in its own transaction.
static int
cmd_retention (int argc, char **argv)
{
    retention_t o = { 0 };
    const struct option lo [] = {
        { "before", required_argument, NULL, 'b' },
        { "detach-only", no_argument, NULL, 'd' },
    };
    int rc = 0;
    int first = s_getopt (argc, argv, lo, 2, s_opt_retention, &o, &rc);
    if (first < 0)
        return rc;
    if (first < argc)
        return s_usage_error ("unexpected argument '%s'", argv [first]);
    if (!o.before || strlen (o.before) != 7 || o.before [4] != '-'
    ||  strspn (o.before, "0123456789") != 4 || strspn (o.before + 5, "0123456789") != 2
    ||  atoi (o.before + 5) < 1 || atoi (o.before + 5) > 12)
        return s_usage_error ("--before YYYY-MM is required (partitions of earlier months go)");
    char month [7];
    memcpy (month, o.before, 4);
    memcpy (month + 4, o.before + 5, 2);
    month [6] = 0;
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    PGresult *r = adm_exec (db, "listing partitions",
        "SELECT c.relname, p.relname FROM pg_inherits i"
        "  JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
        "  JOIN pg_namespace n ON n.oid = p.relnamespace"
        " WHERE n.nspname = 'tongxin' AND p.relname IN ('events', 'rejected_events')"
        "   AND c.relkind = 'r' AND substring(c.relname from '_([0-9]{6})$') < $1"
        " ORDER BY 1", 1, (const char *[]) { month });
    if (!r) {
        PQfinish (db);
        return 1;
    }
    int done = 0;
    rc = 0;
    for (int i = 0; i < PQntuples (r) && rc == 0; i++) {
        const char *part = PQgetvalue (r, i, 0), *parent = PQgetvalue (r, i, 1);
        char *qpart = PQescapeIdentifier (db, part, strlen (part));
        char *qparent = PQescapeIdentifier (db, parent, strlen (parent));
        char detach [512], drop [256], what [160];
        snprintf (detach, sizeof detach, "ALTER TABLE tongxin.%s DETACH PARTITION tongxin.%s", qparent, qpart);
        snprintf (drop, sizeof drop, "DROP TABLE tongxin.%s", qpart);
        PQfreemem (qpart);
        PQfreemem (qparent);
        snprintf (what, sizeof what, "removing partition %s", part);
        if (adm_run (db, what, "BEGIN") != 0 || adm_run (db, what, detach) != 0
        ||  (!o.detach_only && adm_run (db, what, drop) != 0) || adm_run (db, what, "COMMIT") != 0) {
            PQclear (PQexec (db, "ROLLBACK"));
            rc = 1;
            break;
        }
        printf ("%s %s\n", o.detach_only ? "detached" : "dropped", part);
        done++;
    }
    PQclear (r);
    if (rc == 0)
        printf ("%d partition(s) %s\n", done, o.detach_only ? "detached" : "dropped");
    PQfinish (db);
    return rc;
}

//  ---------------------------------------------------------------- keys

static int
s_opt_out (int opt, const char *arg, void *ctx)
{
    if (opt == 'o')
        *(const char **) ctx = arg;
    return 0;
}

static int
cmd_key_server (int argc, char **argv)
{
    const char *out = NULL;
    const struct option lo [] = { { "out", required_argument, NULL, 'o' } };
    int rc = 0;
    int first = s_getopt (argc, argv, lo, 1, s_opt_out, &out, &rc);
    if (first < 0)
        return rc;
    if (first < argc)
        return s_usage_error ("unexpected argument '%s'", argv [first]);
    if (!out)
        return s_usage_error ("--out FILE is required");
    return adm_key_server (out);
}

static int
cmd_key_issue (int argc, char **argv)
{
    const char *out = NULL;
    const struct option lo [] = { { "out", required_argument, NULL, 'o' } };
    int rc = 0;
    int first = s_getopt (argc, argv, lo, 1, s_opt_out, &out, &rc);
    if (first < 0)
        return rc;
    if (argc - first != 1)
        return s_usage_error ("expected exactly one unit CODE");
    if (!tx_lex_unit_code (argv [first], strlen (argv [first])))
        return s_usage_error ("bad unit code '%s'", argv [first]);
    if (!out)
        return s_usage_error ("--out FILE is required");
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    rc = adm_key_issue (db, argv [first], out);
    PQfinish (db);
    return rc;
}

static int
cmd_key_revoke (int argc, char **argv)
{
    int rc = 0;
    int first = s_getopt (argc, argv, NULL, 0, s_no_opts, NULL, &rc);
    if (first < 0)
        return rc;
    if (argc - first != 1)
        return s_usage_error ("expected exactly one unit CODE");
    if (!tx_lex_unit_code (argv [first], strlen (argv [first])))
        return s_usage_error ("bad unit code '%s'", argv [first]);
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    rc = adm_key_revoke (db, argv [first]);
    PQfinish (db);
    return rc;
}

static int
cmd_key_list (int argc, char **argv)
{
    int rc = 0;
    int first = s_getopt (argc, argv, NULL, 0, s_no_opts, NULL, &rc);
    if (first < 0)
        return rc;
    if (first < argc)
        return s_usage_error ("unexpected argument '%s'", argv [first]);
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    rc = adm_key_list (db);
    PQfinish (db);
    return rc;
}

//  ------------------------------------------------------------ rejected

typedef struct {
    const char *reason;         //  --reason
    const char *since;          //  --since
    bool dry_run;               //  --dry-run
} rejected_opts_t;

static int
s_opt_rejected (int opt, const char *arg, void *ctx)
{
    rejected_opts_t *o = ctx;
    if (opt == 'r')
        o->reason = arg;
    else
    if (opt == 's')
        o->since = arg;
    else
    if (opt == 'n')
        o->dry_run = true;
    else
        return -1;
    return 0;
}

static int
s_rejected (int argc, char **argv, bool replay)
{
    static const struct option opts [] = {
        { "since", required_argument, NULL, 's' },      //  list: this one only
        { "reason", required_argument, NULL, 'r' },
        { "dry-run", no_argument, NULL, 'n' },
    };
    rejected_opts_t o = { "db_refused", NULL, false };
    int rc = 0;
    int first = s_getopt (argc, argv, opts, replay ? 3 : 1, s_opt_rejected, &o, &rc);
    if (first < 0)
        return rc;
    if (first < argc)
        return s_usage_error ("unexpected argument '%s'", argv [first]);
    PGconn *db = adm_connect (s_db);
    if (!db)
        return 1;
    rc = replay ? adm_rejected_replay (db, o.reason, o.since, o.dry_run)
                : adm_rejected_list (db, o.since);
    PQfinish (db);
    return rc;
}

static int
cmd_rejected_list (int argc, char **argv)
{
    return s_rejected (argc, argv, false);
}

static int
cmd_rejected_replay (int argc, char **argv)
{
    return s_rejected (argc, argv, true);
}

//  ---------------------------------------------------------------- main

static const command_t s_commands [] = {
    { "migrate", cmd_migrate, "[--check] [--db CONNINFO]",
      "Apply the pending schema migrations, each in its own transaction, and create\n"
      "the partitions for the months ahead.  Running it twice is a no-op.  A database\n"
      "whose schema is newer than this program knows is refused.\n\n"
      "  --check         only report; exit 1 if migrations are pending\n" },
    { "status", cmd_status, "[--db CONNINFO]",
      "Print the schema version of the database.\n" },
    { "unit add", cmd_unit_add, "CODE --name NAME --kind KIND [--parent CODE] [--db CONNINFO]",
      "Register a reporting unit.  CODE: 1-64 of a-z 0-9 . _ -, starting with a letter\n"
      "or digit; it is stable and never reused.  KIND: district, department, township,\n"
      "subdistrict, village, community, party_org, station, enterprise, school.\n"
      "--parent: the unit it belongs to (analysts roll figures up along this tree).\n" },
    { "unit list", cmd_unit_list, "[--all] [--db CONNINFO]",
      "List the active units (--all: disabled ones too), tab-separated.\n" },
    { "unit disable", cmd_unit_disable, "CODE [--db CONNINFO]",
      "Disable a unit: the collector rejects its new events (unit_inactive).\n" },
    { "pairing add", cmd_pairing_add,
      "UNIT REGION --counterpart NAME --fields F1,F2 [--since DATE] [--until DATE] [--db CONNINFO]",
      "Record a pairing of UNIT with the partner REGION (a 6-digit GB/T 2260 code).\n"
      "--fields: ethnic_unity, team_building, culture_tourism, development, education,\n"
      "youth.  Dates are YYYY-MM-DD.\n" },
    { "pairing list", cmd_pairing_list, "[--unit CODE] [--db CONNINFO]",
      "List pairings, tab-separated.\n" },
    { "retention", cmd_retention, "--before YYYY-MM [--detach-only] [--db CONNINFO]",
      "Remove the monthly partitions of events (by the month in their UUIDv7 ids) and\n"
      "of rejected_events (by received_at) that end before YYYY-MM: each is detached,\n"
      "then dropped (--detach-only: kept as a standalone table, e.g. to archive it\n"
      "with pg_dump).  Collectors then reject events with older ids (bad_id_time)\n"
      "from their next registry refresh.\n" },
    { "key server", cmd_key_server, "--out FILE",
      "Make the collector's CURVE keypair: FILE holds the secret key (mode 0600),\n"
      "FILE.pub the public key that producers pass as --server-key.  Existing files\n"
      "are never overwritten.  Needs no database.\n" },
    { "key issue", cmd_key_issue, "UNIT --out FILE [--db CONNINFO]",
      "Make UNIT's CURVE keypair: FILE (secret, 0600) for the unit's producer, FILE.pub,\n"
      "and register the public key, so the collector accepts it as UNIT.  A unit has\n"
      "at most one live key: revoke the old one first.  Existing files are never\n"
      "overwritten.\n" },
    { "key revoke", cmd_key_revoke, "UNIT [--db CONNINFO]",
      "Revoke UNIT's live key.  New connections with it are refused at once; open\n"
      "ones are refused from the collector's next registry refresh (registry-refresh,\n"
      "30 s by default, or at once on SIGHUP).\n" },
    { "key list", cmd_key_list, "[--db CONNINFO]",
      "List the registered unit keys (unit, public key, issued, revoked), tab-separated.\n" },
    { "rejected list", cmd_rejected_list, "[--since TIME] [--db CONNINFO]",
      "Summarise tongxin.rejected_events by reason, tab-separated: rows, rows whose\n"
      "event was kept whole and not yet replayed, rows replayed, bytes, first, last.\n" },
    { "rejected replay", cmd_rejected_replay,
      "[--reason CODE] [--since TIME] [--dry-run] [--db CONNINFO]",
      "Submit again the refused events of reason CODE (default db_refused: valid\n"
      "events the database refused) kept whole since TIME, once the cause is fixed:\n"
      "each is checked with the collector's rules against today's registry and stored\n"
      "as its unit sent it (an event already stored counts as a duplicate, so a\n"
      "second replay stores nothing).  Only events of the unit that delivered them\n"
      "are stored.  Each row is marked with the outcome; rows the database still\n"
      "refuses stay unmarked and the command exits 1.  --dry-run changes nothing.\n" },
    { "partitions", cmd_partitions, "[--ahead MONTHS] [--db CONNINFO]",
      "Create the monthly partitions of events and rejected_events up to MONTHS\n"
      "(default 3) ahead.  Safe to run at any time, e.g. from a daily timer.\n" },
};
#define NCOMMANDS (int) (sizeof s_commands / sizeof s_commands [0])

int
tx_migrations_count_latest (void)
{
    return tx_migrations_count;
}

static void
s_help (FILE *out)
{
    fprintf (out,
        "usage: tongxin-admin [--db CONNINFO] COMMAND [ARGS]\n\n"
        "Set up and run a Tongxin database.\n\n"
        "Commands:\n");
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf (out, "  %-15s %s\n", s_commands [i].name, s_commands [i].usage);
    fprintf (out,
        "\nEvery command takes --help.  --db CONNINFO is a libpq connection string or URI;\n"
        "without it $TONGXIN_DB is used, then libpq's own defaults (PGHOST, ...).\n"
        "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int
main (int argc, char **argv)
{
    int i = 1;
    while (i < argc && argv [i][0] == '-') {
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0) {
            s_help (stdout);
            return 0;
        }
        if (strcmp (argv [i], "--version") == 0) {
            printf ("tongxin-admin %s (schema version %d)\n", TONGXIN_VERSION, tx_migrations_count);
            return 0;
        }
        if (strcmp (argv [i], "--db") == 0 && i + 1 < argc) {
            s_db = argv [i + 1];
            i += 2;
            continue;
        }
        if (strncmp (argv [i], "--db=", 5) == 0) {
            s_db = argv [i] + 5;
            i++;
            continue;
        }
        fprintf (stderr, "tongxin-admin: unknown option '%s'\n", argv [i]);
        s_help (stderr);
        return 2;
    }
    if (i >= argc) {
        s_help (stderr);
        return 2;
    }
    for (int c = 0; c < NCOMMANDS; c++) {
        const char *name = s_commands [c].name;
        const char *space = strchr (name, ' ');
        size_t len = space ? (size_t) (space - name) : strlen (name);
        if (strlen (argv [i]) != len || strncmp (argv [i], name, len) != 0)
            continue;
        int used = 1;
        if (space) {
            if (i + 1 >= argc || strcmp (argv [i + 1], space + 1) != 0)
                continue;
            used = 2;
        }
        s_command = &s_commands [c];
        //  The command sees argv[0] = its name, then its own arguments.
        return s_command->run (argc - i - used + 1, argv + i + used - 1);
    }
    //  A group name alone ("unit") or an unknown subcommand.
    bool group = false;
    for (int c = 0; c < NCOMMANDS; c++)
        if (strncmp (s_commands [c].name, argv [i], strlen (argv [i])) == 0
        &&  s_commands [c].name [strlen (argv [i])] == ' ') {
            if (!group)
                fprintf (stderr, "tongxin-admin: '%s' needs a subcommand:\n", argv [i]);
            group = true;
            fprintf (stderr, "  tongxin-admin %s %s\n", s_commands [c].name, s_commands [c].usage);
        }
    if (!group) {
        fprintf (stderr, "tongxin-admin: unknown command '%s'\n", argv [i]);
        s_help (stderr);
    }
    return 2;
}
