-- Webhook endpoints and their delivery state (docs/webhooks.md). The events table is the
-- outbox: each endpoint keeps, per directory, the cursor of the last event it delivered.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    -- NULL: every tenant's events.
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- Comma-separated event types; NULL: every type.
    types TEXT,
    secret TEXT NOT NULL,
    -- The secret before the last rotation, still signed with until previous_until.
    previous_secret TEXT,
    previous_until TIMESTAMP,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT,
    -- Events after this cursor are delivered: those committed after the endpoint was made.
    start_cursor BIGINT NOT NULL,
    -- How far the dispatcher has looked for directories with events for this endpoint.
    scan_cursor BIGINT NOT NULL,
    failing_since TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One delivery stream per endpoint and directory: events go out in cursor order, one at a
-- time; a failing event holds back only its own stream.
CREATE TABLE webhook_streams (
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    directory_id TEXT NOT NULL,
    -- The last event delivered (or skipped as not matching).
    cursor BIGINT NOT NULL,
    attempt INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    PRIMARY KEY (endpoint_id, directory_id)
);
CREATE INDEX webhook_streams_due ON webhook_streams (next_attempt_at);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_cursor BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    -- succeeded, failed
    status TEXT NOT NULL,
    response_code INTEGER,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    attempted_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, attempted_at);
