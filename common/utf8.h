/*  utf8: strict UTF-8 validation.

    Every string that arrives on the wire (codes, attribute names and values,
    reply messages) must be well-formed UTF-8 as defined by RFC 3629 /
    Unicode 15 Table 3-7, with one extra rule of Tongxin's: no NUL (U+0000),
    because PostgreSQL text and jsonb refuse it.  Refused: overlong forms
    (c0 80, e0 80 80, ...), UTF-16 surrogates (U+D800..U+DFFF, ed a0 80),
    code points above U+10FFFF (f4 90 80 80, f5..ff), stray continuation
    bytes and truncated sequences.

    Ownership: nothing is allocated; every function only reads `s`, which
    need not be NUL-terminated.  All functions are thread-safe.
*/
#ifndef TX_UTF8_H_INCLUDED
#define TX_UTF8_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

//  True if s[0..len) is valid UTF-8 without NUL.  len 0 is valid.
bool tx_utf8_valid(const char *s, size_t len);

//  Number of code points in s[0..len), or -1 if it is not valid (same rules
//  as tx_utf8_valid).
ssize_t tx_utf8_count(const char *s, size_t len);

//  Length of the longest prefix of s[0..len) that is at most max bytes and
//  does not end inside a multi-byte sequence.  s must be valid UTF-8; used to
//  cut text to a byte limit without producing an invalid tail.
size_t tx_utf8_prefix(const char *s, size_t len, size_t max);

#ifdef __cplusplus
}
#endif

#endif
