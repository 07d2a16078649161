/*  pgmsg.c: PostgreSQL's messages as one line for a terminal.  */
#include "pgmsg.h"

#include <string.h>

const char *
tx_pg_first_line (const char *msg, char *buf, size_t len)
{
    if (!msg)
        msg = "";
    if (strncmp (msg, "ERROR:  ", 8) == 0)
        msg += 8;
    size_t n = strcspn (msg, "\n");
    if (n >= len)
        n = len - 1;
    memcpy (buf, msg, n);
    buf [n] = 0;
    return buf;
}
