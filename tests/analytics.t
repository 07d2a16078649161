#!/bin/sh
# Analytics: every view on a small district with known figures
# (tests/data/analytics.sql); corrections, retractions and chains; roll-up
# along the unit tree; months in the organisation's time zone; rollups
# maintained by the trigger equal a rebuild; the analyst reads every view and
# the collector fires the trigger without rights on analytics.
. tests/lib.sh
plan 63
db=$(newdb analytics)
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }

is "$(sql "$db" "SELECT partner_required, (SELECT count(*) FROM tongxin.event_type_attrs WHERE type_code = 'retraction') FROM tongxin.event_types WHERE code = 'retraction'")" \
   "f|0" "retraction is a registered type: no attributes, partner optional"
is "$(sql "$db" "SELECT string_agg(category || '=' || target, ',' ORDER BY target) FROM tongxin.targets")" \
   "cadre=100,student=1000,resident=10000" "the 百千万 targets are data"

psql "$db" -X -q -v ON_ERROR_STOP=1 -f tests/data/analytics.sql >/dev/null 2>&1
ok $? "the dataset loads, one statement at a time and a chain in one statement"
id() { printf "overlay(tongxin.uuid7_floor(date_trunc('month', now()))::text placing '7000-8000-%012d' from 15 for 22)::uuid" "$1"; }

# ---------------------------------------------------------------- targets
is "$(sql "$db" "SELECT string_agg(category || ':' || target || ':' || reached || ':' || remaining || ':' || percent, ' ' ORDER BY target) FROM analytics.target_progress WHERE unit_code = 'd'")" \
   "cadre:100:17:83:17.0 student:1000:200:800:20.0 resident:10000:3000:7000:30.0" \
   "target_progress: the district (a correction counts once, with its new value)"
is "$(sql "$db" "SELECT count(*) FROM analytics.target_progress WHERE unit_code = 'town1'")" 0 \
   "target_progress: the programme's targets are the root's, not a township's (012)"
sql "$db" "INSERT INTO tongxin.targets (unit_code, category, target, description) VALUES ('town1', 'cadre', 20, 'x')"
is "$(sql "$db" "SELECT string_agg(category || ':' || target || ':' || reached, ' ' ORDER BY target) FROM analytics.target_progress WHERE unit_code = 'town1'")" \
   "cadre:20:10" "target_progress: a township's own target; its figures include its villages"
sql "$db" "DELETE FROM tongxin.targets WHERE unit_code = 'town1'"
sql "$db" "UPDATE tongxin.targets SET target = 200 WHERE category = 'cadre'"
is "$(sql "$db" "SELECT target || ':' || percent FROM analytics.target_progress WHERE unit_code = 'd' AND category = 'cadre'")" \
   "200:8.5" "a changed target changes the progress (no target in the views)"
sql "$db" "UPDATE tongxin.targets SET target = 100 WHERE category = 'cadre'"

# ---------------------------------------------------------------- corrections
is "$(sql "$db" "SELECT string_agg(status || '=' || n, ' ' ORDER BY status) FROM (SELECT status, count(*) AS n FROM analytics.events_as_reported GROUP BY 1) s")" \
   "current=17 retracted=2 retraction=2 superseded=5" "events_as_reported keeps every event with its status"
is "$(sql "$db" "SELECT count(*) FROM analytics.events_current")" 17 "events_current: 17 events count"
is "$(sql "$db" "SELECT superseded_by = $(id 5) FROM analytics.events_as_reported WHERE event_id = $(id 4) AND unit_code = 'dept1'")" \
   "t" "a corrected event names its correction"
is "$(sql "$db" "SELECT cadres_paired FROM analytics.summary WHERE unit_code = 'dept1'")" 7 \
   "a correction replaces the value (5 → 7, not 12)"
is "$(sql "$db" "SELECT donation_yuan FROM analytics.summary WHERE unit_code = 'dept2'")" 70000 \
   "a retraction withdraws the event (70,000 + 5,000 retracted)"
is "$(sql "$db" "SELECT health_stations || ':' || rider_homes || ':' || outdoor_stations FROM analytics.summary WHERE unit_code = 'vil2'")" \
   "0:0:1" "a chain C → B → A: only C counts"
is "$(sql "$db" "SELECT lane_advisers FROM analytics.summary WHERE unit_code = 'vil1'")" 0 \
   "a retraction at the end of a chain withdraws the chain"
