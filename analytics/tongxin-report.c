/*  tongxin-report: the standard report of the "8+N" programme.
 *
 *  main() parses the options, connects (as any login that is a member of
 *  tongxin_analyst: only the analytics views are read), loads the report
 *  (report.c) and writes it in the chosen format (render.c, html.c).
 *  Exit status: 0 success, 1 failure, 2 usage error.
 */
#include "i18n.h"
#include "lex.h"
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *s_usage_line =
    N_("usage: tongxin-report [--db CONNINFO] [--unit CODE] [--from DATE] [--to DATE]\n"
       "                      [--format table|csv|html] [--excel] [--out FILE]\n"
       "                      [--quiet-days N]\n");

static void
s_help (FILE *out)
{
    fputs (_(s_usage_line), out);
    fputs ("\n", out);
    //  TRANSLATORS: keep the option names (--db ...) and the format names
    //  (table, csv, html) as they are; align the descriptions as you like.
    fputs (_(
        "The standard report of the \"8+N\" pairing programme for a unit and everything\n"
        "under it, over a period: progress toward the 百千万 targets, \"8+N\" coverage,\n"
        "activity by month, type and partner province, outcomes, and quiet pairings.\n\n"
        "  --db CONNINFO     libpq connection string or URI; default $TONGXIN_DB, then\n"
        "                    libpq's own defaults.  The login needs tongxin_analyst.\n"
        "  --unit CODE       the subtree's root (default: the root of the unit tree)\n"
        "  --from DATE       first day, YYYY-MM-DD (default: the first event)\n"
        "  --to DATE         last day, YYYY-MM-DD, inclusive (default: today)\n"
        "                    Days are those of the organisation's time zone.\n"
        "  --format FORMAT   table (aligned, for a terminal; default), csv (UTF-8) or\n"
        "                    html (one self-contained page with charts)\n"
        "  --excel           with csv: start with a byte-order mark so spreadsheet\n"
        "                    programs read the file as UTF-8\n"
        "  --out FILE        write to FILE instead of standard output\n"
        "  --quiet-days N    list pairings without an event for N days (default 90)\n\n"
        "Table and page are written in the language of the locale (LANG); CSV\n"
        "keeps its headings in English in every locale, for the scripts that read it.\n\n"
        "Exit status: 0 success, 1 failure, 2 usage error.\n"), out);
}

//  "tongxin-report: MSG[: ARG]" and the usage on stderr; exit status 2.
static int
s_usage_error (const char *msg, const char *arg)
{
    if (arg)
        fprintf (stderr, "tongxin-report: %s: %s\n", msg, arg);
    else
        fprintf (stderr, "tongxin-report: %s\n", msg);
    fputs (_(s_usage_line), stderr);
    return 2;
}

enum { OPT_DB = 1000, OPT_UNIT, OPT_FROM, OPT_TO, OPT_FORMAT, OPT_EXCEL, OPT_OUT, OPT_QUIET,
       OPT_HELP, OPT_VERSION };

int
main (int argc, char **argv)
{
    const char *db_info = NULL, *out_path = NULL, *format = "table";
    bool excel = false;
    rpt_opts_t opts = { .quiet_days = 90 };
    const struct option lo [] = {
        { "db", required_argument, NULL, OPT_DB },
        { "unit", required_argument, NULL, OPT_UNIT },
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "excel", no_argument, NULL, OPT_EXCEL },
        { "out", required_argument, NULL, OPT_OUT },
        { "quiet-days", required_argument, NULL, OPT_QUIET },
        { "help", no_argument, NULL, OPT_HELP },
        { "version", no_argument, NULL, OPT_VERSION },
        { 0 }
    };
    tx_i18n_init ();
    opterr = 0;
    int c;
    while ((c = getopt_long (argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
            case OPT_DB: db_info = optarg; break;
            case OPT_UNIT:
                if (!tx_lex_unit_code (optarg, strlen (optarg)))
                    return s_usage_error (_("bad unit code"), optarg);
                opts.unit = optarg;
                break;
            case OPT_FROM:
                if (!tx_lex_date (optarg, strlen (optarg)))
                    return s_usage_error (_("--from needs a date YYYY-MM-DD, not"), optarg);
                opts.from = optarg;
                break;
            case OPT_TO:
                if (!tx_lex_date (optarg, strlen (optarg)))
                    return s_usage_error (_("--to needs a date YYYY-MM-DD, not"), optarg);
                opts.to = optarg;
                break;
            case OPT_FORMAT:
                if (strcmp (optarg, "table") && strcmp (optarg, "csv") && strcmp (optarg, "html"))
                    return s_usage_error (_("--format is table, csv or html, not"), optarg);
                format = optarg;
                break;
            case OPT_EXCEL: excel = true; break;
            case OPT_OUT: out_path = optarg; break;
            case OPT_QUIET: {
                char *end;
                errno = 0;
                long v = strtol (optarg, &end, 10);
                if (errno || *end || end == optarg || v < 0 || v > 100000)
                    return s_usage_error (_("--quiet-days needs a number of days 0..100000, not"), optarg);
                opts.quiet_days = (int) v;
                break;
            }
            case OPT_HELP: case 'h':
                s_help (stdout);
                return 0;
            case OPT_VERSION:
                printf ("tongxin-report %s\n", TONGXIN_VERSION);
                return 0;
            default:
                return s_usage_error (_("unknown option or missing argument"), argv [optind - 1]);
        }
    }
    if (optind < argc)
        return s_usage_error (_("unexpected argument"), argv [optind]);
    if (excel && strcmp (format, "csv") != 0)
        return s_usage_error (_("--excel goes with --format csv"), NULL);
    if (opts.from && opts.to && strcmp (opts.from, opts.to) > 0)
        return s_usage_error (_("--from is after --to"), NULL);

    if (!db_info)
        db_info = getenv ("TONGXIN_DB");
    PGconn *db = PQconnectdb (db_info ? db_info : "");
    if (!db || PQstatus (db) != CONNECTION_OK) {
        const char *msg = db ? PQerrorMessage (db) : _("out of memory");
        rpt_error (_("cannot connect to the database: %.*s"), (int) strcspn (msg, "\n"), msg);
        PQfinish (db);
        return 1;
    }
    PQclear (PQexec (db, "SET client_min_messages = warning"));
    rpt_t *report = rpt_load (db, &opts);
    PQfinish (db);
    if (!report)
        return 1;

    FILE *out = stdout;
    if (out_path) {
        out = fopen (out_path, "w");
        if (!out) {
            rpt_error (_("cannot write %s: %s"), out_path, strerror (errno));
            rpt_destroy (&report);
            return 1;
        }
    }
    int rc;
    if (strcmp (format, "csv") == 0)
        rc = rpt_write_csv (report, out, excel);
    else
    if (strcmp (format, "html") == 0)
        rc = rpt_write_html (report, out);
    else
        rc = rpt_write_table (report, out);
    if (fflush (out) != 0 || ferror (out))
        rc = -1;
    if (out != stdout && fclose (out) != 0)
        rc = -1;
    if (rc != 0 && out_path)
        rpt_error (_("writing %s failed: %s"), out_path, strerror (errno));
    else
    if (rc != 0)
        rpt_error (_("writing the report failed: %s"), strerror (errno));
    rpt_destroy (&report);
    return rc == 0 ? 0 : 1;
}
