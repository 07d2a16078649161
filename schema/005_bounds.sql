-- 005_bounds: no value a unit may send can make the database refuse another
-- unit's event, and nothing refused is kept without its bytes.
--
-- 1. Every int and numeric attribute has bounds.  An attribute registered
--    without one gets the registry's default (below); no bound may lie
--    outside +/- 10^15, so every value fits a double exactly (the
--    collector's range check) and a bigint many times over.
-- 2. The rollups' measures are numeric, not bigint: a sum of numerics cannot
--    overflow (PostgreSQL's numeric holds 131,072 digits before the point),
--    so the rollup trigger, which adds each event into every unit above its
--    own, can never fail on one unit's figures while storing another's.
--    The views' sums follow (docs/analysts.md, "Limits").
-- 3. rejected_events keeps, for a message whose bytes were cut to a prefix,
--    the whole length and SHA-256; and what `tongxin-admin rejected replay`
--    did with a kept event.

SET LOCAL ROLE tongxin_admin;

-- ------------------------------------------------------------- 1. bounds

-- The defaults, per kind.  int: counts of people, days, deals...;
-- numeric: amounts in yuan.  An attribute may set narrower or wider bounds
-- (within the hard limit) when it is registered.
CREATE FUNCTION tongxin.attr_default_bounds() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.kind = 'int' THEN
        NEW.min_value := coalesce(NEW.min_value, -1000000000);
        NEW.max_value := coalesce(NEW.max_value, 1000000000);
    ELSIF NEW.kind = 'numeric' THEN
        NEW.min_value := coalesce(NEW.min_value, -1000000000000000);
        NEW.max_value := coalesce(NEW.max_value, 1000000000000000);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER attr_default_bounds BEFORE INSERT OR UPDATE ON tongxin.event_type_attrs
    FOR EACH ROW EXECUTE FUNCTION tongxin.attr_default_bounds();

UPDATE tongxin.event_type_attrs SET min_value = min_value WHERE kind IN ('int', 'numeric');

ALTER TABLE tongxin.event_type_attrs
    ADD CONSTRAINT event_type_attrs_bounded CHECK (
        kind NOT IN ('int', 'numeric')
        OR (min_value BETWEEN -1e15 AND 1e15 AND max_value BETWEEN -1e15 AND 1e15
            AND min_value <= max_value
            AND (kind <> 'int' OR (min_value = trunc(min_value) AND max_value = trunc(max_value)))));

-- --------------------------------------------------- 2. numeric measures

-- The views read the rollup tables, so they go first and come back after,
-- from their own definitions with bigint sums made numeric.  The two
-- functions that write the rollups are redefined the same way.
DO $$
DECLARE
    v      record;
    names  text[] := '{}';
    defs   text[] := '{}';
    i      int;
BEGIN
    FOR v IN SELECT c.oid, c.relname
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'analytics' AND c.relkind = 'v'
              ORDER BY c.oid
    LOOP
        names := names || v.relname::text;
        defs := defs || pg_get_viewdef(v.oid);
    END LOOP;
    FOR i IN REVERSE coalesce(array_length(names, 1), 0) .. 1 LOOP
        EXECUTE format('DROP VIEW analytics.%I', names [i]);
    END LOOP;

    FOR v IN SELECT c.relname, a.attname
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'analytics' AND c.relkind = 'r'
                AND c.relname IN ('rollup_month', 'rollup_total', 'rollup_type')
                AND a.attnum > 0 AND NOT a.attisdropped
                AND a.atttypid = 'bigint'::regtype AND a.attname <> 'events'
              ORDER BY c.relname, a.attnum
    LOOP
        EXECUTE format('ALTER TABLE analytics.%I ALTER COLUMN %I TYPE numeric', v.relname, v.attname);
    END LOOP;

    FOR i IN 1 .. coalesce(array_length(names, 1), 0) LOOP
        EXECUTE format('CREATE VIEW analytics.%I AS %s', names [i],
                       replace(defs [i], '::bigint', '::numeric'));
        EXECUTE format('GRANT SELECT ON analytics.%I TO tongxin_analyst', names [i]);
    END LOOP;

    EXECUTE replace(pg_get_functiondef('analytics.events_inserted()'::regprocedure),
                    '::bigint', '::numeric');
    EXECUTE replace(pg_get_functiondef('analytics.rebuild_rollups()'::regprocedure),
                    '::bigint', '::numeric');
END
$$;

-- ------------------------------------------------ 3. rejected_events

ALTER TABLE tongxin.rejected_events
    ADD COLUMN raw_len      bigint,         -- bytes received; raw may hold only a prefix
    ADD COLUMN raw_sha256   bytea,          -- SHA-256 of all raw_len bytes, when cut
    ADD COLUMN replayed_at  timestamptz,    -- when tongxin-admin rejected replay took it
    ADD COLUMN replay_result text;          -- stored, duplicate, or the reject code then

