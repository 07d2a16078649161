# tests/lib.sh: TAP helpers and a scratch database for the shell tests.
#
# Source it from a tests/*.t script run by tests/run (prove), which sets:
#   B                  the build directory (build, build-asan)
#   TONGXIN_TEST_PG    conninfo of the private PostgreSQL's "postgres" db
#   TONGXIN_TEST_PGDIR its directory (for scripts/pg down/up)
# Every helper cleans up after itself at exit; a test that leaves files
# behind fails.

set -u
B=${B:-build}
export PGTZ=UTC
: "${TONGXIN_TEST_PG:?run the tests through tests/run (make check)}"

_tap_n=0
_tap_failed=0
_cleanups=""
T=$(mktemp -d /tmp/tongxin-t.XXXXXX)
chmod 755 "$T"

at_exit() { _cleanups="$1
$_cleanups"; }

_finish() {
    rc=$?
    _old_ifs=$IFS
    IFS='
'
    for c in $_cleanups; do IFS=$_old_ifs; eval "$c" >/dev/null 2>&1 || true; done
    IFS=$_old_ifs
    rm -rf "$T"
    [ "$_tap_failed" = 0 ] || exit 1
    exit $rc
}
trap _finish EXIT
trap 'exit 1' INT TERM

plan() { echo "1..$1"; }

ok() {   # ok CONDITION-STATUS DESCRIPTION   (use: cmd; ok $? "desc")
    _tap_n=$((_tap_n + 1))
    if [ "$1" = 0 ]; then echo "ok $_tap_n - $2"
    else echo "not ok $_tap_n - $2"; _tap_failed=$((_tap_failed + 1)); fi
}

is() {   # is GOT EXPECTED DESCRIPTION
    _tap_n=$((_tap_n + 1))
    if [ "$1" = "$2" ]; then echo "ok $_tap_n - $3"
    else
        echo "not ok $_tap_n - $3"
        printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
        _tap_failed=$((_tap_failed + 1))
    fi
}

like() { # like GOT REGEX DESCRIPTION
    _tap_n=$((_tap_n + 1))
    if printf '%s' "$1" | grep -Eq -- "$2"; then echo "ok $_tap_n - $3"
    else
        echo "not ok $_tap_n - $3"
        printf '#   got:      %s\n#   expected: /%s/\n' "$1" "$2"
        _tap_failed=$((_tap_failed + 1))
    fi
}

diag() { echo "# $*"; }

skip() { # skip COUNT REASON
    _i=0
    while [ $_i -lt "$1" ]; do
        _i=$((_i + 1)); _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $2"
    done
}

# newdb NAME: create an empty scratch database; prints its conninfo.
newdb() {
    _db="tx_${1}_$$"
    psql "$TONGXIN_TEST_PG" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $_db" >/dev/null || return 1
    at_exit "psql '$TONGXIN_TEST_PG' -X -q -c 'DROP DATABASE IF EXISTS $_db WITH (FORCE)'"
    printf '%s\n' "$TONGXIN_TEST_PG" | sed "s/dbname=postgres/dbname=$_db/"
}

# sql CONNINFO QUERY: one value (or rows, |-separated), errors on stderr.
sql() { psql "$1" -X -q -A -t -v ON_ERROR_STOP=1 -c "$2"; }

# sql_as ROLE CONNINFO QUERY: run QUERY under SET ROLE; prints SQLSTATE-ish
# outcome: "ok" or the error's first line.
sql_as() {
    out=$(psql "$2" -X -q -A -t -v ON_ERROR_STOP=1 -c "SET ROLE $1" -c "$3" 2>&1) && echo ok && return
    printf '%s\n' "$out" | sed -n 's/^.*ERROR:  //p' | head -n 1
}

# start_collector ENDPOINT ARGS...: run tongxin-collectord in the
# background (log in $T/collector.log), wait until it listens, and stop it
# at exit.  Sets $cpid.
start_collector() {
    _ep=$1; shift
    : >"$T/collector.log"
    "$B/tongxin-collectord" --bind "$_ep" "$@" >>"$T/collector.log" 2>&1 &
    cpid=$!
    at_exit "kill $cpid"
    for _i in $(seq 100); do
        grep -q 'msg="listening"' "$T/collector.log" && return 0
        kill -0 $cpid 2>/dev/null || break
        sleep 0.1
    done
    diag "collector did not start:"; sed 's/^/#   /' "$T/collector.log"
    return 1
}
