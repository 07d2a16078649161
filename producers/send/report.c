/*  report.c: the outcomes of the lines in input order (see report.h).  */
#include "report.h"

#include <stdlib.h>
#include <string.h>

report_t *
reports_add (reports_t *q, uint64_t line)
{
    if (q->n == q->cap) {
        //  Reuse the released room at the front before growing.
        if (q->head > 0 && q->head >= q->cap / 2) {
            memmove (q->v, q->v + q->head, (q->n - q->head) * sizeof *q->v);
            q->n -= q->head;
            q->head = 0;
        }
        else {
            size_t cap = q->cap ? q->cap * 2 : 1024;
            report_t *v = realloc (q->v, cap * sizeof *v);
            if (!v)
                return NULL;
            q->v = v;
            q->cap = cap;
        }
    }
    report_t *r = &q->v [q->n++];
    memset (r, 0, sizeof *r);
    r->line = line;
    r->state = RPT_WAIT;
    return r;
}

report_t *
reports_find (reports_t *q, uint64_t line)
{
    //  The first entry with a line >= line (binary search), then the
    //  waiting one among those of the same line.
    size_t lo = q->head, hi = q->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->v [mid].line < line)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < q->n && q->v [lo].line == line; lo++)
        if (q->v [lo].state == RPT_WAIT)
            return &q->v [lo];
    return NULL;
}

bool
reports_empty (const reports_t *q)
{
    return q->head == q->n;
}

bool
reports_next (reports_t *q, bool all, report_t *out)
{
    while (q->head < q->n) {
        report_t *r = &q->v [q->head];
        if (r->state == RPT_WAIT && !all)
            return false;
        q->head++;
        if (r->state == RPT_WAIT)
            continue;
        *out = *r;
        r->text = NULL;
        return true;
    }
    q->head = q->n = 0;
    return false;
}

void
reports_free (reports_t *q)
{
    for (size_t i = q->head; i < q->n; i++)
        free (q->v [i].text);
    free (q->v);
    memset (q, 0, sizeof *q);
}
