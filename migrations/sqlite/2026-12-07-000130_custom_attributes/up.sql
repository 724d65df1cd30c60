-- Custom attributes (docs/database.md): a directory's named mappings from a source path, each
-- user's derived values as one JSON object on its row (what the record shows), and the same
-- values one row each, for the read API's filter on them.
CREATE TABLE custom_attributes (
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- scim or google: where the source path is read.
    kind TEXT NOT NULL,
    -- The source path as the administrator wrote it.
    source TEXT NOT NULL,
    -- The path resolved against the schemas when it was saved, as JSON steps the server walks.
    steps TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (directory_id, name)
);

-- NULL while the directory maps no custom attribute: the record then shows the schema
-- extensions' attributes, as before custom attributes existed.
ALTER TABLE directory_users ADD COLUMN custom_attributes TEXT;

CREATE TABLE custom_attribute_values (
    user_id TEXT NOT NULL REFERENCES directory_users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
);
CREATE INDEX custom_attribute_values_lookup
    ON custom_attribute_values (directory_id, name, value, user_id);

-- The background re-derivation of a directory's users after a mapping changed: where it is
-- (the last user id done), so a restarted server resumes it.
CREATE TABLE custom_attribute_rederive (
    directory_id TEXT PRIMARY KEY NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    after_id TEXT,
    checked BIGINT NOT NULL,
    changed BIGINT NOT NULL,
    total BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
