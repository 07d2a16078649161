#!/bin/sh
# The rollups folded in bulk (schema/011_rollups_fold.sql, 013_rollups_live.sql):
# the views count every committed event before any fold; the fold equals a
# rebuild after mixed inserts, corrections and retractions written by two
# collectors and two more writers at once; a transaction that commits after
# a fold took its snapshot is not missed (the watermark trap); a correction
# folded before its event keeps it out; a rebuild and a fold never
# double-count; analytics.rollup_status shows the lag.
. tests/lib.sh
plan 28
ADMIN=$B/tongxin-admin
db=$(newdb fold)
$ADMIN --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
$ADMIN --db "$db" unit add d --name D --kind district >/dev/null
$ADMIN --db "$db" unit add t1 --name T1 --kind township --parent d >/dev/null
for u in 1 2 3 4; do
    $ADMIN --db "$db" unit add "v$u" --name "V$u" --kind village --parent t1 >/dev/null
done

# The rollups as one text, rows of zero events left out (a correction can
# bring a row to zero, which a rebuild does not make), numerics by value.
rollups() {
    for t in rollup_month rollup_total rollup_type rollup_month_group rollup_pair_day; do
        sql "$db" "SELECT '$t', r FROM analytics.$t r WHERE events <> 0 ORDER BY r::text"
    done | sed -E 's/([0-9])\.0+([,)])/\1\2/g; s/(\.[0-9]*[1-9])0+([,)])/\1\2/g'
}
# same_as_rebuild DESCRIPTION: the rollups now equal a rebuild's, row for row
same_as_rebuild() {
    rollups >"$T/folded"
    sql "$db" "SELECT analytics.rebuild_rollups()" >/dev/null
    rollups >"$T/rebuilt"
    cmp -s "$T/folded" "$T/rebuilt"
    ok $? "$1 ($(wc -l <"$T/rebuilt") rows)"
    diff "$T/folded" "$T/rebuilt" | head -n 6 | sed 's/^/# /'
}
# An event row; $1 unit, $2 n (its id), $3 type, $4 attrs, $5 supersedes n
ev() {
    printf "INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, partner_region, attrs, sender, supersedes) VALUES (%s, '%s', '%s', now() - interval '%s days', %s, '%s', 't', %s);\n" \
        "$(id "$2")" "$1" "$3" "$(( $2 % 90 ))" "$( [ "$3" = retraction ] && echo NULL || echo "'650000'")" \
        "$4" "$( [ -n "${5:-}" ] && id "$5" || echo NULL)"
}
id() { printf "(overlay(tongxin.uuid7_floor(date_trunc('month', now()))::text placing '%012d' from 25 for 12))::uuid" "$1"; }
Q="SET tongxin.rollups = 'queue';"
status() { sql "$db" "SELECT $1 FROM analytics.rollup_status"; }

# ---------------------------------------------------------------- the trap
# A writer opens its transaction and stores an event (its received_at and
# its id the earliest of all), another writer stores one and commits, a
# fold runs, and only then does the first commit: a watermark by time or by
# id would now be past its event for ever.
mkfifo "$T/late"
psql "$db" -X -q -v ON_ERROR_STOP=1 <"$T/late" >"$T/late.out" 2>&1 &
late=$!
exec 3>"$T/late"
echo "$Q BEGIN; $(ev v1 1 cloud_meeting '{"participants": 5}')" >&3
for i in $(seq 100); do
    [ "$(sql "$db" "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database()")" = 1 ] && break
    sleep 0.1
done
sql "$db" "$Q $(ev v2 2 cloud_meeting '{"participants": 7}')"
is "$(status "queued")" 1 "a committed event waits in the queue"
is "$(sql "$db" "SELECT analytics.fold_rollups()")" 1 "the fold claims the one committed event"
echo "COMMIT;" >&3
exec 3>&-
wait $late
sleep 1.1
is "$(status "queued || ':' || (lag_s >= 1)")" "1:true" "the late one waits for a fold; rollup_status shows its lag"
is "$(sql "$db" "SELECT events || ':' || participants FROM analytics.rollup_type WHERE unit_code = 'd' AND type = 'cloud_meeting'")" \
   "2:12" "the views count it before any fold"
is "$(sql "$db" "SELECT events FROM analytics.rollup_type_folded WHERE unit_code = 'd' AND type = 'cloud_meeting'")" \
   "1" "the folded table does not yet"
sql "$db" "SELECT analytics.fold_rollups()" >/dev/null
is "$(sql "$db" "SELECT events || ':' || participants FROM analytics.rollup_type WHERE unit_code = 'd' AND type = 'cloud_meeting'")" \
   "2:12" "the next fold counts it: nothing missed"
is "$(status "queued || ':' || lag_s || ':' || (folded_through > now() - interval '5 s')")" "0:0:true" \
   "nothing queued: no lag, folded_through recent"

