#!/bin/sh
# Hostile frames: allocation bombs, every msgpack type at the top level,
# deep nesting, oversized and multi-part messages, empty frames, NULs, odd
# ext types and huge integers.  The collector answers each as the protocol
# says (or drops it), keeps running, still stores a good event, and its
# memory stays bounded through a flood of bad frames.
. tests/lib.sh
. tests/collector.sh
plan 101

db=$(collector_db hostile) || { echo "Bail out! no database"; exit 1; }
collector_start hostile --group-ms 1 || { echo "Bail out! collector"; exit 1; }

raw() { $RAW -e "$endpoint" "$@"; }
n_good=0
# alive WHAT: the collector runs and stores a good event.
alive() {
    n_good=$((n_good + 1))
    _ack=$(raw --batch-id 7 batch unit=u1 type=student_aid @students=i:$n_good)
    _rows=$(sql "$db" "SELECT count(*) FROM tongxin.events")
    kill -0 "$cpid" 2>/dev/null && _up=running || _up=dead
    is "$_up | $_ack | $_rows" "running | ack batch=7 results=0 rejected= | $n_good" "still stores a good event after $1"
}
# malformed WHAT HEX...: each frame is answered "malformed", without batch id.
malformed() {
    _what=$1; shift
    for _h in "$@"; do
        is "$(raw hex "$_h")" "error batch=nil code=malformed" "malformed: $_what ($(printf %.24s "$_h"))"
    done
}
metric() { http_get "$metrics" /metrics | sed -n "s/^$1 //p"; }

# ------------------------------------------------------------ allocation bombs
malformed "allocation bomb" "df 04 00 00 00" "dd ff ff ff ff" "de ff ff" "dc ff ff" \
    "db ff ff ff ff" "c6 ff ff ff ff" "c9 ff ff ff ff 01" "df 00 00 ff ff a1 76 01"
# {"v":1,"t":"batch","batch":1,"events": array32 of 2^32-1}
malformed "a batch whose events claim 2^32-1 elements" \
    "84a17601a174a56261746368a5626174636801a66576656e7473ddffffffff"
alive "allocation bombs"

# ------------------------------------------------------------ msgpack types at the top level
malformed "not a map" c0 c2 c3 00 7f e0 ff ccff cdffff ceffffffff cfffffffffffffffff \
    d080 d18000 d280000000 d38000000000000000 ca7fc00000 cb7ff8000000000000 \
    a0 a3616263 d903616263 da0003616263 c40100 c5000100 90 9100 dc0000 \
    d40100 d5010000 d6ff67eb0250 d7ff0000000067eb0250 d80100000000000000000000000000000000 \
    c70005 c8000005 c900000000ff
malformed "an empty map" 80 de0000
malformed "the reserved byte" c1 81c1c0
malformed "an empty frame" ""
alive "every msgpack type"

# ------------------------------------------------------------ nesting
deep() { printf '91%.0s' $(seq "$1"); printf c0; }
malformed "9 nested arrays" "$(deep 9)"
malformed "1000 nested arrays" "$(deep 1000)"
malformed "deep maps" "$(printf '81a178%.0s' $(seq 40))c0"
is "$(raw batch unit=u1 type=cloud_meeting @participants=x:91919191c0)" "ack batch=1 results=2 rejected=0:bad_attr_type" \
   "an attribute nested to depth 8 (the limit) is decoded and rejected"
is "$(raw --batch-id 2 batch unit=u1 type=cloud_meeting @participants=x:9191919191c0)" "error batch=nil code=malformed" \
   "depth 9 refuses the whole message"
alive "deep nesting"

# ------------------------------------------------------------ sizes
perl -e 'print "\xc6", pack("N", 1048571), "\0" x 1048571' >"$T/1m"
perl -e 'print "\xc6", pack("N", 1048572), "\0" x 1048572' >"$T/1m+1"
head -c 2097152 /dev/zero >"$T/2m"
is "$(wc -c <"$T/1m") $(raw file "$T/1m")" "1048576 error batch=nil code=malformed" "a frame of exactly 1 MiB is decoded (and refused: a bin)"
is "$(wc -c <"$T/1m+1") $(raw file "$T/1m+1")" "1048577 error batch=nil code=too_large" "1 MiB + 1 byte: too_large"
is "$(sql "$db" "SELECT string_agg(reason || ':' || raw_len || ':' || length(raw), ',' ORDER BY raw_len)
                 FROM tongxin.rejected_events WHERE raw_len > 1000000")" \
   "malformed:1048576:4096,too_large:1048577:4096" "both recorded: their length and first 4096 bytes"
