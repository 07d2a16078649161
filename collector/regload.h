/*  regload: the collector's registry snapshot, loaded from PostgreSQL in
 *  one read-only transaction (common/registry.h holds the snapshot, its
 *  lookups and its encoding for producers).
 */
#ifndef TX_REGLOAD_H_INCLUDED
#define TX_REGLOAD_H_INCLUDED

#include <libpq-fe.h>
#include <stddef.h>

#include "registry.h"

//  Loads a snapshot over DB (which must be idle) and seals it.  Returns it
//  with one reference, or NULL with a reason in err.
tx_registry_t *tx_registry_load (PGconn *db, char *err, size_t errlen);

#endif
