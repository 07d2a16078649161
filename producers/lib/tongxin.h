/*  tongxin.h: libtongxin, the Tongxin producer library.
 *
 *  A producer belongs to one unit.  The application builds events and
 *  submits them; tongxin_submit() returns once the event is durable in the
 *  local spool (per the fsync policy) and never waits for the network.  A
 *  background thread sends spooled events in batches to the collector(s)
 *  over ZeroMQ (CURVE by default), resends on timeout and after every
 *  reconnect, and deletes from the spool what the collector acknowledged.
 *  Each event's verdict (stored, duplicate, rejected with a code) is passed
 *  to the application's callback; rejected events are also appended to
 *  SPOOL/rejected.log and never retried.  See docs/protocol.md.
 *
 *  Thread-safe: any thread may submit; callbacks run on the sender thread.
 *  No global state.  Ownership: tongxin_new() and tongxin_event_new()
 *  return objects the caller frees with the matching _destroy(&p), which
 *  NULLs the pointer and is safe twice; strings passed in are copied.
 */
#ifndef TONGXIN_H_INCLUDED
#define TONGXIN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TONGXIN_VERSION_MAJOR 0
#define TONGXIN_VERSION_MINOR 4   //  2: tongxin_event_check, _event_id, _full_cause, _id_parse, _text_valid, TONGXIN_ENOMEM
                                  //  3: protocol revision 1.2: tongxin_event_set_nth, on_result, revision
                                  //  4: protocol revision 1.3: the registry (tongxin_registry_*),
                                  //     tongxin_event_add_text_value, TONGXIN_ENOTSUP
                                  //     and status (software, status_interval_ms)

//  Return codes: 0 success, negative failure.
#define TONGXIN_OK          0
#define TONGXIN_EINVAL     -1   //  bad argument or an invalid event (err says which field)
#define TONGXIN_EFULL      -2   //  the spool is at its cap or its file system is full: nothing stored
#define TONGXIN_EIO        -3   //  the spool could not write: nothing stored
#define TONGXIN_ETIMEDOUT  -4   //  flush: events still unacknowledged
#define TONGXIN_ESTOPPED   -5   //  the collector told us to stop (version, revoked key)
#define TONGXIN_ENOMEM     -6   //  out of memory: nothing changed
#define TONGXIN_ENOTSUP    -7   //  the collector does not serve the registry (older than 1.3)

//  Why a submit returned TONGXIN_EFULL (tongxin_full_cause).
#define TONGXIN_FULL_CAP    1   //  the spool holds spool_cap_bytes
#define TONGXIN_FULL_DISK   2   //  the spool directory's file system is full

//  Protocol limits an application may want to know (docs/protocol.md 10).
#define TONGXIN_PROTOCOL_VERSION 1
#define TONGXIN_PROTOCOL_REVISION 3 //  1.3: the newest revision this library speaks
#define TONGXIN_MAX_SOFTWARE 200    //  bytes of tongxin_opts_t.software
#define TONGXIN_MAX_NTH     65535   //  tongxin_event_set_nth
#define TONGXIN_MAX_ATTRS   64      //  attributes per event
#define TONGXIN_MAX_CODE    64      //  bytes: unit, type, partner, attribute names
#define TONGXIN_MAX_TEXT    4096    //  bytes of a text value
#define TONGXIN_MAX_DECIMAL 64      //  bytes of a numeric value

//  Verdicts
#define TONGXIN_STORED      0   //  stored by this delivery
#define TONGXIN_DUPLICATE   1   //  already stored (a success)
#define TONGXIN_REJECTED    2   //  refused: code and msg say why; never retried

//  Called on the sender thread once per event with its verdict.  id is the
//  event's 16-byte UUIDv7; code and msg are NULL unless rejected.
typedef void (tongxin_verdict_fn) (void *arg, const uint8_t id [16], int verdict,
                                   const char *code, const char *msg);

