-- 004_analytics: what analysts read.  Retractions, the 百千万 targets, rollups
-- maintained as events arrive, and the views of schema analytics
-- (docs/analysts.md documents each view and its columns).
--
-- Design.  A statement-level trigger on tongxin.events sees the rows each
-- INSERT or COPY stored (a transition table) and adds their contribution to
-- rollup tables, expanded along the unit tree (an event counts for its unit
-- and every unit above it), so that no view adds anything up at query time:
--   analytics.rollup_month        (unit subtree, month, type, variant, partner) → counts and sums
--   analytics.rollup_total        (unit subtree, type, variant, partner) → counts and sums
--   analytics.rollup_type         (unit subtree, type, variant) → counts and sums
--   analytics.rollup_month_group  (unit subtree, month, partner group) → counts
--   analytics.rollup_pair_day     (unit itself, partner, day) → counts
-- When a new event supersedes an event of the same unit that counted until
-- then, it subtracts that event's contribution; a retraction adds nothing.
-- Months and days are those of the time zone the rollups were built in
-- (analytics.rollup_state, from tongxin.settings 'timezone'): after changing
-- the time zone, run analytics.rebuild_rollups().  Moving a unit in the tree
-- rebuilds the rollups by itself.

SET LOCAL ROLE tongxin_admin;

-- ------------------------------------------------------------------ registry

INSERT INTO tongxin.event_types (code, partner_required, description) VALUES
    ('retraction', false, 'Withdraws the earlier event of the same unit named in supersedes (no attributes)');

-- Targets of the 百千万 project, as data: category is a value of the
-- people_paired attribute "category".
CREATE TABLE tongxin.targets (
    category    text PRIMARY KEY CHECK (category ~ '^[a-z][a-z0-9_]{0,63}$'),
    target      numeric NOT NULL CHECK (target > 0),
    description text NOT NULL
);
INSERT INTO tongxin.targets (category, target, description) VALUES
    ('cadre',    100,   'Cadres paired across provinces (百千万: 百)'),
    ('student',  1000,  'Students paired across provinces (百千万: 千)'),
    ('resident', 10000, 'Residents paired across provinces (百千万: 万)');
GRANT SELECT ON tongxin.targets TO tongxin_analyst;

-- Corrections are looked up by the event they name, within its unit.
CREATE INDEX events_supersedes_idx ON tongxin.events (supersedes, unit_code)
    WHERE supersedes IS NOT NULL;

-- ------------------------------------------------------------------ helpers

