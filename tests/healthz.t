#!/bin/sh
# An idle collector notices a database outage within seconds (not at its
# next registry refresh): /healthz says 503, then 200 again once it is back.
. tests/lib.sh
plan 3
db=$(newdb healthz)
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
mport=$((20000 + ($$ + 7) % 20000))
start_collector "ipc://$T/c.sock" --db "$db" --insecure --metrics "127.0.0.1:$mport" || exit 1
code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/healthz"; }
is "$(code)" 200 "healthy with the database up"
at_exit "scripts/pg up '$TONGXIN_TEST_PGDIR'"
scripts/pg down "$TONGXIN_TEST_PGDIR" fast
got=; for i in $(seq 50); do got=$(code); [ "$got" = 503 ] && break; sleep 0.1; done
is "$got" 503 "503 within 5 s of the outage, with no traffic and registry-refresh at 30 s"
scripts/pg up "$TONGXIN_TEST_PGDIR"
got=; for i in $(seq 150); do got=$(code); [ "$got" = 200 ] && break; sleep 0.1; done
is "$got" 200 "200 again after the database is back"
