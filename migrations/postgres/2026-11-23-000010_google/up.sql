-- Google Workspace pull connections: one row per directory of kind `google`, holding its
-- settings, the state of its last sync, its push channel and its sync lease.
CREATE TABLE google_directories (
    directory_id TEXT PRIMARY KEY NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    admin_email TEXT NOT NULL,
    -- Exactly one of customer / domain is set; users.list and groups.list take it as given.
    customer TEXT,
    domain TEXT,
    -- Comma-separated group emails; NULL syncs the whole directory.
    group_filter TEXT,
    interval_secs BIGINT NOT NULL,
    -- The service-account key file, sealed with the server key (ChaCha20-Poly1305, hex of
    -- nonce || ciphertext). The key is never stored in clear.
    sealed_key TEXT NOT NULL,
    -- `never_synced`, `ok`, `error` or `invalid_credentials`.
    status TEXT NOT NULL,
    last_sync_started_at TIMESTAMP,
    last_sync_finished_at TIMESTAMP,
    last_created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    last_deprovisioned BIGINT NOT NULL,
    last_error TEXT,
    next_sync_at TIMESTAMP NOT NULL,
    -- Who may sync now: an instance takes the lease with a conditional UPDATE and renews it
    -- while it works, so several instances on one database never sync a directory at once.
    lease_owner TEXT,
    lease_until TIMESTAMP,
    -- The users.watch channel: its id, Google's resource id, when it expires, and the SHA-256
    -- of the token Google echoes in every notification (the token itself is not kept).
    watch_channel_id TEXT,
    watch_resource_id TEXT,
    watch_token_hash TEXT,
    watch_expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

-- Users Google reported changed through the push channel, waiting for a targeted re-read by
-- whichever instance holds the directory's lease.
CREATE TABLE google_pending_users (
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    google_user_id TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (directory_id, google_user_id)
);
