/*  tongxin-collectord: receive, validate and store Tongxin events.
 *
 *  main() reads the configuration, raises the open-file limit and runs the
 *  server (collector/server.c): writer threads (collector/writer.c), ZAP
 *  thread (collector/zap.c) and receive loop.
 *
 *  Language: what an operator reads on the terminal (--help, the check of
 *  the configuration, its errors) follows the locale (i18n.h).  Log lines
 *  do not: they are key=value records for journald, grep and alerting
 *  rules, whose msg= texts are matched by scripts and documented in
 *  docs/operations.md, so they are English in every locale, and so are
 *  the libraries' texts they quote (err= from libpq, strerror).
 */
#include <sys/resource.h>

#include "config.h"
#include "i18n.h"
#include "log.h"
#include "server.h"

//  Every connected producer holds one descriptor of the collector.  The
//  soft limit is often 1024 where the hard one is far higher; raise the
//  soft one to the hard one, as most daemons do, and say what it is.
//  (Past the limit libzmq cannot accept: producers wait in the backlog.)
static void
s_raise_nofile (void)
{
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t was = rl.rlim_cur;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = was;
    }
    tx_log (rl.rlim_cur < 4096 ? TX_LOG_WARN : TX_LOG_INFO, "open files limit",
            "nofile=%llu was=%llu hint=\"one per connected producer; LimitNOFILE= or ulimit -n\"",
            (unsigned long long) rl.rlim_cur, (unsigned long long) was);
}

int
main (int argc, char **argv)
{
    tx_i18n_init ();
    tx_config_t cfg;
    int rc = tx_config_load (&cfg, argc, argv);
    if (rc != 0) {
        tx_config_free (&cfg);
        return rc > 0 ? 0 : 2;
    }
    tx_i18n_reset ();                   //  from here on: log lines
    int level = tx_log_level_parse (cfg.log_level);
    if (level >= 0)
        tx_log_set_level (level);       //  the server refuses a bad one
    s_raise_nofile ();
    rc = tx_server_run (&cfg);
    tx_config_free (&cfg);
    return rc;
}
