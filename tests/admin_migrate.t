#!/bin/sh
# Migrations: apply on an empty database, are a no-op the second time,
# refuse a newer schema and an edited migration.
. tests/lib.sh
plan 12
ADMIN=$B/tongxin-admin
db=$(newdb migrate)

out=$($ADMIN --db "$db" migrate 2>&1); ok $? "migrate on an empty database"
like "$out" "applied 001_schema" "it applies 001"
n=$(ls schema/[0-9][0-9][0-9]_*.sql | wc -l)
is "$(sql "$db" 'SELECT count(*) FROM tongxin.schema_migrations')" "$n" "every migration recorded"

# pg_dump 15.14+ adds a random \restrict key per dump: leave it out.
schema_sum() { pg_dump -s -d "$db" | grep -v '^\\\(un\)\{0,1\}restrict ' | md5sum; }
before=$(schema_sum)
out=$($ADMIN --db "$db" migrate 2>&1); ok $? "migrate twice"
like "$out" "up to date" "the second run says it is up to date"
is "$(schema_sum)" "$before" "the second run changes nothing in the schema"
is "$(sql "$db" 'SELECT count(*) FROM tongxin.schema_migrations')" "$n" "no new version rows"

$ADMIN --db "$db" migrate --check >/dev/null; ok $? "migrate --check: nothing pending"

# A database from the future.
sql "$db" "INSERT INTO tongxin.schema_migrations (version, name, checksum) VALUES (999, '999_future', 'x')"
out=$($ADMIN --db "$db" migrate 2>&1); rc=$?
is "$rc" 1 "a newer schema is refused"
like "$out" "version 999, newer than this tongxin-admin knows" "with a clear message"
sql "$db" "DELETE FROM tongxin.schema_migrations WHERE version = 999"

# An applied migration edited afterwards.
sql "$db" "UPDATE tongxin.schema_migrations SET checksum = 'edited' WHERE version = 1"
out=$($ADMIN --db "$db" migrate 2>&1); rc=$?
is "$rc" 1 "an edited migration is refused"
like "$out" "001_schema applied to this database differs" "naming the migration"
