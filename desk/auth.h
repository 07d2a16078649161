/*  auth: the desk's users (a file of "USER:HASH" lines, the hash libsodium's
 *  crypto_pwhash_str, Argon2id) and its sessions (in memory: a restart
 *  logs everyone out).  A session has a random id (the cookie) and a CSRF
 *  token the page sends back in a header with every POST.
 */
#ifndef DESK_AUTH_H_INCLUDED
#define DESK_AUTH_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "desk.h"

#define DESK_SID_LEN 64         //  hex characters of a session id or CSRF token

desk_auth_t *desk_auth_new (const char *users_path);
void desk_auth_destroy (desk_auth_t **self_p);

//  How many users the file holds (-1: unreadable, 0: none or absent).
int desk_auth_users (desk_auth_t *self);

//  True if USER's password is PASSWORD.
bool desk_auth_check (desk_auth_t *self, const char *user, const char *password);

//  A new session for USER ("" without login): its id and CSRF token are
//  copied out (DESK_SID_LEN + 1 bytes each).  0, or -1 (too many).
int desk_auth_session_new (desk_auth_t *self, const char *user, char *sid, char *csrf);

//  The session SID: true, with its user and CSRF token copied out.
bool desk_auth_session (desk_auth_t *self, const char *sid, char *user, size_t userlen, char *csrf);

void desk_auth_session_end (desk_auth_t *self, const char *sid);

//  Sets (or, with an empty password, removes) USER in the users file,
//  written anew and renamed into place, 0600.  0 or -1 with err.
int desk_auth_passwd (const char *path, const char *user, const char *password,
                      char *err, size_t errlen);

#endif