//  A verdict with its details (tongxin_opts_t.on_result).  Valid during
//  the call only.
typedef struct {
    const uint8_t *id;              //  the event's 16-byte id
    int verdict;                    //  TONGXIN_STORED, _DUPLICATE or _REJECTED
    const char *code;               //  rejected: the reject code; else NULL
    const char *msg;                //  rejected: the collector's reason; else NULL
    bool has_original;              //  duplicate, told by a collector of revision 1.2:
                                    //  original and original_received_us are set
    uint8_t original [16];          //  the stored event this one repeats: its id (equal
                                    //  to id when this very event was stored before)
    int64_t original_received_us;   //  when the collector received it: unix µs, UTC
} tongxin_result_t;

//  Called on the sender thread once per event, after on_verdict.
typedef void (tongxin_result_fn) (void *arg, const tongxin_result_t *result);

//  What the handshakes with the collector(s) say (tongxin_stats_t.link).
//  The sender keeps trying whatever they say (a key may be issued, a
//  collector fixed); an application that would rather stop, stops.
#define TONGXIN_LINK_CONNECTING  0  //  no handshake has succeeded yet, or since the last loss
#define TONGXIN_LINK_UP          1  //  a handshake succeeded: a collector accepts us
#define TONGXIN_LINK_KEY_REFUSED 2  //  the collector refused our key (ZAP 400), twice or more:
                                    //  unknown or revoked; check key_file / issue a key
#define TONGXIN_LINK_SERVER_KEY  3  //  the collector closed the connection during every
                                    //  handshake (4 or more): check server_key and the endpoint
#define TONGXIN_LINK_MECHANISM   4  //  the collector speaks another security mechanism
                                    //  (CURVE against insecure, or the reverse)
#define TONGXIN_LINK_NOT_ZMTP    5  //  the peer closed before the ZeroMQ greeting (4 or more):
                                    //  check the endpoint

//  Called on the sender thread when tongxin_stats_t.link changes, with
//  the new value and (for 2..5) a message that says what to check.
typedef void (tongxin_link_fn) (void *arg, int link, const char *msg);

typedef struct {
    const char *const *endpoints;   //  collector endpoints, e.g. "tcp://host:7450"
    size_t n_endpoints;             //  1..16 (several: failover / spreading)
    const char *unit;               //  this producer's unit code (events' default unit)
    const char *spool_dir;          //  spool directory (created if missing)
    uint64_t spool_cap_bytes;       //  0: 1 GiB
    int fsync_ms;                   //  0: fsync every event; N: group fsync every N ms
    bool insecure;                  //  plain transport (no CURVE)
    const char *key_file;           //  the unit's secret key file (CURVE)
    const char *server_key;         //  the collector's public key: Z85 text or a .pub file
    int window;                     //  batches in flight; 0: 8 (max 16)
    int batch_events;               //  events per batch; 0: 500 (max 1000)
    int linger_ms;                  //  wait to fill a batch; 0: 5 ms
    int ack_timeout_ms;             //  first resend after; 0: 10000 (doubles, max 60 s)
    tongxin_verdict_fn *on_verdict; //  may be NULL
    void *verdict_arg;              //  passed to on_verdict
    tongxin_link_fn *on_link;       //  may be NULL
    void *link_arg;                 //  passed to on_link
    tongxin_result_fn *on_result;   //  may be NULL: each verdict with its details
    void *result_arg;               //  passed to on_result
    int revision;                   //  protocol revision to speak: 0 = TONGXIN_PROTOCOL_REVISION;
                                    //  1 = 1.0/1.1 (no duplicate details); 2 = 1.2 (no status).
                                    //  A collector that answers a 1.2 batch "malformed" is
                                    //  spoken to in 1.1 from then on, and the batch is sent again
    //  Revision 1.3: the producer tells the collector its state (a "status":
    //  events waiting in the spool, when the oldest was spooled, when the
    //  last verdict came, this software), once a collector's ack said it
    //  takes it: on every connection, when the backlog changed (at most once
    //  per status_interval_ms), every 10 intervals when nothing changed, and
    //  when the spool has emptied.  Not answered; one small message.
    const char *software;           //  name and version, e.g. "tongxin-send 0.9"; at most
                                    //  TONGXIN_MAX_SOFTWARE bytes of printable UTF-8;
                                    //  NULL: "libtongxin VERSION"
    int status_interval_ms;         //  0: 60000 (idle: a status every 10 minutes); -1: never
} tongxin_opts_t;