# ---------------------------------------------------------------- corrections
# An event and its correction in one fold, a correction folded after its
# event, a correction folded before its event, a retraction, two
# corrections of one event.
sql "$db" "$Q $(ev v1 10 cloud_meeting '{"participants": 1}') $(ev v1 11 cloud_meeting '{"participants": 2}' 10)"
sql "$db" "$Q $(ev v2 12 cloud_meeting '{"participants": 3}')"
sql "$db" "SELECT analytics.fold_rollups()" >/dev/null
sql "$db" "$Q $(ev v2 13 cloud_meeting '{"participants": 4}' 12) $(ev v3 15 cloud_meeting '{"participants": 6}' 14)"
sql "$db" "SELECT analytics.fold_rollups()" >/dev/null
sql "$db" "$Q $(ev v3 14 cloud_meeting '{"participants": 5}') $(ev v2 16 retraction '{}' 13)"
sql "$db" "SELECT analytics.fold_rollups()" >/dev/null
sql "$db" "$Q $(ev v4 17 cloud_meeting '{"participants": 8}')"
sql "$db" "SELECT analytics.fold_rollups()" >/dev/null
sql "$db" "$Q $(ev v4 18 cloud_meeting '{"participants": 9}' 17) $(ev v4 19 cloud_meeting '{"participants": 10}' 17)"
sql "$db" "SELECT analytics.fold_rollups()" >/dev/null
is "$(sql "$db" "SELECT events || ':' || participants FROM analytics.rollup_type WHERE unit_code = 'd' AND type = 'cloud_meeting'")" \
   "$(sql "$db" "SELECT count(*) || ':' || sum(participants) FROM analytics.event_facts WHERE type = 'cloud_meeting'")" \
   "corrections and retractions subtract what they replace"
same_as_rebuild "folded corrections and retractions equal a rebuild"

