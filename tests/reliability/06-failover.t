#!/bin/bash
# Scenario 6: two collectors on one database; five producers connect to
# both (four tx-drivers, one tongxin-send run per chunk).  The collectors
# are killed (kill -9) in turn, each restarted before the other one goes,
# so one is always up.  Batches in flight to the dead one are resent to
# the living one on timeout; a batch stored through one collector and
# resent through the other is answered "duplicate".  While either
# collector is down, the other must go on storing events.
. tests/lib.sh
. tests/reliability/lib.sh
plan 14
rel_setup failover 5
rel_collector 1 && rel_collector 2 || { echo "Bail out! the collectors did not start"; exit 1; }
per=$((REL_EVENTS / 5))
# Each collector is down for a third of the time between faults, or 1.5 s.
down_ms=$(( REL_SECONDS * 1000 / (REL_FAULTS + 1) / 3 ))
[ "$down_ms" -ge 1500 ] || down_ms=1500
rel_stream_start
for i in 1 2 3 4; do
    rel_driver "p$i" "rel-$i" $(rel_ep 1 2) $(rel_rate $per)
done
rel_send send rel-5 $((REL_EVENTS - 4 * per)) $(rel_ep 1 2)
back=0 took_over=0
stored() { sql "$db" "SELECT count(*) FROM tongxin.events"; }
fault() {
    local c=$(( ($1 - 1) % 2 + 1 )) before
    rel_collector_kill "$c" KILL
    before=$(stored)
    rel_sleep_ms "$down_ms"
    [ "$(stored)" -gt "$before" ] && took_over=$((took_over + 1))
    rel_collector "$c" && back=$((back + 1))
}
rel_faults fault
is "$back" "$REL_FAULTS" "each killed collector was restarted"
rel_driver_wait p1 p2 p3 p4
is "$rel_rcs" 0000 "every tx-driver finished with an answer for each of its events"
rel_send_wait send
is "$rel_rcs" 0 "every tongxin-send run ended with each of its events stored ($(grep -c '^R ' "$T/out/send.out") runs)"
is "$took_over" "$REL_FAULTS" "while one collector was down, the other stored events"
check_scenario failover "down_ms=$down_ms"
[ "$_tap_failed" = 0 ] || rel_tail_logs
