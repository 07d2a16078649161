#!/bin/sh
# make install puts everything under PREFIX (and DESTDIR).
. tests/lib.sh
plan 11
make -s install B="$B" PREFIX="$T/prefix" SYSCONFDIR="$T/prefix/etc" >/dev/null 2>&1; ok $? "make install PREFIX=..."
P=$T/prefix
"$P/bin/tongxin-admin" --version | grep -q '^tongxin-admin '; ok $? "the installed tongxin-admin runs"
"$P/sbin/tongxin-collectord" --version | grep -q '^tongxin-collectord '; ok $? "the daemon is in sbin"
[ -f "$P/lib/libtongxin.a" ] && [ -f "$P/lib/libtongxin.so.0" ] && [ -f "$P/include/tongxin.h" ]
ok $? "the library and its header"
PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --libs tongxin | grep -q -- '-ltongxin'; ok $? "pkg-config tongxin"
[ -f "$P/lib/systemd/system/tongxin-collectord.service" ] && [ -f "$P/share/doc/tongxin/collectord.conf.example" ] \
    && grep -q "ExecStart=$P/sbin/tongxin-collectord" "$P/lib/systemd/system/tongxin-collectord.service"
ok $? "the unit (pointing at the installed daemon) and the example config"
[ -x "$P/bin/tongxin-desk" ] && [ -f "$P/share/man/man1/tongxin-desk.1" ] \
    && grep -q "ExecStart=$P/bin/tongxin-desk" "$P/lib/systemd/user/tongxin-desk.service" \
    && [ -f "$P/share/doc/tongxin-desk/desk.conf.example" ]
ok $? "tongxin-desk, its man page, its user service (pointing at it) and example configuration"
make -s install B="$B" PREFIX=/usr DESTDIR="$T/dest" >/dev/null 2>&1 && [ -x "$T/dest/usr/bin/tongxin-admin" ]
ok $? "DESTDIR is honoured"
C=$T/prefix/etc/tongxin/collectord.conf
[ -f "$P/share/doc/tongxin/README.md" ] && [ -f "$P/share/doc/tongxin/operations.md" ] && [ -f "$T/dest/etc/tongxin/collectord.conf" ]
ok $? "the docs under share/doc/tongxin, the config under SYSCONFDIR (/etc with DESTDIR)"
is "$(grep -v '^#' "$C" | grep .)" "[collector]
db = dbname=tongxin user=tongxin
key = $T/prefix/etc/tongxin/collector.key" "the config: the example with the login and key tongxin-admin setup makes"
echo "# edited" >> "$C"
make -s install B="$B" PREFIX="$T/prefix" SYSCONFDIR="$T/prefix/etc" >/dev/null 2>&1
is "$(tail -n 1 "$C")" "# edited" "an installed config is never overwritten"