is "$(raw --timeout 1000 file "$T/2m")" "none" "2 MiB (over MAXMSGSIZE): no reply, the connection is dropped"
alive "a 2 MiB frame"

# ------------------------------------------------------------ multi-part and empty frames
dropped0=$(metric tongxin_messages_dropped_bad_frames_total)
good=$($RAW --dump batch unit=u1 type=student_aid @students=i:1)
is "$(raw --timeout 500 multipart "$good" "$good")" "none" "two batch frames in one message: dropped, no reply"
is "$(raw --timeout 500 multipart "$good" "")" "none" "a batch and an empty frame: dropped"
is "$(raw --timeout 500 multipart "" "$good")" "none" "an empty frame and a batch: dropped"
is "$(raw --timeout 500 multipart "" "" "" "")" "none" "four empty frames: dropped"
is "$(metric tongxin_messages_dropped_bad_frames_total)" $((dropped0 + 4)) "each counted in tongxin_messages_dropped_bad_frames_total"
is "$(sql "$db" "SELECT count(*) FROM tongxin.events")" $n_good "nothing of them stored"
alive "multi-part messages"

# ------------------------------------------------------------ NUL, ext types, huge integers
# {"v\0":1,"t":"batch","batch":3,"events":[]}: an unknown top-level key
is "$(raw hex 84a2760001a174a56261746368a5626174636803a66576656e747390)" "error batch=3 code=malformed" \
   "a top-level key with a NUL: malformed"
is "$(raw batch 'unit=u1\0' type=student_aid @students=i:1)" "ack batch=1 results=2 rejected=0:bad_utf8" "a unit with a NUL"
is "$(raw batch unit=u1 'type=student_aid\0' @students=i:1)" "ack batch=1 results=2 rejected=0:bad_utf8" "a type with a NUL"
is "$(raw batch unit=u1 type=student_aid '@students\0=i:1')" "ack batch=1 results=2 rejected=0:bad_utf8" "an attribute name with a NUL"
is "$(raw batch unit=u1 type=cloud_meeting @participants=i:1 '@topic=\0')" "ack batch=1 results=2 rejected=0:bad_utf8" "a text that is one NUL"
is "$(raw batch unit=u1 type=student_aid @students=i:1 at=x:d60167eb0250)" "ack batch=1 results=2 rejected=0:bad_time" "at: ext 1 of 4 bytes"
is "$(raw batch unit=u1 type=student_aid @students=i:1 at=x:d77f0000000067eb0250)" "ack batch=1 results=2 rejected=0:bad_time" "at: ext 127 of 8 bytes"
is "$(raw batch unit=u1 type=student_aid @students=i:1 at=x:c70cfe000000000000000067eb0250)" "ack batch=1 results=2 rejected=0:bad_time" "at: ext -2 of 12 bytes"
is "$(raw batch unit=u1 type=student_aid @students=i:1 at=x:c70dff000000000000000067eb025000)" "ack batch=1 results=2 rejected=0:bad_time" "at: ext -1 of 13 bytes"
is "$(raw batch unit=u1 type=student_aid @students=i:1 at=x:c70cff000000007fffffffffffffff)" "ack batch=1 results=2 rejected=0:bad_time" "at: timestamp 96 of 2^63-1 s"
is "$(raw batch unit=u1 type=student_aid @students=i:1 at=x:c70cff000000008000000000000000)" "ack batch=1 results=2 rejected=0:bad_time" "at: timestamp 96 of -2^63 s"
is "$(raw batch unit=u1 type=student_aid @students=i:1 at=x:c70cff3b9ac9ff0000000000000000)" "ack batch=1 results=2 rejected=0:bad_time" "at: 1970 plus 999999999 ns"
is "$(raw batch unit=u1 type=student_aid @students=x:d60100000000)" "ack batch=1 results=2 rejected=0:bad_attr_type" "an attribute of ext 1"
is "$(raw batch unit=u1 type=student_aid @students=i:1 id=x:d81000000000000000000000000000000000)" \
   "ack batch=1 results=2 rejected=0:bad_id" "an id of ext 16 bytes"
