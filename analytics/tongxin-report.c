/*  tongxin-report: the standard report of the "8+N" programme.
 *
 *  main() parses the options, connects (as any login that is a member of
 *  tongxin_analyst: only the analytics views are read), loads the report
 *  (report.c) and writes it in the chosen format (render.c, html.c).
 *  Exit status: 0 success, 1 failure, 2 usage error.
 */
#include "conf.h"
#include "i18n.h"
#include "lex.h"
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_usage_line =
    N_("usage: tongxin-report [--db CONNINFO] [--unit CODE|NAME] [--from DATE] [--to DATE]\n"
       "                      [--month YYYY-MM] [--format table|csv|html] [--excel]\n"
       "                      [--out FILE] [--quiet-days N] [--lang zh|en]\n");

static void
s_help (FILE *out)
{
    fputs (_(s_usage_line), out);
    fputs ("\n", out);
    //  TRANSLATORS: keep the option names (--db ...) and the format names
    //  (table, csv, html) as they are; align the descriptions as you like.
    fputs (_(
        "The standard report of the \"8+N\" pairing programme for a unit and everything\n"
        "under it, over a period: completeness (who reported, who filed a nil return,\n"
        "who is silent, whose reports are waiting), progress toward the 百千万 targets,\n"
        "\"8+N\" coverage, activity by month, type and partner province, outcomes, and\n"
        "quiet pairings.\n\n"
        "  --db CONNINFO     libpq connection string or URI; default $TONGXIN_DB, then\n"
        "                    db in tongxin.conf's [report], then libpq's own defaults.\n"
        "                    The login needs tongxin_analyst.\n"
        "  --unit UNIT       the subtree's root, a unit code or a unit's exact name\n"
        "                    (default: the root of the unit tree)\n"
        "  --from DATE       first day, YYYY-MM-DD (default: the first event)\n"
        "  --to DATE         last day, YYYY-MM-DD, inclusive (default: today)\n"
        "  --month YYYY-MM   the period is that month (instead of --from and --to)\n"
        "                    Days are those of the organisation's time zone.\n"
        "  --format FORMAT   table (aligned, for a terminal; default), csv (UTF-8) or\n"
        "                    html (one self-contained page with charts)\n"
        "  --excel           with csv: start with a byte-order mark so spreadsheet\n"
        "                    programs read the file as UTF-8\n"
        "  --out FILE        write to FILE instead of standard output\n"
        "  --quiet-days N    list pairings without an event for N days at the period's\n"
        "                    end (default 90)\n"
        "  --lang LANG       zh (Chinese) or en (English), for every format; default:\n"
        "                    the language of the locale (LANG), and English headings\n"
        "                    in CSV, for the scripts that read it\n"
        "  --config FILE     read [report] (db, unit, lang) from FILE only, instead of\n"
        "                    /etc/tongxin/tongxin.conf and ~/.config/tongxin/tongxin.conf\n"
        "                    (see tongxin.conf(5)); the options win\n\n"
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

enum { OPT_DB = 1000, OPT_UNIT, OPT_FROM, OPT_TO, OPT_MONTH, OPT_FORMAT, OPT_EXCEL, OPT_OUT,
       OPT_QUIET, OPT_LANG, OPT_HELP, OPT_VERSION, OPT_CONFIG };

//  Messages in LANG ("zh" or "en") whatever the locale: Chinese through
//  LANGUAGE, which GNU gettext reads unless the messages' locale is "C";
//  English is the C locale's.  Our catalogue is read as UTF-8 whatever
//  LC_CTYPE says (the report is UTF-8 in every format).
static void
s_set_language (const char *lang)
{
    if (strcmp (lang, "en") == 0) {
        setlocale (LC_MESSAGES, "C");
        return;
    }
    setenv ("LANGUAGE", "zh_CN", 1);
    if (!setlocale (LC_MESSAGES, "zh_CN.UTF-8")) {
        const char *now = setlocale (LC_MESSAGES, NULL);
        if (!now || strcmp (now, "C") == 0 || strcmp (now, "POSIX") == 0)
            setlocale (LC_MESSAGES, "C.UTF-8");
    }
}

//  Is the language of the messages Chinese (the locale's, no --lang)?
static bool
s_locale_is_zh (void)
{
    const char *language = getenv ("LANGUAGE");
    const char *messages = setlocale (LC_MESSAGES, NULL);
    if (!messages || strcmp (messages, "C") == 0 || strcmp (messages, "POSIX") == 0)
        return false;
    if (language && *language)
        return strncmp (language, "zh", 2) == 0;
    return strncmp (messages, "zh", 2) == 0;
}

int
main (int argc, char **argv)
{
    const char *db_info = NULL, *out_path = NULL, *format = "table", *lang = NULL, *config = NULL;
    char month_from [16], month_to [16];
    bool excel = false, month = false;
    rpt_opts_t opts = { .quiet_days = 90 };
    const struct option lo [] = {
        { "db", required_argument, NULL, OPT_DB },
        { "unit", required_argument, NULL, OPT_UNIT },
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "month", required_argument, NULL, OPT_MONTH },
        { "lang", required_argument, NULL, OPT_LANG },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "excel", no_argument, NULL, OPT_EXCEL },
        { "out", required_argument, NULL, OPT_OUT },
        { "quiet-days", required_argument, NULL, OPT_QUIET },
        { "help", no_argument, NULL, OPT_HELP },
        { "version", no_argument, NULL, OPT_VERSION },
        { "config", required_argument, NULL, OPT_CONFIG },
        { 0 }
    };
    tx_i18n_init ();
    opterr = 0;
    int c;
    while ((c = getopt_long (argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
            case OPT_DB: db_info = optarg; break;
            case OPT_CONFIG: config = optarg; break;
            case OPT_UNIT:
                if (*optarg == 0 || strlen (optarg) > 200)
                    return s_usage_error (_("--unit needs a unit code or name (at most 200 bytes)"), NULL);
                opts.unit = optarg;
                break;
            case OPT_MONTH: {
                //  YYYY-MM: its first and last day.
                char day [16];
                snprintf (day, sizeof day, "%.7s-01", optarg);
                if (strlen (optarg) != 7 || !tx_lex_date (day, strlen (day)))
                    return s_usage_error (_("--month needs a month YYYY-MM, not"), optarg);
                int y = atoi (optarg), m = atoi (optarg + 5);
                static const int days [] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
                int last = days [m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
                snprintf (month_from, sizeof month_from, "%.7s-01", optarg);
                snprintf (month_to, sizeof month_to, "%.7s-%02d", optarg, last);
                month = true;
                break;
            }
            case OPT_LANG:
                if (strcmp (optarg, "zh") && strcmp (optarg, "en"))
                    return s_usage_error (_("--lang is zh or en, not"), optarg);
                lang = optarg;
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
    if (month && (opts.from || opts.to))
        return s_usage_error (_("--month goes without --from and --to"), NULL);
    if (month) {
        opts.from = month_from;
        opts.to = month_to;
    }
    if (opts.from && opts.to && strcmp (opts.from, opts.to) > 0)
        return s_usage_error (_("--from is after --to"), NULL);
    //  What the options left unset, from tongxin.conf's [report] (conf.h):
    //  db (TONGXIN_DB wins over the files), unit, lang.
    static tx_conf_t *conf;     //  its strings live as long as the program
    char cerr [600];
    if (tx_conf_load (&conf, config, cerr, sizeof cerr) != 0)
        return s_usage_error (cerr, NULL);
    if (!db_info)
        db_info = tx_conf_get (conf, "report.db");
    if (!opts.unit)
        opts.unit = tx_conf_get (conf, "report.unit");
    if (!lang && (lang = tx_conf_get (conf, "report.lang")) && strcmp (lang, "zh") && strcmp (lang, "en")) {
        snprintf (cerr, sizeof cerr, _("lang in %s is zh or en, not"), tx_conf_origin (conf, "report.lang"));
        return s_usage_error (cerr, lang);
    }
    //  The report's language: --lang's, else the locale's; the CSV speaks
    //  it only when asked (its English headings are for scripts).
    if (lang)
        s_set_language (lang);
    bind_textdomain_codeset (TX_TEXTDOMAIN, "UTF-8");
    opts.zh = lang ? strcmp (lang, "zh") == 0 : s_locale_is_zh ();
    opts.translate = lang != NULL;
    if (strcmp (format, "csv") == 0 && !lang)
        opts.zh = false;

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
