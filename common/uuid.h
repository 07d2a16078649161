/*  uuid: UUIDv7 (RFC 9562) generation, text form and checks.

    Layout of the 16 bytes (big-endian):
      0..5   unix_ts_ms  48-bit milliseconds since 1970-01-01 UTC
      6      ver (0111) + rand_a bits 11..8
      7      rand_a bits 7..0
      8      var (10) + rand_b bits 61..56
      9..15  rand_b
    The generator uses rand_a as a 12-bit counter (RFC 9562 section 6.2,
    method 1): on a new millisecond it is seeded with a random value below
    2048; within the same millisecond it is incremented; if it overflows, or
    the clock went backwards, the timestamp is advanced by 1 ms past the last
    one issued.  So the ids of one generator are strictly increasing (as
    bytes, hence as PostgreSQL uuid values).  rand_b holds 62 bits from
    getrandom(2), fetched fresh for every id (no pooled randomness that a
    fork() could duplicate).

    Ownership: tx_uuid_gen_new() returns a generator the caller owns and
    frees with tx_uuid_gen_destroy(), which NULLs the pointer and is safe
    twice.  One generator may be shared by threads (it holds a mutex).
    The other functions allocate nothing and are thread-safe.
*/
#ifndef TX_UUID_H_INCLUDED
#define TX_UUID_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TX_UUID_LEN      16         //  bytes
#define TX_UUID_STR_LEN  36         //  "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
#define TX_UUID_STR_SIZE 37         //  with the NUL

typedef struct tx_uuid_gen_t tx_uuid_gen_t;     //  opaque

//  New generator, or NULL if out of memory.
tx_uuid_gen_t *tx_uuid_gen_new (void);

//  Frees the generator and sets *self_p to NULL.  Safe if *self_p is NULL.
void tx_uuid_gen_destroy (tx_uuid_gen_t **self_p);

//  Writes the next UUIDv7 (clock: CLOCK_REALTIME) into out.  Returns 0, or
//  -1 if getrandom(2) failed (errno set).
int tx_uuid_gen_next (tx_uuid_gen_t *self, uint8_t out [TX_UUID_LEN]);

//  The same with the caller's clock reading, in unix milliseconds (for tests
//  and for callers that already read the clock).  unix_ms must be below
//  2^48.  Returns 0 or -1 (getrandom failed, or unix_ms out of range).
int tx_uuid_gen_next_at (tx_uuid_gen_t *self, uint64_t unix_ms,
                         uint8_t out [TX_UUID_LEN]);

//  Parses the canonical 36-character form (hex digits in either case,
//  hyphens at 8, 13, 18, 23; nothing else, no braces, no "urn:uuid:").
//  text need not be NUL-terminated.  Returns 0, or -1 (out untouched).
int tx_uuid_parse (const char *text, size_t len, uint8_t out [TX_UUID_LEN]);

//  Writes the canonical lowercase form plus NUL into out.
void tx_uuid_format (const uint8_t id [TX_UUID_LEN], char out [TX_UUID_STR_SIZE]);

//  True if id has version 7 and variant 0b10.
bool tx_uuid_is_v7 (const uint8_t id [TX_UUID_LEN]);

//  The 48-bit unix millisecond timestamp of a UUIDv7 (not checked: call
//  tx_uuid_is_v7 first).
uint64_t tx_uuid_v7_ms (const uint8_t id [TX_UUID_LEN]);

#ifdef __cplusplus
}
#endif

#endif
