/*  replay.c: tongxin-admin rejected list | replay.
 *
 *  Replay takes the refused events whose bytes were kept whole, decodes
 *  them with the collector's decoder, checks them with the collector's
 *  validator against the registry as it is now, and inserts the valid ones
 *  into tongxin.events as the collector would (an event whose id or whose
 *  content its unit has stored already counts as a duplicate, so replaying
 *  twice stores nothing twice).  Each row is marked with the time and the outcome;
 *  a row whose event the database still refuses stays unmarked, to be
 *  replayed again later.  An event is replayed only for the unit that
 *  delivered it: a row whose sender is not the event's unit (unit_mismatch,
 *  for one) is never stored.
 */
#include "admin.h"
#include "i18n.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "content.h"
#include "copyrow.h"
#include "regload.h"
#include "safetext.h"
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

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Inserts one valid event of type as the collector stores it (copyrow.h:
//  the same values, as binary parameters); "stored", "duplicate", or NULL
//  with the database's reason in err (the savepoint is rolled back).
static const char *
s_insert (PGconn *db, const tx_type_def_t *type, const tx_event_t *ev, const char *sender,
          tx_buf_t *jsonb, adm_err_t *err)
{
    if (tx_copyrow_jsonb (jsonb, type, ev) != 0) {
        snprintf (err->msg, sizeof err->msg, "out of memory");
        return NULL;
    }
    uint8_t fp [TX_CONTENT_FP_LEN];
    tx_buf_t scratch = { 0 };
    int fprc = tx_content_fingerprint (type, ev, &scratch, fp);
    tx_buf_reset (&scratch);
    if (fprc != 0) {
        snprintf (err->msg, sizeof err->msg, "out of memory");
        return NULL;
    }
    tx_copyrow_t row;
    tx_copyrow_fill (&row, ev, sender, strlen (sender), jsonb, fp);
    const char *values [TX_COPY_FIELDS];
    int lengths [TX_COPY_FIELDS], formats [TX_COPY_FIELDS];
    for (int f = 0; f < TX_COPY_FIELDS; f++) {
        values [f] = row.data [f];
        lengths [f] = (int) row.len [f];
        formats [f] = 1;
    }
    PQclear (PQexec (db, "SAVEPOINT replay"));
    //  Stored as the collector stores (copyrow.h): once by id and by content.
    PGresult *r = PQexecParams (db, TX_COPY_STORE_SQL (
        "(VALUES ($1::uuid, $2::text, $3::text, $4::timestamptz, $5::text, $6::jsonb, $7::text,"
        " $8::uuid, $9::bytea, 1::bigint)) AS s (" TX_COPY_COLUMNS ", seq)"),
        TX_COPY_FIELDS, tx_copyrow_types, values, lengths, formats, 0);
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
    const tx_type_def_t *type;
    int code = tx_validate_event (reg, ev, &ctx, &type, msg, sizeof msg);
    if (code != TX_REJECT_NONE)
        return tx_reject_code_str (code);
    return s_insert (db, type, ev, sender, json, err);
}

//  What one replay holds and counts.
typedef struct {
    PGconn *db;
    const tx_registry_t *reg;       //  the registry as it is now
    tx_wire_decoder_t *dec;
    msgpack_sbuffer sb;             //  scratch: the batch frame around an event
    tx_buf_t jsonb;                 //  scratch: the event's attrs
    int stored, duplicate, refused, still;
} replay_t;

//  Replays row i of rows (tableoid, ctid, sender, raw, received_at): counts
//  and prints its outcome, marks it.  0, or -1 if it could not be marked.
static int
s_replay_row (replay_t *rp, PGresult *rows, int i)
{
    size_t len;
    unsigned char *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (rows, i, 3), &len);
    adm_err_t dberr = { 0 };
    const char *outcome = raw ? s_replay_one (rp->db, rp->reg, rp->dec, &rp->sb, &rp->jsonb,
                                              (const char *) raw, len, PQgetvalue (rows, i, 2), &dberr)
                              : NULL;
    PQfreemem (raw);
    if (!outcome) {
        rp->still++;
        if (!raw)
            snprintf (dberr.msg, sizeof dberr.msg, "out of memory reading its bytes");
        //  The database's message may quote the event's own text.
        char *shown = tx_safetext_escape (dberr.msg);
        printf ("%s\tstill refused\t%s\n", PQgetvalue (rows, i, 4), shown ? shown : "?");
        free (shown);
        return 0;
    }
    if (!strcmp (outcome, "stored"))
        rp->stored++;
    else
    if (!strcmp (outcome, "duplicate"))
        rp->duplicate++;
    else {
        rp->refused++;
        printf ("%s\trefused\t%s\n", PQgetvalue (rows, i, 4), outcome);
    }
    const char *mark [3] = { outcome, PQgetvalue (rows, i, 0), PQgetvalue (rows, i, 1) };
    PGresult *u = adm_exec (rp->db, _("marking a replayed event"),
        "UPDATE tongxin.rejected_events SET replayed_at = now(), replay_result = $1"
        " WHERE tableoid = $2::oid AND ctid = $3::tid", 3, mark);
    PQclear (u);
    return u ? 0 : -1;
}

