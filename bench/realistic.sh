#!/bin/sh
# realistic.sh: the benchmark that does not flatter (issue 18), run by
# scripts/bench first; alone: bench/realistic.sh CONNINFO (a database in
# which it may create the database "realistic").
#
# The mix: a three-level tree (district rd > 10 townships rt1..rt10 > 30
# villages rv1..rv30, three a township), and its 40 units below the
# district each with its own CURVE key and its own tongxin-send; every seeded event type but retraction in
# turn, each with every attribute of the registry at a valid value (enum
# values in turn), occurred_at spread over the last 36 months, partners
# cycling through every region of tongxin.regions.  REALISTIC_EVENTS
# (200,000) events in all, one JSON-lines file a unit.
#
# Figures (stdout, "name: value"):
#   realistic_eps             events / seconds from launching the 40
#                             tongxin-send until every one has exited (every
#                             event acknowledged) and the views count all of
#                             them (analytics.rollup_type of the district,
#                             which adds the events not folded yet: 013)
#   realistic_2c_eps          the same with two collectors (producers split
#                             between them; both fold, one at a time)
#   realistic_copy_eps        the very same rows (exported from the run)
#                             by COPY into an empty tongxin.events, 1,000 a
#                             committed transaction, one connection, same key
#                             and indexes (there is no rollup trigger)
#   realistic_ratio_vs_copy   realistic_eps / realistic_copy_eps, both the
#                             median of three runs (a run of the mix, then
#                             COPY, three times: this machine's disk moves
#                             one run by a third either way)
#   realistic_ratio_runs      each run of the mix against the COPY after it
#   realistic_folded_eps      events / seconds from launch until the
#                             collector's folds have moved every event into
#                             the folded tables (the whole work, fold included)
#   realistic_cpu_us_per_event_postgres   PostgreSQL's CPU time (every
#                             backend, the folds included) per event, from
#                             launch until everything is folded
#   realistic_fold_events_max the largest fold of the run (events)
#   realistic_folds_yielded   folds the collector put off while its writers
#                             were busy
#   views_lag_p50_s, views_lag_p99_s   sampled every 100 ms while the 40
#                             producers send at 20 % of realistic_eps for
#                             REALISTIC_LAG_SECONDS (20): the age of the oldest
#                             stored event the views do not count (0 when
#                             they count every one: events minus the
#                             district's rollup_type, in one statement)
#   fold_lag_p50_s, fold_lag_p99_s   the same samples of
#                             analytics.rollup_status.lag_s: how long the
#                             oldest event not folded yet has waited
#   realistic_rollups_equal_rebuild    1 when, after each run and a fold to
#                             empty, every rollup row equals rebuild_rollups()'s
# Progress on stderr.  Environment: B, REALISTIC_EVENTS, REALISTIC_LAG_SECONDS.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
PG=$1
N=${REALISTIC_EVENTS:-200000}
LAG_SECONDS=${REALISTIC_LAG_SECONDS:-20}
NP=40
ADMIN=$B/tongxin-admin
SEND=$B/tongxin-send
HZ=$(getconf CLK_TCK)
export PGTZ=UTC

rtmp=$(mktemp -d /tmp/tongxin-realistic.XXXXXX) || exit 1
[ -z "${REALISTIC_KEEP:-}" ] || echo "realistic: files in $rtmp" >&2
cpids=
cleanup() {
    for p in $cpids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "${REALISTIC_KEEP:-}" ] || rm -rf "$rtmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
say() { echo "realistic: $(date +%H:%M:%S) $*" >&2; }
die() { echo "realistic: $*" >&2; exit 1; }
ms() { date +%s%3N; }

psql "$PG" -X -q -c "DROP DATABASE IF EXISTS realistic" -c "CREATE DATABASE realistic" >/dev/null ||
    die "cannot create the database"
