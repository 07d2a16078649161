# tests/desk.sh: run tongxin-desk in the shell tests (after tests/lib.sh
# and tests/collector.sh).
#
#   desk_start NAME ARGS       start a desk (--unit u1 --insecure on
#                              $endpoint, data in $T/NAME, listen on a free
#                              loopback port unless ARGS say); sets dpid,
#                              dport, durl; killed at exit
#   desk_stop                  TERM it and wait
#   dget PATH [CURL ARGS]      GET with the cookie jar $T/jar: prints the body
#   dpost PATH BODY [ARGS]     POST JSON with the jar and the CSRF token
#                              ($csrf); prints the body, then the status on
#                              a line of its own
#   desk_session               GET /api/session: sets csrf
#   desk_wait_state ID STATE [S]   wait for a report's state (default 10 s)

_dpids=""
_kill_desks() { for p in $_dpids; do grep -q tongxin-desk "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p"; done; }
at_exit _kill_desks

desk_start() {
    _dname=$1; shift
    _dlog=$T/$_dname.log
    : >"$_dlog"
    TONGXIN_LOCALEDIR=$B/locale $B/tongxin-desk --unit u1 --insecure --endpoint "$endpoint" \
        --data "$T/$_dname" --listen 127.0.0.1:0 "$@" >>"$_dlog" 2>&1 &
    dpid=$!
    _dpids="$_dpids $dpid"
    wait_log "$_dlog" 'msg="port"' 1 10 || { diag "desk $_dname did not start:"; sed 's/^/#   /' "$_dlog"; return 1; }
    dport=$(sed -n 's/.*msg="port" port=\([0-9]*\).*/\1/p' "$_dlog" | tail -n 1)
    durl=http://127.0.0.1:$dport
}

desk_stop() { kill -TERM "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; }

dget() { _p=$1; shift; curl -s -b "$T/jar" -c "$T/jar" "$@" "$durl$_p"; }

dpost() {
    _p=$1; _body=$2; shift 2
    curl -s -b "$T/jar" -c "$T/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
         -w '\n%{http_code}' --data-binary "$_body" "$@" "$durl$_p"
}

desk_session() { csrf=$(dget /api/session | jq -r .csrf); }

desk_wait_state() {
    _deadline=$(( $(now_ms) + ${3:-10} * 1000 ))
    while [ "$(dget "/api/reports/$1" | jq -r .state)" != "$2" ]; do
        [ "$(now_ms)" -lt "$_deadline" ] || return 1
        sleep 0.1
    done
}
