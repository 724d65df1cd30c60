-- One-time setup links (docs/setup-page.md): a page, reached without an account, where a
-- customer's IT admin connects their IdP to one directory. Only the SHA-256 of the link's
-- secret is kept. `token_revealed_at` is set by one conditional UPDATE, so a link reveals a
-- SCIM token once however many browsers race for it.
CREATE TABLE setup_links (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    token_revealed_at TIMESTAMP,
    token_id TEXT
);
CREATE INDEX setup_links_directory ON setup_links (directory_id);
