/*  baseline: what PostgreSQL alone does with the rows the pipeline stores.
 *
 *  copy    binary COPY into tongxin.events, PER_TX rows per committed
 *          transaction, one connection: the ceiling for the collector.
 *  insert  one INSERT per event, autocommit, one connection: what a unit
 *          writing straight to the database would get.
 *
 *  The rows are the collector's own: the registry is loaded with the
 *  collector's loader, each event becomes a row through the collector's
 *  row encoder (collector/copyrow.h), with the event
 *  the bench producer (bench/load.c) submits (type cloud_meeting,
 *  attrs participants and topic, occurred 60 s ago, a fresh UUIDv7).
 *  synchronous_commit stays on.
 *
 *  usage: baseline (copy | insert) --db CONNINFO --unit U [--count N] [--per-tx N]
 *  Prints one line: mode=... events=N seconds=S eps=E
 *  Exit: 0, 1 on a database error, 2 on bad usage.
 */
#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "content.h"
#include "copyrow.h"
#include "regload.h"
#include "uuid.h"
#include "validate.h"
#include "wire.h"

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
s_exec (PGconn *db, const char *sql)
{
    PGresult *r = PQexec (db, sql);
    ExecStatusType st = PQresultStatus (r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf (stderr, "baseline: %s: %s", sql, PQerrorMessage (db));
        PQclear (r);
        return -1;
    }
    PQclear (r);
    return 0;
}

//  The bench producer's event number i (see bench/load.c).
typedef struct {
    tx_event_t ev;
    tx_attr_t attrs [2];
} event_t;

static void
s_event (event_t *e, tx_uuid_gen_t *gen, const char *unit, long i)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    int64_t at_us = (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000 - 60000000;
    memset (&e->ev, 0, sizeof e->ev);
    tx_uuid_gen_next (gen, e->ev.id);
    e->ev.unit = unit;
    e->ev.unit_len = strlen (unit);
    e->ev.type = "cloud_meeting";
    e->ev.type_len = strlen (e->ev.type);
    e->ev.at_sec = at_us / 1000000;
    e->ev.at_nsec = (uint32_t) (at_us % 1000000) * 1000;
    e->attrs [0] = (tx_attr_t) { "participants", 12, { .type = TX_VAL_INT, .u.i = 1 + i % 50 } };
    e->attrs [1] = (tx_attr_t) { "topic", 5, { .type = TX_VAL_STR, .u.s = { "bench", 5 } } };
    e->ev.attrs = e->attrs;
    e->ev.attr_count = 2;
}

static int
s_copy (PGconn *db, const tx_registry_t *reg, tx_uuid_gen_t *gen, const char *unit,
        long count, long per_tx)
{
    const char *sql = "COPY tongxin.events (" TX_COPY_COLUMNS ") FROM STDIN (FORMAT binary)";
    tx_buf_t rows = { 0 }, json = { 0 }, scratch = { 0 };
    const tx_type_def_t *type = tx_registry_type (reg, "cloud_meeting", strlen ("cloud_meeting"));
    event_t e;
    for (long done = 0; done < count; ) {
        rows.len = 0;
        if (tx_buf_append (&rows, tx_copy_header, sizeof tx_copy_header) != 0)
            return -1;
        long n = count - done < per_tx ? count - done : per_tx;
        for (long k = 0; k < n; k++) {
            s_event (&e, gen, unit, done + k);
            //  The same row as the collector's, fingerprint included (it
            //  is computed here, outside the database, as there).
            uint8_t fp [TX_CONTENT_FP_LEN];
            if (tx_content_fingerprint (type, &e.ev, &scratch, fp) != 0
            ||  tx_copyrow_encode (&rows, &json, type, &e.ev, unit, strlen (unit), fp) != 0)
                return -1;
        }
        if (tx_buf_be16 (&rows, TX_COPY_TRAILER) != 0 || s_exec (db, "BEGIN") != 0)
            return -1;
        PGresult *r = PQexec (db, sql);
        if (PQresultStatus (r) != PGRES_COPY_IN) {
            fprintf (stderr, "baseline: COPY: %s", PQerrorMessage (db));
            PQclear (r);
            return -1;
        }
        PQclear (r);
        if (PQputCopyData (db, (const char *) rows.data, (int) rows.len) != 1
        ||  PQputCopyEnd (db, NULL) != 1) {
            fprintf (stderr, "baseline: COPY data: %s", PQerrorMessage (db));
            return -1;
        }
        int bad = 0;
        while ((r = PQgetResult (db))) {
            if (PQresultStatus (r) != PGRES_COMMAND_OK) {
                fprintf (stderr, "baseline: COPY: %s", PQerrorMessage (db));
                bad = 1;
            }
            PQclear (r);
        }
        if (bad || s_exec (db, "COMMIT") != 0)
            return -1;
        done += n;
    }
    tx_buf_reset (&rows);
    tx_buf_reset (&json);
    tx_buf_reset (&scratch);
    return 0;
}

