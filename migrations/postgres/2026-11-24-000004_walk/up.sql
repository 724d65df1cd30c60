-- Walks over a directory in id order (a puller looking for who is gone, one page at a time)
-- seek on this instead of reading and sorting the whole directory for every page. Not partial
-- on `deleted_at IS NULL`: PostgreSQL without statistics then preferred it to the userName
-- index for `userName eq` filters (a scan of the directory per request).
CREATE INDEX directory_users_walk ON directory_users (directory_id, id);
CREATE INDEX directory_groups_walk ON directory_groups (directory_id, id);
