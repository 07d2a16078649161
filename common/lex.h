/*  lex: lexical rules shared by the collector and the producers.

    Numbers.  The protocol's decimal-text (docs/protocol.md 7) is the JSON
    number syntax (RFC 8259) in at most 64 bytes whose value fits a binary64.
    A producer sends a number exactly as it was written or refuses it, and
    the collector accepts exactly what a producer may send: both ask
    tx_lex_number, so the rule lives here once.

    Nothing is allocated; s need not be NUL-terminated.  Thread-safe.
*/
#ifndef TX_LEX_H_INCLUDED
#define TX_LEX_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TX_LEX_MAX_DECIMAL 64   //  bytes of a decimal-text

typedef enum {
    TX_NUM_INT,                 //  an integer (no fraction, no exponent) within int64
    TX_NUM_DECIMAL,             //  a decimal-text with a fraction or an exponent
    TX_NUM_BIG_INT,             //  an integer outside int64; as a decimal-text it is valid
    TX_NUM_SYNTAX,              //  not the JSON number syntax
    TX_NUM_TOO_LONG,            //  the syntax, but over TX_LEX_MAX_DECIMAL bytes
    TX_NUM_RANGE                //  the syntax, but beyond binary64 (overflow or underflow)
} tx_num_t;

//  True if s[0..len) has the JSON number syntax, whatever its length:
//  -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool tx_lex_json_number (const char *s, size_t len);

//  Classifies s[0..len), checked in the order of the enum's refusals:
//  syntax, then int64 (TX_NUM_INT, the value in *i), then length, then
//  binary64 range.  For TX_NUM_INT, TX_NUM_DECIMAL and TX_NUM_BIG_INT, *d
//  (may be NULL) receives the nearest binary64, for range checks only; i
//  may be NULL.  The C locale is used whatever the process's locale.
tx_num_t tx_lex_number (const char *s, size_t len, int64_t *i, double *d);

//  True for the kinds that are a valid decimal-text (INT, DECIMAL, BIG_INT).
bool tx_lex_is_decimal (tx_num_t kind);

#endif
