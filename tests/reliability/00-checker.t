#!/bin/bash
# The checker itself: check_scenario must see a loss, a duplicate, a row
# nobody submitted, a retyped event stored and a duplicate verdict naming
# the wrong original.  A short clean run is checked (all zero), then the
# database and the producer's lines are damaged behind its back and
# checked again.
. tests/lib.sh
. tests/reliability/lib.sh
plan 17
rel_setup checker 2
rel_collector 1 || { echo "Bail out! the collector did not start"; exit 1; }
# 45 valid events, 9 of them (20 %) retyped: 5 "with", 4 "after".
rel_driver p1 rel-1 $(rel_ep 1) --count 50 --bad-every 10 --retype 20
rel_driver_wait p1
is "$rel_rcs" 0 "a producer delivered 50 events"
# summary: check_scenario's summary line, its TAP lines thrown away.
summary() { RELIABILITY_LOG='' check_scenario "$1" 3>/dev/null | sed -n 's/^# \(scenario=.*\)/\1/p'; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# plain K: the K-th event answered stored that is no retyped one or its original.
plain() { awk -v k="$1" 'NR == FNR { if ($1 == "T") { p[$2]; p[$3] } next }
                           $1 == "V" && $3 == "stored" && !($2 in p) { n++; if (n == k) { print $2; exit } }' "$T/out/p1.out" "$T/out/p1.out"; }
s=$(summary clean)
is "$(field "$s" submitted) $(( $(field "$s" stored) + $(field "$s" duplicate) )) $(field "$s" rejected)" "50 45 5" \
   "the clean run: 50 submitted, 45 stored, 5 rejected"
is "$(field "$s" missing) $(field "$s" duplicated) $(field "$s" unexpected)" "0 0 0" "the clean run: nothing missing, doubled or unexpected"
ok $(( $(field "$s" collector_peak_rss_kb) > 1000 ? 0 : 1 )) "the collector's peak RSS was sampled ($(field "$s" collector_peak_rss_kb) kB)"
is "$(field "$s" retyped) $(grep -c '^T .* after$' "$T/out/p1.out")" "9 4" "the clean run: 9 events retyped, 4 once the original was answered"
is "$(field "$s" retyped_stored) $(field "$s" original_wrong)" "0 0" \
   "the clean run: no retyped event stored, no duplicate verdict names a wrong original"
first=$(field "$s" retyped_first)
ok $(( $(field "$s" original_named) >= 9 ? 0 : 1 )) "the collector named the original of each retyped event ($(field "$s" original_named) named)"

# A retyped event stored although its original was ("after").
read -r r o _ < <(awk '$1 == "T" && $4 == "after" { print $2, $3; exit }' "$T/out/p1.out")
sql "$db" "INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, sender)
           SELECT '$r', unit_code, type, occurred_at, sender FROM tongxin.events WHERE event_id = '$o'" >/dev/null
s=$(summary retyped-stored)
is "$(field "$s" retyped_stored) $(field "$s" missing) $(field "$s" unexpected)" "1 0 0" \
   "a retyped event that is stored counts in retyped_stored (and nowhere else)"
# A "with" copy that reached the collector first: it is the stored one, its
# original answered duplicate naming it.  Neither is missing.
read -r r o _ < <(awk 'NR == FNR { if ($1 == "V" && $3 == "stored") s[$2]; next }
                        $1 == "T" && $4 == "with" && ($3 in s) { print $2, $3; exit }' "$T/out/p1.out" "$T/out/p1.out")
sql "$db" "UPDATE tongxin.events SET event_id = '$r' WHERE event_id = '$o'" >/dev/null
sed -i -e "s/^V $o stored$/V $o duplicate\nO $o $r/" -e "s/^V $r duplicate$/V $r stored/" -e "/^O $r $o$/d" "$T/out/p1.out"
s=$(summary retyped-first)
is "$(field "$s" retyped_first) $(field "$s" retyped_stored) $(field "$s" missing) $(field "$s" original_wrong)" "$((first + 1)) 1 0 0" \
   "a 'with' copy stored in place of its original is not a loss (retyped_first)"
# A duplicate verdict that names another stored event than its content's.
other=$(plain 3)
read -r r o _ < <(awk '$1 == "T" && $4 == "after" { n++; if (n == 2) { print $2, $3; exit } }' "$T/out/p1.out")
echo "O $r $other" >>"$T/out/p1.out"
s=$(summary misnamed)
is "$(field "$s" original_wrong)" 1 "a duplicate verdict naming another event is counted (original_wrong)"

# Damage: lose one stored event, store another one a second time under
# another unit, and add one nobody sent (an id next to a real one); none
# of them retyped or an original of a retyped one.
lost=$(plain 1)
twice=$(plain 2)
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
# An accepted event without a verdict, and a retyped one.
echo "S 01900000-0000-7000-8000-000000000001" >>"$T/out/p1.out"
echo "T 01900000-0000-7000-8000-000000000002 $lost after" >>"$T/out/p1.out"
s=$(summary no-verdict)
is "$(field "$s" no_verdict)" 2 "accepted events without a verdict are counted, retyped ones too"
# The scenario summary line carries the new fields.
like "$s" ' retyped=[0-9]+ retyped_duplicate=[0-9]+ retyped_stored=[0-9]+ retyped_first=[0-9]+ original_named=[0-9]+ original_wrong=[0-9]+ ' \
     "the summary line has the retyped counts"
