-- Rate-limit state shared by every instance on one database: per key (a SHA-256 of the rule
-- and what it limits), governor's GCRA "theoretical arrival time" in nanoseconds since the
-- Unix epoch. Rows whose time has passed carry no information and are purged.
CREATE TABLE IF NOT EXISTS rate_limits (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_limits_tat ON rate_limits (tat);
