/*  keyfile.c  */
#include "i18n.h"
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

bool
tx_z85_key_valid (const char *s)
{
    if (!s || strlen (s) != TX_Z85_KEY_LEN)
        return false;
    uint8_t raw [32];
    return zmq_z85_decode (raw, s) != NULL;
}

//  Reads `name = "value"` from a line; true if the line holds that name.
static bool
s_value (const char *line, const char *name, char *out, size_t outlen)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strlen (name);
    if (strncmp (line, name, n) != 0)
        return false;
    line += n;
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line++ != '=')
        return false;
    while (*line == ' ' || *line == '\t')
        line++;
    char quote = *line == '"' ? '"' : 0;
    if (quote)
        line++;
    size_t len = quote ? strcspn (line, "\"") : strcspn (line, " \t\r\n");
    if (len >= outlen)
        len = outlen - 1;
    memcpy (out, line, len);
    out [len] = 0;
    return true;
}

//  True if path is a file directly in $CREDENTIALS_DIRECTORY, where systemd
//  puts the credentials of LoadCredential= (root-owned, mode 0400, or 0440
//  when an ACL gives the service's user read access).
static bool
s_in_credentials_dir (const char *path)
{
    const char *cred = getenv ("CREDENTIALS_DIRECTORY");
    const char *slash = strrchr (path, '/');
    if (!cred || !*cred || !slash)
        return false;
    char parent [PATH_MAX], a [PATH_MAX], b [PATH_MAX];
    snprintf (parent, sizeof parent, "%.*s", (int) (slash - path), path);
    if (slash == path)
        strcpy (parent, "/");
    return realpath (parent, a) && realpath (cred, b) && strcmp (a, b) == 0;
}

//  Whether the key file described by sb may be trusted (ssh's StrictModes
//  for its keys):
//  - owned by the effective uid, or by root;
//  - never writable by group or others: the public key decides whom the
//    producer trusts, the secret one who it is;
//  - a file holding a secret key (has_secret) readable by nobody else: no
//    group or other permission at all, except group read in systemd's
//    $CREDENTIALS_DIRECTORY (0440 there is systemd's ACL mask).
//  0, or -1 with what to fix in err.
static int
s_check_key_stat (const char *path, const struct stat *sb, bool has_secret,
                  char *err, size_t errlen)
{
    unsigned me = (unsigned) geteuid ();
    unsigned mode = (unsigned) (sb->st_mode & 07777);
    if (!S_ISREG (sb->st_mode)) {
        snprintf (err, errlen, _("%s: not a regular file"), path);
        return -1;
    }
    if ((unsigned) sb->st_uid != me && sb->st_uid != 0) {
        snprintf (err, errlen, _("%s: owned by uid %u, not by you (uid %u) or root;"
                  " run chown %u %s"), path, (unsigned) sb->st_uid, me, me, path);
        return -1;
    }
    if (mode & (S_IWGRP | S_IWOTH)) {
        snprintf (err, errlen, _("%s: writable by group or others (mode %04o), so"
                  " anyone could put another key there; run chmod go-w %s"),
                  path, mode, path);
        return -1;
    }
    if (has_secret) {
        mode_t allowed = s_in_credentials_dir (path) ? S_IRGRP : 0;
        if (mode & (S_IRWXG | S_IRWXO) & ~allowed) {
            snprintf (err, errlen, _("%s: this secret key is readable by group or"
                      " others (mode %04o); run chmod 600 %s (a service must own"
                      " it, or load it with systemd's LoadCredential=), and issue"
                      " a new key if others may have read it"), path, mode, path);
            return -1;
        }
    }
    return 0;
}

