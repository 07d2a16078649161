#!/bin/bash
# Scenario 9: producers with a wrong clock, while the collector is killed
# (kill -9) and restarted, so batches are resent and judged again.  The
# collector judges by its own clock (docs/protocol.md 8.2, checks 28-29):
# `at` from 2000-01-01 to now + skew (300 s), else bad_time; then the
# id's own time (UUIDv7, made from the producer's clock) at most now +
# skew and inside the partitions kept, else bad_id_time.  Each producer's
# events must all get the same verdict, the one the rule gives:
#   p1 clock 1 h ahead (at and id)          bad_time (at is checked first)
#   p2 clock 30 years behind (at and id)    bad_time (before 2000)
#   p3 clock 1 h behind (at and id)         stored
#   p4 clock 200 s ahead (within the skew)  stored
#   p5 only the id's clock 1 h ahead        bad_id_time
#   p6 only the id's clock 400 days behind  bad_id_time (no partition)
# (tx-driver makes ids on a shifted clock with --id-offset.)  A retyped
# event (T line) gets its original's verdict, "duplicate" for "stored".
. tests/lib.sh
. tests/reliability/lib.sh
plan 18
rel_setup clock 6
# Partitions from last month on, so an id an hour old is inside the window
# even in the first hour of a month.
sql "$db" "SELECT tongxin.ensure_partitions(3, (now() - interval '40 days')::date)" >/dev/null
rel_collector 1 || { echo "Bail out! the collector did not start"; exit 1; }
y30=$((86400 * 365 * 30))
flags=(
    "--at-offset 3600 --id-offset 3600"
    "--at-offset -$y30 --id-offset -$y30"
    "--at-offset -3600 --id-offset -3600"
    "--at-offset 200 --id-offset 200"
    "--id-offset 3600"
    "--id-offset -$((86400 * 400))"
)
expect=("rejected bad_time" "rejected bad_time" "stored" "stored" "rejected bad_id_time" "rejected bad_id_time")
per=$(( (REL_EVENTS + 5) / 6 ))
rel_stream_start
for i in 1 2 3 4 5 6; do
    rel_driver "p$i" "rel-$i" $(rel_ep 1) $(rel_rate $per) ${flags[$((i - 1))]}
done
rel_faults rel_kill9_collector
rel_driver_wait p1 p2 p3 p4 p5 p6
is "$rel_rcs" 000000 "every producer finished with an answer for each of its events"
for i in 1 2 3 4 5 6; do
    # stored and duplicate are the same verdict: the event is stored.
    got=$(awk '$1 == "V" { print ($3 == "duplicate" ? "stored" : $3 ($4 == "" ? "" : " " $4)) }' \
          "$T/out/p$i.out" | sort | uniq -c | tr -s ' ' | sed 's/^ //' | tr '\n' ';')
    is "$got" "$(grep -c '^[ST] ' "$T/out/p$i.out") ${expect[$((i - 1))]};" \
       "p$i (${flags[$((i - 1))]:-}): every event ${expect[$((i - 1))]}"
done
recorded=$(sql "$db" "SELECT reason || ':' || count(DISTINCT event_id) FROM tongxin.rejected_events
                      GROUP BY reason ORDER BY reason" | tr '\n' ' ')
bt=$(cat "$T/out/p1.out" "$T/out/p2.out" | grep -c '^[ST] ')
bi=$(cat "$T/out/p5.out" "$T/out/p6.out" | grep -c '^[ST] ')
is "$recorded" "bad_id_time:$bi bad_time:$bt " "each rejected event is recorded once or more with its reason"
check_scenario clock "skew_s=300 id_clock=shifted"
[ "$_tap_failed" = 0 ] || rel_tail_logs
