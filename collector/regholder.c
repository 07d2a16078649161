/*  regholder.c: load, publish and hand out the registry snapshot.  */
#include "regholder.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

struct tx_regholder_t {
    pthread_mutex_t lock;       //  guards registry and generation
    pthread_cond_t loaded;      //  signalled after each load
    tx_registry_t *registry;    //  current snapshot, or NULL
    unsigned generation;        //  loads so far
    size_t counts [3];          //  units, types, keys of the last load
    atomic_int requested;       //  a load was asked for
    atomic_llong next_ms;       //  next periodic load (monotonic ms)
    int refresh_ms;             //  the period
};

tx_regholder_t *
tx_regholder_new (int refresh_s)
{
    tx_regholder_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    tx_clock_cond_init (&self->loaded);
    self->refresh_ms = refresh_s * 1000;
    return self;
}

void
tx_regholder_destroy (tx_regholder_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tx_regholder_t *self = *self_p;
    tx_registry_unref (&self->registry);
    pthread_cond_destroy (&self->loaded);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

tx_registry_t *
tx_regholder_get (tx_regholder_t *self)
{
    pthread_mutex_lock (&self->lock);
    tx_registry_t *r = tx_registry_ref (self->registry);
    pthread_mutex_unlock (&self->lock);
    return r;
}

void
tx_regholder_request (tx_regholder_t *self)
{
    atomic_store (&self->requested, 1);
}

bool
tx_regholder_request_wait (tx_regholder_t *self, int timeout_ms)
{
    struct timespec until = tx_clock_deadline (timeout_ms);
    pthread_mutex_lock (&self->lock);
    unsigned gen = self->generation;
    tx_regholder_request (self);
    int rc = 0;
    while (self->generation == gen && rc == 0)
        rc = pthread_cond_timedwait (&self->loaded, &self->lock, &until);
    bool done = self->generation != gen;
    pthread_mutex_unlock (&self->lock);
    return done;
}

bool
tx_regholder_due (tx_regholder_t *self, int64_t now_ms)
{
    return atomic_exchange (&self->requested, 0) || now_ms >= atomic_load (&self->next_ms);
}

int
tx_regholder_load (tx_regholder_t *self, PGconn *db)
{
    char err [256];
    tx_registry_t *reg = tx_registry_load (db, err, sizeof err);
    if (!reg) {
        tx_log (TX_LOG_WARN, "registry load failed", "err=%s", tx_log_q (err));
        return -1;
    }
    pthread_mutex_lock (&self->lock);
    //  The first load and one whose counts changed at info; the routine
    //  reloads (every registry-refresh seconds) at debug.
    size_t counts [3] = { tx_registry_units (reg), tx_registry_types (reg), tx_registry_keys (reg) };
    bool changed = self->generation == 0 || memcmp (counts, self->counts, sizeof counts) != 0;
    memcpy (self->counts, counts, sizeof counts);
    tx_log (changed ? TX_LOG_INFO : TX_LOG_DEBUG, "registry loaded", "units=%zu types=%zu keys=%zu",
            counts [0], counts [1], counts [2]);
    tx_registry_t *old = self->registry;
    self->registry = reg;
    self->generation++;
    pthread_cond_broadcast (&self->loaded);
    pthread_mutex_unlock (&self->lock);
    tx_registry_unref (&old);
    atomic_store (&self->next_ms, tx_clock_ms () + self->refresh_ms);
    return 0;
}
