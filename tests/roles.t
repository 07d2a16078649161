#!/bin/sh
# Roles: the collector inserts and reads the registry only; the analyst
# reads only.
. tests/lib.sh
plan 33
db=$(newdb roles)
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
sql "$db" "INSERT INTO tongxin.units (code, name, kind) VALUES ('u1', 'Unit 1', 'department')"
id=$(sql "$db" "SELECT overlay(tongxin.uuid7_floor(now())::text placing '7000-8000-000000000001' from 15 for 22)")
ev="INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, sender) VALUES ('$id', 'u1', 'visit', now(), 't')"

C=tongxin_collector A=tongxin_analyst
is "$(sql_as $C "$db" "$ev RETURNING event_id, unit_code" | tail -n 1)" ok "collector: INSERT events with RETURNING the key"
is "$(sql_as $C "$db" "INSERT INTO tongxin.rejected_events (sender, reason, message, raw) VALUES ('t', 'bad_utf8', 'm', '\\x00')")" ok "collector: INSERT rejected_events"
is "$(sql_as $C "$db" "SELECT count(*) FROM tongxin.units, tongxin.event_types, tongxin.event_type_attrs, tongxin.regions")" ok "collector: reads the registry"
like "$(sql_as $C "$db" "UPDATE tongxin.events SET sender = 'x'")" "permission denied" "collector: no UPDATE on events"
like "$(sql_as $C "$db" "DELETE FROM tongxin.events")" "permission denied" "collector: no DELETE on events"
like "$(sql_as $C "$db" "TRUNCATE tongxin.events")" "permission denied" "collector: no TRUNCATE on events"
like "$(sql_as $C "$db" "SELECT attrs FROM tongxin.events")" "permission denied" "collector: cannot read event contents"
like "$(sql_as $C "$db" "SELECT * FROM tongxin.rejected_events")" "permission denied" "collector: cannot read rejected events"
like "$(sql_as $C "$db" "INSERT INTO tongxin.units (code, name, kind) VALUES ('x', 'x', 'village')")" "permission denied" "collector: cannot change the registry"
like "$(sql_as $C "$db" "INSERT INTO tongxin.events_$(date -u +%Y%m) (event_id, unit_code, type, occurred_at, sender) VALUES ('$id', 'u9', 'visit', now(), 't')")" "permission denied" "collector: no direct partition access"
is "$(sql_as $C "$db" "SELECT tongxin.ensure_partitions()" | tail -n 1)" ok "collector: may create partitions ahead"

# Partitions: only forward, within a bound.  The general function (any month
# back to 1970, up to 120 ahead) is the administrator's.
parts() { sql "$db" "SELECT count(*) FROM pg_inherits WHERE inhparent IN ('tongxin.events'::regclass, 'tongxin.rejected_events'::regclass)"; }
n0=$(parts)
like "$(sql_as $C "$db" "SELECT tongxin.ensure_partitions(120, '1970-01-01')")" "permission denied for function ensure_partitions" \
     "collector: ensure_partitions(120, '1970-01-01') is refused"
like "$(sql_as $C "$db" "SELECT tongxin.ensure_partitions(3)")" "permission denied" "collector: so is ensure_partitions(3)"
is "$(parts)" "$n0" "and made no partition"
like "$(sql "$db" "UPDATE tongxin.settings SET value = '120' WHERE key = 'partition_months_ahead'" 2>&1)" "violates check constraint" \
     "the collector's months ahead are at most 12 (settings)"
sql "$db" "UPDATE tongxin.settings SET value = '12' WHERE key = 'partition_months_ahead'"
lo0=$(sql "$db" "SELECT lo FROM tongxin.event_id_window")
is "$(sql_as $C "$db" "SELECT tongxin.ensure_partitions()" | tail -n 1)" ok "collector: ensure_partitions() with 12 months ahead"
is "$(sql "$db" "SELECT hi = date_trunc('month', now() AT TIME ZONE 'UTC') + interval '13 months' FROM tongxin.event_id_window")" t \
     "the id window ends 12 months after the current one"
