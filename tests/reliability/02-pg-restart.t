#!/bin/bash
# Scenario 2: PostgreSQL stopped in the middle of a stream, alternately with
# -m fast (sessions terminated, clean shutdown) and -m immediate (a crash:
# recovery from WAL on restart), and started again.  The collector must
# not acknowledge what it could not commit, must reconnect by itself, and
# what it did commit must still be there after crash recovery.
. tests/lib.sh
. tests/reliability/lib.sh
: "${TONGXIN_TEST_PGDIR:?run through tests/run}"
plan 12
rel_setup pgdown 4
# Whatever happens to this script, the shared server comes back up.  (The
# server must not inherit our descriptors: prove waits for their end.)
at_exit "scripts/pg status '$TONGXIN_TEST_PGDIR' || scripts/pg up '$TONGXIN_TEST_PGDIR' 3>&-"
rel_collector 1 || { echo "Bail out! the collector did not start"; exit 1; }
per=$((REL_EVENTS / 4))
rel_stream_start
for i in 1 2 3 4; do
    rel_driver "p$i" "rel-$i" $(rel_ep 1) $(rel_rate $per)
done
ups=0
fault() {
    local mode=fast
    [ $(($1 % 2)) = 0 ] && mode=immediate
    scripts/pg down "$TONGXIN_TEST_PGDIR" "$mode" || diag "pg down $mode failed"
    rel_sleep_ms $((300 + RANDOM % 1200))
    scripts/pg up "$TONGXIN_TEST_PGDIR" 3>&- && ups=$((ups + 1))
}
rel_faults fault
is "$ups" "$REL_FAULTS" "PostgreSQL came back after each stop"
rel_driver_wait p1 p2 p3 p4
is "$rel_rcs" 0000 "every producer finished with an answer for each of its events"
check_scenario pg-restart "db_connects=$(grep -c "msg=\"database connected\"" "$T/run/c1.log")"
[ "$_tap_failed" = 0 ] || rel_tail_logs
