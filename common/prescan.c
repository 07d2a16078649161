/*  prescan: allocation-free structural check of raw msgpack bytes
    (see prescan.h).  */

#include "prescan.h"

#include <stdbool.h>

//  What one type byte plus its length field announce.
typedef struct {
    size_t head;                    //  bytes of type byte + length field
    uint64_t payload;               //  bytes of payload that follow the head
    uint64_t children;              //  objects that follow (array n, map 2n)
    bool container;                 //  array or map
} s_head_t;

static uint64_t
s_load_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p [i];
    return v;
}

//  Reads the head of the object at buf[off].  Returns TX_PRESCAN_OK,
//  TX_PRESCAN_TRUNCATED (head runs past len) or TX_PRESCAN_RESERVED.
//  off < len on entry.
static tx_prescan_reason_t
s_read_head (const uint8_t *buf, size_t len, size_t off, s_head_t *h)
{
    uint8_t b = buf [off];
    size_t lenbytes = 0;            //  size of a big-endian length field
    uint64_t fixed = 0;             //  payload size when there is no length field
    int kind = 0;                   //  0 scalar, 1 str/bin, 2 ext, 3 array, 4 map

    h->head = 1;
    h->payload = 0;
    h->children = 0;
    h->container = false;

    if (b <= 0x7f || b >= 0xe0)     //  positive / negative fixint
        return TX_PRESCAN_OK;
    if (b <= 0x8f) {                //  fixmap
        h->children = 2 * (uint64_t) (b & 0x0f);
        h->container = true;
        return TX_PRESCAN_OK;
    }
    if (b <= 0x9f) {                //  fixarray
        h->children = b & 0x0f;
        h->container = true;
        return TX_PRESCAN_OK;
    }
    if (b <= 0xbf) {                //  fixstr
        h->payload = b & 0x1f;
        return TX_PRESCAN_OK;
    }
    switch (b) {
        case 0xc0: case 0xc2: case 0xc3:            //  nil, false, true
            return TX_PRESCAN_OK;
        case 0xc1:
            return TX_PRESCAN_RESERVED;
        case 0xc4: lenbytes = 1; kind = 1; break;   //  bin 8/16/32
        case 0xc5: lenbytes = 2; kind = 1; break;
        case 0xc6: lenbytes = 4; kind = 1; break;
        case 0xc7: lenbytes = 1; kind = 2; break;   //  ext 8/16/32
        case 0xc8: lenbytes = 2; kind = 2; break;
        case 0xc9: lenbytes = 4; kind = 2; break;
        case 0xca: fixed = 4; break;                //  float 32/64
        case 0xcb: fixed = 8; break;
        case 0xcc: case 0xd0: fixed = 1; break;     //  (u)int 8/16/32/64
        case 0xcd: case 0xd1: fixed = 2; break;
        case 0xce: case 0xd2: fixed = 4; break;
        case 0xcf: case 0xd3: fixed = 8; break;
        case 0xd4: fixed = 2; break;                //  fixext 1/2/4/8/16 + type
        case 0xd5: fixed = 3; break;
        case 0xd6: fixed = 5; break;
        case 0xd7: fixed = 9; break;
        case 0xd8: fixed = 17; break;
        case 0xd9: lenbytes = 1; kind = 1; break;   //  str 8/16/32
        case 0xda: lenbytes = 2; kind = 1; break;
        case 0xdb: lenbytes = 4; kind = 1; break;
        case 0xdc: lenbytes = 2; kind = 3; break;   //  array 16/32
        case 0xdd: lenbytes = 4; kind = 3; break;
        case 0xde: lenbytes = 2; kind = 4; break;   //  map 16/32
        case 0xdf: lenbytes = 4; kind = 4; break;
        default:   return TX_PRESCAN_RESERVED;      //  not reached
    }
    if (lenbytes == 0) {
        //  Fixed-size value: a short one is truncated, not "too long".
        if (fixed > len - off - 1)
            return TX_PRESCAN_TRUNCATED;
        h->payload = fixed;
        return TX_PRESCAN_OK;
    }
    if (lenbytes > len - off - 1)
        return TX_PRESCAN_TRUNCATED;
    uint64_t n = s_load_be (buf + off + 1, lenbytes);
    h->head = 1 + lenbytes;
    switch (kind) {
        case 1: h->payload = n; break;
        case 2: h->payload = n + 1; break;          //  + the ext type byte
        case 3: h->children = n; h->container = true; break;
        default: h->children = 2 * n; h->container = true; break;
    }
    return TX_PRESCAN_OK;
}

