/*  spool_crc32c.h -- CRC-32C (Castagnoli), the checksum of the spool's
    segment headers, records and ack log entries (docs/spool.md section 2).

    The iSCSI/ext4 polynomial: tx_crc32c ("123456789", 9) == 0xe3069283.
    Uses the SSE 4.2 instruction when the CPU has it, else a slicing-by-8
    table; the result is the same.  Thread-safe; no state to free.
*/
#ifndef TX_SPOOL_CRC32C_H_INCLUDED
#define TX_SPOOL_CRC32C_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf[0..n) */
uint32_t
    tx_crc32c (const void *buf, size_t n);

#endif
