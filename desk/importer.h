/*  importer: spreadsheets (CSV) of reports of one type.  The file may be
 *  UTF-8, with or without a byte-order mark, or GB18030/GBK (what Excel
 *  saves on a Chinese Windows), converted with iconv.  Columns are named
 *  by the template's headers: the attributes' Chinese (or English) labels
 *  or names, and 发生时间 / 对口地区 for the time and the partner (a code
 *  or a region's name).  Cells are read as the form's fields are (form.h:
 *  an enum's value or its label, 是/否, dates as 2025/4/1 ...).
 *
 *  A preview (commit=0) lists every row's problems and sends nothing; a
 *  commit sends every row if none has a problem.  Each row is its own
 *  report; the same file imported again is answered "already stored" by
 *  the collector, row by row (content idempotency).
 */
#ifndef DESK_IMPORTER_H_INCLUDED
#define DESK_IMPORTER_H_INCLUDED

#include "http.h"

#define DESK_IMPORT_MAX_ROWS 5000  //  rows of a file

void desk_import_template (desk_req_t *req, desk_resp_t *resp);
void desk_import (desk_req_t *req, desk_resp_t *resp);

//  api.c: one report into the journal and the spool; 200 with its id,
//  422 (problems), 503 (journal or spool).
int desk_api_submit (desk_t *desk, const char *lang, json_t *input, const char *token,
                     const char *source, const char *user, json_t *problems, char id_out [37]);

#endif
