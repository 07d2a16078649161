/*  monitor.c: the ROUTER's connection events.  */
#include "monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "hsfail.h"

#define MON_ENDPOINT "inproc://tongxin-monitor"

//  The monitor events followed.
#define MON_EVENTS (ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED \
                    | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)

struct tx_monitor_t {
    void *router;                   //  the monitored socket
    void *sock;                     //  PAIR the events arrive on
    tx_guard_t *guard;              //  connections still in their handshake
    tx_metrics_t *m;
    tx_hsfail_t hsfail;             //  rate limit for failed handshakes
};

tx_monitor_t *
tx_monitor_new (void *zmq_ctx, void *router, tx_guard_t *guard, tx_metrics_t *m)
{
    tx_monitor_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->router = router;
    self->guard = guard;
    self->m = m;
    if (zmq_socket_monitor (router, MON_ENDPOINT, MON_EVENTS) != 0) {
        free (self);
        return NULL;
    }
    self->sock = zmq_socket (zmq_ctx, ZMQ_PAIR);
    //  No limit on events waiting for us: libzmq's I/O thread sends them
    //  blocking, holding the monitor's lock, so a full pipe (1,000 events:
    //  10,000 producers disconnecting) would stall it, and stopping the
    //  monitor at shutdown would wait for that lock forever.
    int unlimited = 0;
    if (!self->sock
    ||  zmq_setsockopt (self->sock, ZMQ_RCVHWM, &unlimited, sizeof unlimited) != 0
    ||  zmq_connect (self->sock, MON_ENDPOINT) != 0) {
        tx_monitor_destroy (&self);
        return NULL;
    }
    return self;
}

void
tx_monitor_destroy (tx_monitor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tx_monitor_t *self = *self_p;
    zmq_socket_monitor (self->router, NULL, 0);
    if (self->sock)
        zmq_close (self->sock);
    free (self);
    *self_p = NULL;
}

void *
tx_monitor_socket (tx_monitor_t *self)
{
    return self->sock;
}

//  A handshake failure libzmq reports.
static void
s_handshake_failed (tx_monitor_t *self, uint16_t event, uint32_t value, zmq_msg_t *addr)
{
    tx_hs_cause_t cause = TX_HS_INCOMPLETE;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        cause = value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC ? TX_HS_DECRYPT_FAILED
              : value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH ? TX_HS_MECHANISM_MISMATCH
              : TX_HS_PROTOCOL_ERROR;
    char endpoint [128];
    snprintf (endpoint, sizeof endpoint, "%.*s", (int) zmq_msg_size (addr),
              (const char *) zmq_msg_data (addr));
    tx_hsfail_note (&self->hsfail, self->m, cause, NULL, endpoint);
}

//  Reads one event; 0, or -1 when none was waiting.
static int
s_event (tx_monitor_t *self)
{
    zmq_msg_t ev, addr;
    zmq_msg_init (&ev);
    zmq_msg_init (&addr);
    int rc = -1;
    if (zmq_msg_recv (&ev, self->sock, ZMQ_DONTWAIT) >= 0 && zmq_msg_recv (&addr, self->sock, 0) >= 0
    &&  zmq_msg_size (&ev) >= 6) {
        rc = 0;
        uint16_t e;
        uint32_t value;
        memcpy (&e, zmq_msg_data (&ev), 2);
        memcpy (&value, (const uint8_t *) zmq_msg_data (&ev) + 2, 4);
        if (e == ZMQ_EVENT_ACCEPTED) {
            atomic_fetch_add (&self->m->connected, 1);
            tx_guard_accepted (self->guard, (int) value, tx_clock_ms ());
        }
        else
        if (e == ZMQ_EVENT_DISCONNECTED) {
            atomic_fetch_sub (&self->m->connected, 1);
            tx_guard_closed (self->guard, (int) value);
        }
        else
            s_handshake_failed (self, e, value, &addr);
    }
    zmq_msg_close (&ev);
    zmq_msg_close (&addr);
    return rc;
}

void
tx_monitor_drain (tx_monitor_t *self)
{
    //  Only once every waiting event is read, so that no descriptor is
    //  acted on after libzmq has closed it.
    for (int i = 0; i < 100000; i++)
        if (s_event (self) != 0) {
            tx_guard_enforce (self->guard, tx_clock_ms ());
            return;
        }
}
