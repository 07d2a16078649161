-- 007_measures: the rollups' measures defined once, as data.
--
-- Until 006 the sixteen measures (participants, delegates, ..., reports)
-- were written by hand in every rollup table, in the trigger function
-- analytics.events_inserted(), in analytics.rebuild_rollups() and in the
-- views that pass them on.  From here on analytics.measures lists them and
-- analytics.regenerate_rollups() writes, from that table:
--   - the measure columns of rollup_month, rollup_total and rollup_type
--     (a new measure is added as numeric NOT NULL DEFAULT 0);
--   - the functions events_inserted() and rebuild_rollups(), which compute
--     exactly what 004/005 wrote by hand (numeric sums, SECURITY DEFINER,
--     search_path pg_catalog, pg_temp);
--   - the views that only pass the measures on: event_facts,
--     activity_monthly, activity_by_type, type_totals.
-- Adding a measure is one INSERT into analytics.measures and one call
-- (docs/analysts.md, "How the figures are kept").  analytics.measure_list()
-- is the one way to spell the measures in SQL, for any later generator.

SET LOCAL ROLE tongxin_admin;

CREATE TABLE analytics.measures (
    name        text COLLATE "C" PRIMARY KEY    -- column in the rollups and the views
                CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    attribute   text NOT NULL,                  -- the event attribute summed
    kind        text NOT NULL CHECK (kind IN ('int', 'numeric')),
                                                -- read by analytics.attr_int / attr_num
    position    int NOT NULL UNIQUE CHECK (position > 0)
                                                -- column order; a new one goes last
);

INSERT INTO analytics.measures (position, name, attribute, kind) VALUES
    (1, 'participants', 'participants', 'int'),
    (2, 'delegates', 'delegates', 'int'),
    (3, 'cadres', 'cadres', 'int'),
    (4, 'days', 'days', 'int'),
    (5, 'people', 'count', 'int'),
    (6, 'amount_yuan', 'amount_yuan', 'numeric'),
    (7, 'jobs', 'jobs', 'int'),
    (8, 'annual_output_yuan', 'annual_output_yuan', 'numeric'),
    (9, 'students', 'students', 'int'),
    (10, 'attendees', 'attendees', 'int'),
    (11, 'deals', 'deals', 'int'),
    (12, 'visitors', 'visitors', 'int'),
    (13, 'workers', 'workers', 'int'),
    (14, 'instructors', 'instructors', 'int'),
    (15, 'advisers', 'advisers', 'int'),
    (16, 'reports', 'reports', 'int');

-- The measures spelled with TEMPLATE, in position order, joined by SEP.
-- In TEMPLATE (a format() string): %1$I the name (an identifier, see
-- the CHECK above), %2$L the attribute as a literal, %3$s the function
-- that reads it from attrs (analytics.attr_int or analytics.attr_num).
CREATE FUNCTION analytics.measure_list(template text, sep text DEFAULT E',\n')
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(string_agg(format(template, m.name, m.attribute,
                                      CASE m.kind WHEN 'int' THEN 'analytics.attr_int'
                                                  ELSE 'analytics.attr_num' END),
                               sep ORDER BY m.position), '')
      FROM analytics.measures m
$$;

-- SRC with every "{template}" replaced by measure_list(template), one
-- measure a line, each at the indent of the "{".
CREATE FUNCTION analytics.measure_expand(src text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m text[];
BEGIN
    FOR m IN SELECT DISTINCT r FROM regexp_matches(src, '\n( *)\{([^{}\n]+)\}', 'g') AS r LOOP
        src := replace(src, E'\n' || m [1] || '{' || m [2] || '}',
                       E'\n' || m [1] || analytics.measure_list(m [2], E',\n' || m [1]));
    END LOOP;
    RETURN src;
END
$$;

-- Adds to the three rollup tables the measures they lack; true if any.
CREATE FUNCTION analytics.add_measure_columns() RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c record;
    added boolean := false;
BEGIN
    FOR c IN SELECT t.tab, m.name
               FROM analytics.measures m
              CROSS JOIN (VALUES ('rollup_month'), ('rollup_total'), ('rollup_type')) t (tab)
              WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                                 WHERE a.attrelid = format('analytics.%I', t.tab)::regclass
                                   AND a.attname = m.name AND NOT a.attisdropped)
              ORDER BY m.position, t.tab
    LOOP
        EXECUTE format('ALTER TABLE analytics.%I ADD COLUMN %I numeric NOT NULL DEFAULT 0',
                       c.tab, c.name);
        added := true;
    END LOOP;
    RETURN added;
