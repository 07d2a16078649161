#!/bin/sh
# tongxin-send: JSON lines delivered and stored once (also when the file is
# sent twice), bad lines reported as LINE: CODE: message while the rest goes
# through, the documented exit codes, the spool lock; numbers stored
# exactly as written or refused; a refused key, a wrong server key or a
# collector of another mechanism end the run at once with exit 5.
. tests/lib.sh
plan 52
ADMIN=$B/tongxin-admin
SEND=$B/tongxin-send
db=$(newdb send)
$ADMIN --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
$ADMIN --db "$db" unit add u1 --name U1 --kind department >/dev/null
ep="ipc://$T/c.sock"
start_collector "$ep" --db "$db" --insecure || exit 1
send() { $SEND --unit u1 --insecure --endpoint "$ep" --spool "$T/spool" --wait 10 "$@"; }
count() { sql "$db" "SELECT count(*) FROM tongxin.events"; }

# Ids made now so they fall inside the partitions.
mkid() { ms=$(($(date +%s%3N) + $1)); h=$(printf '%012x' $ms)
         printf '%s-%s-7abc-8def-%012d\n' "${h%????}" "${h#????????}" $1; }
ids=$(for i in 1 2 3; do mkid $i; done)
id1=$(echo "$ids" | sed -n 1p); id2=$(echo "$ids" | sed -n 2p); id3=$(echo "$ids" | sed -n 3p)
cat > "$T/good.jsonl" <<JSON
{"id":"$id1","unit":"u1","type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00+08:00","partner":"540522","attrs":{"participants":12,"topic":"云座谈 \"quoted\""}}

{"id":"$id2","type":"donation","occurred_at":"2025-03-31T21:00:00Z","attrs":{"amount_yuan":70000.50,"purpose":"捐赠"}}
{"id":"$id3","type":"visit","occurred_at":"2025-05-01T10:00:00+08:00","attrs":{"direction":"inbound","delegates":8}}
JSON
send "$T/good.jsonl" 2>"$T/err"; is $? 0 "a file of good events: exit 0"
is "$(count)" 3 "every line stored"
is "$(sql "$db" "SELECT (SELECT attrs->>'topic' FROM tongxin.events WHERE event_id = '$id1') || '|' ||
                         (SELECT attrs->>'amount_yuan' FROM tongxin.events WHERE event_id = '$id2')")" \
   '云座谈 "quoted"|70000.50' "values arrive as sent (exact decimals, UTF-8, quotes)"
is "$(sql "$db" "SELECT occurred_at AT TIME ZONE 'UTC' FROM tongxin.events WHERE event_id = '$id1'")" \
   "2025-03-31 21:00:00" "the offset is applied"
send "$T/good.jsonl" 2>"$T/err"; is $? 0 "the same file again: exit 0"
is "$(count)" 3 "and nothing stored twice"

