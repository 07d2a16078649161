#!/bin/sh
# scaleout: the scale-out measurements of docs/scaling.md, on a private
# PostgreSQL (scripts/pg, settings as in make bench).
#
#   bench/scaleout.sh [producers] [collectors]      (both when none is named)
#
# producers   10,000 simulated producers against one CURVE collector
#             (bench/connections: one DEALER, unit and key each, heartbeats
#             5 s / 15 s as in libtongxin): time to connect them all, then
#             IDLE s idle and ACTIVE s of a trickle (EVENTS events every
#             EVERY_MS ms on each); the collector's RSS, VmHWM, CPU and
#             open descriptors per phase, the trickle's ack latency;
#             between the two, STATUS s in which each sends a status
#             (protocol revision 1.3) every 60 s: the collector's CPU, and
#             its writes to tongxin.producer_status (one round a minute).
# collectors  throughput with 1, 2 and 3 collectors on one database:
#             PRODUCERS bench/load processes, each listing every collector's
#             endpoint (libtongxin spreads its batches over the connected
#             ones), COLLECTOR_EVENTS events in all, an empty events table
#             each run, RUNS runs per point (the median is kept); the row
#             count is checked against the events sent after every run.
#
# stdout: one "name: value" line per figure, plus the raw bench/connections
# line.  Progress on stderr.  The figures also go to OUT
# (bench/results/scaleout.txt) when both phases ran.
#
# Environment: B (build directory), SOCKETS (10000), IDLE (20), ACTIVE (30),
# EVERY_MS (5000), EVENTS (5), STATUS (130; 0: no status phase), STATUS_MS
# (60000: each producer's status interval in that phase), NOFILE (65536, as LimitNOFILE= in
# systemd/tongxin-collectord.service: the hard open-files limit of the
# collector, which starts with a soft one of 1024, and the simulator's
# limit; lowered to the hard limit of this shell if that is less: then the
# simulator runs as several processes),
# PRODUCERS (8), COLLECTOR_EVENTS (400000), RUNS (3), OUT.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
SOCKETS=${SOCKETS:-10000}
IDLE=${IDLE:-20}
ACTIVE=${ACTIVE:-30}
EVERY_MS=${EVERY_MS:-5000}
EVENTS=${EVENTS:-5}
STATUS=${STATUS:-130}
STATUS_MS=${STATUS_MS:-60000}
NOFILE=${NOFILE:-65536}
PRODUCERS=${PRODUCERS:-8}
COLLECTOR_EVENTS=${COLLECTOR_EVENTS:-400000}
RUNS=${RUNS:-3}
OUT=${OUT:-bench/results/scaleout.txt}
PHASES=${*:-producers collectors}
ADMIN=$B/tongxin-admin
export PGTZ=UTC
# A hard limit can only be raised with CAP_SYS_RESOURCE: keep to the one
# there is.  The collector starts with a soft limit of 1024, as from a login
# shell, and raises it to the hard one itself (collector/main.c).
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] || [ "$NOFILE" -le "$HARD" ] || NOFILE=$HARD
SIM_NOFILE=$NOFILE

for p in "$ADMIN" "$B/tongxin-collectord" "$B/bench/load" "$B/bench/connections"; do
    [ -x "$p" ] || { echo "scaleout: $p is missing: run make first" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/tongxin-scaleout.XXXXXX) || exit 1
chmod 755 "$tmp"
cpids=
cleanup() {
    for p in $cpids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    scripts/pg stop "$tmp/pg" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { echo "scaleout: $(date +%H:%M:%S) $*" >&2; }
die() { echo "scaleout: $*" >&2; exit 1; }
: >"$tmp/figures"
fig() { echo "$1: $2"; echo "$1: $2" >>"$tmp/figures"; }
kv() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p" | head -n 1; }
calc() { awk "BEGIN { printf \"%$1\", $2 }"; }
want() { case " $PHASES " in *" $1 "*) ;; *) return 1 ;; esac; }
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

say "starting a private PostgreSQL in $tmp/pg"
PG=$(PG_OPTS="-c fsync=on -c synchronous_commit=on" scripts/pg start "$tmp/pg") || die "cannot start PostgreSQL"
psql "$PG" -X -q -c "CREATE DATABASE bench" >/dev/null || die "CREATE DATABASE failed"
DB=$(printf '%s' "$PG" | sed 's/dbname=postgres/dbname=bench/')
$ADMIN --db "$DB" migrate >/dev/null || die "migrate failed"
$ADMIN key server --out "$tmp/server.key" >/dev/null || die "key server failed"

