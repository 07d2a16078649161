/*  jsonl.c: one JSON line into an event (see jsonl.h).  */
#include "jsonl.h"
#include "output.h"
#include "send.h"
#include "i18n.h"
#include "values.h"
#include "lex.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  s[i] is '"': the index after the closing quote (len if there is none).
static size_t
s_skip_string (const char *s, size_t len, size_t i)
{
    for (i++; i < len && s [i] != '"'; i++)
        if (s [i] == '\\')
            i++;
    return i < len ? i + 1 : len;
}

//  The 1-based column (in characters) of byte offset i of s.
static size_t
s_column (const char *s, size_t i)
{
    size_t col = 1;
    for (size_t k = 0; k < i; k++)
        if (((unsigned char) s [k] & 0xc0) != 0x80)
            col++;
    return col;
}

static bool
s_number_char (char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

//  Fills nums from line[0..len) (valid UTF-8).  0, or -1 after reporting.
static int
s_numbers_scan (send_t *self, uint64_t lineno, const char *line, size_t len, numbers_t *nums)
{
    size_t need = len + MAX_NUMBERS * 4 + 1;    //  an index has at most 4 digits
    if (nums->cap < need) {
        char *text = realloc (nums->text, need);
        if (!text)
            out_oom ();
        nums->text = text;
        nums->cap = need;
    }
    nums->n = 0;
    size_t o = 0, commas = 0;
    for (size_t i = 0; i < len; ) {
        char c = line [i];
        if (c == '"') {
            size_t j = s_skip_string (line, len, i);
            memcpy (nums->text + o, line + i, j - i);
            o += j - i;
            i = j;
            continue;
        }
        if (c != '-' && (c < '0' || c > '9')) {
            //  jansson would allocate for every value of a 16 MiB line of
            //  [{},{},...] (over 1 GB): refuse lines with far more values
            //  than an event can have (each value past a container's
            //  first follows a comma).
            if (c == ',' && ++commas == MAX_NUMBERS) {
                out_invalid (self, lineno, "bad_field", _("the line holds more than %d values; an "
                           "event has at most %d attributes"), MAX_NUMBERS, TONGXIN_MAX_ATTRS);
                return -1;
            }
            nums->text [o++] = c;
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && s_number_char (line [j]))
            j++;
        char show [SHOW_SIZE];
        if (!tx_lex_json_number (line + i, j - i)) {
            out_invalid (self, lineno, "invalid_json", _("column %zu: '%s' is not a JSON number "
                       "(like 12, -0.5, 1.2e3)"), s_column (line, i), out_show (line + i, j - i, show));
            return -1;
        }
        if (nums->n == MAX_NUMBERS) {
            out_invalid (self, lineno, "bad_field", _("the line holds more than %d numbers; an event "
                       "has at most %d attributes"), MAX_NUMBERS, TONGXIN_MAX_ATTRS);
            return -1;
        }
        nums->at [nums->n] = i;
        nums->size [nums->n] = j - i;
        nums->new_at [nums->n] = o;
        o += (size_t) sprintf (nums->text + o, "%zu", nums->n);
        nums->n++;
        i = j;
    }
    nums->text [o] = 0;
    nums->len = o;
    return 0;
}

//  The offset in the line of offset pos of nums->text.
static size_t
s_numbers_orig (const numbers_t *nums, size_t pos)
{
    long delta = 0;                 //  line offset - text offset, so far
    for (size_t k = 0; k < nums->n && nums->new_at [k] < pos; k++) {
        size_t digits = (size_t) snprintf (NULL, 0, "%zu", k);
        if (pos < nums->new_at [k] + digits)
            return nums->at [k];
        delta += (long) nums->size [k] - (long) digits;
    }
    return (size_t) ((long) pos + delta);
}

//  Reports a line jansson refused.  Its message is the one for the line
//  as written, unless that one is about a number jansson cannot hold (not
//  a fault here): then the message for the text with numbers replaced, at
//  the column of the line.
static void
s_json_error (send_t *self, uint64_t lineno, const char *line, size_t len, const numbers_t *nums,
              const json_error_t *jerr)
{
    json_error_t orig;
    json_t *again = json_loadb (line, len, JSON_REJECT_DUPLICATES, &orig);
    json_decref (again);
    if (!again && !strstr (orig.text, "too big") && !strstr (orig.text, "real number")) {
        out_invalid (self, lineno, "invalid_json", _("column %d: %s"), orig.column, orig.text);
        return;
    }
    size_t pos = jerr->position > 0 ? (size_t) jerr->position : 0;
    size_t at = s_numbers_orig (nums, pos);
    if (at > len)
        at = len;
    char text [JSON_ERROR_TEXT_LENGTH];
    snprintf (text, sizeof text, "%s", jerr->text);
    char *near = strstr (text, " near ");
    if (near)
        *near = 0;
    //  jansson's column is that of the last character it read.
    out_invalid (self, lineno, "invalid_json", _("column %zu: %s"), s_column (line, at) - 1, text);
}

//  Adds attrs.NAME = value (a JSON value) to ev.  0, or -1 after reporting.
static int
s_json_attr (send_t *self, uint64_t lineno, const char *line, const numbers_t *nums,
             tongxin_event_t *ev, const char *name, json_t *value)
{
    char show [SHOW_SIZE], field [SHOW_SIZE + 8];
    size_t name_len = strlen (name);
    snprintf (field, sizeof field, name_len ? "attrs.%s" : "attrs", out_show (name, name_len, show));
    switch (json_typeof (value)) {
        case JSON_INTEGER: {
            //  An index into nums (s_numbers_scan): the number as written.
            json_int_t k = json_integer_value (value);
            if (k < 0 || (size_t) k >= nums->n) {
                out_invalid (self, lineno, "bad_field", _("%s: a number lost on the way"), field);
                return -1;
            }
            return value_number (self, lineno, field, ev, name, line + nums->at [k],
                                  nums->size [k], K_AUTO);
        }
        case JSON_STRING:
            //  A quoted number ("12", a spreadsheet's export) for an attribute
            //  the registry says is a number; never guessed without one.
            return value_string (self, lineno, ev, name, json_string_value (value));
        case JSON_TRUE:
        case JSON_FALSE:
            value_stored (tongxin_event_add_bool (ev, name, json_is_true (value)));
            return 0;
        case JSON_NULL:
            out_invalid (self, lineno, "bad_field", _("%s: null is not a value (leave an absent "
                       "attribute out)"), field);
            return -1;
        default:
            if (json_is_array (value))
                out_invalid (self, lineno, "bad_field", _("%s: an array is not a value (attributes "
                             "are numbers, strings or booleans)"), field);
            else
                out_invalid (self, lineno, "bad_field", _("%s: an object is not a value (attributes "
                             "are numbers, strings or booleans)"), field);
            return -1;
    }
}

//  A string field of the line's object: NULL if absent; *bad set if it is
//  not a string (reported).
static const char *
s_json_str (send_t *self, uint64_t lineno, json_t *root, const char *key, size_t *len, bool *bad)
{
    json_t *v = json_object_get (root, key);
    if (!v)
        return NULL;
    if (!json_is_string (v)) {
        out_invalid (self, lineno, "bad_field", _("%s: must be a string"), key);
        *bad = true;
        return NULL;
    }
    *len = json_string_length (v);
    return json_string_value (v);
}

//  The line parsed: a JSON object of known fields only, numbers as
//  indexes into self->numbers.  NULL after reporting why.
static json_t *
s_parse (send_t *self, uint64_t lineno, const char *line, size_t len)
{
    static const char *known [] = { "id", "unit", "type", "occurred_at", "partner", "attrs", "nth",
                                    NULL };
    if (!tongxin_text_valid (line, len)) {
        out_invalid (self, lineno, "bad_utf8", _("the line is not valid UTF-8 or holds a NUL byte"));
        return NULL;
    }
    numbers_t *nums = &self->numbers;
    if (s_numbers_scan (self, lineno, line, len, nums) != 0)
        return NULL;
    json_error_t jerr;
    json_t *root = json_loadb (nums->text, nums->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        s_json_error (self, lineno, line, len, nums, &jerr);
        return NULL;
    }
    if (!json_is_object (root)) {
        out_invalid (self, lineno, "invalid_json", _("an array, not an object"));
        json_decref (root);
        return NULL;
    }
    const char *key;
    json_t *value;
    json_object_foreach (root, key, value) {
        int k = 0;
        while (known [k] && strcmp (known [k], key) != 0)
            k++;
        if (!known [k]) {
            char show [SHOW_SIZE];
            out_invalid (self, lineno, "unknown_field", _("'%s' is not a field (id, unit, type, "
                         "occurred_at, partner, attrs, nth)"), out_show (key, strlen (key), show));
            json_decref (root);
            return NULL;
        }
    }
    return root;
}

//  The line's string fields (NULL if absent).
typedef struct {
    const char *type, *at, *unit, *partner, *id;
    size_t type_len, at_len, unit_len, partner_len, id_len;
} fields_t;

//  The string fields of root into f; type and occurred_at are required.
//  0, or -1 after reporting.
static int
s_fields (send_t *self, uint64_t lineno, json_t *root, fields_t *f)
{
    bool bad = false;
    f->type = s_json_str (self, lineno, root, "type", &f->type_len, &bad);
    f->at = bad ? NULL : s_json_str (self, lineno, root, "occurred_at", &f->at_len, &bad);
    f->unit = bad ? NULL : s_json_str (self, lineno, root, "unit", &f->unit_len, &bad);
    f->partner = bad ? NULL : s_json_str (self, lineno, root, "partner", &f->partner_len, &bad);
    f->id = bad ? NULL : s_json_str (self, lineno, root, "id", &f->id_len, &bad);
    if (bad)
        return -1;
    if (!f->type || !f->at) {
        out_invalid (self, lineno, "missing_field", _("%s is required"), !f->type ? "type" : "occurred_at");
        return -1;
    }
    return 0;
}

//  The line's "nth" (the same content again on purpose) into ev, if it has
//  one: a whole number from 1 to TONGXIN_MAX_NTH.  0, or -1 after reporting.
static int
s_nth (send_t *self, uint64_t lineno, const char *line, json_t *root, tongxin_event_t *ev)
{
    json_t *v = json_object_get (root, "nth");
    if (!v)
        return 0;
    //  A number is an index into self->numbers (s_numbers_scan).
    const numbers_t *nums = &self->numbers;
    json_int_t k = json_is_integer (v) ? json_integer_value (v) : -1;
    unsigned long n = 0;
    if (k >= 0 && (size_t) k < nums->n) {
        const char *s = line + nums->at [k];
        size_t len = nums->size [k], i = 0;
        while (i < len && i < 6 && s [i] >= '0' && s [i] <= '9')
            n = n * 10 + (unsigned long) (s [i++] - '0');
        if (i < len)
            n = 0;
    }
    if (n < 1 || n > TONGXIN_MAX_NTH) {
        char show [SHOW_SIZE + 2] = "";
        if (k >= 0 && (size_t) k < nums->n) {
            char number [SHOW_SIZE];
            snprintf (show, sizeof show, "'%s'", out_show (line + nums->at [k], nums->size [k],
                                                          number));
        }
        out_invalid (self, lineno, "bad_field", _("nth: %s is not a whole number from 1 to %d "
                   "(2: the second identical activity)"), *show ? show
                   : json_is_string (v) ? _("a string") : json_is_object (v) ? _("an object")
                   : json_is_array (v) ? _("an array") : _("true, false or null"), TONGXIN_MAX_NTH);
        return -1;
    }
    value_stored (tongxin_event_set_nth (ev, (unsigned) n));
    return 0;
}

//  The event of root (the line parsed).  NULL after reporting why.
static tongxin_event_t *
s_event (send_t *self, uint64_t lineno, const char *line, json_t *root)
{
    fields_t f = { 0 };
    if (s_fields (self, lineno, root, &f) != 0)
        return NULL;
    char err [512];
    int64_t at_us;
    if (value_time (f.at, &at_us, err, sizeof err) != 0) {
        out_invalid (self, lineno, "bad_time", _("occurred_at: %s"), err);
        return NULL;
    }
    json_t *attrs = json_object_get (root, "attrs");
    if (attrs && !json_is_object (attrs)) {
        out_invalid (self, lineno, "bad_field", _("attrs: must be an object {\"name\": value, ...}"));
        return NULL;
    }
    tongxin_event_t *ev = tongxin_event_new (f.type, at_us);
    if (!ev)
        out_oom ();
    if (f.unit)
        value_stored (tongxin_event_set_unit (ev, f.unit));
    if (f.partner)
        value_stored (tongxin_event_set_partner (ev, f.partner));
    const char *key;
    json_t *value;
    if (attrs)
        json_object_foreach (attrs, key, value)
            if (s_json_attr (self, lineno, line, &self->numbers, ev, key, value) != 0)
                goto fail;
    if (value_id (self, lineno, "id", ev, f.id, f.id_len) != 0
        || s_nth (self, lineno, line, root, ev) != 0)
        goto fail;
    return ev;
fail:
    tongxin_event_destroy (&ev);
    return NULL;
}

tongxin_event_t *
jsonl_event (send_t *self, uint64_t lineno, const char *line, size_t len, uint8_t id [16])
{
    json_t *root = s_parse (self, lineno, line, len);
    tongxin_event_t *ev = root ? s_event (self, lineno, line, root) : NULL;
    json_decref (root);
    if (ev && tongxin_event_id (self->tx, ev, id) != TONGXIN_OK) {
        out_error (self, _("cannot make an event id: %s"), strerror (errno));
        exit (RC_RUNTIME);
    }
    return ev;
}
