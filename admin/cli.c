/*  cli.c: the one runner of tongxin-admin's commands (cli.h): global
 *  options, command lookup, option parsing, operands, connection, usage
 *  and help.
 */
#include "cli.h"
#include "i18n.h"
#include "db.h"
#include "safetext.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_db;        //  --db, else $TONGXIN_DB, else libpq defaults
static const adm_command_t *s_command;  //  the running command, for usage errors

enum { OPT_DB = 1000, OPT_HELP };

int
adm_usage_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    adm_verror (fmt, ap);
    va_end (ap);
    if (s_command)
        fprintf (stderr, _("usage: tongxin-admin %s %s\n"), s_command->name, _(s_command->usage));
    return 2;
}

const char *
adm_conninfo (void)
{
    return s_db;
}

const char *
adm_opt (const adm_args_t *args, const char *name)
{
    const adm_opt_t *o = args->command->opts;
    for (int i = 0; i < ADM_MAX_OPTS && o [i].name; i++)
        if (strcmp (o [i].name, name) == 0)
            return args->values [i];
    return NULL;
}

bool
adm_in (const char *s, const char **list)
{
    for (; *list; list++)
        if (strcmp (s, *list) == 0)
            return true;
    return false;
}

int
adm_check_text (const char *option, const char *s)
{
    char what [64];
    long at = tx_safetext_find (s, what, sizeof what);
    if (at < 0)
        return 0;
    return adm_usage_error (_("%s holds %s at byte %ld: names and descriptions are one line of "
                            "printable text (no tabs, newlines, escape sequences or direction "
                            "controls)"), option, what, at + 1);
}

int
adm_print_table (PGresult *r)
{
    int cols = PQnfields (r);
    for (int c = 0; c < cols; c++)
        printf ("%s%s", c ? "\t" : "", PQfname (r, c));
    putchar ('\n');
    for (int i = 0; i < PQntuples (r); i++) {
        for (int c = 0; c < cols; c++) {
            char *v = tx_safetext_escape (PQgetisnull (r, i, c) ? "" : PQgetvalue (r, i, c));
            if (!v) {
                adm_error (_("out of memory"));
                return 1;
            }
            printf ("%s%s", c ? "\t" : "", v);
            free (v);
        }
        putchar ('\n');
    }
    return 0;
}

int
adm_list (PGconn *db, const char *what, const char *sql, const char *param)
{
    PGresult *r = adm_exec (db, what, sql, 1, (const char *[]) { param });
    if (!r)
        return 1;
    int rc = adm_print_table (r);
    PQclear (r);
    return rc;
}

//  Parse the command's options (its own, --db, --help) into ARGS.  Returns
//  -1 to go on, else the exit code (0 after --help, 2 after a usage error).
static int
s_parse (const adm_command_t *cmd, int argc, char **argv, adm_args_t *args)
{
    struct option opts [ADM_MAX_OPTS + 3];
    int n = 0;
    for (; n < ADM_MAX_OPTS && cmd->opts [n].name; n++)
        opts [n] = (struct option) { cmd->opts [n].name,
                                     cmd->opts [n].has_arg ? required_argument : no_argument,
                                     NULL, n + 1 };
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
            printf (_("usage: tongxin-admin %s %s\n"), cmd->name, _(cmd->usage));
            printf ("\n%s", _(cmd->help));
            return 0;
        }
        else
        if (c >= 1 && c <= ADM_MAX_OPTS)
            args->values [c - 1] = optarg ? optarg : "";
        else
            return adm_usage_error (_("unknown option or missing argument: %s"), argv [optind - 1]);
    }
    args->operands = argv + optind;
    args->noperands = argc - optind;
    return -1;
}

//  Parse, check, connect if needed, run.  ARGV [0] is the command's name.
static int
s_run (const adm_command_t *cmd, int argc, char **argv)
{
    s_command = cmd;
    adm_args_t args = { .command = cmd };
    int rc = s_parse (cmd, argc, argv, &args);
    if (rc >= 0)
        return rc;
    if (args.noperands != cmd->operands) {
        if (cmd->operands_error)
            return adm_usage_error ("%s", _(cmd->operands_error));
        return adm_usage_error (_("unexpected argument '%s'"), args.operands [cmd->operands]);
    }
    if (cmd->check && (rc = cmd->check (&args)) != 0)
        return rc;
    PGconn *db = NULL;
    if (cmd->needs_db && !(db = adm_connect (s_db)))
        return 1;
    rc = cmd->run (db, &args);
    if (db)
        PQfinish (db);
    return rc;
}

