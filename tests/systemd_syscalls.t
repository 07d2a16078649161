#!/bin/sh
# The systemd unit's SystemCallFilter= allows every system call the
# collector makes, so the unit cannot kill its own daemon (SIGSYS), and
# RestrictAddressFamilies= every socket family it opens.  The calls are
# recorded with strace -f over a start with CURVE and /metrics, producers'
# handshakes and events, shed idle connections, SIGHUP and a SIGTERM stop;
# the filter is the unit's SystemCallFilter= lines taken in order (the
# first decides allow- or deny-list; an allow-list starts from @default),
# with groups expanded by systemd-analyze syscall-filter.
. tests/lib.sh
. tests/collector.sh
plan 7
UNIT=${UNIT:-systemd/tongxin-collectord.service}
if ! command -v strace >/dev/null 2>&1 || ! command -v systemd-analyze >/dev/null 2>&1; then
    skip 7 "needs strace and systemd-analyze (scripts/install-deps strace systemd)"
    exit 0
fi
ADMIN=$B/tongxin-admin
db=$(collector_db syscalls) || { echo "Bail out! no database"; exit 1; }
$ADMIN key server --out "$T/server.key" >/dev/null
$ADMIN --db "$db" key issue u1 --out "$T/u1.key" >/dev/null

# ------------------------------------------------------------ record
port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000 ))
mport=$(( 40000 + $(od -An -N2 -tu2 /dev/urandom) % 20000 ))
strace -f -qq -o "$T/strace" -e trace=all -e signal=none \
    $B/tongxin-collectord --db "$db" --key "$T/server.key" --bind "tcp://127.0.0.1:$port" \
        --metrics "127.0.0.1:$mport" --max-handshaking 4 --handshake-timeout 2 >"$T/c.log" 2>&1 &
spid=$!
at_exit "kill -9 $spid"
wait_log "$T/c.log" 'msg="listening"' 1 20 || { sed 's/^/#   /' "$T/c.log"; echo "Bail out! collector"; exit 1; }
cpid=$(cat "/proc/$spid/task/$spid/children")
perl -MIO::Socket::INET -e '
    my @s = map { IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0]) } 1 .. 8;
    sleep 1;' "$port"
$DRIVER --endpoint "tcp://127.0.0.1:$port" --unit u1 --spool "$T/spool" --count 5 --wait 5 \
    --key "$T/u1.key" --server-key "$T/server.key.pub" --out /dev/null 2>/dev/null
ok $? "a producer's events are acknowledged under strace"
http_get "$mport" /metrics >"$T/metrics"
like "$(http_get "$mport" /healthz)" "^200" "/healthz answers"
kill -HUP "$cpid"
wait_log "$T/c.log" 'msg="SIGHUP' 1 10
kill -TERM "$cpid"
wait "$spid"
is "$(grep -c 'msg="stopped"' "$T/c.log")" 1 "the collector stopped cleanly"
ok $(( $(sed -n 's/^tongxin_connections_shed_total //p' "$T/metrics") > 0 ? 0 : 1 )) \
   "idle connections were shed (their calls are recorded too)"

# ------------------------------------------------------------ compare
# System calls made: "PID name(" and "PID <... name resumed>".
sed -n -e 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' -e 's/^[0-9]* *<\.\.\. \([a-z0-9_]*\) resumed>.*/\1/p' \
    "$T/strace" | sort -u >"$T/made"
systemd-analyze syscall-filter 2>/dev/null >"$T/groups"
# denied CALLS-FILE: the calls the unit's filter does not allow, evaluated
# as systemd does.
denied() {
grep '^SystemCallFilter=' "$UNIT" | sed 's/^SystemCallFilter=//' | awk -v groups="$T/groups" -v made="$1" '
    BEGIN {
        while ((getline line < groups) > 0) {
            if (line ~ /^@/) { g = line; continue }
            sub(/^ +/, "", line)
            if (line == "" || line ~ /^#/) continue
            member[g] = member[g] " " line
        }
    }
    function expand(tok, out,   n, i, parts) {
        sub(/:.*/, "", tok)                             # an errno suffix
        if (tok !~ /^@/) { out[tok] = 1; return }
        n = split(member[tok], parts, " ")
        for (i = 1; i <= n; i++) expand(parts[i], out)
    }
    {
        deny = substr($0, 1, 1) == "~"
        if (deny) $0 = substr($0, 2)
        if ($0 == "" && !deny) { mode = ""; delete set; next }
        if (mode == "") {
            mode = deny ? "deny" : "allow"
            if (mode == "allow") { delete tmp; expand("@default", tmp); for (c in tmp) set[c] = 1 }
        }
        add = (mode == "allow") != deny
        for (i = 1; i <= NF; i++) {
            delete tmp; expand($i, tmp)
            for (c in tmp) { if (add) set[c] = 1; else delete set[c] }
        }
    }
    END {
        # Always allowed (systemd.exec(5)).
        split("execve exit exit_group getrlimit rt_sigreturn sigreturn clock_gettime gettimeofday time nanosleep clock_nanosleep", always, " ")
        for (i in always) ok_[always[i]] = 1
        while ((getline c < made) > 0) {
            allowed = ok_[c] || (mode == "allow" ? (c in set) : !(c in set))
            if (!allowed) print c
        }
    }'
}
printf '%s\n' read reboot mount setuid ioprio_set prlimit64 >"$T/probe"
is "$(denied "$T/probe" | tr '\n' ' ')" "reboot mount setuid ioprio_set " \
   "the filter as evaluated here denies what the unit means to deny (reboot, mount, setuid, ioprio_set)"
denied "$T/made" >"$T/denied"
is "$(tr '\n' ' ' <"$T/denied")" "" "every system call the collector made is allowed by $UNIT ($(wc -l <"$T/made") calls)"

families=$(sed -n 's/^[0-9]* *socket(\(AF_[A-Z0-9]*\),.*/\1/p' "$T/strace" | sort -u | tr '\n' ' ')
allowed_families=$(sed -n 's/^RestrictAddressFamilies=//p' "$UNIT")
bad=; for f in $families; do case " $allowed_families " in *" $f "*) ;; *) bad="$bad $f" ;; esac; done
is "$bad" "" "every socket family it opened ($families) is in RestrictAddressFamilies="
