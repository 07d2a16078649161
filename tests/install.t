#!/bin/sh
# make install puts the programs under PREFIX (and DESTDIR).
. tests/lib.sh
plan 3
make -s install B="$B" PREFIX="$T/prefix" >/dev/null 2>&1; ok $? "make install PREFIX=..."
"$T/prefix/bin/tongxin-admin" --version | grep -q '^tongxin-admin '; ok $? "the installed tongxin-admin runs"
make -s install B="$B" PREFIX=/usr DESTDIR="$T/dest" >/dev/null 2>&1 && [ -x "$T/dest/usr/bin/tongxin-admin" ]
ok $? "DESTDIR is honoured"
