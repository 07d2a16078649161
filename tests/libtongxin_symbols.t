#!/bin/sh
# libtongxin.so exports its API (tongxin.h, tongxin_*) and nothing else: the
# common modules linked into it (tx_*: the codec, the registry, the
# validator...) stay inside (producers/lib/libtongxin.map), so that an
# application's own symbols never meet them.
. tests/lib.sh
plan 2
syms=$(nm -D --defined-only "$B/libtongxin.so" | awk '$2 ~ /^[TDBRVWi]$/ { print $3 }' | sed 's/@.*//' | sort -u)
others=$(printf '%s\n' "$syms" | grep -v '^tongxin_' | grep -v '^$')
is "$others" "" "no symbol but tongxin_* is exported"
ok $(printf '%s\n' "$syms" | grep -qx tongxin_registry_fetch; echo $?) "...and the API is (tongxin_registry_fetch among them)"
