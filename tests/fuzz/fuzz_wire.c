/*  fuzz_wire: libFuzzer harness for the frame pre-scan, the wire decoder
    and the collector's validator (common/prescan.c, common/wire.c,
    common/validate.c against a registry built in memory).

    Built and run by `make fuzz` (FUZZ_TIME seconds, default 60); the saved
    corpus and every regression case are replayed under ASan+UBSan by
    tests/fuzz.t in `make check`.

    Build and run (from the top of the tree):
      clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Icommon \
          tests/fuzz/fuzz_wire.c common/prescan.c common/utf8.c common/uuid.c \
          common/wire.c common/safetext.c -lmsgpackc -o build/fuzz_wire
      build/fuzz_wire -malloc_limit_mb=512 -max_len=65536 tests/fuzz/corpus
    Replay the corpus only:  build/fuzz_wire -runs=0 tests/fuzz/corpus

    Properties checked (abort on violation):
      - whatever tx_prescan accepts, msgpack_unpack_next decodes completely;
      - a decoded batch has 1..1000 events, each either accepted or with a
        known reject code and an ASCII message, its raw bytes inside the
        input;
      - every accepted event passes tx_wire_event_check, and the accepted
        events packed again decode to the same values;
      - a decoded reply is internally consistent;
      - a decoded status (revision 1.3) is within its bounds and packs
        again to a status that decodes to the same values;
      - the validator returns a known code with a valid UTF-8 message (it
        goes into an ack and a text column), and the attributes of every
        event it accepts encode to JSON that parses as an object with one
        member per attribute (what jsonb will be given).
*/

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>

#include <jansson.h>

#include "prescan.h"
#include "registry.h"
#include "utf8.h"
#include "validate.h"
#include "wire.h"

static tx_wire_decoder_t *s_dec;
static tx_wire_decoder_t *s_dec2;

#define CHECK(cond) do { if (!(cond)) abort (); } while (0)

static tx_registry_t *s_reg;

//  A registry like the seeded one, for the corpus's "shop-01" / "sale".
static void
s_registry (void)
{
    s_reg = tx_registry_new ();
    CHECK (s_reg);
    CHECK (tx_registry_add_unit (s_reg, "shop-01", true) == 0);
    CHECK (tx_registry_add_unit (s_reg, "shop-02", false) == 0);
    CHECK (tx_registry_add_region (s_reg, "110105") == 0);
    CHECK (tx_registry_add_region (s_reg, "540522") == 0);
    tx_type_def_t *t = tx_registry_add_type (s_reg, "sale", false, 8);
    CHECK (t);
    const char *kinds [] = { "a", "b" };
    tx_attr_def_t defs [] = {
        { .name = "amount", .kind = TX_KIND_NUMERIC, .required = true, .has_min = true, .min = 0 },
        { .name = "count", .kind = TX_KIND_INT, .has_min = true, .min = -100, .has_max = true, .max = 100 },
        { .name = "ratio", .kind = TX_KIND_NUMERIC, .has_min = true, .min = 0, .min_exclusive = true },
        { .name = "paid", .kind = TX_KIND_BOOL },
        { .name = "note", .kind = TX_KIND_TEXT, .max_len = 100 },
        { .name = "day", .kind = TX_KIND_DATE },
        { .name = "kind", .kind = TX_KIND_ENUM, .enum_values = (char **) kinds, .n_enum = 2 },
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs [0]; i++)
        CHECK (tx_registry_add_attr (s_reg, t, &defs [i]) == 0);
    CHECK (tx_registry_add_type (s_reg, "visit", true, 0));
    tx_registry_set_id_window (s_reg, 1577836800000LL, 1893456000000LL);    //  2020..2030
}

static void
s_check_validate (const tx_event_t *e, bool authenticated)
{
    tx_validate_ctx_t ctx = { authenticated ? "shop-01" : NULL, 1700000100000LL, 300000 };
    char msg [256];
    msg [0] = 0;
    const tx_type_def_t *type = NULL;
    int code = tx_validate_event (s_reg, e, &ctx, &type, msg, sizeof msg);
    CHECK (code >= 0 && code < TX_REJECT_COUNT_);
    if (code != TX_REJECT_NONE) {
        CHECK (msg [0] && tx_utf8_valid (msg, strlen (msg)));
        return;
    }
    CHECK (type && type == tx_registry_type (s_reg, e->type, e->type_len));
    tx_buf_t json = { 0 };
    CHECK (tx_validate_attrs_json (type, e, &json) == 0);
    json_error_t jerr;
    json_t *obj = json_loadb ((const char *) json.data, json.len, JSON_REJECT_DUPLICATES, &jerr);
    CHECK (json_is_object (obj) && json_object_size (obj) == e->attr_count);
    json_decref (obj);
    tx_buf_reset (&json);
}

