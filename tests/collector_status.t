#!/bin/sh
# Protocol revision 1.3, "status": producers tell their backlog, and the
# collector keeps tongxin.producer_status, one row per unit written at most
# once per round (status-flush-ms, here 500 ms or 1 s instead of a minute),
# as the tongxin_collector login.  A unit that spooled while the collector
# was away shows its backlog soon after it reconnects, then 0 once drained;
# a burst of statuses makes one write; a status cannot name another unit;
# hostile values are refused without harm; the aggregate gauges appear.
. tests/lib.sh
plan 30
ADMIN=$B/tongxin-admin
RAW=$B/tests/tools/tx-raw
DRV=$B/tests/tools/tx-driver
db=$(newdb pstatus)
$ADMIN --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
for u in u1 u2 u3; do $ADMIN --db "$db" unit add $u --name $u --kind department >/dev/null; done
coll=tx_scoll_$$
pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
sql "$TONGXIN_TEST_PG" "CREATE ROLE $coll LOGIN PASSWORD '$pw' IN ROLE tongxin_collector"
at_exit "psql '$TONGXIN_TEST_PG' -X -q -c 'DROP OWNED BY $coll CASCADE' -c 'DROP ROLE IF EXISTS $coll'"
( umask 077; printf '*:*:*:%s:%s\n' "$coll" "$pw" > "$T/pgpass" )
export PGPASSFILE=$T/pgpass
cdb=$(printf '%s' "$db" | sed "s/user=[a-z_]*/user=$coll/")
$ADMIN key server --out "$T/server.key" >/dev/null
for u in u1 u2 u3; do $ADMIN --db "$db" key issue $u --out "$T/$u.key" >/dev/null; done

