/*  config.c: the settings table, INI files (libinih) and flags.
 *
 *  What a person reads (--help, --check-config, errors in the settings) is
 *  in the language of the locale (i18n.h); the keys, the values and the
 *  example config (--print-config-example, shipped as
 *  systemd/collectord.conf.example and written by tongxin-admin setup)
 *  stay English in every locale, so the shipped file is what it prints.
 */
#include "config.h"
#include "i18n.h"
#include "wire.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_STR, T_BOOL, T_INT, T_LIST, T_ENUM } type_t;

typedef struct {
    const char *name;               //  key and flag name
    type_t type;
    size_t offset;                  //  into tx_config_t
    const char *def;                //  default, as text
    long min, max;                  //  T_INT bounds
    const char *help;               //  one line (a msgid: --help translates it)
} option_t;

//  The allowed values of each T_ENUM option, NULL-terminated.
static const char *const s_log_levels [] = { "debug", "info", "warn", "error", NULL };
static const struct {
    const char *name;
    const char *const *choices;
} s_enums [] = {
    { "log-level", s_log_levels },
};

#define OFF(f) offsetof (tx_config_t, f)
static const option_t s_options [] = {
    { "db", T_STR, OFF (db), NULL, 0, 0,
      N_("libpq connection string; default $TONGXIN_DB, then libpq's defaults") },
    { "bind", T_LIST, OFF (binds), "tcp://*:7450", 0, 0,
      N_("ZeroMQ endpoint to listen on (tcp:// or ipc://); repeat for several") },
    { "insecure", T_BOOL, OFF (insecure), "false", 0, 0,
      N_("plain transport without authentication (tests only)") },
    { "key", T_STR, OFF (key), NULL, 0, 0,
      N_("the collector's CURVE secret key file, e.g. /etc/tongxin/collector.key (tongxin-admin setup or key server)") },
    { "metrics", T_STR, OFF (metrics), "", 0, 0,
      N_("serve /metrics and /healthz on [ADDR:]PORT (ADDR defaults to 127.0.0.1; empty = off)") },
    { "group-events", T_INT, OFF (group_events), "5000", 1, 100000,
      N_("most events written in one transaction") },
    { "group-ms", T_INT, OFF (group_ms), "0", 0, 10000,
      N_("longest wait (ms) for more batches before a transaction is written; 0: write what is queued at once (what arrives meanwhile forms the next group)") },
    { "writers", T_INT, OFF (writers), "2", 1, 16,
      N_("database connections writing groups in parallel (one commits while another writes)") },
    { "fold-ms", T_INT, OFF (fold_ms), "1000", 0, 600000,
      N_("ms between folds of stored events into the analytics rollup tables, on a connection of its own (the views count unfolded events all the same); 0: this collector does not fold") },
    { "queue-mb", T_INT, OFF (queue_mb), "16", 1, 4096,
      N_("memory (MiB) of received batches waiting for the writer; past it, reading stops") },
    { "peer-hwm", T_INT, OFF (peer_hwm), "16", 1, 100000,
      N_("messages queued per producer connection before ZeroMQ stops reading it (a producer keeps at most 16 batches in flight)") },
    { "handshake-timeout", T_INT, OFF (handshake_timeout), "5", 1, 300,
      N_("seconds a connection may take to complete its CURVE handshake before it is closed") },
    { "max-handshaking", T_INT, OFF (max_handshaking), "1024", 4, 1000000,
      N_("most connections still in their handshake; past it the oldest is closed (lowered to half the open-files limit left after 64 for the collector itself)") },
    { "registry-refresh", T_INT, OFF (registry_refresh), "30", 1, 86400,
      N_("seconds between reloads of units, types and keys (also on SIGHUP)") },
    { "max-skew", T_INT, OFF (max_skew), "300", 0, 86400 * 365,
      N_("seconds an event's time may be ahead of the collector's clock") },
    { "drain-timeout", T_INT, OFF (drain_timeout), "10", 0, 3600,
      N_("seconds to commit and acknowledge what is held on SIGTERM") },
    { "rejected-budget", T_INT, OFF (rejected_budget), "1024", 0, 1048576,
      N_("KiB of refusals one sender may add to rejected_events per minute; past it refusals are answered and counted but not kept (0: no limit)") },
    { "rejected-prefix", T_INT, OFF (rejected_prefix), "4096", 64, 1048640,
      N_("bytes kept of a refused whole message (with its length and SHA-256)") },
    { "log-level", T_ENUM, OFF (log_level), "info", 0, 0,
      N_("debug, info, warn or error") },
    { "zap-domain", T_STR, OFF (zap_domain), "tongxin", 0, 0,
      N_("ZAP domain of the CURVE handshake") },
    { "name", T_STR, OFF (name), "", 0, 0,
      N_("this collector's name in tongxin.producer_status (empty: the host name)") },
    { "status-flush-ms", T_INT, OFF (status_flush_ms), "60000", 100, 3600000,
      N_("milliseconds between writes of what producers told (tongxin.producer_status): each unit's row at most once per interval") },
    { "status-silent-days", T_INT, OFF (status_silent_days), "7", 1, 3650,
      N_("metrics: a unit is silent when no event of it arrived for this many days") },
    { "status-backlog-hours", T_INT, OFF (status_backlog_hours), "24", 1, 87600,
      N_("metrics: a unit's backlog is old when its oldest waiting event was spooled this many hours ago") },
};
#define NOPTIONS (int) (sizeof s_options / sizeof s_options [0])

