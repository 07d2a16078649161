#!/bin/sh
# Operating the collector: SIGTERM drains and a restart loses nothing;
# PostgreSQL restarted under load loses and doubles nothing; /metrics and
# /healthz; configuration errors, --help and --version.
. tests/lib.sh
. tests/collector.sh
plan 51

db=$(collector_db ops) || { echo "Bail out! no database"; exit 1; }
$B/tongxin-admin --db "$db" unit add u2 --name U2 --kind village >/dev/null
pgdir=$TONGXIN_TEST_PGDIR
# If this test dies while the server is down, bring it back for the others
# (and for the DROP DATABASE of newdb, which runs after this).
at_exit "scripts/pg status '$pgdir' || scripts/pg up '$pgdir'"

# driver NAME UNIT COUNT RATE: a tx-driver stream in the background (dpid).
driver() {
    $DRIVER --endpoint "$endpoint" --unit "$2" --spool "$T/$1.spool" --insecure --count "$3" \
        --rate "$4" --out "$T/$1.out" --wait 40 --ack-timeout-ms 500 --fsync-ms 5 2>"$T/$1.err" &
    dpid=$!
}
# exactly_once NAME UNIT: what the driver submitted is in the database once
# each, and it was told stored or duplicate for every event.
exactly_once() {
    grep '^S ' "$T/$1.out" | cut -d' ' -f2 | LC_ALL=C sort >"$T/$1.sent"
    grep '^V ' "$T/$1.out" | cut -d' ' -f2 | LC_ALL=C sort >"$T/$1.told"
    sql "$db" "SELECT event_id FROM tongxin.events WHERE unit_code = '$2' ORDER BY event_id" >"$T/$1.db"
    is "$(wc -l <"$T/$1.sent") $(grep -c '^V .* stored$' "$T/$1.out") $(grep -c '^V .* rejected' "$T/$1.out")" \
       "$3 $(($3 - $(grep -c '^V .* duplicate$' "$T/$1.out"))) 0" "$1: $3 submitted, stored or duplicate, none rejected"
    cmp -s "$T/$1.sent" "$T/$1.told"; ok $? "$1: one verdict for every submitted event"
    cmp -s "$T/$1.sent" "$T/$1.db"; ok $? "$1: the database holds exactly the submitted ids, once each"
}
health() { http_get "$metrics" /healthz; }
# wait_health STATUS SECONDS: until /healthz answers STATUS.
wait_health() {
    _deadline=$(( $(now_ms) + $2 * 1000 ))
    until health | grep -q "^$1 "; do
        [ "$(now_ms)" -lt "$_deadline" ] || return 1
        sleep 0.05
    done
}
metric() { http_get "$metrics" /metrics | sed -n "s/^$1 //p"; }

# ------------------------------------------------------------ SIGTERM drains
opts="--group-ms 5 --drain-timeout 1 --registry-refresh 1"
collector_start ops $opts || { echo "Bail out! collector"; exit 1; }
driver drain u1 600 400
wait_log "$T/drain.out" '^V ' 100 10; ok $? "the stream is flowing"
collector_stop TERM
is "$crc" 0 "SIGTERM mid-stream: exit status 0"
ok $((cms >= 2000)) "within the drain timeout, 1 s, plus the 1 s it allows for acks (${cms} ms)"
is "$(grep -c 'unwritten batches' "$T/ops.log")" 0 "everything held was written"
like "$(grep -E 'msg="(stopping|stopped)' "$T/ops.log" | tr '\n' ' ')" 'stopping.*stopped' "it logged draining and stopping"
stored_at_stop=$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE unit_code = 'u1'")
sleep 0.3
collector_start ops $opts || { echo "Bail out! restart"; exit 1; }
wait $dpid; drc=$?
is "$drc" 0 "after a restart the driver gets every verdict"
ok $((stored_at_stop > 0 && stored_at_stop < 600 ? 0 : 1)) "the stop was mid-stream ($stored_at_stop of 600 stored by then)"
exactly_once drain u1 600