ms=$(($(date +%s%3N) + 10)); h=$(printf '%012x' $ms); id4="${h%????}-${h#????????}-7abc-8def-000000000004"
cat > "$T/mixed.jsonl" <<JSON
{"type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"participants":0}}
{"type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"participants":5}
{"type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00","attrs":{"participants":5}}
{"type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"participants":[5]}}
{"id":"$id4","type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"participants":5}}
{"type":"nosuch","occurred_at":"2025-04-01T05:00:00+08:00"}
JSON
send --no-registry "$T/mixed.jsonl" 2>"$T/err"; is $? 1 "some lines refused: exit 1 (no registry: the collector refuses what only it can judge)"
like "$(grep '^1: ' "$T/err")" "^1: out_of_range: " "the collector's refusal names the line and code"
like "$(grep '^2: ' "$T/err")" "^2: invalid_json: " "invalid JSON names the line"
like "$(grep '^3: ' "$T/err")" "^3: bad_time: " "a time without an offset is refused locally"
like "$(grep '^4: ' "$T/err")" "^4: bad_field: " "an array value is refused locally"
like "$(grep '^6: ' "$T/err")" "^6: unknown_type: " "unknown type from the collector"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE event_id = '$id4'")" 1 "the good line among them is stored"
is "$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events")" 2 "the collector recorded its two refusals; local ones never reached the spool"

# Numbers: sent exactly as written (by file and by flag), or refused
# saying how to write them; never rounded.  jansson alone would read each
# as a double or a 64-bit integer.
d64=1234.56789012345678901234567890123456789012345678901234567890123
d70=1234.56789012345678901234567890123456789012345678901234567890123456789
big=123456789012345678901234567890
for i in 1 2 3 4 5 6 7; do eval "n$i=$(mkid $((20 + i)))"; done
cat > "$T/numbers.jsonl" <<JSON
{"id":"$n1","type":"investment","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"amount_yuan":1.50,"annual_output_yuan":1.5,"jobs":-0}}
{"id":"$n2","type":"investment","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"amount_yuan":1.5e3,"annual_output_yuan":2E-2}}
{"id":"$n3","type":"investment","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"amount_yuan":$d64,"annual_output_yuan":-0.0}}
{"id":"$n4","type":"investment","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"amount_yuan":$d70}}
{"id":"$n5","type":"investment","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"amount_yuan":$big}}
{"id":"$n6","type":"investment","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"amount_yuan":"0.1000000000000000000000000000000000001"}}
{"id":"$n7","type":"investment","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"amount_yuan":1e400}}
JSON
send "$T/numbers.jsonl" 2>"$T/num.err"; is $? 1 "numbers by file: the refused ones give exit 1"
val() { sql "$db" "SELECT coalesce(attrs->>'$2', '-') FROM tongxin.events WHERE event_id = '$1'
                   UNION ALL SELECT 'absent' WHERE NOT EXISTS (SELECT 1 FROM tongxin.events WHERE event_id = '$1')"; }
is "$(val $n1 amount_yuan) $(val $n1 annual_output_yuan) $(val $n1 jobs)" "1.50 1.5 0" \
   "1.50 and 1.5 are stored as written; -0 is the integer 0"
is "$(val $n2 amount_yuan) $(val $n2 annual_output_yuan)" "1500 0.02" "exponent forms are stored as the exact decimals"
is "$(val $n3 amount_yuan) $(val $n3 annual_output_yuan)" "$d64 0.0" \
   "a 64-character decimal is stored digit for digit (a double keeps 16); -0.0 is numeric zero"
is "$(val $n4 amount_yuan)" absent "a 70-character decimal is not rounded into the database"
like "$(grep '^4: ' "$T/num.err")" "^4: bad_number: attrs.amount_yuan: the number has 70 characters; .*at most 64, and never rounded: write it with fewer digits" \
     "...but refused, saying why and what to do"
is "$(val $n5 amount_yuan)" absent "an integer past 64 bits is not stored"
like "$(grep '^5: ' "$T/num.err")" "^5: out_of_range: attrs.amount_yuan: $big is an integer outside the int range .*write it as a string, \"$big\"" \
     "...and refused as out_of_range with the way to send it as a decimal"
is "$(val $n6 amount_yuan)" "0.1000000000000000000000000000000000001" "a decimal string is stored exactly"
like "$(grep '^7: ' "$T/num.err")" "^7: bad_number: attrs.amount_yuan: 1e400 is beyond the range of a decimal \(.*binary64" \
     "a number beyond binary64 is refused here, with the range"
fid=$(mkid 30)
send --type investment --at 2025-04-01T05:00:00+08:00 --id "$fid" --attr amount_yuan=1.50 \
     --attr annual_output_yuan=2E-2 --attr jobs=-0 2>"$T/flag.err"
is "$? $(val $fid amount_yuan) $(val $fid annual_output_yuan) $(val $fid jobs)" "0 1.50 0.02 0" \
   "by flag the same: 1.50, 2E-2 and -0 stored as written"
fid=$(mkid 31)
send --type investment --at 2025-04-01T05:00:00+08:00 --id "$fid" --attr amount_yuan=$big 2>"$T/flag.err"
is "$? $(val $fid amount_yuan)" "1 absent" "by flag an integer past 64 bits is refused, not guessed"
like "$(cat "$T/flag.err")" "^-: out_of_range: --attr amount_yuan: $big is an integer outside the int range .*give --attr amount_yuan:numeric=$big" \
     "...saying how to send it as a decimal"
send --type investment --at 2025-04-01T05:00:00+08:00 --id "$fid" --attr amount_yuan:numeric=$big 2>"$T/flag.err"
is "$? $(val $fid amount_yuan) $(grep -c 'out_of_range' "$T/flag.err")" "1 absent 1" \
   "with :numeric it is sent as written, and the collector refuses it past the registry's bound (10^15)"
send --type investment --at 2025-04-01T05:00:00+08:00 --id "$fid" --attr amount_yuan:numeric=999999999999999.000000000000001 2>"$T/flag.err"
is "$? $(val $fid amount_yuan)" "0 999999999999999.000000000000001" "within it, stored digit for digit"
send --type investment --at 2025-04-01T05:00:00+08:00 --attr amount_yuan:numeric=$d70 2>"$T/flag.err"
like "$? $(cat "$T/flag.err")" "^1 -: bad_number: --attr amount_yuan: the number has 70 characters" \
     "by flag a decimal over 64 characters is refused as the protocol's bad_number"

# Hostile or odd input: a line of thousands of values is refused before
# jansson builds them (a 15 MiB line of [{},{},...] took 1.1 GB); a UTF-8
# byte order mark is skipped; UTF-16 is refused saying how to convert it.
awk 'BEGIN { printf "{\"type\":\"cloud_meeting\",\"occurred_at\":\"2025-04-01T05:00:00Z\",\"attrs\":{\"a\":[";
             for (i = 0; i < 5000; i++) printf "{},"; print "{}]}}" }' > "$T/values.jsonl"
send "$T/values.jsonl" 2>"$T/values.err"
like "$? $(cat "$T/values.err")" "^1 1: bad_field: the line holds more than 1024 values; an event has at most 64 attributes" \
     "a line of thousands of values is refused as such"
bid=$(mkid 40)
printf '\357\273\277{"id":"%s","type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"participants":4}}\r\n' \
    "$bid" > "$T/bom.jsonl"
send "$T/bom.jsonl" 2>"$T/bom.err"
is "$? $(val $bid participants)" "0 4" "a UTF-8 byte order mark at the start is skipped"
printf '\377\376{\000}\000\n\000' > "$T/utf16.jsonl"
send "$T/utf16.jsonl" 2>"$T/utf16.err"
like "$(head -1 "$T/utf16.err")" "^1: bad_utf8: the input is UTF-16 .*convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8" \
     "UTF-16 is refused saying how to convert it"

$SEND --unit u1 --insecure --type cloud_meeting >/dev/null 2>&1; is $? 2 "usage error: exit 2"
$SEND --unit u1 --insecure --endpoint tcp://collector --spool "$T/spool-ep" --wait 30 --type cloud_meeting \
    --at 2025-04-01T05:00:00+08:00 2>"$T/ep.err"
like "$? $(cat "$T/ep.err")" "^5 tongxin-send: endpoint 'tcp://collector' is not valid: use tcp://HOST:PORT or ipc://PATH" \
     "a malformed endpoint: exit 5 at once, not an outage after --wait"
kill $cpid; wait $cpid 2>/dev/null
$SEND --unit u1 --insecure --endpoint "$ep" --spool "$T/spool2" --wait 1 --type cloud_meeting \
    --at 2025-04-01T05:00:00+08:00 --attr participants=3 2>/dev/null; is $? 3 "no collector: exit 3 after --wait"
$B/tests/tools/tx-driver --endpoint "$ep" --unit u1 --insecure --spool "$T/spool2" --count 1 --wait 2 \
    >/dev/null 2>&1 &
dpid=$!
sleep 0.5
$SEND --unit u1 --insecure --endpoint "$ep" --spool "$T/spool2" --wait 1 --type cloud_meeting \
    --at 2025-04-01T05:00:00+08:00 --attr participants=3 2>"$T/lock.err"
like "$(cat "$T/lock.err")" "in use by pid" "a second process on one spool is refused"
wait $dpid || true   # the driver times out: its collector is gone

# A full spool: exit 4, and the message says which limit was hit.
awk 'BEGIN { for (i = 0; i < 12000; i++)
    printf "{\"type\":\"cloud_meeting\",\"occurred_at\":\"2025-04-01T05:00:00+08:00\",\"attrs\":{\"participants\":%d,\"topic\":\"%0100d\"}}\n", i % 50 + 1, i }' \
    > "$T/many.jsonl"
$SEND --unit u1 --insecure --endpoint "$ep" --spool "$T/spool3" --spool-cap 1 --wait 0 "$T/many.jsonl" 2>"$T/cap.err"
is $? 4 "past --spool-cap: exit 4"
like "$(cat "$T/cap.err")" "the spool .* is full \(cap 1 MiB\): this event and the rest of the input were not sent" \
     "...naming the cap"
mkdir -p "$T/small"
if mount -t tmpfs -o size=256k tongxin-send-full "$T/small" 2>/dev/null; then
    at_exit "umount '$T/small'"
    $SEND --unit u1 --insecure --endpoint "$ep" --spool "$T/small/spool" --wait 0 "$T/many.jsonl" 2>"$T/disk.err"
    is $? 4 "a full file system: exit 4, as at the cap"
    like "$(cat "$T/disk.err")" "the spool .* is full \(no room left on its file system\)" "...naming the file system"
else
    skip 2 "cannot mount a tmpfs here"
fi

# CURVE: a key the collector refuses, a wrong server key and a collector
# without CURVE each end the run at once (exit 5, as documented) with one
# line saying which key or flag to check, not after the whole --wait.
$ADMIN key server --out "$T/server.key" >/dev/null
$ADMIN key server --out "$T/rogue.key" >/dev/null           # never registered
$ADMIN --db "$db" key issue u1 --out "$T/u1.key" >/dev/null
$ADMIN --db "$db" unit add u2 --name U2 --kind department >/dev/null
$ADMIN --db "$db" key issue u2 --out "$T/u2.key" >/dev/null
$ADMIN --db "$db" key revoke u2 >/dev/null
cep="ipc://$T/curve.sock"
start_collector "$cep" --db "$db" --key "$T/server.key" || exit 1
# csend NAME UNIT ARGS...: one event by flags, --wait 30; sets rc and ms
csend() {
    name=$1 unit=$2; shift 2
    t0=$(date +%s%3N)
    $SEND --unit "$unit" --endpoint "$cep" --spool "$T/spool-$name" --wait 30 --type cloud_meeting \
        --at 2025-04-01T05:00:00+08:00 --attr participants=3 "$@" 2>"$T/$name.err"
    rc=$?; ms=$(( $(date +%s%3N) - t0 ))
}
csend good u1 --key "$T/u1.key" --server-key "$T/server.key.pub"
is "$rc" 0 "CURVE with the unit's key: stored"
csend wrongserver u1 --key "$T/u1.key" --server-key "$T/rogue.key.pub"
ok $(( rc == 5 && ms < 10000 ? 0 : 1 )) "a wrong --server-key: exit 5 in ${ms} ms, not after --wait 30 (exit $rc)"
like "$(cat "$T/wrongserver.err")" "^tongxin-send: no CURVE handshake with the collector at $cep succeeded \([0-9]+ tries, it closed the connection each time\): check --server-key \(the collector's public key\) and --endpoint; the events stay in " \
     "...saying to check --server-key, not that the collector is down"
is "$(wc -l < "$T/wrongserver.err")" 1 "...in one line"
csend unknown u1 --key "$T/rogue.key" --server-key "$T/server.key.pub"
ok $(( rc == 5 && ms < 10000 ? 0 : 1 )) "an unregistered unit key: exit 5 in ${ms} ms (exit $rc)"
like "$(cat "$T/unknown.err")" "^tongxin-send: the collector at $cep refused the key of unit u1 \(--key $T/rogue.key\) [0-9]+ times: it is unknown or revoked; ask the administrator to issue one \(tongxin-admin key issue u1\)" \
     "...saying the collector refused this unit's key and how to get one"
csend revoked u2 --key "$T/u2.key" --server-key "$T/server.key.pub"
ok $(( rc == 5 && ms < 10000 ? 0 : 1 )) "a revoked unit key at the handshake: exit 5 in ${ms} ms (exit $rc)"
like "$(cat "$T/revoked.err")" "refused the key of unit u2 .* unknown or revoked; ask the administrator to issue one \(tongxin-admin key issue u2\)" \
     "...with the same message"
csend plain u1 --insecure
ok $(( rc == 5 && ms < 10000 ? 0 : 1 )) "--insecure against a CURVE collector: exit 5 in ${ms} ms (exit $rc)"
# libzmq reports the mechanism mismatch, or (as often) just the close.
like "$(cat "$T/plain.err")" "^tongxin-send: (the collector at $cep requires CURVE: |no handshake with the collector at $cep succeeded .* it may require CURVE \()give --key and --server-key instead of --insecure" \
     "...saying to give the keys"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE unit_code = 'u2'")" 0 "the refused runs stored nothing"
