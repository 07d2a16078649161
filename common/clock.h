/*  clock.h: the monotonic clock, in ms and µs, for timeouts and durations.
 *  (Wall-clock times, for event timestamps and across processes, use
 *  CLOCK_REALTIME where they are needed.)
 */
#ifndef TX_CLOCK_H
#define TX_CLOCK_H

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

#endif
