/*  auth: see auth.h.  */
#include "auth.h"
#include "i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SESSIONS 256
#define SESSION_IDLE_S (12 * 3600)

typedef struct {
    char sid [DESK_SID_LEN + 1];
    char csrf [DESK_SID_LEN + 1];
    char user [65];
    time_t last;                //  last use (0: free slot)
} s_session_t;

struct desk_auth_t {
    pthread_mutex_t lock;
    char *path;                 //  the users file
    s_session_t sessions [MAX_SESSIONS];
};

desk_auth_t *
desk_auth_new (const char *users_path)
{
    if (sodium_init () < 0)
        return NULL;
    desk_auth_t *self = calloc (1, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
    self->path = strdup (users_path);
    return self;
}

void
desk_auth_destroy (desk_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_memzero ((*self_p)->sessions, sizeof (*self_p)->sessions);
    pthread_mutex_destroy (&(*self_p)->lock);
    free ((*self_p)->path);
    free (*self_p);
    *self_p = NULL;
}

//  The hash of USER in the file into hash (crypto_pwhash_STRBYTES): true if found.
static bool
s_lookup (const char *path, const char *user, char *hash, int *count)
{
    FILE *f = fopen (path, "r");
    if (count)
        *count = f ? 0 : (errno == ENOENT ? 0 : -1);
    if (!f)
        return false;
    char line [512];
    bool found = false;
    while (fgets (line, sizeof line, f)) {
        char *colon = strchr (line, ':');
        if (!colon)
            continue;
        line [strcspn (line, "\n")] = 0;
        *colon = 0;
        if (count)
            (*count)++;
        if (user && strcmp (line, user) == 0 && strlen (colon + 1) < crypto_pwhash_STRBYTES) {
            strcpy (hash, colon + 1);
            found = true;
        }
    }
    fclose (f);
    return found;
}

int
desk_auth_users (desk_auth_t *self)
{
    int n;
    char hash [crypto_pwhash_STRBYTES];
    s_lookup (self->path, NULL, hash, &n);
    return n;
}

bool
desk_auth_check (desk_auth_t *self, const char *user, const char *password)
{
    char hash [crypto_pwhash_STRBYTES];
    if (!*user || !s_lookup (self->path, user, hash, NULL)) {
        //  The same work for an unknown user, so timing does not tell.
        static char dummy [crypto_pwhash_STRBYTES];
        if (!*dummy && crypto_pwhash_str (dummy, "x", 1, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
            return false;
        if (crypto_pwhash_str_verify (dummy, password, strlen (password)) == 0)
            return false;
        return false;
    }
    return crypto_pwhash_str_verify (hash, password, strlen (password)) == 0;
}

static void
s_random_hex (char *out)
{
    unsigned char bytes [DESK_SID_LEN / 2];
    randombytes_buf (bytes, sizeof bytes);
    sodium_bin2hex (out, DESK_SID_LEN + 1, bytes, sizeof bytes);
}

int
desk_auth_session_new (desk_auth_t *self, const char *user, char *sid, char *csrf)
{
    pthread_mutex_lock (&self->lock);
    time_t now = time (NULL);
    s_session_t *slot = NULL, *oldest = &self->sessions [0];
    for (int i = 0; i < MAX_SESSIONS; i++) {
        s_session_t *s = &self->sessions [i];
        if (s->last && now - s->last > SESSION_IDLE_S)
            s->last = 0;
        if (!s->last && !slot)
            slot = s;
        if (s->last < oldest->last)
            oldest = s;
    }
    //  Full: the least recently used goes (anonymous sessions are cheap to
    //  make; a flood of them costs a clerk a login, nothing more).
    if (!slot)
        slot = oldest;
    s_random_hex (slot->sid);
    s_random_hex (slot->csrf);
    snprintf (slot->user, sizeof slot->user, "%s", user);
    slot->last = now;
    memcpy (sid, slot->sid, DESK_SID_LEN + 1);
    memcpy (csrf, slot->csrf, DESK_SID_LEN + 1);
    pthread_mutex_unlock (&self->lock);
    return 0;
}

bool
desk_auth_session (desk_auth_t *self, const char *sid, char *user, size_t userlen, char *csrf)
{
    if (!sid || strlen (sid) != DESK_SID_LEN)
        return false;
    pthread_mutex_lock (&self->lock);
    time_t now = time (NULL);
    bool found = false;
    for (int i = 0; i < MAX_SESSIONS && !found; i++) {
        s_session_t *s = &self->sessions [i];
        if (s->last && now - s->last <= SESSION_IDLE_S
        &&  sodium_memcmp (s->sid, sid, DESK_SID_LEN) == 0) {
            s->last = now;
            snprintf (user, userlen, "%s", s->user);
            memcpy (csrf, s->csrf, DESK_SID_LEN + 1);
            found = true;
        }
    }
    pthread_mutex_unlock (&self->lock);
    return found;
}

void
desk_auth_session_end (desk_auth_t *self, const char *sid)
{
    if (!sid || strlen (sid) != DESK_SID_LEN)
        return;
    pthread_mutex_lock (&self->lock);
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (self->sessions [i].last && sodium_memcmp (self->sessions [i].sid, sid, DESK_SID_LEN) == 0)
            memset (&self->sessions [i], 0, sizeof self->sessions [i]);
    pthread_mutex_unlock (&self->lock);
}

int
desk_auth_passwd (const char *path, const char *user, const char *password, char *err, size_t errlen)
{
    if (sodium_init () < 0) {
        snprintf (err, errlen, "libsodium");
        return -1;
    }
    size_t ulen = strlen (user);
    if (ulen == 0 || ulen > 64 || strcspn (user, ": \t\r\n") != ulen) {
        snprintf (err, errlen, _("a user name is 1 to 64 characters without ':' or spaces"));
        return -1;
    }
    char hash [crypto_pwhash_STRBYTES] = "";
    if (*password && crypto_pwhash_str (hash, password, strlen (password),
                                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    char tmp [4096];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = NULL;
    //  Made anew: never through a name someone left there (a link).
    unlink (tmp);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0)
        out = fdopen (fd, "w");
    if (!out) {
        snprintf (err, errlen, "%s: %s", tmp, strerror (errno));
        return -1;
    }
    FILE *in = fopen (path, "r");
    char line [512];
    while (in && fgets (line, sizeof line, in)) {
        size_t n = strcspn (line, ":");
        if (n == ulen && strncmp (line, user, n) == 0)
            continue;
        fputs (line, out);
    }
    if (in)
        fclose (in);
    if (*hash)
        fprintf (out, "%s:%s\n", user, hash);
    if (fflush (out) != 0 || fsync (fileno (out)) != 0 || fclose (out) != 0
    ||  rename (tmp, path) != 0) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        unlink (tmp);
        return -1;
    }
    return 0;
}
