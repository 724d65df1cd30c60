-- Whether domain::erasure emptied the personal data of an event: a column, not a text inside
-- `data`, which a user's own attributes could hold and so keep their record from erasure.
ALTER TABLE events ADD COLUMN redacted BOOLEAN NOT NULL DEFAULT FALSE;
-- Events erased before this column existed carry the marker at the top of their data.
UPDATE events SET redacted = TRUE
 WHERE data LIKE '%"redacted":true%' AND (data::jsonb -> 'redacted') = 'true'::jsonb;
