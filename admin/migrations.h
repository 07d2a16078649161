/*  migrations.h: the schema migrations compiled into tongxin-admin.
 *
 *  Generated from schema/NNN_name.sql by tools/embed; versions run from 1
 *  to tx_migrations_count without gaps.
 */
#ifndef TX_MIGRATIONS_H
#define TX_MIGRATIONS_H

typedef struct {
    int version;                //  1, 2, ...
    const char *name;           //  file name without ".sql", e.g. "001_schema"
    const char *sql;            //  the whole file
} tx_migration_t;

extern const tx_migration_t tx_migrations [];
extern const int tx_migrations_count;

#endif
