-- 006_least_privilege: what the collector may do, and what text a person
-- may register.
--
-- 1. Partitions.  The collector may only roll partitions forward within a
--    fixed bound: tongxin.ensure_partitions() (no arguments) makes the
--    partitions of the current month up to N months ahead, N from
--    tongxin.settings 'partition_months_ahead' (default 3, at most 12).  The
--    general ensure_partitions(months, from), which reaches back to any
--    month and up to 120 ahead, is the administrator's only: as the
--    collector it once made 1,576 partitions (1970 to 2037), opened the
--    accepted id window to match and slowed planning 50-fold.
-- 2. received_at is the database's to say (and replayed_at, replay_result
--    the administrator's: tongxin-admin rejected replay).  The collector may INSERT (and
--    COPY) every column of events and rejected_events except received_at
--    (and any identity, generated or sequence-fed column a later migration
--    adds), so received_at always takes its DEFAULT now() and an audit by
--    received_at can trust it.  A column added later is not insertable by
--    the collector until a migration grants it.
-- 3. Registered text is one line of printable text: names and descriptions
--    of units, regions, pairings (counterpart), event types, attributes
--    (and their enum values), targets and settings refuse the C0 and C1
--    controls, DEL, U+2028/U+2029 and the bidirectional controls
--    U+202A..U+202E, U+2066..U+2069 (common/safetext.h lists the same).
--    Rows that already hold one stop the migration with a message naming
--    them.

SET LOCAL ROLE tongxin_admin;

-- ------------------------------------------------------------------ partitions

INSERT INTO tongxin.settings (key, value) VALUES ('partition_months_ahead', '3')
    ON CONFLICT (key) DO NOTHING;
ALTER TABLE tongxin.settings ADD CONSTRAINT settings_partition_months_ahead
    CHECK (key <> 'partition_months_ahead' OR value ~ '^([0-9]|1[0-2])$');

-- The general function, recreated so that only p_from has a default (a call
-- without arguments is the bounded one below) and with pg_temp last in its
-- search_path.  The administrator's only.
DROP FUNCTION tongxin.ensure_partitions(int, date);
CREATE FUNCTION tongxin.ensure_partitions(p_months_ahead int, p_from date DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m       date := date_trunc('month', coalesce(p_from, now() AT TIME ZONE 'UTC')::timestamp)::date;
    last    date := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => p_months_ahead))::date;
    lo      timestamptz;
    hi      timestamptz;
    made    int := 0;
    name    text;
BEGIN
    IF p_months_ahead IS NULL OR p_months_ahead < 0 OR p_months_ahead > 120 THEN
        RAISE EXCEPTION 'months ahead must be between 0 and 120, not %', p_months_ahead;
    END IF;
    WHILE m <= last LOOP
        lo := (m::timestamp AT TIME ZONE 'UTC');
        hi := ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        name := 'events_' || to_char(m, 'YYYYMM');
        IF to_regclass('tongxin.' || name) IS NULL THEN
            EXECUTE format('CREATE TABLE tongxin.%I PARTITION OF tongxin.events FOR VALUES FROM (%L) TO (%L)',
                           name, tongxin.uuid7_floor(lo), tongxin.uuid7_floor(hi));
            made := made + 1;
        END IF;
        name := 'rejected_events_' || to_char(m, 'YYYYMM');
        IF to_regclass('tongxin.' || name) IS NULL THEN
            EXECUTE format('CREATE TABLE tongxin.%I PARTITION OF tongxin.rejected_events FOR VALUES FROM (%L) TO (%L)',
                           name, lo, hi);
            made := made + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN made;
END
$$;
REVOKE ALL ON FUNCTION tongxin.ensure_partitions(int, date) FROM PUBLIC;

-- The collector's: the current month up to N ahead, N from the settings,
-- never more than 12.  Creating a partition locks its parent table, and a
-- lock request waits behind readers and makes every later insert wait
-- behind it: an analyst's open transaction could otherwise stall the
-- collector.  Giving up after 2 s is harmless (the next call retries; the
-- months ahead are the slack).
CREATE FUNCTION tongxin.ensure_partitions()
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    v text := (SELECT value FROM tongxin.settings WHERE key = 'partition_months_ahead');
BEGIN
    RETURN tongxin.ensure_partitions(CASE WHEN v ~ '^[0-9]{1,2}$' THEN least(v::int, 12) ELSE 3 END);
END
$$;
REVOKE ALL ON FUNCTION tongxin.ensure_partitions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tongxin.ensure_partitions() TO tongxin_collector;

-- ------------------------------------------------------------------ inserts

REVOKE INSERT ON tongxin.events, tongxin.rejected_events FROM tongxin_collector;
DO $$
DECLARE
    t    text;
    cols text;
BEGIN
    FOREACH t IN ARRAY ARRAY['events', 'rejected_events'] LOOP
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
          FROM pg_attribute a
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = ('tongxin.' || t)::regclass AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attname NOT IN ('received_at', 'replayed_at', 'replay_result')
           AND a.attidentity = '' AND a.attgenerated = ''
           AND coalesce(pg_get_expr(d.adbin, d.adrelid), '') NOT LIKE 'nextval(%';
        EXECUTE format('GRANT INSERT (%s) ON tongxin.%I TO tongxin_collector', cols, t);
    END LOOP;
END
$$;

-- ------------------------------------------------------------------ registered text

-- True when t holds none of the characters above (NULL for NULL).
CREATE FUNCTION tongxin.text_is_clean(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t !~ '[\x01-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]'
$$;

CREATE FUNCTION tongxin.text_is_clean(t text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT NOT EXISTS (SELECT 1 FROM unnest(t) v WHERE NOT tongxin.text_is_clean(v))
$$;

DO $$
DECLARE
    c    record;
    bad  text;
BEGIN
    FOR c IN SELECT * FROM (VALUES
            ('units', 'name', 'code'),
            ('regions', 'name', 'code'),
            ('regions', 'name_en', 'code'),
            ('pairings', 'counterpart', 'id'),
            ('event_types', 'description', 'code'),
            ('event_type_attrs', 'description', 'type_code || ''.'' || name'),
            ('event_type_attrs', 'enum_values', 'type_code || ''.'' || name'),
            ('targets', 'description', 'category'),
            ('settings', 'key', 'key'),
            ('settings', 'value', 'key')) AS v (tab, col, keyexpr)
    LOOP
        EXECUTE format('SELECT string_agg(k, '', '') FROM (SELECT to_json((%s)::text)::text AS k'
                       '  FROM tongxin.%I WHERE NOT tongxin.text_is_clean(%I) ORDER BY 1 LIMIT 10) x',
                       c.keyexpr, c.tab, c.col) INTO bad;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'tongxin.%.% holds a control or bidirectional character in the rows %: '
                            'correct them (UPDATE tongxin.% SET % = ...) and run the migration again',
                            c.tab, c.col, bad, c.tab, c.col;
        END IF;
        EXECUTE format('ALTER TABLE tongxin.%I ADD CONSTRAINT %I CHECK (tongxin.text_is_clean(%I))',
                       c.tab, c.tab || '_' || c.col || '_clean', c.col);
    END LOOP;
END
$$;
