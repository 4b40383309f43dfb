-- The audit log: one row per event, chained by hash (see src/events/audit.rs).
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    occurred_at BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    account_id TEXT,
    credential_id TEXT,
    client_ip TEXT,
    browser TEXT,
    os TEXT,
    process_id TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
-- One account's timeline, one day's events, one type over time: each an index range read
-- in chain order.
CREATE INDEX audit_events_account ON audit_events (account_id, seq);
CREATE INDEX audit_events_time ON audit_events (occurred_at, seq);
CREATE INDEX audit_events_type ON audit_events (event_type, seq);

-- The chain's head: the last row's number and hash. Appending locks this one row.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