//  The kept rows of reason (since: NULL or a time), locked: whole bytes
//  only (raw_len is NULL on rows older than migration 5, which always
//  kept everything); oldest first, as they came.  NULL (said) on error.
static PGresult *
s_kept_rows (PGconn *db, const char *reason, const char *since)
{
    const char *params [2] = { reason, since };
    return adm_exec (db, _("reading rejected events"),
        "SELECT tableoid::int, ctid::text, sender, raw, received_at"
        "  FROM tongxin.rejected_events"
        " WHERE reason = $1 AND ($2::timestamptz IS NULL OR received_at >= $2::timestamptz)"
        "   AND replayed_at IS NULL AND event_id IS NOT NULL AND length(raw) > 0"
        "   AND (raw_len IS NULL OR raw_len = length(raw))"
        " ORDER BY received_at FOR UPDATE", 2, params);
}

//  Replays every kept row in one transaction (rolled back on a dry run).
//  The number of rows, or -1 (said; the transaction is rolled back).
static int
s_replay_all (replay_t *rp, const char *reason, const char *since, bool dry_run)
{
    if (adm_run (rp->db, "replay", "BEGIN") != 0)
        return -1;
    PGresult *rows = s_kept_rows (rp->db, reason, since);
    int n = rows ? PQntuples (rows) : -1;
    for (int i = 0; i < n; i++)
        if (s_replay_row (rp, rows, i) != 0)
            n = -1;
    PQclear (rows);
    if (n < 0 || adm_run (rp->db, "replay", dry_run ? "ROLLBACK" : "COMMIT") != 0) {
        PQclear (PQexec (rp->db, "ROLLBACK"));
        return -1;
    }
    return n;
}

int
adm_rejected_replay (PGconn *db, const char *reason, const char *since, bool dry_run)
{
    char err [256];
    tx_registry_t *reg = tx_registry_load (db, err, sizeof err);
    if (!reg) {
        adm_error (_("cannot load the registry: %s"), err);
        return 1;
    }
    replay_t rp = { .db = db, .reg = reg, .dec = tx_wire_decoder_new () };
    msgpack_sbuffer_init (&rp.sb);
    int n = -1;
    if (!rp.dec)
        adm_error (_("out of memory"));
    else
        n = s_replay_all (&rp, reason, since, dry_run);
    tx_wire_decoder_destroy (&rp.dec);
    msgpack_sbuffer_destroy (&rp.sb);
    tx_buf_reset (&rp.jsonb);
    tx_registry_unref (&reg);
    if (n < 0)
        return 1;
    if (dry_run)
        fputs (_("dry run (nothing changed): "), stdout);
    printf (_("%d kept events of reason %s: %d stored, %d already stored, %d refused now, %d still"
              " refused by the database\n"), n, reason, rp.stored, rp.duplicate, rp.refused, rp.still);
    return rp.still ? 1 : 0;
}

int
adm_rejected_list (PGconn *db, const char *since)
{
    const char *params [1] = { since };
    PGresult *r = adm_exec (db, _("reading rejected events"),
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
