-- Profiles, sessions, computers, settings and the append-only audit log.
CREATE TABLE profiles (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    email      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    id                 INTEGER PRIMARY KEY,
    profile_id         INTEGER NOT NULL REFERENCES profiles(id),
    user_email         TEXT    NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('prepared', 'active', 'expired', 'ended', 'cancelled')),
    token              TEXT    NOT NULL UNIQUE,
    code_hash          BLOB,
    code_attempts_left INTEGER NOT NULL,
    password_hash      TEXT    NOT NULL,
    password_sealed    BLOB,
    agent_key_hash     BLOB UNIQUE,
    created_at         INTEGER NOT NULL,
    invite_expires_at  INTEGER NOT NULL,
    activated_at       INTEGER,
    expires_at         INTEGER,
    closed_at          INTEGER,
    close_reason       TEXT    NOT NULL DEFAULT ''
);
-- The one-session-per-profile rule, enforced by the database as a backstop.
CREATE UNIQUE INDEX sessions_one_open_per_profile ON sessions(profile_id)
    WHERE state IN ('prepared', 'active');
CREATE INDEX sessions_open ON sessions(state) WHERE state IN ('prepared', 'active');

CREATE TABLE computers (
    session_id    INTEGER PRIMARY KEY REFERENCES sessions(id),
    hostname      TEXT    NOT NULL,
    os_name       TEXT    NOT NULL,
    os_version    TEXT    NOT NULL,
    arch          TEXT    NOT NULL,
    windows_user  TEXT    NOT NULL,
    machine_id    TEXT    NOT NULL,
    online        INTEGER NOT NULL DEFAULT 0,
    last_seen     INTEGER NOT NULL,
    account_ready INTEGER NOT NULL DEFAULT 0,
    cleaned_up    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX computers_online ON computers(last_seen) WHERE online = 1;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    profile_id INTEGER NOT NULL DEFAULT 0,
    session_id INTEGER NOT NULL DEFAULT 0,
    event      TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
