/*  keyfile.c  */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
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

int
tx_keyfile_read (const char *path, bool need_secret, tx_keyfile_t *out, char *err, size_t errlen)
{
    memset (out, 0, sizeof *out);
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
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
        snprintf (err, errlen, "%s: no valid public-key (40 Z85 characters)", path);
        return -1;
    }
    if (need_secret && !tx_z85_key_valid (out->secret_key)) {
        snprintf (err, errlen, "%s: no valid secret-key; is this the .pub file?", path);
        return -1;
    }
    if (*out->secret_key && !tx_z85_key_valid (out->secret_key)) {
        snprintf (err, errlen, "%s: the secret-key is not 40 Z85 characters", path);
        return -1;
    }
    return 0;
}

static int
s_write_file (const char *path, mode_t mode, const char *text, char *err, size_t errlen)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf (err, errlen, "%s: %s", path, errno == EEXIST ? "exists already; refusing to overwrite it"
                                                             : strerror (errno));
        return -1;
    }
    size_t len = strlen (text);
    if (write (fd, text, len) != (ssize_t) len || fsync (fd) != 0) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
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
        snprintf (err, errlen, "%s: exists already; refusing to overwrite it",
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
            snprintf (err, errlen, "server key '%s' is not valid Z85", file_or_z85);
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
