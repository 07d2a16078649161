#!/bin/sh
# tongxin-report on the known district of tests/data/analytics.sql, run as a
# login that is only a member of tongxin_analyst: the aligned table (with
# Chinese names), periods that cut months, CSV with and without a BOM, and
# the HTML page rendered by headless Chromium (the figures must be in the
# rendered DOM; a screenshot is taken).
. tests/lib.sh
plan 97
REPORT=$B/tongxin-report
export TONGXIN_LOCALEDIR=$B/locale     # the catalogues of the build (--lang zh)
db=$(newdb report)
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
psql "$db" -X -q -v ON_ERROR_STOP=1 -f tests/data/analytics.sql >/dev/null 2>&1 || { echo "Bail out! data"; exit 1; }
# The township's own targets (012: a target applies to one unit; those set
# for no unit are the root's).
sql "$db" "INSERT INTO tongxin.targets (unit_code, category, target, description, description_zh) VALUES
    ('town1', 'cadre', 20, 'Cadres paired (township)', '跨省结对干部（镇）'),
    ('town1', 'student', 400, 'Students paired (township)', '跨省结对学生（镇）'),
    ('town1', 'resident', 5000, 'Residents paired (township)', '跨省结对居民（镇）')" >/dev/null

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
# tongxin.conf's [report]: the database, the unit and the language once, for
# every run; the options and TONGXIN_DB win.
printf '[report]\ndb = %s\nunit = town1\nlang = zh\n' "$adb" > "$T/tongxin.conf"
$REPORT --config "$T/tongxin.conf" --from 2025-04-02 --to 2025-05-31 > "$T/conf.txt" 2>&1
like "$(sed -n 1p "$T/conf.txt")" "^Tongxin 报表：高崇山镇（town1）" "[report] db, unit and lang from tongxin.conf"
$REPORT --config "$T/tongxin.conf" --unit d --lang en --from 2025-04-02 --to 2025-05-31 > "$T/conf2.txt" 2>&1
like "$(sed -n 1p "$T/conf2.txt")" "^Tongxin report: .*\(d\)" "--unit and --lang win over the file"
TONGXIN_DB="dbname=nosuch_$$ host=/nonexistent" $REPORT --config "$T/tongxin.conf" > "$T/conf3.txt" 2>&1; rc=$?
is "$rc" 1 "TONGXIN_DB wins over the file's db (it names a database that is not there)"
printf '[report]\nlang = fr\n' > "$T/bad.conf"
like "$($REPORT --config "$T/bad.conf" 2>&1 | head -n 1)" "lang in $T/bad.conf is zh or en, not: fr" "a bad lang in the file is named with the file"
$REPORT --db "$adb" --from 2025-01-01 --to 2025-12-31 > "$T/y.txt"
is "$(grep -E '^  (investment \(|gig workers)' "$T/y.txt" | awk '{ print $NF }' | tr '\n' ' ')" "600,000,000 50 " \
   "whole months from the rollups"

# ---------------------------------------------------------------- a unit's own targets
is "$(grep -E '^  (cadre|student|resident) ' "$T/p.txt" | awk '{ print $1 ":" $2 }' | tr '\n' ' ')" \
   "cadre:20 student:400 resident:5,000 " "a township's report shows the targets set for it, not the district's"
$REPORT --db "$adb" --unit dept1 > "$T/dept1.txt"
is "$(sed -n '/^百千万 targets/,/^$/p' "$T/dept1.txt" | sed -n 2p)" "  (none)" \
   "a department without targets shows none (not the district's at 0 %)"
is "$(sql "$db" "SELECT string_agg(unit_code || ':' || category || ':' || target, ' ' ORDER BY unit_code, target) FROM analytics.target_progress")" \
   "d:cadre:100 d:student:1000 d:resident:10000 town1:cadre:20 town1:student:400 town1:resident:5000" \
   "target_progress: only the targets that apply to each unit"