static void
s_check_prescan (const uint8_t *data, size_t size)
{
    if (tx_prescan (data, size, NULL, NULL) != 0)
        return;
    msgpack_unpacked up;
    msgpack_unpacked_init (&up);
    size_t off = 0;
    int r = msgpack_unpack_next (&up, (const char *) data, size, &off);
    CHECK (r == MSGPACK_UNPACK_SUCCESS && off == size);
    msgpack_unpacked_destroy (&up);
}

static bool
s_same_event (const tx_event_t *a, const tx_event_t *b)
{
    if (memcmp (a->id, b->id, 16) || a->unit_len != b->unit_len
    ||  memcmp (a->unit, b->unit, a->unit_len) || a->type_len != b->type_len
    ||  memcmp (a->type, b->type, a->type_len) || a->at_sec != b->at_sec
    ||  a->at_nsec != b->at_nsec || (a->partner == NULL) != (b->partner == NULL)
    ||  a->attr_count != b->attr_count)
        return false;
    if (a->partner && (a->partner_len != b->partner_len
    ||  memcmp (a->partner, b->partner, a->partner_len)))
        return false;
    for (size_t i = 0; i < a->attr_count; i++) {
        const tx_attr_t *x = &a->attrs [i], *y = &b->attrs [i];
        if (x->name_len != y->name_len || memcmp (x->name, y->name, x->name_len)
        ||  x->value.type != y->value.type)
            return false;
        switch (x->value.type) {
            case TX_VAL_INT:   if (x->value.u.i != y->value.u.i) return false; break;
            case TX_VAL_FLOAT: if (x->value.u.f != y->value.u.f) return false; break;
            case TX_VAL_BOOL:  if (x->value.u.b != y->value.u.b) return false; break;
            case TX_VAL_STR:
                if (x->value.u.s.len != y->value.u.s.len
                ||  memcmp (x->value.u.s.ptr, y->value.u.s.ptr, x->value.u.s.len))
                    return false;
                break;
        }
    }
    return true;
}

static void
s_check_batch (const uint8_t *data, size_t size)
{
    tx_batch_t b;
    char err [256];
    int rc = tx_wire_decode_batch (data, size, &b, s_dec, err, sizeof err);
    CHECK (rc == TX_WIRE_OK || rc == TX_WIRE_MALFORMED || rc == TX_WIRE_UNSUPPORTED
        || rc == TX_WIRE_TOO_LARGE);
    if (rc != TX_WIRE_OK) {
        CHECK (b.events == NULL && b.count == 0 && err [0]);
        return;
    }
    CHECK (b.batch_id > 0 && b.count >= 1 && b.count <= TX_WIRE_MAX_EVENTS);
    tx_event_t *ok = calloc (b.count, sizeof (tx_event_t));
    CHECK (ok);
    size_t n_ok = 0;
    for (size_t i = 0; i < b.count; i++) {
        const tx_event_t *e = &b.events [i];
        CHECK (e->raw && e->raw >= data && e->raw + e->raw_len <= data + size);
        if (e->reject) {
            CHECK (tx_reject_code_str (e->reject) != NULL);
            CHECK (e->reject_msg != NULL);
            for (const char *p = e->reject_msg; *p; p++)
                CHECK ((unsigned char) *p >= 0x20 && (unsigned char) *p < 0x7f);
            continue;
        }
        CHECK (e->reject_msg == NULL);
        CHECK (tx_wire_event_check (e, NULL, 0) == TX_REJECT_NONE);
        s_check_validate (e, size > 0 && (data [size - 1] & 1));
        ok [n_ok++] = *e;
    }
    if (n_ok > 0) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        CHECK (tx_wire_pack_batch (&sb, b.batch_id, ok, n_ok, err, sizeof err) == 0);
        tx_batch_t b2;
        CHECK (tx_wire_decode_batch ((const uint8_t *) sb.data, sb.size, &b2, s_dec2,
                                     err, sizeof err) == TX_WIRE_OK);
        CHECK (b2.batch_id == b.batch_id && b2.count == n_ok);
        for (size_t i = 0; i < n_ok; i++) {
            CHECK (b2.events [i].reject == 0);
            CHECK (s_same_event (&ok [i], &b2.events [i]));
        }
        msgpack_sbuffer_destroy (&sb);
    }
    free (ok);
}