static void
s_help (FILE *out, const adm_command_t *commands, int ncommands)
{
    fputs (_(
        "usage: tongxin-admin [--db CONNINFO] COMMAND [ARGS]\n\n"
        "Set up and run a Tongxin database.\n\n"
        "Commands:\n"), out);
    for (int i = 0; i < ncommands; i++)
        fprintf (out, "  %-15s %s\n", commands [i].name, _(commands [i].usage));
    fputs (_(
        "\nEvery command takes --help.  --db CONNINFO is a libpq connection string or URI;\n"
        "without it $TONGXIN_DB is used, else the database tongxin on the local server\n"
        "(libpq's defaults, PGHOST, ...), as root as PostgreSQL's superuser postgres.\n"
        "Exit status: 0 success, 1 failure, 2 usage error.\n"), out);
}

//  The command named by ARGV [0] (and ARGV [1] for a group), or NULL;
//  *USED says how many words it took.
static const adm_command_t *
s_find (const adm_command_t *commands, int ncommands, int argc, char **argv, int *used)
{
    for (int c = 0; c < ncommands; c++) {
        const char *name = commands [c].name;
        const char *space = strchr (name, ' ');
        size_t len = space ? (size_t) (space - name) : strlen (name);
        if (strlen (argv [0]) != len || strncmp (argv [0], name, len) != 0)
            continue;
        if (space && (argc < 2 || strcmp (argv [1], space + 1) != 0))
            continue;
        *used = space ? 2 : 1;
        return &commands [c];
    }
    return NULL;
}

//  GROUP alone or with an unknown subcommand: its commands on stderr, 2;
//  GROUP --help: on stdout, 0.  Not a group: unknown command, 2.
static int
s_group (const adm_command_t *commands, int ncommands, int argc, char **argv)
{
    const char *group = argv [0];
    bool help = argc > 1 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0);
    FILE *out = help ? stdout : stderr;
    int found = 0;
    for (int c = 0; c < ncommands; c++) {
        const char *name = commands [c].name;
        if (strncmp (name, group, strlen (group)) != 0 || name [strlen (group)] != ' ')
            continue;
        if (found++ == 0) {
            if (help)
                fprintf (out, _("usage: tongxin-admin %s COMMAND [ARGS]\n\nCommands:\n"), group);
            else
                fprintf (out, _("tongxin-admin: '%s' needs a subcommand:\n"), group);
        }
        fprintf (out, "  tongxin-admin %s %s\n", name, _(commands [c].usage));
    }
    if (found && help) {
        fputs (_("\nEvery command takes --help.\n"), out);
        return 0;
    }
    if (!found) {
        fprintf (stderr, _("tongxin-admin: unknown command '%s'\n"), group);
        s_help (stderr, commands, ncommands);
    }
    return 2;
}

int
adm_cli_main (const adm_command_t *commands, int ncommands, int schema_version,
              int argc, char **argv)
{
    int i = 1;
    while (i < argc && argv [i][0] == '-') {
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0) {
            s_help (stdout, commands, ncommands);
            return 0;
        }
        if (strcmp (argv [i], "--version") == 0) {
            printf ("tongxin-admin %s (schema version %d)\n", TONGXIN_VERSION, schema_version);
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
        fprintf (stderr, _("tongxin-admin: unknown option '%s'\n"), argv [i]);
        s_help (stderr, commands, ncommands);
        return 2;
    }
    if (i >= argc) {
        s_help (stderr, commands, ncommands);
        return 2;
    }
    int used = 0;
    const adm_command_t *cmd = s_find (commands, ncommands, argc - i, argv + i, &used);
    if (!cmd)
        return s_group (commands, ncommands, argc - i, argv + i);
    //  The command sees argv[0] = its name, then its own arguments.
    return s_run (cmd, argc - i - used + 1, argv + i + used - 1);
}
