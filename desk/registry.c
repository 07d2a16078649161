/*  registry: the registry document the forms are made from: types with
 *  their attributes (kind, bounds, enum values, Chinese and English
 *  labels), the regions, the organisation's time zone.  Read from
 *  desk.registry (JSON); without one, the page has no types to offer and
 *  says so.
 */
#include "desk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
desk_registry_load (desk_t *desk, char *err, size_t errlen)
{
    json_t *doc = NULL;
    if (desk->opts.registry) {
        json_error_t jerr;
        doc = json_load_file (desk->opts.registry, 0, &jerr);
        if (!json_is_object (doc)) {
            snprintf (err, errlen, "%s:%d: %s", desk->opts.registry, jerr.line, jerr.text);
            json_decref (doc);
            return -1;
        }
    }
    else
        doc = json_pack ("{s:i, s:[], s:[]}", "version", 0, "types", "regions");
    json_decref (desk->registry);
    free (desk->registry_text);
    desk->registry = doc;
    desk->registry_text = json_dumps (doc, JSON_COMPACT);
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