END
$$;

-- The trigger function that adds the rows one INSERT or COPY stored to the
-- rollups (comments in 004_analytics.sql, which wrote it by hand).
CREATE FUNCTION analytics.events_inserted_sql() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT analytics.measure_expand($body$
CREATE OR REPLACE FUNCTION analytics.events_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tz text;
BEGIN
    PERFORM 1 FROM new_events LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- Wait for a running rebuild_rollups(); then read the zone it used.
    LOCK TABLE analytics.supersessions, analytics.rollup_month, analytics.rollup_total,
               analytics.rollup_type, analytics.rollup_month_group, analytics.rollup_pair_day
         IN ROW EXCLUSIVE MODE;
    PERFORM count(pg_advisory_xact_lock(29816, b))
       FROM (SELECT DISTINCT hashtext(unit_code) & 1023 AS b FROM new_events ORDER BY 1) s;
    SELECT timezone INTO tz FROM analytics.rollup_state;

    INSERT INTO analytics.supersessions (unit_code, supersedes, event_id)
    SELECT unit_code, supersedes, event_id FROM new_events WHERE supersedes IS NOT NULL
    ON CONFLICT DO NOTHING;

    WITH chg AS (
        -- The new events that count: not retractions, not superseded (a
        -- correction may arrive before the event it corrects).
        SELECT n.unit_code, n.type, n.occurred_at, n.partner_region, n.attrs, 1 AS sign
          FROM new_events n
         WHERE n.type <> 'retraction'
           AND NOT EXISTS (SELECT 1 FROM analytics.supersessions f
                            WHERE f.unit_code = n.unit_code AND f.supersedes = n.event_id)
        UNION ALL
        -- Earlier events of the same unit that the new ones supersede and
        -- that counted until now: no earlier event superseded them.
        SELECT o.unit_code, o.type, o.occurred_at, o.partner_region, o.attrs, -1
          FROM (SELECT DISTINCT supersedes, unit_code FROM new_events
                 WHERE supersedes IS NOT NULL) s
          JOIN tongxin.events o ON o.event_id = s.supersedes AND o.unit_code = s.unit_code
         WHERE o.type <> 'retraction'
           AND NOT EXISTS (SELECT 1 FROM new_events n
                            WHERE n.event_id = o.event_id AND n.unit_code = o.unit_code)
           AND NOT EXISTS (SELECT 1 FROM analytics.supersessions f
                            WHERE f.unit_code = o.unit_code AND f.supersedes = o.event_id
                              AND NOT EXISTS (SELECT 1 FROM new_events n
                                               WHERE n.event_id = f.event_id
                                                 AND n.unit_code = f.unit_code))
    ), d AS MATERIALIZED (
        -- One row per event with its figures, in the rollups' time zone.
        SELECT c.unit_code COLLATE "C" AS unit_code, c.type COLLATE "C" AS type,
               coalesce(c.attrs ->> v.attr, '') COLLATE "C" AS variant,
               coalesce(c.partner_region, '') COLLATE "C" AS partner_region,
               (c.occurred_at AT TIME ZONE tz)::date AS day, c.sign,
               {c.sign * %3$s(c.attrs, %2$L) AS %1$I}
          FROM chg c LEFT JOIN analytics.type_variants v ON v.type_code = c.type
    ), own AS (
        SELECT unit_code, date_trunc('month', day)::date AS month, type, variant, partner_region,
               sum(sign)::bigint AS events,
               {coalesce(sum(%1$I), 0)::numeric AS %1$I}
          FROM d
         GROUP BY 1, 2, 3, 4, 5
    ), mx AS MATERIALIZED (
        SELECT t.ancestor COLLATE "C" AS unit_code, o.month, o.type, o.variant, o.partner_region,
               sum(o.events)::bigint AS events,
               {sum(o.%1$I)::numeric AS %1$I}
          FROM own o JOIN analytics.unit_tree t ON t.descendant = o.unit_code
         GROUP BY 1, 2, 3, 4, 5
    ), up_month AS (
        INSERT INTO analytics.rollup_month AS r
               (unit_code, month, type, variant, partner_region, events,
                {%1$I})
        SELECT * FROM mx ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (unit_code, month, type, variant, partner_region) DO UPDATE SET
               events = r.events + excluded.events,
               {%1$I = r.%1$I + excluded.%1$I}
    ), up_total AS (
        INSERT INTO analytics.rollup_total AS r
               (unit_code, type, variant, partner_region, events,
                {%1$I})
        SELECT unit_code, type, variant, partner_region, sum(events),
               {sum(%1$I)::numeric}
          FROM mx
         GROUP BY 1, 2, 3, 4
         ORDER BY 1, 2, 3, 4
        ON CONFLICT (unit_code, type, variant, partner_region) DO UPDATE SET
               events = r.events + excluded.events,
               {%1$I = r.%1$I + excluded.%1$I}
    ), up_type AS (
        INSERT INTO analytics.rollup_type AS r
               (unit_code, type, variant, events,
                {%1$I})
        SELECT unit_code, type, variant, sum(events),
               {sum(%1$I)::numeric}
          FROM mx
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (unit_code, type, variant) DO UPDATE SET
               events = r.events + excluded.events,
               {%1$I = r.%1$I + excluded.%1$I}
    ), up_group AS (
        INSERT INTO analytics.rollup_month_group AS r
        SELECT mx.unit_code, mx.month, coalesce(g.grp, '') COLLATE "C", sum(mx.events)
          FROM mx LEFT JOIN tongxin.regions g ON g.code = mx.partner_region
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (unit_code, month, partner_group) DO UPDATE SET events = r.events + excluded.events
    )
    INSERT INTO analytics.rollup_pair_day AS r
    SELECT unit_code, partner_region, day, sum(sign)
      FROM d
     GROUP BY 1, 2, 3
     ORDER BY 1, 2, 3
    ON CONFLICT (unit_code, partner_region, day) DO UPDATE SET events = r.events + excluded.events;
    RETURN NULL;
END
$$
$body$)
$f$;

