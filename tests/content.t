#!/bin/bash
# The same report is stored once, whatever its id (content idempotency,
# docs/protocol.md 8.4): an event whose content (unit, type, time to the
# microsecond, partner, attributes in canonical form, supersedes, nth)
# equals a stored event of its unit is answered duplicate and not stored;
# a batch of revision 1.2 ("rev": 2) is told which event it repeats and
# when that one was received.  Also: across months (partitions), for
# corrections and retractions, the explicit ordinal nth, and two
# collectors receiving the same content at the same moment.
. tests/lib.sh
. tests/collector.sh
plan 39

db=$(collector_db content) || { echo "Bail out! no database"; exit 1; }
$B/tongxin-admin --db "$db" unit add u2 --name U2 --kind village >/dev/null
collector_start content --group-ms 1 || { echo "Bail out! collector"; exit 1; }
ep1=$endpoint
raw() { $RAW -e "$ep1" "$@"; }
events() { sql "$db" "SELECT count(*) FROM tongxin.events"; }
received() { sql "$db" "SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')
                         FROM tongxin.events WHERE event_id = '$1'"; }
# dups=I:ID@SEC.USEC as UTC text, for comparing with received()
dup_of() { sed -n 's/.* dups=//p' | tr ',' '\n' | sed -n "$(( $1 + 1 ))p" | cut -d: -f2- ; }
utc() { date -u -d "@${1%.*}" '+%Y-%m-%d %H:%M:%S'.${1#*.}; }
AT=t:1743454800.250000
MEET="unit=u1 type=cloud_meeting at=$AT @participants=i:12 @topic=党建"

# ---------------------------------------------------------------- one report, sent again
raw --ids "$T/a" --batch-id 1 batch $MEET >"$T/r"
is "$(cat "$T/r")" "ack batch=1 results=0 rejected=" "a meeting is stored"
a=$(cat "$T/a")
is "$(raw --batch-id 2 batch $MEET)" "ack batch=2 results=1 rejected=" \
   "the same meeting with a new id (a retyped command, revision 1.0): duplicate, no dups key"
out=$(raw --rev 2 --batch-id 3 batch $MEET)
like "$out" "^ack batch=3 results=1 rejected= dups=0:$a@" "revision 1.2: duplicate of the stored event, by its id"
d=$(printf '%s\n' "$out" | dup_of 0)
is "$(utc "${d#*@}")" "$(received "$a")" "and the time it was received"
is "$(events)" 1 "stored once"
is "$(raw --rev 2 --batch-id 4 batch id=uuid:$a $MEET | sed 's/@.*//')" \
   "ack batch=4 results=1 rejected= dups=0:$a" "a retransmission (the same id): duplicate of itself"
http_get "$metrics" /metrics >"$T/metrics"
is "$(grep -E '^tongxin_events_duplicate(_content)?_total ' "$T/metrics" | tr '\n' ' ')" \
   "tongxin_events_duplicate_total 3 tongxin_events_duplicate_content_total 2 " \
   "/metrics: three duplicates, two of them the same report under another id"

# ---------------------------------------------------------------- what does not matter
is "$(raw --batch-id 5 batch unit=u1 type=cloud_meeting at=$AT @topic=党建 @participants=i:12)" \
   "ack batch=5 results=1 rejected=" "attributes in another order: the same content"
is "$(raw --batch-id 6 batch unit=u1 type=cloud_meeting at=x:d7ff3b9aca0067eb0250 \
        @participants=i:12 @topic=党建)" \
   "ack batch=6 results=1 rejected=" "the same instant in another timestamp form (64-bit): the same content"
raw --batch-id 7 batch unit=u1 type=donation partner=540522 at=$AT @amount_yuan=70000.00 >/dev/null
is "$(raw --batch-id 8 batch unit=u1 type=donation partner=540522 at=$AT @amount_yuan=7e4 -- \
        unit=u1 type=donation partner=540522 at=$AT @amount_yuan=f:70000 -- \
        unit=u1 type=donation partner=540522 at=$AT @amount_yuan=i:70000 -- \
        unit=u1 type=donation partner=540522 at=$AT "@amount_yuan=70000.000")" \
   "ack batch=8 results=1,1,1,1 rejected=" "70000.00, 7e4, a float, an integer: one amount"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE type = 'donation'")" 1 "the donation is counted once"

# ---------------------------------------------------------------- what does
is "$(raw --batch-id 9 batch unit=u1 type=cloud_meeting at=t:1743454800.250001 @participants=i:12 @topic=党建 -- \
        unit=u1 type=cloud_meeting at=$AT @participants=i:13 @topic=党建 -- \
        unit=u1 type=cloud_meeting at=$AT @participants=i:12 "@topic=党建 " -- \
        unit=u1 type=cloud_meeting at=$AT @participants=i:12 -- \
        unit=u1 type=cloud_meeting at=$AT partner=540522 @participants=i:12 @topic=党建)" \
   "ack batch=9 results=0,0,0,0,0 rejected=" "a microsecond, a figure, a space, an attribute, a partner: five other contents"
is "$(raw --batch-id 10 batch unit=u1 type=cloud_meeting at=$AT @participants=i:12 @topic=cafe$'\xcc\x81' -- \
        unit=u1 type=cloud_meeting at=$AT @participants=i:12 @topic=caf$'\xc3\xa9')" \
   "ack batch=10 results=0,0 rejected=" "texts are compared byte for byte (NFD and NFC are two contents)"
$B/tongxin-admin --db "$db" unit add u3 --name U3 --kind village >/dev/null
kill -HUP "$cpid"; wait_log "$T/content.log" 'registry loaded' 2 5
is "$(raw --batch-id 11 batch unit=u3 type=cloud_meeting at=$AT @participants=i:12 @topic=党建)" \
   "ack batch=11 results=0 rejected=" "another unit's identical meeting is its own report"

# ---------------------------------------------------------------- nth: the same content on purpose
out=$(raw --rev 2 --ids "$T/n2" --batch-id 12 batch $MEET nth=u:2 -- $MEET nth=u:2 -- $MEET nth=u:1)
is "$(printf '%s\n' "$out" | sed 's/@[0-9.]*//g')" \
   "ack batch=12 results=0,1,1 rejected= dups=1:$(head -1 "$T/n2"),2:$a" \
   "nth 2 is a second meeting; nth 2 again is it again; nth 1 is the first"
is "$(raw --batch-id 13 batch $MEET nth=u:0 -- $MEET nth=i:-1 -- $MEET nth=u:65536 -- $MEET nth=s:2)" \
   "ack batch=13 results=2,2,2,2 rejected=0:malformed_event,1:malformed_event,2:malformed_event,3:malformed_event" \
   "nth must be an int in 1..65535"

# ---------------------------------------------------------------- in one batch
out=$(raw --rev 2 --ids "$T/b14" --batch-id 14 batch unit=u1 type=student_aid at=$AT @students=i:7 -- \
        unit=u1 type=student_aid at=$AT @students=i:7)
is "$(printf '%s\n' "$out" | sed 's/@[0-9.]*//g')" "ack batch=14 results=0,1 rejected= dups=1:$(head -1 "$T/b14")" \
   "twice in one batch: the first is stored, the second repeats it"

# ---------------------------------------------------------------- corrections and retractions
FIX="unit=u1 type=cloud_meeting at=$AT @participants=i:15 @topic=党建 supersedes=uuid:$a"
raw --ids "$T/c" --batch-id 15 batch $FIX >"$T/r"
is "$(cat "$T/r")" "ack batch=15 results=0 rejected=" "a correction is stored"
out=$(raw --rev 2 --batch-id 16 batch $FIX)
is "$(printf '%s\n' "$out" | sed 's/@[0-9.]*//g')" "ack batch=16 results=1 rejected= dups=0:$(head -1 "$T/c")" \
   "the same correction sent again (new id): counted once"
is "$(raw --batch-id 17 batch $MEET)" "ack batch=17 results=1 rejected=" \
   "the corrected report, imported again from the old file: still a duplicate"
RET="unit=u1 type=retraction at=$AT supersedes=uuid:$(head -1 "$T/c")"
is "$(raw --batch-id 18 batch $RET -- $RET)" "ack batch=18 results=0,1 rejected=" \
   "a retraction sent twice: counted once"
is "$(sql "$db" "SELECT count(*) FROM analytics.events_current WHERE type = 'cloud_meeting' AND attrs->>'participants' = '15'")" 0 \
   "and it withdrew the correction"

# ---------------------------------------------------------------- across months
old=$(( $(date +%s) - 40 * 86400 ))
raw --ids "$T/old" --batch-id 19 batch id=v7:$(( old * 1000 )) unit=u1 type=student_aid at=$AT @students=i:40 >"$T/r"
is "$(cat "$T/r")" "ack batch=19 results=0 rejected=" "an event with an id of last month"
is "$(sql "$db" "SELECT tableoid::regclass::text FROM tongxin.events WHERE event_id = '$(cat "$T/old")'" | grep -c "$(date -u -d @$old +%Y%m)")" 1 \
   "is in last month's partition"
is "$(raw --rev 2 --batch-id 20 batch unit=u1 type=student_aid at=$AT @students=i:40 | sed 's/@[0-9.]*//')" \
   "ack batch=20 results=1 rejected= dups=0:$(cat "$T/old")" "the same report with an id of this month: a duplicate of it"

# ---------------------------------------------------------------- refused events claim nothing
is "$(raw --batch-id 21 batch unit=u1 type=student_aid at=$AT @students=i:41 @nosuch=i:1 -- \
        unit=u1 type=student_aid at=$AT @students=i:41)" "ack batch=21 results=2,0 rejected=0:unknown_attr" \
   "a refused event claims no content"

# ---------------------------------------------------------------- the database's view
is "$(sql "$db" "SELECT count(*) FROM tongxin.events e JOIN tongxin.event_contents c
                  ON c.unit_code = e.unit_code AND c.fingerprint = e.fingerprint AND c.event_id = e.event_id")" \
   "$(events)" "every stored event holds its content row"
is "$(sql "$db" "SELECT count(*) FROM (SELECT unit_code, fingerprint FROM tongxin.events
                  GROUP BY 1, 2 HAVING count(*) > 1) d")" 0 "no content is stored twice"
is "$(sql_as tongxin_collector "$db" "UPDATE tongxin.event_contents SET event_id = event_id")" \
   "permission denied for table event_contents" "the collector cannot change a content row"

# ---------------------------------------------------------------- events stored before content idempotency
# Rows as migration 007 left them: no fingerprint, no content row.
v7() { echo "(lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3)
             || '8' || substr(md5(random()::text), 1, 15))::uuid"; }
sql "$db" "INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, partner_region, attrs, sender, received_at)
           VALUES ($(v7), 'u2', 'donation', '2025-03-31 21:00:00.5+00', '540522', '{\"amount_yuan\": 80000.00}', 'legacy', now() - interval '2 days'),
                  ($(v7), 'u2', 'donation', '2025-03-31 21:00:00.5+00', '540522', '{\"amount_yuan\": 80000.0}', 'legacy', now() - interval '1 day'),
                  ($(v7), 'u2', 'student_aid', '2025-03-31 21:00:00.5+00', NULL, '{\"students\": 3}', 'legacy', now() - interval '1 day')" >/dev/null
first=$(sql "$db" "SELECT event_id FROM tongxin.events WHERE sender = 'legacy' AND type = 'donation' ORDER BY received_at LIMIT 1")
is "$($B/tongxin-admin --db "$db" contents backfill)" \
   "content fingerprints: 3 event(s) stored before content idempotency; 1 of them repeat an earlier report" \
   "contents backfill: old events get their fingerprints; a report stored twice before is counted"
is "$($B/tongxin-admin --db "$db" contents backfill)" "" "a second backfill has nothing to do"
is "$(raw --rev 2 --batch-id 22 batch unit=u2 type=donation partner=540522 at=t:1743454800.5 @amount_yuan=8e4 | sed 's/@[0-9.]*//')" \
   "ack batch=22 results=1 rejected= dups=0:$first" "the old report sent again: a duplicate of the first of them"
is "$(raw --batch-id 23 batch unit=u2 type=student_aid at=t:1743454800.5 @students=i:3)" "ack batch=23 results=1 rejected=" \
   "and of the other one"

# ---------------------------------------------------------------- two collectors, the same moment
collector_start content2 --group-ms 1 || { echo "Bail out! collector 2"; exit 1; }
ep2=$endpoint
: >"$T/race"
for round in $(seq 1 20); do
    evs=""
    for k in $(seq 1 40); do
        evs="$evs unit=u2 type=student_aid at=t:1743454800.$(printf '%06d' $(( round * 1000 + k ))) @students=i:$k --"
    done
    evs=${evs% --}
    # the second collector gets them in the opposite order
    rev=$(printf '%s\n' "$evs" | sed 's/ -- /\n/g' | tac | paste -sd'\t' | sed 's/\t/ -- /g')
    # shellcheck disable=SC2086
    $RAW -e "$ep1" --batch-id "$round" batch $evs >>"$T/race" & p1=$!
    # shellcheck disable=SC2086
    $RAW -e "$ep2" --batch-id "$round" batch $rev >>"$T/race" & p2=$!
    wait $p1 $p2
done
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE unit_code = 'u2' AND sender <> 'legacy'")" 800 \
   "800 contents sent to two collectors at once, each with its own ids: 800 stored"
is "$(grep -o 'results=[0-9,]*' "$T/race" | cut -d= -f2 | tr ',' '\n' | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')" \
   "0:800 1:800 " "each answered stored by one collector and duplicate by the other"
is "$(sql "$db" "SELECT count(*) FROM tongxin.event_contents c WHERE unit_code = 'u2'
                  AND event_id NOT IN (SELECT event_id FROM tongxin.events WHERE sender = 'legacy')")" 800 "800 content rows"
is "$(sql "$db" "SELECT count(*) FROM tongxin.event_contents c WHERE unit_code = 'u2' AND NOT EXISTS
                  (SELECT 1 FROM tongxin.events e WHERE e.event_id = c.event_id AND e.unit_code = c.unit_code)")" 0 \
   "each names a stored event"
is "$(cat "$T/content.log" "$T/content2.log" | grep -c 'sqlstate=40P01')" 0 \
   "the same contents in opposite orders at once: waits, no deadlock (content rows are claimed in key order)"

# ---------------------------------------------------------------- a database not migrated to 008
sql "$db" "DELETE FROM tongxin.schema_migrations WHERE version >= 8" >/dev/null
collector_start content3 --group-ms 1 || { echo "Bail out! collector 3"; exit 1; }
wait_log "$T/content3.log" 'schema is too old' 1 5
like "$(grep 'schema is too old' "$T/content3.log")" 'run tongxin-admin migrate.* needed=8' \
     "a collector refuses a schema without event_contents: it says to migrate"