typedef struct {
    uint64_t submitted;             //  events submitted by this process
    uint64_t queued;                //  in the spool, not acknowledged (incl. in flight)
    uint64_t in_flight;             //  sent, awaiting an ack
    uint64_t stored;                //  verdicts received, by kind
    uint64_t duplicate;
    uint64_t rejected;
    uint64_t resent_batches;        //  batches sent again (timeout or reconnect)
    uint64_t lost;                  //  spooled events that could not be read back
                                    //  (a spool file deleted or damaged): lost
    uint64_t lost_first, lost_last; //  their spool seqs, lowest and highest
    bool stopped;                   //  the collector said stop (see last_error)
    char last_error [160];          //  last error reply or failure, for logs
    int link;                       //  TONGXIN_LINK_*: what the handshakes say
    uint64_t handshakes_failed;     //  failed handshakes, every cause
    int link_failures;              //  consecutive failures behind link (2..5)
    char link_endpoint [256];       //  the endpoint they concern (2..5)
    char link_error [320];          //  what is wrong and what to check (2..5)
} tongxin_stats_t;

typedef struct tongxin_t tongxin_t;
typedef struct tongxin_event_t tongxin_event_t;

//  Opens the spool (refused if another process holds it), starts the sender
//  thread.  NULL on failure with a reason in err.
tongxin_t *tongxin_new (const tongxin_opts_t *opts, char *err, size_t errlen);

//  Stops the sender and closes the spool; unacknowledged events stay in the
//  spool and are sent by the next producer on it.
void tongxin_destroy (tongxin_t **self_p);

//  A new event of TYPE that occurred at unix time (µs, UTC).  NULL if out of memory.
tongxin_event_t *tongxin_event_new (const char *type, int64_t occurred_at_us);
void tongxin_event_destroy (tongxin_event_t **self_p);

//  Setters store; they return TONGXIN_OK, TONGXIN_EINVAL (a NULL argument,
//  or an id that is not UUID text) or TONGXIN_ENOMEM, and on failure keep
//  the event as it was.  The event is checked once, by tongxin_submit (and
//  tongxin_event_check): the wire's form (codes of 1..64 bytes, UTF-8, at
//  most 64 attributes with distinct names, texts up to 4096 bytes, finite
//  doubles, a UUIDv7 id), a partner of 6 digits, a date attribute a valid
//  YYYY-MM-DD, a numeric one a decimal the collector takes as it is; the
//  collector checks the rest against its registry.  Numbers are never
//  rounded on the way: a numeric is sent exactly as its text, which must be
//  the JSON number syntax, at most 64 bytes, within the range of a
//  binary64: "1.50", "-0.5", "1.2e3", "123456789012345678901234567890";
//  not "1e400", not 65 digits.  A double is sent as a binary64 and stored
//  as the shortest decimal that reads back as it: for exact decimals
//  (money) use numeric.
int tongxin_event_set_unit (tongxin_event_t *ev, const char *unit);         //  default: the producer's
int tongxin_event_set_partner (tongxin_event_t *ev, const char *region);    //  6-digit GB/T 2260 code
int tongxin_event_set_id (tongxin_event_t *ev, const char *uuid_text);      //  a UUIDv7; default: new
//  A correction: this event replaces the earlier event ID of the same unit
//  (protocol revision 1.1; collectors must speak it).  A retraction is an
//  event of type "retraction" with no attributes that supersedes the event
//  it withdraws.
int tongxin_event_set_supersedes (tongxin_event_t *ev, const char *uuid_text);
//  Identical content reported again on purpose (protocol revision 1.2).
//  The collector stores an event once per content: unit, type, time,
//  partner, attributes, supersedes; a second event with the same content
//  is answered duplicate, whatever its id.  When a unit truly had two
//  identical activities (two meetings of the same kind, same minute, same
//  figures), it sends the second with nth 2, a third with nth 3, and so
//  on: nth is part of the content.  1 (the default) .. TONGXIN_MAX_NTH.
int tongxin_event_set_nth (tongxin_event_t *ev, unsigned nth);
int tongxin_event_add_int (tongxin_event_t *ev, const char *name, int64_t value);
int tongxin_event_add_numeric (tongxin_event_t *ev, const char *name, const char *decimal);
int tongxin_event_add_double (tongxin_event_t *ev, const char *name, double value);
int tongxin_event_add_text (tongxin_event_t *ev, const char *name, const char *utf8);
int tongxin_event_add_bool (tongxin_event_t *ev, const char *name, bool value);
int tongxin_event_add_date (tongxin_event_t *ev, const char *name, const char *yyyy_mm_dd);

