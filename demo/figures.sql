-- The article's figures, straight from tongxin.events (used by the demo
-- when tongxin-report is not built).
\pset footer off
SELECT count(DISTINCT unit_code) AS "units with a signed pairing"
  FROM tongxin.events WHERE type = 'pairing_signed';
SELECT sum((attrs->>'amount_yuan')::numeric) AS "investment (yuan)",
       sum((attrs->>'jobs')::int) AS jobs,
       sum((attrs->>'annual_output_yuan')::numeric) AS "annual output (yuan)"
  FROM tongxin.events WHERE type = 'investment';
SELECT (SELECT sum((attrs->>'amount_yuan')::numeric) FROM tongxin.events
         WHERE type = 'donation' AND partner_region = '513432') AS "donated to Xide (yuan)",
       (SELECT sum((attrs->>'students')::int) FROM tongxin.events WHERE type = 'student_aid') AS "students aided";
SELECT (SELECT sum((attrs->>'instructors')::int) FROM tongxin.events WHERE type = 'instructor_dispatched') AS instructors,
       (SELECT count(*) FROM tongxin.events WHERE type = 'party_org_founded') AS "party organisations",
       (SELECT sum((attrs->>'workers')::int) FROM tongxin.events WHERE type = 'workers_served') AS "workers served";
SELECT attrs->>'kind' AS "station kind", count(*) AS stations
  FROM tongxin.events WHERE type = 'station_opened' GROUP BY 1 ORDER BY 1;
SELECT (SELECT sum((attrs->>'advisers')::int) FROM tongxin.events WHERE type = 'lane_adviser_enrolled') AS "lane advisers",
       (SELECT count(*) FROM tongxin.events WHERE type = 'governance_activity') AS "governance activities",
       (SELECT sum((attrs->>'reports')::int) FROM tongxin.events WHERE type = 'governance_report') AS reports;
SELECT attrs->>'category' AS category, sum((attrs->>'count')::int) AS paired
  FROM tongxin.events WHERE type = 'people_paired' GROUP BY 1 ORDER BY 1;
