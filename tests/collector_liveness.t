#!/bin/sh
# The collector sends no ZMTP PINGs of its own (docs/protocol.md 11.6): a
# producer that goes silent (its process frozen, as a hung host would be) is
# still dropped, through the 15 s TTL its own PINGs carry (measured 15-29 s:
# libzmq disarms the TTL at every message and arms it again at the next
# PING), while a live idle one stays connected.
. tests/lib.sh
plan 4
db=$(newdb liveness)
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
$B/tongxin-admin --db "$db" unit add u1 --name U1 --kind department >/dev/null
$B/tongxin-admin --db "$db" unit add u2 --name U2 --kind department >/dev/null
mport=$((20000 + ($$ + 11) % 20000))
ep="tcp://127.0.0.1:$((40000 + ($$ + 11) % 20000))"
start_collector "$ep" --db "$db" --insecure --metrics "127.0.0.1:$mport" || exit 1
connected() {
    curl -s "http://127.0.0.1:$mport/metrics" | awk '$1 == "tongxin_producers_connected" { print $2 }'
}
# Two producers that stay connected for a minute, sending one event every 2 s.
for u in u1 u2; do
    $B/tests/tools/tx-driver --endpoint "$ep" --unit $u --insecure --spool "$T/spool-$u" \
        --count 30 --rate 1 --wait 60 >/dev/null 2>&1 &
    echo $! > "$T/$u.pid"
    at_exit "kill -9 $(cat "$T/$u.pid") 2>/dev/null"
done
got=; for i in $(seq 100); do got=$(connected); [ "$got" = 2 ] && break; sleep 0.1; done
is "$got" 2 "both producers connected"
kill -STOP "$(cat "$T/u1.pid")"
t0=$(date +%s)
got=; for i in $(seq 1200); do got=$(connected); [ "$got" = 1 ] && break; sleep 0.1; done
secs=$(( $(date +%s) - t0 ))
is "$got" 1 "the frozen producer's connection is closed (after $secs s)"
ok $(( secs >= 10 && secs <= 45 ? 0 : 1 )) "by its heartbeat TTL: not at once, and well before TCP keepalive (90 s)"
sleep 3
is "$(connected)" 1 "the live producer, idle between events, stays connected"
