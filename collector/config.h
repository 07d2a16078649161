/*  config: the collector's settings, one table for the config file and the
 *  command line.  Every key of the INI file is also a flag (--KEY VALUE);
 *  flags override the file.  Unknown keys and bad values are errors that
 *  name the file and line (or the flag).
 */
#ifndef TX_CONFIG_H_INCLUDED
#define TX_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TX_CONFIG_MAX_BINDS 8

typedef struct {
    char *db;                       //  libpq conninfo ("" = libpq defaults)
    char *binds [TX_CONFIG_MAX_BINDS];  //  ZeroMQ endpoints to bind
    int n_binds;
    bool insecure;                  //  plain transport, no authentication
    char *key;                      //  the server's CURVE secret key file
    char *metrics;                  //  ADDR:PORT or PORT for /metrics and /healthz ("" = off)
    int group_events;               //  max events per transaction
    int group_ms;                   //  max wait to fill a group
    int writers;                    //  database connections writing groups in parallel
    int fold_ms;                    //  ms between rollup folds (0: each transaction folds)
    int queue_mb;                   //  bound on memory queued for the writer
    int peer_hwm;                   //  per-producer receive high-water mark (messages)
    int handshake_timeout;          //  seconds a handshake may take
    int max_handshaking;            //  connections allowed in their handshake at once
    int registry_refresh;           //  seconds between registry reloads
    int max_skew;                   //  seconds an event's time may be ahead of ours
    int drain_timeout;              //  seconds to finish up on SIGTERM
    int rejected_budget;            //  KiB of refusals kept per sender per minute (0 = no limit)
    int rejected_prefix;            //  bytes kept of a refused whole message
    char *log_level;                //  debug, info, warn, error
    char *zap_domain;               //  ZAP domain
    char *name;                     //  this collector in tongxin.producer_status ("" = host name)
    int status_flush_ms;            //  producer_status written every this often (status.h)
    int status_silent_days;         //  gauge: units without an event for this many days
    int status_backlog_hours;       //  gauge: units with reports waiting longer than this
} tx_config_t;

//  Fills cfg from defaults, then --config FILE (if given), then the other
//  flags.  Returns 0; 1 after printing --help or --version (exit 0); -1 on
//  an error (printed on stderr; exit 2).
int tx_config_load (tx_config_t *cfg, int argc, char **argv);

//  Frees the strings.
void tx_config_free (tx_config_t *cfg);

//  Writes the documented example config (every key, commented) to stdout,
//  or to OUT (tongxin-admin setup starts /etc/tongxin/collectord.conf from it).
void tx_config_print_example (void);
void tx_config_write_example (FILE *out);

#endif
