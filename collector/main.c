/*  tongxin-collectord: receive, validate and store Tongxin events.
 *
 *  main() reads the configuration and runs the server (collector/server.c):
 *  writer thread (collector/writer.c), ZAP thread and receive loop.
 */
#include "config.h"
#include "server.h"

int
main (int argc, char **argv)
{
    tx_config_t cfg;
    int rc = tx_config_load (&cfg, argc, argv);
    if (rc != 0) {
        tx_config_free (&cfg);
        return rc > 0 ? 0 : 2;
    }
    rc = tx_server_run (&cfg);
    tx_config_free (&cfg);
    return rc;
}
