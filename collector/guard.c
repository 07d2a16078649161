/*  guard.c: the oldest unauthenticated connections go first.  */
#include "guard.h"

#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

//  Descriptors the collector keeps for itself: stdio, the database
//  connections, libzmq's and libmicrohttpd's own, the metrics clients.
#define GUARD_OWN_FDS 64

//  What the collector writes in a handshake that ZAP refuses: the ZMTP
//  greeting (64 bytes), CURVE's WELCOME (170) and an ERROR (12).  More than
//  that means READY went out, which CURVE sends only after ZAP said 200.
//  NULL: the greeting and an ERROR.
#define GUARD_CURVE_REFUSED_BYTES (64 + 170 + 12)
#define GUARD_NULL_REFUSED_BYTES (64 + 12)

typedef enum { G_FREE, G_PENDING, G_AUTHENTICATED, G_CLOSING } state_t;

typedef struct {
    int prev, next;                 //  the pending list, in accept order (-1 = none)
    int64_t since_ms;               //  accepted at
    ino_t ino;                      //  the socket's inode when accepted (0: unknown)
    uint8_t state;                  //  state_t
} entry_t;

struct tx_guard_t {
    entry_t *fds;                   //  indexed by descriptor
    int size;                       //  entries: the open-files limit
    int head, tail;                 //  oldest and newest pending
    int pending;                    //  entries in the list
    int limit;                      //  most pending allowed
    int handshake_ms;
    long refused_bytes;             //  the most a refused handshake writes
    tx_metrics_t *m;
};

tx_guard_t *
tx_guard_new (int max_pending, int handshake_ms, bool curve, tx_metrics_t *m)
{
    struct rlimit rl;
    int size = 1024;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        size = rl.rlim_cur > (1 << 22) ? 1 << 22 : (int) rl.rlim_cur;
    tx_guard_t *self = calloc (1, sizeof *self);
    if (self)
        self->fds = calloc ((size_t) size, sizeof (entry_t));
    if (!self || !self->fds) {
        free (self);
        return NULL;
    }
    self->size = size;
    self->head = self->tail = -1;
    int room = (size - GUARD_OWN_FDS) / 2;
    self->limit = max_pending < room ? max_pending : room;
    if (self->limit < 4)
        self->limit = 4;
    self->handshake_ms = handshake_ms;
    self->refused_bytes = curve ? GUARD_CURVE_REFUSED_BYTES : GUARD_NULL_REFUSED_BYTES;
    self->m = m;
    atomic_store (&m->handshaking_limit, self->limit);
    return self;
}

void
tx_guard_destroy (tx_guard_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->fds);
        free (*self_p);
        *self_p = NULL;
    }
}

int
tx_guard_limit (tx_guard_t *self)
{
    return self->limit;
}

static void
s_unlink (tx_guard_t *self, int fd)
{
    entry_t *e = &self->fds [fd];
    if (e->prev >= 0)
        self->fds [e->prev].next = e->next;
    else
        self->head = e->next;
    if (e->next >= 0)
        self->fds [e->next].prev = e->prev;
    else
        self->tail = e->prev;
    e->prev = e->next = -1;
    self->pending--;
    atomic_store (&self->m->handshaking, self->pending);
}

//  Leaves the pending list for state.
static void
s_settle (tx_guard_t *self, int fd, state_t state)
{
    if (self->fds [fd].state == G_PENDING)
        s_unlink (self, fd);
    self->fds [fd].state = (uint8_t) state;
}

void
tx_guard_accepted (tx_guard_t *self, int fd, int64_t now_ms)
{
    if (fd < 0 || fd >= self->size)
        return;
    entry_t *e = &self->fds [fd];
    if (e->state == G_PENDING)          //  a DISCONNECTED we never saw
        s_unlink (self, fd);
    struct stat st;
    e->ino = fstat (fd, &st) == 0 && S_ISSOCK (st.st_mode) ? st.st_ino : 0;
    e->since_ms = now_ms;
    e->state = G_PENDING;
    e->next = -1;
    e->prev = self->tail;
    if (self->tail >= 0)
        self->fds [self->tail].next = fd;
    else
        self->head = fd;
    self->tail = fd;
    self->pending++;
    atomic_store (&self->m->handshaking, self->pending);
}

void
tx_guard_closed (tx_guard_t *self, int fd)
{
    if (fd >= 0 && fd < self->size)
        s_settle (self, fd, G_FREE);
}

void
tx_guard_message (tx_guard_t *self, int fd)
{
    if (fd >= 0 && fd < self->size && self->fds [fd].state == G_PENDING)
        s_settle (self, fd, G_AUTHENTICATED);
}

//  Is fd still the socket that was accepted?
static bool
s_same_socket (tx_guard_t *self, int fd)
{
    struct stat st;
    return self->fds [fd].ino != 0 && fstat (fd, &st) == 0 && st.st_ino == self->fds [fd].ino;
}

//  Did the collector write more than a refused handshake can?  TCP only:
//  bytes the peer acknowledged plus those still queued are all we wrote.
static bool
s_wrote_ready (tx_guard_t *self, int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    int queued = 0;
    if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0
    ||  len < offsetof (struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked
    ||  ioctl (fd, SIOCOUTQ, &queued) != 0)
        return false;
    return (long) ti.tcpi_bytes_acked + queued > self->refused_bytes;
}

int
tx_guard_enforce (tx_guard_t *self, int64_t now_ms)
{
    int closed = 0;
    //  Past the handshake timeout a connection is authenticated: libzmq
    //  closes the others (a few ms late at most: one second of slack).
    while (self->head >= 0 && now_ms - self->fds [self->head].since_ms > self->handshake_ms + 1000)
        s_settle (self, self->head, G_AUTHENTICATED);
    while (self->pending > self->limit) {
        int fd = self->head;
        if (!s_same_socket (self, fd)) {
            //  Closed already (its DISCONNECTED is on its way); not ours to touch.
            s_settle (self, fd, G_FREE);
            continue;
        }
        if (s_wrote_ready (self, fd)) {
            s_settle (self, fd, G_AUTHENTICATED);
            continue;
        }
        shutdown (fd, SHUT_RDWR);
        s_settle (self, fd, G_CLOSING);
        atomic_fetch_add (&self->m->connections_shed, 1);
        closed++;
    }
    return closed;
}
