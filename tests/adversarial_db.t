#!/bin/sh
# Issue 12, findings 1 and 6: no value one unit may send makes the database
# refuse another unit's event; an event the database refuses anyway is kept
# whole (db_refused), counted, logged once per cause and replayed by
# tongxin-admin rejected replay; refusals cannot be turned into unbounded
# storage (a prefix, the length and the SHA-256 of a refused message; a
# budget per sender).
. tests/lib.sh
. tests/collector.sh
plan 41

ADMIN=$B/tongxin-admin
db=$(collector_db advdb) || { echo "Bail out! no database"; exit 1; }
$ADMIN --db "$db" unit add root --name Root --kind district >/dev/null
$ADMIN --db "$db" unit add a1 --name A1 --kind township --parent root >/dev/null
$ADMIN --db "$db" unit add a2 --name A2 --kind township --parent root >/dev/null
# --fold-ms 0: this collector never folds; the views count the events it
# stores all the same (013_rollups_live), right after the ack.
collector_start advdb --group-ms 1 --registry-refresh 86400 --rejected-budget 64 --fold-ms 0 \
    || { echo "Bail out! collector"; exit 1; }
raw() { $RAW -e "$endpoint" "$@"; }
frame() { _f=$1; shift; $RAW --dump "$@" | perl -ne 'chomp; print pack("H*", $_)' >"$_f"; }
metric() { http_get "$metrics" /metrics | sed -n "s/^$1 //p"; }
root_students() {
    sql "$db" "SELECT coalesce(sum(students), 0) FROM analytics.rollup_type WHERE unit_code = 'root'"
}

# --------------------------------------------- 1. bounds and wide sums
is "$(sql "$db" "SELECT count(*) FROM tongxin.event_type_attrs
                  WHERE kind IN ('int', 'numeric') AND (min_value IS NULL OR max_value IS NULL)")" 0 \
   "every int and numeric attribute has bounds"
sql "$db" "INSERT INTO tongxin.event_types (code, description) VALUES ('adv_t', 'bounds test');
           INSERT INTO tongxin.event_type_attrs (type_code, name, kind) VALUES ('adv_t', 'k', 'int')" >/dev/null
is "$(sql "$db" "SELECT min_value || '..' || max_value FROM tongxin.event_type_attrs WHERE type_code = 'adv_t'")" \
   "-1000000000..1000000000" "an int attribute registered without bounds gets the defaults"
sql "$db" "UPDATE tongxin.event_type_attrs SET max_value = 1e16 WHERE type_code = 'adv_t'" >/dev/null 2>&1
ok $((! $?)) "a bound past 10^15 is refused by the registry"

is "$(raw --batch-id 1 batch unit=a1 type=student_aid partner=513432 @students=i:999999999999999999)" \
   "ack batch=1 results=2 rejected=0:out_of_range" "the attacker's 999999999999999999 students: out_of_range"
is "$(raw --batch-id 2 batch unit=a1 type=student_aid partner=513432 @students=i:1000000000)" \
   "ack batch=2 results=0 rejected=" "the bound itself is accepted"
# The root's sum at the edge of bigint, as if many such events had come
# (folded, then set).
sql "$db" "SELECT analytics.fold_rollups()" >/dev/null
for t in rollup_month rollup_total rollup_type; do
    sql "$db" "UPDATE analytics.${t}_folded SET students = 9223372036854775807
                WHERE unit_code = 'root' AND type = 'student_aid'" >/dev/null
done
is "$(raw --batch-id 3 batch unit=a2 type=student_aid partner=513432 @students=i:5)" \
   "ack batch=3 results=0 rejected=" "a sibling's valid event is stored although the root's sum passes 2^63-1"
is "$(root_students)" 9223372036854775812 "the root's rollup holds the exact sum"
is "$(sql "$db" "SELECT aid_students FROM analytics.donations_aid WHERE unit_code = 'root'")" \
   9223372036854775812 "and the views read it"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE unit_code = 'a2'")" 1 "a2's event is there"

# ----------------------------------------- 2. refused by the database
# A refusal the validator cannot predict: a trigger (a stand-in for any
# bug or hand-made constraint) refuses events whose topic is "poison".
sql "$db" "CREATE FUNCTION public.poison() RETURNS trigger LANGUAGE plpgsql AS \$\$
           BEGIN IF NEW.attrs->>'topic' = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF;
           RETURN NEW; END \$\$;
           CREATE TRIGGER poison BEFORE INSERT ON tongxin.events FOR EACH ROW EXECUTE FUNCTION public.poison()" >/dev/null
