#!/bin/sh
# Completeness (012): nil returns, analytics.unit_status, the completeness
# of a period per unit and rolled up along the tree, on the known district
# of tests/data/analytics.sql with a few additions; and tongxin-report's
# completeness section (table, CSV, HTML), which must name exactly the
# silent units.
#
#   June 2025: d, dept1, dept2, town1, vil1 reported; vil2 files a nil return
#   for June on 2 July (its period names the month); vil3 (new) has nothing;
#   July 2025: dept2 files a nil return and retracts it, vil1 one that stands.
#   vil1's producer has 5 reports waiting for 3 days (tongxin.producer_status,
#   written here as the collector of protocol 1.3 would).
. tests/lib.sh
plan 37
REPORT=$B/tongxin-report
db=$(newdb completeness)
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
psql "$db" -X -q -v ON_ERROR_STOP=1 -f tests/data/analytics.sql >/dev/null 2>&1 || { echo "Bail out! data"; exit 1; }
id() { printf "overlay(tongxin.uuid7_floor(date_trunc('month', now()))::text placing '7000-8000-%012d' from 15 for 22)::uuid" "$1"; }
ev() { # ev N UNIT TYPE AT ATTRS [SUPERSEDES]
    sup=NULL; [ -z "${6:-}" ] || sup=$(id "$6")
    sql "$db" "INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, attrs, sender, supersedes)
               VALUES ($(id "$1"), '$2', '$3', '$4', '$5', 't', $sup)" >/dev/null
}

# ---------------------------------------------------------------- the type
is "$(sql "$db" "SELECT t.name_zh || '|' || t.name_en || '|' || a.kind || '|' || a.required || '|' || a.label_zh
                  FROM tongxin.event_types t JOIN tongxin.event_type_attrs a ON a.type_code = t.code AND a.name = 'period'
                 WHERE t.code = 'nil_return'")" "零报告|Nil return|date|true|报告月份" \
   "nil_return is registered: period a required date, with labels"
is "$(sql "$db" "SELECT analytics.attr_month('{\"period\": \"2025-06-17\"}', 'period') || ' ' || coalesce(analytics.attr_month('{\"period\": \"2025-13-01\"}', 'period')::text, 'null') || ' ' || coalesce(analytics.attr_month('{\"period\": 7}', 'period')::text, 'null')")" \
   "2025-06-01 null null" "a period's month: any day of it; a bad value is no month (and no error)"

sql "$db" "INSERT INTO tongxin.units (code, name, kind, parent_code) VALUES ('vil3', '新村', 'village', 'town1')"
ev 101 vil2 nil_return 2025-07-02T02:00:00Z '{"period": "2025-06-01"}'
ev 102 dept2 nil_return 2025-08-01T02:00:00Z '{"period": "2025-07-01"}'
ev 103 dept2 retraction 2025-08-02T02:00:00Z '{}' 102
ev 104 vil1 nil_return 2025-08-03T02:00:00Z '{"period": "2025-07-31"}'
sql "$db" "INSERT INTO tongxin.producer_status (unit_code, last_connected_at, last_seen_at, backlog, oldest_waiting_at, software, collector)
           VALUES ('vil1', now() - interval '3 days', now() - interval '3 days', 5, now() - interval '3 days 1 hour', 'tongxin-send 0.1.0', 'c1')"

# ---------------------------------------------------------------- per unit
status() { sql "$db" "SELECT string_agg(unit_code || ':' || status, ' ' ORDER BY unit_code) FROM analytics.period_completeness WHERE month = '$1'"; }
is "$(status 2025-06-01)" "d:reported dept1:reported dept2:reported town1:reported vil1:reported vil2:nil_return vil3:silent" \
   "June: a unit with a nil return is complete, one with nothing is silent"
is "$(status 2025-07-01)" "d:silent dept1:silent dept2:silent town1:silent vil1:nil_return vil2:silent vil3:silent" \
   "July: a retracted nil return counts for nothing; a period of 07-31 names July"
is "$(status 2025-04-01)" "d:silent dept1:silent dept2:silent town1:silent vil1:reported vil2:reported vil3:silent" \
   "April: 2025-03-31T21:00Z is 1 April in Shaoyang (vil1 reported in April)"
is "$(sql "$db" "SELECT string_agg(unit_code || ':' || status, ' ' ORDER BY unit_code) FROM analytics.completeness('2025-05-01', '2025-06-30') WHERE unit_code LIKE 'vil%'")" \
   "vil1:reported vil2:nil_return vil3:silent" "a period of two months: reported in either; a nil return for one of its months"
is "$(sql "$db" "SELECT silent_days || ':' || last_event_at FROM analytics.completeness('2025-06-01', '2025-06-30') WHERE unit_code = 'vil2'")" \
   "76:2025-04-15 10:00:00+00" "silent days are counted to the period's end, from the last event before it"
