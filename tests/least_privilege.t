#!/bin/sh
# The collector runs as a login that is only a member of tongxin_collector,
# with its password in a libpq password file (never on a command line), and
# everything still works; that login and an analyst's cannot do more.
. tests/lib.sh
plan 19
ADMIN=$B/tongxin-admin
db=$(newdb leastpriv)
$ADMIN --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
$ADMIN --db "$db" unit add u1 --name U1 --kind department >/dev/null
coll=tx_coll_$$ ana=tx_ana_$$
pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
sql "$TONGXIN_TEST_PG" "CREATE ROLE $coll LOGIN PASSWORD '$pw' IN ROLE tongxin_collector"
sql "$TONGXIN_TEST_PG" "CREATE ROLE $ana LOGIN PASSWORD '$pw' IN ROLE tongxin_analyst"
at_exit "psql '$TONGXIN_TEST_PG' -X -q -c 'DROP OWNED BY $coll, $ana CASCADE' -c 'DROP ROLE IF EXISTS $coll, $ana'"
( umask 077; printf '*:*:*:%s:%s\n*:*:*:%s:%s\n' "$coll" "$pw" "$ana" "$pw" > "$T/pgpass" )
export PGPASSFILE=$T/pgpass
as() { printf '%s' "$db" | sed "s/user=[a-z_]*/user=$1/"; }
cdb=$(as $coll); adb=$(as $ana)

ep="ipc://$T/c.sock"
$ADMIN key server --out "$T/server.key" >/dev/null
$ADMIN --db "$db" key issue u1 --out "$T/u1.key" >/dev/null
start_collector "$ep" --db "$cdb" --key "$T/server.key"; ok $? "the collector starts as a tongxin_collector login"
$B/tests/tools/tx-driver --endpoint "$ep" --unit u1 --spool "$T/spool" --key "$T/u1.key" \
    --server-key "$T/server.key.pub" --count 50 --bad-every 10 --wait 10 --out "$T/d.out" 2>/dev/null
ok $? "events are acknowledged"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events")" 45 "the good ones are stored"
is "$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events")" 5 "the bad ones recorded"
# The duplicate path (staging table, ON CONFLICT ... RETURNING) with these
# privileges: the same file twice.
ms=$(date +%s%3N); h=$(printf '%012x' $ms)
printf '{"id":"%s-%s-7abc-8def-000000000001","type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"participants":3}}\n' \
    "${h%????}" "${h#????????}" > "$T/one.jsonl"
send() { $B/tongxin-send --unit u1 --key "$T/u1.key" --server-key "$T/server.key.pub" --endpoint "$ep" \
             --spool "$T/spool-send" --wait 10 "$T/one.jsonl" 2>/dev/null; }
send && send; ok $? "a resent event is answered duplicate"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events")" 46 "and stored once"
grep -q "$pw" "/proc/$cpid/cmdline"; is $? 1 "the password is not on the collector's command line"
grep -q "creating partitions failed" "$T/collector.log"; is $? 1 "the collector's own ensure_partitions() call works"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE received_at < now() - interval '5 minutes' OR received_at > now()")" 0 \
   "stored events carry the database's received_at"

out=$(psql "$cdb" -X -q -A -t -c "SELECT tongxin.ensure_partitions(120, '1970-01-01')" 2>&1)
like "$out" "permission denied for function ensure_partitions" "the collector's login cannot make partitions back to 1970"
out=$(printf '%s\tu1\tvisit\t2025-01-01\tt\t2001-01-01\n\\.\n' "$(sql "$db" "SELECT tongxin.uuid7_floor(now())")" |
      psql "$cdb" -X -q -v ON_ERROR_STOP=1 -c "COPY tongxin.events (event_id, unit_code, type, occurred_at, sender, received_at) FROM STDIN" 2>&1)
like "$out" "permission denied for table events" "nor COPY events with a received_at of its choice"
out=$(psql "$cdb" -X -q -A -t -c "INSERT INTO tongxin.rejected_events (sender, reason, message, raw, received_at) VALUES ('t', 'x', 'm', '', '2037-01-01')" 2>&1)
like "$out" "permission denied for table rejected_events" "nor date a rejection"

out=$(psql "$cdb" -X -q -A -t -c "DELETE FROM tongxin.events" 2>&1)
like "$out" "permission denied" "the collector's login cannot DELETE events"
out=$(psql "$cdb" -X -q -A -t -c "UPDATE tongxin.events SET sender = 'x'" 2>&1)
like "$out" "permission denied" "nor UPDATE them"
out=$(psql "$cdb" -X -q -A -t -c "SELECT attrs FROM tongxin.events LIMIT 1" 2>&1)
like "$out" "permission denied" "nor read their contents"
out=$(psql "$cdb" -X -q -A -t -c "SELECT raw FROM tongxin.rejected_events LIMIT 1" 2>&1)
like "$out" "permission denied" "nor read rejected events"
is "$(psql "$adb" -X -q -A -t -c "SELECT count(*) FROM tongxin.events" 2>&1)" 46 "the analyst's login reads"
out=$(psql "$adb" -X -q -A -t -c "INSERT INTO tongxin.units (code, name, kind) VALUES ('x', 'x', 'village')" 2>&1)
like "$out" "permission denied" "and cannot write"
out=$(psql "$adb" -X -q -A -t -c "DELETE FROM tongxin.events" 2>&1)
like "$out" "permission denied" "nor delete"
