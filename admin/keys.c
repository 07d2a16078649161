/*  keys.c: CURVE keypairs for the collector and for units.
 *
 *  The collector's keypair lives only in its files.  A unit's public key is
 *  also registered in tongxin.unit_keys, where the collector's ZAP handler
 *  finds it; revoking sets revoked_at.  Key files: common/keyfile.h.
 */
#include "admin.h"
#include "i18n.h"
#include "keyfile.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static int
s_keypair (tx_keyfile_t *key)
{
    memset (key, 0, sizeof *key);
    if (zmq_curve_keypair (key->public_key, key->secret_key) != 0) {
        adm_error (_("cannot make a CURVE keypair: %s (is libzmq built with CURVE?)"),
                   zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

static void
s_comment (char *buf, size_t len, const char *what)
{
    char when [32];
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    strftime (when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
    if (snprintf (buf, len, "Tongxin CURVE key: %s, made %s by tongxin-admin", what, when) < 0)
        buf [0] = 0;
}

int
adm_key_server (const char *out)
{
    tx_keyfile_t key;
    if (s_keypair (&key) != 0)
        return 1;
    char comment [160], err [512];
    s_comment (comment, sizeof comment, "the collector");
    if (tx_keyfile_write (out, &key, comment, err, sizeof err) != 0) {
        adm_error ("%s", err);
        return 1;
    }
    printf (_("collector keypair written: %s (secret, 0600) and %s.pub\npublic key: %s\n"),
            out, out, key.public_key);
    return 0;
}

int
adm_key_issue (PGconn *db, const char *unit, const char *out)
{
    tx_keyfile_t key;
    if (s_keypair (&key) != 0)
        return 1;
    snprintf (key.unit, sizeof key.unit, "%s", unit);
    //  The row and the files together: the transaction commits only after
    //  both files are written, and the files go if it does not.
    if (adm_run (db, _("issuing a key"), "BEGIN") != 0)
        return 1;
    const char *p [] = { key.public_key, unit };
    adm_err_t e;
    PGresult *r = adm_try (db, "INSERT INTO tongxin.unit_keys (public_key, unit_code) VALUES ($1, $2)",
                           2, p, &e);
    if (!r) {
        PQclear (PQexec (db, "ROLLBACK"));
        if (strcmp (e.state, "23503") == 0)
            adm_error (_("unknown unit '%s'"), unit);
        else
        if (strcmp (e.state, "23505") == 0)
            adm_error (_("unit '%s' already has a live key: revoke it first (tongxin-admin key revoke %s)"),
                       unit, unit);
        else
        if (adm_no_schema (&e))
            adm_error (_("the database has no Tongxin schema: run 'tongxin-admin migrate' first"));
        else
            adm_error (_("issuing a key for '%s': %s"), unit, e.msg);
        return 1;
    }
    PQclear (r);
    char comment [160], err [512];
    snprintf (comment, sizeof comment, "unit %s", unit);
    char full [256];
    s_comment (full, sizeof full, comment);
    if (tx_keyfile_write (out, &key, full, err, sizeof err) != 0) {
        PQclear (PQexec (db, "ROLLBACK"));
        adm_error ("%s", err);
        return 1;
    }
    if (adm_run (db, _("issuing a key"), "COMMIT") != 0) {
        char pub [4200];
        snprintf (pub, sizeof pub, "%s.pub", out);
        unlink (out);
        unlink (pub);
        return 1;
    }
    printf (_("key for unit %s written: %s (secret, 0600) and %s.pub\npublic key: %s\n"),
            unit, out, out, key.public_key);
    return 0;
}

int
adm_key_revoke (PGconn *db, const char *unit)
{
    PGresult *r = adm_exec (db, _("revoking a key"),
        "UPDATE tongxin.unit_keys SET revoked_at = now()"
        " WHERE unit_code = $1 AND revoked_at IS NULL RETURNING public_key",
        1, (const char *[]) { unit });
    if (!r)
        return 1;
    int rc = 0;
    if (PQntuples (r) == 0) {
        adm_error (_("unit '%s' has no live key"), unit);
        rc = 1;
    }
    else
        printf (_("key %s of unit %s revoked; running collectors drop it at their next registry "
                  "refresh (or at once on SIGHUP)\n"), PQgetvalue (r, 0, 0), unit);
    PQclear (r);
    return rc;
}

int
adm_key_list (PGconn *db)
{
    PGresult *r = adm_exec (db, _("listing keys"),
        "SELECT unit_code AS unit, public_key,"
        " to_char(issued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS issued,"
        " coalesce(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') AS revoked"
        " FROM tongxin.unit_keys ORDER BY unit_code, issued_at", 0, NULL);
    if (!r)
        return 1;
    printf ("unit\tpublic_key\tissued\trevoked\n");
    for (int i = 0; i < PQntuples (r); i++)
        printf ("%s\t%s\t%s\t%s\n", PQgetvalue (r, i, 0), PQgetvalue (r, i, 1), PQgetvalue (r, i, 2),
                PQgetvalue (r, i, 3));
    PQclear (r);
    return 0;
}
