/*  wire: the Tongxin v1 message codec (msgpack over one ZeroMQ frame).

    Messages (see docs/protocol.md, notes/protocol-decisions.md):
      batch  producer -> collector  {"v":1,"t":"batch","batch":id,"events":[event...]}
      ack    collector -> producer  {"v":1,"t":"ack","batch":id,"results":[0|1|2...],
                                     "rejected":[{"i":n,"code":s,"msg":s}...]}
      error  collector -> producer  {"v":1,"t":"error","batch":id|nil,"code":s,"msg":s
                                     [,"versions":[1]]}
      status producer -> collector  {"v":1,"t":"status","backlog":n [,"oldest":ts]
                                     [,"verdict":ts][,"software":s]}   (revision 1.3, no reply)
      event  {"id":bin16,"unit":s,"type":s,"at":ext-1 [,"partner":s][,"attrs":{s:scalar}]
              [,"supersedes":bin16]}   (supersedes: revision 1.1)

    Decoding is strict.  Every message goes through tx_prescan() (no
    allocation bombs), then msgpack_unpack_next(), which must consume the
    whole frame.  Envelope problems fail the whole message; problems inside
    one event only mark that event (tx_event_t.reject) and the batch still
    decodes.  This module does the checks that need no registry: msgpack
    types, keys, UTF-8, byte lengths, UUIDv7 form, timestamp form, attribute
    count, scalar attribute values, finite floats.  Registry and clock checks
    (unit, type, partner, attribute kinds and ranges, time windows) are the
    collector validator's, which uses the same reject-code table below.

    Order of event checks (the first failure sets the reject code):
      1. not a map                                  -> malformed_event
      2. keys, in map order: non-string key         -> malformed_event
                             key seen before         -> duplicate_key
                             unknown key             -> unknown_field
      3. id, unit, type or at missing               -> malformed_event
      4. msgpack types:  id not bin 16               -> bad_id
                         unit/type/partner not str   -> malformed_event
                         at not ext                  -> malformed_event
                         at ext but not type -1 of size 4/8/12 -> bad_time
                         attrs not a map             -> malformed_event
                         attrs with more than 64     -> too_many_attrs
                         attribute name not str      -> malformed_event
                         value nil/array/map/bin/ext -> bad_attr_type
                         uint above INT64_MAX        -> out_of_range
      5. content (tx_wire_event_check, shared with producers), in order
         id, unit, type, at, partner, attrs (name, then value, per attribute):
                         id not version 7 / variant 10 -> bad_id
                         at nanoseconds >= 1e9       -> bad_time
                         empty unit/type/partner/attribute name -> malformed_event
                         code longer than 64 bytes   -> too_long
                         str value longer than 4096  -> too_long
                         any string not UTF-8 or with NUL -> bad_utf8
                         attribute name repeated     -> duplicate_key
                         float NaN or +-Inf          -> bad_number
    nil is never accepted as "absent": an optional key is absent or valid.

    Ownership:
      - Decoded batches and replies point INTO the caller's buffer (strings,
        raw event bytes) and into arrays owned by the decoder.  They stay
        valid until the next decode call on the same decoder, its destroy,
        or the release of buf, whichever comes first.  Nothing is copied;
        the msgpack zone is released before decode returns.
      - tx_wire_decoder_new() returns a decoder the caller frees with
        tx_wire_decoder_destroy() (NULLs the pointer, safe twice).  One
        decoder per thread.
      - Packing functions write into the caller's msgpack_sbuffer (cleared
        first) and keep no pointer to the inputs.
*/
#ifndef TX_WIRE_H_INCLUDED
#define TX_WIRE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#include "prescan.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Protocol limits
#define TX_WIRE_VERSION      1
#define TX_WIRE_MAX_FRAME    1048576    //  bytes per message
#define TX_WIRE_MAX_EVENTS   1000       //  events per batch
#define TX_WIRE_MAX_ATTRS    64         //  attributes per event
#define TX_WIRE_MAX_CODE     64         //  bytes: unit, type, partner, attribute names
#define TX_WIRE_MAX_STR      4096       //  bytes: any other string
#define TX_WIRE_MIN_AT_SEC   946684800  //  2000-01-01T00:00:00Z (checked by the validator)
#define TX_WIRE_MAX_VERSIONS 16         //  entries in an error's "versions"
#define TX_REJECT_MSG_MAX    96         //  per-event message buffer, with NUL
#define TX_WIRE_REVISION     3          //  1.3: the newest minor revision spoken here
#define TX_WIRE_MAX_REGISTRY_REQUEST 256    //  bytes of a registry request (revision 1.3)
#define TX_WIRE_MAX_SOFTWARE 200        //  bytes: a status's "software" (revision 1.3)
#define TX_WIRE_MAX_NTH      65535      //  an event's "nth" (revision 1.2)

