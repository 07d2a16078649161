/*  idmap.c: events waiting for their verdict, by id (see idmap.h).  */
#include "idmap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static size_t
s_hash (const uint8_t id [16])
{
    uint64_t a, b;
    memcpy (&a, id, 8);
    memcpy (&b, id + 8, 8);
    uint64_t h = a ^ (b * 0x9E3779B97F4A7C15ULL);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    return (size_t) h;
}

int
idmap_put (idmap_t *m, const uint8_t id [16], uint64_t line)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        idmap_slot_t *slots = calloc (cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots [i].line) {
                size_t j = s_hash (m->slots [i].id) & (cap - 1);
                while (slots [j].line)
                    j = (j + 1) & (cap - 1);
                slots [j] = m->slots [i];
            }
        free (m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    size_t j = s_hash (id) & (m->cap - 1);
    while (m->slots [j].line)
        j = (j + 1) & (m->cap - 1);
    memcpy (m->slots [j].id, id, 16);
    m->slots [j].line = line;
    m->count++;
    return 0;
}

//  Removes the entry of id with exactly this line, or (line 0) the one with
//  the lowest line.  Returns its line, or 0 if there is none.
uint64_t
idmap_take (idmap_t *m, const uint8_t id [16], uint64_t line)
{
    if (m->count == 0)
        return 0;
    size_t mask = m->cap - 1;
    size_t best = SIZE_MAX;
    for (size_t j = s_hash (id) & mask; m->slots [j].line; j = (j + 1) & mask) {
        if (memcmp (m->slots [j].id, id, 16) != 0)
            continue;
        if (line ? m->slots [j].line == line
                 : best == SIZE_MAX || m->slots [j].line < m->slots [best].line)
            best = j;
    }
    if (best == SIZE_MAX)
        return 0;
    uint64_t found = m->slots [best].line;
    //  Backward-shift deletion: pull later members of the run into the hole.
    size_t hole = best;
    for (size_t j = (hole + 1) & mask; m->slots [j].line; j = (j + 1) & mask) {
        size_t home = s_hash (m->slots [j].id) & mask;
        bool stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
        if (!stays) {
            m->slots [hole] = m->slots [j];
            hole = j;
        }
    }
    m->slots [hole].line = 0;
    m->count--;
    return found;
}

static int
s_cmp_line (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

uint64_t *
idmap_lines (const idmap_t *m, size_t *n)
{
    uint64_t *lines = malloc ((m->count ? m->count : 1) * sizeof *lines);
    if (!lines)
        return NULL;
    *n = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots [i].line)
            lines [(*n)++] = m->slots [i].line;
    qsort (lines, *n, sizeof *lines, s_cmp_line);
    return lines;
}
