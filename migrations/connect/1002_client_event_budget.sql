-- Browser events now go to the audit log (audit_events); each process may report a bounded
-- number of them. The old connect_events table is no longer written and empties as its
-- rows age out.
ALTER TABLE connect_processes ADD COLUMN client_events BIGINT NOT NULL DEFAULT 0;
