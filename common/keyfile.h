/*  keyfile: CURVE key files in the ZeroMQ "zcert" text format.
 *
 *  A secret file (mode 0600) holds both keys, FILE.pub only the public one:
 *
 *      #   Tongxin CURVE key for unit tax-bureau
 *      #   THIS FILE IS SECRET: never copy it off the unit's machine.
 *      metadata
 *          unit = "tax-bureau"
 *      curve
 *          public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
 *          secret-key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
 *
 *  Keys are 40-character Z85 (32 bytes).  Lines starting with '#' are
 *  comments; indentation is four spaces per level, as in zcert.
 */
#ifndef TX_KEYFILE_H_INCLUDED
#define TX_KEYFILE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define TX_Z85_KEY_LEN 40

typedef struct {
    char public_key [TX_Z85_KEY_LEN + 1];   //  Z85, NUL-terminated
    char secret_key [TX_Z85_KEY_LEN + 1];   //  Z85, or "" in a .pub file
    char unit [65];                         //  metadata unit, or ""
} tx_keyfile_t;

//  Reads a key file.  With need_secret, a file without a secret key is an
//  error.  0, or -1 with a reason in err.  The file is refused (the reason
//  says what to fix) if it is a symbolic link (O_NOFOLLOW), not a regular
//  file, owned by someone other than the effective uid or root, or
//  writable by group or others; a file holding a secret key also if group
//  or others have any permission on it, except group read (0440) in
//  systemd's $CREDENTIALS_DIRECTORY.
int tx_keyfile_read (const char *path, bool need_secret, tx_keyfile_t *out,
                     char *err, size_t errlen);

//  Writes the secret file PATH (0600) and PATH.pub (0644), refusing to
//  overwrite either.  0 or -1 with a reason in err.
int tx_keyfile_write (const char *path, const tx_keyfile_t *key, const char *comment,
                      char *err, size_t errlen);

//  True if s is 40 characters of the Z85 alphabet that decode to 32 bytes.
bool tx_z85_key_valid (const char *s);

//  A server key given on a command line: a file (its public key) or the Z85
//  text itself.  0 or -1 with a reason in err.
int tx_keyfile_server_key (const char *file_or_z85, char out [TX_Z85_KEY_LEN + 1],
                           char *err, size_t errlen);

#endif
