/*  strmap.c: open addressing with linear probing, FNV-1a, load <= 1/2.  */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;                  //  owned copy, NULL = empty slot
    size_t len;                 //  key bytes
    uint64_t hash;              //  cached hash
    void *value;                //  borrowed
} slot_t;

struct tx_strmap_t {
    slot_t *slots;              //  capacity slots
    size_t capacity;            //  a power of two
    size_t size;                //  used slots
};

uint64_t
tx_strmap_hash (const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char) key [i];
        h *= 1099511628211ULL;
    }
    return h;
}

tx_strmap_t *
tx_strmap_new (void)
{
    tx_strmap_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = 16;
    self->slots = calloc (self->capacity, sizeof (slot_t));
    if (!self->slots) {
        free (self);
        return NULL;
    }
    return self;
}

void
tx_strmap_destroy (tx_strmap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tx_strmap_t *self = *self_p;
    for (size_t i = 0; i < self->capacity; i++)
        free (self->slots [i].key);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

static slot_t *
s_find (slot_t *slots, size_t capacity, const char *key, size_t len, uint64_t hash)
{
    size_t i = (size_t) hash & (capacity - 1);
    while (slots [i].key) {
        if (slots [i].hash == hash && slots [i].len == len && memcmp (slots [i].key, key, len) == 0)
            return &slots [i];
        i = (i + 1) & (capacity - 1);
    }
    return &slots [i];
}

static int
s_grow (tx_strmap_t *self)
{
    size_t capacity = self->capacity * 2;
    slot_t *slots = calloc (capacity, sizeof (slot_t));
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->capacity; i++)
        if (self->slots [i].key) {
            slot_t *s = s_find (slots, capacity, self->slots [i].key, self->slots [i].len,
                                self->slots [i].hash);
            *s = self->slots [i];
        }
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

int
tx_strmap_put (tx_strmap_t *self, const char *key, size_t len, void *value)
{
    if ((self->size + 1) * 2 > self->capacity && s_grow (self) != 0)
        return -1;
    uint64_t hash = tx_strmap_hash (key, len);
    slot_t *s = s_find (self->slots, self->capacity, key, len, hash);
    if (!s->key) {
        s->key = malloc (len + 1);
        if (!s->key)
            return -1;
        memcpy (s->key, key, len);
        s->key [len] = 0;
        s->len = len;
        s->hash = hash;
        self->size++;
    }
    s->value = value;
    return 0;
}

void *
tx_strmap_get (const tx_strmap_t *self, const char *key, size_t len)
{
    slot_t *s = s_find (self->slots, self->capacity, key, len, tx_strmap_hash (key, len));
    return s->key ? s->value : NULL;
}

size_t
tx_strmap_size (const tx_strmap_t *self)
{
    return self->size;
}
