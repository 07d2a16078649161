/*  registry: the registry the forms are made from and checked against
 *  (common/registry.h): types with their attributes (kinds, bounds, enum
 *  values, Chinese and English labels), the regions, the organisation's
 *  time zone.  Read from desk.registry: a registry body as a collector
 *  sends it (docs/protocol.md 6.5), strictly decoded.  Without one the
 *  page has no types to offer and says so.  The page gets it as JSON
 *  (tx_registry_to_json), and so does the importer, for names.
 */
#include "desk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *
s_read (const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        return NULL;
    }
    size_t cap = 1 << 16;
    uint8_t *buf = malloc (cap);
    *len = 0;
    size_t got;
    while (buf && (got = fread (buf + *len, 1, cap - *len, f)) > 0)
        if ((*len += got) == cap && cap < (64u << 20)) {
            uint8_t *bigger = realloc (buf, cap * 2);
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
    fclose (f);
    return buf;
}

int
desk_registry_load (desk_t *desk, char *err, size_t errlen)
{
    tx_registry_t *reg = NULL;
    if (desk->opts.registry) {
        size_t len;
        uint8_t *body = s_read (desk->opts.registry, &len, err, errlen);
        if (!body)
            return -1;
        char why [256];
        reg = tx_registry_decode (body, len, why, sizeof why);
        free (body);
        if (!reg) {
            snprintf (err, errlen, "%s: %s", desk->opts.registry, why);
            return -1;
        }
    }
    else {
        reg = tx_registry_new ();
        if (!reg || tx_registry_seal (reg) != 0) {
            tx_registry_unref (&reg);
            snprintf (err, errlen, "out of memory");
            return -1;
        }
    }
    char *text = tx_registry_to_json (reg);
    json_t *doc = text ? json_loads (text, 0, NULL) : NULL;
    if (!doc) {
        free (text);
        tx_registry_unref (&reg);
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    tx_registry_unref (&desk->reg);
    json_decref (desk->registry);
    free (desk->registry_text);
    desk->reg = reg;
    desk->registry = doc;
    desk->registry_text = text;
    return 0;
}

json_t *
desk_registry_type (const desk_t *desk, const char *code)
{
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (desk->registry, "types"), i, t)
        if (strcmp (json_string_value (json_object_get (t, "code")) ?: "", code) == 0)
            return t;
    return NULL;
}