-- An int attribute's value, or NULL when absent or not a number; never fails.
CREATE FUNCTION analytics.attr_int(attrs jsonb, name text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(attrs -> name) = 'number'
                 AND abs((attrs -> name)::numeric) < 1e18
                THEN round((attrs -> name)::numeric)::bigint END
$$;

-- A numeric attribute's value, or NULL when absent or not a number.
CREATE FUNCTION analytics.attr_num(attrs jsonb, name text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(attrs -> name) = 'number' THEN (attrs -> name)::numeric END
$$;

-- The prefix of the codes a region contains: '15' for 150000 (a province),
-- '1501' for 150100 (a prefecture), the code itself for a county.
CREATE FUNCTION analytics.region_prefix(code text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN right(code, 4) = '0000' THEN left(code, 2)
                WHEN right(code, 2) = '00' THEN left(code, 4)
                ELSE code END
$$;

-- The organisation's time zone (tongxin.settings), Asia/Shanghai by default.
CREATE FUNCTION analytics.org_timezone() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT value FROM tongxin.settings WHERE key = 'timezone'), 'Asia/Shanghai')
$$;

-- Per event type, the enum attribute whose value splits its figures (the
-- "variant": people_paired.category, station_opened.kind, visit.direction...).
CREATE VIEW analytics.type_variants AS
    SELECT type_code, min(name) AS attr
      FROM tongxin.event_type_attrs
     WHERE kind = 'enum'
     GROUP BY type_code;

-- ------------------------------------------------------------------ unit tree

-- Closure of tongxin.units: every (ancestor, descendant) pair, a unit being
-- its own ancestor at depth 0.  Rebuilt whole on every change of units.
CREATE TABLE analytics.unit_tree (
    ancestor    text COLLATE "C" NOT NULL,
    descendant  text COLLATE "C" NOT NULL,
    depth       int NOT NULL,
    PRIMARY KEY (ancestor, descendant)
);
CREATE INDEX unit_tree_descendant_idx ON analytics.unit_tree (descendant);

-- Recompute the closure; true when an existing unit moved (its ancestors
-- changed), which the rollups, expanded along the tree, must follow.
CREATE FUNCTION analytics.refresh_unit_tree() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    moved boolean;
BEGIN
    LOCK TABLE analytics.unit_tree IN EXCLUSIVE MODE;
    WITH RECURSIVE t (ancestor, descendant, depth) AS (
        SELECT code, code, 0 FROM tongxin.units
        UNION ALL
        SELECT t.ancestor, u.code, t.depth + 1
          FROM t JOIN tongxin.units u ON u.parent_code = t.descendant
    ) CYCLE descendant SET is_cycle USING walk,
    nt AS (
        SELECT ancestor COLLATE "C" AS ancestor, descendant COLLATE "C" AS descendant,
               min(depth) AS depth
          FROM t WHERE NOT is_cycle GROUP BY 1, 2
    ), gone AS (
        DELETE FROM analytics.unit_tree o
         WHERE NOT EXISTS (SELECT 1 FROM nt WHERE nt.ancestor = o.ancestor
                                              AND nt.descendant = o.descendant)
        RETURNING o.descendant
    ), came AS (
        INSERT INTO analytics.unit_tree (ancestor, descendant, depth)
        SELECT ancestor, descendant, depth FROM nt
        ON CONFLICT (ancestor, descendant) DO UPDATE SET depth = excluded.depth
        WHERE analytics.unit_tree.depth <> excluded.depth
        RETURNING descendant, (xmax = 0) AS inserted
    )
    SELECT EXISTS (SELECT 1 FROM gone)
        OR EXISTS (SELECT 1 FROM came c
                    WHERE c.inserted
                      AND EXISTS (SELECT 1 FROM analytics.unit_tree o
                                   WHERE o.descendant = c.descendant))
      INTO moved;
    RETURN moved;
END
$$;
REVOKE ALL ON FUNCTION analytics.refresh_unit_tree() FROM PUBLIC;

CREATE FUNCTION analytics.units_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF analytics.refresh_unit_tree() THEN
        PERFORM analytics.rebuild_rollups();
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION analytics.units_changed() FROM PUBLIC;

CREATE TRIGGER units_tree AFTER INSERT OR UPDATE OR DELETE ON tongxin.units
    FOR EACH STATEMENT EXECUTE FUNCTION analytics.units_changed();

-- ------------------------------------------------------------------ rollups

-- The time zone the rollups were built in, and whether they may be stale.
CREATE TABLE analytics.rollup_state (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    timezone    text NOT NULL,
    rebuilt_at  timestamptz,
    stale       boolean NOT NULL DEFAULT false  -- events were updated or deleted since
);
INSERT INTO analytics.rollup_state (timezone)
    SELECT analytics.org_timezone();

-- The rollups are expanded along the unit tree: an event of a village adds
-- to the rows of the village, its township and the district, so every view
-- reads the rows of one unit_code and adds nothing up at query time.  The
-- measure columns hold the sums of the attribute of the same name (people:
-- people_paired.count); events is how many current events.  Keys use the C
-- collation (fast to sort and hash; they are codes).  The small, hot tables
-- leave room on each page so that an update can stay on it (HOT); the big
-- ones are packed, for the views that scan them.

-- Per unit subtree, month, type, variant and partner region.
CREATE TABLE analytics.rollup_month (
    unit_code           text COLLATE "C" NOT NULL,
    month               date NOT NULL,          -- first day, in the organisation's time zone
    type                text COLLATE "C" NOT NULL,
    variant             text COLLATE "C" NOT NULL,  -- '' when the type has no enum attribute
    partner_region      text COLLATE "C" NOT NULL,  -- '' when the events name no partner
    events              bigint NOT NULL,
    participants        bigint NOT NULL,
    delegates           bigint NOT NULL,
    cadres              bigint NOT NULL,
    days                bigint NOT NULL,
    people              bigint NOT NULL,
    amount_yuan         numeric NOT NULL,
    jobs                bigint NOT NULL,
    annual_output_yuan  numeric NOT NULL,
    students            bigint NOT NULL,
    attendees           bigint NOT NULL,
    deals               bigint NOT NULL,
    visitors            bigint NOT NULL,
    workers             bigint NOT NULL,
    instructors         bigint NOT NULL,
    advisers            bigint NOT NULL,
    reports             bigint NOT NULL,
    PRIMARY KEY (unit_code, month, type, variant, partner_region)
);

-- Per unit subtree, type, variant and partner region, all time.
CREATE TABLE analytics.rollup_total (
    unit_code           text COLLATE "C" NOT NULL,
    type                text COLLATE "C" NOT NULL,
    variant             text COLLATE "C" NOT NULL,
    partner_region      text COLLATE "C" NOT NULL,
    events              bigint NOT NULL,
    participants        bigint NOT NULL,
    delegates           bigint NOT NULL,
    cadres              bigint NOT NULL,
    days                bigint NOT NULL,
    people              bigint NOT NULL,
    amount_yuan         numeric NOT NULL,
    jobs                bigint NOT NULL,
    annual_output_yuan  numeric NOT NULL,
    students            bigint NOT NULL,
    attendees           bigint NOT NULL,
    deals               bigint NOT NULL,
    visitors            bigint NOT NULL,
    workers             bigint NOT NULL,
    instructors         bigint NOT NULL,
    advisers            bigint NOT NULL,
    reports             bigint NOT NULL,
    PRIMARY KEY (unit_code, type, variant, partner_region)
);

CREATE INDEX rollup_total_partner_idx ON analytics.rollup_total (unit_code, partner_region);

-- Per unit subtree, type and variant, all time.
CREATE TABLE analytics.rollup_type (
    unit_code           text COLLATE "C" NOT NULL,
    type                text COLLATE "C" NOT NULL,
    variant             text COLLATE "C" NOT NULL,
    events              bigint NOT NULL,
    participants        bigint NOT NULL,
    delegates           bigint NOT NULL,
    cadres              bigint NOT NULL,
    days                bigint NOT NULL,
    people              bigint NOT NULL,
    amount_yuan         numeric NOT NULL,
    jobs                bigint NOT NULL,
    annual_output_yuan  numeric NOT NULL,
    students            bigint NOT NULL,
    attendees           bigint NOT NULL,
    deals               bigint NOT NULL,
    visitors            bigint NOT NULL,
    workers             bigint NOT NULL,
    instructors         bigint NOT NULL,
    advisers            bigint NOT NULL,
    reports             bigint NOT NULL,
    PRIMARY KEY (unit_code, type, variant)
) WITH (fillfactor = 70);

-- Per unit subtree, month and partner group ('8', 'N', '' for none).
CREATE TABLE analytics.rollup_month_group (
    unit_code       text COLLATE "C" NOT NULL,
    month           date NOT NULL,
    partner_group   text COLLATE "C" NOT NULL,
    events          bigint NOT NULL,
    PRIMARY KEY (unit_code, month, partner_group)
) WITH (fillfactor = 70);

-- Per unit (its own events only), partner region and day (quiet pairings).
CREATE TABLE analytics.rollup_pair_day (
    unit_code       text COLLATE "C" NOT NULL,
    partner_region  text COLLATE "C" NOT NULL,  -- '' when the events name no partner
    day             date NOT NULL,
    events          bigint NOT NULL,
    PRIMARY KEY (unit_code, partner_region, day)
) WITH (fillfactor = 70);
CREATE INDEX rollup_pair_day_last_idx ON analytics.rollup_pair_day (unit_code, day);

-- Which event supersedes which, within a unit: a small copy of the
-- corrections among the events, which the trigger looks up for every event
-- it sees (faster than the partial index on every partition of events).
CREATE TABLE analytics.supersessions (
    unit_code   text NOT NULL,
    supersedes  uuid NOT NULL,              -- the event replaced or withdrawn
    event_id    uuid NOT NULL,              -- the correction or retraction
    PRIMARY KEY (unit_code, supersedes, event_id)
);

-- Maintains the rollups for the rows one INSERT or COPY stored.  Runs as
-- tongxin_admin, so the collector (which has no privileges on analytics)
-- can fire it.  Serialisation: a transaction-scoped advisory lock per unit
-- bucket, taken in order, so that two collectors storing an event and its
-- correction at the same time see each other's rows (the second waits for
-- the first to commit; READ COMMITTED gives its next statement a fresh
-- snapshot).  Rollup rows are upserted in key order.
CREATE FUNCTION analytics.events_inserted() RETURNS trigger
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
               c.sign * analytics.attr_int(c.attrs, 'participants') AS participants,
               c.sign * analytics.attr_int(c.attrs, 'delegates') AS delegates,
               c.sign * analytics.attr_int(c.attrs, 'cadres') AS cadres,
               c.sign * analytics.attr_int(c.attrs, 'days') AS days,
               c.sign * analytics.attr_int(c.attrs, 'count') AS people,
               c.sign * analytics.attr_num(c.attrs, 'amount_yuan') AS amount_yuan,
               c.sign * analytics.attr_int(c.attrs, 'jobs') AS jobs,
               c.sign * analytics.attr_num(c.attrs, 'annual_output_yuan') AS annual_output_yuan,
               c.sign * analytics.attr_int(c.attrs, 'students') AS students,
               c.sign * analytics.attr_int(c.attrs, 'attendees') AS attendees,
               c.sign * analytics.attr_int(c.attrs, 'deals') AS deals,
               c.sign * analytics.attr_int(c.attrs, 'visitors') AS visitors,
               c.sign * analytics.attr_int(c.attrs, 'workers') AS workers,
               c.sign * analytics.attr_int(c.attrs, 'instructors') AS instructors,
               c.sign * analytics.attr_int(c.attrs, 'advisers') AS advisers,
               c.sign * analytics.attr_int(c.attrs, 'reports') AS reports
          FROM chg c LEFT JOIN analytics.type_variants v ON v.type_code = c.type
    ), own AS (
        SELECT unit_code, date_trunc('month', day)::date AS month, type, variant, partner_region,
               sum(sign)::bigint AS events,
               coalesce(sum(participants), 0)::bigint AS participants,
               coalesce(sum(delegates), 0)::bigint AS delegates,
               coalesce(sum(cadres), 0)::bigint AS cadres,
               coalesce(sum(days), 0)::bigint AS days,
               coalesce(sum(people), 0)::bigint AS people,
               coalesce(sum(amount_yuan), 0) AS amount_yuan,
               coalesce(sum(jobs), 0)::bigint AS jobs,
               coalesce(sum(annual_output_yuan), 0) AS annual_output_yuan,
               coalesce(sum(students), 0)::bigint AS students,
               coalesce(sum(attendees), 0)::bigint AS attendees,
               coalesce(sum(deals), 0)::bigint AS deals,
               coalesce(sum(visitors), 0)::bigint AS visitors,
               coalesce(sum(workers), 0)::bigint AS workers,
               coalesce(sum(instructors), 0)::bigint AS instructors,
               coalesce(sum(advisers), 0)::bigint AS advisers,
               coalesce(sum(reports), 0)::bigint AS reports
          FROM d
         GROUP BY 1, 2, 3, 4, 5
    ), mx AS MATERIALIZED (
        SELECT t.ancestor COLLATE "C" AS unit_code, o.month, o.type, o.variant, o.partner_region,
               sum(o.events)::bigint AS events,
               sum(o.participants)::bigint AS participants,
               sum(o.delegates)::bigint AS delegates,
               sum(o.cadres)::bigint AS cadres,
               sum(o.days)::bigint AS days,
               sum(o.people)::bigint AS people,
               sum(o.amount_yuan) AS amount_yuan,
               sum(o.jobs)::bigint AS jobs,
               sum(o.annual_output_yuan) AS annual_output_yuan,
               sum(o.students)::bigint AS students,
               sum(o.attendees)::bigint AS attendees,
               sum(o.deals)::bigint AS deals,
               sum(o.visitors)::bigint AS visitors,
               sum(o.workers)::bigint AS workers,
               sum(o.instructors)::bigint AS instructors,
               sum(o.advisers)::bigint AS advisers,
               sum(o.reports)::bigint AS reports
          FROM own o JOIN analytics.unit_tree t ON t.descendant = o.unit_code
         GROUP BY 1, 2, 3, 4, 5
    ), up_month AS (
        INSERT INTO analytics.rollup_month AS r
        SELECT * FROM mx ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (unit_code, month, type, variant, partner_region) DO UPDATE SET
               events = r.events + excluded.events,
               participants = r.participants + excluded.participants,
               delegates = r.delegates + excluded.delegates,
               cadres = r.cadres + excluded.cadres,
               days = r.days + excluded.days,
               people = r.people + excluded.people,
               amount_yuan = r.amount_yuan + excluded.amount_yuan,
               jobs = r.jobs + excluded.jobs,
               annual_output_yuan = r.annual_output_yuan + excluded.annual_output_yuan,
               students = r.students + excluded.students,
               attendees = r.attendees + excluded.attendees,
               deals = r.deals + excluded.deals,
               visitors = r.visitors + excluded.visitors,
               workers = r.workers + excluded.workers,
               instructors = r.instructors + excluded.instructors,
               advisers = r.advisers + excluded.advisers,
               reports = r.reports + excluded.reports
    ), up_total AS (
        INSERT INTO analytics.rollup_total AS r
        SELECT unit_code, type, variant, partner_region, sum(events),
               sum(participants)::bigint,
               sum(delegates)::bigint,
               sum(cadres)::bigint,
               sum(days)::bigint,
               sum(people)::bigint,
               sum(amount_yuan),
               sum(jobs)::bigint,
               sum(annual_output_yuan),
               sum(students)::bigint,
               sum(attendees)::bigint,
               sum(deals)::bigint,
               sum(visitors)::bigint,
               sum(workers)::bigint,
               sum(instructors)::bigint,
               sum(advisers)::bigint,
               sum(reports)::bigint
          FROM mx
         GROUP BY 1, 2, 3, 4
         ORDER BY 1, 2, 3, 4
        ON CONFLICT (unit_code, type, variant, partner_region) DO UPDATE SET
               events = r.events + excluded.events,
               participants = r.participants + excluded.participants,
               delegates = r.delegates + excluded.delegates,
               cadres = r.cadres + excluded.cadres,
               days = r.days + excluded.days,
               people = r.people + excluded.people,
               amount_yuan = r.amount_yuan + excluded.amount_yuan,
               jobs = r.jobs + excluded.jobs,
               annual_output_yuan = r.annual_output_yuan + excluded.annual_output_yuan,
               students = r.students + excluded.students,
               attendees = r.attendees + excluded.attendees,
               deals = r.deals + excluded.deals,
               visitors = r.visitors + excluded.visitors,
               workers = r.workers + excluded.workers,
               instructors = r.instructors + excluded.instructors,
               advisers = r.advisers + excluded.advisers,
               reports = r.reports + excluded.reports
    ), up_type AS (
        INSERT INTO analytics.rollup_type AS r
        SELECT unit_code, type, variant, sum(events),
               sum(participants)::bigint,
               sum(delegates)::bigint,
               sum(cadres)::bigint,
               sum(days)::bigint,
               sum(people)::bigint,
               sum(amount_yuan),
               sum(jobs)::bigint,
               sum(annual_output_yuan),
               sum(students)::bigint,
               sum(attendees)::bigint,
               sum(deals)::bigint,
               sum(visitors)::bigint,
               sum(workers)::bigint,
               sum(instructors)::bigint,
               sum(advisers)::bigint,
               sum(reports)::bigint
          FROM mx
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (unit_code, type, variant) DO UPDATE SET
               events = r.events + excluded.events,
               participants = r.participants + excluded.participants,
               delegates = r.delegates + excluded.delegates,
               cadres = r.cadres + excluded.cadres,
               days = r.days + excluded.days,
               people = r.people + excluded.people,
               amount_yuan = r.amount_yuan + excluded.amount_yuan,
               jobs = r.jobs + excluded.jobs,
               annual_output_yuan = r.annual_output_yuan + excluded.annual_output_yuan,
               students = r.students + excluded.students,
               attendees = r.attendees + excluded.attendees,
               deals = r.deals + excluded.deals,
               visitors = r.visitors + excluded.visitors,
               workers = r.workers + excluded.workers,
               instructors = r.instructors + excluded.instructors,
               advisers = r.advisers + excluded.advisers,
               reports = r.reports + excluded.reports
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
$$;
REVOKE ALL ON FUNCTION analytics.events_inserted() FROM PUBLIC;

CREATE TRIGGER events_rollup AFTER INSERT ON tongxin.events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION analytics.events_inserted();

-- Events are append-only for the collector; a change made by hand marks the
-- rollups stale (analytics.rollup_status) until rebuild_rollups() is run.
CREATE FUNCTION analytics.events_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE analytics.rollup_state SET stale = true WHERE NOT stale;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION analytics.events_changed() FROM PUBLIC;
CREATE TRIGGER events_rollup_stale AFTER UPDATE OR DELETE OR TRUNCATE ON tongxin.events
    FOR EACH STATEMENT EXECUTE FUNCTION analytics.events_changed();

-- ------------------------------------------------------------------ row-level views

-- Every stored event, with what became of it.
CREATE VIEW analytics.events_as_reported AS
SELECT e.event_id, e.unit_code, e.type, e.occurred_at,
       (e.occurred_at AT TIME ZONE z.tz)::date AS day,
       date_trunc('month', e.occurred_at AT TIME ZONE z.tz)::date AS month,
       e.partner_region, e.attrs, e.sender, e.received_at, e.supersedes,
       s.superseded_by,
       CASE WHEN e.type = 'retraction' THEN 'retraction'
            WHEN s.retracted THEN 'retracted'
            WHEN s.superseded_by IS NOT NULL THEN 'superseded'
            ELSE 'current' END AS status,
       (e.type <> 'retraction' AND s.superseded_by IS NULL) AS counted
  FROM tongxin.events e
 CROSS JOIN (SELECT analytics.org_timezone() AS tz) z
  LEFT JOIN (SELECT f.unit_code, f.supersedes,
                    (array_agg(f.event_id ORDER BY f.event_id DESC))[1] AS superseded_by,
                    bool_or(f.type = 'retraction') AS retracted
               FROM tongxin.events f
              WHERE f.supersedes IS NOT NULL
              GROUP BY f.unit_code, f.supersedes) s
         ON s.unit_code = e.unit_code AND s.supersedes = e.event_id;

-- The events that count: no retractions, nothing superseded.
CREATE VIEW analytics.events_current AS
SELECT e.event_id, e.unit_code, e.type, e.occurred_at,
       (e.occurred_at AT TIME ZONE z.tz)::date AS day,
       date_trunc('month', e.occurred_at AT TIME ZONE z.tz)::date AS month,
       e.partner_region, e.attrs, e.sender, e.received_at, e.supersedes
  FROM tongxin.events e
 CROSS JOIN (SELECT analytics.org_timezone() AS tz) z
 WHERE e.type <> 'retraction'
   AND NOT EXISTS (SELECT 1 FROM tongxin.events f
                    WHERE f.supersedes IS NOT NULL
                      AND f.supersedes = e.event_id AND f.unit_code = e.unit_code);

-- The current events with the figures the rollups sum: the reference that
-- the rollups must equal, and what rebuild_rollups() aggregates.
CREATE VIEW analytics.event_facts AS
SELECT c.event_id, c.unit_code, c.type, coalesce(c.attrs ->> v.attr, '') AS variant,
       c.occurred_at, c.day, c.month, c.partner_region,
       analytics.attr_int(c.attrs, 'participants') AS participants,
       analytics.attr_int(c.attrs, 'delegates') AS delegates,
       analytics.attr_int(c.attrs, 'cadres') AS cadres,
       analytics.attr_int(c.attrs, 'days') AS days,
       analytics.attr_int(c.attrs, 'count') AS people,
       analytics.attr_num(c.attrs, 'amount_yuan') AS amount_yuan,
       analytics.attr_int(c.attrs, 'jobs') AS jobs,
       analytics.attr_num(c.attrs, 'annual_output_yuan') AS annual_output_yuan,
       analytics.attr_int(c.attrs, 'students') AS students,
       analytics.attr_int(c.attrs, 'attendees') AS attendees,
       analytics.attr_int(c.attrs, 'deals') AS deals,
       analytics.attr_int(c.attrs, 'visitors') AS visitors,
       analytics.attr_int(c.attrs, 'workers') AS workers,
       analytics.attr_int(c.attrs, 'instructors') AS instructors,
       analytics.attr_int(c.attrs, 'advisers') AS advisers,
       analytics.attr_int(c.attrs, 'reports') AS reports
  FROM analytics.events_current c
  LEFT JOIN analytics.type_variants v ON v.type_code = c.type;

-- ------------------------------------------------------------------ rebuild

-- Recompute the rollups from the events, in the zone of tongxin.settings.
-- Run it after changing the time zone, or when rollup_status says stale.
-- Readers of the rollups and the collector's inserts wait while it runs
-- (nothing is lost).  Returns the number of current events.
CREATE FUNCTION analytics.rebuild_rollups() RETURNS bigint
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
    SELECT t.ancestor, o.month, o.type, o.variant, o.partner_region, sum(o.events),
           sum(o.participants),
           sum(o.delegates),
           sum(o.cadres),
           sum(o.days),
           sum(o.people),
           sum(o.amount_yuan),
           sum(o.jobs),
           sum(o.annual_output_yuan),
           sum(o.students),
           sum(o.attendees),
           sum(o.deals),
           sum(o.visitors),
           sum(o.workers),
           sum(o.instructors),
           sum(o.advisers),
           sum(o.reports)
      FROM (SELECT unit_code COLLATE "C" AS unit_code, month, type COLLATE "C" AS type,
                   variant COLLATE "C" AS variant,
                   coalesce(partner_region, '') COLLATE "C" AS partner_region, count(*) AS events,
                   coalesce(sum(participants), 0) AS participants,
                   coalesce(sum(delegates), 0) AS delegates,
                   coalesce(sum(cadres), 0) AS cadres,
                   coalesce(sum(days), 0) AS days,
                   coalesce(sum(people), 0) AS people,
                   coalesce(sum(amount_yuan), 0) AS amount_yuan,
                   coalesce(sum(jobs), 0) AS jobs,
                   coalesce(sum(annual_output_yuan), 0) AS annual_output_yuan,
                   coalesce(sum(students), 0) AS students,
                   coalesce(sum(attendees), 0) AS attendees,
                   coalesce(sum(deals), 0) AS deals,
                   coalesce(sum(visitors), 0) AS visitors,
                   coalesce(sum(workers), 0) AS workers,
                   coalesce(sum(instructors), 0) AS instructors,
                   coalesce(sum(advisers), 0) AS advisers,
                   coalesce(sum(reports), 0) AS reports
              FROM analytics.event_facts
             GROUP BY 1, 2, 3, 4, 5) o
      JOIN analytics.unit_tree t ON t.descendant = o.unit_code
     GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO analytics.rollup_total
    SELECT unit_code, type, variant, partner_region, sum(events),
           sum(participants),
           sum(delegates),
           sum(cadres),
           sum(days),
           sum(people),
           sum(amount_yuan),
           sum(jobs),
           sum(annual_output_yuan),
           sum(students),
           sum(attendees),
           sum(deals),
           sum(visitors),
           sum(workers),
           sum(instructors),
           sum(advisers),
           sum(reports)
      FROM analytics.rollup_month
     GROUP BY 1, 2, 3, 4;
    INSERT INTO analytics.rollup_type
    SELECT unit_code, type, variant, sum(events),
           sum(participants),
           sum(delegates),
           sum(cadres),
           sum(days),
           sum(people),
           sum(amount_yuan),
           sum(jobs),
           sum(annual_output_yuan),
           sum(students),
           sum(attendees),
           sum(deals),
           sum(visitors),
           sum(workers),
           sum(instructors),
           sum(advisers),
           sum(reports)
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
$$;
REVOKE ALL ON FUNCTION analytics.rebuild_rollups() FROM PUBLIC;

-- ------------------------------------------------------------------ reference views

CREATE VIEW analytics.regions AS
SELECT r.code AS region_code, r.name, r.name_en, r.level, r.province_code,
       p.name AS province_name, p.name_en AS province_name_en, r.grp AS partner_group
  FROM tongxin.regions r
  LEFT JOIN tongxin.regions p ON p.code = r.province_code || '0000';

CREATE VIEW analytics.event_types AS
SELECT code AS type_code, description, partner_required FROM tongxin.event_types;

CREATE VIEW analytics.targets AS
SELECT category, target, description FROM tongxin.targets;

CREATE VIEW analytics.units AS
SELECT u.code AS unit_code, u.name, u.kind, u.parent_code, u.active,
       a.depth, a.path, d.descendants
  FROM tongxin.units u
  LEFT JOIN (SELECT descendant, max(depth) AS depth,
                    array_agg(ancestor ORDER BY depth DESC) AS path
               FROM analytics.unit_tree GROUP BY descendant) a ON a.descendant = u.code
  LEFT JOIN (SELECT ancestor, count(*) - 1 AS descendants
               FROM analytics.unit_tree GROUP BY ancestor) d ON d.ancestor = u.code;

CREATE VIEW analytics.rollup_status AS
SELECT s.timezone, analytics.org_timezone() AS settings_timezone,
       (s.stale OR s.timezone <> analytics.org_timezone()) AS stale,
       s.rebuilt_at
  FROM analytics.rollup_state s;

-- ------------------------------------------------------------------ activity

-- In every view below, unit_code names a subtree: the figures count the
-- unit's own events and those of every unit under it.

CREATE VIEW analytics.activity_monthly AS
SELECT r.unit_code, r.month, r.type, nullif(r.variant, '') AS variant,
       nullif(r.partner_region, '') AS partner_region,
       g.province_code AS partner_province, g.grp AS partner_group,
       r.events, r.participants, r.delegates, r.cadres, r.days, r.people, r.amount_yuan, r.jobs, r.annual_output_yuan, r.students, r.attendees, r.deals, r.visitors, r.workers, r.instructors, r.advisers, r.reports
  FROM analytics.rollup_month r
  LEFT JOIN tongxin.regions g ON g.code = r.partner_region
 WHERE r.events > 0;

CREATE VIEW analytics.activity_by_month AS
SELECT unit_code, month,
       sum(events)::bigint AS events,
       coalesce(sum(events) FILTER (WHERE partner_group = '8'), 0)::bigint AS events_8,
       coalesce(sum(events) FILTER (WHERE partner_group = 'N'), 0)::bigint AS events_n,
       coalesce(sum(events) FILTER (WHERE partner_group = ''), 0)::bigint AS events_no_partner
  FROM analytics.rollup_month_group
 GROUP BY unit_code, month
HAVING sum(events) > 0;

CREATE VIEW analytics.activity_by_type AS
SELECT r.unit_code, r.type, et.description, r.events, r.participants, r.delegates, r.cadres, r.days, r.people, r.amount_yuan, r.jobs, r.annual_output_yuan, r.students, r.attendees, r.deals, r.visitors, r.workers, r.instructors, r.advisers, r.reports
  FROM (SELECT unit_code, type, sum(events)::bigint AS events,
               sum(participants)::bigint AS participants,
               sum(delegates)::bigint AS delegates,
               sum(cadres)::bigint AS cadres,
               sum(days)::bigint AS days,
               sum(people)::bigint AS people,
               sum(amount_yuan) AS amount_yuan,
               sum(jobs)::bigint AS jobs,
               sum(annual_output_yuan) AS annual_output_yuan,
               sum(students)::bigint AS students,
               sum(attendees)::bigint AS attendees,
               sum(deals)::bigint AS deals,
               sum(visitors)::bigint AS visitors,
               sum(workers)::bigint AS workers,
               sum(instructors)::bigint AS instructors,
               sum(advisers)::bigint AS advisers,
               sum(reports)::bigint AS reports
          FROM analytics.rollup_type GROUP BY 1, 2) r
  LEFT JOIN tongxin.event_types et ON et.code = r.type
 WHERE r.events > 0;

CREATE VIEW analytics.activity_by_partner AS
SELECT r.unit_code, r.partner_region, g.name AS region_name, g.name_en AS region_name_en,
       g.province_code, g.province_name, g.partner_group, r.events
  FROM (SELECT unit_code, partner_region, sum(events)::bigint AS events
          FROM analytics.rollup_total WHERE partner_region <> '' GROUP BY 1, 2) r
  LEFT JOIN analytics.regions g ON g.region_code = r.partner_region
 WHERE r.events > 0;

-- Per unit: the events of its subtree, and its own (the subtree's minus
-- its children's subtrees').
CREATE VIEW analytics.unit_events AS
WITH tot AS (
    SELECT unit_code, sum(events)::bigint AS events FROM analytics.rollup_type GROUP BY 1
)
SELECT u.code AS unit_code, coalesce(tot.events, 0) AS events,
       coalesce(tot.events, 0) - coalesce(ch.events, 0) AS own_events
  FROM tongxin.units u
  LEFT JOIN tot ON tot.unit_code = u.code
  LEFT JOIN (SELECT k.parent_code, sum(c.events)::bigint AS events
               FROM tongxin.units k JOIN tot c ON c.unit_code = k.code
              GROUP BY k.parent_code) ch ON ch.parent_code = u.code;

CREATE VIEW analytics.activity_by_unit AS
WITH months AS (
    SELECT unit_code, min(month) AS first_month, max(month) AS last_month
      FROM analytics.rollup_month_group WHERE events > 0 GROUP BY 1
), last AS (
    SELECT t.ancestor AS unit_code, max(l.day) AS last_day
      FROM analytics.unit_tree t
     CROSS JOIN LATERAL (SELECT d.day FROM analytics.rollup_pair_day d
                          WHERE d.unit_code = t.descendant AND d.events > 0
                          ORDER BY d.day DESC LIMIT 1) l
     GROUP BY 1
)
SELECT u.unit_code, u.name, u.kind, u.parent_code, u.depth,
       e.events, e.own_events, months.first_month, months.last_month, last.last_day
  FROM analytics.units u
  JOIN analytics.unit_events e ON e.unit_code = u.unit_code
  LEFT JOIN months ON months.unit_code = u.unit_code
  LEFT JOIN last ON last.unit_code = u.unit_code;

-- ------------------------------------------------------------------ targets

CREATE VIEW analytics.target_progress AS
SELECT u.code AS unit_code, tg.category, tg.description, tg.target,
       coalesce(r.people, 0)::bigint AS reached,
       greatest(tg.target - coalesce(r.people, 0), 0) AS remaining,
       round(100 * coalesce(r.people, 0) / tg.target, 1) AS percent
  FROM tongxin.units u
 CROSS JOIN tongxin.targets tg
  LEFT JOIN (SELECT unit_code, variant, sum(people) AS people
               FROM analytics.rollup_type WHERE type = 'people_paired'
              GROUP BY 1, 2) r ON r.unit_code = u.code AND r.variant = tg.category;

-- ------------------------------------------------------------------ pairings and coverage

-- One row per pairing (unit, partner region): registered with tongxin-admin,
-- reported by a pairing_signed event, or both.  unit_code is the pairing's
-- own unit; path lists it and its ancestors (filter a subtree with ANY(path)).
CREATE VIEW analytics.pairings AS
WITH reg AS (
    SELECT p.unit_code, p.region_code,
           string_agg(DISTINCT p.counterpart, '; ') AS counterpart,
           array_agg(DISTINCT f.field ORDER BY f.field) AS fields,
           min(p.since) AS since
      FROM tongxin.pairings p CROSS JOIN LATERAL unnest(p.fields) AS f (field)
     GROUP BY p.unit_code, p.region_code
), sig AS (
    SELECT unit_code, partner_region AS region_code, min(day) AS signed_on, count(*) AS agreements,
           (array_agg(attrs ->> 'counterpart' ORDER BY occurred_at DESC))[1] AS counterpart,
           (array_agg(attrs ->> 'fields' ORDER BY occurred_at DESC))[1] AS fields
      FROM analytics.events_current
     WHERE type = 'pairing_signed' AND partner_region IS NOT NULL
     GROUP BY unit_code, partner_region
), pr AS (
    SELECT coalesce(reg.unit_code, sig.unit_code) AS unit_code,
           coalesce(reg.region_code, sig.region_code) AS region_code,
           coalesce(reg.counterpart, sig.counterpart) AS counterpart,
           coalesce(reg.fields, (SELECT array_agg(trim(x) ORDER BY trim(x))
                                   FROM unnest(string_to_array(sig.fields, ',')) AS x
                                  WHERE trim(x) <> '')) AS fields,
           least(reg.since, sig.signed_on) AS since,
           CASE WHEN reg.unit_code IS NULL THEN 'event'
                WHEN sig.unit_code IS NULL THEN 'registry' ELSE 'both' END AS source,
           coalesce(sig.agreements, 0) AS agreements
      FROM reg FULL JOIN sig ON sig.unit_code = reg.unit_code AND sig.region_code = reg.region_code
)
SELECT pr.unit_code, u.name AS unit_name, u.kind AS unit_kind, u.path,
       pr.region_code, g.name AS region_name, g.name_en AS region_name_en,
       g.province_code, g.province_name, g.partner_group,
       pr.counterpart, pr.fields, pr.since, pr.source, pr.agreements
  FROM pr
  LEFT JOIN analytics.units u ON u.unit_code = pr.unit_code
  LEFT JOIN analytics.regions g ON g.region_code = pr.region_code;

-- Each pairing with its activity: the current events of its unit and the
-- units under it whose partner lies in the pairing's region (a province
-- contains its prefectures and counties).  Quiet for N days: quiet_days >= N.
-- The query runs in a function only to switch JIT off: its plan looks
-- expensive to the planner, which would spend seconds compiling it.
CREATE FUNCTION analytics.pairing_activity_rows()
RETURNS TABLE (unit_code text, unit_name text, path text[], region_code text, region_name text,
               province_code text, province_name text, partner_group text, counterpart text,
               since date, events bigint, last_event_day date, quiet_days int)
