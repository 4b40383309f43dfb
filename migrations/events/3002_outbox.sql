-- The outbox: webhook calls and emails owed because of an event, written with the event
-- and delivered by a worker (see src/events/outbox.rs).
CREATE TABLE event_outbox (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT
);
-- Due rows, and the "is an older row of this destination and account still pending?"
-- check that keeps each account's rows in order.
CREATE INDEX event_outbox_due ON event_outbox (status, next_attempt_at);
CREATE INDEX event_outbox_order ON event_outbox (channel, target, ordering_key, status, seq);
