#!/bin/sh
# The registry for producers (protocol revision 1.3) over real CURVE
# sockets: tongxin-send fetches it, caches it (mode 0644, atomically), gets
# "unchanged" the second time, uses the cache with the collector down;
# with it, a quoted number ("12") for an int attribute is taken and every
# event is checked before it is spooled (in Chinese under zh_CN.UTF-8),
# without it the collector decides; the collector counts and rate-limits
# the requests per unit; an old collector (error malformed) and hostile
# replies leave the producer without a registry and nothing broken.
. tests/lib.sh
. tests/collector.sh
plan 30
ADMIN=$B/tongxin-admin
SEND=$B/tongxin-send
FAKE=$B/tests/tools/tx-fakecoll
db=$(newdb registry)
$ADMIN --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
$ADMIN --db "$db" unit add u1 --name U1 --kind department >/dev/null
$ADMIN key server --out "$T/server.key" >/dev/null
$ADMIN --db "$db" key issue u1 --out "$T/u1.key" >/dev/null
ep="ipc://$T/c.sock"
metrics=$(( 30000 + $(od -An -N2 -tu2 /dev/urandom) % 30000 ))
start_collector "$ep" --db "$db" --key "$T/server.key" --metrics "127.0.0.1:$metrics" || exit 1
# rsend SPOOL ARGS...: tongxin-send of unit u1 over CURVE
rsend() { sp=$1; shift
          $SEND --unit u1 --key "$T/u1.key" --server-key "$T/server.key.pub" --endpoint "$ep" \
                --spool "$T/$sp" --wait 10 "$@"; }
count() { sql "$db" "SELECT count(*) FROM tongxin.events"; }
metric() { http_get "$metrics" /metrics | grep "^tongxin_registry_requests_total{outcome=\"$1\"}" | awk '{print $2}'; }

out=$(rsend s1 --registry-refresh 2>"$T/err"); rc=$?
is "$rc" 0 "--registry-refresh: exit 0"
like "$out" '^registry [0-9a-f]{32}: fetched from the collector$' "the registry fetched, with its version"
version=$(echo "$out" | sed 's/^registry \([0-9a-f]*\).*/\1/')
is "$(stat -c %a "$T/s1/registry.cache")" 644 "cached next to the spool, mode 0644"
ok $([ ! -e "$T/s1/registry.cache.tmp" ]; echo $?) "no temporary file left"
is "$(rsend s1 --registry-refresh 2>&1)" "registry $version: unchanged" "asked again: unchanged"
is "$(metric full)/$(metric unchanged)" "1/1" "the collector counts one whole registry and one unchanged"
# The cache's names in the spool are never followed: a link left at the
# temporary name is not written through, and a FIFO at the cache's name is
# neither read nor waited on (the fetch replaces it).
echo precious > "$T/victim"
ln -s "$T/victim" "$T/s1/registry.cache.tmp"
rsend s1 --registry-refresh >/dev/null 2>&1
is "$(cat "$T/victim")" precious "a link at registry.cache.tmp: its target is untouched"
rm -f "$T/s1/registry.cache"; mkfifo "$T/s1/registry.cache"
timeout 20 sh -c "$(command -v "$SEND") --unit u1 --key '$T/u1.key' --server-key '$T/server.key.pub' --endpoint '$ep' --spool '$T/s1' --wait 10 --registry-refresh" >/dev/null 2>&1; rc=$?
is "$rc" 0 "a FIFO at registry.cache: not waited on (exit $rc)"
ok $([ -f "$T/s1/registry.cache" ] && [ ! -p "$T/s1/registry.cache" ]; echo $?) "...and replaced by the fetched registry"

# A label changes the version; the cache follows.
psql "$db" -Xqc "UPDATE tongxin.event_type_attrs SET label_zh = '参会人数（人）' WHERE type_code = 'cloud_meeting' AND name = 'participants'"
kill -HUP "$cpid"; sleep 0.5
out=$(rsend s1 --registry-refresh 2>&1)
like "$out" '^registry [0-9a-f]{32}: fetched from the collector$' "after a label changed (and SIGHUP): fetched again"
ok $([ "$(echo "$out" | cut -c10-41)" != "$version" ]; echo $?) "...with another version"

# A quoted number from a spreadsheet: taken with the registry, as an int.
line='{"type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"participants":"12","topic":"云座谈"}}'
echo "$line" > "$T/quoted.jsonl"
rsend s1 "$T/quoted.jsonl" 2>"$T/err"; is $? 0 "\"12\" for an int attribute, with the registry: exit 0"
is "$(sql "$db" "SELECT jsonb_typeof(attrs->'participants') || ' ' || (attrs->>'participants') FROM tongxin.events")" \
   "number 12" "...stored as the number 12"
# Without one, never guessed: the collector refuses it as before.
rsend s2 --no-registry "$T/quoted.jsonl" 2>"$T/err"; is $? 1 "without a registry (--no-registry): refused, exit 1"
like "$(cat "$T/err")" "^1: bad_attr_type: attribute participants must be an integer" "...by the collector (bad_attr_type)"

# Checked before spooling: nothing reaches the collector.
rejected0=$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events")
printf '%s\n' '{"type":"cloud_meeting","occurred_at":"2025-04-02T05:00:00+08:00","attrs":{"participants":"十二"}}' \
              '{"type":"cloud_meeting","occurred_at":"2025-04-02T05:00:00+08:00","attrs":{"topic":"x"}}' \
              '{"type":"visit","occurred_at":"2025-04-02T05:00:00+08:00","attrs":{"direction":"out","delegates":3}}' > "$T/bad.jsonl"
