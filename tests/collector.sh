# tests/collector.sh: run tongxin-collectord in the shell tests.
#
# Source after tests/lib.sh.  Every collector started here is killed at
# exit; its log is $T/NAME.log and its endpoint ipc://$T/NAME.sock.
#
#   collector_db NAME          a migrated scratch database with the active
#                              unit u1; prints its conninfo
#   collector_start NAME ARGS  start a collector (--insecure, --metrics on a
#                              free port) on $db, wait for "listening";
#                              sets cpid, endpoint and metrics (the port).
#                              The same NAME again restarts it on the same
#                              endpoint, appending to the same log
#   collector_stop [SIGNAL]    signal cpid (TERM) and wait: sets crc (exit
#                              status) and cms (milliseconds it took)
#   wait_log FILE REGEX [N] [S]  wait up to S s (5) for N (1) matching lines
#   http_get PORT PATH         "STATUS BODY..." of GET http://127.0.0.1:PORT/PATH
#   rss_kb PID                 VmRSS of a process, in kB

RAW=$B/tests/tools/tx-raw
DRIVER=$B/tests/tools/tx-driver
_cpids=""

_kill_collectors() {
    for p in $_cpids; do
        # Only our collector: the pid may have been reused since.
        grep -q tongxin-collectord "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p"
    done
}
at_exit _kill_collectors

collector_db() {
    _db=$(newdb "$1") || return 1
    $B/tongxin-admin --db "$_db" migrate >/dev/null || return 1
    $B/tongxin-admin --db "$_db" unit add u1 --name U1 --kind department >/dev/null || return 1
    printf '%s\n' "$_db"
}

now_ms() { date +%s%3N; }

wait_log() {
    _deadline=$(( $(now_ms) + ${4:-5} * 1000 ))
    while _c=$(grep -Ec -- "$2" "$1" 2>/dev/null); [ "${_c:-0}" -lt "${3:-1}" ]; do
        [ "$(now_ms)" -lt "$_deadline" ] || return 1
        sleep 0.02
    done
}

collector_start() {
    _name=$1; shift
    endpoint=ipc://$T/$_name.sock
    _log=$T/$_name.log
    for _try in 1 2 3 4 5; do
        metrics=$(( 30000 + $(od -An -N2 -tu2 /dev/urandom) % 30000 ))
        _n=$(cat "$_log" 2>/dev/null | grep -c 'msg="listening"')
        $B/tongxin-collectord --db "$db" --insecure --bind "$endpoint" \
            --metrics "127.0.0.1:$metrics" "$@" >>"$_log" 2>&1 &
        cpid=$!
        _cpids="$_cpids $cpid"
        wait_log "$_log" 'msg="listening"' $((_n + 1)) 10 && return 0
        kill -9 "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
        # Only a taken metrics port is worth another try.
        grep -q "cannot start the metrics server" "$_log" || break
    done
    diag "collector $_name did not start:"; sed 's/^/#   /' "$_log"
    return 1
}

collector_stop() {
    _t0=$(now_ms)
    kill -"${1:-TERM}" "$cpid" 2>/dev/null
    wait "$cpid"; crc=$?
    cms=$(( $(now_ms) - _t0 ))
}

http_get() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Timeout => 3)
            or do { print "000 no connection\n"; exit 0 };
        print $s "GET $ARGV[1] HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        local $/; my $r = <$s> // "";
        my ($status) = $r =~ m{^HTTP/\S+ (\d+)};
        my ($body) = $r =~ m{\r\n\r\n(.*)}s;
        print(($status // "000"), " ", ($body // ""));' "$1" "$2"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
