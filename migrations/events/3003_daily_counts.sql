-- Daily roll-ups of the audit log for the console's Overview (src/console/overview.rs):
-- events per day, type and reason, folded in from the last folded event on.
CREATE TABLE event_daily_counts (
    day BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    reason TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (day, event_type, reason)
);
CREATE TABLE event_rollup_state (
    id INTEGER PRIMARY KEY,
    last_seq BIGINT NOT NULL
);
INSERT INTO event_rollup_state (id, last_seq) VALUES (1, 0);
