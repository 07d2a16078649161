-- 001_schema: roles, the registry, events, rejected events, partitions.
--
-- Run by `tongxin-admin migrate` in one transaction, as a superuser or a
-- role with CREATEROLE that may create schemas in this database.  Every
-- object below is owned by the NOLOGIN role tongxin_admin.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tongxin_admin') THEN
        CREATE ROLE tongxin_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tongxin_collector') THEN
        CREATE ROLE tongxin_collector NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tongxin_analyst') THEN
        CREATE ROLE tongxin_analyst NOLOGIN;
    END IF;
    EXECUTE format('GRANT CREATE ON DATABASE %I TO tongxin_admin', current_database());
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO tongxin_collector', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO tongxin_analyst', current_database());
END
$$;

SET LOCAL ROLE tongxin_admin;

CREATE SCHEMA tongxin;
CREATE SCHEMA analytics;
COMMENT ON SCHEMA tongxin IS 'Tongxin: registry, events and rejected events';
COMMENT ON SCHEMA analytics IS 'Tongxin: views for analysts (tongxin_analyst may read them)';

CREATE TABLE tongxin.schema_migrations (
    version     int PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,              -- md5 of the migration text
    applied_at  timestamptz NOT NULL DEFAULT now(),
    applied_by  text NOT NULL DEFAULT session_user
);

-- Organisation-wide settings (e.g. the time zone days and months are counted in).
CREATE TABLE tongxin.settings (
    key         text PRIMARY KEY,
    value       text NOT NULL
);
INSERT INTO tongxin.settings VALUES ('timezone', 'Asia/Shanghai');

-- Units: the reporting organisations, a tree.
CREATE TABLE tongxin.units (
    code        text PRIMARY KEY
                CHECK (code ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL
                CHECK (kind IN ('district', 'department', 'township', 'subdistrict',
                                'village', 'community', 'party_org', 'station',
                                'enterprise', 'school')),
    parent_code text REFERENCES tongxin.units (code),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_code IS DISTINCT FROM code)
);
CREATE INDEX units_parent_idx ON tongxin.units (parent_code);

-- Regions: GB/T 2260 codes.  The province is the first two digits; the
-- group is '8' for the eight ethnic-minority provinces, 'N' otherwise.
CREATE TABLE tongxin.regions (
    code          text PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
    name          text NOT NULL,
    name_en       text NOT NULL,
    province_code text NOT NULL GENERATED ALWAYS AS (left(code, 2)) STORED,
    grp           text NOT NULL GENERATED ALWAYS AS (
                      CASE WHEN left(code, 2) IN ('54', '65', '15', '64', '45', '53', '52', '63')
                           THEN '8' ELSE 'N' END) STORED,
    level         text NOT NULL GENERATED ALWAYS AS (
                      CASE WHEN right(code, 4) = '0000' THEN 'province'
                           WHEN right(code, 2) = '00' THEN 'prefecture'
                           ELSE 'county' END) STORED
);

-- Pairings: a unit and a partner region, with fields of cooperation.
CREATE TABLE tongxin.pairings (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_code    text NOT NULL REFERENCES tongxin.units (code),
    region_code  text NOT NULL REFERENCES tongxin.regions (code),
    counterpart  text NOT NULL CHECK (length(counterpart) BETWEEN 1 AND 200),
    fields       text[] NOT NULL
                 CHECK (cardinality(fields) > 0 AND fields <@ ARRAY['ethnic_unity', 'team_building',
                        'culture_tourism', 'development', 'education', 'youth']),
    since        date,
    until        date CHECK (until IS NULL OR since IS NULL OR until >= since),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit_code, region_code, counterpart)
);

-- The event type registry, as data: adding a type is an INSERT.
CREATE TABLE tongxin.event_types (
    code             text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,63}$'),
    description      text NOT NULL,
    partner_required boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tongxin.event_type_attrs (
    type_code      text NOT NULL REFERENCES tongxin.event_types (code) ON DELETE CASCADE,
    name           text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,63}$'),
    kind           text NOT NULL CHECK (kind IN ('int', 'numeric', 'text', 'bool', 'date', 'enum')),
    required       boolean NOT NULL DEFAULT false,
    min_value      numeric,                 -- int, numeric: lower bound
    min_exclusive  boolean NOT NULL DEFAULT false,
    max_value      numeric,                 -- int, numeric: upper bound (inclusive)
    max_len        int CHECK (max_len BETWEEN 1 AND 4096),  -- text: bytes
    enum_values    text[],                  -- enum: the allowed values
    description    text,
    PRIMARY KEY (type_code, name),
    CHECK ((kind = 'enum') = (enum_values IS NOT NULL)),
    CHECK (min_value IS NULL OR kind IN ('int', 'numeric')),
    CHECK (max_value IS NULL OR kind IN ('int', 'numeric')),
    CHECK (max_len IS NULL OR kind = 'text')
);