# ---------------------------------------------------------------- rebuild and fold
# A fold holds its turn (uncommitted) while a rebuild asks for the tables:
# the rebuild waits, then counts everything once; a fold waiting behind a
# rebuild then finds an empty queue.
sql "$db" "$Q $(ev v1 20 cloud_meeting '{"participants": 11}')"
mkfifo "$T/f"
psql "$db" -X -q -A -t -v ON_ERROR_STOP=1 <"$T/f" >"$T/f.out" 2>&1 &
fp=$!
exec 4>"$T/f"
echo "BEGIN; SELECT analytics.fold_rollups();" >&4
idle_in_tx() {
    for i in $(seq 100); do
        [ "$(sql "$db" "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database()")" = 1 ] && return
        sleep 0.1
    done
}
idle_in_tx
sql "$db" "SELECT analytics.rebuild_rollups()" >"$T/rebuild.out" 2>&1 &
rp=$!
for i in $(seq 100); do
    [ "$(sql "$db" "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%rebuild_rollups%' AND datname = current_database()")" = 1 ] && break
    sleep 0.1
done
is "$(sql "$db" "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%rebuild_rollups%' AND datname = current_database()")" \
   1 "a rebuild waits for a fold in progress"
echo "COMMIT;" >&4
exec 4>&-
wait $fp; wait $rp
is "$(cat "$T/f.out")" 1 "the fold claimed its event"
is "$(sql "$db" "SELECT events FROM analytics.rollup_type WHERE unit_code = 'd' AND type = 'cloud_meeting'")" \
   "$(sql "$db" "SELECT count(*) FROM analytics.event_facts WHERE type = 'cloud_meeting'")" \
   "after both, each event counted once"
sql "$db" "$Q $(ev v1 21 cloud_meeting '{"participants": 12}')"
mkfifo "$T/r"
psql "$db" -X -q -A -t -v ON_ERROR_STOP=1 <"$T/r" >"$T/r.out" 2>&1 &
rp=$!
exec 5>"$T/r"
echo "BEGIN; SELECT analytics.rebuild_rollups();" >&5
idle_in_tx
sql "$db" "SELECT analytics.fold_rollups()" >"$T/fold2.out" 2>&1 &
fp=$!
sleep 0.5
echo "COMMIT;" >&5
exec 5>&-
wait $rp; wait $fp
is "$(cat "$T/fold2.out")" 0 "a fold waiting behind a rebuild finds nothing left to count"
same_as_rebuild "after a rebuild and a fold in either order: no event counted twice"

# ---------------------------------------------------------------- a correction before its event
# A correction folded while the event it corrects is not stored yet waits
# in analytics.supersessions_pending: the event, stored later, is counted
# neither by the views before the next fold nor by that fold.
v3() { sql "$db" "SELECT coalesce(sum(events), 0) || ':' || coalesce(sum(participants), 0) FROM analytics.rollup_type WHERE unit_code = 'v3' AND type = 'cloud_meeting'"; }
v3_facts() { sql "$db" "SELECT count(*) || ':' || coalesce(sum(participants), 0) FROM analytics.event_facts WHERE unit_code = 'v3' AND type = 'cloud_meeting'"; }
sql "$db" "$Q $(ev v3 41 cloud_meeting '{"participants": 21}' 40)"
is "$(sql "$db" "SELECT analytics.fold_rollups()")" 1 "a fold takes the correction of an event not stored yet"
is "$(sql "$db" "SELECT count(*) FROM analytics.supersessions_pending")" 1 "the correction is pending"
sql "$db" "$Q $(ev v3 40 cloud_meeting '{"participants": 20}')"
is "$(v3)" "$(v3_facts)" "the views do not count, unfolded, an event a folded correction replaced"
is "$(sql "$db" "SELECT analytics.fold_rollups()")" 1 "the next fold takes the event"
is "$(sql "$db" "SELECT count(*) FROM analytics.supersessions_pending")" 0 "the correction is pending no longer"
same_as_rebuild "a correction folded before the event it corrects"

# ---------------------------------------------------------------- another cluster
# A database restored from a dump into another cluster: its stored
# transaction ids and the fold's snapshot are not that cluster's.  The
# views refuse to guess, rollup_status says stale, a rebuild repairs it.
sql "$db" "UPDATE analytics.rollup_state SET sysid = 42" >/dev/null
like "$(sql "$db" "SELECT count(*) FROM analytics.rollup_type" 2>&1)" "folded in another PostgreSQL cluster" \
   "restored into another cluster: the views refuse to count"
is "$(status stale)" t "rollup_status says stale"
sql "$db" "SELECT analytics.rebuild_rollups()" >/dev/null
is "$(sql "$db" "SELECT count(stored_xid) || ':' || (SELECT stale FROM analytics.rollup_status) FROM tongxin.events")" \
   "0:false" "a rebuild makes every event folded in this cluster"
sql "$db" "$Q $(ev v4 60 cloud_meeting '{"participants": 30}')"
is "$(sql "$db" "SELECT events FROM analytics.rollup_type WHERE unit_code = 'd' AND type = 'cloud_meeting'")" \
   "$(sql "$db" "SELECT count(*) FROM analytics.event_facts WHERE type = 'cloud_meeting'")" \
   "and the views count the next event once"

# ---------------------------------------------------------------- two collectors
# Two collectors fold on their own (fold-ms 200) while producers send to
# both; meanwhile two more writers store corrections and retractions of
# earlier events the way a collector's transactions do (queue mode: the
# collectors' producers cannot send a correction).
$ADMIN key server --out "$T/server.key" >/dev/null
for u in 1 2 3 4; do $ADMIN --db "$db" key issue "v$u" --out "$T/v$u.key" >/dev/null; done
for c in 1 2; do
    "$B/tongxin-collectord" --db "$db" --key "$T/server.key" --bind "ipc://$T/c$c.sock" \
        --fold-ms 200 --log-level debug >"$T/c$c.log" 2>&1 &
    at_exit "kill $!"
done
for c in 1 2; do
    for i in $(seq 100); do grep -q 'msg="listening"' "$T/c$c.log" && break; sleep 0.1; done
done
pids=
for u in 1 2 3 4; do
    $B/tests/tools/tx-driver --endpoint "ipc://$T/c$(( (u % 2) + 1 )).sock" --unit "v$u" \
        --key "$T/v$u.key" --server-key "$T/server.key.pub" --spool "$T/spool$u" \
        --count 3000 --rate 3000 --batch 20 --wait 60 --out "$T/p$u.out" 2>"$T/p$u.err" &
    pids="$pids $!"
done
for w in 1 2; do
    (
        for k in $(seq 30); do
            n=$(( 1000 + w * 100 + k ))
            if [ $((k % 3)) = 0 ]; then
                sql "$db" "$Q $(ev "v$w" "$n" retraction '{}' "$(( 1000 + w * 100 + k - 1 ))")"
            else
                sql "$db" "$Q $(ev "v$w" "$n" cloud_meeting "{\"participants\": $k}") $(ev "v$w" "$((n + 50))" cloud_meeting "{\"participants\": $((k + 1))}" "$n")"
            fi
        done
    ) >/dev/null 2>&1 &
    pids="$pids $!"
done
rc=0; for p in $pids; do wait $p || rc=1; done
ok $rc "every producer and writer done"
for i in $(seq 100); do [ "$(status queued)" = 0 ] && break; sleep 0.1; done
is "$(status queued)" 0 "the collectors folded the queue on their own"
folded=$(grep -c 'msg="rollups folded"' "$T/c1.log" "$T/c2.log" | awk -F: '$2 > 0' | wc -l)
is "$folded" 2 "both collectors took turns folding"
same_as_rebuild "two collectors, two writers: the folded rollups equal a rebuild"
