/*  form: a report as the page or a spreadsheet row gives it (every value
 *  text) into an event, by the kinds of the registry document.  What is
 *  wrong is listed field by field, in the request's language; the
 *  collector applies its registry's rules (bounds, enums, required
 *  attributes, regions) and its verdict is shown on the report.
 *
 *  The input: {"type", "occurred_at": "YYYY-MM-DD HH:MM[:SS]" in the
 *  organisation's time zone (or with Z / an offset), "partner",
 *  "attrs": {NAME: TEXT}, "supersedes", "nth"}.
 */
#ifndef DESK_FORM_H_INCLUDED
#define DESK_FORM_H_INCLUDED

#include "desk.h"

//  The event, or NULL with problems appended to PROBLEMS (an array of
//  {"field", "message"}).  *occurred_us receives the time.  The event's
//  attrs, as entered, are what the journal keeps.
tongxin_event_t *desk_form_event (desk_t *desk, const char *lang, json_t *input,
                                  int64_t *occurred_us, json_t *problems);

//  Local time text ("YYYY-MM-DD HH:MM") of unix µs in the desk's zone.
void desk_form_local_time (int64_t us, char *out, size_t outlen);

#endif
