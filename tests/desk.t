#!/bin/sh
# tongxin-desk over a real collector and PostgreSQL, driven through its
# HTTP API with curl: a report submitted is stored once (also when the form
# is sent twice); offline it waits in the spool and is stored after the
# collector comes back; spreadsheets in UTF-8 with a BOM and in GBK are
# previewed row by row, sent, and a second import stores nothing new; a
# POST without the page's CSRF token or from another origin is refused;
# a LAN address needs a login (and without users the desk refuses to
# start); messages are in Chinese by default and English on request.
. tests/lib.sh
. tests/collector.sh
. tests/desk.sh
plan 84

db=$(collector_db desk) || { echo "Bail out! no database"; exit 1; }
collector_start c1 || exit 1
count() { sql "$db" "SELECT count(*) FROM tongxin.events $1"; }

# The page's code holds no text of its own: every string a person reads is
# a t("msgid") of the catalogue (po/zh_CN.po), served as /i18n/LANG.json.
strings() { perl -0777 -ne 's{//[^\n]*}{}g; while (/(\b(?:t|tf)\(\s*)?"((?:[^"\\]|\\.)*)"/g) { print "$2\n" unless $1 }' desk/web/app.js; }
is "$(strings | perl -CSD -ne 'print if /\p{Han}/ || /^[A-Z][a-z]+(?: [a-z]+)+/')" "" \
   "no Chinese or English sentence in the page's code outside t(\"...\")"
