#!/bin/sh
# Several writer lanes (--writers): groups commit in parallel and in any
# order, yet every event is stored exactly once and every batch gets the
# right verdicts, also when copies of one batch are in flight in two lanes
# at once (resends), which sends a lane down the staging path.
. tests/lib.sh
. tests/collector.sh
plan 9
db=$(collector_db writers) || { echo "Bail out! database"; exit 1; }
for u in u2 u3 u4; do $B/tongxin-admin --db "$db" unit add $u --name $u --kind village >/dev/null; done
collector_start writers --writers 4 --group-ms 0 --group-events 40 || { echo "Bail out! collector"; exit 1; }

is "$(sql "$db" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tongxin-collectord'")" 4 \
   "four lanes, four database connections"

# The same batch twice at once: one copy stores, the other finds it stored.
$RAW -e "$endpoint" --repeat 2 --window 2 batch unit=u1 type=student_aid @students=i:1 \
    -- unit=u1 type=student_aid @students=i:2 >"$T/twice.out"
is "$(sort "$T/twice.out" | tr '\n' ' ')" "ack batch=1 results=0,0 rejected= ack batch=1 results=1,1 rejected= " \
   "two copies in flight: one stored, one duplicate"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events")" 2 "stored once"

# Four producers, small groups over four lanes, and resends while the
# first copies are still being written (a short ack timeout).
pids=""
for u in u1 u2 u3 u4; do
    $DRIVER --endpoint "$endpoint" --insecure --unit $u --spool "$T/spool-$u" --count 2000 --batch 10 \
        --ack-timeout-ms 150 --wait 60 --out "$T/$u.out" 2>"$T/$u.err" &
    pids="$pids $!"
done
rc=0; for p in $pids; do wait $p || rc=1; done
ok $rc "every producer got a verdict for every event"
diag "resent batches: $(sed -n 's/.*resent_batches=\([0-9]*\).*/\1/p' "$T"/u?.err | tr '\n' ' ')"
cat "$T"/u?.out | awk '$1 == "S" { print $2 }' | sort >"$T/submitted"
sql "$db" "SELECT event_id FROM tongxin.events WHERE unit_code IN ('u1', 'u2', 'u3', 'u4')" | sort >"$T/stored"
is "$(wc -l <"$T/submitted")" 8000 "8000 events submitted"
is "$(comm -23 "$T/submitted" "$T/stored" | wc -l)" 0 "missing = 0"
is "$(sql "$db" "SELECT count(*) - count(DISTINCT (event_id, unit_code)) FROM tongxin.events")" 0 "duplicated = 0"
is "$(comm -13 "$T/submitted" "$T/stored" | wc -l)" 2 "unexpected = 0 (the two events of the raw batch)"
is "$(cat "$T"/u?.out | awk '$1 == "V" && $3 != "stored" && $3 != "duplicate"' | wc -l)" 0 \
   "no verdict but stored or duplicate"
