-- Timestamps are UTC, truncated to microseconds in Rust so both backends agree.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE directories (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, name)
);

-- Only the SHA-256 of a token is kept; `hint` is its first characters, for telling tokens apart.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX tokens_directory ON tokens (directory_id);

CREATE TABLE directory_users (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    external_id TEXT,
    user_name TEXT NOT NULL,
    user_name_ci TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    state TEXT NOT NULL,
    display_name TEXT,
    given_name TEXT,
    family_name TEXT,
    primary_email TEXT,
    job_title TEXT,
    department TEXT,
    employee_id TEXT,
    manager_id TEXT,
    resource TEXT NOT NULL,
    raw TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE UNIQUE INDEX directory_users_user_name ON directory_users (directory_id, user_name_ci)
    WHERE deleted_at IS NULL;
CREATE INDEX directory_users_external_id ON directory_users (directory_id, external_id);
CREATE INDEX directory_users_listing ON directory_users (directory_id, created_at, id);

CREATE TABLE directory_groups (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    external_id TEXT,
    display_name TEXT NOT NULL,
    display_name_ci TEXT NOT NULL,
    resource TEXT NOT NULL,
    raw TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX directory_groups_display_name ON directory_groups (directory_id, display_name_ci);
CREATE INDEX directory_groups_external_id ON directory_groups (directory_id, external_id);
CREATE INDEX directory_groups_listing ON directory_groups (directory_id, created_at, id);

-- A member is a user or a nested group of the same directory.
CREATE TABLE memberships (
    group_id TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    member_type TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX memberships_member ON memberships (member_id);

-- Every filterable attribute value of every resource, so any filter runs through an index.
-- `elem` numbers the elements of a multi-valued attribute; an element's sub-attributes share it,
-- and the row whose path is the bare attribute name anchors the element.
CREATE TABLE attribute_values (
    resource_id TEXT NOT NULL,
    path TEXT NOT NULL,
    elem INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    value TEXT NOT NULL,
    value_ci TEXT NOT NULL,
    value_num DOUBLE PRECISION,
    PRIMARY KEY (directory_id, resource_id, path, elem)
);
CREATE INDEX attribute_values_ci ON attribute_values (directory_id, resource_type, path, value_ci);
CREATE INDEX attribute_values_exact ON attribute_values (directory_id, resource_type, path, value);

CREATE TABLE events (
    cursor BIGINT PRIMARY KEY NOT NULL,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX events_directory ON events (directory_id, cursor);

-- One row. Cursors are taken from it inside the writing transaction, so on PostgreSQL the row
-- lock makes commit order follow cursor order: a reader that saw cursor N never later finds
-- a new event below N.
CREATE TABLE event_counter (
    id INTEGER PRIMARY KEY NOT NULL,
    last_cursor BIGINT NOT NULL
);
INSERT INTO event_counter (id, last_cursor) VALUES (1, 0);

-- Fixed planner statistics (https://sqlite.org/optoverview.html, "Manual Control Of Query Plans
-- Using SQLITE_STAT Tables"). They describe the shape of the data, not its size: a directory
-- holds many users, an id names one row. Without them SQLite guesses, and with a filter such as
-- `emails.value eq "x"` it scans the whole directory by `directory_id` instead of probing the
-- matching ids. Real ANALYZE statistics would go stale between runs on long-lived connections;
-- these ratios hold at any size. Roster never runs ANALYZE.
ANALYZE sqlite_schema;
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('directory_users', 'sqlite_autoindex_directory_users_1', '100000 1'),
    ('directory_users', 'directory_users_user_name', '100000 10000 1'),
    ('directory_users', 'directory_users_external_id', '100000 10000 1'),
    ('directory_users', 'directory_users_listing', '100000 10000 1 1'),
    ('directory_groups', 'sqlite_autoindex_directory_groups_1', '10000 1'),
    ('directory_groups', 'directory_groups_display_name', '10000 1000 2'),
    ('directory_groups', 'directory_groups_external_id', '10000 1000 1'),
    ('directory_groups', 'directory_groups_listing', '10000 1000 1 1'),
    ('memberships', 'sqlite_autoindex_memberships_1', '1000000 100 1'),
    ('memberships', 'memberships_member', '1000000 10'),
    ('attribute_values', 'sqlite_autoindex_attribute_values_1', '1000000 100000 10 1 1'),
    ('attribute_values', 'attribute_values_ci', '1000000 100000 50000 10000 2'),
    ('attribute_values', 'attribute_values_exact', '1000000 100000 50000 10000 2'),
    ('events', 'sqlite_autoindex_events_1', '1000000 1'),
    ('events', 'sqlite_autoindex_events_2', '1000000 1'),
    ('events', 'events_directory', '1000000 100000 1'),
    ('tokens', 'sqlite_autoindex_tokens_1', '1000 1'),
    ('tokens', 'sqlite_autoindex_tokens_2', '1000 1'),
    ('tokens', 'tokens_directory', '1000 2');