//  Return values of the decode functions
#define TX_WIRE_OK            0
#define TX_WIRE_MALFORMED    -1     //  answer error "malformed"
#define TX_WIRE_UNSUPPORTED  -2     //  "v" is a positive int other than 1: answer "unsupported_version"
#define TX_WIRE_TOO_LARGE    -3     //  frame > 1 MiB or > 1000 events: answer "too_large"
#define TX_WIRE_NOMEM        -4     //  out of memory here: not the peer's fault, do not answer
#define TX_WIRE_NOT_THIS      1     //  registry decoders: another message type (decode it as such)

//  Per-event reject codes; the strings are the stable wire codes.
typedef enum {
    TX_REJECT_NONE = 0,             //  accepted (no string)
    TX_REJECT_MALFORMED_EVENT,      //  "malformed_event"
    TX_REJECT_UNKNOWN_FIELD,        //  "unknown_field"
    TX_REJECT_DUPLICATE_KEY,        //  "duplicate_key"
    TX_REJECT_BAD_ID,               //  "bad_id"
    TX_REJECT_BAD_ID_TIME,          //  "bad_id_time"       (validator)
    TX_REJECT_BAD_UTF8,             //  "bad_utf8"
    TX_REJECT_TOO_LONG,             //  "too_long"
    TX_REJECT_UNKNOWN_UNIT,         //  "unknown_unit"      (validator)
    TX_REJECT_UNIT_INACTIVE,        //  "unit_inactive"     (validator)
    TX_REJECT_UNIT_MISMATCH,        //  "unit_mismatch"     (validator)
    TX_REJECT_UNKNOWN_TYPE,         //  "unknown_type"      (validator)
    TX_REJECT_BAD_TIME,             //  "bad_time"
    TX_REJECT_MISSING_PARTNER,      //  "missing_partner"   (validator)
    TX_REJECT_UNKNOWN_PARTNER,      //  "unknown_partner"   (validator)
    TX_REJECT_MISSING_ATTR,         //  "missing_attr"      (validator)
    TX_REJECT_UNKNOWN_ATTR,         //  "unknown_attr"      (validator)
    TX_REJECT_BAD_ATTR_TYPE,        //  "bad_attr_type"
    TX_REJECT_OUT_OF_RANGE,         //  "out_of_range"
    TX_REJECT_BAD_NUMBER,           //  "bad_number"
    TX_REJECT_BAD_ENUM,             //  "bad_enum"          (validator)
    TX_REJECT_BAD_DATE,             //  "bad_date"          (validator)
    TX_REJECT_TOO_MANY_ATTRS,       //  "too_many_attrs"
    TX_REJECT_DB_REFUSED,           //  "db_refused"        (writer: kept for replay)
    TX_REJECT_COUNT_                //  number of codes, not a code
} tx_reject_t;

//  Whole-message error codes ("error" messages).
typedef enum {
    TX_ERROR_NONE = 0,              //  not an error (no string)
    TX_ERROR_UNSUPPORTED_VERSION,   //  "unsupported_version"
    TX_ERROR_MALFORMED,             //  "malformed"
    TX_ERROR_TOO_LARGE,             //  "too_large"
    TX_ERROR_UNAUTHORIZED,          //  "unauthorized"
    TX_ERROR_COUNT_                 //  number of codes, not a code
} tx_error_t;

//  Ack results, one per event
#define TX_RESULT_STORED     0
#define TX_RESULT_DUPLICATE  1
#define TX_RESULT_REJECTED   2

