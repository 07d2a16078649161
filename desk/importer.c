/*  importer: see importer.h.  */
#include "importer.h"
#include "form.h"
#include "i18n.h"
#include "log.h"
#include "utf8.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The two columns every template has, besides the attributes.
static const char *s_col_time = N_("Occurred at");
static const char *s_col_partner = N_("Partner region");

//  The file's text as UTF-8 (malloc'd), or NULL if it is neither UTF-8
//  nor GB18030.
static char *
s_decode (const char *data, size_t len, size_t *out_len)
{
    if (len >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    if (tx_utf8_valid (data, len)) {
        char *out = malloc (len + 1);
        memcpy (out, data, len);
        out [len] = 0;
        *out_len = len;
        return out;
    }
    iconv_t cd = iconv_open ("UTF-8", "GB18030");
    if (cd == (iconv_t) -1)
        return NULL;
    size_t cap = len * 2 + 16, left_out = cap - 1, left_in = len;
    char *out = malloc (cap), *op = out;
    char *ip = (char *) data;
    size_t rc = iconv (cd, &ip, &left_in, &op, &left_out);
    iconv_close (cd);
    if (rc == (size_t) -1 || left_in != 0) {
        free (out);
        return NULL;
    }
    *op = 0;
    *out_len = (size_t) (op - out);
    return out;
}

//  RFC 4180 records: an array of arrays of strings.  Quotes with "" inside,
//  CRLF or LF line ends.  Stops after max_records records (the caller
//  refuses a file that long); *open_quote: the record (1-based) whose
//  quoted field is never closed, else 0 — then the rest of the file was
//  one field, and no row of it may be dropped in silence.
static json_t *
s_parse_csv (const char *s, size_t len, size_t max_records, size_t *open_quote)
{
    *open_quote = 0;
    json_t *rows = json_array (), *row = json_array ();
    char *field = malloc (len + 1);
    size_t f = 0;
    bool quoted = false, any = false;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? s [i] : '\n';
        if (quoted) {
            if (c == '"' && i + 1 < len && s [i + 1] == '"') {
                field [f++] = '"';
                i++;
            }
            else
            if (c == '"')
                quoted = false;
            else
            if (i < len)
                field [f++] = c;
            else {
                *open_quote = json_array_size (rows) + 1;
                break;
            }
            continue;
        }
        if (c == '"' && f == 0) {
            quoted = true;
            any = true;
        }
        else
        if (c == ',' || c == '\n') {
            field [f] = 0;
            json_array_append_new (row, json_string (field));
            if (f)
                any = true;
            f = 0;
            if (c == '\n') {
                if (any)
                    json_array_append (rows, row);
                json_decref (row);
                row = json_array ();
                any = false;
                if (i == len || json_array_size (rows) > max_records)
                    break;
            }
        }
        else
        if (c != '\r')
            field [f++] = c;
    }
    json_decref (row);
    free (field);
    return rows;
}

static const char *
s_str (json_t *o, const char *key)
{
    return json_string_value (json_object_get (o, key)) ?: "";
}

static const char *
s_label (desk_t *desk, const char *lang, json_t *attr)
{
    const char *l = s_str (attr, strcmp (lang, "en") == 0 ? "label_en" : "label_zh");
    (void) desk;
    return *l ? l : s_str (attr, "name");
}

void
desk_import_template (desk_req_t *req, desk_resp_t *resp)
{
    desk_t *desk = req->desk;
    const char *type = desk_req_arg (req, "type");
    json_t *t = type ? desk_registry_type (desk, type) : NULL;
    if (!t) {
        desk_resp_error (resp, 404, desk_tr (desk, req->lang, N_("There is no such report type.")));
        return;
    }
    //  UTF-8 with a byte-order mark: how Excel knows it is UTF-8.
    json_t *cols = json_array ();
    json_array_append_new (cols, json_string (desk_tr (desk, req->lang, s_col_time)));
    json_array_append_new (cols, json_string (desk_tr (desk, req->lang, s_col_partner)));
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (t, "attrs"), i, a)
        json_array_append_new (cols, json_string (s_label (desk, req->lang, a)));
    size_t cap = 4096, len = 3;
    char *out = malloc (cap);
    memcpy (out, "\xEF\xBB\xBF", 3);
    json_t *c;
    json_array_foreach (cols, i, c) {
        const char *s = json_string_value (c);
        size_t need = len + strlen (s) * 2 + 8;
        if (need > cap)
            out = realloc (out, cap = need * 2);
        if (i)
            out [len++] = ',';
        out [len++] = '"';
        for (; *s; s++) {
            if (*s == '"')
                out [len++] = '"';
            out [len++] = *s;
        }
        out [len++] = '"';
    }
    out [len++] = '\r';
    out [len++] = '\n';
    json_decref (cols);
    resp->status = 200;
    resp->type = "text/csv; charset=utf-8";
    resp->body = out;
    resp->len = len;
    snprintf (resp->extra, sizeof resp->extra, "attachment; filename=\"%s.csv\"", type);
    resp->disposition = resp->extra;
}