LANGUAGE sql STABLE SET jit = off AS $$
SELECT p.unit_code, p.unit_name, p.path, p.region_code, p.region_name, p.province_code,
       p.province_name, p.partner_group, p.counterpart, p.since,
       coalesce(e.events, 0), l.last_event_day,
       (now() AT TIME ZONE analytics.org_timezone())::date - coalesce(l.last_event_day, p.since)
  FROM analytics.pairings p
 CROSS JOIN LATERAL (SELECT analytics.region_prefix(p.region_code) COLLATE "C" AS lo,
                            (analytics.region_prefix(p.region_code) || ':') COLLATE "C" AS hi) k
  LEFT JOIN LATERAL (SELECT sum(r.events)::bigint AS events
                       FROM analytics.rollup_total r
                      WHERE r.unit_code = p.unit_code
                        AND r.partner_region >= k.lo AND r.partner_region < k.hi) e ON true
  LEFT JOIN LATERAL (SELECT max(l1.day) AS last_event_day
                       FROM analytics.unit_tree t
                      CROSS JOIN LATERAL (SELECT DISTINCT r.partner_region
                                            FROM analytics.rollup_total r
                                           WHERE r.unit_code = t.descendant AND r.events > 0
                                             AND r.partner_region >= k.lo
                                             AND r.partner_region < k.hi) pr
                      CROSS JOIN LATERAL (SELECT d.day FROM analytics.rollup_pair_day d
                                           WHERE d.unit_code = t.descendant
                                             AND d.partner_region = pr.partner_region AND d.events > 0
                                           ORDER BY d.day DESC LIMIT 1) l1
                      WHERE t.ancestor = p.unit_code) l ON true
