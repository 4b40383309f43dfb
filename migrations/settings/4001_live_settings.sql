-- Settings operators change while Latchkey runs (see src/live_settings.rs): one row, its
-- version bumped by every save so that each instance notices.
CREATE TABLE live_settings (
    id INTEGER PRIMARY KEY,
    version BIGINT NOT NULL,
    values_json TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