rsend s1 "$T/bad.jsonl" 2>"$T/err"; is $? 1 "bad events with the registry: exit 1"
is "$(grep -E '^[0-9]+: ' "$T/err")" "1: bad_attr_type: attribute Participants (participants) must be a whole number (1 – 1000000000)
2: missing_attr: missing required attribute Participants (participants)
3: bad_enum: attribute Direction (direction) must be one of: Outbound (outbound), Inbound (inbound)" \
   "each refused locally with the collector's code, the field's label and what is allowed"
is "$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events")" "$rejected0" "...and never sent"
if [ "$(LC_ALL=zh_CN.UTF-8 locale charmap 2>/dev/null)" = UTF-8 ]; then
    LC_ALL=zh_CN.UTF-8 TONGXIN_LOCALEDIR=$B/locale rsend s1 "$T/bad.jsonl" 2>"$T/err.zh"
    is "$(grep -E '^[0-9]+: ' "$T/err.zh" | head -2)" "1: bad_attr_type: 属性“参会人数（人） (participants)”必须是整数（1 – 1000000000）
2: missing_attr: 缺少必填属性“参会人数（人） (participants)”" "in Chinese under zh_CN.UTF-8, with the Chinese labels"
else
    skip 1 "no zh_CN.UTF-8 locale"
fi

# The collector down: the cache serves.
kill "$cpid"; wait "$cpid" 2>/dev/null
out=$(rsend s1 --registry-refresh 2>&1); rc=$?
like "$out" "^registry [0-9a-f]{32}: the cached copy \\(no collector could be reached in 1500 ms\\)$" \
     "collector down: the cached copy, said so"
is "$rc" 5 "...exit 5 (not fetched)"
echo '{"type":"cloud_meeting","occurred_at":"2025-04-03T05:00:00+08:00","attrs":{"participants":"7"}}' > "$T/offline.jsonl"
rsend s1 --wait 0 "$T/offline.jsonl" 2>"$T/err"; is $? 0 "offline, \"7\" converted by the cached registry and spooled"
start_collector "$ep" --db "$db" --key "$T/server.key" --metrics "127.0.0.1:$metrics" || exit 1
rsend s1 /dev/null 2>"$T/err"
is "$(sql "$db" "SELECT attrs->>'participants' FROM tongxin.events WHERE occurred_at = '2025-04-02T21:00:00Z'")" 7 \
   "...and stored once the collector is back"

# A unit asking too often: five whole registries, then dropped (counted).
for i in 1 2 3 4 5 6; do rsend "burst$i" --registry-refresh >"$T/burst$i.out" 2>&1; done
like "$(cat "$T/burst6.out")" "the collector did not answer the registry request in 1500 ms" "the sixth whole registry in a row: not answered"
ok $([ "$(metric limited)" -ge 1 ]; echo $?) "...counted as limited"
kill "$cpid"; wait "$cpid" 2>/dev/null

# An old collector (before 1.3) refuses the request as malformed: no registry, nothing broken.
"$FAKE" "$ep" "$T/server.key" old >"$T/fake.log" 2>&1 & fpid=$!; at_exit "kill $fpid"
wait_log "$T/fake.log" listening
out=$(rsend old --registry-refresh 2>&1); rc=$?
is "$out" "tongxin-send: no registry: the collector refused the registry request: malformed (a collector older than protocol revision 1.3)" \
   "an old collector: no registry, said why"
out=$(rsend s1 --registry-refresh 2>&1)
like "$out" "^registry [0-9a-f]{32}: the cached copy \\(the collector refused the registry request: malformed" "...with a cache: the cache"
kill $fpid; wait $fpid 2>/dev/null

# Hostile replies: refused, the cache kept.
cache=$(md5sum < "$T/s1/registry.cache")
bad=0
for body in c1 df7fffffff 83a874696d657a6f6e65a0a57479706573dd7fffffffa7726567696f6e7390 \
            83a874696d657a6f6e65a0a5747970657391c0a7726567696f6e7390 \
            "83a874696d657a6f6e65a0a5747970657390a7726567696f6e7390 0123456789abcdef0123456789abcdef"; do
    "$FAKE" "$ep" "$T/server.key" registry $body >"$T/fake.log" 2>&1 & fpid=$!
    wait_log "$T/fake.log" listening
    rsend hostile --registry-refresh >"$T/hostile.out" 2>&1
    grep -q "^tongxin-send: no registry: the collector's registry" "$T/hostile.out" || { bad=1; diag "$body: $(cat "$T/hostile.out")"; }
    kill $fpid; wait $fpid 2>/dev/null
done
ok $bad "garbage, a 2^31-pair map, 2^31 types, a type that is nil, a version that does not match: each refused"
"$FAKE" "$ep" "$T/server.key" raw 82a17601a174a4706f6e67 >"$T/fake.log" 2>&1 & fpid=$!
wait_log "$T/fake.log" listening
out=$(rsend s1 --registry-refresh 2>&1)
like "$out" "the cached copy \\(the collector's answer is not a registry reply\\)" "a reply that is another message ({\"t\":\"pong\"}): the cache"
is "$(md5sum < "$T/s1/registry.cache")" "$cache" "...kept as it was"
kill $fpid; wait $fpid 2>/dev/null || true
