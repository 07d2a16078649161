/*  log.c: key=value lines on stderr.  */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int s_level = TX_LOG_INFO;
static volatile int s_timestamps = 0;
static const char *s_names [] = { "debug", "info", "warn", "error" };

void
tx_log_set_level (tx_log_level_t level)
{
    s_level = level;
}

void
tx_log_set_timestamps (int on)
{
    s_timestamps = on;
}

int
tx_log_level_parse (const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp (name, s_names [i]) == 0)
            return i;
    return -1;
}

const char *
tx_log_quote (const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    out [o++] = '"';
    for (size_t i = 0; i < len && o + 6 < outlen; i++) {
        unsigned char c = (unsigned char) s [i];
        if (c == '"' || c == '\\') {
            out [o++] = '\\';
            out [o++] = (char) c;
        }
        else
        if (c < 0x20 || c == 0x7f)
            o += (size_t) snprintf (out + o, outlen - o, "\\x%02x", c);
        else
            out [o++] = (char) c;
    }
    out [o++] = '"';
    out [o] = 0;
    return out;
}

const char *
tx_log_q (const char *s)
{
    static __thread char ring [4][1024];
    static __thread unsigned next;
    char *out = ring [next++ % 4];
    if (!s)
        s = "";
    return tx_log_quote (s, strlen (s), out, sizeof ring [0]);
}

void
tx_log (tx_log_level_t level, const char *msg, const char *kv, ...)
{
    if ((int) level < s_level)
        return;
    char line [2048];
    size_t n = 0;
    if (s_timestamps) {
        struct timeval tv;
        gettimeofday (&tv, NULL);
        struct tm tm;
        gmtime_r (&tv.tv_sec, &tm);
        n += strftime (line, sizeof line, "ts=%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t) snprintf (line + n, sizeof line - n, ".%03dZ ", (int) (tv.tv_usec / 1000));
    }
    char quoted [512];
    n += (size_t) snprintf (line + n, sizeof line - n, "level=%s msg=%s",
                            s_names [level], tx_log_quote (msg, strlen (msg), quoted, sizeof quoted));
    if (kv && n < sizeof line - 2) {
        line [n++] = ' ';
        va_list ap;
        va_start (ap, kv);
        int k = vsnprintf (line + n, sizeof line - n, kv, ap);
        va_end (ap);
        if (k > 0)
            n += (size_t) k;
    }
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    line [n++] = '\n';
    ssize_t w = write (STDERR_FILENO, line, n);
    (void) w;
}