is "$(sql "$db" "SELECT status FROM analytics.events_as_reported WHERE event_id = $(id 20) AND unit_code = 'vil1'")" \
   "retracted" "the chain's last event is 'retracted'"
is "$(sql "$db" "SELECT aid_students || ':' || workers_served FROM analytics.summary WHERE unit_code = 'd'")" \
   "10:50" "supersedes naming another unit's event changes nothing"
is "$(sql "$db" "SELECT governance_reports FROM analytics.summary WHERE unit_code = 'town1'")" 30 \
   "a correction stored before the event it corrects still wins"
sql "$db" "INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, attrs, sender, supersedes)
           VALUES ($(id 90), 'dept2', 'retraction', now(), '{}', 't', $(id 999))" >/dev/null
is "$(sql "$db" "SELECT count(*) FROM analytics.events_current")" 17 "a retraction of an unknown event changes nothing"

# ---------------------------------------------------------------- the tree
is "$(sql "$db" "SELECT string_agg(unit_code || ':' || events || ':' || own_events, ' ' ORDER BY unit_code) FROM analytics.activity_by_unit")" \
   "d:17:2 dept1:3:3 dept2:4:4 town1:8:4 vil1:2:2 vil2:2:2" "activity_by_unit: subtree and own events"
is "$(sql "$db" "SELECT string_agg(unit_code || ':' || events, ' ' ORDER BY unit_code) FROM analytics.summary")" \
   "d:17 dept1:3 dept2:4 town1:8 vil1:2 vil2:2" "summary rolls up along the tree"
is "$(sql "$db" "SELECT string_agg(unit_code || ':' || descendants || ':' || array_to_string(path, '/'), ' ' ORDER BY unit_code) FROM analytics.units")" \
   "d:5:d dept1:0:d/dept1 dept2:0:d/dept2 town1:2:d/town1 vil1:0:d/town1/vil1 vil2:0:d/town1/vil2" \
   "units: descendants and path"
sql "$db" "UPDATE tongxin.units SET parent_code = 'dept1' WHERE code = 'vil2'"
is "$(sql "$db" "SELECT string_agg(unit_code || ':' || events, ' ' ORDER BY unit_code) FROM analytics.unit_events WHERE unit_code IN ('d', 'dept1', 'town1')")" \
   "d:17 dept1:5 town1:6" "moving a unit moves its figures"
sql "$db" "UPDATE tongxin.units SET parent_code = 'town1' WHERE code = 'vil2'"
sql "$db" "INSERT INTO tongxin.units (code, name, kind, parent_code) VALUES ('vil3', '新村', 'village', 'town1')"
is "$(sql "$db" "SELECT units || ':' || paired_units FROM analytics.pairing_coverage WHERE unit_code = 'town1'")" \
   "4:2" "a new unit joins its subtree at once"

# ---------------------------------------------------------------- time zone
is "$(sql "$db" "SELECT string_agg(month || ':' || events, ' ' ORDER BY month) FROM analytics.activity_by_month WHERE unit_code = 'vil1'")" \
   "2025-04-01:1 2025-06-01:1" "2025-03-31T21:00Z is 1 April 05:00 in Shaoyang: counted in April"
is "$(sql "$db" "SELECT day || ' ' || month FROM analytics.events_current WHERE event_id = $(id 1)")" \
   "2025-04-01 2025-04-01" "events_current: day and month in the organisation's time zone"
sql "$db" "UPDATE tongxin.settings SET value = 'UTC' WHERE key = 'timezone'"
is "$(sql "$db" "SELECT stale FROM analytics.rollup_status")" "t" "a new time zone makes the rollups stale"
is "$(sql "$db" "SELECT analytics.rebuild_rollups()")" 17 "rebuild_rollups() counts 17 events"
is "$(sql "$db" "SELECT string_agg(month || ':' || events, ' ' ORDER BY month) FROM analytics.activity_by_month WHERE unit_code = 'vil1'")" \
   "2025-03-01:1 2025-06-01:1" "in UTC the same event is in March"
sql "$db" "UPDATE tongxin.settings SET value = 'Asia/Shanghai' WHERE key = 'timezone'"
sql "$db" "SELECT analytics.rebuild_rollups()" >/dev/null
is "$(sql "$db" "SELECT stale || ':' || timezone FROM analytics.rollup_status")" "false:Asia/Shanghai" "rebuilt back"

