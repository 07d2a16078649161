/*  report: what each input line came to, released in input order.  The
    collector's verdicts arrive in the order its writers commit, not the
    order of the lines, and the lines refused here are known at once; so
    every line that has an outcome to tell takes its place in a queue
    ordered by line, and the outcomes leave the queue from its head only
    once every earlier line has one.  A line still waiting holds back the
    lines after it, never longer than the run: reports_next (..., true)
    empties the queue at the end.  Not thread-safe (send_t.lock).
*/
#ifndef REPORT_H_INCLUDED
#define REPORT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  What a line came to (report_t.state).
typedef enum {
    RPT_WAIT,                   //  spooled, no verdict yet
    RPT_NONE,                   //  nothing to tell: stored, or not sent (said once for the run)
    RPT_TEXT,                   //  a report to print: refused, here or by the collector
    RPT_DUP                     //  already stored: listed after the summary
} report_state_t;

typedef struct {
    uint64_t line;              //  input line (1 for the flag form)
    report_state_t state;
    char *text;                 //  RPT_TEXT: the whole report with its newline (owned)
    bool has_original;          //  RPT_DUP: the collector said which event it repeats
    bool same_content;          //  RPT_DUP: another id with this content (not this id again)
    uint8_t original [16];      //  RPT_DUP: the stored event's id
    int64_t received_us;        //  RPT_DUP: when the collector received it (unix µs)
} report_t;

//  The queue: entries v [head..n), in increasing line order.
typedef struct {
    report_t *v;                //  owned
    size_t head;
    size_t n;
    size_t cap;
} reports_t;

//  A new entry for line (not below the last one's) at the end of the
//  queue, RPT_WAIT.  NULL if out of memory.
report_t *reports_add (reports_t *q, uint64_t line);

//  The entry of line that is still waiting, or NULL.
report_t *reports_find (reports_t *q, uint64_t line);

//  True if the queue holds nothing.
bool reports_empty (const reports_t *q);

//  Takes the first entry off the queue if it no longer waits and copies it
//  to *out (out->text is then the caller's to free).  With all, entries
//  still waiting are dropped on the way (the end of the run).  False when
//  nothing is released.
bool reports_next (reports_t *q, bool all, report_t *out);

//  Frees the queue and the texts it still holds.
void reports_free (reports_t *q);

#endif
