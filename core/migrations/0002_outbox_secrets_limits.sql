-- The invitation outbox, sealed secrets and the per-address pairing limiter.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    session_id      INTEGER REFERENCES sessions(id),
    mail_from       TEXT    NOT NULL,
    rcpt            TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    message         BLOB    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    sent_at         INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX outbox_session ON outbox(session_id);
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE state = 'queued';

CREATE TABLE secrets (
    name   TEXT PRIMARY KEY,
    sealed BLOB NOT NULL
);

CREATE TABLE rate_limits (
    address      TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    attempts     INTEGER NOT NULL
);
