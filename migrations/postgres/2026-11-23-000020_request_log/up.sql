-- Every authenticated SCIM request with its response, redacted, kept for the configured
-- retention. Ids come from a sequence and are never reused.
CREATE TABLE request_log (
    id BIGSERIAL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    received_at TIMESTAMP NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    base_url TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body TEXT,
    request_truncated BOOLEAN NOT NULL,
    status INTEGER NOT NULL,
    response_headers TEXT NOT NULL,
    response_body TEXT,
    response_truncated BOOLEAN NOT NULL,
    duration_us BIGINT NOT NULL
);
CREATE INDEX request_log_directory ON request_log (directory_id, id);
CREATE INDEX request_log_received_at ON request_log (received_at);
