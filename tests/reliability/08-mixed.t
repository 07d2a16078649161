#!/bin/bash
# Scenario 8: good and bad events mixed, under load, while the collector is
# killed (kill -9) and restarted.  Four producers make every 3rd, 5th, 7th
# and 11th event invalid (participants = 0: out_of_range).  Every bad
# event must be answered "rejected out_of_range" and recorded in
# tongxin.rejected_events (again after a resend: a record per delivery);
# every good one stored; none of the bad ones stored.
. tests/lib.sh
. tests/reliability/lib.sh
plan 16
rel_setup mixed 4
rel_collector 1 || { echo "Bail out! the collector did not start"; exit 1; }
per=$((REL_EVENTS / 4))
every=(3 5 7 11)
rel_stream_start
for i in 1 2 3 4; do
    rel_driver "p$i" "rel-$i" $(rel_ep 1) $(rel_rate $per) --bad-every ${every[$((i - 1))]}
done
rel_faults rel_kill9_collector
rel_driver_wait p1 p2 p3 p4
is "$rel_rcs" 0000 "every producer finished with an answer for each of its events"
c=$T/check
# The bad ones, by position: the i-th accepted event of producer pN.
for i in 1 2 3 4; do
    awk -v k=${every[$((i - 1))]} '$1 == "S" { n++; if (n % k == 0) print $2 }' "$T/out/p$i.out"
done | sort -u >"$c/bad"
cat "$T"/out/*.out | awk '$1 == "V" && $3 == "rejected" { print $2 }' | sort -u >"$c/told-rejected"
cat "$T"/out/*.out | awk '$1 == "V" && $3 == "rejected" { print $4 }' | sort | uniq -c | tr -s ' ' >"$c/codes"
nbad=$(wc -l <"$c/bad")
ok $(( nbad > 0 ? 0 : 1 )) "the producers made $nbad bad events"
is "$(comm -3 "$c/bad" "$c/told-rejected" | wc -l)" 0 "exactly the bad events were answered 'rejected'"
is "$(cat "$c/codes")" " $(cat "$T"/out/*.out | grep -c '^V .* rejected') out_of_range" "all of them with out_of_range"
psql "$db" -X -q -v ON_ERROR_STOP=1 \
    -c "COPY (SELECT event_id FROM tongxin.rejected_events WHERE reason = 'out_of_range') TO STDOUT" >"$c/recorded"
sort -u "$c/recorded" >"$c/recorded-ids"
is "$(comm -23 "$c/bad" "$c/recorded-ids" | wc -l)" 0 "every bad event is recorded in tongxin.rejected_events"
is "$(comm -13 "$c/bad" "$c/recorded-ids" | wc -l)" 0 "and nothing else is"
check_scenario mixed "bad=$nbad rejected_rows=$(wc -l <"$c/recorded")"
[ "$_tap_failed" = 0 ] || rel_tail_logs