# ---------------------------------------------------------------- coverage
is "$(sql "$db" "SELECT units || ':' || paired_units || ':' || paired_units_8 || ':' || paired_units_n || ':' || pairings || ':' || provinces || ':' || provinces_8 || ':' || provinces_n FROM analytics.pairing_coverage WHERE unit_code = 'd'")" \
   "7:4:2:2:4:4:2:2" "pairing_coverage: units, paired units, provinces, 8 and N"
is "$(sql "$db" "SELECT array_to_string(missing_8, ',') FROM analytics.pairing_coverage WHERE unit_code = 'd'")" \
   "广西壮族自治区,贵州省,云南省,青海省,宁夏回族自治区,新疆维吾尔自治区" "the eight provinces not yet paired"
is "$(sql "$db" "SELECT string_agg(unit_code || ':' || region_code || ':' || source || ':' || partner_group || ':' || since, ' ' ORDER BY unit_code) FROM analytics.pairings")" \
   "dept1:540522:both:8:2023-04-10 dept2:513432:event:N:2023-06-15 town1:341221:registry:N:2023-06-01 vil1:150000:registry:8:2023-07-01" \
   "pairings: from the registry, from pairing_signed events, or both"
is "$(sql "$db" "SELECT array_to_string(fields, ',') || ' ' || counterpart FROM analytics.pairings WHERE unit_code = 'dept2'")" \
   "development,education 喜德县" "a pairing from an event takes its counterpart and fields"
is "$(sql "$db" "SELECT string_agg(kind || ':' || units || ':' || paired_units || ':' || reporting_units, ' ' ORDER BY kind) FROM analytics.coverage_by_kind WHERE unit_code = 'd'")" \
   "department:2:2:2 district:1:0:1 township:1:1:1 village:3:1:2" "coverage_by_kind"
is "$(sql "$db" "SELECT string_agg(province_code || ':' || pairings || ':' || events, ' ' ORDER BY province_code) FROM analytics.province_coverage WHERE unit_code = 'd' AND (pairings > 0 OR events > 0)")" \
   "15:1:1 34:1:2 51:1:3 54:1:3" "province_coverage: pairings and events per province"
is "$(sql "$db" "SELECT count(*) || ':' || count(*) FILTER (WHERE partner_group = '8') FROM analytics.province_coverage WHERE unit_code = 'd'")" \
   "31:8" "province_coverage lists all 31 provinces"
is "$(sql "$db" "SELECT events || ':' || last_event_day FROM analytics.pairing_activity WHERE unit_code = 'vil1'")" \
   "1:2025-04-01" "pairing_activity: a province pairing counts events with its counties"
is "$(sql "$db" "SELECT string_agg(unit_code, ',' ORDER BY unit_code) FROM analytics.pairing_activity WHERE quiet_days >= (now()::date - date '2025-05-31')")" \
   "town1,vil1" "quiet pairings: no event since 31 May 2025"

# ---------------------------------------------------------------- activity and outcomes
is "$(sql "$db" "SELECT string_agg(month || ':' || events || ':' || events_8 || ':' || events_n || ':' || events_no_partner, ' ' ORDER BY month) FROM analytics.activity_by_month WHERE unit_code = 'd'")" \
   "2023-04-01:1:1:0:0 2023-06-01:1:0:1:0 2025-04-01:3:1:0:2 2025-05-01:2:1:1:0 2025-06-01:10:1:3:6" \
   "activity_by_month: events by partner group"
is "$(sql "$db" "SELECT string_agg(type || ':' || events, ' ' ORDER BY type) FROM analytics.activity_by_type WHERE unit_code = 'town1'")" \
   "governance_activity:2 governance_report:1 people_paired:3 station_opened:1 workers_served:1" \
   "activity_by_type"
is "$(sql "$db" "SELECT people FROM analytics.activity_by_type WHERE unit_code = 'd' AND type = 'people_paired'")" \
   "3217" "activity_by_type sums the attributes"
is "$(sql "$db" "SELECT string_agg(partner_region || ':' || province_code || ':' || partner_group || ':' || events, ' ' ORDER BY partner_region) FROM analytics.activity_by_partner WHERE unit_code = 'd'")" \
   "150125:15:8:1 341221:34:N:2 513432:51:N:3 540522:54:8:3" "activity_by_partner"