//  Which msgpack type an attribute value arrived as.
typedef enum {
    TX_VAL_INT = 1,                 //  any msgpack int within int64
    TX_VAL_FLOAT,                   //  float32 or float64 (as double)
    TX_VAL_STR,                     //  str
    TX_VAL_BOOL                     //  true / false
} tx_value_type_t;

typedef struct {
    tx_value_type_t type;           //  which member below is set
    union {
        int64_t i;                  //  TX_VAL_INT
        double f;                   //  TX_VAL_FLOAT
        bool b;                     //  TX_VAL_BOOL
        struct {
            const char *ptr;        //  TX_VAL_STR, not NUL-terminated
            size_t len;             //  bytes
        } s;
    } u;
} tx_value_t;

typedef struct {
    const char *name;               //  attribute name, not NUL-terminated
    size_t name_len;                //  bytes
    tx_value_t value;               //  its value
} tx_attr_t;

typedef struct {
    uint8_t id [16];                //  UUIDv7, raw bytes
    const char *unit;               //  unit code, not NUL-terminated
    size_t unit_len;                //  bytes
    const char *type;               //  event type code
    size_t type_len;                //  bytes
    int64_t at_sec;                 //  occurred_at, unix seconds
    uint32_t at_nsec;               //  and nanoseconds (< 1e9 when accepted)
    const char *partner;            //  region code, NULL if absent
    size_t partner_len;             //  bytes
    const tx_attr_t *attrs;         //  attr_count attributes (may be NULL if 0)
    size_t attr_count;              //  0..64
    int reject;                     //  TX_REJECT_NONE or a tx_reject_t
    const char *reject_msg;         //  NULL, static text or reject_buf
    char reject_buf [TX_REJECT_MSG_MAX];    //  space for reject_msg
    const uint8_t *raw;             //  decoded only: the event's msgpack bytes in buf
    size_t raw_len;                 //  bytes
    bool has_supersedes;            //  revision 1.1: corrects an earlier event
    uint8_t supersedes [16];        //  that event's id (same unit)
    uint32_t nth;                   //  revision 1.2: 0 (absent, as 1) or 1..TX_WIRE_MAX_NTH: the
                                    //  ordinal of identical content reported on purpose
} tx_event_t;
//  On decode, a rejected event keeps the fields that were decoded before the
//  failing check (in the order above) and has the rest zero / NULL.
//  reject_msg is plain ASCII (names are quoted with unprintables as '?').

typedef struct {
    uint64_t batch_id;              //  1..2^64-1; 0 = unknown (could not be read)
    tx_event_t *events;             //  count events (decoder-owned when decoded)
    size_t count;                   //  1..1000
    uint64_t rev;                   //  revision 1.2: the "rev" the producer sent; 0 = absent
} tx_batch_t;

//  Revision 1.2: what a duplicate repeats (an ack's "dups" entry).
typedef struct {
    size_t index;                   //  event index in the batch (a result 1)
    uint8_t id [16];                //  the stored event's id
    int64_t at_sec;                 //  when the collector received it: unix seconds
    uint32_t at_nsec;               //  and nanoseconds
} tx_dup_t;

typedef struct {
    size_t index;                   //  event index in the batch
    int code;                       //  tx_reject_t; -1 if decoded and not known here
    const char *code_str;           //  decoded only: the code as received
    size_t code_len;                //  bytes
    const char *msg;                //  text (NULL = empty); not NUL-terminated when decoded
    size_t msg_len;                 //  bytes; when packing, 0 means strlen (msg)
} tx_rejected_t;

typedef enum {
    TX_REPLY_ACK = 1,               //  "ack"
    TX_REPLY_ERROR                  //  "error"
} tx_reply_type_t;

