/*  api: the page's API (behind http.c's session and CSRF checks).
 *
 *    GET  /api/status            the link, the spool, the last acknowledgement
 *    GET  /api/registry          the registry document (types, labels, regions)
 *    GET  /api/reports?month=YYYY-MM&type=T   this desk's reports, newest first
 *    GET  /api/reports/ID        one report, with its corrections
 *    POST /api/reports           submit {form_token, type, occurred_at, partner,
 *                                attrs, supersedes, nth}: once per form_token
 *    GET  /api/template?type=T   a spreadsheet template (CSV, Chinese headers)
 *    POST /api/import?type=T&name=FILE&commit=0|1   a spreadsheet: preview, or send
 */
#include "http.h"
#include "form.h"
#include "importer.h"
#include "i18n.h"
#include "log.h"
#include "reasons.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_state_names [] = { "waiting", "stored", "duplicate", "refused", "failed" };

static json_t *
s_report_json (desk_t *desk, const char *lang, const desk_report_t *r)
{
    char occurred [32], created [32], original [32] = "", verdict [32] = "";
    desk_form_local_time (r->occurred_us, occurred, sizeof occurred);
    desk_form_local_time (r->created_us, created, sizeof created);
    if (r->original_us)
        desk_form_local_time (r->original_us, original, sizeof original);
    if (r->verdict_us)
        desk_form_local_time (r->verdict_us, verdict, sizeof verdict);
    const char *reason = "";
    if (r->state == DESK_REFUSED && r->code && *r->code) {
        //  The process's messages are in English (main resets them): the
        //  explanation is the msgid, translated for the request.
        const char *en = tx_reason_explain (r->code);
        reason = en ? desk_tr (desk, lang, en) : "";
    }
    return json_pack ("{s:s, s:s, s:s, s:I, s:s, s:O, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                      "id", r->id, "type", r->type, "occurred_at", occurred,
                      "occurred_us", (json_int_t) r->occurred_us, "partner", r->partner,
                      "attrs", r->attrs, "supersedes", r->supersedes, "source", r->source,
                      "user", r->user, "created", created, "state", s_state_names [r->state],
                      "original_at", original, "verdict_at", verdict,
                      "code", r->code ? r->code : "", "reason", reason,
                      "detail", r->msg ? r->msg : "");
}

static void
s_status (desk_req_t *req, desk_resp_t *resp)
{
    desk_t *desk = req->desk;
    tongxin_stats_t st;
    tongxin_stats (desk->producer, &st);
    desk_reports_lock (desk->reports);
    int64_t last = 0;
    size_t waiting = 0;
    for (size_t i = 0; i < desk_reports_count (desk->reports); i++) {
        const desk_report_t *r = desk_reports_at (desk->reports, i);
        if (r->verdict_us > last && r->state != DESK_FAILED)
            last = r->verdict_us;
        waiting += r->state == DESK_WAITING;
    }
    if (desk_reports_last_verdict (desk->reports) > last)
        last = desk_reports_last_verdict (desk->reports);
    desk_reports_unlock (desk->reports);
    char last_text [32] = "";
    if (last)
        desk_form_local_time (last, last_text, sizeof last_text);
    char now [32];
    desk_form_local_time (desk_now_us (), now, sizeof now);
    now [10] = 'T';             //  as an <input type="datetime-local"> takes it
    desk_resp_json (resp, 200, json_pack ("{s:b, s:i, s:I, s:I, s:s, s:s, s:s, s:s}",
                                          "connected", st.link == TONGXIN_LINK_UP, "link", st.link,
                                          "spool", (json_int_t) st.queued,
                                          "waiting", (json_int_t) waiting,
                                          "last_ack", last_text, "unit", desk->opts.unit ? desk->opts.unit : "",
                                          "link_error", st.link_error, "now", now));
}

static void
s_list (desk_req_t *req, desk_resp_t *resp)
{
    desk_t *desk = req->desk;
    const char *month = desk_req_arg (req, "month");
    const char *type = desk_req_arg (req, "type");
    json_t *list = json_array ();
    desk_reports_lock (desk->reports);
    size_t n = desk_reports_count (desk->reports);
    for (size_t i = n; i-- > 0 && json_array_size (list) < 2000; ) {
        const desk_report_t *r = desk_reports_at (desk->reports, i);
        if (type && *type && strcmp (type, r->type) != 0)
            continue;
        if (month && *month) {
            char at [32];
            desk_form_local_time (r->occurred_us, at, sizeof at);
            if (strncmp (at, month, strlen (month)) != 0)
                continue;
        }
        json_array_append_new (list, s_report_json (desk, req->lang, r));
    }
    desk_reports_unlock (desk->reports);
    desk_resp_json (resp, 200, json_pack ("{s:o}", "reports", list));
}

static void
s_one (desk_req_t *req, desk_resp_t *resp, const char *id)
{
    desk_t *desk = req->desk;
    desk_reports_lock (desk->reports);
    const desk_report_t *r = desk_reports_find (desk->reports, id);
    json_t *out = NULL;
    if (r) {
        out = s_report_json (desk, req->lang, r);
        json_t *later = json_array ();
        for (size_t i = 0; i < desk_reports_count (desk->reports); i++) {
            const desk_report_t *c = desk_reports_at (desk->reports, i);
            if (strcmp (c->supersedes, id) == 0)
                json_array_append_new (later, s_report_json (desk, req->lang, c));
        }
        json_object_set_new (out, "corrections", later);
    }
    desk_reports_unlock (desk->reports);
    if (out)
        desk_resp_json (resp, 200, out);
    else
        desk_resp_error (resp, 404, desk_tr (desk, req->lang, N_("There is no such report.")));
}

