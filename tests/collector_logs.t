#!/bin/sh
# The collector's configuration and log lines: an unknown log level is
# refused (file and flag); routine registry reloads log at debug, a load
# that changed something at info; an error text with quotes in it is
# escaped inside the quoted value.
. tests/lib.sh
plan 8
C=$B/tongxin-collectord

out=$($C --insecure --log-level bogus --check-config 2>&1); rc=$?
is "$rc" 2 "--log-level bogus --check-config fails"
like "$out" "log-level: 'bogus' is not one of debug, info, warn, error" "and lists the allowed levels"
printf '[collector]\nlog-level = loud\n' > "$T/c.conf"
out=$($C --config "$T/c.conf" --insecure --check-config 2>&1); rc=$?
is "$rc $out" "2 tongxin-collectord: $T/c.conf:2: log-level: 'loud' is not one of debug, info, warn, error" \
   "so does log-level = loud in the file, with file:line"

db=$(newdb clogs)
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
start_collector "ipc://$T/c.sock" --db "$db" --insecure --registry-refresh 1 || exit 1
sleep 3.5
is "$(grep -c 'level=info msg="registry loaded"' "$T/collector.log")" 1 \
   "the registry reloads of every second log at info once (the first load)"
$B/tongxin-admin --db "$db" unit add u1 --name U1 --kind department >/dev/null
sleep 2.5
is "$(grep -c 'level=info msg="registry loaded"' "$T/collector.log")" 2 "a reload that finds a new unit logs at info"
kill "$cpid"; wait "$cpid" 2>/dev/null

start_collector "ipc://$T/d.sock" --db "$db" --insecure --registry-refresh 1 --log-level debug || exit 1
sleep 2.5
n=$(grep -c 'level=debug msg="registry loaded"' "$T/collector.log")
[ "$n" -ge 1 ]; ok $? "with log-level debug the routine reloads show ($n)"
kill "$cpid"; wait "$cpid" 2>/dev/null

# libpq's message names the socket in quotes.
: >"$T/down.log"
$C --bind "ipc://$T/e.sock" --db "host=$T/nopg dbname=x" --insecure >"$T/down.log" 2>&1 &
dpid=$!
at_exit "kill $dpid"
for _i in $(seq 50); do grep -q 'err=' "$T/down.log" && break; sleep 0.1; done
kill $dpid; wait $dpid 2>/dev/null
line=$(grep -m1 'err=' "$T/down.log")
like "$line" "err=\"connection to server on socket \\\\\"$T/nopg/.s.PGSQL.5432\\\\\" failed" \
     "a quote inside an error text is escaped"
# Every err="..." value ends where the line ends: no stray quote splits it.
printf '%s\n' "$line" | grep -Eq 'err="([^"\\]|\\.)*"$'; ok $? "and the quoted value is one token to its end"