//  A column's meaning: -2 time, -3 partner, else the attribute's index; -1 unknown.
static int
s_column (desk_t *desk, json_t *type, const char *head)
{
    if (strcmp (head, s_col_time) == 0 || strcmp (head, desk_tr (desk, "zh", s_col_time)) == 0
    ||  strcmp (head, "occurred_at") == 0)
        return -2;
    if (strcmp (head, s_col_partner) == 0 || strcmp (head, desk_tr (desk, "zh", s_col_partner)) == 0
    ||  strcmp (head, "partner") == 0)
        return -3;
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (type, "attrs"), i, a)
        if (strcmp (head, s_str (a, "name")) == 0 || strcmp (head, s_str (a, "label_zh")) == 0
        ||  strcmp (head, s_str (a, "label_en")) == 0)
            return (int) i;
    return -1;
}

//  A partner given by code, or by a region's name if exactly one has it.
static const char *
s_region (desk_t *desk, const char *text)
{
    size_t len = strlen (text);
    if (len == 6 && strspn (text, "0123456789") == 6)
        return text;
    const char *found = NULL;
    size_t i;
    json_t *r;
    json_array_foreach (json_object_get (desk->registry, "regions"), i, r)
        if (strcmp (s_str (r, "name"), text) == 0 || strcmp (s_str (r, "name_en"), text) == 0) {
            if (found)
                return NULL;
            found = s_str (r, "code");
        }
    return found;
}

static void
s_problem (json_t *problems, const char *column, const char *message)
{
    json_array_append_new (problems, json_pack ("{s:s, s:s}", "column", column, "message", message));
}

