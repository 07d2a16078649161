/*  conf.c: the producers' configuration file (conf.h), with libinih. */
#include "conf.h"
#include "i18n.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SYSTEM_CONF "/etc/tongxin/tongxin.conf"

typedef struct {
    char *key;                  //  "unit", "report.db", "desk.listen"
    char *value;
    char *origin;               //  the file that set it
} entry_t;

struct tx_conf_t {
    entry_t *entries;
    size_t n, cap;
};

//  The keys of every section: a file shared by several programs is checked
//  whole by each.  path: a relative value is relative to the file's
//  directory.
typedef struct {
    const char *key;
    bool path;
} known_t;

static const known_t s_known [] = {
    { "unit", false },
    { "key", true },
    { "server_key", true },     //  a file, or the key's 40-character Z85 text
    { "endpoint", false },
    { "spool", true },
    { "spool_cap", false },
    { "insecure", false },
    { "report.db", false },
    { "report.unit", false },
    { "report.lang", false },
    { "desk.listen", false },
    { "desk.users", true },
    { "desk.data", true },
    { "desk.timezone", false },
    { NULL, false }
};

static const known_t *
s_known_key (const char *key)
{
    for (const known_t *k = s_known; k->key; k++)
        if (strcmp (k->key, key) == 0)
            return k;
    return NULL;
}

static entry_t *
s_find (const tx_conf_t *self, const char *key)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->entries [i].key, key) == 0)
            return &self->entries [i];
    return NULL;
}

//  Sets key to value (replacing what an earlier file said).  0, or -1 if
//  out of memory.
static int
s_set (tx_conf_t *self, const char *key, const char *value, const char *origin)
{
    char *k = strdup (key), *v = strdup (value), *o = strdup (origin);
    if (!k || !v || !o) {
        free (k), free (v), free (o);
        return -1;
    }
    entry_t *e = s_find (self, key);
    if (e) {
        free (k);
        free (e->value), free (e->origin);
        e->value = v, e->origin = o;
        return 0;
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        entry_t *p = realloc (self->entries, cap * sizeof *p);
        if (!p) {
            free (k), free (v), free (o);
            return -1;
        }
        self->entries = p, self->cap = cap;
    }
    self->entries [self->n++] = (entry_t) { k, v, o };
    return 0;
}

typedef struct {
    tx_conf_t *conf;
    const char *file;
    char dir [4096];            //  the file's directory, with a trailing '/'
    char err [512];
} parse_t;

static int
s_handler (void *user, const char *section, const char *name, const char *value)
{
    parse_t *p = user;
    char key [256];
    if (*section && strcmp (section, "report") != 0 && strcmp (section, "desk") != 0) {
        snprintf (p->err, sizeof p->err, _("unknown section [%s]: the sections are [report] and "
                                           "[desk]"), section);
        return 0;
    }
    if (snprintf (key, sizeof key, "%s%s%s", section, *section ? "." : "", name) >= (int) sizeof key) {
        snprintf (p->err, sizeof p->err, _("key too long"));
        return 0;
    }
    const known_t *k = s_known_key (key);
    if (!k) {
        snprintf (p->err, sizeof p->err, _("unknown key '%s' (see tongxin.conf(5))"), key);
        return 0;
    }
    char full [8192];
    //  A relative path is the file's directory's; server_key may be the
    //  key itself (40 characters of Z85, no '/').
    bool rel = k && k->path && *value && *value != '/'
            && !(strcmp (key, "server_key") == 0 && strlen (value) == 40 && !strchr (value, '.'));
    if (rel) {
        if (snprintf (full, sizeof full, "%s%s", p->dir, value) >= (int) sizeof full) {
            snprintf (p->err, sizeof p->err, _("path too long"));
            return 0;
        }
        value = full;
    }
    if (s_set (p->conf, key, value, p->file)) {
        snprintf (p->err, sizeof p->err, _("out of memory"));
        return 0;
    }
    return 1;
}

