#!/bin/sh
# tongxin-admin: every error path prints one clear line, exits non-zero
# and leaves nothing half-applied; --help works on every command.
. tests/lib.sh
plan 29
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

help_ok=0
for c in "migrate" "status" "unit add" "unit list" "unit disable" "pairing add" "pairing list" "partitions"; do
    # shellcheck disable=SC2086
    $ADMIN $c --help | grep -q "^usage: tongxin-admin $c" || { help_ok=1; diag "no help for $c"; }
done
ok $help_ok "--help on every command"