int
desk_api_submit (desk_t *desk, const char *lang, json_t *input, const char *token,
                 const char *source, const char *user, json_t *problems, char id_out [37])
{
    int64_t occurred = 0;
    tongxin_event_t *ev = desk_form_event (desk, lang, input, &occurred, problems);
    if (!ev)
        return 422;
    uint8_t id [16];
    if (tongxin_event_id (desk->producer, ev, id) != TONGXIN_OK) {
        tongxin_event_destroy (&ev);
        return 500;
    }
    desk_report_t r = { .token = (char *) token, .created_us = desk_now_us (),
                        .type = (char *) json_string_value (json_object_get (input, "type")),
                        .occurred_us = occurred,
                        .partner = (char *) (json_string_value (json_object_get (input, "partner")) ?: ""),
                        .attrs = json_object_get (input, "attrs"),
                        .supersedes = (char *) (json_string_value (json_object_get (input, "supersedes")) ?: ""),
                        .source = (char *) source, .user = (char *) user };
    tongxin_id_format (id, r.id);
    json_t *empty = NULL;
    if (!json_is_object (r.attrs))
        r.attrs = empty = json_object ();
    //  The spool first, then the journal, under the journal's lock: a
    //  crash between the two leaves an event that is sent but not listed
    //  (the clerk, who saw no answer, sends it again: the collector's
    //  content idempotency answers "already stored"), never a report shown
    //  "waiting" that no spool holds.  The lock keeps the verdict, which
    //  the sender thread may have the moment the event is spooled, from
    //  arriving before its report is journaled.
    char err [256];
    desk_reports_lock (desk->reports);
    int rc = tongxin_submit (desk->producer, ev, NULL, err, sizeof err);
    tongxin_event_destroy (&ev);
    if (rc != TONGXIN_OK) {
        desk_reports_unlock (desk->reports);
        json_decref (empty);
        tx_log (TX_LOG_ERROR, "submit failed", "id=%s rc=%d err=%s", r.id, rc, tx_log_q (err));
        json_array_append_new (problems, json_pack ("{s:s, s:s}", "field", "",
                               "message", desk_tr (desk, lang, rc == TONGXIN_EFULL
                                    ? N_("The desk's spool is full: reports cannot be kept until the collector is reachable again.")
                                    : N_("The report could not be written to the spool; nothing was sent."))));
        return 503;
    }
    rc = desk_reports_add (desk->reports, &r, err, sizeof err);
    desk_reports_unlock (desk->reports);
    json_decref (empty);
    if (rc != 0) {
        tx_log (TX_LOG_ERROR, "journal write failed; the event is spooled", "id=%s err=%s", r.id,
                tx_log_q (err));
        json_array_append_new (problems, json_pack ("{s:s, s:s}", "field", "",
                               "message", desk_tr (desk, lang, N_("The report was kept and will be sent, but the desk cannot write its journal (disk full?): it will not appear in My reports."))));
        return 503;
    }
    snprintf (id_out, 37, "%s", r.id);
    return 200;
}

static void
s_submit (desk_req_t *req, desk_resp_t *resp)
{
    desk_t *desk = req->desk;
    json_t *in = json_loads (req->body, 0, NULL);
    const char *token = json_string_value (json_object_get (in, "form_token"));
    if (!json_is_object (in) || !token || strlen (token) < 16 || strlen (token) > 64) {
        json_decref (in);
        desk_resp_error (resp, 400, desk_tr (desk, req->lang, N_("The form is incomplete; reload the page.")));
        return;
    }
    //  The same form again (a double click, a browser's resend): the
    //  report it made, once.
    desk_reports_lock (desk->reports);
    const desk_report_t *seen = desk_reports_by_token (desk->reports, token);
    json_t *again = seen ? s_report_json (desk, req->lang, seen) : NULL;
    desk_reports_unlock (desk->reports);
    if (again) {
        json_object_set_new (again, "repeated", json_true ());
        desk_resp_json (resp, 200, again);
        json_decref (in);
        return;
    }
    json_t *problems = json_array ();
    char id [37];
    int status = desk_api_submit (desk, req->lang, in, token, "form", req->user, problems, id);
    json_decref (in);
    if (status != 200) {
        desk_resp_json (resp, status, json_pack ("{s:o}", "problems", problems));
        return;
    }
    json_decref (problems);
    desk_reports_lock (desk->reports);
    json_t *out = s_report_json (desk, req->lang, desk_reports_find (desk->reports, id));
    desk_reports_unlock (desk->reports);
    tx_log (TX_LOG_INFO, "report submitted", "id=%s user=%s", id, tx_log_q (req->user));
    desk_resp_json (resp, 200, out);
}

void
desk_api (desk_req_t *req, desk_resp_t *resp)
{
    bool get = strcmp (req->method, "POST") != 0;
    const char *p = req->path;
    if (get && strcmp (p, "/api/status") == 0)
        s_status (req, resp);
    else
    if (get && strcmp (p, "/api/registry") == 0) {
        resp->status = 200;
        resp->type = "application/json; charset=utf-8";
        resp->body = strdup (req->desk->registry_text);
        resp->len = strlen (resp->body);
    }
    else
    if (get && strcmp (p, "/api/reports") == 0)
        s_list (req, resp);
    else
    if (get && strncmp (p, "/api/reports/", 13) == 0)
        s_one (req, resp, p + 13);
    else
    if (!get && strcmp (p, "/api/reports") == 0)
        s_submit (req, resp);
    else
    if (get && strcmp (p, "/api/template") == 0)
        desk_import_template (req, resp);
    else
    if (!get && strcmp (p, "/api/import") == 0)
        desk_import (req, resp);
    else
        desk_resp_error (resp, 404, "not found");
}
