/*  reports: what this desk submitted and what became of each, kept in a
 *  journal of its own (DATA/journal.jsonl): one JSON object a line,
 *  appended and fdatasync'ed before the desk answers.  A report is written
 *  "new" before it goes to the spool; the collector's verdict is appended
 *  when it arrives.  A torn last line (a crash mid-write) is skipped on
 *  load.  Thread-safe: the HTTP thread writes reports, the sender thread
 *  verdicts.
 */
#ifndef DESK_REPORTS_H_INCLUDED
#define DESK_REPORTS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    DESK_WAITING = 0,           //  in the spool, no verdict yet
    DESK_STORED,                //  stored by this delivery
    DESK_DUPLICATE,             //  already stored (original_us says when)
    DESK_REFUSED,               //  refused: code, msg
    DESK_FAILED                 //  never reached the spool (msg)
} desk_state_t;

typedef struct {
    char id [37];               //  the event's id
    char *token;                //  the form's token ("" for imports)
    int64_t created_us;         //  when the clerk submitted it
    char *type;                 //  event type
    int64_t occurred_us;        //  when it happened (UTC µs)
    char *partner;              //  region code or ""
    json_t *attrs;              //  {name: text as entered}
    char *supersedes;           //  the report it corrects or retracts, or ""
    char *source;               //  "form" or "import FILE row N"
    char *user;                 //  who ("" without login)
    desk_state_t state;
    char *code, *msg;           //  refused / failed: why
    int64_t original_us;        //  duplicate: when the original was received (0 unknown)
    char original [37];         //  duplicate: the original's id ("" unknown)
    int64_t verdict_us;         //  when the verdict came
} desk_report_t;

typedef struct desk_reports_t desk_reports_t;

//  Opens (creating) DIR/journal.jsonl and reads it.  NULL with err.
desk_reports_t *desk_reports_open (const char *dir, char *err, size_t errlen);
void desk_reports_destroy (desk_reports_t **self_p);

void desk_reports_lock (desk_reports_t *self);
void desk_reports_unlock (desk_reports_t *self);

//  Under the lock: the count, and the i-th report (oldest first).
size_t desk_reports_count (desk_reports_t *self);
const desk_report_t *desk_reports_at (desk_reports_t *self, size_t i);
const desk_report_t *desk_reports_find (desk_reports_t *self, const char *id);
const desk_report_t *desk_reports_by_token (desk_reports_t *self, const char *token);

//  Under the lock: journals R (copied; state WAITING).  0 or -1 with err.
int desk_reports_add (desk_reports_t *self, const desk_report_t *r, char *err, size_t errlen);

//  Takes the lock: a verdict for id (ignored if unknown, or if a
//  "duplicate of itself" follows "stored": a resend).
void desk_reports_verdict (desk_reports_t *self, const char *id, desk_state_t state,
                           const char *code, const char *msg, const char *original,
                           int64_t original_us);

//  Under the lock: the time of the last verdict (0: none since start).
int64_t desk_reports_last_verdict (desk_reports_t *self);

int64_t desk_now_us (void);

#endif