$$;

CREATE VIEW analytics.pairing_activity AS
SELECT * FROM analytics.pairing_activity_rows();

CREATE VIEW analytics.pairing_coverage AS
SELECT u.code AS unit_code, n.units,
       coalesce(a.paired_units, 0) AS paired_units,
       coalesce(a.paired_units_8, 0) AS paired_units_8,
       coalesce(a.paired_units_n, 0) AS paired_units_n,
       coalesce(a.pairings, 0) AS pairings,
       coalesce(a.partner_regions, 0) AS partner_regions,
       coalesce(a.provinces, 0) AS provinces,
       coalesce(a.provinces_8, 0) AS provinces_8,
       coalesce(a.provinces_n, 0) AS provinces_n,
       ARRAY(SELECT g.name FROM analytics.regions g
              WHERE g.level = 'province' AND g.partner_group = '8'
                AND g.province_code <> ALL (coalesce(a.covered, '{}'))
              ORDER BY g.region_code) AS missing_8
  FROM tongxin.units u
  JOIN (SELECT ancestor, count(*) AS units FROM analytics.unit_tree GROUP BY 1) n
    ON n.ancestor = u.code
  LEFT JOIN (
    SELECT t.ancestor,
           count(DISTINCT p.unit_code) AS paired_units,
           count(DISTINCT p.unit_code) FILTER (WHERE p.partner_group = '8') AS paired_units_8,
           count(DISTINCT p.unit_code) FILTER (WHERE p.partner_group = 'N') AS paired_units_n,
           count(*) AS pairings,
           count(DISTINCT p.region_code) AS partner_regions,
           count(DISTINCT p.province_code) AS provinces,
           count(DISTINCT p.province_code) FILTER (WHERE p.partner_group = '8') AS provinces_8,
           count(DISTINCT p.province_code) FILTER (WHERE p.partner_group = 'N') AS provinces_n,
           array_agg(DISTINCT p.province_code) AS covered
      FROM analytics.pairings p
      JOIN analytics.unit_tree t ON t.descendant = p.unit_code
     GROUP BY t.ancestor) a ON a.ancestor = u.code;

