#!/bin/sh
# tongxin-send tells the clerk (issue 14): one summary line on stderr
# ("3 events: 2 stored, 1 already stored on DATE"), the events already
# stored listed in line order with the stored event's date and id, a
# retyped command and a file sent twice exit 0 and store nothing twice,
# the events an earlier run left in the spool counted apart; refusals in
# line order; a byte order mark skipped; an input without events said;
# the same content again on purpose with --nth / "nth"; -q.
. tests/lib.sh
plan 45
ADMIN=$B/tongxin-admin
SEND=$B/tongxin-send
db=$(newdb sendidem)
$ADMIN --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
$ADMIN --db "$db" unit add u1 --name U1 --kind department >/dev/null
ep="ipc://$T/c.sock"
start_collector "$ep" --db "$db" --insecure || exit 1
# Dates are the organisation's local time, the TZ of the process.
export TZ=Asia/Shanghai
send() { $SEND --unit u1 --insecure --endpoint "$ep" --spool "$T/spool" --wait 10 "$@"; }
count() { sql "$db" "SELECT count(*) FROM tongxin.events WHERE attrs->>'topic' = '$1'"; }
# when TOPIC [N]: the local date and minute the event of TOPIC (and
# participants N) was received, and its id: "DATE HH:MM ID", one per line
when() { sql "$db" "SELECT to_char(received_at AT TIME ZONE '$TZ', 'YYYY-MM-DD HH24:MI') || ' ' || event_id
                    FROM tongxin.events WHERE attrs->>'topic' = '$1' ${2:+AND (attrs->>'participants')::int = $2}
                    ORDER BY (attrs->>'participants')::int"; }
meeting() { printf '{"type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"participants":%s,"topic":"%s"}%s}\n' "$@"; }

# ---------------------------------------------------------------- the same file twice
for n in 1 2 3; do meeting $n idem-file ""; done > "$T/three.jsonl"
send "$T/three.jsonl" 2>"$T/1.err"
is "$?|$(cat "$T/1.err")" "0|tongxin-send: 3 events: 3 stored" "a file of three new events: one summary line"
send "$T/three.jsonl" 2>"$T/2.err"; rc=$?
is "$rc" 0 "the same file again (no ids in it): exit 0"
is "$(count idem-file)" 3 "...and each event is stored once"
day=$(when idem-file | sed -n '1s/ .*//p')
is "$(sed -n 1p "$T/2.err")" "tongxin-send: 3 events: 3 already stored on $day" \
   "the summary says they were already stored, and on which day (local time)"
is "$(grep '^line ' "$T/2.err")" "$(when idem-file | awk '{ printf "line %d: already stored on %s %s (id %s)\n", NR, $1, $2, $3 }')" \
   "each line is listed in order with the stored event's date, time and id"
like "$(tail -n 1 "$T/2.err")" '^tongxin-send: if one of these is a second, identical activity, give its line "nth": 2 and send the file again$' \
     "...and how to send a second identical activity, once"
is "$(grep -c 'nth' "$T/2.err")" 1 "the hint is given once per run, not per line"
send -q "$T/three.jsonl" 2>"$T/3.err"
is "$?|$(cat "$T/3.err")" "0|" "-q: a third time, exit 0 and not a word"
is "$(count idem-file)" 3 "still stored once"

# ---------------------------------------------------------------- by flags; --nth
flag() { send --type cloud_meeting --at 2025-04-01T05:00:00+08:00 --attr participants=2 --attr topic=idem-file "$@"; }
flag 2>"$T/f1.err"; rc=$?
is "$rc|$(sed -n 1p "$T/f1.err")" "0|tongxin-send: the event was already stored on $(when idem-file 2 | cut -d' ' -f1-2) (id $(when idem-file 2 | cut -d' ' -f3))" \
   "the same content by flags: already stored, with the date and id of the stored event"
is "$(sed -n 2p "$T/f1.err")" "tongxin-send: if this is a second, identical activity, send it with --nth 2" \
   "...and the hint names --nth 2"
flag --nth 2 2>"$T/f2.err"
is "$?|$(cat "$T/f2.err")" "0|tongxin-send: the event was stored" "--nth 2: a second identical activity is stored"
is "$(count idem-file)" 4 "...as a second event"
flag --nth 2 2>"$T/f3.err"
like "$?|$(cat "$T/f3.err")" "^0\|tongxin-send: the event was already stored on " "--nth 2 again: already stored"
is "$(count idem-file)" 4 "...not a third time"
{ meeting 3 idem-file ',"nth":2'; meeting 3 idem-file ',"nth":2'; meeting 3 idem-file ',"nth":1'; } > "$T/nth.jsonl"
send "$T/nth.jsonl" 2>"$T/nth.err"
is "$?|$(sed -n 1p "$T/nth.err")" "0|tongxin-send: 3 events: 1 stored, 2 already stored on $day" \
   '"nth": 2 in a file: stored once; "nth": 1 is the first, already stored'
is "$(grep -c '^line [23]: already stored on ' "$T/nth.err")" 2 "...lines 2 and 3 listed"
is "$(count idem-file)" 5 "five events of that content: nth 1 and 2 of participants 2 and 3, nth 1 of 1"
{ meeting 9 idem-nth ',"nth":0'; meeting 9 idem-nth ',"nth":"2"'; meeting 9 idem-nth ',"nth":1.5'; meeting 9 idem-nth ',"nth":65536'; } > "$T/badnth.jsonl"
send "$T/badnth.jsonl" 2>"$T/badnth.err"
is "$?|$(grep -c '^[1-4]: bad_field: nth: .*is not a whole number from 1 to 65535' "$T/badnth.err")" "1|4" \
   "nth 0, \"2\", 1.5 and 65536 are refused (bad_field), saying what nth takes"
send --type cloud_meeting --at 2025-04-01T05:00:00+08:00 --nth 0 2>"$T/nth0.err"
like "$?|$(cat "$T/nth0.err")" "^2\|tongxin-send: --nth: '0' is not a number from 1 to 65535" "--nth 0: usage error"
send --nth 2 "$T/three.jsonl" 2>"$T/nthfile.err"
like "$?|$(cat "$T/nthfile.err")" "^2\|.*not both: in a FILE, give a line \"nth\": N" "--nth with FILE: usage error saying where nth goes"
$SEND --help | grep -q -- '--nth N .*the same content again on purpose: an identical'
ok $? "--help explains --nth"
$SEND --help | grep -q 'second meeting is --nth 2'
ok $? "...with the second meeting"

# ---------------------------------------------------------------- retyped after a timeout
for n in 1 2 3; do meeting $n idem-retyped ""; done > "$T/retyped.jsonl"
kill $cpid; wait $cpid 2>/dev/null
send "$T/retyped.jsonl" --wait 1 2>"$T/r1.err"
is "$?" 3 "no collector: the first run times out, its events stay in the spool"
start_collector "$ep" --db "$db" --insecure || exit 1
send "$T/retyped.jsonl" 2>"$T/r2.err"; rc=$?
is "$rc" 0 "the clerk retypes the command: exit 0"
is "$(count idem-retyped)" 3 "...and each event is stored once"
# Both copies go out in this run, in batches that the collector's writers
# may commit in either order: of each pair one is stored, the other is
# answered as its repeat (so far the earlier run's copy, oddly).
rday=$(when idem-retyped | sed -n '1s/ .*//p')
summary=$(sed -n 1p "$T/r2.err")
like "$summary" "^tongxin-send: 3 events: [^;]*; and 3 events from an earlier run: [^;]*\$" \
     "the summary counts the earlier run's events apart: they were delivered now"
stored() { printf '%s' "$1" | grep -oE '(: |, )[0-9]+ stored' | grep -oE '[0-9]+' || echo 0; }
already() { printf '%s' "$1" | grep -oE "[0-9]+ already stored on $rday" | grep -oE '^[0-9]+' || echo 0; }
mine=${summary%%; and *} earlier=${summary#*; and }
s1=$(stored "$mine") d1=$(already "$mine") s2=$(stored "$earlier") d2=$(already "$earlier")
is "$((s1 + d1)) $((s2 + d2)) $((s1 + s2))" "3 3 3" \
   "...each pair once stored, once already stored ($s1 + $d1 of this run, $s2 + $d2 of the earlier)"
is "$(grep -c "^line [123]: already stored on $rday " "$T/r2.err")" "$d1" "...and this run's repeats are listed"

# ---------------------------------------------------------------- refusals in line order
{ printf '{"type":"nosuch","occurred_at":"2025-04-01T05:00:00+08:00"}\n'
  printf '{"type":\n'
  meeting 1 idem-order ""
  printf '{"type":"nosuch2","occurred_at":"2025-04-01T05:00:00+08:00"}\n'
  printf '{"type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00","attrs":{"participants":2}}\n'; } > "$T/order.jsonl"
send --no-registry "$T/order.jsonl" 2>"$T/order.err"    # the collector judges the types
is "$?" 1 "refused lines: exit 1"
is "$(grep -E '^[0-9]+: ' "$T/order.err" | cut -d: -f1-2 | tr '\n' ' ')" "1: unknown_type 2: invalid_json 4: unknown_type 5: bad_time " \
   "the collector's refusals and those made here, in line order"
is "$(tail -n 1 "$T/order.err")" "tongxin-send: 5 events: 1 stored, 4 refused (2 here, 2 by the collector)" \
   "the summary counts them"
awk 'BEGIN { for (i = 1; i <= 700; i++)
    if (i % 2) printf "{\"type\":\"nosuch\",\"occurred_at\":\"2025-04-01T05:00:00+08:00\",\"attrs\":{\"n\":%d}}\n", i
    else print "{\"type\":" }' > "$T/order2.jsonl"
send "$T/order2.jsonl" 2>"$T/order2.err"
grep -E '^[0-9]+: ' "$T/order2.err" | cut -d: -f1 > "$T/order2.lines"
is "$(wc -l < "$T/order2.lines")" 700 "700 refusals (350 by the collector, spooled in two batches), each reported"
sort -n -c "$T/order2.lines" 2>/dev/null
ok $? "...in line order"

# ---------------------------------------------------------------- byte order mark
printf '\357\273\277' > "$T/bom.jsonl"; meeting 1 idem-bom "" >> "$T/bom.jsonl"; meeting 2 idem-bom "" >> "$T/bom.jsonl"
send "$T/bom.jsonl" 2>"$T/bom.err"
is "$?|$(cat "$T/bom.err")" "0|tongxin-send: 2 events: 2 stored" "a UTF-8 byte order mark: skipped, line 1 is stored"
{ printf '\357\273\277'; meeting 1 idem-bom ""; } | send - 2>"$T/bom2.err"
is "$?|$(sed -n 1p "$T/bom2.err")" "0|tongxin-send: 1 event: 1 already stored on $(when idem-bom 1 | cut -d' ' -f1)" \
   "on standard input too; sent again, already stored"
is "$(count idem-bom)" 2 "...once each"

# ---------------------------------------------------------------- no events
: > "$T/empty.jsonl"
send "$T/empty.jsonl" 2>"$T/e.err"
is "$?|$(cat "$T/e.err")" "0|tongxin-send: no events in $T/empty.jsonl" "an empty file: said so, exit 0"
printf '\n  \r\n\n' > "$T/blank.jsonl"
send "$T/blank.jsonl" 2>"$T/e.err"
is "$?|$(cat "$T/e.err")" "0|tongxin-send: no events in $T/blank.jsonl" "only blank lines: the same"
printf '\357\273\277\n' > "$T/bomonly.jsonl"
send -q "$T/bomonly.jsonl" 2>"$T/e.err"
is "$?|$(cat "$T/e.err")" "0|tongxin-send: no events in $T/bomonly.jsonl" "a byte order mark alone: the same, also with -q"
printf '' | send - 2>"$T/e.err"
is "$?|$(cat "$T/e.err")" "0|tongxin-send: no events in standard input" "empty standard input: the same"
send /dev/null 2>"$T/e.err"
is "$?|$(cat "$T/e.err")" "0|" "/dev/null (deliver the spool only) with an empty spool: nothing to say"
kill $cpid; wait $cpid 2>/dev/null
meeting 7 idem-null "" | send - --wait 0 2>"$T/n1.err"
is "$?|$(cat "$T/n1.err")" "0|tongxin-send: 1 event: 1 not answered yet (in the spool for the next tongxin-send)" \
   "--wait 0 without a collector: the summary says the event waits in the spool"
start_collector "$ep" --db "$db" --insecure || exit 1
send /dev/null 2>"$T/n2.err"
is "$?|$(cat "$T/n2.err")" "0|tongxin-send: 1 event from an earlier run: 1 stored" \
   "/dev/null delivers the spool and counts what it delivered"
is "$(count idem-null)" 1 "...stored"
