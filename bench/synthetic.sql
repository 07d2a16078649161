-- bench/synthetic.sql: a synthetic district for the benchmarks.
--
-- Loaded by bench/views.sh and bench/ingest.sh into a scratch database that
-- `tongxin-admin migrate` has set up.  It registers 188 units (the district,
-- 34 departments, 12 townships with 10 villages each, a gig-economy party
-- committee with 20 stations) and 107 pairings, and defines
--   bench_events(lo, hi)  the synthetic events numbered lo..hi: a unit at
--                         random, one of the 21 activity types with plausible
--                         attributes, the unit's partner region (70%), none
--                         (25%) or another region (5%), a time within the three
--                         years before the load (bench_pick.spread_days), and
--                         an id whose UUIDv7 time follows it
--                         (every step-th one with a step)
--   bench_corrections(lo, hi)  for every 100th of those events a correction
--                         (same content, supersedes it), for every 1000th a
--                         retraction instead.

SET search_path = public;

INSERT INTO tongxin.units (code, name, kind, parent_code) VALUES ('sq', '双清区', 'district', NULL);
INSERT INTO tongxin.units (code, name, kind, parent_code)
SELECT 'dep' || lpad(i::text, 2, '0'), '区直单位' || i, 'department', 'sq' FROM generate_series(1, 34) i
UNION ALL
SELECT 'town' || lpad(i::text, 2, '0'), '乡镇街道' || i, 'township', 'sq' FROM generate_series(1, 12) i
UNION ALL
SELECT 'gig', '新业态新就业群体党委', 'party_org', 'sq';
INSERT INTO tongxin.units (code, name, kind, parent_code)
SELECT 'town' || lpad(t::text, 2, '0') || '-v' || lpad(v::text, 2, '0'), '村社区' || t || '-' || v,
       'village', 'town' || lpad(t::text, 2, '0')
  FROM generate_series(1, 12) t, generate_series(1, 10) v
UNION ALL
SELECT 'gig-s' || lpad(i::text, 2, '0'), '骑手驿站' || i, 'station', 'gig' FROM generate_series(1, 20) i;

-- Partner regions: every seeded region but Shaoyang and Shuangqing.
CREATE TABLE bench_regions AS
SELECT row_number() OVER (ORDER BY code) AS n, code
  FROM tongxin.regions WHERE code NOT IN ('430500', '430502');

INSERT INTO tongxin.pairings (unit_code, region_code, counterpart, fields, since)
SELECT u.code, r.code, '结对单位 ' || u.code, '{ethnic_unity,development}', date '2023-01-01' + (u.n % 300)::int
  FROM (SELECT code, row_number() OVER (ORDER BY code) AS n FROM tongxin.units
         WHERE kind IN ('department', 'township', 'party_org')
            OR (kind = 'village' AND right(code, 1) IN ('1', '3', '5', '7', '9'))) u
  JOIN bench_regions r ON r.n = 1 + u.n % (SELECT count(*) FROM bench_regions);

-- One row of arrays: unit codes and each unit's first partner region.
CREATE TABLE bench_pick AS
SELECT date_trunc('hour', now()) AS anchor,
       1096 AS spread_days,             -- events fall into this many days before the anchor
       array_agg(u.code ORDER BY u.code) AS units,
       array_agg(p.region_code ORDER BY u.code) AS unit_region,
       (SELECT array_agg(code ORDER BY n) FROM public.bench_regions) AS regions,
       ARRAY['cloud_meeting', 'visit', 'cadre_secondment', 'people_paired', 'investment',
             'donation', 'student_aid', 'lecture', 'research_project', 'party_day',
             'investment_fair', 'product_promotion', 'youth_exchange', 'mutual_tourism',
             'station_opened', 'workers_served', 'instructor_dispatched', 'party_org_founded',
             'lane_adviser_enrolled', 'governance_activity', 'governance_report'] AS types
  FROM tongxin.units u
  LEFT JOIN (SELECT DISTINCT ON (unit_code) unit_code, region_code FROM tongxin.pairings
              ORDER BY unit_code, region_code) p ON p.unit_code = u.code;