//  The check tongxin_submit makes (see the setters), without a producer:
//  an event that names no unit or id is checked as if it had valid ones
//  (the producer's unit and a new id).  TONGXIN_OK, TONGXIN_EINVAL with
//  "code: reason" in err as tongxin_submit's, or TONGXIN_ENOMEM.
int tongxin_event_check (const tongxin_event_t *ev, char *err, size_t errlen);

//  The event's type, as given to tongxin_event_new (borrowed).
const char *tongxin_event_type (const tongxin_event_t *ev);

//  The event's id into id_out: the one set, or a new UUIDv7 from self,
//  which the event keeps from now on (so that an application knows it
//  before tongxin_submit, e.g. to match verdicts).  TONGXIN_OK or TONGXIN_EIO.
int tongxin_event_id (tongxin_t *self, tongxin_event_t *ev, uint8_t id_out [16]);

//  Checks the event (the collector is the authority; this is a courtesy),
//  writes it to the spool and returns once it is durable per the fsync
//  policy.  id_out (may be NULL) receives its id.  TONGXIN_OK, TONGXIN_EINVAL,
//  TONGXIN_EFULL, TONGXIN_EIO or TONGXIN_ENOMEM; on failure nothing was
//  stored (TONGXIN_EFULL: tongxin_full_cause says which limit).  For
//  TONGXIN_EINVAL, err starts with the protocol's reject code and a colon
//  ("too_long: attribute 'topic' ..."), then names the field.
int tongxin_submit (tongxin_t *self, const tongxin_event_t *ev, uint8_t id_out [16],
                    char *err, size_t errlen);

//  Submits n events with one spool sync for all of them: the fast path for a
//  single thread with group fsync (tongxin_submit waits for the group's
//  fsync, up to fsync_ms, on every call).  Returns once every stored event
//  is durable.  results[i] (required) receives TONGXIN_OK, TONGXIN_EINVAL,
//  TONGXIN_EFULL, TONGXIN_EIO or TONGXIN_ENOMEM for events[i]; ids_out[i]
//  (may be NULL) its id; errs (may be NULL, errlen bytes each, contiguous)
//  a reason.  Returns the number of events stored.
size_t tongxin_submit_many (tongxin_t *self, tongxin_event_t *const *events, size_t n,
                            uint8_t (*ids_out) [16], int *results, char *errs, size_t errlen);

//  Waits until every event in the spool has a verdict, at most timeout_ms
//  (-1: forever).  TONGXIN_OK, TONGXIN_ETIMEDOUT or TONGXIN_ESTOPPED.  When
//  it returns TONGXIN_OK, every on_verdict call for those events has
//  returned (verdicts are delivered before the spool lets go of an event).
int tongxin_flush (tongxin_t *self, int timeout_ms);

void tongxin_stats (tongxin_t *self, tongxin_stats_t *stats);

//  Which limit the last TONGXIN_EFULL of self met: TONGXIN_FULL_CAP or
//  TONGXIN_FULL_DISK (0 if none yet).  Room comes back as the collector
//  acknowledges in both cases.
int tongxin_full_cause (tongxin_t *self);

//  Formats a 16-byte id as text (37 bytes with NUL).
void tongxin_id_format (const uint8_t id [16], char out [37]);

//  Parses an id's text (any UUID, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
//  either case) into id.  TONGXIN_OK or TONGXIN_EINVAL.
int tongxin_id_parse (const char *text, uint8_t id [16]);

//  True if s[0..len) is text an event may carry: valid UTF-8 without NUL.
bool tongxin_text_valid (const char *s, size_t len);