//  Reads one file into self.  must: a missing file is an error.  0 or -1.
static int
s_read (tx_conf_t *self, const char *file, bool must, char *err, size_t errlen)
{
    FILE *f = fopen (file, "r");
    if (!f) {
        if (!must && errno == ENOENT)
            return 0;
        snprintf (err, errlen, _("cannot read the configuration %s: %s"), file, strerror (errno));
        return -1;
    }
    struct stat st;
    if (fstat (fileno (f), &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & S_IWOTH)) {
        fclose (f);
        snprintf (err, errlen, _("%s may be changed by any user (mode %03o): it says which keys and "
                                 "collector to trust; make it writable by its owner only (chmod "
                                 "o-w %s)"), file, (unsigned) (st.st_mode & 0777), file);
        return -1;
    }
    parse_t p = { .conf = self, .file = file };
    const char *slash = strrchr (file, '/');
    if (slash && (size_t) (slash - file + 1) < sizeof p.dir)
        memcpy (p.dir, file, (size_t) (slash - file + 1));
    int line = ini_parse_file (f, s_handler, &p);
    fclose (f);
    if (line == 0)
        return 0;
    if (*p.err)             //  our handler's word on that line
        snprintf (err, errlen, "%s:%d: %s", file, line, p.err);
    else                    //  inih's: a line that is not "key = value" or "[section]"
        snprintf (err, errlen, _("%s:%d: not a line of the form key = value or [section]"), file,
                  line);
    return -1;
}

int
tx_conf_load (tx_conf_t **conf_p, const char *path, char *err, size_t errlen)
{
    *conf_p = NULL;
    tx_conf_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, _("out of memory"));
        return -1;
    }
    if (!path || !*path)
        path = getenv ("TONGXIN_CONFIG");
    int rc = 0;
    if (path && *path)
        rc = s_read (self, path, true, err, errlen);
    else {
        rc = s_read (self, SYSTEM_CONF, false, err, errlen);
        const char *xdg = getenv ("XDG_CONFIG_HOME"), *home = getenv ("HOME");
        char user [4096];
        int n = -1;
        if (xdg && *xdg == '/')
            n = snprintf (user, sizeof user, "%s/tongxin/tongxin.conf", xdg);
        else if (home && *home)
            n = snprintf (user, sizeof user, "%s/.config/tongxin/tongxin.conf", home);
        if (rc == 0 && n > 0 && n < (int) sizeof user)
            rc = s_read (self, user, false, err, errlen);
    }
    if (rc) {
        tx_conf_destroy (&self);
        return -1;
    }
    *conf_p = self;
    return 0;
}

//  The environment variable of key: TONGXIN_ and the key in capitals with
//  '.' as '_'; report.db is TONGXIN_DB (as tongxin-report always read).
static const char *
s_env_name (const char *key, char *out, size_t outlen)
{
    if (strcmp (key, "report.db") == 0)
        return "TONGXIN_DB";
    size_t n = (size_t) snprintf (out, outlen, "TONGXIN_%s", key);
    if (n >= outlen)
        return NULL;
    for (char *c = out; *c; c++)
        *c = *c == '.' ? '_' : (char) toupper ((unsigned char) *c);
    return out;
}

const char *
tx_conf_get (const tx_conf_t *self, const char *key)
{
    char name [300];
    const char *env = s_env_name (key, name, sizeof name);
    const char *v = env ? getenv (env) : NULL;
    if (v && *v)
        return v;
    const entry_t *e = self ? s_find (self, key) : NULL;
    return e ? e->value : NULL;
}

const char *
tx_conf_origin (const tx_conf_t *self, const char *key)
{
    char name [300];
    const char *env = s_env_name (key, name, sizeof name);
    const char *v = env ? getenv (env) : NULL;
    if (v && *v) {
        //  The name of a key the environment sets: in a static buffer per
        //  key would be racy; the known names are literals or in environ.
        static __thread char buf [300];
        snprintf (buf, sizeof buf, "%s", env);
        return buf;
    }
    const entry_t *e = self ? s_find (self, key) : NULL;
    return e ? e->origin : NULL;
}

void
tx_conf_destroy (tx_conf_t **conf_p)
{
    tx_conf_t *self = *conf_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++) {
        free (self->entries [i].key);
        free (self->entries [i].value);
        free (self->entries [i].origin);
    }
    free (self->entries);
    free (self);
    *conf_p = NULL;
}
