-- The application's feed (docs/events.md): what an update changed, application keys, and when
-- a directory first answered.
ALTER TABLE events ADD COLUMN changed TEXT;
ALTER TABLE events ADD COLUMN previous TEXT;
CREATE INDEX events_tenant ON events (tenant_id, cursor);

-- Only the SHA-256 of a key is kept. A key without a tenant reads every tenant.
CREATE TABLE app_keys (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

ALTER TABLE directories ADD COLUMN activated_at TIMESTAMP;
