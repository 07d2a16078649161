/*  setup.c: tongxin-admin setup, everything a new collector host needs,
 *  in one command that is safe to run again.
 *
 *  As a PostgreSQL superuser (by default root acting as postgres, peer
 *  authentication; or --db): the database, created if missing and migrated;
 *  two LOGIN roles, the collector's (a member of tongxin_collector only)
 *  and one analyst's (tongxin_analyst only), with random passwords that go
 *  only into libpq password files (ETC/pgpass, owned by the collector's
 *  system user; ETC/ANALYST.pgpass, owned by whoever runs setup, to hand
 *  over) -- never printed, never on a command line, and sent to the server
 *  only as SCRAM verifiers; the collector's CURVE keypair (ETC/collector.key,
 *  ETC/collector.key.pub), where the unit loads it; ETC/collectord.conf from
 *  the commented example, unless it exists.  What exists is kept: a role
 *  whose password file line is there keeps its password, a config is never
 *  overwritten, a key never replaced.
 */
#include "admin.h"
#include "i18n.h"
#include "config.h"
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define SETUP_ETC "/etc/tongxin"
#define SETUP_USER "tongxin"
#define SETUP_ANALYST "analyst"

typedef struct {
    const char *conninfo;       //  --db, or NULL (adm_connect's defaults)
    const char *etc;            //  where the files go
    const char *user;           //  the collector's system user
    uid_t uid;                  //  ... its uid and group
    gid_t gid;
    const char *login;          //  the collector's login role
    const char *analyst;        //  the analyst's login role
    char dbname [64];           //  the database
} setup_t;