typedef struct {
    tx_reply_type_t type;           //  ack or error
    uint64_t batch_id;              //  echoed id; 0 = nil (error only)
    const uint8_t *results;         //  ack: n_results values 0/1/2 (decoder-owned)
    size_t n_results;               //  ack: 1..1000
    const tx_rejected_t *rejected;  //  ack: n_rejected entries (decoder-owned)
    size_t n_rejected;              //  ack: == number of results 2
    bool has_dups;                  //  ack: the "dups" key was present (revision 1.2)
    const tx_dup_t *dups;           //  ack: n_dups entries, each a distinct result 1 (decoder-owned)
    size_t n_dups;
    int error;                      //  error: tx_error_t; -1 if the code is not known here
    const char *code;               //  error: the code as received
    size_t code_len;                //  bytes
    const char *msg;                //  error: text, not NUL-terminated
    size_t msg_len;                 //  bytes
    uint64_t rev;                   //  ack: the collector's "rev" (revision 1.3: its newest
                                    //  revision, sent to batches of rev >= 3); 0 = absent
    uint32_t versions [TX_WIRE_MAX_VERSIONS];  //  error unsupported_version: supported versions
    size_t n_versions;              //  1..16 with unsupported_version, else 0
} tx_reply_t;

//  Revision 1.3: a producer asks for the registry ("t": "registry").
typedef struct {
    uint64_t req;                   //  request id, 1..2^64-1, echoed
    const char *have;               //  the version the producer holds, or NULL; not NUL-terminated
    size_t have_len;                //  bytes
} tx_registry_req_t;

//  Revision 1.3: the collector's answer.
typedef struct {
    uint64_t req;                   //  the request's id
    const char *version;            //  the collector's registry version, not NUL-terminated
    size_t version_len;             //  bytes
    const uint8_t *body;            //  the registry's canonical body (common/registry.h), or
    size_t body_len;                //  NULL: unchanged (the version the producer has)
} tx_registry_rep_t;
//  Revision 1.3: a producer's state ("status", producer -> collector, no
//  reply).  {"v":1,"t":"status","backlog":n [,"oldest":ts][,"verdict":ts]
//  [,"software":s]}.  Decoded: the checks of the codec (types, keys, UTF-8,
//  lengths, backlog <= 2^63-1, "oldest" absent when backlog is 0, software
//  clean text as safetext.h says); time ranges are the collector's.
typedef struct {
    uint64_t backlog;               //  events spooled and not yet acknowledged
    bool has_oldest;                //  "oldest": when the oldest of them was spooled
    int64_t oldest_sec;             //  unix seconds
    uint32_t oldest_nsec;           //  and nanoseconds
    bool has_verdict;               //  "verdict": when the producer last had an ack
    int64_t verdict_sec;
    uint32_t verdict_nsec;
    const char *software;           //  "software" (NULL: absent); not NUL-terminated when decoded
    size_t software_len;            //  bytes, 1..TX_WIRE_MAX_SOFTWARE
} tx_status_msg_t;

//  What a frame from a producer is (tx_wire_decode_message).
typedef enum {
    TX_MSG_BATCH = 1,               //  a batch (or not a status: decoded as a batch)
    TX_MSG_STATUS                   //  "t" is "status" (revision 1.3)
} tx_msg_type_t;

typedef struct {
    tx_msg_type_t type;             //  which member below was decoded
    tx_batch_t batch;               //  TX_MSG_BATCH: as tx_wire_decode_batch
    tx_status_msg_t status;         //  TX_MSG_STATUS
} tx_message_t;

typedef struct tx_wire_decoder_t tx_wire_decoder_t;   //  opaque

//  ---------------------------------------------------------------------
//  Codes

//  The stable wire string of a reject code, or NULL for TX_REJECT_NONE and
//  values out of range.
const char *tx_reject_code_str (int code);

//  The reject code for s[0..len), or -1 if it is not one.
int tx_reject_code_from_str (const char *s, size_t len);

//  The same for whole-message error codes.
const char *tx_error_code_str (int code);
int tx_error_code_from_str (const char *s, size_t len);

//  The error code to answer for a decode return value (TX_WIRE_MALFORMED ->
//  TX_ERROR_MALFORMED, ...); TX_ERROR_NONE for TX_WIRE_OK and TX_WIRE_NOMEM.
tx_error_t tx_wire_rc_error (int rc);

//  ---------------------------------------------------------------------
//  Decoding

//  New decoder, or NULL if out of memory.
tx_wire_decoder_t *tx_wire_decoder_new (void);

//  Frees the decoder and sets *self_p to NULL.  Safe if *self_p is NULL.
void tx_wire_decoder_destroy (tx_wire_decoder_t **self_p);

