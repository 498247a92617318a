-- Intake files pending messages in the order they were committed (id),
-- which is also the order of their tracking ids.
DROP INDEX raw_messages_pending;
CREATE INDEX raw_messages_pending ON raw_messages (id) WHERE processed_at IS NULL;

-- When the message was committed, that is when its sender got the 250:
-- what the 250-to-filed latency is measured from. NULL for messages
-- stored before.
ALTER TABLE raw_messages ADD COLUMN stored_at TEXT;