-- Units of each kind in a subtree: how many, how many have a pairing, how
-- many reported events that count.
CREATE VIEW analytics.coverage_by_kind AS
SELECT t.ancestor AS unit_code, u.kind,
       count(*) AS units,
       count(*) FILTER (WHERE p.unit_code IS NOT NULL) AS paired_units,
       count(*) FILTER (WHERE a.own_events > 0) AS reporting_units
  FROM analytics.unit_tree t
  JOIN tongxin.units u ON u.code = t.descendant
  LEFT JOIN (SELECT DISTINCT unit_code FROM analytics.pairings) p ON p.unit_code = t.descendant
  LEFT JOIN analytics.unit_events a ON a.unit_code = t.descendant
 GROUP BY t.ancestor, u.kind;

-- All 31 provinces for every subtree: its pairings and partnered events there.
CREATE VIEW analytics.province_coverage AS
WITH pc AS (
    SELECT t.ancestor, p.province_code, count(*) AS pairings,
           count(DISTINCT p.unit_code) AS paired_units
      FROM analytics.pairings p
      JOIN analytics.unit_tree t ON t.descendant = p.unit_code
     GROUP BY t.ancestor, p.province_code
), ev AS (
    SELECT unit_code, left(partner_region, 2) AS province_code, sum(events)::bigint AS events
      FROM analytics.rollup_total WHERE partner_region <> '' GROUP BY 1, 2
)
SELECT u.code AS unit_code, g.province_code, g.name AS province_name,
       g.name_en AS province_name_en, g.partner_group,
       coalesce(pc.pairings, 0) AS pairings, coalesce(pc.paired_units, 0) AS paired_units,
       coalesce(ev.events, 0) AS events
  FROM tongxin.units u
 CROSS JOIN analytics.regions g
  LEFT JOIN pc ON pc.ancestor = u.code AND pc.province_code = g.province_code
  LEFT JOIN ev ON ev.unit_code = u.code AND ev.province_code = g.province_code
 WHERE g.level = 'province';

