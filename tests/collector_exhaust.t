#!/bin/sh
# Unauthenticated clients cannot exhaust the collector.  With its
# open-files limit at 200, 250 TCP connections that never handshake do not
# keep a registered CURVE producer from its acks (the oldest handshaking
# connections are shed, and each has handshake-timeout seconds at most);
# 50 HTTP clients sending their headers a line at a time do not keep
# /healthz from answering.
. tests/lib.sh
. tests/collector.sh
plan 13
ADMIN=$B/tongxin-admin

db=$(collector_db exhaust) || { echo "Bail out! no database"; exit 1; }
$ADMIN key server --out "$T/server.key" >/dev/null
$ADMIN --db "$db" key issue u1 --out "$T/u1.key" >/dev/null

# hold.pl PORT N SECONDS: N connections that say nothing; prints how many
# were opened, then holds them.
cat >"$T/hold.pl" <<'EOF'
use IO::Socket::INET;
my @s;
for (1 .. $ARGV[1]) {
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Timeout => 2) or last;
    push @s, $c;
}
print scalar(@s), "\n"; close STDOUT;
sleep $ARGV[2];
EOF
# slow.pl PORT N SECONDS: N HTTP clients that send a request head one
# header line per second and never finish it.
cat >"$T/slow.pl" <<'EOF'
use IO::Socket::INET;
$SIG{PIPE} = "IGNORE";
my @s;
for (1 .. $ARGV[1]) {
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Timeout => 2) or last;
    syswrite $c, "GET /healthz HTTP/1.1\r\n";
    push @s, $c;
}
print scalar(@s), "\n"; close STDOUT;
for my $t (1 .. $ARGV[2]) { sleep 1; syswrite $_, "X-Slow-$t: 1\r\n" for @s; }
EOF
# closed_after PORT: seconds (one decimal) until the collector closes a
# connection that says nothing.
closed_after() {
    perl -MIO::Socket::INET -MTime::HiRes=time -e '
        my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0]) or die;
        my $t0 = time; my $buf;
        $c->blocking(1); $c->timeout(40);
        while (sysread($c, $buf, 512)) {}
        printf "%.1f\n", time - $t0;' "$1"
}
metric() { http_get "$metrics" /metrics | sed -n "s/^$1 //p"; }

# ------------------------------------------------------------ start, open files at 200
port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000 ))
metrics=$(( 40000 + $(od -An -N2 -tu2 /dev/urandom) % 20000 ))
( ulimit -n 200 && exec $B/tongxin-collectord --db "$db" --key "$T/server.key" --bind "tcp://127.0.0.1:$port" \
      --metrics "127.0.0.1:$metrics" --handshake-timeout 2 ) >"$T/c.log" 2>&1 &
cpid=$!
at_exit "kill -9 $cpid"
wait_log "$T/c.log" 'msg="listening"' 1 10 || { sed 's/^/#   /' "$T/c.log"; echo "Bail out! collector"; exit 1; }
like "$(grep 'open files limit' "$T/c.log")" "nofile=200 " "the collector runs with 200 open files"
like "$(grep 'connection limits' "$T/c.log")" "max_handshaking=68 .lowered" \
     "max-handshaking is lowered to fit: (200 - 64) / 2"

# ------------------------------------------------------------ handshake timeout
t=$(closed_after "$port")
awk -v t="$t" 'BEGIN { exit !(t >= 1.5 && t <= 4) }'
ok $? "a connection that never handshakes is closed after handshake-timeout (2 s: ${t} s)"

# ------------------------------------------------------------ 250 idle connections
perl "$T/hold.pl" "$port" 250 30 >"$T/idle" 2>&1 &
hpid=$!
at_exit "kill $hpid"
for i in $(seq 50); do [ -s "$T/idle" ] && break; sleep 0.1; done
is "$(cat "$T/idle")" 250 "250 idle connections are open"
t0=$(now_ms)
$DRIVER --endpoint "tcp://127.0.0.1:$port" --unit u1 --spool "$T/spool" --count 5 --wait 2 \
    --key "$T/u1.key" --server-key "$T/server.key.pub" --out "$T/drv.out" 2>"$T/drv.err"
rc=$?
ms=$(( $(now_ms) - t0 ))
is "$rc" 0 "a registered CURVE producer still gets its acks within 2 s (${ms} ms)"
is "$(grep -c ' stored$' "$T/drv.out")" 5 "and its 5 events are stored"
shed=$(metric tongxin_connections_shed_total)
ok $(( ${shed:-0} > 0 ? 0 : 1 )) "the oldest idle connections were shed ($shed)"
hs=$(metric tongxin_connections_handshaking)
ok $(( ${hs:-999} <= 68 ? 0 : 1 )) "at most 68 connections are left handshaking after the burst ($hs)"
like "$(http_get "$metrics" /metrics)" 'tongxin_handshakes_failed_total\{cause="incomplete"\} [1-9]' \
     "the closed ones are counted as incomplete handshakes"
kill "$hpid" 2>/dev/null

# ------------------------------------------------------------ 50 slow HTTP clients
perl "$T/slow.pl" "$metrics" 50 20 >"$T/slow" 2>&1 &
spid=$!
at_exit "kill $spid"
for i in $(seq 50); do [ -s "$T/slow" ] && break; sleep 0.1; done
is "$(cat "$T/slow")" 50 "50 slow HTTP clients are connected"
sleep 2
t0=$(now_ms)
is "$(http_get "$metrics" /healthz)" "200 ok" "/healthz answers while they trickle their headers"
ms=$(( $(now_ms) - t0 ))
ok $(( ms < 1000 ? 0 : 1 )) "within a second (${ms} ms)"
like "$(http_get "$metrics" /metrics)" 'tongxin_http_clients_shed_total [1-9]' "the oldest slow clients were shed"
kill "$spid" 2>/dev/null