is "$(sql "$db" "SELECT string_agg(month || ':' || type || ':' || coalesce(variant, '-') || ':' || coalesce(partner_region, '-') || ':' || events || ':' || people, ' ' ORDER BY month, type, variant) FROM analytics.activity_monthly WHERE unit_code = 'town1' AND month < '2025-06-01'")" \
   "2025-04-01:people_paired:cadre:150125:1:10 2025-04-01:people_paired:student:-:1:200 2025-04-01:station_opened:outdoor_station:-:1:0 2025-05-01:people_paired:resident:341221:1:3000" \
   "activity_monthly: unit, month, type, variant, partner"
is "$(sql "$db" "SELECT partner_region || ':' || region_name || ':' || investments || ':' || amount_yuan || ':' || jobs || ':' || annual_output_yuan FROM analytics.economic_outcomes WHERE unit_code = 'd'")" \
   "341221:临泉县:1:600000000:260:1500000000" "economic_outcomes by partner"
is "$(sql "$db" "SELECT partner_region || ':' || donations || ':' || donation_yuan || ':' || aid_events || ':' || aid_students FROM analytics.donations_aid WHERE unit_code = 'd'")" \
   "513432:1:70000:1:10" "donations_aid by partner"
is "$(sql "$db" "SELECT stations || ':' || health_stations || ':' || rider_homes || ':' || outdoor_stations || ':' || service_events || ':' || workers_served FROM analytics.gig_services WHERE unit_code = 'd'")" \
   "1:0:0:1:1:50" "gig_services"
is "$(sql "$db" "SELECT instructors || ':' || party_orgs_founded || ':' || lane_advisers || ':' || governance_activities || ':' || governance_participants || ':' || governance_reports FROM analytics.governance WHERE unit_code = 'd'")" \
   "182:1:0:2:30:30" "governance"
is "$(sql "$db" "SELECT string_agg(type || ':' || coalesce(variant, '-') || ':' || events, ' ' ORDER BY type, variant) FROM analytics.type_totals WHERE unit_code = 'vil2'")" \
   "people_paired:student:1 station_opened:outdoor_station:1" "type_totals"
is "$(sql "$db" "SELECT investment_yuan || ':' || jobs || ':' || annual_output_yuan || ':' || donation_yuan || ':' || aid_students || ':' || instructors || ':' || party_orgs_founded || ':' || workers_served || ':' || governance_activities || ':' || governance_reports FROM analytics.summary WHERE unit_code = 'd'")" \
   "600000000:260:1500000000:70000:10:182:1:50:2:30" "summary: the article's figures for the district"

# ---------------------------------------------------------------- rollups
rollups_diff() {
    sql "$db" "CREATE TEMP TABLE b1 AS SELECT * FROM analytics.rollup_month WHERE events <> 0;
               CREATE TEMP TABLE b2 AS SELECT * FROM analytics.rollup_total WHERE events <> 0;
               CREATE TEMP TABLE b3 AS SELECT * FROM analytics.rollup_month_group WHERE events <> 0;
               CREATE TEMP TABLE b4 AS SELECT * FROM analytics.rollup_pair_day WHERE events <> 0;
               SELECT analytics.rebuild_rollups();
               SELECT (SELECT count(*) FROM ((TABLE b1 EXCEPT TABLE analytics.rollup_month) UNION ALL (TABLE analytics.rollup_month EXCEPT TABLE b1)) x)
                    + (SELECT count(*) FROM ((TABLE b2 EXCEPT TABLE analytics.rollup_total) UNION ALL (TABLE analytics.rollup_total EXCEPT TABLE b2)) x)
                    + (SELECT count(*) FROM ((TABLE b3 EXCEPT TABLE analytics.rollup_month_group) UNION ALL (TABLE analytics.rollup_month_group EXCEPT TABLE b3)) x)
                    + (SELECT count(*) FROM ((TABLE b4 EXCEPT TABLE analytics.rollup_pair_day) UNION ALL (TABLE analytics.rollup_pair_day EXCEPT TABLE b4)) x)" | tail -n 1
}
is "$(rollups_diff)" 0 "the rollups the trigger maintained equal a rebuild from the events"