//  ----------------------------------------------------------------- registry
//
//  The collector's registry (protocol revision 1.3): the event types, their
//  attributes (kinds, bounds, allowed values), Chinese and English labels
//  and descriptions, the regions and the organisation's time zone, with a
//  version.  With it a producer checks events with the collector's own
//  rules before they are spooled, and turns what people type (a form
//  field, a spreadsheet cell, "12" in a JSON export) into typed values.
//  The collector stays the authority: it checks every event again.
//
//  The registry is cached in SPOOL/registry.cache (mode 0644: it holds no
//  secret), replaced atomically, and used when the collector cannot be
//  asked.  A registry is immutable; any thread may use it.

typedef struct tongxin_registry_t tongxin_registry_t;

//  How tongxin_registry_fetch got its registry (its return value).
#define TONGXIN_REGISTRY_FETCHED    1   //  a new one from the collector (cached now)
#define TONGXIN_REGISTRY_UNCHANGED  2   //  the collector said the cached one is current
#define TONGXIN_REGISTRY_CACHED     3   //  the cache: the collector did not answer in time or
                                        //  does not serve the registry (err says which)

//  Asks the collector (opts' endpoints, keys, spool_dir; unit not needed)
//  for its registry, sending the version of the cached one, and waits up
//  to timeout_ms (0: 5000).  On success *reg_p receives a registry the
//  caller frees with tongxin_registry_destroy, and the return value says
//  where it came from (TONGXIN_REGISTRY_*).  Failures, with nothing
//  cached: TONGXIN_ETIMEDOUT (no answer), TONGXIN_ENOTSUP (a collector
//  older than 1.3: it refuses the request as malformed; nothing breaks,
//  events are checked by the collector alone), TONGXIN_EINVAL (opts, keys,
//  or a reply that is not a valid registry), TONGXIN_ENOMEM; err says why.
int tongxin_registry_fetch (const tongxin_opts_t *opts, int timeout_ms, tongxin_registry_t **reg_p,
                            char *err, size_t errlen);

//  The cached registry of spool_dir, without the network.  TONGXIN_OK,
//  TONGXIN_EINVAL (no cache, or a damaged one: err says which) or
//  TONGXIN_ENOMEM.
int tongxin_registry_load (const char *spool_dir, tongxin_registry_t **reg_p, char *err, size_t errlen);

void tongxin_registry_destroy (tongxin_registry_t **reg_p);

//  Its version (32 hex digits), borrowed.
const char *tongxin_registry_version (const tongxin_registry_t *reg);

//  The registry as JSON text for a web page (types, attributes, kinds,
//  bounds, enums with labels, regions with names and levels, time zone,
//  version); the caller frees it with free().  NULL if out of memory.
char *tongxin_registry_json (const tongxin_registry_t *reg);

//  Attribute kinds (tongxin_registry_kind).
#define TONGXIN_KIND_INT     1
#define TONGXIN_KIND_NUMERIC 2
#define TONGXIN_KIND_TEXT    3
#define TONGXIN_KIND_BOOL    4
#define TONGXIN_KIND_DATE    5
#define TONGXIN_KIND_ENUM    6

//  The kind of attribute attr of event type type, or 0 if the registry
//  has no such type or attribute.
int tongxin_registry_kind (const tongxin_registry_t *reg, const char *type, const char *attr);

//  Checks ev against the registry with the collector's rules (type,
//  retraction, partner, each attribute's kind, bounds, length and values,
//  required attributes); the unit, times and ids stay the collector's to
//  judge.  TONGXIN_OK, or TONGXIN_EINVAL with "code: message" in err, the
//  message in the language of the locale, naming the field by its label
//  and saying what is allowed.
int tongxin_registry_check (const tongxin_registry_t *reg, const tongxin_event_t *ev,
                            char *err, size_t errlen);

//  Adds attribute name to ev from the text a person wrote, converted by the
//  kind the registry gives it for ev's type: "12" to an int, "70000.00" to a
//  numeric, 是/否/true/false to a bool, 2025/4/1 to the date 2025-04-01, an
//  enum's value or label to its value.  TONGXIN_OK; TONGXIN_EINVAL with
//  "code: message" in err (as tongxin_registry_check: unknown type or
//  attribute, a value that does not fit); TONGXIN_ENOMEM.  ev unchanged on
//  failure.
int tongxin_event_add_text_value (tongxin_event_t *ev, const tongxin_registry_t *reg, const char *name,
                                  const char *text, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
