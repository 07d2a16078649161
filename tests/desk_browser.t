#!/bin/sh
# tongxin-desk's page in a real browser (headless Chromium through
# WebDriver, tests/desk/browser.py): the type picker, the form by keyboard,
# a double click storing one event in PostgreSQL, My reports, waiting while
# the collector is stopped then stored, a GBK spreadsheet's bad rows
# flagged, a cross-site form post refused, 360 px, English; screenshots in
# $DESK_SHOTS when set (docs/desk.md's).
. tests/lib.sh
. tests/collector.sh
. tests/desk.sh
if ! /usr/bin/python3 -c 'import selenium' 2>/dev/null || [ ! -x /usr/bin/chromedriver ]; then
    echo "1..0 # SKIP python3-selenium or chromium-driver missing (scripts/install-deps)"; exit 0
fi
plan 19

db=$(collector_db deskb) || { echo "Bail out! no database"; exit 1; }
collector_start c1 || exit 1
desk_start d1 || exit 1
{ printf '发生时间,对口地区,代表团人数,方向,事由\r\n'
  printf '2025-06-03 10:00,贡嘎县,5,来访,\r\n'
  printf '2025-06-04,贡嘎县,5,来访,\r\n'
  printf '2025-06-05 10:00,火星,5,来访,\r\n'; } | iconv -f UTF-8 -t GBK > "$T/gbk.csv"

shots=${DESK_SHOTS:-$T/shots}
HOME=$T /usr/bin/python3 tests/desk/browser.py "$durl" "$shots" "$T/gbk.csv" "$cpid" > "$T/browser.out" 2>"$T/browser.err"
n=0
while IFS= read -r line; do
    n=$((n + 1))
    case $line in
        "ok "*) ok 0 "${line#ok }" ;;
        *) ok 1 "${line#not ok }" ;;
    esac
done < "$T/browser.out"
[ "$n" -gt 0 ] || { diag "browser.py:"; sed 's/^/#   /' "$T/browser.err"; }
is "$n" 16 "every browser check ran"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE type = 'cloud_meeting'")" 1 \
   "the double click stored one event in PostgreSQL"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE type = 'visit'")" 1 \
   "the report made offline is in PostgreSQL; the other site's post is not"
rm -rf "$shots/.profile"