# ---------------------------------------------------------------- --unit by name, --month
$REPORT --db "$adb" --unit 高崇山镇 --from 2025-04-02 --to 2025-05-31 > "$T/byname.txt"; ok $? "--unit with a unit's exact name"
is "$(sed 2d "$T/byname.txt")" "$(sed 2d "$T/p.txt")" "the same report as by its code"
sql "$db" "INSERT INTO tongxin.units (code, name, kind, parent_code) VALUES ('vil9', '和平村', 'village', 'd')"
out=$($REPORT --db "$adb" --unit 和平村 2>&1); rc=$?
is "$rc:$out" "1:tongxin-report: '和平村' is the name of 2 units (vil2, vil9): give the code" "a name two units bear: give the code"
sql "$db" "DELETE FROM tongxin.units WHERE code = 'vil9'"
out=$($REPORT --db "$adb" --unit 'd' 2>&1 | sed -n 1p)
is "$out" "Tongxin report: 双清区 (d)" "a code wins over a name"
$REPORT --db "$adb" --month 2025-02 > "$T/feb.txt"
like "$(sed -n 2p "$T/feb.txt")" "^Period: 2025-02-01 to 2025-02-28," "--month: the month's first and last day"
$REPORT --db "$adb" --month 2024-02 --to 2024-02-10 2>/dev/null; is $? 2 "--month with --to is a usage error"

# ---------------------------------------------------------------- quiet at the period's end
$REPORT --db "$adb" --to 2025-06-30 > "$T/jun30.txt"
like "$(sed -n '/^Quiet pairings/,/^$/p' "$T/jun30.txt")" "vil1 +高崇村 +150000 +内蒙古自治区 +2025-04-01 +90$" \
     "quiet pairings are measured at the period's end (90 days on 30 June), not today"
$REPORT --db "$adb" --to 2025-06-30 --quiet-days 91 > "$T/jun30b.txt"
is "$(sed -n '/^Quiet pairings/,/^$/p' "$T/jun30b.txt" | grep -c '150000')" 0 "not quiet for 91 days then"

# ---------------------------------------------------------------- --lang
$REPORT --db "$adb" --lang zh > "$T/lzh.txt"; ok $? "--lang zh"
like "$(sed -n 1p "$T/lzh.txt")" "^Tongxin 报表：双清区（d）$" "--lang zh under LC_MESSAGES=C: the heading in Chinese"
like "$(cat "$T/lzh.txt")" "本期报送情况" "the completeness section in Chinese"
like "$(cat "$T/lzh.txt")" "  cadre +100 +17 +17.0 +跨省结对干部（百千万工程之“百”）" "target descriptions from the registry's Chinese labels"
like "$(cat "$T/lzh.txt")" "  招商引资 +1 +引进的投资项目" "type names and descriptions from the registry's Chinese labels"
LANG=zh_CN.UTF-8 LC_MESSAGES=zh_CN.UTF-8 $REPORT --db "$adb" --lang en > "$T/len.txt"
like "$(sed -n 1p "$T/len.txt")" "^Tongxin report: 双清区 \(d\)$" "--lang en under a Chinese locale: English"
like "$(cat "$T/len.txt")" "  Investment attracted +1 +Investment attracted +investment" "type names in English from the registry"
$REPORT --db "$adb" --lang zh --format csv > "$T/lzh.csv"
grep -q "$(printf '^招商引资,1,')" "$T/lzh.csv"; ok $? "--lang zh --format csv: names in Chinese"
grep -q "$(printf '^类别,目标,')" "$T/lzh.csv"; ok $? "--lang zh --format csv: headings in Chinese (asked for)"
$REPORT --db "$adb" --format csv > "$T/plain.csv"
grep -q "$(printf '^Investment attracted,1,.*,investment\r')" "$T/plain.csv"; ok $? "CSV without --lang: English names, the code in the last column"
$REPORT --db "$adb" --lang fr 2>/dev/null; is $? 2 "--lang fr is a usage error"

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
is "$(grep -c "$(printf '\033')\|<script" "$T/inj.html"):$(grep -c '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/inj.html")" "0:2" \
   "HTML: names are escaped, control characters too (a silent unit and a quiet pairing)"

