/*  http: the desk's web server (libmicrohttpd, one thread): the embedded
 *  page, sessions (cookie "txdesk": HttpOnly, SameSite=Strict), the login
 *  when one is required, the CSRF token every POST must carry (header
 *  X-CSRF-Token, the session's), the Host a loopback desk answers to, the
 *  security headers of every response, and the request size caps.  The
 *  API itself is api.c's.
 */
#ifndef DESK_HTTP_H_INCLUDED
#define DESK_HTTP_H_INCLUDED

#include "desk.h"

#define DESK_MAX_BODY    (64 * 1024)            //  a form or login
#define DESK_MAX_IMPORT  (8 * 1024 * 1024)      //  a spreadsheet

typedef struct {
    desk_t *desk;
    const char *method;         //  "GET", "POST"
    const char *path;           //  without the query
    void *con;                  //  the MHD connection (query arguments)
    const char *body;           //  POST body (NUL-terminated copy)
    size_t body_len;
    const char *lang;           //  "zh" or "en"
    char user [65];             //  the session's user ("" anonymous)
    char csrf [65];             //  the session's CSRF token
} desk_req_t;

typedef struct {
    int status;                 //  HTTP status
    const char *type;           //  Content-Type (static)
    char *body;                 //  malloc'd, or NULL
    size_t len;
    const char *disposition;    //  Content-Disposition, or NULL (static or in extra)
    char extra [256];           //  storage for a disposition built per request
} desk_resp_t;

//  A query argument of the request, or NULL.
const char *desk_req_arg (desk_req_t *req, const char *name);

//  Sets resp to the JSON value (stolen) with status.
void desk_resp_json (desk_resp_t *resp, int status, json_t *value);
//  {"error": message} with status.
void desk_resp_error (desk_resp_t *resp, int status, const char *message);

//  api.c: answers /api/... requests the HTTP layer let through.
void desk_api (desk_req_t *req, desk_resp_t *resp);

//  Starts serving on opts.listen.  0 or -1 with err (a non-loopback
//  address without users is refused here).
int desk_http_start (desk_t *desk, char *err, size_t errlen);
void desk_http_stop (void);

#endif
