-- Wrong passwords typed at this station to connect to a PC another station
-- of the team owns (a takeover, docs/TEAM.md), per the owner's hub id and
-- its session id there, and the lock five of them set: on disk, as
-- signin_locks, so restarting this station does not hand out five fresh
-- tries. No session row here ends with them, so no trigger deletes a row:
-- they are deleted by age (at) when the table is written (teamconnect.go).
CREATE TABLE team_signin_locks (
    owner        TEXT    NOT NULL,
    session      INTEGER NOT NULL,
    wrong        INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    at           INTEGER NOT NULL DEFAULT 0, -- the last wrong password (ms)
    PRIMARY KEY (owner, session)
);
CREATE INDEX team_signin_locks_at ON team_signin_locks (at);
-- The same column on the own sessions' table, so one set of statements
-- counts in both (signinlock.go); there a trigger still deletes the rows.
ALTER TABLE signin_locks ADD COLUMN at INTEGER NOT NULL DEFAULT 0;
