/*  idmap: the events of this run waiting for their verdict, id -> input
    line.  Open addressing with linear probing, at most half full; an id
    may appear more than once (a file that repeats an id), and then the
    earliest line is answered first.  Not thread-safe (send_t.lock).
    The map owns its slots: free (m->slots) when done.
*/
#ifndef IDMAP_H_INCLUDED
#define IDMAP_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t id [16];            //  event id
    uint64_t line;              //  input line; 0 marks a free slot
} idmap_slot_t;

typedef struct {
    idmap_slot_t *slots;        //  cap slots
    size_t cap;                 //  0 or a power of two
    size_t count;               //  slots in use
} idmap_t;

//  Adds id -> line (line > 0).  0, or -1 if out of memory.
int idmap_put (idmap_t *m, const uint8_t id [16], uint64_t line);

//  Removes the entry of id with exactly this line, or (line 0) the one with
//  the lowest line.  Returns its line, or 0 if there is none.
uint64_t idmap_take (idmap_t *m, const uint8_t id [16], uint64_t line);

//  The lines in the map, in increasing order, into a new array the caller
//  frees (*n of them); NULL if out of memory.
uint64_t *idmap_lines (const idmap_t *m, size_t *n);

#endif
