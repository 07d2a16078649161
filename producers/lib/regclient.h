/*  regclient: libtongxin's registry (tongxin.h, "registry"), shared by
 *  regclient.c (fetch, cache) and producer.c (checks on events).
 */
#ifndef TX_REGCLIENT_H_INCLUDED
#define TX_REGCLIENT_H_INCLUDED

#include "registry.h"

struct tongxin_registry_t {
    tx_registry_t *reg;         //  one reference, sealed
};

#define TX_REGCLIENT_CACHE "registry.cache"     //  in the spool directory

#endif
