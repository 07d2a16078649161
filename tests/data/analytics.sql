-- tests/data/analytics.sql: a small district with known figures, for
-- tests/analytics.t and tests/report.t.  Run as a superuser after
-- `tongxin-admin migrate`.  Ids are UUIDv7 of the current month (so they
-- fall into a partition) numbered by the last digits: pg_temp.id(n).
--
--   d (district) ── dept1, dept2 (departments)
--                └─ town1 (township) ── vil1, vil2 (villages)
--
-- Expected (the district): 17 current events; cadres 17 (vil1 10 + dept1's
-- 5 corrected to 7), students 200, residents 3,000; investment 600,000,000
-- yuan, 260 jobs, 1,500,000,000 output (via Linquan 341221); donations
-- 70,000 (5,000 retracted); 10 aided students; 1 outdoor station (a chain
-- rider_home → health_station → outdoor_station); 50 workers served; 0 lane
-- advisers (a chain withdrawn at its end); 2 governance activities, 30
-- reports (the correction arrived first); 182 instructors; 1 party org.
-- Pairings: dept1–540522 (registry and event), dept2–513432 (event only),
-- town1–341221 and vil1–150000 (registry only).
INSERT INTO tongxin.units (code, name, kind, parent_code) VALUES
  ('d', '双清区', 'district', NULL);
INSERT INTO tongxin.units (code, name, kind, parent_code) VALUES
  ('dept1', '区检察院', 'department', 'd'), ('dept2', '区政协', 'department', 'd'),
  ('town1', '高崇山镇', 'township', 'd');
INSERT INTO tongxin.units (code, name, kind, parent_code) VALUES
  ('vil1', '高崇村', 'village', 'town1'), ('vil2', '和平村', 'village', 'town1');
INSERT INTO tongxin.pairings (unit_code, region_code, counterpart, fields, since) VALUES
  ('dept1', '540522', '贡嘎县检察院', '{team_building}', '2023-04-10'),
  ('town1', '341221', '临泉县', '{development}', '2023-06-01'),
  ('vil1', '150000', '内蒙古自治区', '{ethnic_unity}', '2023-07-01');
CREATE FUNCTION pg_temp.id(n int) RETURNS uuid LANGUAGE sql AS
  $$ SELECT overlay(tongxin.uuid7_floor(date_trunc('month', now()))::text placing '7000-8000-' || lpad(n::text, 12, '0') from 15 for 22)::uuid $$;
CREATE FUNCTION pg_temp.ev(n int, u text, t text, at timestamptz, p text, a jsonb, s int DEFAULT NULL)
  RETURNS void LANGUAGE sql AS
  $$ INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, partner_region, attrs, sender, supersedes)
     VALUES (pg_temp.id(n), u, t, at, p, a, 'test', pg_temp.id(s)) $$;
SELECT pg_temp.ev(1, 'vil1', 'people_paired', '2025-03-31T21:00:00Z', '150125', '{"category": "cadre", "count": 10}');
SELECT pg_temp.ev(2, 'vil2', 'people_paired', '2025-04-15T10:00:00Z', NULL, '{"category": "student", "count": 200}');
SELECT pg_temp.ev(3, 'town1', 'people_paired', '2025-05-10T02:00:00Z', '341221', '{"category": "resident", "count": 3000}');
SELECT pg_temp.ev(4, 'dept1', 'people_paired', '2025-05-20T02:00:00Z', '540522', '{"category": "cadre", "count": 5}');
SELECT pg_temp.ev(5, 'dept1', 'people_paired', '2025-05-20T02:00:00Z', '540522', '{"category": "cadre", "count": 7}', 4);
SELECT pg_temp.ev(6, 'dept2', 'investment', '2025-06-03T01:00:00Z', '341221', '{"amount_yuan": 600000000, "jobs": 260, "annual_output_yuan": 1500000000}');
SELECT pg_temp.ev(7, 'dept2', 'donation', '2025-06-05T01:00:00Z', '513432', '{"amount_yuan": 70000}');
SELECT pg_temp.ev(8, 'dept2', 'donation', '2025-06-06T01:00:00Z', '513432', '{"amount_yuan": 5000}');
SELECT pg_temp.ev(9, 'dept2', 'retraction', '2025-06-07T01:00:00Z', NULL, '{}', 8);
SELECT pg_temp.ev(10, 'dept2', 'student_aid', '2025-06-08T01:00:00Z', '513432', '{"students": 10}');
-- a chain in one statement
INSERT INTO tongxin.events (event_id, unit_code, type, occurred_at, attrs, sender, supersedes) VALUES
  (pg_temp.id(11), 'vil2', 'station_opened', '2025-04-02T01:00:00Z', '{"kind": "rider_home"}', 't', NULL),
  (pg_temp.id(12), 'vil2', 'station_opened', '2025-04-02T01:00:00Z', '{"kind": "health_station"}', 't', pg_temp.id(11)),
  (pg_temp.id(13), 'vil2', 'station_opened', '2025-04-02T01:00:00Z', '{"kind": "outdoor_station"}', 't', pg_temp.id(12));
-- names another unit's event: no effect
SELECT pg_temp.ev(14, 'vil1', 'workers_served', '2025-06-10T01:00:00Z', NULL, '{"workers": 50}', 10);
-- the correction before the event it corrects
SELECT pg_temp.ev(16, 'town1', 'governance_report', '2025-06-11T01:00:00Z', NULL, '{"reports": 30}', 15);
SELECT pg_temp.ev(15, 'town1', 'governance_report', '2025-06-11T01:00:00Z', NULL, '{"reports": 20}');
SELECT pg_temp.ev(17, 'dept1', 'pairing_signed', '2023-04-10T02:00:00Z', '540522', '{"counterpart": "贡嘎县检察院", "fields": "team_building"}');
SELECT pg_temp.ev(18, 'dept2', 'pairing_signed', '2023-06-15T02:00:00Z', '513432', '{"counterpart": "喜德县", "fields": "development, education"}');
-- a chain withdrawn at its end
SELECT pg_temp.ev(19, 'vil1', 'lane_adviser_enrolled', '2025-06-12T01:00:00Z', NULL, '{"advisers": 5}');
SELECT pg_temp.ev(20, 'vil1', 'lane_adviser_enrolled', '2025-06-12T01:00:00Z', NULL, '{"advisers": 8}', 19);
SELECT pg_temp.ev(21, 'vil1', 'retraction', '2025-06-13T01:00:00Z', NULL, '{}', 20);
SELECT pg_temp.ev(22, 'd', 'instructor_dispatched', '2025-06-01T01:00:00Z', NULL, '{"instructors": 182}');
SELECT pg_temp.ev(23, 'd', 'party_org_founded', '2025-06-01T01:00:00Z', NULL, '{"name": "骑手党支部"}');
SELECT pg_temp.ev(24, 'town1', 'governance_activity', '2025-06-20T01:00:00Z', NULL, '{"participants": 10}');
SELECT pg_temp.ev(25, 'town1', 'governance_activity', '2025-06-21T01:00:00Z', NULL, '{"participants": 20}');
SELECT pg_temp.ev(26, 'dept1', 'cloud_meeting', '2025-06-22T01:00:00Z', '540522', '{"participants": 12}');
