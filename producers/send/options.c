/*  options.c: tongxin-send's command line (see options.h).  */
#include "options.h"
#include "conf.h"
#include "output.h"
#include "send.h"
#include "lex.h"
#include "i18n.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_help (void)
{
    //  TRANSLATORS: keep the options (--unit ...), CODE, FILE, KEY and the
    //  JSON keys as they are; translate the words that describe them.
    fputs (_(
"usage: tongxin-send --unit CODE SECURITY [OPTIONS] --type TYPE --at TIME\n"
"           [--partner REGION] [--attr NAME[:KIND]=VALUE ...] [--id UUID]\n"
"           [--nth N]\n"
"       tongxin-send --unit CODE SECURITY [OPTIONS] FILE\n"
"where SECURITY is --key FILE --server-key KEY (CURVE) or --insecure.\n"
"\n"
"Send events to a Tongxin collector.  Each event is checked, written to a\n"
"local spool and sent from there; tongxin-send then waits until the collector\n"
"has stored or refused every one.  Events the collector has not acknowledged\n"
"stay in the spool and go out with the next tongxin-send on it.\n"
"\n"
"The collector stores the same content once: an event equal to one already\n"
"stored (same unit, type, time, partner and attributes), sent again by a\n"
"retyped command or a file imported twice, is answered \"already stored\"\n"
"and is no error.  The same content again on purpose, e.g. an identical\n"
"second meeting, is --nth 2 (\"nth\": 2 in a file), a third --nth 3.\n"
"\n"
"One event from flags:\n"
"  --type TYPE             event type code, as in the registry\n"
"  --at TIME               when it happened: ISO 8601 with Z or an offset,\n"
"                          e.g. 2025-04-01T05:00:00+08:00, 2025-03-31T21:00Z\n"
"  --partner REGION        partner region: 6-digit GB/T 2260 code\n"
"  --attr NAME=VALUE       an attribute; repeat for several.  VALUE is sent\n"
"                          as int if it is an integer of 64 bits, numeric if\n"
"                          another number (1.5, 2e3; exactly as written), bool\n"
"                          if true or false, date if YYYY-MM-DD, else as text\n"
"  --attr NAME:KIND=VALUE  force the kind: int, numeric, text, bool or date\n"
"                          (e.g. --attr code:text=007)\n"
"  --id UUID               the event id, a UUIDv7 (default: a new one);\n"
"                          sending again with the same id stores it once\n"
"  --nth N                 the same content again on purpose: an identical\n"
"                          second meeting is --nth 2, a third --nth 3\n"
"                          (1 to 65535; default 1, the first)\n"
"\n"
"Many events: FILE (- for standard input) holds one JSON object per line:\n"
"  {\"id\": UUIDv7, \"unit\": CODE, \"type\": TYPE, \"occurred_at\": TIME,\n"
"   \"partner\": REGION, \"attrs\": {NAME: VALUE, ...}, \"nth\": N}\n"
"  type and occurred_at are required; id, unit (default --unit), partner,\n"
"  attrs and nth (as --nth) are optional.  Values: integers, other numbers\n"
"  (sent exactly as written, never rounded: at most 64 characters; an\n"
"  integer past 64 bits is refused, write it as a string for a numeric\n"
"  attribute), strings, true/false.  Blank lines and a UTF-8 byte order mark\n"
"  are skipped; a FILE without events is said so, exit 0.\n"
"\n"
"Producer (each may be set once in tongxin.conf instead, see below):\n"
"  --unit CODE             this producer's unit (required)\n"
"  --key FILE              CURVE: the unit's secret key file\n"
"  --server-key KEY        CURVE: the collector's public key (.pub file or Z85)\n"
"  --insecure              plain transport, no CURVE (tests, closed networks)\n"
"  --endpoint E            collector endpoint; repeat for several (at most 16)\n"
"                          (default tcp://127.0.0.1:7450)\n"
"  --spool DIR             spool directory, created mode 0700 (default\n"
"                          $XDG_STATE_HOME/tongxin/spool/UNIT, else\n"
"                          ~/.local/state/tongxin/spool/UNIT)\n"
"  --spool-cap MB          most MiB the spool may hold (default 1024)\n"
"  --fsync-ms N            group fsync of the spool every N ms; 0: every event\n"
"                          (default 10)\n"
"  --wait SECONDS          wait at most this long for the collector's answers;\n"
"                          0: spool and exit (default 30)\n"
"  -q, --quiet             report only problems: no summary, no list of the\n"
"                          events already stored\n"
"  --config FILE           read the producer's settings from FILE only\n"
"  --help, --version\n"
"\n"
"The producer's settings (unit, key, server_key, endpoint, spool, spool_cap,\n"
"insecure) are read from /etc/tongxin/tongxin.conf, then\n"
"~/.config/tongxin/tongxin.conf, then TONGXIN_UNIT, TONGXIN_KEY, ... in the\n"
"environment; flags win.  So a unit set up once types\n"
"  tongxin-send --type visit --at 2025-04-01T10:00+08:00 --attr direction=inbound ...\n"
"See tongxin.conf(5).\n"
"\n"
"Every refused event is reported on stderr as LINE: CODE: message (LINE is\n"
"the input line, - for the flag form), in input order.  Then one line sums\n"
"up the run (3 events: 2 stored, 1 already stored on 2026-11-21), and each\n"
"event already stored is listed with the date and id of the stored one\n"
"(line 2: already stored on 2026-11-21 09:30 (id ...)).  Exit status: 0\n"
"every event stored or already stored (or none in FILE), 1 some refused,\n"
"2 usage error, 3 timed out waiting, 4 spool\n"
"full, 5 other error: the spool, the input, or the keys (the collector refused\n"
"the unit's key, no CURVE handshake succeeded: check --server-key); the\n"
"highest that applies.  See tongxin-send(1).\n"), stdout);
    fputs (_(
"\n"
"The registry (collectors of protocol revision 1.3):\n"
"  tongxin-send keeps the collector's registry of event types in the spool\n"
"  (registry.cache) and asks for it again when the copy is older than 10\n"
"  minutes.  With it, every event is checked by the collector's rules before\n"
"  it is spooled (the same codes, messages in your language), and a quoted\n"
"  number (\"12\" from a spreadsheet) is taken for an attribute the registry\n"
"  says is int or numeric.  Without one, values are sent as they are.\n"
"  --registry-refresh      ask the collector for its registry now (alone:\n"
"                          only that, and say which version is cached)\n"
"  --no-registry           no registry: no local checks, no conversion\n"), stdout);
}