# An attribute that is not a number (only possible by hand) is counted as an
# event and never breaks an insert.
sql "$db" "INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, attrs, sender)
           VALUES ($(id 91), 'vil2', 'party_day', '2025-06-30T01:00:00Z', '{\"participants\": \"many\"}', 't')" >/dev/null
ok $? "an insert with a non-numeric attribute succeeds"
is "$(sql "$db" "SELECT events || ':' || participants FROM analytics.activity_by_type WHERE unit_code = 'vil2' AND type = 'party_day'")" \
   "1:0" "and counts as an event with no participants"

# ---------------------------------------------------------------- roles
fails=""
for v in $(sql "$db" "SELECT viewname FROM pg_views WHERE schemaname = 'analytics' ORDER BY 1"); do
    r=$(sql_as tongxin_analyst "$db" "SELECT count(*) FROM analytics.$v")
    [ "$r" = ok ] || fails="$fails $v($r)"
done
is "$fails" "" "the analyst reads every analytics view"
is "$(sql "$db" "SELECT count(*) FROM pg_views WHERE schemaname = 'analytics'")" 42 "42 views in analytics"
like "$(sql_as tongxin_analyst "$db" "SELECT analytics.rebuild_rollups()")" "permission denied" \
   "the analyst cannot rebuild the rollups"
like "$(sql_as tongxin_analyst "$db" "DELETE FROM analytics.rollup_total_folded")" "permission denied" \
   "the analyst cannot change the rollups"
like "$(sql_as tongxin_collector "$db" "SELECT * FROM analytics.rollup_total")" "permission denied" \
   "the collector has no rights on analytics"
is "$(sql_as tongxin_collector "$db" "INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, partner_region, attrs, sender)
           VALUES ($(id 92), 'dept1', 'cloud_meeting', '2025-07-01T02:00:00Z', '540522', '{\"participants\": 5}', 'c')")" \
   ok "the collector stores an event (no rollup trigger to fire)"
is "$(sql "$db" "SELECT events FROM analytics.activity_by_month WHERE unit_code = 'd' AND month = '2025-07-01'")" 1 \
   "and the rollups have its event"

# ---------------------------------------------------------------- concurrency
# Two sessions: one stores an event and holds its transaction open, the
# other stores a correction of it meanwhile.  The correction's trigger waits
# for the first to commit, sees the event and takes it out.
ins() { echo "INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, attrs, sender, supersedes)
              VALUES ($(id "$1"), 'dept2', 'workers_served', '2025-07-02T02:00:00Z', '{\"workers\": $2}', 't', $3);"; }
psql "$db" -X -q -v ON_ERROR_STOP=1 -c "BEGIN" -c "$(ins 93 100 NULL)" -c "SELECT pg_sleep(1.5)" -c "COMMIT" >/dev/null 2>&1 &
first=$!
sleep 0.5
sql "$db" "$(ins 94 7 "$(id 93)")" >/dev/null
wait $first
is "$(sql "$db" "SELECT workers_served FROM analytics.gig_services WHERE unit_code = 'dept2'")" 7 \
   "an event and its correction stored at the same time: only the correction counts"
is "$(rollups_diff)" 0 "and the rollups still equal a rebuild"

# ---------------------------------------------------------------- upgrade
# A database at version 3 that already holds events: migrating builds the
# rollups from them.
old=$(newdb analytics_v3)
for f in schema/001_*.sql schema/002_*.sql schema/003_*.sql; do
    v=$(basename "$f" | cut -c1-3); name=$(basename "$f" .sql)
    psql "$old" -X -q -v ON_ERROR_STOP=1 -1 -f "$f" \
         -c "INSERT INTO tongxin.schema_migrations (version, name, checksum) VALUES ($v, '$name', '$(md5sum < "$f" | cut -c1-32)')" >/dev/null 2>&1 ||
        echo "# applying $f by hand failed"
done
psql "$old" -X -q -v ON_ERROR_STOP=1 -f tests/data/analytics.sql >/dev/null 2>&1
out=$($B/tongxin-admin --db "$old" migrate 2>&1)
like "$out" "applied 004_analytics" "a database at version 3 with events migrates"
is "$(sql "$old" "SELECT events || ':' || cadres_paired || ':' || donation_yuan || ':' || outdoor_stations FROM analytics.summary WHERE unit_code = 'd'")" \
   "17:17:70000:1" "and its rollups hold the events stored before"
