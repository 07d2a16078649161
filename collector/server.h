/*  server: the collector's network side.  It owns the ZeroMQ context, the
 *  ROUTER producers connect to, the ZAP handler thread that authenticates
 *  their CURVE keys against the registry, and the receive loop: frames in,
 *  pre-scan and decode, validate, hand jobs to the writer; acks from the
 *  writer out to the producers.
 */
#ifndef TX_SERVER_H_INCLUDED
#define TX_SERVER_H_INCLUDED

#include <signal.h>

#include "config.h"

//  Runs the collector until SIGTERM/SIGINT; returns the exit code.
int tx_server_run (const tx_config_t *cfg);

#endif
