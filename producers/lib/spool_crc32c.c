/*  spool_crc32c.c -- CRC-32C for the spool's formats.  See spool_crc32c.h. */
#include "spool_crc32c.h"

#include <endian.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

static uint32_t s_crc_tab[8][256];
static pthread_once_t s_crc_once = PTHREAD_ONCE_INIT;
#if defined(__x86_64__)
static bool s_crc_hw;
#endif

static void
s_crc_init (void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
        s_crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            s_crc_tab[t][i] = (s_crc_tab[t - 1][i] >> 8)
                            ^ s_crc_tab[0][s_crc_tab[t - 1][i] & 0xff];
#if defined(__x86_64__)
    __builtin_cpu_init ();
    s_crc_hw = __builtin_cpu_supports ("sse4.2");
#endif
}

static uint32_t
s_crc_sw (uint32_t c, const unsigned char *p, size_t n)
{
    while (n && ((uintptr_t) p & 7)) {
        c = s_crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy (&w, p, 8);
        w = le64toh (w) ^ c;
        c = s_crc_tab[7][w & 0xff] ^ s_crc_tab[6][(w >> 8) & 0xff]
          ^ s_crc_tab[5][(w >> 16) & 0xff] ^ s_crc_tab[4][(w >> 24) & 0xff]
          ^ s_crc_tab[3][(w >> 32) & 0xff] ^ s_crc_tab[2][(w >> 40) & 0xff]
          ^ s_crc_tab[1][(w >> 48) & 0xff] ^ s_crc_tab[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = s_crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
__attribute__ ((target ("sse4.2")))
static uint32_t
s_crc_hw_run (uint32_t c, const unsigned char *p, size_t n)
{
    uint64_t c64 = c;
    while (n && ((uintptr_t) p & 7)) {
        c64 = __builtin_ia32_crc32qi ((uint32_t) c64, *p++);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy (&w, p, 8);
        c64 = __builtin_ia32_crc32di (c64, w);
        p += 8;
        n -= 8;
    }
    while (n--)
        c64 = __builtin_ia32_crc32qi ((uint32_t) c64, *p++);
    return (uint32_t) c64;
}
#endif

/* CRC-32C (Castagnoli), as in iSCSI/ext4: crc32c("123456789") = e3069283 */
uint32_t
tx_crc32c (const void *buf, size_t n)
{
    pthread_once (&s_crc_once, s_crc_init);
#if defined(__x86_64__)
    if (s_crc_hw)
        return ~s_crc_hw_run (~0u, buf, n);
#endif
    return ~s_crc_sw (~0u, buf, n);
}