int
tx_keyfile_read (const char *path, bool need_secret, tx_keyfile_t *out, char *err, size_t errlen)
{
    memset (out, 0, sizeof *out);
    //  Never through a symbolic link (whoever can change the link chooses
    //  the key); O_NONBLOCK so that a FIFO cannot hang the open.
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ELOOP)
            snprintf (err, errlen, _("%s: a symbolic link; key files are not read"
                      " through links: give the file's own path (readlink -f %s)"),
                      path, path);
        else
            snprintf (err, errlen, _("%s: %s"), path, strerror (errno));
        return -1;
    }
    struct stat sb;
    if (fstat (fd, &sb) != 0) {
        snprintf (err, errlen, _("%s: %s"), path, strerror (errno));
        close (fd);
        return -1;
    }
    if (s_check_key_stat (path, &sb, need_secret, err, errlen) != 0) {
        close (fd);
        return -1;
    }
    int fl = fcntl (fd, F_GETFL);
    if (fl >= 0)
        fcntl (fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen (fd, "r");
    if (!f) {
        snprintf (err, errlen, _("%s: %s"), path, strerror (errno));
        close (fd);
        return -1;
    }
    char line [512];
    while (fgets (line, sizeof line, f)) {
        if (line [0] == '#')
            continue;
        s_value (line, "public-key", out->public_key, sizeof out->public_key);
        s_value (line, "secret-key", out->secret_key, sizeof out->secret_key);
        s_value (line, "unit", out->unit, sizeof out->unit);
    }
    fclose (f);
    if (!tx_z85_key_valid (out->public_key)) {
        snprintf (err, errlen, _("%s: no valid public-key (40 Z85 characters)"), path);
        return -1;
    }
    if (need_secret && !tx_z85_key_valid (out->secret_key)) {
        snprintf (err, errlen, _("%s: no valid secret-key; is this the .pub file?"), path);
        return -1;
    }
    if (*out->secret_key && !tx_z85_key_valid (out->secret_key)) {
        snprintf (err, errlen, _("%s: the secret-key is not 40 Z85 characters"), path);
        return -1;
    }
    //  A secret file given where a public key was asked for: the same care
    if (!need_secret && *out->secret_key
    &&  s_check_key_stat (path, &sb, true, err, errlen) != 0)
        return -1;
    return 0;
}

static int
s_write_file (const char *path, mode_t mode, const char *text, char *err, size_t errlen)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf (err, errlen, _("%s: %s"), path, errno == EEXIST ? _("exists already; refusing to overwrite it")
                                                             : strerror (errno));
        return -1;
    }
    size_t len = strlen (text);
    //  Exactly mode, whatever the umask (a umask can only take bits away,
    //  and 0600 has none to spare)
    if (fchmod (fd, mode) != 0 || write (fd, text, len) != (ssize_t) len || fsync (fd) != 0) {
        snprintf (err, errlen, _("%s: %s"), path, strerror (errno));
        close (fd);
        unlink (path);
        return -1;
    }
    close (fd);
    return 0;
}

int
tx_keyfile_write (const char *path, const tx_keyfile_t *key, const char *comment,
                  char *err, size_t errlen)
{
    char pub [4096], sec [4096], meta [128] = "";
    if (*key->unit)
        snprintf (meta, sizeof meta, "metadata\n    unit = \"%s\"\n", key->unit);
    snprintf (pub, sizeof pub,
              "#   %s\n#   The public key: give it to whoever must know this key.\n"
              "%scurve\n    public-key = \"%s\"\n", comment, meta, key->public_key);
    snprintf (sec, sizeof sec,
              "#   %s\n#   THIS FILE IS SECRET: keep it private (mode 0600), never copy it around.\n"
              "%scurve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n",
              comment, meta, key->public_key, key->secret_key);
    char pubpath [4096];
    snprintf (pubpath, sizeof pubpath, "%s.pub", path);
    if (access (path, F_OK) == 0 || access (pubpath, F_OK) == 0) {
        snprintf (err, errlen, _("%s: exists already; refusing to overwrite it"),
                  access (path, F_OK) == 0 ? path : pubpath);
        return -1;
    }
    if (s_write_file (path, 0600, sec, err, errlen) != 0)
        return -1;
    if (s_write_file (pubpath, 0644, pub, err, errlen) != 0) {
        unlink (path);
        return -1;
    }
    return 0;
}

int
tx_keyfile_server_key (const char *file_or_z85, char out [TX_Z85_KEY_LEN + 1], char *err, size_t errlen)
{
    if (strlen (file_or_z85) == TX_Z85_KEY_LEN && access (file_or_z85, F_OK) != 0) {
        if (!tx_z85_key_valid (file_or_z85)) {
            snprintf (err, errlen, _("server key '%s' is not valid Z85"), file_or_z85);
            return -1;
        }
        memcpy (out, file_or_z85, TX_Z85_KEY_LEN + 1);
        return 0;
    }
    tx_keyfile_t k;
    if (tx_keyfile_read (file_or_z85, false, &k, err, errlen) != 0)
        return -1;
    memcpy (out, k.public_key, TX_Z85_KEY_LEN + 1);
    return 0;
}
