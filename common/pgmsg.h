/*  pgmsg.h: PostgreSQL's messages as one line for a terminal.  */
#ifndef TX_PGMSG_H
#define TX_PGMSG_H

#include <stddef.h>

//  The first line of a libpq message, without its "ERROR:  " prefix, into
//  buf (len > 0); returns buf.  NULL msg: "".
const char *tx_pg_first_line (const char *msg, char *buf, size_t len);

#endif
