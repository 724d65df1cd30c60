-- The text a SCIM client sent as a member's `display` when it added the member (RFC 7643 §2.4:
-- immutable), echoed on reads; NULL: the member's own name is shown instead.
ALTER TABLE memberships ADD COLUMN display TEXT;