malformed "a top-level ext" "c70cff000000007fffffffffffffff"
is "$(raw --batch-id 18446744073709551615 batch unit=u1 type=student_aid @students=i:$((n_good + 1)))" \
   "ack batch=18446744073709551615 results=0 rejected=" "batch id 2^64-1 is valid"
n_good=$((n_good + 1))
is "$(raw --v 18446744073709551615 --batch-id 9 batch unit=u1 type=student_aid @students=i:1)" \
   "error batch=9 code=unsupported_version" "v 2^64-1: unsupported_version"
# {"v":1,"t":"batch","batch":-1,"events":[]}; {"v":-1}; {"v":1.0,"t":"batch","batch":4,"events":[]}
malformed "a negative batch id" 84a17601a174a56261746368a56261746368ffa66576656e747390
malformed "v = -1" 81a176ff
is "$(raw hex 84a176cb3ff0000000000000a174a56261746368a5626174636804a66576656e747390)" "error batch=4 code=malformed" \
   "v = 1.0 (a float): malformed"
is "$(raw batch unit=u1 type=student_aid @students=u:18446744073709551615)" "ack batch=1 results=2 rejected=0:out_of_range" "an attribute of 2^64-1"
is "$(raw batch unit=u1 type=student_aid @students=i:-9223372036854775808)" "ack batch=1 results=2 rejected=0:out_of_range" "an attribute of -2^63"
is "$(raw batch unit=u1 type=donation @amount_yuan=x:cf7fffffffffffffff)" "ack batch=1 results=2 rejected=0:out_of_range" \
   "a numeric of 2^63-1, uint64-encoded: past the registry's bound"
is "$(raw batch unit=u1 type=donation @amount_yuan=x:cf00038d7ea4c68000)" "ack batch=1 results=0 rejected=" \
   "a numeric of 10^15 (the default bound), uint64-encoded, is stored"
n_good=$((n_good + 1))
is "$(sql "$db" "SELECT attrs->>'amount_yuan' FROM tongxin.events WHERE type = 'donation'")" 1000000000000000 "exactly"
is "$(raw batch unit=u1 type=donation @amount_yuan=f:1e308)" "ack batch=1 results=2 rejected=0:out_of_range" "a numeric float of 1e308: out_of_range"
alive "NULs, ext types and huge integers"

# ------------------------------------------------------------ memory under a flood
flood_rows() {
    sql "$db" "SELECT count(*) FROM tongxin.rejected_events WHERE event_id IS NULL AND raw IN ('\\xdf04000000',
                 '\\xddffffffff', '\\xdeffff', '\\x9191919191919191919191c0', '\\xc0', '\\x68656c6c6f', '\\x81a17602')"
}
rows0=$(flood_rows)
rss0=$(rss_kb "$cpid")
bombs="df04000000 ddffffffff deffff 9191919191919191919191c0 c0 68656c6c6f 81a17602"
$RAW -e "$endpoint" --repeat 286 --window 16 hex $bombs >"$T/flood"    # 286 x 7 = 2002 frames
rss1=$(rss_kb "$cpid")
is "$(sort "$T/flood" | uniq -c | sed 's/^ *//')" "1716 error batch=nil code=malformed
286 error batch=nil code=unsupported_version" "a flood of 2002 bad frames: every one answered"
ok $((rss1 >= 65536)) "VmRSS stays under 64 MiB (before ${rss0} kB, after ${rss1} kB)"
ok $((rss1 - rss0 >= 16384)) "and grew by less than 16 MiB"
is "$(($(flood_rows) - rows0))" 2002 "each recorded in rejected_events"
alive "the flood"

collector_stop
is "$crc" 0 "and stops cleanly"
