/*  reasons: see reasons.h.  One row per code of docs/protocol.md 9.2 and
 *  9.3; test_reasons checks every code the codec knows has one.  The
 *  explanations say what is wrong and what to do, briefly: the tools show
 *  them next to the code and the producer's own message.
 */
#include "reasons.h"
#include "i18n.h"

#include <string.h>

static const struct {
    const char *code;
    const char *text;
} s_reasons [] = {
    //  Whole message (9.2).
    { "unsupported_version",
      N_("the collector does not speak this protocol version; upgrade the producer or the collector") },
    { "malformed",
      N_("the collector could not read the message; the whole batch was refused and is not sent again") },
    { "too_large",
      N_("the message is over 1 MiB or has more than 1000 events; it is sent again in two halves") },
    { "unauthorized",
      N_("the key of this producer has been revoked; ask the administrator for a new key") },
    //  Per event (9.3).
    { "malformed_event",
      N_("the event is incomplete: a required field is missing, has the wrong type, or is empty") },
    { "unknown_field",
      N_("the event has a field the protocol does not define") },
    { "duplicate_key",
      N_("a field or an attribute is given twice in the event") },
    { "bad_id",
      N_("the event id is not a valid UUIDv7 of 16 bytes") },
    { "bad_id_time",
      N_("the time in the event id is too old for the database or too far in the future; check the producer's clock") },
    { "bad_utf8",
      N_("a text is not valid UTF-8 or contains a NUL character") },
    { "too_long",
      N_("a text is longer than allowed (codes and names: 64 bytes; values: 4096 bytes or the registry's limit)") },
    { "unknown_unit",
      N_("the unit code is not registered; ask the administrator to add the unit") },
    { "unit_inactive",
      N_("the unit has been disabled; ask the administrator") },
    { "unit_mismatch",
      N_("the event names another unit than the one the producer's key was issued to") },
    { "unknown_type",
      N_("no event type of this name is registered; check the spelling") },
    { "bad_time",
      N_("the time the event occurred is invalid, before 2000, or ahead of the collector's clock; check the producer's clock") },
    { "missing_partner",
      N_("this event type needs a partner region and none was given") },
    { "unknown_partner",
      N_("the partner is not a known region code (6 digits, GB/T 2260)") },
    { "missing_attr",
      N_("a required attribute of the event type is missing") },
    { "unknown_attr",
      N_("the event type has no attribute of this name") },
    { "bad_attr_type",
      N_("an attribute value has the wrong kind (for example text where a number is expected)") },
    { "out_of_range",
      N_("a number is outside the range the registry allows for the attribute") },
    { "bad_number",
      N_("a number is not valid: not a decimal, too long, infinite or not a number") },
    { "bad_enum",
      N_("a value is not one of the values the registry allows for the attribute") },
    { "bad_date",
      N_("a date is not a valid date of the form YYYY-MM-DD") },
    { "too_many_attrs",
      N_("the event has more than 64 attributes") },
    { "db_refused",
      N_("the event passed every check but the database refused to store it; the collector kept it for its operator to replay") },
};
#define NREASONS (sizeof s_reasons / sizeof s_reasons [0])

const char *
tx_reason_explain (const char *code)
{
    if (!code)
        return NULL;
    for (size_t i = 0; i < NREASONS; i++)
        if (strcmp (s_reasons [i].code, code) == 0)
            return _(s_reasons [i].text);
    return NULL;
}