//  Decodes a batch frame.  Returns TX_WIRE_OK (events with a problem have
//  reject set), or TX_WIRE_MALFORMED / _UNSUPPORTED / _TOO_LARGE / _NOMEM
//  with a reason in err.  On failure out->events is NULL, out->count 0, and
//  out->batch_id the batch id if it could be read (else 0) so that the error
//  reply can echo it.  err may be NULL.
int tx_wire_decode_batch (const uint8_t *buf, size_t len, tx_batch_t *out,
                          tx_wire_decoder_t *dec, char *err, size_t errlen);

//  Decodes a frame from a producer: a status (a map whose "t" is "status",
//  revision 1.3) into out->status, anything else as tx_wire_decode_batch
//  into out->batch; out->type says which.  Returns as tx_wire_decode_batch;
//  a status is never answered, so for one the collector only counts a
//  failure.
int tx_wire_decode_message (const uint8_t *buf, size_t len, tx_message_t *out,
                            tx_wire_decoder_t *dec, char *err, size_t errlen);

//  Decodes an ack or error frame (producer side).  Same return values
//  (never TX_WIRE_TOO_LARGE except for frames > 1 MiB).  An ack with
//  results other than 0/1/2, or whose "rejected" entries do not match the
//  results equal to 2 one to one, is malformed.  Unknown code strings are
//  accepted (code/error -1) so that a newer collector's codes do not make
//  the reply unreadable.
int tx_wire_decode_reply (const uint8_t *buf, size_t len, tx_reply_t *out,
                          tx_wire_decoder_t *dec, char *err, size_t errlen);

//  ---------------------------------------------------------------------
//  Checks and packing

//  Runs step 5 of the event checks (above) on an event built by the caller
//  or decoded.  Returns TX_REJECT_NONE (0) or the reject code, and writes a
//  short ASCII reason into msg (may be NULL).
int tx_wire_event_check (const tx_event_t *ev, char *msg, size_t msglen);

//  Packs one event map as is, without any check (id, unit, type, at;
//  partner if not NULL; attrs if attr_count > 0).  For batches use
//  tx_wire_pack_batch.  Returns 0, or -1 if the packer's write failed.
int tx_wire_pack_event (msgpack_packer *pk, const tx_event_t *ev);

//  Packs a batch's envelope up to its events: {"v":1,"t":"batch",
//  "batch":batch_id,"events": and the header of an array of count; the
//  caller then packs the count events (tx_wire_pack_event, or spooled
//  payloads as they are).  The one writer of the envelope: batch_id 0
//  packs nil (refused by collectors), count is not checked.  Returns 0, or
//  -1 if the packer's write failed.
int tx_wire_pack_batch_head (msgpack_packer *pk, uint64_t batch_id, size_t count);

//  The same with "rev": rev (revision 1.2: 2) after "batch"; rev 0 packs
//  no "rev", as tx_wire_pack_batch_head.
int tx_wire_pack_batch_head_rev (msgpack_packer *pk, uint64_t batch_id, size_t count,
                                 uint64_t rev);

//  Clears sb and packs a batch of count events.  Refuses (-1, reason in err)
//  batch_id 0, count 0 or above 1000, and any event that
//  tx_wire_event_check rejects (err names its index and code).  The frame
//  may still exceed TX_WIRE_MAX_FRAME: the caller checks sb->size and
//  splits.  Returns 0 or -1.
int tx_wire_pack_batch (msgpack_sbuffer *sb, uint64_t batch_id,
                        const tx_event_t *events, size_t count,
                        char *err, size_t errlen);

//  The id of an event packed by tx_wire_pack_event (a spool payload: the
//  map's first pair is "id" and its bin 16) into id.  0, or -1 if data does
//  not start so (the caller treats the payload as opaque otherwise).
int tx_wire_payload_event_id (const uint8_t *data, size_t len, uint8_t id [16]);

//  Clears sb and packs an ack: results[0..n) (each 0, 1 or 2) and the
//  rejected entries (index, code, msg), which must match the results equal
//  to 2 one to one (any order; packed in the order given).  A msg that is
//  not valid UTF-8 is replaced by the code string; one longer than 4096
//  bytes is cut at a character boundary.  Returns 0, or -1 (bad arguments,
//  reason in err, or write failure).
int tx_wire_pack_ack (msgpack_sbuffer *sb, uint64_t batch_id,
                      const uint8_t *results, size_t n,
                      const tx_rejected_t *rejected, size_t n_rejected,
                      char *err, size_t errlen);

