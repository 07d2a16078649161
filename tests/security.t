#!/bin/sh
# CURVE: only registered, non-revoked unit keys store events, and only as
# their own unit; a plain client stores nothing; revocation reaches open
# connections at the next registry reload.
. tests/lib.sh
plan 24
ADMIN=$B/tongxin-admin
DRV=$B/tests/tools/tx-driver
db=$(newdb security)
$ADMIN --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
for u in unit-a unit-b; do $ADMIN --db "$db" unit add $u --name $u --kind village >/dev/null; done
$ADMIN key server --out "$T/server.key" >/dev/null; ok $? "key server writes the collector's keypair"
is "$(stat -c %a "$T/server.key")" 600 "the secret key file is 0600"
$ADMIN --db "$db" key issue unit-a --out "$T/a.key" >/dev/null
$ADMIN --db "$db" key issue unit-b --out "$T/b.key" >/dev/null
out=$($ADMIN --db "$db" key issue unit-a --out "$T/a.key" 2>&1); rc=$?
is "$rc" 1 "issuing over existing files is refused"
# A key made elsewhere and never registered.
$ADMIN key server --out "$T/rogue.key" >/dev/null

ep="ipc://$T/c.sock"
mport=$((20000 + $$ % 20000))
start_collector "$ep" --db "$db" --key "$T/server.key" --registry-refresh 3600 --metrics "127.0.0.1:$mport" || exit 1

# drive NAME UNIT ARGS...: 5 events claiming UNIT; verdicts in $T/NAME.out
drive() {
    name=$1 unit=$2; shift 2
    $DRV --endpoint "$ep" --unit "$unit" --spool "$T/spool-$name" --count 5 --wait 3 \
        --out "$T/$name.out" "$@" 2>"$T/$name.err"
}
count() { sql "$db" "SELECT count(*) FROM tongxin.events WHERE $1"; }

drive good unit-a --key "$T/a.key" --server-key "$T/server.key.pub"; ok $? "a registered unit's events are acknowledged"
is "$(count "unit_code = 'unit-a' AND sender = 'unit-a'")" 5 "and stored with the unit as sender"

drive plain unit-a --insecure; is $? 3 "a plain client gets no acknowledgement"
drive rogue unit-a --key "$T/rogue.key" --server-key "$T/server.key.pub"; is $? 3 "an unregistered key gets no acknowledgement"
like "$(cat "$T/rogue.err")" "refused our key" "the producer learns its key was refused"
is "$(count "true")" 5 "neither stored anything"

drive spoof unit-b --key "$T/a.key" --server-key "$T/server.key.pub"
is "$(grep -c 'rejected unit_mismatch' "$T/spoof.out")" 5 "unit A's key cannot report as unit B"
is "$(count "unit_code = 'unit-b'")" 0 "nothing stored for B"
is "$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events WHERE reason = 'unit_mismatch' AND claimed_unit = 'unit-b' AND sender = 'unit-a'")" 5 \
   "the attempt is recorded with the claimed unit and the real sender"

# Revocation of a connected producer: ZAP only runs at the handshake, so
# the collector checks the key again on every batch against the registry.
$DRV --endpoint "$ep" --unit unit-b --spool "$T/spool-live" --count 40 --rate 10 --wait 3 \
    --key "$T/b.key" --server-key "$T/server.key.pub" --out "$T/live.out" 2>"$T/live.err" &
dpid=$!
sleep 1.5
$ADMIN --db "$db" key revoke unit-b >/dev/null; ok $? "key revoke"
kill -HUP $cpid
wait $dpid; rc=$?
n=$(count "unit_code = 'unit-b'")
ok $(( n > 0 && n < 40 ? 0 : 1 )) "the open connection stored events until the reload, then none ($n of 40)"
like "$(cat "$T/live.err")" "unauthorized" "the producer is told its key was revoked and stops"
ok $(( rc != 0 ? 0 : 1 )) "and does not report success"
drive after unit-b --key "$T/b.key" --server-key "$T/server.key.pub"
is "$(count "unit_code = 'unit-b'")" "$n" "a new connection with the revoked key stores nothing"

# New connections see the database at once, without a reload.
$ADMIN --db "$db" unit add unit-c --name unit-c --kind village >/dev/null
$ADMIN --db "$db" key issue unit-c --out "$T/c.key" >/dev/null
drive newkey unit-c --key "$T/c.key" --server-key "$T/server.key.pub"; ok $? "a key issued after the last reload works at once"
is "$(count "unit_code = 'unit-c'")" 5 "and its events are stored"
$ADMIN --db "$db" key revoke unit-c >/dev/null
drive revoked unit-c --key "$T/c.key" --server-key "$T/server.key.pub"; is $? 3 "a key revoked a moment ago is refused to a new connection at once"
is "$(sql "$db" "SELECT count(*) FROM tongxin.unit_keys WHERE unit_code = 'unit-b' AND revoked_at IS NOT NULL")" 1 \
   "the revoked key stays listed with its date"

# A flood of handshakes with bad keys: refused, counted, logged sparingly,
# and the collector keeps serving.
before=$(grep -c 'handshake refused' "$T/collector.log")
pids=""
for i in $(seq 20); do
    $DRV --endpoint "$ep" --unit unit-a --spool "$T/spool-flood-$i" --count 1 --wait 2 \
        --key "$T/rogue.key" --server-key "$T/server.key.pub" --out /dev/null 2>/dev/null &
    pids="$pids $!"
done
for p in $pids; do wait $p; done
failed=$(curl -s "http://127.0.0.1:$mport/metrics" | awk '/^tongxin_handshakes_failed_total\{/ { n += $2 } END { print n + 0 }')
ok $(( failed >= 20 ? 0 : 1 )) "every bad handshake is counted ($failed)"
logged=$(( $(grep -c 'handshake refused' "$T/collector.log") - before ))
ok $(( logged <= 2 ? 0 : 1 )) "but logged at most once per 10 s ($logged lines)"
drive last unit-a --key "$T/a.key" --server-key "$T/server.key.pub"; ok $? "a legitimate unit is still served"
