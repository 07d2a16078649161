#!/bin/sh
# Roles: the collector inserts and reads the registry only; the analyst
# reads only.
. tests/lib.sh
plan 17
db=$(newdb roles)
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
sql "$db" "INSERT INTO tongxin.units (code, name, kind) VALUES ('u1', 'Unit 1', 'department')"
id=$(sql "$db" "SELECT overlay(tongxin.uuid7_floor(now())::text placing '7000-8000-000000000001' from 15 for 22)")
ev="INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, sender) VALUES ('$id', 'u1', 'visit', now(), 't')"

C=tongxin_collector
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

A=tongxin_analyst
is "$(sql_as $A "$db" "SELECT count(*) FROM tongxin.events")" ok "analyst: reads events"
like "$(sql_as $A "$db" "$ev")" "permission denied" "analyst: no INSERT into events"
like "$(sql_as $A "$db" "UPDATE tongxin.units SET name = 'x'")" "permission denied" "analyst: no UPDATE of units"
like "$(sql_as $A "$db" "DELETE FROM tongxin.pairings")" "permission denied" "analyst: no DELETE"
like "$(sql_as $A "$db" "CREATE TABLE analytics.x (i int)")" "permission denied" "analyst: cannot create tables"
like "$(sql_as $A "$db" "SELECT tongxin.ensure_partitions()")" "permission denied" "analyst: cannot create partitions"
