/*  utf8: strict UTF-8 validation (see utf8.h).  */

#include "utf8.h"

#include <stdint.h>
#include <string.h>

//  Decodes one sequence at s[i..len); returns its length (1..4) or 0 if the
//  bytes there are not a valid, non-NUL scalar value.  The ranges are those
//  of Unicode Table 3-7 "Well-Formed UTF-8 Byte Sequences".
static size_t
s_seq_len (const uint8_t *s, size_t i, size_t len)
{
    uint8_t b = s [i];
    size_t left = len - i;
    if (b >= 0x01 && b <= 0x7f)
        return 1;
    if (b >= 0xc2 && b <= 0xdf) {
        if (left < 2 || (s [i + 1] & 0xc0) != 0x80)
            return 0;
        return 2;
    }
    if (b >= 0xe0 && b <= 0xef) {
        if (left < 3)
            return 0;
        uint8_t lo = 0x80, hi = 0xbf;
        if (b == 0xe0)
            lo = 0xa0;              //  no overlongs below U+0800
        else
        if (b == 0xed)
            hi = 0x9f;              //  no surrogates U+D800..U+DFFF
        if (s [i + 1] < lo || s [i + 1] > hi || (s [i + 2] & 0xc0) != 0x80)
            return 0;
        return 3;
    }
    if (b >= 0xf0 && b <= 0xf4) {
        if (left < 4)
            return 0;
        uint8_t lo = 0x80, hi = 0xbf;
        if (b == 0xf0)
            lo = 0x90;              //  no overlongs below U+10000
        else
        if (b == 0xf4)
            hi = 0x8f;              //  nothing above U+10FFFF
        if (s [i + 1] < lo || s [i + 1] > hi
        || (s [i + 2] & 0xc0) != 0x80 || (s [i + 3] & 0xc0) != 0x80)
            return 0;
        return 4;
    }
    return 0;                       //  00, 80..c1, f5..ff
}

//  True if the 8 bytes at p are all ASCII and none is NUL.
static inline bool
s_ascii8 (const uint8_t *p)
{
    uint64_t v;
    memcpy (&v, p, 8);
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t highs = 0x8080808080808080ULL;
    //  (v - ones) & ~v & highs is nonzero iff some byte is zero.
    return (v & highs) == 0 && ((v - ones) & ~v & highs) == 0;
}

ssize_t
tx_utf8_count (const char *s, size_t len)
{
    const uint8_t *u = (const uint8_t *) s;
    size_t i = 0;
    ssize_t count = 0;
    while (i < len) {
        if (len - i >= 8 && s_ascii8 (u + i)) {
            i += 8;
            count += 8;
            continue;
        }
        size_t n = s_seq_len (u, i, len);
        if (n == 0)
            return -1;
        i += n;
        count++;
    }
    return count;
}

bool
tx_utf8_valid (const char *s, size_t len)
{
    return tx_utf8_count (s, len) >= 0;
}

size_t
tx_utf8_prefix (const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    //  Back up over continuation bytes to the start of the cut sequence.
    while (n > 0 && ((uint8_t) s [n] & 0xc0) == 0x80)
        n--;
    return n;
}
