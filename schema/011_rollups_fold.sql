-- 011_rollups_fold: the rollups folded in bulk from a queue of stored
-- events, instead of by every INSERT or COPY as it stores them.
--
-- Until 010 the statement trigger on tongxin.events added each statement's
-- rows to the rollups, expanded along the unit tree, under a lock per unit
-- bucket: 80-100 us of work an event in the collector's transaction, and
-- two collectors storing events of the same units waited for each other's
-- rollup rows.  From here on:
--
-- 1. The delta source is a queue.  The trigger only appends each stored
--    event to analytics.rollup_queue (its key, the storing transaction's
--    start, and the columns the rollups read): one heap row, no index, no
--    lock but the table's ROW EXCLUSIVE.  The queue row commits or rolls
--    back with its event.
-- 2. analytics.fold_rollups() claims the queue with one
--    DELETE ... RETURNING and adds the claimed events to the rollups with
--    one GROUP BY and one upsert per rollup table, all in one statement,
--    so the cost per event falls as the fold grows (up to a point: the
--    collector claims 20,000 at a time).
--    Watermark: there is none to get wrong.  A fold claims queue rows its
--    snapshot sees (all, or the first lim), which are rows of transactions
--    committed before it; a transaction that commits after the fold began
--    (however old its events' ids or times) leaves its rows in the queue
--    for the next fold.  Nothing is skipped because it committed "late",
--    and nothing is claimed twice: one fold at a time (an advisory lock,
--    29817), and a claimed row is gone.  rollup_status.folded_through is
--    when the last fold that claimed everything it saw took its snapshot:
--    every event committed before it is in the rollups.
-- 3. Corrections and retractions subtract what they replace, as before,
--    with "already counted" meaning "folded": an event whose row is in
--    tongxin.events but not in the queue (in the fold's one snapshot an
--    event and its queue row are both visible or neither; the queue as
--    that snapshot sees it, the rows being claimed included).  The fold adds
--    a claimed event unless a folded or claimed event supersedes it; it
--    subtracts a folded event that a claimed one supersedes and that no
--    folded one did.  analytics.supersessions lists the folded events'
--    corrections only.
-- 4. A rebuild and a fold never double-count: rebuild_rollups() takes the
--    queue and the rollup tables in ACCESS EXCLUSIVE mode (a fold holds
--    ROW EXCLUSIVE on them, in the same order, so one waits for the
--    other), then empties the queue and recomputes from the events its
--    snapshot sees: exactly the events whose queue rows it emptied.  A
--    collector's transaction still running meanwhile waits for the queue
--    lock in its trigger, so its rows land in the queue after the rebuild.
-- 5. Who folds: each collector, every fold-ms (default 1000) on its own
--    connection (tongxin.fold_rollups(), the one function of the rollups
--    it may run; 20,000 events a fold, again at once while more wait),
--    giving up at once when another fold runs (the next one
--    takes its rows); `tongxin-admin rollups fold` (waits for its turn).
--    A session that did not ask for the queue (SET tongxin.rollups =
--    'queue', which the collector does) folds in the storing statement
--    itself, so that events stored by hand, by `tongxin-admin rejected
--    replay` or by a test count at once, as before.
-- 6. Freshness: analytics.rollup_status gains queued (events stored and
--    not yet in the rollups), oldest_queued_at, folded_through and lag_s.
--
-- Distributed by unit_code (docs/scaling.md, Citus): the queue would be
-- distributed by unit_code like events, so a fold's claim and join are
-- co-located per shard; see docs/architecture.md, "Rollups", for what
-- changes there (the ancestors' rows).

SET LOCAL ROLE tongxin_admin;

CREATE TABLE analytics.rollup_queue (
    event_id        uuid NOT NULL,
    unit_code       text NOT NULL,
    queued_at       timestamptz NOT NULL,   -- start of the transaction that stored it
    -- What the fold reads of the event, copied so that it need not look
    -- each one up in tongxin.events (an index probe in every partition's
    -- plan: a fifth of the fold's time).
    type            text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    partner_region  text,
    attrs           jsonb NOT NULL,
    supersedes      uuid
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000,
        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 20000);

ALTER TABLE analytics.rollup_state
    ADD COLUMN folded_through timestamptz,          -- every event committed before it is counted
    ADD COLUMN folds bigint NOT NULL DEFAULT 0,     -- folds that claimed at least one event
    ADD COLUMN folded_events bigint NOT NULL DEFAULT 0;
UPDATE analytics.rollup_state SET folded_through = now();

-- The trigger function: queue the keys, and fold at once unless the session
-- asked for the queue (the collector does: SET tongxin.rollups = 'queue').
CREATE OR REPLACE FUNCTION analytics.events_inserted_sql() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT $body$
CREATE OR REPLACE FUNCTION analytics.events_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO analytics.rollup_queue (event_id, unit_code, queued_at, type, occurred_at,
                                        partner_region, attrs, supersedes)
    SELECT event_id, unit_code, now(), type, occurred_at, partner_region, attrs, supersedes
      FROM new_events;
    IF FOUND AND coalesce(current_setting('tongxin.rollups', true), '') <> 'queue' THEN
        PERFORM analytics.fold_rollups(true);
    END IF;
    RETURN NULL;
END
$$
$body$
$f$;

-- fold_rollups(wait, lim): adds the queued events (at most lim; NULL: all)
-- to the rollups; the number of events claimed, or -1 when another fold
-- holds the turn and wait is false.
CREATE FUNCTION analytics.fold_rollups_sql() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT analytics.measure_expand($body$
CREATE OR REPLACE FUNCTION analytics.fold_rollups(wait boolean DEFAULT true, lim int DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET work_mem = '128MB' AS $$
DECLARE
    tz   text;
    t0   timestamptz;
    n    bigint;
BEGIN
    -- The tables first, in rebuild_rollups()'s order, then the turn.
    LOCK TABLE analytics.rollup_queue, analytics.supersessions, analytics.rollup_month,
               analytics.rollup_total, analytics.rollup_type, analytics.rollup_month_group,
               analytics.rollup_pair_day
         IN ROW EXCLUSIVE MODE;
    IF wait THEN
        PERFORM pg_advisory_xact_lock(29817);
    ELSIF NOT pg_try_advisory_xact_lock(29817) THEN
        RETURN -1;
    END IF;
    SELECT timezone INTO tz FROM analytics.rollup_state;
    t0 := clock_timestamp();

    -- One statement, one snapshot: the claimed rows (b) are queue rows it
    -- sees (all of them, or lim of them: a fold of tens of thousands costs
    -- less per event than one of hundreds of thousands, whose sorts and
    -- index writes leave the caches); an event it sees neither in b nor in
    -- the queue was folded before.
    WITH b AS (
        DELETE FROM analytics.rollup_queue
         WHERE ctid IN (SELECT ctid FROM analytics.rollup_queue LIMIT lim)
        RETURNING event_id, unit_code, type, occurred_at, partner_region, attrs, supersedes
    ), s AS MATERIALIZED (
        -- What the claimed corrections and retractions replace (few).
        SELECT DISTINCT unit_code, supersedes FROM b WHERE supersedes IS NOT NULL
    ), sup_new AS (
        INSERT INTO analytics.supersessions (unit_code, supersedes, event_id)
        SELECT unit_code, supersedes, event_id FROM b WHERE supersedes IS NOT NULL
        ON CONFLICT DO NOTHING
    ), chg AS (
        -- The claimed events that count: not retractions, not superseded by
        -- a folded or a claimed event (a correction may come first).
        SELECT n.unit_code, n.type, n.occurred_at, n.partner_region, n.attrs, 1 AS sign
          FROM b n
         WHERE n.type <> 'retraction'
           AND NOT EXISTS (SELECT 1 FROM analytics.supersessions f
                            WHERE f.unit_code = n.unit_code AND f.supersedes = n.event_id)
           AND NOT EXISTS (SELECT 1 FROM s
                            WHERE s.unit_code = n.unit_code AND s.supersedes = n.event_id)
        UNION ALL
        -- Folded events that claimed ones supersede and that counted until
        -- now: no folded event superseded them.
        SELECT o.unit_code, o.type, o.occurred_at, o.partner_region, o.attrs, -1
          FROM s
          JOIN tongxin.events o ON o.event_id = s.supersedes AND o.unit_code = s.unit_code
         WHERE o.type <> 'retraction'
           AND NOT EXISTS (SELECT 1 FROM b n
                            WHERE n.event_id = o.event_id AND n.unit_code = o.unit_code)
           AND NOT EXISTS (SELECT 1 FROM analytics.rollup_queue w
                            WHERE w.event_id = o.event_id AND w.unit_code = o.unit_code)
           AND NOT EXISTS (SELECT 1 FROM analytics.supersessions f
                            WHERE f.unit_code = o.unit_code AND f.supersedes = o.event_id)
    ), d AS MATERIALIZED (
        -- One row per event with its figures, in the rollups' time zone.
        SELECT c.unit_code COLLATE "C" AS unit_code, c.type COLLATE "C" AS type,
               coalesce(c.attrs ->> v.attr, '') COLLATE "C" AS variant,
               coalesce(c.partner_region, '') COLLATE "C" AS partner_region,
               (c.occurred_at AT TIME ZONE tz)::date AS day, c.sign,
               {c.sign * %3$s(c.attrs, %2$L) AS %1$I}
          FROM chg c LEFT JOIN analytics.type_variants v ON v.type_code = c.type
    ), mx AS MATERIALIZED (
        -- Expanded along the tree and grouped once: few events of a fold
        -- share a row of their own unit, so a first grouping by unit
        -- would cost more than it saves.
        SELECT t.ancestor COLLATE "C" AS unit_code, date_trunc('month', d.day)::date AS month,
               d.type, d.variant, d.partner_region,
               sum(d.sign)::bigint AS events,
               {coalesce(sum(d.%1$I), 0)::numeric AS %1$I}
          FROM d JOIN analytics.unit_tree t ON t.descendant = d.unit_code
         GROUP BY 1, 2, 3, 4, 5
    ), tot AS MATERIALIZED (
        SELECT unit_code, type, variant, partner_region, sum(events)::bigint AS events,
               {sum(%1$I)::numeric AS %1$I}
          FROM mx
         GROUP BY 1, 2, 3, 4
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
        SELECT * FROM tot ORDER BY 1, 2, 3, 4
        ON CONFLICT (unit_code, type, variant, partner_region) DO UPDATE SET
               events = r.events + excluded.events,
               {%1$I = r.%1$I + excluded.%1$I}
    ), up_type AS (
        INSERT INTO analytics.rollup_type AS r
               (unit_code, type, variant, events,
                {%1$I})
        SELECT unit_code, type, variant, sum(events),
               {sum(%1$I)::numeric}
          FROM tot
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
    ), up_day AS (
        INSERT INTO analytics.rollup_pair_day AS r
        SELECT unit_code, partner_region, day, sum(sign)
          FROM d
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (unit_code, partner_region, day) DO UPDATE SET events = r.events + excluded.events
    )
    SELECT count(*) INTO n FROM b;

    UPDATE analytics.rollup_state
       SET folded_through = CASE WHEN lim IS NULL OR n < lim
                                 THEN greatest(folded_through, t0) ELSE folded_through END,
           folds = folds + (n > 0)::int, folded_events = folded_events + n;
    RETURN n;
END
$$
$body$)
$f$;

-- rebuild_rollups(): as in 007, and it empties the queue under the same
-- locks (point 4 above).
CREATE OR REPLACE FUNCTION analytics.rebuild_rollups_sql() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT analytics.measure_expand($body$
CREATE OR REPLACE FUNCTION analytics.rebuild_rollups() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tz text := analytics.org_timezone();
    n  bigint;
BEGIN
    PERFORM now() AT TIME ZONE tz;          -- an unknown zone fails here
    LOCK TABLE analytics.rollup_queue, analytics.supersessions, analytics.rollup_month,
               analytics.rollup_total, analytics.rollup_type, analytics.rollup_month_group,
               analytics.rollup_pair_day
         IN ACCESS EXCLUSIVE MODE;
    TRUNCATE analytics.rollup_queue, analytics.supersessions, analytics.rollup_month,
             analytics.rollup_total, analytics.rollup_type, analytics.rollup_month_group,
             analytics.rollup_pair_day;
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
    UPDATE analytics.rollup_state
       SET timezone = tz, rebuilt_at = now(), stale = false, folded_through = now();
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

-- As in 007, with the fold among the generated functions.
CREATE OR REPLACE FUNCTION analytics.regenerate_rollups() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    added boolean;
BEGIN
    LOCK TABLE analytics.measures IN SHARE MODE;
    added := analytics.add_measure_columns();
    EXECUTE analytics.fold_rollups_sql();
    EXECUTE analytics.events_inserted_sql();
    EXECUTE analytics.rebuild_rollups_sql();
    EXECUTE analytics.measure_views_sql();
    IF added THEN
        PERFORM analytics.rebuild_rollups();
    END IF;
    RETURN added;
END
$$;

REVOKE ALL ON FUNCTION analytics.fold_rollups_sql() FROM PUBLIC;
SELECT analytics.regenerate_rollups();
REVOKE ALL ON FUNCTION analytics.fold_rollups(boolean, int) FROM PUBLIC;

-- The collector folds (point 5) through this one function of its own
-- schema, which never waits for the turn; it still has no privilege on
-- schema analytics.
CREATE FUNCTION tongxin.fold_rollups(max_events int DEFAULT 20000) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT analytics.fold_rollups(false, greatest(max_events, 1))
$$;
REVOKE ALL ON FUNCTION tongxin.fold_rollups(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tongxin.fold_rollups(int) TO tongxin_collector;

-- How fresh the rollups are.  lag_s: seconds since the oldest queued
-- event's transaction began, 0 when nothing waits.
CREATE OR REPLACE VIEW analytics.rollup_status AS
SELECT s.timezone, analytics.org_timezone() AS settings_timezone,
       (s.stale OR s.timezone <> analytics.org_timezone()) AS stale,
       s.rebuilt_at,
       q.queued, q.oldest_queued_at, s.folded_through,
       coalesce(round(extract(epoch FROM now() - q.oldest_queued_at)::numeric, 3), 0) AS lag_s
  FROM analytics.rollup_state s
 CROSS JOIN (SELECT count(*) AS queued, min(queued_at) AS oldest_queued_at
               FROM analytics.rollup_queue) q;
