-- A directory being deleted (`roster directory delete`): its tokens are revoked at once and its
-- rows removed in batches; the mark lets a restarted server finish the job.
ALTER TABLE directories ADD COLUMN deleting_at TIMESTAMP;
