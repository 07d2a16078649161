/*  tongxin-desk: a unit's web desk for reports (docs/desk.md).
 *
 *  main.c reads the options (options.c), opens the journal (reports.c),
 *  the producer (libtongxin: spool and sender) and the collector's registry
 *  (registry.c), then serves the page and its API (http.c: plumbing,
 *  sessions and checks; api.c: the API; importer.c: spreadsheets;
 *  form.c: a form's values into an event).  auth.c keeps the users file
 *  and the sessions; catalog.c the messages by language.
 */
#ifndef DESK_H_INCLUDED
#define DESK_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tongxin.h"
#include "catalog.h"
#include "reports.h"

#define DESK_DEFAULT_LISTEN "127.0.0.1:8450"
#define DESK_MAX_ENDPOINTS  16

typedef struct {
    char *config;               //  --config FILE
    char *unit;                 //  unit
    char *key;                  //  unit key file
    char *server_key;           //  collector public key (file or Z85)
    char *endpoint;             //  comma-separated
    char *spool;                //  spool directory
    char *listen;               //  desk.listen: ADDR:PORT
    char *users;                //  desk.users: the users file
    char *data;                 //  desk.data: journal and sessions
    char *timezone;             //  desk.timezone: default the registry's, else Asia/Shanghai
    bool insecure;              //  plain transport (tests)
} desk_opts_t;

typedef struct desk_auth_t desk_auth_t;

typedef struct {
    desk_opts_t opts;
    tongxin_t *producer;        //  spool and sender
    desk_reports_t *reports;    //  the journal
    desk_auth_t *auth;          //  users and sessions
    desk_catalog_t *zh;         //  zh_CN messages (NULL: English only)
    tongxin_opts_t popts;       //  the producer's options (also the registry's fetches)
    char *endpoints;            //  the endpoint list popts points into
    tongxin_registry_t *treg;   //  the registry: the forms' rules (NULL: none yet)
    json_t *registry;           //  ... as JSON (tongxin_registry_json), for labels
    char *registry_text;        //  ... serialised once for /api/registry
    bool login;                 //  a login is required (non-loopback bind)
    bool loopback;              //  bound to a loopback address
    int port;                   //  the bound port
    int link;                   //  TONGXIN_LINK_* (from on_link)
} desk_t;

//  The message msgid in the request's language ("zh" or "en").
const char *desk_tr (const desk_t *desk, const char *lang, const char *msgid)
    __attribute__ ((format_arg (3)));

//  Options: flags over the configuration file.  0, or -1 after printing;
//  exits 0 for --help.  Returns the first operand index (subcommands).
int desk_options (desk_opts_t *opts, int argc, char **argv, int *first_operand);
void desk_options_free (desk_opts_t *opts);

//  The registry: types, attributes, labels, regions, time zone (registry.c).
//  init: the empty one, before serving; start: the cache or the
//  collector's, and the thread that refreshes it (0 or -1 with err);
//  sync: takes a new one, on the HTTP thread at each request; stop: ends
//  the thread.
void desk_registry_init (desk_t *desk);
int desk_registry_start (desk_t *desk, char *err, size_t errlen);
void desk_registry_sync (desk_t *desk);
void desk_registry_stop (desk_t *desk);
//  The type's definition in the document, or NULL.
json_t *desk_registry_type (const desk_t *desk, const char *code);

#endif
