/*  cli.h: how tongxin-admin runs a command.
 *
 *  A command is a row of data: its name ("unit add"), synopsis and help,
 *  the options it takes besides --db and --help, how many operands, whether
 *  it needs the database, and two functions: check (refuse bad arguments
 *  before anything is touched) and run.  One runner, adm_cli_main, parses
 *  the global options, finds the command, parses its options, checks the
 *  operands, connects when asked, runs it and returns its exit code:
 *  0 success, 1 failure (one line on stderr says what), 2 usage error.
 *
 *  The argument strings are borrowed from argv for the whole run.
 */
#ifndef TX_ADMIN_CLI_H
#define TX_ADMIN_CLI_H

#include <stdbool.h>
#include <libpq-fe.h>

#define ADM_MAX_OPTS 4

//  One option of a command: --NAME, with a value or a flag.
typedef struct {
    const char *name;           //  "name" for --name; NULL ends the list
    bool has_arg;               //  --name VALUE (else a flag)
} adm_opt_t;

typedef struct adm_command_s adm_command_t;

//  What the runner parsed for the running command.
typedef struct {
    const adm_command_t *command;
    const char *values [ADM_MAX_OPTS];  //  by position in command->opts; a set flag is ""
    char **operands;            //  the arguments that are not options
    int noperands;
} adm_args_t;

struct adm_command_s {
    const char *name;           //  "unit add"
    const char *usage;          //  the synopsis after the name
    const char *help;           //  what it does, options
    adm_opt_t opts [ADM_MAX_OPTS];  //  besides --db and --help
    int operands;               //  how many operands it takes, exactly
    const char *operands_error; //  usage error when their number is wrong
                                //  (NULL: "unexpected argument 'X'")
    bool needs_db;              //  connect before run (else db is NULL)
    int (*check) (const adm_args_t *args);  //  NULL, or 0 / 2 after a usage error
    int (*run) (PGconn *db, const adm_args_t *args);
};

//  The whole of tongxin-admin after main(): global options (--db, --help,
//  --version), the command, its run.  COMMANDS has NCOMMANDS rows;
//  SCHEMA_VERSION is printed by --version.
int adm_cli_main (const adm_command_t *commands, int ncommands, int schema_version,
                  int argc, char **argv);

//  The --db given, or NULL (adm_connect's defaults).
const char *adm_conninfo (void);

//  The value of option NAME of the running command, or NULL if not given.
const char *adm_opt (const adm_args_t *args, const char *name);

//  Print "tongxin-admin: FMT" and the running command's usage on stderr;
//  returns 2.
int adm_usage_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

//  Print a result as tab-separated lines with a header, each value escaped
//  (safetext.h): a tab, newline or escape sequence in a name can neither
//  forge a row or column nor drive the terminal.  0, or 1 out of memory.
int adm_print_table (PGresult *r);

//  True if S is one of LIST (NULL-terminated).
bool adm_in (const char *s, const char **list);

//  Run SQL with one text parameter (NULL: SQL NULL) and print its rows as
//  adm_print_table does; WHAT names it in an error.  0 or 1.
int adm_list (PGconn *db, const char *what, const char *sql, const char *param);

//  A name or description is one line of printable UTF-8 (safetext.h; the
//  database's CHECK constraints refuse the same).  0, or 2 after a usage
//  error that says what is wrong in OPTION and where.
int adm_check_text (const char *option, const char *s);

#endif