-- rebuild_rollups(): the rollups recomputed from the events (comments in
-- 004_analytics.sql).
CREATE FUNCTION analytics.rebuild_rollups_sql() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT analytics.measure_expand($body$
CREATE OR REPLACE FUNCTION analytics.rebuild_rollups() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tz text := analytics.org_timezone();
    n  bigint;
BEGIN
    PERFORM now() AT TIME ZONE tz;          -- an unknown zone fails here
    LOCK TABLE analytics.supersessions, analytics.rollup_month, analytics.rollup_total,
               analytics.rollup_type, analytics.rollup_month_group, analytics.rollup_pair_day
         IN ACCESS EXCLUSIVE MODE;
    TRUNCATE analytics.supersessions, analytics.rollup_month, analytics.rollup_total,
             analytics.rollup_type, analytics.rollup_month_group, analytics.rollup_pair_day;
    INSERT INTO analytics.supersessions (unit_code, supersedes, event_id)
    SELECT unit_code, supersedes, event_id FROM tongxin.events WHERE supersedes IS NOT NULL;
    -- Each unit's own events first, then expanded along the tree.
    INSERT INTO analytics.rollup_month
           (unit_code, month, type, variant, partner_region, events,
            {%1$I})
    SELECT t.ancestor, o.month, o.type, o.variant, o.partner_region, sum(o.events),
           {sum(o.%1$I)}
      FROM (SELECT unit_code COLLATE "C" AS unit_code, month, type COLLATE "C" AS type,
                   variant COLLATE "C" AS variant,
                   coalesce(partner_region, '') COLLATE "C" AS partner_region, count(*) AS events,
                   {coalesce(sum(%1$I), 0) AS %1$I}
              FROM analytics.event_facts
             GROUP BY 1, 2, 3, 4, 5) o
      JOIN analytics.unit_tree t ON t.descendant = o.unit_code
     GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO analytics.rollup_total
           (unit_code, type, variant, partner_region, events,
            {%1$I})
    SELECT unit_code, type, variant, partner_region, sum(events),
           {sum(%1$I)}
      FROM analytics.rollup_month
     GROUP BY 1, 2, 3, 4;
    INSERT INTO analytics.rollup_type
           (unit_code, type, variant, events,
            {%1$I})
    SELECT unit_code, type, variant, sum(events),
           {sum(%1$I)}
      FROM analytics.rollup_total
     GROUP BY 1, 2, 3;
    INSERT INTO analytics.rollup_month_group
    SELECT r.unit_code, r.month, coalesce(g.grp, ''), sum(r.events)
      FROM analytics.rollup_month r LEFT JOIN tongxin.regions g ON g.code = r.partner_region
     GROUP BY 1, 2, 3;
    INSERT INTO analytics.rollup_pair_day
    SELECT unit_code, coalesce(partner_region, ''), day, count(*)
      FROM analytics.events_current
     GROUP BY 1, 2, 3;
    SELECT coalesce(sum(events), 0) INTO n FROM analytics.rollup_pair_day;
    UPDATE analytics.rollup_state SET timezone = tz, rebuilt_at = now(), stale = false;
    ANALYZE analytics.supersessions;
    ANALYZE analytics.rollup_month;
    ANALYZE analytics.rollup_total;
    ANALYZE analytics.rollup_type;
    ANALYZE analytics.rollup_month_group;
    ANALYZE analytics.rollup_pair_day;
    RETURN n;
END
$$
$body$)
$f$;

