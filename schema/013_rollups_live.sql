-- 013_rollups_live: the views count every committed event at once; the fold
-- only moves counted events from a live part into the tables, out of the
-- writers' way.
--
-- Until 012 every stored event was copied by a trigger into
-- analytics.rollup_queue, and the views counted it only once a fold had
-- taken it from there: on a realistic mix (every type, every month and
-- partner, units in a tree) the copy cost the collector a fifth of its
-- speed and the fold, ~40 us an event of upserts, kept the views behind
-- while it raced the writers for the machine.  From here on
-- (TimescaleDB's "real-time aggregates"; PgQ's snapshot ticks):
--
-- 1. Which events are folded is said by one snapshot, not by a queue.
--    Every event row carries the id of the transaction that stored it
--    (tongxin.events.stored_xid, a column default: no trigger, no second
--    row).  analytics.rollup_state.snapshot is the snapshot of the last
--    fold (or rebuild): an event is folded when its transaction is visible
--    in it (or its stored_xid is NULL: stored before 013, folded then).
--    A transaction that commits after a fold took its snapshot, however
--    early it began or however old its ids, is not visible in it, so the
--    next fold takes it: the watermark trap of 011 stays closed.
-- 2. The rollup tables are renamed *_folded and each view of their old
--    name (analytics.rollup_month, _total, _type, _month_group, _pair_day)
--    adds to their rows the events not yet folded (analytics.unfolded_facts:
--    the same signed rows the fold adds, from the same SQL text,
--    analytics.facts_sql), key for key.  A view reads the folded rows and
--    the snapshot in one statement, and a fold commits both together, so
--    an event is counted exactly once whether or not it was folded.  Every
--    view built on the rollups follows (they are re-pointed below).
-- 3. analytics.fold_rollups() takes the events committed since the last
--    snapshot and visible in a new one (an index range on stored_xid),
--    adds them to the *_folded tables as in 011 (one GROUP BY along the
--    unit tree, one upsert a table), and stores the new snapshot.  One fold
--    at a time (advisory lock 29817).  Corrections and retractions
--    subtract what they replace, "folded" meaning visible in the snapshot.
-- 4. rebuild_rollups() holds events in SHARE mode (no event stored
--    meanwhile, as the queue lock did in 011) and the tables in ACCESS
--    EXCLUSIVE mode, recomputes, and stores its snapshot: a rebuild and a
--    fold never double-count.
-- 5. The collector folds every fold-ms but yields while its writers have
--    a backlog (at most fold-ms x 30): the fold is only a matter of how
--    fast the views read, no longer of how fresh they are.
--    analytics.rollup_status: queued (events not folded yet, counted by the
--    views all the same), oldest_queued_at (the oldest one's received_at),
--    folded_through, lag_s (the fold's lag).

-- The views are now larger plans (the events not folded yet, in every
-- partition, beside the folded rows), whose estimated cost soon passes
-- jit_above_cost: compiling them takes longer than running them (seconds
-- for a comparison of two rollups).  The database's owner turns JIT off
-- for this database; anyone else is told how.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'JIT left as it is: its owner may turn it off (ALTER DATABASE % SET jit = off)',
                 current_database();
END
$$;

SET LOCAL ROLE tongxin_admin;

-- ------------------------------------------------------------------ hand-over

-- No event is stored while the rollups change hands; what the queue holds
-- is folded by 011's fold, the last time.
LOCK TABLE tongxin.events IN SHARE MODE;
SELECT analytics.fold_rollups();

ALTER TABLE tongxin.events ADD COLUMN stored_xid xid8;
ALTER TABLE tongxin.events ALTER COLUMN stored_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX events_stored_xid_idx ON tongxin.events (stored_xid) WHERE stored_xid IS NOT NULL;
CREATE INDEX events_stored_xid_corr_idx ON tongxin.events (stored_xid)
    WHERE stored_xid IS NOT NULL AND supersedes IS NOT NULL;

-- The snapshot, and the cluster whose transaction ids it and stored_xid
-- count: a database restored from a dump into another cluster counts
-- them anew, and neither means anything there (see folded_snapshot()).
ALTER TABLE analytics.rollup_state ADD COLUMN snapshot pg_snapshot, ADD COLUMN sysid bigint;
UPDATE analytics.rollup_state
   SET snapshot = pg_current_snapshot(), folded_through = now(),
       sysid = (SELECT system_identifier FROM pg_control_system());
ALTER TABLE analytics.rollup_state ALTER COLUMN snapshot SET NOT NULL;

-- The last fold's snapshot, for the views; an error when it was taken in
-- another cluster (a logical restore: its transaction ids, and those of
-- the restored events, are not this cluster's, so the views could count
-- an event twice or never).  A standby (pg_basebackup) is the same
-- cluster.  rebuild_rollups() makes them this cluster's again.
CREATE FUNCTION analytics.folded_snapshot() RETURNS pg_snapshot
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    snap pg_snapshot;
    id   bigint;
BEGIN
    SELECT snapshot, sysid INTO snap, id FROM analytics.rollup_state;
    IF id IS DISTINCT FROM (SELECT system_identifier FROM pg_control_system()) THEN
        RAISE EXCEPTION 'the rollups were folded in another PostgreSQL cluster (a restored dump?)'
              USING HINT = 'Run SELECT analytics.rebuild_rollups() as tongxin_admin.';
    END IF;
    RETURN snap;
END
$$;

-- The folded corrections and retractions whose event was not folded by
-- then (it may come later, or never): the only folded ones the views and
-- the fold must look for among the events not folded yet.
CREATE TABLE analytics.supersessions_pending (
    unit_code   text NOT NULL,
    supersedes  uuid NOT NULL,
    event_id    uuid NOT NULL,
    PRIMARY KEY (unit_code, supersedes, event_id)
);
INSERT INTO analytics.supersessions_pending
SELECT f.unit_code, f.supersedes, f.event_id FROM analytics.supersessions f
 WHERE NOT EXISTS (SELECT 1 FROM tongxin.events e
                    WHERE e.event_id = f.supersedes AND e.unit_code = f.unit_code);

DROP TRIGGER events_rollup ON tongxin.events;
DROP FUNCTION analytics.events_inserted();
DROP FUNCTION analytics.events_inserted_sql();

ALTER TABLE analytics.rollup_month RENAME TO rollup_month_folded;
ALTER TABLE analytics.rollup_total RENAME TO rollup_total_folded;
ALTER TABLE analytics.rollup_type RENAME TO rollup_type_folded;
ALTER TABLE analytics.rollup_month_group RENAME TO rollup_month_group_folded;
ALTER TABLE analytics.rollup_pair_day RENAME TO rollup_pair_day_folded;

-- A measure added later is a column of the folded tables.
CREATE OR REPLACE FUNCTION analytics.add_measure_columns() RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c record;
    added boolean := false;
BEGIN
    FOR c IN SELECT t.tab, m.name
               FROM analytics.measures m
              CROSS JOIN (VALUES ('rollup_month_folded'), ('rollup_total_folded'),
                                 ('rollup_type_folded')) t (tab)
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

-- ------------------------------------------------------------------ the facts

-- The folded events (visible in snapshot SINCE, or stored before 013) of
-- the given units and ids that count until now (not retractions, replaced
-- by no folded event): what the new corrections and retractions take out.
-- A function, so that the planner, which can not know that there are
-- nearly always none, plans one lookup by key each.
CREATE FUNCTION analytics.replaced_rows(units text[], ids uuid[], since pg_snapshot)
RETURNS TABLE (unit_code text, type text, occurred_at timestamptz, partner_region text, attrs jsonb)
LANGUAGE sql STABLE ROWS 1 SET search_path = pg_catalog, pg_temp AS $$
    SELECT o.unit_code, o.type, o.occurred_at, o.partner_region, o.attrs
      FROM unnest(units, ids) AS s (unit_code, supersedes)
      JOIN tongxin.events o ON o.event_id = s.supersedes AND o.unit_code = s.unit_code
     WHERE o.type <> 'retraction'
       AND (o.stored_xid IS NULL OR pg_visible_in_snapshot(o.stored_xid, since))
       AND NOT EXISTS (SELECT 1 FROM analytics.supersessions f
                        WHERE f.unit_code = o.unit_code AND f.supersedes = o.event_id)
$$;

-- The common table expressions n, s, chg and d: the events stored by
-- transactions not visible in the snapshot SINCE (an SQL expression) and,
-- when UPTO is not NULL, visible in the snapshot UPTO (n; s: what its
-- corrections and retractions replace), and the signed rows they add to
-- the rollups in time zone TZ (d: own unit, type, variant, partner, day,
-- sign, the measures).  The one text both the fold and the views use.
CREATE FUNCTION analytics.facts_sql(since text, upto text, tz text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT format(analytics.measure_expand($body$
    n AS %4$s (
        SELECT e.event_id, e.unit_code, e.type, e.occurred_at, e.partner_region, e.attrs, e.supersedes
          FROM tongxin.events e
         WHERE e.stored_xid >= pg_snapshot_xmin(%1$s)
           AND NOT pg_visible_in_snapshot(e.stored_xid, %1$s)
           AND %2$s
    ), s AS MATERIALIZED (
        -- What the new corrections and retractions replace: the same rows
        -- as n's with a supersedes, read by their own small index so that
        -- the planner knows they are few.
        SELECT DISTINCT e.unit_code, e.supersedes
          FROM tongxin.events e
         WHERE e.supersedes IS NOT NULL
           AND e.stored_xid >= pg_snapshot_xmin(%1$s)
           AND NOT pg_visible_in_snapshot(e.stored_xid, %1$s)
           AND %2$s
    ), x AS MATERIALIZED (
        -- Every correction or retraction that may name one of n: the new
        -- ones, and the folded ones whose event was not folded with or
        -- before them (analytics.supersessions_pending; a folded one that
        -- names a folded event can not name one of n).  Few: one hash
        -- table, probed once by each of n.
        SELECT unit_code, supersedes FROM analytics.supersessions_pending
        UNION ALL
        SELECT unit_code, supersedes FROM s
    ), chg AS (
        -- The new events that count: not retractions, not superseded by a
        -- folded or a new event (a correction may come first).
        SELECT n.unit_code, n.type, n.occurred_at, n.partner_region, n.attrs, 1 AS sign
          FROM n
         WHERE n.type <> 'retraction'
           AND (n.unit_code, n.event_id) NOT IN (SELECT x.unit_code, x.supersedes FROM x)
        UNION ALL
        -- Folded events that new ones supersede and that counted until
        -- now: no folded event superseded them.
        SELECT r.unit_code, r.type, r.occurred_at, r.partner_region, r.attrs, -1
          FROM analytics.replaced_rows((SELECT array_agg(unit_code ORDER BY unit_code, supersedes) FROM s),
                                       (SELECT array_agg(supersedes ORDER BY unit_code, supersedes) FROM s),
                                       %1$s) r
    ), d AS (
        -- One row per event with its figures, in the rollups' time zone.
        SELECT c.unit_code COLLATE "C" AS unit_code, c.type COLLATE "C" AS type,
               coalesce(c.attrs ->> v.attr, '') COLLATE "C" AS variant,
               coalesce(c.partner_region, '') COLLATE "C" AS partner_region,
               (c.occurred_at AT TIME ZONE %3$s)::date AS day, c.sign,
               {c.sign * %3$s(c.attrs, %2$L) AS %1$I}
          FROM chg c LEFT JOIN analytics.type_variants v ON v.type_code = c.type
    )$body$),
    since,
    CASE WHEN upto IS NULL THEN 'true' ELSE format('pg_visible_in_snapshot(e.stored_xid, %s)', upto) END,
    tz,
    -- The fold reads n four times, one snapshot; a view once, and needs
    -- none of the columns it does not read.
    CASE WHEN upto IS NULL THEN 'NOT MATERIALIZED' ELSE 'MATERIALIZED' END)
$f$;

-- One rollup as a view: its folded rows plus the unfolded ones (view U),
-- key for key, in the folded table's columns and types.
CREATE FUNCTION analytics.merged_view_sql(tab text, u text, keys text[]) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT format($v$
CREATE OR REPLACE VIEW analytics.%1$I AS
SELECT f.* FROM analytics.%2$I f
 WHERE NOT EXISTS (SELECT 1 FROM analytics.%3$I u WHERE %4$s)
UNION ALL
SELECT %5$s
  FROM analytics.%3$I u LEFT JOIN analytics.%2$I f ON %4$s;
$v$, tab, tab || '_folded', u,
    (SELECT string_agg(format('u.%1$I = f.%1$I', k), ' AND ') FROM unnest(keys) k),
    (SELECT string_agg(CASE WHEN a.attname = ANY (keys) THEN format('u.%I', a.attname)
                            ELSE format('(coalesce(f.%1$I, 0) + u.%1$I)::%2$s', a.attname,
                                        format_type(a.atttypid, a.atttypmod)) END,
                       ', ' ORDER BY a.attnum)
       FROM pg_attribute a
      WHERE a.attrelid = format('analytics.%I', tab || '_folded')::regclass
        AND a.attnum > 0 AND NOT a.attisdropped))
$f$;

-- The views: the events not folded yet (analytics.unfolded_facts), their
-- rows at each rollup's grain, and each rollup as a view of its old name.
CREATE FUNCTION analytics.live_views_sql() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT 'CREATE OR REPLACE VIEW analytics.unfolded_facts AS WITH'
    || analytics.facts_sql('(SELECT analytics.folded_snapshot())', NULL,
                           '(SELECT timezone FROM analytics.rollup_state)')
    || E'\nSELECT * FROM d;' || analytics.measure_expand($body$

CREATE OR REPLACE VIEW analytics.unfolded_month AS
SELECT t.ancestor COLLATE "C" AS unit_code, date_trunc('month', d.day)::date AS month,
       d.type, d.variant, d.partner_region, sum(d.sign)::bigint AS events,
       {coalesce(sum(d.%1$I), 0)::numeric AS %1$I}
  FROM analytics.unfolded_facts d JOIN analytics.unit_tree t ON t.descendant = d.unit_code
 GROUP BY 1, 2, 3, 4, 5;

CREATE OR REPLACE VIEW analytics.unfolded_total AS
SELECT t.ancestor COLLATE "C" AS unit_code, d.type, d.variant, d.partner_region,
       sum(d.sign)::bigint AS events,
       {coalesce(sum(d.%1$I), 0)::numeric AS %1$I}
  FROM analytics.unfolded_facts d JOIN analytics.unit_tree t ON t.descendant = d.unit_code
 GROUP BY 1, 2, 3, 4;

CREATE OR REPLACE VIEW analytics.unfolded_type AS
SELECT t.ancestor COLLATE "C" AS unit_code, d.type, d.variant, sum(d.sign)::bigint AS events,
       {coalesce(sum(d.%1$I), 0)::numeric AS %1$I}
  FROM analytics.unfolded_facts d JOIN analytics.unit_tree t ON t.descendant = d.unit_code
 GROUP BY 1, 2, 3;
$body$) || $body$

CREATE OR REPLACE VIEW analytics.unfolded_month_group AS
SELECT u.unit_code, u.month, coalesce(g.grp, '') COLLATE "C" AS partner_group,
       sum(u.events)::bigint AS events
  FROM analytics.unfolded_month u LEFT JOIN tongxin.regions g ON g.code = u.partner_region
 GROUP BY 1, 2, 3;

CREATE OR REPLACE VIEW analytics.unfolded_pair_day AS
SELECT d.unit_code, d.partner_region, d.day, sum(d.sign)::bigint AS events
  FROM analytics.unfolded_facts d
 GROUP BY 1, 2, 3;
$body$
    || analytics.merged_view_sql('rollup_month', 'unfolded_month',
                                 ARRAY['unit_code', 'month', 'type', 'variant', 'partner_region'])
    || analytics.merged_view_sql('rollup_total', 'unfolded_total',
                                 ARRAY['unit_code', 'type', 'variant', 'partner_region'])
    || analytics.merged_view_sql('rollup_type', 'unfolded_type', ARRAY['unit_code', 'type', 'variant'])
    || analytics.merged_view_sql('rollup_month_group', 'unfolded_month_group',
                                 ARRAY['unit_code', 'month', 'partner_group'])
    || analytics.merged_view_sql('rollup_pair_day', 'unfolded_pair_day',
                                 ARRAY['unit_code', 'partner_region', 'day'])
$f$;

-- ------------------------------------------------------------------ the fold

-- fold_rollups(wait, lim): adds the events committed since the last fold
-- to the folded tables; how many events it took, or -1 when another fold
-- holds the turn and wait is false.  lim is kept for callers of 011 and
-- ignored: a fold takes every event its snapshot sees.
CREATE OR REPLACE FUNCTION analytics.fold_rollups_sql() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT $head$
CREATE OR REPLACE FUNCTION analytics.fold_rollups(wait boolean DEFAULT true, lim int DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET work_mem = '128MB' SET jit = off AS $$
DECLARE
    tz   text;
    prev pg_snapshot;
    snap pg_snapshot;
    t0   timestamptz;
    n    bigint;
BEGIN
    LOCK TABLE analytics.supersessions, analytics.supersessions_pending, analytics.rollup_month_folded,
               analytics.rollup_total_folded, analytics.rollup_type_folded,
               analytics.rollup_month_group_folded, analytics.rollup_pair_day_folded
         IN ROW EXCLUSIVE MODE;
    IF wait THEN
        PERFORM pg_advisory_xact_lock(29817);
    ELSIF NOT pg_try_advisory_xact_lock(29817) THEN
        RETURN -1;
    END IF;
    SELECT timezone INTO tz FROM analytics.rollup_state;
    prev := analytics.folded_snapshot();        -- this cluster's, or an error
    -- Every transaction visible in snap committed before this statement
    -- began, so the next statement sees all of their events.
    t0 := clock_timestamp();
    snap := pg_current_snapshot();

    WITH$head$ || analytics.facts_sql('prev', 'snap', 'tz') || analytics.measure_expand($body$,
    sup_new AS (
        INSERT INTO analytics.supersessions (unit_code, supersedes, event_id)
        SELECT unit_code, supersedes, event_id FROM n WHERE supersedes IS NOT NULL
        ON CONFLICT DO NOTHING
    ), pend_new AS (
        -- Those whose event is not folded with them.
        INSERT INTO analytics.supersessions_pending (unit_code, supersedes, event_id)
        SELECT c.unit_code, c.supersedes, c.event_id FROM n c
         WHERE c.supersedes IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM tongxin.events e
                            WHERE e.event_id = c.supersedes AND e.unit_code = c.unit_code
                              AND (e.stored_xid IS NULL OR pg_visible_in_snapshot(e.stored_xid, snap))
                           OFFSET 0)
        ON CONFLICT DO NOTHING
    ), dm AS MATERIALIZED (
        SELECT * FROM d
    ), mx AS MATERIALIZED (
        -- Expanded along the tree and grouped once.
        SELECT t.ancestor COLLATE "C" AS unit_code, date_trunc('month', d.day)::date AS month,
               d.type, d.variant, d.partner_region,
               sum(d.sign)::bigint AS events,
               {coalesce(sum(d.%1$I), 0)::numeric AS %1$I}
          FROM dm d JOIN analytics.unit_tree t ON t.descendant = d.unit_code
         GROUP BY 1, 2, 3, 4, 5
    ), tot AS MATERIALIZED (
        SELECT unit_code, type, variant, partner_region, sum(events)::bigint AS events,
               {sum(%1$I)::numeric AS %1$I}
          FROM mx
         GROUP BY 1, 2, 3, 4
    ), up_month AS (
        INSERT INTO analytics.rollup_month_folded AS r
               (unit_code, month, type, variant, partner_region, events,
                {%1$I})
        SELECT * FROM mx ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (unit_code, month, type, variant, partner_region) DO UPDATE SET
               events = r.events + excluded.events,
               {%1$I = r.%1$I + excluded.%1$I}
    ), up_total AS (
        INSERT INTO analytics.rollup_total_folded AS r
               (unit_code, type, variant, partner_region, events,
                {%1$I})
        SELECT * FROM tot ORDER BY 1, 2, 3, 4
        ON CONFLICT (unit_code, type, variant, partner_region) DO UPDATE SET
               events = r.events + excluded.events,
               {%1$I = r.%1$I + excluded.%1$I}
    ), up_type AS (
        INSERT INTO analytics.rollup_type_folded AS r
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
        INSERT INTO analytics.rollup_month_group_folded AS r
        SELECT mx.unit_code, mx.month, coalesce(g.grp, '') COLLATE "C", sum(mx.events)
          FROM mx LEFT JOIN tongxin.regions g ON g.code = mx.partner_region
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (unit_code, month, partner_group) DO UPDATE SET events = r.events + excluded.events
    ), up_day AS (
        INSERT INTO analytics.rollup_pair_day_folded AS r
        SELECT unit_code, partner_region, day, sum(sign)
          FROM dm
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (unit_code, partner_region, day) DO UPDATE SET events = r.events + excluded.events
    )
    SELECT count(*) INTO n FROM n;

    -- Pending ones whose event this fold took are pending no longer.
    IF EXISTS (SELECT 1 FROM analytics.supersessions_pending) THEN
        DELETE FROM analytics.supersessions_pending p
         WHERE EXISTS (SELECT 1 FROM tongxin.events e
                        WHERE e.event_id = p.supersedes AND e.unit_code = p.unit_code
                          AND (e.stored_xid IS NULL OR pg_visible_in_snapshot(e.stored_xid, snap))
                       OFFSET 0);
    END IF;

    UPDATE analytics.rollup_state
       SET snapshot = snap, folded_through = greatest(folded_through, t0),
           folds = folds + (n > 0)::int, folded_events = folded_events + n;
    RETURN n;
END
$$
$body$)
$f$;

-- rebuild_rollups(): as in 011, into the folded tables, with events held
-- still (point 4).
CREATE OR REPLACE FUNCTION analytics.rebuild_rollups_sql() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT analytics.measure_expand($body$
CREATE OR REPLACE FUNCTION analytics.rebuild_rollups() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    tz text := analytics.org_timezone();
    n  bigint;
BEGIN
    PERFORM now() AT TIME ZONE tz;          -- an unknown zone fails here
    LOCK TABLE tongxin.events IN SHARE MODE;
    LOCK TABLE analytics.supersessions, analytics.supersessions_pending, analytics.rollup_month_folded,
               analytics.rollup_total_folded, analytics.rollup_type_folded,
               analytics.rollup_month_group_folded, analytics.rollup_pair_day_folded
         IN ACCESS EXCLUSIVE MODE;
    TRUNCATE analytics.supersessions, analytics.supersessions_pending, analytics.rollup_month_folded,
             analytics.rollup_total_folded, analytics.rollup_type_folded,
             analytics.rollup_month_group_folded, analytics.rollup_pair_day_folded;
    -- Restored from another cluster: the stored transaction ids are not
    -- this cluster's; every event is folded by this rebuild (NULL).
    IF (SELECT sysid FROM analytics.rollup_state)
       IS DISTINCT FROM (SELECT system_identifier FROM pg_control_system()) THEN
        UPDATE tongxin.events SET stored_xid = NULL WHERE stored_xid IS NOT NULL;
    END IF;
    -- Events are held still: everything this snapshot sees is rebuilt.
    UPDATE analytics.rollup_state
       SET snapshot = pg_current_snapshot(), sysid = (SELECT system_identifier FROM pg_control_system());
    INSERT INTO analytics.supersessions (unit_code, supersedes, event_id)
    SELECT unit_code, supersedes, event_id FROM tongxin.events WHERE supersedes IS NOT NULL;
    INSERT INTO analytics.supersessions_pending
    SELECT f.unit_code, f.supersedes, f.event_id FROM analytics.supersessions f
     WHERE NOT EXISTS (SELECT 1 FROM tongxin.events e
                        WHERE e.event_id = f.supersedes AND e.unit_code = f.unit_code);
    -- Each unit's own events first, then expanded along the tree.
    INSERT INTO analytics.rollup_month_folded
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
    INSERT INTO analytics.rollup_total_folded
           (unit_code, type, variant, partner_region, events,
            {%1$I})
    SELECT unit_code, type, variant, partner_region, sum(events),
           {sum(%1$I)}
      FROM analytics.rollup_month_folded
     GROUP BY 1, 2, 3, 4;
    INSERT INTO analytics.rollup_type_folded
           (unit_code, type, variant, events,
            {%1$I})
    SELECT unit_code, type, variant, sum(events),
           {sum(%1$I)}
      FROM analytics.rollup_total_folded
     GROUP BY 1, 2, 3;
    INSERT INTO analytics.rollup_month_group_folded
    SELECT r.unit_code, r.month, coalesce(g.grp, ''), sum(r.events)
      FROM analytics.rollup_month_folded r LEFT JOIN tongxin.regions g ON g.code = r.partner_region
     GROUP BY 1, 2, 3;
    INSERT INTO analytics.rollup_pair_day_folded
    SELECT unit_code, coalesce(partner_region, ''), day, count(*)
      FROM analytics.events_current
     GROUP BY 1, 2, 3;
    SELECT coalesce(sum(events), 0) INTO n FROM analytics.rollup_pair_day_folded;
    UPDATE analytics.rollup_state
       SET timezone = tz, rebuilt_at = now(), stale = false, folded_through = now();
    ANALYZE analytics.supersessions;
    ANALYZE analytics.supersessions_pending;
    ANALYZE analytics.rollup_month_folded;
    ANALYZE analytics.rollup_total_folded;
    ANALYZE analytics.rollup_type_folded;
    ANALYZE analytics.rollup_month_group_folded;
    ANALYZE analytics.rollup_pair_day_folded;
    RETURN n;
END
$$
$body$)
$f$;

CREATE OR REPLACE FUNCTION analytics.regenerate_rollups() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    added boolean;
BEGIN
    LOCK TABLE analytics.measures IN SHARE MODE;
    added := analytics.add_measure_columns();
    EXECUTE analytics.fold_rollups_sql();
    EXECUTE analytics.rebuild_rollups_sql();
    EXECUTE analytics.live_views_sql();
    EXECUTE analytics.measure_views_sql();
    IF added THEN
        PERFORM analytics.rebuild_rollups();
    END IF;
    RETURN added;
END
$$;

REVOKE ALL ON FUNCTION analytics.facts_sql(text, text, text), analytics.merged_view_sql(text, text, text[]),
                       analytics.live_views_sql() FROM PUBLIC;
SELECT analytics.regenerate_rollups();

-- Every view that read a rollup table now reads the view of its name
-- (the same columns, so CREATE OR REPLACE keeps what depends on it).
DO $$
DECLARE
    tabs   text[] := ARRAY['rollup_month', 'rollup_total', 'rollup_type',
                           'rollup_month_group', 'rollup_pair_day'];
    folded oid[];
    merged oid[];
    v      regclass;
    def    text;
    t      text;
BEGIN
    SELECT array_agg(format('analytics.%I', x || '_folded')::regclass::oid),
           array_agg(format('analytics.%I', x)::regclass::oid)
      INTO folded, merged FROM unnest(tabs) x;
    PERFORM set_config('search_path', 'pg_catalog', true);   -- definitions spelled in full
    FOR v IN SELECT DISTINCT r.ev_class::regclass
               FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
              WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
                AND d.refobjid = ANY (folded) AND r.ev_class <> ALL (merged)
    LOOP
        def := pg_get_viewdef(v);
        FOREACH t IN ARRAY tabs LOOP
            def := replace(def, t || '_folded', t);
        END LOOP;
        EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', v, def);
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
                WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
                  AND d.refobjid = ANY (folded) AND r.ev_class <> ALL (merged)) THEN
        RAISE EXCEPTION 'a view still reads a folded rollup table';
    END IF;
END
$$;

-- The views that looked up a last day unit by unit, or pair by pair
-- (ORDER BY day DESC LIMIT 1 in a lateral subquery), now read each
-- rollup once: every lookup into a rollup view would count the unfolded
-- events again (37 s for activity_by_unit on 300,000 events).  The same
-- columns and figures: a subtree's last day is the latest of its units'
-- own last days.
CREATE OR REPLACE VIEW analytics.activity_by_unit AS
WITH months AS (
    SELECT unit_code, min(month) AS first_month, max(month) AS last_month
      FROM analytics.rollup_month_group WHERE events > 0 GROUP BY 1
), own AS (
    SELECT d.unit_code, max(d.day) AS last_day
      FROM analytics.rollup_pair_day d WHERE d.events > 0 GROUP BY 1
), last AS (
    SELECT t.ancestor AS unit_code, max(o.last_day) AS last_day
      FROM analytics.unit_tree t JOIN own o ON o.unit_code = t.descendant
     GROUP BY 1
)
SELECT u.unit_code, u.name, u.kind, u.parent_code, u.depth,
       e.events, e.own_events, months.first_month, months.last_month, last.last_day,
       own.last_day AS own_last_day,
       date_trunc('month', own.last_day)::date AS own_last_month
  FROM analytics.units u
  JOIN analytics.unit_events e ON e.unit_code = u.unit_code
  LEFT JOIN months ON months.unit_code = u.unit_code
  LEFT JOIN last ON last.unit_code = u.unit_code
  LEFT JOIN own ON own.unit_code = u.unit_code;

-- The last day with events of each unit and partner region on or before
-- p_day (NULL: any day).
CREATE FUNCTION analytics.pair_last_days(p_day date)
RETURNS TABLE (unit_code text, partner_region text, last_day date)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
    SELECT d.unit_code, d.partner_region, max(d.day)
      FROM analytics.rollup_pair_day d
     WHERE d.events > 0 AND d.partner_region <> '' AND (p_day IS NULL OR d.day <= p_day)
     GROUP BY 1, 2
$$;

CREATE OR REPLACE FUNCTION analytics.pairing_activity_at(p_day date)
RETURNS TABLE (unit_code text, unit_name text, path text[], region_code text, region_name text,
               province_code text, province_name text, partner_group text, counterpart text,
               since date, last_event_day date, quiet_days int)
LANGUAGE sql STABLE SET jit = off AS $$
WITH pd AS MATERIALIZED (SELECT * FROM analytics.pair_last_days(p_day))
SELECT p.unit_code, p.unit_name, p.path, p.region_code, p.region_name, p.province_code,
       p.province_name, p.partner_group, p.counterpart, p.since,
       l.last_event_day, p_day - coalesce(l.last_event_day, p.since)
  FROM analytics.pairings p
 CROSS JOIN LATERAL (SELECT analytics.region_prefix(p.region_code) COLLATE "C" AS lo,
                            (analytics.region_prefix(p.region_code) || ':') COLLATE "C" AS hi) k
  LEFT JOIN LATERAL (SELECT max(pd.last_day) AS last_event_day
                       FROM analytics.unit_tree t JOIN pd ON pd.unit_code = t.descendant
                      WHERE t.ancestor = p.unit_code
                        AND pd.partner_region >= k.lo AND pd.partner_region < k.hi) l ON true
 WHERE p.since IS NULL OR p.since <= p_day
$$;

CREATE OR REPLACE FUNCTION analytics.pairing_activity_rows()
RETURNS TABLE (unit_code text, unit_name text, path text[], region_code text, region_name text,
               province_code text, province_name text, partner_group text, counterpart text,
               since date, events bigint, last_event_day date, quiet_days int)
LANGUAGE sql STABLE SET jit = off AS $$
WITH pd AS MATERIALIZED (SELECT * FROM analytics.pair_last_days(NULL)),
     tot AS MATERIALIZED (SELECT r.unit_code, r.partner_region, sum(r.events)::bigint AS events
                            FROM analytics.rollup_total r WHERE r.partner_region <> '' GROUP BY 1, 2)
SELECT p.unit_code, p.unit_name, p.path, p.region_code, p.region_name, p.province_code,
       p.province_name, p.partner_group, p.counterpart, p.since,
       coalesce(e.events, 0), l.last_event_day,
       (now() AT TIME ZONE analytics.org_timezone())::date - coalesce(l.last_event_day, p.since)
  FROM analytics.pairings p
 CROSS JOIN LATERAL (SELECT analytics.region_prefix(p.region_code) COLLATE "C" AS lo,
                            (analytics.region_prefix(p.region_code) || ':') COLLATE "C" AS hi) k
  LEFT JOIN LATERAL (SELECT sum(tot.events)::bigint AS events
                       FROM tot
                      WHERE tot.unit_code = p.unit_code
                        AND tot.partner_region >= k.lo AND tot.partner_region < k.hi) e ON true
  LEFT JOIN LATERAL (SELECT max(pd.last_day) AS last_event_day
                       FROM analytics.unit_tree t JOIN pd ON pd.unit_code = t.descendant
                      WHERE t.ancestor = p.unit_code
                        AND pd.partner_region >= k.lo AND pd.partner_region < k.hi) l ON true
$$;

-- How fresh the folded tables are (the views count every committed event
-- either way).  queued: events not folded yet; lag_s: seconds since the
-- oldest of them was received, 0 when none.
CREATE OR REPLACE VIEW analytics.rollup_status AS
SELECT s.timezone, analytics.org_timezone() AS settings_timezone,
       (s.stale OR s.timezone <> analytics.org_timezone()
        OR s.sysid IS DISTINCT FROM (SELECT system_identifier FROM pg_control_system())) AS stale,
       s.rebuilt_at,
       q.queued, q.oldest_queued_at, s.folded_through,
       coalesce(round(extract(epoch FROM now() - q.oldest_queued_at)::numeric, 3), 0) AS lag_s
  FROM analytics.rollup_state s
 CROSS JOIN (SELECT count(*) AS queued, min(e.received_at) AS oldest_queued_at
               FROM tongxin.events e
              WHERE e.stored_xid >= pg_snapshot_xmin((SELECT snapshot FROM analytics.rollup_state))
                AND NOT pg_visible_in_snapshot(e.stored_xid, (SELECT snapshot FROM analytics.rollup_state))) q;
DROP TABLE analytics.rollup_queue;

GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO tongxin_analyst;

-- The collector's fold: every event its snapshot sees (max_events, kept
-- for 011's callers, is ignored); never waits for the turn.
CREATE OR REPLACE FUNCTION tongxin.fold_rollups(max_events int DEFAULT 20000) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT analytics.fold_rollups(false, NULL)
$$;
