#!/bin/sh
# The collector stores valid events exactly once, answers resends
# "duplicate", rejects every bad event with its code (in the ack and in
# tongxin.rejected_events), refuses bad messages whole, reloads the registry
# on SIGHUP and stores attributes and times exactly.  Frames are made by
# tests/tools/tx-raw, so every reject code is triggered on purpose.
. tests/lib.sh
. tests/collector.sh
plan 136

db=$(collector_db basic) || { echo "Bail out! no database"; exit 1; }
$B/tongxin-admin --db "$db" unit add u2 --name U2 --kind village >/dev/null
$B/tongxin-admin --db "$db" unit disable u2 >/dev/null
# A type with one attribute of every kind (the seeded ones have no date or bool).
sql "$db" "INSERT INTO tongxin.event_types (code, description) VALUES ('kinds_test', 'every kind');
  INSERT INTO tongxin.event_type_attrs (type_code, name, kind, min_value, max_value, max_len, enum_values) VALUES
    ('kinds_test', 'i', 'int', -5, 5, NULL, NULL), ('kinds_test', 'n', 'numeric', NULL, NULL, NULL, NULL),
    ('kinds_test', 't', 'text', NULL, NULL, 3, NULL), ('kinds_test', 'b', 'bool', NULL, NULL, NULL, NULL),
    ('kinds_test', 'd', 'date', NULL, NULL, NULL, NULL), ('kinds_test', 'e', 'enum', NULL, NULL, NULL, '{a,b}')" >/dev/null
collector_start basic --group-ms 1 --registry-refresh 86400 || { echo "Bail out! collector"; exit 1; }

raw() { $RAW -e "$endpoint" "$@"; }
# frame FILE TX-RAW-ARGS: the frame tx-raw would send, as bytes in FILE.
frame() { _f=$1; shift; $RAW --dump "$@" | perl -ne 'chomp; print pack("H*", $_)' >"$_f"; }
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }
events() { sql "$db" "SELECT count(*) FROM tongxin.events"; }
me="insecure:localhost:$(id -u):$(id -g)"

# ------------------------------------------------------------ stored once
frame "$T/b1" --ids "$T/ids1" --batch-id 1 batch \
    unit=u1 type=cloud_meeting @participants=i:12 "@topic=case handling" -- \
    unit=u1 type=donation partner=513432 @amount_yuan=70000.00 -- \
    unit=u1 type=visit @direction=outbound @delegates=i:3
$RAW -e "$endpoint" file "$T/b1" >"$T/r1" & rpid=$!; wait $rpid
is "$(cat "$T/r1")" "ack batch=1 results=0,0,0 rejected=" "three valid events: all stored"
is "$(events)" 3 "three rows"
is "$(sql "$db" "SELECT string_agg(event_id::text, ' ' ORDER BY event_id) FROM tongxin.events")" \
   "$(sort "$T/ids1" | tr '\n' ' ' | sed 's/ $//')" "with the ids that were sent"
is "$(sql "$db" "SELECT DISTINCT sender || '|' || unit_code FROM tongxin.events")" "$me:$rpid|u1" \
   "sender is insecure: and the peer's credentials (ipc: uid, gid, pid)"
is "$(raw --repeat 2 file "$T/b1")" "ack batch=1 results=1,1,1 rejected=
ack batch=1 results=1,1,1 rejected=" "the same bytes again, twice, on a new connection: duplicate"
is "$(events)" 3 "no new rows"
frame "$T/b2" --batch-id 2 batch unit=u1 type=student_aid @students=i:10
is "$(raw --repeat 2 file "$T/b2")" "ack batch=2 results=0 rejected=
ack batch=2 results=1 rejected=" "a batch sent twice in a row: stored, then duplicate"
is "$(raw --repeat 2 --window 2 --batch-id 3 batch unit=u1 type=student_aid @students=i:1 | sort)" \
   "ack batch=3 results=0 rejected=
ack batch=3 results=1 rejected=" "a batch sent twice at once (one transaction): stored once, duplicate once"
$RAW --dump --ids "$T/ids4" batch unit=u1 type=student_aid @students=i:1 >/dev/null
id4=$(cat "$T/ids4")
is "$(raw --batch-id 4 batch id=uuid:$id4 unit=u1 type=student_aid @students=i:1 -- \
        id=uuid:$id4 unit=u1 type=student_aid @students=i:2)" \
   "ack batch=4 results=0,1 rejected=" "the same id twice in one batch: the first is stored"
