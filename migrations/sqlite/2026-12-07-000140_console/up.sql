-- Admin console sessions (docs/console.md). Only the SHA-256 of a session id is kept; the CSRF
-- token is derived from the session id, so the table holds nothing a browser could present.
-- A session lasts while its admin key is live, until `expires_at`, and while it is used at
-- least every idle period (`last_seen_at`, stamped at most once a minute).
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    admin_key_id TEXT NOT NULL REFERENCES admin_keys (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
CREATE INDEX console_sessions_admin_key ON console_sessions (admin_key_id);