CREATE FUNCTION bench_events(lo bigint, hi bigint, step bigint DEFAULT 1) RETURNS SETOF tongxin.events
LANGUAGE sql AS $$
    SELECT overlay(overlay(overlay(tongxin.uuid7_floor(x.at + interval '7 minutes')::text
                                   placing '7' from 15 for 1)
                           placing '8' from 20 for 1)
                   placing lpad(to_hex(x.i), 12, '0') from 25 for 12)::uuid,
           x.unit, x.type, x.at, x.at + interval '7 minutes', x.partner,
           CASE x.type
             WHEN 'cloud_meeting' THEN jsonb_build_object('participants', 2 + x.r % 40, 'topic', '交流')
             WHEN 'visit' THEN jsonb_build_object('direction', (ARRAY['outbound', 'inbound'])[1 + (x.r >> 16) % 2],
                                                  'delegates', 1 + x.r % 12)
             WHEN 'cadre_secondment' THEN jsonb_build_object('cadres', 1 + x.r % 3, 'days', 30 + x.r % 60)
             WHEN 'people_paired' THEN jsonb_build_object('category', (ARRAY['cadre', 'student', 'resident'])[1 + (x.r >> 16) % 3],
                                                          'count', 1 + x.r % 20)
             WHEN 'investment' THEN jsonb_build_object('amount_yuan', 100000 * (1 + x.r % 500), 'jobs', x.r % 50,
                                                       'annual_output_yuan', 250000 * (1 + x.r % 500))
             WHEN 'donation' THEN jsonb_build_object('amount_yuan', 1000 + x.r % 9000)
             WHEN 'student_aid' THEN jsonb_build_object('students', 1 + x.r % 4)
             WHEN 'lecture' THEN jsonb_build_object('kind', (ARRAY['lecture', 'counselling', 'training'])[1 + (x.r >> 16) % 3],
                                                    'attendees', x.r % 80)
             WHEN 'research_project' THEN jsonb_build_object('title', '课题 ' || x.r)
             WHEN 'party_day' THEN jsonb_build_object('participants', x.r % 60)
             WHEN 'investment_fair' THEN jsonb_build_object('participants', x.r % 200, 'deals', x.r % 5)
             WHEN 'product_promotion' THEN jsonb_build_object('products', '土特产')
             WHEN 'youth_exchange' THEN jsonb_build_object('kind', (ARRAY['letter', 'hometown_guide', 'video', 'cloud_visit'])[1 + (x.r >> 16) % 4],
                                                           'participants', x.r % 30)
             WHEN 'mutual_tourism' THEN jsonb_build_object('visitors', 1 + x.r % 100)
             WHEN 'station_opened' THEN jsonb_build_object('kind', (ARRAY['health_station', 'rider_home', 'outdoor_station'])[1 + (x.r >> 16) % 3])
             WHEN 'workers_served' THEN jsonb_build_object('workers', 1 + x.r % 30)
             WHEN 'instructor_dispatched' THEN jsonb_build_object('instructors', 1 + x.r % 3)
             WHEN 'party_org_founded' THEN jsonb_build_object('sector', '快递')
             WHEN 'lane_adviser_enrolled' THEN jsonb_build_object('advisers', 1 + x.r % 5)
             WHEN 'governance_activity' THEN jsonb_build_object('participants', x.r % 40)
             ELSE jsonb_build_object('reports', 1 + x.r % 6)
           END,
           'bench', NULL::uuid, NULL::bytea, pg_current_xact_id()
      FROM (SELECT i, r, b.units[ui] AS unit, b.types[1 + r % 21] AS type,
                   b.anchor - interval '1 hour' - (i % b.spread_days) * interval '1 day'
                       - ((r >> 8) % 86400) * interval '1 second' AS at,
                   CASE WHEN r % 100 < 70 THEN b.unit_region[ui]
                        WHEN r % 100 < 95 THEN NULL
                        ELSE b.regions[1 + (r >> 12) % cardinality(b.regions)] END AS partner
              FROM public.bench_pick b,
                   LATERAL (SELECT i, (hashint8(i) & 2147483647)::bigint AS r
                              FROM generate_series(lo, hi, step) i) g,
                   LATERAL (SELECT 1 + ((g.r >> 4) % cardinality(b.units))::int AS ui) k) x
$$;

CREATE FUNCTION bench_corrections(lo bigint, hi bigint) RETURNS SETOF tongxin.events
LANGUAGE sql AS $$
    SELECT overlay(e.event_id::text placing lpad(to_hex(1099511627776 + n), 12, '0') from 25 for 12)::uuid,
           e.unit_code, CASE WHEN n % 1000 = 0 THEN 'retraction' ELSE e.type END,
           e.occurred_at, e.received_at + interval '1 day',
           CASE WHEN n % 1000 = 0 THEN NULL ELSE e.partner_region END,
           CASE WHEN n % 1000 = 0 THEN '{}' ELSE e.attrs END,
           'bench', e.event_id, NULL::bytea, e.stored_xid
      FROM public.bench_events(lo + (100 - lo % 100) % 100, hi, 100) e,
           LATERAL (SELECT ('x' || right(e.event_id::text, 12))::bit(48)::bigint AS n) k
$$;
