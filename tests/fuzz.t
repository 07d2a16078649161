#!/bin/sh
# Replays the fuzzer's saved corpus and every crash ever found
# (tests/fuzz/regressions.txt, wire cases written out by test_wire_cases
# --emit) through the pre-scan, decoder and validator, built with
# libFuzzer + ASan + UBSan.
. tests/lib.sh
plan 2
if ! command -v clang >/dev/null 2>&1; then
    echo "ok 1 # SKIP clang is not installed"; echo "ok 2 # SKIP clang is not installed"; exit 0
fi
make -s "$B/fuzz/fuzz_wire" B="$B" >"$T/build.log" 2>&1; rc=$?
ok $rc "the fuzz harness builds"
[ $rc = 0 ] || sed 's/^/#   /' "$T/build.log"
mkdir "$T/regressions" && "$B/tests/test_wire_cases" --emit "$T/regressions" tests/fuzz/regressions.txt
n=$(ls tests/fuzz/corpus "$T/regressions" | wc -l)
"$B/fuzz/fuzz_wire" -runs=0 tests/fuzz/corpus "$T/regressions" >"$T/replay.log" 2>&1; rc=$?
ok $rc "the corpus and the regression cases replay clean (about $n inputs)"
[ $rc = 0 ] || tail -n 30 "$T/replay.log" | sed 's/^/#   /'
