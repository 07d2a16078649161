/*  registry: the collector's registry the forms are made from and checked
 *  against (protocol revision 1.3, libtongxin's tongxin_registry_*): types
 *  with their attributes (kinds, bounds, enum values, Chinese and English
 *  labels), the regions, the organisation's time zone.
 *
 *  At start the cached copy (SPOOL/registry.cache) if there is one, else
 *  the collector's, waited for a few seconds; until one comes the page
 *  has no types and says so.  A thread of its own asks
 *  the collector again every DESK_REGISTRY_REFRESH_S (every 30 s while the
 *  desk has none) and hands a new one over; the HTTP thread, the only one
 *  that reads the registry, takes it at the start of a request
 *  (desk_registry_sync).  The page gets it as JSON (tongxin_registry_json).
 */
#include "desk.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DESK_REGISTRY_REFRESH_S  600
#define DESK_REGISTRY_RETRY_S    30
#define DESK_REGISTRY_WAIT_MS    3000

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t s_cond = PTHREAD_COND_INITIALIZER;
static tongxin_registry_t *s_pending;   //  fetched, not yet taken (under s_lock)
static bool s_have;                     //  the desk has one (under s_lock)
static bool s_stop;                     //  the refresher is to end
static pthread_t s_thread;
static bool s_started;

//  Makes reg the desk's (taken), with its JSON; on the HTTP thread.
static void
s_install (desk_t *desk, tongxin_registry_t *reg)
{
    char *text = tongxin_registry_json (reg);
    json_t *doc = text ? json_loads (text, 0, NULL) : NULL;
    if (!doc) {
        free (text);
        tongxin_registry_destroy (&reg);
        return;
    }
    tongxin_registry_destroy (&desk->treg);
    json_decref (desk->registry);
    free (desk->registry_text);
    desk->treg = reg;
    desk->registry = doc;
    desk->registry_text = text;
    //  Times on the page are the organisation's (unless configured).
    const char *tz = json_string_value (json_object_get (doc, "timezone"));
    if (!desk->opts.timezone && tz && *tz) {
        const char *now = getenv ("TZ");
        if (!now || strcmp (now, tz) != 0) {
            setenv ("TZ", tz, 1);
            tzset ();
        }
    }
    tx_log (TX_LOG_INFO, "registry", "version=%s types=%zu", tongxin_registry_version (reg),
            json_array_size (json_object_get (doc, "types")));
}

static int
s_fetch (desk_t *desk, int timeout_ms, tongxin_registry_t **reg)
{
    char err [512] = "";
    int rc = tongxin_registry_fetch (&desk->popts, timeout_ms, reg, err, sizeof err);
    if (rc < 0)
        tx_log (TX_LOG_WARN, "no registry from the collector", "rc=%d err=%s", rc, tx_log_q (err));
    return rc;
}

static void *
s_refresher (void *arg)
{
    desk_t *desk = arg;
    pthread_mutex_lock (&s_lock);
    while (!s_stop) {
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        until.tv_sec += s_have ? DESK_REGISTRY_REFRESH_S : DESK_REGISTRY_RETRY_S;
        while (!s_stop && pthread_cond_timedwait (&s_cond, &s_lock, &until) != ETIMEDOUT)
            ;
        if (s_stop)
            break;
        pthread_mutex_unlock (&s_lock);
        tongxin_registry_t *reg = NULL;
        int rc = s_fetch (desk, 0, &reg);
        pthread_mutex_lock (&s_lock);
        if (rc == TONGXIN_REGISTRY_FETCHED || (rc > 0 && !s_have)) {
            tongxin_registry_destroy (&s_pending);
            s_pending = reg;
            s_have = true;
        }
        else
            tongxin_registry_destroy (&reg);
    }
    pthread_mutex_unlock (&s_lock);
    return NULL;
}

void
desk_registry_init (desk_t *desk)
{
    //  None yet: the page says so until one comes.
    desk->registry = json_pack ("{s:s, s:[], s:[]}", "version", "", "types", "regions");
    desk->registry_text = json_dumps (desk->registry, JSON_COMPACT);
}

int
desk_registry_start (desk_t *desk, char *err, size_t errlen)
{
    tongxin_registry_t *reg = NULL;
    char why [512];
    bool cached = tongxin_registry_load (desk->opts.spool, &reg, why, sizeof why) == TONGXIN_OK;
    if (!cached && s_fetch (desk, DESK_REGISTRY_WAIT_MS, &reg) <= 0)
        reg = NULL;
    pthread_mutex_lock (&s_lock);
    s_pending = reg;
    //  A cached copy is used at once and replaced when the collector
    //  answers, asked after the retry interval; without one, every retry
    //  interval until one comes.
    s_have = reg && !cached;
    pthread_mutex_unlock (&s_lock);
    if (pthread_create (&s_thread, NULL, s_refresher, desk) != 0) {
        snprintf (err, errlen, "registry: cannot start a thread");
        return -1;
    }
    s_started = true;
    return 0;
}

void
desk_registry_sync (desk_t *desk)
{
    pthread_mutex_lock (&s_lock);
    tongxin_registry_t *reg = s_pending;
    s_pending = NULL;
    pthread_mutex_unlock (&s_lock);
    if (reg)
        s_install (desk, reg);
}

void
desk_registry_stop (desk_t *desk)
{
    if (s_started) {
        pthread_mutex_lock (&s_lock);
        s_stop = true;
        pthread_cond_signal (&s_cond);
        pthread_mutex_unlock (&s_lock);
        pthread_join (s_thread, NULL);
        s_started = false;
    }
    tongxin_registry_destroy (&s_pending);
    tongxin_registry_destroy (&desk->treg);
}

json_t *
desk_registry_type (const desk_t *desk, const char *code)
{
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (desk->registry, "types"), i, t)
        if (strcmp (json_string_value (json_object_get (t, "code")) ?: "", code) == 0)
            return t;
    return NULL;
}
