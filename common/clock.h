/*  clock.h: the monotonic clock, in ms and µs, for timeouts and durations.
 *  (Wall-clock times, for event timestamps and across processes, use
 *  CLOCK_REALTIME where they are needed.)
 */
#ifndef TX_CLOCK_H
#define TX_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

static inline int64_t
tx_clock_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t
tx_clock_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  A condition variable whose timed waits run on the monotonic clock.
static inline void
tx_clock_cond_init (pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (cond, &attr);
    pthread_condattr_destroy (&attr);
}

//  The monotonic time timeout_ms from now, for pthread_cond_timedwait on
//  such a condition variable.
static inline struct timespec
tx_clock_deadline (int timeout_ms)
{
    struct timespec until;
    clock_gettime (CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return until;
}

#endif