PM_PID=$(head -n 1 "$tmp/pg/data/postmaster.pid")
HZ=$(getconf CLK_TCK)
# PostgreSQL's CPU time so far (ticks), as in scripts/bench.
pg_ticks() {
    { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' /proc/"$PM_PID"/stat
      for c in $(ps -o pid= --ppid "$PM_PID"); do
          awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$c"/stat 2>/dev/null
      done; } | awk '{ s += $1 } END { print s + 0 }'
}
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$1"/stat; }
# TcpExt ListenOverflows of this network namespace: connections the listen
# queue had no room for (the client retransmits its SYN after 1, 3, 7 s ...).
overflows() {
    awk '/^TcpExt:/ { if (!n) { for (i = 1; i <= NF; i++) k[i] = $i; n = 1; next }
                      for (i = 1; i <= NF; i++) if (k[i] == "ListenOverflows") print $i }' /proc/net/netstat
}

# start_collector N: collector N on a free loopback port (metrics on the
# next one), with the open files limit of the systemd unit; appends its pid
# to cpids, sets EP, MPORT and PID.
start_collector() {
    for _try in 1 2 3 4 5; do
        port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
        EP=tcp://127.0.0.1:$port
        MPORT=$((port + 1))
        : >"$tmp/collector-$1.log"
        ( ulimit -Hn "$NOFILE" && ulimit -Sn 1024 &&
          exec "$B/tongxin-collectord" --db "$DB" --key "$tmp/server.key" --bind "$EP" \
              --metrics "127.0.0.1:$MPORT" ) >>"$tmp/collector-$1.log" 2>&1 &
        PID=$!
        for _i in $(seq 100); do
            if grep -q 'msg="listening"' "$tmp/collector-$1.log"; then
                cpids="$cpids $PID"
                return 0
            fi
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
    done
    cat "$tmp/collector-$1.log" >&2
    die "collector $1 did not start"
}

stop_collectors() {
    for p in $cpids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    cpids=
}

empty_events() {
    psql "$DB" -X -q -v ON_ERROR_STOP=1 -c "TRUNCATE tongxin.events, tongxin.rejected_events" \
        -c "CHECKPOINT" >/dev/null || die "emptying the events table failed"
}

# ------------------------------------------------------------------ producers

