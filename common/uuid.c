/*  uuid: UUIDv7 (RFC 9562) generation, text form and checks (see uuid.h).  */

#include "uuid.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define S_MAX_MS  ((UINT64_C (1) << 48) - 1)

struct tx_uuid_gen_t {
    pthread_mutex_t lock;           //  guards the two fields below
    uint64_t last_ms;               //  timestamp of the last id issued
    uint16_t counter;               //  rand_a of the last id issued (12 bits)
    bool started;                   //  an id has been issued
};

tx_uuid_gen_t *
tx_uuid_gen_new (void)
{
    tx_uuid_gen_t *self = (tx_uuid_gen_t *) calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    if (pthread_mutex_init (&self->lock, NULL) != 0) {
        free (self);
        return NULL;
    }
    return self;
}

void
tx_uuid_gen_destroy (tx_uuid_gen_t **self_p)
{
    if (self_p && *self_p) {
        pthread_mutex_destroy (&(*self_p)->lock);
        free (*self_p);
        *self_p = NULL;
    }
}

static int
s_random (uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom (buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t) n;
    }
    return 0;
}

int
tx_uuid_gen_next_at (tx_uuid_gen_t *self, uint64_t unix_ms,
                     uint8_t out [TX_UUID_LEN])
{
    uint8_t rnd [10];               //  0..7 rand_b, 8..9 counter seed
    if (unix_ms > S_MAX_MS) {
        errno = EINVAL;
        return -1;
    }
    if (s_random (rnd, sizeof rnd) != 0)
        return -1;

    pthread_mutex_lock (&self->lock);
    uint64_t ms = unix_ms;
    uint16_t counter;
    if (self->started && ms <= self->last_ms) {
        //  Same millisecond, or the clock stepped back: count on from the
        //  last id; on overflow borrow the next millisecond.
        ms = self->last_ms;
        counter = (uint16_t) (self->counter + 1);
        if (counter > 0x0fff) {
            if (ms == S_MAX_MS) {
                pthread_mutex_unlock (&self->lock);
                errno = EOVERFLOW;
                return -1;
            }
            ms++;
            counter = (uint16_t) (((rnd [8] << 8) | rnd [9]) & 0x07ff);
        }
    }
    else
        counter = (uint16_t) (((rnd [8] << 8) | rnd [9]) & 0x07ff);
    self->last_ms = ms;
    self->counter = counter;
    self->started = true;
    pthread_mutex_unlock (&self->lock);

    for (int i = 0; i < 6; i++)
        out [i] = (uint8_t) (ms >> (40 - 8 * i));
    out [6] = (uint8_t) (0x70 | (counter >> 8));
    out [7] = (uint8_t) (counter & 0xff);
    memcpy (out + 8, rnd, 8);
    out [8] = (uint8_t) (0x80 | (out [8] & 0x3f));
    return 0;
}

int
tx_uuid_gen_next (tx_uuid_gen_t *self, uint8_t out [TX_UUID_LEN])
{
    struct timespec ts;
    if (clock_gettime (CLOCK_REALTIME, &ts) != 0)
        return -1;
    uint64_t ms = ts.tv_sec < 0? 0:
                  (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
    return tx_uuid_gen_next_at (self, ms, out);
}

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
tx_uuid_parse (const char *text, size_t len, uint8_t out [TX_UUID_LEN])
{
    uint8_t tmp [TX_UUID_LEN];
    if (!text || len != TX_UUID_STR_LEN)
        return -1;
    size_t j = 0;
    for (size_t i = 0; i < TX_UUID_STR_LEN; ) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text [i] != '-')
                return -1;
            i++;
            continue;
        }
        int hi = s_hex (text [i]);
        int lo = s_hex (text [i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        tmp [j++] = (uint8_t) (hi << 4 | lo);
        i += 2;
    }
    memcpy (out, tmp, TX_UUID_LEN);
    return 0;
}

void
tx_uuid_format (const uint8_t id [TX_UUID_LEN], char out [TX_UUID_STR_SIZE])
{
    static const char digits [] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < TX_UUID_LEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out [o++] = '-';
        out [o++] = digits [id [i] >> 4];
        out [o++] = digits [id [i] & 0x0f];
    }
    out [o] = '\0';
}

bool
tx_uuid_is_v7 (const uint8_t id [TX_UUID_LEN])
{
    return (id [6] & 0xf0) == 0x70 && (id [8] & 0xc0) == 0x80;
}

uint64_t
tx_uuid_v7_ms (const uint8_t id [TX_UUID_LEN])
{
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = (ms << 8) | id [i];
    return ms;
}