is "$(sql "$db" "SELECT attrs->>'students' FROM tongxin.events WHERE event_id = '$id4'")" 1 "the first one"
is "$(raw --batch-id 5 batch id=uuid:$id4 unit=u2 type=student_aid @students=i:1 -- \
        id=uuid:$id4 unit=nosuch type=student_aid @students=i:1)" \
   "ack batch=5 results=2,2 rejected=0:unit_inactive,1:unknown_unit" "a rejected event does not clash with a stored id"
is "$(events)" 6 "six events stored in all"

# ------------------------------------------------------------ mixed batch
frame "$T/b10" --ids "$T/ids10" --batch-id 10 batch \
    unit=u1 type=cloud_meeting @participants=i:2 -- \
    unit=nosuch type=cloud_meeting @participants=i:2 -- \
    unit=u1 type=lecture @kind=training -- \
    unit=u1 type=cloud_meeting @topic=none
$RAW -e "$endpoint" file "$T/b10" >"$T/r10" & rpid=$!; wait $rpid
is "$(cat "$T/r10")" "ack batch=10 results=0,2,0,2 rejected=1:unknown_unit,3:missing_attr" \
   "mixed batch: good ones stored, bad ones rejected"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE event_id IN ('$(sed -n 1p "$T/ids10")', '$(sed -n 3p "$T/ids10")')")" \
   2 "both good events are stored"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events WHERE event_id IN ('$(sed -n 2p "$T/ids10")', '$(sed -n 4p "$T/ids10")')")" \
   0 "neither bad one"
is "$(sql "$db" "SELECT event_id || '|' || coalesce(claimed_unit, '-') || '|' || sender || '|' || batch_id || '|' || reason || '|' || message
                   FROM tongxin.rejected_events WHERE batch_id = 10 ORDER BY reason")" \
   "$(sed -n 4p "$T/ids10")|u1|$me:$rpid|10|missing_attr|missing required attribute participants
$(sed -n 2p "$T/ids10")|nosuch|$me:$rpid|10|unknown_unit|unknown unit nosuch" \
   "rejected_events: id, claimed unit, sender, batch, reason, message"
is "$(sql "$db" "SELECT string_agg((length(raw) > 10 AND position(raw IN '\\x$(hex "$T/b10")'::bytea) > 0)::int::text, ',')
                   FROM tongxin.rejected_events WHERE batch_id = 10")" "1,1" \
   "raw: each rejected event's own bytes, cut from the frame"

