/*  refusals.c: the per-sender budget for rejected_events.  */
#include "refusals.h"
#include "log.h"
#include "strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS   8192            //  senders tracked at once (power of two)
#define PROBES  16              //  slots tried before the shared overflow slot
#define WINDOW_MS 60000

typedef struct {
    char sender [160];          //  "" = free
    int64_t window_ms;          //  start of the current minute
    size_t used;                //  bytes charged in it
    uint64_t dropped_rows;      //  not written, not yet summed up in a row
    uint64_t dropped_bytes;
    bool logged;                //  this minute's "over budget" line is out
} slot_t;

struct tx_refusals_t {
    size_t budget;              //  bytes per sender per minute, 0 = unlimited
    size_t prefix;              //  bytes kept of a refused whole message
    slot_t *slots;              //  SLOTS + 1: the last is the overflow slot
};

tx_refusals_t *
tx_refusals_new (size_t budget, size_t prefix)
{
    tx_refusals_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->budget = budget;
    self->prefix = prefix ? prefix : 1;
    self->slots = calloc (SLOTS + 1, sizeof (slot_t));
    if (!self->slots)
        tx_refusals_destroy (&self);
    return self;
}

void
tx_refusals_destroy (tx_refusals_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

//  The sender's slot: its own, a free or expired one, or the overflow slot.
static slot_t *
s_slot (tx_refusals_t *self, const char *sender, int64_t now_ms)
{
    size_t h = (size_t) tx_strmap_hash (sender, strlen (sender));
    slot_t *reuse = NULL;
    for (size_t k = 0; k < PROBES; k++) {
        slot_t *s = &self->slots [(h + k) & (SLOTS - 1)];
        if (strcmp (s->sender, sender) == 0)
            return s;
        bool idle = !*s->sender
                 || (now_ms - s->window_ms >= 2 * WINDOW_MS && !s->dropped_rows);
        if (!reuse && idle)
            reuse = s;
    }
    if (!reuse)
        return &self->slots [SLOTS];
    memset (reuse, 0, sizeof *reuse);
    snprintf (reuse->sender, sizeof reuse->sender, "%s", sender);
    reuse->window_ms = now_ms;
    return reuse;
}

long
tx_refusals_keep (tx_refusals_t *self, const char *sender, int64_t now_ms,
                  size_t raw_len, bool whole_message)
{
    size_t keep = whole_message && raw_len > self->prefix ? self->prefix : raw_len;
    if (!self->budget)
        return (long) keep;
    slot_t *s = s_slot (self, sender, now_ms);
    if (now_ms - s->window_ms >= WINDOW_MS) {
        s->window_ms = now_ms;
        s->used = 0;
        s->logged = false;
    }
    size_t charge = keep + TX_REFUSALS_ROW_CHARGE;
    if (s->used + charge <= self->budget) {
        s->used += charge;
        return (long) keep;
    }
    s->dropped_rows++;
    s->dropped_bytes += raw_len;
    if (!s->logged) {
        s->logged = true;
        tx_log (TX_LOG_WARN, "sender over its refusal budget: refusals answered, not kept this minute",
                "sender=%s budget=%zu", s == &self->slots [SLOTS] ? "(many)" : sender, self->budget);
    }
    return -1;
}

bool
tx_refusals_take_summary (tx_refusals_t *self, const char *sender, int64_t now_ms,
                          uint64_t *rows, uint64_t *bytes)
{
    if (!self->budget)
        return false;
    slot_t *s = s_slot (self, sender, now_ms);
    if (!s->dropped_rows || now_ms - s->window_ms < WINDOW_MS)
        return false;
    *rows = s->dropped_rows;
    *bytes = s->dropped_bytes;
    s->dropped_rows = 0;
    s->dropped_bytes = 0;
    return true;
}