static int s_usage (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static int
s_usage (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fputs ("tongxin-send: ", stderr);
    vfprintf (stderr, fmt, ap);
    fputs (_("\ntry 'tongxin-send --help'\n"), stderr);
    va_end (ap);
    return RC_USAGE;
}

//  A whole decimal number from min to max, nothing else.
static bool
s_parse_long (const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol (s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

enum { O_UNIT = 1000, O_TYPE, O_AT, O_PARTNER, O_ATTR, O_ID, O_ENDPOINT, O_SPOOL,
       O_SPOOL_CAP, O_FSYNC_MS, O_INSECURE, O_KEY, O_SERVER_KEY, O_WAIT, O_VERSION, O_NTH,
       O_CONFIG, O_REGISTRY_REFRESH, O_NO_REGISTRY };

//  One option c with its argument into args.  -1 to go on, or the exit code.
static int
s_option (int c, const char *arg, args_t *args)
{
    long v;
    switch (c) {
        case 'h':
            s_help ();
            return RC_OK;
        case O_VERSION:
            printf ("tongxin-send %s (libtongxin %d.%d, protocol %d)\n", TONGXIN_VERSION,
                    TONGXIN_VERSION_MAJOR, TONGXIN_VERSION_MINOR, TONGXIN_PROTOCOL_VERSION);
            return RC_OK;
        case O_UNIT:        args->unit = arg; break;
        case O_TYPE:        args->type = arg; break;
        case O_AT:          args->at = arg; break;
        case O_PARTNER:     args->partner = arg; break;
        case O_ID:          args->id = arg; break;
        case O_ATTR:        args->attrs [args->n_attrs++] = arg; break;
        case 'q':           args->quiet = true; break;
        case O_REGISTRY_REFRESH: args->registry_refresh = true; break;
        case O_NO_REGISTRY: args->no_registry = true; break;
        case O_NTH:
            if (!s_parse_long (arg, 1, TONGXIN_MAX_NTH, &v))
                return s_usage (_("--nth: '%s' is not a number from 1 to %d (2: the second identical "
                                "activity)"), arg, TONGXIN_MAX_NTH);
            args->nth = (unsigned) v;
            break;
        case O_SPOOL:
            if (!*arg)
                return s_usage (_("--spool: the directory name is empty"));
            args->spool = arg;
            break;
        case O_INSECURE:    args->insecure = true; break;
        case O_CONFIG:      args->config = arg; break;
        case O_KEY:         args->key_file = arg; break;
        case O_SERVER_KEY:  args->server_key = arg; break;
        case O_ENDPOINT:
            if (args->n_endpoints == MAX_ENDPOINTS)
                return s_usage (_("--endpoint: at most %d"), MAX_ENDPOINTS);
            args->endpoints [args->n_endpoints++] = arg;
            break;
        case O_SPOOL_CAP:
            if (!s_parse_long (arg, 1, 1L << 20, &v))
                return s_usage (_("--spool-cap: '%s' is not a number of MiB from 1 to 1048576"),
                                arg);
            args->spool_cap_mb = (uint64_t) v;
            break;
        case O_FSYNC_MS:
            if (!s_parse_long (arg, 0, 10000, &v))
                return s_usage (_("--fsync-ms: '%s' is not a number of ms from 0 to 10000"), arg);
            args->fsync_ms = (int) v;
            break;
        case O_WAIT:
            if (!s_parse_long (arg, 0, 2000000, &v))
                return s_usage (_("--wait: '%s' is not a number of seconds from 0 to 2000000"),
                                arg);
            args->wait_s = (int) v;
            break;
        default:
            return RC_USAGE;
    }
    return -1;
}

//  The configuration: what the flags left unset, from tongxin.conf and
//  TONGXIN_* (conf.h).  The transport (insecure, key, server_key) is taken
//  as a whole: from the flags if any of them is given, else from the
//  configuration.  -1 to go on, or the exit code after reporting.
static int
s_configure (args_t *args)
{
    static tx_conf_t *conf;     //  its strings live as long as the program
    char err [600];
    if (tx_conf_load (&conf, args->config, err, sizeof err))
        return s_usage ("%s", err);
    if (!args->unit)
        args->unit = tx_conf_get (conf, "unit");
    if (!args->spool)
        args->spool = tx_conf_get (conf, "spool");
    if (args->spool && !*args->spool)
        return s_usage (_("spool: the directory name is empty (%s)"), tx_conf_origin (conf, "spool"));
    const char *v = tx_conf_get (conf, "spool_cap");
    long n;
    if (!args->spool_cap_mb && v) {
        if (!s_parse_long (v, 1, 1L << 20, &n))
            return s_usage (_("spool_cap: '%s' is not a number of MiB from 1 to 1048576 (%s)"), v,
                            tx_conf_origin (conf, "spool_cap"));
        args->spool_cap_mb = (uint64_t) n;
    }
    if (!args->insecure && !args->key_file && !args->server_key) {
        args->key_file = tx_conf_get (conf, "key");
        args->server_key = tx_conf_get (conf, "server_key");
        v = tx_conf_get (conf, "insecure");
        if (v && strcmp (v, "true") != 0 && strcmp (v, "false") != 0)
            return s_usage (_("insecure: '%s' is neither true nor false (%s)"), v,
                            tx_conf_origin (conf, "insecure"));
        args->insecure = v && strcmp (v, "true") == 0;
    }
    v = tx_conf_get (conf, "endpoint");
    if (args->n_endpoints == 0 && v) {
        static char *list;
        free (list);
        if (!(list = strdup (v)))
            out_oom ();
        for (char *save = NULL, *e = strtok_r (list, ", \t", &save); e;
             e = strtok_r (NULL, ", \t", &save)) {
            if (args->n_endpoints == MAX_ENDPOINTS)
                return s_usage (_("endpoint: at most %d (%s)"), MAX_ENDPOINTS,
                                tx_conf_origin (conf, "endpoint"));
            args->endpoints [args->n_endpoints++] = e;
        }
    }
    return -1;
}

//  The options together: what is required, what excludes what.  -1 to go
//  on, or the exit code after reporting.
static int
s_check (args_t *args)
{
    if (!args->unit)
        return s_usage (_("--unit CODE is required (this producer's unit; or unit = CODE in "
                          "tongxin.conf)"));
    if (!tx_lex_unit_code (args->unit, strlen (args->unit)))
        return s_usage (_("--unit: bad unit code '%s': use 1-64 of a-z 0-9 . _ -, starting with a "
                        "letter or digit"), args->unit);
    bool flags = args->type || args->at || args->partner || args->id || args->n_attrs || args->nth;
    if (args->input && flags)
        return args->nth ? s_usage (_("give either FILE or one event's flags (--type, --at, --partner, "
                                      "--attr, --id, --nth), not both: in a FILE, give a line "
                                      "\"nth\": N"))
                         : s_usage (_("give either FILE or one event's flags (--type, --at, --partner, "
                                      "--attr, --id, --nth), not both"));
    if (args->registry_refresh && args->no_registry)
        return s_usage (_("--registry-refresh excludes --no-registry"));
    if (!args->input && !flags && !args->registry_refresh)
        return s_usage (_("nothing to send: give --type and --at for one event, or a FILE of JSON "
                        "lines (- for standard input)"));
    if (flags && !args->type)
        return s_usage (_("--type TYPE is required for an event given by flags"));
    if (flags && !args->at)
        return s_usage (_("--at TIME is required for an event given by flags"));
    if (args->insecure && (args->key_file || args->server_key))
        return s_usage (_("--insecure excludes --key and --server-key"));
    if (!args->insecure && !args->key_file && !args->server_key)
        return s_usage (_("choose CURVE (--key FILE --server-key KEY) or plain transport "
                        "(--insecure)"));
    if (args->key_file && !args->server_key)
        return s_usage (_("--key needs --server-key: the collector's public key, a .pub file or its "
                        "40-character Z85 text"));
    if (args->server_key && !args->key_file)
        return s_usage (_("--server-key needs --key: the secret key file of unit %s"), args->unit);
    if (args->n_endpoints == 0)
        args->endpoints [args->n_endpoints++] = "tcp://127.0.0.1:7450";
    return -1;
}

//  Fills args from argv.  Returns -1 to go on, or the exit code (after
//  --help, --version or a usage error).
int
options_parse (int argc, char **argv, args_t *args)
{
    static const struct option longopts [] = {
        { "unit", required_argument, NULL, O_UNIT },
        { "type", required_argument, NULL, O_TYPE },
        { "at", required_argument, NULL, O_AT },
        { "partner", required_argument, NULL, O_PARTNER },
        { "attr", required_argument, NULL, O_ATTR },
        { "id", required_argument, NULL, O_ID },
        { "nth", required_argument, NULL, O_NTH },
        { "endpoint", required_argument, NULL, O_ENDPOINT },
        { "spool", required_argument, NULL, O_SPOOL },
        { "spool-cap", required_argument, NULL, O_SPOOL_CAP },
        { "fsync-ms", required_argument, NULL, O_FSYNC_MS },
        { "insecure", no_argument, NULL, O_INSECURE },
        { "key", required_argument, NULL, O_KEY },
        { "server-key", required_argument, NULL, O_SERVER_KEY },
        { "wait", required_argument, NULL, O_WAIT },
        { "quiet", no_argument, NULL, 'q' },
        { "registry-refresh", no_argument, NULL, O_REGISTRY_REFRESH },
        { "no-registry", no_argument, NULL, O_NO_REGISTRY },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, O_VERSION },
        { "config", required_argument, NULL, O_CONFIG },
        { 0 }
    };
    memset (args, 0, sizeof *args);
    args->fsync_ms = 10;
    args->wait_s = 30;
    args->attrs = calloc ((size_t) argc, sizeof *args->attrs);
    if (!args->attrs)
        out_oom ();
    opterr = 0;
    int c, rc;
    while ((c = getopt_long (argc, argv, "hq", longopts, NULL)) != -1)
        if ((rc = s_option (c, optarg, args)) >= 0)
            return c == '?' || c == ':' ? s_usage (_("unknown option or missing value: %s"),
                                                  argv [optind - 1]) : rc;
    if (optind < argc)
        args->input = argv [optind++];
    if (optind < argc)
        return s_usage (_("unexpected argument '%s': give one FILE at most"), argv [optind]);
    if ((rc = s_configure (args)) >= 0)
        return rc;
    return s_check (args);
}
