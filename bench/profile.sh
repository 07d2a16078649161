#!/bin/sh
# bench/profile.sh: where the time goes per event, counted by callgrind
# (instructions: repeatable on a noisy machine, unlike seconds).
#
# Usage: B=build bench/profile.sh [EVENTS_PER_PRODUCER]   (default 10000)
#
# Starts a private PostgreSQL (scripts/pg), runs tongxin-collectord under
# valgrind --tool=callgrind while 8 CURVE producers (bench/load) send
# 8 x EVENTS events, then one producer under callgrind, and prints the
# instructions per event of each stage (inclusive costs, from
# callgrind_annotate).  With perf installed it also samples the PostgreSQL
# backends during a run without valgrind and prints their top symbols.
# The callgrind files stay in $OUT (default /tmp/tongxin-profile) for
# callgrind_annotate or kcachegrind.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
N=${1:-10000}
OUT=${OUT:-/tmp/tongxin-profile}
command -v valgrind >/dev/null || { echo "profile: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
mkdir -p "$OUT"
tmp=$(mktemp -d /tmp/tongxin-prof.XXXXXX)
chmod 755 "$tmp"
vpid=
cleanup() {
    [ -z "$vpid" ] || kill "$vpid" 2>/dev/null || true
    scripts/pg stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pg=$(scripts/pg start "$tmp/pg")
psql "$pg" -X -q -c "CREATE DATABASE prof" >/dev/null
db=$(printf '%s' "$pg" | sed 's/dbname=postgres/dbname=prof/')
"$B/tongxin-admin" --db "$db" migrate >/dev/null
"$B/tongxin-admin" key server --out "$tmp/server.key" >/dev/null
for i in 1 2 3 4 5 6 7 8; do
    "$B/tongxin-admin" --db "$db" unit add "p$i" --name "p$i" --kind village >/dev/null
    "$B/tongxin-admin" --db "$db" key issue "p$i" --out "$tmp/p$i.key" >/dev/null
done
port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
ep=tcp://127.0.0.1:$port

# producers I: 8 producers to EP, verdicts awaited
producers() {
    start=$(( $(date +%s%3N) + 1500 ))
    pids=
    for i in 1 2 3 4 5 6 7 8; do
        rm -rf "$tmp/spool$i"
        "$B/bench/load" --endpoint "$ep" --unit "p$i" --spool "$tmp/spool$i" --key "$tmp/p$i.key" \
            --server-key "$tmp/server.key.pub" --count "$N" --ack-timeout-ms 600000 \
            --start-at "$start" >"$tmp/load$i.out" 2>&1 &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p"; done
}

# inclusive FILE FUNCTION-REGEX: the inclusive instructions of the functions
# matching (the largest), from callgrind_annotate
inclusive() {
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        awk -v re="$2" '$0 ~ re { gsub(/,/, "", $1); if ($1 + 0 > max) max = $1 + 0 } END { print max + 0 }'
}
per() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%7.0f", a / n }'; }

echo "profile: collector under callgrind, 8 producers x $N events" >&2
rm -f "$OUT"/collector.cg*
valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$OUT/collector.cg" \
    "$B/tongxin-collectord" --db "$db" --key "$tmp/server.key" --bind "$ep" >"$tmp/collector.log" 2>&1 &
vpid=$!
for _ in $(seq 300); do grep -q 'msg="listening"' "$tmp/collector.log" && break; sleep 0.2; done
producers
kill "$vpid"; wait "$vpid" || true; vpid=
total=$((8 * N))
# One file per thread: the receive loop (main), ZeroMQ's I/O thread
# (TCP, framing, CURVE), the writer lanes, the rest (ZAP, reaper, metrics).
main=0 zmq=0 writer=0 other=0 curve=0
for f in "$OUT"/collector.cg-*; do
    t=$(inclusive "$f" 'PROGRAM TOTALS')
    curve=$((curve + $(inclusive "$f" 'crypto_box_open_easy_afternm')))
    a=$(callgrind_annotate --inclusive=yes "$f" 2>/dev/null)
    if printf '%s' "$a" | grep -q 'tx_server_run'; then main=$((main + t))
    elif printf '%s' "$a" | grep -q 'writer.c:s_thread'; then writer=$((writer + t))
    elif printf '%s' "$a" | grep -q 'crypto_box_open'; then zmq=$((zmq + t))
    else other=$((other + t)); fi
done
m=$(ls "$OUT"/collector.cg-* | while read -r f; do
        callgrind_annotate --inclusive=yes "$f" 2>/dev/null | grep -q tx_server_run && echo "$f"; done | head -n 1)
echo "collector, instructions per event ($total events, start to stop):"
echo "  receive: ZeroMQ I/O thread (TCP, framing, CURVE)  $(per $zmq $total)"
echo "    of which CURVE decryption                       $(per $curve $total)"
echo "  receive loop (main thread)                        $(per $main $total)"
echo "    decode: prescan, msgpack, form checks           $(per "$(inclusive "$m" 'tx_wire_decode_batch')" $total)"
echo "    validate against the registry                   $(per "$(inclusive "$m" 'tx_validate_event')" $total)"
echo "    COPY encoding: attributes as JSON               $(per "$(inclusive "$m" 'tx_validate_attrs_json')" $total)"
echo "    COPY encoding: the row                          $(per "$(inclusive "$m" 'tx_copyrow_append')" $total)"
echo "    ZeroMQ receive and acks out                     $(per "$(( $(inclusive "$m" 'zmq_msg_recv') + $(inclusive "$m" 'zmq_msg_send') ))" $total)"
echo "  writer lanes (COPY stream, libpq, COMMIT, acks)   $(per $writer $total)"
echo "  other threads (ZAP, ZeroMQ reaper, ...)           $(per $other $total)"

echo "profile: one producer under callgrind, $N events" >&2
"$B/tongxin-collectord" --db "$db" --key "$tmp/server.key" --bind "$ep" >"$tmp/collector2.log" 2>&1 &
vpid=$!
for _ in $(seq 100); do grep -q 'msg="listening"' "$tmp/collector2.log" && break; sleep 0.1; done
rm -rf "$tmp/spool1"
valgrind --tool=callgrind --callgrind-out-file="$OUT/producer.cg" "$B/bench/load" --endpoint "$ep" --unit p1 \
    --spool "$tmp/spool1" --key "$tmp/p1.key" --server-key "$tmp/server.key.pub" --count "$N" \
    --ack-timeout-ms 600000 >/dev/null 2>&1
f=$OUT/producer.cg
echo "producer, instructions per event ($N events):"
echo "  all threads, start to stop   $(per "$(inclusive "$f" 'PROGRAM TOTALS')" "$N")"
echo "  building events (API)        $(per "$(( $(inclusive "$f" 'tongxin_event_new') + $(inclusive "$f" 'tongxin_event_add_int') + $(inclusive "$f" 'tongxin_event_add_text') + $(inclusive "$f" 'tongxin_event_destroy') ))" "$N")"
echo "  submit: check, encode        $(per "$(inclusive "$f" 'producer.c:s_encode')" "$N")"
echo "  submit: spool put and sync   $(per "$(( $(inclusive "$f" 'tx_spool_put') + $(inclusive "$f" 'tx_spool_sync') ))" "$N")"
echo "  sender: spool read           $(per "$(inclusive "$f" 'tx_spool_read')" "$N")"
echo "  sender: CURVE encryption     $(per "$(inclusive "$f" 'crypto_box_easy_afternm')" "$N")"
echo "  sender: acks, spool acks     $(per "$(inclusive "$f" 'producer.c:s_on_reply')" "$N")"

if command -v perf >/dev/null && [ -n "${PERF:-1}" ]; then
    echo "profile: perf on the PostgreSQL backends, 8 producers x $N events" >&2
    kill "$vpid"; wait "$vpid" || true
    psql "$db" -X -q -c "TRUNCATE tongxin.events" >/dev/null
    "$B/tongxin-collectord" --db "$db" --key "$tmp/server.key" --bind "$ep" >"$tmp/collector3.log" 2>&1 &
    vpid=$!
    for _ in $(seq 100); do grep -q 'msg="listening"' "$tmp/collector3.log" && break; sleep 0.1; done
    sleep 0.5
    backends=$(psql "$db" -X -A -t -c "SELECT string_agg(pid::text, ',') FROM pg_stat_activity
                                       WHERE application_name = 'tongxin-collectord'")
    perf record -q -g -p "$backends" -o "$OUT/postgres.perf" >/dev/null 2>&1 &
    ppid=$!
    producers
    kill -INT "$ppid"; wait "$ppid" || true
    echo "PostgreSQL backends of the collector, perf samples:"
    echo "  in the rollup trigger (AfterTriggerEndQuery, children included):" \
         "$(perf report -i "$OUT/postgres.perf" --children --stdio 2>/dev/null |
            awk '/AfterTriggerEndQuery/ { print $1; exit }')"
    echo "  top functions by their own samples:"
    perf report -i "$OUT/postgres.perf" --no-children --sort symbol --stdio --percent-limit 2 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -n 15 | sed 's/^/  /'
fi
# The database's share by ablation: the same COPY (bench/baseline, 1000
# rows a transaction) with the rollup trigger, then without it, then
# without the two secondary indexes no view reads, then with the primary
# key only.  CPU time of every PostgreSQL process, per event.
[ -z "$vpid" ] || { kill "$vpid"; wait "$vpid" || true; vpid=; }
pm=$(head -n 1 "$tmp/pg/data/postmaster.pid")
pg_ticks() {
    { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' /proc/"$pm"/stat
      for c in $(ps -o pid= --ppid "$pm"); do
          awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$c"/stat 2>/dev/null
      done; } | awk '{ s += $1 } END { print s + 0 }'
}
hz=$(getconf CLK_TCK)
copies=$((20 * N))
ablate() {
    psql "$db" -X -q -c "TRUNCATE tongxin.events" -c "CHECKPOINT" >/dev/null
    t0=$(pg_ticks)
    r=$("$B/bench/baseline" copy --db "$db" --unit p1 --count $copies --per-tx 1000)
    sleep 1
    t1=$(pg_ticks)
    printf '  %-44s %6.2f us/event (%s events/s)\n' "$1" \
        "$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n=$copies 'BEGIN { print t * 1e6 / hz / n }')" \
        "$(printf '%s' "$r" | sed -n 's/.*eps=//p')"
}
echo "PostgreSQL, CPU per event of a binary COPY of $copies events, 1000 a transaction:"
ablate "as migrated"
if psql "$db" -X -A -t -c "SELECT 1 FROM pg_trigger WHERE tgname = 'events_rollup'" | grep -q 1; then
    psql "$db" -X -q -c "ALTER TABLE tongxin.events DISABLE TRIGGER events_rollup" >/dev/null
    ablate "without the rollup trigger"
fi
psql "$db" -X -q -c "DROP INDEX tongxin.events_type_time_idx" -c "DROP INDEX tongxin.events_time_idx" >/dev/null
ablate "and without (type, time), (time) indexes"
psql "$db" -X -q -c "DROP INDEX tongxin.events_unit_time_idx" -c "DROP INDEX IF EXISTS tongxin.events_supersedes_idx" >/dev/null
ablate "and without the others: primary key only"
echo "profile: callgrind files in $OUT" >&2
