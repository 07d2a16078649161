/*  regbody: the registry body a collector on DB would send producers (its
 *  canonical msgpack, as libtongxin caches it), written to FILE: the
 *  desk's --registry in tests, where no registry request is made.
 *
 *  Usage: regbody CONNINFO FILE
 */
#include "regload.h"

#include <stdio.h>

int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "usage: regbody CONNINFO FILE\n");
        return 2;
    }
    PGconn *db = PQconnectdb (argv [1]);
    if (PQstatus (db) != CONNECTION_OK) {
        fprintf (stderr, "regbody: %s", PQerrorMessage (db));
        return 1;
    }
    char err [256];
    tx_registry_t *reg = tx_registry_load (db, err, sizeof err);
    PQfinish (db);
    if (!reg) {
        fprintf (stderr, "regbody: %s\n", err);
        return 1;
    }
    size_t len;
    const uint8_t *body = tx_registry_body (reg, &len);
    FILE *f = fopen (argv [2], "wb");
    int rc = f && fwrite (body, 1, len, f) == len && fclose (f) == 0 ? 0 : 1;
    tx_registry_unref (&reg);
    return rc;
}
