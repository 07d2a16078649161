#!/bin/sh
# tongxin-admin: every error path prints one clear line, exits non-zero
# and leaves nothing half-applied; --help works on every command.
. tests/lib.sh
plan 48
ADMIN=$B/tongxin-admin
db=$(newdb adminerr)

# expect RC REGEX DESCRIPTION -- ARGS...: one line on stderr, exit RC.
expect() {
    rc=$1 re=$2 desc=$3; shift 4
    err=$($ADMIN "$@" 2>&1 >/dev/null); got=$?
    is "$got" "$rc" "$desc: exit $rc"
    like "$(printf '%s' "$err" | head -n 1)" "$re" "$desc: says why"
}

expect 1 "cannot connect to the database: .*No such file" "unreachable database" -- \
    --db "host=$T/nowhere dbname=x" unit list
role=tx_pw_$$
sql "$TONGXIN_TEST_PG" "CREATE ROLE $role LOGIN PASSWORD 'right'"
at_exit "psql '$TONGXIN_TEST_PG' -X -q -c 'DROP ROLE IF EXISTS $role'"
export PGPASSWORD=wrong
expect 1 "cannot connect to the database: .*password authentication failed" "bad password" -- \
    --db "$(printf '%s' "$db" | sed "s/user=[a-z_]*/user=$role/")" unit list
unset PGPASSWORD
expect 1 "no Tongxin schema: run 'tongxin-admin migrate' first" "not migrated" -- --db "$db" unit list

$ADMIN --db "$db" migrate >/dev/null
$ADMIN --db "$db" unit add district --name 双清区 --kind district >/dev/null; ok $? "unit add"
expect 1 "unit 'district' already exists" "duplicate unit" -- --db "$db" unit add district --name x --kind district
expect 2 "bad unit code 'Bad Code'" "bad code format" -- --db "$db" unit add "Bad Code" --name x --kind village
expect 2 "unknown kind 'city'" "unknown kind" -- --db "$db" unit add v1 --name x --kind city
expect 1 "unknown parent unit 'nope'" "unknown parent" -- --db "$db" unit add v1 --name x --kind village --parent nope
expect 1 "unknown unit 'nope'" "disable an unknown unit" -- --db "$db" unit disable nope
expect 1 "unknown unit 'nope'" "pairing for an unknown unit" -- \
    --db "$db" pairing add nope 513432 --counterpart x --fields education
expect 1 "unknown region '513499'" "pairing with an unknown region" -- \
    --db "$db" pairing add district 513499 --counterpart x --fields education
expect 2 "bad region code '5134'" "bad region format" -- \
    --db "$db" pairing add district 5134 --counterpart x --fields education
expect 2 "unknown field of cooperation 'trade'" "unknown field" -- \
    --db "$db" pairing add district 513432 --counterpart x --fields education,trade
$ADMIN --db "$db" pairing add district 513432 --counterpart 喜德县 --fields education >/dev/null
expect 1 "already exists" "duplicate pairing" -- \
    --db "$db" pairing add district 513432 --counterpart 喜德县 --fields youth
is "$(sql "$db" "SELECT count(*) FROM tongxin.units")/$(sql "$db" "SELECT count(*) FROM tongxin.pairings")" "1/1" \
    "nothing half-applied by the failures"

# Names are one line of printable text: refused at registration, saying
# what and where (the database refuses the same: schema.t).
expect 2 "--name holds U\+001B \(a control character\) at byte 1: names and descriptions are one line" \
    "a unit name with ESC[2J" -- --db "$db" unit add v2 --name "$(printf '\033[2J')" --kind village
expect 2 "--name holds U\+000A \(a control character\) at byte 3" "a unit name with a newline" -- \
    --db "$db" unit add v2 --name "$(printf 'v2\nv3\tvillage')" --kind village
expect 2 "--name holds U\+202E \(a line separator or bidirectional control\)" "a right-to-left override" -- \
    --db "$db" unit add v2 --name "$(printf 'abc\342\200\256fed')" --kind village
expect 2 "--name holds the byte 0xFF \(not UTF-8\)" "a name that is not UTF-8" -- \
    --db "$db" unit add v2 --name "$(printf 'a\377')" --kind village
expect 2 "--counterpart holds U\+0009" "a pairing counterpart with a tab" -- \
    --db "$db" pairing add district 513432 --counterpart "$(printf 'x\ty')" --fields youth
is "$(sql "$db" "SELECT count(*) FROM tongxin.units")/$(sql "$db" "SELECT count(*) FROM tongxin.pairings")" "1/1" \
    "none of them registered"

# Names stored before 006 (or by hand) cannot forge rows or columns of the
# lists, nor drive the terminal: they are shown escaped.
sql "$db" "ALTER TABLE tongxin.units DROP CONSTRAINT IF EXISTS units_name_clean;
           ALTER TABLE tongxin.pairings DROP CONSTRAINT IF EXISTS pairings_counterpart_clean;
           INSERT INTO tongxin.units (code, name, kind) VALUES
               ('v3', E'\x1b[2J\x1b]0;pwned\x07cleared', 'village'),
               ('v4', E'v4\nroot\tdistrict\t\tactive\t双清区', 'village');
           INSERT INTO tongxin.pairings (unit_code, region_code, counterpart, fields)
               VALUES ('v4', '513432', E'a\tb\nc', '{youth}')"
$ADMIN --db "$db" unit list > "$T/units"; ok $? "unit list"
is "$(wc -l < "$T/units")" 4 "one line per unit and the header"
is "$(awk -F '\t' 'NF != 5' "$T/units" | wc -l)" 0 "five columns on every line"
grep -q "$(printf '\033')" "$T/units"; is $? 1 "no escape character reaches the terminal"
is "$(grep '^v3' "$T/units" | cut -f5)" '\x1b[2J\x1b]0;pwned\x07cleared' "the name is shown, escaped"
is "$(grep '^v4' "$T/units" | cut -f5)" 'v4\nroot\tdistrict\t\tactive\t双清区' "a newline and tabs too"
$ADMIN --db "$db" pairing list > "$T/pairings"
is "$(wc -l < "$T/pairings"):$(awk -F '\t' 'NF != 8' "$T/pairings" | wc -l)" "3:0" "pairing list: one line of eight columns each"
is "$(tail -n 1 "$T/pairings" | cut -f8)" 'a\tb\nc' "the counterpart escaped"

help_ok=0
for c in "migrate" "status" "unit add" "unit list" "unit disable" "pairing add" "pairing list" "partitions"; do
    # shellcheck disable=SC2086
    $ADMIN $c --help | grep -q "^usage: tongxin-admin $c" || { help_ok=1; diag "no help for $c"; }
done
ok $help_ok "--help on every command"
