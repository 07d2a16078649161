/*  conf: the producers' one configuration file (tongxin.conf(5)).
 *
 *  A unit writes once where it is, who it is and whom it sends to, and
 *  every producer program reads it: tongxin-send, tongxin-desk and
 *  tongxin-report.  An INI file (libinih):
 *
 *      unit       = xiangyang-township
 *      key        = /etc/tongxin/unit.key        # this unit's secret key file
 *      server_key = /etc/tongxin/collector.key.pub
 *      endpoint   = tcp://collector.example:7450, tcp://backup.example:7450
 *      [report]
 *      db         = service=tongxin
 *      [desk]
 *      listen     = 127.0.0.1:8450
 *
 *  Where values come from, the later winning:
 *    1. /etc/tongxin/tongxin.conf (if it exists),
 *    2. $XDG_CONFIG_HOME/tongxin/tongxin.conf, by default
 *       ~/.config/tongxin/tongxin.conf (if it exists);
 *       instead of 1 and 2, only the file given to tx_conf_load (--config
 *       FILE) or named by $TONGXIN_CONFIG, which must exist;
 *    3. the environment: TONGXIN_<KEY> for a key of the top section
 *       (TONGXIN_UNIT, TONGXIN_SERVER_KEY, ...) and TONGXIN_<SECTION>_<KEY>
 *       for the others (TONGXIN_DESK_LISTEN); TONGXIN_DB is report.db;
 *    4. the program's flags, which the caller applies last.
 *
 *  Every section accepts only its keys (conf.c; a misspelt key is an error
 *  that names its line, for every program that reads the file).  A
 *  relative path (key, server_key when it is a file, spool, desk.users,
 *  desk.data) is relative to the directory of the file that says it.  A file that others may
 *  write is refused: it says which key files and collector to trust.
 */
#ifndef TX_CONF_H_INCLUDED
#define TX_CONF_H_INCLUDED

#include <stddef.h>

typedef struct tx_conf_t tx_conf_t;

//  Reads the configuration (above).  path: the one file to read, or NULL
//  for the default places.  Returns 0 with *conf_p set (empty when no file
//  exists), or -1 with a message naming the file and line in err.
int tx_conf_load (tx_conf_t **conf_p, const char *path, char *err, size_t errlen);

//  The value of key ("unit", "endpoint", "report.db", "desk.listen"), or
//  NULL if no file or variable sets it.  Lives as long as conf.
const char *tx_conf_get (const tx_conf_t *conf, const char *key);

//  Where the value of key came from ("/etc/tongxin/tongxin.conf",
//  "TONGXIN_UNIT"), for messages; NULL if unset.
const char *tx_conf_origin (const tx_conf_t *conf, const char *key);

void tx_conf_destroy (tx_conf_t **conf_p);

#endif
