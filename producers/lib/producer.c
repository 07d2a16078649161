/*  producer.c: libtongxin — events, submit into the spool, and the sender
 *  thread that batches, sends, resends and deletes what is acknowledged.
 */
#include "i18n.h"
#include "clock.h"
#include "tongxin.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "keyfile.h"
#include "lex.h"
#include "regclient.h"
#include "safetext.h"
#include "spool.h"
#include "utf8.h"
#include "uuid.h"
#include "validate.h"
#include "wire.h"

#define MAX_ENDPOINTS   16
_Static_assert (TONGXIN_PROTOCOL_VERSION == TX_WIRE_VERSION && TONGXIN_MAX_ATTRS == TX_WIRE_MAX_ATTRS
                && TONGXIN_MAX_CODE == TX_WIRE_MAX_CODE && TONGXIN_MAX_TEXT == TX_WIRE_MAX_STR
                && TONGXIN_MAX_DECIMAL == TX_LEX_MAX_DECIMAL, "tongxin.h's limits are the protocol's");
#define MAX_WINDOW      16
#define FRAME_BUDGET    (TX_WIRE_MAX_FRAME - 4096)  //  leave room for the envelope
#define RETRY_SEND_MS   200                         //  no collector connected: try again after
#define MON_ENDPOINT_FMT "inproc://tongxin-producer-monitor-%p"
#define LINK_RETRY_MS   500                         //  first reconnect after a refused handshake
#define LINK_RETRY_MAX  30000                       //  doubling up to this
#define KEY_REFUSALS    2                           //  ZAP 400s in a row: the key is refused
#define MECH_FAILURES   2                           //  failures in a row with a mechanism mismatch
#define CLOSED_FAILURES 4                           //  closed handshakes in a row, and
#define CLOSED_SPAN_MS  500                         //  over at least this long
#define CLOSED_FAST_MS  1000                        //  a close this soon after connecting is
                                                    //  at our HELLO: not a slow collector
#define STATUS_MS       60000                       //  a status at most this often when the
                                                    //  backlog changes (1.3)
#define STATUS_IDLE     10                          //  unchanged: every STATUS_IDLE intervals
#define STATUS_RETRY_MS 1000                        //  not sent (no connection): try again after
#define STATUS_LINGER_MS 200                        //  at close, for a status just sent

//  ----------------------------------------------------------------- events

//  How an attribute was added: its value's form is checked at submit.
typedef enum {
    A_PLAIN,                    //  int, double, bool, text: the wire's checks alone
    A_NUMERIC,                  //  text that must be a decimal-text (lex)
    A_DATE                      //  text that must be a date-text, a valid date (lex)
} attr_kind_t;

typedef struct {
    char *name;
    tx_value_t value;           //  strings owned (value.u.s.ptr)
    attr_kind_t kind;
} attr_t;

struct tongxin_event_t {
    char *type;                 //  owned
    char *unit;                 //  owned, NULL = the producer's
    char *partner;              //  owned, NULL = none
    int64_t at_us;              //  occurred_at, unix µs
    bool has_id;
    uint8_t id [16];
    bool has_supersedes;
    uint8_t supersedes [16];    //  the event this one corrects
    unsigned nth;               //  0 (as 1) or the ordinal of identical content
    attr_t *attrs;              //  n_attrs, owned
    size_t n_attrs;
};