static void
s_info (tx_prescan_info_t *info, tx_prescan_reason_t reason, size_t offset,
        size_t items, uint32_t depth)
{
    if (info) {
        info->reason = reason;
        info->offset = offset;
        info->items = items;
        info->depth = depth;
    }
}

int
tx_prescan (const uint8_t *buf, size_t len, const tx_prescan_limits_t *lim,
            tx_prescan_info_t *info_out)
{
    uint32_t max_depth = TX_PRESCAN_DEFAULT_DEPTH;
    uint32_t max_items = TX_PRESCAN_DEFAULT_ITEMS;
    if (lim && lim->max_depth)
        max_depth = lim->max_depth;
    if (lim && lim->max_items)
        max_items = lim->max_items;
    if (max_depth > TX_PRESCAN_DEPTH_CAP)
        max_depth = TX_PRESCAN_DEPTH_CAP;

    //  left [d] = elements still to read in the open container at depth d+1.
    uint64_t left [TX_PRESCAN_DEPTH_CAP];
    uint32_t sp = 0;                //  open containers
    uint32_t deepest = 0;
    uint64_t pending = 0;           //  sum of left [0..sp)
    size_t items = 0;
    size_t off = 0;

    if (buf == NULL || len == 0) {
        s_info (info_out, TX_PRESCAN_EMPTY, 0, 0, 0);
        return -1;
    }
    for (;;) {
        if (off >= len) {
            s_info (info_out, TX_PRESCAN_TRUNCATED, off, items, deepest);
            return -1;
        }
        if (++items > max_items) {
            s_info (info_out, TX_PRESCAN_ITEMS, off, items - 1, deepest);
            return -1;
        }
        if (sp > 0) {
            left [sp - 1]--;
            pending--;
        }
        s_head_t h;
        tx_prescan_reason_t r = s_read_head (buf, len, off, &h);
        if (r != TX_PRESCAN_OK) {
            s_info (info_out, r, off, items, deepest);
            return -1;
        }
        size_t rest = len - off - h.head;   //  bytes after the head
        if (h.container) {
            if (sp + 1 > max_depth) {
                s_info (info_out, TX_PRESCAN_DEPTH, off, items, deepest);
                return -1;
            }
            //  pending <= len < 2^64 and children < 2^33: no overflow.
            if (pending + h.children > rest) {
                s_info (info_out, TX_PRESCAN_COUNT, off, items, deepest);
                return -1;
            }
            off += h.head;
            if (sp + 1 > deepest)
                deepest = sp + 1;
            if (h.children > 0) {
                left [sp++] = h.children;
                pending += h.children;
                continue;
            }
        }
        else {
            if (h.payload > rest) {
                s_info (info_out, TX_PRESCAN_LENGTH, off, items, deepest);
                return -1;
            }
            off += h.head + (size_t) h.payload;
        }
        //  One object complete: close every container that is now full.
        while (sp > 0 && left [sp - 1] == 0)
            sp--;
        if (sp == 0)
            break;
    }
    if (off != len) {
        s_info (info_out, TX_PRESCAN_TRAILING, off, items, deepest);
        return -1;
    }
    s_info (info_out, TX_PRESCAN_OK, off, items, deepest);
    return 0;
}

int
tx_prescan_skip (const uint8_t *buf, size_t len, size_t *off)
{
    size_t pos = *off;
    uint64_t pending = 1;           //  objects still to skip
    if (buf == NULL)
        return -1;
    while (pending > 0) {
        if (pos >= len)
            return -1;
        s_head_t h;
        if (s_read_head (buf, len, pos, &h) != TX_PRESCAN_OK)
            return -1;
        size_t rest = len - pos - h.head;
        pending--;
        if (h.container) {
            if (pending + h.children > rest)
                return -1;
            pending += h.children;
            pos += h.head;
        }
        else {
            if (h.payload > rest)
                return -1;
            pos += h.head + (size_t) h.payload;
        }
    }
    *off = pos;
    return 0;
}

const char *
tx_prescan_reason_str (tx_prescan_reason_t reason)
{
    switch (reason) {
        case TX_PRESCAN_OK:        return "ok";
        case TX_PRESCAN_EMPTY:     return "empty message";
        case TX_PRESCAN_TRUNCATED: return "truncated";
        case TX_PRESCAN_TRAILING:  return "trailing bytes after the object";
        case TX_PRESCAN_RESERVED:  return "reserved type byte 0xc1";
        case TX_PRESCAN_DEPTH:     return "nesting too deep";
        case TX_PRESCAN_ITEMS:     return "too many items";
        case TX_PRESCAN_COUNT:     return "container claims more elements than bytes remain";
        case TX_PRESCAN_LENGTH:    return "string/bin/ext length exceeds the bytes remaining";
    }
    return "unknown reason";
}