if want producers; then
    say "registering $SOCKETS units with one key each"
    t0=$(date +%s%3N)
    "$B"/bench/connections register --db "$DB" --keys "$tmp/conn.keys" --sockets "$SOCKETS" ||
        die "registering $SOCKETS units failed"
    fig producers_register_s "$(calc .1f "($(date +%s%3N) - $t0) / 1000")"
    start_collector 1
    fig producers_collector_start_rss_mb "$(calc .1f "$(awk '/^VmRSS/ { print $2 }' /proc/"$PID"/status) / 1024")"
    fig producers_collector_start_fds "$(find /proc/"$PID"/fd -mindepth 1 | wc -l)"
    grep 'msg="open files limit"' "$tmp/collector-1.log" >&2
    # The simulator needs 2 descriptors per socket: as many processes as the
    # hard limit calls for, each with its slice of the keys.
    procs=$(( (SOCKETS * 2 + 64 + SIM_NOFILE - 1) / SIM_NOFILE ))
    say "$SOCKETS producers in $procs process(es): connect, $IDLE s idle," \
        "$ACTIVE s of $EVENTS events every $EVERY_MS ms each"
    mkdir "$tmp/barrier"
    ov0=$(overflows)
    pids=
    for k in $(seq 0 $((procs - 1))); do
        from=$(( SOCKETS * k / procs )) to=$(( SOCKETS * (k + 1) / procs ))
        ( ulimit -Sn "$SIM_NOFILE" &&
          exec "$B"/bench/connections run --endpoint "$EP" --server-key "$tmp/server.key.pub" \
              --keys "$tmp/conn.keys" --pid "$PID" --skip "$from" --sockets $((to - from)) --connect-s 300 \
              --idle-s "$IDLE" --active-s "$ACTIVE" --every-ms "$EVERY_MS" --events "$EVENTS" \
              --barrier "$tmp/barrier" --procs "$procs" --latency "$tmp/lat.$k" \
              --status-s "$STATUS" --status-ms "$STATUS_MS" --metrics "$MPORT" ) \
            >"$tmp/conn.$k" 2>"$tmp/conn.$k.err" &
        pids="$pids $!"
    done
    failed=0
    for p in $pids; do wait "$p" || failed=1; done
    ov1=$(overflows)
    for k in $(seq 0 $((procs - 1))); do echo "connections[$k]: $(cat "$tmp/conn.$k")"; done
    [ $failed = 0 ] || { tail -n 20 "$tmp"/conn.*.err "$tmp/collector-1.log" >&2; die "connections failed"; }
    # One line for all: counts summed, the collector's figures from the
    # process that connected last (its phases cover the others'), latencies
    # from all of them.
    last=$(for k in $(seq 0 $((procs - 1))); do echo "$(kv connect_s "$tmp/conn.$k") $k"; done |
           sort -n | tail -n 1 | cut -d' ' -f2)
    cp "$tmp/conn.$last" "$tmp/conn"
    sum() { for k in $(seq 0 $((procs - 1))); do kv "$1" "$tmp/conn.$k"; done | awk '{ s += $1 } END { print s }'; }
    pct() { sed -n "s/^$1 //p" "$tmp"/lat.* | sort -n |
            awk -v p="$2" '{ v[NR] = $1 } END { k = int(NR * p / 100 + 0.999999); if (k < 1) k = 1
                                                printf "%.1f\n", v[k] / 1000 }'; }
    stop_collectors
    stored=$(psql "$DB" -X -A -t -c "SELECT count(*) FROM tongxin.events")
    fig producers_sockets "$(sum sockets)"
    fig producers_simulator_processes "$procs"
    fig producers_connected "$(sum connected)"
    fig producers_connect_all_s "$(kv connect_s "$tmp/conn")"
    fig producers_connect_p50_ms "$(pct connect 50)"
    fig producers_connect_p99_ms "$(pct connect 99)"
    fig producers_listen_overflows "$((ov1 - ov0))"
    fig producers_connect_cpu_pct "$(kv connect_cpu_pct "$tmp/conn")"
    fig producers_connect_zap_cpu_pct "$(kv connect_zap_cpu_pct "$tmp/conn")"
    fig producers_connect_peak_rss_mb "$(calc .1f "$(kv connect_hwm_kb "$tmp/conn") / 1024")"
    fig producers_idle_rss_mb "$(calc .1f "$(kv idle_rss_kb "$tmp/conn") / 1024")"
    fig producers_idle_cpu_pct "$(kv idle_cpu_pct "$tmp/conn")"
    fig producers_idle_fds "$(kv idle_fds "$tmp/conn")"
    fig producers_active_rss_mb "$(calc .1f "$(kv active_rss_kb "$tmp/conn") / 1024")"
    fig producers_peak_rss_mb "$(calc .1f "$(kv active_hwm_kb "$tmp/conn") / 1024")"
    fig producers_active_cpu_pct "$(kv active_cpu_pct "$tmp/conn")"
    fig producers_active_fds "$(kv active_fds "$tmp/conn")"
    fig producers_active_eps "$(calc .0f "$SOCKETS * $EVENTS * 1000 / $EVERY_MS")"
    fig producers_batches_timed "$(sum batches_timed)"
    fig producers_ack_p50_ms "$(pct ack 50)"
    fig producers_ack_p99_ms "$(pct ack 99)"
    fig producers_ack_max_ms "$(pct ack 100)"
    fig producers_missing_acks "$(sum missing)"
    if [ "$STATUS" -gt 0 ]; then
        st_s=$(kv status_s "$tmp/conn")
        fig producers_status_phase_s "$st_s"
        fig producers_status_sent "$(sum status_sent)"
        fig producers_status_received "$(kv status_received "$tmp/conn")"
        fig producers_status_cpu_pct "$(kv status_cpu_pct "$tmp/conn")"
        fig producers_status_thread_cpu_pct "$(kv status_thread_cpu_pct "$tmp/conn")"
        fig producers_status_writes_per_min "$(calc .1f "$(kv status_writes "$tmp/conn") * 60 / $st_s")"
        fig producers_status_rows_per_min "$(calc .0f "$(kv status_rows "$tmp/conn") * 60 / $st_s")"
        fig producers_status_write_ms_per_min "$(calc .0f "$(kv status_write_s "$tmp/conn") * 60000 / $st_s")"
    fi
    fig producers_simulator_cpu_pct "$(sum self_cpu_pct)"
    sent=$(sum events)
    [ "$stored" = "$sent" ] || die "producers: $stored rows stored, $sent events sent"
    fig producers_rows_equal_events "$stored"
fi

# ------------------------------------------------------------------ collectors

