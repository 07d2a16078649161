#!/bin/sh
# Analysts on a hot standby: a streaming replica of the primary, started by
# scripts/pg standby, catches up and answers the same figures, read-only,
# while the primary ingests.
. tests/lib.sh
plan 6
p=$(scripts/pg start "$T/p") || { echo "Bail out! cannot start a primary"; exit 1; }
at_exit "scripts/pg stop '$T/p'"
psql "$p" -X -q -c "CREATE DATABASE tongxin" >/dev/null
pdb=$(printf '%s' "$p" | sed 's/dbname=postgres/dbname=tongxin/')
$B/tongxin-admin --db "$pdb" migrate >/dev/null && $B/tongxin-admin --db "$pdb" unit add u1 --name U1 --kind village >/dev/null
start_collector "ipc://$T/c.sock" --db "$pdb" --insecure || exit 1
drive() { $B/tests/tools/tx-driver --endpoint "ipc://$T/c.sock" --unit u1 --insecure --spool "$T/spool" \
              --count "$1" --batch 50 --wait 20 --out /dev/null 2>/dev/null; }
drive 500; ok $? "500 events into the primary"

s=$(scripts/pg standby "$T/p" "$T/s"); ok $? "scripts/pg standby starts a replica"
at_exit "scripts/pg stop '$T/s'"
sdb=$(printf '%s' "$s" | sed 's/dbname=postgres/dbname=tongxin/')
drive 300                                   # streamed, not in the base backup
q="SELECT count(*) || '/' || sum((attrs->>'participants')::int) FROM tongxin.events"
want=$(sql "$pdb" "$q")
got=; for i in $(seq 100); do got=$(sql "$sdb" "$q" 2>/dev/null); [ "$got" = "$want" ] && break; sleep 0.1; done
is "$got" "$want" "the standby catches up and gives the primary's figures"
is "$(sql "$sdb" "SELECT pg_is_in_recovery()")" t "it is a standby"
like "$(psql "$sdb" -X -q -c "INSERT INTO tongxin.units (code, name, kind) VALUES ('x', 'x', 'village')" 2>&1)" \
     "read-only transaction" "and read-only"
is "$(sql "$sdb" "SELECT count(*) FROM tongxin.units")" 1 "the registry is there too"
