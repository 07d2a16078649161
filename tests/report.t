#!/bin/sh
# tongxin-report on the known district of tests/data/analytics.sql, run as a
# login that is only a member of tongxin_analyst: the aligned table (with
# Chinese names), periods that cut months, CSV with and without a BOM, and
# the HTML page rendered by headless Chromium (the figures must be in the
# rendered DOM; a screenshot is taken).
. tests/lib.sh
plan 54
REPORT=$B/tongxin-report
db=$(newdb report)
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
psql "$db" -X -q -v ON_ERROR_STOP=1 -f tests/data/analytics.sql >/dev/null 2>&1 || { echo "Bail out! data"; exit 1; }

ana=tx_rpt_$$
pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
sql "$TONGXIN_TEST_PG" "CREATE ROLE $ana LOGIN PASSWORD '$pw' IN ROLE tongxin_analyst"
at_exit "psql '$TONGXIN_TEST_PG' -X -q -c 'DROP ROLE IF EXISTS $ana'"
( umask 077; printf '*:*:*:%s:%s\n' "$ana" "$pw" > "$T/pgpass" )
export PGPASSFILE=$T/pgpass
adb=$(printf '%s' "$db" | sed "s/user=[a-z_]*/user=$ana/")

# ---------------------------------------------------------------- usage
$REPORT --help >/dev/null; ok $? "--help"
$REPORT --db "$adb" --from 2025-13-01 2>/dev/null; is $? 2 "a bad date is a usage error"
$REPORT --db "$adb" --format pdf 2>/dev/null; is $? 2 "an unknown format is a usage error"
$REPORT --db "$adb" --excel 2>/dev/null; is $? 2 "--excel without csv is a usage error"
out=$($REPORT --db "$adb" --unit nosuch 2>&1); rc=$?
is "$rc:$out" "1:tongxin-report: unknown unit 'nosuch'" "an unknown unit: one line, exit 1"

# ---------------------------------------------------------------- table
$REPORT --db "$adb" > "$T/all.txt"; ok $? "the report for the whole tree, as the analyst"
like "$(sed -n 1p "$T/all.txt")" "^Tongxin report: 双清区 \(d\)$" "it starts with the root unit"
like "$(sed -n 2p "$T/all.txt")" "^Period: the first event to [0-9-]+, days in Asia/Shanghai" "the period and time zone"
is "$(grep -E '^  (cadre|student|resident) ' "$T/all.txt")" \
"  cadre        100       17     17.0  Cadres paired across provinces (百千万: 百)
  student    1,000      200     20.0  Students paired across provinces (百千万: 千)
  resident  10,000    3,000     30.0  Residents paired across provinces (百千万: 万)" "targets, numbers right-aligned"
# Chinese names take two columns each: the columns after them still line up.
is "$(grep -E '^  (54|65|34) ' "$T/all.txt")" \
"  54        西藏自治区        8             1             1       3
  65        新疆维吾尔自治区  8             0             0       0
  34        安徽省            N             1             1       2" "CJK-aware column widths"
is "$(grep -E '^  (investment \(|expected annual|donations|outdoor)' "$T/all.txt")" \
"  investment (yuan)                        600,000,000
  expected annual output (yuan)          1,500,000,000
  donations (yuan)                              70,000
  outdoor workers' stations                          1" "outcomes"
like "$(cat "$T/all.txt")" "the \"8\" not yet paired +广西壮族自治区, 贵州省, 云南省, 青海省, 宁夏回族自治区, 新疆维吾尔自治区" \
     "the eight provinces without a pairing"
is "$(grep -E '^  2025-0[456] ' "$T/all.txt")" \
"  2025-04       3         1         0           2
  2025-05       2         1         1           0
  2025-06      10         1         3           6" "activity by month"
is "$(grep -c '^  2024-' "$T/all.txt")" 12 "months without events are listed too"
is "$(grep -E '^  (departments|townships and sub-districts) taking part ' "$T/all.txt" | awk '{ print $NF }' | tr '\n' ' ')" \
   "2 1 " "departments and townships taking part: those that reported (DOMAIN.md: 34 and 12)"
like "$(sed -n '/^Quiet pairings/,/^$/p' "$T/all.txt")" "vil1 +高崇村 +150000 +内蒙古自治区 +2025-04-01" "quiet pairings"

