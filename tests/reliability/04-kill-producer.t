#!/bin/bash
# Scenario 4: kill -9 producers in the middle of submitting, and restart
# each at once on the same spool to submit the rest.  What a killed
# producer had accepted (spooled) is sent by its successor; what it had
# sent and was stored is answered "duplicate" when resent.  A producer
# killed between writing an event to its spool and printing its S line
# leaves an event whose verdict comes without an S line ("unseen"): it was
# submitted, so it is allowed.  Two producers submit one event per spool
# sync, two in groups of 20.
. tests/lib.sh
. tests/reliability/lib.sh
plan 11
rel_setup kprod 4
rel_collector 1 || { echo "Bail out! the collector did not start"; exit 1; }
per=$((REL_EVENTS / 4))
groups=(1 1 20 20)
rel_stream_start
for i in 1 2 3 4; do
    rel_driver "p$i" "rel-$i" $(rel_ep 1) $(rel_rate $per) --batch ${groups[$((i - 1))]}
done
fault() {
    local i=$(( ($1 - 1) % 4 + 1 )) had left secs
    kill -9 "$(cat "$T/run/d-p$i.pid")"
    wait "$(cat "$T/run/d-p$i.pid")" 2>/dev/null
    had=$(grep -c '^S ' "$T/out/p$i.out")
    left=$(( per - had > 0 ? per - had : 0 ))
    secs=$(( REL_SECONDS - ($(rel_ms) - REL_STREAM_MS) / 1000 ))
    rel_driver "p$i" "rel-$i" $(rel_ep 1) $(rel_rate $left $secs) --batch ${groups[$((i - 1))]}
}
rel_faults fault
rel_driver_wait p1 p2 p3 p4
is "$rel_rcs" 0000 "every last producer finished with an answer for each event in its spool"
check_scenario kill-producer --allow-unseen
[ "$_tap_failed" = 0 ] || rel_tail_logs