-- The views that pass the measures on, column for column (a new measure
-- is appended, which CREATE OR REPLACE VIEW allows).
CREATE FUNCTION analytics.measure_views_sql() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT analytics.measure_expand($body$
CREATE OR REPLACE VIEW analytics.event_facts AS
SELECT c.event_id, c.unit_code, c.type, coalesce(c.attrs ->> v.attr, '') AS variant,
       c.occurred_at, c.day, c.month, c.partner_region,
       {%3$s(c.attrs, %2$L) AS %1$I}
  FROM analytics.events_current c
  LEFT JOIN analytics.type_variants v ON v.type_code = c.type;

CREATE OR REPLACE VIEW analytics.activity_monthly AS
SELECT r.unit_code, r.month, r.type, nullif(r.variant, '') AS variant,
       nullif(r.partner_region, '') AS partner_region,
       g.province_code AS partner_province, g.grp AS partner_group,
       r.events,
       {r.%1$I}
  FROM analytics.rollup_month r
  LEFT JOIN tongxin.regions g ON g.code = r.partner_region
 WHERE r.events > 0;

CREATE OR REPLACE VIEW analytics.activity_by_type AS
SELECT r.unit_code, r.type, et.description, r.events,
       {r.%1$I}
  FROM (SELECT unit_code, type, sum(events) AS events,
               {sum(%1$I) AS %1$I}
          FROM analytics.rollup_type GROUP BY 1, 2) r
  LEFT JOIN tongxin.event_types et ON et.code = r.type
 WHERE r.events > 0;

CREATE OR REPLACE VIEW analytics.type_totals AS
SELECT unit_code, type, nullif(variant, '') AS variant, events,
       {%1$I}
  FROM analytics.rollup_type
 WHERE events > 0;
$body$)
$f$;

-- Brings the rollups in line with analytics.measures: columns, the two
-- functions, the views; rebuilds the rollups when a measure was added.
-- The administrator's only (it rewrites functions that run as
-- tongxin_admin).  Returns whether a measure was added.
CREATE FUNCTION analytics.regenerate_rollups() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    added boolean;
BEGIN
    LOCK TABLE analytics.measures IN SHARE MODE;
    added := analytics.add_measure_columns();
    EXECUTE analytics.events_inserted_sql();
    EXECUTE analytics.rebuild_rollups_sql();
    EXECUTE analytics.measure_views_sql();
    IF added THEN
        PERFORM analytics.rebuild_rollups();
    END IF;
    RETURN added;
END
$$;

REVOKE ALL ON FUNCTION analytics.measure_list(text, text), analytics.measure_expand(text),
                       analytics.add_measure_columns(), analytics.events_inserted_sql(),
                       analytics.rebuild_rollups_sql(), analytics.measure_views_sql(),
                       analytics.regenerate_rollups()
    FROM PUBLIC;
GRANT SELECT ON analytics.measures TO tongxin_analyst;

SELECT analytics.regenerate_rollups();