# ------------------------------------------------------------ PostgreSQL restarted under load
is "$(health)" "200 ok" "/healthz: 200 while the database is up"
driver pgdown u2 800 300
wait_log "$T/pgdown.out" '^V ' 100 10; ok $? "a second stream is flowing"
scripts/pg down "$pgdir" fast >/dev/null; ok $? "PostgreSQL stopped (fast) under load"
wait_health 503 5; ok $? "/healthz turns 503"
is "$(health)" "503 database unreachable" "with the reason"
is "$(metric tongxin_database_up)" 0 "tongxin_database_up 0"
sleep 1
kill -0 "$cpid"; ok $? "the collector keeps running without its database"
scripts/pg up "$pgdir" >/dev/null; ok $? "PostgreSQL started again"
wait_health 200 15; ok $? "/healthz turns 200 again"
wait $dpid; drc=$?
is "$drc" 0 "the driver gets every verdict"
exactly_once pgdown u2 800
ok $(($(metric tongxin_db_errors_total) > 0 ? 0 : 1)) "the outage shows in tongxin_db_errors_total"

# An idle collector notices the outage too (it reloads the registry every second).
scripts/pg down "$pgdir" fast >/dev/null
wait_health 503 5; ok $? "idle: /healthz turns 503 when the database stops"
scripts/pg up "$pgdir" >/dev/null
wait_health 200 15; ok $? "idle: and 200 when it is back"

# SIGTERM while the database is down and a batch is held: the drain bound
# holds even while the writer backs off between reconnects.
n=$(grep -c 'retry_ms=3200' "$T/ops.log")
scripts/pg down "$pgdir" fast >/dev/null
wait_log "$T/ops.log" 'retry_ms=3200' $((n + 1)) 10; ok $? "database down: reconnects back off (3.2 s)"
$RAW -e "$endpoint" --timeout 4000 batch unit=u1 type=student_aid @students=i:1 >"$T/held.out" &
rawpid=$!
sleep 0.2
collector_stop TERM
is "$crc" 0 "SIGTERM with the database down and a batch held: exit status 0"
ok $((cms >= 2000)) "within the drain timeout, 1 s, plus 1 s (${cms} ms)"
wait $rawpid
is "$(cat "$T/held.out")" none "the held batch is not acknowledged (its producer resends it)"
scripts/pg up "$pgdir" >/dev/null

# ------------------------------------------------------------ /metrics
collector_start metrics --group-ms 1 || { echo "Bail out! collector"; exit 1; }
$RAW -e "$endpoint" batch unit=u1 type=student_aid @students=i:1 -- unit=u1 type=student_aid @students=i:2 -- \
    unit=u1 type=student_aid >/dev/null
$RAW -e "$endpoint" --repeat 2 hex c0 >/dev/null
$RAW -e "$endpoint" --timeout 300 multipart 80 80 >/dev/null
http_get "$metrics" /metrics >"$T/metrics"
is "$(head -c 3 "$T/metrics")" 200 "/metrics: 200"
for name in batches_received events_received events_stored events_duplicate events_duplicate_content events_rejected \
            messages_refused messages_dropped_no_user messages_dropped_bad_frames acks_sent \
            acks_dropped transactions db_errors handshakes_failed; do
    grep -q "^# TYPE tongxin_${name}_total counter$" "$T/metrics" || echo "tongxin_${name}_total"
done >"$T/missing"
is "$(cat "$T/missing")" "" "every documented counter is there, typed counter"
is "$(grep -c '^# TYPE tongxin_\(commit_seconds histogram\|writer_queue_batches gauge\|writer_queue_bytes gauge\|producers_connected gauge\|database_up gauge\)$' "$T/metrics")" \
   5 "the histogram and the gauges too"
