#!/bin/sh
# tongxin-send: JSON lines delivered and stored once (also when the file is
# sent twice), bad lines reported as LINE: CODE: message while the rest goes
# through, the documented exit codes, the spool lock.
. tests/lib.sh
plan 21
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
ids=$(for i in 1 2 3; do
    ms=$(($(date +%s%3N) + i)); h=$(printf '%012x' $ms)
    printf '%s-%s-7abc-8def-%012d\n' "${h%????}" "${h#????????}" $i
done)
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
send "$T/mixed.jsonl" 2>"$T/err"; is $? 1 "some lines refused: exit 1"
like "$(grep '^1: ' "$T/err")" "^1: out_of_range: " "the collector's refusal names the line and code"
like "$(grep '^2: ' "$T/err")" "^2: invalid_json: " "invalid JSON names the line"
like "$(grep '^3: ' "$T/err")" "^3: bad_time: " "a time without an offset is refused locally"
like "$(grep '^4: ' "$T/err")" "^4: bad_field: " "an array value is refused locally"
like "$(grep '^6: ' "$T/err")" "^6: unknown_type: " "unknown type from the collector"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE event_id = '$id4'")" 1 "the good line among them is stored"
is "$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events")" 2 "the collector recorded its two refusals; local ones never reached the spool"

$SEND --unit u1 --insecure --type cloud_meeting >/dev/null 2>&1; is $? 2 "usage error: exit 2"
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
