#!/bin/sh
# The registry without SQL or the protocol document: tongxin-admin type
# list / type show print what the collector checks; a mistyped type gets
# the nearest registered one, from tongxin-admin and in the collector's
# refusal; a refused enum lists the allowed values.
. tests/lib.sh
. tests/collector.sh
plan 10

db=$(collector_db types) || { echo "Bail out! no database"; exit 1; }
ADMIN="$B/tongxin-admin --db"
is "$($ADMIN "$db" type list | head -1)" "$(printf 'code\tpartner\tattributes\tdescription\tname_zh\tname_en')" "type list: a header"
is "$($ADMIN "$db" type list | grep '^cloud_meeting')" "$(printf 'cloud_meeting\toptional\t1/2\tAn online "cloud" seminar or exchange\t云座谈/云交流\tCloud meeting')" \
   "a type a line: partner, required/all attributes, description, its names in Chinese and English"
is "$($ADMIN "$db" type show visit | grep -E '^(partner|direction|delegates)')" "$(printf 'partner\toptional
delegates\tint\trequired\t>= 1 <= 1000000000\t\t代表团人数\tDelegates\t\t
direction\tenum\trequired\toutbound,inbound\t\t方向\tDirection\t外出走访,来访\tOutbound,Inbound')" \
   "type show: each attribute with its kind, what is allowed, its labels and its values' labels"
is "$($ADMIN "$db" type show visit | grep -E '^(name_zh|name_en)')" "$(printf 'name_zh\t走访互访\nname_en\tVisit')" \
   "type show: the type's names"
is "$($ADMIN "$db" type show visit | grep '^attribute')" \
   "$(printf 'attribute\tkind\trequired\tallowed\tdescription\tlabel_zh\tlabel_en\tenum_labels_zh\tenum_labels_en')" \
   "type show: the attributes' header"
$ADMIN "$db" type show donaton >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 1 "an unknown type: exit 1"
is "$(cat "$T/err")" "tongxin-admin: unknown event type 'donaton'; did you mean donation? (tongxin-admin type list shows them all)" \
   "with the nearest registered type"

collector_start types --group-ms 1 || { echo "Bail out! collector"; exit 1; }
is "$($RAW -e "$endpoint" -v batch unit=u1 type=donaton @amount_yuan=5 | tail -1)" "#  0: unknown event type donaton; did you mean donation?" \
   "the collector's refusal says the same (the registry it loaded)"
is "$($RAW -e "$endpoint" -v batch unit=u1 type=cloud_meetings @participants=i:5 | tail -1)" "#  0: unknown event type cloud_meetings; did you mean cloud_meeting?" \
   "a plural"
is "$($RAW -e "$endpoint" -v batch unit=u1 type=visit @direction=out @delegates=i:2 | tail -1)" "#  0: attribute direction must be one of: outbound, inbound" \
   "a refused enum lists the allowed values"
