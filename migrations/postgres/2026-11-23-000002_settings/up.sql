-- Server-wide secrets and settings shared by every instance on one database (e.g. the key that
-- signs list cursors, so a cursor from one instance is accepted by another).
CREATE TABLE settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
