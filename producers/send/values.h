/*  values: turning what a person wrote into an event's values, for both
    forms of input (flags and JSON lines): times, ids, and numbers exactly
    as written (the rules themselves are common/lex.c's and libtongxin's).
    Every function reports what it refuses (out_invalid) and returns -1.
*/
#ifndef VALUES_H_INCLUDED
#define VALUES_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "tongxin.h"

typedef struct send_t send_t;

//  How an attribute's value is to be taken: as it looks (auto) or forced.
typedef enum { K_AUTO, K_INT, K_NUMERIC, K_TEXT, K_BOOL, K_DATE } kind_t;

//  The names of the kinds, by kind_t ("" for K_AUTO), NULL-terminated.
extern const char *value_kinds [];

//  Parses a date and time with Z or a UTC offset into unix microseconds.
//  0, or -1 with the reason in err.
int value_time (const char *s, int64_t *us_out, char *err, size_t errlen);

//  Sets the event's id from text[0..len) (NULL: none given, the library
//  makes one).  0, or -1 after reporting.
int value_id (send_t *self, uint64_t line, const char *field, tongxin_event_t *ev,
              const char *text, size_t len);

//  A setter's result: they fail only when memory runs out (then exits).
void value_stored (int rc);

//  Adds the number written as s[0..len) as attribute name, exactly as
//  written; kind is K_AUTO, K_INT or K_NUMERIC.  0, or -1 after reporting.
int value_number (send_t *self, uint64_t line, const char *field, tongxin_event_t *ev,
                  const char *name, const char *s, size_t len, kind_t kind);

//  Adds the string s as attribute name: converted by the registry's kind
//  when it says int or numeric (a quoted number, "12"), else as text.
//  0, or -1 after reporting.
int value_string (send_t *self, uint64_t line, tongxin_event_t *ev, const char *name, const char *s);

//  With a registry: the event checked by the collector's rules before it
//  is spooled.  0, or -1 after reporting (the same code and, in the
//  reader's language, the message).
int value_registry_check (send_t *self, uint64_t line, const tongxin_event_t *ev);

#endif
