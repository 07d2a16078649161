#!/bin/bash
# spool_crash.t -- tx_spool under kill -9 and injected I/O errors.
#
# (a) A writer (build/tests/test_spool in TX_SPOOL_WRITER mode: several
#     appender threads plus a reader that acks out of order) is killed with
#     SIGKILL at random moments, some during open/recovery.  After each kill
#     the spool is reopened (TX_SPOOL_CHECK mode) and must hold every record
#     the writer reported durable and not acked, exactly once and intact,
#     and none it reported acked.
# (b) The writer runs under tests/shim/faultfs.so with write, fdatasync,
#     fsync (directory), rename or ftruncate failing.  Appends must fail
#     (never report durable), the spool must recover in-process after a
#     transient fault, and a reopen must hold everything reported durable
#     and (for transient faults) nothing whose append failed.
# (c) Power loss, emulated: the writer and the checker run under the shim
#     with FAULTFS_SYNCLOG, which logs each file's size at every successful
#     fsync/fdatasync and every rename.  After kill -9 every spool file is
#     rolled back to its last synced size (cut off, or zeroed as a lost
#     delayed-allocation block would read).  Every record reported durable
#     must survive that; kill -9 alone cannot show it, the page cache does.
#     Not emulated: directory entries lost or unlinks undone by power loss
#     (the spool fsyncs the directory after both).
# (a)-(c) also check that nothing is counted as lost: the durable mark in
#     the ack log never covers a record that was not durable.
# (d) Durable records destroyed on purpose after a clean run: a middle
#     segment deleted, the last segment deleted, a record header in the
#     middle of a segment zeroed, a payload byte of the very last record
#     changed.  The reopened spool must count every missing durable record
#     as lost (TX_SPOOL_EXPECT_LOST); before, they vanished without a word
#     or were cut off as a "torn tail".
#
# Env: B (build dir, default build), SPOOL_CRASH_KILLS (default 30),
# SPOOL_CRASH_POWERCUTS (default 10).
set -u
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac     # absolute: LD_PRELOAD needs it
T=$B/tests/test_spool
SHIM=$B/tests/faultfs.so
# Under ASan (make asan) the preloaded shim loads before the ASan runtime
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
KILLS=${SPOOL_CRASH_KILLS:-30}
CUTS=${SPOOL_CRASH_POWERCUTS:-10}

# Faults count only on paths under the spool directory that start with
# "where": seg- (segment files), acks (the ack log) or "." (everything,
# e.g. the directory fsync after creating a segment).
SCENARIOS=(
    # name             FAULTFS spec                     where threads fsync_ms kind
    "fdatasync-once    fdatasync:30:EIO                  seg-  2 0  transient"
    "pwrite-enospc     pwrite:60:ENOSPC                  seg-  4 10 transient"
    "rename-rotation   rename:3:EIO                      seg-  2 0  transient"
    "dirfsync-rotation fsync:3:EIO                       .     2 0  transient"
    "repair-fails      fdatasync:20:EIO,ftruncate:1:EIO  seg-  2 0  transient"
    "enospc-burst      pwrite:40:ENOSPC:5                seg-  3 5  transient"
    "ack-log-fails     pwrite:10:EIO:3,fdatasync:5:EIO   acks  2 0  ack"
    "fdatasync-dead    fdatasync:25:EIO:0                seg-  1 0  permanent"
)

