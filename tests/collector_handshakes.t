#!/bin/sh
# The collector counts failed handshakes by cause, in
# tongxin_handshakes_failed_total{cause=...}: ZAP's refusals (unknown key,
# revoked key, lookups over budget, database unavailable) and what libzmq
# reports (a client with the wrong server key cannot be decrypted, a plain
# client on the CURVE port); and it logs them at most once per 10 s.
. tests/lib.sh
. tests/collector.sh
plan 13
ADMIN=$B/tongxin-admin

db=$(collector_db handshakes) || { echo "Bail out! no database"; exit 1; }
$ADMIN --db "$db" unit add u2 --name U2 --kind department >/dev/null
$ADMIN key server --out "$T/server.key" >/dev/null
$ADMIN key server --out "$T/other.key" >/dev/null        # another collector's keypair
$ADMIN key server --out "$T/rogue.key" >/dev/null        # a keypair never registered
$ADMIN --db "$db" key issue u1 --out "$T/u1.key" >/dev/null
$ADMIN --db "$db" key issue u2 --out "$T/u2.key" >/dev/null
$ADMIN --db "$db" key revoke u2 >/dev/null

ep="ipc://$T/c.sock"
mport=$(( 30000 + $(od -An -N2 -tu2 /dev/urandom) % 30000 ))
start_collector "$ep" --db "$db" --key "$T/server.key" --metrics "127.0.0.1:$mport" || exit 1
failed() { http_get "$mport" /metrics | sed -n "s/^tongxin_handshakes_failed_total{cause=\"$1\"} //p"; }
# try NAME KEY SERVER-KEY [ARGS]: one event, a second at most
try() {
    _n=$1 _k=$2 _s=$3; shift 3
    $DRIVER --endpoint "$ep" --unit u1 --spool "$T/spool-$_n" --count 1 --wait 1 --out /dev/null \
        --key "$_k" --server-key "$_s" "$@" 2>/dev/null
}

try good "$T/u1.key" "$T/server.key.pub"; is $? 0 "a registered key is served"
try rogue "$T/rogue.key" "$T/server.key.pub"
ok $(( $(failed unknown_key) > 0 ? 0 : 1 )) "an unregistered key: cause unknown_key ($(failed unknown_key))"
try revoked "$T/u2.key" "$T/server.key.pub"
ok $(( $(failed revoked_key) > 0 ? 0 : 1 )) "a revoked key: cause revoked_key ($(failed revoked_key))"
try wrongserver "$T/u1.key" "$T/other.key.pub"
ok $(( $(failed decrypt_failed) > 0 ? 0 : 1 )) "the wrong server key: cause decrypt_failed ($(failed decrypt_failed))"
# A plain (NULL) client: its ZMTP 3.0 greeting, then it waits for the
# collector to close.  (libzmq's own client may close first, on reading
# the collector's greeting: that counts as incomplete.)
perl -MIO::Socket::UNIX -e '
    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!";
    syswrite $s, "\xff" . "\0" x 7 . "\x01\x7f\x03\x00" . "NULL" . "\0" x 16 . "\0" . "\0" x 31;
    my $buf; 1 while sysread $s, $buf, 512;' "$T/c.sock"
sleep 0.2
ok $(( $(failed mechanism_mismatch) > 0 ? 0 : 1 )) "a plain client: cause mechanism_mismatch ($(failed mechanism_mismatch))"


# Strangers: 40 fresh keys every 100 ms for a second, far past 20 lookups a second.
spub=$(sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$T/server.key.pub")
$B/tests/tools/tx-strangers "$ep" "$spub" 40 1 >/dev/null
sleep 0.5
ok $(( $(failed lookup_limited) > 0 ? 0 : 1 )) "past the lookup budget: cause lookup_limited ($(failed lookup_limited))"

# A lock on unit_keys (a migration, an admin's long transaction) must not
# hold every handshake behind ZAP's lookup: it gives up after 1 s and a key
# the registry snapshot knows is served from it.
psql "$db" -X -q -c "BEGIN" -c "LOCK TABLE tongxin.unit_keys IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(8)" \
    -c "COMMIT" >/dev/null 2>&1 &
lpid=$!
at_exit "kill $lpid"
sleep 0.5
t0=$(now_ms)
try locked "$T/u1.key" "$T/server.key.pub" --wait 4
is $? 0 "a registered key is served while unit_keys is locked ($(( $(now_ms) - t0 )) ms)"
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null

at_exit "scripts/pg up '$TONGXIN_TEST_PGDIR'"
scripts/pg down "$TONGXIN_TEST_PGDIR" fast >/dev/null
sleep 1.1        # a fresh lookup budget
try dbdown "$T/rogue.key" "$T/server.key.pub"
ok $(( $(failed database_unavailable) > 0 ? 0 : 1 )) "the database down: cause database_unavailable ($(failed database_unavailable))"
r0=$(failed revoked_key)
try revoked2 "$T/u2.key" "$T/server.key.pub"
ok $(( $(failed revoked_key) > r0 ? 0 : 1 )) "a key the snapshot knows as revoked is refused as revoked without the database"
total() { http_get "$mport" /metrics | awk '/^tongxin_handshakes_failed_total\{/ { n += $2 } END { print n }'; }
f0=$(total)
try gooddown "$T/u1.key" "$T/server.key.pub"     # no acks: nothing can be stored
is "$(total)" "$f0" "while a registered key's handshake still succeeds, from the snapshot"
scripts/pg up "$TONGXIN_TEST_PGDIR" >/dev/null

lines=$(grep -c 'msg="handshake failed"' "$T/collector.log")
ok $(( lines >= 1 && lines <= 4 ? 0 : 1 )) "logged sparingly: $lines lines for $(http_get "$mport" /metrics | awk '/^tongxin_handshakes_failed_total\{/ { n += $2 } END { print n }') failures"
like "$(grep 'msg="handshake failed"' "$T/collector.log" | head -n 1)" 'cause=unknown_key .*suppressed=0 hint="' \
     "a line says the cause and what to check"
like "$(grep 'msg="handshake failed"' "$T/collector.log" | grep -v 'cause=unknown_key' | head -n 1)" 'suppressed=[0-9]+' \
     "the next line says how many were left out"