-- ------------------------------------------------------------------ outcomes

CREATE VIEW analytics.economic_outcomes AS
SELECT r.unit_code, nullif(r.partner_region, '') AS partner_region, g.name AS region_name,
       g.province_code, g.province_name, g.partner_group,
       r.investments, r.amount_yuan, r.jobs, r.annual_output_yuan
  FROM (SELECT unit_code, partner_region, sum(events)::bigint AS investments,
               sum(amount_yuan) AS amount_yuan, sum(jobs)::bigint AS jobs,
               sum(annual_output_yuan) AS annual_output_yuan
          FROM analytics.rollup_total WHERE type = 'investment' GROUP BY 1, 2) r
  LEFT JOIN analytics.regions g ON g.region_code = r.partner_region
 WHERE r.investments > 0;

CREATE VIEW analytics.donations_aid AS
SELECT r.unit_code, nullif(r.partner_region, '') AS partner_region, g.name AS region_name,
       g.province_code, g.province_name, g.partner_group,
       r.donations, r.donation_yuan, r.aid_events, r.aid_students
  FROM (SELECT unit_code, partner_region,
               coalesce(sum(events) FILTER (WHERE type = 'donation'), 0)::bigint AS donations,
               coalesce(sum(amount_yuan) FILTER (WHERE type = 'donation'), 0) AS donation_yuan,
               coalesce(sum(events) FILTER (WHERE type = 'student_aid'), 0)::bigint AS aid_events,
               coalesce(sum(students) FILTER (WHERE type = 'student_aid'), 0)::bigint AS aid_students
          FROM analytics.rollup_total WHERE type IN ('donation', 'student_aid')
         GROUP BY 1, 2) r
  LEFT JOIN analytics.regions g ON g.region_code = r.partner_region
 WHERE r.donations + r.aid_events > 0;

