#!/bin/sh
# Three collectors on one database; producers list all three endpoints:
# batches spread over them, and when one is killed the producers fail over
# to the others with nothing lost or doubled.
. tests/lib.sh
plan 6
ADMIN=$B/tongxin-admin
db=$(newdb multi)
$ADMIN --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
$ADMIN key server --out "$T/server.key" >/dev/null
for u in 1 2 3 4; do
    $ADMIN --db "$db" unit add "m$u" --name "m$u" --kind village >/dev/null
    $ADMIN --db "$db" key issue "m$u" --out "$T/m$u.key" >/dev/null
done
base=$((20000 + ($$ * 3) % 20000))
pids=""
for c in 1 2 3; do
    "$B/tongxin-collectord" --db "$db" --key "$T/server.key" --bind "ipc://$T/c$c.sock" \
        --metrics "127.0.0.1:$((base + c))" >"$T/c$c.log" 2>&1 &
    eval "cpid$c=$!"
    at_exit "kill $!"
done
for c in 1 2 3; do
    for i in $(seq 100); do grep -q 'msg="listening"' "$T/c$c.log" && break; sleep 0.1; done
done
eps="--endpoint ipc://$T/c1.sock --endpoint ipc://$T/c2.sock --endpoint ipc://$T/c3.sock"
for u in 1 2 3 4; do
    # shellcheck disable=SC2086
    $B/tests/tools/tx-driver $eps --unit "m$u" --key "$T/m$u.key" --server-key "$T/server.key.pub" \
        --spool "$T/spool$u" --count 3000 --rate 1500 --batch 10 --ack-timeout-ms 1000 --wait 60 \
        --out "$T/p$u.out" 2>"$T/p$u.err" &
    pids="$pids $!"
done
sleep 1
batches() { curl -s "http://127.0.0.1:$1/metrics" | sed -n 's/^tongxin_batches_received_total //p'; }
b1=$(batches $((base + 1))); b2=$(batches $((base + 2))); b3=$(batches $((base + 3)))
ok $(( b1 > 0 && b2 > 0 && b3 > 0 ? 0 : 1 )) "batches spread over the three collectors ($b1, $b2, $b3)"
kill -9 $cpid2
rc=0; for p in $pids; do wait $p || rc=1; done
ok $rc "every producer got a verdict for every event after one collector died"
cat "$T"/p*.out | awk '$1 == "S" { print $2 }' | sort > "$T/submitted"
sql "$db" "SELECT event_id FROM tongxin.events" | sort > "$T/stored"
is "$(wc -l < "$T/submitted")" 12000 "12000 events submitted"
is "$(comm -23 "$T/submitted" "$T/stored" | wc -l)" 0 "missing = 0"
is "$(sql "$db" "SELECT count(*) - count(DISTINCT event_id) FROM tongxin.events")" 0 "duplicated = 0"
is "$(comm -13 "$T/submitted" "$T/stored" | wc -l)" 0 "unexpected = 0"
