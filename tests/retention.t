#!/bin/sh
# Partitions roll forward and old ones can be removed: tongxin-admin
# partitions / retention.
. tests/lib.sh
plan 8
ADMIN=$B/tongxin-admin
db=$(newdb retention)
$ADMIN --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
parts() { sql "$db" "SELECT count(*) FROM pg_inherits WHERE inhparent = 'tongxin.$1'::regclass"; }
n=$(parts events)
$ADMIN --db "$db" partitions --ahead 6 >/dev/null; ok $? "partitions --ahead 6"
is "$(parts events)" $((n + 3)) "three more months of event partitions"
is "$(sql "$db" "SELECT hi > now() + interval '5 months' FROM tongxin.event_id_window")" t "the id window reaches 6 months ahead"
old=$(date -u -d "$(date -u +%Y-%m-01) -10 months" +%Y%m)
before=$(date -u -d "$(date -u +%Y-%m-01) -9 months" +%Y-%m)
$ADMIN --db "$db" retention --before "$before" --detach-only >/dev/null; ok $? "retention --detach-only"
is "$(sql "$db" "SELECT to_regclass('tongxin.events_$old') IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = 'tongxin.events_$old'::regclass)")" t \
   "a detached partition stays as a table"
$ADMIN --db "$db" retention --before "$(date -u -d "$(date -u +%Y-%m-01) -6 months" +%Y-%m)" >/dev/null; ok $? "retention"
is "$(sql "$db" "SELECT lo >= date_trunc('month', now() - interval '6 months') - interval '1 day' FROM tongxin.event_id_window")" t \
   "the id window starts at the oldest month kept"
$ADMIN --db "$db" retention --before 2025-13 >/dev/null 2>&1; is $? 2 "a bad month is a usage error"
