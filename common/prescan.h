/*  prescan: allocation-free structural check of raw msgpack bytes.

    msgpack-c 4.0's C unpacker allocates n * 24 bytes for an array (48 per
    map pair) as soon as it reads the container header, before any element
    arrives, and has no size limit: the 5 bytes `df 04 00 00 00` cost 4 GB.
    It also returns SUCCESS with bytes left over.  tx_prescan() walks the
    bytes first, iteratively (a small counter stack, no recursion, no
    malloc) and accepts the buffer only if:

      - it holds exactly one complete msgpack object and nothing after it;
      - no container announces more elements than bytes remain: the sum of
        all elements announced and not yet read, across every open
        container, never exceeds the bytes left (each element needs at
        least one byte).  This implies array count <= bytes left and map
        count * 2 <= bytes left;
      - every str/bin/ext payload fits in the bytes left;
      - containers nest at most lim->max_depth deep (the root container is
        depth 1; a valid Tongxin message needs 4);
      - at most lim->max_items objects in total (every scalar, container,
        map key and map value counts one);
      - the reserved byte 0xc1 does not occur as a type byte.

    After it passes, msgpack_unpack_next() on the same bytes returns SUCCESS
    with off == len, and its zone holds at most about 24 bytes per item.

    Ownership: nothing is allocated or retained; the caller owns buf, lim and
    info.  All functions are thread-safe.
*/
#ifndef TX_PRESCAN_H_INCLUDED
#define TX_PRESCAN_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Defaults for the wire protocol.  A maximal valid batch has about 142
//  objects per event (6 keys, 6 values, 64 attribute pairs) times 1000
//  events, so 2^18 items leave room while capping the zone at ~6 MB.
#define TX_PRESCAN_DEFAULT_DEPTH   8
#define TX_PRESCAN_DEFAULT_ITEMS   262144
//  Hard ceiling on max_depth: msgpack-c itself fails above 32 levels.
#define TX_PRESCAN_DEPTH_CAP       32

typedef struct {
    uint32_t max_depth;             //  nesting limit; 0 = default; capped at 32
    uint32_t max_items;             //  total object limit; 0 = default
} tx_prescan_limits_t;

typedef enum {
    TX_PRESCAN_OK = 0,              //  passed
    TX_PRESCAN_EMPTY,               //  zero-length buffer
    TX_PRESCAN_TRUNCATED,           //  a header or fixed-size value runs past the end
    TX_PRESCAN_TRAILING,            //  bytes left after the first complete object
    TX_PRESCAN_RESERVED,            //  type byte 0xc1
    TX_PRESCAN_DEPTH,               //  containers nested deeper than max_depth
    TX_PRESCAN_ITEMS,               //  more than max_items objects
    TX_PRESCAN_COUNT,               //  containers announce more elements than bytes remain
    TX_PRESCAN_LENGTH               //  str/bin/ext length larger than the bytes remaining
} tx_prescan_reason_t;

typedef struct {
    tx_prescan_reason_t reason;     //  why it failed, TX_PRESCAN_OK if it passed
    size_t offset;                  //  offset of the offending type byte (or len)
    size_t items;                   //  objects seen (all of them if it passed)
    uint32_t depth;                 //  deepest container nesting seen
} tx_prescan_info_t;

//  Checks buf[0..len) as described above.  Returns 0 if it passes, -1 if not.
//  lim may be NULL (defaults); info_out may be NULL.
int tx_prescan (const uint8_t *buf, size_t len, const tx_prescan_limits_t *lim,
                tx_prescan_info_t *info_out);

//  Stable English text for a reason ("trailing bytes", ...); never NULL.
const char *tx_prescan_reason_str (tx_prescan_reason_t reason);

//  Advances *off past the one complete msgpack object that starts at
//  buf[*off].  Bounds-checked (returns -1 and leaves *off unchanged if the
//  object runs past len or holds 0xc1) but applies no depth or item limits;
//  meant for buffers that already passed tx_prescan().  Returns 0 on success.
int tx_prescan_skip (const uint8_t *buf, size_t len, size_t *off);

#ifdef __cplusplus
}
#endif

#endif