-- ------------------------------------------------------------------ one row per unit

-- Per unit subtree, type and variant: every count and sum, all time.
CREATE VIEW analytics.type_totals AS
SELECT unit_code, type, nullif(variant, '') AS variant, events,
       participants, delegates, cadres, days, people, amount_yuan, jobs, annual_output_yuan, students, attendees, deals, visitors, workers, instructors, advisers, reports
  FROM analytics.rollup_type
 WHERE events > 0;

CREATE VIEW analytics.gig_services AS
SELECT u.code AS unit_code,
       coalesce(sum(x.events) FILTER (WHERE x.type = 'station_opened'), 0)::bigint AS stations,
       coalesce(sum(x.events) FILTER (WHERE x.type = 'station_opened' AND x.variant = 'health_station'), 0)::bigint AS health_stations,
       coalesce(sum(x.events) FILTER (WHERE x.type = 'station_opened' AND x.variant = 'rider_home'), 0)::bigint AS rider_homes,
       coalesce(sum(x.events) FILTER (WHERE x.type = 'station_opened' AND x.variant = 'outdoor_station'), 0)::bigint AS outdoor_stations,
       coalesce(sum(x.events) FILTER (WHERE x.type = 'workers_served'), 0)::bigint AS service_events,
       coalesce(sum(x.workers) FILTER (WHERE x.type = 'workers_served'), 0)::bigint AS workers_served
  FROM tongxin.units u
  LEFT JOIN analytics.rollup_type x
         ON x.unit_code = u.code AND x.type IN ('station_opened', 'workers_served')
 GROUP BY u.code;