# run_collectors N R: N fresh collectors, PRODUCERS load processes listing
# all N endpoints; first submit to last verdict.  Leaves $tmp/cN-R.eps.
run_collectors() {
    n=$1 r=$2
    empty_events
    eps='' mports='' cp=''
    for c in $(seq 1 "$n"); do
        start_collector "$c"
        eps="$eps --endpoint $EP"
        mports="$mports $MPORT"
        cp="$cp $PID"
    done
    pg0=$(pg_ticks)
    start_at=$(( $(date +%s%3N) + 1500 + PRODUCERS * 50 ))
    pids=
    for i in $(seq 1 "$PRODUCERS"); do
        share=$(( COLLECTOR_EVENTS / PRODUCERS + (i <= COLLECTOR_EVENTS % PRODUCERS ? 1 : 0) ))
        rm -rf "$tmp/spool-$i"
        # shellcheck disable=SC2086
        $B/bench/load $eps --unit "bench-$i" --spool "$tmp/spool-$i" --key "$tmp/bench-$i.key" \
            --server-key "$tmp/server.key.pub" --count "$share" --start-at "$start_at" \
            >"$tmp/c$n-$r.$i.out" 2>"$tmp/c$n-$r.$i.err" &
        pids="$pids $!"
    done
    failed=0
    for p in $pids; do wait "$p" || failed=1; done
    [ $failed = 0 ] || { tail -n 3 "$tmp/c$n-$r".*.err >&2; die "$n collectors: a producer failed"; }
    pg1=$(pg_ticks)
    # Each collector's share of the events, and of the CPU.
    share='' ct=0
    for m in $mports; do
        share="$share${share:+/}$(curl -s "http://127.0.0.1:$m/metrics" |
            awk '/^tongxin_events_stored_total / { print $2 }')"
    done
    for p in $cp; do ct=$((ct + $(ticks "$p"))); done
    stop_collectors
    stored=$(psql "$DB" -X -A -t -c "SELECT count(*) FROM tongxin.events")
    [ "$stored" = "$COLLECTOR_EVENTS" ] || die "$n collectors: $stored rows, $COLLECTOR_EVENTS events sent"
    cat "$tmp/c$n-$r".[0-9]*.out | awk -v total="$COLLECTOR_EVENTS" '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          if (!first || v["first_submit_us"] < first) first = v["first_submit_us"]
          if (v["last_verdict_us"] > last) last = v["last_verdict_us"]
          stored += v["stored"]; dup += v["duplicate"] }
        END { if (stored != total || dup != 0) exit 1
              printf "%.0f\n", stored / ((last - first) / 1e6) }' >"$tmp/c$n-$r.eps" ||
        die "$n collectors: verdicts missing or duplicates reported"
    calc .2f "($pg1 - $pg0) * 1e6 / $HZ / $COLLECTOR_EVENTS" >"$tmp/c$n-$r.pg"
    calc .2f "$ct * 1e6 / $HZ / $COLLECTOR_EVENTS" >"$tmp/c$n-$r.col"
    say "$n collector(s), run $r: $(cat "$tmp/c$n-$r.eps") events/s, $stored rows = events sent;" \
        "stored by each: $share; CPU µs/event: collectors $(cat "$tmp/c$n-$r.col")," \
        "PostgreSQL $(cat "$tmp/c$n-$r.pg")"
    echo "collectors=$n run=$r eps=$(cat "$tmp/c$n-$r.eps") rows=$stored stored_by_each=$share" \
         "collector_cpu_us_per_event=$(cat "$tmp/c$n-$r.col") postgres_cpu_us_per_event=$(cat "$tmp/c$n-$r.pg")"
}

if want collectors; then
    for i in $(seq 1 "$PRODUCERS"); do
        $ADMIN --db "$DB" unit add "bench-$i" --name "Bench $i" --kind village >/dev/null &&
        $ADMIN --db "$DB" key issue "bench-$i" --out "$tmp/bench-$i.key" >/dev/null || die "unit bench-$i failed"
    done
    for n in 1 2 3; do
        : >"$tmp/c$n.runs"
        for r in $(seq 1 "$RUNS"); do
            run_collectors "$n" "$r"
            cat "$tmp/c$n-$r.eps" >>"$tmp/c$n.runs"
        done
        fig "collectors_${n}_runs_eps" "$(tr '\n' ' ' <"$tmp/c$n.runs" | sed 's/ $//')"
        fig "collectors_${n}_eps" "$(sort -n "$tmp/c$n.runs" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
    done
    # Disk per stored event (table, TOAST and its three indexes and key),
    # after the last run: for sizing, docs/scaling.md.
    psql "$DB" -X -q -c "VACUUM ANALYZE tongxin.events" >/dev/null
    fig events_bytes_per_row "$(psql "$DB" -X -A -t -c "
        SELECT round(sum(pg_total_relation_size(relid)) / (SELECT count(*) FROM tongxin.events))
          FROM pg_partition_tree('tongxin.events') WHERE isleaf")"
fi

if want producers && want collectors; then
    mkdir -p "$(dirname "$OUT")"
    {
        echo "# Tongxin scale-out measurements (bench/scaleout.sh)"
        echo "# date: $STARTED"
        echo "# machine: nproc=$(nproc) cpu=\"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)\" kernel=$(uname -r)"
        echo "# load average: $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
        echo "# producers: $SOCKETS sockets, idle $IDLE s, active $ACTIVE s, $EVENTS events every $EVERY_MS ms each"
        echo "# collectors: $PRODUCERS producers, $COLLECTOR_EVENTS events a run, median of $RUNS runs"
        echo "# commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
        cat "$tmp/figures"
    } >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
    say "results in $OUT"
fi
