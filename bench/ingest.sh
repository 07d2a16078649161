#!/bin/sh
# bench/ingest.sh: what the analytics rollup trigger costs the collector.
#
# Usage: bench/ingest.sh [CONNINFO]
#
# Like bench/views.sh (a superuser CONNINFO, or a private server started
# with scripts/pg).  For each batch size in $BATCHES (default "100 1000")
# and each number of concurrent clients in $CLIENTS (default "1 2"), a fresh
# scratch database gets $EVENTS (default 200,000) synthetic events
# (bench/synthetic.sql), one INSERT ... SELECT and one commit per batch, the
# way the collector writes, from pgbench; once with the trigger enabled and
# once with it disabled.
#
# SPREAD_DAYS (default 1096) spreads the events' times over that many days:
# 1096 (three years) is the worst case for the rollups (every event its own
# month row); 1 is what a collector sees, reports of the last day.
#
# Output: "ingest_b<batch>_c<clients>_{trigger,notrigger}_eps: N" events per
# second and "ingest_b<batch>_c<clients>_cost_pct: N" (time added by the
# trigger, in per cent of the time without it).
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
EVENTS=${EVENTS:-200000}
BATCHES=${BATCHES:-100 1000}
CLIENTS=${CLIENTS:-1 2}
SPREAD_DAYS=${SPREAD_DAYS:-1096}
PGBENCH=${PGBENCH:-$(ls /usr/lib/postgresql/15/bin/pgbench 2>/dev/null || command -v pgbench)}

tmp=$(mktemp -d /tmp/tongxin-ingest.XXXXXX)
chmod 755 "$tmp"
ci=${1:-}
started=0
dbname=""
cleanup() {
    [ -z "$dbname" ] || psql "$ci" -X -q -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null 2>&1 || true
    [ "$started" = 0 ] || scripts/pg stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
if [ -z "$ci" ]; then
    ci=$(scripts/pg start "$tmp/pg")
    started=1
fi

cat > "$tmp/batch.sql" <<'EOF'
SELECT nextval('public.bench_batch') AS b \gset
INSERT INTO tongxin.events SELECT * FROM public.bench_events((:b - 1) * :n + 1, :b * :n);
EOF

# run BATCH CLIENTS on|off: prints the events per second.
run() {
    dbname=tongxin_ingest_$$
    psql "$ci" -X -q -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname" >/dev/null 2>&1
    db="$ci dbname=$dbname"
    "$B/tongxin-admin" --db "$db" migrate >/dev/null
    psql "$db" -X -q -v ON_ERROR_STOP=1 \
         -c "SELECT tongxin.ensure_partitions(3, (now() - interval '37 months')::date)" \
         -f bench/synthetic.sql -c "CREATE SEQUENCE public.bench_batch" \
         -c "UPDATE public.bench_pick SET spread_days = $SPREAD_DAYS" >/dev/null
    [ "$3" = on ] || psql "$db" -X -q -c "ALTER TABLE tongxin.events DISABLE TRIGGER events_rollup"
    tx=$((EVENTS / $1 / $2))
    t0=$(date +%s.%N)
    "$PGBENCH" -n -f "$tmp/batch.sql" -D n="$1" -c "$2" -j "$2" -t "$tx" "$db" >"$tmp/pgbench.out" 2>&1 ||
        { cat "$tmp/pgbench.out" >&2; exit 1; }
    t1=$(date +%s.%N)
    n=$(psql "$db" -X -A -t -c "SELECT count(*) FROM tongxin.events")
    psql "$ci" -X -q -c "DROP DATABASE $dbname WITH (FORCE)" >/dev/null
    dbname=""
    echo "$n $t0 $t1" | awk '{ printf "%d\n", $1 / ($3 - $2) }'
}

echo "events: $EVENTS"
echo "spread_days: $SPREAD_DAYS"
for b in $BATCHES; do
    for c in $CLIENTS; do
        on=$(run "$b" "$c" on)
        off=$(run "$b" "$c" off)
        echo "ingest_b${b}_c${c}_trigger_eps: $on"
        echo "ingest_b${b}_c${c}_notrigger_eps: $off"
        echo "ingest_b${b}_c${c}_cost_pct: $(echo "$on $off" | awk '{ printf "%d", 100 * ($2 / $1 - 1) }')"
    done
done