# ------------------------------------------------------------ every reject code
bid=100
# reject CODE WHAT EVENT-FIELDS...: one event alone in a batch; the
# rejected_events rows are checked together afterwards.
reject() {
    _code=$1 _what=$2; shift 2
    bid=$((bid + 1))
    is "$(raw --batch-id $bid batch "$@")" "ack batch=$bid results=2 rejected=0:$_code" "$_code: $_what"
    echo "$bid $_code raw" >>"$T/rejects"
}
cm="type=cloud_meeting @participants=i:1"
u65=$(printf 'u%064d' 0)
reject malformed_event "the event is nil"             x:c0
reject malformed_event "the event is an array"        x:9101
reject malformed_event "a key is an int"              x:810101
reject malformed_event "id missing"                   id=! unit=u1 $cm
reject malformed_event "at missing"                   at=! unit=u1 $cm
reject malformed_event "unit missing"                 $cm
reject malformed_event "unit is an int"               unit=i:1 $cm
reject malformed_event "type is bin"                  unit=u1 type=bin:00 @participants=i:1
reject malformed_event "at is a str"                  unit=u1 at=s:2025-01-01 $cm
reject malformed_event "partner is an int"            unit=u1 partner=i:540522 $cm
reject malformed_event "attrs is a str"               unit=u1 type=cloud_meeting attrs=s:x
reject malformed_event "an attribute name is an int"  unit=u1 type=cloud_meeting attrs=x:810101
reject malformed_event "empty unit"                   unit= $cm
reject malformed_event "empty attribute name"         unit=u1 $cm @=i:1
reject unknown_field "an unknown key"                 unit=u1 $cm colour=red
reject unknown_field "a key with a NUL"               unit=u1 $cm 'id\0=i:1'
reject duplicate_key "unit twice"                     unit=u1 unit=u1 $cm
reject duplicate_key "an attribute twice"             unit=u1 $cm @participants=i:2
reject bad_id "id is bin 2"                           id=bin:0102 unit=u1 $cm
reject bad_id "id is a str"                           id=s:0195ee02-eac0-7cc1-9a2b-3c4d5e6f7a8b unit=u1 $cm
reject bad_id "id is a UUIDv4"                        id=uuid:0195ee02-eac0-4cc1-9a2b-3c4d5e6f7a8b unit=u1 $cm
reject bad_id "id has variant 11"                     id=uuid:0195ee02-eac0-7cc1-da2b-3c4d5e6f7a8b unit=u1 $cm
reject bad_id_time "id an hour ahead"                 id=v7:now+3600000 unit=u1 $cm
reject bad_id_time "id from 2001"                     id=v7:978307200000 unit=u1 $cm
reject bad_utf8 "unit with 0xff"                      'unit=u1\xff' $cm
reject bad_utf8 "type with an overlong NUL"           unit=u1 'type=cloud\xc0\x80' @participants=i:1
reject bad_utf8 "partner with a surrogate"            unit=u1 'partner=\xed\xa0\x80' $cm
reject bad_utf8 "attribute name with 0xfe"            unit=u1 $cm '@x\xfe=i:1'
reject bad_utf8 "text with a NUL"                     unit=u1 $cm '@topic=a\0b'
reject bad_utf8 "text cut inside a character"         unit=u1 $cm '@topic=\xe5\x8a'
reject too_long "unit of 65 bytes"                    unit=$u65 $cm
reject too_long "type of 65 bytes"                    unit=u1 type=$(printf 't%064d' 0)
reject too_long "attribute name of 65 bytes"          unit=u1 $cm @$(printf 'a%064d' 0)=i:1
reject too_long "a string of 4097 bytes"              unit=u1 $cm @topic=$(printf '%04097d' 0)
reject too_long "text over the registry's 500"        unit=u1 $cm @topic=$(printf '%0501d' 0)
reject unknown_unit "no such unit"                    unit=nosuch $cm
reject unknown_unit "not a unit code"                 unit=U1 $cm
reject unit_inactive "a disabled unit"                unit=u2 $cm
reject unknown_type "no such type"                    unit=u1 type=nosuch
reject bad_time "before 2000"                         unit=u1 at=t:946684799 $cm
reject bad_time "an hour ahead"                       unit=u1 at=t:now+3600 $cm
reject bad_time "ext type 1"                          unit=u1 at=x:d40100 $cm
reject bad_time "timestamp of 2 bytes"                unit=u1 at=x:d5ff0000 $cm
reject bad_time "nanoseconds of 10^9"                 unit=u1 at=x:d7ffee6b280067eb0250 $cm
reject missing_partner "pairing_signed alone"         unit=u1 type=pairing_signed @counterpart=x @fields=y
reject unknown_partner "no such region"               unit=u1 partner=999999 $cm
reject unknown_partner "not 6 digits"                 unit=u1 partner=5405 $cm
reject missing_attr "participants absent"             unit=u1 type=cloud_meeting @topic=x
reject unknown_attr "an undeclared attribute"         unit=u1 $cm @colour=i:1
reject bad_attr_type "int as a str"                   unit=u1 type=cloud_meeting @participants=s:12
reject bad_attr_type "int as a float"                 unit=u1 type=cloud_meeting @participants=f:12.0
reject bad_attr_type "int as a bool"                  unit=u1 type=cloud_meeting @participants=b:true
reject bad_attr_type "int as nil"                     unit=u1 type=cloud_meeting @participants=nil
reject bad_attr_type "an array"                       unit=u1 type=cloud_meeting @participants=x:9101
reject bad_attr_type "a bin"                          unit=u1 type=cloud_meeting @participants=bin:01
reject bad_attr_type "a timestamp"                    unit=u1 type=cloud_meeting @participants=t:now
reject bad_attr_type "text as an int"                 unit=u1 $cm @topic=i:5
reject bad_attr_type "bool as an int"                 unit=u1 type=kinds_test @b=i:1
reject bad_attr_type "numeric as a bool"              unit=u1 type=kinds_test @n=b:false
reject bad_attr_type "date as an int"                 unit=u1 type=kinds_test @d=i:20250101
reject bad_attr_type "enum as an int"                 unit=u1 type=kinds_test @e=i:1
reject out_of_range "participants 0 (minimum 1)"      unit=u1 type=cloud_meeting @participants=i:0
reject out_of_range "int above its maximum"           unit=u1 type=kinds_test @i=i:6
reject out_of_range "int below its minimum"           unit=u1 type=kinds_test @i=i:-6
reject out_of_range "int64 minimum"                   unit=u1 type=kinds_test @i=i:-9223372036854775808
reject out_of_range "uint64 above int64"              unit=u1 type=cloud_meeting @participants=u:9223372036854775808
reject out_of_range "donation of 0 (exclusive)"       unit=u1 type=donation @amount_yuan=0.00
reject out_of_range "donation below 0, float"         unit=u1 type=donation @amount_yuan=f:-0.5
reject bad_number "NaN"                               unit=u1 type=donation @amount_yuan=f:nan
reject bad_number "infinity, float32"                 unit=u1 type=donation @amount_yuan=f32:inf
reject bad_number "1e999"                             unit=u1 type=donation @amount_yuan=1e999
reject bad_number "a leading +"                       unit=u1 type=donation @amount_yuan=+1
reject bad_number "a leading zero"                    unit=u1 type=donation @amount_yuan=01
reject bad_number "no digit after the point"          unit=u1 type=donation @amount_yuan=1.
reject bad_number "65 bytes"                          unit=u1 type=donation @amount_yuan=1$(printf '%064d' 0)
reject bad_enum "not a direction"                     unit=u1 type=visit @direction=sideways @delegates=i:1
reject bad_enum "case matters"                        unit=u1 type=visit @direction=Outbound @delegates=i:1
reject bad_date "29 February 2025"                    unit=u1 type=kinds_test @d=2025-02-29
reject bad_date "month 13"                            unit=u1 type=kinds_test @d=2025-13-01
reject bad_date "no dashes"                           unit=u1 type=kinds_test @d=20250101x
# (unit_mismatch needs CURVE, whose tests are elsewhere.)
reject too_many_attrs "65 attributes"                 unit=u1 type=kinds_test $(seq -f '@a%g=i:1' 65)
is "$(sql "$db" "SELECT batch_id || ' ' || reason || CASE WHEN length(raw) > 0 THEN ' raw' ELSE ' (no raw)' END
                   FROM tongxin.rejected_events WHERE batch_id > 100 ORDER BY batch_id")" "$(cat "$T/rejects")" \
   "one rejected_events row per rejected event, with its reason and raw bytes"
