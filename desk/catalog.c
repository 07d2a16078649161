/*  catalog: see catalog.h.  The GNU .mo format: a header of 32-bit words
 *  (magic, revision, count, offset of the original strings' table, offset
 *  of the translations' table), each table count pairs (length, offset),
 *  the originals sorted by strcmp.  Both byte orders are read; every
 *  offset is checked against the file's size.
 */
#include "catalog.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TX_LOCALEDIR
#define TX_LOCALEDIR "/usr/local/share/locale"
#endif

struct desk_catalog_t {
    unsigned char *data;        //  the whole file
    size_t size;                //  bytes
    uint32_t n;                 //  strings
    uint32_t orig, trans;       //  offsets of the two tables
    bool swap;                  //  the file's byte order is not ours
};

static uint32_t
s_word (const desk_catalog_t *self, size_t off)
{
    uint32_t w;
    memcpy (&w, self->data + off, 4);
    return self->swap ? __builtin_bswap32 (w) : w;
}

//  The i-th string of the table at tab, or NULL if it lies outside the file.
static const char *
s_string (const desk_catalog_t *self, uint32_t tab, uint32_t i)
{
    size_t at = (size_t) tab + (size_t) i * 8;
    if (at + 8 > self->size)
        return NULL;
    uint32_t len = s_word (self, at), off = s_word (self, at + 4);
    if ((size_t) off + len >= self->size || self->data [off + len] != 0)
        return NULL;
    return (const char *) self->data + off;
}

desk_catalog_t *
desk_catalog_load (const char *lang, char *err, size_t errlen)
{
    const char *dir = getenv ("TONGXIN_LOCALEDIR");
    char path [1024];
    snprintf (path, sizeof path, "%s/%s/LC_MESSAGES/tongxin.mo", dir && *dir ? dir : TX_LOCALEDIR, lang);
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (err, errlen, "%s: cannot open", path);
        return NULL;
    }
    desk_catalog_t *self = calloc (1, sizeof *self);
    size_t cap = 1 << 16;
    self->data = malloc (cap);
    size_t got;
    while (self->data && (got = fread (self->data + self->size, 1, cap - self->size, f)) > 0) {
        self->size += got;
        if (self->size == cap && cap < (64u << 20)) {
            unsigned char *bigger = realloc (self->data, cap * 2);
            if (!bigger)
                break;
            self->data = bigger;
            cap *= 2;
        }
    }
    fclose (f);
    if (!self->data || self->size < 20) {
        snprintf (err, errlen, "%s: not a message catalogue", path);
        desk_catalog_destroy (&self);
        return NULL;
    }
    uint32_t magic;
    memcpy (&magic, self->data, 4);
    if (magic != 0x950412de && magic != 0xde120495) {
        snprintf (err, errlen, "%s: not a message catalogue", path);
        desk_catalog_destroy (&self);
        return NULL;
    }
    self->swap = magic == 0xde120495;
    self->n = s_word (self, 8);
    self->orig = s_word (self, 12);
    self->trans = s_word (self, 16);
    return self;
}

void
desk_catalog_destroy (desk_catalog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->data);
    free (*self_p);
    *self_p = NULL;
}

const char *
desk_catalog_get (const desk_catalog_t *self, const char *msgid)
{
    if (!self || !msgid || !*msgid)
        return msgid;
    uint32_t lo = 0, hi = self->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const char *s = s_string (self, self->orig, mid);
        if (!s)
            return msgid;
        int c = strcmp (msgid, s);
        if (c == 0) {
            const char *t = s_string (self, self->trans, mid);
            return t && *t ? t : msgid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return msgid;
}
