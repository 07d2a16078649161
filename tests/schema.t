#!/bin/sh
# The schema: one event can not be stored twice, regions and the registry
# are seeded, partitions exist ahead of time.
. tests/lib.sh
plan 33
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
is "$(sql "$db" "SELECT count(*) FROM tongxin.event_types")" 24 "22 activity types, retraction and nil_return seeded"
is "$(sql "$db" "SELECT kind || ':' || required || ':' || min_value || ':' || min_exclusive FROM tongxin.event_type_attrs WHERE type_code = 'donation' AND name = 'amount_yuan'")" \
   "numeric:true:0:true" "donation amount is a required numeric > 0"
is "$(sql "$db" "SELECT hi > now() + interval '2 months' AND lo < now() - interval '11 months' FROM tongxin.event_id_window")" "t" \
   "partitions cover a year back and months ahead"
is "$(sql "$db" "SELECT tongxin.uuid7_time(tongxin.uuid7_floor('2025-04-01 05:00:00.123+08'))")" "2025-03-31 21:00:00.123+00" \
   "uuid7_time reads back the id's time"

# Registered text is one line of printable text (006): control characters,
# line separators and bidirectional controls are refused in every name and
# description a person registers.
refused() { # refused SQL DESCRIPTION
    like "$(sql "$db" "$1" 2>&1)" "violates check constraint \"[a-z_]+_clean\"" "$2"
}
refused "INSERT INTO tongxin.units (code, name, kind) VALUES ('u3', E'a\x1b[2Jb', 'village')" "a unit name with ESC[2J"
refused "INSERT INTO tongxin.units (code, name, kind) VALUES ('u3', E'u3\tvillage\tforged', 'village')" "a unit name with a tab"
refused "INSERT INTO tongxin.units (code, name, kind) VALUES ('u3', E'two\nlines', 'village')" "a unit name with a newline"
refused "INSERT INTO tongxin.units (code, name, kind) VALUES ('u3', E'abc\u202Efed', 'village')" "a unit name with a right-to-left override"
refused "INSERT INTO tongxin.units (code, name, kind) VALUES ('u3', E'c1\u009b2J', 'village')" "a unit name with a C1 control (CSI)"
refused "UPDATE tongxin.units SET name = E'x\ry' WHERE code = 'u1'" "nor by UPDATE"
refused "INSERT INTO tongxin.regions (code, name, name_en) VALUES ('659999', E'x\x07', 'x')" "a region name"
refused "INSERT INTO tongxin.regions (code, name, name_en) VALUES ('659999', 'x', E'x\u2066')" "a region's English name"
refused "INSERT INTO tongxin.pairings (unit_code, region_code, counterpart, fields) VALUES ('u1', '659004', E'x\ny', '{youth}')" "a pairing's counterpart"
refused "INSERT INTO tongxin.event_types (code, description) VALUES ('t1', E'x\x7f')" "an event type's description"
refused "UPDATE tongxin.event_type_attrs SET description = E'\x1b]0;x\x07' WHERE type_code = 'visit' AND name = 'delegates'" "an attribute's description"
refused "UPDATE tongxin.event_type_attrs SET enum_values = ARRAY['outbound', E'in\nbound'] WHERE type_code = 'visit' AND name = 'direction'" "an enum value"
refused "UPDATE tongxin.targets SET description = E'x\u2029y' WHERE category = 'cadre'" "a target's description"
refused "INSERT INTO tongxin.settings (key, value) VALUES ('note', E'\x1b[2J')" "a setting"
sql "$db" "INSERT INTO tongxin.units (code, name, kind) VALUES ('u3', '=HYPERLINK(\"http://x.example/\") 高崇村 \\ é', 'village')"
ok $? "printable text of any script, backslashes and formula-looking text are accepted (output neutralises them)"

# A database that already holds such a name stops at 006 with a message that
# names the rows, and changes nothing.
db2=$(newdb schema_old)
for f in schema/00[1-5]_*.sql; do
    psql "$db2" -X -q -1 -v ON_ERROR_STOP=1 -f "$f" >/dev/null 2>&1 || { echo "Bail out! $f"; exit 1; }
    v=$(basename "$f" | cut -c1-3) n=$(basename "$f" .sql)
    sql "$db2" "INSERT INTO tongxin.schema_migrations (version, name, checksum) VALUES ($v, '$n', '$(md5sum < "$f" | cut -c1-32)')"
done
sql "$db2" "INSERT INTO tongxin.units (code, name, kind) VALUES ('bad', E'row\nforged', 'village')"
out=$($B/tongxin-admin --db "$db2" migrate 2>&1); rc=$?
is "$rc" 1 "migrating a database with a forged name fails"
like "$out" 'tongxin.units.name holds a control or bidirectional character in the rows "bad": correct them' "naming the table, column and row"
is "$(sql "$db2" "SELECT max(version) FROM tongxin.schema_migrations")" 5 "and applies nothing"
sql "$db2" "UPDATE tongxin.units SET name = 'row forged' WHERE code = 'bad'"
$B/tongxin-admin --db "$db2" migrate >/dev/null; ok $? "once corrected, it migrates"