static const option_t *
s_find (const char *name)
{
    for (int i = 0; i < NOPTIONS; i++)
        if (strcmp (s_options [i].name, name) == 0)
            return &s_options [i];
    return NULL;
}

//  Sets one option from text; returns 0 or -1 with a reason in err.
static int
s_set (tx_config_t *cfg, const option_t *o, const char *value, char *err, size_t errlen)
{
    char *base = (char *) cfg + o->offset;
    switch (o->type) {
        case T_ENUM: {
            const char *const *choices = NULL;
            for (size_t e = 0; e < sizeof s_enums / sizeof s_enums [0]; e++)
                if (strcmp (s_enums [e].name, o->name) == 0)
                    choices = s_enums [e].choices;
            assert (choices);
            int i = 0;
            while (choices [i] && strcmp (choices [i], value) != 0)
                i++;
            if (!choices [i]) {
                size_t n = (size_t) snprintf (err, errlen, _("%s: '%s' is not one of"), o->name, value);
                for (i = 0; choices [i] && n < errlen; i++)
                    n += (size_t) snprintf (err + n, errlen - n, "%s %s", i ? "," : "", choices [i]);
                return -1;
            }
            char **p = (char **) base;
            free (*p);
            *p = strdup (value);
            return 0;
        }
        case T_STR: {
            char **p = (char **) base;
            free (*p);
            *p = strdup (value);
            return 0;
        }
        case T_BOOL:
            if (strcmp (value, "true") == 0 || strcmp (value, "yes") == 0 || strcmp (value, "1") == 0)
                *(bool *) base = true;
            else
            if (strcmp (value, "false") == 0 || strcmp (value, "no") == 0 || strcmp (value, "0") == 0)
                *(bool *) base = false;
            else {
                snprintf (err, errlen, _("%s: '%s' is not a boolean (true or false)"), o->name, value);
                return -1;
            }
            return 0;
        case T_INT: {
            char *end;
            errno = 0;
            long v = strtol (value, &end, 10);
            if (errno || end == value || *end || v < o->min || v > o->max) {
                snprintf (err, errlen, _("%s: '%s' is not an integer from %ld to %ld"),
                          o->name, value, o->min, o->max);
                return -1;
            }
            *(int *) base = (int) v;
            return 0;
        }
        case T_LIST:
            if (cfg->n_binds >= TX_CONFIG_MAX_BINDS) {
                snprintf (err, errlen, _("%s: at most %d"), o->name, TX_CONFIG_MAX_BINDS);
                return -1;
            }
            cfg->binds [cfg->n_binds++] = strdup (value);
            return 0;
    }
    return -1;
}

