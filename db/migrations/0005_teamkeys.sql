-- 0005: the team keyring lifecycle — retired keys, and a generation counter
-- the running server reads before it uses its keys, so that `secinbox key
-- rotate` (another process) takes effect without a restart.

-- A retired key is kept for the record but no longer decrypts.
ALTER TABLE team_keys ADD COLUMN retired_at TEXT; -- NULL: in use

-- One row. The triggers below bump generation on every change to
-- team_keys, so no code path can change the keyring and forget to.
CREATE TABLE team_keyring (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	generation INTEGER NOT NULL
);
INSERT INTO team_keyring (id, generation) VALUES (1, 1);
CREATE TRIGGER team_keys_generation_insert AFTER INSERT ON team_keys
BEGIN
	UPDATE team_keyring SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER team_keys_generation_update AFTER UPDATE ON team_keys
BEGIN
	UPDATE team_keyring SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER team_keys_generation_delete AFTER DELETE ON team_keys
BEGIN
	UPDATE team_keyring SET generation = generation + 1 WHERE id = 1;
END;
