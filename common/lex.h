/*  lex: lexical rules shared by the collector, the producers and the tools.

    Each rule of docs/protocol.md's string content lives here once: unit
    codes (unit-code-text), region codes (region-code-text), dates
    (date-text, a valid calendar date), numbers (decimal-text) and the
    times a person writes (RFC 3339 / ISO 8601 with an offset).

    Numbers.  The protocol's decimal-text (docs/protocol.md 7) is the JSON
    number syntax (RFC 8259) in at most 64 bytes whose value fits a binary64.
    A producer sends a number exactly as it was written or refuses it, and
    the collector accepts exactly what a producer may send: both ask
    tx_lex_number, so the rule lives here once.

    Nothing is allocated; s need not be NUL-terminated (len gives its
    bytes).  Thread-safe.
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

//  True if s[0..len) is a unit code: unit-code-text, 1 to 64 of a-z 0-9
//  . _ - starting with a letter or a digit.  (Codes of the registry and of
//  the CLIs; the wire's unit field is checked for form by wire.c and for
//  registration by the collector.)
#define TX_LEX_MAX_CODE 64      //  bytes of a unit code
bool tx_lex_unit_code (const char *s, size_t len);

//  True if s[0..len) is a region code: region-code-text, 6 ASCII digits
//  (GB/T 2260).
bool tx_lex_region (const char *s, size_t len);

//  True if s[0..len) has the shape of date-text, NNNN-NN-NN (valid or not).
bool tx_lex_date_shaped (const char *s, size_t len);

//  True if s[0..len) is date-text and a valid proleptic Gregorian date in
//  the years 0001 to 9999 (2024-02-29 yes, 2023-02-29 no).
bool tx_lex_date (const char *s, size_t len);

//  Why tx_lex_time refused a text.
typedef enum {
    TX_TIME_OK = 0,
    TX_TIME_SYNTAX,             //  not a date and time of the forms below
    TX_TIME_NO_CLOCK,           //  a date alone, without a time of day
    TX_TIME_NO_OFFSET,          //  no Z and no UTC offset
    TX_TIME_BAD_OFFSET,         //  an offset beyond 23:59
    TX_TIME_BAD_DATE,           //  no such date (2025-02-30)
    TX_TIME_BAD_CLOCK,          //  no such time of day (24:00, 12:60)
    TX_TIME_LEAP_SECOND         //  second 60: a leap second, which unix time cannot hold
} tx_time_t;

//  Parses a date and time with Z or a UTC offset, RFC 3339 and the ISO 8601
//  forms people write: 2025-04-01T05:00:00+08:00, 2025-03-31T21:00Z,
//  2025-03-31 21:00:00.123z; seconds and fraction optional (fraction after
//  '.' or ','), offset as +HH:MM, +HHMM or +HH.  On TX_TIME_OK *us (may be
//  NULL) receives unix microseconds; digits past the 6th are truncated.
tx_time_t tx_lex_time (const char *s, size_t len, int64_t *us);
#endif
