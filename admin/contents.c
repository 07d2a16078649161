/*  contents.c: tongxin-admin contents backfill.
 *
 *  Events stored before migration 008 have no content fingerprint and no
 *  row in tongxin.event_contents, so the same report sent again would be
 *  stored again.  The backfill gives each of them its fingerprint, with
 *  the collector's own rule (collector/content.c) from the stored row,
 *  and claims its content for the first event that holds it (by time of
 *  receipt).  Older repeats of a content keep their fingerprint and are
 *  counted: they are reports stored twice before content idempotency
 *  (analysts find them by fingerprint).  Run by migrate when it applies
 *  008; safe to run again (it only looks at events without fingerprint).
 *
 *  A float stored before 008 was written with 17 digits (0.1 became
 *  0.10000000000000001); today it is the shortest decimal, so such a
 *  value sent again is not recognised.  Decimal strings and integers are.
 */
#include "admin.h"
#include "i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "regload.h"
#include "uuid.h"

//  One batch of events without fingerprint, oldest received first, one
//  row per attribute (or one row without attribute).
#define SELECT_BATCH \
    "SELECT e.event_id::text, e.unit_code, e.type," \
    "       (extract(epoch FROM e.occurred_at) * 1000000)::bigint, e.partner_region," \
    "       e.supersedes::text, a.key, jsonb_typeof(a.value), a.value #>> '{}'," \
    "       e.received_at::text" \
    "  FROM (SELECT * FROM tongxin.events WHERE fingerprint IS NULL" \
    "         ORDER BY received_at, event_id, unit_code LIMIT 1000) e" \
    "  LEFT JOIN LATERAL jsonb_each(e.attrs) a ON true" \
    " ORDER BY e.received_at, e.event_id, e.unit_code"

//  The event of rows [first, end) of r as the wire would carry it.
static void
s_event (PGresult *r, int first, int end, tx_event_t *ev, tx_attr_t *attrs)
{
    memset (ev, 0, sizeof *ev);
    tx_uuid_parse (PQgetvalue (r, first, 0), (size_t) PQgetlength (r, first, 0), ev->id);
    ev->unit = PQgetvalue (r, first, 1);
    ev->unit_len = (size_t) PQgetlength (r, first, 1);
    ev->type = PQgetvalue (r, first, 2);
    ev->type_len = (size_t) PQgetlength (r, first, 2);
    long long us = strtoll (PQgetvalue (r, first, 3), NULL, 10);
    long long sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    ev->at_sec = sec;
    ev->at_nsec = (uint32_t) ((us - sec * 1000000) * 1000);
    if (!PQgetisnull (r, first, 4)) {
        ev->partner = PQgetvalue (r, first, 4);
        ev->partner_len = (size_t) PQgetlength (r, first, 4);
    }
    if (!PQgetisnull (r, first, 5)) {
        ev->has_supersedes = true;
        tx_uuid_parse (PQgetvalue (r, first, 5), (size_t) PQgetlength (r, first, 5), ev->supersedes);
    }
    size_t n = 0;
    for (int i = first; i < end && n < TX_WIRE_MAX_ATTRS; i++) {
        if (PQgetisnull (r, i, 6))
            continue;
        tx_attr_t *a = &attrs [n++];
        a->name = PQgetvalue (r, i, 6);
        a->name_len = (size_t) PQgetlength (r, i, 6);
        const char *kind = PQgetvalue (r, i, 7);
        if (strcmp (kind, "boolean") == 0) {
            a->value.type = TX_VAL_BOOL;
            a->value.u.b = strcmp (PQgetvalue (r, i, 8), "true") == 0;
        }
        else {
            //  numbers as their stored text (content.c reads it by kind)
            a->value.type = TX_VAL_STR;
            a->value.u.s.ptr = PQgetvalue (r, i, 8);
            a->value.u.s.len = (size_t) PQgetlength (r, i, 8);
        }
    }
    ev->attrs = attrs;
    ev->attr_count = n;
}

//  Fingerprints one batch in one transaction.  Returns the events done
//  (0: none left), or -1.
static long
s_batch (PGconn *db, const tx_registry_t *reg, long *repeats)
{
    if (adm_run (db, _("backfilling content fingerprints"), "BEGIN") != 0)
        return -1;
    PGresult *r = adm_exec (db, _("reading events without fingerprint"), SELECT_BATCH, 0, NULL);
    if (!r) {
        PQclear (PQexec (db, "ROLLBACK"));
        return -1;
    }
    long done = 0;
    int rows = PQntuples (r);
    tx_buf_t scratch = { 0 };
    tx_attr_t attrs [TX_WIRE_MAX_ATTRS];
    for (int first = 0, end; first < rows; first = end) {
        for (end = first + 1; end < rows && strcmp (PQgetvalue (r, end, 0), PQgetvalue (r, first, 0)) == 0
                              && strcmp (PQgetvalue (r, end, 1), PQgetvalue (r, first, 1)) == 0; end++)
            ;
        tx_event_t ev;
        s_event (r, first, end, &ev, attrs);
        char type [TX_WIRE_MAX_CODE + 1];
        snprintf (type, sizeof type, "%.*s", (int) ev.type_len, ev.type);
        const tx_type_def_t *def = tx_registry_type (reg, ev.type, ev.type_len);
        uint8_t fp [TX_CONTENT_FP_LEN];
        //  A type since removed from the registry: its numbers count as text.
        tx_type_def_t none = { .code = type };
        if (tx_content_fingerprint (def ? def : &none, &ev, &scratch, fp) != 0) {
            adm_error (_("out of memory"));
            done = -1;
            break;
        }
        char hex [2 + 2 * TX_CONTENT_FP_LEN + 1] = "\\x";
        for (int b = 0; b < TX_CONTENT_FP_LEN; b++)
            snprintf (hex + 2 + 2 * b, 3, "%02x", fp [b]);
        const char *p [] = { PQgetvalue (r, first, 0), PQgetvalue (r, first, 1), hex,
                             PQgetvalue (r, first, 9) };
        PGresult *u = adm_exec (db, _("storing a fingerprint"),
            "WITH f AS (UPDATE tongxin.events SET fingerprint = $3::bytea"
            "            WHERE event_id = $1::uuid AND unit_code = $2 RETURNING 1)"
            " INSERT INTO tongxin.event_contents (unit_code, fingerprint, event_id, received_at)"
            " SELECT $2, $3::bytea, $1::uuid, $4::timestamptz FROM f"
            " ON CONFLICT DO NOTHING RETURNING 1", 4, p);
        if (!u) {
            done = -1;
            break;
        }
        if (PQntuples (u) == 0)
            (*repeats)++;
        PQclear (u);
        done++;
    }
    tx_buf_reset (&scratch);
    PQclear (r);
    if (done < 0 || adm_run (db, _("backfilling content fingerprints"), "COMMIT") != 0) {
        PQclear (PQexec (db, "ROLLBACK"));
        return -1;
    }
    return done;
}

int
adm_contents_backfill (PGconn *db)
{
    char err [256];
    tx_registry_t *reg = tx_registry_load (db, err, sizeof err);
    if (!reg) {
        adm_error (_("cannot load the registry: %s"), err);
        return 1;
    }
    long total = 0, repeats = 0, n;
    while ((n = s_batch (db, reg, &repeats)) > 0)
        total += n;
    tx_registry_unref (&reg);
    if (n < 0)
        return 1;
    if (total)
        printf (_("content fingerprints: %ld event(s) stored before content idempotency; "
                  "%ld of them repeat an earlier report\n"), total, repeats);
    return 0;
}