CREATE VIEW analytics.governance AS
SELECT u.code AS unit_code,
       coalesce(sum(x.instructors) FILTER (WHERE x.type = 'instructor_dispatched'), 0)::bigint AS instructors,
       coalesce(sum(x.events) FILTER (WHERE x.type = 'party_org_founded'), 0)::bigint AS party_orgs_founded,
       coalesce(sum(x.advisers) FILTER (WHERE x.type = 'lane_adviser_enrolled'), 0)::bigint AS lane_advisers,
       coalesce(sum(x.events) FILTER (WHERE x.type = 'governance_activity'), 0)::bigint AS governance_activities,
       coalesce(sum(x.participants) FILTER (WHERE x.type = 'governance_activity'), 0)::bigint AS governance_participants,
       coalesce(sum(x.reports) FILTER (WHERE x.type = 'governance_report'), 0)::bigint AS governance_reports
  FROM tongxin.units u
  LEFT JOIN analytics.rollup_type x
         ON x.unit_code = u.code
        AND x.type IN ('instructor_dispatched', 'party_org_founded', 'lane_adviser_enrolled',
                       'governance_activity', 'governance_report')
 GROUP BY u.code;

-- The figures the article reports, one row per unit subtree.
CREATE VIEW analytics.summary AS
SELECT u.unit_code, u.name, u.kind,
       c.units, c.paired_units, c.provinces, c.provinces_8, c.provinces_n,
       coalesce(x.events, 0) AS events,
       coalesce(x.cadres_paired, 0) AS cadres_paired,
       coalesce(x.students_paired, 0) AS students_paired,
       coalesce(x.residents_paired, 0) AS residents_paired,
       coalesce(x.investment_yuan, 0) AS investment_yuan,
       coalesce(x.jobs, 0) AS jobs,
       coalesce(x.annual_output_yuan, 0) AS annual_output_yuan,
       coalesce(x.donation_yuan, 0) AS donation_yuan,
       coalesce(x.aid_students, 0) AS aid_students,
       coalesce(x.instructors, 0) AS instructors,
       coalesce(x.party_orgs_founded, 0) AS party_orgs_founded,
       coalesce(x.health_stations, 0) AS health_stations,
       coalesce(x.rider_homes, 0) AS rider_homes,
       coalesce(x.outdoor_stations, 0) AS outdoor_stations,
       coalesce(x.workers_served, 0) AS workers_served,
       coalesce(x.lane_advisers, 0) AS lane_advisers,
       coalesce(x.governance_activities, 0) AS governance_activities,
       coalesce(x.governance_reports, 0) AS governance_reports
  FROM analytics.units u
  JOIN analytics.pairing_coverage c ON c.unit_code = u.unit_code
  LEFT JOIN (
    SELECT unit_code,
           sum(events)::bigint AS events,
           sum(people) FILTER (WHERE type = 'people_paired' AND variant = 'cadre')::bigint AS cadres_paired,
           sum(people) FILTER (WHERE type = 'people_paired' AND variant = 'student')::bigint AS students_paired,
           sum(people) FILTER (WHERE type = 'people_paired' AND variant = 'resident')::bigint AS residents_paired,
           sum(amount_yuan) FILTER (WHERE type = 'investment') AS investment_yuan,
           sum(jobs) FILTER (WHERE type = 'investment')::bigint AS jobs,
           sum(annual_output_yuan) FILTER (WHERE type = 'investment') AS annual_output_yuan,
           sum(amount_yuan) FILTER (WHERE type = 'donation') AS donation_yuan,
           sum(students) FILTER (WHERE type = 'student_aid')::bigint AS aid_students,
           sum(instructors) FILTER (WHERE type = 'instructor_dispatched')::bigint AS instructors,
           sum(events) FILTER (WHERE type = 'party_org_founded')::bigint AS party_orgs_founded,
           sum(events) FILTER (WHERE type = 'station_opened' AND variant = 'health_station')::bigint AS health_stations,
           sum(events) FILTER (WHERE type = 'station_opened' AND variant = 'rider_home')::bigint AS rider_homes,
           sum(events) FILTER (WHERE type = 'station_opened' AND variant = 'outdoor_station')::bigint AS outdoor_stations,
           sum(workers) FILTER (WHERE type = 'workers_served')::bigint AS workers_served,
           sum(advisers) FILTER (WHERE type = 'lane_adviser_enrolled')::bigint AS lane_advisers,
           sum(events) FILTER (WHERE type = 'governance_activity')::bigint AS governance_activities,
           sum(reports) FILTER (WHERE type = 'governance_report')::bigint AS governance_reports
      FROM analytics.rollup_type
     GROUP BY unit_code) x ON x.unit_code = u.unit_code;

-- ------------------------------------------------------------------ privileges

GRANT SELECT ON analytics.type_variants, analytics.unit_tree, analytics.rollup_state,
                analytics.supersessions,
                analytics.rollup_month, analytics.rollup_total, analytics.rollup_type,
                analytics.rollup_month_group,
                analytics.rollup_pair_day,
                analytics.events_as_reported, analytics.events_current, analytics.event_facts,
                analytics.regions, analytics.event_types, analytics.targets, analytics.units,
                analytics.rollup_status,
                analytics.activity_monthly, analytics.activity_by_month, analytics.activity_by_type,
                analytics.activity_by_partner, analytics.activity_by_unit, analytics.unit_events,
                analytics.target_progress, analytics.pairings, analytics.pairing_activity,
                analytics.pairing_coverage, analytics.coverage_by_kind, analytics.province_coverage,
                analytics.economic_outcomes, analytics.donations_aid, analytics.type_totals,
                analytics.gig_services, analytics.governance, analytics.summary
    TO tongxin_analyst;

-- Build what a database already at version 3 holds.
SELECT analytics.refresh_unit_tree();
SELECT analytics.rebuild_rollups();