msgattrib --translated --no-fuzzy --no-wrap po/zh_CN.po | sed -n 's/^msgid "\(.*\)"$/\1/p' > "$T/translated"
is "$(perl -0777 -ne 's{//[^\n]*}{}g; print "$1\n" while /\bt\(\s*"((?:[^"\\]|\\.)*)"/g' desk/web/app.js | sort -u |
      grep -vxF -f "$T/translated")" "" "every t(\"...\") of the page is translated in po/zh_CN.po"

desk_start d1 || { echo "Bail out! desk did not start"; exit 1; }

# The page: embedded, with its security headers and the session cookie.
hdr=$(curl -s -D - -o "$T/index.html" -c "$T/jar" "$durl/")
like "$hdr" '^HTTP/1.1 200' "the page is served"
like "$hdr" "Content-Security-Policy: default-src 'none'; script-src 'self'" "CSP: scripts only from the desk, none inline"
like "$hdr" "frame-ancestors 'none'" "never in a frame (CSP)"
like "$hdr" 'X-Frame-Options: DENY' "never in a frame (X-Frame-Options)"
like "$hdr" 'X-Content-Type-Options: nosniff' "nosniff"
like "$hdr" 'Set-Cookie: txdesk=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict' "the session cookie is HttpOnly and SameSite=Strict"
ok "$(grep -c '<script>' "$T/index.html" | grep -qx 0; echo $?)" "no inline script in the page"
is "$(curl -s -o /dev/null -w '%{http_code}' "$durl/app.js")" 200 "the script is embedded"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example:'$dport "$durl/api/status")" 421 \
   "a loopback desk answers only to its own host name (DNS rebinding)"
like "$(curl -s "$durl/i18n/zh-CN.json" | jq -r '."New report"')" '^新' "the page's messages in Chinese (zh_CN.po)"
is "$(curl -s "$durl/i18n/en.json" | jq -r '."New report"')" "New report" "and in English"

desk_session
like "$csrf" '^[0-9a-f]{64}$' "the session has a CSRF token"
is "$(dget /api/registry | jq -r '.types[] | select(.code == "cloud_meeting") | .name_zh')" "云座谈/云交流" \
   "the registry with its Chinese labels"
is "$(dget /api/status | jq -r .connected)" true "status: connected"

# A report from the form, stored once even when the form is sent twice.
form='{"form_token":"0123456789abcdef0001","type":"cloud_meeting","occurred_at":"2025-04-01 09:30",
       "partner":"540522","attrs":{"participants":"12","topic":"云座谈"}}'
out=$(dpost /api/reports "$form")
is "$(printf '%s' "$out" | tail -n 1)" 200 "a report is accepted"
id=$(printf '%s' "$out" | head -n 1 | jq -r .id)
like "$id" '^[0-9a-f-]{36}$' "and has an id"
desk_wait_state "$id" stored; ok $? "its state becomes stored"
is "$(count "WHERE event_id = '$id'")" 1 "it is in PostgreSQL"
is "$(sql "$db" "SELECT occurred_at AT TIME ZONE 'UTC' || ' ' || partner_region || ' ' || (attrs->>'participants') FROM tongxin.events WHERE event_id = '$id'")" \
   "2025-04-01 01:30:00 540522 12" "with its values, the time taken in the organisation's zone (+08:00)"
out2=$(dpost /api/reports "$form")
is "$(printf '%s' "$out2" | head -n 1 | jq -r '.id + " " + (.repeated|tostring)')" "$id true" \
   "the same form again (double click, resend) returns the same report"
sleep 0.3
is "$(count "WHERE type = 'cloud_meeting'")" 1 "and PostgreSQL still has one event"
is "$(dget /api/reports | jq '.reports | length')" 1 "and My reports one report"

# CSRF: without the token, with another's, from another origin.
is "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -H 'Content-Type: application/json' \
      --data-binary "$form" "$durl/api/reports")" 403 "a POST without the CSRF token is refused"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
      --data-binary "$form" "$durl/api/reports")" 403 "a POST without the session cookie is refused"
is "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -H "X-CSRF-Token: $csrf" -H 'Origin: http://evil.example' \
      -H 'Content-Type: application/json' --data-binary "${form%0001*}0002${form#*0001}" "$durl/api/reports")" 403 \
   "a cross-site POST (another Origin) is refused"
like "$(curl -s -b "$T/jar" -H 'Content-Type: application/x-www-form-urlencoded' --data 'type=visit' "$durl/api/reports" | jq -r .error)" \
   '刷新页面' "the refusal is in Chinese"
is "$(dget /api/reports | jq '.reports | length')" 1 "nothing was stored by them"

# Bad input: the field named, in Chinese by default, English on request.
bad='{"form_token":"0123456789abcdef0003","type":"cloud_meeting","occurred_at":"2025-04-01 25:30","attrs":{"participants":"十二"}}'
out=$(dpost /api/reports "$bad")
is "$(printf '%s' "$out" | tail -n 1)" 422 "bad input is refused before the spool"
is "$(printf '%s' "$out" | head -n 1 | jq -r '[.problems[].field] | sort | join(",")')" "occurred_at,participants" \
   "each bad field is named"
like "$(printf '%s' "$out" | head -n 1 | jq -r '.problems[] | select(.field == "participants") | .message')" '整数' \
   "the message is Chinese and says what to write"
like "$(dpost /api/reports "$bad" -H 'X-Desk-Lang: en' | head -n 1 | jq -r '.problems[] | select(.field == "participants") | .message')" \
   'whole number' "and English on request"
like "$(dpost /api/reports '{"form_token":"0123456789abcdef0004","type":"cloud_meetin","occurred_at":"2025-04-01 09:00"}' | head -n 1 | jq -r '.problems[0].message')" \
   'cloud_meetin' "an unknown type is named"

# The collector's rules, applied in the form: a number out of bounds.
out=$(dpost /api/reports '{"form_token":"0123456789abcdef0009","type":"cloud_meeting","occurred_at":"2025-04-02 09:00","attrs":{"participants":"0"}}')
like "$(printf '%s' "$out" | head -n 1 | jq -r '.problems[] | select(.field == "participants") | .message')" '人数' \
   "a value out of the registry's bounds is refused in the form, naming the field in Chinese"
# The collector's refusal (its registry changed since the desk's copy),
# explained in Chinese on the report.
sql "$db" "UPDATE tongxin.event_type_attrs SET min_value = 100 WHERE type_code = 'cloud_meeting' AND name = 'participants'" >/dev/null
kill -HUP "$cpid"; wait_log "$T/c1.log" 'msg="registry loaded"' 2
out=$(dpost /api/reports '{"form_token":"0123456789abcdef0005","type":"cloud_meeting","occurred_at":"2025-04-02 09:00","attrs":{"participants":"50"}}')
rid=$(printf '%s' "$out" | head -n 1 | jq -r .id)
desk_wait_state "$rid" refused; ok $? "a report the collector refuses is shown refused"
sql "$db" "UPDATE tongxin.event_type_attrs SET min_value = 1 WHERE type_code = 'cloud_meeting' AND name = 'participants'" >/dev/null
kill -HUP "$cpid"; wait_log "$T/c1.log" 'msg="registry loaded"' 3
like "$(dget "/api/reports/$rid" | jq -r .reason)" '超出.*范围' "with the reason in Chinese"
is "$(dget "/api/reports/$rid" | jq -r .code)" out_of_range "and the collector's code"

# A correction and a retraction: supersedes.
out=$(dpost /api/reports '{"form_token":"0123456789abcdef0006","type":"cloud_meeting","occurred_at":"2025-04-01 09:30","partner":"540522","attrs":{"participants":"13"},"supersedes":"'"$id"'"}')
cid=$(printf '%s' "$out" | head -n 1 | jq -r .id)
desk_wait_state "$cid" stored; ok $? "a correction is stored"
is "$(sql "$db" "SELECT supersedes FROM tongxin.events WHERE event_id = '$cid'")" "$id" "superseding the first report"
is "$(dget "/api/reports/$id" | jq -r '.corrections[0].id')" "$cid" "the first report shows its correction"
out=$(dpost /api/reports '{"form_token":"0123456789abcdef0007","type":"retraction","occurred_at":"2025-04-01 09:30","supersedes":"'"$cid"'","attrs":{}}')
xid=$(printf '%s' "$out" | head -n 1 | jq -r .id)
desk_wait_state "$xid" stored; ok $? "a retraction is stored"

# Offline: kept, shown waiting, sent when the collector is back.  The desk
# restarted meanwhile still has its forms (the registry's cache).
collector_stop
desk_stop
desk_start d1 || exit 1
desk_session
is "$(dget /api/registry | jq -r '.types[] | select(.code == "visit") | .name_zh')" "走访互访" \
   "a desk started offline has the registry it cached"
out=$(dpost /api/reports '{"form_token":"0123456789abcdef0008","type":"visit","occurred_at":"2025-05-01 10:00","attrs":{"direction":"inbound","delegates":"8"}}')
is "$(printf '%s' "$out" | tail -n 1)" 200 "offline, a report is still accepted"
oid=$(printf '%s' "$out" | head -n 1 | jq -r .id)
sleep 1
is "$(dget "/api/reports/$oid" | jq -r .state)" waiting "and waits"
is "$(dget /api/status | jq -r '(.spool > 0) | tostring')" true "status: the spool holds it"
for i in $(seq 100); do [ "$(dget /api/status | jq -r .connected)" = false ] && break; sleep 0.1; done
is "$(dget /api/status | jq -r .connected)" false "status: offline"
collector_start c1 || exit 1
desk_wait_state "$oid" stored 30; ok $? "stored once the collector is back"
is "$(count "WHERE event_id = '$oid'")" 1 "it is in PostgreSQL"
is "$(dget /api/status | jq -r '.connected, (.last_ack != "")' | tr '\n' ' ')" "true true " \
   "status: connected, with the last acknowledgement"

# Spreadsheets: UTF-8 with a BOM, then the same rows in GBK.
tmpl=$(dget "/api/template?type=visit")
is "$(printf '%s' "$tmpl" | head -c 3 | od -An -tx1 | tr -d ' ')" efbbbf "the template is UTF-8 with a BOM (Excel)"
like "$tmpl" '"发生时间","对口地区",' "with Chinese column headers"
hdr=$(printf '%s' "$tmpl" | tail -c +4 | tr -d '\r')
{ printf '\357\273\277%s\r\n' "$hdr"
  printf '2025-06-01 10:00,贡嘎县,8,来访,\r\n'
  printf '2025-06-02 15:30,540522,12,outbound,对接\r\n'; } > "$T/visits.csv"
imp() { curl -s -b "$T/jar" -c "$T/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: text/csv' \
             --data-binary "@$1" "$durl/api/import?type=visit&name=$(basename "$1")&commit=$2"; }
out=$(imp "$T/visits.csv" 0)
is "$(printf '%s' "$out" | jq -r '"\(.total) \(.bad)"')" "2 0" "a UTF-8 file with a BOM: two good rows in the preview"
is "$(count "WHERE type = 'visit'")" 1 "the preview sends nothing"
out=$(imp "$T/visits.csv" 1)
is "$(printf '%s' "$out" | jq -r .sent)" 2 "sent"
for i in $(printf '%s' "$out" | jq -r '.ids[]'); do desk_wait_state "$i" stored || diag "$i not stored"; done
is "$(count "WHERE type = 'visit'")" 3 "both rows are in PostgreSQL"
out=$(imp "$T/visits.csv" 1)
for i in $(printf '%s' "$out" | jq -r '.ids[]'); do desk_wait_state "$i" duplicate || diag "$i not duplicate"; done
is "$(count "WHERE type = 'visit'")" 3 "the same file again stores nothing new"
like "$(dget "/api/reports/$(printf '%s' "$out" | jq -r '.ids[0]')" | jq -r .original_at)" '^20[0-9]{2}-' \
   "its rows are shown already stored, with the date"
# GBK, two bad rows among good ones: flagged, nothing sent.
{ printf '%s\r\n' "$hdr"
  printf '2025-06-03 10:00,贡嘎县,5,来访,\r\n'
  printf '2025-06-04,贡嘎县,5,来访,\r\n'
  printf '2025-06-05 10:00,火星,5,来访,\r\n'; } | iconv -f UTF-8 -t GBK > "$T/gbk.csv"
out=$(imp "$T/gbk.csv" 0)
is "$(printf '%s' "$out" | jq -r '"\(.total) \(.bad)"')" "3 2" "a GBK file: three rows, two flagged"
like "$(printf '%s' "$out" | jq -r '.rows[2].problems[0].message')" '火星' "the bad region is named, in Chinese"
is "$(printf '%s' "$(imp "$T/gbk.csv" 1)" | jq -r .sent)" null "a file with problems is not sent"
{ printf '%s\r\n' "$hdr"; printf '2025-06-03 10:00,贡嘎县,5,来访,\r\n'; } | iconv -f UTF-8 -t GBK > "$T/gbk2.csv"
out=$(imp "$T/gbk2.csv" 1)
for i in $(printf '%s' "$out" | jq -r '.ids[]'); do desk_wait_state "$i" stored || diag "$i not stored"; done
is "$(count "WHERE type = 'visit'")" 4 "corrected, the GBK file's row is stored"
{ printf '%s\r\n' "$hdr"; seq 5001 | sed 's/.*/2025-06-03 10:00,540522,5,来访,/'; } > "$T/long.csv"
like "$(imp "$T/long.csv" 0 | jq -r .error)" '5000' "a file of more than 5000 rows is refused, saying the limit"
# The spreadsheet's 8 MiB only for the desk's own session (cookie and CSRF
# token): a stranger's 1 MiB is refused at the form's 64 KiB, not held first.
head -c $((1024 * 1024)) /dev/zero | tr '\0' 'x' > "$T/mib.csv"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary "@$T/mib.csv" \
      "$durl/api/import?type=visit")" 413 "a spreadsheet without the session's token: refused past 64 KiB (413)"
# A quote never closed would swallow the rest of the file into one field:
# refused, naming the record, never a preview short of rows.
{ printf '%s\r\n' "$hdr"; printf '2025-06-03 10:00,540522,5,来访,\r\n'; printf '2025-06-04 10:00,540522,6,"来访,\r\n'
  printf '2025-06-05 10:00,540522,7,来访,\r\n'; } > "$T/quote.csv"
out=$(curl -s -w '\n%{http_code}' -b "$T/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: text/csv' -H 'X-Desk-Lang: zh-CN' \
      --data-binary "@$T/quote.csv" "$durl/api/import?type=visit&name=quote.csv&commit=0")
is "$(printf '%s' "$out" | tail -n 1)" 422 "a quote never closed: the file is refused"
like "$(printf '%s' "$out" | head -n 1 | jq -r .error)" '第 3 条记录中的引号' "...naming the record where it opens, in Chinese"
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' 'x' > "$T/big.csv"
is "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: text/csv' \
      --data-binary "@$T/big.csv" "$durl/api/import?type=visit")" 413 "a request over the size cap is refused"
n_before=$(dget /api/reports | jq -c '[.reports[] | .state] | group_by(.) | map({(.[0]): length}) | add')
desk_stop
# Restarted on its data: the same reports, the same states (the journal).
desk_start d1 || exit 1
desk_session
is "$(dget /api/reports | jq -c '[.reports[] | .state] | group_by(.) | map({(.[0]): length}) | add')" "$n_before" \
   "after a restart, My reports is the same (the journal)"
desk_stop

# A crash in the middle of a submit (faultfs: SIGKILL at that very write).
# The spool is written before the journal: killed at the spool's write, the
# report is neither listed nor sent (the clerk saw no answer); killed at the
# journal's write, the event is in the spool and reaches the collector once
# the desk is back.  Never a report listed "waiting" that no spool holds.
_asan=${ASAN_OPTIONS-}
crash_submit() {    # crash_submit NAME PREFIX RULE PARTICIPANTS
    # (under ASan the shim comes before its runtime: allowed, as in spool_crash.t)
    export FAULTFS="$3" FAULTFS_PREFIX="$2" LD_PRELOAD="$PWD/$B/tests/faultfs.so" \
           ASAN_OPTIONS="${_asan:+$_asan:}verify_asan_link_order=0"
    desk_start "$1"; _rc=$?
    unset FAULTFS FAULTFS_PREFIX LD_PRELOAD
    if [ -n "$_asan" ]; then ASAN_OPTIONS=$_asan; else unset ASAN_OPTIONS; fi
    [ $_rc = 0 ] || return 1
    desk_session
    dpost /api/reports '{"form_token":"0123456789abcdef01'"$4"'","type":"cloud_meeting","occurred_at":"2025-07-01 09:00","attrs":{"participants":"'"$4"'"}}' >/dev/null
    wait "$dpid" 2>/dev/null
    desk_start "$1" || return 1
    desk_session
}
crash_submit d3 "$T/d3/spool/seg-" pwrite:2:KILL 71     # the startup's is the first
sleep 2
is "$(dget /api/reports | jq -r '[.reports[] | select(.state == "waiting")] | length')" 0 \
   "killed at the spool's write: no report is left waiting that no spool holds"
is "$(count "WHERE attrs->>'participants' = '71'")" 0 "...and none was sent"
desk_stop
crash_submit d4 "$T/d4/journal.jsonl" write:1:KILL 72
for i in $(seq 300); do [ "$(count "WHERE attrs->>'participants' = '72'")" = 1 ] && break; sleep 0.1; done
is "$(count "WHERE attrs->>'participants' = '72'")" 1 "killed at the journal's write: the spooled event reaches the collector after the restart"
out=$(dpost /api/reports '{"form_token":"0123456789abcdef0199","type":"cloud_meeting","occurred_at":"2025-07-01 09:00","attrs":{"participants":"72"}}')
rid=$(printf '%s' "$out" | head -n 1 | jq -r .id)
desk_wait_state "$rid" duplicate 30; ok $? "the clerk, who saw no answer, sends it again: already stored, counted once"
desk_stop

# A desk speaking CURVE to a collector that does not: the status says what
# the handshakes say (the page shows it to the clerk, for the administrator).
$B/tongxin-admin key server --out "$T/server.key" >/dev/null
$B/tongxin-admin --db "$db" key issue u1 --out "$T/u1.key" >/dev/null
TONGXIN_LOCALEDIR=$B/locale $B/tongxin-desk --unit u1 --key "$T/u1.key" --server-key "$T/server.key.pub" \
    --endpoint "$endpoint" --data "$T/d3" --listen 127.0.0.1:0 >"$T/d3.log" 2>&1 &
dpid=$!; _dpids="$_dpids $dpid"
wait_log "$T/d3.log" 'msg="port"' 1 10
durl=http://127.0.0.1:$(sed -n 's/.*msg="port" port=\([0-9]*\).*/\1/p' "$T/d3.log")
rm -f "$T/jar"
for i in $(seq 150); do [ "$(dget /api/status | jq -r .link)" -ge 2 ] && break; sleep 0.1; done
is "$(dget /api/status | jq -r '"\(.connected) \(.link)"')" "false 4" \
   "status: offline, the collector speaks another mechanism (TONGXIN_LINK_MECHANISM)"
desk_stop

# A LAN address: refused without users, a login required with them.
TONGXIN_LOCALEDIR=$B/locale $B/tongxin-desk --unit u1 --insecure --endpoint "$endpoint" --data "$T/d2" \
    --listen 0.0.0.0:0 >"$T/d2.err" 2>&1
is "$?" 1 "a non-loopback address without users: the desk refuses to start"
like "$(cat "$T/d2.err")" 'passwd' "and says how to add a user"
echo precious > "$T/victim"; ln -s "$T/victim" "$T/d2/users.tmp"
printf 'secret pass\n' | $B/tongxin-desk --data "$T/d2" passwd clerk 2>/dev/null
is "$(cat "$T/victim")" precious "passwd never writes through a link left at users.tmp"
like "$(cat "$T/d2/users")" '^clerk:\$argon2id\$' "passwd stores an Argon2id hash"
rm -f "$T/jar"
desk_start d2 --listen 0.0.0.0:0 || exit 1
desk_session
is "$(dget /api/session | jq -r .login_required)" true "a login is required"
is "$(dget /api/reports -o /dev/null -w '%{http_code}')" 401 "the API needs a login"
is "$(dpost /api/login '{"user":"clerk","password":"wrong"}' | tail -n 1)" 401 "a wrong password is refused"
out=$(dpost /api/login '{"user":"clerk","password":"secret pass"}')
is "$(printf '%s' "$out" | tail -n 1)" 200 "the right one logs in"
csrf=$(printf '%s' "$out" | head -n 1 | jq -r .csrf)
is "$(dget /api/reports -o /dev/null -w '%{http_code}')" 200 "and the API answers"
for i in $(seq 10); do dpost /api/login '{"user":"clerk","password":"guess'$i'"}' >/dev/null; done
is "$(dpost /api/login '{"user":"clerk","password":"secret pass"}' | tail -n 1)" 429 \
   "after 10 wrong passwords in a minute, logins wait (429), even the right one"
# ...from that address only: a guesser does not lock out the other clerks.
csrf2=$(curl -s --interface 127.0.0.2 -c "$T/jar2" "$durl/api/session" | jq -r .csrf)
is "$(curl -s --interface 127.0.0.2 -o /dev/null -w '%{http_code}' -b "$T/jar2" -c "$T/jar2" -H "X-CSRF-Token: $csrf2" \
      -H 'Content-Type: application/json' --data-binary '{"user":"clerk","password":"secret pass"}' \
      "$durl/api/login")" 200 "a clerk at another address still logs in"
desk_stop
