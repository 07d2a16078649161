/*  tongxin-desk: see desk.h and docs/desk.md.  */
#include "desk.h"
#include "auth.h"
#include "http.h"
#include "i18n.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

const char *
desk_tr (const desk_t *desk, const char *lang, const char *msgid)
{
    return strcmp (lang, "en") == 0 ? msgid : desk_catalog_get (desk->zh, msgid);
}

static void
s_on_result (void *arg, const tongxin_result_t *res)
{
    desk_t *desk = arg;
    char id [37], original [37] = "";
    tongxin_id_format (res->id, id);
    desk_state_t state = res->verdict == TONGXIN_STORED ? DESK_STORED
                       : res->verdict == TONGXIN_DUPLICATE ? DESK_DUPLICATE : DESK_REFUSED;
    if (res->has_original)
        tongxin_id_format (res->original, original);
    desk_reports_verdict (desk->reports, id, state, res->code, res->msg, original,
                          res->has_original ? res->original_received_us : 0);
}

static int
s_mkdirs (const char *path)
{
    char buf [4096];
    snprintf (buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir (buf, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir (buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int
s_passwd (desk_opts_t *opts, const char *user)
{
    char password [1024] = "";
    bool tty = isatty (0);
    struct termios old, quiet;
    if (tty) {
        fprintf (stderr, _("Password for %s: "), user);
        tcgetattr (0, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t) ECHO;
        tcsetattr (0, TCSANOW, &quiet);
    }
    if (!fgets (password, sizeof password, stdin))
        password [0] = 0;
    if (tty) {
        tcsetattr (0, TCSANOW, &old);
        fputc ('\n', stderr);
    }
    password [strcspn (password, "\r\n")] = 0;
    char dir [4096], err [512];
    snprintf (dir, sizeof dir, "%s", opts->users);
    char *slash = strrchr (dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        s_mkdirs (dir);
    }
    int rc = desk_auth_passwd (opts->users, user, password, err, sizeof err);
    if (rc != 0) {
        fprintf (stderr, "tongxin-desk: %s\n", err);
        return 1;
    }
    fprintf (stderr, *password ? _("tongxin-desk: password set for %s in %s\n")
                               : _("tongxin-desk: %s removed from %s\n"), user, opts->users);
    return 0;
}

//  Serves until SIGTERM or SIGINT (set).  The exit code; desk's parts are
//  freed by the caller whatever happened.
static int
s_serve (desk_t *desk, sigset_t *set)
{
    desk_opts_t *o = &desk->opts;
    char err [512];
    if (s_mkdirs (o->data) != 0) {
        fprintf (stderr, "tongxin-desk: %s: %s\n", o->data, strerror (errno));
        return 1;
    }
    //  Times on the page are the organisation's: the process's zone is it
    //  (the registry's, once it comes, unless configured).
    setenv ("TZ", o->timezone ? o->timezone : "Asia/Shanghai", 1);
    tzset ();
    desk_registry_init (desk);

    desk->zh = desk_catalog_load ("zh_CN", err, sizeof err);
    if (!desk->zh)
        tx_log (TX_LOG_WARN, "no Chinese messages: the page is in English", "err=%s", tx_log_q (err));
    desk->reports = desk_reports_open (o->data, err, sizeof err);
    desk->auth = desk_auth_new (o->users);
    if (!desk->reports || !desk->auth) {
        fprintf (stderr, "tongxin-desk: %s\n", desk->reports ? "libsodium" : err);
        return 1;
    }
    //  The page first: a LAN address without users is refused before the
    //  spool is opened.
    if (desk_http_start (desk, err, sizeof err) != 0) {
        fprintf (stderr, "tongxin-desk: %s\n", err);
        return 1;
    }
    static const char *eps [DESK_MAX_ENDPOINTS];
    size_t n_eps = 0;
    char *save = NULL;
    desk->endpoints = strdup (o->endpoint);
    for (char *e = strtok_r (desk->endpoints, ", ", &save); e && n_eps < DESK_MAX_ENDPOINTS;
         e = strtok_r (NULL, ", ", &save))
        eps [n_eps++] = e;
    desk->popts = (tongxin_opts_t) {
        .endpoints = eps, .n_endpoints = n_eps, .unit = o->unit, .spool_dir = o->spool,
        .insecure = o->insecure, .key_file = o->key, .server_key = o->server_key,
        .on_result = s_on_result, .result_arg = desk, .ack_timeout_ms = 3000
    };
    desk->producer = tongxin_new (&desk->popts, err, sizeof err);
    if (!desk->producer || desk_registry_start (desk, err, sizeof err) != 0) {
        fprintf (stderr, "tongxin-desk: %s\n", err);
        return 1;
    }
    //  From here on the process's own messages are log lines; what people
    //  read is translated per request (desk_tr).
    tx_i18n_reset ();
    tx_log (TX_LOG_INFO, "listening", "url=http://%s unit=%s login=%s", o->listen, o->unit,
            desk->login ? "required" : "none");
    if (desk->port)
        tx_log (TX_LOG_INFO, "port", "port=%d", desk->port);
    sd_notify (0, "READY=1");
    int sig = 0;
    sigwait (set, &sig);
    tx_log (TX_LOG_INFO, "stopping", "signal=%d", sig);
    sd_notify (0, "STOPPING=1");
    return 0;
}

int
main (int argc, char **argv)
{
    tx_i18n_init ();
    //  Blocked before any thread starts: only sigwait sees them.
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    pthread_sigmask (SIG_BLOCK, &set, NULL);
    desk_t desk = { .link = TONGXIN_LINK_CONNECTING };
    desk_opts_t *o = &desk.opts;
    int first, rc;
    if (desk_options (o, argc, argv, &first) != 0)
        rc = 2;
    else
    if (first < argc) {
        if (strcmp (argv [first], "passwd") == 0 && first + 2 == argc)
            rc = s_passwd (o, argv [first + 1]);
        else {
            fprintf (stderr, _("usage: tongxin-desk [OPTIONS] | tongxin-desk passwd USER\n"));
            rc = 2;
        }
    }
    else
    if (!o->unit || (!o->insecure && (!o->key || !o->server_key)) || !o->endpoint) {
        fprintf (stderr, _("tongxin-desk: give unit, endpoint, key and server_key "
                           "(in the configuration file or as flags)\n"));
        rc = 2;
    }
    else
        rc = s_serve (&desk, &set);
    desk_http_stop ();
    desk_registry_stop (&desk);
    tongxin_destroy (&desk.producer);
    desk_reports_destroy (&desk.reports);
    desk_auth_destroy (&desk.auth);
    desk_catalog_destroy (&desk.zh);
    json_decref (desk.registry);
    free (desk.registry_text);
    free (desk.endpoints);
    desk_options_free (o);
    return rc;
}
