#!/bin/sh
# The schema: one event can not be stored twice, regions and the registry
# are seeded, partitions exist ahead of time.
. tests/lib.sh
plan 14
db=$(newdb schema)
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
sql "$db" "INSERT INTO tongxin.units (code, name, kind) VALUES ('u1', 'Unit 1', 'department'), ('u2', 'Unit 2', 'village')"

# A UUIDv7 made now, so it falls into an existing partition.
id=$(sql "$db" "SELECT overlay(overlay(tongxin.uuid7_floor(now())::text placing '7abc' from 15 for 4) placing '8def-0123456789ab' from 20 for 17)")
ins="INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, attrs, sender)
     VALUES ('$id', 'u1', 'cloud_meeting', now(), '{\"participants\": 3}', 'test')"
sql "$db" "$ins" >/dev/null; ok $? "an event is stored"
out=$(sql "$db" "$ins" 2>&1); rc=$?
ok $((rc == 0)) "the same event id for the same unit is refused"
like "$out" "duplicate key value violates unique constraint" "by the primary key"
out=$(sql "$db" "$(echo "$ins" | sed "s/now(), '{/now() - interval '5 years', '{/")" 2>&1)
like "$out" "duplicate key" "also with another occurred_at (the key does not contain it)"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE event_id = '$id'")" 1 "one row"
# Another unit may use the same id: ids are scoped to their unit.
sql "$db" "$(echo "$ins" | sed "s/'u1'/'u2'/")" >/dev/null; ok $? "the same id from another unit is another event"

# An id outside every partition fails (the collector rejects it before).
out=$(sql "$db" "$(echo "$ins" | sed "s/'$id'/'01000000-0000-7000-8000-000000000000'/")" 2>&1)
like "$out" "no partition of relation" "an id far outside the window has no partition"

is "$(sql "$db" "SELECT count(*) FROM tongxin.regions WHERE level = 'province'")" 31 "31 provinces"
is "$(sql "$db" "SELECT string_agg(province_code, ',' ORDER BY province_code) FROM tongxin.regions WHERE level = 'province' AND grp = '8'")" \
   "15,45,52,53,54,63,64,65" "the eight provinces are group 8"
is "$(sql "$db" "SELECT grp FROM tongxin.regions WHERE code = '430100'")" "N" "Xiangjiang New Area is N"
is "$(sql "$db" "SELECT count(*) FROM tongxin.event_types")" 23 "22 activity types and retraction seeded"
is "$(sql "$db" "SELECT kind || ':' || required || ':' || min_value || ':' || min_exclusive FROM tongxin.event_type_attrs WHERE type_code = 'donation' AND name = 'amount_yuan'")" \
   "numeric:true:0:true" "donation amount is a required numeric > 0"
is "$(sql "$db" "SELECT hi > now() + interval '2 months' AND lo < now() - interval '11 months' FROM tongxin.event_id_window")" "t" \
   "partitions cover a year back and months ahead"
is "$(sql "$db" "SELECT tongxin.uuid7_time(tongxin.uuid7_floor('2025-04-01 05:00:00.123+08'))")" "2025-03-31 21:00:00.123+00" \
   "uuid7_time reads back the id's time"