# ---------------------------------------------------------------- HTML
$REPORT --db "$adb" --format html --out "$T/r.html"; ok $? "--format html --out"
grep -Eiq '<script|<link|<img|src=|url\(|https?://' "$T/r.html"; is $? 1 "the page is self-contained"
is "$(grep -o '<section id="[a-z_]*">' "$T/r.html" | tr '\n' ' ')" \
   '<section id="completeness"> <section id="targets"> <section id="coverage"> <section id="provinces"> <section id="months"> <section id="types"> <section id="outcomes"> <section id="partners"> <section id="quiet"> ' \
   "HTML: every section once, completeness first"
is "$(grep -c 'id="t-targets"\|id="t-coverage"\|id="t-months"\|id="t-outcomes"' "$T/r.html")" 0 \
   "HTML: no table repeats a graphic (targets, coverage, months, outcomes)"
is "$(grep -o '<h2>[^<]*</h2>' "$T/r.html" | sort | uniq -d)" "" "HTML: no heading twice"
like "$(cat "$T/r.html")" '@page\{size:A4' "HTML: print CSS for A4"
like "$(cat "$T/r.html")" '<text class="v" x="[0-9.]+" y="[0-9.]+" text-anchor="middle">10</text>' "HTML: June 2025's total above its bar"
$REPORT --db "$adb" --lang zh --format html --out "$T/zh.html"
like "$(sed -n 2p "$T/zh.html")" '<html lang="zh-CN">' "--lang zh: the page says it is Chinese"
like "$(cat "$T/zh.html")" '<div class="figure"><b>6亿</b>投资额（元）<small>600,000,000</small></div>' \
     "cards: 6亿 the Chinese way, the exact figure under it"
like "$(cat "$T/zh.html")" '<div class="figure"><b>7万</b>捐赠额（元）<small>70,000</small></div>' "cards: 7万"
like "$(cat "$T/zh.html")" '<td class="n">600,000,000</td>' "tables: exact figures"
like "$(cat "$T/r.html")" '<div class="figure"><b>600,000,000</b>investment \(yuan\)</div>' "in English: the figure grouped"
like "$(sed -n 2p "$T/r.html")" '<html lang="en">' "the English page says so"

if ! command -v chromium >/dev/null 2>&1; then
    for i in $(seq 15); do ok 0 "# SKIP chromium is not installed (scripts/install-deps installs it)"; done
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

# Printed: A4 pages, rendered to PNG (pdftoppm) and looked at in the docs.
chrome --no-pdf-header-footer --print-to-pdf="$T/zh.pdf" "file://$T/zh.html" >/dev/null; ok $? "print to PDF"
if ! command -v pdftoppm >/dev/null 2>&1; then
    for i in $(seq 5); do ok 0 "# SKIP poppler-utils is not installed (scripts/install-deps installs it)"; done
    exit 0
fi
pages=$(pdfinfo "$T/zh.pdf" | awk '/^Pages:/ { print $2 }')
ok "$([ "$pages" -ge 2 ] && [ "$pages" -le 6 ]; echo $?)" "a few pages ($pages)"
like "$(pdfinfo "$T/zh.pdf" | grep '^Page size')" '59[45](\.[0-9]+)? x 84[12](\.[0-9]+)? pts \(A4\)' "A4"
pdftoppm -r 40 -png "$T/zh.pdf" "$T/page"; ok $? "its pages rendered to PNG"
is "$(ls "$T"/page-*.png | wc -l)" "$pages" "one PNG per page"
pdftotext "$T/zh.pdf" - | tr -d ' ' > "$T/zh.pdf.txt"
like "$(cat "$T/zh.pdf.txt")" '本期报送情况' "the PDF holds the Chinese text (fonts embedded, not boxes)"