DB=$(printf '%s' "$PG" | sed 's/dbname=[^ ]*/dbname=realistic/')
q() { psql "$DB" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
$ADMIN --db "$DB" migrate >/dev/null || die "migrate failed"
PM_PID=$(head -n 1 "$(q "SHOW data_directory")/postmaster.pid")
pg_ticks() {
    { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' /proc/$PM_PID/stat
      for c in $(ps -o pid= --ppid "$PM_PID"); do
          awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/$c/stat 2>/dev/null
      done; } | awk '{ s += $1 } END { print s + 0 }'
}

# ------------------------------------------------------------------ units, keys, files

say "40 units, keys, $N events"
$ADMIN key server --out "$rtmp/server.key" >/dev/null || die "key server failed"
units=
$ADMIN --db "$DB" unit add rd --name "District" --kind district >/dev/null || die "unit rd"
for t in $(seq 1 10); do
    $ADMIN --db "$DB" unit add "rt$t" --name "Township $t" --kind township --parent rd >/dev/null || die "unit rt$t"
    units="$units rt$t"
    for v in 1 2 3; do
        n=$(( (t - 1) * 3 + v ))
        $ADMIN --db "$DB" unit add "rv$n" --name "Village $n" --kind village --parent "rt$t" >/dev/null ||
            die "unit rv$n"
        units="$units rv$n"
    done
done
k=0
for u in $units; do
    $ADMIN --db "$DB" key issue "$u" --out "$rtmp/$u.key" >/dev/null || die "key $u"
    # Unit k's share: events k, k+40, ... of the mix, so that every unit
    # sends every type, month and partner.
    k=$((k + 1))
    q "COPY (
        WITH t AS (SELECT row_number() OVER (ORDER BY code) - 1 AS k, code, partner_required
                     FROM tongxin.event_types WHERE code <> 'retraction'),
             r AS (SELECT row_number() OVER (ORDER BY code) - 1 AS k, code FROM tongxin.regions),
             c AS (SELECT (SELECT count(*) FROM t) AS nt, (SELECT count(*) FROM r) AS nr)
        SELECT jsonb_strip_nulls(jsonb_build_object(
                 'type', t.code,
                 'occurred_at', to_char(now() - interval '36 months' * ((g.i + 0.5) / $N),
                                        'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                 'partner', CASE WHEN t.partner_required OR g.i % 3 <> 0 THEN r.code END,
                 'attrs', coalesce((
                     SELECT jsonb_object_agg(a.name, CASE a.kind
                         WHEN 'int' THEN to_jsonb(least(a.max_value, greatest(a.min_value + a.min_exclusive::int, 1 + g.i % 50)))
                         WHEN 'numeric' THEN to_jsonb(least(a.max_value, greatest(a.min_value + a.min_exclusive::int, 1000 + (g.i % 97) * 10.5)))
                         WHEN 'text' THEN to_jsonb(left('bench ' || g.i, coalesce(a.max_len, 64)))
                         WHEN 'bool' THEN to_jsonb(g.i % 2 = 0)
                         WHEN 'date' THEN to_jsonb(to_char(now() - interval '1 day' * (g.i % 900), 'YYYY-MM-DD'))
                         ELSE to_jsonb(a.enum_values [1 + (g.i / $NP / c.nt) % cardinality(a.enum_values)]) END)
                       FROM tongxin.event_type_attrs a WHERE a.type_code = t.code), '{}')))
          FROM generate_series($k - 1, $N - 1, $NP) g (i)
         CROSS JOIN c
          JOIN t ON t.k = (g.i / $NP + $k) % c.nt
          JOIN r ON r.k = ((g.i / $NP) * 7 + $k) % c.nr
      ) TO STDOUT" >"$rtmp/$u.jsonl" || die "generating $u's events failed"
done
[ "$(cat "$rtmp"/*.jsonl | wc -l)" = "$N" ] || die "generated $(cat "$rtmp"/*.jsonl | wc -l) events, not $N"
TYPES=$(q "SELECT count(*) FROM tongxin.event_types WHERE code <> 'retraction'")
REGIONS=$(q "SELECT count(*) FROM tongxin.regions")

# ------------------------------------------------------------------ helpers

empty() {
    psql "$DB" -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || die "emptying failed"
TRUNCATE tongxin.events, tongxin.event_contents, tongxin.rejected_events;
SELECT analytics.rebuild_rollups();
CHECKPOINT;
SQL
}

# collectors N: N fresh collectors (sets EPS, the endpoints, and cpids)
collectors() {
    EPS=
    for c in $(seq 1 "$1"); do
        port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
        : >"$rtmp/c$c.log"
        ( ulimit -n 8192; exec "$B/tongxin-collectord" --db "$DB" --key "$rtmp/server.key" \
              --bind "tcp://127.0.0.1:$port" --log-level debug ) >>"$rtmp/c$c.log" 2>&1 &
        cpids="$cpids $!"
        for _i in $(seq 100); do grep -q 'msg="listening"' "$rtmp/c$c.log" && break; sleep 0.1; done
        grep -q 'msg="listening"' "$rtmp/c$c.log" || { cat "$rtmp/c$c.log" >&2; die "a collector did not start"; }
        EPS="$EPS tcp://127.0.0.1:$port"
    done
}
stop_collectors() {
    for p in $cpids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    cpids=
}
# send_all FEED: the 40 tongxin-send at once, unit i to collector i mod #EPS;
# FEED is a command that writes a unit's file ($1) to stdout.
send_all() {
    feed=$1
    set -- $EPS
    ne=$#
    pids=
    i=0
    for u in $units; do
        i=$((i + 1))
        eval "ep=\${$(( (i % ne) + 1 ))}"
        rm -rf "$rtmp/spool-$u"
        $feed "$rtmp/$u.jsonl" | $SEND --unit "$u" --key "$rtmp/$u.key" --server-key "$rtmp/server.key.pub" \
            --endpoint "$ep" --spool "$rtmp/spool-$u" --wait 600 - >"$rtmp/$u.out" 2>&1 &
        pids="$pids $!"
    done
    failed=0
    for p in $pids; do wait "$p" || failed=1; done
    [ $failed = 0 ] || { tail -n 3 "$rtmp"/*.out >&2; die "a tongxin-send failed"; }
}
counted() { q "SELECT coalesce(sum(events), 0) FROM analytics.rollup_type WHERE unit_code = 'rd'"; }
# check: fold to empty, then the rollups against a rebuild, row for row
EQUAL=1
check() {
    q "SELECT analytics.fold_rollups()" >/dev/null
    d=$(psql "$DB" -X -q -A -t -v ON_ERROR_STOP=1 <<'SQL' | tail -n 1
CREATE TEMP TABLE b1 AS SELECT * FROM analytics.rollup_month WHERE events <> 0;
CREATE TEMP TABLE b2 AS SELECT * FROM analytics.rollup_total WHERE events <> 0;
CREATE TEMP TABLE b3 AS SELECT * FROM analytics.rollup_type WHERE events <> 0;
CREATE TEMP TABLE b4 AS SELECT * FROM analytics.rollup_month_group WHERE events <> 0;
CREATE TEMP TABLE b5 AS SELECT * FROM analytics.rollup_pair_day WHERE events <> 0;
SELECT analytics.rebuild_rollups();
SELECT (SELECT count(*) FROM ((TABLE b1 EXCEPT TABLE analytics.rollup_month) UNION ALL (TABLE analytics.rollup_month EXCEPT TABLE b1)) x)
     + (SELECT count(*) FROM ((TABLE b2 EXCEPT TABLE analytics.rollup_total) UNION ALL (TABLE analytics.rollup_total EXCEPT TABLE b2)) x)
     + (SELECT count(*) FROM ((TABLE b3 EXCEPT TABLE analytics.rollup_type) UNION ALL (TABLE analytics.rollup_type EXCEPT TABLE b3)) x)
     + (SELECT count(*) FROM ((TABLE b4 EXCEPT TABLE analytics.rollup_month_group) UNION ALL (TABLE analytics.rollup_month_group EXCEPT TABLE b4)) x)
     + (SELECT count(*) FROM ((TABLE b5 EXCEPT TABLE analytics.rollup_pair_day) UNION ALL (TABLE analytics.rollup_pair_day EXCEPT TABLE b5)) x);
SQL
)
    [ "$d" = 0 ] || { EQUAL=0; say "$1: $d rollup rows differ from a rebuild"; }
}

# run NAME COLLECTORS: one timed run; leaves $rtmp/NAME.eps, NAME.cpu
run() {
    empty
    collectors "$2"
    f0=$(q "SELECT folded_events FROM analytics.rollup_state")
    pg0=$(pg_ticks)
    t0=$(ms)
    send_all cat
    t_ack=$(ms)
    while [ "$(counted)" -lt "$N" ]; do sleep 0.05; done
    t1=$(ms)
    # (rollup_state.folded_events, one row: rollup_status would count the
    # events not folded yet, a scan that would slow the fold it waits for)
    while [ "$(q "SELECT folded_events - $f0 >= $N FROM analytics.rollup_state")" != t ]; do sleep 0.05; done
    t_folded=$(ms)
    pg1=$(pg_ticks)
    stored=$(q "SELECT count(*) FROM tongxin.events")
    [ "$stored" = "$N" ] || die "$1: $stored events stored, $N expected"
    grep -ho 'msg="rollups folded" events=[0-9]*' "$rtmp"/c*.log | sed 's/.*=//' | sort -n | tail -n 1 >"$rtmp/$1.foldmax"
    cat "$rtmp"/c*.log | grep -c 'msg="rollup fold put off' >"$rtmp/$1.yielded"
    stop_collectors
    awk -v n="$N" -v t="$((t1 - t0))" 'BEGIN { printf "%.0f\n", n / (t / 1000) }' >"$rtmp/$1.eps"
    awk -v n="$N" -v t="$((t_folded - t0))" 'BEGIN { printf "%.0f\n", n / (t / 1000) }' >"$rtmp/$1.folded"
    awk -v n="$N" -v p="$((pg1 - pg0))" -v hz="$HZ" 'BEGIN { printf "%.1f\n", p * 1e6 / hz / n }' >"$rtmp/$1.cpu"
    say "$1: $(cat "$rtmp/$1.eps") events/s with $2 collector(s): acked after $((t_ack - t0)) ms, counted after $((t1 - t0)) ms, folded after $((t_folded - t0)) ms; PostgreSQL $(cat "$rtmp/$1.cpu") us CPU an event"
    check "$1"
}

# ------------------------------------------------------------------ runs

# copy_run NAME: the rows of the first run by COPY; leaves $rtmp/NAME.eps
copy_run() {
    empty
    t0=$(ms)
    psql "$DB" -X -q -v ON_ERROR_STOP=1 -f "$rtmp/copy.sql" >/dev/null || die "COPY failed"
    t1=$(ms)
    [ "$(q "SELECT count(*) FROM tongxin.events")" = "$N" ] || die "COPY stored the wrong count"
    awk -v n="$N" -v t="$((t1 - t0))" 'BEGIN { printf "%.0f\n", n / (t / 1000) }' >"$rtmp/$1.eps"
    say "$1: raw COPY $(cat "$rtmp/$1.eps") rows/s"
}
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

# This machine's disk and neighbours move one run by a third either way:
# three runs of the mix, each followed by COPY of the same rows, and the
# medians of each.
say "realistic mix: $NP producers, $TYPES types, $REGIONS regions, 36 months, one collector;" \
    "three runs, each followed by raw COPY of the same rows (1,000 a transaction, one connection)"
for k in 1 2 3; do
    run "r1_$k" 1
    if [ "$k" = 1 ]; then
        # The very same rows, for COPY (the run's ids and receive times).
        q "COPY (SELECT * FROM tongxin.events) TO STDOUT" | split -l 1000 -a 4 - "$rtmp/rows."
        for f in "$rtmp"/rows.*; do printf '\\copy tongxin.events FROM %s\n' "'$f'"; done >"$rtmp/copy.sql"
    fi
    copy_run "c_$k"
done
r1=$(median3 "$(cat "$rtmp/r1_1.eps")" "$(cat "$rtmp/r1_2.eps")" "$(cat "$rtmp/r1_3.eps")")
copy_eps=$(median3 "$(cat "$rtmp/c_1.eps")" "$(cat "$rtmp/c_2.eps")" "$(cat "$rtmp/c_3.eps")")
# The median run's other figures.
for k in 1 2 3; do [ "$(cat "$rtmp/r1_$k.eps")" = "$r1" ] && { for x in eps folded cpu foldmax yielded; do cp "$rtmp/r1_$k.$x" "$rtmp/r1.$x"; done; break; }; done
ratios=$(for k in 1 2 3; do awk -v a="$(cat "$rtmp/r1_$k.eps")" -v b="$(cat "$rtmp/c_$k.eps")" 'BEGIN { printf "%.2f ", a / b }'; done)
say "realistic: medians $r1 events/s and $copy_eps rows/s (each run against its COPY: $ratios)"
say "realistic mix: two collectors"
run r2 2

rate=$(( $(cat "$rtmp/r1.eps") / 5 ))
say "views lag: 40 producers at $rate events/s (20 %) for $LAG_SECONDS s"
empty
collectors 1
per=$(( rate / NP / 10 )); [ "$per" -ge 1 ] || per=1
lines=$(( rate * LAG_SECONDS / NP ))
# shellcheck disable=SC2317
paced() { head -n "$lines" "$1" | awk -v per="$per" '{ print; if (NR % per == 0) { fflush(); system("sleep 0.1") } }'; }
# views lag: the age of the oldest stored event the views do not count
# (0 when they count all); fold lag: rollup_status.lag_s.
( while :; do
      q "SELECT CASE WHEN (SELECT count(*) FROM tongxin.events)
                          = (SELECT coalesce(sum(events), 0) FROM analytics.rollup_type WHERE unit_code = 'rd')
                     THEN 0 ELSE round(extract(epoch FROM now() - (SELECT min(received_at) FROM tongxin.events)), 3) END
                || ' ' || lag_s FROM analytics.rollup_status"
      sleep 0.1
  done ) >"$rtmp/lag" 2>/dev/null &
sampler=$!
send_all paced
kill $sampler 2>/dev/null; wait $sampler 2>/dev/null
stop_collectors
check lag
pctl() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f %.2f %d\n", v[int(NR * 0.50 + 0.999999)], v[int(NR * 0.99 + 0.999999)], NR }'; }
awk '{ print $1 }' "$rtmp/lag" | pctl >"$rtmp/lagq"
awk '{ print $2 }' "$rtmp/lag" | pctl >"$rtmp/foldq"
read -r lag50 lag99 nlag <"$rtmp/lagq"
read -r fold50 fold99 _n <"$rtmp/foldq"
say "views lag over $nlag samples: p50 $lag50 s, p99 $lag99 s; fold lag p50 $fold50 s, p99 $fold99 s"

echo "realistic_events: $N"
echo "realistic_eps: $(cat "$rtmp/r1.eps")"
echo "realistic_2c_eps: $(cat "$rtmp/r2.eps")"
echo "realistic_copy_eps: $copy_eps"
echo "realistic_ratio_vs_copy: $(awk -v a="$(cat "$rtmp/r1.eps")" -v b="$copy_eps" 'BEGIN { printf "%.2f", a / b }')"
echo "realistic_ratio_runs: $ratios"
echo "realistic_2c_ratio_vs_copy: $(awk -v a="$(cat "$rtmp/r2.eps")" -v b="$copy_eps" 'BEGIN { printf "%.2f", a / b }')"
echo "realistic_folded_eps: $(cat "$rtmp/r1.folded")"
echo "realistic_cpu_us_per_event_postgres: $(cat "$rtmp/r1.cpu")"
echo "realistic_fold_events_max: $(cat "$rtmp/r1.foldmax")"
echo "realistic_folds_yielded: $(cat "$rtmp/r1.yielded")"
echo "views_lag_rate_eps: $rate"
echo "views_lag_p50_s: $lag50"
echo "views_lag_p99_s: $lag99"
echo "fold_lag_p50_s: $fold50"
echo "fold_lag_p99_s: $fold99"
echo "realistic_rollups_equal_rebuild: $EQUAL"