frame "$T/p1" --ids "$T/pids" --batch-id 10 batch \
    unit=a1 type=cloud_meeting @participants=i:3 @topic=fine -- \
    unit=a2 type=cloud_meeting @participants=i:4 @topic=poison -- \
    unit=a1 type=cloud_meeting @participants=i:5 @topic=fine
is "$(raw file "$T/p1")" "ack batch=10 results=0,2,0 rejected=1:db_refused" \
   "the refused event is answered db_refused, the others are stored"
pid=$(sed -n 2p "$T/pids")
is "$(sql "$db" "SELECT reason || ' ' || (length(raw) > 0) || ' ' || (raw_len = length(raw)) || ' ' || claimed_unit
                   FROM tongxin.rejected_events WHERE event_id = '$pid'")" "db_refused true true a2" \
   "its row keeps the event's bytes, whole"
rawhex=$(sql "$db" "SELECT encode(raw, 'hex') FROM tongxin.rejected_events WHERE event_id = '$pid'")
fhex=$(od -An -v -tx1 "$T/p1" | tr -d ' \n')
r=1; case "$fhex" in *"$rawhex"*) [ -n "$rawhex" ] && r=0 ;; esac
ok $r "exactly the event's bytes as they came in the frame"
like "$(sql "$db" "SELECT message FROM tongxin.rejected_events WHERE event_id = '$pid'")" \
     "poisoned row.*kept it for replay" "its message names the database's reason"
for i in 11 12 13; do raw --batch-id $i batch unit=a2 type=cloud_meeting @participants=i:$i @topic=poison >/dev/null; done
is "$(metric 'tongxin_events_rejected_total{code="db_refused"}')" 4 "counted in /metrics"
is "$(grep -c 'level=error.*the database refused an event' "$T/advdb.log")" 1 "logged once for one cause"
is "$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events WHERE reason = 'db_refused' AND length(raw) > 0")" 4 \
   "four kept"

out=$($ADMIN --db "$db" rejected replay 2>&1); rc=$?
is "$rc" 1 "replay while the cause is still there: exit 1"
like "$out" "4 kept events of reason db_refused: 0 stored.*4 still refused" "and says so"
is "$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events WHERE replayed_at IS NOT NULL")" 0 "nothing marked"
sql "$db" "DROP TRIGGER poison ON tongxin.events" >/dev/null
out=$($ADMIN --db "$db" rejected replay --dry-run 2>&1)
like "$out" "dry run.*4 stored" "a dry run says what would happen"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE attrs->>'topic' = 'poison'")" 0 "and stores nothing"
out=$($ADMIN --db "$db" rejected replay 2>&1); rc=$?
is "$rc" 0 "replay once the cause is fixed"
like "$out" "4 kept events of reason db_refused: 4 stored" "stores the four"
is "$(sql "$db" "SELECT count(*) || ' ' || min(sender) FROM tongxin.events WHERE attrs->>'topic' = 'poison'")" \
   "4 $(sql "$db" "SELECT min(sender) FROM tongxin.rejected_events WHERE event_id = '$pid'")" \
   "as the unit sent them, with the sender that delivered them"
out=$($ADMIN --db "$db" rejected replay 2>&1)
like "$out" "^0 kept events" "a second replay finds nothing to do"
sql "$db" "UPDATE tongxin.rejected_events SET replayed_at = NULL WHERE reason = 'db_refused'" >/dev/null
out=$($ADMIN --db "$db" rejected replay 2>&1)
like "$out" "4 kept events of reason db_refused: 0 stored, 4 already stored" "replaying again stores nothing twice"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE attrs->>'topic' = 'poison'")" 4 "still four"
like "$($ADMIN --db "$db" rejected list)" "db_refused	4	0	4	" "rejected list sums it up"
# The same refused event under another id (its bytes with a new UUIDv7):
# replay stores it as the collector would, once per content.
sql "$db" "WITH n AS (SELECT (lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') || '7abc8'
                              || substr(md5(random()::text), 1, 15))::uuid AS id)
           INSERT INTO tongxin.rejected_events (event_id, claimed_unit, sender, batch_id, reason, message, raw, raw_len)
           SELECT n.id, claimed_unit, sender, batch_id, reason, message,
                  overlay(raw placing uuid_send(n.id) from 7 for 16), raw_len
             FROM tongxin.rejected_events, n WHERE event_id = '$pid'" >/dev/null
