#!/bin/sh
# exhaust: the collector under connection exhaustion (docs/security.md,
# finding 5), on a private PostgreSQL.
#
#   bench/exhaust.sh
#
# One CURVE collector with the unit's limits (open files NOFILE, default
# settings otherwise) on loopback.  An attacker holds IDLE TCP connections
# that never handshake and opens a new one for each the collector closes;
# SLOW HTTP clients send /healthz a header line every 5 s and, like
# slowloris, replace the ones the server closed at each round (FLOOD=1:
# at once, a reconnect flood from the same address).  Meanwhile a registered CURVE producer (tx-driver) sends
# EVENTS events ROUNDS times, a new connection each time, and /healthz is
# asked ROUNDS times.  Figures: the producer's time to all acks (median,
# max), /healthz's answer time, what the collector shed, its descriptors.
#
# STRANGERS=N adds a flood of full CURVE handshakes with unregistered keys
# (tests/tools/tx-strangers: N sockets with fresh keys every 100 ms).
#
# stdout: one "name: value" line per figure; progress on stderr.
# Environment: B (build), IDLE (2000), SLOW (50), ROUNDS (10), EVENTS (5),
# NOFILE (65536, lowered to this shell's hard limit), WARMUP (3 s), FLOOD,
# STRANGERS (0).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
IDLE=${IDLE:-2000}
SLOW=${SLOW:-50}
ROUNDS=${ROUNDS:-10}
EVENTS=${EVENTS:-5}
NOFILE=${NOFILE:-65536}
WARMUP=${WARMUP:-3}
STRANGERS=${STRANGERS:-0}
ADMIN=$B/tongxin-admin
DRIVER=$B/tests/tools/tx-driver
export PGTZ=UTC
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] || [ "$NOFILE" -le "$HARD" ] || NOFILE=$HARD
for p in "$ADMIN" "$B/tongxin-collectord" "$DRIVER"; do
    [ -x "$p" ] || { echo "exhaust: $p is missing: run make first" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/tongxin-exhaust.XXXXXX) || exit 1
chmod 755 "$tmp"
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    scripts/pg stop "$tmp/pg" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
say() { echo "exhaust: $(date +%H:%M:%S) $*" >&2; }
die() { echo "exhaust: $*" >&2; exit 1; }
fig() { echo "$1: $2"; }
metric() { curl -s "http://127.0.0.1:$MPORT/metrics" | sed -n "s/^$1 //p"; }

say "starting a private PostgreSQL in $tmp/pg"
PG=$(scripts/pg start "$tmp/pg") || die "cannot start PostgreSQL"
psql "$PG" -X -q -c "CREATE DATABASE bench" >/dev/null || die "CREATE DATABASE failed"
DB=$(printf '%s' "$PG" | sed 's/dbname=postgres/dbname=bench/')
$ADMIN --db "$DB" migrate >/dev/null || die "migrate failed"
$ADMIN --db "$DB" unit add u1 --name U1 --kind department >/dev/null || die "unit add failed"
$ADMIN key server --out "$tmp/server.key" >/dev/null || die "key server failed"
$ADMIN --db "$DB" key issue u1 --out "$tmp/u1.key" >/dev/null || die "key issue failed"

for try in 1 2 3 4 5; do
    port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
    MPORT=$((port + 1))
    ( ulimit -n "$NOFILE" && exec "$B/tongxin-collectord" --db "$DB" --key "$tmp/server.key" \
          --bind "tcp://127.0.0.1:$port" --metrics "127.0.0.1:$MPORT" ) >"$tmp/collector.log" 2>&1 &
    CPID=$!
    for i in $(seq 100); do
        grep -q 'msg="listening"' "$tmp/collector.log" && break
        kill -0 "$CPID" 2>/dev/null || break
        sleep 0.1
    done
    grep -q 'msg="listening"' "$tmp/collector.log" && break
    kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null     # a port taken: another try
done
grep -q 'msg="listening"' "$tmp/collector.log" || { cat "$tmp/collector.log" >&2; die "collector did not start"; }
pids="$pids $CPID"

