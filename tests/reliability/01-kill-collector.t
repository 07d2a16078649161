#!/bin/bash
# Scenario 1: kill -9 the collector again and again while five producers
# stream events to it (CURVE): four tx-drivers (libtongxin) and one
# tongxin-send, run once per chunk of events.  Restart it each time at the
# same address.  The producers resend what was in flight (on reconnect and
# on timeout); nothing they accepted may be lost and nothing stored twice.
. tests/lib.sh
. tests/reliability/lib.sh
plan 12
rel_setup kill 5
rel_collector 1 || { echo "Bail out! the collector did not start"; exit 1; }
per=$((REL_EVENTS / 5))
rel_stream_start
for i in 1 2 3 4; do
    rel_driver "p$i" "rel-$i" $(rel_ep 1) $(rel_rate $per)
done
rel_send send rel-5 $((REL_EVENTS - 4 * per)) $(rel_ep 1)
REL_DOWN_MAX_MS=900 rel_faults rel_kill9_collector
rel_driver_wait p1 p2 p3 p4
is "$rel_rcs" 0000 "every tx-driver finished with an answer for each of its events"
rel_send_wait send
is "$rel_rcs" 0 "every tongxin-send run ended with each of its events stored ($(grep -c '^R ' "$T/out/send.out") runs)"
check_scenario kill-collector
[ "$_tap_failed" = 0 ] || rel_tail_logs
