-- Admin keys: what an operator presents on /api/v1/admin. Only the SHA-256 of a key is kept.
-- `allow` is a comma-separated list of CIDRs the key may be used from; NULL: any address.
-- A key with a tenant manages that tenant only; NULL: every tenant.
CREATE TABLE admin_keys (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    allow TEXT,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

-- A rotated-out token keeps working until expires_at. last_used_at is stamped at most once a
-- minute, so a busy token does not write on every request.
ALTER TABLE tokens ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE tokens ADD COLUMN last_used_at TIMESTAMP;

-- A disabled directory keeps its data; its tokens are refused and a Google one is not synced.
ALTER TABLE directories ADD COLUMN disabled_at TIMESTAMP;