# A period that cuts months: days of April from the events, May from the rollups.
$REPORT --db "$adb" --unit town1 --from 2025-04-02 --to 2025-05-31 > "$T/p.txt"
is "$(grep -E '^  (departments|townships and sub-districts) taking part ' "$T/p.txt" | awk '{ print $NF }' | tr '\n' ' ')" \
   "0 1 " "a township's subtree: itself, no departments"
is "$(grep -E '^  (cadre|student|resident) ' "$T/p.txt" | awk '{ print $1 ":" $3 }' | tr '\n' ' ')" \
   "cadre:0 student:200 resident:3,000 " "a period from 2 April leaves out the event of 1 April 05:00 (Shaoyang)"
$REPORT --db "$adb" --unit town1 --from 2025-04-01 --to 2025-04-01 > "$T/d.txt"
is "$(grep -E '^  (cadre|student) ' "$T/d.txt" | awk '{ print $1 ":" $3 }' | tr '\n' ' ')" \
   "cadre:10 student:0 " "the day 1 April has it (2025-03-31T21:00Z)"
is "$(grep -E '^  20' "$T/p.txt" | awk '{ print $1 ":" $2 }' | tr '\n' ' ')" "2025-04:2 2025-05:1 " \
   "the months of the period"
like "$(sed -n 1p "$T/p.txt")" "高崇山镇 \(town1\)" "a subtree"
$REPORT --db "$adb" --from 2025-01-01 --to 2025-12-31 > "$T/y.txt"
is "$(grep -E '^  (investment \(|gig workers)' "$T/y.txt" | awk '{ print $NF }' | tr '\n' ' ')" "600,000,000 50 " \
   "whole months from the rollups"