-- Events.  The key is (event_id, unit_code): the producer's UUIDv7 and the
-- unit it reports for.  The table is range-partitioned by event_id, one
-- partition per calendar month of the id's embedded timestamp, so the
-- partition key is part of the primary key and one (id, unit) can exist in
-- exactly one partition: a duplicate is impossible across partitions too.
-- unit_code is in every unique key so the table can be sharded by unit.
CREATE TABLE tongxin.events (
    event_id       uuid NOT NULL,
    unit_code      text NOT NULL,
    type           text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    partner_region text,
    attrs          jsonb NOT NULL DEFAULT '{}',
    sender         text NOT NULL,           -- the authenticated identity that delivered it
    supersedes     uuid,                    -- a correction: the event it replaces
    PRIMARY KEY (event_id, unit_code)
) PARTITION BY RANGE (event_id);
CREATE INDEX events_unit_time_idx ON tongxin.events (unit_code, occurred_at);
CREATE INDEX events_type_time_idx ON tongxin.events (type, occurred_at);
CREATE INDEX events_time_idx ON tongxin.events (occurred_at);

-- Everything refused, with the reason: nothing a unit sends is silently dropped.
CREATE TABLE tongxin.rejected_events (
    received_at   timestamptz NOT NULL DEFAULT now(),
    event_id      uuid,                     -- when it could be read
    claimed_unit  text,                     -- the unit the event claimed, if any
    sender        text NOT NULL,            -- the authenticated identity that delivered it
    batch_id      numeric(20, 0),           -- the producer's batch number, if readable
    reason        text NOT NULL,            -- a stable reason code (docs/protocol.md)
    message       text NOT NULL,            -- a human explanation
    raw           bytea NOT NULL            -- the event's bytes, or the whole message
) PARTITION BY RANGE (received_at);
CREATE INDEX rejected_events_time_idx ON tongxin.rejected_events (received_at);
CREATE INDEX rejected_events_reason_idx ON tongxin.rejected_events (reason, received_at);

-- The smallest UUIDv7 of a millisecond: the bound between id partitions.
CREATE FUNCTION tongxin.uuid7_floor(ts timestamptz) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0')
            || '00000000000000000000')::uuid
$$;

-- The millisecond timestamp inside a UUIDv7.
CREATE FUNCTION tongxin.uuid7_time(id uuid) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT to_timestamp(('x' || lpad(left(replace(id::text, '-', ''), 12), 16, '0'))::bit(64)::bigint
                        / 1000.0)
$$;

-- Create the monthly partitions of events and rejected_events from
-- p_from's month up to p_months_ahead months after the current one.
-- Idempotent; returns how many partitions it created.  Runs as its owner so
-- the collector may call it (it can create partitions, nothing else).
CREATE FUNCTION tongxin.ensure_partitions(p_months_ahead int DEFAULT 3, p_from date DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, tongxin AS $$
DECLARE
    m       date := date_trunc('month', coalesce(p_from, now() AT TIME ZONE 'UTC')::timestamp)::date;
    last    date := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => p_months_ahead))::date;
    lo      timestamptz;
    hi      timestamptz;
    made    int := 0;
    name    text;
BEGIN
    IF p_months_ahead < 0 OR p_months_ahead > 120 THEN
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

-- The range of event ids the partitions can hold: the collector rejects an
-- id outside it (bad_id_time) instead of failing its whole batch.
CREATE VIEW tongxin.event_id_window AS
    SELECT min(tongxin.uuid7_time((regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                                'FROM \(''([^'']+)''\)'))[1]::uuid)) AS lo,
           max(tongxin.uuid7_time((regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                                'TO \(''([^'']+)''\)'))[1]::uuid)) AS hi
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'tongxin.events'::regclass;

-- Twelve months back (for ids made before installation, e.g. files of events
-- with explicit ids) and three ahead.
SELECT tongxin.ensure_partitions(3, (now() - interval '12 months')::date);

-- Privileges.  The collector reads the registry and inserts events and
-- rejections; RETURNING needs SELECT on the returned key columns.  It can
-- not UPDATE, DELETE or TRUNCATE anything.
GRANT USAGE ON SCHEMA tongxin TO tongxin_collector, tongxin_analyst;
GRANT SELECT ON tongxin.units, tongxin.regions, tongxin.event_types, tongxin.event_type_attrs,
                tongxin.settings, tongxin.event_id_window, tongxin.schema_migrations
    TO tongxin_collector;
GRANT INSERT ON tongxin.events, tongxin.rejected_events TO tongxin_collector;
GRANT SELECT (event_id, unit_code) ON tongxin.events TO tongxin_collector;
GRANT EXECUTE ON FUNCTION tongxin.ensure_partitions(int, date) TO tongxin_collector;

-- Analysts read; they write nothing.
GRANT USAGE ON SCHEMA analytics TO tongxin_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA tongxin TO tongxin_analyst;
ALTER DEFAULT PRIVILEGES FOR ROLE tongxin_admin IN SCHEMA analytics GRANT SELECT ON TABLES TO tongxin_analyst;
ALTER DEFAULT PRIVILEGES FOR ROLE tongxin_admin IN SCHEMA tongxin GRANT SELECT ON TABLES TO tongxin_analyst;
