-- Secrets at rest (issue 8). The deployment link's token is kept only as a
-- keyed hash for lookups (the Go step of this migration converts existing
-- plain tokens), plus a sealed copy while the session is prepared, which
-- Resend and the mailto: fallback need to rebuild the link.
ALTER TABLE sessions RENAME COLUMN token TO token_mac;
ALTER TABLE sessions ADD COLUMN token_sealed BLOB;
-- A keyed hash of the technician's password, kept only while the session is
-- open, to refuse the same password for another open session.
ALTER TABLE sessions ADD COLUMN password_mac BLOB;
CREATE INDEX sessions_password_mac ON sessions(password_mac) WHERE password_mac IS NOT NULL;

-- Once a session stops waiting for its user the link is of no use: its
-- sealed token and the stored invitation (which carries the link) go. In
-- the database, so every way of leaving 'prepared' (pairing, cancel,
-- timeout, another process) does it.
CREATE TRIGGER sessions_forget_link AFTER UPDATE OF state ON sessions
WHEN NEW.state <> 'prepared' AND OLD.state = 'prepared'
BEGIN
    UPDATE sessions SET token_sealed = NULL WHERE id = NEW.id;
    UPDATE outbox SET message = X'' WHERE session_id = NEW.id;
END;
-- Once a session closes, its password is of no use to the station either.
CREATE TRIGGER sessions_forget_password AFTER UPDATE OF state ON sessions
WHEN NEW.state NOT IN ('prepared', 'active')
BEGIN
    UPDATE sessions SET password_hash = '', password_mac = NULL, password_sealed = NULL, code_hash = NULL
    WHERE id = NEW.id;
END;
