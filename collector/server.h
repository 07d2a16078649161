/*  server: the collector's network side and its run.  It owns the ZeroMQ
 *  context and the ROUTER producers connect to, and runs the receive loop:
 *  frames in, decode (wire.h), validate (validate.h) and encode the rows
 *  (copyrow.h), hand jobs to the writer (writer.h); acks from the writer
 *  out to the producers; the ROUTER's connection events (monitor.h);
 *  SIGHUP, the systemd watchdog.  Around the loop it starts, in order, the
 *  registry holder and the writer (the database first), the ZAP handler
 *  (zap.h, before the ROUTER binds), the ROUTER; and stops them, draining
 *  what the writer holds.
 */
#ifndef TX_SERVER_H_INCLUDED
#define TX_SERVER_H_INCLUDED

#include <signal.h>

#include "config.h"

//  Runs the collector until SIGTERM/SIGINT; returns the exit code.
int tx_server_run (const tx_config_t *cfg);

#endif