static int
s_insert (PGconn *db, const tx_registry_t *reg, tx_uuid_gen_t *gen, const char *unit, long count)
{
    //  As an application would: text parameters, a prepared statement.
    PGresult *r = PQprepare (db, "ins",
        "INSERT INTO tongxin.events (" TX_COPY_COLUMNS ")"
        " VALUES ($1::uuid, $2, $3, $4::timestamptz, $5, $6::jsonb, $7, $8::uuid, NULL)", 0, NULL);
    if (PQresultStatus (r) != PGRES_COMMAND_OK) {
        fprintf (stderr, "baseline: prepare: %s", PQerrorMessage (db));
        PQclear (r);
        return -1;
    }
    PQclear (r);
    tx_buf_t json = { 0 };
    const tx_type_def_t *type = tx_registry_type (reg, "cloud_meeting", strlen ("cloud_meeting"));
    event_t e;
    for (long i = 0; i < count; i++) {
        s_event (&e, gen, unit, i);
        json.len = 0;
        if (tx_validate_attrs_json (type, &e.ev, &json) != 0 || tx_buf_putc (&json, 0) != 0)
            return -1;
        char id [TX_UUID_STR_SIZE], at [40];
        tx_uuid_format (e.ev.id, id);
        time_t sec = (time_t) e.ev.at_sec;
        struct tm tm;
        gmtime_r (&sec, &tm);
        size_t n = strftime (at, sizeof at, "%Y-%m-%d %H:%M:%S", &tm);
        snprintf (at + n, sizeof at - n, ".%06u+00", e.ev.at_nsec / 1000);
        const char *values [8] = { id, unit, e.ev.type, at, NULL, (const char *) json.data, unit, NULL };
        r = PQexecPrepared (db, "ins", 8, values, NULL, NULL, 0);
        if (PQresultStatus (r) != PGRES_COMMAND_OK) {
            fprintf (stderr, "baseline: INSERT: %s", PQerrorMessage (db));
            PQclear (r);
            return -1;
        }
        PQclear (r);
    }
    tx_buf_reset (&json);
    return 0;
}

int
main (int argc, char **argv)
{
    const char *db_info = NULL, *unit = NULL;
    long count = 1000000, per_tx = 1000;
    static struct option lo [] = {
        { "db", required_argument, 0, 'd' }, { "unit", required_argument, 0, 'u' },
        { "count", required_argument, 0, 'n' }, { "per-tx", required_argument, 0, 'p' },
        { 0, 0, 0, 0 }
    };
    int c;
    while ((c = getopt_long (argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
            case 'd': db_info = optarg; break;
            case 'u': unit = optarg; break;
            case 'n': count = atol (optarg); break;
            case 'p': per_tx = atol (optarg); break;
            default: return 2;
        }
    }
    const char *mode = optind < argc ? argv [optind] : "";
    if ((strcmp (mode, "copy") && strcmp (mode, "insert")) || !db_info || !unit || count <= 0 || per_tx <= 0) {
        fprintf (stderr, "usage: baseline (copy | insert) --db CONNINFO --unit U [--count N] [--per-tx N]\n");
        return 2;
    }
    PGconn *db = PQconnectdb (db_info);
    if (PQstatus (db) != CONNECTION_OK) {
        fprintf (stderr, "baseline: %s", PQerrorMessage (db));
        return 1;
    }
    char err [256];
    tx_registry_t *reg = tx_registry_load (db, err, sizeof err);
    tx_uuid_gen_t *gen = tx_uuid_gen_new ();
    if (!reg || !gen || s_exec (db, "SET synchronous_commit = on") != 0) {
        fprintf (stderr, "baseline: %s\n", reg ? "setup failed" : err);
        return 1;
    }
    double t0 = s_now ();
    int rc = strcmp (mode, "copy") == 0 ? s_copy (db, reg, gen, unit, count, per_tx)
                                        : s_insert (db, reg, gen, unit, count);
    double t = s_now () - t0;
    if (rc == 0)
        printf ("mode=%s events=%ld seconds=%.3f eps=%.0f\n", mode, count, t, count / t);
    tx_registry_unref (&reg);
    tx_uuid_gen_destroy (&gen);
    PQfinish (db);
    return rc == 0 ? 0 : 1;
}