typedef struct {
    tx_config_t *cfg;
    char err [256];
    bool binds_from_file;
} ini_ctx_t;

static int
s_ini_handler (void *user, const char *section, const char *name, const char *value)
{
    ini_ctx_t *ctx = user;
    if (*section && strcmp (section, "collector") != 0) {
        snprintf (ctx->err, sizeof ctx->err, _("unknown section [%s]"), section);
        return 0;
    }
    const option_t *o = s_find (name);
    if (!o || strcmp (name, "config") == 0) {
        snprintf (ctx->err, sizeof ctx->err, _("unknown key '%s'"), name);
        return 0;
    }
    if (o->type == T_LIST && !ctx->binds_from_file) {
        //  The file's binds replace the default.
        for (int i = 0; i < ctx->cfg->n_binds; i++)
            free (ctx->cfg->binds [i]);
        ctx->cfg->n_binds = 0;
        ctx->binds_from_file = true;
    }
    return s_set (ctx->cfg, o, value, ctx->err, sizeof ctx->err) == 0;
}

//  "  --flag ARG               description" (the flag in 24 columns).
static void
s_help_line (const char *flag, const char *text)
{
    if (*text)
        printf ("  %-24s %s\n", flag, text);
    else
        printf ("  %s\n", flag);
}

static void
s_help (void)
{
    fputs (_("usage: tongxin-collectord [--config FILE] [--KEY VALUE ...]\n\n"
             "Receive event batches from Tongxin producers over ZeroMQ, validate them\n"
             "against the registry in PostgreSQL, store them, acknowledge after commit.\n\n"), stdout);
    s_help_line ("--config FILE", _("read settings from an INI file (flags override it)"));
    for (int i = 0; i < NOPTIONS; i++) {
        const option_t *o = &s_options [i];
        char flag [64];
        snprintf (flag, sizeof flag, "--%s%s", o->name,
                  o->type == T_BOOL ? "" : o->type == T_INT ? " N" : " VALUE");
        char line [512];
        if (o->def && *o->def && o->type != T_BOOL)
            snprintf (line, sizeof line, _("%s (default %s)"), _(o->help), o->def);
        else
            snprintf (line, sizeof line, "%s", _(o->help));
        s_help_line (flag, line);
    }
    s_help_line ("--check-config", _("check the configuration and exit (0 if it is valid)"));
    s_help_line ("--print-config-example", _("print a commented config file with every key"));
    s_help_line ("--help, --version", "");
    fputs ("\n", stdout);
    fputs (_("CURVE is the default: the collector refuses to start without --key or\n"
             "--insecure.  Signals: SIGTERM/SIGINT drain and exit, SIGHUP reloads the\n"
             "registry and keys.  See tongxin-collectord(8).\n"), stdout);
}

void
tx_config_write_example (FILE *out)
{
    fprintf (out, "# tongxin-collectord configuration (INI).  Every key is also a flag:\n"
                  "# key = value here is --key value on the command line, which wins.\n"
                  "# Unknown keys are errors.  Booleans: true/false.\n"
                  "[collector]\n");
    for (int i = 0; i < NOPTIONS; i++) {
        const option_t *o = &s_options [i];
        fprintf (out, "\n# %s", o->help);       //  English, as the shipped file
        if (o->type == T_INT)
            fprintf (out, " (%ld..%ld)", o->min, o->max);
        fprintf (out, "\n# %s = %s\n", o->name, o->def ? o->def : "");
    }
}

void
tx_config_print_example (void)
{
    tx_config_write_example (stdout);
}