//  The same, for a batch of revision 1.2 (its "rev" >= 2): with_dups adds
//  "dups", one entry per dups[0..n_dups), each for a distinct result 1
//  (any of them may go without: the collector could not tell).
int tx_wire_pack_ack_dups (msgpack_sbuffer *sb, uint64_t batch_id,
                           const uint8_t *results, size_t n,
                           const tx_rejected_t *rejected, size_t n_rejected,
                           bool with_dups, const tx_dup_t *dups, size_t n_dups,
                           char *err, size_t errlen);

//  The same with the batch's revision (its "rev", 0 if absent): rev >= 2
//  adds "dups" as with_dups above, rev >= 3 adds "rev": TX_WIRE_REVISION
//  (revision 1.3: tells the producer the collector takes "status").
int tx_wire_pack_ack_rev (msgpack_sbuffer *sb, uint64_t batch_id,
                          const uint8_t *results, size_t n,
                          const tx_rejected_t *rejected, size_t n_rejected,
                          uint64_t rev, const tx_dup_t *dups, size_t n_dups,
                          char *err, size_t errlen);

//  Clears sb and packs a status (revision 1.3).  Refuses (-1, reason in
//  err) what tx_wire_decode_message would: "oldest" with backlog 0, a
//  backlog above 2^63-1, a software text that is empty, longer than
//  TX_WIRE_MAX_SOFTWARE, not UTF-8 or not clean (safetext.h); nanoseconds
//  >= 1e9.  Returns 0 or -1.
int tx_wire_pack_status (msgpack_sbuffer *sb, const tx_status_msg_t *st,
                         char *err, size_t errlen);

//  Clears sb and packs an error.  batch_id 0 packs nil.  msg NULL packs "";
//  invalid UTF-8 is replaced by the code string, long text is cut to 4096
//  bytes.  With TX_ERROR_UNSUPPORTED_VERSION, "versions": [1] is added.
//  Returns 0, or -1 (bad code, or write failure).
int tx_wire_pack_error (msgpack_sbuffer *sb, uint64_t batch_id, tx_error_t code,
                        const char *msg, char *err, size_t errlen);

//  ---------------------------------------------------------------------
//  Registry request and reply (revision 1.3, docs/protocol.md 6.4, 6.5).
//  Decoded fields point into buf.

//  Clears sb and packs {"v":1,"t":"registry","req":req[,"have":have]}.
//  have NULL: the producer holds no registry.  0, or -1 (req 0, write).
int tx_wire_pack_registry_request (msgpack_sbuffer *sb, uint64_t req, const char *have);

//  A registry request?  TX_WIRE_OK (out set); TX_WIRE_NOT_THIS when buf is
//  not plainly one (over 256 bytes, not one msgpack map, "v" not 1, "t"
//  not "registry": the batch decoder judges it); TX_WIRE_MALFORMED (reason
//  in err) for a registry request with a bad envelope.
int tx_wire_decode_registry_request (const uint8_t *buf, size_t len, tx_registry_req_t *out,
                                     char *err, size_t errlen);

//  Clears sb and packs {"v":1,"t":"registry","req":req,"version":version
//  [,"registry":body]}: body (already msgpack, a map) NULL answers
//  "unchanged".  0, or -1.
int tx_wire_pack_registry_reply (msgpack_sbuffer *sb, uint64_t req, const char *version,
                                 const uint8_t *body, size_t body_len);

//  A registry reply (producer side)?  TX_WIRE_OK (out set: the body is
//  only framed here; tx_registry_decode judges it), TX_WIRE_NOT_THIS for
//  another message (an error: tx_wire_decode_reply), TX_WIRE_MALFORMED
//  (reason in err): over 1 MiB, not msgpack within the limits, an unknown
//  or repeated key, no req or version, a registry that is not a map.
int tx_wire_decode_registry_reply (const uint8_t *buf, size_t len, tx_registry_rep_t *out,
                                   char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