out=$($ADMIN --db "$db" rejected replay 2>&1)
like "$out" "1 kept events? of reason db_refused: 0 stored, 1 already stored" \
     "the same content under a new id: already stored (content idempotency in replay)"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE attrs->>'topic' = 'poison'")" 4 "still four"

# Seventy causes: each logged once (the memory of causes is bounded), a
# repeat of a recent one not again.
sql "$db" "CREATE FUNCTION public.many() RETURNS trigger LANGUAGE plpgsql AS \$\$
           BEGIN IF NEW.attrs->>'topic' LIKE 'many%' THEN RAISE EXCEPTION 'cause %', NEW.attrs->>'topic'; END IF;
           RETURN NEW; END \$\$;
           CREATE TRIGGER many BEFORE INSERT ON tongxin.events FOR EACH ROW EXECUTE FUNCTION public.many()" >/dev/null
n0=$(grep -c 'level=error.*the database refused an event' "$T/advdb.log")
set --; i=0
while [ $i -lt 70 ]; do i=$((i + 1)); set -- "$@" unit=a1 type=cloud_meeting @participants=i:1 @topic=many$i --; done
raw --batch-id 40 batch "$@" unit=a1 type=cloud_meeting @participants=i:1 @topic=many70 >/dev/null
raw --batch-id 41 batch unit=a1 type=cloud_meeting @participants=i:1 @topic=many70 >/dev/null
is "$(( $(grep -c 'level=error.*the database refused an event' "$T/advdb.log") - n0 ))" 70 \
   "70 causes, 72 refusals: one error line per cause"
sql "$db" "DROP TRIGGER many ON tongxin.events" >/dev/null

# A rejected event whose texts the database refuses is recorded without them.
sql "$db" "ALTER TABLE tongxin.rejected_events ADD CONSTRAINT no_poison CHECK (message NOT LIKE '%xyzzy%')" >/dev/null
is "$(raw --ids "$T/pid2" --batch-id 30 batch unit=a1 type=cloud_meeting @participants=i:1 @xyzzy=x)" \
   "ack batch=30 results=2 rejected=0:unknown_attr" "an event refused for an attribute named xyzzy"
is "$(sql "$db" "SELECT reason || ' ' || (length(raw) > 0) || ' [' || message || ']'
                   FROM tongxin.rejected_events WHERE event_id = '$(cat "$T/pid2")'")" "unknown_attr true []" \
   "is recorded with its code and bytes when its message cannot be"
sql "$db" "ALTER TABLE tongxin.rejected_events DROP CONSTRAINT no_poison" >/dev/null

# ------------------------------------------- 3. bounded refusal storage
head -c 1048576 /dev/urandom >"$T/big"
is "$(raw file "$T/big")" "error batch=nil code=malformed" "1 MiB of random bytes: malformed"
is "$(sql "$db" "SELECT length(raw) || ' ' || raw_len FROM tongxin.rejected_events WHERE reason = 'malformed'")" \
   "4096 1048576" "a prefix of 4096 bytes is kept, with the whole length"
is "$(sql "$db" "SELECT encode(raw_sha256, 'hex') FROM tongxin.rejected_events WHERE reason = 'malformed'")" \
   "$(sha256sum "$T/big" | cut -d' ' -f1)" "and the SHA-256 of the whole"
i=0; while [ $i -lt 40 ]; do i=$((i + 1)); echo "$T/big"; done | xargs $RAW -e "$endpoint" file >"$T/many"
is "$(grep -c malformed "$T/many")" 40 "40 more: every one answered"
kept=$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events WHERE reason = 'malformed'")
bytes=$(sql "$db" "SELECT sum(length(raw)) FROM tongxin.rejected_events WHERE reason = 'malformed'")
ok $(( ! (kept < 41 && bytes <= 65536) )) "at most the budget kept ($kept rows, $bytes bytes of 64 KiB)"
is "$(metric tongxin_refusals_not_kept_total)" $((41 - kept)) "the rest counted as not kept"
is "$(grep -c 'sender over its refusal budget' "$T/advdb.log")" 1 "and logged once"
# A unit's valid events pass whatever the flood.
is "$(raw --batch-id 20 batch unit=a2 type=student_aid partner=513432 @students=i:2)" \
   "ack batch=20 results=0 rejected=" "a valid event is stored after the flood"
