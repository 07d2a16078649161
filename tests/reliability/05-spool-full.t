#!/bin/bash
# Scenario 5: the producer's spool fills up while the collector is away.
# (a) Two producers with a small --cap-bytes; (b) one producer whose spool
# is on a small tmpfs (the file system fills: ENOSPC), if this machine lets
# us mount one.  Each fault is one cycle: collector down, producers submit
# until submit refuses, collector up, the producers flush.  Submit must
# refuse with "full" (F line) and store nothing; everything accepted before
# is delivered; the same spools take events again in the next cycle.
. tests/lib.sh
. tests/reliability/lib.sh
plan 18
rel_setup full 3
rel_collector 1 || { echo "Bail out! the collector did not start"; exit 1; }
# Events per producer per cycle; a spool record of tx-driver's events is
# 144 bytes (a few more at soak size: the topic carries its number), so
# the cap holds about that many.
cycle=$(( REL_EVENTS / (2 * REL_FAULTS) ))
cap=$(( cycle * 144 ))
tmpfs=0
mkdir -p "$T/tmpfs"
if mount -t tmpfs -o size=$(( cap / 1024 + 64 ))k tongxin-rel "$T/tmpfs" 2>/dev/null; then
    tmpfs=1
    at_exit "rel_cleanup; umount '$T/tmpfs'"      # nothing may hold it open
fi
# Each cycle starts with a line "R k" in every producer's output, so the
# lines of one run can be told apart (check_scenario ignores them).
# runs NAME KINDS: in how many runs NAME printed a line of a kind in KINDS.
runs() {
    awk -v kinds="$2" '$1 == "R" { r = $2 } index(kinds, $1) && !seen[r]++ { n++ } END { print n + 0 }' \
        "$T/out/$1.out"
}
# wait_full NAME K: until NAME was refused (F or E) in run K.
wait_full() {
    for _w in $(seq $((REL_WAIT * 10))); do
        [ "$(awk -v k="$2" '$1 == "R" { r = $2 } r == k && ($1 == "F" || $1 == "E") { print "y"; exit }' \
             "$T/out/$1.out")" = y ] && return 0
        sleep 0.1
    done
    return 1
}
# p1 and p3 submit one event per spool sync, p2 ten; big runs group more.
g1=1
[ "$cycle" -lt 5000 ] || g1=20
rcs="" stalls=0
names="p1 p2"
[ $tmpfs = 1 ] && names="p1 p2 p3"
rel_stream_start
for k in $(seq "$REL_FAULTS"); do
    rel_collector_kill 1 TERM
    for n in $names; do echo "R $k" >>"$T/out/$n.out"; done
    # Far more than fits: each producer stops at its first refusal.
    rel_driver p1 rel-1 $(rel_ep 1) --count $((cycle * 4)) --cap-bytes "$cap" --batch "$g1"
    rel_driver p2 rel-2 $(rel_ep 1) --count $((cycle * 4)) --cap-bytes "$cap" --batch 10
    [ $tmpfs = 1 ] && rel_driver p3 rel-3 $(rel_ep 1) --count $((cycle * 4)) --spool "$T/tmpfs/p3" --batch "$g1"
    t0=$(rel_ms)
    for n in $names; do wait_full "$n" "$k" || stalls=$((stalls + 1)); done
    t1=$(rel_ms)
    rel_collector 1
    rel_driver_wait p1 p2
    rcs="$rcs$rel_rcs"
    [ $tmpfs = 1 ] && rel_driver_wait p3
    diag "cycle $k: filled in $((t1 - t0)) ms, delivered in $(($(rel_ms) - t1)) ms"
    REL_FAULTS_DONE=$k
done
is "$stalls" 0 "every producer was refused in each cycle"
is "$rcs" "$(printf '44%.0s' $(seq "$REL_FAULTS"))" \
   "capped spools: each producer stopped at 'full' and then flushed everything (exit 4)"
is "$(runs p1 F) $(runs p2 F)" "$REL_FAULTS $REL_FAULTS" "capped spools: submit said 'full' in every cycle"
is "$(runs p1 E) $(runs p2 E)" "0 0" "capped spools: no other submit failure"
fill=$(( $(grep -c '^S ' "$T/out/p1.out") / REL_FAULTS ))
# (space comes and goes a segment, a quarter of the cap, at a time)
ok $(( fill * 100 >= cycle * 70 ? 0 : 1 )) "capped spools: a cycle accepted about as much as the cap holds ($fill of ~$cycle)"
if [ $tmpfs = 1 ]; then
    is "$(runs p3 FE)" "$REL_FAULTS" "tmpfs spool: submit was refused in every cycle (F in $(runs p3 F), E in $(runs p3 E))"
    is "$(runs p3 F)" "$REL_FAULTS" "tmpfs spool: the refusal of a full file system is 'full'"
    # Once drained, the spool must take events again, as a capped one does.
    is "$(runs p3 S)" "$REL_FAULTS" "tmpfs spool: once drained, it accepts events again in every cycle"
else
    for _s in 1 2 3; do ok 0 "# SKIP cannot mount a tmpfs here"; done
fi
check_scenario spool-full "cap_bytes=$cap tmpfs=$tmpfs"
[ "$_tap_failed" = 0 ] || rel_tail_logs