tongxin_event_t *
tongxin_event_new (const char *type, int64_t occurred_at_us)
{
    tongxin_event_t *ev = calloc (1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->type = strdup (type ? type : "");
    ev->at_us = occurred_at_us;
    if (!ev->type)
        tongxin_event_destroy (&ev);
    return ev;
}

void
tongxin_event_destroy (tongxin_event_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tongxin_event_t *ev = *self_p;
    for (size_t i = 0; i < ev->n_attrs; i++) {
        free (ev->attrs [i].name);
        if (ev->attrs [i].value.type == TX_VAL_STR)
            free ((char *) ev->attrs [i].value.u.s.ptr);
    }
    free (ev->attrs);
    free (ev->type);
    free (ev->unit);
    free (ev->partner);
    free (ev);
    *self_p = NULL;
}

//  The setters store; tongxin_submit checks (s_check, once).

static int
s_set_str (char **field, const char *value)
{
    if (!value)
        return TONGXIN_EINVAL;
    char *copy = strdup (value);
    if (!copy)
        return TONGXIN_ENOMEM;
    free (*field);
    *field = copy;
    return TONGXIN_OK;
}

int
tongxin_event_set_unit (tongxin_event_t *ev, const char *unit)
{
    return s_set_str (&ev->unit, unit);
}

int
tongxin_event_set_partner (tongxin_event_t *ev, const char *region)
{
    return s_set_str (&ev->partner, region);
}

int
tongxin_id_parse (const char *text, uint8_t id [16])
{
    return text && tx_uuid_parse (text, strlen (text), id) == 0 ? TONGXIN_OK : TONGXIN_EINVAL;
}

int
tongxin_event_set_id (tongxin_event_t *ev, const char *uuid_text)
{
    uint8_t id [16];
    if (tongxin_id_parse (uuid_text, id) != TONGXIN_OK)
        return TONGXIN_EINVAL;
    memcpy (ev->id, id, 16);
    ev->has_id = true;
    return TONGXIN_OK;
}

int
tongxin_event_set_supersedes (tongxin_event_t *ev, const char *uuid_text)
{
    uint8_t id [16];
    if (tongxin_id_parse (uuid_text, id) != TONGXIN_OK)
        return TONGXIN_EINVAL;
    memcpy (ev->supersedes, id, 16);
    ev->has_supersedes = true;
    return TONGXIN_OK;
}

int
tongxin_event_set_nth (tongxin_event_t *ev, unsigned nth)
{
    if (!ev || nth < 1 || nth > TONGXIN_MAX_NTH)
        return TONGXIN_EINVAL;
    ev->nth = nth;
    return TONGXIN_OK;
}

static int
s_add (tongxin_event_t *ev, const char *name, tx_value_t value, attr_kind_t kind)
{
    if (!name)
        return TONGXIN_EINVAL;
    attr_t *attrs = realloc (ev->attrs, (ev->n_attrs + 1) * sizeof *attrs);
    if (!attrs)
        return TONGXIN_ENOMEM;
    ev->attrs = attrs;
    char *copy = strdup (name);
    if (!copy)
        return TONGXIN_ENOMEM;
    if (value.type == TX_VAL_STR) {
        char *s = strndup (value.u.s.ptr, value.u.s.len);
        if (!s) {
            free (copy);
            return TONGXIN_ENOMEM;
        }
        value.u.s.ptr = s;
    }
    ev->attrs [ev->n_attrs++] = (attr_t) { copy, value, kind };
    return TONGXIN_OK;
}

int
tongxin_event_add_int (tongxin_event_t *ev, const char *name, int64_t v)
{
    return s_add (ev, name, (tx_value_t) { .type = TX_VAL_INT, .u.i = v }, A_PLAIN);
}

int
tongxin_event_add_double (tongxin_event_t *ev, const char *name, double v)
{
    return s_add (ev, name, (tx_value_t) { .type = TX_VAL_FLOAT, .u.f = v }, A_PLAIN);
}

int
tongxin_event_add_bool (tongxin_event_t *ev, const char *name, bool v)
{
    return s_add (ev, name, (tx_value_t) { .type = TX_VAL_BOOL, .u.b = v }, A_PLAIN);
}

static int
s_add_text (tongxin_event_t *ev, const char *name, const char *v, attr_kind_t kind)
{
    if (!v)
        return TONGXIN_EINVAL;
    return s_add (ev, name, (tx_value_t) { .type = TX_VAL_STR, .u.s = { v, strlen (v) } }, kind);
}

int
tongxin_event_add_text (tongxin_event_t *ev, const char *name, const char *v)
{
    return s_add_text (ev, name, v, A_PLAIN);
}

//  numeric and date travel as strings; their form is checked at submit.
int
tongxin_event_add_numeric (tongxin_event_t *ev, const char *name, const char *decimal)
{
    return s_add_text (ev, name, decimal, A_NUMERIC);
}

int
tongxin_event_add_date (tongxin_event_t *ev, const char *name, const char *date)
{
    return s_add_text (ev, name, date, A_DATE);
}

void
tongxin_id_format (const uint8_t id [16], char out [37])
{
    tx_uuid_format (id, out);
}

bool
tongxin_text_valid (const char *s, size_t len)
{
    return s && tx_utf8_valid (s, len);
}

//  ----------------------------------------------------------------- producer

typedef struct {
    bool used;
    uint64_t batch_id;
    size_t n;                   //  events
    uint64_t seqs [TX_WIRE_MAX_EVENTS];
    uint8_t ids [TX_WIRE_MAX_EVENTS][16];
    uint8_t *frame;             //  the message, kept for resends
    size_t frame_len;
    size_t head_len;            //  its envelope, up to the events' array header
    bool rev;                   //  the envelope carries "rev" (revision 1.2)
    int rev_sent;               //  its value (2 or 3), 0: none
    int64_t due_ms;             //  (re)send at
    int attempts;               //  sends so far
} slot_t;

//  One endpoint's handshakes, from the DEALER's monitor (sender thread).
//  libzmq 4.3.4 reports, measured on real sockets: a key the collector's
//  ZAP handler refuses as HANDSHAKE_FAILED_AUTH with its status (400),
//  and then never reconnects; a wrong server public key as
//  HANDSHAKE_FAILED_NO_DETAIL (EPIPE/ECONNRESET: the collector cannot open
//  our HELLO and closes, within a round trip of connecting), then
//  reconnects with its backoff; CURVE against
//  a plain peer as HANDSHAKE_FAILED_PROTOCOL (mechanism mismatch), no
//  reconnect; a peer that is not ZeroMQ as DISCONNECTED after CONNECTED
//  with no handshake event, no reconnect.
typedef struct {
    const char *endpoint;       //  borrowed from tongxin_t.endpoints
    bool up;                    //  a handshake succeeded, no disconnect since
    bool shaking;               //  connected, no handshake verdict yet
    int failures;               //  failed handshakes in a row
    int refusals;               //  of which ZAP 400s
    int mismatches;             //  of which mechanism mismatches
    int closed;                 //  of which closed at once during the handshake
    int greeting;               //  of which closed before the ZeroMQ greeting
    int64_t connected_ms;       //  when the current connection was made
    int64_t first_fail_ms;      //  when the first of them failed
    int64_t reconnect_ms;       //  reconnect ourselves at (libzmq will not); 0: no
    int backoff_ms;             //  the next reconnect's delay
} link_t;

struct tongxin_t {
    char *endpoints [MAX_ENDPOINTS];
    size_t n_endpoints;
    char *unit;
    bool insecure;
    tx_keyfile_t key;           //  our keypair (CURVE)
    char server_key [TX_Z85_KEY_LEN + 1];
    int window, batch_events, linger_ms, ack_timeout_ms;
    tongxin_verdict_fn *on_verdict;
    void *verdict_arg;
    tongxin_link_fn *on_link;
    void *link_arg;
    tongxin_result_fn *on_result;
    void *result_arg;
    atomic_int revision;        //  the revision spoken: 3 (or as configured), 1 once a
                                //  collector refused "rev"
    char *key_file;             //  for messages (NULL: insecure)

    tx_spool_t *spool;
    tx_uuid_gen_t *gen;
    int wake_fd;                //  eventfd: submit -> sender
    pthread_t thread;
    bool started;
    atomic_int stop;
    atomic_int full_cause;      //  TONGXIN_FULL_* of the last TONGXIN_EFULL, 0: none yet

    pthread_mutex_t lock;       //  guards stats; cond signals verdicts
    pthread_cond_t cond;
    tongxin_stats_t stats;

    char *software;             //  for the status (revision 1.3)
    int status_ms;              //  a status this often; -1: never
    //  Revision 1.3, sender thread only:
    void *dealer;               //  the DEALER, for a status sent from a reply's handling
    uint64_t collector_rev;     //  the revision the collectors said in their acks: a
                                //  status goes out only when >= 3; 0: not known yet
    int64_t status_due_ms;      //  the next status at (0: at once, whatever changed)
    int64_t status_sent_ms;     //  the last one sent at (0: none since the last ack's "rev")
    int64_t told_backlog;       //  the backlog it said (-1: none said)
    int64_t verdict_us;         //  the last verdict (ack or error) came at: unix µs, 0: none

    slot_t *slots;              //  window slots (sender thread only)
    uint64_t next_batch_id;     //  sender thread only
    link_t links [MAX_ENDPOINTS];   //  per endpoint (sender thread only)
};


static void
s_set_error (tongxin_t *self, const char *fmt, const char *a, const char *b)
{
    pthread_mutex_lock (&self->lock);
    //  Cut to fit: this is for logs.
    if (snprintf (self->stats.last_error, sizeof self->stats.last_error, "%s%s%s", fmt,
                  a ? a : "", b ? b : "") < 0)
        self->stats.last_error [0] = 0;
    pthread_mutex_unlock (&self->lock);
}

//  Writes one rejected event to SPOOL/rejected.log as a JSON line.  The
//  file is opened under the spool's rules (no symbolic link, ours alone).
static void
s_log_rejected (tongxin_t *self, const uint8_t id [16], const char *code, const char *msg)
{
    char err [512];
    int fd = tx_spool_open_file (self->spool, "rejected.log",
                                 O_WRONLY | O_APPEND | O_CREAT, err, sizeof err);
    FILE *f = fd >= 0 ? fdopen (fd, "a") : NULL;
    if (!f) {
        if (fd >= 0)
            close (fd);
        fprintf (stderr, "level=error module=producer event=rejected-log-failed"
                 " error=\"%s\"\n", err);
        return;
    }
    char text [37], when [32];
    tx_uuid_format (id, text);
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf (f, "{\"at\":\"%s\",\"id\":\"%s\",\"code\":\"", when, text);
    for (const char *p = code; p && *p; p++)
        fputc (*p == '"' || *p == '\\' || (unsigned char) *p < 0x20 ? '?' : *p, f);
    fputs ("\",\"msg\":\"", f);
    for (const char *p = msg; p && *p; p++)
        fputc (*p == '"' || *p == '\\' || (unsigned char) *p < 0x20 ? '?' : *p, f);
    fputs ("\"}\n", f);
    fclose (f);
}

//  The spool's log lines: warnings and errors only (a CLI runs it often).
static void
s_spool_log (void *arg, int level, const char *line)
{
    (void) arg;
    if (level <= TX_SPOOL_LOG_WARN)
        fprintf (stderr, "%s\n", line);
}

//  An event's verdict to the application; dup (may be NULL) says what a
//  duplicate repeats (revision 1.2).
static void
s_verdict (tongxin_t *self, const uint8_t id [16], int verdict, const char *code, const char *msg,
           const tx_dup_t *dup)
{
    if (verdict == TONGXIN_REJECTED)
        s_log_rejected (self, id, code, msg);
    if (self->on_verdict)
        self->on_verdict (self->verdict_arg, id, verdict, code, msg);
    if (self->on_result) {
        tongxin_result_t r = { .id = id, .verdict = verdict, .code = code, .msg = msg };
        if (dup) {
            r.has_original = true;
            memcpy (r.original, dup->id, 16);
            r.original_received_us = dup->at_sec * 1000000 + dup->at_nsec / 1000;
        }
        self->on_result (self->result_arg, &r);
    }
}

//  Builds a batch from spool records into a free slot.  Returns the slot
//  or NULL when the spool has nothing to send.
static slot_t *
s_fill (tongxin_t *self, uint64_t *after, tx_spool_rec_t *recs)
{
    slot_t *slot = NULL;
    for (int i = 0; i < self->window; i++)
        if (!self->slots [i].used) {
            slot = &self->slots [i];
            break;
        }
    if (!slot)
        return NULL;
    int n = tx_spool_read (self->spool, *after, recs, (size_t) self->batch_events);
    if (n <= 0)
        return NULL;
    //  Take as many records as fit in one frame.
    size_t take = 0, bytes = 0;
    while (take < (size_t) n && (take == 0 || bytes + recs [take].len <= FRAME_BUDGET)) {
        bytes += recs [take].len;
        take++;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    uint64_t batch_id = self->next_batch_id++;
    if (self->next_batch_id == 0)
        self->next_batch_id = 1;
    int revision = atomic_load (&self->revision);
    bool rev = revision >= 2;
    tx_wire_pack_batch_head_rev (&pk, batch_id, take, rev ? (uint64_t) revision : 0);
    slot->head_len = sb.size;
    slot->rev = rev;
    slot->rev_sent = rev ? revision : 0;
    for (size_t i = 0; i < take; i++) {
        msgpack_sbuffer_write (&sb, recs [i].data, recs [i].len);
        slot->seqs [i] = recs [i].seq;
        if (tx_wire_payload_event_id (recs [i].data, recs [i].len, slot->ids [i]) != 0)
            memset (slot->ids [i], 0, 16);
    }
    *after = recs [take - 1].seq;
    slot->used = true;
    slot->batch_id = batch_id;
    slot->n = take;
    slot->frame = (uint8_t *) sb.data;     //  the slot owns it now
    slot->frame_len = sb.size;
    slot->due_ms = 0;
    slot->attempts = 0;
    pthread_mutex_lock (&self->lock);
    self->stats.in_flight += take;
    pthread_mutex_unlock (&self->lock);
    return slot;
}

static void
s_free_slot (tongxin_t *self, slot_t *slot)
{
    pthread_mutex_lock (&self->lock);
    self->stats.in_flight -= slot->n;
    pthread_mutex_unlock (&self->lock);
    free (slot->frame);
    slot->frame = NULL;
    slot->used = false;
}

static int
s_timeout_ms (tongxin_t *self, int attempts)
{
    //  10 s, 20 s, 40 s, 60 s ..., with up to 25% jitter.
    int64_t t = self->ack_timeout_ms;
    for (int i = 1; i < attempts && t < 60000; i++)
        t *= 2;
    if (t > 60000)
        t = 60000;
    return (int) (t + (t * (rand () % 256)) / 1024);
}

static void
s_send (tongxin_t *self, void *dealer, slot_t *slot)
{
    int64_t now = tx_clock_ms ();
    if (zmq_send (dealer, slot->frame, slot->frame_len, ZMQ_DONTWAIT) < 0) {
        //  No collector connected (IMMEDIATE) or its queue is full: later.
        slot->due_ms = now + RETRY_SEND_MS;
        return;
    }
    if (slot->attempts++ > 0) {
        pthread_mutex_lock (&self->lock);
        self->stats.resent_batches++;
        pthread_mutex_unlock (&self->lock);
    }
    slot->due_ms = now + s_timeout_ms (self, slot->attempts);
}

//  ----------------------------------------------------------------- status

static int64_t
s_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  Revision 1.3: sends our state, if the collectors take it.  The oldest
//  waiting event's time is the time in its id (a UUIDv7: when it was made,
//  which is when it was spooled unless the application chose the id).
static void
s_status_send (tongxin_t *self, int64_t now)
{
    if (!self->dealer || self->status_ms < 0 || self->collector_rev < 3
    ||  atomic_load (&self->revision) < 3)
        return;
    tx_spool_stats_t ss;
    tx_spool_stats (self->spool, &ss);
    tx_status_msg_t st = { .backlog = ss.records, .software = self->software };
    tx_spool_rec_t rec;
    uint8_t id [16];
    if (st.backlog > 0 && tx_spool_read (self->spool, 0, &rec, 1) == 1
    &&  tx_wire_payload_event_id (rec.data, rec.len, id) == 0) {
        int64_t ms = (int64_t) tx_uuid_v7_ms (id);
        int64_t wall_ms = s_wall_us () / 1000;
        if (ms > wall_ms)
            ms = wall_ms;       //  an id from a clock ahead: not in the future
        //  Before 2000 (an id the application chose): not told.
        st.has_oldest = ms >= INT64_C (946684800000);
        st.oldest_sec = ms / 1000;
        st.oldest_nsec = (uint32_t) (ms % 1000) * 1000000;
    }
    if (self->verdict_us > 0) {
        st.has_verdict = true;
        st.verdict_sec = self->verdict_us / 1000000;
        st.verdict_nsec = (uint32_t) (self->verdict_us % 1000000) * 1000;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (tx_wire_pack_status (&sb, &st, NULL, 0) == 0
    &&  zmq_send (self->dealer, sb.data, sb.size, ZMQ_DONTWAIT) == (int) sb.size) {
        self->status_sent_ms = now;
        self->told_backlog = (int64_t) st.backlog;
        self->status_due_ms = now + self->status_ms;
    }
    else {
        self->status_due_ms = now + STATUS_RETRY_MS;
        self->told_backlog = -1;        //  so the retry goes, changed or not
    }
    msgpack_sbuffer_destroy (&sb);
}

//  A status falls due: sent if the backlog changed since the last one (at
//  most one per status_ms, so a busy producer sends one a minute), or
//  every STATUS_IDLE intervals if not (an idle producer, one message in 10
//  minutes: every message costs a collector of 10,000 connections a scan
//  of libzmq's timers, docs/scaling.md).  Right after a connection, the
//  first ack that says 1.3, or an emptied spool, status_due_ms is 0 and
//  it goes at once.
static void
s_status_tick (tongxin_t *self, int64_t now)
{
    tx_spool_stats_t ss;
    tx_spool_stats (self->spool, &ss);
    if (self->status_due_ms == 0 || (int64_t) ss.records != self->told_backlog
    ||  now - self->status_sent_ms >= (int64_t) self->status_ms * STATUS_IDLE)
        s_status_send (self, now);
    else
        self->status_due_ms = now + self->status_ms;
}

//  What an ack says of the collector's revision (1.3: its "rev").  An ack
//  to a batch of rev >= 3 without "rev" comes from an older collector: no
//  status to it.  A collector newly known to take status gets one at once.
static void
s_status_learn (tongxin_t *self, const tx_reply_t *reply, int batch_rev)
{
    if (batch_rev < 3)
        return;
    uint64_t before = self->collector_rev;
    self->collector_rev = reply->rev ? reply->rev : 2;
    if (before < 3 && self->collector_rev >= 3)
        self->status_due_ms = 0;
}

//  A settled slot: its verdicts counted, then the spool lets go of its
//  events and the slot is free.
static void
s_release (tongxin_t *self, slot_t *slot, uint64_t stored, uint64_t dup, uint64_t rejected)
{
    //  The counts first: once the spool lets go, tongxin_flush may return
    //  and the caller read them.
    pthread_mutex_lock (&self->lock);
    self->stats.stored += stored;
    self->stats.duplicate += dup;
    self->stats.rejected += rejected;
    pthread_mutex_unlock (&self->lock);
    tx_spool_ack (self->spool, slot->seqs, slot->n);
    self->verdict_us = s_wall_us ();
    //  Revision 1.3: an emptied spool is told at once, before tongxin_flush
    //  returns (a tongxin-send exits then).
    tx_spool_stats_t ss;
    tx_spool_stats (self->spool, &ss);
    if (ss.records == 0 && self->told_backlog != 0)
        s_status_send (self, tx_clock_ms ());
    pthread_mutex_lock (&self->lock);
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
    s_free_slot (self, slot);
}

//  Every event of a slot gets the same verdict (error replies).
static void
s_settle_all (tongxin_t *self, slot_t *slot, const char *code, const char *msg)
{
    for (size_t i = 0; i < slot->n; i++)
        s_verdict (self, slot->ids [i], TONGXIN_REJECTED, code, msg, NULL);
    s_release (self, slot, 0, 0, slot->n);
}

//  A collector older than revision 1.2 refuses the batch's "rev" key as
//  malformed (docs/protocol.md 12): speak 1.1 from now on and send the
//  same events again without it, at once.  A batch malformed for another
//  reason is then refused again, and settled.
static void
s_downgrade (tongxin_t *self, slot_t *slot, const char *msg)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    if (tx_wire_pack_batch_head (&pk, slot->batch_id, slot->n) != 0
    ||  msgpack_sbuffer_write (&sb, (const char *) slot->frame + slot->head_len,
                               slot->frame_len - slot->head_len) != 0) {
        msgpack_sbuffer_destroy (&sb);
        return;                 //  out of memory: the batch stays in flight as it is
    }
    if (atomic_exchange (&self->revision, 1) >= 2)
        s_set_error (self, "the collector does not speak protocol revision 1.2 (", msg,
                     "): speaking 1.1, without duplicate details");
    free (slot->frame);
    slot->frame = (uint8_t *) sb.data;
    slot->frame_len = sb.size;
    slot->head_len = 0;
    slot->rev = false;
    slot->rev_sent = 0;
    slot->due_ms = 0;
}

//  An error reply: a stop (version, authorisation, an unknown code) keeps
//  the spool for the operator; malformed / too_large settle the batch,
//  which can never be stored as it is.
static void
s_on_error (tongxin_t *self, const tx_reply_t *reply, slot_t *slot)
{
    char code [64], msg [256];
    snprintf (code, sizeof code, "%.*s", (int) reply->code_len, reply->code);
    snprintf (msg, sizeof msg, "%.*s", (int) reply->msg_len, reply->msg);
    bool stop = reply->error == TX_ERROR_UNSUPPORTED_VERSION || reply->error == TX_ERROR_UNAUTHORIZED
             || reply->error < 0;
    if (stop) {
        pthread_mutex_lock (&self->lock);
        self->stats.stopped = true;
        if (snprintf (self->stats.last_error, sizeof self->stats.last_error,
                      "collector: %s: %s", code, msg) < 0)
            self->stats.last_error [0] = 0;
        pthread_cond_broadcast (&self->cond);
        pthread_mutex_unlock (&self->lock);
    }
    else
    if (!slot && reply->batch_id == 0 && reply->error == TX_ERROR_MALFORMED
    &&  self->status_sent_ms > 0) {
        //  A collector older than 1.3 (another endpoint than the one whose
        //  ack said 1.3, or one downgraded) refused our status: no more
        //  status until an ack says 1.3 again.
        self->collector_rev = 2;
        self->status_sent_ms = 0;
    }
    else
    if (slot && slot->rev && reply->error == TX_ERROR_MALFORMED)
        s_downgrade (self, slot, msg);
    else
    if (slot)
        s_settle_all (self, slot, code, msg);
}

//  An ack: each event's verdict, then the spool lets go of the batch.
static void
s_on_ack (tongxin_t *self, const tx_reply_t *reply, slot_t *slot)
{
    uint64_t stored = 0, dup = 0, rejected = 0;
    const tx_dup_t *dups [TX_WIRE_MAX_EVENTS] = { NULL };
    for (size_t k = 0; k < reply->n_dups; k++)
        dups [reply->dups [k].index] = &reply->dups [k];
    for (size_t i = 0; i < slot->n; i++) {
        int r = reply->results [i];
        if (r == TX_RESULT_REJECTED) {
            char code [64] = "rejected", msg [TX_WIRE_MAX_STR + 1] = "";
            for (size_t k = 0; k < reply->n_rejected; k++)
                if (reply->rejected [k].index == i) {
                    snprintf (code, sizeof code, "%.*s", (int) reply->rejected [k].code_len,
                              reply->rejected [k].code_str);
                    snprintf (msg, sizeof msg, "%.*s", (int) reply->rejected [k].msg_len,
                              reply->rejected [k].msg ? reply->rejected [k].msg : "");
                }
            s_verdict (self, slot->ids [i], TONGXIN_REJECTED, code, msg, NULL);
            rejected++;
        }
        else {
            s_verdict (self, slot->ids [i], r == TX_RESULT_STORED ? TONGXIN_STORED : TONGXIN_DUPLICATE,
                       NULL, NULL, r == TX_RESULT_DUPLICATE ? dups [i] : NULL);
            if (r == TX_RESULT_STORED)
                stored++;
            else
                dup++;
        }
    }
    s_release (self, slot, stored, dup, rejected);
}

static void
s_on_reply (tongxin_t *self, const uint8_t *data, size_t size, tx_wire_decoder_t *dec)
{
    tx_reply_t reply;
    char err [128];
    if (tx_wire_decode_reply (data, size, &reply, dec, err, sizeof err) != TX_WIRE_OK) {
        s_set_error (self, "unreadable reply from the collector: ", err, NULL);
        return;                 //  the batch stays in flight and is resent
    }
    slot_t *slot = NULL;
    for (int i = 0; i < self->window; i++)
        if (self->slots [i].used && self->slots [i].batch_id == reply.batch_id)
            slot = &self->slots [i];
    if (reply.type == TX_REPLY_ERROR)
        s_on_error (self, &reply, slot);
    else
    if (slot && reply.n_results == slot->n) {
        s_status_learn (self, &reply, slot->rev_sent);
        s_on_ack (self, &reply, slot);
    }
    //  else a late ack for a batch settled already
}

//  ----------------------------------------------------------------- link

//  What one endpoint's failures in a row say: TONGXIN_LINK_CONNECTING while
//  they may still be a passing fault.
static int
s_link_diagnosis (const link_t *l, int64_t now)
{
    if (l->up || l->failures == 0)
        return TONGXIN_LINK_CONNECTING;
    if (l->refusals >= KEY_REFUSALS)
        return TONGXIN_LINK_KEY_REFUSED;
    if (l->mismatches > 0 && l->failures >= MECH_FAILURES)
        return TONGXIN_LINK_MECHANISM;
    //  Slow closes (a collector too busy to finish handshakes in time) and
    //  the like tell nothing: only a majority of quick ones does.
    if (l->failures >= CLOSED_FAILURES && now - l->first_fail_ms >= CLOSED_SPAN_MS) {
        if (l->closed * 2 > l->failures)
            return TONGXIN_LINK_SERVER_KEY;
        if (l->greeting * 2 > l->failures)
            return TONGXIN_LINK_NOT_ZMTP;
    }
    return TONGXIN_LINK_CONNECTING;
}

//  The message for a diagnosis: what is wrong and which key or setting to check.
static void
s_link_message (tongxin_t *self, int link, const link_t *l, char *out, size_t size)
{
    switch (link) {
        case TONGXIN_LINK_KEY_REFUSED:
            snprintf (out, size, _("the collector at %s refused our key, the key of unit %s in %s "
                      "(ZAP status 400, %d times): it is unknown or revoked; ask the administrator "
                      "to issue one (tongxin-admin key issue %s)"), l->endpoint, self->unit,
                      self->key_file ? self->key_file : "-", l->refusals, self->unit);
            break;
        case TONGXIN_LINK_SERVER_KEY:
            //  libzmq may report a mechanism mismatch as a plain close.
            snprintf (out, size, self->insecure
                      ? _("no handshake with the collector at %s succeeded (%d tries, it closed the "
                        "connection each time): it may require CURVE; else check the endpoint")
                      : _("no CURVE handshake with the collector at %s succeeded (%d tries, it "
                        "closed the connection each time): check the collector's public key "
                        "(server key) and the endpoint"), l->endpoint, l->failures);
            break;
        case TONGXIN_LINK_MECHANISM:
            snprintf (out, size, self->insecure
                      ? _("the collector at %s requires CURVE and this producer is insecure: give it "
                        "the unit's key file and the collector's public key")
                      : _("the collector at %s does not use CURVE (is it running insecure?): the "
                        "security mechanisms differ"), l->endpoint);
            break;
        case TONGXIN_LINK_NOT_ZMTP:
            snprintf (out, size, _("%s closed the connection before the ZeroMQ greeting (%d tries): "
                      "check the endpoint; is a Tongxin collector listening there?"), l->endpoint,
                      l->failures);
            break;
        default:
            *out = 0;
    }
}

//  Sets stats.link from every endpoint (UP if any is up, else the most
//  telling diagnosis) and tells on_link when it changes.
static void
s_link_update (tongxin_t *self, int64_t now)
{
    int link = TONGXIN_LINK_CONNECTING;
    const link_t *which = NULL;
    static const int rank [] = { 0, 9, 4, 2, 3, 1 };   //  by TONGXIN_LINK_*
    for (size_t i = 0; i < self->n_endpoints; i++) {
        const link_t *l = &self->links [i];
        int d = l->up ? TONGXIN_LINK_UP : s_link_diagnosis (l, now);
        if (rank [d] > rank [link]) {
            link = d;
            which = l;
        }
    }
    char msg [sizeof self->stats.link_error] = "";
    if (which && link != TONGXIN_LINK_UP)
        s_link_message (self, link, which, msg, sizeof msg);
    pthread_mutex_lock (&self->lock);
    bool changed = self->stats.link != link;
    self->stats.link = link;
    if (link > TONGXIN_LINK_UP) {
        snprintf (self->stats.link_error, sizeof self->stats.link_error, "%s", msg);
        snprintf (self->stats.link_endpoint, sizeof self->stats.link_endpoint, "%s", which->endpoint);
        self->stats.link_failures = which->failures;
        //  The same text, cut to the shorter field (at a byte: logs only).
        snprintf (self->stats.last_error, sizeof self->stats.last_error, "%.*s",
                  (int) sizeof self->stats.last_error - 1, msg);
    }
    else {
        self->stats.link_error [0] = 0;
        self->stats.link_endpoint [0] = 0;
        self->stats.link_failures = 0;
    }
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
    if (changed && self->on_link)
        self->on_link (self->link_arg, link, link > TONGXIN_LINK_UP ? msg : NULL);
}

//  One failed handshake on l; reconnect (reconnect true: libzmq will not)
//  after a backoff.
static void
s_link_failed (tongxin_t *self, link_t *l, int64_t now, bool reconnect)
{
    l->shaking = false;
    if (l->failures++ == 0)
        l->first_fail_ms = now;
    if (reconnect) {
        l->reconnect_ms = now + l->backoff_ms;
        l->backoff_ms = l->backoff_ms * 2 > LINK_RETRY_MAX ? LINK_RETRY_MAX : l->backoff_ms * 2;
    }
    pthread_mutex_lock (&self->lock);
    self->stats.handshakes_failed++;
    pthread_mutex_unlock (&self->lock);
}

//  One monitor event about endpoint addr.  Returns true if the collector
//  may have lost our batches (a connection is gone).
static bool
s_link_event (tongxin_t *self, uint16_t e, uint32_t value, const char *addr, size_t addr_len,
              int64_t now)
{
    link_t *l = &self->links [0];
    for (size_t i = 0; i < self->n_endpoints; i++)
        if (strlen (self->links [i].endpoint) == addr_len
        &&  memcmp (self->links [i].endpoint, addr, addr_len) == 0)
            l = &self->links [i];
    bool lost = false;
    switch (e) {
        case ZMQ_EVENT_CONNECTED:
            l->shaking = true;
            l->connected_ms = now;
            l->reconnect_ms = 0;            //  libzmq is on it
            break;
        case ZMQ_EVENT_CONNECT_DELAYED:
        case ZMQ_EVENT_CONNECT_RETRIED:
            l->reconnect_ms = 0;
            break;
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            *l = (link_t) { .endpoint = l->endpoint, .up = true, .backoff_ms = LINK_RETRY_MS };
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            if (value == 400)
                l->refusals++;
            else {
                char why [96];
                snprintf (why, sizeof why, " could not check our key (ZAP status %u); retrying", value);
                s_set_error (self, "the collector at ", l->endpoint, why);
            }
            s_link_failed (self, l, now, true);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
                l->mismatches++;
            else
            if (now - l->connected_ms < CLOSED_FAST_MS)
                l->closed++;
            s_link_failed (self, l, now, true);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            if (now - l->connected_ms < CLOSED_FAST_MS)
                l->closed++;
            s_link_failed (self, l, now, true);     //  libzmq retries: CONNECT_RETRIED cancels ours
            break;
        case ZMQ_EVENT_DISCONNECTED:
            lost = true;
            if (l->shaking) {                   //  before any handshake: not ZeroMQ?
                if (now - l->connected_ms < CLOSED_FAST_MS)
                    l->greeting++;
                s_link_failed (self, l, now, true);
            }
            l->up = false;
            break;
    }
    s_link_update (self, now);
    return lost;
}

//  Reconnects the endpoints whose handshake failed in a way libzmq does
//  not retry.  Returns the earliest time still pending (or until).
static int64_t
s_link_reconnect (tongxin_t *self, void *dealer, int64_t now, int64_t until)
{
    for (size_t i = 0; i < self->n_endpoints; i++) {
        link_t *l = &self->links [i];
        if (!l->reconnect_ms)
            continue;
        if (l->reconnect_ms <= now) {
            l->reconnect_ms = 0;
            zmq_disconnect (dealer, l->endpoint);  //  may be gone already: fine
            if (zmq_connect (dealer, l->endpoint) != 0)
                s_set_error (self, "cannot connect to ", l->endpoint, NULL);
        }
        else
        if (l->reconnect_ms < until)
            until = l->reconnect_ms;
    }
    return until;
}

//  The sender thread's sockets: the DEALER to the collector(s) and the
//  PAIR that receives its monitor's events.
typedef struct {
    void *ctx;
    void *dealer;
    void *mon;
} sockets_t;

#define MON_EVENTS (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH \
                    | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL \
                    | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_DELAYED \
                    | ZMQ_EVENT_CONNECT_RETRIED)

//  The DEALER with its options (CURVE unless insecure) and its monitor,
//  connected to every endpoint.
static void
s_sockets_open (tongxin_t *self, sockets_t *z)
{
    z->ctx = zmq_ctx_new ();
    z->dealer = zmq_socket (z->ctx, ZMQ_DEALER);
    void *dealer = z->dealer;
    int one = 1, zero = 0, ivl = 100, ivl_max = 30000, hwm = MAX_WINDOW * 2;
    int hb_ivl = 5000, hb_timeout = 15000, hb_ttl = 15000;
    zmq_setsockopt (dealer, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt (dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (dealer, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt (dealer, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
    zmq_setsockopt (dealer, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (dealer, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl);
    zmq_setsockopt (dealer, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout);
    zmq_setsockopt (dealer, ZMQ_HEARTBEAT_TTL, &hb_ttl, sizeof hb_ttl);
    if (!self->insecure) {
        zmq_setsockopt (dealer, ZMQ_CURVE_SERVERKEY, self->server_key, TX_Z85_KEY_LEN);
        zmq_setsockopt (dealer, ZMQ_CURVE_PUBLICKEY, self->key.public_key, TX_Z85_KEY_LEN);
        zmq_setsockopt (dealer, ZMQ_CURVE_SECRETKEY, self->key.secret_key, TX_Z85_KEY_LEN);
    }
    char mon_ep [96];
    snprintf (mon_ep, sizeof mon_ep, MON_ENDPOINT_FMT, (void *) self);
    zmq_socket_monitor (dealer, mon_ep, MON_EVENTS);
    z->mon = zmq_socket (z->ctx, ZMQ_PAIR);
    zmq_connect (z->mon, mon_ep);
    for (size_t i = 0; i < self->n_endpoints; i++) {
        self->links [i] = (link_t) { .endpoint = self->endpoints [i], .backoff_ms = LINK_RETRY_MS };
        if (zmq_connect (dealer, self->endpoints [i]) != 0)
            s_set_error (self, "cannot connect to ", self->endpoints [i], NULL);
    }
}

static void
s_sockets_close (sockets_t *z)
{
    zmq_socket_monitor (z->dealer, NULL, 0);
    zmq_close (z->mon);
    zmq_close (z->dealer);
    zmq_ctx_term (z->ctx);
}

//  Fills the window with new batches and (re)sends what is due, unless the
//  collector said stop.
static void
s_pump (tongxin_t *self, void *dealer, uint64_t *after, tx_spool_rec_t *recs, int64_t now)
{
    pthread_mutex_lock (&self->lock);
    bool stopped = self->stats.stopped;
    pthread_mutex_unlock (&self->lock);
    if (!stopped) {
        slot_t *slot;
        while ((slot = s_fill (self, after, recs)))
            s_send (self, dealer, slot);
        for (int i = 0; i < self->window; i++)
            if (self->slots [i].used && self->slots [i].due_ms <= now)
                s_send (self, dealer, &self->slots [i]);
        if (self->collector_rev >= 3 && self->status_due_ms <= now)
            s_status_tick (self, now);
    }
}

//  When the next slot falls due, or until if none does sooner.
static int64_t
s_next_due (tongxin_t *self, int64_t until)
{
    for (int i = 0; i < self->window; i++)
        if (self->slots [i].used && self->slots [i].due_ms < until)
            until = self->slots [i].due_ms;
    if (self->collector_rev >= 3 && self->status_ms >= 0 && self->status_due_ms < until)
        until = self->status_due_ms;
    return until;
}

//  Every reply waiting on the DEALER.
static void
s_drain_replies (tongxin_t *self, void *dealer, tx_wire_decoder_t *dec)
{
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            return;
        }
        if (!zmq_msg_more (&msg))
            s_on_reply (self, zmq_msg_data (&msg), zmq_msg_size (&msg), dec);
        else {
            //  Not ours: a reply is one frame.  Drain the rest.
            while (zmq_msg_more (&msg) && zmq_msg_recv (&msg, dealer, 0) >= 0)
                ;
        }
        zmq_msg_close (&msg);
    }
}

//  One monitor event.  Monitor events arrive late: the first handshake's
//  event may come after we sent on that connection.  Only a connection
//  that replaces a lost one can have lost batches, so *lost_one (a
//  connection was lost) decides whether a handshake means resending now.
static void
s_on_monitor (tongxin_t *self, void *mon, bool *lost_one)
{
    zmq_msg_t ev, addr;
    zmq_msg_init (&ev);
    zmq_msg_init (&addr);
    if (zmq_msg_recv (&ev, mon, 0) >= 0 && zmq_msg_recv (&addr, mon, 0) >= 0 && zmq_msg_size (&ev) >= 6) {
        uint16_t e;
        uint32_t value;
        memcpy (&e, zmq_msg_data (&ev), 2);
        memcpy (&value, (uint8_t *) zmq_msg_data (&ev) + 2, 4);
        if (s_link_event (self, e, value, zmq_msg_data (&addr), zmq_msg_size (&addr), tx_clock_ms ()))
            *lost_one = true;
        if (e == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            self->status_due_ms = 0;        //  a new connection hears our state (1.3)
            //  A new connection has a new routing id at the collector:
            //  replies to the old one are lost, so resend now.
            for (int i = 0; *lost_one && i < self->window; i++)
                if (self->slots [i].used && self->slots [i].attempts > 0)
                    self->slots [i].due_ms = 0;
        }
    }
    zmq_msg_close (&ev);
    zmq_msg_close (&addr);
}

static void *
s_sender (void *arg)
{
    tongxin_t *self = arg;
    sockets_t z;
    s_sockets_open (self, &z);
    bool lost_one = false;
    tx_wire_decoder_t *dec = tx_wire_decoder_new ();
    tx_spool_rec_t *recs = calloc ((size_t) self->batch_events, sizeof *recs);
    uint64_t after = 0;
    self->dealer = z.dealer;
    while (!atomic_load (&self->stop) && dec && recs) {
        int64_t now = tx_clock_ms ();
        s_pump (self, z.dealer, &after, recs, now);
        int64_t next = s_next_due (self, s_link_reconnect (self, z.dealer, now, now + 100));
        zmq_pollitem_t items [] = {
            { z.dealer, 0, ZMQ_POLLIN, 0 },
            { z.mon, 0, ZMQ_POLLIN, 0 },
            { NULL, self->wake_fd, ZMQ_POLLIN, 0 },
        };
        long wait = next - now;
        if (zmq_poll (items, 3, wait > 0 ? wait : 0) < 0 && zmq_errno () != EINTR)
            break;
        if (items [2].revents & ZMQ_POLLIN) {
            uint64_t v;
            ssize_t r = read (self->wake_fd, &v, sizeof v);
            (void) r;
        }
        if (items [0].revents & ZMQ_POLLIN)
            s_drain_replies (self, z.dealer, dec);
        if (items [1].revents & ZMQ_POLLIN)
            s_on_monitor (self, z.mon, &lost_one);
    }
    free (recs);
    tx_wire_decoder_destroy (&dec);
    //  A status just sent (the spool emptied, then tongxin_destroy) may
    //  still be in ZeroMQ's queue: give it a moment to leave.
    if (self->status_sent_ms && tx_clock_ms () - self->status_sent_ms < 1000) {
        int linger = STATUS_LINGER_MS;
        zmq_setsockopt (z.dealer, ZMQ_LINGER, &linger, sizeof linger);
    }
    self->dealer = NULL;
    s_sockets_close (&z);
    return NULL;
}

static void
s_free (tongxin_t *self)
{
    for (size_t i = 0; i < self->n_endpoints; i++)
        free (self->endpoints [i]);
    free (self->unit);
    free (self->key_file);
    free (self->software);
    if (self->slots)
        for (int i = 0; i < self->window; i++)
            free (self->slots [i].frame);
    free (self->slots);
    tx_spool_close (&self->spool);
    tx_uuid_gen_destroy (&self->gen);
    if (self->wake_fd >= 0)
        close (self->wake_fd);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->cond);
    free (self);
}

//  True if ep is an endpoint a producer can connect to: tcp://HOST:PORT
//  (PORT 1..65535, HOST a name, an IPv4 address or [IPv6]) or ipc://PATH.
//  Checked by its text, not by connecting: a trial connection would reach
//  the collector and end in its handshake (a failure counted there).
static bool
s_endpoint_ok (const char *ep)
{
    if (!ep)
        return false;
    if (!strncmp (ep, "ipc://", 6))
        return ep [6] != 0;
    if (strncmp (ep, "tcp://", 6) != 0)
        return false;
    const char *host = ep + 6, *colon = strrchr (host, ':');
    if (!colon || colon == host || (*host == '[' && colon [-1] != ']'))
        return false;
    for (const char *p = host; p < colon; p++)
        if (*p <= ' ' || *p == '/' || *p == '*' || *p == 0x7f)
            return false;
    char *end;
    errno = 0;
    long port = strtol (colon + 1, &end, 10);
    return colon [1] >= '0' && colon [1] <= '9' && !*end && !errno && port >= 1 && port <= 65535;
}

//  A malformed endpoint ("foo", "tcp://host" without a port) is refused
//  here, instead of failing in the sender thread like an outage.  0, or -1
//  with the reason in err.
static int
s_check_endpoints (const tongxin_opts_t *opts, char *err, size_t errlen)
{
    for (size_t i = 0; i < opts->n_endpoints; i++) {
        const char *ep = opts->endpoints [i];
        if (!s_endpoint_ok (ep)) {
            snprintf (err, errlen, _("endpoint '%.200s' is not valid: use tcp://HOST:PORT or ipc://PATH"),
                      ep ? ep : "");
            return -1;
        }
    }
    return 0;
}

//  What tongxin_new needs of opts.  0, or -1 with the reason in err.
static int
s_check_opts (const tongxin_opts_t *opts, char *err, size_t errlen)
{
    if (!opts || !opts->unit || !*opts->unit || !opts->spool_dir || !opts->n_endpoints
    ||  opts->n_endpoints > MAX_ENDPOINTS) {
        snprintf (err, errlen, _("unit, spool_dir and 1 to %d endpoints are required"), MAX_ENDPOINTS);
        return -1;
    }
    size_t swlen = opts && opts->software ? strlen (opts->software) : 0;
    if (opts && opts->software && (swlen == 0 || swlen > TONGXIN_MAX_SOFTWARE
                                   || !tx_utf8_valid (opts->software, swlen)
                                   || tx_safetext_find (opts->software, NULL, 0) >= 0)) {
        snprintf (err, errlen, _("software must be 1 to %d bytes of printable UTF-8"),
                  TONGXIN_MAX_SOFTWARE);
        return -1;
    }
    if (!opts->insecure && (!opts->key_file || !opts->server_key)) {
        snprintf (err, errlen, _("CURVE needs the unit's key file and the collector's public key "
                               "(or insecure mode)"));
        return -1;
    }
    return s_check_endpoints (opts, err, errlen);
}

//  A producer with opts' settings (defaults and bounds applied) and its
//  own resources; nothing opened yet.  NULL if out of memory.
static tongxin_t *
s_new (const tongxin_opts_t *opts)
{
    tongxin_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->wake_fd = -1;
    pthread_mutex_init (&self->lock, NULL);
    tx_clock_cond_init (&self->cond);     //  timed waits on the monotonic clock
    bool ok = true;
    for (size_t i = 0; i < opts->n_endpoints; i++)
        ok &= (self->endpoints [self->n_endpoints++] = strdup (opts->endpoints [i])) != NULL;
    self->unit = strdup (opts->unit);
    self->insecure = opts->insecure;
    self->window = opts->window > 0 ? (opts->window > MAX_WINDOW ? MAX_WINDOW : opts->window) : 8;
    self->batch_events = opts->batch_events > 0
                       ? (opts->batch_events > TX_WIRE_MAX_EVENTS ? TX_WIRE_MAX_EVENTS : opts->batch_events) : 500;
    self->linger_ms = opts->linger_ms > 0 ? opts->linger_ms : 5;
    self->ack_timeout_ms = opts->ack_timeout_ms > 0 ? opts->ack_timeout_ms : 10000;
    self->on_verdict = opts->on_verdict;
    self->verdict_arg = opts->verdict_arg;
    self->on_link = opts->on_link;
    self->link_arg = opts->link_arg;
    self->on_result = opts->on_result;
    self->result_arg = opts->result_arg;
    atomic_init (&self->revision, opts->revision >= 1 && opts->revision < TONGXIN_PROTOCOL_REVISION
                                  ? opts->revision : TONGXIN_PROTOCOL_REVISION);
    self->status_ms = opts->status_interval_ms < 0 ? -1
                    : opts->status_interval_ms > 0 ? opts->status_interval_ms : STATUS_MS;
    self->told_backlog = -1;
    ok &= (self->software = strdup (opts->software ? opts->software
                                                   : "libtongxin " TONGXIN_VERSION)) != NULL;
    if (!opts->insecure && opts->key_file)
        ok &= (self->key_file = strdup (opts->key_file)) != NULL;
    self->slots = calloc ((size_t) self->window, sizeof (slot_t));
    self->gen = tx_uuid_gen_new ();
    self->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!ok || !self->unit || !self->slots || !self->gen || self->wake_fd < 0) {
        s_free (self);
        return NULL;
    }
    //  Batch ids: random start, so a restarted producer never reuses the id
    //  of a batch a collector may still answer.
    uint64_t r = 0;
    uint8_t id [16];
    if (tx_uuid_gen_next (self->gen, id) == 0)
        memcpy (&r, id + 8, 8);
    self->next_batch_id = (r >> 16) | 1;
    return self;
}

//  Reads the keys, opens the spool and starts the sender thread.  0, or
//  -1 with the reason in err.
static int
s_start (tongxin_t *self, const tongxin_opts_t *opts, char *err, size_t errlen)
{
    if (!opts->insecure
    &&  (tx_keyfile_read (opts->key_file, true, &self->key, err, errlen) != 0
     ||  tx_keyfile_server_key (opts->server_key, self->server_key, err, errlen) != 0))
        return -1;
    tx_spool_opts_t so = { .cap_bytes = opts->spool_cap_bytes, .fsync_ms = opts->fsync_ms,
                           .log = s_spool_log };
    char serr [256];
    self->spool = tx_spool_open (opts->spool_dir, &so, serr, sizeof serr);
    if (!self->spool) {
        snprintf (err, errlen, "%s", serr);
        return -1;
    }
    if (pthread_create (&self->thread, NULL, s_sender, self) != 0) {
        snprintf (err, errlen, _("cannot start the sender thread"));
        return -1;
    }
    self->started = true;
    return 0;
}

tongxin_t *
tongxin_new (const tongxin_opts_t *opts, char *err, size_t errlen)
{
    if (s_check_opts (opts, err, errlen) != 0)
        return NULL;
    tongxin_t *self = s_new (opts);
    if (!self) {
        snprintf (err, errlen, _("out of memory"));
        return NULL;
    }
    if (s_start (self, opts, err, errlen) != 0) {
        s_free (self);
        return NULL;
    }
    return self;
}

void
tongxin_destroy (tongxin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tongxin_t *self = *self_p;
    if (self->started) {
        atomic_store (&self->stop, 1);
        uint64_t one = 1;
        ssize_t w = write (self->wake_fd, &one, sizeof one);
        (void) w;
        pthread_join (self->thread, NULL);
    }
    s_free (self);
    *self_p = NULL;
}

//  The event as the wire sees it, with unit and id given (the event's own
//  or the producer's).  attrs has room for ev->n_attrs.
static void
s_view (const tongxin_event_t *ev, const char *unit, const uint8_t id [16], tx_attr_t *attrs,
        tx_event_t *e)
{
    memset (e, 0, sizeof *e);
    memcpy (e->id, id, 16);
    e->unit = unit;
    e->unit_len = strlen (unit);
    e->type = ev->type;
    e->type_len = strlen (ev->type);
    //  floor division: times before 1970 are refused later anyway
    e->at_sec = ev->at_us >= 0 ? ev->at_us / 1000000 : -((-ev->at_us + 999999) / 1000000);
    e->at_nsec = (uint32_t) ((ev->at_us - e->at_sec * 1000000) * 1000);
    if (ev->partner) {
        e->partner = ev->partner;
        e->partner_len = strlen (ev->partner);
    }
    if (ev->has_supersedes) {
        e->has_supersedes = true;
        memcpy (e->supersedes, ev->supersedes, 16);
    }
    e->nth = ev->nth;
    for (size_t i = 0; i < ev->n_attrs; i++)
        attrs [i] = (tx_attr_t) { ev->attrs [i].name, strlen (ev->attrs [i].name), ev->attrs [i].value };
    e->attrs = attrs;
    e->attr_count = ev->n_attrs;
}

//  What a numeric attribute's text may not be, or NULL (common/lex.c).
static const char *
s_numeric_fault (const char *s, size_t len)
{
    switch (tx_lex_number (s, len, NULL, NULL)) {
        case TX_NUM_SYNTAX:   return "is not a decimal number (like 12, -0.5, 1.2e3)";
        case TX_NUM_TOO_LONG: return "is longer than 64 characters; it is sent as written, never rounded";
        case TX_NUM_RANGE:    return "is beyond the range of a binary64 (about 2.3e-308 to 1.7e308)";
        default:              return NULL;
    }
}

//  The forms the wire leaves to the registry but a producer knows from
//  the setter used: partner a region code, numeric and date attributes.
static int
s_check_forms (const tongxin_event_t *ev, char *err, size_t errlen)
{
    if (ev->partner && !tx_lex_region (ev->partner, strlen (ev->partner))) {
        snprintf (err, errlen, "unknown_partner: partner '%.64s' is not a region code "
                  "(6 digits of GB/T 2260, e.g. 540522)", ev->partner);
        return TONGXIN_EINVAL;
    }
    for (size_t i = 0; i < ev->n_attrs; i++) {
        const attr_t *a = &ev->attrs [i];
        const char *fault = a->kind == A_NUMERIC ? s_numeric_fault (a->value.u.s.ptr, a->value.u.s.len)
                          : NULL;
        if (fault) {
            snprintf (err, errlen, "bad_number: attribute '%.64s': '%.72s' %s", a->name,
                      a->value.u.s.ptr, fault);
            return TONGXIN_EINVAL;
        }
        if (a->kind == A_DATE && !tx_lex_date (a->value.u.s.ptr, a->value.u.s.len)) {
            snprintf (err, errlen, "bad_date: attribute '%.64s': '%.72s' is not a valid date "
                      "YYYY-MM-DD", a->name, a->value.u.s.ptr);
            return TONGXIN_EINVAL;
        }
    }
    return TONGXIN_OK;
}

//  s_check_forms quotes what the application gave: keep the reason one
//  line of printable text.
static int
s_printable (int rc, char *err)
{
    for (char *p = err; rc != TONGXIN_OK && *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            *p = '?';
    return rc;
}

//  The producer's check of an event, the one place it is made: the wire's
//  form (tx_wire_event_check), then s_check_forms.  e is its wire view.
//  TONGXIN_OK, or TONGXIN_EINVAL with "code: reason" in err.
static int
s_check (const tongxin_event_t *ev, const tx_event_t *e, char *err, size_t errlen)
{
    if (e->has_supersedes && memcmp (e->supersedes, e->id, 16) == 0) {
        snprintf (err, errlen, "malformed_event: an event cannot supersede itself");
        return TONGXIN_EINVAL;
    }
    char msg [160];
    int code = tx_wire_event_check (e, msg, sizeof msg);
    if (code != TX_REJECT_NONE) {
        snprintf (err, errlen, "%s: %s", tx_reject_code_str (code), msg);
        return TONGXIN_EINVAL;
    }
    return s_printable (s_check_forms (ev, err, errlen), err);
}

//  Packs e into sb (cleared first).  TONGXIN_OK or an error with a reason in err.
static int
s_pack (const tx_event_t *e, msgpack_sbuffer *sb, char *err, size_t errlen)
{
    sb->size = 0;
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    if (tx_wire_pack_event (&pk, e) != 0) {
        snprintf (err, errlen, "out of memory");
        return TONGXIN_ENOMEM;
    }
    if (sb->size > FRAME_BUDGET) {
        snprintf (err, errlen, "too_long: the event is larger than a message may be");
        return TONGXIN_EINVAL;
    }
    return TONGXIN_OK;
}

//  Checks ev as an event of unit with this id, and packs it into sb unless
//  sb is NULL.  TONGXIN_OK or an error with a reason in err.
static int
s_check_pack (const tongxin_event_t *ev, const char *unit, const uint8_t id [16],
              msgpack_sbuffer *sb, char *err, size_t errlen)
{
    tx_attr_t few [TX_WIRE_MAX_ATTRS];
    tx_attr_t *attrs = ev->n_attrs <= TX_WIRE_MAX_ATTRS ? few : malloc (ev->n_attrs * sizeof *attrs);
    if (!attrs) {
        snprintf (err, errlen, "out of memory");
        return TONGXIN_ENOMEM;
    }
    tx_event_t e;
    s_view (ev, unit, id, attrs, &e);
    int rc = s_check (ev, &e, err, errlen);
    if (rc == TONGXIN_OK && sb)
        rc = s_pack (&e, sb, err, errlen);
    if (attrs != few)
        free (attrs);
    return rc;
}

int
tongxin_event_check (const tongxin_event_t *ev, char *err, size_t errlen)
{
    //  A stand-in for what only the producer gives: its unit (the default)
    //  and a new id; both are valid by construction.
    static const uint8_t any_v7 [16] = { 0x01, 0x8f, 0, 0, 0, 0, 0x70, 0, 0x80 };
    char dummy [8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    return s_check_pack (ev, ev->unit ? ev->unit : "unit", ev->has_id ? ev->id : any_v7, NULL,
                         err, errlen);
}

int
tongxin_event_id (tongxin_t *self, tongxin_event_t *ev, uint8_t id_out [16])
{
    if (!ev->has_id) {
        if (tx_uuid_gen_next (self->gen, ev->id) != 0)
            return TONGXIN_EIO;
        ev->has_id = true;
    }
    memcpy (id_out, ev->id, 16);
    return TONGXIN_OK;
}

//  Checks an event (s_check) and packs it into sb (cleared first), its id
//  (the event's or a new one) into id.  TONGXIN_OK or an error with a
//  reason in err.
static int
s_encode (tongxin_t *self, const tongxin_event_t *ev, msgpack_sbuffer *sb, uint8_t id [16],
          char *err, size_t errlen)
{
    if (ev->has_id)
        memcpy (id, ev->id, 16);
    else
    if (tx_uuid_gen_next (self->gen, id) != 0) {
        snprintf (err, errlen, "cannot make an event id: %s", strerror (errno));
        return TONGXIN_EIO;
    }
    return s_check_pack (ev, ev->unit ? ev->unit : self->unit, id, sb, err, errlen);
}

//  A spool failure as a submit result, with its reason in err.  A full
//  file system is "full" as the spool's own cap is: nothing was stored,
//  and room comes back as the collector acknowledges.
static int
s_spool_rc (tongxin_t *self, int rc, char *err, size_t errlen)
{
    if (rc != TX_SPOOL_FULL) {
        snprintf (err, errlen, "spool: %s", tx_spool_strerror (rc));
        return TONGXIN_EIO;
    }
    tx_spool_stats_t ss;
    tx_spool_stats (self->spool, &ss);
    atomic_store (&self->full_cause, ss.disk_full ? TONGXIN_FULL_DISK : TONGXIN_FULL_CAP);
    snprintf (err, errlen, "spool full: %s; nothing stored, retry once the collector "
              "has acknowledged earlier events",
              ss.disk_full ? "no room left on the spool directory's file system"
                           : "spool_cap_bytes reached");
    return TONGXIN_EFULL;
}

int
tongxin_full_cause (tongxin_t *self)
{
    return atomic_load (&self->full_cause);
}

static void
s_wake (tongxin_t *self, size_t submitted)
{
    pthread_mutex_lock (&self->lock);
    self->stats.submitted += submitted;
    pthread_mutex_unlock (&self->lock);
    uint64_t one = 1;
    ssize_t w = write (self->wake_fd, &one, sizeof one);
    (void) w;
}

int
tongxin_submit (tongxin_t *self, const tongxin_event_t *ev, uint8_t id_out [16], char *err, size_t errlen)
{
    char dummy [8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    uint8_t id [16];
    int rc = s_encode (self, ev, &sb, id, err, errlen);
    if (rc == TONGXIN_OK) {
        int src = tx_spool_append (self->spool, sb.data, sb.size, NULL);
        if (src != TX_SPOOL_OK)
            rc = s_spool_rc (self, src, err, errlen);
    }
    msgpack_sbuffer_destroy (&sb);
    if (rc != TONGXIN_OK)
        return rc;
    if (id_out)
        memcpy (id_out, id, 16);
    s_wake (self, 1);
    return TONGXIN_OK;
}

size_t
tongxin_submit_many (tongxin_t *self, tongxin_event_t *const *events, size_t n,
                     uint8_t (*ids_out) [16], int *results, char *errs, size_t errlen)
{
    char dummy [8];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    uint64_t first = 0, last = 0;
    size_t put = 0;
    for (size_t i = 0; i < n; i++) {
        char *err = errs ? errs + i * errlen : dummy;
        size_t elen = errs ? errlen : sizeof dummy;
        uint8_t id [16];
        results [i] = s_encode (self, events [i], &sb, id, err, elen);
        if (results [i] != TONGXIN_OK)
            continue;
        uint64_t seq;
        int src = tx_spool_put (self->spool, sb.data, sb.size, &seq);
        if (src != TX_SPOOL_OK) {
            results [i] = s_spool_rc (self, src, err, elen);
            continue;
        }
        if (!first)
            first = seq;
        last = seq;
        put++;
        if (ids_out)
            memcpy (ids_out [i], id, 16);
    }
    msgpack_sbuffer_destroy (&sb);
    int src = put ? tx_spool_sync (self->spool, first, last) : TX_SPOOL_OK;
    if (src != TX_SPOOL_OK) {
        //  Not durable: none of them counts as stored.
        for (size_t i = 0; i < n; i++)
            if (results [i] == TONGXIN_OK) {
                char *err = errs ? errs + i * errlen : dummy;
                size_t elen = errs ? errlen : sizeof dummy;
                if (src == TX_SPOOL_FULL)
                    results [i] = s_spool_rc (self, src, err, elen);
                else {
                    results [i] = TONGXIN_EIO;
                    snprintf (err, elen, "spool: could not sync to disk");
                }
            }
        return 0;
    }
    if (put)
        s_wake (self, put);
    return put;
}

int
tongxin_flush (tongxin_t *self, int timeout_ms)
{
    //  Monotonic: a change of the wall clock neither ends nor stretches the wait.
    int64_t deadline = timeout_ms >= 0 ? tx_clock_ms () + timeout_ms : INT64_MAX;
    pthread_mutex_lock (&self->lock);
    int rc = TONGXIN_OK;
    for (;;) {
        tx_spool_stats_t ss;
        tx_spool_stats (self->spool, &ss);
        if (ss.records == 0)
            break;
        if (self->stats.stopped) {
            rc = TONGXIN_ESTOPPED;
            break;
        }
        int64_t left = deadline - tx_clock_ms ();
        if (left <= 0) {
            rc = TONGXIN_ETIMEDOUT;
            break;
        }
        //  Wake at least every 100 ms: the spool count is not under our lock.
        struct timespec step = tx_clock_deadline (left < 100 ? (int) left : 100);
        pthread_cond_timedwait (&self->cond, &self->lock, &step);
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

void
tongxin_stats (tongxin_t *self, tongxin_stats_t *stats)
{
    tx_spool_stats_t ss;
    tx_spool_stats (self->spool, &ss);
    pthread_mutex_lock (&self->lock);
    *stats = self->stats;
    pthread_mutex_unlock (&self->lock);
    stats->queued = ss.records;
    stats->lost = ss.lost;
    stats->lost_first = ss.lost_first;
    stats->lost_last = ss.lost_last;
}

//  ----------------------------------------------------------------- registry checks

int
tongxin_registry_check (const tongxin_registry_t *reg, const tongxin_event_t *ev, char *err, size_t errlen)
{
    if (!reg || !ev) {
        snprintf (err, errlen, "malformed_event: no event or no registry");
        return TONGXIN_EINVAL;
    }
    tx_attr_t attrs [TX_WIRE_MAX_ATTRS];
    if (ev->n_attrs > TX_WIRE_MAX_ATTRS) {
        snprintf (err, errlen, "too_many_attrs: the event has %zu attributes (at most %d)", ev->n_attrs,
                  TX_WIRE_MAX_ATTRS);
        return TONGXIN_EINVAL;
    }
    static const uint8_t zero [16];
    tx_event_t e;
    s_view (ev, ev->unit ? ev->unit : "", zero, attrs, &e);
    char msg [1024];
    int code = tx_validate_event_local (reg->reg, &e, msg, sizeof msg);
    if (code != TX_REJECT_NONE) {
        snprintf (err, errlen, "%s: %s", tx_reject_code_str (code), msg);
        return TONGXIN_EINVAL;
    }
    return TONGXIN_OK;
}

const char *
tongxin_event_type (const tongxin_event_t *ev)
{
    return ev->type;
}

int
tongxin_event_add_text_value (tongxin_event_t *ev, const tongxin_registry_t *reg, const char *name,
                              const char *text, char *err, size_t errlen)
{
    if (!ev || !reg || !name || !text) {
        snprintf (err, errlen, "malformed_event: a NULL argument");
        return TONGXIN_EINVAL;
    }
    const tx_type_def_t *t = tx_registry_type (reg->reg, ev->type, strlen (ev->type));
    if (!t) {
        //  The collector's own message (with the nearest type).
        tx_event_t e = { .type = ev->type, .type_len = strlen (ev->type) };
        char msg [512];
        tx_validate_event_local (reg->reg, &e, msg, sizeof msg);
        snprintf (err, errlen, "unknown_type: %s", msg);
        return TONGXIN_EINVAL;
    }
    tx_value_t v;
    char norm [TX_VALIDATE_NORM], msg [1024];
    int code = tx_validate_text_attr (t, name, strlen (name), text, strlen (text), &v, norm, msg, sizeof msg);
    if (code != TX_REJECT_NONE) {
        snprintf (err, errlen, "%s: %s", tx_reject_code_str (code), msg);
        return TONGXIN_EINVAL;
    }
    const tx_attr_def_t *def = tx_validate_attr_def (t, name, strlen (name));
    return s_add (ev, name, v, def->kind == TX_KIND_NUMERIC ? A_NUMERIC : def->kind == TX_KIND_DATE ? A_DATE
                                                                       : A_PLAIN);
}
