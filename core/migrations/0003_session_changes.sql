-- A change feed for the sessions list: every write that touches a session,
-- its computer or its invitation records the session's id, so a reader can
-- reload only those rows, also after writes by another process (the CLI).
CREATE TABLE session_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL
);
CREATE TRIGGER sessions_changed_ins AFTER INSERT ON sessions
BEGIN INSERT INTO session_changes (session_id) VALUES (NEW.id); END;
CREATE TRIGGER sessions_changed_upd AFTER UPDATE ON sessions
BEGIN INSERT INTO session_changes (session_id) VALUES (NEW.id); END;
CREATE TRIGGER computers_changed_ins AFTER INSERT ON computers
BEGIN INSERT INTO session_changes (session_id) VALUES (NEW.session_id); END;
CREATE TRIGGER computers_changed_upd AFTER UPDATE ON computers
BEGIN INSERT INTO session_changes (session_id) VALUES (NEW.session_id); END;
CREATE TRIGGER outbox_changed_ins AFTER INSERT ON outbox WHEN NEW.session_id IS NOT NULL
BEGIN INSERT INTO session_changes (session_id) VALUES (NEW.session_id); END;
CREATE TRIGGER outbox_changed_upd AFTER UPDATE ON outbox WHEN NEW.session_id IS NOT NULL
BEGIN INSERT INTO session_changes (session_id) VALUES (NEW.session_id); END;
