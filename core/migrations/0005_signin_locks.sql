-- Wrong passwords typed to Connect, per session, and the lock five of them
-- set: on disk, so a station restart does not hand out five fresh tries.
CREATE TABLE signin_locks (
    session_id   INTEGER PRIMARY KEY REFERENCES sessions(id),
    wrong        INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0
);
-- A closed session cannot be connected to again: its row has no use.
CREATE TRIGGER signin_locks_closed AFTER UPDATE OF state ON sessions WHEN NEW.state <> 'active'
BEGIN DELETE FROM signin_locks WHERE session_id = NEW.id; END;
