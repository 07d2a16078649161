#!/bin/sh
# The systemd unit passes systemd-analyze verify; the example config
# documents every key and parses with all of them set.
. tests/lib.sh
plan 4
if command -v systemd-analyze >/dev/null 2>&1; then
    sed -e "s|/usr/local/sbin/tongxin-collectord|$(pwd)/$B/tongxin-collectord|" \
        -e '/^Documentation=/d' systemd/tongxin-collectord.service > "$T/tongxin-collectord.service"
    out=$(systemd-analyze verify "$T/tongxin-collectord.service" 2>&1); rc=$?
    is "$rc" 0 "systemd-analyze verify accepts the unit"
    is "$out" "" "with no warnings"
else
    echo "ok 1 # SKIP systemd-analyze is not installed"
    echo "ok 2 # SKIP systemd-analyze is not installed"
fi
$B/tongxin-collectord --print-config-example | diff -u systemd/collectord.conf.example - >/dev/null
ok $? "systemd/collectord.conf.example is what --print-config-example prints (every key)"
sed 's/^# \([a-z-]* = \)/\1/' systemd/collectord.conf.example > "$T/all.conf"
$B/tongxin-collectord --config "$T/all.conf" --insecure --check-config >/dev/null
ok $? "the example with every key set parses"
