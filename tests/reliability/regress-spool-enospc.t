#!/bin/bash
# Regression (found by scenario 5, 05-spool-full.t): a producer whose spool
# directory's file system fills up (ENOSPC).
#   1. submit must say "full" (TONGXIN_EFULL), as at the spool's cap; it
#      said TONGXIN_EIO (s_fail in producers/lib/spool.c turned every
#      write error into TX_SPOOL_EIO);
#   2. once everything in the spool is delivered, the spool must take
#      events again; it did not: the fully acknowledged active segment,
#      which is most of the disk, was only rotated out when the spool's own
#      cap was reached (tx_spool_put), and a restart kept it too (recovery
#      keeps the newest segment), so every later submit failed with ENOSPC.
#      Now a fully acknowledged active segment gives its space back: at
#      open and close, and while the disk is full at ack and append.
# Nothing accepted may be lost either way (checked below).
. tests/lib.sh
. tests/reliability/lib.sh
mkdir -p "$T/small"
if ! mount -t tmpfs -o size=256k tongxin-enospc "$T/small" 2>/dev/null; then
    echo "1..0 # SKIP cannot mount a tmpfs here"
    exit 0
fi
plan 14
at_exit "umount '$T/small'"
rel_setup enospc 1
rel_collector 1 || { echo "Bail out! the collector did not start"; exit 1; }
# Fill the file system (the collector is up: all accepted is delivered).
rel_driver fill rel-1 $(rel_ep 1) --count 100000 --spool "$T/small/spool" --wait 60
rel_driver_wait fill
refusal=$(awk '$1 == "F" || $1 == "E" { print $1 " " $3; exit }' "$T/out/fill.out")
accepted=$(grep -c '^S ' "$T/out/fill.out")
ok $(( accepted > 0 ? 0 : 1 )) "a spool on a 256 kB file system took $accepted events, then refused ($refusal)"
is "$refusal" "F " "the refusal of a full file system is 'full'"
is "$(grep -c '^V .* stored' "$T/out/fill.out")" "$accepted" "everything accepted was delivered"
# The spool is empty now: a new producer on it must be able to submit.
rel_driver again rel-1 $(rel_ep 1) --count 10 --spool "$T/small/spool" --wait 30
rel_driver_wait again
is "$(grep -c '^S ' "$T/out/again.out") $rel_rcs" "10 0" "once drained, the spool takes events again"
check_scenario regress-enospc