# attack.pl PORT N MODE: keep N connections open, replacing each one the
# server closes; MODE idle (say nothing) or slow (an HTTP request head, a
# header line every 5 s).  Prints "reconnects=N" at SIGTERM.
cat >"$tmp/attack.pl" <<'EOF'
use IO::Socket::INET; use IO::Select;
my ($port, $n, $mode) = @ARGV;
my $sel = IO::Select->new; my $re = 0; my $last = time;
$SIG{PIPE} = "IGNORE";
$SIG{TERM} = sub { print "reconnects=$re\n"; exit 0 };
sub one {
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port, Timeout => 2) or return;
    syswrite $c, "GET /healthz HTTP/1.1\r\nHost: x\r\n" if $mode eq "slow";
    $sel->add($c);
}
one() for 1 .. $n;
print STDERR "attack $mode: ", scalar($sel->handles), " open\n";
for (;;) {
    for my $c ($sel->can_read(0.5)) {
        my $buf;
        next if sysread($c, $buf, 4096);
        $sel->remove($c); close $c; $re++;
    }
    my $round = $mode eq "slow" && time - $last >= 5;
    one() while $sel->count < $n && ($mode eq "idle" || $ENV{FLOOD} || $round);
    if ($round) { syswrite $_, "X-Slow: 1\r\n" for $sel->handles; $last = time }
}
EOF
say "attack: $IDLE idle connections, $SLOW slow HTTP clients"
( ulimit -n $((IDLE + 100)) && exec perl "$tmp/attack.pl" "$port" "$IDLE" idle ) >"$tmp/idle.out" 2>"$tmp/idle.err" &
IPID=$!
perl "$tmp/attack.pl" "$MPORT" "$SLOW" slow >"$tmp/slow.out" 2>"$tmp/slow.err" &
SPID=$!
pids="$IPID $SPID $pids"
if [ "$STRANGERS" -gt 0 ]; then
    spub=$(sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$tmp/server.key.pub")
    $B/tests/tools/tx-strangers "tcp://127.0.0.1:$port" "$spub" "$STRANGERS" 600 >"$tmp/strangers.out" 2>&1 &
    XPID=$!
    pids="$XPID $pids"
    t0_ticks=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/$CPID/stat)
    t0_s=$(date +%s)
fi
sleep "$WARMUP"
cat "$tmp/idle.err" "$tmp/slow.err" >&2

: >"$tmp/acks"; : >"$tmp/health"; failed=0
for r in $(seq "$ROUNDS"); do
    t0=$(date +%s%3N)
    if $DRIVER --endpoint "tcp://127.0.0.1:$port" --unit u1 --spool "$tmp/spool-$r" --count "$EVENTS" \
           --wait 2 --key "$tmp/u1.key" --server-key "$tmp/server.key.pub" --out /dev/null 2>/dev/null; then
        echo $(( $(date +%s%3N) - t0 )) >>"$tmp/acks"
    else
        failed=$((failed + 1))
    fi
    curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$MPORT/healthz" >>"$tmp/health"
done
fds=$(ls /proc/$CPID/fd | wc -l)
hs=$(metric tongxin_connections_handshaking)
limit=$(metric tongxin_connections_handshaking_limit)
shed=$(metric tongxin_connections_shed_total)
hshed=$(metric tongxin_http_clients_shed_total)
kill "$IPID" "$SPID"; wait "$IPID" "$SPID" 2>/dev/null
if [ "$STRANGERS" -gt 0 ]; then
    cpu=$(awk -v t0="$t0_ticks" -v s="$(( $(date +%s) - t0_s ))" -v hz="$(getconf CLK_TCK)" \
        '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13 - t0) / hz / s }' /proc/$CPID/stat)
    kill "$XPID" 2>/dev/null
    fig strangers "$STRANGERS sockets with fresh keys every 100 ms; collector CPU $cpu cores; refused:$(curl -s "http://127.0.0.1:$MPORT/metrics" | sed -n 's/^tongxin_handshakes_failed_total{cause="\(unknown_key\|lookup_limited\)"} / \1=/p' | tr -d '\n')"
fi

fig attack "$IDLE idle TCP connections (replaced when closed), $SLOW slow HTTP clients, collector nofile $NOFILE"
fig producer_rounds_acked "$(wc -l <"$tmp/acks") of $ROUNDS (not acked within 2 s: $failed)"
fig producer_all_acks_ms_median "$(sort -n "$tmp/acks" | awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : "-" }')"
fig producer_all_acks_ms_max "$(sort -n "$tmp/acks" | tail -n 1)"
fig healthz_200 "$(grep -c '^200 ' "$tmp/health") of $ROUNDS"
fig healthz_ms_max "$(awk '{ if ($2 > m) m = $2 } END { printf "%.0f", m * 1000 }' "$tmp/health")"
fig collector_fds "$fds"
fig handshaking "$hs (limit $limit)"
fig connections_shed "$shed (attacker reconnects: $(sed -n 's/^reconnects=//p' "$tmp/idle.out"))"
fig http_clients_shed "$hshed (slow clients reconnects: $(sed -n 's/^reconnects=//p' "$tmp/slow.out"))"
