-- 0009: API tokens expire and can be revoked one by one.

-- NULL never happens for tokens made from now on; a token without an
-- expiry is refused (fail closed), so the tokens made before this
-- migration get the default lifetime, 90 days, from now.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT; -- NULL: not revoked
UPDATE api_tokens SET expires_at = strftime('%Y-%m-%dT%H:%M:%S', 'now', '+90 days') || '.000000000Z';
CREATE INDEX api_tokens_expires_at ON api_tokens (expires_at);
