#!/bin/sh
# The collector raises its open-files soft limit to the hard one at start
# (one descriptor per connected producer) and logs both values
# (docs/operations.md, "Limits of one collector").
. tests/lib.sh
plan 3
db=$(newdb limits)
"$B"/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
hard=$(ulimit -Hn)
ulimit -Sn 256 || { echo "Bail out! cannot lower the soft limit"; exit 1; }
start_collector "ipc://$T/c.sock" --db "$db" --insecure || exit 1
like "$(grep 'msg="open files limit"' "$T/collector.log")" "nofile=$hard was=256" \
    "it logs the limit it raised, and the one it found"
soft=$(awk '/^Max open files/ { print $4 }' /proc/"$cpid"/limits)
is "$soft" "$hard" "its soft limit is the hard one"
[ "$hard" -ge 4096 ] && level=info || level=warn
like "$(grep 'msg="open files limit"' "$T/collector.log")" "level=$level" "at $level (warn below 4096)"