is "$(grep -E '^tongxin_(batches_received|events_received|events_stored|events_duplicate|messages_dropped_bad_frames|acks_sent|transactions)_total |^tongxin_(events_rejected|messages_refused)_total\{code="(missing_attr|malformed)"\} |^tongxin_database_up ' "$T/metrics")" \
'tongxin_batches_received_total 3
tongxin_events_received_total 3
tongxin_events_stored_total 2
tongxin_events_duplicate_total 0
tongxin_events_rejected_total{code="missing_attr"} 1
tongxin_messages_refused_total{code="malformed"} 2
tongxin_messages_dropped_bad_frames_total 1
tongxin_acks_sent_total 3
tongxin_transactions_total 3
tongxin_database_up 1' "the counters count exactly what was sent"
is "$(grep -c '^tongxin_events_rejected_total{code="[a-z0-9_]*"} [0-9]*$' "$T/metrics")" 23 "one rejected series per reject code"
is "$(grep '^tongxin_commit_seconds_\(count\|bucket{le="+Inf"}\)' "$T/metrics" | cut -d' ' -f2 | tr '\n' ' ')" "3 3 " \
   "the commit histogram counts the 3 transactions"
like "$(http_get "$metrics" /nosuch)" "^404 " "another path: 404"
collector_stop TERM

# ------------------------------------------------------------ configuration
cd_ok() { "$@" >"$T/out" 2>"$T/err"; echo $?; }
printf '[collector]\ninsecure = true\ncolour = red\n' >"$T/bad.conf"
is "$(cd_ok $B/tongxin-collectord --config "$T/bad.conf")" 2 "an unknown key in the config file: exit 2"
is "$(cat "$T/err")" "tongxin-collectord: $T/bad.conf:3: unknown key 'colour'" "...naming FILE:LINE and the key"
printf '# comment\n\n[collector]\ngroup-ms = soon\n' >"$T/bad2.conf"
is "$(cd_ok $B/tongxin-collectord --insecure --config "$T/bad2.conf")" "2" "a bad value in the config file: exit 2"
like "$(cat "$T/err")" "^tongxin-collectord: $T/bad2.conf:4: group-ms: 'soon' is not an integer" "...at FILE:LINE"
printf '[elsewhere]\ninsecure = true\n' >"$T/bad3.conf"
is "$(cd_ok $B/tongxin-collectord --config "$T/bad3.conf"):$(cat "$T/err")" \
   "2:tongxin-collectord: $T/bad3.conf:2: unknown section [elsewhere]" "an unknown section: exit 2 at FILE:LINE (of its first key)"
is "$(cd_ok $B/tongxin-collectord --db "$db" --bind "ipc://$T/x.sock")" 2 "neither --key nor --insecure: exit 2"
like "$(cat "$T/err")" "needs --key FILE" "...saying so"
is "$(cd_ok $B/tongxin-collectord --insecure --group-ms 10001)" 2 "a flag out of range: exit 2"
is "$(cd_ok $B/tongxin-collectord --insecure --no-such-flag)" 2 "an unknown flag: exit 2"
is "$(cd_ok $B/tongxin-collectord --help):$(head -n 1 "$T/out")" "0:usage: tongxin-collectord [--config FILE] [--KEY VALUE ...]" \
   "--help: exit 0, usage on stdout"
is "$(cd_ok $B/tongxin-collectord --version):$(cat "$T/out")" "0:tongxin-collectord $(cat VERSION) (protocol 1)" \
   "--version: exit 0"
# A good config file is used: the collector runs from it alone.
printf '[collector]\ndb = %s\ninsecure = true\nbind = ipc://%s/conf.sock\ngroup-ms = 1\n' "$db" "$T" >"$T/good.conf"
$B/tongxin-collectord --config "$T/good.conf" >"$T/conf.log" 2>&1 &
cpid=$!; _cpids="$_cpids $cpid"
wait_log "$T/conf.log" 'msg="listening" endpoint=ipc://'"$T"'/conf.sock'; ok $? "a config file with db, insecure and bind is enough to run"
is "$($RAW -e "ipc://$T/conf.sock" batch unit=u1 type=student_aid @students=i:3)" "ack batch=1 results=0 rejected=" "and it stores"
collector_stop TERM
is "$crc" 0 "and stops"
