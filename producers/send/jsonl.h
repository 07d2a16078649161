/*  jsonl: one JSON line into an event.  jansson reads a number as a long
    long or a double: it would round 123456789012345678901234567890.1 to a
    double without a word, and it refuses a whole line for an integer past
    64 bits.  So before jansson parses a line, each number token in it
    (outside strings) is replaced by its index in a numbers_t; an attribute
    whose value is a number is then an index, and the number is taken from
    the line exactly as written.
*/
#ifndef JSONL_H_INCLUDED
#define JSONL_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "tongxin.h"

typedef struct send_t send_t;

#define MAX_NUMBERS     1024            //  number tokens, and values, in one JSON line

//  A line's numbers (reused from line to line; free (text) when done).
typedef struct {
    char *text;                     //  the line, numbers replaced (owned)
    size_t len;
    size_t cap;
    size_t n;                       //  number tokens
    size_t at [MAX_NUMBERS];        //  each one's offset in the line
    size_t size [MAX_NUMBERS];      //  its length
    size_t new_at [MAX_NUMBERS];    //  its index's offset in text
} numbers_t;

//  The event of the non-blank line[0..len), its id (made now if the line
//  gives none) in id; the caller destroys it.  libtongxin checks it at
//  submit.  NULL after reporting why.
tongxin_event_t *jsonl_event (send_t *self, uint64_t lineno, const char *line, size_t len,
                              uint8_t id [16]);

#endif