# ---------------------------------------------------------------- CSV
$REPORT --db "$adb" --format csv --out "$T/r.csv"; ok $? "--format csv --out"
is "$(head -c 5 "$T/r.csv")" "unit," "no BOM without --excel"
$REPORT --db "$adb" --format csv --excel --out "$T/x.csv"
is "$(head -c 3 "$T/x.csv" | od -An -tx1 | tr -d ' ')" "efbbbf" "--excel starts with the UTF-8 BOM"
is "$(tail -c +4 "$T/x.csv" | md5sum)" "$(md5sum < "$T/r.csv")" "and is otherwise the same"
grep -q "$(printf 'investment (yuan),600000000\r')" "$T/r.csv"; ok $? "plain numbers, CRLF line ends"
grep -q "$(printf '"units paired with the ""8""",2\r')" "$T/r.csv"; ok $? "quotes are doubled inside quoted fields"
grep -q "$(printf '^54,西藏自治区,8,1,1,3\r')" "$T/r.csv"; ok $? "UTF-8 names"

# ---------------------------------------------------------------- injection
# Names a spreadsheet would run as formulas, and names with escape sequences
# and newlines (stored before 006 refused them, or by hand), in a database
# of their own.
db2=$(newdb report_inj)
$B/tongxin-admin --db "$db2" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
id=$(sql "$db2" "SELECT overlay(tongxin.uuid7_floor(now())::text placing '7000-8000-000000000001' from 15 for 22)")
sql "$db2" "ALTER TABLE tongxin.units DROP CONSTRAINT IF EXISTS units_name_clean;
    INSERT INTO tongxin.units (code, name, kind, parent_code) VALUES
        ('d', 'D', 'district', NULL),
        ('evil', '=HYPERLINK(\"http://x.example/\",\"click\")', 'department', 'd'),
        ('esc', E'\x1b[2J\x1b]0;pwned\x07', 'department', 'd'),
        ('nl', E'nl\n  forged  row', 'department', 'd'),
        ('html', '<script>alert(1)</script>', 'department', 'd');
    INSERT INTO tongxin.regions (code, name, name_en) VALUES ('659999', '@SUM(1+1)', '-2+3');
    INSERT INTO tongxin.pairings (unit_code, region_code, counterpart, fields) VALUES
        ('evil', '659999', '+cmd', '{youth}'), ('esc', '659004', 'x', '{youth}'),
        ('nl', '659004', 'y', '{youth}'), ('html', '659004', 'z', '{youth}');
    INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, partner_region, attrs, sender)
        VALUES ('$id', 'evil', 'investment', now(), '659999', '{\"amount_yuan\": -5000}', 't')" >/dev/null
adb2=$(printf '%s' "$db2" | sed "s/user=[a-z_]*/user=$ana/")
$REPORT --db "$adb2" --unit d --format csv --out "$T/inj.csv"; ok $? "a report with hostile names, as CSV"
$REPORT --db "$adb2" --unit evil --format csv | head -n 1 > "$T/evil.csv"
is "$(cat "$T/evil.csv")" "$(printf 'unit,evil,"'"'"'=HYPERLINK(""http://x.example/"",""click"")"\r')" \
   "a unit name =HYPERLINK(...) is quoted text with a single quote in front"
grep -q "$(printf '^659999,"'"'"'@SUM(1+1)",-5000,0,0,0,0\r')" "$T/inj.csv"; ok $? "a region name @SUM(1+1) too, and a negative amount stays a number"
grep -q "$(printf '^investment (yuan),-5000\r')" "$T/inj.csv"; ok $? "negative figures are numbers"
is "$(grep -cE '(^|,)([=+@]|-[^0-9])' "$T/inj.csv")" 0 "no cell begins with = + - @ unless it is a number"
grep -q "$(printf '\033')" "$T/inj.csv"; is $? 1 "no escape character in the CSV"
grep -qF '\x1b[2J\x1b]0;pwned\x07' "$T/inj.csv"; ok $? "it is written visibly"
$REPORT --db "$adb2" --unit d > "$T/inj.txt"; ok $? "the same as a table"
grep -q "$(printf '\033')" "$T/inj.txt"; is $? 1 "no escape character reaches the terminal"
is "$(sed -n '/^Quiet pairings/,/^$/p' "$T/inj.txt" | grep -c .)" 6 "one line per quiet pairing: a newline cannot forge one"
like "$(cat "$T/inj.txt")" '  nl +nl\\n  forged  row +659004' "the newline is shown escaped"
like "$(sed -n 1p "$T/inj.txt")" "^Tongxin report: D \(d\)$" "the heading"
$REPORT --db "$adb2" --unit esc | sed -n 1p > "$T/esc.txt"
is "$(cat "$T/esc.txt")" 'Tongxin report: \x1b[2J\x1b]0;pwned\x07 (esc)' "a unit's name in the heading is escaped"
$REPORT --db "$adb2" --unit d --format html --out "$T/inj.html"
is "$(grep -c "$(printf '\033')\|<script" "$T/inj.html"):$(grep -c '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/inj.html")" "0:1" \
   "HTML: names are escaped, control characters too"

# ---------------------------------------------------------------- HTML
$REPORT --db "$adb" --format html --out "$T/r.html"; ok $? "--format html --out"
grep -Eiq '<script|<link|<img|src=|url\(|https?://' "$T/r.html"; is $? 1 "the page is self-contained"
if ! command -v chromium >/dev/null 2>&1; then
    for i in $(seq 9); do ok 0 "# SKIP chromium is not installed (scripts/install-deps installs it)"; done
    exit 0
fi
chrome() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$T/chr" "$@" 2>/dev/null
}
chrome --dump-dom "file://$T/r.html" > "$T/dom.html"; ok $? "Chromium renders the page"
dom=$(cat "$T/dom.html")
like "$dom" '<div class="target" data-category="cadre"><div class="label"><b>[^<]*</b>: <span class="reached">17</span> of <span class="goal">100</span> \(<span class="percent">17.0%</span>\)' \
     "the cadre target: 17 of 100"
like "$dom" '<span class="reached">3,000</span> of <span class="goal">10,000</span>' "the resident target: 3,000 of 10,000"
like "$dom" '<div class="tile on" data-province="54">西藏自治区' "Tibet is paired"
like "$dom" '<div class="tile off" data-province="65">新疆维吾尔自治区<small>no pairing yet' "Xinjiang is not"
is "$(printf '%s' "$dom" | grep -o '<g class="month">' | wc -l)" 27 "one bar per month, April 2023 to June 2025"
like "$dom" '<td class="n">600,000,000</td>' "the investment in a table"
chrome --window-size=1100,2400 --screenshot="$T/r.png" "file://$T/r.html" >/dev/null; ok $? "a screenshot"
is "$(od -An -tx1 -j 16 -N 8 "$T/r.png" | tr -d ' \n')" "0000044c00000960" "a PNG of 1100 x 2400"
