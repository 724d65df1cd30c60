-- What a Google sync keeps in the database rather than in memory, so that the puller's memory
-- does not grow with the directory (docs/idp/google-workspace.md).

-- The Google ids of the users and groups the running sync's listings named. Once every listing
-- has been read to its last page, stored users and groups not named here are deprovisioned.
-- Emptied when a sync starts, so a sync that failed halfway leaves nothing that counts.
CREATE TABLE google_seen (
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    -- `user` or `group`.
    kind TEXT NOT NULL,
    google_id TEXT NOT NULL,
    PRIMARY KEY (directory_id, kind, google_id)
);

-- Members of synced groups whose address is in none of the Workspace's domains: they are not
-- Workspace users, so they are no directory users and no memberships; they are recorded here,
-- per group, and counted by `roster directory status`.
CREATE TABLE google_external_members (
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    -- Google's id for the member, when it has one (a consumer Google account).
    google_id TEXT,
    PRIMARY KEY (directory_id, group_id, email)
);

-- When the push channel is to be renewed: shortly before the expiry Google granted, which may
-- be far sooner than the lifetime Roster asked for.
ALTER TABLE google_directories ADD COLUMN watch_renew_at TIMESTAMP;
