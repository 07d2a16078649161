/*  replay.c: tongxin-admin rejected list | replay.
 *
 *  Replay takes the refused events whose bytes were kept whole, decodes
 *  them with the collector's decoder, checks them with the collector's
 *  validator against the registry as it is now, and inserts the valid ones
 *  into tongxin.events as the collector would (ON CONFLICT DO NOTHING: an
 *  event already stored counts as a duplicate, so replaying twice stores
 *  nothing twice).  Each row is marked with the time and the outcome;
 *  a row whose event the database still refuses stays unmarked, to be
 *  replayed again later.  An event is replayed only for the unit that
 *  delivered it: a row whose sender is not the event's unit (unit_mismatch,
 *  for one) is never stored.
 */
#include "admin.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registry.h"
#include "validate.h"
#include "wire.h"

#define MAX_SKEW_MS (300 * 1000)

//  The batch frame around one kept event, as a producer would send it.
static int
s_wrap (msgpack_sbuffer *sb, const char *raw, size_t len)
{
    msgpack_sbuffer_clear (sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    return msgpack_pack_map (&pk, 4)
        || msgpack_pack_str_with_body (&pk, "v", 1) || msgpack_pack_uint8 (&pk, 1)
        || msgpack_pack_str_with_body (&pk, "t", 1) || msgpack_pack_str_with_body (&pk, "batch", 5)
        || msgpack_pack_str_with_body (&pk, "batch", 5) || msgpack_pack_uint8 (&pk, 1)
        || msgpack_pack_str_with_body (&pk, "events", 6) || msgpack_pack_array (&pk, 1)
        || msgpack_sbuffer_write (sb, raw, len) ? -1 : 0;
}

static void
s_put64 (uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p [i] = (uint8_t) v;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Inserts one valid event; "stored", "duplicate", or NULL with the
//  database's reason in err (the savepoint is rolled back).
static const char *
s_insert (PGconn *db, const tx_registry_t *reg, const tx_event_t *ev, const char *sender,
          tx_buf_t *json, adm_err_t *err)
{
    json->len = 0;
    if (tx_buf_putc (json, 1) != 0 || tx_validate_attrs_json (reg, ev, json) != 0) {
        snprintf (err->msg, sizeof err->msg, "out of memory");
        return NULL;
    }
    uint8_t at [8];
    s_put64 (at, (uint64_t) ((ev->at_sec - 946684800LL) * 1000000LL + ev->at_nsec / 1000));
    char *unit = strndup (ev->unit, ev->unit_len);
    char *type = strndup (ev->type, ev->type_len);
    char *partner = ev->partner ? strndup (ev->partner, ev->partner_len) : NULL;
    const char *values [8] = {
        (const char *) ev->id, unit, type, (const char *) at, partner,
        (const char *) json->data, sender, ev->has_supersedes ? (const char *) ev->supersedes : NULL
    };
    int lengths [8] = { 16, 0, 0, 8, 0, (int) json->len, 0, 16 };
    int formats [8] = { 1, 0, 0, 1, 0, 1, 0, 1 };
    Oid types [8] = { 2950, 25, 25, 1184, 25, 3802, 25, 2950 };   //  uuid text timestamptz jsonb
    PQclear (PQexec (db, "SAVEPOINT replay"));
    PGresult *r = PQexecParams (db,
        "INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, partner_region,"
        " attrs, sender, supersedes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT DO NOTHING RETURNING 1", 8, types, values, lengths, formats, 0);
    const char *outcome = NULL;
    if (PQresultStatus (r) == PGRES_TUPLES_OK)
        outcome = PQntuples (r) ? "stored" : "duplicate";
    else {
        const char *m = PQresultErrorField (r, PG_DIAG_MESSAGE_PRIMARY);
        snprintf (err->msg, sizeof err->msg, "%s", m ? m : PQerrorMessage (db));
        err->msg [strcspn (err->msg, "\n")] = 0;
        PQclear (PQexec (db, "ROLLBACK TO SAVEPOINT replay"));
    }
    PQclear (r);
    free (unit);
    free (type);
    free (partner);
    return outcome;
}

//  The outcome of one kept row: "stored", "duplicate", a reject code, or
//  NULL when the database still refuses it (why in err).
static const char *
s_replay_one (PGconn *db, const tx_registry_t *reg, tx_wire_decoder_t *dec, msgpack_sbuffer *sb,
              tx_buf_t *json, const char *raw, size_t len, const char *sender, adm_err_t *err)
{
    tx_batch_t batch;
    if (s_wrap (sb, raw, len) != 0
    ||  tx_wire_decode_batch ((const uint8_t *) sb->data, sb->size, &batch, dec, NULL, 0) != TX_WIRE_OK)
        return "malformed";
    const tx_event_t *ev = &batch.events [0];
    if (ev->reject != TX_REJECT_NONE)
        return tx_reject_code_str (ev->reject);
    //  Only the unit that delivered it: "insecure:..." senders are as
    //  unauthenticated now as they were then.
    bool insecure = strncmp (sender, "insecure:", 9) == 0;
    tx_validate_ctx_t ctx = { insecure ? NULL : sender, s_now_ms (), MAX_SKEW_MS };
    char msg [TX_REJECT_MSG_MAX + 160];
    int code = tx_validate_event (reg, ev, &ctx, msg, sizeof msg);
    if (code != TX_REJECT_NONE)
        return tx_reject_code_str (code);
    return s_insert (db, reg, ev, sender, json, err);
}

int
adm_rejected_replay (PGconn *db, const char *reason, const char *since, bool dry_run)
{
    char err [256];
    tx_registry_t *reg = tx_registry_load (db, err, sizeof err);
    if (!reg) {
        adm_error ("cannot load the registry: %s", err);
        return 1;
    }
    if (adm_run (db, "replay", "BEGIN") != 0) {
        tx_registry_unref (&reg);
        return 1;
    }
    //  Whole bytes only (raw_len is NULL on rows older than migration 5,
    //  which always kept everything); oldest first, as they came.
    const char *params [2] = { reason, since };
    PGresult *rows = adm_exec (db, "reading rejected events",
        "SELECT tableoid::int, ctid::text, sender, raw, received_at"
        "  FROM tongxin.rejected_events"
        " WHERE reason = $1 AND ($2::timestamptz IS NULL OR received_at >= $2::timestamptz)"
        "   AND replayed_at IS NULL AND event_id IS NOT NULL AND length(raw) > 0"
        "   AND (raw_len IS NULL OR raw_len = length(raw))"
        " ORDER BY received_at FOR UPDATE", 2, params);
    if (!rows) {
        PQclear (PQexec (db, "ROLLBACK"));
        tx_registry_unref (&reg);
        return 1;
    }
    tx_wire_decoder_t *dec = tx_wire_decoder_new ();
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    tx_buf_t json = { 0 };
    int n = PQntuples (rows), stored = 0, duplicate = 0, refused = 0, still = 0;
    for (int i = 0; i < n && dec; i++) {
        size_t len;
        unsigned char *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (rows, i, 3), &len);
        adm_err_t dberr = { 0 };
        const char *outcome = raw ? s_replay_one (db, reg, dec, &sb, &json, (const char *) raw, len,
                                                  PQgetvalue (rows, i, 2), &dberr)
                                  : NULL;
        PQfreemem (raw);
        if (!outcome) {
            still++;
            printf ("%s\tstill refused\t%s\n", PQgetvalue (rows, i, 4), dberr.msg);
            continue;
        }
        if (!strcmp (outcome, "stored"))
            stored++;
        else
        if (!strcmp (outcome, "duplicate"))
            duplicate++;
        else {
            refused++;
            printf ("%s\trefused\t%s\n", PQgetvalue (rows, i, 4), outcome);
        }
        const char *mark [3] = { outcome, PQgetvalue (rows, i, 0), PQgetvalue (rows, i, 1) };
        PGresult *u = adm_exec (db, "marking a replayed event",
            "UPDATE tongxin.rejected_events SET replayed_at = now(), replay_result = $1"
            " WHERE tableoid = $2::oid AND ctid = $3::tid", 3, mark);
        if (!u) {
            n = -1;
            break;
        }
        PQclear (u);
    }
    PQclear (rows);
    tx_buf_reset (&json);
    msgpack_sbuffer_destroy (&sb);
    tx_registry_unref (&reg);
    if (!dec || n < 0 || adm_run (db, "replay", dry_run ? "ROLLBACK" : "COMMIT") != 0) {
        if (!dec)
            adm_error ("out of memory");
        tx_wire_decoder_destroy (&dec);
        PQclear (PQexec (db, "ROLLBACK"));
        return 1;
    }
    tx_wire_decoder_destroy (&dec);
    printf ("%s%d kept events of reason %s: %d stored, %d already stored, %d refused now, %d still"
            " refused by the database\n", dry_run ? "dry run (nothing changed): " : "",
            n, reason, stored, duplicate, refused, still);
    return still ? 1 : 0;
}

int
adm_rejected_list (PGconn *db, const char *since)
{
    const char *params [1] = { since };
    PGresult *r = adm_exec (db, "reading rejected events",
        "SELECT reason, count(*),"
        "       count(*) FILTER (WHERE replayed_at IS NULL AND event_id IS NOT NULL"
        "                          AND length(raw) > 0 AND (raw_len IS NULL OR raw_len = length(raw))),"
        "       count(*) FILTER (WHERE replayed_at IS NOT NULL),"
        "       coalesce(sum(coalesce(raw_len, length(raw))), 0), min(received_at), max(received_at)"
        "  FROM tongxin.rejected_events"
        " WHERE $1::timestamptz IS NULL OR received_at >= $1::timestamptz"
        " GROUP BY reason ORDER BY reason", 1, params);
    if (!r)
        return 1;
    printf ("reason\trows\treplayable\treplayed\tbytes\tfirst\tlast\n");
    for (int i = 0; i < PQntuples (r); i++)
        for (int j = 0; j < 7; j++)
            printf ("%s%c", PQgetvalue (r, i, j), j == 6 ? '\n' : '\t');
    PQclear (r);
    return 0;
}
