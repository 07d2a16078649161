#!/bin/sh
# tongxin-admin GROUP --help: the group's commands on stdout, exit 0; the
# group alone is still a usage error (its commands on stderr, exit 2).
. tests/lib.sh
plan 8
A=$B/tongxin-admin
for g in unit pairing key rejected; do
    out=$($A $g --help 2>/dev/null); rc=$?
    n=$($A --help | grep -c "^  $g ")
    is "$rc:$(printf '%s\n' "$out" | grep -c "^  tongxin-admin $g ")" "0:$n" "$g --help: its $n commands, exit 0"
done
out=$($A unit -h); is "$(printf '%s\n' "$out" | head -n 1)" "usage: tongxin-admin unit COMMAND [ARGS]" "unit -h: a usage line"
$A unit >/dev/null 2>&1; is $? 2 "unit alone: a usage error"
is "$($A unit 2>&1 >/dev/null | head -n 1)" "tongxin-admin: 'unit' needs a subcommand:" "... that lists the commands on stderr"
$A frob --help >/dev/null 2>&1; is $? 2 "an unknown group with --help: a usage error"
