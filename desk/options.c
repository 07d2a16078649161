/*  options: tongxin-desk's command line and configuration file.
 *
 *  The producers' one configuration (tongxin.conf(5), common/conf.h):
 *  unit, key, server_key, endpoint, spool, insecure at the top, and the
 *  desk's own keys in its [desk] section (listen, users, data, timezone; TONGXIN_DESK_LISTEN ...).  Flags win.
 */
#include "desk.h"
#include "conf.h"
#include "i18n.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_help (void)
{
    //  TRANSLATORS: keep the options, FILE, ADDR:PORT, USER as they are.
    fputs (_(
"usage: tongxin-desk [--config FILE] [OPTIONS]\n"
"       tongxin-desk [--config FILE] [--users FILE] passwd USER\n"
"\n"
"A unit's desk for reports: a web page where clerks submit reports, import\n"
"spreadsheets and see what became of each.  Reports are written to a local\n"
"spool and sent to the collector from there; offline, they wait.\n"
"\n"
"  --config FILE       read the settings from FILE only (default: tongxin.conf,\n"
"                      see tongxin.conf(5); keys as the options below,\n"
"                      the desk's in its [desk] section)\n"
"  --unit CODE         this unit's code\n"
"  --key FILE          the unit's secret key file\n"
"  --server-key KEY    the collector's public key (a .pub file or Z85 text)\n"
"  --endpoint EP[,EP]  the collector(s), e.g. tcp://collector:7450\n"
"  --insecure          no CURVE (tests only)\n"
"  --spool DIR         the spool directory (default DATA/spool)\n"
"  --listen ADDR:PORT  where the page is served (default 127.0.0.1:8450);\n"
"                      any address but loopback requires users (passwd)\n"
"  --users FILE        the users file (default DATA/users)\n"
"  --data DIR          the desk's journal (default ~/.local/share/tongxin-desk)\n"
"  --timezone ZONE     the organisation's time zone (default Asia/Shanghai)\n"
"\n"
"passwd USER reads a password from standard input and sets it for USER in\n"
"the users file (hashed with Argon2id); an empty password removes USER.\n"), stdout);
}

static void
s_set (char **slot, const char *value)
{
    free (*slot);
    *slot = value ? strdup (value) : NULL;
}

//  What the flags left unset, from tongxin.conf and TONGXIN_* (conf.h).
//  The transport (insecure, key, server_key) is taken as a whole: from the
//  flags if any of them is given, else from the configuration.
static int
s_configure (desk_opts_t *o)
{
    tx_conf_t *conf = NULL;
    char err [600];
    if (tx_conf_load (&conf, o->config, err, sizeof err) != 0) {
        fprintf (stderr, "tongxin-desk: %s\n", err);
        return -1;
    }
    static const struct { const char *key; size_t off; } keys [] = {
        { "unit", offsetof (desk_opts_t, unit) },
        { "endpoint", offsetof (desk_opts_t, endpoint) },
        { "spool", offsetof (desk_opts_t, spool) },
        { "desk.listen", offsetof (desk_opts_t, listen) },
        { "desk.users", offsetof (desk_opts_t, users) },
        { "desk.data", offsetof (desk_opts_t, data) },
        { "desk.timezone", offsetof (desk_opts_t, timezone) },
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys [0]; i++) {
        char **slot = (char **) ((char *) o + keys [i].off);
        if (!*slot)
            s_set (slot, tx_conf_get (conf, keys [i].key));
    }
    int rc = 0;
    if (!o->insecure && !o->key && !o->server_key) {
        s_set (&o->key, tx_conf_get (conf, "key"));
        s_set (&o->server_key, tx_conf_get (conf, "server_key"));
        const char *v = tx_conf_get (conf, "insecure");
        if (v && strcmp (v, "true") != 0 && strcmp (v, "false") != 0) {
            fprintf (stderr, _("tongxin-desk: insecure: '%s' is neither true nor false (%s)\n"), v,
                     tx_conf_origin (conf, "insecure"));
            rc = -1;
        }
        o->insecure = v && strcmp (v, "true") == 0;
    }
    tx_conf_destroy (&conf);
    return rc;
}

int
desk_options (desk_opts_t *o, int argc, char **argv, int *first_operand)
{
    enum { O_UNIT = 1, O_KEY, O_SKEY, O_EP, O_SPOOL, O_LISTEN, O_USERS, O_DATA, O_TZ,
           O_INSECURE, O_CONFIG, O_HELP };
    static const struct option longs [] = {
        { "unit", 1, 0, O_UNIT }, { "key", 1, 0, O_KEY }, { "server-key", 1, 0, O_SKEY },
        { "endpoint", 1, 0, O_EP }, { "spool", 1, 0, O_SPOOL }, { "listen", 1, 0, O_LISTEN },
        { "users", 1, 0, O_USERS }, { "data", 1, 0, O_DATA },
        { "timezone", 1, 0, O_TZ }, { "insecure", 0, 0, O_INSECURE }, { "config", 1, 0, O_CONFIG },
        { "help", 0, 0, O_HELP }, { 0, 0, 0, 0 }
    };
    optind = 1;
    int c;
    while ((c = getopt_long (argc, argv, "+h", longs, NULL)) != -1) {
        switch (c) {
            case O_UNIT:     s_set (&o->unit, optarg); break;
            case O_KEY:      s_set (&o->key, optarg); break;
            case O_SKEY:     s_set (&o->server_key, optarg); break;
            case O_EP:       s_set (&o->endpoint, optarg); break;
            case O_SPOOL:    s_set (&o->spool, optarg); break;
            case O_LISTEN:   s_set (&o->listen, optarg); break;
            case O_USERS:    s_set (&o->users, optarg); break;
            case O_DATA:     s_set (&o->data, optarg); break;
            case O_TZ:       s_set (&o->timezone, optarg); break;
            case O_INSECURE: o->insecure = true; break;
            case O_CONFIG:   s_set (&o->config, optarg); break;
            case 'h':
            case O_HELP:     s_help (); exit (0);
            default:
                fprintf (stderr, _("Try 'tongxin-desk --help'.\n"));
                return -1;
        }
    }
    *first_operand = optind;
    if (s_configure (o) != 0)
        return -1;
    if (!o->data) {
        const char *home = getenv ("HOME");
        char buf [4096];
        snprintf (buf, sizeof buf, "%s/.local/share/tongxin-desk", home && *home ? home : ".");
        s_set (&o->data, buf);
    }
    if (!o->users) {
        char buf [4096];
        snprintf (buf, sizeof buf, "%s/users", o->data);
        s_set (&o->users, buf);
    }
    if (!o->spool) {
        char buf [4096];
        snprintf (buf, sizeof buf, "%s/spool", o->data);
        s_set (&o->spool, buf);
    }
    if (!o->listen)
        s_set (&o->listen, DESK_DEFAULT_LISTEN);
    return 0;
}

void
desk_options_free (desk_opts_t *o)
{
    free (o->config); free (o->unit); free (o->key); free (o->server_key); free (o->endpoint);
    free (o->spool); free (o->listen); free (o->users); free (o->data);
    free (o->timezone);
    memset (o, 0, sizeof *o);
}