is "$(sql "$db" "SELECT nil_returns || ':' || (nil_return_filed_at IS NOT NULL) FROM analytics.period_completeness WHERE month = '2025-06-01' AND unit_code = 'vil2'")" \
   "1:true" "the nil return and when it arrived"
sql "$db" "UPDATE tongxin.units SET active = false WHERE code = 'vil3'"
is "$(sql "$db" "SELECT count(*) FROM analytics.period_completeness WHERE month = '2025-06-01' AND unit_code = 'vil3'")" 0 \
   "an inactive unit is not expected to report"
sql "$db" "UPDATE tongxin.units SET active = true WHERE code = 'vil3'"

# ---------------------------------------------------------------- roll-up
roll() { sql "$db" "SELECT string_agg(coalesce(unit_kind, 'all') || ':' || units || '/' || reported || '/' || nil_returns || '/' || silent || '/' || complete || '/' || waiting, ' ' ORDER BY unit_kind NULLS FIRST)
                     FROM analytics.period_completeness_rollup WHERE month = '2025-06-01' AND unit_code = '$1' AND scope = '$2'"; }
is "$(roll d subtree)" "all:7/5/1/1/6/1 department:2/2/0/0/2/0 district:1/1/0/0/1/0 township:1/1/0/0/1/0 village:3/1/1/1/2/1" \
   "the district's subtree by kind: units/reported/nil/silent/complete/waiting"
is "$(roll d children)" "all:3/3/0/0/3/0 department:2/2/0/0/2/0 township:1/1/0/0/1/0" "the district's direct children"
is "$(roll town1 children)" "all:3/1/1/1/2/1 village:3/1/1/1/2/1" "the township's villages: 2 of 3 complete, 1 silent"
is "$(sql "$db" "SELECT count(*) FROM analytics.completeness_rollup('2025-06-01', '2025-06-30') WHERE unit_code = 'vil1' AND scope = 'children'")" \
   0 "a unit without children has no 'children' rows"

# ---------------------------------------------------------------- unit status
is "$(sql "$db" "SELECT string_agg(unit_code || ':' || backlog || ':' || coalesce(waiting_hours::text, '-') || ':' || coalesce(software, '-'), ' ' ORDER BY unit_code) FROM analytics.unit_status WHERE unit_code IN ('vil1', 'vil2', 'vil3')")" \
   "vil1:5:73.0:tongxin-send 0.1.0 vil2:0:-:- vil3:0:-:-" "unit_status: the backlog and the age of the oldest waiting report"
is "$(sql "$db" "SELECT last_event_type || ' ' || last_event_at || ' ' || days_silent FROM analytics.unit_status WHERE unit_code = 'vil2'")" \
   "nil_return 2025-07-02 02:00:00+00 0" "the last event (a nil return is a report) and days silent since one arrived"
is "$(sql "$db" "SELECT coalesce(last_event_at::text, 'none') || ':' || coalesce(days_silent::text, 'never') FROM analytics.unit_status WHERE unit_code = 'vil3'")" \
   "none:never" "a unit that never reported"
is "$(sql "$db" "SELECT last_event_type FROM analytics.unit_status WHERE unit_code = 'dept2'")" "student_aid" \
   "a retraction and the nil return it withdrew are not the last event"
sql "$db" "UPDATE tongxin.units SET active = false WHERE code = 'vil3'"
is "$(sql "$db" "SELECT count(*) FROM analytics.unit_status")" 6 "unit_status: active units only"
sql "$db" "UPDATE tongxin.units SET active = true WHERE code = 'vil3'"

# ---------------------------------------------------------------- activity_by_unit
is "$(sql "$db" "SELECT string_agg(unit_code || ':' || coalesce(last_day::text, '-') || ':' || coalesce(own_last_day::text, '-'), ' ' ORDER BY unit_code) FROM analytics.activity_by_unit WHERE unit_code IN ('d', 'town1', 'vil3')")" \
   "d:2025-08-03:2025-06-01 town1:2025-08-03:2025-06-21 vil3:-:-" \
   "activity_by_unit: last_day is the subtree's, own_last_day the unit's own"

# ---------------------------------------------------------------- the report
ana=tx_cmp_$$
pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
sql "$TONGXIN_TEST_PG" "CREATE ROLE $ana LOGIN PASSWORD '$pw' IN ROLE tongxin_analyst"
at_exit "psql '$TONGXIN_TEST_PG' -X -q -c 'DROP ROLE IF EXISTS $ana'"
( umask 077; printf '*:*:*:%s:%s\n' "$ana" "$pw" > "$T/pgpass" )
export PGPASSFILE=$T/pgpass
adb=$(printf '%s' "$db" | sed "s/user=[a-z_]*/user=$ana/")

$REPORT --db "$adb" --month 2025-06 > "$T/jun.txt"; ok $? "the report for June, as the analyst"
is "$(sed -n 4p "$T/jun.txt")" "Completeness of the period: units that reported, filed a nil return or stayed silent" \
   "completeness is the first section"
is "$(sed -n '/^Completeness/,/^$/p' "$T/jun.txt" | sed -n '4,$p' | awk 'NF { print $(NF-4) "/" $(NF-3) "/" $(NF-2) "/" $(NF-1) "/" $NF }' | tr '\n' ' ')" \
   "7/5/1/1/1 1/1/0/0/0 2/2/0/0/0 1/1/0/0/0 3/1/1/1/1 " "the roll-up: all units, district, departments, townships, villages"
is "$(sed -n '/^Units silent/,/^$/p' "$T/jun.txt" | sed -n '4,$p' | awk 'NF { print $1 }' | tr '\n' ' ')" "vil3 " \
   "the silent units of June: exactly vil3"
like "$(sed -n '/^Units silent/,/^$/p' "$T/jun.txt")" "vil3 +新村 +villages +高崇山镇 +never" "with its kind, parent and last event"
is "$(sed -n '/^Units with reports waiting/,/^$/p' "$T/jun.txt" | sed -n '4,$p' | awk 'NF { print $1 ":" $3 ":" $(NF-2) }' | tr '\n' ' ')" \
   "vil1:5:3.0 " "the units with waiting reports, and how many days the oldest has waited"
is "$(sed -n '/^Nil returns for the period/,/^$/p' "$T/jun.txt" | sed -n '4,$p' | awk 'NF { print $1 ":" $3 }' | tr '\n' ' ')" \
   "vil2:1 " "the nil returns of June"
$REPORT --db "$adb" --month 2025-07 --unit town1 > "$T/jul.txt"
is "$(sed -n '/^Units silent/,/^$/p' "$T/jul.txt" | sed -n '4,$p' | awk 'NF { print $1 }' | tr '\n' ' ')" "vil3 town1 vil2 " \
   "July in the township: the silent units of its subtree"
$REPORT --db "$adb" --from 2025-06-01 --to 2025-06-30 --format csv > "$T/jun.csv"
is "$(sed -n '/Units silent in the period/,/^\r$/p' "$T/jun.csv" | tr -d '\r' | sed -n '3,$p' | grep .)" \
   "vil3,新村,villages,高崇山镇,never," "CSV: the silent units, labels in English"
grep -q "$(printf '^all units,7,5,1,1,1\r')" "$T/jun.csv"; ok $? "CSV: the roll-up's first row"
$REPORT --db "$adb" --month 2025-06 --format html > "$T/jun.html"
is "$(sed -n '/<table class="data" id="t-silent">/,/<\/table>/p' "$T/jun.html" | grep -o '<tr><td>[^<]*</td>' | sed 's/<[^>]*>//g' | tr '\n' ' ')" \
   "vil3 " "HTML: the silent units' table"
like "$(cat "$T/jun.html")" '<div class="figure" id="complete"><b>6</b>of 7 units complete</div>' "HTML: 6 of 7 units complete"
is "$(grep -o '<section id="[a-z_]*">' "$T/jun.html" | head -2 | tr '\n' ' ')" '<section id="completeness"> <section id="targets"> ' \
   "HTML: completeness comes first"

# ---------------------------------------------------------------- through a collector
# A real producer files vil3's nil return for June on 5 July: the collector
# knows the type (its registry is the database's) and checks the period.
start_collector "ipc://$T/c.sock" --db "$db" --insecure || exit 1
nilsend() { $B/tongxin-send --unit vil3 --insecure --endpoint "ipc://$T/c.sock" --spool "$T/spool" --wait 10 \
                --type nil_return --at 2025-07-05T09:00:00+08:00 "$@"; }
nilsend --attr period=2025-13-01 >"$T/bad.out" 2>&1; rc=$?
is "$rc:$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE unit_code = 'vil3'")" "1:0" \
   "a period that is no date (2025-13-01) is refused, nothing stored"
like "$(cat "$T/bad.out")" "period" "the refusal names the attribute"
nilsend --attr period=2025-06-01 --attr note=本月无工作 >"$T/good.out" 2>&1; ok $? "a nil return with period 2025-06-01, sent through the collector"
is "$(status 2025-06-01)" "d:reported dept1:reported dept2:reported town1:reported vil1:reported vil2:nil_return vil3:nil_return" \
   "June: vil3 is complete now"
$REPORT --db "$adb" --month 2025-06 > "$T/jun2.txt"
is "$(sed -n '/^Units silent/,/^$/p' "$T/jun2.txt" | sed -n 2p)" "  (none)" "the report: nobody silent in June"
