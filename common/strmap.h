/*  strmap: a small open-addressing hash map from byte strings to pointers,
 *  for read-mostly tables (the collector's registry snapshot).
 *
 *  Keys are copied; values are borrowed (the caller owns them).  Not
 *  thread-safe for writers; any number of readers may use a map nobody
 *  writes.
 */
#ifndef TX_STRMAP_H_INCLUDED
#define TX_STRMAP_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef struct tx_strmap_t tx_strmap_t;

//  New empty map, or NULL if out of memory.
tx_strmap_t *tx_strmap_new (void);

//  Frees the map and its key copies (not the values); NULLs *self_p.
void tx_strmap_destroy (tx_strmap_t **self_p);

//  Inserts or replaces key[0..len) -> value.  0, or -1 if out of memory.
int tx_strmap_put (tx_strmap_t *self, const char *key, size_t len, void *value);

//  The value for key[0..len), or NULL.
void *tx_strmap_get (const tx_strmap_t *self, const char *key, size_t len);

//  The map's hash of key[0..len) (FNV-1a, 64 bits), for other small tables.
uint64_t tx_strmap_hash (const char *key, size_t len);

//  Number of keys.
size_t tx_strmap_size (const tx_strmap_t *self);

#endif