is "$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events WHERE batch_id > 100
                   AND (sender NOT LIKE '$me:%' OR message = '' OR claimed_unit IS NULL AND reason IN
                        ('unknown_unit', 'unit_inactive', 'unknown_type', 'bad_id_time', 'missing_partner',
                         'unknown_partner', 'missing_attr', 'unknown_attr', 'bad_enum', 'bad_date'))")" 0 \
   "every row has the sender and a message; those the registry rejected, the claimed unit"
is "$(sql "$db" "SELECT claimed_unit FROM tongxin.rejected_events WHERE reason = 'unknown_unit' AND batch_id > 100 ORDER BY batch_id")" \
   "nosuch
U1" "the claimed unit is the one sent"
is "$(events)" 8 "no rejected event was stored"

# ------------------------------------------------------------ whole messages refused
# refuse REPLY WHAT FILE: the reply, and one rejected_events row holding the frame.
refuse() {
    # A long frame keeps a prefix and the SHA-256 of the whole.
    _sum="coalesce(raw_sha256, sha256(raw)) = '\\x$(sha256sum <"$3" | cut -c1-64)'"
    _n0=$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events WHERE event_id IS NULL AND $_sum")
    _got=$(raw file "$3")
    _row=$(sql "$db" "SELECT reason || '|' || coalesce(batch_id::text, 'nil') FROM tongxin.rejected_events
                        WHERE event_id IS NULL AND $_sum ORDER BY received_at DESC LIMIT 1")
    _n=$(sql "$db" "SELECT count(*) FROM tongxin.rejected_events WHERE event_id IS NULL AND $_sum")
    _batch=${1#*batch=}; _batch=${_batch%% *}; _code=${1##*code=}
    is "$_got | $_row | $((_n - _n0)) new row" "$1 | $_code|$_batch | 1 new row" "refused: $2"
}
bytes() { printf '%s' "$2" | perl -ne 'print pack("H*", $_)' >"$T/$1"; }
frame "$T/good" --batch-id 20 batch unit=u1 $cm
bytes garbage 68656c6c6f20776f726c64
refuse "error batch=nil code=malformed" "garbage bytes (text)" "$T/garbage"
cp "$T/good" "$T/trailing"; printf '\000' >>"$T/trailing"
refuse "error batch=nil code=malformed" "a valid batch and a trailing byte" "$T/trailing"
head -c $(($(wc -c <"$T/good") - 1)) "$T/good" >"$T/truncated"
refuse "error batch=nil code=malformed" "a valid batch cut short by one byte" "$T/truncated"
bytes array 9180
refuse "error batch=nil code=malformed" "the root is an array" "$T/array"
frame "$T/v2" --v 2 --batch-id 21 batch unit=u1 $cm
refuse "error batch=21 code=unsupported_version" "v=2, with the batch id read" "$T/v2"
bytes v2only 81a17602
refuse "error batch=nil code=unsupported_version" "only {v: 2}" "$T/v2only"
frame "$T/v0" --v 0 --batch-id 22 batch unit=u1 $cm
refuse "error batch=22 code=malformed" "v=0" "$T/v0"
# {"v":1,"t":"batch","batch":23,"events":[{}],"x":1}
bytes unknown 85a17601a174a56261746368a5626174636817a66576656e74739180a17801
refuse "error batch=23 code=malformed" "an unknown top-level key" "$T/unknown"
# {"v":1,"t":"batch","batch":24,"events":[]}
bytes noevents 84a17601a174a56261746368a5626174636818a66576656e747390
refuse "error batch=24 code=malformed" "no events" "$T/noevents"
frame "$T/batch0" --batch-id 0 batch unit=u1 $cm
refuse "error batch=nil code=malformed" "batch id 0" "$T/batch0"
frame "$T/many" --batch-id 25 batch $(for i in $(seq 1001); do printf 'unit=u1 type=student_aid @students=i:1 -- '; done | sed 's/ -- $//')
refuse "error batch=25 code=too_large" "1001 events" "$T/many"
is "$(sql "$db" "SELECT length(raw) || ' ' || raw_len FROM tongxin.rejected_events WHERE batch_id = 25")" \
   "4096 $(wc -c <"$T/many")" "the frame of the 1001 events is recorded: its first 4096 bytes and its length"
# The reply's text is the refusal's reason, as recorded; the raw bytes that
# follow it in memory must not leak into it.
bytes spaces 2020
is "$(raw -v file "$T/spaces")" "error batch=nil code=malformed
#  $(sql "$db" "SELECT message FROM tongxin.rejected_events WHERE raw = '\\x2020' LIMIT 1")" \
   "an error reply carries exactly the recorded message"
is "$(events)" 8 "nothing of it stored"

# ------------------------------------------------------------ registry reload
sql "$db" "INSERT INTO tongxin.event_types (code, description) VALUES ('reload_test', 'added while running');
           INSERT INTO tongxin.event_type_attrs (type_code, name, kind, required) VALUES ('reload_test', 'k', 'int', true)" >/dev/null
is "$(raw --batch-id 30 batch unit=u1 type=reload_test @k=i:7)" "ack batch=30 results=2 rejected=0:unknown_type" \
   "a type added in the database is unknown before the reload"
kill -HUP "$cpid"
wait_log "$T/basic.log" 'msg="registry loaded"' 2; ok $? "SIGHUP reloads the registry"
types() { sed -n 's/.*msg="registry loaded".* types=\([0-9]*\).*/\1/p' "$T/basic.log" | sed -n "$1p"; }
is "$(types 2)" $(($(types 1) + 1)) "with the new type"
is "$(raw --batch-id 31 batch unit=u1 type=reload_test @k=i:7)" "ack batch=31 results=0 rejected=" \
   "after it, an event of the new type is stored"
is "$(raw --batch-id 32 batch unit=u1 type=reload_test)" "ack batch=32 results=2 rejected=0:missing_attr" \
   "and its attributes are checked"

# ------------------------------------------------------------ stored values
raw --ids "$T/ids40" --batch-id 40 batch \
    unit=u1 type=donation @amount_yuan=600000000.00 '@purpose=q"uote\\back\nnl\ttab\x01ctl\x7fdel \xe5\x8a\xa9' -- \
    unit=u1 type=kinds_test @n=f:0.1 @i=x:d3fffffffffffffffb @b=b:true @d=2024-02-29 @e=a '@t=\x22\\/' -- \
    unit=u1 type=kinds_test @n=-1.5e3 @b=b:false @i=x:cf0000000000000005 -- \
    unit=u1 type=kinds_test @n=i:-1000000000000000 -- \
    unit=u1 type=kinds_test @n=f32:0.5 >"$T/r40"
is "$(cat "$T/r40")" "ack batch=40 results=0,0,0,0,0 rejected=" "attribute values of every kind are stored"
attr() { sql "$db" "SELECT $2 FROM tongxin.events WHERE event_id = '$(sed -n "$1p" "$T/ids40")'"; }
is "$(attr 1 "attrs->>'amount_yuan' || ' ' || jsonb_typeof(attrs->'amount_yuan')")" "600000000.00 number" \
   "a decimal string is stored as the exact JSON number"
is "$(attr 1 "encode(convert_to(attrs->>'purpose', 'UTF8'), 'hex')")" \
   "7122756f74655c6261636b0a6e6c097461620163746c7f64656c20e58aa9" \
   "text with a quote, backslash, newline, tab, control char, DEL and CJK comes back byte for byte"
is "$(attr 2 "(attrs - 'n')::text")" '{"b": true, "d": "2024-02-29", "e": "a", "i": -5, "t": "\"\\/"}' \
   "int (int64-encoded), bool, date, enum and text as JSON"
is "$(attr 2 "(attrs->>'n')::float8 = 0.1 AND jsonb_typeof(attrs->'n') = 'number'")" t "a float reads back as the same float"
is "$(attr 3 "attrs::text")" '{"b": false, "i": 5, "n": -1500}' "a decimal string with an exponent (a number), false, a uint64-encoded int"
is "$(attr 4 "attrs->>'n'")" "-1000000000000000" "a large integer (the registry's hard limit) is stored exactly"
is "$(attr 5 "attrs->>'n'")" "0.5" "a float32"

raw --ids "$T/ids41" --batch-id 41 batch \
    unit=u1 type=student_aid @students=i:1 at=t:1743454800.123456789 -- \
    unit=u1 type=student_aid @students=i:1 at=t:1743454800.999999999 -- \
    unit=u1 type=student_aid @students=i:3 at=x:c70cff075bca000000000067eb0250 -- \
    unit=u1 type=student_aid @students=i:1 at=t:946684800 -- \
    unit=u1 type=student_aid @students=i:1 at=t:1743454800 partner=540522 >"$T/r41"
# (The third is the first's instant too, so it says something else: the
# same content would be the same report, content.t.)
is "$(cat "$T/r41")" "ack batch=41 results=0,0,0,0,0 rejected=" "five times"
at() { sql "$db" "SELECT occurred_at || '|' || coalesce(partner_region, '-') || '|' || type FROM tongxin.events
                    WHERE event_id = '$(sed -n "$1p" "$T/ids41")'"; }
is "$(at 1)" "2025-03-31 21:00:00.123456+00|-|student_aid" "timestamp 64: microseconds kept, nanoseconds cut"
is "$(at 2)" "2025-03-31 21:00:00.999999+00|-|student_aid" "truncated, not rounded"
is "$(at 3)" "2025-03-31 21:00:00.123456+00|-|student_aid" "timestamp 96"
is "$(at 4)" "2000-01-01 00:00:00+00|-|student_aid" "2000-01-01T00:00:00Z itself is accepted"
is "$(at 5)" "2025-03-31 21:00:00+00|540522|student_aid" "timestamp 32, with a partner"

collector_stop
is "$crc" 0 "the collector stops cleanly on SIGTERM"
