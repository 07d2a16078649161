-- 003_unit_keys: one CURVE keypair per unit.  Only the public key is kept.

SET LOCAL ROLE tongxin_admin;

CREATE TABLE tongxin.unit_keys (
    public_key  text PRIMARY KEY CHECK (public_key ~ '^[0-9a-zA-Z.:+=^!/*?&<>()\[\]{}@%$#-]{40}$'),
    unit_code   text NOT NULL REFERENCES tongxin.units (code),
    issued_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX unit_keys_unit_idx ON tongxin.unit_keys (unit_code);
-- At most one live key per unit.
CREATE UNIQUE INDEX unit_keys_live_idx ON tongxin.unit_keys (unit_code) WHERE revoked_at IS NULL;

GRANT SELECT ON tongxin.unit_keys TO tongxin_collector;