int
tx_config_load (tx_config_t *cfg, int argc, char **argv)
{
    memset (cfg, 0, sizeof *cfg);
    char err [256];
    for (int i = 0; i < NOPTIONS; i++)
        if (s_options [i].def && s_set (cfg, &s_options [i], s_options [i].def, err, sizeof err) != 0)
            return -1;
    if (!cfg->db) {
        const char *env = getenv ("TONGXIN_DB");
        cfg->db = strdup (env ? env : "");
    }
    //  Flags: every option, plus config/help/version.
    struct option longopts [NOPTIONS + 6];
    for (int i = 0; i < NOPTIONS; i++)
        longopts [i] = (struct option) { s_options [i].name,
            s_options [i].type == T_BOOL ? optional_argument : required_argument, NULL, 1000 + i };
    longopts [NOPTIONS] = (struct option) { "config", required_argument, NULL, 'c' };
    longopts [NOPTIONS + 1] = (struct option) { "help", no_argument, NULL, 'h' };
    longopts [NOPTIONS + 2] = (struct option) { "version", no_argument, NULL, 'V' };
    longopts [NOPTIONS + 3] = (struct option) { "print-config-example", no_argument, NULL, 'E' };
    longopts [NOPTIONS + 4] = (struct option) { "check-config", no_argument, NULL, 'C' };
    longopts [NOPTIONS + 5] = (struct option) { 0 };
    bool check_only = false;

    //  First pass: --config, --help, --version.
    const char *file = NULL;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long (argc, argv, "hc:", longopts, NULL)) != -1) {
        if (c == 'h') {
            s_help ();
            return 1;
        }
        if (c == 'V') {
            printf ("tongxin-collectord %s (protocol %d)\n", TONGXIN_VERSION, TX_WIRE_VERSION);
            return 1;
        }
        if (c == 'E') {
            tx_config_print_example ();
            return 1;
        }
        if (c == 'c')
            file = optarg;
        if (c == 'C')
            check_only = true;
        if (c == '?') {
            fprintf (stderr, _("tongxin-collectord: unknown option or missing value: %s\n"
                               "try tongxin-collectord --help\n"), argv [optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr, _("tongxin-collectord: unexpected argument '%s'\n"), argv [optind]);
        return -1;
    }
    if (file) {
        ini_ctx_t ctx = { cfg, "", false };
        int line = ini_parse (file, s_ini_handler, &ctx);
        if (line < 0) {
            fprintf (stderr, _("tongxin-collectord: %s: cannot read: %s\n"), file,
                     line == -1 ? strerror (errno) : _("out of memory"));
            return -1;
        }
        if (line > 0) {
            fprintf (stderr, "tongxin-collectord: %s:%d: %s\n", file, line,
                     *ctx.err ? ctx.err : _("syntax error"));
            return -1;
        }
    }
    //  Second pass: the flags override the file.
    bool binds_from_flags = false;
    optind = 1;
    while ((c = getopt_long (argc, argv, "hc:", longopts, NULL)) != -1) {
        if (c < 1000)
            continue;
        const option_t *o = &s_options [c - 1000];
        if (o->type == T_LIST && !binds_from_flags) {
            for (int i = 0; i < cfg->n_binds; i++)
                free (cfg->binds [i]);
            cfg->n_binds = 0;
            binds_from_flags = true;
        }
        if (s_set (cfg, o, optarg ? optarg : "true", err, sizeof err) != 0) {
            fprintf (stderr, "tongxin-collectord: --%s\n", err);
            return -1;
        }
    }
    if (!cfg->insecure && (!cfg->key || !*cfg->key)) {
        fprintf (stderr, "%s", _("tongxin-collectord: CURVE is the default and needs --key FILE "
                                 "(tongxin-admin key server); use --insecure only for tests\n"));
        return -1;
    }
    if (cfg->n_binds == 0) {
        fprintf (stderr, "%s", _("tongxin-collectord: no --bind endpoint\n"));
        return -1;
    }
    if (check_only) {
        fputs (_("configuration ok\n"), stdout);
        return 1;
    }
    return 0;
}

void
tx_config_free (tx_config_t *cfg)
{
    free (cfg->db);
    for (int i = 0; i < cfg->n_binds; i++)
        free (cfg->binds [i]);
    free (cfg->key);
    free (cfg->metrics);
    free (cfg->log_level);
    free (cfg->zap_domain);
    free (cfg->name);
    memset (cfg, 0, sizeof *cfg);
}
