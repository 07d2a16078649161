#!/bin/sh
# bench/views.sh: time every documented analytics view on a large database.
#
# Usage: bench/views.sh [CONNINFO]
#
# CONNINFO (or $TONGXIN_BENCH_PG) is a superuser connection to an existing
# database of a PostgreSQL 15 server (e.g. "host=/tmp/pg port=5432
# dbname=postgres"); without it a private server is started with scripts/pg
# and stopped at the end.  With TIME_ONLY=DBNAME the load is skipped and
# the views of that database (loaded before with KEEP=1) are timed again.  The script creates a scratch database, migrates it with
# $B/tongxin-admin, registers the synthetic district of bench/synthetic.sql,
# inserts $EVENTS events (default 10,000,000) with generate_series in
# statements of $CHUNK rows (default 500,000), then 1% corrections and 0.1%
# retractions of them, and times each view.  The database is dropped at the
# end unless KEEP=1.
#
#   LOAD=fold     (default) one analytics.fold_rollups() after the load,
#                 as a collector's folder would do (in steps)
#   LOAD=rebuild  the rollups are built once with analytics.rebuild_rollups()
#
# Output: key: value lines; one "view_<name>_ms: N" per view, the median of
# three runs of EXPLAIN ANALYZE SELECT * FROM analytics.<name> (planning +
# execution, no transfer to the client).  The row-level views
# (events_current, events_as_reported, event_facts) are timed with a
# filter on one unit and 31 days, as they are meant to be read.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
EVENTS=${EVENTS:-10000000}
CHUNK=${CHUNK:-500000}
LOAD=${LOAD:-fold}
KEEP=${KEEP:-0}

tmp=$(mktemp -d /tmp/tongxin-bench.XXXXXX)
chmod 755 "$tmp"
ci=${1:-${TONGXIN_BENCH_PG:-}}
TIME_ONLY=${TIME_ONLY:-}
started=0
db=""
cleanup() {
    if [ -n "$db" ] && [ "$KEEP" != 1 ]; then
        psql "$ci" -X -q -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    [ "$started" = 0 ] || scripts/pg stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ -z "$ci" ]; then
    ci=$(PG_OPTS="-c shared_buffers=1GB -c max_wal_size=8GB -c checkpoint_timeout=30min ${PG_OPTS:-}" \
         scripts/pg start "$tmp/pg")
    started=1
fi
if [ -n "$TIME_ONLY" ]; then
    dbname=$TIME_ONLY
    KEEP=1
else
    dbname=tongxin_bench_$$
    psql "$ci" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $dbname" >/dev/null
fi
db="$ci dbname=$dbname"

q() { psql "$db" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{ printf "%.1f", $1 - $2 }'; }

if [ -z "$TIME_ONLY" ]; then
    "$B/tongxin-admin" --db "$db" migrate >/dev/null
    q "SELECT tongxin.ensure_partitions(3, (now() - interval '37 months')::date)" >/dev/null
    psql "$db" -X -q -v ON_ERROR_STOP=1 -f bench/synthetic.sql >/dev/null

    echo "events: $EVENTS"
    echo "load: $LOAD"
    t0=$(now)
    lo=1
    while [ "$lo" -le "$EVENTS" ]; do
        hi=$((lo + CHUNK - 1))
        [ "$hi" -le "$EVENTS" ] || hi=$EVENTS
        q "INSERT INTO tongxin.events SELECT * FROM bench_events($lo, $hi)" >/dev/null
        lo=$((hi + 1))
    done
    load_s=$(since "$t0")
    echo "load_events_s: $load_s"
    echo "load_events_per_s: $(echo "$EVENTS $load_s" | awk '{ printf "%d", $1 / $2 }')"
    t0=$(now)
    q "INSERT INTO tongxin.events SELECT * FROM bench_corrections(1, $EVENTS)" >/dev/null
    echo "corrections: $(q "SELECT count(*) FROM tongxin.events WHERE supersedes IS NOT NULL")"
    echo "load_corrections_s: $(since "$t0")"
    t0=$(now)
    if [ "$LOAD" = fold ]; then
        q "SELECT analytics.fold_rollups()" >/dev/null
        echo "fold_rollups_s: $(since "$t0")"
    else
        q "SELECT analytics.rebuild_rollups()" >/dev/null
        echo "rebuild_rollups_s: $(since "$t0")"
    fi
    t0=$(now)
    q "VACUUM ANALYZE" >/dev/null
    echo "vacuum_analyze_s: $(since "$t0")"
fi
for r in rollup_month rollup_total rollup_type rollup_month_group rollup_pair_day; do
    echo "${r}_rows: $(q "SELECT count(*) FROM analytics.$r")"
done
echo "events_size: $(q "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'tongxin.events'::regclass")"
echo "rollups_size: $(q "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'analytics' AND c.relkind = 'r'")"

# time NAME QUERY: median of three EXPLAIN ANALYZE runs, planning + execution.
time_query() {
    for _r in 1 2 3; do
        psql "$db" -X -q -A -t -v ON_ERROR_STOP=1 -c "SET ROLE tongxin_analyst" \
             -c "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) $2" |
            awk '/Planning Time|Execution Time/ { s += $3 } END { printf "%.1f\n", s }'
    done | sort -n | sed -n 2p | sed "s/^/view_$1_ms: /"
}

unit_filter="WHERE unit_code = 'town01' AND occurred_at >= (SELECT anchor FROM public.bench_pick) - interval '31 days'"
q "GRANT SELECT ON bench_pick TO tongxin_analyst"
for v in events_current events_as_reported event_facts; do
    time_query "$v" "SELECT * FROM analytics.$v $unit_filter"
done
for v in regions units unit_tree rollup_status activity_monthly activity_by_month activity_by_type \
         activity_by_partner activity_by_unit unit_events target_progress pairings pairing_activity \
         pairing_coverage coverage_by_kind province_coverage economic_outcomes donations_aid \
         type_totals gig_services governance summary; do
    time_query "$v" "SELECT * FROM analytics.$v"
done
# What an analyst types: one subtree.
time_query activity_monthly_one_unit "SELECT * FROM analytics.activity_monthly WHERE unit_code = 'sq'"
time_query summary_one_unit "SELECT * FROM analytics.summary WHERE unit_code = 'sq'"

t0=$(now)
same=$(q "SELECT count(DISTINCT n) = 1 FROM (VALUES
    ((SELECT count(*) FROM analytics.events_current)),
    ((SELECT sum(events) FROM analytics.rollup_month WHERE unit_code = 'sq')),
    ((SELECT sum(events) FROM analytics.rollup_total WHERE unit_code = 'sq')),
    ((SELECT sum(events) FROM analytics.rollup_month_group WHERE unit_code = 'sq')),
    ((SELECT sum(events) FROM analytics.rollup_pair_day))) v (n)")
echo "check_rollups_equal_events_current: $same ($(since "$t0") s)"
