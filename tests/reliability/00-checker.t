#!/bin/bash
# The checker itself: check_scenario must see a loss, a duplicate and a
# row nobody submitted.  A short clean run is checked (all zero), then the
# database is damaged behind the producers' back and checked again.
. tests/lib.sh
. tests/reliability/lib.sh
plan 10
rel_setup checker 2
rel_collector 1 || { echo "Bail out! the collector did not start"; exit 1; }
rel_driver p1 rel-1 $(rel_ep 1) --count 50 --bad-every 10
rel_driver_wait p1
is "$rel_rcs" 0 "a producer delivered 50 events"
# summary: check_scenario's summary line, its TAP lines thrown away.
summary() { RELIABILITY_LOG='' check_scenario "$1" 3>/dev/null | sed -n 's/^# \(scenario=.*\)/\1/p'; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
s=$(summary clean)
is "$(field "$s" submitted) $(field "$s" stored) $(field "$s" rejected)" "50 45 5" "the clean run: 50 submitted, 45 stored, 5 rejected"
is "$(field "$s" missing) $(field "$s" duplicated) $(field "$s" unexpected)" "0 0 0" "the clean run: nothing missing, doubled or unexpected"
ok $(( $(field "$s" collector_peak_rss_kb) > 1000 ? 0 : 1 )) "the collector's peak RSS was sampled ($(field "$s" collector_peak_rss_kb) kB)"
# Damage: lose one stored event, store another one a second time under
# another unit, and add one nobody sent (an id next to a real one).
lost=$(awk '$1 == "V" && $3 == "stored" { print $2; exit }' "$T/out/p1.out")
twice=$(awk '$1 == "V" && $3 == "stored" { n++; if (n == 2) { print $2; exit } }' "$T/out/p1.out")
ghost=$(printf '%s' "$twice" | sed 's/.$/0/')
[ "$ghost" != "$twice" ] || ghost=$(printf '%s' "$twice" | sed 's/.$/1/')
sql "$db" "DELETE FROM tongxin.events WHERE event_id = '$lost';
           INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, sender)
           SELECT event_id, 'rel-2', type, occurred_at, sender FROM tongxin.events WHERE event_id = '$twice'
           UNION ALL
           SELECT '$ghost', unit_code, type, occurred_at, sender FROM tongxin.events WHERE event_id = '$twice'" >/dev/null
ok $? "damaged the database"
s=$(summary damaged)
is "$(field "$s" missing)" 1 "a lost event is missing"
is "$(field "$s" duplicated)" 1 "an event stored under two units is duplicated"
is "$(field "$s" unexpected)" 1 "an event nobody submitted is unexpected"
# A verdict the producer was given that the database contradicts.
sql "$db" "INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, sender)
           SELECT '$(awk '$1 == "V" && $3 == "rejected" { print $2; exit }' "$T/out/p1.out")', unit_code, type, occurred_at, sender
             FROM tongxin.events WHERE event_id = '$twice' AND unit_code = 'rel-1'" >/dev/null
s=$(summary contradicted)
is "$(field "$s" contradicted)" 1 "a rejected event found stored contradicts its verdict"
# An accepted event without a verdict.
echo "S 01900000-0000-7000-8000-000000000001" >>"$T/out/p1.out"
s=$(summary no-verdict)
is "$(field "$s" no_verdict)" 1 "an accepted event without a verdict is counted"