//  A name setup creates: a lower-case SQL identifier, so it needs no
//  quoting in a conninfo, a password file or a shell.
static bool
s_valid_name (const char *s)
{
    size_t n = strlen (s);
    if (n == 0 || n > 63 || !((*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static int
s_path (char *out, size_t len, const char *dir, const char *name)
{
    if ((size_t) snprintf (out, len, "%s/%s", dir, name) >= len) {
        adm_error (_("%s/%s: path too long"), dir, name);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------- files

//  Write TEXT to PATH with MODE and owner UID:GID through a temporary file.
//  REPLACE: rename over PATH; else PATH must not exist (link, which never
//  overwrites).  0 or -1 (printed).
static int
s_write_file (const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid, bool replace)
{
    char tmp [4200];
    if ((size_t) snprintf (tmp, sizeof tmp, "%s.setup-tmp", path) >= sizeof tmp) {
        adm_error (_("%s: path too long"), path);
        return -1;
    }
    unlink (tmp);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0600);
    if (fd < 0) {
        adm_error (_("cannot create %s: %s"), tmp, strerror (errno));
        return -1;
    }
    size_t len = strlen (text);
    bool ok = fchown (fd, uid, gid) == 0 && fchmod (fd, mode) == 0
              && write (fd, text, len) == (ssize_t) len && fsync (fd) == 0;
    int e = ok ? 0 : errno;
    if (close (fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && (replace ? rename (tmp, path) : link (tmp, path)) != 0) {
        ok = false;
        e = errno;
    }
    if (!replace || !ok)
        unlink (tmp);
    if (!ok) {
        adm_error (_("cannot write %s: %s"), path, strerror (e ? e : EIO));
        return -1;
    }
    return 0;
}

//  An existing secret file: a regular file (not a link), then owned by
//  UID:GID with MODE.  1 if it exists, 0 if not, -1 (printed).
static int
s_secret_file (const char *path, mode_t mode, uid_t uid, gid_t gid)
{
    struct stat sb;
    if (lstat (path, &sb) != 0) {
        if (errno == ENOENT)
            return 0;
        adm_error (_("%s: %s"), path, strerror (errno));
        return -1;
    }
    if (!S_ISREG (sb.st_mode)) {
        adm_error (_("%s is not a regular file (a link or directory?): move it away and run setup again"),
                   path);
        return -1;
    }
    if (sb.st_uid != uid || sb.st_gid != gid || (sb.st_mode & 07777) != mode) {
        if (chown (path, uid, gid) != 0 || chmod (path, mode) != 0) {
            adm_error (_("%s: cannot set its owner and mode: %s"), path, strerror (errno));
            return -1;
        }
        printf (_("%s: owner and mode set to %u:%u %04o\n"), path, (unsigned) uid, (unsigned) gid,
                (unsigned) mode);
    }
    return 1;
}

//  The whole of a small file, or NULL (ENOENT: it does not exist).
static char *
s_read_file (const char *path)
{
    FILE *f = fopen (path, "re");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream (&text, &len);
    char buf [4096];
    size_t n;
    while (m && (n = fread (buf, 1, sizeof buf, f)) > 0)
        fwrite (buf, 1, n, m);
    fclose (f);
    if (m)
        fclose (m);
    return text;
}

//  ---------------------------------------------------------------- password files

//  Field I (0-based) of the password file LINE (fields separated by ':',
//  '\' escapes) into OUT.  0, or -1 if there is no such field.
static int
s_pgpass_field (const char *line, int i, char *out, size_t len)
{
    int field = 0;
    size_t o = 0;
    for (const char *p = line; *p && *p != '\n'; p++) {
        if (*p == '\\' && p [1] && p [1] != '\n')
            p++;
        else
        if (*p == ':') {
            if (field++ == i)
                break;
            continue;
        }
        if (field == i && o + 1 < len)
            out [o++] = *p;
    }
    if (field < i)
        return -1;
    out [o] = 0;
    return 0;
}

//  The password of ROLE in the password file TEXT into PW.  true if found.
static bool
s_pgpass_find (const char *text, const char *role, char *pw, size_t len)
{
    for (const char *line = text; line && *line; line = strchr (line, '\n'), line = line ? line + 1 : NULL) {
        char user [128];
        if (*line == '#' || s_pgpass_field (line, 3, user, sizeof user) != 0 || strcmp (user, role) != 0)
            continue;
        if (s_pgpass_field (line, 4, pw, len) == 0 && *pw)
            return true;
    }
    return false;
}

//  32 random characters of [0-9a-f]: no ':' or '\' to escape.
static int
s_random_password (char *out, size_t len)
{
    unsigned char raw [16];
    if (len < 2 * sizeof raw + 1 || getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw) {
        adm_error (_("cannot make a random password: %s"), strerror (errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf (out + 2 * i, 3, "%02x", raw [i]);
    return 0;
}

//  ---------------------------------------------------------------- database

//  The database named by CONNINFO (default "tongxin").
static int
s_dbname (setup_t *self)
{
    const char *name = "tongxin";
    PQconninfoOption *opts = NULL;
    if (self->conninfo) {
        char *err = NULL;
        opts = PQconninfoParse (self->conninfo, &err);
        if (!opts) {
            adm_error (_("--db: %s"), err ? err : "out of memory");
            PQfreemem (err);
            return -1;
        }
        for (PQconninfoOption *o = opts; o->keyword; o++)
            if (strcmp (o->keyword, "dbname") == 0 && o->val && *o->val)
                name = o->val;
    }
    int rc = 0;
    if (!s_valid_name (name) || strcmp (name, "postgres") == 0
        || strncmp (name, "template", 8) == 0) {
        adm_error (_("database name '%s': setup makes a database of its own, named with a-z, 0-9 "
                   "and _ (e.g. dbname=tongxin)"), name);
        rc = -1;
    }
    else
        snprintf (self->dbname, sizeof self->dbname, "%s", name);
    PQconninfoFree (opts);
    return rc;
}

//  Create the database unless it exists; as a superuser only.
static int
s_database (setup_t *self)
{
    PGconn *db = adm_connect_to (self->conninfo, "postgres");
    if (!db)
        return -1;
    int rc = -1;
    PGresult *r = adm_exec (db, _("checking the login"),
        "SELECT rolsuper, current_user FROM pg_roles WHERE rolname = current_user", 0, NULL);
    if (!r)
        goto done;
    if (PQntuples (r) != 1 || strcmp (PQgetvalue (r, 0, 0), "t") != 0) {
        adm_error (_("setup needs a PostgreSQL superuser, and '%s' is not one: run it as root "
                   "(it connects as postgres), or give --db with a superuser's conninfo"),
                   PQntuples (r) ? PQgetvalue (r, 0, 1) : "?");
        PQclear (r);
        goto done;
    }
    PQclear (r);
    r = adm_exec (db, _("looking for the database"), "SELECT 1 FROM pg_database WHERE datname = $1",
                  1, (const char *[]) { self->dbname });
    if (!r)
        goto done;
    bool exists = PQntuples (r) > 0;
    PQclear (r);
    if (!exists) {
        //  CREATE DATABASE takes no parameters; the name is checked
        //  (s_valid_name) and quoted.
        char *ident = PQescapeIdentifier (db, self->dbname, strlen (self->dbname));
        char sql [256];
        snprintf (sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'",
                  ident ? ident : "");
        PQfreemem (ident);
        adm_err_t e;
        r = adm_try (db, sql, 0, NULL, &e);
        if (!r && strcmp (e.state, "42P04") != 0) {     //  duplicate_database: a race, fine
            adm_error (_("creating the database %s: %s"), self->dbname, e.msg);
            goto done;
        }
        PQclear (r);
        printf (_("database %s: created\n"), self->dbname);
    }
    else
        printf (_("database %s: exists\n"), self->dbname);
    rc = 0;
done:
    PQfinish (db);
    return rc;
}

//  DDL with parameters: format() quotes them server-side.
static const char s_ddl_fn [] =
    "CREATE OR REPLACE FUNCTION pg_temp.tx_setup_ddl (fmt text, VARIADIC args text [])"
    " RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE format (fmt, VARIADIC args); END $$";

static int
s_ddl (PGconn *db, const char *what, const char *sql, int n, const char *const *params)
{
    PGresult *r = adm_exec (db, what, sql, n, params);
    if (!r)
        return -1;
    PQclear (r);
    return 0;
}

//  The LOGIN role ROLE, a member of GROUP only, its password in the
//  password file PATH (owner UID:GID, 0600).  WHAT names it in messages.
//  An existing role whose file is gone gets a new password if RENEW (the
//  collector's: the service needs it), else keeps its own (the analyst's
//  file was handed over, as setup tells).
static int
s_login (PGconn *db, const setup_t *self, const char *role, const char *group, const char *path,
         uid_t uid, gid_t gid, const char *what, bool renew)
{
    PGresult *r = adm_exec (db, _("looking for the role"),
        "SELECT r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls,"
        " r.rolcanlogin, r.rolname = current_user,"
        " coalesce ((SELECT string_agg (g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m"
        "   JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid AND g.rolname <> $2), '')"
        " FROM pg_roles r WHERE r.rolname = $1", 2, (const char *[]) { role, group });
    if (!r)
        return -1;
    bool exists = PQntuples (r) > 0;
    if (exists && (strcmp (PQgetvalue (r, 0, 0), "t") == 0 || strcmp (PQgetvalue (r, 0, 2), "t") == 0
                   || *PQgetvalue (r, 0, 3))) {
        adm_error (_("the role %s exists with more privileges than %s alone (%s): the %s's login "
                   "must have no others; choose another name or remove them"),
                   role, group, *PQgetvalue (r, 0, 3) ? PQgetvalue (r, 0, 3) : "superuser or similar",
                   what);
        PQclear (r);
        return -1;
    }
    bool can_login = exists && strcmp (PQgetvalue (r, 0, 1), "t") == 0;
    PQclear (r);

    char *text = s_read_file (path);
    if (!text && errno != ENOENT) {
        adm_error (_("cannot read %s: %s"), path, strerror (errno));
        return -1;
    }
    char pw [256] = "";
    bool in_file = text && s_pgpass_find (text, role, pw, sizeof pw);
    int rc = -1;
    char *verifier = NULL;
    if (exists && !in_file && !renew) {
        if (s_ddl (db, _("preparing the roles"), s_ddl_fn, 0, NULL) != 0
            || s_ddl (db, _("granting the role"), "SELECT pg_temp.tx_setup_ddl ('GRANT %I TO %I', $1, $2)",
                      2, (const char *[]) { group, role }) != 0)
            goto done;
        printf (_("login %s (%s only): exists; password kept (not in %s: handed over; to give it a "
                  "new one, ALTER ROLE %s PASSWORD in psql, or remove the role and run setup)\n"),
                role, group, path, role);
        rc = 0;
        goto done;
    }
    if (!in_file && s_random_password (pw, sizeof pw) != 0)
        goto done;
    if (s_ddl (db, _("preparing the roles"), s_ddl_fn, 0, NULL) != 0)
        goto done;
    //  Exists with its password in the file: kept as it is.
    if (!exists || !in_file) {
        verifier = PQencryptPasswordConn (db, pw, role, NULL);
        if (!verifier) {
            adm_error (_("cannot encrypt the password: %s"), PQerrorMessage (db));
            goto done;
        }
    }
    if (!exists) {
        if (s_ddl (db, _("creating the role"),
                   "SELECT pg_temp.tx_setup_ddl ('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB"
                   " NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD %L IN ROLE %I', $1, $2, $3)",
                   3, (const char *[]) { role, verifier, group }) != 0)
            goto done;
    }
    else {
        if (verifier && s_ddl (db, _("setting the password"),
                               "SELECT pg_temp.tx_setup_ddl ('ALTER ROLE %I PASSWORD %L', $1, $2)",
                               2, (const char *[]) { role, verifier }) != 0)
            goto done;
        if (!can_login && s_ddl (db, _("letting the role log in"),
                                 "SELECT pg_temp.tx_setup_ddl ('ALTER ROLE %I LOGIN', $1)",
                                 1, (const char *[]) { role }) != 0)
            goto done;
        if (s_ddl (db, _("granting the role"),
                   "SELECT pg_temp.tx_setup_ddl ('GRANT %I TO %I', $1, $2)",
                   2, (const char *[]) { group, role }) != 0)
            goto done;
    }
    if (!in_file) {
        //  The file's other lines stay; ours is added.
        size_t len = (text ? strlen (text) : 0) + strlen (self->dbname) + strlen (role) + strlen (pw) + 16;
        char *out = malloc (len);
        if (!out) {
            adm_error (_("out of memory"));
            goto done;
        }
        snprintf (out, len, "%s%s*:*:%s:%s:%s\n", text ? text : "",
                  text && *text && text [strlen (text) - 1] != '\n' ? "\n" : "",
                  self->dbname, role, pw);
        int w = s_write_file (path, out, 0600, uid, gid, true);
        explicit_bzero (out, len);
        free (out);
        if (w != 0)
            goto done;
    }
    else
    if (s_secret_file (path, 0600, uid, gid) < 0)
        goto done;
    if (exists && in_file)
        printf (_("login %s (%s only): exists; password kept in %s\n"), role, group, path);
    else
    if (exists)
        printf (_("login %s (%s only): exists; password written to %s\n"), role, group, path);
    else
    if (in_file)
        printf (_("login %s (%s only): created; password kept in %s\n"), role, group, path);
    else
        printf (_("login %s (%s only): created; password written to %s\n"), role, group, path);
    rc = 0;
done:
    if (verifier)
        PQfreemem (verifier);
    explicit_bzero (pw, sizeof pw);
    if (text) {
        explicit_bzero (text, strlen (text));
        free (text);
    }
    return rc;
}

//  ---------------------------------------------------------------- key and config

static int
s_key (const setup_t *self)
{
    char path [4096], pub [4200];
    if (s_path (path, sizeof path, self->etc, "collector.key") != 0)
        return -1;
    snprintf (pub, sizeof pub, "%s.pub", path);
    int have = s_secret_file (path, 0600, self->uid, self->gid);
    if (have < 0)
        return -1;
    if (have) {
        if (access (pub, F_OK) != 0)
            printf (_("collector key %s: kept; its public half %s is missing (the units need it):"
                      " move the key away and run setup again for a new pair\n"), path, pub);
        else
            printf (_("collector key %s: kept (public: %s)\n"), path, pub);
        return 0;
    }
    if (adm_key_server (path) != 0)
        return -1;
    if (chown (path, self->uid, self->gid) != 0) {
        adm_error (_("%s: cannot give it to %s: %s"), path, self->user, strerror (errno));
        return -1;
    }
    return 0;
}

//  A conninfo value, quoted when it must be.
static void
s_conn_value (FILE *out, const char *v)
{
    if (*v && !strpbrk (v, " '\\\t\n")) {
        fputs (v, out);
        return;
    }
    fputc ('\'', out);
    for (; *v; v++) {
        if (*v == '\'' || *v == '\\')
            fputc ('\\', out);
        fputc (*v, out);
    }
    fputc ('\'', out);
}

//  The collector's conninfo: where setup connected (unless that was the
//  local default), its database, its login.  Caller frees.
static char *
s_collector_conninfo (const setup_t *self, PGconn *db)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    if (!out)
        return NULL;
    if (self->conninfo) {
        fputs ("host=", out);
        s_conn_value (out, PQhost (db));
        fputs (" port=", out);
        s_conn_value (out, PQport (db));
        fputc (' ', out);
    }
    fprintf (out, "dbname=%s user=%s", self->dbname, self->login);
    fclose (out);
    return text;
}

static int
s_config (const setup_t *self, PGconn *db)
{
    char path [4096], key [4096];
    if (s_path (path, sizeof path, self->etc, "collectord.conf") != 0
        || s_path (key, sizeof key, self->etc, "collector.key") != 0)
        return -1;
    char *conninfo = s_collector_conninfo (self, db);
    if (!conninfo) {
        adm_error (_("out of memory"));
        return -1;
    }
    int rc = -1;
    char *example = NULL, *text = NULL;
    struct stat sb;
    if (lstat (path, &sb) == 0) {
        printf (_("config %s: kept (never overwritten); the collector's login is: db = %s\n"),
                path, conninfo);
        rc = 0;
        goto done;
    }
    size_t elen = 0, tlen = 0;
    FILE *m = open_memstream (&example, &elen);
    if (!m)
        goto done;
    tx_config_write_example (m);
    fclose (m);
    FILE *out = open_memstream (&text, &tlen);
    if (!out)
        goto done;
    //  The example with the two settings setup knows.
    for (char *line = example, *next; line && *line; line = next) {
        next = strchr (line, '\n');
        if (next)
            *next++ = 0;
        if (strcmp (line, "# db = ") == 0)
            fprintf (out, "db = %s\n", conninfo);
        else
        if (strcmp (line, "# key = ") == 0)
            fprintf (out, "key = %s\n", key);
        else
            fprintf (out, "%s\n", line);
    }
    fclose (out);
    if (s_write_file (path, text, 0644, geteuid (), getegid (), false) != 0)
        goto done;
    printf (_("config %s: written (db = %s)\n"), path, conninfo);
    rc = 0;
done:
    free (conninfo);
    free (example);
    free (text);
    return rc;
}

//  ---------------------------------------------------------------- the command

int
adm_setup_check (const adm_args_t *args)
{
    const char *login = adm_opt (args, "login");
    const char *analyst = adm_opt (args, "analyst");
    const char *user = adm_opt (args, "user");
    if (login && !s_valid_name (login))
        return adm_usage_error (_("--login '%s': a role name of a-z, 0-9 and _, starting with a letter"), login);
    if (analyst && !s_valid_name (analyst))
        return adm_usage_error (_("--analyst '%s': a role name of a-z, 0-9 and _, starting with a letter"), analyst);
    if (!login && user && !s_valid_name (user))
        return adm_usage_error (_("--user '%s' cannot be a role name too: give --login NAME"), user);
    const char *etc = adm_opt (args, "etc");
    if (etc && *etc != '/')
        return adm_usage_error (_("--etc '%s': an absolute path, please"), etc);
    if (login && analyst && strcmp (login, analyst) == 0)
        return adm_usage_error (_("the collector's and the analyst's logins must differ"));
    return 0;
}

int
adm_setup (PGconn *unused, const adm_args_t *args)
{
    (void) unused;
    setup_t self = {
        .conninfo = adm_conninfo (),
        .etc = adm_opt (args, "etc") ? adm_opt (args, "etc") : SETUP_ETC,
        .user = adm_opt (args, "user") ? adm_opt (args, "user") : SETUP_USER,
        .analyst = adm_opt (args, "analyst") ? adm_opt (args, "analyst") : SETUP_ANALYST,
    };
    if (!self.conninfo)
        self.conninfo = getenv ("TONGXIN_DB");
    self.login = adm_opt (args, "login") ? adm_opt (args, "login") : self.user;
    if (strcmp (self.login, self.analyst) == 0)
        return adm_usage_error (_("the collector's and the analyst's logins must differ"));
    struct passwd *pw = getpwnam (self.user);
    if (!pw) {
        adm_error (_("there is no system user '%s' to own the collector's key and password file: "
                   "install the tongxin-collectord package (it makes one), run "
                   "'adduser --system --group %s', or name another with --user"), self.user, self.user);
        return 1;
    }
    self.uid = pw->pw_uid;
    self.gid = pw->pw_gid;
    if (s_dbname (&self) != 0 || s_database (&self) != 0)
        return 1;
    PGconn *db = adm_connect_to (self.conninfo, self.dbname);
    if (!db)
        return 1;
    int rc = 1;
    if (adm_migrate (db, false) != 0)
        goto done;
    if (mkdir (self.etc, 0755) != 0 && errno != EEXIST) {
        adm_error (_("cannot create %s: %s"), self.etc, strerror (errno));
        goto done;
    }
    //  The keys and passwords go there: nobody else may be able to swap
    //  a file in it for a link between a check and a write.
    struct stat dir;
    if (lstat (self.etc, &dir) != 0 || !S_ISDIR (dir.st_mode) || dir.st_uid != geteuid ()
    ||  (dir.st_mode & 022) != 0) {
        adm_error (_("%s must be a directory of yours that no one else may write to (owner %u, mode"
                     " without group or other write): fix it and run setup again"),
                   self.etc, (unsigned) geteuid ());
        goto done;
    }
    char pgpass [4096], apgpass [4096], afile [128];
    snprintf (afile, sizeof afile, "%s.pgpass", self.analyst);
    if (s_path (pgpass, sizeof pgpass, self.etc, "pgpass") != 0
        || s_path (apgpass, sizeof apgpass, self.etc, afile) != 0)
        goto done;
    if (s_login (db, &self, self.login, "tongxin_collector", pgpass, self.uid, self.gid,
                 "collector", true) != 0
        || s_login (db, &self, self.analyst, "tongxin_analyst", apgpass, geteuid (), getegid (),
                    "analyst", false) != 0
        || s_key (&self) != 0
        || s_config (&self, db) != 0)
        goto done;
    const char *with_db = self.conninfo ? " --db ..." : "";
    //  TRANSLATORS: keep the commands as they are; NAME, KIND and CODE may be
    //  translated in the first step's text, not in the commands.
    printf (_("\nTongxin is set up.  Next:\n"
            "  1. Register the units and issue each its key; give the unit its CODE.key\n"
            "     and %s/collector.key.pub:\n"
            "       tongxin-admin%s unit add CODE --name NAME --kind KIND [--parent CODE]\n"
            "       tongxin-admin%s key issue CODE --out CODE.key\n"
            "  2. Start the collector and check it:\n"
            "       systemctl enable --now tongxin-collectord\n"
            "       systemctl status tongxin-collectord\n"
            "  3. Give %s to the analyst (their ~/.pgpass, mode 0600) and delete it here;\n"
            "     they connect with dbname=%s user=%s.\n"),
            self.etc, with_db, with_db, apgpass, self.dbname, self.analyst);
    rc = 0;
done:
    PQfinish (db);
    return rc;
}