ep="ipc://$T/c.sock"
mport=$((20000 + ($$ + 17) % 20000))
metric() {
    curl -s "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
row() { sql "$db" "SELECT $2 FROM tongxin.producer_status WHERE unit_code = '$1'"; }
# wait_sql SECONDS QUERY WANT: poll until QUERY prints WANT
wait_sql() {
    _until=$(( $(date +%s) + $1 ))
    while [ "$(sql "$db" "$2")" != "$3" ]; do
        [ "$(date +%s)" -lt "$_until" ] || return 1
        sleep 0.1
    done
}
# rounds N: wait until the collector has done N more rounds (writes and gauges)
rounds() {
    _r=$(( $(metric tongxin_status_rounds_total) + $1 ))
    _until=$(( $(date +%s) + 30 ))
    while [ "$(metric tongxin_status_rounds_total)" -lt "$_r" ]; do
        [ "$(date +%s)" -lt "$_until" ] || return 1
        sleep 0.05
    done
}
start() {
    start_collector "$ep" --db "$cdb" --key "$T/server.key" --metrics "127.0.0.1:$mport" \
        --name "collector-a" "$@"
}
stop() { kill "$cpid"; wait "$cpid" 2>/dev/null; }

# 1. A backlog built while the collector is away.
start --status-flush-ms 500 || exit 1
stop
$DRV --endpoint "$ep" --unit u1 --spool "$T/spool-u1" --key "$T/u1.key" --server-key "$T/server.key.pub" \
    --count 12 --wait 1 >/dev/null 2>&1
is $? 3 "u1 spools 12 events while the collector is away"
# One event per batch, each held 700 ms by the writer: the spool drains in ~8 s.
start --status-flush-ms 500 --group-ms 700 || exit 1
t0=$(date +%s)
$DRV --endpoint "$ep" --unit u1 --spool "$T/spool-u1" --key "$T/u1.key" --server-key "$T/server.key.pub" \
    --count 0 --window 1 --batch-events 1 --status-ms 300 --wait 60 >/dev/null 2>"$T/d1.err" &
dpid=$!
wait_sql 60 "SELECT backlog > 0 FROM tongxin.producer_status WHERE unit_code = 'u1'" t
ok $? "u1's backlog shows in producer_status after it reconnects"
took=$(( $(date +%s) - t0 ))
ok "$([ "$took" -lt 60 ] && echo 0 || echo 1)" "within a minute of reconnecting (took ${took}s)"
is "$(row u1 "oldest_waiting_at BETWEEN now() - interval '5 minutes' AND now()")" t \
    "with when the oldest waiting event was spooled"
is "$(row u1 "software || ' ' || collector")" "tx-driver 1.0 collector-a" "the software, and which collector"
is "$(row u1 "last_connected_at IS NOT NULL AND last_seen_at IS NOT NULL AND last_event_at IS NOT NULL")" t \
    "last connected, last seen and last event are kept"
wait "$dpid"; is $? 0 "u1's spool drains"
wait_sql 10 "SELECT backlog FROM tongxin.producer_status WHERE unit_code = 'u1'" 0
ok $? "then producer_status says backlog 0"
is "$(row u1 "oldest_waiting_at IS NULL AND last_verdict_at > now() - interval '1 minute'")" t \
    "no oldest waiting event, a recent verdict"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE unit_code = 'u1'")" 12 "the 12 events are stored"
stop

# 2. Many statuses from one unit: one write per round.
start --status-flush-ms 1000 || exit 1
rounds 1                                # a first (empty) round has passed
w0=$(metric tongxin_status_rows_written_total)
$RAW -e "$ep" --key "$T/u2.key" --server-key "$T/server.key.pub" --repeat 200 --window 200 --timeout 300 \
    map v=u:1 t=status backlog=u:7 oldest=t:now-7200 software=s:raw >"$T/burst.out"
is "$(sort -u "$T/burst.out")" "none" "a status is never answered"
rounds 2
is "$(metric tongxin_status_received_total)" 200 "200 statuses received"
w1=$(metric tongxin_status_rows_written_total)
ok "$([ $((w1 - w0)) -ge 1 ] && [ $((w1 - w0)) -le 2 ] && echo 0 || echo 1)" \
    "they made at most one write per round: $((w1 - w0)) (200 in under a second, rounds of 1 s)"
is "$(row u2 "backlog || ' ' || software")" "7 raw" "u2's row holds its last status"

# 3. A status names no unit: another unit's row cannot be written.
before=$(row u1 "backlog || ' ' || status_at")
$RAW -e "$ep" --key "$T/u2.key" --server-key "$T/server.key.pub" --timeout 300 \
    map v=u:1 t=status backlog=u:99 unit=s:u1 >/dev/null
$RAW -e "$ep" --key "$T/u2.key" --server-key "$T/server.key.pub" --timeout 300 \
    map v=u:1 t=status backlog=u:5 >/dev/null
rounds 2
is "$(row u1 "backlog || ' ' || status_at")" "$before" "a status claiming u1 does not touch u1's row"
is "$(row u2 backlog)" 5 "a status of u2's key writes u2's row"
is "$(metric tongxin_status_refused_total)" 1 "the status with a unit is refused"

# 4. Hostile values: refused whole, counted, nothing harmed.
for v in "backlog=i:-1" "backlog=u:18446744073709551615" "backlog=u:1 oldest=t:now+86400" \
         "backlog=u:1 oldest=t:100" "backlog=u:0 verdict=t:now+999999999" "backlog=u:0 software=s:\\xff\\xfe" \
         "backlog=u:0 software=s:a\\x1b[31mred" "backlog=s:1" "backlog=u:0 software=s:$(printf 'x%.0s' $(seq 201))"; do
    # shellcheck disable=SC2086
    $RAW -e "$ep" --key "$T/u2.key" --server-key "$T/server.key.pub" --timeout 200 \
        map v=u:1 t=status $v >/dev/null
done
rounds 2
is "$(metric tongxin_status_refused_total)" 10 "9 hostile statuses refused and counted"
is "$(row u2 "backlog || ' ' || software")" "5 raw" "u2's row keeps its last good status"
kill -0 "$cpid"; ok $? "the collector is still running"
$DRV --endpoint "$ep" --unit u3 --spool "$T/spool-u3" --key "$T/u3.key" --server-key "$T/server.key.pub" \
    --count 3 --wait 10 >/dev/null 2>&1
ok $? "and still stores events"
# tongxin-send names itself, and tells its emptied spool before it exits.
$B/tongxin-send --unit u3 --key "$T/u3.key" --server-key "$T/server.key.pub" --endpoint "$ep" \
    --spool "$T/spool-send" --type cloud_meeting --at 2025-04-01T05:00:00+08:00 \
    --attr participants=3 --attr "topic=status $$" >/dev/null 2>&1
ok $? "tongxin-send stores its event"
rounds 2
is "$(row u3 "software || ' ' || backlog")" "tongxin-send $(cat VERSION) 0" "and its status reaches the table"

# 5. The gauges: aggregates, no series per unit.
rounds 2                                # u3's last event is written
sql "$db" "UPDATE tongxin.producer_status SET last_event_at = now() - interval '30 days' WHERE unit_code = 'u3'"
$RAW -e "$ep" --key "$T/u2.key" --server-key "$T/server.key.pub" --timeout 200 \
    map v=u:1 t=status backlog=u:4 oldest=t:now-180000 >/dev/null
rounds 2
curl -s "http://127.0.0.1:$mport/metrics" >"$T/metrics"
# u2 never sent an event, u3's last was 30 days ago; u1 sent today.
is "$(awk '$1 == "tongxin_units_silent{days=\"7\"}" { print $2 }' "$T/metrics")" 2 "units silent for 7 days: u2, u3"
is "$(awk '$1 == "tongxin_units_backlog_old{hours=\"24\"}" { print $2 }' "$T/metrics")" 1 \
    "units with a backlog older than 24 hours: u2"
age=$(awk '$1 == "tongxin_backlog_oldest_seconds" { print $2 }' "$T/metrics")
ok "$([ "${age:-0}" -ge 180000 ] && [ "$age" -lt 180100 ] && echo 0 || echo 1)" "the oldest backlog's age: ${age}s"
is "$(awk '$1 == "tongxin_backlog_events" { print $2 }' "$T/metrics")" 4 "events waiting, all units"
is "$(grep -c 'u1\|u2\|u3' "$T/metrics")" 0 "no series names a unit"

# 6. Several collectors share a row: a write keeps the newest of each time
# and the newest status, whoever wrote it (as if collector-b had just
# heard from u2, an hour "later").
sql "$db" "UPDATE tongxin.producer_status SET last_seen_at = now() + interval '1 hour',
           status_at = now() + interval '1 hour', backlog = 42, collector = 'collector-b'
           WHERE unit_code = 'u2'"
$RAW -e "$ep" --key "$T/u2.key" --server-key "$T/server.key.pub" --timeout 200 \
    map v=u:1 t=status backlog=u:9 oldest=t:now-60 >/dev/null
rounds 2
is "$(row u2 "backlog || ' ' || collector || ' ' || (last_seen_at > now() + interval '50 minutes')")" "42 collector-b true" \
    "an older write does not undo a newer one (GREATEST, newest status)"
is "$(row u2 "last_connected_at > now() - interval '1 minute'")" t "while its own newer times are kept"
stop
