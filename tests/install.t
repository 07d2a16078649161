#!/bin/sh
# make install puts everything under PREFIX (and DESTDIR).
. tests/lib.sh
plan 7
make -s install B="$B" PREFIX="$T/prefix" >/dev/null 2>&1; ok $? "make install PREFIX=..."
P=$T/prefix
"$P/bin/tongxin-admin" --version | grep -q '^tongxin-admin '; ok $? "the installed tongxin-admin runs"
"$P/sbin/tongxin-collectord" --version | grep -q '^tongxin-collectord '; ok $? "the daemon is in sbin"
[ -f "$P/lib/libtongxin.a" ] && [ -f "$P/lib/libtongxin.so.0" ] && [ -f "$P/include/tongxin.h" ]
ok $? "the library and its header"
PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --libs tongxin | grep -q -- '-ltongxin'; ok $? "pkg-config tongxin"
[ -f "$P/lib/systemd/system/tongxin-collectord.service" ] && [ -f "$P/share/doc/tongxin/collectord.conf.example" ] \
    && grep -q "ExecStart=$P/sbin/tongxin-collectord" "$P/lib/systemd/system/tongxin-collectord.service"
ok $? "the unit (pointing at the installed daemon) and the example config"
make -s install B="$B" PREFIX=/usr DESTDIR="$T/dest" >/dev/null 2>&1 && [ -x "$T/dest/usr/bin/tongxin-admin" ]
ok $? "DESTDIR is honoured"
