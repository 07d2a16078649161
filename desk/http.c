/*  http: see http.h.  */
#include "http.h"
#include "assets.h"
#include "auth.h"
#include "i18n.h"
#include "log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define COOKIE "txdesk"

static struct MHD_Daemon *s_daemon;

//  The security headers of every response: nothing inline, nothing from
//  elsewhere, never in a frame, types as sent.
static void
s_headers (struct MHD_Response *r)
{
    MHD_add_response_header (r, "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header (r, "X-Frame-Options", "DENY");
    MHD_add_response_header (r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header (r, "Cache-Control", "no-store");
    MHD_add_response_header (r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header (r, "Cross-Origin-Resource-Policy", "same-origin");
}

const char *
desk_req_arg (desk_req_t *req, const char *name)
{
    return MHD_lookup_connection_value (req->con, MHD_GET_ARGUMENT_KIND, name);
}

void
desk_resp_json (desk_resp_t *resp, int status, json_t *value)
{
    resp->status = status;
    resp->type = "application/json; charset=utf-8";
    resp->body = json_dumps (value, JSON_COMPACT);
    resp->len = resp->body ? strlen (resp->body) : 0;
    json_decref (value);
}

void
desk_resp_error (desk_resp_t *resp, int status, const char *message)
{
    desk_resp_json (resp, status, json_pack ("{s:s}", "error", message));
}

typedef struct {
    char *body;                 //  what came so far
    size_t len, cap;            //  bytes, allocated
    size_t max;                 //  the cap for this path
    bool too_large;             //  over max: answered 413
} s_upload_t;

static int
s_queue (struct MHD_Connection *con, desk_resp_t *resp, const char *cookie)
{
    struct MHD_Response *r = MHD_create_response_from_buffer (resp->len, resp->body ? resp->body : (void *) "",
                                                              resp->body ? MHD_RESPMEM_MUST_FREE
                                                                         : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free (resp->body);
        return MHD_NO;
    }
    s_headers (r);
    if (resp->type)
        MHD_add_response_header (r, "Content-Type", resp->type);
    if (resp->disposition)
        MHD_add_response_header (r, "Content-Disposition", resp->disposition);
    if (cookie)
        MHD_add_response_header (r, "Set-Cookie", cookie);
    int rc = MHD_queue_response (con, (unsigned) resp->status, r);
    MHD_destroy_response (r);
    return rc;
}

//  The loopback desk answers only to its own name: a page of another site
//  that points a name of its own at 127.0.0.1 (DNS rebinding) gets 421.
static bool
s_host_ok (desk_t *desk, struct MHD_Connection *con)
{
    if (!desk->loopback)
        return true;
    const char *host = MHD_lookup_connection_value (con, MHD_HEADER_KIND, "Host");
    if (!host)
        return false;
    char want [64];
    const char *names [] = { "127.0.0.1", "localhost", "[::1]" };
    for (int i = 0; i < 3; i++) {
        snprintf (want, sizeof want, "%s:%d", names [i], desk->port);
        if (strcmp (host, want) == 0)
            return true;
        if (desk->port == 80 && strcmp (host, names [i]) == 0)
            return true;
    }
    return false;
}

//  A POST from our own page: the session's CSRF token in X-CSRF-Token, and
//  if the browser says where it comes from (Origin), it is this desk.
static bool
s_csrf_ok (struct MHD_Connection *con, const char *csrf)
{
    const char *tok = MHD_lookup_connection_value (con, MHD_HEADER_KIND, "X-CSRF-Token");
    if (!tok || !*csrf || strlen (tok) != DESK_SID_LEN || sodium_memcmp (tok, csrf, DESK_SID_LEN) != 0)
        return false;
    const char *origin = MHD_lookup_connection_value (con, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value (con, MHD_HEADER_KIND, "Host");
    if (origin && strcmp (origin, "null") != 0) {
        if (!host || strncmp (origin, "http://", 7) != 0 || strcmp (origin + 7, host) != 0)
            return false;
    }
    return true;
}

static const char *
s_lang (struct MHD_Connection *con)
{
    const char *l = MHD_lookup_connection_value (con, MHD_HEADER_KIND, "X-Desk-Lang");
    if (!l)
        l = MHD_lookup_connection_value (con, MHD_GET_ARGUMENT_KIND, "lang");
    return l && strncmp (l, "en", 2) == 0 ? "en" : "zh";
}

//  /i18n/zh-CN.json, /i18n/en.json: the page's messages in that language.
static void
s_i18n (desk_t *desk, const char *path, desk_resp_t *resp)
{
    const char *lang = strcmp (path, "/i18n/en.json") == 0 ? "en"
                     : strcmp (path, "/i18n/zh-CN.json") == 0 ? "zh" : NULL;
    if (!lang) {
        desk_resp_error (resp, 404, "not found");
        return;
    }
    json_t *o = json_object ();
    for (size_t i = 0; desk_page_msgids [i]; i++)
        json_object_set_new (o, desk_page_msgids [i],
                             json_string (desk_tr (desk, lang, desk_page_msgids [i])));
    desk_resp_json (resp, 200, o);
}

static bool
s_static (const char *path, desk_resp_t *resp)
{
    if (strcmp (path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; desk_assets [i].path; i++)
        if (strcmp (desk_assets [i].path, path) == 0) {
            resp->status = 200;
            resp->type = desk_assets [i].type;
            resp->body = malloc (desk_assets [i].len + 1);
            memcpy (resp->body, desk_assets [i].data, desk_assets [i].len);
            resp->len = desk_assets [i].len;
            return true;
        }
    return false;
}

//  The login throttle (s_handler): failures a minute per client address
//  (a table of LOGIN_ADDRS, the oldest entry reused) and in all.  The desk
//  serves on one thread: no lock.
#define LOGIN_ADDRS         256
#define LOGIN_PER_ADDR      10
#define LOGIN_PER_MINUTE    60

typedef struct {
    char addr [64];
    int64_t window_us;
    int failures;
} login_slot_t;

static login_slot_t s_login_slots [LOGIN_ADDRS];
static int64_t s_login_window_us;  //  the minute of s_login_failures
static int s_login_failures;       //  from every address

//  True if con's address (or everyone) is over its failures this minute;
//  else *slot_p is its entry, for s_login_failed.
static bool
s_login_throttled (struct MHD_Connection *con, int64_t now, login_slot_t **slot_p)
{
    login_slot_t *slots = s_login_slots;
    if (now - s_login_window_us > 60 * 1000000LL) {
        s_login_window_us = now;
        s_login_failures = 0;
    }
    char addr [64] = "?";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info (con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop (AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, addr, sizeof addr);
        else
        if (sa->sa_family == AF_INET6)
            inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, addr, sizeof addr);
    }
    login_slot_t *slot = NULL, *oldest = &slots [0];
    for (int i = 0; i < LOGIN_ADDRS && !slot; i++) {
        if (strcmp (slots [i].addr, addr) == 0)
            slot = &slots [i];
        else
        if (slots [i].window_us < oldest->window_us)
            oldest = &slots [i];
    }
    if (!slot || now - slot->window_us > 60 * 1000000LL) {
        if (!slot) {
            slot = oldest;
            snprintf (slot->addr, sizeof slot->addr, "%s", addr);
        }
        slot->window_us = now;
        slot->failures = 0;
    }
    *slot_p = slot;
    return slot->failures >= LOGIN_PER_ADDR || s_login_failures >= LOGIN_PER_MINUTE;
}

static void
s_login_failed (login_slot_t *slot)
{
    slot->failures++;
    s_login_failures++;
}

static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *con, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void) version;
    desk_t *desk = cls;
    bool post = strcmp (method, "POST") == 0;
    if (!*con_cls) {
        s_upload_t *up = calloc (1, sizeof *up);
        if (!up)
            return MHD_NO;
        //  A spreadsheet's larger cap only for a session that may import
        //  (its CSRF token; its login where one is required): anyone
        //  else's body is cut at DESK_MAX_BODY, not held in memory first.
        up->max = DESK_MAX_BODY;
        if (post && strcmp (url, "/api/import") == 0) {
            char user [65], csrf [65];
            const char *c = MHD_lookup_connection_value (con, MHD_COOKIE_KIND, COOKIE);
            if (c && desk_auth_session (desk->auth, c, user, sizeof user, csrf) && s_csrf_ok (con, csrf)
            &&  (!desk->login || *user))
                up->max = DESK_MAX_IMPORT;
        }
        //  A declared length over the cap is refused before it is read.
        const char *cl = MHD_lookup_connection_value (con, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull (cl, NULL, 10) > up->max)
            up->too_large = true;
        *con_cls = up;
        return MHD_YES;
    }
    s_upload_t *up = *con_cls;
    if (*upload_data_size) {
        if (!up->too_large && up->len + *upload_data_size <= up->max) {
            if (up->len + *upload_data_size + 1 > up->cap) {
                size_t cap = (up->len + *upload_data_size + 1) * 2;
                char *b = realloc (up->body, cap);
                if (!b)
                    return MHD_NO;
                up->body = b;
                up->cap = cap;
            }
            memcpy (up->body + up->len, upload_data, *upload_data_size);
            up->len += *upload_data_size;
        }
        else
            up->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }

    desk_resp_t resp = { .status = 404 };
    desk_req_t req = { .desk = desk, .method = method, .path = url, .con = con,
                       .body = up->body ? up->body : "", .body_len = up->len, .lang = s_lang (con) };
    if (up->body)
        up->body [up->len] = 0;
    char cookie [256] = "";
    bool set_cookie = false;
    char sid [DESK_SID_LEN + 1] = "";

    desk_registry_sync (desk);
    if (!s_host_ok (desk, con)) {
        desk_resp_error (&resp, 421, "wrong host");
        goto send;
    }
    if (up->too_large) {
        desk_resp_error (&resp, 413, desk_tr (desk, req.lang, N_("The request is too large.")));
        goto send;
    }
    if (!post && strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
        desk_resp_error (&resp, 405, "method not allowed");
        goto send;
    }
    if (strncmp (url, "/i18n/", 6) == 0) {
        s_i18n (desk, url, &resp);
        goto send;
    }
    //  The session: an anonymous one is made when the page or its session
    //  is asked for without one (it holds the CSRF token; with a login
    //  required it is good for logging in only).  Other requests without
    //  one make none, so they cannot push the clerks' sessions out.
    const char *c = MHD_lookup_connection_value (con, MHD_COOKIE_KIND, COOKIE);
    bool have = c && desk_auth_session (desk->auth, c, req.user, sizeof req.user, req.csrf);
    if (have)
        snprintf (sid, sizeof sid, "%s", c);
    else
    if (!post && (strcmp (url, "/") == 0 || strcmp (url, "/api/session") == 0)) {
        desk_auth_session_new (desk->auth, "", sid, req.csrf);
        set_cookie = true;
    }
    if (!post && strncmp (url, "/api/", 5) != 0) {
        if (!s_static (url, &resp))
            desk_resp_error (&resp, 404, "not found");
        goto send;
    }
    if (post && !(have && s_csrf_ok (con, req.csrf))) {
        desk_resp_error (&resp, 403, desk_tr (desk, req.lang,
                         N_("This form has expired or did not come from this desk; reload the page and try again.")));
        goto send;
    }
    if (strcmp (url, "/api/session") == 0) {
        desk_resp_json (&resp, 200, json_pack ("{s:b, s:s, s:s, s:s}", "login_required", desk->login,
                                               "user", req.user, "csrf", req.csrf,
                                               "unit", desk->opts.unit ? desk->opts.unit : ""));
        goto send;
    }
    if (post && strcmp (url, "/api/login") == 0) {
        //  Guessing is slowed per client address: past 10 failures a
        //  minute from one address it answers 429 without hashing, so one
        //  guesser does not lock the other clerks out.  Each try costs an
        //  Argon2id hash on the desk's one thread: past 60 failures a
        //  minute from all addresses together, every address waits.
        int64_t now = desk_now_us ();
        login_slot_t *slot = NULL;
        if (s_login_throttled (con, now, &slot)) {
            desk_resp_error (&resp, 429, desk_tr (desk, req.lang, N_("Too many wrong passwords; wait a minute and try again.")));
            goto send;
        }
        json_t *in = json_loads (req.body, 0, NULL);
        const char *user = json_string_value (json_object_get (in, "user"));
        const char *pw = json_string_value (json_object_get (in, "password"));
        if (user && pw && strlen (user) <= 64 && desk_auth_check (desk->auth, user, pw)) {
            //  A new session id at login: one planted before cannot be used.
            desk_auth_session_end (desk->auth, sid);
            desk_auth_session_new (desk->auth, user, sid, req.csrf);
            set_cookie = true;
            desk_resp_json (&resp, 200, json_pack ("{s:s, s:s}", "user", user, "csrf", req.csrf));
            tx_log (TX_LOG_INFO, "login", "user=%s", tx_log_q (user));
        }
        else {
            s_login_failed (slot);
            desk_resp_error (&resp, 401, desk_tr (desk, req.lang, N_("Wrong user name or password.")));
            tx_log (TX_LOG_WARN, "login refused", "user=%s", tx_log_q (user ? user : ""));
        }
        json_decref (in);
        goto send;
    }
    if (post && strcmp (url, "/api/logout") == 0) {
        desk_auth_session_end (desk->auth, sid);
        desk_auth_session_new (desk->auth, "", sid, req.csrf);
        set_cookie = true;
        desk_resp_json (&resp, 200, json_pack ("{s:s}", "csrf", req.csrf));
        goto send;
    }
    if (desk->login && !*req.user) {
        desk_resp_error (&resp, 401, desk_tr (desk, req.lang, N_("Log in first.")));
        goto send;
    }
    desk_api (&req, &resp);

send:
    if (set_cookie)
        snprintf (cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", sid);
    return s_queue (con, &resp, set_cookie ? cookie : NULL);
}

static void
s_completed (void *cls, struct MHD_Connection *con, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void) cls; (void) con; (void) toe;
    s_upload_t *up = *con_cls;
    if (up) {
        free (up->body);
        free (up);
        *con_cls = NULL;
    }
}

int
desk_http_start (desk_t *desk, char *err, size_t errlen)
{
    char host [256];
    const char *listen = desk->opts.listen;
    const char *colon = strrchr (listen, ':');
    if (!colon || colon == listen || (size_t) (colon - listen) >= sizeof host) {
        snprintf (err, errlen, _("listen: %s is not ADDRESS:PORT"), listen);
        return -1;
    }
    memcpy (host, listen, (size_t) (colon - listen));
    host [colon - listen] = 0;
    if (host [0] == '[' && host [strlen (host) - 1] == ']') {
        memmove (host, host + 1, strlen (host));
        host [strlen (host) - 1] = 0;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai = NULL;
    if (getaddrinfo (host, colon + 1, &hints, &ai) != 0 || !ai) {
        snprintf (err, errlen, _("listen: %s is not a numeric address and port"), listen);
        return -1;
    }
    struct sockaddr_storage sa;
    memcpy (&sa, ai->ai_addr, ai->ai_addrlen);
    int family = ai->ai_family;
    freeaddrinfo (ai);
    if (family == AF_INET)
        desk->loopback = (ntohl (((struct sockaddr_in *) &sa)->sin_addr.s_addr) >> 24) == 127;
    else
        desk->loopback = IN6_IS_ADDR_LOOPBACK (&((struct sockaddr_in6 *) &sa)->sin6_addr);
    desk->login = !desk->loopback;
    if (desk->login && desk_auth_users (desk->auth) <= 0) {
        snprintf (err, errlen, _("listen: %s is not a loopback address, and a desk others can reach "
                                 "needs a login: add a user first (tongxin-desk passwd USER)"), listen);
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s_daemon = MHD_start_daemon (flags, 0, NULL, NULL, &s_handler, desk,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
                                 MHD_OPTION_NOTIFY_COMPLETED, &s_completed, NULL,
                                 MHD_OPTION_CONNECTION_LIMIT, 64u,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, 32u,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) (128 * 1024),
                                 MHD_OPTION_END);
    if (!s_daemon) {
        snprintf (err, errlen, _("listen: cannot listen on %s"), listen);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (s_daemon, MHD_DAEMON_INFO_BIND_PORT);
    desk->port = info ? info->port : 0;
    return 0;
}

void
desk_http_stop (void)
{
    if (s_daemon)
        MHD_stop_daemon (s_daemon);
    s_daemon = NULL;
}