is "$(sql "$db" "SELECT lo FROM tongxin.event_id_window")" "$lo0" "and starts where it did (nothing made backwards)"
is "$(sql_as $A "$db" "SELECT tongxin.ensure_partitions(1)")" "permission denied for function ensure_partitions" \
   "analyst: nor the general one"

# received_at is the database's: the collector cannot set it, by INSERT,
# INSERT ... SELECT (the staging path) or COPY; without it, it is now().
ev2=$(echo "$ev" | sed "s/-000000000001'/-000000000002'/; s/sender)/sender, received_at)/; s/'t')$/'t', '2001-01-01')/")
like "$(sql_as $C "$db" "$ev2")" "permission denied for table events" "collector: cannot INSERT an event with its received_at"
like "$(sql_as $C "$db" "CREATE TEMP TABLE s AS SELECT now() AS r; INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, sender, received_at) SELECT '$id', 'u1', 'visit', now(), 't', r FROM s ON CONFLICT DO NOTHING")" \
     "permission denied for table events" "nor through INSERT ... SELECT ... ON CONFLICT"
out=$(printf '%s\tu1\tvisit\t2025-01-01\tt\t2001-01-01\n\\.\n' "$id" | psql "$db" -X -q -v ON_ERROR_STOP=1 -c "SET ROLE $C" \
      -c "COPY tongxin.events (event_id, unit_code, type, occurred_at, sender, received_at) FROM STDIN" 2>&1)
like "$out" "permission denied for table events" "nor COPY events with received_at"
like "$(sql_as $C "$db" "INSERT INTO tongxin.rejected_events (sender, reason, message, raw, received_at) VALUES ('t', 'bad_utf8', 'm', '\\x00', '2037-01-01')")" \
     "permission denied for table rejected_events" "nor a rejection with its received_at"
like "$(sql_as $C "$db" "INSERT INTO tongxin.rejected_events (sender, reason, message, raw, replayed_at) VALUES ('t', 'db_refused', 'm', '\\x00', now())")" \
     "permission denied for table rejected_events" "nor mark a rejection replayed (the administrator's)"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE received_at < now() - interval '1 minute'")/$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events WHERE received_at < now() - interval '1 minute' OR received_at > now()")" \
   "0/0" "every row the collector stored has the database's received_at"

# A reader's open transaction must not stall the collector behind the lock
# a new partition takes: the collector's call gives up after 2 s.
sql "$db" "DROP TABLE tongxin.events_$(date -u -d "$(date -u +%Y-%m-15) + 1 month" +%Y%m)"
psql "$db" -X -q -c "SET ROLE $A" -c "BEGIN" -c "SELECT count(*) FROM tongxin.events" -c "SELECT pg_sleep(12)" >/dev/null 2>&1 &
holder=$!
at_exit "kill $holder"
sleep 1
t0=$(date +%s)
out=$(timeout 8 psql "$db" -X -q -A -t -c "SET ROLE $C" -c "SELECT tongxin.ensure_partitions()" 2>&1)
like "$out" "lock timeout" "collector: ensure_partitions() gives up while a reader holds events"
ok $(( $(date +%s) - t0 < 6 ? 0 : 1 )) "within seconds"


is "$(sql_as $A "$db" "SELECT count(*) FROM tongxin.events")" ok "analyst: reads events"
like "$(sql_as $A "$db" "$ev")" "permission denied" "analyst: no INSERT into events"
like "$(sql_as $A "$db" "UPDATE tongxin.units SET name = 'x'")" "permission denied" "analyst: no UPDATE of units"
like "$(sql_as $A "$db" "DELETE FROM tongxin.pairings")" "permission denied" "analyst: no DELETE"
like "$(sql_as $A "$db" "CREATE TABLE analytics.x (i int)")" "permission denied" "analyst: cannot create tables"
like "$(sql_as $A "$db" "SELECT tongxin.ensure_partitions()")" "permission denied" "analyst: cannot create partitions"