static void
s_check_reply (const uint8_t *data, size_t size)
{
    tx_reply_t r;
    int rc = tx_wire_decode_reply (data, size, &r, s_dec, NULL, 0);
    if (rc != TX_WIRE_OK)
        return;
    if (r.type == TX_REPLY_ACK) {
        size_t twos = 0;
        CHECK (r.batch_id > 0 && r.n_results >= 1 && r.n_results <= TX_WIRE_MAX_EVENTS);
        for (size_t i = 0; i < r.n_results; i++) {
            CHECK (r.results [i] <= TX_RESULT_REJECTED);
            twos += r.results [i] == TX_RESULT_REJECTED;
        }
        CHECK (twos == r.n_rejected);
        for (size_t i = 0; i < r.n_rejected; i++)
            CHECK (r.results [r.rejected [i].index] == TX_RESULT_REJECTED);
    }
    else {
        CHECK (r.type == TX_REPLY_ERROR && r.code_len > 0);
        CHECK ((r.error == TX_ERROR_UNSUPPORTED_VERSION) == (r.n_versions > 0));
    }
}

//  Revision 1.3: the registry request (collector side), the reply and the
//  registry body (producer side: tx_registry_decode of hostile bytes); a
//  body that decodes packs again, decodes again to the same version, and
//  turns into JSON.
static void
s_check_registry (const uint8_t *data, size_t size)
{
    tx_registry_req_t req;
    char err [256];
    int rc = tx_wire_decode_registry_request (data, size, &req, err, sizeof err);
    CHECK (rc == TX_WIRE_OK || rc == TX_WIRE_NOT_THIS || rc == TX_WIRE_MALFORMED);
    CHECK (rc != TX_WIRE_OK || (req.req && (!req.have || (req.have_len >= 1 && req.have_len <= 64))));
    tx_registry_rep_t rep;
    rc = tx_wire_decode_registry_reply (data, size, &rep, err, sizeof err);
    CHECK (rc == TX_WIRE_OK || rc == TX_WIRE_NOT_THIS || rc == TX_WIRE_MALFORMED);
    const uint8_t *body = rc == TX_WIRE_OK && rep.body ? rep.body : data;
    size_t body_len = rc == TX_WIRE_OK && rep.body ? rep.body_len : size;
    tx_registry_t *reg = tx_registry_decode (body, body_len, err, sizeof err);
    if (!reg)
        return;
    CHECK (strlen (tx_registry_version (reg)) == TX_REGISTRY_VERSION_LEN);
    CHECK (tx_registry_seal (reg) == 0);
    size_t len;
    const uint8_t *canon = tx_registry_body (reg, &len);
    tx_registry_t *again = tx_registry_decode (canon, len, err, sizeof err);
    CHECK (again);
    CHECK (strcmp (tx_registry_version (reg), tx_registry_version (again)) == 0);
    char *json = tx_registry_to_json (again);
    CHECK (json);
    free (json);
    tx_registry_unref (&again);
    tx_registry_unref (&reg);
}

static void
s_check_status (const uint8_t *data, size_t size)
{
    tx_message_t m;
    int rc = tx_wire_decode_message (data, size, &m, s_dec, NULL, 0);
    if (rc != TX_WIRE_OK || m.type != TX_MSG_STATUS)
        return;
    const tx_status_msg_t *st = &m.status;
    CHECK (st->backlog <= INT64_MAX && (!st->has_oldest || st->backlog > 0));
    CHECK (!st->has_oldest || st->oldest_nsec < 1000000000u);
    CHECK (!st->has_verdict || st->verdict_nsec < 1000000000u);
    CHECK (!st->software || (st->software_len >= 1 && st->software_len <= TX_WIRE_MAX_SOFTWARE
                             && tx_utf8_valid (st->software, st->software_len)));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    CHECK (tx_wire_pack_status (&sb, st, NULL, 0) == 0);
    tx_message_t m2;
    CHECK (tx_wire_decode_message ((const uint8_t *) sb.data, sb.size, &m2, s_dec2, NULL, 0) == TX_WIRE_OK);
    const tx_status_msg_t *s2 = &m2.status;
    CHECK (m2.type == TX_MSG_STATUS && s2->backlog == st->backlog && s2->has_oldest == st->has_oldest
        && s2->has_verdict == st->has_verdict && s2->software_len == st->software_len);
    CHECK (!st->has_oldest || (s2->oldest_sec == st->oldest_sec && s2->oldest_nsec == st->oldest_nsec));
    CHECK (!st->has_verdict || (s2->verdict_sec == st->verdict_sec && s2->verdict_nsec == st->verdict_nsec));
    CHECK (!st->software || memcmp (s2->software, st->software, st->software_len) == 0);
    msgpack_sbuffer_destroy (&sb);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_dec) {
        s_dec = tx_wire_decoder_new ();
        s_dec2 = tx_wire_decoder_new ();
        CHECK (s_dec && s_dec2);
        s_registry ();
    }
    s_check_prescan (data, size);
    s_check_batch (data, size);
    s_check_reply (data, size);
    s_check_registry (data, size);
    s_check_status (data, size);
    return 0;
}
