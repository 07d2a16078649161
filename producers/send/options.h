/*  options: tongxin-send's command line (tongxin-send(1)), parsed and
    checked for consistency; --help and --version.  The event's own flags
    (--type, --at, --attr ...) are kept as text for flags.c.
*/
#ifndef OPTIONS_H_INCLUDED
#define OPTIONS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_ENDPOINTS   16              //  as tongxin_opts_t allows

typedef struct {
    const char *unit;                   //  --unit: the producer's unit
    const char *endpoints [MAX_ENDPOINTS];  //  --endpoint, in order
    size_t n_endpoints;
    const char *spool;                  //  --spool, NULL: the default
    uint64_t spool_cap_mb;              //  --spool-cap, 0: the library's (1 GiB)
    int fsync_ms;                       //  --fsync-ms
    bool insecure;                      //  --insecure
    const char *key_file;               //  --key
    const char *server_key;             //  --server-key
    int wait_s;                         //  --wait, 0: do not wait
    bool quiet;                         //  -q, --quiet: no summary, no list of duplicates
    const char *type;                   //  --type  (one event from flags)
    const char *at;                     //  --at
    const char *partner;                //  --partner
    const char *id;                     //  --id
    unsigned nth;                       //  --nth, 0: not given (the first)
    const char **attrs;                 //  --attr, n_attrs of them (argv strings; array owned)
    size_t n_attrs;
    const char *input;                  //  FILE, "-" for stdin; NULL in the flag form
    const char *config;                 //  --config FILE, NULL: the default places (conf.h)
    bool registry_refresh;              //  --registry-refresh: ask the collector now
    bool no_registry;                   //  --no-registry: no local checks, no conversion
} args_t;

//  Fills args from argv (strings borrowed from argv; args->attrs is the
//  caller's to free, also on failure).  Returns -1 to go on, or the exit
//  code (after --help, --version or a usage error, reported).
int options_parse (int argc, char **argv, args_t *args);

#endif
