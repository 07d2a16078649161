#!/bin/sh
# Measures (schema/007_measures.sql): the rollup functions and views
# generated from analytics.measures compute what the hand-written ones of
# 004/005 did.  The same mixed dataset (corrections, retractions, chains,
# bulk inserts in one statement) goes into a database built from
# migrations 1-6 only and into one migrated to the latest version; every
# rollup table, kept by the trigger and rebuilt, must be equal row for row;
# a new measure is one INSERT and one call.
. tests/lib.sh
plan 18
db6=$(newdb measures6)
db=$(newdb measures)
for f in schema/00[1-6]_*.sql; do
    psql "$db6" -X -q -1 -v ON_ERROR_STOP=1 -f "$f" >/dev/null 2>&1 || { echo "Bail out! $f failed"; exit 1; }
done
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }

# The dataset: tests/data/analytics.sql, then 600 events of every type with
# measures in four statements (one with corrections of its own rows and of
# earlier ones, one with retractions).
more="
CREATE FUNCTION pg_temp.bid(n int) RETURNS uuid LANGUAGE sql AS
  \$\$ SELECT overlay(tongxin.uuid7_floor(date_trunc('month', now()))::text placing '7000-9000-' || lpad(n::text, 12, '0') from 15 for 22)::uuid \$\$;
CREATE TEMP TABLE t AS SELECT code, row_number() OVER (ORDER BY code) AS k FROM tongxin.event_types WHERE code NOT IN ('retraction', 'nil_return');
INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, partner_region, attrs, sender)
SELECT pg_temp.bid(i), (ARRAY['d','dept1','dept2','town1','vil1','vil2'])[1 + i % 6], t.code,
       date_trunc('month', now()) + (i % 28) * interval '1 day' + (i % 24) * interval '1 hour',
       (ARRAY[NULL,'540522','341221','150000'])[1 + i % 4],
       jsonb_build_object('participants', i % 7, 'delegates', i % 5, 'cadres', i % 3, 'days', i % 4,
                          'count', i % 11, 'amount_yuan', (i * 1.25)::numeric, 'jobs', i % 9,
                          'annual_output_yuan', i * 1000.5, 'students', i % 13, 'attendees', i % 17,
                          'deals', i % 2, 'visitors', i % 19, 'workers', i % 23, 'instructors', i % 29,
                          'advisers', i % 31, 'reports', i % 37,
                          'kind', (ARRAY['cadre','student','resident'])[1 + i % 3],
                          'station', (ARRAY['health_station','rider_home','outdoor_station'])[1 + i % 3]),
       't'
  FROM generate_series(1, 400) i JOIN t ON t.k = 1 + i % (SELECT count(*) FROM t);
INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, partner_region, attrs, sender, supersedes)
SELECT pg_temp.bid(1000 + i), e.unit_code, e.type, e.occurred_at, e.partner_region,
       e.attrs || jsonb_build_object('participants', 100 + i, 'amount_yuan', 0.01 * i), 't',
       e.event_id
  FROM generate_series(1, 400, 7) i JOIN tongxin.events e ON e.event_id = pg_temp.bid(i);
INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, partner_region, attrs, sender, supersedes)
SELECT pg_temp.bid(2000 + i), e.unit_code, 'retraction', date_trunc('month', now()) + interval '3 days 5 hours', NULL, '{}'::jsonb, 't', e.event_id
  FROM generate_series(3, 400, 11) i JOIN tongxin.events e ON e.event_id = pg_temp.bid(i)
UNION ALL
SELECT pg_temp.bid(2500 + i), e.unit_code, 'retraction', date_trunc('month', now()) + interval '3 days 5 hours', NULL, '{}'::jsonb, 't', e.event_id
  FROM generate_series(1001, 1400, 14) i JOIN tongxin.events e ON e.event_id = pg_temp.bid(i);
INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, partner_region, attrs, sender, supersedes)
SELECT pg_temp.bid(3000 + i), 'vil1', 'people_paired', date_trunc('month', now()) - i * interval '40 days 3 hours', '540522',
       jsonb_build_object('kind', 'student', 'count', i), 't',
       CASE WHEN i > 100 THEN pg_temp.bid(3000 + i - 100) END
  FROM generate_series(1, 200) i;
"
for d in "$db6" "$db"; do
    psql "$d" -X -q -v ON_ERROR_STOP=1 -f tests/data/analytics.sql >/dev/null 2>&1 &&
    psql "$d" -X -q -v ON_ERROR_STOP=1 -c "$more" >/dev/null
    ok $? "the dataset loads"
done
is "$(sql "$db" "SELECT count(*) || ':' || count(supersedes) FROM tongxin.events")" \
   "$(sql "$db6" "SELECT count(*) || ':' || count(supersedes) FROM tongxin.events")" "both hold the same events"

# rollups DB: every rollup table, every row, in one text.
# (nonzero: leave out the rows a correction or retraction brought to zero
# events, which the trigger keeps and a rebuild does not make.)
rollups() {
    for t in rollup_month rollup_total rollup_type rollup_month_group rollup_pair_day; do
        psql "$1" -X -q -A -t -v ON_ERROR_STOP=1 \
             -c "SELECT '$t', r FROM analytics.$t r ${2:+WHERE events <> 0} ORDER BY r::text"
    done
    psql "$1" -X -q -A -t -v ON_ERROR_STOP=1 \
         -c "SELECT 'supersessions', r FROM analytics.supersessions r ORDER BY r::text"
}
views() {
    for v in event_facts activity_monthly activity_by_type type_totals; do
        psql "$1" -X -q -A -t -v ON_ERROR_STOP=1 \
            -c "SELECT '$v', r FROM analytics.$v r ORDER BY r::text" \
            -c "SELECT '$v', attname, format_type(atttypid, atttypmod) FROM pg_attribute
                 WHERE attrelid = 'analytics.$v'::regclass AND attnum > 0 ORDER BY attnum"
    done
}
T=$(mktemp -d) && at_exit "rm -rf '$T'"
# (and numerics compared by value: the trigger's sums keep the scale of
# the figures added, 0.00, where a rebuild's sum of nothing is 0)
byvalue() { sed -E 's/([0-9])\.0+([,)])/\1\2/g; s/(\.[0-9]*[1-9])0+([,)])/\1\2/g' "$1"; }
# Since 013 nothing is folded as it is stored: the views count the events
# from the events themselves until a fold.
rollups "$db6" nonzero | grep -v '^supersessions' >"$T/6.trigger"
rollups "$db" nonzero | grep -v '^supersessions' >"$T/7.live"
[ "$(byvalue "$T/6.trigger")" = "$(byvalue "$T/7.live")" ]
ok $? "before any fold, the views: every rollup row 006's trigger kept (rows of zero events aside)"
diff "$T/6.trigger" "$T/7.live" | head -n 5 | sed 's/^/# /'
sql "$db" "SELECT analytics.fold_rollups()" >/dev/null
rollups "$db" >"$T/7.trigger"
rollups "$db" nonzero >"$T/7.trigger.nonzero"
ok "$([ "$(wc -l <"$T/7.trigger")" -gt 500 ] && echo 0 || echo 1)" "the rollups hold $(wc -l <"$T/7.trigger") rows"
is "$(sql "$db" "SELECT analytics.rebuild_rollups()")" "$(sql "$db6" "SELECT analytics.rebuild_rollups()")" \
   "rebuild_rollups() counts the same events"
