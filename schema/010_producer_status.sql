-- 010_producer_status: what the collectors know of each unit's producer.
--
-- "Is the month complete?" needs more than the events: a unit whose PC has
-- been offline for a week has reports waiting in its spool, and neither the
-- events table nor a silence tells that apart from a unit that did nothing.
-- The collector knows when each unit last connected and sent; from protocol
-- revision 1.3 the producer tells its backlog (docs/protocol.md, "status").
-- The collector keeps one row per unit here, written at most once a minute
-- per unit whatever the number of messages (collector/status.c), so this is
-- a small table of (active units) rows, never a log.
--
-- Several collectors may write the same unit's row (fail-over, 11.5): each
-- write keeps the newest of each time (GREATEST), and the backlog of the
-- newest status report.

SET LOCAL ROLE tongxin_admin;

CREATE TABLE tongxin.producer_status (
    unit_code          text PRIMARY KEY REFERENCES tongxin.units (code),
    last_connected_at  timestamptz,     -- a CURVE handshake of the unit's key succeeded
    last_seen_at       timestamptz,     -- the unit's last message of any kind
    last_event_at      timestamptz,     -- the collector last received an event of the unit (stored or not)
    status_at          timestamptz,     -- the producer's last status report (revision 1.3)
    backlog            bigint CHECK (backlog >= 0),          -- events in its spool, not yet acknowledged
    oldest_waiting_at  timestamptz,     -- when the oldest of them was spooled (NULL: none)
    last_verdict_at    timestamptz,     -- when the producer last received an acknowledgement
    software           text CHECK (length(software) <= 200 AND tongxin.text_is_clean(software)),
    collector          text CHECK (length(collector) <= 200 AND tongxin.text_is_clean(collector)),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tongxin.producer_status IS
    'one row per unit: what the collectors last knew of its producer (connection, backlog); written at most once a minute per unit';

GRANT SELECT, INSERT, UPDATE ON tongxin.producer_status TO tongxin_collector;
GRANT SELECT ON tongxin.producer_status TO tongxin_analyst;
