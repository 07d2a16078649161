#!/bin/bash
# Scenario 3: the collector is unreachable for a while, alternately shut
# down (SIGTERM: it drains and exits; nothing listens until it is started
# again) and frozen (SIGSTOP: connections stay open but nothing is read or
# answered, until SIGCONT).  The producers keep submitting into their
# spools meanwhile; when the collector is back everything is delivered.
. tests/lib.sh
. tests/reliability/lib.sh
plan 12
rel_setup away 4
rel_collector 1 || { echo "Bail out! the collector did not start"; exit 1; }
per=$((REL_EVENTS / 4))
# Away for about half the time between two faults.
away_ms=$(( REL_SECONDS * 1000 / (REL_FAULTS + 1) / 2 ))
rel_stream_start
for i in 1 2 3 4; do
    rel_driver "p$i" "rel-$i" $(rel_ep 1) $(rel_rate $per)
done
back=0
fault() {
    if [ $(($1 % 2)) = 1 ]; then
        rel_collector_kill 1 TERM
        rel_sleep_ms "$away_ms"
        rel_collector 1 && back=$((back + 1))
    else
        kill -STOP "$(rel_collector_pid 1)"
        rel_sleep_ms "$away_ms"
        kill -CONT "$(rel_collector_pid 1)" && back=$((back + 1))
    fi
}
rel_faults fault
is "$back" "$REL_FAULTS" "the collector came back after each absence"
rel_driver_wait p1 p2 p3 p4
is "$rel_rcs" 0000 "every producer finished with an answer for each of its events"
check_scenario collector-away "away_ms=$away_ms"
[ "$_tap_failed" = 0 ] || rel_tail_logs