rollups "$db6" >"$T/6.rebuild"
rollups "$db" >"$T/7.rebuild"
cmp -s "$T/6.rebuild" "$T/7.rebuild"
ok $? "rebuilt: the same rows, before and after 007"
[ "$(byvalue "$T/7.trigger.nonzero")" = "$(byvalue "$T/7.rebuild")" ]
ok $? "the fold's rows equal a rebuild's (rows of zero events aside)"
views "$db6" >"$T/6.views"
views "$db" >"$T/7.views"
cmp -s "$T/6.views" "$T/7.views"
ok $? "the generated views: the same columns, types and rows"
diff "$T/6.views" "$T/7.views" | head -n 5 | sed 's/^/# /'

# ---------------------------------------------------------------- the table
is "$(sql "$db" "SELECT count(*) || ':' || string_agg(name, ',' ORDER BY position) FROM analytics.measures")" \
   "16:participants,delegates,cadres,days,people,amount_yuan,jobs,annual_output_yuan,students,attendees,deals,visitors,workers,instructors,advisers,reports" \
   "analytics.measures: the sixteen of today, in their column order"
is "$(sql "$db" "SELECT p.proname || ':' || p.prosecdef || ':' || array_to_string(p.proconfig, ';') FROM pg_proc p WHERE p.oid IN ('analytics.fold_rollups(boolean, int)'::regprocedure, 'analytics.rebuild_rollups()'::regprocedure) ORDER BY 1")" \
   "fold_rollups:true:search_path=pg_catalog, pg_temp;work_mem=128MB;jit=off
rebuild_rollups:true:search_path=pg_catalog, pg_temp;jit=off" "the generated functions: SECURITY DEFINER, fixed search_path"
is "$(sql "$db" "SELECT analytics.regenerate_rollups()")" "f" "regenerating with nothing new adds nothing"
rollups "$db" >"$T/7.again"
cmp -s "$T/7.rebuild" "$T/7.again"
ok $? "... and changes no row"
is "$(sql_as tongxin_analyst "$db" "SELECT analytics.regenerate_rollups()")" \
   "permission denied for function regenerate_rollups" "the analyst may not regenerate"
is "$(sql_as tongxin_collector "$db" "SELECT analytics.regenerate_rollups()")" \
   "permission denied for schema analytics" "nor may the collector"

# ---------------------------------------------------------------- a new measure
sql "$db" "INSERT INTO analytics.measures (name, attribute, kind, position) VALUES ('guests', 'guests', 'int', 17)"
is "$(sql "$db" "SET ROLE tongxin_admin; SELECT analytics.regenerate_rollups()")" "t" \
   "a new measure: one INSERT and one call (run as tongxin_admin)"
psql "$db" -X -q -v ON_ERROR_STOP=1 -c "
INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, attrs, sender)
VALUES (overlay(tongxin.uuid7_floor(date_trunc('month', now()))::text placing '7000-a000-000000000001' from 15 for 22)::uuid,
        'vil2', 'governance_activity', now(), '{\"participants\": 3, \"guests\": 41}', 't'),
       (overlay(tongxin.uuid7_floor(date_trunc('month', now()))::text placing '7000-a000-000000000002' from 15 for 22)::uuid,
        'vil1', 'governance_activity', now(), '{\"participants\": 2, \"guests\": 1}', 't')"
is "$(sql "$db" "SELECT (SELECT guests FROM analytics.type_totals WHERE unit_code = 'town1' AND type = 'governance_activity') || ':' || (SELECT sum(guests) FROM analytics.activity_monthly WHERE unit_code = 'd') || ':' || (SELECT guests FROM analytics.activity_by_type WHERE unit_code = 'vil2' AND type = 'governance_activity')")" \
   "42:42:41" "its sums reach the rollups and the views, along the tree"
rollups "$db" nonzero >"$T/8.trigger"
sql "$db" "SELECT analytics.rebuild_rollups()" >/dev/null
rollups "$db" >"$T/8.rebuild"
[ "$(byvalue "$T/8.trigger")" = "$(byvalue "$T/8.rebuild")" ]
ok $? "the trigger and a rebuild agree on the new measure"