DAMAGE=(delete-middle delete-last zero-middle flip-end)
PLAN=$((KILLS + 1 + 2 * ${#SCENARIOS[@]} + CUTS + ${#DAMAGE[@]}))
echo "1..$PLAN"
if [ ! -x "$T" ] || [ ! -f "$SHIM" ]; then
    for i in $(seq 1 "$PLAN"); do
        echo "not ok $i - $T or $SHIM not built"
    done
    exit 1
fi

tmp=$(mktemp -d /tmp/spool_crash.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

n=0
report() {      # report OK|FAIL description
    n=$((n + 1))
    if [ "$1" = OK ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

check() {       # check DIR REPORT STRICT -> prints the checker's summary
    TX_SPOOL_CHECK=$1 TX_SPOOL_REPORT=$2 TX_SPOOL_STRICT_E=$3 "$T" 2>>"$tmp/check.err"
}

# ---------------------------------------------------------------- (a) kill -9
dir=$tmp/kill/spool
rep=$tmp/kill/writer.report
mkdir -p "$tmp/kill"
for i in $(seq 1 "$KILLS"); do
    threads=$((2 + RANDOM % 5))
    fsync_ms=10
    [ $((i % 3)) = 0 ] && fsync_ms=0
    if [ $((i % 5)) = 0 ]; then
        delay=0.00$((RANDOM % 10))          # during open / recovery
    else
        delay=0.$(printf '%03d' $((30 + RANDOM % 350)))
    fi
    TX_SPOOL_WRITER=$dir TX_SPOOL_REPORT=$rep TX_SPOOL_ITER=$i \
    TX_SPOOL_THREADS=$threads TX_SPOOL_FSYNC_MS=$fsync_ms TX_SPOOL_SEG=16384 \
        "$T" 2>>"$tmp/writer.err" &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
    if out=$(check "$dir" "$rep" 0); then
        report OK "kill $i after ${delay}s ($threads threads, fsync_ms=$fsync_ms): $out"
    else
        report FAIL "kill $i after ${delay}s ($threads threads, fsync_ms=$fsync_ms): $out"
        tail -5 "$tmp/check.err" | sed 's/^/# /'
    fi
done
durable=$(grep -c '^D' "$rep" 2>/dev/null)
acked=$(grep -c '^A' "$rep" 2>/dev/null)
# the same spool still works normally after all that
TX_SPOOL_WRITER=$dir TX_SPOOL_REPORT=$rep TX_SPOOL_ITER=$((KILLS + 1)) \
TX_SPOOL_COUNT=50 TX_SPOOL_SEG=16384 "$T" 2>>"$tmp/writer.err"
wrc=$?
if out=$(check "$dir" "$rep" 1) && [ "$wrc" = 0 ] && [ "${durable:-0}" -gt 100 ] \
   && [ "${acked:-0}" -gt 0 ]; then
    report OK "after $KILLS kills ($durable durable, $acked acked reported): clean run: $out"
else
    report FAIL "after $KILLS kills ($durable durable, $acked acked reported, writer rc $wrc): $out"
    tail -5 "$tmp/writer.err" | sed 's/^/# /'
fi

# ---------------------------------------------------------------- (b) faults
for s in "${SCENARIOS[@]}"; do
    read -r name spec where threads fsync_ms kind <<<"$s"
    d=$tmp/$name
    mkdir -p "$d"
    prefix=$d/spool/$where
    [ "$where" = . ] && prefix=$d/spool
    FAULTFS=$spec FAULTFS_PREFIX=$prefix LD_PRELOAD=$SHIM \
    TX_SPOOL_WRITER=$d/spool TX_SPOOL_REPORT=$d/writer.report \
    TX_SPOOL_THREADS=$threads TX_SPOOL_FSYNC_MS=$fsync_ms TX_SPOOL_SEG=4096 \
    TX_SPOOL_COUNT=60 "$T" 2>"$d/writer.err"
    wrc=$?
    injected=$(grep -c '^faultfs:' "$d/writer.err")
    errors=$(grep -c '^[EF]' "$d/writer.report")
    # lines after the first E/F: D lines there mean the spool recovered
    after=$(awk '/^[EF]/ {e=1} e && /^D/ {d++} END {print d+0}' "$d/writer.report")
    # An ENOSPC can be absorbed: the append gave acknowledged space back
    # and succeeded on its one retry (the writer's STATS line says so).
    absorbed=$(awk '/^STATS/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
                    END { print (v["nospace_errors"] > 0 && v["reclaimed"] > 0) ? 1 : 0 }' "$d/writer.report")
    if [ "$errors" = 0 ] && [ "$absorbed" = 1 ]; then
        errors="0 (absorbed)"
        after=$(grep -c '^D' "$d/writer.report")
    fi
    why=""
    [ "$wrc" = 0 ] || why="$why writer exited $wrc;"
    [ "$injected" -gt 0 ] || why="$why no fault injected;"
    if [ "$kind" = ack ]; then
        # tx_spool_ack reports the failure; appends are not affected
        [ "$errors" = 0 ] || why="$why $errors appends failed;"
        after=$(grep -c '^D' "$d/writer.report")
        grep -q 'event=ack-write-failed' "$d/writer.err" || why="$why no ack failure logged;"
    else
        [ "$errors" != 0 ] || why="$why no append failed;"
    fi
    if [ "$kind" = transient ] || [ "$kind" = ack ]; then
        [ "$after" -gt 0 ] || why="$why no durable append after the fault;"
    else
        [ "$after" = 0 ] || why="$why $after appends reported durable after a permanent fault;"
    fi
    if [ -z "$why" ]; then
        report OK "$name ($spec): $injected faults, $errors appends failed, $after durable after"
    else
        report FAIL "$name ($spec):$why"
        tail -5 "$d/writer.err" | sed 's/^/# /'
    fi
    strict=1
    [ "$kind" = permanent ] && strict=0
    if out=$(check "$d/spool" "$d/writer.report" $strict); then
        report OK "$name: reopen without faults: $out"
    else
        report FAIL "$name: reopen without faults: $out"
        tail -5 "$tmp/check.err" | sed 's/^/# /'
    fi
done

# ---------------------------------------------------------------- (c) power loss
dir=$tmp/power/spool
rep=$tmp/power/writer.report
log=$tmp/power/sync.log
mkdir -p "$tmp/power"
powercut() {    # roll every file of the spool back to its last synced size
    awk -F'\t' '$1 == "S" { size[$3] = $2 }
                $1 == "R" { if ($2 in size) size[$3] = size[$2]; delete size[$2] }
                END { for (p in size) print size[p] "\t" p }' "$log" |
    {
        lost=0
        while IFS=$'\t' read -r size path; do
            [ -f "$path" ] || continue
            cur=$(stat -c %s "$path")
            [ "$cur" -gt "$size" ] || continue
            truncate -s "$size" "$path"
            # half the time the lost tail reads back as zeros instead
            [ $((RANDOM % 2)) = 0 ] && truncate -s "$cur" "$path"
            lost=$((lost + cur - size))
        done
        echo "$lost"
    }
}
for i in $(seq 1 "$CUTS"); do
    threads=$((2 + RANDOM % 4))
    fsync_ms=10
    [ $((i % 2)) = 0 ] && fsync_ms=0
    delay=0.$(printf '%03d' $((50 + RANDOM % 300)))
    FAULTFS_SYNCLOG=$log FAULTFS_PREFIX=$dir LD_PRELOAD=$SHIM \
    TX_SPOOL_WRITER=$dir TX_SPOOL_REPORT=$rep TX_SPOOL_ITER=$((1000 + i)) \
    TX_SPOOL_THREADS=$threads TX_SPOOL_FSYNC_MS=$fsync_ms TX_SPOOL_SEG=16384 \
        "$T" 2>>"$tmp/writer.err" &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
    lost=$(powercut)
    if out=$(FAULTFS_SYNCLOG=$log FAULTFS_PREFIX=$dir LD_PRELOAD=$SHIM \
             check "$dir" "$rep" 0); then
        report OK "power cut $i after ${delay}s ($threads threads, fsync_ms=$fsync_ms, $lost unsynced bytes lost): $out"
    else
        report FAIL "power cut $i after ${delay}s ($threads threads, fsync_ms=$fsync_ms, $lost unsynced bytes lost): $out"
        tail -5 "$tmp/check.err" | sed 's/^/# /'
    fi
done

# ---------------------------------------------------------------- (d) damage
for name in "${DAMAGE[@]}"; do
    d=$tmp/damage-$name
    mkdir -p "$d"
    TX_SPOOL_WRITER=$d/spool TX_SPOOL_REPORT=$d/writer.report TX_SPOOL_THREADS=2 \
    TX_SPOOL_FSYNC_MS=0 TX_SPOOL_SEG=4096 TX_SPOOL_COUNT=60 TX_SPOOL_ACKER=0 \
        "$T" 2>"$d/writer.err"
    segs=$(ls "$d/spool" | grep '^seg-.*\.log$' | sort)
    nsegs=$(printf '%s\n' "$segs" | wc -l)
    middle=$d/spool/$(printf '%s\n' "$segs" | sed -n "$(( (nsegs + 1) / 2 ))p")
    last=$d/spool/$(printf '%s\n' "$segs" | tail -n 1)
    case $name in
        delete-middle) rm "$middle" ;;
        delete-last)   rm "$last" ;;
        zero-middle)   # the header of the segment's first record
                       dd if=/dev/zero of="$middle" bs=1 seek=32 count=24 conv=notrunc 2>/dev/null ;;
        flip-end)      # inside the payload of the last record (>= 40 bytes)
                       size=$(stat -c %s "$last")
                       printf '\132\245' | dd of="$last" bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null ;;
    esac
    if [ "$nsegs" -ge 3 ] && out=$(TX_SPOOL_EXPECT_LOST=1 check "$d/spool" "$d/writer.report" 1); then
        report OK "$name ($nsegs segments): every missing durable record counted as lost: $out"
    else
        report FAIL "$name ($nsegs segments): $out"
        tail -5 "$tmp/check.err" | sed 's/^/# /'
    fi
done