void
desk_import (desk_req_t *req, desk_resp_t *resp)
{
    desk_t *desk = req->desk;
    const char *lang = req->lang;
    const char *type = desk_req_arg (req, "type");
    const char *name = desk_req_arg (req, "name");
    const char *commit = desk_req_arg (req, "commit");
    bool send = commit && strcmp (commit, "1") == 0;
    json_t *t = type ? desk_registry_type (desk, type) : NULL;
    if (!t) {
        desk_resp_error (resp, 422, desk_tr (desk, lang, N_("Choose the type of the reports in the file.")));
        return;
    }
    size_t len;
    char *text = s_decode (req->body, req->body_len, &len);
    if (!text) {
        desk_resp_error (resp, 422, desk_tr (desk, lang,
                         N_("The file is neither UTF-8 nor GB18030/GBK text; save it from Excel as \"CSV (comma delimited)\".")));
        return;
    }
    size_t open_quote;
    json_t *rows = s_parse_csv (text, len, DESK_IMPORT_MAX_ROWS + 1, &open_quote);
    free (text);
    if (open_quote) {
        char why [256];
        snprintf (why, sizeof why, desk_tr (desk, lang, N_("Record %zu opens a quoted field (\") that is never closed: nothing after it could be read; check the quotes.")),
                  open_quote);
        json_decref (rows);
        desk_resp_error (resp, 422, why);
        return;
    }
    if (json_array_size (rows) < 2) {
        json_decref (rows);
        desk_resp_error (resp, 422, desk_tr (desk, lang, N_("The file has no rows under its header.")));
        return;
    }
    //  Sending is done on the desk's one thread (about 2.6 ms a row, the
    //  journal's and the spool's syncs): a file is at most MAX_ROWS rows.
    if (json_array_size (rows) - 1 > DESK_IMPORT_MAX_ROWS) {
        char too [256];
        snprintf (too, sizeof too, desk_tr (desk, lang, N_("The file has more than %d rows; split it into smaller files.")),
                  DESK_IMPORT_MAX_ROWS);
        json_decref (rows);
        desk_resp_error (resp, 422, too);
        return;
    }
    json_t *header = json_array_get (rows, 0);
    size_t ncols = json_array_size (header);
    int *cols = calloc (ncols + 1, sizeof *cols);
    json_t *file_problems = json_array ();
    bool have_time = false;
    char msg [512];
    for (size_t c = 0; c < ncols; c++) {
        const char *head = json_string_value (json_array_get (header, c));
        cols [c] = s_column (desk, t, head);
        have_time |= cols [c] == -2;
        if (cols [c] == -1 && *head) {
            snprintf (msg, sizeof msg, desk_tr (desk, lang,
                      N_("Column \"%s\" is not a field of this report type; use the template's headers.")), head);
            s_problem (file_problems, head, msg);
        }
    }
    if (!have_time) {
        snprintf (msg, sizeof msg, desk_tr (desk, lang, N_("The file has no column \"%s\".")),
                  desk_tr (desk, lang, s_col_time));
        s_problem (file_problems, "", msg);
    }
    json_t *attrs_def = json_object_get (t, "attrs");
    json_t *out_rows = json_array (), *inputs = json_array ();
    size_t bad = json_array_size (file_problems) ? json_array_size (rows) - 1 : 0;
    for (size_t r = 1; r < json_array_size (rows) && !json_array_size (file_problems); r++) {
        json_t *row = json_array_get (rows, r);
        json_t *in = json_pack ("{s:s, s:s, s:{}}", "type", type, "occurred_at", "", "attrs");
        json_t *problems = json_array ();
        for (size_t c = 0; c < ncols && c < json_array_size (row); c++) {
            const char *v = json_string_value (json_array_get (row, c));
            const char *head = json_string_value (json_array_get (header, c));
            while (*v == ' ')
                v++;
            if (cols [c] == -2)
                json_object_set_new (in, "occurred_at", json_string (v));
            else
            if (cols [c] == -3 && *v) {
                const char *code = s_region (desk, v);
                if (!code) {
                    snprintf (msg, sizeof msg, desk_tr (desk, lang,
                              N_("\"%s\" is not a region's name or code; write the county's 6-digit code.")), v);
                    s_problem (problems, head, msg);
                }
                else
                    json_object_set_new (in, "partner", json_string (code));
            }
            else
            if (cols [c] >= 0) {
                json_t *def = json_array_get (attrs_def, (size_t) cols [c]);
                json_object_set_new (json_object_get (in, "attrs"), s_str (def, "name"), json_string (v));
            }
        }
        if (!json_array_size (problems)) {
            json_t *fp = json_array ();
            int64_t occurred;
            tongxin_event_t *ev = desk_form_event (desk, lang, in, &occurred, fp);
            tongxin_event_destroy (&ev);
            size_t i;
            json_t *p;
            json_array_foreach (fp, i, p) {
                //  The form's field names, as the file's columns.
                const char *field = s_str (p, "field");
                const char *column = field;
                for (size_t c = 0; c < ncols; c++) {
                    if ((cols [c] == -2 && strcmp (field, "occurred_at") == 0)
                    ||  (cols [c] == -3 && strcmp (field, "partner") == 0)
                    ||  (cols [c] >= 0 && strcmp (field, s_str (json_array_get (attrs_def, (size_t) cols [c]), "name")) == 0))
                        column = json_string_value (json_array_get (header, c));
                }
                s_problem (problems, column, s_str (p, "message"));
            }
            json_decref (fp);
        }
        bad += json_array_size (problems) > 0;
        json_array_append_new (out_rows, json_pack ("{s:I, s:O, s:o}", "row", (json_int_t) r + 1,
                                                    "values", row, "problems", problems));
        json_array_append_new (inputs, in);
    }
    free (cols);
    size_t total = json_array_size (rows) - 1;
    json_decref (rows);
    json_t *out = json_pack ("{s:I, s:I, s:o, s:o}", "total", (json_int_t) total, "bad", (json_int_t) bad,
                             "file_problems", file_problems, "rows", out_rows);
    if (!send || bad) {
        json_decref (inputs);
        desk_resp_json (resp, send ? 422 : 200, out);
        return;
    }
    //  Every row is good: each becomes a report.
    json_t *ids = json_array ();
    size_t i;
    json_t *in;
    char source [300];
    int status = 200;
    json_array_foreach (inputs, i, in) {
        json_t *problems = json_array ();
        char id [37];
        snprintf (source, sizeof source, "import %s row %zu", name ? name : "", i + 2);
        status = desk_api_submit (desk, lang, in, "", source, req->user, problems, id);
        json_decref (problems);
        if (status != 200)
            break;
        json_array_append_new (ids, json_string (id));
    }
    json_decref (inputs);
    json_object_set_new (out, "sent", json_integer ((json_int_t) json_array_size (ids)));
    json_object_set_new (out, "ids", ids);
    tx_log (TX_LOG_INFO, "spreadsheet imported", "type=%s rows=%zu sent=%zu", type, total,
            json_array_size (json_object_get (out, "ids")));
    desk_resp_json (resp, status, out);
}
