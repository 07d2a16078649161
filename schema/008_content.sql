-- 008_content: the same report is stored once, whatever its id.
--
-- Until 007 "exactly once" held per event id (the primary key of
-- tongxin.events): a retransmission was answered duplicate, but the same
-- report sent again with a new id (a command retyped after a timeout, a
-- file imported twice, a second machine of the unit) was stored again.
-- From here on the collector computes each event's content fingerprint
-- (collector/content.h: unit, type, occurred-at to the microsecond,
-- partner, attributes in canonical form, supersedes, nth) and stores an
-- event only if its unit has no event of the same content yet:
--
--   tongxin.event_contents  one row per (unit, fingerprint): the event
--                           that holds that content and when it was
--                           received.  Not partitioned, so that the
--                           content key is unique across every month
--                           (a partitioned table's unique keys must hold
--                           its partition key, the event id).  Its primary
--                           key is the arbiter between collectors writing
--                           at once: the second to insert the same content
--                           waits for the first and finds it there.
--   tongxin.events.fingerprint  the event's fingerprint (NULL for events
--                           stored before this migration).
--
-- A content stays claimed for good: by a corrected event too, so that the
-- file a correction was made from, imported again, is not counted again;
-- and when retention drops the event's month, its content row stays (it
-- is 70 bytes), so that an old report sent again is still answered
-- duplicate.  A unit that truly reports the same content twice sends the
-- second with nth 2 (docs/protocol.md 12, revision 1.2).
--
-- Distributed by unit_code (docs/scaling.md), event_contents is co-located
-- with the unit's events: its key starts with unit_code.

SET LOCAL ROLE tongxin_admin;

-- (No CHECK on its length: it would run for every row of the busiest
-- table; the collector writes 16 bytes, and event_contents checks them.)
ALTER TABLE tongxin.events ADD COLUMN fingerprint bytea;
COMMENT ON COLUMN tongxin.events.fingerprint IS
    'content fingerprint (collector/content.h); NULL for events stored before migration 008';

-- unit_code in the "C" collation: the key is compared byte by byte, as
-- unit codes are ASCII; a database in zh_CN.UTF-8 would otherwise pay
-- strcoll for every comparison of every insert.
CREATE TABLE tongxin.event_contents (
    unit_code   text COLLATE "C" NOT NULL,
    fingerprint bytea NOT NULL CHECK (length(fingerprint) = 16),
    event_id    uuid NOT NULL,              -- the event that holds this content
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_code, fingerprint)
);
COMMENT ON TABLE tongxin.event_contents IS
    'one row per content a unit has reported: the event that holds it (content idempotency)';

-- The collector: insert the content rows (received_at is the database's
-- to say), read them to answer a duplicate, and store the fingerprint.
GRANT SELECT ON tongxin.event_contents TO tongxin_collector;
GRANT INSERT (unit_code, fingerprint, event_id) ON tongxin.event_contents TO tongxin_collector;
GRANT INSERT (fingerprint) ON tongxin.events TO tongxin_collector;
GRANT SELECT (received_at) ON tongxin.events TO tongxin_collector;
